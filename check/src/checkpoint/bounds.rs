//! The checker's own reachable-interval bounds of one coordinate (check/README.md,
//! "dead-forever"; the derivations are deadrelu's `optim::reach` module docs), on the
//! `2^-112` grid, every rounding outward.

use crate::CheckError;
use crate::read::{field, number};
use crate::unreadable;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::Value;

/// The grid of the checker's outward rounding (finer than the writer's `2^-96`, so the
/// recomputed bounds are at most the writer's).
pub(crate) const PREC: usize = 112;
/// The split points of the Adam-family bounds (as the writer's).
pub(crate) const SPLITS: [u64; 7] = [0, 8, 32, 128, 512, 2048, 8192];

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn round(x: &BigRational, up: bool) -> BigRational {
    let g = BigInt::one() << PREC;
    let s = x * BigRational::from_integer(g.clone());
    BigRational::new(if up { s.ceil() } else { s.floor() }.to_integer(), g)
}

fn pow_bound(base: &BigRational, mut e: u64, up: bool) -> BigRational {
    let mut out = BigRational::one();
    let mut sq = round(base, up);
    while e > 0 {
        if e & 1 == 1 {
            out = round(&(&out * &sq), up);
        }
        e >>= 1;
        if e > 0 {
            sq = round(&(&sq * &sq), up);
        }
    }
    out
}

/// `sqrt(x)` rounded down (`up = false`) or up to the grid, `x >= 0`.
fn sqrt_bound(x: &BigRational, up: bool) -> BigRational {
    // sqrt(n/d) = sqrt(n d) / d; floor(sqrt(n d 4^P)) / (d 2^P) <= sqrt(x) < (that + 1) / (d 2^P)
    let (n, d) = (x.numer(), x.denom());
    let s = ((n * d) << (2 * PREC)).sqrt();
    let den = d << PREC;
    let exact = &s * &s == (n * d) << (2 * PREC);
    if up && !exact {
        BigRational::new(s + 1, den)
    } else {
        BigRational::new(s, den)
    }
}

/// The hyperparameters, by PyTorch's names, with their ranges checked.
pub(crate) struct Hyper<'a>(pub(crate) &'a Value);

impl Hyper<'_> {
    fn num(&self, name: &str) -> Result<BigRational, CheckError> {
        number(field(self.0, name)?, &format!("hyperparameters.{name}"))
    }
    fn flag(&self, name: &str) -> Result<bool, CheckError> {
        field(self.0, name)?
            .as_bool()
            .ok_or_else(|| unreadable(format!("hyperparameters.{name}: expected a boolean")))
    }
    fn unit(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if v.is_negative() || v >= BigRational::one() {
            return Err(unreadable(format!(
                "hyperparameters.{name} must be in [0, 1)"
            )));
        }
        Ok(v)
    }
    fn positive(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if !v.is_positive() {
            return Err(unreadable(format!("hyperparameters.{name} must be > 0")));
        }
        Ok(v)
    }
    fn non_negative(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if v.is_negative() {
            return Err(unreadable(format!("hyperparameters.{name} must be >= 0")));
        }
        Ok(v)
    }
}

/// The state of one coordinate.
pub(crate) struct Coord<'a> {
    pub(crate) p: &'a BigRational,
    pub(crate) t: u64,
    pub(crate) buffers: &'a dyn Fn(&str) -> BigRational,
    pub(crate) has: &'a dyn Fn(&str) -> bool,
    pub(crate) mu_product: BigRational,
}

