//! The float summary of a batched pass: per neuron, the float decision `z~ <= 0` and the near ties (undecided signs), merged block by block.

use super::*;
use crate::net::batch::{row_slices, sign_flags};

/// What the bound decides, block by block: per hidden neuron (layers concatenated)
/// whether it is proven positive at some row, and the same over the rows where every
/// sign is decided ("closed" rows), with the exact zeros there; per row whether some sign
/// is open; the number of open signs; the outputs and their bounds.
pub(super) struct FloatSummary {
    pub(super) positive: Vec<bool>,
    pub(super) closed_positive: Vec<bool>,
    pub(super) closed_zeros: usize,
    pub(super) open: Vec<bool>,
    pub(super) open_count: usize,
    pub(super) out_z: Array2<f64>,
    pub(super) out_e: Array2<f64>,
}

pub(super) fn float_summary(layers: &[LayerPass]) -> FloatSummary {
    let (hidden, last) = layers.split_at(layers.len() - 1);
    let rows = last[0].z.nrows();
    let mut open = vec![false; rows];
    let mut open_count = 0;
    let mut positive = Vec::new();
    // First pass: which rows have an open sign, and which neurons are proven positive
    // somewhere. Rows are read as contiguous slices (the pass is row-major).
    for l in hidden {
        let mut pos = vec![false; l.z.ncols()];
        let (z, e) = (l.z.as_standard_layout(), l.e.as_standard_layout());
        for ((z, e), open_r) in row_slices(&z).zip(row_slices(&e)).zip(open.iter_mut()) {
            let mut undecided = 0usize;
            for ((&z, &e), p) in z.iter().zip(e.iter()).zip(pos.iter_mut()) {
                let (positive, open_sign) = sign_flags(z, e);
                *p |= positive;
                undecided += open_sign as usize;
            }
            *open_r |= undecided > 0;
            open_count += undecided;
        }
        positive.extend(pos);
    }
    // Second pass over the closed rows only: positives and exact zeros there.
    let mut closed_positive = vec![false; positive.len()];
    let mut closed_zeros = 0;
    let mut at = 0;
    for l in hidden {
        let width = l.z.ncols();
        let cp = &mut closed_positive[at..at + width];
        let (z, e) = (l.z.as_standard_layout(), l.e.as_standard_layout());
        for ((z, e), _) in row_slices(&z)
            .zip(row_slices(&e))
            .zip(open.iter())
            .filter(|(_, open_r)| !**open_r)
        {
            for ((&z, &e), p) in z.iter().zip(e.iter()).zip(cp.iter_mut()) {
                *p |= sign_flags(z, e).0;
                closed_zeros += usize::from((z == 0.0) & (e == 0.0));
            }
        }
        at += width;
    }
    FloatSummary {
        positive,
        closed_positive,
        closed_zeros,
        open,
        open_count,
        out_z: last[0].z.clone(),
        out_e: last[0].e.clone(),
    }
}

impl FloatSummary {
    pub(super) fn merge(&mut self, later: FloatSummary) {
        self.positive
            .iter_mut()
            .zip(later.positive)
            .for_each(|(a, b)| *a |= b);
        self.closed_positive
            .iter_mut()
            .zip(later.closed_positive)
            .for_each(|(a, b)| *a |= b);
        self.closed_zeros += later.closed_zeros;
        self.open.extend(later.open);
        self.open_count += later.open_count;
        self.out_z
            .append(Axis(0), later.out_z.view())
            .expect("same width");
        self.out_e
            .append(Axis(0), later.out_e.view())
            .expect("same width");
    }
}
