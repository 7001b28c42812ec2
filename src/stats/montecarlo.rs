//! Monte Carlo over initializations in `f64`: how often is a network born dead?
//!
//! Trial `i` draws theta from its own stream ([`crate::net::init::trial_rng`]`(seed, i)`),
//! so results do not depend on how trials are split over threads or shards; counts are
//! integers summed in any order, so the same seed gives the same counts on any thread
//! count, and shards merge to exactly the counts of one run.
//!
//! Two fast paths decide activity exactly as [`crate::activity::activity_on_data`] does in
//! `f64` (same operations in the same order): without training (and for every scheme but
//! `rai`), eight trials at once, one per vector lane ([`super::trial_lanes`]); otherwise
//! trial by trial ([`Simulator`]), layer by layer over all points, and once a layer is dead
//! on the single constant vector every point then shares.

use super::draw_plan::DrawPlan;
use super::simd::simd_dispatch;
use super::trial_lanes::LaneDecider;
use crate::data::Dataset;
use crate::net::init::{InitSampler, trial_rng};
use crate::net::{Arch, Network};
use crate::optim::OptimizerConfig;
use crate::optim::train::{TrainConfig, train};
use crate::stats::lanes::{LANES, LaneRng, key_of, keystreams};

/// Integer tallies of a batch of trials for one configuration (mergeable).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Trials run.
    pub trials: u64,
    /// Trials with some hidden layer dead on the data.
    pub dead_layer: u64,
    /// Trials with at least one first-layer neuron inactive on the data.
    pub first_layer_inactive: u64,
    /// `inactive_hist[k-1][c]`: trials with exactly `c` inactive neurons in hidden layer `k`.
    pub inactive_hist: Vec<Vec<u64>>,
    /// Training outcomes (when training): dead at init, became constant, stayed at or
    /// above the best-constant risk, went below it, diverged.
    pub training: Option<TrainingCounts>,
    /// On a box ([`super::onbox`]): trials where no layer was proven dead and some
    /// decision ran out of its budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undecided: Option<u64>,
    /// On a box, neuron by neuron: per hidden layer, the trials whose number of inactive
    /// neurons is not determined within the budget (not in `inactive_hist`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inactive_undecided: Vec<u64>,
    /// Trials whose `f64` forward pass overflowed (a pre-activation not finite): their
    /// decision is meaningless in `f64`, so they are counted here and nowhere else.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overflowed: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Outcomes of training runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrainingCounts {
    /// Some hidden layer dead at initialization (the mechanism).
    pub dead_at_init: u64,
    /// Alive at initialization, constant on the data at the end.
    pub became_constant: u64,
    /// Not constant, final risk `>= V`.
    pub above_best_constant: u64,
    /// Final risk `< V`.
    pub below_best_constant: u64,
    /// A non-finite risk appeared.
    pub diverged: u64,
}

impl TrainingCounts {
    fn add(&mut self, o: &Self) {
        self.dead_at_init += o.dead_at_init;
        self.became_constant += o.became_constant;
        self.above_best_constant += o.above_best_constant;
        self.below_best_constant += o.below_best_constant;
        self.diverged += o.diverged;
    }
}

impl Counts {
    /// Zero counts for an architecture.
    pub fn zero(arch: &Arch, training: bool) -> Self {
        Self {
            trials: 0,
            dead_layer: 0,
            first_layer_inactive: 0,
            inactive_hist: arch
                .hidden_layers()
                .map(|k| vec![0; arch.width(k) + 1])
                .collect(),
            training: training.then(TrainingCounts::default),
            undecided: None,
            inactive_undecided: Vec::new(),
            overflowed: 0,
        }
    }
    /// Counts one trial: whether some hidden layer is dead, and the number of inactive
    /// neurons per hidden layer.
    fn tally(&mut self, dead: bool, inactive: impl Iterator<Item = u32>) {
        self.trials += 1;
        self.dead_layer += dead as u64;
        for (k, (hist, n)) in self.inactive_hist.iter_mut().zip(inactive).enumerate() {
            if k == 0 {
                self.first_layer_inactive += (n > 0) as u64;
            }
            hist[n as usize] += 1;
        }
    }

