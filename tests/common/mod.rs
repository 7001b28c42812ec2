//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod process;

use std::process::Command;

use deadrelu::data::Dataset;
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, Scalar};

/// `n/d` as an exact rational.
pub fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// The hand-computed 1-2-1 network of `core_exact.rs`.
pub fn small_net<S: Scalar>() -> (Network<S>, Dataset<S>) {
    let arch = Arch::new(vec![1, 2, 1]).unwrap();
    // W1 = [1; -1], B1 = [0; 1/2], W2 = [2, 3], B2 = [-1]
    let params = [
        q(1, 1),
        q(-1, 1),
        q(0, 1),
        q(1, 2),
        q(2, 1),
        q(3, 1),
        q(-1, 1),
    ];
    let net = Network::new(arch, params.iter().map(S::from_rational).collect()).unwrap();
    let data = Dataset::from_rows(
        vec![vec![S::from_int(1)], vec![S::from_int(-1)]],
        vec![vec![S::from_int(0)], vec![S::from_int(1)]],
    )
    .unwrap();
    (net, data)
}

/// Runs the `deadrelu` binary: (exit code, stdout, stderr).
pub fn deadrelu(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_deadrelu"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs the binary, expects exit 0 and one JSON object on stdout.
pub fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = deadrelu(args);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"))
}
