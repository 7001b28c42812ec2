//! Activity of a network on a finite set of inputs (MECHANISM.md, "Inactive neurons,
//! dead layers").
//!
//! Neuron `j` of hidden layer `k` is *inactive on S* if `z_{k,j}(x) <= 0` for every `x` in
//! S; layer `k` is *dead on S* if all its neurons are. A dead layer makes the realization
//! constant on S (fact 1). Exact scalars decide every comparison, ties `z = 0` included
//! (a tie counts as inactive, since `ReLU'(0) = 0`). In `f64` the decision is the float
//! one, and every pre-activation whose sign the rigorous rounding bound of
//! [`crate::net::batch`] does not settle is reported as a *near tie*, where rounding could
//! flip it (a float `0.0` included, unless the bound proves it exactly 0). Enclosures may
//! leave a neuron *undecided*.

pub mod bab;
pub mod batched;
pub mod batched_inspect;
pub mod domain;
pub mod exact_dyadic;
pub mod filtered;
pub mod frozen;
pub mod phases;

use crate::data::Dataset;
use crate::net::batch::{BatchNet, activation_error, decide};
use crate::net::{NetError, Network};
use crate::scalar::{Scalar, Sign};

/// The status of one hidden neuron on a set of inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NeuronStatus {
    /// `z <= 0` at every input.
    Inactive,
    /// `z > 0` at some input.
    Active,
    /// Neither could be proven (enclosures only).
    Undecided,
}

/// A pre-activation close enough to 0 that the `f64` decision is fragile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NearTie {
    /// Hidden layer (1-based).
    pub layer: usize,
    /// Neuron (0-based).
    pub neuron: usize,
    /// Data point (0-based).
    pub point: usize,
    /// The `f64` pre-activation.
    pub value: f64,
}

/// Most near ties listed individually (all are counted).
pub const MAX_LISTED_TIES: usize = 20;

/// Activity of every hidden neuron on a data set.
#[derive(Debug, Clone)]
pub struct Activity {
    /// `status[k-1][j]` for hidden layer `k`, neuron `j`.
    pub status: Vec<Vec<NeuronStatus>>,
    /// Number of pre-activations exactly equal to 0 (ties decided as inactive there).
    pub exact_ties: usize,
    /// In `f64` mode, the count of near ties (pre-activations whose sign the rounding
    /// bound does not settle).
    pub near_tie_count: usize,
    /// The first [`MAX_LISTED_TIES`] near ties.
    pub near_ties: Vec<NearTie>,
    /// Whether all outputs on the data are identical.
    pub outputs_identical: bool,
}

impl Activity {
    /// Inactive neuron count per hidden layer.
    pub fn inactive_per_layer(&self) -> Vec<usize> {
        self.status
            .iter()
            .map(|l| l.iter().filter(|s| **s == NeuronStatus::Inactive).count())
            .collect()
    }
    /// `[layer, neuron]` of every inactive neuron (1-based layer, 0-based neuron).
    pub fn inactive_neurons(&self) -> Vec<[usize; 2]> {
        self.status
            .iter()
            .enumerate()
            .flat_map(|(k, l)| {
                l.iter()
                    .enumerate()
                    .filter(|(_, s)| **s == NeuronStatus::Inactive)
                    .map(move |(j, _)| [k + 1, j])
            })
            .collect()
    }
    /// The dead hidden layers (1-based).
    pub fn dead_layers(&self) -> Vec<usize> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, l)| l.iter().all(|s| *s == NeuronStatus::Inactive))
            .map(|(k, _)| k + 1)
            .collect()
    }
    /// The first dead layer, if any.
    pub fn first_dead_layer(&self) -> Option<usize> {
        self.dead_layers().first().copied()
    }
    /// Whether some neuron is undecided.
    pub fn has_undecided(&self) -> bool {
        self.status
            .iter()
            .flatten()
            .any(|s| *s == NeuronStatus::Undecided)
    }
    /// Whether the realization is constant on the data: proven by a dead layer (fact 1),
    /// or observed (all outputs identical).
    pub fn constant_on_data(&self) -> bool {
        !self.dead_layers().is_empty() || self.outputs_identical
    }
}

/// What the `f64` values of an `f64` network and data stand for: per layer, whether its
/// parameters are the exact ones (else each is the nearest `f64` to its exact value), and
/// per data point whether its inputs are. The near ties are judged against the exact
/// network on the exact data.
#[derive(Debug, Clone)]
pub struct F64Exactness {
    /// Per layer `k = 1..=L` (index `k - 1`).
    pub params: Vec<bool>,
    /// Per data point.
    pub rows: Vec<bool>,
}

