//! The `f64`-filtered box decision (input splitting with `f64` enclosures of the exact
//! interval bounds, exact arithmetic where they do not settle a sign) gives the decision
//! of the pure rational path, proof and witness included: random networks with small
//! dyadic and non-dyadic (`k/3`, `k/10`) parameters, exact ties (biases that make a
//! maximum exactly 0), values one ulp apart, and huge and tiny magnitudes.

mod common;
use common::q;
use deadrelu::activity::domain::{cube, decide_dead_on_box_by_splitting};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::BigRational;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = BigRational> {
    prop_oneof![
        4 => (-12i64..=12).prop_map(|v| q(v - 3, 8)),
        2 => (-9i64..=9).prop_map(|v| q(v, 3)),
        1 => (-9i64..=9).prop_map(|v| q(v, 10)),
        // one ulp from a dyadic value
        1 => (-9i64..=9, any::<bool>()).prop_map(|(v, up)| {
            let x = v as f64 / 8.0 + 0.5;
            BigRational::from_float(if up { x.next_up() } else { x.next_down() }).unwrap()
        }),
        // huge and tiny
        1 => (-9i64..=9, prop_oneof![Just(60i32), Just(-60), Just(200), Just(-200)])
            .prop_map(|(v, e)| BigRational::from_float(v as f64 * 2f64.powi(e)).unwrap()),
    ]
}

fn case() -> impl Strategy<Value = (Vec<usize>, Vec<BigRational>, usize)> {
    (1usize..=2, prop::collection::vec(1usize..=4, 1..=3)).prop_flat_map(|(d, hidden)| {
        let mut widths = vec![d];
        widths.extend(hidden);
        widths.push(1);
        let n = Arch::new(widths.clone()).unwrap().num_params();
        let k = widths.len() - 2;
        (Just(widths), prop::collection::vec(value(), n), 1usize..=k)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96)))]

    #[test]
    fn filtered_box_decisions_equal_rational((widths, params, k) in case(), tie in any::<bool>()) {
        let arch = Arch::new(widths).unwrap();
        let mut net = Network::new(arch.clone(), params).unwrap();
        if tie {
            // make neuron 0 of layer k have maximum exactly 0 at the box corner (1, .., 1)
            // when layer k is 1 (a linear neuron): b = -sum_i max(w_i, -w_i)... keep it
            // simple: b = -sum of the weights' absolute values (z <= 0, equality at a corner)
            if k == 1 {
                let mut p = net.params().to_vec();
                let s: BigRational = (0..arch.inputs())
                    .map(|i| num_traits::Signed::abs(&p[arch.weight_index(1, 0, i)]))
                    .sum();
                p[arch.bias_index(1, 0)] = -s;
                net = Network::new(arch.clone(), p).unwrap();
            }
        }
        let region = cube(&q(-1, 1), &q(1, 1), arch.inputs());
        let (filtered, _) = decide_dead_on_box_by_splitting(&net, k, &region, 300, true);
        let (exact, _) = decide_dead_on_box_by_splitting(&net, k, &region, 300, false);
        prop_assert_eq!(filtered, exact);
    }
}

/// A network whose bounds the filter settles everywhere needs no exact fallback; one
/// whose interval bound is exactly 0 needs it.
#[test]
fn fallbacks_are_counted() {
    let arch = Arch::new(vec![1, 2, 1]).unwrap();
    let net = Network::new(
        arch.clone(),
        vec![
            q(1, 2),
            q(-1, 3),
            q(-1, 1),
            q(-1, 1),
            q(1, 1),
            q(1, 1),
            q(0, 1),
        ],
    )
    .unwrap();
    let region = cube(&q(-1, 1), &q(1, 1), 1);
    let (d, fallbacks) = decide_dead_on_box_by_splitting(&net, 1, &region, 100, true);
    assert!(matches!(
        d,
        deadrelu::activity::domain::BoxDecision::Dead { .. }
    ));
    assert_eq!(fallbacks, 0);
    // z = x/2 - 1/2: the interval bound's upper end is exactly 0
    let tie = Network::new(
        arch,
        vec![
            q(1, 2),
            q(-1, 3),
            q(-1, 2),
            q(-1, 1),
            q(1, 1),
            q(1, 1),
            q(0, 1),
        ],
    )
    .unwrap();
    let (d, fallbacks) = decide_dead_on_box_by_splitting(&tie, 1, &region, 100, true);
    assert!(matches!(
        d,
        deadrelu::activity::domain::BoxDecision::Dead { .. }
    ));
    assert!(fallbacks >= 1);
}
