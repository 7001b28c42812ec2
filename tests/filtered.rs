//! The filtered exact activity (f64 enclosure first, exact integer fallback) against the
//! pure-rational activity, decision for decision: random networks with exact ties, ties
//! moved by one ulp, huge and tiny magnitudes, and non-dyadic values (`1/3`, `0.1`).

mod common;

use common::q;
use deadrelu::activity::activity_on_data;
use deadrelu::activity::filtered::{Filter, best_constant, exact_risk, filtered_activity};
use deadrelu::data::Dataset;
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, rational_from_f64};
use proptest::prelude::*;

/// One value from a mix of the hard cases.
fn value() -> impl Strategy<Value = BigRational> {
    prop_oneof![
        (-4i64..=4).prop_map(|n| q(n, 1)),
        (-16i64..=16).prop_map(|n| q(n, 8)),
        (-1.0f32..1.0f32).prop_map(|v| rational_from_f64(v as f64).unwrap()),
        (-3i64..=3, 1i64..=7).prop_map(|(n, d)| q(n, d * 3)),
        (-9i64..=9).prop_map(|n| q(n, 10)),
        (-1.0f64..1.0, -300i32..300)
            .prop_map(|(m, e)| rational_from_f64(m * 2f64.powi(e)).unwrap()),
        (-1.0f64..1.0).prop_map(|m| rational_from_f64(m * 1e-310).unwrap()),
        Just(q(0, 1)),
    ]
}

fn net_and_data() -> impl Strategy<Value = (Vec<usize>, Vec<BigRational>, Vec<Vec<BigRational>>)> {
    (
        1usize..=3,
        prop::collection::vec(1usize..=4, 1..=3),
        1usize..=6,
    )
        .prop_flat_map(|(d, hidden, points)| {
            let mut widths = vec![d];
            widths.extend(&hidden);
            widths.push(1);
            let arch = Arch::new(widths.clone()).unwrap();
            (
                Just(widths),
                prop::collection::vec(value(), arch.num_params()),
                prop::collection::vec(prop::collection::vec(value(), d), points),
            )
        })
}

/// How a first-layer bias is moved onto (or next to) a tie at data point 0.
#[derive(Debug, Clone, Copy)]
enum Tie {
    None,
    Exact,
    UlpAbove,
    UlpBelow,
}

fn agree(widths: &[usize], params: Vec<BigRational>, xs: Vec<Vec<BigRational>>) {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let net = Network::new(arch, params).unwrap();
    let ys = xs.iter().map(|x| vec![x[0].clone()]).collect();
    let data = Dataset::from_rows(xs, ys).unwrap();
    let exact = activity_on_data(&net, &data).unwrap();
    let filtered = filtered_activity(&net, &data).unwrap();
    assert_eq!(filtered.activity.status, exact.status);
    assert_eq!(filtered.activity.exact_ties, exact.exact_ties);
    assert_eq!(filtered.activity.outputs_identical, exact.outputs_identical);
    let engine = Filter::new(&net).unwrap();
    for m in 0..data.len() {
        assert_eq!(engine.exact_output(data.x(m)), net.output(data.x(m)));
    }
    let outputs = engine.outputs(&data, &filtered.activity);
    assert_eq!(exact_risk(&outputs, &data), net.risk(&data, None).unwrap());
    assert_eq!(best_constant(&data), data.best_constant());
    if let Some(k) = filtered.activity.first_dead_layer() {
        assert_eq!(
            engine.risk_and_gradient_after_dead(&data, k),
            net.risk_and_gradient(&data, None).unwrap()
        );
        assert_eq!(engine.constant_after(k), net.output(data.x(0)));
    }
}

/// Sets the first-layer bias of neuron 0 so that its pre-activation at point 0 is 0, or
/// one ulp of the resulting `f64` away.
fn place_tie(widths: &[usize], params: &mut [BigRational], x0: &[BigRational], tie: Tie) {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let dot = (0..widths[0]).fold(q(0, 1), |acc, i| {
        acc + &params[arch.weight_index(1, 0, i)] * &x0[i]
    });
    let b = -dot;
    let shifted = |up: bool| {
        let f = num_traits::ToPrimitive::to_f64(&b).unwrap();
        let g = if up { f.next_up() } else { f.next_down() };
        rational_from_f64(g).unwrap()
    };
    params[arch.bias_index(1, 0)] = match tie {
        Tie::None => return,
        Tie::Exact => b,
        Tie::UlpAbove => shifted(true),
        Tie::UlpBelow => shifted(false),
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)))]

    #[test]
    fn filtered_agrees_with_rationals(
        (widths, mut params, xs) in net_and_data(),
        tie in prop_oneof![Just(Tie::None), Just(Tie::Exact), Just(Tie::UlpAbove), Just(Tie::UlpBelow)],
    ) {
        place_tie(&widths, &mut params, &xs[0], tie);
        agree(&widths, params, xs);
    }
}

