//! The audit and the independent checker: known answers, tampering, malformed input.

mod common;
use common::q;
use deadrelu::audit::{
    AuditOptions, Certificate, CheckError, Claim, Verdict, audit, check_certificate,
    check_certificate_value,
};
use deadrelu::data::{DataSpec, Dataset, Target};
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::optim::train::{TrainConfig, train};
use deadrelu::optim::{Hyper, OptimizerKind};
use deadrelu::scalar::BigRational;
use serde_json::Value;

fn options(kinds: &[OptimizerKind], steps: u64) -> AuditOptions {
    AuditOptions {
        optimizers: kinds.to_vec(),
        hyper: Hyper::default(),
        steps,
        batch: Some(4),
        batch_seed: 1,
        layer: None,
    }
}

fn issue_net(points: usize) -> (Network<BigRational>, Dataset<BigRational>) {
    let arch = Arch::new(vec![1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]).unwrap();
    let net = init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 1).unwrap();
    let data = format!("grid:-1,1:{points}")
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    (net, data)
}

fn certified(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    kinds: &[OptimizerKind],
) -> Value {
    let report = audit(net, data, &options(kinds, 3), |_| {}).unwrap();
    assert_eq!(
        report.verdict,
        Verdict::NonConvergenceCertified,
        "{:?}",
        report.verdict
    );
    for run in &report.runs {
        assert!(
            run.frozen && run.layer_stayed_dead && run.constant_realization,
            "{}",
            run.resolved.kind.name()
        );
    }
    let cert = Certificate::from_report(net, data, &report).unwrap().0;
    check_certificate(&cert.to_string()).expect("a fresh certificate checks");
    // `audit` checks the value it writes, not the text: the text must read back as it
    let text = serde_json::to_string_pretty(&cert).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), cert);
    check_certificate_value(&cert).expect("the value checks as the text does");
    cert
}

/// Every leaf that is a number (exact string or integer) with its JSON pointer.
fn number_leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| number_leaves(x, format!("{path}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| number_leaves(x, format!("{path}/{i}"), out)),
        Value::String(s) if deadrelu::scalar::parse_rational(s).is_ok() => out.push(path),
        Value::Number(_) => out.push(path),
        _ => {}
    }
}

fn tampered(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let q =
                deadrelu::scalar::parse_rational(s).unwrap() + BigRational::new(1.into(), 3.into());
            Value::String(deadrelu::scalar::rational_string(&q))
        }
        Value::Number(n) => Value::from(n.as_u64().map(|u| u + 1).unwrap_or(7)),
        other => other.clone(),
    }
}

#[test]
fn issue_network_is_certified_and_every_single_tampering_fails() {
    let (net, data) = issue_net(12);
    let cert = certified(
        &net,
        &data,
        &[
            OptimizerKind::Adam,
            OptimizerKind::Sgd,
            OptimizerKind::Nadam,
        ],
    );
    let mut leaves = Vec::new();
    number_leaves(&cert, String::new(), &mut leaves);
    assert!(leaves.len() > 150, "{} leaves", leaves.len());
    for path in leaves {
        if path == "/version" {
            continue; // another version is unreadable (exit 2), checked below
        }
        let mut bad = cert.clone();
        let slot = bad.pointer_mut(&path).unwrap();
        *slot = tampered(slot);
        let from_text = check_certificate(&bad.to_string());
        assert_eq!(
            format!("{from_text:?}"),
            format!("{:?}", check_certificate_value(&bad)),
            "{path}"
        );
        match from_text {
            Err(CheckError::ClaimFails { .. }) => {}
            other => panic!("tampering {path} gave {other:?}"),
        }
    }
    let mut bad = cert.clone();
    bad["version"] = Value::from(3);
    assert!(matches!(
        check_certificate(&bad.to_string()),
        Err(CheckError::Unreadable(_))
    ));
}

