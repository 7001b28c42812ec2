//! Optimized CROWN slopes (alpha-CROWN style): multipliers of the relaxation's rows whose
//! bound is lowered by a few projected sign-gradient steps on the lower slopes.
//!
//! CROWN ([`super::tighten::crown`]) bounds a negative coefficient `c` on an unstable
//! `a` by `a >= z` (row `gez`, slope 1) or `a >= 0` (slope 0). Any slope `s` in `[0, 1]`
//! gives a valid bound: `c a <= c s z` is the row `gez` with multiplier `-c s` plus
//! `(1 - s) c a` left on the variable `a >= 0` (the safe bound's residual, which costs
//! nothing there). So every choice of slopes is a set of multipliers of the same rows,
//! in the certificate's existing form, evaluated in outward-rounded intervals
//! ([`super::lp::safe_bound`]) and re-checked exactly by the checker: the optimization
//! below is a floating-point *proposal* only.
//!
//! The bound is `max_x` of the back-substituted affine form over the node's box. Its
//! (sub)gradient in the slope `s_n` of a neuron whose back-substituted coefficient is
//! `lambda_n < 0` is `lambda_n * z_n(x*)`, with `x*` the maximizing corner and `z_n(x*)`
//! the neuron's pre-activation in the relaxed network (each neuron replaced by the
//! affine piece the backward pass chose for it) at `x*`. Each step costs one backward
//! and one forward pass (no solver), a few microseconds on the benchmark's networks.

use super::lp::{Form, Relaxation, RowKind, State};
use super::{FloatNet, NodeBounds};
use crate::scalar::iv::Iv;

fn mid(x: Iv) -> f64 {
    x.lo + (x.hi - x.lo) / 2.0
}

/// What [`Dense::optimize`] found.
pub struct Optimized {
    /// Multipliers `(row, y)` (raw: [`super::tighten::safe`] makes them usable).
    pub multipliers: Vec<(usize, f64)>,
    /// Their bound in floating point (not safe: a hint of whether a proof may work).
    pub bound: f64,
    /// The corner of the box where the bound's affine form is largest.
    pub corner: Vec<f64>,
}

/// Rows of one neuron, by kind (`None` when the relaxation has none).
#[derive(Clone, Copy, Default)]
struct NeuronRows {
    eq_up: Option<usize>,
    eq_down: Option<usize>,
    gez: Option<usize>,
    tri: Option<usize>,
}

/// A relaxation in dense floating point, for repeated bounds of affine forms over it.
pub struct Dense {
    /// Widths `d, l_1, ..., l_h` (`h` the relaxation's hidden layers).
    widths: Vec<usize>,
    /// Per hidden layer: weights (row-major, midpoints) and biases.
    w: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
    states: Vec<Vec<State>>,
    lu: Vec<Vec<(f64, f64)>>,
    rows: Vec<Vec<NeuronRows>>,
    /// The variable of every neuron (`None` when off).
    vars: Vec<Vec<Option<usize>>>,
    /// The input box.
    input: Vec<(f64, f64)>,
    /// Per variable: its neuron if it is of the last hidden layer (an input when none).
    top_of_var: Vec<Option<usize>>,
}

