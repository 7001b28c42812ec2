//! The screened witness search (the module docs of [`super`], "Cost"): every
//! candidate's gain in `f64` from prefix and suffix sums, the best ones evaluated exactly.

use super::{Candidate, FeatureFit, MAX_CONTENDERS, SCREEN_TOLERANCE, best_exact, exhaustive};
use crate::activity::filtered::to_f64_exactly;
use crate::data::Dataset;
use crate::scalar::BigRational;
use rayon::prelude::*;
use std::cmp::Ordering;

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
pub(super) fn screened(
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
