//! Exact probability that one first-layer neuron is inactive on a box, and lower bounds.
//!
//! # Derivation
//! A first-layer neuron is inactive on `[a,b]^d` iff `B + sum_i max(a W_i, b W_i) <= 0`
//! (MECHANISM.md). With `W_i` iid `U(-c, c)`, write `W_i = c U_i`, `U_i ~ U(-1, 1)`:
//!
//! ```text
//! max(a W, b W) = c g(U),  g(U) = b U for U >= 0,  a U for U < 0      (a <= b)
//! ```
//!
//! so `g(U)` is, with probability 1/2 each, uniform on the segment between 0 and `b`, or
//! between 0 and `-a`. Conditioning on the number `k` of non-negative `U_i`
//! (`Binomial(d, 1/2)`), the sum is a sum of independent uniforms on segments
//! `[l_j, l_j + w_j]`, plus the bias `B / c ~ U(-r, r)` (`r = c_B / c`), a constant, or 0.
//! The CDF of a sum of `n` independent `U(0, w_j)` is
//!
//! ```text
//! F(s) = 1/(n! prod_j w_j) * sum_{S subset [n]} (-1)^|S| (s - sum_{j in S} w_j)_+^n
//! ```
//!
//! and the widths take three values only, so the subsets group by counts with binomial
//! coefficients. Everything is rational when `a`, `b` and `r` are: `p` is exact for
//! `uniform:C`, `torch-default` (`r = 1`: weights and biases share `c`), and for any
//! uniform scheme with zero biases (`p` does not depend on `c` then).
//!
//! Lower bounds: the first layer is dead on the box with probability `p^{l_1}`, and a
//! deeper neuron whose incoming weights and bias are all `<= 0` is inactive on every
//! non-negative input, which has probability `2^{-l_{k-1}} P(B <= 0)` for symmetric
//! weights. Layers have independent parameters, so
//!
//! ```text
//! P(some hidden layer dead on data in the box) >= 1 - (1 - p^{l_1}) prod_{k>=2} (1 - q_k^{l_k}),
//! q_k = 2^{-l_{k-1}} P(B_k <= 0)
//! P(some first-layer neuron inactive on the data) >= 1 - (1 - p)^{l_1}
//! ```
//!
//! For the normal schemes and `rai`, `p` is known as a certified enclosure
//! `[p_lo, p_hi]` ([`crate::stats::bound_normal`]); both bounds increase with `p`, so
//! `p_lo` takes its place. `rai` adds nothing for deeper layers (every row has a positive
//! entry).

use crate::net::Arch;
use crate::net::init::{BiasInit, InitScheme};
use crate::scalar::{BigRational, q};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};

fn binomial(n: usize, k: usize) -> BigInt {
    (0..k).fold(BigInt::one(), |acc, i| {
        acc * BigInt::from(n - i) / BigInt::from(i + 1)
    })
}

fn factorial(n: usize) -> BigInt {
    (1..=n).fold(BigInt::one(), |acc, i| acc * BigInt::from(i))
}

/// The bias term of a first-layer neuron, in units of the weight scale `c`.
#[derive(Debug, Clone, PartialEq)]
pub enum BiasTerm {
    /// `B = 0`.
    Zero,
    /// `B / c ~ U(-r, r)`.
    Uniform(BigRational),
    /// `B / c = v`.
    Const(BigRational),
}

