//! The check of a `dead-forever` certificate (deadrelu's `audit --optimizer-state`).
//!
//! Claims, each re-derived here with this crate's own code:
//!
//! 1. `box` contains the reachable set of every coordinate of layers `1..layer` under
//!    zero loss gradient from `(theta, state)` with the optimizer and hyperparameters of
//!    the certificate: the bound of each coordinate is recomputed from the derivations of
//!    deadrelu's `optim::reach` module docs (repeated in the README) on a finer grid
//!    (`2^-112`; every rounding goes outward), and must lie inside the certificate's
//!    interval. An edited state (a larger `exp_avg`, a momentum buffer pointing the other
//!    way, a smaller step count) gives a larger or shifted bound and fails here.
//! 2. `layer` is dead on every data point for every parameter of `box`: interval bounds
//!    of the pre-activations of layers `1..layer` (exact rationals; layer 1 exact, later
//!    layers with inputs `>= 0`), every upper bound of layer `layer` `<= 0`.
//! 3. The digest.
//!
//! Limits (`crate::limits`): the parameter count is sized with checked arithmetic and
//! `points x parameters <= MAX_POINTS_TIMES_PARAMS` before the data are read; the
//! re-derived bounds and the interval products are charged to a [`Meter`].

use crate::canon::digest;
use crate::limits::{Limit, MAX_POINTS_TIMES_PARAMS, Meter, bits, too_large};
use crate::read::{count, field, list, number, vector};
use crate::{CheckError, Claim, ensure, unreadable};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::Value;

/// The grid of the checker's outward rounding (finer than the writer's `2^-96`, so the
/// recomputed bounds are at most the writer's).
const PREC: usize = 112;
/// The split points of the Adam-family bounds (as the writer's).
const SPLITS: [u64; 7] = [0, 8, 32, 128, 512, 2048, 8192];

/// What a successful check of a `dead-forever` certificate established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCheckpoint {
    /// The architecture.
    pub widths: Vec<usize>,
    /// The layer dead forever.
    pub layer: usize,
    /// The optimizer.
    pub optimizer: String,
    /// Data points.
    pub points: usize,
    /// Coordinates whose reachable interval was re-derived.
    pub coordinates: usize,
}