    /// Counts one trial whose `f64` forward pass overflowed.
    fn tally_overflow(&mut self) {
        self.trials += 1;
        self.overflowed += 1;
    }

    /// Counts the last trial of `sim`: overflowed, or decided.
    fn tally_sim(&mut self, sim: &Simulator<'_>, dead: bool) {
        if sim.overflowed {
            self.tally_overflow();
        } else {
            self.tally(dead, sim.inactive.iter().map(|&n| n as u32));
        }
    }

    /// Counts the trial of lane `l` of a [`LaneDecider`]'s last decision.
    fn tally_lane(&mut self, lanes: &LaneDecider, l: usize) {
        self.tally(lanes.dead[l], lanes.inactive.iter().map(|n| n[l]));
    }

    /// Adds another tally of the same configuration.
    pub fn plus(mut self, other: &Self) -> Self {
        self.trials += other.trials;
        self.overflowed += other.overflowed;
        self.dead_layer += other.dead_layer;
        self.first_layer_inactive += other.first_layer_inactive;
        for (a, b) in self.inactive_hist.iter_mut().zip(&other.inactive_hist) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        if let (Some(a), Some(b)) = (self.training.as_mut(), other.training.as_ref()) {
            a.add(b);
        }
        if let (Some(a), Some(b)) = (self.undecided.as_mut(), other.undecided) {
            *a += b;
        }
        for (a, b) in self
            .inactive_undecided
            .iter_mut()
            .zip(&other.inactive_undecided)
        {
            *a += b;
        }
        self
    }
}

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
    /// The largest `|x_i|` over the data.
    x_abs: f64,
    /// The data as rows, for the overflow check.
    rows: Vec<Vec<f64>>,
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
            x_abs,
            rows: (0..m).map(|p| data.x(p).to_vec()).collect(),
        }
    }

    /// Whether no value of the forward pass up to the last hidden layer can overflow,
    /// by the a-priori bound of [`LaneDecider::safe`]: `|z| <= e (1 + cols * bound)`
    /// with `e` the largest parameter magnitude, doubled per layer for rounding.
    fn cannot_overflow(&self) -> bool {
        let hidden = self.hidden_params();
        let e = self.theta[..hidden]
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()));
        let mut bound = self.x_abs;
        (1..self.arch.depth()).all(|k| {
            bound = 2.0 * e * (1.0 + self.arch.width(k - 1) as f64 * bound);
            bound < 1e300
        })
    }

    /// Entries of theta up to the last hidden layer.
    fn hidden_params(&self) -> usize {
        self.arch.layer_offset(self.arch.depth())
    }

    /// Whether every pre-activation of the hidden layers is finite, by the generic
    /// forward pass on every point (run only when [`Simulator::cannot_overflow`] fails).
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
        self.overflowed = !self.cannot_overflow() && !self.generic_pass_is_finite();
        if self.overflowed {
            return false;
        }
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
        dead
    }

    /// theta of the last trial.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }
}

/// A layer's weights (row-major, `rows x cols`) and biases.
#[derive(Clone, Copy)]
struct Layer<'a> {
    w: &'a [f64],
    b: &'a [f64],
    /// Whether a later layer reads the rows; if not (the last hidden layer), only
    /// whether each neuron is active is decided, stopping at its first positive block.
    keep_rows: bool,
}

/// Per input, the largest value over the points, and the smallest (`None`: every input is
/// `>= 0`, as after a ReLU).
type Range<'a> = (&'a [f64], Option<&'a [f64]>);

