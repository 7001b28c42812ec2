//! Where can a coordinate go under zero gradient? Sound reachable boxes from a checkpoint.
//!
//! Setting (MECHANISM.md, "From a checkpoint"): while layer `k` is dead on the data, the
//! loss gradient of every coordinate of layers `1..k` is exactly zero. Each optimizer here
//! is coordinate-wise, so such a coordinate's future depends only on its own value `p`,
//! its own optimizer state and the hyperparameters: with weight decay `wd` its gradient is
//! `g = wd * p` (PyTorch's L2 form), without it `g = 0`. [`reachable_box`] returns, per
//! coordinate, an interval `[lo, hi]` with exact rational endpoints that contains the
//! position after every number `n >= 0` of further steps of that zero-gradient dynamics
//! (real arithmetic, as PyTorch's update rules state them; the `f32` rounding of an actual
//! run is not modelled), or the reason why no bound is derived ([`NotCertified`]).
//!
//! The state is PyTorch's, read per coordinate ([`CheckpointState`]): `t` is the state's
//! `step` (steps taken), and the next step is number `t + 1`. Below, `n = 1, 2, ...`
//! counts the future steps, `p` is the coordinate now.
//!
//! # Bounds without weight decay (`g = 0` at every future step)
//!
//! - **SGD** (momentum 0), **Adagrad** (`sum` does not change, the step is
//!   `clr * 0 / ...`), **RMSprop without momentum** (the scaled gradient is 0, whatever
//!   `square_avg` and `grad_avg` do), **Adadelta** (`delta = ... * g = 0`): the
//!   coordinate never moves; the box is the point `p`.
//! - **Momentum SGD** with buffer `b` (PyTorch's `momentum_buffer`; absent: the first
//!   step sets `b = g = 0` and nothing moves): `b_n = mu^n b` (the dampened term is
//!   `(1 - dampening) * 0`), `p_n = p - lr b (mu + ... + mu^n)`. Monotone from `p` toward
//!   `p_inf = p - lr b mu / (1 - mu)`, never past it: the box is the hull of `p` and
//!   `p_inf`, exact. **Nesterov**: the direction is `g + mu b_n = mu^(n+1) b`, so
//!   `p_inf = p - lr b mu^2 / (1 - mu)`. **RMSprop with momentum**: `b_n = mu^n b`,
//!   `p_n = p - lr (b_1 + ... + b_n)`, the same box as momentum SGD.
//! - **Adam**: `m_n = b1^n m`, `v_n = b2^n v`, and step `n` is
//!   `s_n = lr / (1 - b1^(t+n)) * m_n / (sqrt(v_n) / sqrt(1 - b2^(t+n)) + eps)`. Every
//!   `s_n` has the sign of `m`, so the coordinate moves monotonically: the box is
//!   `[p - D, p]` for `m > 0`, `[p, p + D]` for `m < 0`, with `D >= sum_n |s_n|`. With
//!   `C1 = 1 / (1 - b1^(t+1)) >= 1 / (1 - b1^(t+n))` and, for a split point `N`,
//!   `Q = sqrt(1 - b2^(t+N)) >= sqrt(1 - b2^(t+n))` for `n <= N` (and `1` after):
//!
//!   ```text
//!   |s_n| <= C1 lr |m| * min( b1^n / eps,  r^n Q_n / sqrt(v) ),   r = b1 / sqrt(b2)
//!   sum_n |s_n| <= C1 lr |m| * min( b1 / ((1 - b1) eps),  G / sqrt(v) )
//!   G = sum_{n<=N} Q r^n + sum_{n>N} r^n = (Q r + (1 - Q) r^(N+1)) / (1 - r)
//!   ```
//!
//!   The first bound always exists (`eps > 0`, `b1 < 1`); the second needs `r < 1`,
//!   i.e. `b1 < sqrt(b2)`, and `v > 0` (otherwise only the `eps` bound is used, which is
//!   `lr |m| / eps` in size and rarely certifies anything). `G` is increasing in `Q`
//!   (because `r >= r^(N+1)`), in `r^(N+1)` (because `Q <= 1`) and in `r`, so upper
//!   bounds may be substituted for all three. `D` is the minimum over the split points
//!   [`SPLITS`].
//! - **AMSGrad**: `vmax_n = max(vmax, b2 v)` for every `n >= 1` (`v_n` only decreases),
//!   a constant `W`, so with `A = sqrt(W) / Q + eps` and `B = sqrt(W) + eps`:
//!   `D = C1 lr |m| ((b1 - b1^(N+1)) / A + b1^(N+1) / B) / (1 - b1)`, decreasing in `A`
//!   and `B` and increasing in `b1^(N+1)` (as `B <= A`). Always exists.
//! - **Adamax**: `u_n = max(b2^n u, eps)` (induction: `max(b2 max(b2^(n-1) u, eps), eps)`
//!   `= max(b2^n u, eps)`), `s_n = lr / (1 - b1^(t+n)) * b1^n m / u_n`, so
//!   `D = C1 lr |m| * min( b1 / ((1 - b1) eps),  q / ((1 - q) u) )` with `q = b1 / b2`,
//!   the second only for `b1 < b2` and `u > 0`.
//! - **NAdam**: the gradient term is 0 and step `n` is
//!   `lr mu_{t+n+1} / (1 - P_{t+n} mu_{t+n+1}) * b1^n m / (sqrt(v_n / (1 - b2^(t+n))) + eps)`
//!   with `mu_j = b1 (1 - 0.96^(j psi) / 2) in [b1/2, b1)` and `P_{t+n} <= P` (PyTorch's
//!   `mu_product`, each `mu_j < 1`). So the factor is at most `CN = lr b1 / (1 - P b1)`
//!   (not certified unless `P b1 < 1`), the denominator is Adam's, and
//!   `D = CN |m| * min( b1 / ((1 - b1) eps),  G / sqrt(v) )` as for Adam.
//!
//! # Bounds with weight decay (`g = wd * p`)
//!
//! - **SGD** (momentum 0): `p_n = c^n p` with `c = 1 - lr wd`: the hull of `p` and `0`
//!   for `c >= 0`, `[-|p|, |p|]` for `-1 <= c < 0`; not certified for `c < -1`
//!   (`lr wd > 2`: the iteration diverges).
//! - **Adagrad**: `p' = p (1 - kappa)` with `kappa = clr wd / (sqrt(s') + eps) >= 0`,
//!   `s' >= s + wd^2 p^2` and `clr <= lr`. Hence `kappa <= K = lr wd / (sqrt(s) + eps)` at
//!   every future step (`s` only grows). `K <= 1`: `|p|` shrinks without changing sign,
//!   the box is the hull of `p` and `0`. `K <= 2`: `|p|` never grows, `[-|p|, |p|]`.
//!   Otherwise: `kappa |p| <= clr <= lr`, so `|p'| <= |p|` when `|p| >= lr / 2` (then
//!   `kappa <= 2`) and `|p'| <= lr / 2 + lr` when `|p| < lr / 2`; by induction `|p_n| <=
//!   M = max(|p|, 3 lr / 2)`, the box `[-M, M]`.
//! - **RMSprop** (no momentum, not centered): the same argument with `v' >= (1 - alpha)
//!   wd^2 p^2`, so `kappa |p| <= lr / sqrt(1 - alpha) = 2 H`: the box is the hull of `p`
//!   and `0` when `lr wd / eps <= 1`, else `[-M, M]` with `M = max(|p|, 3 H)`.
//! - **Momentum SGD and Nesterov** (a zero buffer with dampening > 0 is refused: it may be
//!   PyTorch's absent buffer, whose first step is undamped): `(p, b)` follows a linear recurrence `x' = A x` with
//!   `A = [[1 - lr k, -lr mu], [k, mu]]`, `k = (1 - dampening) wd` (Nesterov:
//!   `[[1 - lr wd (1 + mu), -lr mu^2], [wd, mu]]`); without a buffer the first step is
//!   PyTorch's `b_1 = g = wd p`, done exactly, and the box is joined with `p`. By
//!   Cayley-Hamilton `p_n` solves `p_{n+2} = T p_{n+1} - det p_n` (`T` the trace) with
//!   `p_1 = a11 p + a12 b`. With `disc = T^2 - 4 det`:
//!   `disc > 0`: `p_n = c1 l1^n + c2 l2^n`, `l = (T +- sqrt(disc)) / 2`,
//!   `c1,2 = p/2 +- u / sqrt(disc)`, `u = p_1 - T p / 2`; not certified unless both roots
//!   lie in `[-1, 1]`; each term lies in the hull of `0` and `c` (root `>= 0`) or in
//!   `[-|c|, |c|]`, and the box is the sum (enclosures of `sqrt(disc)`, outward).
//!   `disc < 0`: `p_n = 2 Re(c l^n)` with `|l|^2 = det <= 1` (else not certified), so
//!   `|p_n| <= 2|c| = R`, `R^2 = p^2 + (2 p_1 - T p)^2 / (-disc)`, a rational.
//!   `disc = 0`: not certified (repeated root).
//! - **Adam, AMSGrad, NAdam, Adamax, RMSprop with momentum or centered, Adadelta**: the
//!   bounds of [`decay`] (an overshoot interval `[-O, O]` around 0 joined with the
//!   transient of the current moments; contraction factors for centered RMSprop and
//!   Adadelta), with their conditions: `beta1 < sqrt(beta2)` (Adam family), `beta1 <
//!   beta2` (Adamax), `lr wd / eps <= 2` (centered RMSprop without momentum),
//!   `wd^2 p^2 < eps` and a contraction factor `<= 2` (Adadelta). Centered RMSprop with
//!   momentum and weight decay: not certified.
//!
//! # Exactness
//! Endpoints are exact rationals. The only irrational quantities are square roots and the
//! powers `b^(t+1)` for large `t`: square roots enter through [`sqrt_enclosure`] (lower or
//! upper end as the monotonicity requires), powers through [`pow_bound`] (square and
//! multiply, each product rounded outward to the `2^-PREC` grid), and the displacement `D`
//! is rounded up to the same grid. Every substitution goes in the direction the module
//! docs prove safe; nothing is rounded to the nearest.

