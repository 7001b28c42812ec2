//! Reachable boxes (optim::reach) against trajectories: for every optimizer, a state
//! reached by random gradients is snapped to exact values, its box is computed, and the
//! zero-gradient continuation (the crate's own optimizer steps, in exact or certified
//! enclosure arithmetic, and in f64 for many more steps) must never leave the box.

use deadrelu::optim::reach::{CheckpointState, Span, reachable_box};
use deadrelu::optim::{Hyper, Optimizer, OptimizerConfig, OptimizerKind, OptimizerState};
use deadrelu::scalar::{BigRational, DyadicInterval, Interval, Real, Scalar};
use num_traits::Signed;
use proptest::prelude::*;

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// Enclosure types with exact endpoints.
trait Ends: Real {
    fn ends(&self) -> (BigRational, BigRational);
}
impl Ends for DyadicInterval {
    fn ends(&self) -> (BigRational, BigRational) {
        (self.lo(), self.hi())
    }
}
impl Ends for Interval<BigRational> {
    fn ends(&self) -> (BigRational, BigRational) {
        (self.lo().clone(), self.hi().clone())
    }
}

/// Replaces every buffer of the state by the lower end of its enclosure (an exact point)
/// and returns the same values as a [`CheckpointState`]; the powers of the step counter
/// (functions of `t`, not state in PyTorch) stay as they are.
fn snap<S: Ends>(state: &mut OptimizerState<S>, dim: usize) -> CheckpointState {
    let mut out = CheckpointState::zero(dim);
    let mut put = |name: &str, v: &mut Vec<S>| {
        let exact: Vec<BigRational> = v.iter().map(|x| x.ends().0).collect();
        *v = exact.iter().map(S::from_rational).collect();
        out.buffers.insert(name.to_string(), exact);
    };
    let step;
    match state {
        OptimizerState::Sgd(s) => {
            step = s.step;
            if let Some(b) = s.momentum_buffer.as_mut() {
                put("momentum_buffer", b);
            }
        }
        OptimizerState::Adagrad(s) => {
            step = s.step;
            put("sum", &mut s.sum);
        }
        OptimizerState::Rmsprop(s) => {
            step = s.step;
            put("square_avg", &mut s.square_avg);
            if let Some(b) = s.grad_avg.as_mut() {
                put("grad_avg", b);
            }
            if let Some(b) = s.momentum_buffer.as_mut() {
                put("momentum_buffer", b);
            }
        }
        OptimizerState::Adam(s) => {
            step = s.step;
            put("exp_avg", &mut s.exp_avg);
            put("exp_avg_sq", &mut s.exp_avg_sq);
            if let Some(b) = s.max_exp_avg_sq.as_mut() {
                put("max_exp_avg_sq", b);
            }
        }
        OptimizerState::Adamax(s) => {
            step = s.step;
            put("exp_avg", &mut s.exp_avg);
            put("exp_inf", &mut s.exp_inf);
        }
        OptimizerState::Nadam(s) => {
            step = s.step;
            put("exp_avg", &mut s.exp_avg);
            put("exp_avg_sq", &mut s.exp_avg_sq);
            let p = s.mu_product.ends().0;
            s.mu_product = S::from_rational(&p);
            out.mu_product = vec![p; dim];
        }
        OptimizerState::Adadelta(s) => {
            step = s.step;
            put("square_avg", &mut s.square_avg);
            put("acc_delta", &mut s.acc_delta);
        }
    }
    out.step = vec![step; dim];
    out
}

/// The two ends of an enclosure.
type Ends2 = (BigRational, BigRational);

