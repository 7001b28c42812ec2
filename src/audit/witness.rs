//! The constructive witness of the audit, at scale.
//!
//! # The witness
//! A parameter `theta*` with `R(theta*) < V` is built, not searched for: for an input
//! coordinate `i`, a sign `s` and a threshold `t` (a data value of `x_i`), the feature
//! `phi(x) = ReLU(s (x_i - t))` is computed by neuron 0 of layer 1 and passed unchanged
//! through neuron 0 of every further hidden layer (weight 1, bias 0, since `phi >= 0`);
//! all other hidden neurons are zero. The output layer is the least-squares fit
//! `y_o ~ c_o + beta_o phi`, whose risk is exactly
//!
//! ```text
//! R = V - sum_o cov(phi, y_o)^2 / var(phi)
//! ```
//!
//! so any feature correlated with some output gives a witness. The best candidate over
//! all `i`, `s`, `t` (the largest gain `sum_o cov_o^2 / var`, the first in the order `i`,
//! `t` ascending, `s = +` before `-` among equal gains) is taken. When none correlates (for
//! instance constant targets, V = 0) there is no witness.
//!
//! # Cost
//! There are up to `2 d M` candidates. Each one's exact gain from its own sums costs
//! `O(M)`, so the plain search is `O(d M^2)`: `exhaustive`, used when `d M^2` is at
//! most [`EXHAUSTIVE_WORK`]. Beyond, `screened` sorts each coordinate once and gets
//! every candidate's sums from prefix and suffix sums in `f64` (`O(d M log M + d M n)`
//! for `n` outputs); the candidates whose `f64` gain is within a relative
//! [`SCREEN_TOLERANCE`] of the best (at most [`MAX_CONTENDERS`] per coordinate and in
//! all) are then evaluated exactly and the exact rule above picks among them. The `f64`
//! gains only choose which candidates are evaluated: the witness, its gain and its risk
//! are exact, and when no contender has an exactly positive gain the exhaustive search
//! decides. Only when two candidates' exact gains agree to within the tolerance but
//! `f64` rounding drops the better one from the contenders can the screened choice
//! differ from the exhaustive one; it is a witness with risk `< V` either way.
//!
//! The witness's exact risk is computed by a forward pass over its non-zero weights
//! ([`sparse_risk`]): `O(M (n + number of neurons))`.

use crate::activity::filtered::{ExactSum, to_f64_exactly};
use crate::data::Dataset;
use crate::net::{Arch, Network};
use crate::scalar::BigRational;
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use rayon::prelude::*;
use std::cmp::Ordering;

/// Most `d M^2` for which the witness search is exhaustive in exact arithmetic.
pub const EXHAUSTIVE_WORK: u128 = 4_000_000;
/// Relative distance to the best `f64` gain within which a candidate is evaluated exactly.
pub const SCREEN_TOLERANCE: f64 = 1e-6;
/// Most candidates evaluated exactly by the screened search (per coordinate and in all).
pub const MAX_CONTENDERS: usize = 64;

/// One candidate feature `phi(x) = ReLU(s (x_i - t))`.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    i: usize,
    positive: bool,
    t: BigRational,
}

/// The least-squares fit of the targets by one feature.
struct FeatureFit {
    mean_phi: BigRational,
    var: BigRational,
    /// Per output: `(mean(y_o), cov(phi, y_o))`.
    outputs: Vec<(BigRational, BigRational)>,
}

/// `mean(y_o)` for every output, exactly.
fn target_means(data: &Dataset<BigRational>) -> Vec<BigRational> {
    let m = BigRational::from_integer(BigInt::from(data.len()));
    (0..data.outputs())
        .map(|o| {
            let mut s = ExactSum::default();
            for r in 0..data.len() {
                s.add(&data.y(r)[o]);
            }
            s.value() / &m
        })
        .collect()
}