mod coordinate;
pub mod decay;
pub mod torch;

use crate::optim::OptimizerConfig;
use crate::scalar::{BigRational, sqrt_enclosure};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

pub use torch::{StateError, group_hyper, parse_torch_state};

/// Bits of the dyadic grid for rounded powers and displacements.
pub const PREC: u32 = 96;
/// The split points `N` tried by the Adam, AMSGrad and NAdam bounds (the smallest bound
/// is taken; the checker tries the same list).
pub const SPLITS: [u64; 7] = [0, 8, 32, 128, 512, 2048, 8192];

/// The optimizer state of a checkpoint, per coordinate of `theta`, in PyTorch's names.
///
/// `buffers` maps PyTorch's state key (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`,
/// `momentum_buffer`, `sum`, `square_avg`, `grad_avg`, `acc_delta`, `exp_inf`) to one
/// exact value per coordinate; a buffer PyTorch has not created (a parameter never
/// stepped, SGD without momentum) is zero. `step[i]` is the step count `t` of
/// coordinate `i`'s parameter, `mu_product[i]` NAdam's product (1 when absent).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckpointState {
    /// Steps taken, per coordinate.
    pub step: Vec<u64>,
    /// Buffers by PyTorch's name, per coordinate.
    pub buffers: BTreeMap<String, Vec<BigRational>>,
    /// NAdam's `mu_product`, per coordinate (empty when absent: 1).
    pub mu_product: Vec<BigRational>,
    /// The parameter group of each coordinate (empty: all in group 0).
    pub group: Vec<usize>,
}

