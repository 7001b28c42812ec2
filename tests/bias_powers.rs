//! The bias-correction powers carried in the optimizer state: `beta^t` of Adam, AMSGrad,
//! Adamax and NAdam, and NAdam's `0.96^(t psi)`.
//!
//! torch.optim computes them afresh at every step from the float step counter
//! (`bias_correction1 = 1 - beta1 ** step` in `_single_tensor_adam`,
//! `0.96 ** (step * momentum_decay)` in `_single_tensor_nadam`): in `f64` the state must
//! hold exactly those values (libm `pow`), and in exact mode the exact powers (or, for
//! NAdam's real power, an enclosure), advanced by one product per step.

mod common;
use common::q;
use deadrelu::optim::{AdamConfig, AdamaxConfig, NadamConfig, Optimizer};
use deadrelu::scalar::{BigRational, DyadicInterval, Interval, Real, Scalar};
use num_traits::{One, Pow, ToPrimitive, Zero};

/// `pow` is within this many units in the last place of the exact power of the same
/// double (glibc documents 0.52 ULP).
const POW_ULPS: f64 = 1.0;

/// Relative distance allowed between torch's `f64` value of `0.96^(t psi)` (base and
/// exponent rounded to doubles first) and the real power, at t = 10_000.
const F64_REAL_POWER: f64 = 1e-14;

/// The relative width allowed for a `DyadicInterval` enclosure of `beta^t` or
/// `0.96^(t psi)` after 10_000 steps (128-bit endpoints, one rounding per step).
const DYADIC_POWER_WIDTH: f64 = 1e-30;

/// Runs `steps` steps with a zero gradient on one coordinate (the powers advance, nothing
/// else is computed), calling `check(t, &state)` after each.
fn run<S: Real, O: Optimizer<S>>(opt: &O, steps: u64, mut check: impl FnMut(u64, &O::State)) {
    let mut state = opt.init(1);
    let mut theta = vec![S::one()];
    for t in 1..=steps {
        theta = opt.step(&theta, &[S::zero()], &mut state);
        check(t, &state);
    }
    assert!(theta[0].identical(&S::one()), "a zero gradient moved theta");
}

fn ulp(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1) - x
}

/// In `f64` the carried powers are torch's, bit for bit, at every step up to
/// t = 10_000 (the `t`-fold product differs from `pow` at most of these steps), and
/// within [`POW_ULPS`] of the exact power of the double `beta` at t = 10_000.
#[test]
fn f64_powers_are_torchs_at_every_step() {
    let adam = AdamConfig::<f64>::new();
    let (mut product1, mut product2, mut differs) = (1.0f64, 1.0f64, 0u32);
    run(&adam, 10_000, |t, s| {
        assert_eq!(s.step, t);
        assert_eq!(
            s.beta1_power.to_bits(),
            0.9f64.powf(t as f64).to_bits(),
            "t={t}"
        );
        assert_eq!(
            s.beta2_power.to_bits(),
            0.999f64.powf(t as f64).to_bits(),
            "t={t}"
        );
        (product1, product2) = (product1 * 0.9, product2 * 0.999);
        differs += u32::from(product1 != s.beta1_power || product2 != s.beta2_power);
    });
    assert!(
        differs > 1000,
        "the t-fold product should differ from pow: {differs}"
    );
    let adamax = AdamaxConfig::<f64>::new();
    run(&adamax, 10_000, |t, s| {
        assert_eq!(s.beta1_power.to_bits(), 0.9f64.powf(t as f64).to_bits());
    });
    let nadam = NadamConfig::<f64>::new();
    let mut product = 1.0f64;
    run(&nadam, 10_000, |t, s| {
        assert_eq!(s.beta2_power.to_bits(), 0.999f64.powf(t as f64).to_bits());
        // torch: 0.96 ** ((step + 1) * momentum_decay), momentum_decay = 4e-3
        let next = 0.96f64.powf((t + 1) as f64 * 4e-3);
        assert_eq!(s.decay_power.to_bits(), next.to_bits(), "t={t}");
        let mu = 0.9 * (1.0 - 0.5 * 0.96f64.powf(t as f64 * 4e-3));
        product *= mu;
        assert_eq!(s.mu_product.to_bits(), product.to_bits(), "t={t}");
    });
    // the closed form: the exact 10_000-th power of the double 0.999
    let mut state = adam.init(1);
    let mut theta = vec![1.0];
    for _ in 0..10_000 {
        theta = adam.step(&theta, &[0.0], &mut state);
    }
    for (beta, power) in [(0.9f64, state.beta1_power), (0.999, state.beta2_power)] {
        let exact: BigRational = BigRational::from_float(beta).unwrap().pow(10_000u32);
        let exact = ToPrimitive::to_f64(&exact).unwrap();
        assert!(
            (power - exact).abs() <= POW_ULPS * ulp(exact),
            "{beta}^10000: {power:e} vs {exact:e}"
        );
    }
}

