//! `inspect --mode exact` at matrix-product speed, for networks whose parameters are
//! doubles (`f32`/`f64` weights) on data read straight to numbers ([`DataF64`]).
//!
//! 1. The batched `f64` pass with its rigorous bound ([`crate::net::batch`]) decides
//!    almost every sign.
//! 2. If every hidden layer has a neuron proven positive somewhere, no layer is dead and
//!    the exact risk needs the exact output at every point: the exact pass of
//!    [`crate::net::batch_exact`] (integer matrix products, exact, on `f64` digit
//!    planes) runs over all points and gives every sign and output exactly. Otherwise it
//!    runs only at the points with a sign the bound left open; a dead layer then makes
//!    the output the constant after it (fact 1).
//! 3. Risk and `V` are exact rationals, summed as integers per row denominator `d`
//!    (CSV decimals: `5^K`) at a common power of two, one division per distinct `d`.
//!
//! Rows the integer form does not fit (ratios such as `1/3` in a CSV cell, more than 19
//! significant digits) go through the exact integer engine of [`super::exact_dyadic`],
//! one point at a time. Every decision and value equals that of the pure rational path
//! ([`super::filtered`]), decision for decision; `exact_fallbacks` counts the same
//! decisions (signs the bound left open, and exact comparisons of outputs).

use super::exact_dyadic::ExactNet;
use super::filtered::ExactSum;
use super::{Activity, NeuronStatus};
use crate::io::DataF64;
use crate::net::batch::{BatchNet, BoundKind, LayerPass, forward_map};
use crate::net::batch_exact::{EXACT_BLOCK_ROWS, LimbNet, ShiftedInt, scaled};
use crate::net::{Arch, NetError, Network};
use crate::scalar::{BigRational, rational_from_f64};
use ndarray::{Array2, Axis};
use num_bigint::BigInt;
use num_traits::Zero;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Per-output sums `S_o` and `T_o` of one block of points.
type SumsPair = (Vec<PerDenominator>, Vec<PerDenominator>);

/// What the exact inspection found.
#[derive(Debug, Clone)]
pub struct ExactInspection {
    /// The activity, decided exactly.
    pub activity: Activity,
    /// Decisions the `f64` bound did not settle (as [`super::filtered::FilteredActivity`]).
    pub exact_fallbacks: usize,
    /// `R(theta)`, exactly.
    pub risk: BigRational,
    /// `V`, exactly.
    pub best_constant_risk: BigRational,
}

/// The exact output of one row.
enum RowOut {
    /// `z_o = Z_o 2^{p - S} / d`, targets `y_o = Y_o 2^p / d`.
    Ints {
        z: Vec<BigInt>,
        y: Vec<ShiftedInt>,
        p: i64,
        d: u64,
    },
    /// Exact values (the one-point engine).
    Exact(Vec<BigRational>),
}

/// The exact results of one row: its output.
struct RowExact {
    out: RowOut,
}

/// The exact results of some rows: per row the output, and the tally of their hidden
/// signs (layers concatenated): which neurons are positive at some row, how many signs
/// are exact zeros.
struct ExactRows {
    rows: Vec<(usize, RowExact)>,
    positive: Vec<bool>,
    ties: usize,
}

impl ExactRows {
    fn new(hidden: usize) -> Self {
        Self {
            rows: Vec::new(),
            positive: vec![false; hidden],
            ties: 0,
        }
    }

    /// Tallies `signs`, the signs of neurons `at ..` at one row.
    fn tally(&mut self, signs: &[i8], at: usize) {
        for (p, &g) in self.positive[at..at + signs.len()].iter_mut().zip(signs) {
            *p |= g > 0;
        }
        self.ties += signs.iter().map(|&g| usize::from(g == 0)).sum::<usize>();
    }

    /// Appends the results of later rows.
    fn merge(&mut self, later: ExactRows) {
        self.rows.extend(later.rows);
        self.positive
            .iter_mut()
            .zip(later.positive)
            .for_each(|(a, b)| *a |= b);
        self.ties += later.ties;
    }
}

/// Sums per row denominator `d`: `sum_d value_d / d^power`.
#[derive(Default)]
struct PerDenominator(BTreeMap<u64, ExactSum>);

impl PerDenominator {
    fn at(&mut self, d: u64) -> &mut ExactSum {
        self.0.entry(d).or_default()
    }
    fn merge(&mut self, other: PerDenominator) {
        for (d, s) in other.0 {
            self.at(d).merge(s);
        }
    }
    fn value(&self, power: u32) -> BigRational {
        self.0.iter().fold(BigRational::zero(), |acc, (d, s)| {
            acc + s.value() / BigRational::from_integer(BigInt::from(*d).pow(power))
        })
    }
}

