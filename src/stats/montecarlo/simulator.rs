//! The trial-by-trial `f64` dead-layer detector: draws theta, decides activity layer by
//! layer over all points, and flags overflowed forward passes.

use super::dense::{Layer, Range, dense_layer};
use crate::data::Dataset;
use crate::net::init::{InitSampler, trial_rng};
use crate::net::{Arch, Network};
use crate::stats::draw_plan::DrawPlan;
use crate::stats::lanes::LANES;

/// The fast `f64` dead-layer detector for one architecture and data set.
pub struct Simulator<'a> {
    arch: &'a Arch,
    sampler: &'a InitSampler,
    /// Inputs, feature-major: `xs[i * m + point]`.
    xs: Vec<f64>,
    m: usize,
    theta: Vec<f64>,
    cur: Vec<f64>,
    next: Vec<f64>,
    active_in: Vec<usize>,
    active_out: Vec<usize>,
    /// Per input feature, its largest and smallest value over the points.
    x_max: Vec<f64>,
    x_min: Vec<f64>,
    /// Per neuron of the current and the next layer, its largest output over the points.
    top_in: Vec<f64>,
    top_out: Vec<f64>,
    /// The generator of `seed` before any stream is chosen (cloning it and setting the
    /// stream gives exactly `trial_rng(seed, trial)`, without re-expanding the seed).
    base_rng: Option<(u64, rand_chacha::ChaCha8Rng)>,
    /// How many entries of theta each trial needs: up to the last hidden layer, or all of
    /// them (see [`Simulator::full_theta`]), and the bulk plan drawing them when there is one.
    draw_len: usize,
    plan: Option<DrawPlan>,
    scratch: Vec<u8>,
    /// Inactive neurons per hidden layer of the last trial.
    pub inactive: Vec<usize>,
    /// Whether the last trial's `f64` forward pass overflowed (then `inactive` and the
    /// returned decision mean nothing).
    pub overflowed: bool,
    /// Whether the last trial has a near tie ([`super::near_ties`]): then too `inactive`
    /// and the returned decision mean nothing.
    pub near_tie: bool,
    /// The largest `|x_i|` over the data.
    x_abs: f64,
    /// The data as rows, for the overflow check.
    rows: Vec<Vec<f64>>,
    /// The data as the matrix of the batched pass, made at the first near tie.
    x_matrix: Option<ndarray::Array2<f64>>,
}

