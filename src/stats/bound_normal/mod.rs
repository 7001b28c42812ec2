//! Certified enclosures of `p` for the normal initializations (`normal:S`, `he-normal`,
//! `glorot-normal`, `lecun-normal`) and for `rai`.
//!
//! # Derivation
//! A first-layer neuron is inactive on `[a,b]^d` iff `B + sum_i max(a W_i, b W_i) <= 0`
//! (MECHANISM.md). Write `W_i = s Z_i`, `Z_i` standard normal (`s^2` is `S^2`, `2/d`,
//! `2/(d + l_1)` or `1/d`). Since `max(a W, b W) = b W` for `W >= 0` and `a W` for
//! `W < 0`, and `Z_i` is symmetric with `|Z_i|` independent of its sign,
//!
//! ```text
//! max(a W_i, b W_i) = s b |Z_i|  or  -s a |Z_i|,  with probability 1/2 each,
//! p = 2^-d sum_k C(d,k) P_k,   P_k = P(B + s b S_k - s a S'_{d-k} <= 0)
//! ```
//!
//! where `k ~ Binomial(d, 1/2)` counts the non-negative `Z_i` and `S_k`, `S'_{d-k}` are
//! independent sums of `k` and `d-k` half-normals `|Z|`. Each `P_k` is `P(Y <= 0)` for
//! `Y = v + sigma Z_0 + c U + sum_j beta_j |Z_j| (+ gamma V for rai)`, a sum of
//! independent parts ([`fourier::SumLaw`]).
//!
//! **Exact cases.** If `Y` has no normal or uniform part and its random parts all have
//! one sign (`S_k` and `S'` alone, or `a <= 0 <= b`), `P_k` is 0 when they are positive
//! and `v >= 0`, 1 when they are negative and `v <= 0` (and `[v <= 0]` with none): e.g. zero biases on `[0, b]^d` give `p = 2^-d`, on `[a, b]^d` with
//! `a < 0 < b` give 0. A normal or uniform bias alone gives `1/2`. On a point box `a = b`
//! the pre-activation is `B + a s sqrt(d) Z`: `1/2` for zero or symmetric biases, and
//! `Phi(-v/(|a| s sqrt d))` (an enclosure) for `const:v`. `p` is reported exactly when
//! all its parts are exact; otherwise the enclosure only (irrational in general, e.g.
//! `d = 2`, zero bias, `0 < a < b`: `p = 1/4 + arctan(a/b)/pi`).
//!
//! **One half-normal, constant bias** (`e = 1` below): `P(v + beta |Z| <= 0)` is
//! `erf(-v/(beta sqrt 2))` for `beta > 0 > v`, `erfc(v/(|beta| sqrt 2))` for
//! `beta < 0 < v`.
//!
//! **Otherwise** `Y` has a density and a characteristic function `phi = E e^{itY}`:
//! `e^{itv}`, `e^{-sigma^2 t^2/2}`, `sin(ct)/(ct)`, `psi(beta t)` per half-normal with
//! `psi(w) = E e^{iw|Z|} = e^{-w^2/2} + i (2/sqrt pi) F(w/sqrt 2)` (`F` Dawson's
//! integral), and `phi_V(w) = 2 int_0^1 x e^{iwx} dx`. With a step `h = 2 pi / T` and
//! `t_n = (n - 1/2) h`, the midpoint Gil-Pelaez sum
//!
//! ```text
//! S = 1/2 - (1/pi) sum_{n>=1} Im phi(t_n) / (n - 1/2)
//! ```
//!
//! equals `E[1{sin(hY/2) < 0}]`, because `sum_n sin((n-1/2) x)/(n-1/2) = (pi/2)
//! sign(sin(x/2))` with bounded partial sums (dominated convergence). So `S = P(Y mod 2T
//! in (-T, 0))` and (aliasing) `P(Y <= 0) in [S - P(Y >= T), S + P(Y <= -T)]`. The tails
//! are bounded with `|Y| <= |v| + c + |gamma| + sigma |Z_0| + beta_max S_n`,
//! `P(sigma |Z_0| >= x) <= e^{-x^2/(2 sigma^2)}` and the Chernoff bound
//! `P(S_n >= x) <= 2^n e^{-x^2/(2n)}` (from `E e^{l|Z|} <= 2 e^{l^2/2}`, `l = x/n`).
//!
//! Truncation after `N` terms: integrating by parts twice, `|psi(w)| <= (2 phi(0) +
//! 4 phi(1)/|w|)/|w|` (`int |phi''| = 2 phi(1)`); `|sin(ct)/(ct)| <= 1/(ct)`;
//! `|phi_V(w)| <= (2 + 4/|w|)/|w|`. So for `t >= t_N`, `|phi(t)| <= K t^{-e} G(t)` with
//! `K` taken at `t_N`, `e` the number of these factors and `G` the normal factor,
//! decreasing, and `G(t) <= G(t_N) (t_N/t)^2` once `sigma t_N >= sqrt 2`. With `e'` the
//! resulting exponent (`e` or `e + 2`, at least 1), `sum_{n>N} (n - 1/2)^{-e'-1} <=
//! (N - 1/2)^{-e'} / e'` gives the remainder bound `K t_N^{-e} G(t_N) / (pi e')`. When
//! `v = 0`, there is no `V` and the number of `|Z|` terms is even, only `Im phi` matters
//! and `psi(w) = i D + R` with `D` real, `0 <= R = e^{-w^2/2}`: the product of the `i D_j`
//! is real, so `|Im phi(t)| <= sum_j R_j` (once every `|D_j| + |R_j| <= 1`, i.e. all
//! `w_j >= 2`, as `|D| <= 0.611`), a Gaussian tail: the remainder is at most
//! `n e^{-(beta_min t_N)^2/2} / (2 pi)`.
//!
//! **Cost.** `P(Y <= 0) = P(2^k Y <= 0)`: the law is first scaled by a power of two
//! (exactly) so its largest part has magnitude in `[1, 2)`, and the step `h` is sized
//! for `Y`, not its units. A factor enters the truncation's power law only once its
//! `c_j < t_N` (each `|factor| <= 1` before), so a tiny part does not hold the bound back.
//! Without a normal part the remainder still falls only like `t_N^{-e}`, and parts of
//! scales far apart can need millions of terms: the sum is capped at [`MAX_TERMS`] a
//! call, and past it the enclosure is certified but wider ([`PEnclosure::exhausted`]).
//!
//! Every quantity is computed with outward-rounded interval arithmetic ([`iv`]): `exp`,
//! `sin`, `cos`, `erf` and `F` from series with bounded remainders (for `F(x)`, `x >= 12`,
//! the expansion `sum_{n<N} c_n x^{-2n-1}`, `c_0 = 1/2`, `c_{n+1} = c_n (2n+1)/2`, from
//! integrating `int_{x0}^x e^{t^2} t^{-2n} dt` by parts from `x0 = 8`; its remainder
//! `2 c_N e^{-x^2} int_{x0}^x e^{t^2} t^{-2N} dt` lies in `[0, 2 c_N x^{-2N-1}/(2 -
//! (2N+1)/x0^2)]` for `N <= 60`, since `d/dt (e^{t^2} t^{-2N-1}) >= (2 - (2N+1)/x0^2)
//! e^{t^2} t^{-2N}` there, and the boundary term at `x0` is below `e^{x0^2 - x^2} <=
//! e^{-80}`).
//!
//! # rai
//! [`crate::net::init`] draws a row `(W_1..W_d, B)` iid `N(0, 2/d)` and then replaces one
//! entry, uniformly among the `d + 1`, by `V ~ Beta(2, 1)`. The row's law is that
//! mixture, so (the weights being exchangeable)
//!
//! ```text
//! p = d/(d+1) P(B + b V + sum_{i<d-1} max(a W_i, b W_i) <= 0)
//!   + 1/(d+1) P(V + sum_{i<d} max(a W_i, b W_i) <= 0)
//! ```
//!
//! (`max(aV, bV) = bV` as `V > 0`), each decomposed over `k` as above with
//! `gamma = b` or `1`. Rows of one layer are independent, so the lower bounds of
//! [`super::bound`] apply to `p` as they do for the symmetric schemes.