#[test]
fn malformed_certificates_are_unreadable_never_panics() {
    let (net, data) = issue_net(6);
    let text = certified(&net, &data, &[OptimizerKind::Sgd]).to_string();
    for cut in [0, 1, text.len() / 3, text.len() / 2, text.len() - 1] {
        assert!(
            matches!(
                check_certificate(&text[..cut]),
                Err(CheckError::NotJson(ref e)) if e.0.is_eof() || e.0.is_syntax()
            ),
            "cut at {cut}"
        );
    }
    for junk in [
        "",
        "null",
        "[]",
        "{}",
        r#"{"format":"deadrelu-certificate","version":1}"#,
        "\u{0}",
    ] {
        assert!(
            matches!(
                check_certificate(junk),
                Err(CheckError::Unreadable(_) | CheckError::NotJson(_))
            ),
            "{junk:?}"
        );
    }
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["theta0"][0] = Value::from("1/0");
    assert!(matches!(
        check_certificate(&v.to_string()),
        Err(CheckError::Unreadable(_))
    ));
    v["theta0"] = Value::from(vec!["1"; 3]);
    assert!(matches!(
        check_certificate(&v.to_string()),
        Err(CheckError::ClaimFails {
            claim: Claim::Theta0,
            ..
        })
    ));
}

#[test]
fn live_network_is_not_applicable() {
    let (_, data) = issue_net(8);
    let arch = Arch::new(vec![1, 4, 1]).unwrap();
    let net = init_network::<BigRational>(
        &arch,
        &InitScheme::Uniform(q(1, 1)),
        &BiasInit::Const(q(3, 1)),
        0,
    )
    .unwrap();
    let report = audit(&net, &data, &options(&[OptimizerKind::Sgd], 2), |_| {}).unwrap();
    assert!(matches!(
        report.verdict,
        Verdict::MechanismNotApplicable { .. }
    ));
    assert!(Certificate::from_report(&net, &data, &report).is_none());
}

/// Ties z = 0 exactly, two inputs and two outputs: layer 1 is dead with every
/// pre-activation exactly 0 at some point.
#[test]
fn ties_multi_output_and_two_inputs() {
    let arch = Arch::new(vec![2, 2, 3, 2]).unwrap();
    let mut params = vec![q(0, 1); arch.num_params()];
    // z_{1,0} = x_1 + x_2 - 1 <= 0 on [0, 1/2]^2 with equality at (1/2, 1/2); z_{1,1} = -x_1
    params[arch.weight_index(1, 0, 0)] = q(1, 1);
    params[arch.weight_index(1, 0, 1)] = q(1, 1);
    params[arch.bias_index(1, 0)] = q(-1, 1);
    params[arch.weight_index(1, 1, 0)] = q(-1, 1);
    for (i, p) in params
        .iter_mut()
        .enumerate()
        .skip(arch.layer_range(2).start)
    {
        *p = q(i as i64 - 10, 7);
    }
    let net = Network::new(arch, params).unwrap();
    let data = "grid:0,1/2:3"
        .parse::<DataSpec>()
        .unwrap()
        .build(2, 2, &Target::Square, 0)
        .unwrap();
    let cert = certified(&net, &data, &[OptimizerKind::Adam, OptimizerKind::Momentum]);
    assert_eq!(cert["dead_layer"], 1);
    assert_eq!(cert["constant_value"].as_array().unwrap().len(), 2);
}