impl CheckedCheckpoint {
    /// The one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "valid: layer {} of {} stays dead on all {} points at every future step of {} from this checkpoint (reachable box of {} coordinates re-derived, deadness over the box re-proven)",
            self.layer,
            self.widths
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(","),
            self.points,
            self.optimizer,
            self.coordinates
        )
    }
}

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
struct Hyper<'a>(&'a Value);

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
struct Coord<'a> {
    p: &'a BigRational,
    t: u64,
    buffers: &'a dyn Fn(&str) -> BigRational,
    has: &'a dyn Fn(&str) -> bool,
    mu_product: BigRational,
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
fn reach(name: &str, h: &Hyper, c: &Coord) -> Result<(BigRational, BigRational), String> {
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

/// Checks a `dead-forever` certificate (module docs).
///
/// # Errors
/// [`CheckError::Unreadable`] for a malformed certificate, [`CheckError::ClaimFails`]
/// naming the false claim.
pub fn check_checkpoint_certificate(text: &str) -> Result<CheckedCheckpoint, CheckError> {
    let cert: Value =
        serde_json::from_str(text).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let claim = field(&cert, "claim")?.as_str().unwrap_or("");
    ensure(Claim::Kind, claim == "dead-forever", || {
        format!("claim is {claim:?}, not \"dead-forever\"")
    })?;
    let widths: Vec<usize> = list(field(&cert, "arch")?, "arch")?
        .iter()
        .enumerate()
        .map(|(i, w)| count(w, &format!("arch[{i}]")))
        .collect::<Result<_, _>>()?;
    ensure(
        Claim::Arch,
        widths.len() >= 3 && widths.iter().all(|&w| w >= 1),
        || "arch needs L >= 2 and widths >= 1".into(),
    )?;
    let layer = count(field(&cert, "layer")?, "layer")?;
    ensure(
        Claim::DeadLayerIndex,
        layer >= 1 && layer < widths.len() - 1,
        || format!("layer {layer} is not a hidden layer"),
    )?;
    // parameter layout up to layer k, sized with overflow-safe arithmetic
    let mut offsets = vec![0usize; layer + 2];
    for l in 1..=layer {
        offsets[l + 1] = widths[l]
            .checked_mul(widths[l - 1].saturating_add(1))
            .and_then(|n| n.checked_add(offsets[l]))
            .ok_or_else(|| too_large(Limit::Size, "the parameter count overflows"))?;
    }
    let offset = |k: usize| -> usize { offsets[k] };
    let end = offset(layer + 1);
    let rows = list(field(field(&cert, "data")?, "x")?, "data.x")?;
    let work = (rows.len() as u128).saturating_mul(end as u128);
    if work > MAX_POINTS_TIMES_PARAMS {
        return Err(too_large(
            Limit::Size,
            format!(
                "{} data points x {end} parameters of layers 1..{layer}",
                rows.len()
            ),
        ));
    }
    let mut meter = Meter::new();
    let theta = vector(field(&cert, "theta")?, "theta")?;
    ensure(Claim::Theta0, theta.len() == end, || {
        format!(
            "theta has {} entries, layers 1..{layer} have {end}",
            theta.len()
        )
    })?;
    let xs: Vec<Vec<BigRational>> = rows
        .iter()
        .enumerate()
        .map(|(m, x)| vector(x, &format!("data.x[{m}]")))
        .collect::<Result<_, _>>()?;
    ensure(
        Claim::Data,
        !xs.is_empty() && xs.iter().all(|x| x.len() == widths[0]),
        || "data.x: at least one point, each with arch[0] inputs".into(),
    )?;
    let opt = field(&cert, "optimizer")?;
    let name = field(opt, "name")?.as_str().unwrap_or("").to_string();
    field(opt, "hyperparameters")?;
    // parameter groups: one hyperparameter set per group, the group of each coordinate
    let groups: Vec<Hyper> = match opt.get("groups") {
        Some(g) => list(g, "optimizer.groups")?.iter().map(Hyper).collect(),
        None => vec![Hyper(field(opt, "hyperparameters")?)],
    };
    let state = field(&cert, "state")?;
    let steps: Vec<u64> = list(field(state, "step")?, "state.step")?
        .iter()
        .map(|s| {
            s.as_u64()
                .ok_or_else(|| unreadable("state.step: expected integers"))
        })
        .collect::<Result<_, _>>()?;
    let mut buffers = std::collections::BTreeMap::new();
    if let Some(obj) = field(state, "buffers")?.as_object() {
        for (k, v) in obj {
            let b = vector(v, &format!("state.buffers.{k}"))?;
            if b.len() != end {
                return Err(unreadable(format!(
                    "state.buffers.{k}: expected {end} entries"
                )));
            }
            buffers.insert(k.clone(), b);
        }
    }
    let group: Vec<usize> = match state.get("group") {
        Some(g) => list(g, "state.group")?
            .iter()
            .map(|v| count(v, "state.group"))
            .collect::<Result<_, _>>()?,
        None => vec![0; end],
    };
    if group.len() != end || group.iter().any(|&g| g >= groups.len()) {
        return Err(unreadable(format!(
            "state.group: expected {end} indices into optimizer.groups"
        )));
    }
    let mu_product = match state.get("mu_product") {
        Some(v) => vector(v, "state.mu_product")?,
        None => vec![BigRational::one(); end],
    };
    if steps.len() != end || mu_product.len() != end {
        return Err(unreadable(format!(
            "state: expected {end} entries per coordinate"
        )));
    }
    let bx = field(&cert, "box")?;
    let lo = vector(field(bx, "lo")?, "box.lo")?;
    let hi = vector(field(bx, "hi")?, "box.hi")?;
    if lo.len() != end || hi.len() != end {
        return Err(unreadable(format!("box: expected {end} entries each")));
    }
    // claim 1: the box contains the re-derived reachable interval of every coordinate
    for i in 0..end {
        let get = |b: &str| {
            buffers
                .get(b)
                .map(|v: &Vec<BigRational>| v[i].clone())
                .unwrap_or_else(BigRational::zero)
        };
        let has = |b: &str| buffers.contains_key(b);
        let coord = Coord {
            p: &theta[i],
            t: steps[i],
            buffers: &get,
            has: &has,
            mu_product: mu_product[i].clone(),
        };
        // the bound of one coordinate: a few hundred operations on numbers of the state's
        // sizes and the 2^-112 grid (the split points), charged up front
        let size = bits(&theta[i])
            + buffers.values().map(|b| bits(&b[i])).sum::<u64>()
            + bits(&mu_product[i]);
        for _ in 0..SPLITS.len() * 16 {
            meter.op(size, 2 * PREC as u64)?;
        }
        let r = reach(&name, &groups[group[i]], &coord);
        ensure(
            Claim::ReachableBox,
            matches!(&r, Ok((l, h)) if &lo[i] <= l && h <= &hi[i]),
            || match &r {
                Ok((l, h)) => format!(
                    "coordinate {i}: the reachable interval [{l}, {h}] is not inside the box [{}, {}]",
                    lo[i], hi[i]
                ),
                Err(e) => format!("coordinate {i}: no reachable bound ({e})"),
            },
        )?;
    }
    // claim 2: layer k dead on the data over the box
    for (m, x) in xs.iter().enumerate() {
        let mut act: Vec<(BigRational, BigRational)> =
            x.iter().map(|v| (v.clone(), v.clone())).collect();
        for l in 1..=layer {
            let base = offset(l);
            let (fan_in, width) = (widths[l - 1], widths[l]);
            let mut z: Vec<(BigRational, BigRational)> = Vec::with_capacity(width);
            for j in 0..width {
                let bi = base + width * fan_in + j;
                let (mut zl, mut zh) = (lo[bi].clone(), hi[bi].clone());
                for (i, (al, ah)) in act.iter().enumerate() {
                    let wi = base + j * fan_in + i;
                    // four products and two sums
                    let cost = (bits(&lo[wi]) + bits(&hi[wi]), bits(al) + bits(ah));
                    for _ in 0..4 {
                        meter.op(cost.0, cost.1)?;
                    }
                    let c = [&lo[wi] * al, &lo[wi] * ah, &hi[wi] * al, &hi[wi] * ah];
                    zl += c.iter().min().expect("four");
                    zh += c.iter().max().expect("four");
                }
                z.push((zl, zh));
            }
            if l == layer {
                for (j, (_, zh)) in z.iter().enumerate() {
                    ensure(Claim::DeadOverBox, !zh.is_positive(), || {
                        format!(
                            "data point {m}, neuron {j} of layer {layer}: the pre-activation is not proven <= 0 over the box (upper bound {zh})"
                        )
                    })?;
                }
            }
            act = z
                .into_iter()
                .map(|(a, b)| (a.max(BigRational::zero()), b.max(BigRational::zero())))
                .collect();
        }
    }
    let stated = field(&cert, "digest")?.as_str().unwrap_or("").to_string();
    let actual = digest(&cert);
    ensure(Claim::Digest, stated == actual, || {
        format!("stated {stated}, computed {actual}")
    })?;
    Ok(CheckedCheckpoint {
        widths,
        layer,
        optimizer: name,
        points: xs.len(),
        coordinates: end,
    })
}