/// Warm-up with the given gradients, snap, box, then `steps` zero-gradient steps that
/// must stay in the box. Returns the boxes and the last position (for tightness checks).
fn run<S: Ends>(
    resolved: &OptimizerConfig<BigRational>,
    theta: &[BigRational],
    grads: &[Vec<i64>],
    steps: usize,
) -> Option<(Vec<Span>, Vec<Ends2>)> {
    let dim = theta.len();
    let opt: OptimizerConfig<S> = resolved.map(S::from_rational).unwrap();
    let mut state = opt.init(dim);
    let mut x: Vec<S> = theta.iter().map(S::from_rational).collect();
    for g in grads {
        let g: Vec<S> = g.iter().map(|&v| S::from_ratio(v, 8)).collect();
        x = opt.step(&x, &g, &mut state);
    }
    let exact_x: Vec<BigRational> = x.iter().map(|v| v.ends().0).collect();
    let mut x: Vec<S> = exact_x.iter().map(S::from_rational).collect();
    let cp = snap(&mut state, dim);
    let boxes = reachable_box(resolved, &exact_x, &cp, 0..dim).ok()?;
    let zero = vec![S::zero(); dim];
    for n in 0..=steps {
        for (i, (v, b)) in x.iter().zip(&boxes).enumerate() {
            let (lo, hi) = v.ends();
            // the true position lies in [lo, hi]; a violation is proven when the
            // enclosure misses the box (a rounding overlap at an end is not one)
            assert!(
                hi >= b.lo && lo <= b.hi,
                "{resolved:?}: step {n}, coordinate {i}: [{lo}, {hi}] leaves [{}, {}] (state {cp:?})",
                b.lo,
                b.hi
            );
        }
        if n < steps {
            x = opt.step(&x, &zero, &mut state);
        }
    }
    Some((boxes, x.iter().map(Ends::ends).collect()))
}

/// The same in f64 for many steps from the same snapped state: positions may leave the
/// box by rounding only (relative 1e-9 of the box size plus 1e-300).
fn run_f64(
    resolved: &OptimizerConfig<BigRational>,
    theta: &[BigRational],
    grads: &[Vec<i64>],
    steps: usize,
) {
    // warm up exactly (enclosures), then snap and continue in f64
    let dim = theta.len();
    let opt_i: OptimizerConfig<DyadicInterval> =
        resolved.map(DyadicInterval::from_rational).unwrap();
    let mut state = opt_i.init(dim);
    let mut x: Vec<DyadicInterval> = theta.iter().map(DyadicInterval::from_rational).collect();
    for g in grads {
        let g: Vec<DyadicInterval> = g
            .iter()
            .map(|&v| DyadicInterval::from_ratio(v, 8))
            .collect();
        x = opt_i.step(&x, &g, &mut state);
    }
    let exact_x: Vec<BigRational> = x.iter().map(|v| v.ends().0).collect();
    let cp = snap(&mut state, dim);
    let Ok(boxes) = reachable_box(resolved, &exact_x, &cp, 0..dim) else {
        return;
    };
    // the f64 state: re-run the warm-up in f64 is not the same state; build it from cp
    let opt: OptimizerConfig<f64> = resolved.map(f64::from_rational).unwrap();
    let mut st = opt.init(dim);
    let f = |name: &str| -> Vec<f64> { (0..dim).map(|i| cp.get(name, i).to_f64()).collect() };
    let t = cp.step[0];
    let tf = t as f64;
    match (&opt, &mut st) {
        (OptimizerConfig::Sgd(_), OptimizerState::Sgd(s)) => {
            s.step = t;
            if cp.buffers.contains_key("momentum_buffer") {
                s.momentum_buffer = Some(f("momentum_buffer"));
            }
        }
        (OptimizerConfig::Adagrad(_), OptimizerState::Adagrad(s)) => {
            s.step = t;
            s.sum = f("sum");
        }
        (OptimizerConfig::Rmsprop(_), OptimizerState::Rmsprop(s)) => {
            s.step = t;
            s.square_avg = f("square_avg");
            if s.grad_avg.is_some() {
                s.grad_avg = Some(f("grad_avg"));
            }
            if s.momentum_buffer.is_some() {
                s.momentum_buffer = Some(f("momentum_buffer"));
            }
        }
        (OptimizerConfig::Adam(c), OptimizerState::Adam(s)) => {
            s.step = t;
            s.beta1_power = c.betas().0.powf(tf);
            s.beta2_power = c.betas().1.powf(tf);
            s.exp_avg = f("exp_avg");
            s.exp_avg_sq = f("exp_avg_sq");
            if s.max_exp_avg_sq.is_some() {
                s.max_exp_avg_sq = Some(f("max_exp_avg_sq"));
            }
        }
        (OptimizerConfig::Adamax(c), OptimizerState::Adamax(s)) => {
            s.step = t;
            s.beta1_power = c.betas().0.powf(tf);
            s.exp_avg = f("exp_avg");
            s.exp_inf = f("exp_inf");
        }
        (OptimizerConfig::Nadam(c), OptimizerState::Nadam(s)) => {
            let psi = c.momentum_decay();
            let psi = f64::from(*psi.numer()) / f64::from(*psi.denom());
            s.step = t;
            s.beta2_power = c.betas().1.powf(tf);
            s.mu_product = cp.mu_product[0].to_f64();
            s.decay_power = 0.96f64.powf((tf + 1.0) * psi);
            s.exp_avg = f("exp_avg");
            s.exp_avg_sq = f("exp_avg_sq");
        }
        (OptimizerConfig::Adadelta(_), OptimizerState::Adadelta(s)) => {
            s.step = t;
            s.square_avg = f("square_avg");
            s.acc_delta = f("acc_delta");
        }
        _ => unreachable!(),
    }
    let mut x: Vec<f64> = exact_x.iter().map(Scalar::to_f64).collect();
    let zero = vec![0.0; dim];
    for n in 0..steps {
        x = opt.step(&x, &zero, &mut st);
        if x.iter().any(|v| v.is_nan()) {
            // centred RMSprop in f64: square_avg - grad_avg^2 (>= 0 exactly, by
            // Cauchy-Schwarz) can round below 0, and its sqrt is NaN, as in torch. The box
            // is a statement about exact arithmetic; the f64 run ends there.
            assert!(
                matches!(&st, OptimizerState::Rmsprop(s) if s.grad_avg.is_some()),
                "f64 {resolved:?}: step {n}: NaN outside centred RMSprop"
            );
            break;
        }
        for (i, (v, b)) in x.iter().zip(&boxes).enumerate() {
            let (lo, hi) = (b.lo.to_f64(), b.hi.to_f64());
            let slack = 1e-9 * (hi - lo).abs().max(lo.abs()).max(hi.abs()) + 1e-300;
            assert!(
                lo - slack <= *v && *v <= hi + slack,
                "f64 {resolved:?}: step {n}, coordinate {i}: {v} leaves [{lo}, {hi}]"
            );
        }
    }
}