impl FeatureFit {
    /// The exact fit from the sums `A = sum phi`, `B = sum phi^2`, `C_o = sum phi y_o`:
    /// `mean = A/M`, `var = B/M - mean^2`, `cov_o = C_o/M - mean mean(y_o)` (the same
    /// rationals as the centred sums). `None` when the feature is constant (`var = 0`).
    fn new(data: &Dataset<BigRational>, c: &Candidate, mean_y: &[BigRational]) -> Option<Self> {
        let m = BigRational::from_integer(BigInt::from(data.len()));
        let (mut a, mut b) = (ExactSum::default(), ExactSum::default());
        let mut cs = vec![ExactSum::default(); data.outputs()];
        for r in 0..data.len() {
            let d = &data.x(r)[c.i] - &c.t;
            let phi = if c.positive { d } else { -d };
            if !phi.is_positive() {
                continue;
            }
            a.add(&phi);
            b.add_square(&phi);
            for (s, y) in cs.iter_mut().zip(data.y(r)) {
                s.add_product(&phi, y);
            }
        }
        let mean_phi = a.value() / &m;
        let var = b.value() / &m - &mean_phi * &mean_phi;
        if var.is_zero() {
            return None;
        }
        let outputs = cs
            .iter()
            .zip(mean_y)
            .map(|(s, my)| (my.clone(), s.value() / &m - &mean_phi * my))
            .collect();
        Some(Self {
            mean_phi,
            var,
            outputs,
        })
    }

    /// `V - R(fit) = sum_o cov_o^2 / var`.
    fn gain(&self) -> BigRational {
        self.outputs
            .iter()
            .fold(BigRational::zero(), |acc, (_, cov)| acc + cov * cov)
            / &self.var
    }
}

/// The sorted distinct values of coordinate `i` of the inputs.
fn thresholds(data: &Dataset<BigRational>, i: usize) -> Vec<BigRational> {
    let mut t: Vec<BigRational> = (0..data.len()).map(|r| data.x(r)[i].clone()).collect();
    t.sort();
    t.dedup();
    t
}

/// The best of `candidates` (in the order of the module docs) by exact gain, if any gain
/// is positive.
fn best_exact(
    data: &Dataset<BigRational>,
    candidates: impl Iterator<Item = Candidate>,
    mean_y: &[BigRational],
) -> Option<(Candidate, FeatureFit)> {
    let mut best: Option<(BigRational, Candidate, FeatureFit)> = None;
    for c in candidates {
        let Some(fit) = FeatureFit::new(data, &c, mean_y) else {
            continue;
        };
        let gain = fit.gain();
        if gain.is_positive() && best.as_ref().is_none_or(|b| gain > b.0) {
            best = Some((gain, c, fit));
        }
    }
    best.map(|(_, c, f)| (c, f))
}

/// Every candidate, exactly (the plain `O(d M^2)` search).
fn exhaustive(
    data: &Dataset<BigRational>,
    mean_y: &[BigRational],
) -> Option<(Candidate, FeatureFit)> {
    let all = (0..data.inputs()).flat_map(|i| {
        thresholds(data, i).into_iter().flat_map(move |t| {
            [true, false].into_iter().map(move |positive| Candidate {
                i,
                positive,
                t: t.clone(),
            })
        })
    });
    best_exact(data, all, mean_y)
}

/// A candidate's `f64` gain: `(i, rank of t, positive, gain)`.
type Scored = (usize, usize, bool, f64);