impl<'a> Simulator<'a> {
    /// Prepares buffers for `data` (only its inputs are used).
    pub fn new(arch: &'a Arch, sampler: &'a InitSampler, data: &Dataset<f64>) -> Self {
        let (m, d) = (data.len(), data.inputs());
        let mut xs = vec![0.0; d * m];
        for p in 0..m {
            for (i, v) in data.x(p).iter().enumerate() {
                xs[i * m + p] = *v;
            }
        }
        let feature = |i: usize| &xs[i * m..(i + 1) * m];
        let x_max = (0..d)
            .map(|i| feature(i).iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v)))
            .collect();
        let x_min = (0..d)
            .map(|i| feature(i).iter().fold(f64::INFINITY, |a, &v| a.min(v)))
            .collect();
        let x_abs = xs.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let draw_len =
            arch.num_params() - arch.width(arch.depth()) * (arch.width(arch.depth() - 1) + 1);
        let widest = arch.widths().iter().copied().max().unwrap_or(1);
        Self {
            arch,
            sampler,
            xs,
            m,
            theta: vec![0.0; arch.num_params()],
            cur: vec![0.0; widest * m],
            next: vec![0.0; widest * m],
            active_in: Vec::with_capacity(widest),
            active_out: Vec::with_capacity(widest),
            x_max,
            x_min,
            top_in: vec![0.0; widest],
            top_out: vec![0.0; widest],
            base_rng: None,
            draw_len,
            plan: DrawPlan::new(sampler, draw_len),
            scratch: Vec::new(),
            inactive: vec![0; arch.depth() - 1],
            overflowed: false,
            near_tie: false,
            x_abs,
            rows: (0..m).map(|p| data.x(p).to_vec()).collect(),
            x_matrix: None,
        }
    }

    /// The a-priori bound of [`crate::net::batch::a_priori`] (the one
    /// [`crate::stats::trial_lanes::LaneDecider::safe`] uses) for this trial's largest
    /// parameter: per hidden layer the rounding error `E_k` of every pre-activation, or
    /// `None` when some value might overflow.
    fn a_priori(&self) -> Option<Vec<f64>> {
        let hidden = self.hidden_params();
        let e = self.theta[..hidden].iter().fold(0.0f64, |a, v| {
            if v.is_nan() { f64::NAN } else { a.max(v.abs()) }
        });
        let fan_ins = (1..self.arch.depth()).map(|k| self.arch.width(k - 1));
        crate::net::batch::a_priori(fan_ins, e, self.x_abs, true)
    }

    /// Entries of theta up to the last hidden layer.
    fn hidden_params(&self) -> usize {
        self.arch.layer_offset(self.arch.depth())
    }

    /// Whether every pre-activation of the hidden layers is finite, by the generic
    /// forward pass on every point (run only when [`Simulator::a_priori`] fails).
    fn generic_pass_is_finite(&self) -> bool {
        let mut theta = self.theta.clone();
        theta[self.hidden_params()..].fill(0.0);
        let net = Network::new(self.arch.clone(), theta).expect("theta has D entries");
        let hidden = self.arch.depth() - 1;
        self.rows.iter().all(|x| {
            net.forward(x).pre[..hidden]
                .iter()
                .all(|layer| layer.iter().all(|z| z.is_finite()))
        })
    }

    /// Draws the output layer too, so that [`Simulator::theta`] is the whole draw (the
    /// decision needs only the hidden layers, and skipping the output layer's entries
    /// changes nothing before them).
    pub fn full_theta(mut self) -> Self {
        self.draw_len = self.theta.len();
        self.plan = DrawPlan::new(self.sampler, self.draw_len);
        self
    }

    /// Draws theta for trial `i` and decides activity; returns whether some hidden layer
    /// is dead. `self.inactive` holds the per-layer counts, `self.theta()` the draw (its
    /// output layer only after [`Simulator::full_theta`]).
    pub fn run_trial(&mut self, seed: u64, trial: u64) -> bool {
        self.draw(seed, trial);
        self.decide()
    }

    /// The bulk draw plan, when the scheme has one (uniform and constant entries only).
    pub fn plan(&self) -> Option<&DrawPlan> {
        self.plan.as_ref()
    }

    /// Like [`Simulator::run_trial`] with theta given: entry `e` is `thetas[e][lane]` (as
    /// [`DrawPlan::fill_lanes`] makes them for eight trials at once), for the entries the
    /// plan covers.
    pub fn run_trial_from_lanes(&mut self, thetas: &[[f64; LANES]], lane: usize) -> bool {
        for (t, v) in self.theta.iter_mut().zip(thetas) {
            *t = v[lane];
        }
        self.decide()
    }

    /// Draws theta of trial `trial` of `seed`.
    fn draw(&mut self, seed: u64, trial: u64) {
        if self.base_rng.as_ref().is_none_or(|(s, _)| *s != seed) {
            self.base_rng = Some((seed, trial_rng(seed, 0)));
        }
        let mut rng = self
            .base_rng
            .as_ref()
            .map(|(_, r)| r.clone())
            .expect("set just above");
        rng.set_stream(trial);
        match &self.plan {
            Some(plan) => plan.sample(&mut rng, &mut self.theta, &mut self.scratch),
            None => self.sampler.sample_into(&mut rng, &mut self.theta),
        }
    }

    /// Decides activity of the drawn theta (see [`Simulator::run_trial`]).
    fn decide(&mut self) -> bool {
        // Overflow makes the f64 decision meaningless (inf - inf is NaN, and the fast
        // pass and the generic one then disagree): such trials are flagged, not decided.
        let errors = self.a_priori();
        self.near_tie = false;
        self.overflowed = errors.is_none() && !self.generic_pass_is_finite();
        if self.overflowed {
            return false;
        }
        let dead = self.decide_f64(errors.as_deref());
        if dead.1 {
            return dead.0;
        }
        // some sign not settled by the a-priori bound: the per-value bound decides
        let x = self.x_matrix.get_or_insert_with(|| {
            ndarray::Array2::from_shape_fn((self.rows.len(), self.arch.width(0)), |(m, i)| {
                self.rows[m][i]
            })
        });
        match super::near_ties::settle(self.arch, &self.theta, x) {
            Some((dead, inactive)) => {
                for (slot, n) in self.inactive.iter_mut().zip(inactive) {
                    *slot = n as usize;
                }
                dead
            }
            None => {
                self.near_tie = true;
                false
            }
        }
    }

    /// The float decision, and whether the a-priori bound `errors` settles it (every
    /// neuron computed before the first dead layer, and that layer).
    fn decide_f64(&mut self, errors: Option<&[f64]>) -> (bool, bool) {
        use super::near_ties::top_settled;
        let mut settled = errors.is_some();
        let (arch, m) = (self.arch, self.m);
        let mut dead = false;
        let mut constant_mode = false;
        let mut offset = 0;
        for k in 1..arch.depth() {
            let (rows, cols) = (arch.width(k), arch.width(k - 1));
            let w = &self.theta[offset..offset + rows * cols];
            let b = &self.theta[offset + rows * cols..offset + rows * (cols + 1)];
            offset += rows * (cols + 1);
            let mut inactive = 0;
            if constant_mode {
                // the single activation vector every point shares, in `next`
                let (input, out) = (&self.cur[..cols], &mut self.next[..rows]);
                for (j, slot) in out.iter_mut().enumerate() {
                    // the generic pass skips zero products; adding them instead changes
                    // at most the sign of a zero sum (no branch on the often-zero inputs)
                    let z = (0..cols).fold(b[j], |acc, i| acc + w[j * cols + i] * input[i]);
                    if z <= 0.0 {
                        inactive += 1;
                    }
                    *slot = if z > 0.0 { z } else { 0.0 };
                }
                std::mem::swap(&mut self.cur, &mut self.next);
            } else {
                let (input, range): (&[f64], Range<'_>) = if k == 1 {
                    self.active_in.clear();
                    self.active_in.extend(0..cols);
                    (&self.xs, (&self.x_max, Some(&self.x_min)))
                } else {
                    (&self.cur[..cols * m], (&self.top_in, None))
                };
                inactive = dense_layer(
                    Layer {
                        w,
                        b,
                        keep_rows: k + 1 < arch.depth(),
                    },
                    input,
                    range,
                    &self.active_in,
                    &mut self.next[..rows * m],
                    &mut self.top_out,
                    &mut self.active_out,
                );
                std::mem::swap(&mut self.cur, &mut self.next);
                std::mem::swap(&mut self.active_in, &mut self.active_out);
                std::mem::swap(&mut self.top_in, &mut self.top_out);
                // after a dead layer whose signs are settled every value is exact
                if let Some(errors) = errors {
                    let e = errors[k - 1];
                    settled &= self.top_in[..rows].iter().all(|&t| top_settled(t, e));
                }
            }
            self.inactive[k - 1] = inactive;
            if inactive == rows {
                dead = true;
                if !constant_mode {
                    constant_mode = true;
                    self.cur[..rows].fill(0.0);
                }
            }
        }
        (dead, settled)
    }

    /// theta of the last trial.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }
}
