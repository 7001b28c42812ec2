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

mod fixed;
#[cfg(test)]
mod tests;
mod uniform;

use fixed::{EXACT_LAYER_BITS, EXACT_WIDTH, alive_fixed, fixed_pow};
pub use uniform::p_inactive_uniform;

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
