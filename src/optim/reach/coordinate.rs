//! The reachable box of one coordinate, per optimizer (the derivations are in the
//! module docs of [`super`] and [`super::decay`]).

use super::decay;
use super::{
    CheckpointState, NoBound, SPLITS, Span, adam_v_factor, bias_factor, pow_bound, q, round_grid,
    sqrt_down, sqrt_up,
};
use crate::optim::OptimizerConfig;
use crate::scalar::BigRational;
use num_traits::{One, Signed, Zero};

/// Momentum SGD (Nesterov or not) with weight decay: the linear recurrence of the module
/// docs, `None` buffer meaning PyTorch's first step `b_1 = g`.
fn momentum_weight_decay(
    lr: &BigRational,
    mu: &BigRational,
    dampening: &BigRational,
    wd: &BigRational,
    nesterov: bool,
    p: &BigRational,
    buffer: Option<BigRational>,
) -> Result<Span, NoBound> {
    let one = BigRational::one();
    let half = q(1, 2);
    // the matrix A on (p, b)
    let (a11, a12, a21, a22) = if nesterov {
        (
            &one - lr * wd * (&one + mu),
            -(lr * mu * mu),
            wd.clone(),
            mu.clone(),
        )
    } else {
        let k = (&one - dampening) * wd;
        (&one - lr * &k, -(lr * mu), k, mu.clone())
    };
    // PyTorch's first step without a buffer: b_1 = g = wd p
    let (p0, b0, first) = match buffer {
        // a zero buffer read from a state may stand for PyTorch's absent one, whose first
        // step is undamped: ambiguous unless dampening is 0
        Some(b) if b.is_zero() && !dampening.is_zero() => {
            return Err(NoBound::Unsupported("momentum with weight decay and dampening: a zero momentum_buffer may be an absent one (its first step is undamped); no bound derived".into()));
        }
        Some(b) => (p.clone(), b, None),
        None => {
            let b1 = wd * p;
            let dir = if nesterov {
                wd * p + mu * &b1
            } else {
                b1.clone()
            };
            let p1 = p - lr * dir;
            (p1, b1, Some(p.clone()))
        }
    };
    let p1 = &a11 * &p0 + &a12 * &b0;
    let trace = &a11 + &a22;
    let det = &a11 * &a22 - &a12 * &a21;
    let disc = &trace * &trace - q(4, 1) * &det;
    let span = if disc.is_negative() {
        // complex roots of modulus sqrt(det): |p_n| <= 2|c| = R
        if det > one {
            return Err(NoBound::Diverges(
                "momentum with weight decay: the iteration grows (det > 1)".into(),
            ));
        }
        let u = q(2, 1) * &p1 - &trace * &p0;
        let r2 = &p0 * &p0 + &u * &u / -disc;
        let r = sqrt_up(&r2);
        Span::symmetric(&round_grid(&r, true))
    } else if disc.is_zero() {
        return Err(NoBound::Unsupported(
            "momentum with weight decay: repeated root, no bound derived".into(),
        ));
    } else {
        let (s_lo, s_hi) = (sqrt_down(&disc), sqrt_up(&disc));
        if !s_lo.is_positive() {
            return Err(NoBound::Unsupported(
                "momentum with weight decay: nearly repeated root, no bound derived".into(),
            ));
        }
        let l1_hi = (&trace + &s_hi) * &half;
        let l2_lo = (&trace - &s_hi) * &half;
        let l1_lo = (&trace + &s_lo) * &half;
        if l1_hi > one || l2_lo < -one.clone() {
            return Err(NoBound::Diverges(
                "momentum with weight decay: a root of modulus > 1 (the iteration diverges)".into(),
            ));
        }
        // c1 = p0/2 + u/sqrt(disc), c2 = p0/2 - u/sqrt(disc), u = p1 - trace p0 / 2
        let u = &p1 - &trace * &p0 * &half;
        let (w_lo, w_hi) = if u.is_negative() {
            (&u / &s_lo, &u / &s_hi)
        } else {
            (&u / &s_hi, &u / &s_lo)
        };
        let base = &p0 * &half;
        let c1 = (&base + &w_lo, &base + &w_hi);
        let c2 = (&base - &w_hi, &base - &w_lo);
        let zero = BigRational::zero();
        let term = |c: (BigRational, BigRational), nonneg: bool| -> (BigRational, BigRational) {
            if nonneg {
                (c.0.min(zero.clone()), c.1.max(zero.clone()))
            } else {
                let m = c.0.abs().max(c.1.abs());
                (-m.clone(), m)
            }
        };
        let t1 = term(c1, !l1_lo.is_negative());
        let t2 = term(c2, !l2_lo.is_negative());
        Span {
            lo: round_grid(&(t1.0 + t2.0), false),
            hi: round_grid(&(t1.1 + t2.1), true),
        }
    };
    Ok(match first {
        Some(p) => Span {
            lo: span.lo.min(p.clone()),
            hi: span.hi.max(p),
        },
        None => span,
    })
}