struct Engine<'a> {
    arch: &'a Arch,
    params: &'a [f64],
    data: &'a DataF64,
    limbs: LimbNet,
    exact: OnceLock<(Network<BigRational>, ExactNet)>,
}

impl Engine<'_> {
    fn exact_net(&self) -> &(Network<BigRational>, ExactNet) {
        self.exact.get_or_init(|| {
            let params = self
                .params
                .iter()
                .map(|v| rational_from_f64(*v).expect("finite (checked)"))
                .collect();
            let net = Network::new(self.arch.clone(), params).expect("parameter count checked");
            let exact = ExactNet::new(&net);
            (net, exact)
        })
    }

    /// One row through the one-point integer engine, and its hidden signs (layers
    /// concatenated).
    fn one_point(&self, m: usize) -> Result<(RowExact, Vec<i8>), NetError> {
        let (x, _) = self.exact_xy(m)?;
        let (_, exact) = self.exact_net();
        let mut p = exact.start(&x);
        let mut signs = Vec::new();
        while p.layer + 1 < exact.depth() {
            exact.advance(&mut p);
            signs.extend((0..self.arch.width(p.layer)).map(|j| p.signum(j)));
        }
        exact.advance(&mut p);
        let out = (0..self.arch.outputs()).map(|o| p.value(o)).collect();
        Ok((
            RowExact {
                out: RowOut::Exact(out),
            },
            signs,
        ))
    }

    fn exact_xy(&self, m: usize) -> Result<(Vec<BigRational>, Vec<BigRational>), NetError> {
        match self.data.exact_xy(m) {
            Ok(Some(xy)) => Ok(xy),
            Ok(None) => Err(NetError::Batch {
                reason: "targets are not exact".into(),
            }),
            Err(e) => Err(NetError::Batch {
                reason: e.to_string(),
            }),
        }
    }

    /// The exact results of `rows`, in blocks in parallel.
    fn rows(
        &self,
        rows: &[usize],
        progress: &(impl Fn(usize) + Sync),
    ) -> Result<ExactRows, NetError> {
        let hidden: usize = (1..self.arch.depth()).map(|k| self.arch.width(k)).sum();
        let blocks: Vec<Result<ExactRows, NetError>> = rows
            .par_chunks(EXACT_BLOCK_ROWS)
            .map(|block| {
                let mut ms = Vec::with_capacity(block.len());
                let mut ints = Vec::with_capacity(block.len());
                let mut slow = Vec::new();
                for &m in block {
                    match self.data.row_ints(m) {
                        Some(r) => {
                            ms.push(m);
                            ints.push(r);
                        }
                        None => slow.push(m),
                    }
                }
                let mut done = ExactRows::new(hidden);
                done.rows.reserve(block.len());
                match self.limbs.block(&ints) {
                    Some(b) => {
                        let mut at = 0;
                        for layer in &b.signs {
                            let width = layer.ncols();
                            let layer = layer.as_standard_layout();
                            let signs = layer.as_slice().expect("standard layout");
                            for row in signs.chunks_exact(width.max(1)) {
                                done.tally(row, at);
                            }
                            at += width;
                        }
                        for ((m, row), z) in ms.into_iter().zip(ints).zip(b.out) {
                            let out = RowOut::Ints {
                                z,
                                y: row.y,
                                p: row.p,
                                d: row.d,
                            };
                            done.rows.push((m, RowExact { out }));
                        }
                    }
                    None => slow.extend(ms),
                }
                for m in slow {
                    let (row, signs) = self.one_point(m)?;
                    done.tally(&signs, 0);
                    done.rows.push((m, row));
                }
                done.rows.sort_by_key(|(m, _)| *m);
                progress(block.len());
                Ok(done)
            })
            .collect();
        let mut all = ExactRows::new(hidden);
        all.rows.reserve(rows.len());
        for b in blocks {
            all.merge(b?);
        }
        Ok(all)
    }

    fn output_values(&self, out: &RowOut) -> Vec<BigRational> {
        match out {
            RowOut::Exact(v) => v.clone(),
            RowOut::Ints { z, p, d, .. } => {
                let e = p - self.limbs.output_shift() as i64;
                let d = BigInt::from(*d);
                z.iter().map(|v| scaled(v.clone(), e, &d)).collect()
            }
        }
    }

    /// `S_o = sum_m y_mo` and `T_o = sum_m y_mo^2`; `known` holds the exact results of
    /// some rows (their integer targets are taken from there when it has every row).
    fn target_sums(
        &self,
        known: &[(usize, RowExact)],
    ) -> Result<(Vec<BigRational>, Vec<BigRational>), NetError> {
        let outputs = self.arch.outputs();
        let m = self.data.len();
        let known = (known.len() == m).then_some(known);
        let parts: Vec<Result<SumsPair, NetError>> = (0..m)
            .collect::<Vec<_>>()
            .par_chunks(1024)
            .map(|block| {
                let mut s: Vec<PerDenominator> = (0..outputs).map(|_| Default::default()).collect();
                let mut t: Vec<PerDenominator> = (0..outputs).map(|_| Default::default()).collect();
                for &r in block {
                    let mut add = |ys: &[ShiftedInt], p: i64, d: u64| {
                        for (o, y) in ys.iter().enumerate() {
                            let v = y.to_bigint();
                            t[o].at(d).add_dyadic(&v * &v, 2 * p);
                            s[o].at(d).add_dyadic(v, p);
                        }
                    };
                    if let Some(RowOut::Ints { y, p, d, .. }) = known.map(|k| &k[r].1.out) {
                        add(y, *p, *d);
                        continue;
                    }
                    match self.data.row_ints(r) {
                        Some(row) => add(&row.y, row.p, row.d),
                        None => {
                            let (_, y) = self.exact_xy(r)?;
                            for (o, y) in y.iter().enumerate() {
                                s[o].at(1).add(y);
                                t[o].at(1).add_square(y);
                            }
                        }
                    }
                }
                Ok((s, t))
            })
            .collect();
        let mut s: Vec<PerDenominator> = (0..outputs).map(|_| Default::default()).collect();
        let mut t: Vec<PerDenominator> = (0..outputs).map(|_| Default::default()).collect();
        for part in parts {
            let (ps, pt) = part?;
            for (a, b) in s.iter_mut().zip(ps) {
                a.merge(b);
            }
            for (a, b) in t.iter_mut().zip(pt) {
                a.merge(b);
            }
        }
        Ok((
            s.iter().map(|v| v.value(1)).collect(),
            t.iter().map(|v| v.value(2)).collect(),
        ))
    }

    /// `sum_m |N(x_m) - y_m|^2` from the exact outputs of every row.
    fn squared_error(&self, rows: &[(usize, RowExact)]) -> Result<BigRational, NetError> {
        let shift = self.limbs.output_shift();
        let parts: Vec<Result<PerDenominator, NetError>> = rows
            .par_chunks(256)
            .map(|block| {
                let mut acc = PerDenominator::default();
                for (m, r) in block {
                    match &r.out {
                        RowOut::Ints { z, y, p, d } => {
                            let mut sum = BigInt::zero();
                            for (zo, yo) in z.iter().zip(y) {
                                let diff = zo - (yo.to_bigint() << shift as usize);
                                sum += &diff * &diff;
                            }
                            acc.at(*d).add_dyadic(sum, 2 * (p - shift as i64));
                        }
                        RowOut::Exact(out) => {
                            let (_, y) = self.exact_xy(*m)?;
                            for (v, y) in out.iter().zip(&y) {
                                acc.at(1).add_square(&(v - y));
                            }
                        }
                    }
                }
                Ok(acc)
            })
            .collect();
        let mut total = PerDenominator::default();
        for p in parts {
            total.merge(p?);
        }
        Ok(total.value(2))
    }
}