impl CheckpointState {
    /// A zero state (never stepped) for `dim` coordinates.
    pub fn zero(dim: usize) -> Self {
        Self {
            step: vec![0; dim],
            ..Self::default()
        }
    }
    /// Buffer `name` at coordinate `i`, zero when absent.
    pub fn get(&self, name: &str, i: usize) -> BigRational {
        self.buffers
            .get(name)
            .and_then(|b| b.get(i))
            .cloned()
            .unwrap_or_else(BigRational::zero)
    }
    /// Sets buffer `name` (one value per coordinate).
    pub fn with(mut self, name: &str, values: Vec<BigRational>) -> Self {
        self.buffers.insert(name.to_string(), values);
        self
    }
    /// The buffers the optimizer reads, by PyTorch's name.
    pub fn buffer_names(config: &OptimizerConfig<BigRational>) -> Vec<&'static str> {
        use OptimizerConfig as C;
        match config {
            C::Sgd(_) => vec!["momentum_buffer"],
            C::Adagrad(_) => vec!["sum"],
            C::Rmsprop(_) => vec!["square_avg", "grad_avg", "momentum_buffer"],
            C::Adam(c) if c.amsgrad() => vec!["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
            C::Adam(_) => vec!["exp_avg", "exp_avg_sq"],
            C::Adamax(_) => vec!["exp_avg", "exp_inf"],
            C::Nadam(_) => vec!["exp_avg", "exp_avg_sq"],
            C::Adadelta(_) => vec!["square_avg", "acc_delta"],
        }
    }
}