pub mod fourier;
pub use crate::scalar::iv;

use crate::net::init::{BiasInit, InitScheme};
use crate::scalar::{BigRational, q};
use fourier::{SumLaw, one_half_normal};
use iv::{Iv, erf};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};

/// An enclosure `[lo, hi]` of `p`, with `p` itself when it is known exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct PEnclosure {
    /// A certified lower bound.
    pub lo: f64,
    /// A certified upper bound.
    pub hi: f64,
    /// `p`, when exact (then `lo <= p <= hi` are the doubles around it).
    pub exact: Option<BigRational>,
    /// Whether the series budget ran out ([`MAX_TERMS`]): the enclosure is certified
    /// but wider than the accuracy target.
    pub exhausted: bool,
}

/// The bias of the first layer.
#[derive(Debug, Clone)]
enum Bias {
    Zero,
    Const(BigRational),
    Gauss(Iv),
    Unif(Iv),
}

/// `P(v + bias + sum_j s u_j |Z| (counts) + gamma V <= 0)`, the `u_j` and `gamma`
/// rational and nonzero.
struct Part<'a> {
    bias: &'a Bias,
    s: Iv,
    halves: Vec<(BigRational, usize)>,
    gamma: Option<BigRational>,
}

/// An exact or enclosed probability.
enum Prob {
    Exact(BigRational),
    Enclosed(Iv),
}

