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
//! on the single constant vector every point then shares. A float decision counts only
//! when the rigorous rounding bound settles it; the others are settled by the per-value
//! bound or counted as near ties ([`near_ties`]).

mod counts;
mod dense;
pub mod near_ties;
mod simulator;
#[cfg(test)]
mod tests;
mod training;

pub use counts::{Counts, TrainingCounts};
pub use simulator::Simulator;

use super::draw_plan::DrawPlan;
use super::simd::simd_dispatch;
use super::trial_lanes::LaneDecider;
use crate::data::Dataset;
use crate::net::Arch;
use crate::net::init::{InitSampler, trial_rng};
use crate::optim::OptimizerConfig;
use crate::optim::train::TrainConfig;
use crate::stats::lanes::{LANES, LaneRng, key_of, keystreams};

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
    let counts = (0..chunks)
        .into_par_iter()
        .map(|c| {
            if crate::cancel::requested() {
                // stopped: the count is dropped at the cancellation point below
                return Counts::zero(job.arch, job.training.is_some());
            }
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
                (None, Some(plan)) => LaneDecider::new(job.arch, job.data)
                    .and_then(|lanes| lanes.safe(plan.max_abs()).map(|e| (lanes, e))),
                _ => None,
            };
            let x = near_ties::input_matrix(job.data);
            if let (Some((mut lanes, errors)), Some(plan)) = (lanes, &plan) {
                for group in (lo..hi).step_by(LANES) {
                    if crate::cancel::requested() {
                        break; // the partial count is dropped at the cancellation point of `run`
                    }
                    let streams = std::array::from_fn(|l| group.wrapping_add(l as u64));
                    keystreams(&key, &streams, &mut words);
                    fill_lanes(plan, &words, &mut thetas);
                    lanes.decide(&thetas);
                    // the last group may reach past `hi`: its extra lanes are not counted
                    for l in 0..LANES.min((hi - group) as usize) {
                        counts.tally_lane(&lanes, &errors, l, job.arch, &thetas, &x);
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
                drawn_in_lanes(job, lanes, &mut sim, &key, lo..hi, words, &mut counts, &x);
                tick(hi - lo);
                return counts;
            }
            for trial in lo..hi {
                if crate::cancel::requested() {
                    break; // the partial count is dropped at the cancellation point of `run`
                }
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
                if sim.overflowed || sim.near_tie {
                    continue;
                }
                if let (Some((opt, config)), Some(v), Some(t)) =
                    (&job.training, &v, counts.training.as_mut())
                {
                    t.tally_trained(dead, job.arch, sim.theta(), job.data, opt, config, *v);
                }
            }
            tick(hi - lo);
            counts
        })
        .reduce(
            || Counts::zero(job.arch, job.training.is_some()),
            |a, b| a.plus(&b),
        );
    crate::cancel::point();
    counts
}

/// Trials `range` of `job` drawn lane by lane from eight keystreams at a time (see
/// [`LaneRng`]) and decided in lanes; returns how many trials went through `sim` instead.
/// Those are the lanes whose draw needed more words than were computed (`words` per lane
/// at first, then a quarter more than any lane has used), or anything but `u64`s, and the
/// groups whose values could overflow: the counts are those of single trials whatever
/// happens, the number of words computed only affects the speed.
#[allow(clippy::too_many_arguments)]
fn drawn_in_lanes(
    job: &McJob<'_>,
    mut lanes: LaneDecider,
    sim: &mut Simulator<'_>,
    key: &[u32; 8],
    range: std::ops::Range<u64>,
    words: usize,
    counts: &mut Counts,
    x: &ndarray::Array2<f64>,
) -> u64 {
    let params = job.arch.num_params();
    let mut theta = vec![0.0; params];
    let mut thetas = vec![[0.0; LANES]; lanes.params()];
    // whole blocks are computed; the lanes may use the first `limit` words
    let mut limit = words;
    let mut words = vec![[0u64; LANES]; words.div_ceil(8) * 8];
    let (mut most, mut single) = (0, 0);
    for group in range.clone().step_by(LANES) {
        if crate::cancel::requested() {
            break; // the partial count is dropped at the cancellation point of `run`
        }
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
        let errors = lanes.safe(max_abs);
        let in_lanes = errors.is_some();
        if in_lanes {
            lanes.decide(&thetas);
        }
        let errors = errors.unwrap_or_default();
        for (l, ok) in good.iter().enumerate().take(valid) {
            if in_lanes && *ok {
                counts.tally_lane(&lanes, &errors, l, job.arch, &thetas, x);
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
