//! Dead layers on an input box: every `alive` answer carries a witness that the
//! independent checker accepts, every `dead` answer a proof that it accepts and that
//! agrees with dense exact sampling, the first layer agrees with the closed form, the
//! complete method decides maximum-exactly-zero cases, and tampered proofs are rejected.

mod common;
use common::q;
use deadrelu::activity::domain::{
    BoxDecision, DeadProof, cube, decide_dead_on_box, first_layer_inactive_on_box,
};
use deadrelu::activity::phases::{PhaseDecision, decide_by_phases};
use deadrelu::audit::{check_alive_witness, check_box_proof};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::BigRational;
use num_traits::Signed;
use proptest::prelude::*;
use serde_json::json;

fn case() -> impl Strategy<Value = (Vec<usize>, Vec<i32>)> {
    // the range: d <= 3, up to 4 hidden layers of width <= 6
    (1usize..=3, prop::collection::vec(1usize..=6, 1..=4)).prop_flat_map(|(d, hidden)| {
        let mut widths = vec![d];
        widths.extend(hidden);
        widths.push(1);
        let n = Arch::new(widths.clone()).unwrap().num_params();
        (Just(widths), prop::collection::vec(-12i32..=12, n))
    })
}

/// The exact grid of `per_axis^d` points of `[-1,1]^d`.
fn grid(d: usize, per_axis: i64) -> Vec<Vec<BigRational>> {
    let axis: Vec<BigRational> = (0..per_axis)
        .map(|i| q(-1, 1) + q(2 * i, per_axis - 1))
        .collect();
    let mut points = vec![vec![]];
    for _ in 0..d {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.iter()
                    .map(move |v| [p.clone(), vec![v.clone()]].concat())
            })
            .collect();
    }
    points
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48)))]

    #[test]
    fn decisions_check((widths, p) in case()) {
        let arch = Arch::new(widths).unwrap();
        // small-denominator parameters, biased negative so that dead layers occur
        let params: Vec<BigRational> = p.iter().map(|&v| q(v as i64 - 3, 8)).collect();
        let net = Network::new(arch.clone(), params).unwrap();
        let (a, b) = (q(-1, 1), q(1, 1));
        let region = cube(&a, &b, arch.inputs());
        let samples = grid(arch.inputs(), [17, 17, 9][arch.inputs() - 1]);
        let widths = arch.widths().to_vec();
        for k in arch.hidden_layers() {
            match decide_dead_on_box(&net, k, &region, 4000) {
                BoxDecision::Alive { witness, neuron, value } => {
                    let z = check_alive_witness(&widths, net.params(), k, &region, &witness, neuron);
                    prop_assert_eq!(z, Ok(value));
                }
                BoxDecision::Dead { proof } => {
                    let checked = check_box_proof(&widths, net.params(), k, &region, &proof.to_json());
                    prop_assert_eq!(checked, Ok(proof.regions()));
                    for x in &samples {
                        let pass = net.forward(x);
                        prop_assert!(pass.pre[k - 1].iter().all(|z| !z.is_positive()), "layer {} active at {:?}", k, x);
                    }
                    if k == 1 {
                        prop_assert!((0..arch.width(1)).all(|j| first_layer_inactive_on_box(&net, j, &a, &b)));
                    }
                }
                BoxDecision::Unknown { reason } => {
                    prop_assert!(false, "undecided on a small network: {}", reason);
                }
            }
            if k == 1 {
                let closed = (0..arch.width(1)).all(|j| first_layer_inactive_on_box(&net, j, &a, &b));
                let decided = matches!(decide_dead_on_box(&net, 1, &region, 4000), BoxDecision::Dead { .. });
                prop_assert_eq!(closed, decided);
            }
        }
    }
}