impl Part<'_> {
    fn eval(&self, effort: &mut Effort) -> Prob {
        let v = match self.bias {
            Bias::Const(v) => v.clone(),
            _ => BigRational::zero(),
        };
        let continuous_bias = matches!(self.bias, Bias::Gauss(_) | Bias::Unif(_));
        let signs: Vec<bool> = self
            .halves
            .iter()
            .map(|(u, _)| u.is_positive())
            .chain(self.gamma.iter().map(|g| g.is_positive()))
            .collect();
        let e: usize =
            self.halves.iter().map(|(_, c)| c).sum::<usize>() + usize::from(self.gamma.is_some());
        if !continuous_bias {
            if e == 0 {
                return Prob::Exact(if v.is_positive() {
                    BigRational::zero()
                } else {
                    BigRational::one()
                });
            }
            if signs.iter().all(|&s| s) && !v.is_negative() {
                return Prob::Exact(BigRational::zero());
            }
            if signs.iter().all(|&s| !s) && !v.is_positive() {
                return Prob::Exact(BigRational::one());
            }
            if e == 1 {
                if let Some(g) = &self.gamma {
                    // P(v + g V <= 0), P(V <= x) = clamp(x, 0, 1)^2
                    let x = (-v.clone() / g).clamp(BigRational::zero(), BigRational::one());
                    let below = &x * &x;
                    return Prob::Exact(if g.is_positive() {
                        below
                    } else {
                        BigRational::one() - below
                    });
                }
                let (u, _) = &self.halves[0];
                let beta = self.s * Iv::from_rational(u);
                let vs = if v.is_positive() { 1 } else { -1 };
                return Prob::Enclosed(one_half_normal(
                    Iv::from_rational(&v),
                    beta,
                    u.is_positive(),
                    vs,
                ));
            }
        } else if e == 0 {
            // a symmetric continuous bias alone
            return Prob::Exact(q(1, 2));
        }
        let law = SumLaw {
            shift: Iv::from_rational(&v),
            gauss: match self.bias {
                Bias::Gauss(s) => Some(*s),
                _ => None,
            },
            unif: match self.bias {
                Bias::Unif(c) => Some(*c),
                _ => None,
            },
            halves: self
                .halves
                .iter()
                .map(|(u, c)| (self.s * Iv::from_rational(u), *c))
                .collect(),
            beta_v: self.gamma.as_ref().map(Iv::from_rational),
        };
        let cap = effort.terms / effort.parts_left.max(1);
        let (p, used) = law.p_nonpositive(effort.eps, cap);
        effort.terms -= used;
        if used >= cap {
            effort.exhausted = true;
        }
        Prob::Enclosed(p)
    }
}

fn binomial(n: usize, k: usize) -> BigInt {
    (0..k).fold(BigInt::one(), |acc, i| {
        acc * BigInt::from(n - i) / BigInt::from(i + 1)
    })
}

/// The series terms one enclosure may sum over all its parts, shared out as the parts
/// come (each part may use what is left divided by the parts still to come). Most laws
/// of the initializations need a few hundred terms a part; the midpoint sum converges
/// like a power of the number of terms when the law has no normal part (a uniform or
/// constant bias) and its scales are far apart (a box `[0.001, 1]`), and such parts can
/// need millions. Past the budget the enclosure stays certified but is wider than the
/// target, and [`PEnclosure::exhausted`] says so. About 1-20 us a term.
pub const MAX_TERMS: u64 = 300_000;

