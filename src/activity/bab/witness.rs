//! A seeded floating-point search for a point of the box where some neuron of layer `k`
//! is positive, confirmed exactly.
//!
//! From the box's centre, its corners' directions and seeded uniform starts, projected
//! sign-gradient ascent (the steepest ascent for a box, as in projected gradient attacks)
//! climbs `max_j z_{k,j}(x)`, computed in `f64` with the gradient of the maximizing
//! neuron through the current ReLU pattern. Steps shrink geometrically. Every point whose
//! `f64` value is positive is converted exactly (an `f64` is a dyadic rational), clamped
//! into the box exactly, and passed through the exact forward pass; only a positive exact
//! pre-activation makes it a witness. The search decides nothing by itself: finding no
//! witness proves nothing, and a float-positive point that is not exactly positive is
//! ignored.

use super::{FloatNet, witness_at};
use crate::net::Network;
use crate::scalar::BigRational;
use crate::scalar::iv::Iv;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Starts of the ascent.
pub const STARTS: usize = 48;
/// Steps per start.
pub const STEPS: usize = 60;

/// Midpoints of the enclosed parameters: the search only proposes points.
struct MidNet {
    widths: Vec<usize>,
    /// Per layer `l` (index `l - 1`): the row-major `W_l` and `b_l`.
    layers: Vec<(Vec<f64>, Vec<f64>)>,
}

impl MidNet {
    fn new(net: &FloatNet) -> Self {
        let k = net.widths.len() - 1;
        let mid = |x: &Iv| x.lo + (x.hi - x.lo) / 2.0;
        let layers = (1..=k)
            .map(|l| {
                let mut w = Vec::new();
                let mut b = Vec::new();
                for n in 0..net.widths[l] {
                    let (row, bias) = net.row(l, n);
                    w.extend(row.iter().map(mid));
                    b.push(mid(&bias));
                }
                (w, b)
            })
            .collect();
        Self {
            widths: net.widths.clone(),
            layers,
        }
    }

    /// `max_j z_{k,j}(x)` and its gradient in `x` (through the ReLU pattern at `x`).
    fn value_and_gradient(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let k = self.layers.len();
        let mut acts: Vec<Vec<f64>> = vec![x.to_vec()];
        let mut pres: Vec<Vec<f64>> = Vec::with_capacity(k);
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let cols = self.widths[l];
            let input = &acts[l];
            let z: Vec<f64> = b
                .iter()
                .enumerate()
                .map(|(j, bj)| {
                    w[j * cols..(j + 1) * cols]
                        .iter()
                        .zip(input)
                        .fold(*bj, |s, (wi, ai)| s + wi * ai)
                })
                .collect();
            acts.push(z.iter().map(|v| v.max(0.0)).collect());
            pres.push(z);
        }
        let last = &pres[k - 1];
        let (jmax, vmax) =
            last.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bj, bv), (j, &v)| {
                    if v > bv { (j, v) } else { (bj, bv) }
                });
        // backward: d z_{k,jmax} / d a_{k-1} = row jmax of W_k
        let cols = self.widths[k - 1];
        let mut grad: Vec<f64> = self.layers[k - 1].0[jmax * cols..(jmax + 1) * cols].to_vec();
        for l in (1..k).rev() {
            let (w, _) = &self.layers[l - 1];
            let cols = self.widths[l - 1];
            let mut below = vec![0.0; cols];
            for (j, g) in grad.iter().enumerate() {
                if pres[l - 1][j] <= 0.0 || *g == 0.0 {
                    continue;
                }
                for (bi, wi) in below.iter_mut().zip(&w[j * cols..(j + 1) * cols]) {
                    *bi += g * wi;
                }
            }
            grad = below;
        }
        (vmax, grad)
    }
}

/// The search of the module docs; `None` when no exactly confirmed witness was found.
pub fn search(
    net: &Network<BigRational>,
    float: &FloatNet,
    k: usize,
    region: &[(BigRational, BigRational)],
    seed: u64,
) -> Option<(Vec<BigRational>, usize, BigRational)> {
    let fnet = MidNet::new(float);
    let lo: Vec<f64> = float.region.iter().map(|r| r.lo).collect();
    let hi: Vec<f64> = float.region.iter().map(|r| r.hi).collect();
    let d = lo.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let try_point = |x: &[f64]| witness_at(net, float, k, x, region);
    for s in 0..STARTS {
        let mut x: Vec<f64> = match s {
            0 => lo.iter().zip(&hi).map(|(a, b)| 0.5 * (a + b)).collect(),
            _ => lo
                .iter()
                .zip(&hi)
                .map(|(&a, &b)| if a < b { rng.gen_range(a..=b) } else { a })
                .collect(),
        };
        let mut step = 0.25;
        let mut best = f64::NEG_INFINITY;
        for _ in 0..STEPS {
            let (value, grad) = fnet.value_and_gradient(&x);
            if !value.is_finite() {
                break;
            }
            if value > 0.0
                && let Some(found) = try_point(&x)
            {
                return Some(found);
            }
            if value <= best {
                step *= 0.6;
            }
            best = best.max(value);
            for i in 0..d {
                let g = grad[i];
                if g != 0.0 {
                    let width = hi[i] - lo[i];
                    x[i] = (x[i] + step * width * g.signum()).clamp(lo[i], hi[i]);
                }
            }
            if step < 1e-6 {
                break;
            }
        }
        let (value, _) = fnet.value_and_gradient(&x);
        if value > 0.0
            && let Some(found) = try_point(&x)
        {
            return Some(found);
        }
    }
    None
}
