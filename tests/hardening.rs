//! Regression tests for the adversarial findings of issue 15: every reproduction exits
//! promptly (under two seconds) with exit 2 and one clear line on stderr, or gives the
//! correct answer. Nothing here may panic, hang or abort.

mod common;

use std::time::Duration;

/// The time any bad input may take to be refused.
const PROMPT: Duration = Duration::from_secs(2);

/// Runs the binary with a time limit: (exit code, stdout, stderr, elapsed). A run past
/// twice the limit is killed and fails the test.
fn run_timed(args: &[&str], stdin: Option<&str>) -> (i32, String, String, Duration) {
    let out = common::process::run_limited(
        args,
        stdin.map(str::as_bytes),
        2 * PROMPT + Duration::from_secs(8),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (out.code, out.stdout, out.stderr, out.elapsed)
}

/// Asserts a prompt exit 2 with one line on stderr that contains `needle`.
fn refused(args: &[&str], needle: &str) {
    let (code, _out, err, elapsed) = run_timed(args, None);
    assert_eq!(code, 2, "{args:?}: exit {code}, stderr: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(elapsed < PROMPT, "{args:?} took {elapsed:?}");
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("deadrelu-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn item1_huge_exponents_are_refused_promptly() {
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--bias-init",
            "const:1e-9223372036854775808",
        ],
        "--bias-init",
    );
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--init",
            "uniform:1e-9223372036854775808",
        ],
        "--init",
    );
    let csv = temp_file("exp.csv", "x,y\n1e-100000,1\n0,0\n");
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            &format!("csv:{}", csv.display()),
        ],
        "too large",
    );
    let digits = format!("x,y\n0.{},1\n", "3".repeat(100_000));
    let csv = temp_file("digits.csv", &digits);
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            &format!("csv:{}", csv.display()),
        ],
        "too large",
    );
}

#[test]
fn item2_sizes_that_overflow_or_exhaust_memory_are_refused() {
    for arch in [
        "1,18446744073709551615,1",
        "2,4611686018427387904,1",
        "1,1000000000,1",
    ] {
        refused(&["inspect", "--arch", arch], "too large");
    }
    refused(
        &["inspect", "--arch", "1,2,1", "--init", "uniform:1e308"],
        "--init",
    );
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            "uniform:-1e308,1e308:4",
        ],
        "--data",
    );
    let weights = temp_file(
        "huge.json",
        r#"{"arch":[2,4611686018427387904,1],"params":["1"]}"#,
    );
    refused(
        &["inspect", "--weights", weights.to_str().unwrap()],
        "too large",
    );
}

#[test]
fn item8_bias_constants_outside_f64_name_their_flag() {
    refused(
        &["inspect", "--arch", "1,2,1", "--bias-init", "const:-1e400"],
        "--bias-init",
    );
    refused(
        &[
            "estimate",
            "--arch",
            "1,2,1",
            "--bias-init",
            "const:-1e400",
            "--trials",
            "10",
        ],
        "--bias-init",
    );
}

#[test]
fn item8_a_first_row_of_nan_is_bad_data_not_a_header() {
    let csv = temp_file("nan.csv", "nan,nan\n0,1\n1,0\n");
    refused(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            &format!("csv:{}", csv.display()),
        ],
        "nan.csv:1:1",
    );
    // A real header is still skipped.
    let csv = temp_file("header.csv", "x,y\n0,1\n1,0\n");
    let (code, out, err, _) = run_timed(
        &[
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            &format!("csv:{}", csv.display()),
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["data_points"], 2);
}

#[test]
fn item8_duplicate_json_keys_are_refused() {
    let weights = temp_file(
        "dup.json",
        r#"{"arch":[1,2,1],"params":[1,2,3,4,5,6,7],"arch":[1,1,1]}"#,
    );
    refused(
        &["inspect", "--weights", weights.to_str().unwrap()],
        "duplicate key \"arch\"",
    );
}