/// The exact inspection (module docs) of the network with parameters `params` (every
/// entry the exact parameter) on `data`. `Ok(None)` when it does not apply: targets
/// computed in `f64` from `--target`, or parameters whose integers are too wide; the
/// caller then takes the rational path.
///
/// # Errors
/// [`NetError`] when the data do not fit the network or a CSV file cannot be re-read.
pub fn inspect_exact_batched(
    arch: &Arch,
    params: &[f64],
    data: &DataF64,
    progress: impl Fn(usize) + Sync,
) -> Result<Option<ExactInspection>, NetError> {
    if !data.targets_exact() || data.y.ncols() != arch.outputs() {
        return Ok(None);
    }
    let Some(limbs) = LimbNet::new(arch, params) else {
        return Ok(None);
    };
    let float = BatchNet::from_f64(arch.clone(), params.to_vec(), vec![true; arch.depth()])?;
    let blocks = forward_map(
        &float,
        data.x.view(),
        data.exactness(),
        BoundKind::default(),
        |_, layers| float_summary(&layers),
    )?;
    let mut blocks = blocks.into_iter();
    let mut summary = blocks.next().ok_or(NetError::Batch {
        reason: "no data points".into(),
    })?;
    for b in blocks {
        summary.merge(b);
    }
    let engine = Engine {
        arch,
        params,
        data,
        limbs,
        exact: OnceLock::new(),
    };
    let FloatSummary {
        positive: decided_positive,
        closed_positive,
        closed_zeros,
        open,
        open_count,
        out_z,
        out_e,
    } = summary;
    let widths: Vec<usize> = arch.hidden_layers().map(|k| arch.width(k)).collect();
    let mut fallbacks = open_count;
    let starts: Vec<usize> = widths
        .iter()
        .scan(0, |at, w| {
            let s = *at;
            *at += w;
            Some(s)
        })
        .collect();
    let maybe_dead = starts
        .iter()
        .zip(&widths)
        .any(|(&s, &w)| !decided_positive[s..s + w].iter().any(|&p| p));
    let m = data.len();
    let all: Vec<usize> = (0..m).collect();
    let mut exact_rows = if maybe_dead {
        let open_rows: Vec<usize> = (0..m).filter(|&r| open[r]).collect();
        engine.rows(&open_rows, &progress)?
    } else {
        engine.rows(&all, &progress)?
    };
    // signs: exact where computed, else the bound's (all decided there)
    let mut positive = exact_rows.positive.clone();
    let mut ties = exact_rows.ties;
    if exact_rows.rows.len() < m {
        positive
            .iter_mut()
            .zip(&closed_positive)
            .for_each(|(a, &b)| *a |= b);
        ties += closed_zeros;
    }
    let status: Vec<Vec<NeuronStatus>> = starts
        .iter()
        .zip(&widths)
        .map(|(&s, &w)| {
            positive[s..s + w]
                .iter()
                .map(|&p| {
                    if p {
                        NeuronStatus::Active
                    } else {
                        NeuronStatus::Inactive
                    }
                })
                .collect()
        })
        .collect();
    let mut activity = Activity {
        status,
        exact_ties: ties,
        near_tie_count: 0,
        near_ties: Vec::new(),
        outputs_identical: true,
    };
    let (s, t) = engine.target_sums(&exact_rows.rows)?;
    let mm = BigRational::from_integer(BigInt::from(m));
    let v = s
        .iter()
        .zip(&t)
        .fold(BigRational::zero(), |acc, (s, t)| acc + t - s * s / &mm)
        / &mm;
    let risk = match activity.first_dead_layer() {
        Some(k) => {
            // fact 1: the output is the constant after layer k at every point (the later
            // layers applied to zeros)
            let q = |v: f64| rational_from_f64(v).expect("finite (checked)");
            let mut a = vec![BigRational::zero(); arch.width(k)];
            let mut c = Vec::new();
            for l in k + 1..=arch.depth() {
                let (rows, n) = (arch.width(l), arch.width(l - 1));
                c = (0..rows)
                    .map(|j| {
                        let mut z = q(params[arch.bias_index(l, j)]);
                        for (i, ai) in a.iter().enumerate() {
                            if !ai.is_zero() {
                                z += q(params[arch.weight_index(l, j, i)]) * ai;
                            }
                        }
                        z
                    })
                    .collect();
                debug_assert_eq!(c.len(), rows);
                debug_assert_eq!(a.len(), n);
                a = c.iter().map(crate::scalar::Scalar::relu).collect();
            }
            let total =
                c.iter()
                    .zip(s.iter().zip(&t))
                    .fold(BigRational::zero(), |acc, (c, (s, t))| {
                        acc + &mm * c * c - BigRational::from_integer(2.into()) * c * s + t
                    });
            total / &mm
        }
        None => {
            if exact_rows.rows.len() < m {
                exact_rows = engine.rows(&all, &|_| {})?;
            }
            // outputs identical: as the rational path, stopping at the first point the
            // enclosures separate from point 0, or whose exact output differs
            let apart = |za: f64, ea: f64, zb: f64, eb: f64| {
                let lo = (za - ea).next_down();
                let hi = (zb + eb).next_up();
                lo.is_finite() && hi.is_finite() && lo > hi
            };
            let first = engine.output_values(&exact_rows.rows[0].1.out);
            let mut identical = true;
            for r in 1..m {
                let separated = (0..out_z.ncols()).any(|o| {
                    let (z0, e0) = (out_z[[0, o]], out_e[[0, o]]);
                    let (z1, e1) = (out_z[[r, o]], out_e[[r, o]]);
                    apart(z0, e0, z1, e1) || apart(z1, e1, z0, e0)
                });
                if separated {
                    identical = false;
                    break;
                }
                fallbacks += 1;
                if engine.output_values(&exact_rows.rows[r].1.out) != first {
                    identical = false;
                    break;
                }
            }
            activity.outputs_identical = identical;
            engine.squared_error(&exact_rows.rows)? / &mm
        }
    };
    Ok(Some(ExactInspection {
        activity,
        exact_fallbacks: fallbacks,
        risk,
        best_constant_risk: v,
    }))
}

mod summary;
use summary::*;

#[cfg(test)]
mod tests;
