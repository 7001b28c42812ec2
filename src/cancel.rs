//! Cooperative cancellation of long runs, for callers that run the library in-process
//! and must be able to stop it (the Python package: Ctrl-C there raises
//! `KeyboardInterrupt` and stops the Rust work).
//!
//! [`request`] raises a process-wide flag; the long loops (Monte Carlo trial chunks,
//! optimizer steps, audit runs, box searches) call [`point`], which, once the flag is up
//! inside a [`run`], unwinds the stack with the payload [`Cancelled`] (through rayon's
//! workers, which hand a worker's unwind to the thread that waits on it). [`run`] catches
//! exactly that payload and returns `Err(Cancelled)`; any other panic goes on. No result
//! of a cancelled run is returned and nothing is written after the cancellation point, so
//! a cancelled run cannot leave a partial answer that looks like a whole one.
//!
//! The flag is cleared when the last run in progress ends (and when a run starts with none
//! in progress), so one request cancels every run in progress in the process, as
//! `KeyboardInterrupt` does in Python, and none after it. Outside a [`run`] the flag is
//! never up and [`point`] costs one relaxed atomic load. The `deadrelu` binary never
//! requests cancellation (Ctrl-C ends the process). Needs `panic = "unwind"` (the
//! default); with `panic = "abort"`, [`point`] does nothing.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// A run stopped by [`request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Cancelled;

/// Asks every [`run`] in progress to stop at its next [`point`]. Does nothing when none is
/// in progress.
pub fn request() {
    if ACTIVE.load(Ordering::SeqCst) > 0 {
        REQUESTED.store(true, Ordering::SeqCst);
    }
}

/// Whether a stop was requested and not yet served.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// A cancellation point: unwinds with [`Cancelled`] when a stop was requested.
#[inline]
pub fn point() {
    if cfg!(panic = "unwind") && REQUESTED.load(Ordering::Relaxed) {
        stop();
    }
}

#[cold]
#[inline(never)]
fn stop() -> ! {
    // resume_unwind, not panic!: no panic hook runs, so nothing is printed
    resume_unwind(Box::new(Cancelled))
}

struct Active;

impl Active {
    fn enter() -> Self {
        if ACTIVE.fetch_add(1, Ordering::SeqCst) == 0 {
            // a request that arrived after the last run had ended is stale
            REQUESTED.store(false, Ordering::SeqCst);
        }
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if ACTIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
            REQUESTED.store(false, Ordering::SeqCst);
        }
    }
}

/// Runs `f` so that [`request`] can stop it: `Err(Cancelled)` when it was stopped at a
/// [`point`], its result otherwise. Other panics of `f` are resumed unchanged.
///
/// # Errors
/// [`Cancelled`] when a stop was requested while `f` ran and `f` reached a [`point`].
pub fn run<R>(f: impl FnOnce() -> R) -> Result<R, Cancelled> {
    let _active = Active::enter();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r),
        Err(payload) if payload.is::<Cancelled>() => Err(Cancelled),
        Err(payload) => resume_unwind(payload),
    }
}
