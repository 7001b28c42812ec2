//! The checker's own reachable-interval bounds of one coordinate (check/README.md,
//! "dead-forever"; the derivations are deadrelu's `optim::reach` module docs), on the
//! `2^-112` grid, every rounding outward.

use crate::CheckError;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

mod adaptive;
mod grid;
mod hyper;
mod momentum;

use adaptive::*;
use grid::*;
pub(crate) use hyper::{Coord, Hyper};
use momentum::momentum_wd;

/// The grid of the checker's outward rounding (finer than the writer's `2^-96`, so the
/// recomputed bounds are at most the writer's).
pub(crate) const PREC: usize = 112;
/// The split points of the Adam-family bounds (as the writer's).
pub(crate) const SPLITS: [u64; 7] = [0, 8, 32, 128, 512, 2048, 8192];

/// Why a coordinate has no reachable bound: an unreadable hyperparameter (its error kept
/// whole as the source) or a case the bounds do not cover.
#[derive(Debug)]
pub(crate) enum NoBound {
    /// A hyperparameter is missing or out of its range.
    Hyper(CheckError),
    /// A state or hyperparameter combination without a proven bound.
    Case(&'static str),
    /// An optimizer name the checker has no bound for.
    UnknownOptimizer(String),
}

impl std::fmt::Display for NoBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoBound::Hyper(e) => e.fmt(f),
            NoBound::Case(why) => f.write_str(why),
            NoBound::UnknownOptimizer(name) => write!(f, "unknown optimizer {name:?}"),
        }
    }
}

impl std::error::Error for NoBound {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NoBound::Hyper(e) => Some(e),
            NoBound::Case(_) | NoBound::UnknownOptimizer(_) => None,
        }
    }
}

impl From<CheckError> for NoBound {
    fn from(e: CheckError) -> Self {
        NoBound::Hyper(e)
    }
}

impl From<&'static str> for NoBound {
    fn from(why: &'static str) -> Self {
        NoBound::Case(why)
    }
}

