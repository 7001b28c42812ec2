//! One test per claim: break that claim alone, reseal the digest, and the checker must
//! reject the certificate naming that claim (matched on [`Claim`], not on text). The
//! certificates are real ones written by `deadrelu audit` (tests/fixtures; how they were
//! made is in tests/fixtures/README.md).

use deadrelu_check::canon::seal;
use deadrelu_check::number::{parse, show};
use deadrelu_check::{BigRational, CheckError, Claim, check_certificate};
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn q(v: &Value) -> BigRational {
    parse(v.as_str().unwrap(), "test").unwrap()
}

fn s(q: &BigRational) -> Value {
    Value::String(show(q))
}

/// The checker's verdict on `cert` after resealing its digest.
fn resealed(mut cert: Value) -> Result<deadrelu_check::Checked, CheckError> {
    seal(&mut cert);
    check_certificate(&cert.to_string())
}

#[track_caller]
fn rejects(cert: Value, claim: Claim) {
    match resealed(cert) {
        Err(CheckError::ClaimFails { claim: c, .. }) if c == claim => {}
        other => panic!("expected {claim:?} to fail, got {other:?}"),
    }
}

/// `(1/M) sum_m |c - y_m|^2` for a certificate's targets.
fn risk_of_constant(cert: &Value, c: &[BigRational]) -> BigRational {
    let ys = cert["data"]["y"].as_array().unwrap();
    let total = ys
        .iter()
        .fold(BigRational::from_integer(0.into()), |acc, y| {
            y.as_array()
                .unwrap()
                .iter()
                .zip(c)
                .fold(acc, |a, (t, ci)| a + (ci - q(t)) * (ci - q(t)))
        });
    total / BigRational::from_integer((ys.len() as i64).into())
}

const ALL: [&str; 7] = [
    "v2/plain.json",
    "v2/box_split.json",
    "v2/box_phase.json",
    "v1/v1_plain.json",
    "v1/v1_box.json",
    "v1/v1_2d.json",
    "v1/v1_phase.json",
];