impl F64Exactness {
    /// The `f64` values are the exact ones.
    pub fn all_exact(depth: usize, points: usize) -> Self {
        Self {
            params: vec![true; depth],
            rows: vec![true; points],
        }
    }

    /// The exactness of `net` and `data` rounded to `f64` (a value is exact when its
    /// nearest `f64` is the value itself).
    pub fn of_exact(
        net: &Network<crate::scalar::BigRational>,
        data: &Dataset<crate::scalar::BigRational>,
    ) -> Self {
        use filtered::to_f64_exactly;
        let arch = net.arch();
        Self {
            params: (1..=arch.depth())
                .map(|k| {
                    net.params()[arch.layer_range(k)]
                        .iter()
                        .all(|q| to_f64_exactly(q).1)
                })
                .collect(),
            rows: (0..data.len())
                .map(|m| data.x(m).iter().all(|q| to_f64_exactly(q).1))
                .collect(),
        }
    }
}

/// Computes the activity of `net` on every input of `data`. In `f64`, the values are
/// taken as the exact ones for the near ties (see [`activity_with_exactness`]).
///
/// # Errors
/// [`NetError::DataShape`] if the inputs do not fit the architecture.
pub fn activity_on_data<S: Scalar>(
    net: &Network<S>,
    data: &Dataset<S>,
) -> Result<Activity, NetError> {
    let exactness = (!S::EXACT).then(|| F64Exactness::all_exact(net.arch().depth(), data.len()));
    activity_with(net, data, exactness.as_ref())
}

/// The activity of a network; in `f64`, the float decisions and a near tie wherever the
/// rigorous rounding bound ([`BatchNet::point_bound`], of the very values computed) does not
/// settle the sign of the exact pre-activation that `exactness` describes (ignored for
/// exact scalars).
///
/// # Errors
/// [`NetError::DataShape`] if the inputs do not fit the architecture, [`NetError::Batch`]
/// if `exactness` does not fit or a fan-in is beyond the bound's range.
pub fn activity_with_exactness<S: Scalar>(
    net: &Network<S>,
    data: &Dataset<S>,
    exactness: &F64Exactness,
) -> Result<Activity, NetError> {
    activity_with(net, data, Some(exactness))
}

