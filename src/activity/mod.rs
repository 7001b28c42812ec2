//! Activity of a network on a finite set of inputs (MECHANISM.md, "Inactive neurons,
//! dead layers").
//!
//! Neuron `j` of hidden layer `k` is *inactive on S* if `z_{k,j}(x) <= 0` for every `x` in
//! S; layer `k` is *dead on S* if all its neurons are. A dead layer makes the realization
//! constant on S (fact 1). Exact scalars decide every comparison, ties `z = 0` included
//! (a tie counts as inactive, since `ReLU'(0) = 0`). In `f64` the decision is the float
//! one, and every pre-activation with `|z| <= NEAR_TIE_F64` is reported as a *near tie*
//! where rounding could flip it. Enclosures may leave a neuron *undecided*.

pub mod batched;
pub mod domain;
pub mod exact_dyadic;
pub mod filtered;
pub mod frozen;
pub mod phases;

use crate::data::Dataset;
use crate::net::{NetError, Network};
use crate::prec::NEAR_TIE_F64;
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
    /// In `f64` mode, the count of near ties (`|z| <= NEAR_TIE_F64`, `z != 0`).
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

/// Computes the activity of `net` on every input of `data`.
///
/// # Errors
/// [`NetError::DataShape`] if the inputs do not fit the architecture.
pub fn activity_on_data<S: Scalar>(
    net: &Network<S>,
    data: &Dataset<S>,
) -> Result<Activity, NetError> {
    let arch = net.arch();
    if data.inputs() != arch.inputs() {
        return Err(NetError::DataShape {
            what: "inputs",
            expected: arch.inputs(),
            got: data.inputs(),
        });
    }
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
        for (li, &k) in hidden.iter().enumerate() {
            for (j, z) in pass.pre[k - 1].iter().enumerate() {
                let sign = z.sign();
                if sign == Sign::Zero {
                    exact_ties += 1;
                }
                if !S::EXACT && sign != Sign::Zero && z.to_f64().abs() <= NEAR_TIE_F64 {
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
}
