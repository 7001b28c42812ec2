use super::*;
use crate::net::Arch;
use crate::net::init::{InitSampler, trial_rng};
use std::f64::consts::PI;

fn enc(
    init: &str,
    bias: &str,
    d: usize,
    l1: Option<usize>,
    a: (i64, i64),
    b: (i64, i64),
) -> PEnclosure {
    p_enclosure(
        &init.parse().unwrap(),
        &bias.parse().unwrap(),
        d,
        l1,
        &q(a.0, a.1),
        &q(b.0, b.1),
    )
    .unwrap()
    .unwrap()
}

fn phi_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

fn npdf(x: f64) -> f64 {
    (-x * x / 2.0).exp() / (2.0 * PI).sqrt()
}

/// The enclosure holds the closed form (computed in f64, so within 1e-14) and is at most
/// `width` wide.
fn assert_encloses(e: &PEnclosure, want: f64, width: f64, what: &str) {
    assert!(
        e.lo - 1e-14 <= want && want <= e.hi + 1e-14,
        "{what}: [{}, {}] misses {want}",
        e.lo,
        e.hi
    );
    assert!(e.hi - e.lo <= width, "{what}: width {}", e.hi - e.lo);
    assert!(e.exact.is_none(), "{what}: irrational p reported exact");
}

#[test]
fn d1_normal_bias_is_an_angle() {
    // P(sigma Z0 + s max(aZ, bZ) <= 0) = 1/2 - (atan(s b/sigma) - atan(s a/sigma))/(2 pi)
    let f = |s: f64, sigma: f64, a: f64, b: f64| {
        0.5 - ((s * b / sigma).atan() - (s * a / sigma).atan()) / (2.0 * PI)
    };
    let e = enc("normal:1", "default", 1, None, (0, 1), (1, 1));
    assert_encloses(&e, f(1.0, 1.0, 0.0, 1.0), 1e-9, "normal:1 [0,1]");
    let e = enc("normal:1", "default", 1, None, (-1, 1), (2, 1));
    assert_encloses(&e, f(1.0, 1.0, -1.0, 2.0), 1e-9, "normal:1 [-1,2]");
    let e = enc("he-normal", "normal:1/2", 1, None, (1, 2), (3, 2));
    assert_encloses(
        &e,
        f(2f64.sqrt(), 0.5, 0.5, 1.5),
        1e-9,
        "he-normal [1/2,3/2]",
    );
}

#[test]
fn d1_const_bias_is_an_erf() {
    // he-normal d = 1: s = sqrt 2; [0,1], v = -3/10: 1/2 + P(sqrt2 |Z| <= 0.3)/2
    let e = enc("he-normal", "const:-3/10", 1, None, (0, 1), (1, 1));
    assert_encloses(&e, 0.5 + libm::erf(0.15) / 2.0, 1e-9, "const -0.3");
    // [-1,1], v = -1/2: P(sqrt2 |Z| <= 1/2) = erf(1/4)
    let e = enc("he-normal", "const:-1/2", 1, None, (-1, 1), (1, 1));
    assert_encloses(&e, libm::erf(0.25), 1e-9, "const -0.5 [-1,1]");
    // point box (2,2), lecun d = 3 (s^2 = 1/3): Phi(-v/(2 s sqrt 3)) = Phi(-v/2)
    let e = enc("lecun-normal", "const:1/3", 3, None, (2, 1), (2, 1));
    assert_encloses(&e, phi_cdf(-1.0 / 6.0), 1e-9, "point box");
}

#[test]
fn d2_zero_bias_is_a_polar_cone() {
    // 0 < a < b: p = 1/4 + atan(a/b)/pi, and the mirror box gives the same
    let want = 0.25 + (1.0f64 / 3.0).atan() / PI;
    let e = enc("he-normal", "zero", 2, None, (1, 1), (3, 1));
    assert_encloses(&e, want, 1e-9, "[1,3]^2");
    let e = enc("lecun-normal", "default", 2, None, (-3, 1), (-1, 1));
    assert_encloses(&e, want, 1e-9, "[-3,-1]^2");
}

#[test]
fn d2_normal_bias_is_a_pyramid() {
    // he-normal d = 2 (s = 1), bias N(0, sigma^2), box [0,1]^2, lambda = s/sigma:
    // p = (1/2 + 2 (1/2 - atan(lambda)/pi) + asin(1/(1 + 2 lambda^2))/pi) / 4
    let sigma = 0.7f64;
    let l = 1.0 / sigma;
    let want = (0.5 + 2.0 * (0.5 - l.atan() / PI) + (1.0 / (1.0 + 2.0 * l * l)).asin() / PI) / 4.0;
    let e = enc("he-normal", "normal:7/10", 2, None, (0, 1), (1, 1));
    assert_encloses(&e, want, 1e-9, "pyramid");
    assert!((want - 0.23796275441967496).abs() < 1e-15);
}

