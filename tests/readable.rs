//! Issue 21: reports for people, the width part of the mechanism, tidy tables, figures,
//! consistent flags.

mod common;
use common::{deadrelu, json};

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::temp_dir(&format!("readable-{name}"))
}

/// 1,8,8,1 with seed 3: neuron 0 of layer 1 and neuron 5 of layer 2 are inactive on the
/// default grid, no layer is dead.
#[test]
fn inspect_and_audit_report_inactive_first_layer_neurons_and_what_they_freeze() {
    let base = ["--arch", "1,8,8,1", "--seed", "3"];
    let v = json(&[&["inspect"][..], &base, &["--json"]].concat());
    assert_eq!(v["inactive_neurons"], serde_json::json!([[1, 0], [2, 5]]));
    let first = &v["first_layer_inactive"];
    assert_eq!(first["neurons"], serde_json::json!([0]));
    // row 0 of W_1 (index 0), bias B_1[0] (index 8), column 0 of W_2 (16, 24, ..., 72)
    assert_eq!(first["frozen_coordinates"], 1 + 1 + 8);
    assert_eq!(first["frozen"][0]["w1_row"], serde_json::json!([0]));
    assert_eq!(first["frozen"][0]["b1"], 8);
    assert_eq!(
        first["frozen"][0]["w2_column"],
        serde_json::json!([16, 24, 32, 40, 48, 56, 64, 72])
    );
    let (code, out, err) = deadrelu(&[&["inspect"][..], &base].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("first layer: 1 of 8 neurons inactive on the data (neuron 0"),
        "{out}"
    );
    assert!(
        out.contains("(10 coordinates), so training can use only 7 of the 8"),
        "{out}"
    );
    // risk and V as decimals, V in one way
    assert!(out.contains("best-constant risk V = 0.0859158"), "{out}");
    assert!(!out.contains("341/3969"), "{out}");

    // audit: no dead layer, so no certificate, and it says so
    let dir = temp_dir("audit");
    let cert = dir.join("c.json");
    let audit = [
        &["audit"][..],
        &base,
        &[
            "--steps",
            "2",
            "--optimizers",
            "sgd",
            "--certificate",
            cert.to_str().unwrap(),
        ],
    ]
    .concat();
    let (code, out, err) = deadrelu(&audit);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verdict: mechanism-not-applicable"), "{out}");
    assert!(
        out.contains("first layer: 1 of 8 neurons inactive"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "no certificate written to {}: no hidden layer is dead on the data",
            cert.display()
        )),
        "{out}"
    );
    assert!(!cert.exists());
    let v = json(&[&audit[..], &["--json"]].concat());
    assert_eq!(v["first_layer_inactive"]["neurons"], serde_json::json!([0]));
    assert!(
        v["certificate_note"]
            .as_str()
            .unwrap()
            .starts_with("no certificate written")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn small_probabilities_are_not_printed_as_zero() {
    // 1,8,8,8,1: P(dead layer) about 1e-3, its bound 1.5e-5
    let (code, out, err) = deadrelu(&[
        "estimate", "--arch", "1,3,1", "--widths", "8", "--depths", "4", "--trials", "20000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("0.0000"), "{out}");
    assert!(out.contains("1.25e-3 +5.9e-4/-4.0e-4"), "{out}");
    assert!(out.contains("(proven lower bound 1.53e-5)"), "{out}");
    assert!(out.contains("p = 0.25 (exactly 1/4)"), "{out}");
}

#[test]
fn tidy_csv_and_figures_from_one_sweep() {
    let dir = temp_dir("sweep");
    let (csv, png) = (dir.join("s.csv"), dir.join("s.png"));
    let (code, _, err) = deadrelu(&[
        "estimate",
        "--arch",
        "1,3,1",
        "--widths",
        "2,3",
        "--depths",
        "2..3",
        "--trials",
        "300",
        "--train",
        "--optimizer",
        "sgd,adam",
        "--steps",
        "3",
        "--seed",
        "4",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("figures written"), "{err}");
    for name in ["s.png", "s-training.png", "s-inactive.png"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG", "{name}");
    }
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // 2 widths x 2 depths x 2 optimizers
    assert_eq!(rows.len(), 8);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    for row in &rows {
        let depth: usize = row[col("depth")].parse().unwrap();
        let width: usize = row[col("width")].parse().unwrap();
        let arch: Vec<usize> = row[col("arch")]
            .split('-')
            .map(|w| w.parse().unwrap())
            .collect();
        assert_eq!(arch.len(), depth + 1);
        assert_eq!(arch[1], width);
        assert_eq!(&row[col("seed")], "4");
        assert_eq!(&row[col("trials")], "300");
        let p: f64 = row[col("p_dead_layer")].parse().unwrap();
        let lo: f64 = row[col("p_dead_layer_lo")].parse().unwrap();
        let hi: f64 = row[col("p_dead_layer_hi")].parse().unwrap();
        assert!(lo <= p && p <= hi);
        let outcomes: f64 = [
            "train_dead_at_init",
            "train_became_constant",
            "train_stayed_at_or_above_v",
            "train_went_below_v",
            "train_diverged",
        ]
        .iter()
        .map(|c| row[col(c)].parse::<f64>().unwrap())
        .sum();
        assert!((outcomes - 1.0).abs() < 1e-12, "{outcomes}");
        // a mean per hidden layer of this architecture, empty beyond
        assert!(row[col("mean_inactive_layer_1")].parse::<f64>().is_ok());
        assert_eq!(row[col("mean_inactive_layer_2")].is_empty(), depth == 2);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bound_takes_arch_and_domain_like_every_other_command() {
    let new = json(&[
        "bound",
        "--init",
        "uniform:1",
        "--arch",
        "2,3,1",
        "--domain",
        "box:0,1",
        "--json",
    ]);
    let old = json(&[
        "bound",
        "--init",
        "uniform:1",
        "--inputs",
        "2",
        "--width",
        "3",
        "--box",
        "0,1",
        "--json",
    ]);
    assert_eq!(new, old);
    assert_eq!(new["p"], "13/48");
    assert_eq!(new["width"], 3);
    let (code, _, err) = deadrelu(&["bound", "--arch", "2,3", "--inputs", "2"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ignored_flags_are_named_and_quiet_silences_stderr() {
    let dir = temp_dir("flags");
    let weights = dir.join("w.json");
    std::fs::write(&weights, r#"{"arch":[1,1,1],"params":[1,0,1,0]}"#).unwrap();
    let w = weights.to_str().unwrap();
    // (arguments, what stderr must say; "" for nothing at all)
    let cases: [(&[&str], &str); 8] = [
        (
            &["inspect", "--weights", w, "--init", "he-normal"],
            "warning: --init is ignored: theta is read from",
        ),
        (
            &[
                "inspect",
                "--weights",
                w,
                "--init",
                "he-normal",
                "--bias-init",
                "zero",
                "--seed",
                "4",
            ],
            "warning: --init, --bias-init and --seed are ignored",
        ),
        // rai draws its own biases: a --bias-init with it is named, not silently dropped
        (
            &[
                "inspect",
                "--arch",
                "1,2,1",
                "--init",
                "rai",
                "--bias-init",
                "zero",
            ],
            "--bias-init is ignored with --init rai",
        ),
        (
            &[
                "bound",
                "--arch",
                "1,2,1",
                "--init",
                "rai",
                "--bias-init",
                "zero",
            ],
            "--bias-init is ignored with --init rai",
        ),
        (
            &["inspect", "--weights", w, "--init", "he-normal", "--quiet"],
            "",
        ),
        (
            &[
                "estimate", "--arch", "1,2,1", "--trials", "10", "--steps", "5",
            ],
            "ignored without --train",
        ),
        (&["estimate", "--arch", "1,2,1", "--trials", "10", "-q"], ""),
        (&["inspect", "--arch", "1,2,1", "--quiet"], ""),
    ];
    for (args, says) in cases {
        let (code, _, err) = deadrelu(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        if says.is_empty() {
            assert_eq!(err, "", "{args:?}");
        } else {
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }
    // --arch is required unless --weights, and clap says so
    let (code, _, err) = deadrelu(&["inspect"]);
    assert_eq!(code, 2);
    assert!(err.contains("--arch"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shell_completions() {
    let (code, out, err) = deadrelu(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("_deadrelu()") && out.contains("estimate") && out.contains("--per-neuron")
    );
    let (code, _, _) = deadrelu(&["completions", "tcsh"]);
    assert_eq!(code, 2);
}

#[test]
fn exact_trace_enclosures_are_json_arrays() {
    let dir = temp_dir("trace");
    let trace = dir.join("t.jsonl");
    let (code, _, err) = deadrelu(&[
        "train",
        "--arch",
        "1,2,1",
        "--seed",
        "2",
        "--steps",
        "2",
        "--mode",
        "exact",
        "--optimizer",
        "adam",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    // Adam's square root makes the moved coordinates enclosures: ["lo", "hi"] arrays of
    // exact strings, lo <= hi
    let enclosures: Vec<&serde_json::Value> = last["theta"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.is_array())
        .collect();
    assert!(!enclosures.is_empty(), "{last}");
    for e in enclosures {
        let ends: Vec<f64> = e
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let q = deadrelu::scalar::parse_rational(s.as_str().unwrap()).unwrap();
                num_traits::ToPrimitive::to_f64(&q).unwrap()
            })
            .collect();
        assert_eq!(ends.len(), 2);
        assert!(ends[0] <= ends[1]);
    }
    assert!(!text.contains("\"["), "no enclosure as a string: {text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every command's help: one layout, `rai` among the `--init` schemes, no `--gmp` flag
/// (there is none; GMP is a build feature), required flags marked, `--quiet` listed.
#[test]
fn help_texts_are_accurate() {
    for command in [
        "inspect",
        "train",
        "audit",
        "check",
        "estimate",
        "bound",
        "merge",
        "demo",
        "export-vnnlib",
        "completions",
    ] {
        let (code, out, err) = deadrelu(&[command, "--help"]);
        assert_eq!(code, 0, "{command}: {err}");
        assert!(!out.contains("--gmp"), "{command}: {out}");
        assert!(out.contains("-q, --quiet"), "{command}: {out}");
        // next_line_help: every flag's text on the line after the flag
        assert!(
            out.contains("--help\n          Print help"),
            "{command}: {out}"
        );
        if out.contains("--init <INIT>") {
            assert!(out.contains("rai"), "{command}: {out}");
        }
        if ["inspect", "train", "audit", "export-vnnlib"].contains(&command) {
            assert!(
                out.contains("--arch <ARCH>\n          Required unless --weights"),
                "{command}: {out}"
            );
        }
    }
    let (_, out, _) = deadrelu(&["export-vnnlib", "--help"]);
    assert!(
        out.contains("--layer <LAYER>\n          Required:"),
        "{out}"
    );
    assert!(out.contains("--out <OUT>\n          Required:"), "{out}");
}

/// `audit --optimizer-state` needs `--weights` and `--optimizer`, `--optimizer` needs
/// `--optimizer-state`; `--box-budget` without `--domain` and `--target` with CSV data
/// are named in one warning each.
#[test]
fn checkpoint_flags_required_and_ignored_flags_warned_once() {
    let (code, _, err) = deadrelu(&["audit", "--arch", "1,2,1", "--optimizer", "adam"]);
    assert_eq!(code, 2);
    assert!(err.contains("--optimizer-state"), "{err}");
    let (code, _, err) = deadrelu(&[
        "audit",
        "--arch",
        "1,2,1",
        "--optimizer-state",
        "s.json",
        "--optimizer",
        "adam",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--weights"), "{err}");
    let (code, _, err) = deadrelu(&["inspect", "--arch", "1,2,1", "--box-budget", "5"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("--box-budget is ignored without --domain")
            .count(),
        1,
        "{err}"
    );
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/abs_data.csv");
    let data = format!("csv:{csv}");
    for command in ["inspect", "audit"] {
        let mut args = vec![
            command, "--arch", "1,2,1", "--data", &data, "--target", "sin",
        ];
        if command == "audit" {
            args.extend(["--steps", "1", "--optimizers", "sgd"]);
        }
        let (code, _, err) = deadrelu(&args);
        assert!(code == 0 || code == 1, "{err}");
        assert_eq!(
            err.matches("--target is ignored").count(),
            1,
            "{command}: {err}"
        );
    }
    let (code, _, err) = deadrelu(&[
        "inspect",
        "--arch",
        "1,2,1",
        "--data",
        &data,
        "--mode",
        "f64",
        "--data-seed",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("--data-seed is ignored").count(), 1, "{err}");
}

/// A checkpoint audit asked for a certificate that it cannot write says so (JSON
/// `certificate_note`, a line in the report) and writes no file.
#[test]
fn checkpoint_audit_says_why_no_certificate() {
    let dir = common::dead_checkpoint_files("readable-ckpt");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("mom.json"),
        r#"{"state":{"1":{"momentum_buffer":[-0.5,-0.5]}},"param_groups":[{"params":[0,1,2,3]}]}"#,
    )
    .unwrap();
    let data = format!("csv:{}", path("data.csv"));
    let cert = path("cert.json");
    let args = [
        "audit",
        "--weights",
        &path("w.json"),
        "--data",
        &data,
        "--optimizer-state",
        &path("mom.json"),
        "--optimizer",
        "momentum",
        "--lr",
        "1/4",
        "--certificate",
        &cert,
    ];
    let v = json(&[&args[..], &["--json"]].concat());
    assert_eq!(v["verdict"], "may-revive", "{v}");
    assert_eq!(v["certificate"], serde_json::Value::Null);
    let note = v["certificate_note"].as_str().unwrap();
    assert!(note.starts_with("no certificate written to"), "{note}");
    assert!(
        note.ends_with("no hidden layer is certified dead forever"),
        "{note}"
    );
    let (code, out, err) = deadrelu(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(note), "{out}");
    assert!(!std::path::Path::new(&cert).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
