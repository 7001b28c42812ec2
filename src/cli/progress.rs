//! A progress bar that appears only when a command runs longer than about two seconds.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a command runs before its bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

/// A bar on stderr (only when stderr is a terminal), hidden for its first
/// [`SHOW_AFTER`]; safe to advance from several threads.
pub struct DelayedBar {
    bar: ProgressBar,
    start: Instant,
    terminal: bool,
    shown: AtomicBool,
}

impl DelayedBar {
    /// A bar of `len` steps named `what`.
    pub fn new(len: u64, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        Self {
            bar,
            start: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            shown: AtomicBool::new(false),
        }
    }
    /// Advances by `n` steps; shows the bar once [`SHOW_AFTER`] has passed.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if self.terminal
            && !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
    /// Renames the current stage.
    pub fn set_message(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }
    /// Extends the bar by `n` steps.
    pub fn inc_length(&self, n: u64) {
        self.bar.inc_length(n);
    }
    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A spinner with the current stage and the elapsed time, on stderr when it is a
/// terminal, shown only once the command has run for [`SHOW_AFTER`] (a background
/// thread waits for that and then ticks it): for stages that report no count.
pub struct DelayedSpinner {
    bar: ProgressBar,
    done: std::sync::Arc<AtomicBool>,
    waiter: Option<std::thread::JoinHandle<()>>,
}

impl DelayedSpinner {
    /// A spinner named `what`.
    pub fn new(what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let waiter = std::io::stderr().is_terminal().then(|| {
            let (bar, done) = (bar.clone(), done.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                while start.elapsed() < SHOW_AFTER {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                if !done.load(Ordering::Relaxed) {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            })
        });
        Self { bar, done, waiter }
    }
    /// Names the current stage.
    pub fn set_message(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }
    /// Removes the spinner.
    pub fn finish(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(w) = self.waiter.take() {
            let _ = w.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for DelayedSpinner {
    fn drop(&mut self) {
        self.finish();
    }
}