/// In rationals the carried powers are exactly `beta^t` at every step.
#[test]
fn exact_powers_are_exact() {
    type I = Interval<BigRational>;
    let adam = AdamConfig::<I>::new().with_amsgrad(true);
    run(&adam, 300, |t, s| {
        let t = t as u32;
        assert_eq!(s.beta1_power.to_rational(), Some(q(9, 10).pow(t)));
        assert_eq!(s.beta2_power.to_rational(), Some(q(999, 1000).pow(t)));
    });
    let adamax = AdamaxConfig::<I>::new()
        .with_betas(I::from_ratio(1, 3), I::from_ratio(1, 2))
        .unwrap();
    run(&adamax, 300, |t, s| {
        assert_eq!(s.beta1_power.to_rational(), Some(q(1, 3).pow(t as u32)));
    });
    let nadam = NadamConfig::<I>::new();
    run(&nadam, 300, |t, s| {
        assert_eq!(
            s.beta2_power.to_rational(),
            Some(q(999, 1000).pow(t as u32))
        );
    });
}

/// The exact path advances the carried power by one product (O(1) per step, O(T) per
/// run); `f64` recomputes torch's `pow(beta, step)` from the step counter.
#[test]
fn exact_powers_are_carried_f64_powers_follow_the_step() {
    type I = Interval<BigRational>;
    let adam = AdamConfig::<I>::new();
    let mut state = adam.init(1);
    let theta = vec![I::one()];
    adam.step(&theta, &[I::zero()], &mut state);
    state.beta1_power = I::from_ratio(1, 2);
    adam.step(&theta, &[I::zero()], &mut state);
    assert_eq!(state.step, 2);
    assert_eq!(state.beta1_power.to_rational(), Some(q(9, 20)));
    assert_eq!(
        state.beta2_power.to_rational(),
        Some(q(999, 1000).pow(2u32))
    );

    let adam = AdamConfig::<f64>::new();
    let mut state = adam.init(1);
    adam.step(&[1.0], &[0.0], &mut state);
    state.beta1_power = 0.5;
    adam.step(&[1.0], &[0.0], &mut state);
    assert_eq!(state.beta1_power, 0.9f64.powf(2.0));
}

/// The enclosures of exact mode (`DyadicInterval`) at t = 10_000: `beta2^t` contains the
/// exact `(999/1000)^t`, NAdam's `0.96^((t + 1) psi)` contains the real power, both
/// narrow, and the run stays one product per step.
#[test]
fn dyadic_powers_enclose_the_closed_form_at_large_t() {
    let t = 10_000u32;
    let adam = AdamConfig::<DyadicInterval>::new();
    let mut last = None;
    run(&adam, u64::from(t), |_, s| {
        last = Some(s.beta2_power.clone())
    });
    let power = last.unwrap();
    let exact = q(999, 1000).pow(t);
    assert!(power.lo() <= exact && exact <= power.hi());
    let width = ToPrimitive::to_f64(&(power.hi() - power.lo())).unwrap();
    assert!(width <= DYADIC_POWER_WIDTH * ToPrimitive::to_f64(&exact).unwrap());

    let nadam = NadamConfig::<DyadicInterval>::new();
    let mut last = None;
    run(&nadam, u64::from(t), |_, s| {
        last = Some(s.decay_power.clone())
    });
    let decay = last.unwrap();
    // 0.96^((t + 1) / 250) lies in [lo, hi] iff lo^250 <= (24/25)^(t + 1) <= hi^250
    let target = q(24, 25).pow(t + 1);
    assert!(decay.lo().pow(250u32) <= target && target <= decay.hi().pow(250u32));
    let width = ToPrimitive::to_f64(&(decay.hi() - decay.lo())).unwrap();
    assert!(width <= DYADIC_POWER_WIDTH);
    // torch's f64 value rounds 0.96 and (t + 1) * 0.004 first: 1.5e-15 away, measured
    let f64_value = 0.96f64.powf(f64::from(t + 1) * 4e-3);
    assert!((decay.to_f64() - f64_value).abs() <= F64_REAL_POWER * f64_value);
}