impl Dense {
    /// The relaxation `rel`, built from `nb` on `net`.
    pub fn new(net: &FloatNet, rel: &Relaxation, nb: &NodeBounds) -> Self {
        let h = rel.states.len();
        let widths: Vec<usize> = net.widths[..=h].to_vec();
        let d = widths[0];
        let mut w = Vec::with_capacity(h);
        let mut b = Vec::with_capacity(h);
        for l in 1..=h {
            let mut wl = Vec::with_capacity(widths[l] * widths[l - 1]);
            let mut bl = Vec::with_capacity(widths[l]);
            for n in 0..widths[l] {
                let (row, bias) = net.row(l, n);
                wl.extend(row.iter().map(|x| mid(*x)));
                bl.push(mid(bias));
            }
            w.push(wl);
            b.push(bl);
        }
        let mut rows: Vec<Vec<NeuronRows>> = (1..=h)
            .map(|l| vec![NeuronRows::default(); widths[l]])
            .collect();
        for (r, row) in rel.rows.iter().enumerate() {
            let slot = &mut rows[row.layer - 1][row.neuron];
            match row.kind {
                RowKind::EqUp => slot.eq_up = Some(r),
                RowKind::EqDown => slot.eq_down = Some(r),
                RowKind::Gez => slot.gez = Some(r),
                RowKind::Tri => slot.tri = Some(r),
                RowKind::Fix => {}
            }
        }
        let mut next = d;
        let vars: Vec<Vec<Option<usize>>> = rel
            .states
            .iter()
            .map(|st| {
                st.iter()
                    .map(|s| {
                        (*s != State::Off).then(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let mut top_of_var = vec![None; rel.bounds.len()];
        if h == 0 {
            for (i, t) in top_of_var.iter_mut().enumerate().take(d) {
                *t = Some(i);
            }
        } else {
            for (n, v) in vars[h - 1].iter().enumerate() {
                if let Some(v) = v {
                    top_of_var[*v] = Some(n);
                }
            }
        }
        Self {
            top_of_var,
            widths,
            w,
            b,
            states: rel.states.clone(),
            lu: nb.z[..h].to_vec(),
            rows,
            vars,
            input: rel.bounds[..d].to_vec(),
        }
    }

    /// The slopes CROWN uses: 1 where `U > -L`, else 0.
    pub fn crown_slopes(&self) -> Vec<Vec<f64>> {
        self.lu
            .iter()
            .map(|layer| {
                layer
                    .iter()
                    .map(|&(lo, hi)| if hi > -lo { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    /// The objective's coefficients per neuron of the last hidden layer (or per input
    /// when there is none) and its constant.
    fn top(&self, objective: &Form) -> (Vec<f64>, f64) {
        let h = self.widths.len() - 1;
        let mut lam = vec![0.0; self.widths[h]];
        for (v, c) in &objective.0 {
            if let Some(&Some(n)) = self.top_of_var.get(*v) {
                lam[n] += mid(*c);
            }
        }
        (lam, mid(objective.1))
    }

    /// The back-substitution with `slopes`: the bound (floating point, not safe), the
    /// coefficients on the inputs, and the coefficient of every neuron (into `keep`);
    /// with `ys`, the multipliers `(row, y)` too.
    fn backward(
        &self,
        top: &[f64],
        c0: f64,
        slopes: &[Vec<f64>],
        keep: &mut [Vec<f64>],
        mut ys: Option<&mut Vec<(usize, f64)>>,
    ) -> (f64, Vec<f64>) {
        let h = self.widths.len() - 1;
        let mut lam = top.to_vec();
        let mut c = c0;
        for l in (1..=h).rev() {
            let width = self.widths[l];
            let cols = self.widths[l - 1];
            let mut below = vec![0.0; cols];
            for n in 0..width {
                let coef = lam[n];
                keep[l - 1][n] = coef;
                if coef == 0.0 || !coef.is_finite() {
                    continue;
                }
                let rows = self.rows[l - 1][n];
                let (lo, hi) = self.lu[l - 1][n];
                let mu = match self.states[l - 1][n] {
                    State::Off => 0.0,
                    State::On => {
                        let r = if coef > 0.0 { rows.eq_up } else { rows.eq_down };
                        if let (Some(ys), Some(r)) = (ys.as_deref_mut(), r) {
                            ys.push((r, coef.abs()));
                        }
                        coef
                    }
                    State::Unstable if coef > 0.0 => {
                        let y = coef / (hi - lo);
                        if let (Some(ys), Some(r)) = (ys.as_deref_mut(), rows.tri) {
                            ys.push((r, y));
                        }
                        c -= y * hi * lo;
                        y * hi
                    }
                    State::Unstable => {
                        let s = slopes[l - 1][n];
                        if s > 0.0
                            && let (Some(ys), Some(r)) = (ys.as_deref_mut(), rows.gez)
                        {
                            ys.push((r, -coef * s));
                        }
                        coef * s
                    }
                };
                if mu == 0.0 {
                    continue;
                }
                c += mu * self.b[l - 1][n];
                let wrow = &self.w[l - 1][n * cols..(n + 1) * cols];
                for (bl, wv) in below.iter_mut().zip(wrow) {
                    *bl += mu * wv;
                }
            }
            // an off neuron of the layer below has no variable: its coefficient is dropped
            if l >= 2 {
                for (i, bl) in below.iter_mut().enumerate() {
                    if self.vars[l - 2][i].is_none() {
                        *bl = 0.0;
                    }
                }
            }
            lam = below;
        }
        let bound = c + lam
            .iter()
            .zip(&self.input)
            .map(|(g, (lo, hi))| (g * lo).max(g * hi))
            .sum::<f64>();
        (bound, lam)
    }

    /// Gradient of the bound in the slopes (see the module docs), from the backward pass's
    /// input coefficients `lam_x` and neuron coefficients `keep`.
    fn gradient(&self, lam_x: &[f64], slopes: &[Vec<f64>], keep: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let h = self.widths.len() - 1;
        let mut a: Vec<f64> = lam_x
            .iter()
            .zip(&self.input)
            .map(|(g, (lo, hi))| if *g > 0.0 { *hi } else { *lo })
            .collect();
        let mut grads = Vec::with_capacity(h);
        for l in 1..=h {
            let cols = self.widths[l - 1];
            let mut next = vec![0.0; self.widths[l]];
            let mut g = vec![0.0; self.widths[l]];
            for n in 0..self.widths[l] {
                let wrow = &self.w[l - 1][n * cols..(n + 1) * cols];
                let z = self.b[l - 1][n] + wrow.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>();
                let (lo, hi) = self.lu[l - 1][n];
                let coef = keep[l - 1][n];
                next[n] = match self.states[l - 1][n] {
                    State::Off => 0.0,
                    State::On => z,
                    State::Unstable if coef > 0.0 => hi * (z - lo) / (hi - lo),
                    State::Unstable => {
                        if coef < 0.0 {
                            g[n] = coef * z;
                        }
                        slopes[l - 1][n] * z
                    }
                };
            }
            grads.push(g);
            a = next;
        }
        grads
    }

    /// Multipliers `(row, y)` for maximizing `objective` over the relaxation, from
    /// `iters` projected sign-gradient steps on the slopes from CROWN's (the best slopes
    /// seen, by the floating-point bound), made usable as in [`super::tighten::safe`].
    pub fn optimize(&self, objective: &Form, iters: usize) -> Optimized {
        let (top, c0) = self.top(objective);
        let mut slopes = self.crown_slopes();
        let mut keep: Vec<Vec<f64>> = self.lu.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut best = (f64::INFINITY, slopes.clone());
        let mut step = 0.5;
        for _ in 0..iters {
            let (bound, lam_x) = self.backward(&top, c0, &slopes, &mut keep, None);
            if !bound.is_finite() {
                break;
            }
            if bound < best.0 {
                best = (bound, slopes.clone());
            }
            let grads = self.gradient(&lam_x, &slopes, &keep);
            let mut moved = false;
            for (sl, gl) in slopes.iter_mut().zip(&grads) {
                for (s, g) in sl.iter_mut().zip(gl) {
                    if *g != 0.0 {
                        let t = (*s - step * g.signum()).clamp(0.0, 1.0);
                        moved |= t != *s;
                        *s = t;
                    }
                }
            }
            if !moved {
                break;
            }
            step *= 0.7;
        }
        let mut ys = Vec::new();
        let (bound, _) = self.backward(&top, c0, &slopes, &mut keep, None);
        let chosen = if bound < best.0 { &slopes } else { &best.1 };
        let (bound, lam_x) = self.backward(&top, c0, chosen, &mut keep, Some(&mut ys));
        let corner = lam_x
            .iter()
            .zip(&self.input)
            .map(|(g, (lo, hi))| if *g > 0.0 { *hi } else { *lo })
            .collect();
        Optimized {
            multipliers: ys,
            bound,
            corner,
        }
    }
}

/// Slope steps per neuron of layer `k` on a node.
pub const NODE_STEPS: usize = 20;

/// Slope steps per bound tightened ([`super::tighten::tighten`]).
pub const TIGHT_STEPS: usize = 10;