simd_dispatch! {
    /// One dense layer on all points: `out[j*m + p] = ReLU(b[j] + sum_i w[j*cols + i] *
    /// input[i*m + p])`, summing only over the inputs in `active_in` (the others are zero at
    /// every point, and the generic forward pass skips zero products too), in ascending order
    /// as the generic code does. Writes the neurons with some positive pre-activation to
    /// `active_out`, their largest pre-activation to `top[j]`, and returns the number of the
    /// others (inactive on every point). Compiled for AVX2 too and chosen at run time (plain
    /// multiply and add, never FMA, so the rounding is that of the generic code).
    ///
    /// Before a row is computed, its pre-activation is bounded above by the same sum, in the
    /// same order, with each input replaced by its largest value over the points where the
    /// weight is positive and by its smallest where it is negative. Rounding to nearest is
    /// monotone (`x <= y` implies `fl(x) <= fl(y)`), so step by step this `f64` bound is at
    /// least the computed pre-activation at every point; when it is `<= 0` the neuron is
    /// inactive on every point and its row, which no later layer reads, is not computed.
    #[inline]
    fn dense_layer(
        layer: Layer<'_>,
        input: &[f64],
        range: Range<'_>,
        active_in: &[usize],
        out: &mut [f64],
        top: &mut [f64],
        active_out: &mut Vec<usize>,
    ) -> usize = dense_layer_generic;
    dense_layer_avx2: ["avx2"],
}

/// Fan-ins up to this size use the unrolled kernels with stack buffers.
const SMALL_FAN_IN: usize = 8;

#[inline(always)]
fn dense_layer_generic(
    Layer { w, b, keep_rows }: Layer<'_>,
    input: &[f64],
    (in_max, in_min): Range<'_>,
    active_in: &[usize],
    out: &mut [f64],
    top: &mut [f64],
    active_out: &mut Vec<usize>,
) -> usize {
    let rows = b.len();
    let cols = w.len() / rows;
    let m = out.len() / rows;
    active_out.clear();
    let c = active_in.len();
    let mut ins: [&[f64]; SMALL_FAN_IN] = [&[]; SMALL_FAN_IN];
    if c <= SMALL_FAN_IN {
        for (slot, &i) in ins.iter_mut().zip(active_in) {
            *slot = &input[i * m..(i + 1) * m];
        }
    }
    // the bounds of all rows first, without branches (the signs of the weights are
    // random, so branching on them would mispredict half the time); adding `w * 0`
    // instead of skipping the term changes at most the sign of a zero, which `<= 0`
    // ignores
    let mut maybe_active = 0u64;
    for j in 0..rows.min(64) {
        let wj = &w[j * cols..(j + 1) * cols];
        let mut upper = b[j];
        for &i in active_in {
            let low = match in_min {
                Some(low) => low[i],
                None => 0.0,
            };
            // select by a mask: a conditional here compiles to a branch that
            // mispredicts on random signs
            let pick = 0u64.wrapping_sub((wj[i] > 0.0) as u64);
            let x = f64::from_bits((in_max[i].to_bits() & pick) | (low.to_bits() & !pick));
            upper += wj[i] * x;
        }
        maybe_active |= ((upper > 0.0) as u64) << j;
    }
    active_out.resize(rows, 0);
    let mut found = 0;
    // the rows to compute, in ascending order: the set bits (one loop exit to predict per
    // layer, not one branch per row), then for wide layers every row past the 64th
    let mut next_row = move || {
        if maybe_active != 0 {
            let j = maybe_active.trailing_zeros() as usize;
            maybe_active &= maybe_active - 1;
            Some(j)
        } else {
            None
        }
    };
    for j in std::iter::from_fn(&mut next_row).chain(64..rows) {
        let wj = &w[j * cols..(j + 1) * cols];
        let row = &mut out[j * m..(j + 1) * m];
        let largest = if c <= SMALL_FAN_IN {
            let mut ws = [0.0; SMALL_FAN_IN];
            for (slot, &i) in ws.iter_mut().zip(active_in) {
                *slot = wj[i];
            }
            match c {
                1 => dense_relu_fixed::<1>(&ws, b[j], &ins, row, keep_rows),
                2 => dense_relu_fixed::<2>(&ws, b[j], &ins, row, keep_rows),
                3 => dense_relu_fixed::<3>(&ws, b[j], &ins, row, keep_rows),
                4 => dense_relu_fixed::<4>(&ws, b[j], &ins, row, keep_rows),
                5 => dense_relu_fixed::<5>(&ws, b[j], &ins, row, keep_rows),
                6 => dense_relu_fixed::<6>(&ws, b[j], &ins, row, keep_rows),
                7 => dense_relu_fixed::<7>(&ws, b[j], &ins, row, keep_rows),
                _ => dense_relu_fixed::<8>(&ws, b[j], &ins, row, keep_rows),
            }
        } else {
            dense_relu_any(wj, b[j], input, active_in, row)
        };
        top[j] = largest;
        active_out[found] = j;
        found += (largest > 0.0) as usize;
    }
    active_out.truncate(found);
    rows - active_out.len()
}

