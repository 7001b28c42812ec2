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

use crate::activity::filtered::ExactSum;
use crate::data::Dataset;
use crate::net::{Arch, Network};
use crate::scalar::BigRational;
use num_bigint::BigInt;
use num_traits::{Signed, Zero};

mod screen;
mod sparse;
use screen::screened;
pub use sparse::sparse_risk;

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