/// Why one coordinate has no reachable-box bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoBound {
    /// The state cannot come from the optimizer (a negative second moment, ...).
    #[error("invalid state: {0}")]
    BadState(String),
    /// The zero-gradient iteration may grow without bound.
    #[error("the iteration may grow: {0}")]
    Diverges(String),
    /// No bound is derived under these hyperparameters.
    #[error("no bound derived: {0}")]
    Unsupported(String),
}

/// Why no reachable box is derived for a coordinate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("coordinate {coordinate}: {reason}")]
pub struct NotCertified {
    /// The coordinate of `theta`.
    pub coordinate: usize,
    /// Why.
    pub reason: NoBound,
}

/// A closed interval `[lo, hi]` of exact rationals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Lower end.
    pub lo: BigRational,
    /// Upper end.
    pub hi: BigRational,
}

impl Span {
    /// The point `[p, p]`.
    pub fn point(p: &BigRational) -> Self {
        Self {
            lo: p.clone(),
            hi: p.clone(),
        }
    }
    /// The hull of `a` and `b`.
    pub fn hull(a: &BigRational, b: &BigRational) -> Self {
        if a <= b {
            Self {
                lo: a.clone(),
                hi: b.clone(),
            }
        } else {
            Self {
                lo: b.clone(),
                hi: a.clone(),
            }
        }
    }
    /// `[-r, r]`.
    pub fn symmetric(r: &BigRational) -> Self {
        Self {
            lo: -r.clone(),
            hi: r.clone(),
        }
    }
    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: &BigRational) -> bool {
        &self.lo <= x && x <= &self.hi
    }
    /// `hi - lo`.
    pub fn width(&self) -> BigRational {
        &self.hi - &self.lo
    }
}

pub(crate) fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn grid() -> BigInt {
    BigInt::one() << PREC as usize
}

/// `x` rounded up (`up`) or down to the `2^-PREC` grid.
pub fn round_grid(x: &BigRational, up: bool) -> BigRational {
    let scaled = x * BigRational::from_integer(grid());
    let n = if up { scaled.ceil() } else { scaled.floor() };
    BigRational::new(n.to_integer(), grid())
}

/// An upper (`up`) or lower bound of `base^e` for `0 <= base <= 1`: square and multiply,
/// every product rounded to the `2^-PREC` grid in the same direction (a product of upper
/// bounds of non-negative numbers is an upper bound, likewise for lower bounds).
pub fn pow_bound(base: &BigRational, e: u64, up: bool) -> BigRational {
    let mut result = BigRational::one();
    let mut square = round_grid(base, up);
    let mut e = e;
    while e > 0 {
        if e & 1 == 1 {
            result = round_grid(&(&result * &square), up);
        }
        e >>= 1;
        if e > 0 {
            square = round_grid(&(&square * &square), up);
        }
    }
    result
}