/// Hyperparameters drawn from small exact grids (including the extremes that matter:
/// beta1 close to sqrt(beta2), momentum 0, large learning rates, weight decay).
fn hyper_strategy() -> impl Strategy<Value = Hyper> {
    (
        prop::sample::select(vec![q(1, 1000), q(1, 100), q(1, 10), q(1, 2), q(1, 1)]),
        prop::sample::select(vec![q(0, 1), q(1, 2), q(9, 10), q(99, 100)]),
        prop::sample::select(vec![q(0, 1), q(1, 2), q(9, 10), q(95, 100)]),
        prop::sample::select(vec![q(1, 2), q(9, 10), q(99, 100), q(999, 1000)]),
        prop::sample::select(vec![q(1, 100_000_000), q(1, 1000), q(1, 10)]),
        prop::sample::select(vec![q(0, 1), q(0, 1), q(1, 100), q(1, 2), q(3, 1)]),
        any::<bool>(),
    )
        .prop_map(|(lr, momentum, beta1, beta2, eps, wd, centered)| Hyper {
            lr: Some(lr),
            momentum: Some(momentum.clone()),
            beta1: Some(beta1),
            beta2: Some(beta2.clone()),
            eps: Some(eps),
            alpha: Some(beta2),
            centered,
            rho: Some(q(9, 10)),
            weight_decay: Some(wd),
            ..Hyper::default()
        })
}