#[test]
fn every_fixture_is_valid_and_resealing_changes_nothing() {
    for name in ALL {
        let cert = load(name);
        let checked =
            check_certificate(&cert.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(checked.version, cert["version"].as_u64().unwrap());
        assert_eq!(
            checked.dead_layer,
            cert["dead_layer"].as_u64().unwrap() as usize
        );
        assert_eq!(
            checked.best_constant_risk,
            cert["best_constant_risk"].as_str().unwrap()
        );
        assert_eq!(
            checked.domain.is_some(),
            cert.get("domain").is_some(),
            "{name}"
        );
        assert_eq!(resealed(cert).unwrap(), checked, "{name}");
    }
    let c = check_certificate(&load("v2/box_phase.json").to_string()).unwrap();
    assert_eq!(c.domain, Some(("-1".into(), "1".into(), 2)));
    // its data include exact ties z = 0, which the float filter leaves to the exact pass
    assert!(c.exact_fallbacks > 0);
    let c = check_certificate(&load("v2/plain.json").to_string()).unwrap();
    assert_eq!(c.exact_fallbacks, 0);
}

#[test]
fn kind() {
    let mut c = load("v2/plain.json");
    c["claim"] = json!("convergence");
    rejects(c, Claim::Kind);
}

#[test]
fn arch_too_shallow_and_overflowing() {
    let mut c = load("v2/plain.json");
    c["arch"] = json!([1, 1]);
    rejects(c, Claim::Arch);
    let mut c = load("v2/plain.json");
    c["arch"] = json!([1, 0, 1]);
    rejects(c, Claim::Arch);
    let mut c = load("v2/plain.json");
    c["arch"] = json!([1, 1u64 << 40, 1u64 << 40, 1]);
    rejects(c, Claim::Arch);
}

#[test]
fn data_shapes() {
    let mut c = load("v2/plain.json");
    c["data"]["y"].as_array_mut().unwrap().pop();
    rejects(c, Claim::Data);
    let mut c = load("v2/plain.json");
    c["data"]["x"][3] = json!(["0", "1"]);
    rejects(c, Claim::Data);
    let mut c = load("v2/plain.json");
    c["data"] = json!({"x": [], "y": []});
    rejects(c, Claim::Data);
}

#[test]
fn theta0_length() {
    let mut c = load("v2/plain.json");
    c["theta0"].as_array_mut().unwrap().pop();
    rejects(c, Claim::Theta0);
}

#[test]
fn dead_layer_index() {
    for k in [0, 11, 12] {
        let mut c = load("v2/plain.json");
        c["dead_layer"] = json!(k);
        rejects(c, Claim::DeadLayerIndex);
    }
}

/// Only "dead on the data" is false: neuron 0 of layer 4 is made active everywhere
/// (bias 100), and its outgoing weights are 0, so the realization, the constant, both
/// risks, the frozen count and the witness are all unchanged and true.
#[test]
fn dead_on_data_alone() {
    let mut c = load("v2/plain.json");
    let widths: Vec<usize> = serde_json::from_value(c["arch"].clone()).unwrap();
    assert_eq!(c["dead_layer"], 4);
    let offset = |l: usize| -> usize { widths[..l].windows(2).map(|w| w[1] * (w[0] + 1)).sum() };
    let b4 = offset(4) + widths[4] * widths[3];
    c["theta0"][b4] = json!("100");
    for j in 0..widths[5] {
        c["theta0"][offset(5) + j * widths[4]] = json!("0");
    }
    rejects(c, Claim::DeadOnData);
}

/// Dead layer versus frozen count: layer 3 is dead on the data too, so claiming it
/// keeps the constant and the risks true, but the frozen count belongs to layer 4.
#[test]
fn dead_layer_against_frozen_count() {
    let mut c = load("v2/plain.json");
    c["dead_layer"] = json!(3);
    rejects(c.clone(), Claim::FrozenCoordinates);
    // with the count of layer 3 it is a valid certificate again
    c["frozen_coordinates"] = json!(2 * 2 + 2 * 3 + 2 * 3 + 2 * 2);
    assert!(resealed(c).is_ok());
    let mut c = load("v2/plain.json");
    c["frozen_coordinates"] = json!(25);
    rejects(c, Claim::FrozenCoordinates);
}

/// Constant versus risk: another constant with the risk that constant would have.
#[test]
fn constant_against_risk() {
    let mut c = load("v2/plain.json");
    let other: Vec<BigRational> = c["constant_value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| q(v) + BigRational::new(1.into(), 7.into()))
        .collect();
    c["risk_theta0"] = s(&risk_of_constant(&c, &other));
    c["constant_value"] = Value::Array(other.iter().map(s).collect());
    rejects(c, Claim::ConstantValue);
}

#[test]
fn risk_theta0_alone() {
    let mut c = load("v2/plain.json");
    c["risk_theta0"] = s(&(q(&c["risk_theta0"]) + BigRational::new(1.into(), 1000.into())));
    rejects(c, Claim::RiskTheta0);
}

#[test]
fn best_constant_risk_alone() {
    let mut c = load("v2/plain.json");
    c["best_constant_risk"] =
        s(&(q(&c["best_constant_risk"]) * BigRational::from_integer(2.into())));
    rejects(c, Claim::BestConstantRisk);
}

#[test]
fn witness_theta_length() {
    let mut c = load("v2/plain.json");
    c["witness"]["theta"]
        .as_array_mut()
        .unwrap()
        .push(json!("0"));
    rejects(c, Claim::WitnessTheta);
}

#[test]
fn witness_risk_alone() {
    let mut c = load("v2/plain.json");
    c["witness"]["risk"] = s(&(q(&c["witness"]["risk"]) - BigRational::new(1.into(), 1000.into())));
    rejects(c, Claim::WitnessRisk);
}

/// A witness whose stated risk is its true risk, but not below V: theta_0 itself.
#[test]
fn witness_not_below_v() {
    let mut c = load("v2/plain.json");
    c["witness"]["theta"] = c["theta0"].clone();
    c["witness"]["risk"] = c["risk_theta0"].clone();
    rejects(c, Claim::WitnessBelowV);
}

#[test]
fn domain_box_empty() {
    let mut c = load("v2/box_split.json");
    c["domain"]["box"] = json!(["1", "-1"]);
    rejects(c, Claim::DomainBox);
}

#[test]
fn domain_layer_other_than_dead_layer() {
    let mut c = load("v2/box_split.json");
    c["domain"]["layer"] = json!(3);
    rejects(c, Claim::DomainLayer);
}

/// Box versus data: a smaller box on which the same proof holds, but that leaves out
/// data points.
#[test]
fn domain_box_against_data() {
    let mut c = load("v2/box_split.json");
    c["domain"]["box"] = json!(["0", "1"]);
    rejects(c, Claim::DomainCoversData);
    let mut c = load("v2/box_phase.json");
    c["domain"]["box"] = json!(["-1", "1/2"]);
    rejects(c, Claim::DomainCoversData);
}

#[test]
fn domain_proof() {
    let mut c = load("v2/box_phase.json");
    c["domain"]["proof"]["tree"] = json!(["forced"]);
    rejects(c, Claim::DomainProof);
    let mut c = load("v2/box_phase.json");
    c["domain"]["proof"] = json!({"method": "input-splitting", "tree": ["ibp"]});
    rejects(c, Claim::DomainProof);
    let mut c = load("v2/box_split.json");
    c["domain"]["proof"]["tree"] = json!([{"split": [0, "0"]}, "ibp"]);
    rejects(c, Claim::DomainProof);
    // the phase proof does not cover a larger box: a neuron it does not branch on
    // (x1 - 1) changes sign there
    let mut c = load("v2/box_phase.json");
    c["domain"]["box"] = json!(["-1", "2"]);
    rejects(c, Claim::DomainProof);
}

/// Version 1 lists the pre-activations; a wrong one is caught even with the digest
/// resealed.
#[test]
fn v1_preactivations() {
    let mut c = load("v1/v1_plain.json");
    let z = &c["preactivations"][5][1][0];
    c["preactivations"][5][1][0] = s(&(q(z) + BigRational::new(1.into(), 3.into())));
    rejects(c, Claim::Preactivations);
    let mut c = load("v1/v1_plain.json");
    c["preactivations"].as_array_mut().unwrap().pop();
    rejects(c, Claim::Preactivations);
}

/// The digest: any edit without resealing, even of the informative records.
#[test]
fn digest() {
    for name in ALL {
        let mut c = load(name);
        c["records"]["generator"] = json!("someone else");
        match check_certificate(&c.to_string()) {
            Err(CheckError::ClaimFails {
                claim: Claim::Digest,
                ..
            }) => {}
            other => panic!("{name}: {other:?}"),
        }
        assert!(resealed(c).is_ok(), "{name}");
    }
}

#[test]
fn versions() {
    for v in [json!(0), json!(3), json!("2"), json!(null)] {
        let mut c = load("v2/plain.json");
        c["version"] = v.clone();
        match resealed(c) {
            Err(CheckError::Unreadable(why)) => {
                assert!(why.contains("reads versions [1, 2]"), "{why}")
            }
            other => panic!("{v}: {other:?}"),
        }
    }
    // version 2 has no pre-activation listing; version 1 needs it
    let mut c = load("v2/plain.json");
    c["version"] = json!(1);
    assert!(matches!(resealed(c), Err(CheckError::Unreadable(_))));
}