/// The `f64` gains of every candidate of coordinate `i` from prefix and suffix sums, the
/// ones within [`SCREEN_TOLERANCE`] of the coordinate's best (at most
/// [`MAX_CONTENDERS`]), with the coordinate's sorted distinct values.
fn screen_coordinate(
    data: &Dataset<BigRational>,
    i: usize,
    yf: &[f64],
) -> (Vec<Scored>, Vec<BigRational>) {
    let (m, n) = (data.len(), data.outputs());
    let approx: Vec<(f64, bool)> = (0..m).map(|r| to_f64_exactly(&data.x(r)[i])).collect();
    let mut order: Vec<usize> = (0..m).collect();
    // every value a float exactly: floats compare (and are equal) as the rationals do
    let floats = approx.iter().all(|(_, exact)| *exact);
    if floats {
        order.sort_by(|&a, &b| approx[a].0.total_cmp(&approx[b].0));
    } else {
        order.sort_by(|&a, &b| data.x(a)[i].cmp(&data.x(b)[i]));
    }
    // groups of equal values, in ascending order: (first position, value index)
    let mut values: Vec<BigRational> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    for (p, &r) in order.iter().enumerate() {
        let new = match order.get(p.wrapping_sub(1)) {
            None => true,
            Some(&prev) if floats => approx[prev].0 != approx[r].0,
            Some(&prev) => data.x(prev)[i] != data.x(r)[i],
        };
        if new {
            values.push(data.x(r)[i].clone());
            starts.push(p);
        }
    }
    starts.push(m);
    let xf = |r: usize| approx[r].0;
    // prefix sums over positions: count, sum x, sum x^2, sum y_o, sum x y_o
    let stride = 3 + 2 * n;
    let mut pre = vec![0.0f64; (m + 1) * stride];
    for (p, &r) in order.iter().enumerate() {
        let (head, tail) = pre.split_at_mut((p + 1) * stride);
        let (prev, next) = (&head[p * stride..], &mut tail[..stride]);
        let x = xf(r);
        next[0] = prev[0] + 1.0;
        next[1] = prev[1] + x;
        next[2] = prev[2] + x * x;
        for o in 0..n {
            let y = yf[r * n + o];
            next[3 + o] = prev[3 + o] + y;
            next[3 + n + o] = prev[3 + n + o] + x * y;
        }
    }
    let mf = m as f64;
    let total = &pre[m * stride..];
    let mean_y: Vec<f64> = (0..n).map(|o| total[3 + o] / mf).collect();
    let mut scored: Vec<Scored> = Vec::new();
    for (rank, value) in values.iter().enumerate() {
        let t = value.to_f64_lossy();
        for positive in [true, false] {
            // positive: the points above t (positions from the next group on);
            // negative: the points below t (positions before this group)
            let (cnt, s1, s2, sy, sxy, sign): (f64, f64, f64, Vec<f64>, Vec<f64>, f64) = if positive
            {
                let at = &pre[starts[rank + 1] * stride..][..stride];
                let d = |k: usize| total[k] - at[k];
                (
                    d(0),
                    d(1),
                    d(2),
                    (0..n).map(|o| d(3 + o)).collect(),
                    (0..n).map(|o| d(3 + n + o)).collect(),
                    1.0,
                )
            } else {
                let at = &pre[starts[rank] * stride..][..stride];
                (
                    at[0],
                    at[1],
                    at[2],
                    (0..n).map(|o| at[3 + o]).collect(),
                    (0..n).map(|o| at[3 + n + o]).collect(),
                    -1.0,
                )
            };
            if cnt == 0.0 {
                continue;
            }
            // phi = sign (x - t) on those points
            let a = sign * (s1 - cnt * t);
            let b = s2 - 2.0 * t * s1 + cnt * t * t;
            let mean = a / mf;
            let var = b / mf - mean * mean;
            if var.is_nan() || var <= 0.0 {
                continue;
            }
            let gain: f64 = (0..n)
                .map(|o| {
                    let c = sign * (sxy[o] - t * sy[o]);
                    let cov = c / mf - mean * mean_y[o];
                    cov * cov
                })
                .sum::<f64>()
                / var;
            if gain.is_finite() && gain > 0.0 {
                scored.push((i, rank, positive, gain));
            }
        }
    }
    (keep_best(scored), values)
}

/// The scored candidates within [`SCREEN_TOLERANCE`] of the best, at most
/// [`MAX_CONTENDERS`] (the highest gains; equal gains in candidate order).
fn keep_best(mut scored: Vec<Scored>) -> Vec<Scored> {
    let best = scored.iter().map(|s| s.3).fold(0.0f64, f64::max);
    scored.retain(|s| s.3 >= best * (1.0 - SCREEN_TOLERANCE));
    scored.sort_by(|a, b| {
        b.3.partial_cmp(&a.3)
            .unwrap_or(Ordering::Equal)
            .then((a.0, a.1, !a.2).cmp(&(b.0, b.1, !b.2)))
    });
    scored.truncate(MAX_CONTENDERS);
    scored
}

