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

/// A fresh scratch directory for one test: `deadrelu-NAME-PID` in the temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("deadrelu-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Theta of the checkpoint tests' 1-2-1 network: `w = (1/2, -1/2)`, `b = (-1, -1)`,
/// `W_2 = (1, 1)`, `b_2 = 0`; layer 1 is dead on [`DEAD_DATA_CSV`] (max z = -1/2).
pub const DEAD_NET_PARAMS: [&str; 7] = ["1/2", "-1/2", "-1", "-1", "1", "1", "0"];
/// Its data: `x` in {-1, 0, 1}, `y = |x|`.
pub const DEAD_DATA_CSV: &str = "-1,1\n0,0\n1,1\n";

/// [`DEAD_NET_PARAMS`] and its data, exact.
pub fn dead_layer_net() -> (Network<BigRational>, Dataset<BigRational>) {
    let arch = Arch::new(vec![1, 2, 1]).unwrap();
    let params = DEAD_NET_PARAMS
        .iter()
        .map(|t| deadrelu::scalar::parse_rational(t).unwrap())
        .collect();
    let net = Network::new(arch, params).unwrap();
    let xs = vec![vec![q(-1, 1)], vec![q(0, 1)], vec![q(1, 1)]];
    let ys = vec![vec![q(1, 1)], vec![q(0, 1)], vec![q(1, 1)]];
    (net, Dataset::from_rows(xs, ys).unwrap())
}

/// A [`temp_dir`] holding `w.json` ([`DEAD_NET_PARAMS`]) and `data.csv` ([`DEAD_DATA_CSV`]).
pub fn dead_checkpoint_files(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("data.csv"), DEAD_DATA_CSV).unwrap();
    let weights = serde_json::json!({"arch": [1, 2, 1], "params": DEAD_NET_PARAMS});
    std::fs::write(dir.join("w.json"), weights.to_string()).unwrap();
    dir
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
