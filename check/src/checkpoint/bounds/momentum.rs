//! Momentum SGD with weight decay: the linear recurrence of `(p, b)` and its bound.

use super::NoBound;
use super::grid::*;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Momentum SGD with weight decay (README): `(p, b)` follows `x' = A x`; `p_n` solves
/// `p_{n+2} = T p_{n+1} - det p_n`; real roots: the sum of the hulls of the two terms;
/// complex roots: `|p_n| <= R`, `R^2 = p^2 + (2 p_1 - T p)^2 / (-disc)`.
pub(super) fn momentum_wd(
    lr: &BigRational,
    mu: &BigRational,
    d: &BigRational,
    wd: &BigRational,
    nesterov: bool,
    p: &BigRational,
    buffer: Option<BigRational>,
) -> Result<(BigRational, BigRational), NoBound> {
    let one = BigRational::one();
    let zero = BigRational::zero();
    let (a11, a12, a22) = if nesterov {
        (&one - lr * wd * (&one + mu), -(lr * mu * mu), mu.clone())
    } else {
        (&one - lr * (&one - d) * wd, -(lr * mu), mu.clone())
    };
    let a21 = if nesterov {
        wd.clone()
    } else {
        (&one - d) * wd
    };
    let (p0, b0, first) = match buffer {
        Some(b) if b.is_zero() && !d.is_zero() => return Err("zero buffer with dampening".into()),
        Some(b) => (p.clone(), b, None),
        None => {
            let b1 = wd * p;
            let dir = if nesterov {
                wd * p + mu * &b1
            } else {
                b1.clone()
            };
            (p - lr * dir, b1, Some(p.clone()))
        }
    };
    let p1 = &a11 * &p0 + &a12 * &b0;
    let t = &a11 + &a22;
    let det = &a11 * &a22 - &a12 * &a21;
    let disc = &t * &t - q(4, 1) * &det;
    let (lo, hi) = if disc.is_negative() {
        if det > one {
            return Err("det > 1".into());
        }
        let u = q(2, 1) * &p1 - &t * &p0;
        let r = round(&sqrt_bound(&(&p0 * &p0 + &u * &u / -disc), true), true);
        (-r.clone(), r)
    } else {
        let (sl, sh) = (sqrt_bound(&disc, false), sqrt_bound(&disc, true));
        if !sl.is_positive() {
            return Err("repeated root".into());
        }
        let h = q(1, 2);
        let (l1_lo, l1_hi) = ((&t + &sl) * &h, (&t + &sh) * &h);
        let l2_lo = (&t - &sh) * &h;
        if l1_hi > one || l2_lo < -one.clone() {
            return Err("a root of modulus > 1".into());
        }
        let u = &p1 - &t * &p0 * &h;
        let (wl, wh) = if u.is_negative() {
            (&u / &sl, &u / &sh)
        } else {
            (&u / &sh, &u / &sl)
        };
        let base = &p0 * &h;
        let term = |c0: BigRational, c1: BigRational, nonneg: bool| {
            if nonneg {
                (c0.min(zero.clone()), c1.max(zero.clone()))
            } else {
                let m = c0.abs().max(c1.abs());
                (-m.clone(), m)
            }
        };
        let a = term(&base + &wl, &base + &wh, !l1_lo.is_negative());
        let b = term(&base - &wh, &base - &wl, !l2_lo.is_negative());
        (round(&(a.0 + b.0), false), round(&(a.1 + b.1), true))
    };
    Ok(match first {
        Some(p) => (lo.min(p.clone()), hi.max(p)),
        None => (lo, hi),
    })
}