/// `P(B + sum_{i<d} max(a W_i, b W_i) <= 0)` for `W_i` iid `U(-c, c)` and the bias term in
/// units of `c`, exactly (see the module docs). `a <= b`.
///
/// # Panics
/// **Panics if `a > b`.**
pub fn p_inactive_uniform(
    d: usize,
    a: &BigRational,
    b: &BigRational,
    bias: &BiasTerm,
) -> BigRational {
    assert!(a <= b, "box needs a <= b");
    let half_d = BigRational::new(BigInt::one(), BigInt::one() << d);
    let mut total = BigRational::zero();
    for k in 0..=d {
        // k segments between 0 and b, d-k segments between 0 and -a
        let mut widths: Vec<(BigRational, usize)> = Vec::new();
        let mut shift = BigRational::zero();
        let mut add = |lo: BigRational, hi: BigRational, count: usize, shift: &mut BigRational| {
            if count == 0 {
                return;
            }
            *shift += &lo * BigRational::from_integer(count.into());
            let w = hi - lo;
            if w.is_positive() {
                widths.push((w, count));
            }
        };
        let (bl, bh) = if b.is_negative() {
            (b.clone(), BigRational::zero())
        } else {
            (BigRational::zero(), b.clone())
        };
        let na = -a.clone();
        let (al, ah) = if na.is_negative() {
            (na.clone(), BigRational::zero())
        } else {
            (BigRational::zero(), na)
        };
        add(bl, bh, k, &mut shift);
        add(al, ah, d - k, &mut shift);
        match bias {
            BiasTerm::Zero => {}
            BiasTerm::Uniform(r) => add(-r.clone(), r.clone(), 1, &mut shift),
            BiasTerm::Const(v) => shift += v,
        }
        let weight = BigRational::from_integer(binomial(d, k)) * &half_d;
        total += weight * cdf_sum_uniforms(&widths, &-shift);
    }
    total
}

/// `P(sum of independent U(0, w) <= s)`, widths given as `(w, multiplicity)` with `w > 0`.
fn cdf_sum_uniforms(widths: &[(BigRational, usize)], s: &BigRational) -> BigRational {
    let n: usize = widths.iter().map(|(_, c)| c).sum();
    if n == 0 {
        return if s.is_negative() {
            BigRational::zero()
        } else {
            BigRational::one()
        };
    }
    let mut sum = BigRational::zero();
    // iterate over the counts chosen from each width group
    let mut choice = vec![0usize; widths.len()];
    loop {
        let taken: usize = choice.iter().sum();
        let offset = widths
            .iter()
            .zip(&choice)
            .fold(BigRational::zero(), |acc, ((w, _), &c)| {
                acc + w * BigRational::from_integer(c.into())
            });
        let x = s - offset;
        if x.is_positive() {
            let coef = widths
                .iter()
                .zip(&choice)
                .fold(BigInt::one(), |acc, ((_, m), &c)| acc * binomial(*m, c));
            let term = BigRational::from_integer(coef) * num_traits::pow::pow(x, n);
            if taken.is_multiple_of(2) {
                sum += term;
            } else {
                sum -= term;
            }
        }
        // next choice (odometer)
        let mut idx = 0;
        loop {
            if idx == widths.len() {
                let denom = widths
                    .iter()
                    .fold(BigRational::from_integer(factorial(n)), |acc, (w, m)| {
                        acc * num_traits::pow::pow(w.clone(), *m)
                    });
                return sum / denom;
            }
            if choice[idx] < widths[idx].1 {
                choice[idx] += 1;
                break;
            }
            choice[idx] = 0;
            idx += 1;
        }
    }
}

/// Scale and bias of the first layer for exact computation: `Some(bias term)` when the
/// weights are uniform and the bias is expressible exactly in units of their scale.
pub fn exact_bias_term(scheme: &InitScheme, bias: &BiasInit) -> Option<BiasTerm> {
    let (uniform_weights, scale, default_same) = match scheme {
        InitScheme::Uniform(c) => (true, Some(c.clone()), true),
        InitScheme::TorchDefault => (true, None, true),
        InitScheme::HeUniform | InitScheme::GlorotUniform => (true, None, false),
        _ => (false, None, false),
    };
    if !uniform_weights {
        return None;
    }
    match bias {
        BiasInit::Default if default_same => Some(BiasTerm::Uniform(BigRational::one())),
        BiasInit::Default | BiasInit::Zero => Some(BiasTerm::Zero),
        BiasInit::Same => Some(BiasTerm::Uniform(BigRational::one())),
        BiasInit::Uniform(cb) => scale.map(|c| BiasTerm::Uniform(cb / c)),
        BiasInit::Const(v) if v.is_zero() => Some(BiasTerm::Zero),
        BiasInit::Const(v) => scale.map(|c| BiasTerm::Const(v / c)),
        BiasInit::Normal(_) => None,
    }
}

