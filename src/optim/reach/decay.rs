//! Reachable boxes with L2 weight decay for the adaptive optimizers (Adam, AMSGrad,
//! Adamax, NAdam, RMSprop with momentum or centered, Adadelta).
//!
//! With PyTorch's L2 weight decay (`decoupled_weight_decay = False`) the gradient of a
//! coordinate whose loss gradient is zero is `g_k = wd p_{k-1}`: it pulls `p` toward 0.
//! The normalized steps of the Adam family do not shrink with `p`, so the coordinate
//! keeps moving around 0; the bounds below enclose it in `[-O, O]` plus the transient of
//! the current state. `k = 1, 2, ...` counts the future steps, `(p_0, m_0, v_0)` is the
//! state now, `t` its step count, `C1 = 1 / (1 - b1^(t+1))` (an upper bound of every
//! later bias correction of the first moment).
//!
//! # Adam and AMSGrad
//! `m_k = b1 m_{k-1} + (1 - b1) g_k`, `v_k = b2 v_{k-1} + (1 - b2) g_k^2`, the step is
//! `s_k = lr / (1 - b1^(t+k)) * m_k / (sqrt(w_k / (1 - b2^(t+k))) + eps)` with `w_k = v_k`
//! (Adam) or `w_k = max(w_{k-1}, v_k) >= v_k` (AMSGrad). So `s_k` has the sign of `m_k`
//! and `|s_k| <= lr C1 |m_k| / sqrt(v_k)`.
//!
//! **Ratio bound.** With `r = b1 / sqrt(b2) < 1`: `v_k >= b2^k v_0` and
//! `v_k >= (1 - b2) b2^(k-j) g_j^2`, so
//! `|m_k| <= b1^k |m_0| + (1 - b1) sum_j b1^(k-j) |g_j|
//!        <= sqrt(v_k) (r^k A + K0 (1 - r^k))`
//! with `A = |m_0| / sqrt(v_0)` and `K0 = (1 - b1) / (sqrt(1 - b2) (1 - r))`; hence
//! `|m_k| / sqrt(v_k) <= rho = max(A, K0)` at every `k >= 1`. (Not certified when
//! `m_0 != 0 = v_0`, or `r >= 1`.)
//!
//! **Positive stretches.** Let `p_j > 0` for `c <= j <= k`. For `j > c`,
//! `m_j = b1 m_{j-1} + (1 - b1) wd p_{j-1} > b1 m_{j-1}`: once `m_j >= 0` it stays `> 0`
//! and `p` only decreases; before that (`m < 0`, the only steps where `p` grows)
//! `|m_j| <= b1 |m_{j-1}|` and `v_j >= b2 v_{j-1}`, so
//! `|m_j| / sqrt(v_j) <= r |m_{j-1}| / sqrt(v_{j-1})`.
//!
//! - *The stretch starts at a crossing* (`p_{c-1} <= 0 < p_c`): `p_c <= |s_c| <= lr C1
//!   rho`, and the later increases sum to at most `lr C1 rho (r + r^2 + ...)`, so
//!   `p_k <= O = lr C1 rho / (1 - r)`.
//! - *The stretch starts at `c = 0`* (`p_0 > 0`): `p` grows only while `m_j < 0` from
//!   `j = 1` on, which needs `m_0 < 0`, and there `|m_j| <= b1^j |m_0|`, `v_j >= b2^j v_0`
//!   (AMSGrad: `w_j >= max(w_0, b2 v_0)`): exactly the step bounds of the zero-decay
//!   case, so the growth is at most that case's displacement `D` (module docs of
//!   [`super`]).
//!
//! So `p_k <= max(p_0 + [m_0 < 0] D, O)`, and by symmetry `p_k >= min(p_0 - [m_0 > 0] D,
//! -O)`. With `p_0 = m_0 = 0` nothing ever moves.
//!
//! # NAdam
//! The same moments; the step is `s_k = (a_k g_k + b_k m_k) / den_k` with
//! `a_k = lr (1 - mu_{t+k}) / (1 - P_{t+k}) <= a = lr (1 - b1 / 2) / (1 - P b1)`,
//! `b_k <= CN = lr b1 / (1 - P b1)` (module docs of [`super`]) and
//! `den_k >= sqrt(v_k) >= sqrt(1 - b2) |g_k|`. In a positive stretch the `g` term only
//! pushes down, so the argument above holds with `CN` for `lr C1`; at a crossing
//! `p_{c-1} - a_c g_c / den_c` is `<= 0` or at most `a_c |g_c| / den_c <= a / sqrt(1 - b2)`,
//! so `O = a / sqrt(1 - b2) + CN rho / (1 - r)`.
//!
//! # Adamax
//! `u_k = max(b2 u_{k-1}, |g_k| + eps)`, `s_k = lr / (1 - b1^(t+k)) m_k / u_k`. With
//! `q = b1 / b2 < 1`: `b1^k |m_0| <= |m_0| u_k / max(u_0, eps)` (as `u_k >= b2^k u_0` and
//! `u_k >= eps`) and `b1^(k-j) |g_j| <= q^(k-j) u_k`, so `|m_k| / u_k <= rho = A + K`,
//! `A = |m_0| / max(u_0, eps)`, `K = (1 - b1) / (1 - q)`; in a stretch
//! `|m_j| / u_j <= q |m_{j-1}| / u_{j-1}`, and `O = lr C1 rho / (1 - q)`.
//!
//! # RMSprop with momentum (not centered)
//! `buf_k = mu buf_{k-1} + g_k / (sqrt(v_k) + eps)`, `p_k = p_{k-1} - lr buf_k`, and
//! `v_k >= (1 - alpha) g_k^2` bounds each added term by `1 / sqrt(1 - alpha)`, so
//! `|buf_k| <= B = max(|buf_0|, 1 / ((1 - mu) sqrt(1 - alpha)))`. In a positive stretch
//! the added term is `> 0`: the same argument gives `O = lr B / (1 - mu)` and the
//! transient `D = lr |buf_0| mu / (1 - mu)`.
//!
//! # RMSprop centered without momentum
//! `p_k = p_{k-1} (1 - kappa_k)`, `kappa_k = lr wd / (sqrt(v_k - a_k^2) + eps) in
//! [0, lr wd / eps]` (the centered variance stays `>= 0`:
//! `v' - a'^2 = alpha (v - a^2) + alpha (1 - alpha) (g - a)^2`, so the state must have
//! `square_avg >= grad_avg^2`). `lr wd / eps <= 1`: the hull of `p` and 0; `<= 2`:
//! `[-|p|, |p|]`; otherwise not certified. Centered with momentum: not certified (the
//! added term `g / (sqrt(var) + eps)` has no bound independent of `p`).
//!
//! # Adadelta
//! `p_k = p_{k-1} (1 - kappa_k)`, `kappa_k = lr wd sqrt(d_{k-1} + eps) / sqrt(s_k + eps)`,
//! `d_k = rho d_{k-1} + (1 - rho) delta_k^2`, `delta_k^2 = (d_{k-1} + eps) g_k^2 /
//! (s_k + eps)`. By induction, while `|p| <= P = |p_0|`: `delta_k^2 <= gamma (d_{k-1} +
//! eps)` with `gamma = wd^2 P^2 / eps`; for `gamma < 1` the map
//! `d -> (rho + (1 - rho) gamma) d + (1 - rho) gamma eps` keeps
//! `d <= Dmax = max(d_0, gamma eps / (1 - gamma))`, so `kappa_k <= K = lr wd sqrt(Dmax +
//! eps) / sqrt(eps)`. `K <= 1`: the hull of `p` and 0 (and `|p|` indeed never grows);
//! `K <= 2`: `[-|p|, |p|]`; otherwise (or `gamma >= 1`) not certified.
//!
//! Square roots and powers are enclosed as in [`super`] (lower ends in denominators,
//! upper ends in numerators), and `O` and `D` are rounded up to the `2^-PREC` grid.