/// A case where f64 rounding flips the answer: `z = x - (1 - 2^-60)` on `[0, 1]` is
/// positive near `x = 1` (the layer is alive, found exactly), while in f64 the bias rounds
/// to -1, `z(1) = 0`, and the neuron looks inactive on the whole box.
#[test]
fn exact_decision_where_f64_rounding_flips() {
    let arch = Arch::new(vec![1, 1, 1]).unwrap();
    let tiny = BigRational::new(1.into(), num_bigint::BigInt::from(1u64 << 60));
    let bias = -(q(1, 1) - tiny);
    assert_eq!((-(1.0f64 - 2f64.powi(-60))), -1.0, "f64 cannot tell");
    let net = Network::new(arch.clone(), vec![q(1, 1), bias, q(1, 1), q(0, 1)]).unwrap();
    match decide_dead_on_box(&net, 1, &cube(&q(0, 1), &q(1, 1), 1), 1000) {
        BoxDecision::Alive { witness, value, .. } => {
            assert!(value.is_positive());
            assert!(witness[0] <= q(1, 1));
        }
        other => panic!("{other:?}"),
    }
    let f = net.convert::<f64>().unwrap();
    let z_at_one = f.forward(&[1.0]).pre[0][0];
    assert!(
        z_at_one <= 0.0,
        "in f64 the neuron looks inactive at x = 1: {z_at_one}"
    );
}

