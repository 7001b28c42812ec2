//! The command line: JSON contract, exit codes, errors without panics.

mod common;
use common::{deadrelu, json};

const ISSUE_ARGS: [&str; 11] = [
    "inspect",
    "--arch",
    "1,3,3,3,3,3,1",
    "--init",
    "torch-default",
    "--seed",
    "11",
    "--data",
    "grid:-1,1:64",
    "--target",
    "abs",
];

#[test]
fn inspect_json_contract_and_modes_agree() {
    let mut args = ISSUE_ARGS.to_vec();
    args.push("--json");
    let exact = json(&args);
    args.extend(["--mode", "f64"]);
    let float = json(&args);
    for key in [
        "arch",
        "mode",
        "inactive_per_layer",
        "inactive_neurons",
        "dead_layers",
        "constant_on_data",
        "risk",
    ] {
        assert!(exact.get(key).is_some(), "missing {key}");
    }
    assert_eq!(exact["mode"], "exact");
    assert_eq!(float["mode"], "f64");
    assert!(exact["risk"].is_string() && float["risk"].is_number());
    for key in [
        "inactive_per_layer",
        "inactive_neurons",
        "dead_layers",
        "constant_on_data",
    ] {
        assert_eq!(exact[key], float[key], "{key}");
    }
    assert_eq!(exact["best_constant_risk"], "341/3969");
    assert_eq!(exact["arch"], serde_json::json!([1, 3, 3, 3, 3, 3, 1]));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["inspect", "--arch", "1,0,1"],
        vec!["inspect", "--arch", "1,1"],
        vec!["inspect", "--arch", "1,2,1", "--init", "kaiming"],
        vec!["inspect", "--arch", "1,2,1", "--data", "grid:1,0:5"],
        vec![
            "inspect",
            "--arch",
            "1,2,1",
            "--data",
            "csv:/nonexistent.csv",
        ],
        vec!["inspect", "--arch", "1,2,1", "--target", "cos"],
        vec![
            "inspect",
            "--arch",
            "1,2,1",
            "--weights",
            "/nonexistent.json",
        ],
        vec!["inspect", "--arch", "1,x,1"],
        vec!["inspect", "--bogus"],
        // counts that would run for centuries are refused, not started
        vec!["train", "--arch", "1,2,1", "--steps", "1000000001"],
        vec![
            "audit",
            "--arch",
            "1,2,1",
            "--steps",
            "18446744073709551615",
        ],
        vec![
            "estimate",
            "--arch",
            "1,2,1",
            "--trials",
            "18446744073709551615",
        ],
        vec![
            "estimate",
            "--arch",
            "1,2,1",
            "--train",
            "--steps",
            "1000000001",
        ],
    ] {
        let (code, out, err) = deadrelu(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed on stdout: {out}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn csv_errors_name_line_and_column() {
    let dir = std::env::temp_dir().join(format!("deadrelu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.csv");
    std::fs::write(&path, "x,y\n0.5,1/3\n0.25,abc\n").unwrap();
    let spec = format!("csv:{}", path.display());
    let (code, _, err) = deadrelu(&["inspect", "--arch", "1,2,1", "--data", &spec]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.csv:3:2"), "{err}");
    let good = dir.join("good.csv");
    std::fs::write(&good, "x,y\n-1,1\n0,0\n1/2,1/2\n").unwrap();
    let spec = format!("csv:{}", good.display());
    let v = json(&["inspect", "--arch", "1,2,1", "--data", &spec, "--json"]);
    assert_eq!(v["data_points"], 3);
    // y = (1, 0, 1/2): mean 1/2, V = (1/4 + 1/4 + 0)/3 = 1/6
    assert_eq!(v["best_constant_risk"], "1/6");
}

#[test]
fn weights_file_round_trip() {
    let dir = std::env::temp_dir().join(format!("deadrelu-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.json");
    // 1-2-1 with both hidden neurons dead on [-1,1]: biases -2
    std::fs::write(
        &path,
        r#"{"arch":[1,2,1],"params":[1,"-1/2",-2,"-2",0.5,0.25,"1/3"]}"#,
    )
    .unwrap();
    let v = json(&["inspect", "--weights", path.to_str().unwrap(), "--json"]);
    assert_eq!(v["dead_layers"], serde_json::json!([1]));
    assert_eq!(v["constant_on_data"], true);
    std::fs::write(&path, r#"{"arch":[1,2,1],"params":[1,2]}"#).unwrap();
    let (code, _, err) = deadrelu(&["inspect", "--weights", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("7 parameters"), "{err}");
}

/// `demo` reports the values the library computes for its configuration (the first
/// seed with a dead layer, its dead layers, the frozen coordinates, the witness risk),
/// and `V` of |x| on the 64-point grid as computed here from its definition.
#[test]
fn demo_reports_the_exact_values() {
    use common::q;
    use deadrelu::activity::activity_on_data;
    use deadrelu::audit::constructive_witness;
    use deadrelu::data::{DataSpec, Target};
    use deadrelu::net::Arch;
    use deadrelu::net::init::{BiasInit, InitScheme, init_network};
    use deadrelu::scalar::BigRational;
    use num_traits::Signed;
    let (code, out, err) = deadrelu(&["demo"]);
    assert_eq!(code, 0, "{err}");
    let arch = Arch::new(vec![1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]).unwrap();
    let data = "grid:-1,1:64"
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    let (seed, net, dead) = (0..100)
        .find_map(|seed| {
            let net = init_network::<BigRational>(
                &arch,
                &InitScheme::TorchDefault,
                &BiasInit::Default,
                seed,
            )
            .unwrap();
            let dead = activity_on_data(&net, &data).unwrap().dead_layers();
            (!dead.is_empty()).then_some((seed, net, dead))
        })
        .unwrap();
    assert!(
        out.contains(&format!("seed {seed}: inactive neurons")),
        "{out}"
    );
    assert!(out.contains(&format!("-> dead layers {dead:?}")), "{out}");
    // V = mean of (|x| - mean|x|)^2 over x = (2i - 63)/63, i = 0..63
    let ys: Vec<BigRational> = (0..64).map(|i| q(2 * i - 63, 63).abs()).collect();
    let mean = ys.iter().sum::<BigRational>() / q(64, 1);
    let v = ys
        .iter()
        .map(|y| (y - &mean) * (y - &mean))
        .sum::<BigRational>()
        / q(64, 1);
    assert_eq!(v, q(341, 3969));
    // Text reports print V one way, as a decimal of six significant digits.
    assert!(
        out.contains("best constant has risk V = 0.0859158 "),
        "{out}"
    );
    assert!(out.contains("< V = 0.0859158 (compared exactly)"), "{out}");
    let risk = net.risk(&data, None).unwrap();
    assert!(risk > v);
    let risk = num_traits::ToPrimitive::to_f64(&risk).unwrap();
    assert!(
        out.contains(&format!("risk {}, while", six_digits(risk))),
        "{out}"
    );
    let k = dead[0];
    let frozen = arch.layer_range(k).end + arch.width(k + 1) * arch.width(k);
    let (_, grad) = net.risk_and_gradient(&data, None).unwrap();
    assert!(grad[..frozen].iter().all(num_traits::Zero::is_zero));
    assert!(
        out.contains(&format!("{frozen} of the first {frozen} coordinates")),
        "{out}"
    );
    let (_, witness_risk) = constructive_witness(&arch, &data).unwrap();
    assert!(witness_risk < v);
    assert!(
        out.contains(&format!(
            "witness risk {} < V",
            six_digits(num_traits::ToPrimitive::to_f64(&witness_risk).unwrap())
        )),
        "{out}"
    );
    assert!(out.contains("verdict: non-convergence-certified"), "{out}");
    assert!(out.contains("9 of 9 optimizer runs kept"), "{out}");
    assert!(out.contains("check: valid"), "{out}");
}

#[test]
fn train_keeps_dead_network_constant() {
    let base = [
        "train",
        "--arch",
        "1,2,2,2,2,2,2,2,2,2,2,1",
        "--init",
        "torch-default",
        "--seed",
        "1",
        "--data",
        "grid:-1,1:64",
        "--target",
        "abs",
        "--json",
    ];
    let mut args = base.to_vec();
    args.extend(["--optimizer", "adam", "--steps", "2000"]);
    let v = json(&args);
    assert_eq!(v["dead_layers_initial"], serde_json::json!([3, 4]));
    assert_eq!(v["frozen_up_to_dead_layer"], true);
    assert_eq!(v["constant_on_data_final"], true);
    assert_eq!(v["risk_final_not_below_best_constant"], true);
    // layers 1..3 and W_4: 3 * (2 + 2) + 1 * ... = 4 + 6 + 6 + 4 = 20 coordinates at least
    assert!(v["frozen_params"].as_u64().unwrap() >= 20);
    let mut args = base.to_vec();
    args.extend([
        "--optimizer",
        "sgd",
        "--steps",
        "5",
        "--weight-decay",
        "1/10",
    ]);
    let v = json(&args);
    assert_eq!(v["frozen_up_to_dead_layer"], false);
    let (code, _, err) = deadrelu(&[
        "train",
        "--arch",
        "1,2,1",
        "--optimizer",
        "adam",
        "--eps",
        "0",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--eps"), "{err}");
}

#[test]
fn audit_and_check_commands() {
    let dir = std::env::temp_dir().join(format!("deadrelu-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("c.json");
    let coq = dir.join("c.v");
    let v = json(&[
        "audit",
        "--arch",
        "1,2,2,2,2,2,2,2,2,2,2,1",
        "--init",
        "torch-default",
        "--seed",
        "1",
        "--data",
        "grid:-1,1:64",
        "--target",
        "abs",
        "--steps",
        "2",
        "--batch",
        "0",
        "--certificate",
        cert.to_str().unwrap(),
        "--coq",
        coq.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["verdict"], "non-convergence-certified");
    // the Coq file states the same network and layer (coqc checks it in .ci/run)
    assert_eq!(v["coq"], coq.to_str().unwrap());
    let coq_text = std::fs::read_to_string(&coq).unwrap();
    let k = v["dead_layer"].as_u64().unwrap();
    assert!(coq_text.contains(&format!("Definition dead_layer : nat := {k}%nat.")));
    assert!(
        coq_text
            .contains("Definition arch : list nat := [1; 2; 2; 2; 2; 2; 2; 2; 2; 2; 2; 1]%nat.")
    );
    assert!(
        coq_text.contains("Lemma checked : cert_check arch data dead_layer theta0 witness = true.")
    );
    assert_eq!(coq_text.matches("_fails : forall").count(), 10);
    assert_eq!(v["optimizers"].as_array().unwrap().len(), 9);
    assert_eq!(v["best_constant_risk"], "341/3969");
    let (code, out, err) = deadrelu(&["check", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("valid"));
    let text = std::fs::read_to_string(&cert).unwrap();
    let mut c: serde_json::Value = serde_json::from_str(&text).unwrap();
    c["best_constant_risk"] = serde_json::Value::from("1/10");
    std::fs::write(&cert, c.to_string()).unwrap();
    let (code, _, err) = deadrelu(&["check", cert.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("best_constant_risk"), "{err}");
    std::fs::write(&cert, &text[..text.len() / 2]).unwrap();
    let (code, _, err) = deadrelu(&["check", cert.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = deadrelu(&["check", "/nonexistent/c.json"]);
    assert_eq!(code, 2);
}

/// A long exact run whose enclosures widen (RMSprop on a live 1-2-1 network: the
/// wrapping effect doubles the width every few steps from about step 260) stops where
/// the enclosure leaves f64's range, says so, and reports the comparison with V as
/// undecided; before, the exponents grew without bound (minutes, gigabytes, then a
/// wrong "below V" from a wrapped exponent).
#[test]
fn exact_training_stops_when_the_enclosure_is_lost() {
    let start = std::time::Instant::now();
    let v = json(&[
        "train",
        "--arch",
        "1,2,1",
        "--seed",
        "3",
        "--mode",
        "exact",
        "--steps",
        "1000",
        "--optimizer",
        "rmsprop",
        "--json",
    ]);
    let step = v["enclosure_lost_at_step"].as_u64().expect("stopped");
    assert!((250..1000).contains(&step), "{step}");
    assert_eq!(v["risk_final_not_below_best_constant"], "undecided");
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    // 200 steps keep their full length, and the enclosure decides that this live
    // network's risk (0.0590) went below V = 341/3969
    let v = json(&[
        "train",
        "--arch",
        "1,2,1",
        "--seed",
        "3",
        "--mode",
        "exact",
        "--steps",
        "200",
        "--optimizer",
        "rmsprop",
        "--json",
    ]);
    assert!(v["enclosure_lost_at_step"].is_null());
    assert_eq!(v["risk_final_not_below_best_constant"], false);
}

/// `x` with six significant digits, trailing zeros dropped (as the text reports print it).
fn six_digits(x: f64) -> String {
    let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.decimals$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