/// Writes the ReLU row and returns the largest pre-activation; without `keep`, writes
/// nothing and returns at the first block with a positive pre-activation (its largest).
#[inline(always)]
fn dense_relu_fixed<const C: usize>(
    ws: &[f64; SMALL_FAN_IN],
    b: f64,
    ins: &[&[f64]; SMALL_FAN_IN],
    row: &mut [f64],
    keep: bool,
) -> f64 {
    const LANES: usize = 8;
    let m = row.len();
    assert!(
        ins[..C].iter().all(|r| r.len() == m),
        "every input row has one value per point"
    );
    let mut largest = [f64::NEG_INFINITY; LANES];
    let blocks = m / LANES;
    for blk in 0..blocks {
        let base = blk * LANES;
        let mut z = [b; LANES];
        for i in 0..C {
            // SAFETY: base + LANES <= blocks * LANES <= m == ins[i].len(), asserted above.
            let xs = unsafe { ins[i].get_unchecked(base..base + LANES) };
            for l in 0..LANES {
                z[l] += ws[i] * xs[l];
            }
        }
        for l in 0..LANES {
            largest[l] = if z[l] > largest[l] { z[l] } else { largest[l] };
        }
        if keep {
            let out: &mut [f64; LANES] = (&mut row[base..base + LANES])
                .try_into()
                .expect("a block of LANES");
            for l in 0..LANES {
                out[l] = if z[l] > 0.0 { z[l] } else { 0.0 };
            }
        } else if largest.iter().any(|&v| v > 0.0) {
            return max_of_lanes(largest);
        }
    }
    let mut top = max_of_lanes(largest);
    for p in blocks * LANES..m {
        let mut z = b;
        for i in 0..C {
            z += ws[i] * ins[i][p];
        }
        row[p] = if z > 0.0 { z } else { 0.0 };
        top = if z > top { z } else { top };
    }
    top
}

/// The largest of eight lanes, by halving (vector maxima instead of a chain of seven
/// scalar ones).
#[inline(always)]
fn max_of_lanes(mut v: [f64; 8]) -> f64 {
    for half in [4, 2, 1] {
        for l in 0..half {
            v[l] = if v[l + half] > v[l] {
                v[l + half]
            } else {
                v[l]
            };
        }
    }
    v[0]
}

/// Writes the ReLU row and returns the largest pre-activation.
#[inline(always)]
fn dense_relu_any(wj: &[f64], b: f64, input: &[f64], active_in: &[usize], row: &mut [f64]) -> f64 {
    let m = row.len();
    row.fill(b);
    for &i in active_in {
        let wi = wj[i];
        for (z, x) in row.iter_mut().zip(&input[i * m..(i + 1) * m]) {
            *z += wi * x;
        }
    }
    let mut top = f64::NEG_INFINITY;
    for z in row.iter_mut() {
        top = if *z > top { *z } else { top };
        *z = if *z > 0.0 { *z } else { 0.0 };
    }
    top
}

simd_dispatch! {
    /// [`DrawPlan::fill_lanes`] compiled for the vector units the processor has.
    fn fill_lanes(plan: &DrawPlan, words: &[[u64; LANES]], thetas: &mut [[f64; LANES]]) =
        DrawPlan::fill_lanes;
    fill_lanes_avx2: ["avx2"],
}

