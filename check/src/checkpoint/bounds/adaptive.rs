//! The pieces of the Adagrad/RMSProp/Adam-family bounds: monotone moves, hulls,
//! weight-decay overshoot, the ratio `m / sqrt(v)`, bias-correction factors.

use super::grid::*;
use super::{NoBound, PREC, SPLITS};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// `(lo, hi)` of a monotone move of at most `d` against the sign of `m`.
pub(super) fn against(
    p: &BigRational,
    m: &BigRational,
    d: &BigRational,
) -> (BigRational, BigRational) {
    let d = round(d, true);
    if m.is_positive() {
        (p - d, p.clone())
    } else {
        (p.clone(), p + d)
    }
}

pub(super) fn hull(a: &BigRational, b: &BigRational) -> (BigRational, BigRational) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

/// Weight decay (README): `[min(p - [m > 0] d, -o), max(p + [m < 0] d, o)]`.
pub(super) fn overshoot(
    p: &BigRational,
    m: &BigRational,
    d: &BigRational,
    o: &BigRational,
) -> (BigRational, BigRational) {
    let (d, o) = (round(d, true), round(o, true));
    let zero = BigRational::zero();
    let up = if m.is_negative() {
        d.clone()
    } else {
        zero.clone()
    };
    let down = if m.is_positive() { d } else { zero };
    ((p - down).min(-o.clone()), (p + up).max(o))
}

/// `max(|m0| / sqrt(v0), (1 - b1) / (sqrt(1 - b2) (1 - r)))` and `r = b1 / sqrt(b2)`.
pub(super) fn ratio_bound(
    b1: &BigRational,
    b2: &BigRational,
    m0: &BigRational,
    v0: &BigRational,
) -> Result<(BigRational, BigRational), NoBound> {
    let one = BigRational::one();
    if !b2.is_positive() {
        return Err("weight decay with beta2 = 0".into());
    }
    let r = round(&(b1 / sqrt_bound(b2, false)), true);
    if r >= one {
        return Err("weight decay with beta1 >= sqrt(beta2)".into());
    }
    let a = if m0.is_zero() {
        BigRational::zero()
    } else {
        let sv = sqrt_bound(v0, false);
        if !sv.is_positive() {
            return Err("weight decay with exp_avg != 0 = exp_avg_sq".into());
        }
        m0.abs() / sv
    };
    let k0 = (&one - b1) / (sqrt_bound(&(&one - b2), false) * (&one - &r));
    Ok((a.max(k0), r))
}

/// `p (1 - kappa)` with `0 <= kappa <= k`.
pub(super) fn shrink(
    p: &BigRational,
    k: &BigRational,
) -> Result<(BigRational, BigRational), NoBound> {
    if k <= &BigRational::one() {
        Ok(hull(p, &BigRational::zero()))
    } else if k <= &q(2, 1) {
        Ok((-p.abs(), p.abs()))
    } else {
        Err("contraction factor above 2".into())
    }
}

pub(super) fn bias_factor(b1: &BigRational, t: u64) -> BigRational {
    let pw = pow_bound(b1, t.saturating_add(1), true);
    if pw >= BigRational::one() {
        return BigRational::from_integer(BigInt::one() << PREC);
    }
    BigRational::one() / (BigRational::one() - pw)
}

pub(super) fn q_split(b2: &BigRational, t: u64, n: u64) -> BigRational {
    let one = BigRational::one();
    if n == 0 {
        return one;
    }
    let low = pow_bound(b2, t.saturating_add(n), false);
    sqrt_bound(&(&one - low), true).min(one)
}

/// Adam/NAdam's `min_N G / sqrt(v)`, `None` when `b1 >= sqrt(b2)` or `v = 0`.
pub(super) fn v_factor(
    b1: &BigRational,
    b2: &BigRational,
    v: &BigRational,
    t: u64,
) -> Option<BigRational> {
    if !v.is_positive() || b2.is_zero() {
        return None;
    }
    let one = BigRational::one();
    let r = round(&(b1 / sqrt_bound(b2, false)), true);
    let sv = sqrt_bound(v, false);
    if r >= one || !sv.is_positive() {
        return None;
    }
    SPLITS
        .iter()
        .map(|&n| {
            let qn = q_split(b2, t, n);
            let rn = pow_bound(&r, n + 1, true).min(r.clone());
            (&qn * &r + (&one - &qn) * rn) / (&one - &r) / &sv
        })
        .min()
}