/// `P(B <= 0)` of a hidden-layer bias: 1/2 for symmetric continuous draws, 1 for zero, the
/// indicator for a constant.
pub fn p_bias_nonpositive(scheme: &InitScheme, bias: &BiasInit) -> BigRational {
    let default_same = matches!(
        scheme,
        InitScheme::Uniform(_) | InitScheme::Normal(_) | InitScheme::TorchDefault
    );
    match bias {
        BiasInit::Default if default_same => q(1, 2),
        BiasInit::Default | BiasInit::Zero => BigRational::one(),
        BiasInit::Same | BiasInit::Uniform(_) | BiasInit::Normal(_) => q(1, 2),
        BiasInit::Const(v) => {
            if v.is_positive() {
                BigRational::zero()
            } else {
                BigRational::one()
            }
        }
    }
}

/// The bounds of the module docs for one architecture and scheme, data in `[a,b]^d`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// `p`, exact, when known.
    pub p: Option<BigRational>,
    /// A certified enclosure `[p_lo, p_hi]` of `p` (the doubles around `p` when exact;
    /// [`crate::stats::bound_normal`] for the normal schemes and `rai`).
    pub p_enclosure: Option<(f64, f64)>,
    /// `1 - (1-p_lo)^{l_1}`, a lower bound on P(some first-layer neuron inactive on the data).
    pub first_layer_neuron: Option<BigRational>,
    /// `1 - (1-p_hi)^{l_1}`: with the lower bound, an enclosure of P(some first-layer
    /// neuron inactive on the box).
    pub first_layer_neuron_hi: Option<BigRational>,
    /// A lower bound on P(some hidden layer dead on the data).
    pub dead_layer: BigRational,
}

/// Computes [`Bounds`]; `p` exact for the uniform family, enclosed for the normal schemes
/// and `rai` (whose deeper layers add nothing: a row always has a positive entry).
pub fn bounds(
    arch: &Arch,
    scheme: &InitScheme,
    bias: &BiasInit,
    a: &BigRational,
    b: &BigRational,
) -> Bounds {
    let exact =
        exact_bias_term(scheme, bias).map(|term| p_inactive_uniform(arch.inputs(), a, b, &term));
    let enclosure = match &exact {
        Some(_) => None,
        None => crate::stats::bound_normal::p_enclosure(
            scheme,
            bias,
            arch.inputs(),
            Some(arch.width(1)),
            a,
            b,
        )
        .ok()
        .flatten(),
    };
    let p = exact.or_else(|| enclosure.as_ref().and_then(|e| e.exact.clone()));
    let to_q = |x: f64| crate::scalar::rational_from_f64(x).ok();
    let (p_lo, p_hi) = match (&p, &enclosure) {
        (Some(p), _) => (Some(p.clone()), Some(p.clone())),
        (None, Some(e)) => (to_q(e.lo), to_q(e.hi)),
        (None, None) => (None, None),
    };
    let p_enclosure = match (&p, &enclosure) {
        (_, Some(e)) => Some((e.lo, e.hi)),
        (Some(p), None) => {
            let e = crate::stats::bound_normal::iv::Iv::from_rational(p);
            Some((e.lo, e.hi))
        }
        (None, None) => None,
    };
    let l1 = arch.width(1);
    let pb = if *scheme == InitScheme::Rai {
        BigRational::zero()
    } else {
        p_bias_nonpositive(scheme, bias)
    };
    // Exact while the numbers stay small; past that (wide first layers, deep or wide
    // nets), fixed point with FIXED_BITS bits rounded the safe way: the bounds are
    // reported as f64 and an error below 2^-1300 cannot move them, and it stays a
    // lower bound (an upper one for `first_layer_neuron_hi`).
    let exact_cost = arch
        .hidden_layers()
        .skip(1)
        .map(|k| arch.width(k - 1).saturating_mul(arch.width(k)))
        .fold(0usize, usize::saturating_add);
    let small = l1 <= EXACT_WIDTH && exact_cost <= EXACT_LAYER_BITS;
    let at_least_one = |p: &BigRational, lower: bool| {
        if small {
            BigRational::one() - num_traits::pow::pow(BigRational::one() - p, l1)
        } else {
            // 1 - (1-p)^l1: a lower bound needs (1-p)^l1 rounded up
            BigRational::one() - fixed_pow(&(BigRational::one() - p), l1, lower)
        }
    };
    let first_layer_neuron = p_lo.as_ref().map(|p| at_least_one(p, true));
    let first_layer_neuron_hi = p_hi.as_ref().map(|p| at_least_one(p, false));
    // p_lo^l1 rounded down keeps 1 - alive a lower bound
    let first_dead = match &p_lo {
        Some(p) if small => num_traits::pow::pow(p.clone(), l1),
        Some(p) => fixed_pow(p, l1, false),
        None => BigRational::zero(),
    };
    let alive = BigRational::one() - first_dead;
    let alive = if small {
        let mut alive = alive;
        for k in 2..arch.depth() {
            let qk = BigRational::new(BigInt::one(), BigInt::one() << arch.width(k - 1)) * &pb;
            alive *= BigRational::one() - num_traits::pow::pow(qk, arch.width(k));
        }
        alive
    } else {
        alive_fixed(arch, &alive, &pb)
    };
    Bounds {
        p,
        p_enclosure,
        first_layer_neuron,
        first_layer_neuron_hi,
        dead_layer: BigRational::one() - alive,
    }
}

