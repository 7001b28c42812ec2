//! Unit tests of the first-layer probabilities and the bounds.

use super::fixed::{alive_fixed, fixed_pow};
use super::uniform::cdf_sum_uniforms;
use super::*;

#[test]
fn fixed_point_bounds_enclose_the_exact_ones() {
    // exact and fixed point agree to far below an f64 ulp, on the safe side
    let p = q(13, 48);
    for n in [1usize, 2, 7, 100, 5000] {
        let exact = num_traits::pow::pow(p.clone(), n);
        let (lo, hi) = (fixed_pow(&p, n, false), fixed_pow(&p, n, true));
        assert!(lo <= exact && exact <= hi, "n = {n}");
        assert!(&hi - &lo <= q(1, 1) / BigRational::from_integer(BigInt::one() << 1200u32));
    }
    let arch = Arch::new(vec![1, 3, 2, 2, 4, 1]).unwrap();
    let start = q(5, 7);
    let mut exact = start.clone();
    for k in 2..arch.depth() {
        let qk = BigRational::new(BigInt::one(), BigInt::one() << arch.width(k - 1)) * q(1, 2);
        exact *= BigRational::one() - num_traits::pow::pow(qk, arch.width(k));
    }
    let fixed = alive_fixed(&arch, &start, &q(1, 2));
    assert!(fixed >= exact);
    assert!(&fixed - &exact < q(1, 1) / BigRational::from_integer(BigInt::one() << 1200u32));
}

#[test]
fn deep_and_wide_bounds_are_quick() {
    // 10,000 layers of width 2 took over 15 s exactly (quadratic in the depth)
    let mut widths = vec![2usize; 10_001];
    widths[0] = 1;
    widths.push(1);
    let arch = Arch::new(widths).unwrap();
    let start = std::time::Instant::now();
    let b = bounds(
        &arch,
        &InitScheme::TorchDefault,
        &BiasInit::Default,
        &q(-1, 1),
        &q(1, 1),
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    // each layer is dead with probability (1/2 * 1/4)^2 = 1/64 at least
    let d = crate::scalar::Scalar::to_f64(&b.dead_layer);
    assert!(d > 0.999_999, "{d}");
    let wide = Arch::new(vec![8, 100_000, 1]).unwrap();
    let b = bounds(
        &wide,
        &InitScheme::TorchDefault,
        &BiasInit::Default,
        &q(-1, 1),
        &q(1, 1),
    );
    let lo = b.first_layer_neuron.unwrap();
    let hi = b.first_layer_neuron_hi.unwrap();
    assert!(lo <= hi && lo > BigRational::zero(), "{lo} {hi}");
    // against the exact value on a width just past the exact range
    let p = b.p.unwrap();
    let exact = |w: usize| BigRational::one() - num_traits::pow::pow(BigRational::one() - &p, w);
    let w = EXACT_WIDTH + 1;
    let b = bounds(
        &Arch::new(vec![8, w, 1]).unwrap(),
        &InitScheme::TorchDefault,
        &BiasInit::Default,
        &q(-1, 1),
        &q(1, 1),
    );
    let (lo, hi) = (
        b.first_layer_neuron.unwrap(),
        b.first_layer_neuron_hi.unwrap(),
    );
    assert!(lo <= exact(w) && exact(w) <= hi);
}

#[test]
fn interface_example_is_13_48() {
    assert_eq!(
        p_inactive_uniform(2, &q(0, 1), &q(1, 1), &BiasTerm::Uniform(q(1, 1))),
        q(13, 48)
    );
}

#[test]
fn one_input_symmetric_box() {
    // d = 1, box [-1,1]: g(U) = |U| ~ U(0,1); P(B + |U| <= 0) with B ~ U(-1,1):
    // = P(|U| <= -B) = int_0^1 s ds / 2 = 1/4
    assert_eq!(
        p_inactive_uniform(1, &q(-1, 1), &q(1, 1), &BiasTerm::Uniform(q(1, 1))),
        q(1, 4)
    );
    // zero bias: P(|U| <= 0) = 0
    assert_eq!(
        p_inactive_uniform(1, &q(-1, 1), &q(1, 1), &BiasTerm::Zero),
        q(0, 1)
    );
    // box [0,1], zero bias: P(g(U) <= 0) = P(U <= 0) = 1/2
    assert_eq!(
        p_inactive_uniform(1, &q(0, 1), &q(1, 1), &BiasTerm::Zero),
        q(1, 2)
    );
}

#[test]
fn cdf_of_two_uniforms() {
    // U(0,1) + U(0,1) <= 1 with probability 1/2; <= 1/2 with probability 1/8
    let w = vec![(q(1, 1), 2)];
    assert_eq!(cdf_sum_uniforms(&w, &q(1, 1)), q(1, 2));
    assert_eq!(cdf_sum_uniforms(&w, &q(1, 2)), q(1, 8));
    assert_eq!(cdf_sum_uniforms(&w, &q(3, 1)), q(1, 1));
}

#[test]
fn bounds_grow_with_width_and_depth() {
    let box_ = (q(-1, 1), q(1, 1));
    let b = |w: Vec<usize>| {
        bounds(
            &Arch::new(w).unwrap(),
            &InitScheme::TorchDefault,
            &BiasInit::Default,
            &box_.0,
            &box_.1,
        )
    };
    let narrow = b(vec![1, 2, 2, 1]);
    let wide = b(vec![1, 8, 2, 1]);
    let deep = b(vec![1, 2, 2, 2, 2, 2, 2, 1]);
    assert!(wide.first_layer_neuron > narrow.first_layer_neuron);
    assert!(deep.dead_layer > narrow.dead_layer);
    assert_eq!(narrow.p, Some(q(1, 4)));
}
