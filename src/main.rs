//! The `deadrelu` binary: see `deadrelu --help` and the crate documentation.

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`deadrelu demo | head -3`)
    // panics in `println!`. Like any Unix filter, the binary ends quietly instead.
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(deadrelu::cli::main());
}