/// The exact audit and the f64 path agree, seed by seed, in both directions: the same
/// dead layers at theta_0, the same risk and `V` (to [`F64_AGREEMENT`]), and the same
/// outcome of training: a dead network stays constant in `f64` and is certified, a live
/// one leaves the constant and is not. The seeds give both kinds.
#[test]
fn audit_agrees_with_f64_training() {
    use deadrelu::activity::activity_on_data;
    use deadrelu::prec::F64_AGREEMENT;
    let close = |f: f64, e: &BigRational| {
        let e = num_traits::ToPrimitive::to_f64(e).unwrap();
        (f - e).abs() <= F64_AGREEMENT * (1.0 + e.abs())
    };
    let mut dead_seeds = Vec::new();
    for seed in 0..6 {
        let arch = Arch::new(vec![1, 2, 2, 2, 2, 2, 1]).unwrap();
        let net =
            init_network::<BigRational>(&arch, &InitScheme::TorchDefault, &BiasInit::Default, seed)
                .unwrap();
        let data = "grid:-1,1:8"
            .parse::<DataSpec>()
            .unwrap()
            .build(1, 1, &Target::Abs, 0)
            .unwrap();
        let report = audit(&net, &data, &options(&[OptimizerKind::Adam], 4), |_| {}).unwrap();
        let (netf, dataf): (Network<f64>, Dataset<f64>) =
            (net.convert().unwrap(), data.convert().unwrap());
        assert_eq!(
            activity_on_data(&netf, &dataf).unwrap().dead_layers(),
            report.activity.dead_layers(),
            "seed {seed}"
        );
        let risk = netf.risk(&dataf, None).unwrap();
        assert!(
            close(risk, &report.risk),
            "seed {seed}: risk {risk} vs {}",
            report.risk
        );
        let v = dataf.best_constant().0;
        assert!(close(v, &report.best_constant_risk), "seed {seed}: V {v}");
        let opt = Hyper::default()
            .resolve(OptimizerKind::Adam)
            .unwrap()
            .build::<f64>()
            .unwrap();
        let run = train(
            &netf,
            &dataf,
            &opt,
            &TrainConfig {
                steps: 4,
                batch: None,
                batch_seed: 0,
            },
            None,
            |_| {},
        )
        .unwrap();
        let f64_constant = activity_on_data(&run.last, &dataf)
            .unwrap()
            .constant_on_data();
        if report.dead_layer.is_some() {
            dead_seeds.push(seed);
            assert!(
                f64_constant,
                "seed {seed}: exact says dead, f64 left the constant"
            );
            assert_eq!(
                report.verdict,
                Verdict::NonConvergenceCertified,
                "seed {seed}"
            );
            assert!(
                report
                    .runs
                    .iter()
                    .all(|r| r.frozen && r.constant_realization)
            );
        } else {
            assert!(
                !f64_constant,
                "seed {seed}: alive, yet constant after f64 training"
            );
            assert!(
                matches!(report.verdict, Verdict::MechanismNotApplicable { .. }),
                "seed {seed}: {:?}",
                report.verdict
            );
            assert!(report.runs.is_empty());
        }
    }
    assert!(
        !dead_seeds.is_empty() && dead_seeds.len() < 6,
        "dead seeds {dead_seeds:?}: both kinds are needed"
    );
}