/// The accuracy target of each error term, the series terms left, the parts still to
/// evaluate with a series, and whether some part ran out of terms.
struct Effort {
    eps: f64,
    terms: u64,
    parts_left: u64,
    exhausted: bool,
}

/// Sums `weight * P` over parts, exactly while every part is exact.
struct Total {
    exact: Option<BigRational>,
    enclosure: Iv,
}

impl Total {
    fn new() -> Self {
        Total {
            exact: Some(BigRational::zero()),
            enclosure: Iv::point(0.0),
        }
    }
    fn add(&mut self, weight: &BigRational, p: Prob) {
        let w = Iv::from_rational(weight);
        match p {
            Prob::Exact(x) => {
                self.enclosure = self.enclosure + w * Iv::from_rational(&x);
                if let Some(t) = &mut self.exact {
                    *t += weight * x;
                }
            }
            Prob::Enclosed(x) => {
                self.enclosure = self.enclosure + w * x;
                self.exact = None;
            }
        }
    }
}

/// Adds `sum_k C(n,k) 2^-n P(bias + s b S_k - s a S'_{n-k} + gamma V <= 0)`, times
/// `scale`, to `total`.
#[allow(clippy::too_many_arguments)]
fn add_binomial(
    total: &mut Total,
    scale: &BigRational,
    n: usize,
    a: &BigRational,
    b: &BigRational,
    bias: &Bias,
    s: Iv,
    gamma: Option<BigRational>,
    effort: &mut Effort,
) {
    let half_n = BigRational::new(BigInt::one(), BigInt::one() << n);
    for k in 0..=n {
        let mut halves = Vec::new();
        if !b.is_zero() && k > 0 {
            halves.push((b.clone(), k));
        }
        if !a.is_zero() && k < n {
            halves.push((-a.clone(), n - k));
        }
        let part = Part {
            bias,
            s,
            halves,
            gamma: gamma.clone(),
        };
        let w = scale * BigRational::from_integer(binomial(n, k)) * &half_n;
        total.add(&w, part.eval(effort));
        effort.parts_left = effort.parts_left.saturating_sub(1);
    }
}

/// Why no enclosure could be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NormalBoundError {
    /// `glorot-normal` with a bias that depends on the weight scale needs `l_1`.
    #[error("glorot-normal's scale depends on l_1: give the first-layer width")]
    NeedsWidth,
    /// A box end, scale or bias outside `[1e-150, 1e150]` in magnitude (or not zero).
    #[error("box ends, scales and biases must be 0 or of magnitude in [1e-150, 1e150]")]
    OutOfRange,
}

/// Whether `x` is 0 or of a magnitude the doubles carry with room to spare.
fn in_range(x: &BigRational) -> bool {
    let lim = BigRational::new(BigInt::from(10).pow(150), BigInt::one());
    x.is_zero() || (x.abs() <= lim && x.abs() * &lim >= BigRational::one())
}