fn kinds() -> impl Strategy<Value = OptimizerKind> {
    prop::sample::select(OptimizerKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    /// Every optimizer, random hyperparameters, a state from 0..12 random-gradient steps:
    /// 150 exact/enclosure zero-gradient steps and 4000 f64 steps stay in the box.
    #[test]
    fn trajectories_stay_in_the_box(
        kind in kinds(),
        hyper in hyper_strategy(),
        theta in prop::collection::vec(-40i64..40, 3),
        grads in prop::collection::vec(prop::collection::vec(-20i64..20, 3), 0..12),
    ) {
        let mut hyper = hyper;
        if kind == OptimizerKind::Nesterov && hyper.momentum.as_ref().is_some_and(|m| *m == q(0, 1)) {
            hyper.momentum = Some(q(1, 2));
        }
        let Ok(resolved) = hyper.resolve(kind) else { return Ok(()) };
        let theta: Vec<BigRational> = theta.iter().map(|&v| q(v, 16)).collect();
        match kind {
            OptimizerKind::Sgd | OptimizerKind::Momentum | OptimizerKind::Nesterov => {
                run::<Interval<BigRational>>(&resolved.config, &theta, &grads, 150);
            }
            _ => {
                run::<DyadicInterval>(&resolved.config, &theta, &grads, 150);
            }
        }
        run_f64(&resolved.config, &theta, &grads, 4000);
    }
}

/// Momentum SGD's box is the exact hull of p and its limit: the trajectory gets within
/// any distance of the far end (the bound is tight), and Nesterov's limit is mu^2 / (1 - mu).
#[test]
fn momentum_box_is_tight() {
    for (kind, factor) in [
        (OptimizerKind::Momentum, q(9, 1)),
        (OptimizerKind::Nesterov, q(81, 10)),
    ] {
        let hyper = Hyper {
            lr: Some(q(1, 10)),
            ..Hyper::default()
        };
        let resolved = hyper.resolve(kind).unwrap();
        let theta = vec![q(1, 1)];
        // one step with gradient 1/8 * 2 = 1/4 (the buffer becomes 1/4, theta moves)
        let (boxes, last) =
            run::<Interval<BigRational>>(&resolved.config, &theta, &[vec![2]], 400).unwrap();
        let b = &boxes[0];
        // buffer 1/4: the far end is p_1 - lr * (1/4) * factor
        let p1 = &b.hi;
        assert_eq!(&b.lo, &(p1 - q(1, 10) * q(1, 4) * &factor));
        assert!(&last[0].0 - &b.lo < q(1, 1_000_000_000));
    }
}

/// Adam from a large step count: the box is not vacuous (within 10x of the distance the
/// trajectory actually travels) and contains a 3000-step trajectory.
#[test]
fn adam_box_is_reasonably_tight() {
    let resolved = Hyper {
        lr: Some(q(1, 100)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adam)
    .unwrap();
    let grads: Vec<Vec<i64>> = (0..40)
        .map(|i| vec![if i % 3 == 0 { -3 } else { 5 }])
        .collect();
    let (boxes, last) = run::<DyadicInterval>(&resolved.config, &[q(1, 2)], &grads, 3000).unwrap();
    let b = &boxes[0];
    let travelled = &b.hi - &last[0].1;
    assert!(travelled > q(0, 1));
    assert!(
        b.width() < &travelled * q(10, 1),
        "box {b:?} vs travelled {travelled}"
    );
}

/// Weight decay: SGD contracts to the hull of p and 0; a divergent lr * wd > 2 and Adam
/// with weight decay are not certified, with the reason.
#[test]
fn weight_decay_cases() {
    let sgd = |lr: i64, wd: i64| {
        Hyper {
            lr: Some(q(lr, 10)),
            weight_decay: Some(q(wd, 1)),
            ..Hyper::default()
        }
        .resolve(OptimizerKind::Sgd)
        .unwrap()
        .config
    };
    let st = CheckpointState::zero(1);
    let b = reachable_box(&sgd(1, 1), &[q(-3, 1)], &st, 0..1).unwrap();
    assert_eq!(b[0], Span::hull(&q(-3, 1), &q(0, 1)));
    let b = reachable_box(&sgd(15, 1), &[q(-3, 1)], &st, 0..1).unwrap();
    assert_eq!(b[0], Span::symmetric(&q(3, 1)));
    let e = reachable_box(&sgd(25, 1), &[q(-3, 1)], &st, 0..1).unwrap_err();
    assert!(e.to_string().contains("diverges"), "{e}");
    // Adam with weight decay is bounded (an overshoot interval around 0), unless
    // beta1 >= sqrt(beta2)
    let adam = |beta1: BigRational, beta2: BigRational| {
        Hyper {
            weight_decay: Some(q(1, 100)),
            beta1: Some(beta1),
            beta2: Some(beta2),
            ..Hyper::default()
        }
        .resolve(OptimizerKind::Adam)
        .unwrap()
        .config
    };
    let b = reachable_box(&adam(q(9, 10), q(999, 1000)), &[q(1, 1)], &st, 0..1).unwrap();
    assert!(b[0].lo < q(0, 1) && b[0].hi >= q(1, 1), "{b:?}");
    let e = reachable_box(&adam(q(9, 10), q(8, 10)), &[q(1, 1)], &st, 0..1).unwrap_err();
    assert!(e.to_string().contains("beta1 < sqrt(beta2)"), "{e}");
    // a nonzero first moment with a zero second moment has no ratio bound
    let odd = CheckpointState::zero(1).with("exp_avg", vec![q(1, 2)]);
    let e = reachable_box(&adam(q(9, 10), q(999, 1000)), &[q(1, 1)], &odd, 0..1).unwrap_err();
    assert!(e.to_string().contains("exp_avg_sq = 0"), "{e}");
    // centered RMSprop with momentum and weight decay: not certified
    let rms = Hyper {
        weight_decay: Some(q(1, 100)),
        momentum: Some(q(9, 10)),
        centered: true,
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Rmsprop)
    .unwrap();
    let e = reachable_box(&rms.config, &[q(1, 1)], &st, 0..1).unwrap_err();
    assert!(e.to_string().contains("centered"), "{e}");
    // Adadelta: wd^2 p^2 >= eps has no bound
    let ada = Hyper {
        weight_decay: Some(q(1, 10)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adadelta)
    .unwrap();
    let e = reachable_box(&ada.config, &[q(1, 1)], &st, 0..1).unwrap_err();
    assert!(e.to_string().contains("eps"), "{e}");
}

/// The adaptive optimizers with weight decay: certified for PyTorch-like
/// hyperparameters, and exact trajectories (warm-ups with random-sign gradients, then
/// 400 zero-gradient steps in certified enclosures and 20000 in f64) never leave the
/// box; the Adam family's boxes straddle 0 (the overshoot part of the bound), and the overshoot bound is not vacuous (below 1000 lr after 6 steps).
#[test]
fn adaptive_optimizers_with_weight_decay_are_bounded() {
    let cases: Vec<(OptimizerKind, Hyper)> = vec![
        (OptimizerKind::Adam, Hyper::default()),
        (OptimizerKind::Amsgrad, Hyper::default()),
        (OptimizerKind::Nadam, Hyper::default()),
        (OptimizerKind::Adamax, Hyper::default()),
        (
            OptimizerKind::Rmsprop,
            Hyper {
                momentum: Some(q(9, 10)),
                ..Hyper::default()
            },
        ),
        (
            OptimizerKind::Rmsprop,
            Hyper {
                centered: true,
                eps: Some(q(1, 10)),
                ..Hyper::default()
            },
        ),
        (
            OptimizerKind::Adadelta,
            Hyper {
                eps: Some(q(1, 100)),
                ..Hyper::default()
            },
        ),
    ];
    for (kind, hyper) in cases {
        for (lr, wd) in [(q(1, 100), q(1, 10)), (q(1, 20), q(1, 100))] {
            let resolved = Hyper {
                lr: Some(lr.clone()),
                weight_decay: Some(wd.clone()),
                ..hyper.clone()
            }
            .resolve(kind)
            .unwrap();
            for grads in [vec![], vec![vec![5, -3, 1, 0]], vec![vec![-7, 2, 4, 1]; 6]] {
                let theta = vec![q(1, 8), q(-1, 16), q(1, 32), q(0, 1)];
                let (boxes, _) = run::<DyadicInterval>(&resolved.config, &theta, &grads, 400)
                    .unwrap_or_else(|| panic!("{kind:?} {hyper:?} lr {lr} wd {wd}: not certified"));
                run_f64(&resolved.config, &theta, &grads, 20_000);
                if matches!(
                    kind,
                    OptimizerKind::Adam
                        | OptimizerKind::Amsgrad
                        | OptimizerKind::Nadam
                        | OptimizerKind::Adamax
                ) {
                    for b in &boxes[..3] {
                        assert!(b.lo.is_negative() && b.hi.is_positive(), "{kind:?}: {b:?}");
                        // the bias correction 1 / (1 - b1^(t+1)) is 10 at t = 0
                        if grads.len() == 6 {
                            assert!(b.width() < &lr * q(2000, 1), "{kind:?}: {b:?}");
                        }
                    }
                }
            }
        }
    }
}

/// An Adam trajectory with weight decay from a coordinate far from 0 crosses 0 and
/// comes back above it (the coordinate oscillates around 0): the box must contain both
/// sides, and the positive excursion is inside `[0, O]`.
#[test]
fn adam_weight_decay_overshoot_is_observed_and_enclosed() {
    let resolved = Hyper {
        lr: Some(q(1, 10)),
        weight_decay: Some(q(1, 10)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adam)
    .unwrap();
    let opt: OptimizerConfig<f64> = resolved.config.map(f64::from_rational).unwrap();
    let mut st = opt.init(1);
    let boxes = reachable_box(
        &resolved.config,
        &[q(1, 1)],
        &CheckpointState::zero(1),
        0..1,
    )
    .unwrap();
    let (lo, hi) = (boxes[0].lo.to_f64(), boxes[0].hi.to_f64());
    let mut x = vec![1.0];
    let (mut min, mut max_after_cross, mut crossed) = (1.0f64, f64::NEG_INFINITY, false);
    for _ in 0..5000 {
        x = opt.step(&x, &[0.0], &mut st);
        min = min.min(x[0]);
        crossed |= x[0] < 0.0;
        if crossed {
            max_after_cross = max_after_cross.max(x[0]);
        }
        assert!(lo <= x[0] && x[0] <= hi, "{} leaves [{lo}, {hi}]", x[0]);
    }
    assert!(
        min < 0.0 && max_after_cross > 0.0,
        "min {min}, max {max_after_cross}"
    );
}

/// Momentum SGD and Nesterov with weight decay: real roots (small lr * wd) and complex
/// roots (large), with and without a buffer, are certified and contain 200 exact steps
/// and 20000 f64 steps.
#[test]
fn momentum_with_weight_decay_is_bounded() {
    for kind in [OptimizerKind::Momentum, OptimizerKind::Nesterov] {
        for (lr, wd) in [
            (q(1, 100), q(1, 100)),
            (q(1, 2), q(1, 1)),
            (q(1, 10), q(3, 1)),
        ] {
            let resolved = Hyper {
                lr: Some(lr.clone()),
                weight_decay: Some(wd.clone()),
                ..Hyper::default()
            }
            .resolve(kind)
            .unwrap();
            for grads in [vec![], vec![vec![5, -3, 0]]] {
                let theta = vec![q(3, 4), q(-1, 2), q(0, 1)];
                let (boxes, _) =
                    run::<Interval<BigRational>>(&resolved.config, &theta, &grads, 200)
                        .unwrap_or_else(|| panic!("{kind:?} lr {lr} wd {wd}: not certified"));
                run_f64(&resolved.config, &theta, &grads, 20_000);
                // the coordinate at 0 with no gradient history stays at 0
                if grads.is_empty() {
                    assert_eq!(boxes[2], Span::point(&q(0, 1)));
                }
            }
        }
    }
}