use super::{NoBound, Span, q, round_grid, sqrt_down, sqrt_up};
use crate::scalar::BigRational;
use num_traits::{One, Signed, Zero};

/// The box `[min(p - [m > 0] d, -o), max(p + [m < 0] d, o)]`, `d` the zero-decay
/// displacement against the sign of `m`, `o` the overshoot bound (both rounded up).
pub(super) fn with_overshoot(
    p: &BigRational,
    m: &BigRational,
    d: &BigRational,
    o: &BigRational,
) -> Span {
    let d = round_grid(d, true);
    let o = round_grid(o, true);
    let zero = BigRational::zero();
    let up = if m.is_negative() {
        d.clone()
    } else {
        zero.clone()
    };
    let down = if m.is_positive() { d } else { zero };
    Span {
        lo: (p - down).min(-o.clone()),
        hi: (p + up).max(o),
    }
}

/// `r = b1 / sqrt(b2)` rounded up, when `< 1`.
fn ratio(b1: &BigRational, b2: &BigRational) -> Result<BigRational, NoBound> {
    if !b2.is_positive() {
        return Err(NoBound::Unsupported(
            "weight decay needs beta2 > 0 (no ratio bound of the normalized step)".into(),
        ));
    }
    let r = round_grid(&(b1 / sqrt_down(b2)), true);
    if r >= BigRational::one() {
        return Err(NoBound::Unsupported(
            "weight decay needs beta1 < sqrt(beta2) (the normalized step has no bound)".into(),
        ));
    }
    Ok(r)
}

