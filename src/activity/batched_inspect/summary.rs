//! The float summary of a batched pass: per neuron, the float decision `z~ <= 0` and the near ties (undecided signs), merged block by block.

use super::*;

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
    for l in hidden {
        let mut pos = vec![false; l.z.ncols()];
        for (r, open_r) in open.iter_mut().enumerate() {
            for (j, p) in pos.iter_mut().enumerate() {
                match l.sign(r, j) {
                    Sign::Positive => *p = true,
                    Sign::Undecided => {
                        *open_r = true;
                        open_count += 1;
                    }
                    _ => {}
                }
            }
        }
        positive.extend(pos);
    }
    let mut closed_positive = vec![false; positive.len()];
    let mut closed_zeros = 0;
    let mut at = 0;
    for l in hidden {
        for r in (0..rows).filter(|&r| !open[r]) {
            for j in 0..l.z.ncols() {
                match l.sign(r, j) {
                    Sign::Positive => closed_positive[at + j] = true,
                    Sign::Zero => closed_zeros += 1,
                    _ => {}
                }
            }
        }
        at += l.z.ncols();
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
