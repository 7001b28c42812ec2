//! Running the `deadrelu` binary under a time limit, shared by the fuzz harness and the
//! hardening regressions: stdout and stderr are drained on their own threads (a child
//! writing more than a pipe holds must not block, and look hung, while the test waits for
//! it), and a child past the limit is killed.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a finished run gave.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
    /// The full status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

/// A run killed at its time limit.
#[derive(Debug, thiserror::Error)]
#[error("{args:?} still running after {limit:?}")]
pub struct TimedOut {
    /// The arguments, long ones shortened.
    pub args: Vec<String>,
    /// The limit.
    pub limit: Duration,
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).ok();
        bytes
    })
}

/// Runs the binary with `args`, feeding `stdin` when given (else stdin is empty).
/// [`TimedOut`] (the child killed) when it is still running after `limit`.
pub fn run_limited<A: AsRef<OsStr>>(
    args: &[A],
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Result<Outcome, TimedOut> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deadrelu"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let out = drain(child.stdout.take().expect("piped"));
    let err = drain(child.stderr.take().expect("piped"));
    if let Some(text) = stdin {
        // written on its own thread too (a child that never reads must not block the
        // timer); a child that exits without reading its input closes the pipe, not an
        // error here
        let mut pipe = child.stdin.take().expect("piped");
        let text = text.to_vec();
        std::thread::spawn(move || pipe.write_all(&text).ok());
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            let shown: Vec<String> = args
                .iter()
                .map(|a| {
                    let a = a.as_ref().to_string_lossy();
                    if a.len() > 80 {
                        format!("{}... ({} bytes)", &a[..a.floor_char_boundary(60)], a.len())
                    } else {
                        a.into_owned()
                    }
                })
                .collect();
            return Err(TimedOut { args: shown, limit });
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    let text = |h: JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
    };
    Ok(Outcome {
        code: status.code().unwrap_or(-1),
        status,
        stdout: text(out),
        stderr: text(err),
        elapsed,
    })
}