/// The checker's reachable interval of one coordinate (README, "dead-forever").
pub(crate) fn reach(
    name: &str,
    h: &Hyper,
    c: &Coord,
) -> Result<(BigRational, BigRational), NoBound> {
    let one = BigRational::one();
    let zero = BigRational::zero();
    let p = c.p;
    let point = || (p.clone(), p.clone());
    let lr = h.positive("lr")?;
    let wd = h.non_negative("weight_decay")?;
    match name {
        "sgd" | "momentum" | "nesterov" => {
            let mu = h.unit("momentum")?;
            let nesterov = h.flag("nesterov")?;
            if wd.is_zero() {
                let b = (c.buffers)("momentum_buffer");
                if mu.is_zero() || b.is_zero() {
                    return Ok(point());
                }
                let f = if nesterov { &mu * &mu } else { mu.clone() };
                return Ok(hull(p, &(p - &lr * &b * f / (&one - &mu))));
            }
            if !mu.is_zero() {
                let d = h.num("dampening")?;
                if d.is_negative() || d > one {
                    return Err("dampening must be in [0, 1]".into());
                }
                return momentum_wd(
                    &lr,
                    &mu,
                    &d,
                    &wd,
                    nesterov,
                    p,
                    (c.has)("momentum_buffer").then(|| (c.buffers)("momentum_buffer")),
                );
            }
            let c = &one - &lr * &wd;
            if !c.is_negative() {
                Ok(hull(p, &zero))
            } else if c >= -one.clone() {
                Ok((-p.abs(), p.abs()))
            } else {
                Err("lr * weight_decay > 2".into())
            }
        }
        "adagrad" => {
            let eps = h.positive("eps")?;
            if wd.is_zero() || p.is_zero() {
                return Ok(point());
            }
            let s = (c.buffers)("sum");
            if s.is_negative() {
                return Err("negative sum".into());
            }
            let k = &lr * &wd / (sqrt_bound(&s, false) + eps);
            if k <= one {
                Ok(hull(p, &zero))
            } else if k <= q(2, 1) {
                Ok((-p.abs(), p.abs()))
            } else {
                let m = p.abs().max(&lr * q(3, 2));
                Ok((-m.clone(), m))
            }
        }
        "rmsprop" => {
            let mu = h.unit("momentum")?;
            let alpha = h.unit("alpha")?;
            let eps = h.positive("eps")?;
            let centered = h.flag("centered")?;
            if wd.is_zero() {
                let b = (c.buffers)("momentum_buffer");
                if mu.is_zero() || b.is_zero() {
                    return Ok(point());
                }
                return Ok(hull(p, &(p - &lr * &b * &mu / (&one - &mu))));
            }
            let b = (c.buffers)("momentum_buffer");
            if p.is_zero() && b.is_zero() {
                return Ok(point());
            }
            if centered {
                if !mu.is_zero() {
                    return Err("weight decay with centered RMSprop and momentum".into());
                }
                let (v, a) = ((c.buffers)("square_avg"), (c.buffers)("grad_avg"));
                if v < &a * &a {
                    return Err("square_avg < grad_avg^2".into());
                }
                return shrink(p, &(&lr * &wd / &eps));
            }
            if !mu.is_zero() {
                let cap = &one / ((&one - &mu) * sqrt_bound(&(&one - &alpha), false));
                let o = &lr * b.abs().max(cap) / (&one - &mu);
                let d = &lr * b.abs() * &mu / (&one - &mu);
                return Ok(overshoot(p, &b, &d, &o));
            }
            if &lr * &wd / &eps <= one {
                return Ok(hull(p, &zero));
            }
            let hh = round(
                &(&lr / (sqrt_bound(&(&one - alpha), false) * q(2, 1))),
                true,
            );
            let m = p.abs().max(hh * q(3, 1));
            Ok((-m.clone(), m))
        }
        "adam" | "amsgrad" => {
            let b1 = h.unit("beta1")?;
            let b2 = h.unit("beta2")?;
            let eps = h.positive("eps")?;
            let ams = h.flag("amsgrad")?;
            if ams != (name == "amsgrad") {
                return Err("amsgrad flag disagrees with the optimizer name".into());
            }
            let m = (c.buffers)("exp_avg");
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(point());
            }
            let v = (c.buffers)("exp_avg_sq");
            if v.is_negative() {
                return Err("negative exp_avg_sq".into());
            }
            let lr_c1 = bias_factor(&b1, c.t) * &lr;
            let base = &lr_c1 * m.abs();
            let decay = |d: BigRational| -> Result<(BigRational, BigRational), NoBound> {
                if wd.is_zero() {
                    return Ok(against(p, &m, &d));
                }
                let (rho, r) = ratio_bound(&b1, &b2, &m, &v)?;
                Ok(overshoot(p, &m, &d, &(&lr_c1 * rho / (&one - r))))
            };
            let eps_bound = &b1 / ((&one - &b1) * &eps);
            if ams {
                let w = (c.buffers)("max_exp_avg_sq").max(&b2 * &v);
                if w.is_negative() {
                    return Err("negative max_exp_avg_sq".into());
                }
                let sw = sqrt_bound(&w, false);
                let bb = &sw + &eps;
                let d = SPLITS
                    .iter()
                    .map(|&n| {
                        let a = &sw / q_split(&b2, c.t, n) + &eps;
                        let pn = pow_bound(&b1, n + 1, true).min(b1.clone());
                        ((&b1 - &pn) / a + pn / &bb) / (&one - &b1)
                    })
                    .min()
                    .expect("splits");
                return decay(base * d);
            }
            let f = v_factor(&b1, &b2, &v, c.t).map_or(eps_bound.clone(), |g| g.min(eps_bound));
            decay(base * f)
        }
        "adamax" => {
            let b1 = h.unit("beta1")?;
            let b2 = h.unit("beta2")?;
            let eps = h.positive("eps")?;
            let m = (c.buffers)("exp_avg");
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(point());
            }
            let u = (c.buffers)("exp_inf");
            if u.is_negative() {
                return Err("negative exp_inf".into());
            }
            let mut f = &b1 / ((&one - &b1) * &eps);
            if b1 < b2 && u.is_positive() {
                let r = &b1 / &b2;
                f = f.min(&r / ((&one - &r) * &u));
            }
            let lr_c1 = bias_factor(&b1, c.t) * &lr;
            let d = &lr_c1 * m.abs() * f;
            if wd.is_zero() {
                return Ok(against(p, &m, &d));
            }
            if b1 >= b2 {
                return Err("weight decay with Adamax and beta1 >= beta2".into());
            }
            let qq = &b1 / &b2;
            let rho = m.abs() / u.max(eps.clone()) + (&one - &b1) / (&one - &qq);
            Ok(overshoot(p, &m, &d, &(lr_c1 * rho / (&one - qq))))
        }
        "nadam" => {
            let b1 = h.unit("beta1")?;
            let b2 = h.unit("beta2")?;
            let eps = h.positive("eps")?;
            let m = (c.buffers)("exp_avg");
            if m.is_zero() && (wd.is_zero() || p.is_zero()) {
                return Ok(point());
            }
            let pr = &c.mu_product;
            if pr.is_negative() || pr * &b1 >= one {
                return Err("mu_product * beta1 >= 1".into());
            }
            let v = (c.buffers)("exp_avg_sq");
            if v.is_negative() {
                return Err("negative exp_avg_sq".into());
            }
            let cn = &lr * &b1 / (&one - pr * &b1);
            let eps_bound = &b1 / ((&one - &b1) * &eps);
            let f = v_factor(&b1, &b2, &v, c.t).map_or(eps_bound.clone(), |g| g.min(eps_bound));
            let d = &cn * m.abs() * f;
            if wd.is_zero() {
                return Ok(against(p, &m, &d));
            }
            let (rho, r) = ratio_bound(&b1, &b2, &m, &v)?;
            let a = &lr * (&one - &b1 * q(1, 2)) / (&one - pr * &b1);
            let o = a / sqrt_bound(&(&one - &b2), false) + cn * rho / (&one - r);
            Ok(overshoot(p, &m, &d, &o))
        }
        "adadelta" => {
            if wd.is_zero() || p.is_zero() {
                return Ok(point());
            }
            let eps = h.positive("eps")?;
            h.unit("rho")?;
            let (sa, ad) = ((c.buffers)("square_avg"), (c.buffers)("acc_delta"));
            if sa.is_negative() || ad.is_negative() {
                return Err("negative square_avg or acc_delta".into());
            }
            let gamma = &wd * &wd * p * p / &eps;
            if gamma >= one {
                return Err("weight decay with Adadelta and wd^2 p^2 >= eps".into());
            }
            let dmax = ad.max(&gamma * &eps / (&one - &gamma));
            let k = &lr * &wd * sqrt_bound(&(dmax + &eps), true) / sqrt_bound(&eps, false);
            shrink(p, &k)
        }
        other => Err(NoBound::UnknownOptimizer(other.to_string())),
    }
}
