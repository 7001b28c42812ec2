//! Dead layers on an input box: every `alive` answer carries a witness that checks, every
//! `dead` answer agrees with dense exact sampling, and the first layer agrees with the
//! closed form.

mod common;
use common::q;
use deadrelu::activity::domain::{
    BoxDecision, cube, decide_dead_on_box, first_layer_inactive_on_box,
};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::BigRational;
use num_traits::Signed;
use proptest::prelude::*;

fn case() -> impl Strategy<Value = (Vec<usize>, Vec<i32>)> {
    (1usize..=2, prop::collection::vec(1usize..=4, 1..=3)).prop_flat_map(|(d, hidden)| {
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
        let samples = grid(arch.inputs(), 17);
        for k in arch.hidden_layers() {
            match decide_dead_on_box(&net, k, &region, 4000) {
                BoxDecision::Alive { witness, neuron, value } => {
                    prop_assert!(witness.iter().all(|x| x >= &a && x <= &b));
                    let pass = net.forward(&witness);
                    prop_assert_eq!(&pass.pre[k - 1][neuron], &value);
                    prop_assert!(value.is_positive());
                }
                BoxDecision::Dead { leaves } => {
                    prop_assert!(!leaves.is_empty());
                    for x in &samples {
                        let pass = net.forward(x);
                        prop_assert!(pass.pre[k - 1].iter().all(|z| !z.is_positive()), "layer {} active at {:?}", k, x);
                    }
                    if k == 1 {
                        prop_assert!((0..arch.width(1)).all(|j| first_layer_inactive_on_box(&net, j, &a, &b)));
                    }
                }
                BoxDecision::Unknown { .. } => {}
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
    let f = net.convert::<f64>();
    let z_at_one = f.forward(&[1.0]).pre[0][0];
    assert!(
        z_at_one <= 0.0,
        "in f64 the neuron looks inactive at x = 1: {z_at_one}"
    );
}