/// The screened search of the module docs.
fn screened(
    data: &Dataset<BigRational>,
    mean_y: &[BigRational],
) -> Option<(Candidate, FeatureFit)> {
    let n = data.outputs();
    let yf: Vec<f64> = (0..data.len())
        .flat_map(|r| data.y(r).iter().map(|v| to_f64_exactly(v).0))
        .collect();
    let per: Vec<(Vec<Scored>, Vec<BigRational>)> = (0..data.inputs())
        .into_par_iter()
        .map(|i| screen_coordinate(data, i, &yf))
        .collect();
    debug_assert!(yf.len() == data.len() * n);
    let mut contenders = keep_best(per.iter().flat_map(|(s, _)| s.iter().copied()).collect());
    // the exact rule's order: i, t ascending, + before -
    contenders.sort_by_key(|s| (s.0, s.1, !s.2));
    let candidates = contenders.iter().map(|&(i, rank, positive, _)| Candidate {
        i,
        positive,
        t: per[i].1[rank].clone(),
    });
    best_exact(data, candidates, mean_y).or_else(|| exhaustive(data, mean_y))
}

trait Lossy {
    fn to_f64_lossy(&self) -> f64;
}

impl Lossy for BigRational {
    fn to_f64_lossy(&self) -> f64 {
        to_f64_exactly(self).0
    }
}

/// A neuron's bias and its non-zero weights `(input, weight)`.
type SparseNeuron = (BigRational, Vec<(usize, BigRational)>);

/// The exact risk of `net` on `data` by a forward pass over its non-zero weights and
/// biases only (the witness has a handful), summed as integers where values are dyadic.
pub fn sparse_risk(net: &Network<BigRational>, data: &Dataset<BigRational>) -> BigRational {
    let arch = net.arch();
    let p = net.params();
    // per layer, per neuron: (bias, [(input, weight)]) over the non-zero entries
    let layers: Vec<Vec<SparseNeuron>> = (1..=arch.depth())
        .map(|k| {
            (0..arch.width(k))
                .map(|j| {
                    let terms = (0..arch.width(k - 1))
                        .filter_map(|i| {
                            let w = &p[arch.weight_index(k, j, i)];
                            (!w.is_zero()).then(|| (i, w.clone()))
                        })
                        .collect();
                    (p[arch.bias_index(k, j)].clone(), terms)
                })
                .collect()
        })
        .collect();
    let depth = arch.depth();
    let total = (0..data.len())
        .into_par_iter()
        .fold(ExactSum::default, |mut acc, r| {
            let mut a: Vec<BigRational> = data.x(r).to_vec();
            for (l, layer) in layers.iter().enumerate() {
                a = layer
                    .iter()
                    .map(|(b, terms)| {
                        let z = terms
                            .iter()
                            .filter(|(i, _)| !a[*i].is_zero())
                            .fold(b.clone(), |s, (i, w)| s + w * &a[*i]);
                        if l + 1 < depth && !z.is_positive() {
                            BigRational::zero()
                        } else {
                            z
                        }
                    })
                    .collect();
            }
            for (v, y) in a.iter().zip(data.y(r)) {
                acc.add_square(&(v - y));
            }
            acc
        })
        .reduce(ExactSum::default, |mut a, b| {
            a.merge(b);
            a
        });
    total.value() / BigRational::from_integer(BigInt::from(data.len()))
}

/// Builds the witness of the module docs and its exact risk, or `None` if no candidate
/// feature correlates with the targets.
pub fn constructive_witness(
    arch: &Arch,
    data: &Dataset<BigRational>,
) -> Option<(Network<BigRational>, BigRational)> {
    let mean_y = target_means(data);
    let work = data.inputs() as u128 * (data.len() as u128).pow(2);
    let (c, fit) = if work <= EXHAUSTIVE_WORK {
        exhaustive(data, &mean_y)?
    } else {
        screened(data, &mean_y)?
    };
    Some(witness_from(arch, data, &c, &fit))
}

