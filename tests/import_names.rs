//! safetensors state_dicts with any module names (issue 17, item 3): the layer order from
//! the module numbers, the shapes, `--layer-order` or the file's metadata; `bias=False`
//! layers (bias 0); float16/bfloat16 widened exactly; one-line errors (exit 2) otherwise.

mod common;
use common::deadrelu;

use deadrelu::io::safetensors::{ImportError, read_safetensors, read_safetensors_ordered};
use deadrelu::scalar::rational_string;
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn tmpdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deadrelu-names-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

type Raw = (Dtype, Vec<usize>, Vec<u8>);

/// The fixture's tensors (`0.*`, `2.*`, `4.*` of a 1,4,3,1 network) by name.
fn fixture_tensors() -> HashMap<String, Raw> {
    let bytes = std::fs::read(fixture("dead_mlp.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(n, v)| (n, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect()
}

fn write(dir: &Path, name: &str, tensors: &[(String, Raw)], meta: Option<&str>) -> PathBuf {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, (d, s, b))| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let metadata = meta.map(|m| HashMap::from([("layer_order".to_string(), m.to_string())]));
    let bytes = safetensors::serialize(views, metadata).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The fixture's tensors renamed: module `0` -> `names[0]`, `2` -> `names[1]`, `4` -> `names[2]`.
fn renamed(names: [&str; 3], drop: &[&str]) -> Vec<(String, Raw)> {
    let t = fixture_tensors();
    let mut out = Vec::new();
    for (old, new) in ["0", "2", "4"].iter().zip(names) {
        for leaf in ["weight", "bias"] {
            let name = format!("{new}.{leaf}");
            if !drop.contains(&name.as_str()) {
                out.push((name, t[&format!("{old}.{leaf}")].clone()));
            }
        }
    }
    out
}

fn strings(p: &[deadrelu::scalar::BigRational]) -> Vec<String> {
    p.iter().map(rational_string).collect()
}

#[test]
fn any_module_names_read_as_the_sequential_fixture() {
    let dir = tmpdir("any");
    let (arch0, p0) = read_safetensors(&fixture("dead_mlp.safetensors")).unwrap();
    assert_eq!(arch0.widths(), &[1, 4, 3, 1]);
    // numbered names (fc1, fc2, fc10: by number, not by text)
    for (i, names) in [
        ["fc1", "fc2", "fc10"],
        ["model.layers.0", "model.layers.1", "model.layers.2"],
    ]
    .into_iter()
    .enumerate()
    {
        let path = write(
            &dir,
            &format!("n{i}.safetensors"),
            &renamed(names, &[]),
            None,
        );
        let (arch, p) = read_safetensors(&path).unwrap();
        assert_eq!(arch.widths(), arch0.widths(), "{names:?}");
        assert_eq!(strings(&p), strings(&p0), "{names:?}");
    }
    // names that imply nothing: 1->4->3->1 and 3->1->4->3 both chain, so the order is asked
    // for, and then read exactly
    let names = ["encoder.0", "encoder.2", "head"];
    let path = write(&dir, "nested.safetensors", &renamed(names, &[]), None);
    let e = read_safetensors(&path).unwrap_err().to_string();
    assert!(
        e.contains("chain in more than one (e.g. encoder.0,encoder.2,head and encoder.2,head,encoder.0); give it with --layer-order"),
        "{e}"
    );
    let (arch, p) = read_safetensors_ordered(&path, Some("encoder.0,encoder.2,head")).unwrap();
    assert_eq!(arch.widths(), arch0.widths());
    assert_eq!(strings(&p), strings(&p0));
    // a 2->5->3->1 chain is the only one its shapes allow: read without an order
    let f = |n: usize| -> Vec<u8> { (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect() };
    let t = |n: &str, s: Vec<usize>| {
        let count = s.iter().product::<usize>();
        (n.to_string(), (Dtype::F32, s, f(count)))
    };
    let unique = write(
        &dir,
        "unique.safetensors",
        &[
            t("head.weight", vec![1, 3]),
            t("body.weight", vec![3, 5]),
            t("body.bias", vec![3]),
            t("stem.weight", vec![5, 2]),
        ],
        None,
    );
    assert_eq!(read_safetensors(&unique).unwrap().0.widths(), &[2, 5, 3, 1]);
    // the CLI inspects the renamed file exactly as the original
    let order = ["--layer-order", "encoder.0,encoder.2,head"];
    let data = format!("csv:{}", fixture("abs_data.csv").display());
    let inspect = |w: &Path, extra: &[&str]| {
        let mut args = vec!["inspect", "--weights", w.to_str().unwrap(), "--data", &data];
        args.extend_from_slice(extra);
        args.push("--json");
        let (code, out, err) = deadrelu(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()
    };
    let a = inspect(&fixture("dead_mlp.safetensors"), &[]);
    let b = inspect(&path, &order);
    assert_eq!(a, b);
    assert_eq!(a["dead_layers"], serde_json::json!([2]));
    let a = inspect(&fixture("dead_mlp.safetensors"), &["--mode", "f64"]);
    let b = inspect(&path, &[order[0], order[1], "--mode", "f64"]);
    assert_eq!(a, b);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bias_false_layers_have_zero_biases() {
    let dir = tmpdir("nobias");
    let (_, p0) = read_safetensors(&fixture("dead_mlp.safetensors")).unwrap();
    let path = write(
        &dir,
        "nobias.safetensors",
        &renamed(["fc1", "fc2", "fc3"], &["fc2.bias"]),
        None,
    );
    let (arch, p) = read_safetensors(&path).unwrap();
    assert_eq!(arch.widths(), &[1, 4, 3, 1]);
    let mut expected = strings(&p0);
    let b2 = arch.bias_index(2, 0);
    for e in &mut expected[b2..b2 + 3] {
        *e = "0".into();
    }
    assert_eq!(strings(&p), expected);
    // the CLI agrees with the same theta given as JSON
    let json = dir.join("nobias.json");
    std::fs::write(
        &json,
        serde_json::json!({"arch": [1, 4, 3, 1], "params": expected}).to_string(),
    )
    .unwrap();
    let run = |w: &Path| {
        let (code, out, err) = deadrelu(&[
            "inspect",
            "--weights",
            w.to_str().unwrap(),
            "--data",
            "grid:-1,1:9",
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(run(&path), run(&json));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ambiguous_orders_need_layer_order() {
    let dir = tmpdir("order");
    // a 1,2,2,1 network whose names imply nothing and whose two 2x2 layers chain both ways
    let f = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let t = |n: &str, s: Vec<usize>, v: &[f32]| (n.to_string(), (Dtype::F32, s, f(v)));
    let tensors = vec![
        t("inp.weight", vec![2, 1], &[1.0, 2.0]),
        t("inp.bias", vec![2], &[0.0, 0.0]),
        t("mix.weight", vec![2, 2], &[3.0, 4.0, 5.0, 6.0]),
        t("mix.bias", vec![2], &[0.5, 0.25]),
        t("gate.weight", vec![2, 2], &[7.0, 8.0, 9.0, 10.0]),
        t("out.weight", vec![1, 2], &[11.0, 12.0]),
        t("out.bias", vec![1], &[13.0]),
    ];
    let path = write(&dir, "amb.safetensors", &tensors, None);
    let e = read_safetensors(&path).unwrap_err();
    assert!(matches!(e, ImportError::Shape { .. }));
    let msg = e.to_string();
    assert!(msg.contains("--layer-order"), "{msg}");
    // explicit orders: mix before gate, and gate (bias=False) before mix
    let (arch, p) = read_safetensors_ordered(&path, Some("inp,mix,gate,out")).unwrap();
    assert_eq!(arch.widths(), &[1, 2, 2, 2, 1]);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        strings(&p),
        s(&[
            "1", "2", "0", "0", "3", "4", "5", "6", "1/2", "1/4", "7", "8", "9", "10", "0", "0",
            "11", "12", "13"
        ])
    );
    let (_, p) = read_safetensors_ordered(&path, Some("inp, gate, mix, out")).unwrap();
    assert_eq!(
        strings(&p)[4..12],
        s(&["7", "8", "9", "10", "0", "0", "3", "4"])
    );
    // the same order from the file's metadata
    let meta = write(&dir, "meta.safetensors", &tensors, Some("inp,gate,mix,out"));
    let (_, q) = read_safetensors(&meta).unwrap();
    assert_eq!(strings(&q), strings(&p));
    // through the CLI: exit 2 and one line without the order, exit 0 with it
    let w = path.to_str().unwrap();
    let (code, out, err) = deadrelu(&["inspect", "--weights", w, "--json"]);
    assert_eq!(code, 2);
    assert!(out.is_empty() && err.trim().lines().count() == 1, "{err}");
    assert!(
        err.contains("(e.g. gate,mix,out,inp and gate,out,inp,mix); give it with --layer-order"),
        "{err}"
    );
    for mode in ["exact", "f64"] {
        let (code, out, err) = deadrelu(&[
            "inspect",
            "--weights",
            w,
            "--layer-order",
            "inp,gate,mix,out",
            "--mode",
            mode,
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["arch"], serde_json::json!([1, 2, 2, 2, 1]), "{mode}");
    }
    // bad orders, contradictions and misplaced flags: exit 2, one line, what is wrong
    let json = dir.join("theta.json");
    std::fs::write(&json, r#"{"arch":[1,1,1],"params":[1,0,1,0]}"#).unwrap();
    let m = meta.to_str().unwrap();
    for (args, needle) in [
        (
            vec![w, "--layer-order", "inp,mix,out"],
            "[\"gate\"] not listed",
        ),
        (
            vec![w, "--layer-order", "inp,mix,gate,gate,out"],
            "listed twice",
        ),
        (
            vec![w, "--layer-order", "inp,mix,gate,head,out"],
            "no module named [\"head\"]",
        ),
        (vec![m, "--layer-order", "inp,mix,gate,out"], "contradicts"),
        (
            vec![json.to_str().unwrap(), "--layer-order", "a,b"],
            "applies to .safetensors and .npz",
        ),
    ] {
        let mut full = vec!["inspect", "--weights"];
        full.extend(args);
        let (code, out, err) = deadrelu(&full);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty() && err.trim().lines().count() == 1, "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A bad file: its name, its tensors, a `--layer-order`, the expected error's words.
type Case<'a> = (&'a str, Vec<(String, Raw)>, Option<&'a str>, &'a str);

#[test]
fn shape_mismatches_missing_tensors_and_dtypes_are_one_line_errors() {
    let dir = tmpdir("bad");
    let f = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let t = |n: &str, s: Vec<usize>| {
        let count = s.iter().product::<usize>();
        (n.to_string(), (Dtype::F32, s, f(&vec![0.5; count])))
    };
    let cases: Vec<Case> = vec![
        (
            // numbered order whose shapes do not chain
            "chain",
            vec![
                t("fc1.weight", vec![3, 1]),
                t("fc2.weight", vec![1, 2]),
                t("fc3.weight", vec![2, 3]),
            ],
            None,
            "fc2.weight takes 2 inputs but the layer before it (fc1) has 3 outputs; if this is not the order",
        ),
        (
            // an explicit order whose shapes do not chain
            "explicit",
            vec![
                t("a.weight", vec![3, 1]),
                t("b.weight", vec![2, 3]),
                t("c.weight", vec![1, 2]),
            ],
            Some("a,c,b"),
            "c.weight takes 2 inputs but the layer before it (a) has 3 outputs",
        ),
        (
            "nochain",
            vec![t("a.weight", vec![3, 1]), t("b.weight", vec![2, 4])],
            None,
            "do not chain",
        ),
        (
            "bias",
            vec![
                t("a.weight", vec![3, 1]),
                t("a.bias", vec![2]),
                t("b.weight", vec![1, 3]),
            ],
            None,
            "a.bias has shape [2], expected [3]",
        ),
        (
            "noweight",
            vec![
                t("a.weight", vec![3, 1]),
                t("b.bias", vec![1]),
                t("c.weight", vec![1, 3]),
            ],
            None,
            "module \"b\" has a bias but no weight tensor",
        ),
        (
            "norm",
            vec![
                t("a.weight", vec![3, 1]),
                t("ln.weight", vec![3]),
                t("c.weight", vec![1, 3]),
            ],
            None,
            "ln.weight has shape [3], expected [out, in]",
        ),
        (
            "bn",
            vec![
                t("0.weight", vec![3, 1]),
                t("1.running_var", vec![3]),
                t("2.weight", vec![1, 3]),
            ],
            None,
            "belongs to a BatchNorm",
        ),
    ];
    for (name, tensors, order, needle) in cases {
        let path = write(&dir, &format!("{name}.safetensors"), &tensors, None);
        let e = read_safetensors_ordered(&path, order)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{name}: {e}");
        let mut args = vec!["inspect", "--weights", path.to_str().unwrap()];
        if let Some(o) = order {
            args.extend(["--layer-order", o]);
        }
        let (code, out, err) = deadrelu(&args);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(out.is_empty() && err.trim().lines().count() == 1, "{err}");
        assert!(err.contains(needle), "{name}: {err}");
    }
    // integer and bool tensors are refused by dtype
    for (dtype, bytes) in [(Dtype::I64, 8), (Dtype::BOOL, 1), (Dtype::U8, 1)] {
        let tensors = vec![
            (
                "a.weight".to_string(),
                (dtype, vec![2, 1], vec![0; 2 * bytes]),
            ),
            t("b.weight", vec![1, 2]),
        ];
        let path = write(&dir, "int.safetensors", &tensors, None);
        let e = read_safetensors(&path).unwrap_err();
        assert!(matches!(e, ImportError::Dtype { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("only float16, bfloat16, float32 and float64")
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn half_precision_is_widened_exactly() {
    let dir = tmpdir("half");
    // 0.1 in float16 is 0x2E66 = 819/8192; in bfloat16 0x3DCD = 205/2048; -2 in both
    let h = |v: &[u16]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let tensors = vec![
        (
            "fc1.weight".to_string(),
            (Dtype::F16, vec![2, 1], h(&[0x2E66, 0xC000])),
        ),
        (
            "fc1.bias".to_string(),
            (Dtype::BF16, vec![2], h(&[0x3DCD, 0xC000])),
        ),
        (
            "fc2.weight".to_string(),
            (Dtype::F64, vec![1, 2], {
                [0.5f64, 0.25]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect()
            }),
        ),
    ];
    let path = write(&dir, "half.safetensors", &tensors, None);
    let (arch, p) = read_safetensors(&path).unwrap();
    assert_eq!(arch.widths(), &[1, 2, 1]);
    assert_eq!(
        strings(&p),
        ["819/8192", "-2", "205/2048", "-2", "1/2", "1/4", "0"]
    );
    // a NaN in float16 is refused
    let tensors = vec![
        (
            "fc1.weight".to_string(),
            (Dtype::F16, vec![2, 1], h(&[0x7E00, 0])),
        ),
        (
            "fc2.weight".to_string(),
            (Dtype::F16, vec![1, 2], h(&[0, 0])),
        ),
    ];
    let path = write(&dir, "nan.safetensors", &tensors, None);
    assert!(matches!(
        read_safetensors(&path),
        Err(ImportError::NonFinite { index: 0, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
