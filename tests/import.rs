//! Importing PyTorch weights (safetensors) and auditing them exactly.

mod common;
use common::deadrelu;

use deadrelu::io::safetensors::{ImportError, read_safetensors};
use safetensors::tensor::{Dtype, TensorView};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn fixture_is_read_exactly() {
    let (arch, params) = read_safetensors(&fixture("dead_mlp.safetensors")).unwrap();
    assert_eq!(arch.widths(), &[1, 4, 3, 1]);
    assert_eq!(params.len(), 27);
    // 2.bias = [-0.25, -0.5, -0.125] are exact in f32, so exactly these rationals
    let b2 = arch.bias_index(2, 0);
    assert_eq!(
        params[b2..b2 + 3]
            .iter()
            .map(deadrelu::scalar::rational_string)
            .collect::<Vec<_>>(),
        ["-1/4", "-1/2", "-1/8"]
    );
    // 4.bias = 0.3 in f32 is 5033165/16777216, not 3/10
    assert_eq!(
        deadrelu::scalar::rational_string(&params[26]),
        "5033165/16777216"
    );
}

#[test]
fn fixture_audits_and_checks() {
    let dir = std::env::temp_dir().join(format!("deadrelu-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("c.json");
    let weights = fixture("dead_mlp.safetensors");
    let data = format!("csv:{}", fixture("abs_data.csv").display());
    let (code, out, err) = deadrelu(&[
        "audit",
        "--weights",
        weights.to_str().unwrap(),
        "--data",
        &data,
        "--steps",
        "5",
        "--certificate",
        cert.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verdict"], "non-convergence-certified");
    assert_eq!(v["dead_layer"], 2);
    // y = |x| on 17 points of step 1/8: mean 9/17, V = 219/2312
    assert_eq!(v["best_constant_risk"], "219/2312");
    let (code, _, err) = deadrelu(&["check", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = deadrelu(&[
        "train",
        "--weights",
        weights.to_str().unwrap(),
        "--data",
        &data,
        "--optimizer",
        "adam",
        "--steps",
        "100",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["frozen_up_to_dead_layer"], true);
    assert_eq!(v["constant_on_data_final"], true);
}

fn write(dir: &Path, name: &str, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>) -> PathBuf {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn helpful_errors_for_every_mismatch() {
    let dir = std::env::temp_dir().join(format!("deadrelu-import-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = |n: &'static str, s: Vec<usize>| -> (&'static str, Dtype, Vec<usize>, Vec<u8>) {
        let count = s.iter().product::<usize>();
        (n, Dtype::F32, s, f32s(&vec![0.5; count]))
    };
    let nan = write(
        &dir,
        "nan.safetensors",
        vec![
            ("0.weight", Dtype::F32, vec![2, 1], f32s(&[1.0, f32::NAN])),
            ok("0.bias", vec![2]),
            ok("2.weight", vec![1, 2]),
            ok("2.bias", vec![1]),
        ],
    );
    assert!(matches!(
        read_safetensors(&nan),
        Err(ImportError::NonFinite { index: 1, .. })
    ));
    let int = write(
        &dir,
        "int.safetensors",
        vec![
            ("0.weight", Dtype::I32, vec![2, 1], vec![0; 8]),
            ok("0.bias", vec![2]),
            ok("2.weight", vec![1, 2]),
            ok("2.bias", vec![1]),
        ],
    );
    assert!(matches!(
        read_safetensors(&int),
        Err(ImportError::Dtype { .. })
    ));
    let nobias = write(
        &dir,
        "nobias.safetensors",
        vec![
            ok("0.weight", vec![2, 1]),
            ok("0.bias", vec![2]),
            ok("2.bias", vec![1]),
        ],
    );
    assert!(matches!(
        read_safetensors(&nobias),
        Err(ImportError::Missing { ref module, .. }) if module == "2"
    ));
    let bn = write(
        &dir,
        "bn.safetensors",
        vec![
            ok("0.weight", vec![2, 1]),
            ok("0.bias", vec![2]),
            ok("1.running_mean", vec![2]),
            ok("2.weight", vec![1, 2]),
            ok("2.bias", vec![1]),
        ],
    );
    assert!(matches!(
        read_safetensors(&bn),
        Err(ImportError::UnsupportedTensor { .. })
    ));
    let chain = write(
        &dir,
        "chain.safetensors",
        vec![
            ok("0.weight", vec![2, 1]),
            ok("0.bias", vec![2]),
            ok("2.weight", vec![1, 3]),
            ok("2.bias", vec![1]),
        ],
    );
    assert!(matches!(
        read_safetensors(&chain),
        Err(ImportError::Shape { .. })
    ));
    let shallow = write(
        &dir,
        "shallow.safetensors",
        vec![ok("0.weight", vec![2, 1]), ok("0.bias", vec![2])],
    );
    assert!(matches!(
        read_safetensors(&shallow),
        Err(ImportError::Net { .. })
    ));
    let prefixed = write(
        &dir,
        "prefixed.safetensors",
        vec![
            ok("net.0.weight", vec![2, 1]),
            ok("net.0.bias", vec![2]),
            ok("net.2.weight", vec![1, 2]),
            ok("net.2.bias", vec![1]),
        ],
    );
    assert_eq!(read_safetensors(&prefixed).unwrap().0.widths(), &[1, 2, 1]);
    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a safetensors file").unwrap();
    assert!(matches!(
        read_safetensors(&garbage),
        Err(ImportError::Format { .. })
    ));
    // the CLI turns each into one line and exit 2
    for path in [&nan, &int, &nobias, &bn, &chain, &garbage] {
        let (code, out, err) = deadrelu(&["inspect", "--weights", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty() && err.trim().lines().count() == 1, "{err}");
    }
    let (code, _, err) = deadrelu(&[
        "inspect",
        "--weights",
        fixture("dead_mlp.safetensors").to_str().unwrap(),
        "--arch",
        "1,2,1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("disagrees"), "{err}");
}