/// The reachable box of one coordinate, or why there is none (`Err(reason)`).
pub(super) fn coordinate_box(
    config: &OptimizerConfig<BigRational>,
    p: &BigRational,
    state: &CheckpointState,
    i: usize,
) -> Result<Span, NoBound> {
    use OptimizerConfig as C;
    let one = BigRational::one();
    let t = state.step.get(i).copied().unwrap_or(0);
    // a monotone move of at most `d` against the sign of `m`
    let against = |m: &BigRational, d: BigRational| -> Span {
        let d = round_grid(&d, true);
        if m.is_positive() {
            Span {
                lo: p - d,
                hi: p.clone(),
            }
        } else {
            Span {
                lo: p.clone(),
                hi: p + d,
            }
        }
    };
    match config {
        C::Sgd(c) => {
            let (lr, mu, wd) = (c.lr(), c.momentum(), c.weight_decay());
            if wd.is_zero() {
                let b = state.get("momentum_buffer", i);
                if mu.is_zero() || b.is_zero() {
                    return Ok(Span::point(p));
                }
                let factor = if c.nesterov() { mu * mu } else { mu.clone() };
                let limit = p - lr * &b * factor / (&one - mu);
                return Ok(Span::hull(p, &limit));
            }
            if !mu.is_zero() {
                let b = state
                    .buffers
                    .get("momentum_buffer")
                    .and_then(|v| v.get(i))
                    .cloned();
                return momentum_weight_decay(lr, mu, c.dampening(), wd, c.nesterov(), p, b);
            }
            let contraction = &one - lr * wd;
            if !contraction.is_negative() {
                Ok(Span::hull(p, &BigRational::zero()))
            } else if contraction >= -one.clone() {
                Ok(Span::symmetric(&p.abs()))
            } else {
                Err(NoBound::Diverges(
                    "SGD with lr * weight_decay > 2 diverges: p_n = (1 - lr wd)^n p".into(),
                ))
            }
        }
        C::Adagrad(c) => {
            let wd = c.weight_decay();
            if wd.is_zero() || p.is_zero() {
                return Ok(Span::point(p));
            }
            let lr = c.lr();
            let s = state.get("sum", i);
            if s.is_negative() {
                return Err(NoBound::BadState(
                    "negative Adagrad sum in the state".into(),
                ));
            }
            let k = lr * wd / (sqrt_down(&s) + c.eps());
            if k <= one {
                Ok(Span::hull(p, &BigRational::zero()))
            } else if k <= q(2, 1) {
                Ok(Span::symmetric(&p.abs()))
            } else {
                Ok(Span::symmetric(&p.abs().max(lr * q(3, 2))))
            }
        }
        C::Rmsprop(c) => {
            let (lr, mu, wd) = (c.lr(), c.momentum(), c.weight_decay());
            let b = state.get("momentum_buffer", i);
            if wd.is_zero() {
                if mu.is_zero() || b.is_zero() {
                    return Ok(Span::point(p));
                }
                let limit = p - lr * &b * mu / (&one - mu);
                return Ok(Span::hull(p, &limit));
            }
            if p.is_zero() && b.is_zero() {
                return Ok(Span::point(p));
            }
            if c.centered() {
                if !mu.is_zero() {
                    return Err(NoBound::Unsupported("weight decay with centered RMSprop and momentum: no bound derived (the normalized gradient has no bound independent of p)".into()));
                }
                let (v, a) = (state.get("square_avg", i), state.get("grad_avg", i));
                if v < &a * &a {
                    return Err(NoBound::BadState(
                        "centered RMSprop state with square_avg < grad_avg^2".into(),
                    ));
                }
                return decay::contraction(p, &(lr * wd / c.eps()), "centered RMSprop");
            }
            if !mu.is_zero() {
                let (d, o) = decay::rmsprop_momentum(lr, mu, c.alpha(), &b);
                return Ok(decay::with_overshoot(p, &b, &d, &o));
            }
            if lr * wd / c.eps() <= one {
                return Ok(Span::hull(p, &BigRational::zero()));
            }
            let h = round_grid(&(lr / (sqrt_down(&(&one - c.alpha())) * q(2, 1))), true);
            Ok(Span::symmetric(&p.abs().max(h * q(3, 1))))
        }
        C::Adam(c) => {
            let wd = c.weight_decay();
            let m = state.get("exp_avg", i);
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(Span::point(p));
            }
            let (b1, b2) = (c.betas().0, c.betas().1);
            let (lr, eps) = (c.lr(), c.eps());
            let v = state.get("exp_avg_sq", i);
            if v.is_negative() {
                return Err(NoBound::BadState("negative exp_avg_sq in the state".into()));
            }
            let lr_c1 = bias_factor(b1, t) * lr;
            let base = &lr_c1 * m.abs();
            let eps_bound = b1 / ((&one - b1) * eps);
            let d = if c.amsgrad() {
                let vmax = state.get("max_exp_avg_sq", i);
                if vmax.is_negative() {
                    return Err(NoBound::BadState(
                        "negative max_exp_avg_sq in the state".into(),
                    ));
                }
                let w = vmax.max(b2 * &v);
                let sqrt_w = sqrt_down(&w);
                let b = &sqrt_w + eps;
                let d = SPLITS
                    .iter()
                    .map(|&n| {
                        let qn = if n == 0 {
                            one.clone()
                        } else {
                            let low = pow_bound(b2, t.saturating_add(n), false);
                            sqrt_up(&(&one - low)).min(one.clone())
                        };
                        let a = &sqrt_w / &qn + eps;
                        let pn = pow_bound(b1, n + 1, true).min(b1.clone());
                        ((b1 - &pn) / a + pn / &b) / (&one - b1)
                    })
                    .min()
                    .expect("SPLITS is not empty");
                base * d
            } else {
                let factor = match adam_v_factor(b1, b2, &v, t) {
                    Some(g) => g.min(eps_bound),
                    None => eps_bound,
                };
                base * factor
            };
            if wd.is_zero() {
                return Ok(against(&m, d));
            }
            let o = decay::adam_overshoot(&lr_c1, b1, b2, &m, &v)?;
            Ok(decay::with_overshoot(p, &m, &d, &o))
        }
        C::Adamax(c) => {
            let wd = c.weight_decay();
            let m = state.get("exp_avg", i);
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(Span::point(p));
            }
            let (b1, b2) = (c.betas().0, c.betas().1);
            let u = state.get("exp_inf", i);
            if u.is_negative() {
                return Err(NoBound::BadState("negative exp_inf in the state".into()));
            }
            let mut factor = b1 / ((&one - b1) * c.eps());
            if b1 < b2 && u.is_positive() {
                let ratio = b1 / b2;
                factor = factor.min(&ratio / ((&one - &ratio) * &u));
            }
            let lr_c1 = bias_factor(b1, t) * c.lr();
            let d = &lr_c1 * m.abs() * factor;
            if wd.is_zero() {
                return Ok(against(&m, d));
            }
            let o = decay::adamax_overshoot(&lr_c1, b1, b2, c.eps(), &m, &u)?;
            Ok(decay::with_overshoot(p, &m, &d, &o))
        }
        C::Nadam(c) => {
            let wd = c.weight_decay();
            let m = state.get("exp_avg", i);
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(Span::point(p));
            }
            let (b1, b2) = (c.betas().0, c.betas().1);
            let product = state
                .mu_product
                .get(i)
                .cloned()
                .unwrap_or_else(BigRational::one);
            if product.is_negative() || &product * b1 >= one {
                return Err(NoBound::BadState(
                    "NAdam's mu_product * beta1 >= 1 (or negative): the step factor has no bound"
                        .into(),
                ));
            }
            let v = state.get("exp_avg_sq", i);
            if v.is_negative() {
                return Err(NoBound::BadState("negative exp_avg_sq in the state".into()));
            }
            let cn = c.lr() * b1 / (&one - &product * b1);
            let eps_bound = b1 / ((&one - b1) * c.eps());
            let factor = match adam_v_factor(b1, b2, &v, t) {
                Some(g) => g.min(eps_bound),
                None => eps_bound,
            };
            let d = &cn * m.abs() * factor;
            if wd.is_zero() {
                return Ok(against(&m, d));
            }
            let o = decay::nadam_overshoot(c.lr(), &cn, &product, b1, b2, &m, &v)?;
            Ok(decay::with_overshoot(p, &m, &d, &o))
        }
        C::Adadelta(c) => {
            let wd = c.weight_decay();
            if wd.is_zero() {
                return Ok(Span::point(p));
            }
            decay::adadelta(
                c.lr(),
                c.eps(),
                wd,
                p,
                &state.get("square_avg", i),
                &state.get("acc_delta", i),
            )
        }
    }
}