/// One Monte Carlo configuration.
pub struct McJob<'a> {
    /// Architecture.
    pub arch: &'a Arch,
    /// Sampler of theta.
    pub sampler: &'a InitSampler,
    /// The data, in `f64`.
    pub data: &'a Dataset<f64>,
    /// Seed.
    pub seed: u64,
    /// Trials `start..end` (a shard of all trials).
    pub trials: std::ops::Range<u64>,
    /// Training per trial, when asked: optimizer and steps.
    pub training: Option<(&'a OptimizerConfig<f64>, TrainConfig)>,
}

/// Trials per parallel work item.
pub const CHUNK: u64 = 2048;

/// Runs the trials of `job` in parallel (rayon's current pool), calling `tick` after each
/// chunk with the number of trials done in it. Deterministic: see the module docs.
pub fn run(job: &McJob<'_>, tick: &(dyn Fn(u64) + Sync)) -> Counts {
    use rayon::prelude::*;
    let (start, end) = (job.trials.start, job.trials.end);
    let chunks = (end.saturating_sub(start)).div_ceil(CHUNK);
    let v = job.training.as_ref().map(|_| job.data.best_constant().0);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut sim = Simulator::new(job.arch, job.sampler, job.data);
            if job.training.is_some() {
                sim = sim.full_theta();
            }
            let mut counts = Counts::zero(job.arch, job.training.is_some());
            let lo = start + c * CHUNK;
            let hi = (lo + CHUNK).min(end);
            // with a bulk plan, the generator words and thetas of eight trials at a time
            let key = key_of(&trial_rng(job.seed, 0));
            let plan = sim.plan().cloned();
            let mut words =
                vec![[0u64; LANES]; plan.as_ref().map_or(0, |p| p.draws().div_ceil(8) * 8)];
            let mut thetas = vec![[0.0; LANES]; plan.as_ref().map_or(0, |p| p.len())];
            // without training, eight trials are decided together, one per lane, when no
            // value can overflow (see `trial_lanes`): uniform schemes first, converted
            // from the keystreams in bulk
            let lanes = match (&job.training, &plan) {
                (None, Some(plan)) => {
                    LaneDecider::new(job.arch, job.data).filter(|lanes| lanes.safe(plan.max_abs()))
                }
                _ => None,
            };
            if let (Some(mut lanes), Some(plan)) = (lanes, &plan) {
                for group in (lo..hi).step_by(LANES) {
                    let streams = std::array::from_fn(|l| group.wrapping_add(l as u64));
                    keystreams(&key, &streams, &mut words);
                    fill_lanes(plan, &words, &mut thetas);
                    lanes.decide(&thetas);
                    // the last group may reach past `hi`: its extra lanes are not counted
                    for l in 0..LANES.min((hi - group) as usize) {
                        counts.tally_lane(&lanes, l);
                    }
                }
                tick(hi - lo);
                return counts;
            }
            // schemes with normal entries draw entry by entry: each lane draws with the
            // exact distributions from its own stream's words, computed eight streams at
            // a time, then the eight trials are decided together (he-normal: 0.82 s to
            // 0.67 s for 10^6 trials of the configuration on one thread); `rai`
            // stays trial by trial (its Beta draws were measured 4% slower this way)
            if job.training.is_none()
                && plan.is_none()
                && !job.sampler.is_rai()
                && let Some(lanes) = LaneDecider::new(job.arch, job.data)
            {
                let words = 3 * job.arch.num_params() + 64;
                drawn_in_lanes(job, lanes, &mut sim, &key, lo..hi, words, &mut counts);
                tick(hi - lo);
                return counts;
            }
            for trial in lo..hi {
                let lane = ((trial - lo) % LANES as u64) as usize;
                let dead = match &plan {
                    Some(plan) => {
                        if lane == 0 {
                            let streams = std::array::from_fn(|l| trial.wrapping_add(l as u64));
                            keystreams(&key, &streams, &mut words);
                            fill_lanes(plan, &words, &mut thetas);
                        }
                        sim.run_trial_from_lanes(&thetas, lane)
                    }
                    None => sim.run_trial(job.seed, trial),
                };
                counts.tally_sim(&sim, dead);
                if sim.overflowed {
                    continue;
                }
                if let (Some((opt, config)), Some(v), Some(t)) =
                    (&job.training, &v, counts.training.as_mut())
                {
                    if dead {
                        t.dead_at_init += 1;
                        continue;
                    }
                    let net = Network::new(job.arch.clone(), sim.theta().to_vec())
                        .expect("sampler fills D parameters");
                    match train(&net, job.data, *opt, config, None, |_| {}) {
                        Ok(run) if run.diverged || !run.risk_final.is_finite() => t.diverged += 1,
                        Ok(run) if run.risk_final < *v => t.below_best_constant += 1,
                        Ok(run) => {
                            let constant = crate::activity::activity_on_data(&run.last, job.data)
                                .map(|a| a.constant_on_data())
                                .unwrap_or(false);
                            if constant {
                                t.became_constant += 1;
                            } else {
                                t.above_best_constant += 1;
                            }
                        }
                        Err(_) => t.diverged += 1,
                    }
                }
            }
            tick(hi - lo);
            counts
        })
        .reduce(
            || Counts::zero(job.arch, job.training.is_some()),
            |a, b| a.plus(&b),
        )
}