/// `z2 = relu(x1 + x2) - relu(x1 + x2) - relu(x1 - 1)` on `[-1,1]^2`: its maximum is
/// exactly 0 (on the half-plane x1 + x2 <= 0 and everywhere by cancellation), which input
/// splitting with interval bounds cannot prove; the phase method proves it, the checker
/// accepts the proof, and every tampered version is rejected.
#[test]
fn maximum_exactly_zero_proven_and_tampering_rejected() {
    let arch = Arch::new(vec![2, 3, 1, 1]).unwrap();
    #[rustfmt::skip]
    let params: Vec<BigRational> = [
        1, 1, 1, 1, 1, 0, // W1 (3x2)
        0, 0, -1, // B1
        1, -1, -1, // W2
        0, // B2
        1, 0, // W3, B3
    ]
    .iter()
    .map(|&v| q(v, 1))
    .collect();
    let net = Network::new(arch.clone(), params).unwrap();
    let region = cube(&q(-1, 1), &q(1, 1), 2);
    let widths = arch.widths().to_vec();
    // the default pipeline proves it (by whichever method) and the proof checks
    match decide_dead_on_box(&net, 2, &region, 4000) {
        BoxDecision::Dead { proof } => assert_eq!(
            check_box_proof(&widths, net.params(), 2, &region, &proof.to_json()),
            Ok(proof.regions())
        ),
        other => panic!("{other:?}"),
    }
    let proof = match decide_by_phases(&net, 2, &region, 4000) {
        PhaseDecision::Dead(tree) => DeadProof::Phases(tree),
        other => panic!("{other:?}"),
    };
    let theta = net.params();
    let good = proof.to_json();
    assert_eq!(
        check_box_proof(&widths, theta, 2, &region, &good),
        Ok(proof.regions())
    );
    // tampered: a leaf claimed where a branch is needed, a node dropped, a node added,
    // a branch out of order, an unknown method, and IBP leaves claimed for this box
    let tree = good["tree"].as_array().unwrap().clone();
    let longer: Vec<serde_json::Value> = [tree.clone(), vec![json!("forced")]].concat();
    let mut bad = vec![
        json!({"method": "phase-branching", "tree": ["forced"]}),
        json!({"method": "phase-branching", "tree": tree[..tree.len() - 1].to_vec()}),
        json!({"method": "phase-branching", "tree": longer}),
        json!({"method": "phase-branching", "tree": [json!({"branch": [2, 0]}), json!("forced"), json!("forced")]}),
        json!({"method": "magic", "tree": tree.clone()}),
        json!({"method": "input-splitting", "tree": ["ibp"]}),
        json!({"method": "input-splitting", "tree": [{"split": [0, "0"]}, "ibp", "ibp"]}),
        json!({"method": "input-splitting", "tree": [{"split": [0, "3"]}, "ibp", "ibp"]}),
    ];
    // and the same proof for a network where the maximum is positive
    let mut params = theta.to_vec();
    params[12] = q(1, 100);
    let alive = Network::new(arch.clone(), params).unwrap();
    for t in bad.drain(..) {
        assert!(
            check_box_proof(&widths, theta, 2, &region, &t).is_err(),
            "accepted {t}"
        );
    }
    assert!(check_box_proof(&widths, alive.params(), 2, &region, &good).is_err());
    match decide_dead_on_box(&alive, 2, &region, 4000) {
        BoxDecision::Alive {
            witness,
            neuron,
            value,
        } => {
            assert_eq!(
                check_alive_witness(&widths, alive.params(), 2, &region, &witness, neuron),
                Ok(value)
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The done-criterion on 300 seeded random networks (d <= 3, up to 4 hidden
/// layers of width <= 6): both answers occur, each for more than a handful of layers, and
/// every one checks; the phase method alone reaches the same answers with proofs that
/// check.
#[test]
fn seeded_random_networks_all_decided_and_checked() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let (mut dead, mut alive, mut phases, mut by_lp) = (0, 0, 0, 0);
    for _ in 0..300 {
        let d = rng.gen_range(1..=3);
        let mut widths = vec![d];
        widths.extend((0..rng.gen_range(1..=4)).map(|_| rng.gen_range(1..=6)));
        widths.push(1);
        let arch = Arch::new(widths.clone()).unwrap();
        let params: Vec<BigRational> = (0..arch.num_params())
            .map(|_| q(rng.gen_range(-15..=9), 8))
            .collect();
        let net = Network::new(arch.clone(), params).unwrap();
        let region = cube(&q(-1, 1), &q(1, 1), d);
        for k in arch.hidden_layers() {
            // the complete phase method on its own agrees, and its proofs check too
            let by_phases = decide_by_phases(&net, k, &region, 4000);
            match &by_phases {
                PhaseDecision::Dead(tree) => {
                    let proof = DeadProof::Phases(tree.clone());
                    let checked =
                        check_box_proof(&widths, net.params(), k, &region, &proof.to_json());
                    assert_eq!(checked, Ok(tree.regions()), "{widths:?} layer {k}");
                    phases += 1;
                }
                PhaseDecision::Alive {
                    witness,
                    neuron,
                    value,
                } => {
                    let z =
                        check_alive_witness(&widths, net.params(), k, &region, witness, *neuron);
                    assert_eq!(z.as_ref(), Ok(value));
                }
                PhaseDecision::Unknown(why) => panic!("{widths:?} layer {k}: {why}"),
            }
            let decision = decide_dead_on_box(&net, k, &region, 4000);
            assert_eq!(
                matches!(decision, BoxDecision::Dead { .. }),
                matches!(by_phases, PhaseDecision::Dead(_)),
                "{widths:?} layer {k}"
            );
            match decision {
                BoxDecision::Alive {
                    witness,
                    neuron,
                    value,
                } => {
                    let z =
                        check_alive_witness(&widths, net.params(), k, &region, &witness, neuron);
                    assert_eq!(z, Ok(value));
                    alive += 1;
                }
                BoxDecision::Dead { proof } => {
                    let checked =
                        check_box_proof(&widths, net.params(), k, &region, &proof.to_json());
                    assert_eq!(checked, Ok(proof.regions()), "{widths:?} layer {k}");
                    dead += 1;
                    by_lp += usize::from(matches!(proof, DeadProof::Lp(_)));
                }
                BoxDecision::Unknown { reason } => panic!("{widths:?} layer {k}: {reason}"),
            }
        }
    }
    assert!(dead > 50 && alive > 50, "dead {dead}, alive {alive}");
    // branch and bound decides nearly all of them itself (the rest: maxima of exactly 0)
    assert!(
        by_lp * 10 >= dead * 9,
        "branch and bound proved {by_lp} of {dead}"
    );
    assert_eq!(
        phases, dead,
        "the phase method proves exactly the dead layers"
    );
}
