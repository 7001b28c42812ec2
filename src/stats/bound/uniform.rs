//! The exact probability that one first-layer neuron is inactive on a box under uniform
//! weights: the CDF of a sum of independent uniforms (module docs of [`super`]).

use super::BiasTerm;
use crate::scalar::BigRational;
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
pub(super) fn cdf_sum_uniforms(widths: &[(BigRational, usize)], s: &BigRational) -> BigRational {
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