/// A lower bound of `sqrt(x)`, `x >= 0`.
pub fn sqrt_down(x: &BigRational) -> BigRational {
    sqrt_enclosure(x, PREC).0
}

/// An upper bound of `sqrt(x)`, `x >= 0`.
pub fn sqrt_up(x: &BigRational) -> BigRational {
    sqrt_enclosure(x, PREC).1
}

/// `C1 = 1 / (1 - b1^(t+1))` rounded up (an upper bound of every later bias correction
/// factor `1 / (1 - b1^(t+n))`, `n >= 1`).
pub(crate) fn bias_factor(beta1: &BigRational, t: u64) -> BigRational {
    let power = pow_bound(beta1, t.saturating_add(1), true);
    let one = BigRational::one();
    if power >= one {
        // cannot happen for beta1 < 1 and PREC bits; keep the bound sound anyway
        return BigRational::from_integer(BigInt::one() << PREC as usize);
    }
    one / (BigRational::one() - power)
}

/// Adam's and NAdam's `min over N of G / sqrt(v)` factor (`None` when `r >= 1` or `v = 0`),
/// an upper bound of `sum_n r^n Q_n / sqrt(v)`.
pub(crate) fn adam_v_factor(
    beta1: &BigRational,
    beta2: &BigRational,
    v: &BigRational,
    t: u64,
) -> Option<BigRational> {
    if !v.is_positive() || beta2.is_zero() {
        return None;
    }
    let one = BigRational::one();
    let r = round_grid(&(beta1 / sqrt_down(beta2)), true);
    if r >= one {
        return None;
    }
    let sqrt_v = sqrt_down(v);
    if !sqrt_v.is_positive() {
        return None;
    }
    SPLITS
        .iter()
        .map(|&n| {
            // Q = sqrt(1 - b2^(t+N)) <= 1 (upper: b2^(t+N) rounded down); N = 0 gives Q <= 1
            let qn = if n == 0 {
                one.clone()
            } else {
                let low = pow_bound(beta2, t.saturating_add(n), false);
                sqrt_up(&(&one - low)).min(one.clone())
            };
            let rn = pow_bound(&r, n + 1, true).min(r.clone());
            let g = (&qn * &r + (&one - &qn) * rn) / (&one - &r);
            g / &sqrt_v
        })
        .min()
}

/// The reachable box of every coordinate in `range` under zero loss gradient from the
/// checkpoint `(theta, state)` (module docs), in the order of `range`.
///
/// # Errors
/// [`NotCertified`] for the first coordinate without a bound.
pub fn reachable_box(
    config: &OptimizerConfig<BigRational>,
    theta: &[BigRational],
    state: &CheckpointState,
    range: std::ops::Range<usize>,
) -> Result<Vec<Span>, NotCertified> {
    reachable_box_groups(std::slice::from_ref(config), theta, state, range)
}

/// [`reachable_box`] with one configuration per parameter group: coordinate `i` uses
/// `configs[state.group[i]]` (group 0 when `state.group` is empty).
///
/// # Errors
/// [`NotCertified`] for the first coordinate without a bound (or with a group that has
/// no configuration).
pub fn reachable_box_groups(
    configs: &[OptimizerConfig<BigRational>],
    theta: &[BigRational],
    state: &CheckpointState,
    range: std::ops::Range<usize>,
) -> Result<Vec<Span>, NotCertified> {
    range
        .map(|i| {
            let g = state.group.get(i).copied().unwrap_or(0);
            let Some(config) = configs.get(g) else {
                return Err(NotCertified {
                    coordinate: i,
                    reason: NoBound::Unsupported(format!(
                        "parameter group {g} has no hyperparameters"
                    )),
                });
            };
            coordinate::coordinate_box(config, &theta[i], state, i).map_err(|reason| NotCertified {
                coordinate: i,
                reason,
            })
        })
        .collect()
}