/// `audit --domain box:-1,1` on the issue's seed certifies non-convergence on the whole
/// box (the layer is in fact dead on [-1000, 1000] too, and the checker agrees); `check`
/// replays the box proof; false box claims are rejected even with a renewed digest; a live network is not applicable; data outside the box are refused.
#[test]
fn box_certificate_via_the_cli() {
    use deadrelu::audit::certificate::digest_of;
    let dir = std::env::temp_dir().join(format!("deadrelu-box-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("box.json");
    let p = path.to_str().unwrap();
    let v = common::json(&[
        "audit",
        "--arch",
        "1,2,2,2,2,2,2,2,2,2,2,1",
        "--seed",
        "1",
        "--domain",
        "box:-1,1",
        "--steps",
        "5",
        "--optimizers",
        "adam,sgd",
        "--batch",
        "0",
        "--certificate",
        p,
        "--json",
    ]);
    assert_eq!(v["verdict"], "non-convergence-certified");
    assert_eq!(v["domain"]["layer"], 4);
    assert_eq!(v["dead_layer"], 4);
    let (code, out, err) = common::deadrelu(&["check", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dead on the whole box [-1, 1]^1"), "{out}");
    let cert: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let redigest = |mut c: Value| {
        c["digest"] = Value::String(digest_of(&c));
        c.to_string()
    };
    let mut other_layer = cert.clone();
    other_layer["domain"]["layer"] = Value::from(3);
    let mut excludes_data = cert.clone();
    excludes_data["domain"]["box"] = serde_json::json!(["0", "1"]);
    let mut larger = cert.clone();
    larger["domain"]["box"] = serde_json::json!(["-1000", "1000"]);
    // a larger box: accepted if the proof covers it (an input-splitting proof whose
    // interval bounds hold there too), else refused for the proof, never for anything else
    match check_certificate(&redigest(larger)) {
        Ok(_)
        | Err(CheckError::ClaimFails {
            claim: Claim::DomainProof,
            ..
        }) => {}
        other => panic!("larger box gave {other:?}"),
    }
    let mut ends_early = cert.clone();
    ends_early["domain"]["proof"] = serde_json::json!({
        "method": "input-splitting",
        "tree": [{"split": [0, "0"]}, "ibp"],
    });
    for (bad, claim) in [
        (other_layer, Claim::DomainLayer),
        (excludes_data, Claim::DomainCoversData),
        (ends_early, Claim::DomainProof),
    ] {
        match check_certificate(&redigest(bad.clone())) {
            Err(CheckError::ClaimFails { claim: c, .. }) if c == claim => {}
            other => panic!("{} gave {other:?}", bad["domain"]),
        }
    }
    // a live network: not applicable, no certificate
    let live = dir.join("live.json");
    let v = common::json(&[
        "audit",
        "--arch",
        "1,8,1",
        "--seed",
        "0",
        "--domain",
        "box:-1,1",
        "--steps",
        "2",
        "--certificate",
        live.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["verdict"], "mechanism-not-applicable");
    assert_eq!(v["domain"]["layers"][0]["status"], "alive");
    assert!(!live.exists());
    // data outside the box
    let (code, _, err) = common::deadrelu(&[
        "audit",
        "--arch",
        "1,2,2,1",
        "--domain",
        "box:0,1",
        "--data",
        "grid:-1,1:4",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("outside the box"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A certificate is written only for a certified verdict: the same report with its
/// verdict turned inconclusive (as when a run fails to stay frozen) gives none, even
/// though its dead layer and witness are still there.
#[test]
fn inconclusive_report_writes_no_certificate() {
    let (net, data) = issue_net(8);
    let mut report = audit(&net, &data, &options(&[OptimizerKind::Sgd], 2), |_| {}).unwrap();
    assert_eq!(report.verdict, Verdict::NonConvergenceCertified);
    assert!(Certificate::from_report(&net, &data, &report).is_some());
    report.verdict = Verdict::Inconclusive {
        reason: "the sgd run did not stay frozen and constant".into(),
    };
    assert!(report.witness.is_some() && report.dead_layer.is_some());
    assert!(Certificate::from_report(&net, &data, &report).is_none());
}

/// A run whose interval enclosure leaves f64's range (SGD at lr = 2^300) stops there and
/// says so; it contradicts nothing (the frozen coordinates stay bit-identical, the layer
/// stays dead), so the verdict stays certified: the runs illustrate the theorem, they are
/// not its proof.
#[test]
fn a_run_that_loses_its_enclosure_is_reported_not_held_against_the_verdict() {
    let (net, data) = issue_net(12);
    let mut opts = options(&[OptimizerKind::Sgd, OptimizerKind::Adam], 40);
    opts.batch = None;
    opts.hyper.lr = Some(BigRational::from_integer(
        num_bigint::BigInt::from(1) << 300,
    ));
    let report = audit(&net, &data, &opts, |_| {}).unwrap();
    assert_eq!(
        report.verdict,
        Verdict::NonConvergenceCertified,
        "{:?}",
        report.verdict
    );
    let sgd = &report.runs[0];
    assert_eq!(sgd.resolved.kind, OptimizerKind::Sgd);
    let at = sgd
        .enclosure_lost_at
        .expect("SGD at lr 2^300 loses its enclosure");
    assert!(at < 40, "{at}");
    assert!(sgd.frozen && sgd.layer_stayed_dead && sgd.constant_realization);
    let cert = Certificate::from_report(&net, &data, &report).unwrap().0;
    assert_eq!(
        cert["records"]["optimizer_runs"][0]["enclosure_lost_at_step"].as_u64(),
        Some(at),
        "{}",
        cert["records"]["optimizer_runs"][0]
    );
    check_certificate(&cert.to_string()).expect("the certificate checks");
}