/// First-layer widths up to which [`bounds`] works exactly.
const EXACT_WIDTH: usize = 4096;
/// Up to this sum of `l_{k-1} * l_k` over the deeper hidden layers, [`bounds`] works exactly.
const EXACT_LAYER_BITS: usize = 2048;
/// Bits after the point of the fixed-point fallback of [`bounds`].
const FIXED_BITS: u64 = 1300;

/// `x * 2^FIXED_BITS` rounded up or down.
fn to_fixed(x: &BigRational, up: bool) -> BigInt {
    let scaled = x * BigRational::from_integer(BigInt::one() << FIXED_BITS);
    if up { scaled.ceil() } else { scaled.floor() }.to_integer()
}

/// `p^n` for `p` in `[0, 1]`, rounded up or down to `FIXED_BITS` bits at every product
/// (a bound on the exact power in the direction asked; the rounding is monotone).
fn fixed_pow(p: &BigRational, n: usize, up: bool) -> BigRational {
    let round = |x: BigInt| {
        let mask = (BigInt::one() << FIXED_BITS) - 1u32;
        let carry = up && !(&x & &mask).is_zero();
        (x >> FIXED_BITS) + u32::from(carry)
    };
    let one = BigInt::one() << FIXED_BITS;
    let (mut base, mut acc, mut n) = (to_fixed(p, up), one.clone(), n);
    while n > 0 {
        if n & 1 == 1 {
            acc = round(&acc * &base);
        }
        n >>= 1;
        if n > 0 {
            base = round(&base * &base);
            if base.is_zero() {
                acc = BigInt::zero();
                break;
            }
        }
    }
    BigRational::new(acc, one)
}

/// An upper bound of `alive * prod_k (1 - (pb / 2^{l_{k-1}})^{l_k})` over the hidden
/// layers `k >= 2`, in fixed point: a layer whose term is below `2^-FIXED_BITS` is left
/// out (its factor is at most 1), the others are subtracted rounded down.
fn alive_fixed(arch: &Arch, alive: &BigRational, pb: &BigRational) -> BigRational {
    let mut a = to_fixed(alive, true);
    if !pb.is_zero() {
        for k in 2..arch.depth() {
            let w = arch.width(k);
            let e = arch.width(k - 1).saturating_mul(w);
            if e as u64 > FIXED_BITS {
                continue;
            }
            let w = u32::try_from(w).unwrap_or(u32::MAX);
            let num = pb.numer().pow(w);
            let den = pb.denom().pow(w) << e;
            a -= (&a * num) / den;
        }
    }
    BigRational::new(a, BigInt::one() << FIXED_BITS)
}

#[cfg(test)]
mod tests {
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
        let exact =
            |w: usize| BigRational::one() - num_traits::pow::pow(BigRational::one() - &p, w);
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
}