fn activity_with<S: Scalar>(
    net: &Network<S>,
    data: &Dataset<S>,
    exactness: Option<&F64Exactness>,
) -> Result<Activity, NetError> {
    let arch = net.arch();
    if data.inputs() != arch.inputs() {
        return Err(NetError::DataShape {
            what: "inputs",
            expected: arch.inputs(),
            got: data.inputs(),
        });
    }
    // in f64, the bound of every pre-activation comes from the same numbers
    let bounds = match exactness {
        Some(ex) if !S::EXACT => {
            if ex.rows.len() != data.len() {
                return Err(NetError::Batch {
                    reason: format!("{} row flags for {} points", ex.rows.len(), data.len()),
                });
            }
            let params = net.params().iter().map(Scalar::to_f64).collect();
            Some(BatchNet::from_f64(arch.clone(), params, ex.params.clone())?)
        }
        _ => None,
    };
    let hidden: Vec<usize> = arch.hidden_layers().collect();
    let mut status: Vec<Vec<NeuronStatus>> = hidden
        .iter()
        .map(|&k| vec![NeuronStatus::Inactive; arch.width(k)])
        .collect();
    let (mut exact_ties, mut near_tie_count, mut near_ties) = (0, 0, Vec::new());
    let mut first_output: Option<Vec<S>> = None;
    let mut outputs_identical = true;
    for m in 0..data.len() {
        let pass = net.forward(data.x(m));
        let errors = bounds.as_ref().map(|bn| {
            let row_exact = exactness.is_some_and(|ex| ex.rows[m]);
            let mut a: Vec<f64> = data.x(m).iter().map(Scalar::to_f64).collect();
            let mut e_a: Option<Vec<f64>> = None;
            hidden
                .iter()
                .map(|&k| {
                    let z: Vec<f64> = pass.pre[k - 1].iter().map(Scalar::to_f64).collect();
                    let e = bn.point_bound(k, &a, e_a.as_deref(), row_exact, &z);
                    a = z.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect();
                    e_a = Some(
                        z.iter()
                            .zip(&e)
                            .map(|(&v, &ev)| activation_error(v, ev))
                            .collect(),
                    );
                    e
                })
                .collect::<Vec<_>>()
        });
        for (li, &k) in hidden.iter().enumerate() {
            for (j, z) in pass.pre[k - 1].iter().enumerate() {
                let sign = z.sign();
                if sign == Sign::Zero {
                    exact_ties += 1;
                }
                if let Some(errors) = &errors
                    && decide(z.to_f64(), errors[li][j]) == Sign::Undecided
                {
                    near_tie_count += 1;
                    if near_ties.len() < MAX_LISTED_TIES {
                        near_ties.push(NearTie {
                            layer: k,
                            neuron: j,
                            point: m,
                            value: z.to_f64(),
                        });
                    }
                }
                let entry = &mut status[li][j];
                match (sign.is_nonpositive(), *entry) {
                    (Some(false), _) => *entry = NeuronStatus::Active,
                    (None, NeuronStatus::Inactive) => *entry = NeuronStatus::Undecided,
                    _ => {}
                }
            }
        }
        let out = pass.output();
        match &first_output {
            None => first_output = Some(out.to_vec()),
            Some(first) => {
                if outputs_identical && !first.iter().zip(out).all(|(a, b)| a.identical(b)) {
                    outputs_identical = false;
                }
            }
        }
    }
    Ok(Activity {
        status,
        exact_ties,
        near_tie_count,
        near_ties,
        outputs_identical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;
    use crate::scalar::BigRational;

    fn q(n: i64) -> BigRational {
        BigRational::from_integer(n.into())
    }

    #[test]
    fn hand_built_dead_layer_and_tie() {
        // 1-2-1-1; layer 1: z = x - 1 (tie at x = 1) and z = -x; layer 2 gets only zeros
        // from neuron 0 except at x > 1.
        let arch = Arch::new(vec![1, 2, 1, 1]).unwrap();
        let params = vec![q(1), q(-1), q(-1), q(0), q(1), q(1), q(0), q(2), q(3)];
        let net = Network::new(arch, params).unwrap();
        let data =
            Dataset::from_rows(vec![vec![q(0)], vec![q(1)]], vec![vec![q(0)], vec![q(0)]]).unwrap();
        let act = activity_on_data(&net, &data).unwrap();
        assert_eq!(
            act.status[0],
            vec![NeuronStatus::Inactive, NeuronStatus::Inactive]
        );
        assert_eq!(act.dead_layers(), vec![1, 2]);
        assert_eq!(act.exact_ties, 1 + 1 + 2); // z_{1,1}(0) = 0, z_{1,0}(1) = 0, layer 2 at both points
        assert!(act.constant_on_data());
        assert_eq!(act.inactive_neurons(), vec![[1, 0], [1, 1], [2, 0]]);
    }

    /// Issue 15, item 6: the f64 sum is about -2e-8 where the exact one is +9.3e-9; the
    /// rounding bound leaves it a near tie (the old rule |z| <= 1e-9 did not). A float
    /// 0.0 that is not exactly 0 is a near tie too; an exact zero is not.
    #[test]
    fn near_ties_follow_the_rounding_bound() {
        let big = 134_217_728.0; // 2^27
        let small = 7.0 * 2f64.powi(-29);
        let w4 = -(big + 2f64.powi(-25));
        let arch = Arch::new(vec![4, 1, 1]).unwrap();
        let net = Network::new(arch, vec![big, small, small, w4, small, 1.0, 0.0]).unwrap();
        let data = Dataset::from_rows(vec![vec![1.0; 4]], vec![vec![0.0]]).unwrap();
        let act = activity_on_data(&net, &data).unwrap();
        assert_eq!(act.dead_layers(), vec![1]); // the float decision
        assert_eq!(act.near_tie_count, 1);
        assert!(act.near_ties[0].value < -1e-8);
        // 1-1-1: z = x - 1/3 at x = 1/3 rounds to a float 0.0 (not exact: a near tie);
        // z = 0 x + 0 is exactly 0 (not one)
        let third = 1.0 / 3.0;
        let arch = Arch::new(vec![1, 2, 1]).unwrap();
        let net = Network::new(arch, vec![1.0, 0.0, -third, 0.0, 1.0, 1.0, 0.0]).unwrap();
        let data = Dataset::from_rows(vec![vec![third]], vec![vec![0.0]]).unwrap();
        let mut exactness = F64Exactness {
            params: vec![true, true],
            rows: vec![false],
        };
        let act = activity_with_exactness(&net, &data, &exactness).unwrap();
        assert_eq!(act.exact_ties, 2);
        assert_eq!(act.near_tie_count, 1);
        assert_eq!((act.near_ties[0].neuron, act.near_ties[0].value), (0, 0.0));
        let act = activity_on_data(&net, &data).unwrap();
        assert_eq!(act.near_tie_count, 1, "an f64 0.0 from a nonzero sum");
        // parameters that are roundings: the zero weight and bias might be tiny nonzero
        // values, so the exact 0 is not proven either
        exactness.params[0] = false;
        let act = activity_with_exactness(&net, &data, &exactness).unwrap();
        assert_eq!(act.near_tie_count, 2);
    }
}