#[test]
fn d3_const_bias_matches_an_independent_quadrature() {
    // p = (1 + 3 F_1(c) + 3 F_2(c) + F_3(c))/8, c = 0.1/sqrt(2/3), F_k the CDF of a sum of k
    // half-normals, by nested adaptive quadrature in mpmath (20 digits):
    // F_1(x) = erf(x/sqrt 2), F_k(x) = int_0^x 2 phi(u) F_{k-1}(x - u) du
    let e = enc("he-normal", "const:-1/10", 3, None, (0, 1), (1, 1));
    assert_encloses(&e, 0.16335920307970017, 1e-9, "d=3 const");
}

#[test]
fn d1_rai_is_a_beta_integral() {
    // p = E[Phi(-V/sigma)]/2, sigma = sqrt 2, V ~ Beta(2,1); the bias-replaced half is 0
    let s = 2f64.sqrt();
    let want = (phi_cdf(-1.0 / s) + s * s * (phi_cdf(1.0 / s) - 0.5) - s * npdf(1.0 / s)) / 2.0;
    let e = enc("rai", "default", 1, None, (0, 1), (1, 1));
    assert_encloses(&e, want, 1e-9, "rai d=1");
}

#[test]
fn rational_cases_are_exact() {
    for d in 1..=16 {
        let half_d = BigRational::new(BigInt::one(), BigInt::one() << d);
        for init in ["he-normal", "glorot-normal", "lecun-normal", "normal:3"] {
            let e = enc(init, "zero", d, None, (0, 1), (1, 1));
            assert_eq!(e.exact, Some(half_d.clone()), "{init} d={d}");
            assert!(e.lo <= e.hi && e.hi - e.lo <= f64::EPSILON);
            let e = enc(init, "const:0", d, None, (-2, 1), (0, 1));
            assert_eq!(e.exact, Some(half_d.clone()), "{init} d={d} [-2,0]");
            let e = enc(init, "zero", d, None, (-1, 1), (1, 1));
            assert_eq!(e.exact, Some(q(0, 1)));
            // positive bias, all terms positive
            let e = enc(init, "const:1/5", d, Some(4), (0, 1), (1, 1));
            assert_eq!(e.exact, Some(q(0, 1)));
            // point box, symmetric bias
            let e = enc(init, "normal:2", d, Some(4), (1, 3), (1, 3));
            assert_eq!(e.exact, Some(q(1, 2)));
        }
    }
    // d = 1, 0 < a < b, zero bias: 1/2
    assert_eq!(
        enc("he-normal", "zero", 1, None, (1, 2), (1, 1)).exact,
        Some(q(1, 2))
    );
    // glorot-normal with a scale-dependent bias needs l_1
    assert_eq!(
        p_enclosure(
            &InitScheme::GlorotNormal,
            &BiasInit::Same,
            2,
            None,
            &q(0, 1),
            &q(1, 1)
        ),
        Err(NormalBoundError::NeedsWidth)
    );
}

#[test]
fn widths_meet_the_targets() {
    let cases = [
        ("he-normal", "normal:1"),
        ("glorot-normal", "same"),
        ("lecun-normal", "uniform:1/2"),
        ("normal:1", "default"),
        ("he-normal", "const:-1/10"),
        ("he-normal", "zero"),
        ("rai", "default"),
    ];
    for (init, bias) in cases {
        for d in [1usize, 2, 3, 8, 16] {
            for (a, b) in [((0, 1), (1, 1)), ((-1, 1), (1, 1)), ((1, 2), (1, 1))] {
                let e = enc(init, bias, d, Some(4), a, b);
                let w = if d <= 3 { 1e-9 } else { 1e-6 };
                assert!(
                    0.0 <= e.lo && e.lo <= e.hi && e.hi <= 1.0 && e.hi - e.lo <= w,
                    "{init} {bias} d={d} {a:?} {b:?}: [{}, {}]",
                    e.lo,
                    e.hi
                );
            }
        }
    }
}

/// Draws `n` first-layer rows with the real sampler and counts inactive neurons on the
/// box; returns the count.
fn monte_carlo(init: &str, bias: &str, d: usize, a: f64, b: f64, n: u64) -> u64 {
    let arch = Arch::new(vec![d, 3, 1]).unwrap();
    let s = InitSampler::new(&arch, &init.parse().unwrap(), &bias.parse().unwrap());
    let mut rng = trial_rng(11, 0);
    let mut theta = vec![0.0; arch.num_params()];
    let mut inactive = 0;
    for _ in 0..n {
        s.sample_into(&mut rng, &mut theta);
        // neuron 0 of layer 1: weights theta[0..d], bias after the 3 x d weights
        let pre: f64 = theta[3 * d] + theta[..d].iter().map(|w| (a * w).max(b * w)).sum::<f64>();
        if pre <= 0.0 {
            inactive += 1;
        }
    }
    inactive
}