#[test]
fn exact_tie_needs_the_fallback_and_is_counted() {
    // z = x/3 - 1/9 at x = 1/3 is exactly 0; f64 cannot see it
    let arch = Arch::new(vec![1, 1, 1]).unwrap();
    let params = vec![q(1, 3), q(-1, 9), q(1, 1), q(0, 1)];
    let net = Network::new(arch, params).unwrap();
    let data =
        Dataset::from_rows(vec![vec![q(1, 3)], vec![q(-1, 1)]], vec![vec![q(0, 1)]; 2]).unwrap();
    let f = filtered_activity(&net, &data).unwrap();
    assert_eq!(f.activity.exact_ties, 1);
    assert_eq!(f.activity.dead_layers(), vec![1]);
    assert_eq!(f.exact_fallbacks, 1);
    assert!(f.activity.outputs_identical);
}

#[test]
fn clear_signs_need_no_fallback() {
    // f32 weights and data, no pre-activation near 0: every decision in f64
    let arch = Arch::new(vec![2, 3, 1]).unwrap();
    let params: Vec<BigRational> = [
        0.5f32, -0.25, 1.5, 0.75, -2.0, 1.0, 0.1, -0.3, 0.2, 1.0, 1.0, -1.0, 0.0,
    ]
    .iter()
    .map(|v| rational_from_f64(*v as f64).unwrap())
    .collect();
    let net = Network::new(arch, params).unwrap();
    let xs = vec![vec![q(1, 1), q(1, 2)], vec![q(-1, 1), q(1, 4)]];
    let data = Dataset::from_rows(xs, vec![vec![q(0, 1)]; 2]).unwrap();
    let f = filtered_activity(&net, &data).unwrap();
    assert_eq!(f.exact_fallbacks, 0);
    assert_eq!(
        f.activity.status,
        activity_on_data(&net, &data).unwrap().status
    );
}

#[test]
fn overflow_is_left_to_the_exact_engine() {
    // 1e300 * 1e300 overflows f64; the exact engine decides the sign
    let arch = Arch::new(vec![1, 1, 1]).unwrap();
    let big = rational_from_f64(1e300).unwrap();
    let params = vec![big.clone(), -(&big * &big) + q(1, 1), q(1, 1), q(0, 1)];
    let net = Network::new(arch, params).unwrap();
    let data = Dataset::from_rows(vec![vec![big.clone()]], vec![vec![q(0, 1)]]).unwrap();
    let f = filtered_activity(&net, &data).unwrap();
    assert_eq!(f.exact_fallbacks, 1);
    assert_eq!(
        f.activity.status,
        activity_on_data(&net, &data).unwrap().status
    );
    assert_eq!(f.activity.dead_layers(), Vec::<usize>::new());
}

#[test]
fn cli_reports_exact_fallbacks_and_exact_values() {
    // the hand-computed net of core_exact: risk and V in closed form
    let dir = std::env::temp_dir().join(format!("deadrelu-filtered-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("w.json");
    // 1-1-1: z1 = x/3 - 1/9 (exactly 0 at x = 1/3), N = 2 relu(z1) + 1/2
    std::fs::write(
        &weights,
        r#"{"arch":[1,1,1],"params":["1/3","-1/9","2","1/2"]}"#,
    )
    .unwrap();
    let csv = dir.join("d.csv");
    std::fs::write(&csv, "x,y\n1/3,1\n-1,0\n").unwrap();
    let w = weights.to_str().unwrap();
    let d = format!("csv:{}", csv.to_str().unwrap());
    let v = common::json(&["inspect", "--weights", w, "--data", &d, "--json"]);
    assert_eq!(v["exact_fallbacks"], 1);
    assert_eq!(v["exact_ties"], 1);
    assert_eq!(v["dead_layers"], serde_json::json!([1]));
    // constant 1/2: ((1/2)^2 + (1/2)^2) / 2 = 1/4; V = 1/4
    assert_eq!(v["risk"], "1/4");
    assert_eq!(v["best_constant_risk"], "1/4");
    let f = common::json(&[
        "inspect",
        "--weights",
        w,
        "--data",
        &d,
        "--json",
        "--mode",
        "f64",
    ]);
    assert!(f.get("exact_fallbacks").is_none());
    let a = common::json(&[
        "audit",
        "--weights",
        w,
        "--data",
        &d,
        "--json",
        "--steps",
        "2",
        "--optimizers",
        "sgd",
    ]);
    assert_eq!(a["exact_fallbacks"], 1);
    assert_eq!(a["constant_value"], serde_json::json!(["1/2"]));
    std::fs::remove_dir_all(&dir).ok();
}