/// Momentum SGD with weight decay (README): `(p, b)` follows `x' = A x`; `p_n` solves
/// `p_{n+2} = T p_{n+1} - det p_n`; real roots: the sum of the hulls of the two terms;
/// complex roots: `|p_n| <= R`, `R^2 = p^2 + (2 p_1 - T p)^2 / (-disc)`.
fn momentum_wd(
    lr: &BigRational,
    mu: &BigRational,
    d: &BigRational,
    wd: &BigRational,
    nesterov: bool,
    p: &BigRational,
    buffer: Option<BigRational>,
) -> Result<(BigRational, BigRational), String> {
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

/// `(lo, hi)` of a monotone move of at most `d` against the sign of `m`.
fn against(p: &BigRational, m: &BigRational, d: &BigRational) -> (BigRational, BigRational) {
    let d = round(d, true);
    if m.is_positive() {
        (p - d, p.clone())
    } else {
        (p.clone(), p + d)
    }
}

fn hull(a: &BigRational, b: &BigRational) -> (BigRational, BigRational) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

/// Weight decay (README): `[min(p - [m > 0] d, -o), max(p + [m < 0] d, o)]`.
fn overshoot(
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
fn ratio_bound(
    b1: &BigRational,
    b2: &BigRational,
    m0: &BigRational,
    v0: &BigRational,
) -> Result<(BigRational, BigRational), String> {
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
fn shrink(p: &BigRational, k: &BigRational) -> Result<(BigRational, BigRational), String> {
    if k <= &BigRational::one() {
        Ok(hull(p, &BigRational::zero()))
    } else if k <= &q(2, 1) {
        Ok((-p.abs(), p.abs()))
    } else {
        Err("contraction factor above 2".into())
    }
}

fn bias_factor(b1: &BigRational, t: u64) -> BigRational {
    let pw = pow_bound(b1, t.saturating_add(1), true);
    if pw >= BigRational::one() {
        return BigRational::from_integer(BigInt::one() << PREC);
    }
    BigRational::one() / (BigRational::one() - pw)
}

fn q_split(b2: &BigRational, t: u64, n: u64) -> BigRational {
    let one = BigRational::one();
    if n == 0 {
        return one;
    }
    let low = pow_bound(b2, t.saturating_add(n), false);
    sqrt_bound(&(&one - low), true).min(one)
}

/// Adam/NAdam's `min_N G / sqrt(v)`, `None` when `b1 >= sqrt(b2)` or `v = 0`.
fn v_factor(b1: &BigRational, b2: &BigRational, v: &BigRational, t: u64) -> Option<BigRational> {
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

/// The checker's reachable interval of one coordinate (README, "dead-forever").
pub(crate) fn reach(
    name: &str,
    h: &Hyper,
    c: &Coord,
) -> Result<(BigRational, BigRational), String> {
    let one = BigRational::one();
    let zero = BigRational::zero();
    let p = c.p;
    let point = || (p.clone(), p.clone());
    let hp = |e: CheckError| e.to_string();
    let lr = h.positive("lr").map_err(hp)?;
    let wd = h.non_negative("weight_decay").map_err(hp)?;
    match name {
        "sgd" | "momentum" | "nesterov" => {
            let mu = h.unit("momentum").map_err(hp)?;
            let nesterov = h.flag("nesterov").map_err(hp)?;
            if wd.is_zero() {
                let b = (c.buffers)("momentum_buffer");
                if mu.is_zero() || b.is_zero() {
                    return Ok(point());
                }
                let f = if nesterov { &mu * &mu } else { mu.clone() };
                return Ok(hull(p, &(p - &lr * &b * f / (&one - &mu))));
            }
            if !mu.is_zero() {
                let d = h.num("dampening").map_err(hp)?;
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
            let eps = h.positive("eps").map_err(hp)?;
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
            let mu = h.unit("momentum").map_err(hp)?;
            let alpha = h.unit("alpha").map_err(hp)?;
            let eps = h.positive("eps").map_err(hp)?;
            let centered = h.flag("centered").map_err(hp)?;
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
            let b1 = h.unit("beta1").map_err(hp)?;
            let b2 = h.unit("beta2").map_err(hp)?;
            let eps = h.positive("eps").map_err(hp)?;
            let ams = h.flag("amsgrad").map_err(hp)?;
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
            let decay = |d: BigRational| -> Result<(BigRational, BigRational), String> {
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
            let b1 = h.unit("beta1").map_err(hp)?;
            let b2 = h.unit("beta2").map_err(hp)?;
            let eps = h.positive("eps").map_err(hp)?;
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
            let b1 = h.unit("beta1").map_err(hp)?;
            let b2 = h.unit("beta2").map_err(hp)?;
            let eps = h.positive("eps").map_err(hp)?;
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
            let eps = h.positive("eps").map_err(hp)?;
            h.unit("rho").map_err(hp)?;
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
        other => Err(format!("unknown optimizer {other:?}")),
    }
}