#[test]
fn item3_f64_overflow_in_estimate_is_counted_not_decided() {
    let (code, out, err, _) = run_timed(
        &[
            "estimate",
            "--arch",
            "1,3,3,3,1",
            "--init",
            "uniform:1e300",
            "--trials",
            "41",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["overflowed"], 41, "{r}");
    assert_eq!(r["counts"]["dead_layer"], 0);
    assert!(err.contains("overflowed f64"), "{err}");
    // Scales that cannot overflow count nothing as overflowed.
    let (_, out, _, _) = run_timed(
        &[
            "estimate",
            "--arch",
            "1,3,3,3,1",
            "--trials",
            "41",
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["overflowed"], 0);
}

#[test]
fn item4_merge_refuses_other_runs_and_edited_counts() {
    let shard = |name: &str, extra: &[&str], i: u32| {
        let mut args = vec!["estimate", "--arch", "1,3,3,1", "--trials", "40", "--json"];
        let s = format!("{i}/2");
        args.extend(["--shard", &s]);
        args.extend(extra);
        let (code, out, err, _) = run_timed(&args, None);
        assert_eq!(code, 0, "{err}");
        temp_file(name, &out)
    };
    let a = shard("a.json", &[], 0);
    let b = shard("b.json", &[], 1);
    let (code, _, err, _) = run_timed(&["merge", a.to_str().unwrap(), b.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    // Trained with untrained, and two training settings.
    let trained = shard(
        "t.json",
        &["--train", "--steps", "2", "--data", "grid:-1,1:4"],
        1,
    );
    refused(
        &["merge", a.to_str().unwrap(), trained.to_str().unwrap()],
        "differs",
    );
    let t0 = shard(
        "t0.json",
        &["--train", "--steps", "2", "--data", "grid:-1,1:4"],
        0,
    );
    let t1 = shard(
        "t1.json",
        &["--train", "--steps", "3", "--data", "grid:-1,1:4"],
        1,
    );
    refused(
        &["merge", t0.to_str().unwrap(), t1.to_str().unwrap()],
        "training differs",
    );
    // A hand-edited count, and a shard count that does not match the files.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    v["results"][0]["counts"]["dead_layer"] = serde_json::json!(250);
    let edited = temp_file("edited.json", &v.to_string());
    refused(
        &["merge", a.to_str().unwrap(), edited.to_str().unwrap()],
        "exceeds",
    );
    v["shard"] = serde_json::json!([1, u64::MAX]);
    let wide = temp_file("wide.json", &v.to_string());
    refused(&["merge", wide.to_str().unwrap()], "shards");
}

#[test]
fn item5_and_item8_zero_counts_are_refused() {
    refused(
        &["estimate", "--train", "--batch", "0", "--trials", "5"],
        "--batch",
    );
    refused(
        &["estimate", "--threads", "0", "--trials", "5"],
        "--threads",
    );
    refused(&["estimate", "--trials", "0"], "--trials");
    refused(
        &["estimate", "--depths", "2..18446744073709551615"],
        "--depths",
    );
    refused(
        &["estimate", "--widths", "10000000", "--trials", "5"],
        "too large",
    );
    // --domain builds no data grid: d = 5 on the default 64-point axis would be 64^5.
    let (code, _, err, elapsed) = run_timed(
        &[
            "estimate", "--arch", "5,2,1", "--domain", "box:0,1", "--trials", "20",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(elapsed < PROMPT * 5, "{elapsed:?}");
    let (code, _, err, elapsed) = run_timed(&["bound", "--width", "18446744073709551615"], None);
    assert_eq!(code, 0, "{err}");
    assert!(elapsed < PROMPT, "{elapsed:?}");
}

/// The network of item 6: exact z = +9.3e-9 at x = (1, 1, 1, 1), f64 gives about -2e-8;
/// the old absolute tolerance 1e-9 called the layer dead with no near tie.
const ITEM6_WEIGHTS: &str = r#"{"arch":[4,1,1],"params":["134217728","7/536870912","7/536870912","-4503599627370497/33554432","7/536870912","1","0"]}"#;

#[test]
fn item6_cancellation_is_a_near_tie_in_every_f64_command() {
    let weights = temp_file("item6.json", ITEM6_WEIGHTS);
    let data = temp_file("item6.csv", "1,1,1,1,0\n1,1,1,1,0\n");
    let (w, d) = (
        weights.to_str().unwrap(),
        format!("csv:{}", data.to_str().unwrap()),
    );
    let json = |args: &[&str]| -> serde_json::Value {
        let (code, out, err, _) = run_timed(args, None);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let v = json(&[
        "train",
        "--weights",
        w,
        "--data",
        &d,
        "--mode",
        "f64",
        "--steps",
        "2",
        "--json",
    ]);
    assert_eq!(v["dead_layers_initial"], serde_json::json!([1])); // the float decision
    assert_eq!(v["near_ties_initial"], 2, "{v}");
    assert_eq!(v["near_ties_final"], 2, "{v}");
    let v = json(&[
        "inspect",
        "--weights",
        w,
        "--data",
        &d,
        "--mode",
        "f64",
        "--json",
    ]);
    assert_eq!(v["near_ties"]["count"], 2, "{v}");
    // the exact answer: alive
    let v = json(&[
        "inspect",
        "--weights",
        w,
        "--data",
        &d,
        "--mode",
        "exact",
        "--json",
    ]);
    assert_eq!(v["dead_layers"], serde_json::json!([]), "{v}");
    // exact mode has no near ties to report
    let v = json(&[
        "train",
        "--weights",
        w,
        "--data",
        &d,
        "--mode",
        "exact",
        "--steps",
        "1",
        "--json",
    ]);
    assert!(v.get("near_ties_initial").is_none(), "{v}");
}

/// Item 8 in the checker: a certificate with a key twice (same value or not) is refused
/// as unreadable, by `deadrelu check` and by the independent `deadrelu-check`; the
/// untouched certificate is valid.
#[test]
fn item8_checker_refuses_duplicate_keys() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/check/tests/fixtures/v2/plain.json"
    );
    let text = std::fs::read_to_string(fixture).unwrap();
    let (code, _, err, _) = run_timed(&["check", fixture], None);
    assert_eq!(code, 0, "{err}");
    let twice = text.replacen('{', r#"{"claim": "non-convergence", "#, 1);
    let path = temp_file("dup-cert.json", &twice);
    refused(
        &["check", path.to_str().unwrap()],
        "duplicate key \"claim\"",
    );
    let out = std::process::Command::new(
        env!("CARGO_MANIFEST_DIR").to_string() + "/target/release/deadrelu-check",
    )
    .arg(&path)
    .output();
    if let Ok(out) = out {
        assert_eq!(out.status.code(), Some(2), "{out:?}");
    }
}

/// Item 8: text `inspect` checks `--domain` before it prints anything.
#[test]
fn item8_bad_domain_prints_no_report() {
    for domain in ["box:1,0", "bax:0,1", "box:0,1e-9223372036854775808"] {
        let (code, out, err, elapsed) =
            run_timed(&["inspect", "--arch", "1,3,1", "--domain", domain], None);
        assert_eq!(code, 2, "{domain}: {err}");
        assert_eq!(out, "", "{domain}: a report was printed before the error");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("--domain"), "{err}");
        assert!(elapsed < PROMPT);
    }
}

/// Item 8: f64 inputs that round to infinity are bad input (exit 2, naming the point),
/// not a report with `risk: null`, in every f64 command; exact mode takes them.
#[test]
fn item8_inputs_beyond_f64_are_refused_in_f64_mode() {
    let data = "grid:-1e400,1e400:4";
    for args in [
        &[
            "inspect", "--mode", "f64", "--arch", "1,2,1", "--data", data,
        ][..],
        &[
            "train", "--mode", "f64", "--arch", "1,2,1", "--data", data, "--steps", "1",
        ],
        &[
            "estimate", "--arch", "1,2,1", "--data", data, "--trials", "10",
        ],
    ] {
        refused(args, "data point 0: -1000");
        refused(args, "beyond the range of f64");
    }
    let csv = temp_file("inf.csv", "1,1e400\n2,3\n");
    let spec = format!("csv:{}", csv.to_str().unwrap());
    refused(
        &[
            "inspect", "--mode", "f64", "--arch", "1,2,1", "--data", &spec,
        ],
        "beyond the range of f64",
    );
    let (code, out, err, _) = run_timed(
        &["inspect", "--arch", "1,2,1", "--data", data, "--json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"risk\":\""),
        "exact mode gives an exact risk: {out}"
    );
}

/// Shortened echoes: a 63 KB flag value comes back as its first 60 characters, `…` and
/// its length, in our messages and in clap's.
#[test]
fn long_flag_values_are_not_echoed_in_full() {
    let nines = "9".repeat(63_000);
    let cases = [
        vec![
            "inspect".to_string(),
            "--arch".into(),
            "1,3,1".into(),
            "--domain".into(),
            format!("bax:{nines}"),
        ],
        vec!["inspect".into(), "--arch".into(), format!("1,{nines},1")],
        vec![
            "inspect".into(),
            "--arch".into(),
            "1,3,1".into(),
            format!("--init=uniform:{nines}"),
        ],
        vec![
            "train".into(),
            "--arch".into(),
            "1,3,1".into(),
            format!("--lr=-{nines}"),
        ],
        vec![
            "estimate".into(),
            "--arch".into(),
            "1,3,1".into(),
            "--shard".into(),
            format!("{nines}/x"),
        ],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err, _) = run_timed(&args, None);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.len() < 600,
            "{} bytes: {}",
            err.len(),
            &err[..600.min(err.len())]
        );
        // the value is left out, or shown shortened with its length
        assert!(
            !err.contains(&"9".repeat(100)) && (err.contains("… (6300") || !err.contains("999")),
            "{err}"
        );
    }
}

/// `DEADRELU_EXACT_ENGINE` with a value that names no engine is refused with exit 2 and
/// one line before any work (it used to be ignored); `f64` and `auto` in any case run,
/// with the same answer.
#[test]
fn an_unknown_exact_engine_is_refused() {
    let run = |value: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_deadrelu"))
            .args(["inspect", "--arch", "2,3,3,1", "--seed", "5", "--json"])
            .env("DEADRELU_EXACT_ENGINE", value)
            .output()
            .expect("binary runs")
    };
    let bad = run("ifma2");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("DEADRELU_EXACT_ENGINE") && err.contains("ifma2"),
        "{err}"
    );
    assert!(bad.stdout.is_empty());
    let outputs: Vec<Vec<u8>> = [" F64 ", "auto", ""]
        .iter()
        .map(|v| {
            let out = run(v);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{v:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        })
        .collect();
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}