fn witness_from(
    arch: &Arch,
    data: &Dataset<BigRational>,
    c: &Candidate,
    fit: &FeatureFit,
) -> (Network<BigRational>, BigRational) {
    let mut params = vec![BigRational::zero(); arch.num_params()];
    let one = BigRational::from_integer(1.into());
    params[arch.weight_index(1, 0, c.i)] = if c.positive {
        one.clone()
    } else {
        -one.clone()
    };
    params[arch.bias_index(1, 0)] = if c.positive {
        -c.t.clone()
    } else {
        c.t.clone()
    };
    for k in 2..arch.depth() {
        params[arch.weight_index(k, 0, 0)] = one.clone();
    }
    let last = arch.depth();
    for (o, (mean_y, cov)) in fit.outputs.iter().enumerate() {
        let beta = cov / &fit.var;
        params[arch.bias_index(last, o)] = mean_y - &beta * &fit.mean_phi;
        params[arch.weight_index(last, o, 0)] = beta;
    }
    let net = Network::new(arch.clone(), params).expect("the architecture's parameter count");
    let risk = sparse_risk(&net, data);
    (net, risk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::q;
    use proptest::prelude::*;

    #[test]
    fn witness_beats_v_on_abs() {
        let data = "grid:-1,1:5"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(1, 1, &crate::data::Target::Abs, 0)
            .unwrap();
        let arch = Arch::new(vec![1, 3, 2, 1]).unwrap();
        let (net, risk) = constructive_witness(&arch, &data).unwrap();
        let (v, _) = data.best_constant();
        // y = |x| on {-1,-1/2,0,1/2,1}: mean 3/5, V = 7/50
        assert_eq!(v, q(7, 50));
        assert!(risk < v);
        assert_eq!(risk, net.risk(&data, None).unwrap());
    }

    #[test]
    fn constant_targets_have_no_witness() {
        let data = "grid:-1,1:5"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(1, 1, &crate::data::Target::Const(q(1, 3)), 0)
            .unwrap();
        assert!(constructive_witness(&Arch::new(vec![1, 2, 1]).unwrap(), &data).is_none());
    }

    fn small_data() -> impl Strategy<Value = Dataset<BigRational>> {
        (1usize..4, 1usize..3, 2usize..14).prop_flat_map(|(d, n, m)| {
            let value = prop_oneof![
                (-8i64..8).prop_map(|v| q(v, 4)),
                (-8i64..8).prop_map(|v| q(v, 3)),
                (-1000i64..1000).prop_map(|v| q(v, 1000)),
            ];
            (
                proptest::collection::vec(proptest::collection::vec(value.clone(), d), m),
                proptest::collection::vec(proptest::collection::vec(value, n), m),
            )
                .prop_map(|(xs, ys)| Dataset::from_rows(xs, ys).unwrap())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The screened search finds the exhaustive search's witness (ties of gains
        /// included, the grid values make many), and its risk is `V - gain`, computed by
        /// the sparse pass and by the plain rational forward pass alike.
        #[test]
        fn screened_equals_exhaustive(data in small_data()) {
            let arch = Arch::new(vec![data.inputs(), 3, 2, data.outputs()]).unwrap();
            let mean_y = target_means(&data);
            let full = exhaustive(&data, &mean_y);
            let fast = screened(&data, &mean_y);
            prop_assert_eq!(full.is_some(), fast.is_some());
            if let (Some((c1, f1)), Some((c2, f2))) = (full, fast) {
                prop_assert_eq!(&c1, &c2);
                let (net, risk) = witness_from(&arch, &data, &c2, &f2);
                prop_assert_eq!(&risk, &net.risk(&data, None).unwrap());
                let (v, _) = data.best_constant();
                prop_assert_eq!(risk, v - f1.gain());
            }
        }
    }
}
