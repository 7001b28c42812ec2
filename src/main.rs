//! The `deadrelu` binary: see `deadrelu --help` and the crate documentation.

fn main() {
    std::process::exit(deadrelu::cli::main());
}
