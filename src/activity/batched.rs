//! Activity from a batched `f64` pass ([`crate::net::batch`]): what `inspect --mode f64`
//! reports.

use super::{Activity, MAX_LISTED_TIES, NearTie, NeuronStatus};
use crate::net::NetError;
use crate::net::batch::{
    BatchNet, BatchPass, BoundKind, InputExactness, LayerPass, decide, row_slices, sign_flags,
};
use crate::scalar::Sign;
use ndarray::{Array2, ArrayView2, s};

/// What the hidden layers of some rows say, to be merged in row order.
struct Summary {
    /// Per hidden layer and neuron: `z~ > 0` at some row.
    positive: Vec<Vec<bool>>,
    /// Per hidden layer and neuron: `z~` is NaN at some row.
    nan: Vec<Vec<bool>>,
    exact_ties: usize,
    near_tie_count: usize,
    /// Per hidden layer, its first near ties in row order: `(point, layer, neuron, z~)`.
    candidates: Vec<Vec<(usize, usize, usize, f64)>>,
}

impl Summary {
    fn of(hidden: &[LayerPass], first_row: usize) -> Self {
        let mut out = Summary {
            positive: Vec::with_capacity(hidden.len()),
            nan: Vec::with_capacity(hidden.len()),
            exact_ties: 0,
            near_tie_count: 0,
            candidates: Vec::with_capacity(hidden.len()),
        };
        for (li, l) in hidden.iter().enumerate() {
            let width = l.z.ncols();
            let (mut positive, mut nan) = (vec![false; width], vec![false; width]);
            let mut listed = Vec::new();
            let (z, e) = (l.z.as_standard_layout(), l.e.as_standard_layout());
            for (m, (zrow, erow)) in row_slices(&z).zip(row_slices(&e)).enumerate() {
                // branch-free flags (the signs are as good as random); the rare near ties
                // are listed on a branch
                let mut undecided_row = false;
                let mut ties = 0usize;
                for ((&z, &e), (p, n)) in zrow
                    .iter()
                    .zip(erow)
                    .zip(positive.iter_mut().zip(nan.iter_mut()))
                {
                    *p |= z > 0.0;
                    *n |= z.is_nan();
                    ties += usize::from(z == 0.0);
                    undecided_row |= sign_flags(z, e).1;
                }
                out.exact_ties += ties;
                if undecided_row {
                    for (j, (&z, &e)) in zrow.iter().zip(erow).enumerate() {
                        if decide(z, e) == Sign::Undecided {
                            out.near_tie_count += 1;
                            if listed.len() < MAX_LISTED_TIES {
                                listed.push((first_row + m, li + 1, j, z));
                            }
                        }
                    }
                }
            }
            out.positive.push(positive);
            out.nan.push(nan);
            out.candidates.push(listed);
        }
        out
    }

    /// Appends the summary of later rows.
    fn merge(&mut self, later: Summary) {
        for (a, b) in self.positive.iter_mut().zip(later.positive) {
            a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
        }
        for (a, b) in self.nan.iter_mut().zip(later.nan) {
            a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
        }
        self.exact_ties += later.exact_ties;
        self.near_tie_count += later.near_tie_count;
        for (a, b) in self.candidates.iter_mut().zip(later.candidates) {
            let room = MAX_LISTED_TIES - a.len();
            a.extend(b.into_iter().take(room));
        }
    }

    fn activity(self, out: ArrayView2<f64>) -> Activity {
        let status = self
            .positive
            .iter()
            .zip(&self.nan)
            .map(|(positive, nan)| {
                positive
                    .iter()
                    .zip(nan)
                    .map(|(&p, &n)| match (p, n) {
                        (true, _) => NeuronStatus::Active,
                        (false, true) => NeuronStatus::Undecided, // NaN
                        (false, false) => NeuronStatus::Inactive,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut candidates: Vec<_> = self.candidates.into_iter().flatten().collect();
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
        let first = out.row(0);
        let outputs_identical = out.outer_iter().all(|row| {
            row.iter()
                .zip(first.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        Activity {
            status,
            exact_ties: self.exact_ties,
            near_tie_count: self.near_tie_count,
            near_ties,
            outputs_identical,
        }
    }
}

/// The activity report of `inspect --mode f64` from a pass: a neuron is inactive when
/// `z~ <= 0` at every point (the float decision); every pre-activation whose sign the bound
/// does not settle is a near tie; `exact_ties` counts `z~ = 0`. Near ties are listed point
/// by point, then layer, then neuron.
pub fn activity(pass: &BatchPass) -> Activity {
    let hidden = &pass.layers[..pass.layers.len() - 1];
    Summary::of(hidden, 0).activity(pass.output().view())
}

/// [`activity`] of the pass of `net` at the rows of `x`, block by block
/// ([`crate::net::batch::forward_map`]): the pre-activations of all points are never
/// held at once. Also returns the outputs `z~_L` (`M x l_L`).
///
/// # Errors
/// As [`crate::net::batch::forward`].
pub fn activity_streaming(
    net: &BatchNet,
    x: ArrayView2<f64>,
    inputs: InputExactness,
) -> Result<(Activity, Array2<f64>), NetError> {
    let blocks =
        crate::net::batch::forward_map(net, x, inputs, BoundKind::default(), |lo, mut layers| {
            let out = layers.pop().expect("L >= 2").z;
            (lo, Summary::of(&layers, lo), out)
        })?;
    let m = x.nrows();
    let mut output = Array2::<f64>::zeros((m, net.arch().outputs()));
    let mut total: Option<Summary> = None;
    for (lo, summary, out) in blocks {
        output.slice_mut(s![lo..lo + out.nrows(), ..]).assign(&out);
        match &mut total {
            None => total = Some(summary),
            Some(t) => t.merge(summary),
        }
    }
    let total = total.ok_or(NetError::Batch {
        reason: "no data points".into(),
    })?;
    let act = total.activity(output.view());
    Ok((act, output))
}
