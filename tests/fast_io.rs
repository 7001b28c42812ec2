//! Fast loading and the batched f64 pass through the command line: every data format gives
//! the same answer, f64 agrees with exact, and the rigorous bound flags what f64 gets wrong.

mod common;
use common::{deadrelu, json};
use ndarray_npy::{NpzWriter, WriteNpyExt};
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("deadrelu-fastio-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// 2-3-2-1 weights (some dead neurons), and 5 points of data in every format.
fn fixture(d: &Path) -> (PathBuf, Vec<String>) {
    let weights = d.join("w.json");
    std::fs::write(
        &weights,
        r#"{"arch":[2,3,2,1],"params":[1,0.5,-1,-2,0.25,0.75,0,-3,0.5,
            1,-1,0.5,-2,-1,-0.5,0.1,-4,2,1,0.5]}"#,
    )
    .unwrap();
    let x = ndarray::arr2(&[
        [0.5f32, 1.0],
        [-1.0, 0.25],
        [2.0, -0.5],
        [0.0, 0.0],
        [0.125, 3.0],
    ]);
    let y = ndarray::arr1(&[1.0f32, 0.0, 2.0, 0.5, -1.0]);
    let mut csv = String::from("x1,x2,y\n");
    for (r, t) in x.outer_iter().zip(&y) {
        csv.push_str(&format!("{},{},{}\n", r[0], r[1], t));
    }
    std::fs::write(d.join("d.csv"), csv).unwrap();
    x.write_npy(std::fs::File::create(d.join("x.npy")).unwrap())
        .unwrap();
    y.write_npy(std::fs::File::create(d.join("y.npy")).unwrap())
        .unwrap();
    let mut npz = NpzWriter::new_compressed(std::fs::File::create(d.join("d.npz")).unwrap());
    npz.add_array("x", &x).unwrap();
    npz.add_array("y", &y).unwrap();
    npz.finish().unwrap();
    let xb: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let yb: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    let views = vec![
        (
            "x".to_string(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![5, 2], &xb).unwrap(),
        ),
        (
            "y".to_string(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![5], &yb).unwrap(),
        ),
    ];
    safetensors::serialize_to_file(views, None, &d.join("d.safetensors")).unwrap();
    let specs = vec![
        format!("csv:{}", p(&d.join("d.csv"))),
        format!("npy:{},{}", p(&d.join("x.npy")), p(&d.join("y.npy"))),
        format!("npz:{}", p(&d.join("d.npz"))),
        format!("safetensors:{}", p(&d.join("d.safetensors"))),
    ];
    (weights, specs)
}

