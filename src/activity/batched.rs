//! Activity from a batched `f64` pass ([`crate::net::batch`]): what `inspect --mode f64`
//! reports.

use super::{Activity, MAX_LISTED_TIES, NearTie, NeuronStatus};
use crate::net::batch::{BatchPass, decide};
use crate::scalar::Sign;

/// The activity report of `inspect --mode f64` from a pass: a neuron is inactive when
/// `z~ <= 0` at every point (the float decision); every pre-activation whose sign the bound
/// does not settle is a near tie; `exact_ties` counts `z~ = 0`. Near ties are listed point
/// by point, then layer, then neuron.
pub fn activity(pass: &BatchPass) -> Activity {
    let hidden = &pass.layers[..pass.layers.len() - 1];
    let mut status = Vec::with_capacity(hidden.len());
    let (mut exact_ties, mut near_tie_count) = (0usize, 0usize);
    // (point, layer, neuron, value) of the first near ties of each layer, in row order.
    let mut candidates: Vec<(usize, usize, usize, f64)> = Vec::new();
    for (li, l) in hidden.iter().enumerate() {
        let width = l.z.ncols();
        let (mut positive, mut nan) = (vec![false; width], vec![false; width]);
        let mut listed = 0;
        for (m, (zrow, erow)) in l.z.outer_iter().zip(l.e.outer_iter()).enumerate() {
            for (j, (&z, &e)) in zrow.iter().zip(erow).enumerate() {
                if z > 0.0 {
                    positive[j] = true;
                } else if z == 0.0 {
                    exact_ties += 1;
                } else if z.is_nan() {
                    nan[j] = true;
                }
                if decide(z, e) == Sign::Undecided {
                    near_tie_count += 1;
                    if listed < MAX_LISTED_TIES {
                        candidates.push((m, li + 1, j, z));
                        listed += 1;
                    }
                }
            }
        }
        status.push(
            positive
                .iter()
                .zip(&nan)
                .map(|(&p, &n)| match (p, n) {
                    (true, _) => NeuronStatus::Active,
                    (false, true) => NeuronStatus::Undecided, // NaN
                    (false, false) => NeuronStatus::Inactive,
                })
                .collect::<Vec<_>>(),
        );
    }
    candidates.sort_by_key(|c| (c.0, c.1, c.2));
    let near_ties: Vec<NearTie> = candidates
        .into_iter()
        .take(MAX_LISTED_TIES)
        .map(|(point, layer, neuron, value)| NearTie {
            layer,
            neuron,
            point,
            value,
        })
        .collect();
    let out = pass.output();
    let first = out.row(0);
    let outputs_identical = out.outer_iter().all(|row| {
        row.iter()
            .zip(first.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    });
    Activity {
        status,
        exact_ties,
        near_tie_count,
        near_ties,
        outputs_identical,
    }
}