/// Trials `range` of `job` drawn lane by lane from eight keystreams at a time (see
/// [`LaneRng`]) and decided in lanes; returns how many trials went through `sim` instead.
/// Those are the lanes whose draw needed more words than were computed (`words` per lane
/// at first, then a quarter more than any lane has used), or anything but `u64`s, and the
/// groups whose values could overflow: the counts are those of single trials whatever
/// happens, the number of words computed only affects the speed.
fn drawn_in_lanes(
    job: &McJob<'_>,
    mut lanes: LaneDecider,
    sim: &mut Simulator<'_>,
    key: &[u32; 8],
    range: std::ops::Range<u64>,
    words: usize,
    counts: &mut Counts,
) -> u64 {
    let params = job.arch.num_params();
    let mut theta = vec![0.0; params];
    let mut thetas = vec![[0.0; LANES]; lanes.params()];
    // whole blocks are computed; the lanes may use the first `limit` words
    let mut limit = words;
    let mut words = vec![[0u64; LANES]; words.div_ceil(8) * 8];
    let (mut most, mut single) = (0, 0);
    for group in range.clone().step_by(LANES) {
        let valid = LANES.min((range.end - group) as usize);
        let streams = std::array::from_fn(|l| group.wrapping_add(l as u64));
        keystreams(key, &streams, &mut words);
        let mut good = [false; LANES];
        let mut max_abs = 0.0f64;
        for (l, ok) in good.iter_mut().enumerate().take(valid) {
            let mut rng = LaneRng::new(&words[..limit], l);
            job.sampler.sample_into(&mut rng, &mut theta);
            *ok = !rng.spoiled();
            if !*ok {
                // decided with zeros and not counted
                theta.fill(0.0);
            }
            most = most.max(if *ok { rng.used() } else { 0 });
            // the largest magnitude by the bits (for finite non-negative values the order
            // of the bits is that of the values, and an integer maximum vectorizes)
            let bits = theta[..lanes.params()]
                .iter()
                .map(|v| v.to_bits() & !(1 << 63))
                .max()
                .unwrap_or(0);
            // (a NaN, which no sampler draws, would count as unbounded)
            let lane_max = f64::from_bits(bits);
            max_abs = max_abs.max(if lane_max.is_nan() {
                f64::INFINITY
            } else {
                lane_max
            });
            for (slot, v) in thetas.iter_mut().zip(&theta) {
                slot[l] = *v;
            }
        }
        for slot in thetas.iter_mut() {
            slot[valid..].fill(0.0);
        }
        let in_lanes = lanes.safe(max_abs);
        if in_lanes {
            lanes.decide(&thetas);
        }
        for (l, ok) in good.iter().enumerate().take(valid) {
            if in_lanes && *ok {
                counts.tally_lane(&lanes, l);
            } else {
                let dead = sim.run_trial(job.seed, group + l as u64);
                counts.tally_sim(sim, dead);
                single += 1;
            }
        }
        let want = (most + most / 4 + 16).div_ceil(8) * 8;
        if want < words.len() {
            words.truncate(want);
            limit = limit.min(want);
        }
    }
    single
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSpec, Target};

    /// `run` (eight trials' generator words at a time, in parallel) counts exactly what
    /// trial-by-trial simulation counts, for ranges that do not start or end on a group
    /// of eight, with and without a bulk plan.
    #[test]
    fn batched_streams_count_as_single_trials() {
        let arch = Arch::new(vec![1, 3, 3, 3, 1]).unwrap();
        let data: Dataset<f64> = "grid:-1,1:16"
            .parse::<DataSpec>()
            .unwrap()
            .build(1, 1, &Target::Abs, 0)
            .unwrap()
            .convert()
            .unwrap();
        for (scheme, bias) in [
            ("torch-default", "default"),
            ("he-normal", "default"),
            ("rai", "default"),
            ("normal:0.7", "normal:0.3"),
            ("glorot-normal", "uniform:0.2"),
        ] {
            let sampler = InitSampler::new(&arch, &scheme.parse().unwrap(), &bias.parse().unwrap());
            let job = McJob {
                arch: &arch,
                sampler: &sampler,
                data: &data,
                seed: 21,
                trials: 3..2061,
                training: None,
            };
            let counts = run(&job, &|_| {});
            let mut sim = Simulator::new(&arch, &sampler, &data);
            assert_eq!(sim.plan().is_some(), scheme == "torch-default");
            let mut single = Counts::zero(&arch, false);
            for trial in 3..2061 {
                let dead = sim.run_trial(21, trial);
                single.trials += 1;
                single.dead_layer += dead as u64;
                single.first_layer_inactive += (sim.inactive[0] > 0) as u64;
                for (hist, &n) in single.inactive_hist.iter_mut().zip(&sim.inactive) {
                    hist[n] += 1;
                }
            }
            assert_eq!(counts, single, "{scheme}");
        }
    }

    /// Drawn in lanes: whether every lane runs out of words (all trials single), some do,
    /// or none, the counts are those of single trials.
    #[test]
    fn lanes_that_run_out_of_words_fall_back_exactly() {
        let arch = Arch::new(vec![2, 4, 3, 3, 1]).unwrap();
        let data: Dataset<f64> = "uniform:-1,1:13"
            .parse::<DataSpec>()
            .unwrap()
            .build(2, 1, &Target::Abs, 0)
            .unwrap()
            .convert()
            .unwrap();
        for scheme in ["he-normal", "rai"] {
            let sampler =
                InitSampler::new(&arch, &scheme.parse().unwrap(), &"default".parse().unwrap());
            let job = McJob {
                arch: &arch,
                sampler: &sampler,
                data: &data,
                seed: 4,
                trials: 5..405,
                training: None,
            };
            let mut sim = Simulator::new(&arch, &sampler, &data);
            let mut single = Counts::zero(&arch, false);
            for trial in job.trials.clone() {
                let dead = sim.run_trial(4, trial);
                single.tally(dead, sim.inactive.iter().map(|&n| n as u32));
            }
            assert!(single.dead_layer > 0, "{scheme}");
            // the median number of words a draw takes: a limit there leaves some lanes
            // short
            let mut used: Vec<usize> = (0..64)
                .map(|trial| {
                    let mut rng = Counting(trial_rng(4, trial), 0);
                    sampler.sample_into(&mut rng, &mut vec![0.0; arch.num_params()]);
                    rng.1
                })
                .collect();
            used.sort();
            let key = key_of(&trial_rng(4, 0));
            let mut fallbacks = Vec::new();
            for words in [8, used[32], 3 * arch.num_params() + 64] {
                let lanes = LaneDecider::new(&arch, &data).unwrap();
                let mut counts = Counts::zero(&arch, false);
                let n = drawn_in_lanes(&job, lanes, &mut sim, &key, 5..405, words, &mut counts);
                assert_eq!(counts, single, "{scheme} with {words} words");
                fallbacks.push(n);
            }
            // all, some, none
            assert_eq!(fallbacks[0], 400, "{scheme}");
            assert!(
                fallbacks[1] > 0 && fallbacks[1] < 400,
                "{scheme}: {fallbacks:?}"
            );
            assert!(fallbacks[2] < 8, "{scheme}: {fallbacks:?}");
        }
    }

    /// A generator that counts the `u64`s drawn from it.
    struct Counting(rand_chacha::ChaCha8Rng, usize);

    impl rand::RngCore for Counting {
        fn next_u32(&mut self) -> u32 {
            panic!("the samplers draw u64s only")
        }
        fn next_u64(&mut self) -> u64 {
            self.1 += 1;
            self.0.next_u64()
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            panic!("the samplers draw u64s only")
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand::Error> {
            panic!("the samplers draw u64s only")
        }
    }

    /// The fast path decides exactly as the generic activity code in f64.
    #[test]
    fn fast_path_matches_generic_activity() {
        // (architecture, data, scheme, bias, trials, least number of dead trials): one
        // input with the grid, two inputs of both signs (the first layer's bound
        // uses the smallest inputs), a layer wider than 64 rows with fan-ins above 8 (the
        // generic kernels), zero biases and a different scale
        let cases = [
            (
                "1,3,3,3,3,3,1",
                "grid:-1,1:64",
                "torch-default",
                "default",
                600,
                100,
            ),
            (
                "2,3,2,3,1",
                "grid:-1,1:5",
                "torch-default",
                "default",
                600,
                10,
            ),
            (
                "2,70,9,4,1",
                "uniform:-2,1:37",
                "he-uniform",
                "default",
                300,
                0,
            ),
            (
                "3,5,5,5,5,2",
                "uniform:0,1:11",
                "uniform:0.5",
                "zero",
                600,
                10,
            ),
        ];
        for (arch, data, scheme, bias, trials, least_dead) in cases {
            let arch = Arch::new(arch.split(',').map(|w| w.parse().unwrap()).collect()).unwrap();
            let sampler = InitSampler::new(&arch, &scheme.parse().unwrap(), &bias.parse().unwrap());
            let data: Dataset<f64> = data
                .parse::<DataSpec>()
                .unwrap()
                .build(arch.width(0), arch.width(arch.depth()), &Target::Abs, 3)
                .unwrap()
                .convert()
                .unwrap();
            let mut sim = Simulator::new(&arch, &sampler, &data).full_theta();
            let mut lean = Simulator::new(&arch, &sampler, &data);
            let mut dead_seen = 0;
            for trial in 0..trials {
                let dead = sim.run_trial(9, trial);
                // the same theta as every other command draws for (seed 9, trial)
                assert_eq!(sim.theta(), &sampler.sample(&mut trial_rng(9, trial))[..]);
                let net = Network::new(arch.clone(), sim.theta().to_vec()).unwrap();
                let act = crate::activity::activity_on_data(&net, &data).unwrap();
                assert_eq!(
                    dead,
                    !act.dead_layers().is_empty(),
                    "{arch:?} trial {trial}"
                );
                assert_eq!(
                    sim.inactive,
                    act.inactive_per_layer(),
                    "{arch:?} trial {trial}"
                );
                // without the output layer's draws the decision is the same
                assert_eq!(lean.run_trial(9, trial), dead);
                assert_eq!(lean.inactive, sim.inactive);
                dead_seen += dead as u32;
            }
            assert!(dead_seen >= least_dead, "{arch:?}: {dead_seen} dead");
        }
    }
}