#[test]
fn every_data_format_gives_the_same_report_in_both_modes() {
    let d = dir("formats");
    let (weights, specs) = fixture(&d);
    let w = p(&weights);
    let mut reports = Vec::new();
    for spec in &specs {
        for mode in ["exact", "f64"] {
            let r = json(&[
                "inspect",
                "--weights",
                &w,
                "--data",
                spec,
                "--mode",
                mode,
                "--json",
            ]);
            assert_eq!(r["data_points"], 5, "{spec}");
            reports.push((
                r["inactive_per_layer"].clone(),
                r["dead_layers"].clone(),
                r["inactive_neurons"].clone(),
            ));
            if mode == "exact" {
                // exact risk string is the same for every format
                reports.push((r["risk"].clone(), r["best_constant_risk"].clone(), 0.into()));
            } else {
                assert_eq!(r["near_ties"]["count"], 0, "{spec}");
                reports.push((
                    r["risk"].as_f64().map(|v| format!("{v:.12}")).into(),
                    r["best_constant_risk"]
                        .as_f64()
                        .map(|v| format!("{v:.12}"))
                        .into(),
                    0.into(),
                ));
            }
        }
    }
    // inactive counts agree across formats and modes; risks across formats, per mode
    let activity: Vec<_> = reports.iter().step_by(2).collect();
    assert!(activity.windows(2).all(|w| w[0] == w[1]), "{activity:?}");
    assert_eq!(activity[0].0, serde_json::json!([1, 1]));
    let risks: Vec<_> = reports.iter().skip(1).step_by(2).collect();
    for mode in 0..2 {
        let per_mode: Vec<_> = risks.iter().skip(mode).step_by(2).collect();
        assert!(per_mode.windows(2).all(|w| w[0] == w[1]), "{per_mode:?}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn npz_weights_equal_json_weights() {
    let d = dir("npzw");
    let (weights, specs) = fixture(&d);
    let text = std::fs::read_to_string(&weights).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let params: Vec<f64> = v["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // state_dict names of nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)
    let mut npz = NpzWriter::new(std::fs::File::create(d.join("w.npz")).unwrap());
    let (mut off, widths) = (0, [2usize, 3, 2, 1]);
    for k in 1..4 {
        let (o, i) = (widths[k], widths[k - 1]);
        let w = ndarray::Array2::from_shape_vec((o, i), params[off..off + o * i].to_vec()).unwrap();
        off += o * i;
        let b = ndarray::Array1::from(params[off..off + o].to_vec());
        off += o;
        npz.add_array(format!("{}.weight", 2 * (k - 1)), &w)
            .unwrap();
        npz.add_array(format!("{}.bias", 2 * (k - 1)), &b).unwrap();
    }
    npz.finish().unwrap();
    for mode in ["exact", "f64"] {
        let a = json(&[
            "inspect",
            "--weights",
            &p(&weights),
            "--data",
            &specs[0],
            "--mode",
            mode,
            "--json",
        ]);
        let b = json(&[
            "inspect",
            "--weights",
            &p(&d.join("w.npz")),
            "--data",
            &specs[0],
            "--mode",
            mode,
            "--json",
        ]);
        assert_eq!(a["risk"], b["risk"], "{mode}");
        assert_eq!(a["inactive_neurons"], b["inactive_neurons"], "{mode}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// Issue 15, item 6: f64 gets the sign of this pre-activation wrong by far more than the old
/// absolute tolerance 1e-9; the rigorous bound reports it as a near tie.
#[test]
fn f64_near_tie_by_the_rigorous_bound() {
    let d = dir("tie");
    let w = d.join("w.json");
    // W = [2^27, 7*2^-29, 7*2^-29, -(2^27+2^-25)], b = 7*2^-29; output layer 1x1.
    std::fs::write(
        &w,
        r#"{"arch":[4,1,1],"params":["134217728","7/536870912","7/536870912",
            "-4503599627370497/33554432","7/536870912","1","0"]}"#,
    )
    .unwrap();
    std::fs::write(d.join("x.csv"), "1,1,1,1,0\n").unwrap();
    let data = format!("csv:{}", p(&d.join("x.csv")));
    let exact = json(&["inspect", "--weights", &p(&w), "--data", &data, "--json"]);
    assert_eq!(exact["inactive_per_layer"], serde_json::json!([0])); // z = +9.3e-9 > 0
    let float = json(&[
        "inspect",
        "--weights",
        &p(&w),
        "--data",
        &data,
        "--mode",
        "f64",
        "--json",
    ]);
    assert_eq!(float["near_ties"]["count"], 1);
    assert_eq!(float["near_ties"]["first"][0]["layer"], 1);
    let (code, out, _) = deadrelu(&[
        "inspect",
        "--weights",
        &p(&w),
        "--data",
        &data,
        "--mode",
        "f64",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("near ties"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_tensor_inputs_exit_2_with_one_line() {
    let d = dir("bad");
    let (weights, _) = fixture(&d);
    std::fs::write(
        d.join("junk.npy"),
        b"\x93NUMPY\x01\x00\x10\x00{'shape': (99999999999,)}",
    )
    .unwrap();
    std::fs::write(d.join("junk.npz"), b"not a zip").unwrap();
    for spec in [
        format!("npy:{}", p(&d.join("junk.npy"))),
        format!("npz:{}", p(&d.join("junk.npz"))),
        format!("npy:{}", p(&d.join("missing.npy"))),
        format!("safetensors:{}", p(&d.join("junk.npz"))),
    ] {
        for mode in ["exact", "f64"] {
            let (code, out, err) = deadrelu(&[
                "inspect",
                "--weights",
                &p(&weights),
                "--data",
                &spec,
                "--mode",
                mode,
            ]);
            assert_eq!(code, 2, "{spec} {mode}: {out}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(err.contains("--data"), "{err}");
        }
    }
    // wrong shape: 3 inputs per point for a 2-input network
    let x = ndarray::Array2::<f64>::zeros((4, 3));
    x.write_npy(std::fs::File::create(d.join("x3.npy")).unwrap())
        .unwrap();
    let (code, _, err) = deadrelu(&[
        "inspect",
        "--weights",
        &p(&weights),
        "--data",
        &format!("npy:{}", p(&d.join("x3.npy"))),
        "--mode",
        "f64",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("expected (M, 2)"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}