/// The enclosure of `p` for the normal schemes and `rai` on `[a,b]^d` (`a <= b`, `d >= 1`),
/// `None` for the uniform family (see [`super::bound`]). `l1` is needed by
/// `glorot-normal` with non-zero biases.
///
/// # Errors
/// [`NormalBoundError::NeedsWidth`].
pub fn p_enclosure(
    scheme: &InitScheme,
    bias: &BiasInit,
    d: usize,
    l1: Option<usize>,
    a: &BigRational,
    b: &BigRational,
) -> Result<Option<PEnclosure>, NormalBoundError> {
    assert!(a <= b && d >= 1, "box needs a <= b, d >= 1");
    let params = [
        Some(a),
        Some(b),
        match scheme {
            InitScheme::Normal(s) => Some(s),
            _ => None,
        },
        match bias {
            BiasInit::Uniform(x) | BiasInit::Normal(x) | BiasInit::Const(x) => Some(x),
            _ => None,
        },
    ];
    if !params.iter().flatten().all(|x| in_range(x)) {
        return Err(NormalBoundError::OutOfRange);
    }
    let dq = BigRational::from_integer(d.into());
    let (s2, default_same) = match scheme {
        InitScheme::Normal(s) => (s * s, true),
        InitScheme::HeNormal | InitScheme::Rai => (q(2, 1) / &dq, false),
        InitScheme::LecunNormal => (BigRational::one() / &dq, false),
        InitScheme::GlorotNormal => {
            let zero_bias = match bias {
                BiasInit::Default | BiasInit::Zero => true,
                BiasInit::Const(v) => v.is_zero(),
                _ => false,
            };
            // with zero biases p does not depend on the scale
            let l1 = match l1 {
                Some(l) => l,
                None if zero_bias => 1,
                None => return Err(NormalBoundError::NeedsWidth),
            };
            (q(2, 1) / BigRational::from_integer((d + l1).into()), false)
        }
        _ => return Ok(None),
    };
    let s = Iv::from_rational(&s2).sqrt();
    let mut effort = Effort {
        eps: if d <= 3 { 1e-10 } else { 1e-8 },
        terms: MAX_TERMS,
        parts_left: if *scheme == InitScheme::Rai {
            2 * d as u64 + 1
        } else {
            d as u64 + 1
        },
        exhausted: false,
    };
    let mut total = Total::new();
    if *scheme == InitScheme::Rai {
        let bias = Bias::Gauss(s);
        let w_weight = BigRational::new(dq.numer().clone(), (d + 1).into());
        let b_weight = BigRational::new(BigInt::one(), (d + 1).into());
        let gamma = (!b.is_zero()).then(|| b.clone());
        add_binomial(&mut total, &w_weight, d - 1, a, b, &bias, s, gamma, &mut effort);
        let one = Some(BigRational::one());
        add_binomial(&mut total, &b_weight, d, a, b, &Bias::Zero, s, one, &mut effort);
    } else {
        let bias = match bias {
            BiasInit::Default if default_same => Bias::Gauss(s),
            BiasInit::Default | BiasInit::Zero => Bias::Zero,
            BiasInit::Same => Bias::Gauss(s),
            BiasInit::Uniform(c) => Bias::Unif(Iv::from_rational(c)),
            BiasInit::Normal(sb) => Bias::Gauss(Iv::from_rational(sb)),
            BiasInit::Const(v) if v.is_zero() => Bias::Zero,
            BiasInit::Const(v) => Bias::Const(v.clone()),
        };
        if a == b {
            total.add(&BigRational::one(), point_box(a, d, s, &bias));
        } else {
            add_binomial(
                &mut total,
                &BigRational::one(),
                d,
                a,
                b,
                &bias,
                s,
                None,
                &mut effort,
            );
        }
    }
    Ok(Some(match total.exact {
        Some(p) => {
            let e = Iv::from_rational(&p);
            PEnclosure {
                lo: e.lo,
                hi: e.hi,
                exact: Some(p),
                exhausted: false,
            }
        }
        None if total.enclosure.lo.is_nan() || total.enclosure.hi.is_nan() => PEnclosure {
            lo: 0.0,
            hi: 1.0,
            exact: None,
            exhausted: effort.exhausted,
        },
        None => {
            let e = total.enclosure.clamp01();
            PEnclosure {
                lo: e.lo,
                hi: e.hi,
                exact: None,
                exhausted: effort.exhausted,
            }
        }
    }))
}

/// The point box `x = (a, ..., a)`: `P(B + a s sqrt(d) Z <= 0)` (module docs).
fn point_box(a: &BigRational, d: usize, s: Iv, bias: &Bias) -> Prob {
    match bias {
        Bias::Zero if a.is_zero() => Prob::Exact(BigRational::one()),
        Bias::Zero | Bias::Gauss(_) | Bias::Unif(_) => Prob::Exact(q(1, 2)),
        Bias::Const(v) if a.is_zero() => Prob::Exact(if v.is_positive() {
            BigRational::zero()
        } else {
            BigRational::one()
        }),
        Bias::Const(v) => {
            // Phi(-v/sd) = (1 - erf(v/(sd sqrt 2)))/2, sd = |a| s sqrt d
            let sd = Iv::from_rational(&a.abs()) * s * Iv::int(d as u64).sqrt();
            let x = Iv::from_rational(v) / (sd * Iv::point(2.0).sqrt());
            Prob::Enclosed(((Iv::point(1.0) - erf(x)) * 0.5).clamp01())
        }
    }
}

#[cfg(test)]
mod tests;
