//! What inactive first-layer neurons freeze (MECHANISM.md, "What each probability means").
//!
//! A first-layer neuron `j` that is inactive on the data (`z_{1,j}(x) <= 0` at every data
//! point) has generalized gradient zero, on every batch, in its row of `W_1` and its bias
//! `B_{1,j}` (`ReLU'(z) = 0` there) and in column `j` of `W_2` (its activation is 0).
//! Its pre-activation depends only on that row and bias, so it stays inactive at every
//! step of a coordinate-frozen optimizer: the neuron is lost for good, and training works
//! with a network of `l_1 - 1` first-layer neurons. (A deeper inactive neuron is frozen
//! only as long as the layers before it do not move, so it is not listed here.)

use super::{Activity, NeuronStatus};
use crate::net::Arch;

/// One inactive first-layer neuron and the coordinates of `theta` it freezes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FrozenNeuron {
    /// The neuron (0-based) of hidden layer 1.
    pub neuron: usize,
    /// Indices in `theta` of its row of `W_1` (`l_0` entries).
    pub w1_row: Vec<usize>,
    /// Index in `theta` of its bias `B_{1,j}`.
    pub b1: usize,
    /// Indices in `theta` of column `j` of `W_2` (`l_2` entries).
    pub w2_column: Vec<usize>,
}

impl FrozenNeuron {
    /// The neuron's frozen coordinates: `l_0 + 1 + l_2`.
    pub fn count(&self) -> usize {
        self.w1_row.len() + 1 + self.w2_column.len()
    }
}

/// The inactive first-layer neurons of `activity` and what each freezes.
///
/// Undecided neurons (enclosures) are not listed.
///
/// # Panics
/// **Panics** if `activity` has fewer neurons in layer 1 than `arch` (they must come from
/// the same network).
pub fn first_layer_frozen(arch: &Arch, activity: &Activity) -> Vec<FrozenNeuron> {
    let first = activity.status.first().map(Vec::as_slice).unwrap_or(&[]);
    (0..arch.width(1))
        .filter(|&j| first[j] == NeuronStatus::Inactive)
        .map(|j| FrozenNeuron {
            neuron: j,
            w1_row: (0..arch.inputs())
                .map(|i| arch.weight_index(1, j, i))
                .collect(),
            b1: arch.bias_index(1, j),
            w2_column: (0..arch.width(2))
                .map(|r| arch.weight_index(2, r, j))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_of_inactive_first_layer_neurons() {
        // 2-3-2-1: W_1 is 3x2 (0..6), B_1 (6..9), W_2 is 2x3 (9..15), B_2 (15..17), ...
        let arch = Arch::new(vec![2, 3, 2, 1]).unwrap();
        let activity = Activity {
            status: vec![
                vec![
                    NeuronStatus::Active,
                    NeuronStatus::Inactive,
                    NeuronStatus::Undecided,
                ],
                vec![NeuronStatus::Inactive, NeuronStatus::Active],
            ],
            exact_ties: 0,
            near_tie_count: 0,
            near_ties: vec![],
            outputs_identical: false,
        };
        let frozen = first_layer_frozen(&arch, &activity);
        assert_eq!(
            frozen,
            vec![FrozenNeuron {
                neuron: 1,
                w1_row: vec![2, 3],
                b1: 7,
                w2_column: vec![10, 13],
            }]
        );
        assert_eq!(frozen[0].count(), 5);
    }
}