/// `rho = max(|m0| / sqrt(v0), K0)` of the module docs (Adam, AMSGrad, NAdam) and `r`.
fn adam_rho(
    b1: &BigRational,
    b2: &BigRational,
    m0: &BigRational,
    v0: &BigRational,
) -> Result<(BigRational, BigRational), NoBound> {
    let one = BigRational::one();
    let r = ratio(b1, b2)?;
    let a = if m0.is_zero() {
        BigRational::zero()
    } else {
        let sv = sqrt_down(v0);
        if !sv.is_positive() {
            return Err(NoBound::BadState(
                "weight decay with exp_avg != 0 and exp_avg_sq = 0: no ratio bound".into(),
            ));
        }
        m0.abs() / sv
    };
    let s = sqrt_down(&(&one - b2));
    let k0 = (&one - b1) / (s * (&one - &r));
    Ok((a.max(k0), r))
}

/// Adam's and AMSGrad's overshoot `O = lr C1 rho / (1 - r)`.
pub(super) fn adam_overshoot(
    lr_c1: &BigRational,
    b1: &BigRational,
    b2: &BigRational,
    m0: &BigRational,
    v0: &BigRational,
) -> Result<BigRational, NoBound> {
    let (rho, r) = adam_rho(b1, b2, m0, v0)?;
    Ok(lr_c1 * rho / (BigRational::one() - r))
}

/// NAdam's overshoot `O = a / sqrt(1 - b2) + CN rho / (1 - r)`.
pub(super) fn nadam_overshoot(
    lr: &BigRational,
    cn: &BigRational,
    product: &BigRational,
    b1: &BigRational,
    b2: &BigRational,
    m0: &BigRational,
    v0: &BigRational,
) -> Result<BigRational, NoBound> {
    let one = BigRational::one();
    let (rho, r) = adam_rho(b1, b2, m0, v0)?;
    let a = lr * (&one - b1 * q(1, 2)) / (&one - product * b1);
    Ok(a / sqrt_down(&(&one - b2)) + cn * rho / (&one - r))
}

/// Adamax's overshoot `O = lr C1 (A + K) / (1 - q)`.
pub(super) fn adamax_overshoot(
    lr_c1: &BigRational,
    b1: &BigRational,
    b2: &BigRational,
    eps: &BigRational,
    m0: &BigRational,
    u0: &BigRational,
) -> Result<BigRational, NoBound> {
    let one = BigRational::one();
    if b1 >= b2 {
        return Err(NoBound::Unsupported(
            "weight decay with Adamax needs beta1 < beta2 (no ratio bound)".into(),
        ));
    }
    let qq = b1 / b2;
    let a = m0.abs() / u0.clone().max(eps.clone());
    let k = (&one - b1) / (&one - &qq);
    Ok(lr_c1 * (a + k) / (&one - qq))
}

/// RMSprop with momentum (not centered): `(D, O)` of the module docs.
pub(super) fn rmsprop_momentum(
    lr: &BigRational,
    mu: &BigRational,
    alpha: &BigRational,
    buf: &BigRational,
) -> (BigRational, BigRational) {
    let one = BigRational::one();
    let cap = one.clone() / ((&one - mu) * sqrt_down(&(&one - alpha)));
    let b = buf.abs().max(cap);
    (lr * buf.abs() * mu / (&one - mu), lr * b / (&one - mu))
}

/// A contraction `p_k = p_{k-1} (1 - kappa_k)` with `0 <= kappa_k <= k`.
pub(super) fn contraction(p: &BigRational, k: &BigRational, what: &str) -> Result<Span, NoBound> {
    if k <= &BigRational::one() {
        Ok(Span::hull(p, &BigRational::zero()))
    } else if k <= &q(2, 1) {
        Ok(Span::symmetric(&p.abs()))
    } else {
        Err(NoBound::Diverges(format!(
            "weight decay with {what}: the contraction factor may exceed 2 (|p| may grow); no bound derived"
        )))
    }
}

/// Adadelta with weight decay (module docs).
pub(super) fn adadelta(
    lr: &BigRational,
    eps: &BigRational,
    wd: &BigRational,
    p: &BigRational,
    square_avg: &BigRational,
    acc_delta: &BigRational,
) -> Result<Span, NoBound> {
    if p.is_zero() {
        return Ok(Span::point(p));
    }
    if square_avg.is_negative() || acc_delta.is_negative() {
        return Err(NoBound::BadState(
            "negative square_avg or acc_delta in the state".into(),
        ));
    }
    let one = BigRational::one();
    let gamma = wd * wd * p * p / eps;
    if gamma >= one {
        return Err(NoBound::Unsupported(
            "weight decay with Adadelta: wd^2 p^2 >= eps, no bound on the step growth derived"
                .into(),
        ));
    }
    let dmax = acc_delta.clone().max(&gamma * eps / (&one - &gamma));
    let k = lr * wd * sqrt_up(&(dmax + eps)) / sqrt_down(eps);
    contraction(p, &k, "Adadelta")
}