/// The Wilson interval at `z` standard deviations.
fn wilson_z(k: u64, n: u64, z: f64) -> (f64, f64) {
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    (c - h, c + h)
}

fn monte_carlo_overlaps(n: u64) {
    // a 5-sigma interval, so that a correct enclosure fails with probability < 1e-6
    let cases = [
        ("he-normal", "normal:1", 2, (0, 1), (1, 1)),
        ("glorot-normal", "same", 3, (-1, 2), (1, 1)),
        ("lecun-normal", "uniform:1/2", 2, (0, 1), (1, 1)),
        ("normal:1", "default", 3, (1, 2), (1, 1)),
        ("he-normal", "const:-1/10", 2, (0, 1), (1, 1)),
        ("he-normal", "zero", 3, (1, 2), (1, 1)),
        ("rai", "default", 2, (0, 1), (1, 1)),
        ("rai", "default", 3, (-1, 1), (1, 1)),
    ];
    for (init, bias, d, a, b) in cases {
        let e = enc(init, bias, d, Some(3), a, b);
        let (af, bf) = (a.0 as f64 / a.1 as f64, b.0 as f64 / b.1 as f64);
        let k = monte_carlo(init, bias, d, af, bf, n);
        let (lo, hi) = wilson_z(k, n, 5.0);
        assert!(
            lo <= e.hi && e.lo <= hi,
            "{init} {bias} d={d}: MC [{lo}, {hi}] vs [{}, {}]",
            e.lo,
            e.hi
        );
    }
}

#[test]
fn monte_carlo_1e6_overlaps_the_enclosure() {
    monte_carlo_overlaps(1_000_000);
}

#[test]
#[ignore = "10^7 draws per scheme; run with --ignored"]
fn monte_carlo_1e7_overlaps_the_enclosure() {
    monte_carlo_overlaps(10_000_000);
}

/// `p` does not depend on the units: tiny and huge weight scales (with biases of the
/// same scale) give the angle formula to the same accuracy, quickly (CI's fuzz harness
/// found `normal:100E-20` summing for minutes: the period was sized for `Y`'s units).
#[test]
fn tiny_and_huge_scales_are_sized_by_the_law() {
    let f = |a: f64, b: f64| 0.5 - (b.atan() - a.atan()) / (2.0 * PI);
    for s in ["1/1000000000000000000", "1000000000000000000000000000000"] {
        let t = std::time::Instant::now();
        let e = enc(&format!("normal:{s}"), "default", 1, None, (0, 1), (1, 1));
        assert_encloses(&e, f(0.0, 1.0), 1e-9, s);
        assert!(!e.exhausted, "{s}: budget ran out");
        assert!(t.elapsed().as_secs() < 5, "{s}: {:?}", t.elapsed());
    }
}

/// Scales many orders apart: the budget stops the series, the enclosure stays
/// certified (it holds the angle formula) and says it is wider than the target.
#[test]
fn far_apart_scales_stop_at_the_budget_and_stay_certified() {
    // P(sigma Z0 + |Z| <= 0) with sigma = 1e-12 on [0, 1]^1: the angle formula
    let sigma: f64 = 1e-12;
    let want = 0.25 + 0.5 * (0.5 - (1.0 / sigma).atan() / PI);
    let e = enc(
        "normal:1",
        "normal:1/1000000000000",
        1,
        None,
        (0, 1),
        (1, 1),
    );
    assert_encloses(&e, want, 1e-4, "sigma 1e-12");
    assert!(e.exhausted);
    assert!(e.hi - e.lo > 1e-8, "{} {}", e.lo, e.hi);
}

/// Parts whose magnitudes lie further apart than the doubles reach (1e-300 against
/// 1e150, or 1e-150 against 1e300): no division meets an interval containing 0 (the
/// first two panicked in the truncation bound, the third in `t_N^e`), and the enclosure
/// is a probability interval.
#[test]
fn parts_beyond_the_double_range_apart_do_not_panic() {
    let r = |s: &str| crate::scalar::parse_rational(s).unwrap();
    for (init, bias, a, b) in [
        ("normal:1e-150", "normal:1e150", "1e-150", "1"),
        ("normal:1e-150", "uniform:1e150", "-1e-150", "1e150"),
        ("normal:1e150", "const:-1e-150", "-1e150", "-1e-150"),
    ] {
        let e = p_enclosure(
            &init.parse().unwrap(),
            &bias.parse().unwrap(),
            2,
            None,
            &r(a),
            &r(b),
        )
        .unwrap()
        .unwrap();
        assert!(
            0.0 <= e.lo && e.lo <= e.hi && e.hi <= 1.0,
            "{init} {bias}: [{}, {}]",
            e.lo,
            e.hi
        );
    }
}
