//! Monte Carlo on an input box: how often is a network born dead on the whole box
//! `[a,b]^d` (the true-risk setting), decided exactly per trial.
//!
//! Trial `i` draws the same theta as every other command ([`crate::net::init::trial_rng`]),
//! converts it exactly to rationals, counts the first-layer neurons inactive on the box by
//! the closed form of MECHANISM.md, and decides the deeper layers with
//! [`crate::activity::domain::decide_dead_on_box`] (input splitting, then the complete
//! phase method) until one is proven dead. A trial where no layer is proven dead but some
//! decision ran out of its budget is *undecided* and counted apart, never as alive.
//! Counts are integers over trials with their own streams, so they do not depend on the
//! number of threads, and shards merge exactly.

use super::montecarlo::Counts;
use crate::activity::domain::{BoxDecision, cube, decide_dead_on_box, first_layer_inactive_on_box};
use crate::net::init::{InitSampler, trial_rng};
use crate::net::{Arch, Network};
use crate::scalar::{BigRational, vec_from_f64};

/// One configuration on a box.
pub struct BoxJob<'a> {
    /// Architecture.
    pub arch: &'a Arch,
    /// Sampler of theta.
    pub sampler: &'a InitSampler,
    /// The box `[a, b]^d`.
    pub a: &'a BigRational,
    /// Upper end.
    pub b: &'a BigRational,
    /// Seed.
    pub seed: u64,
    /// Trials `start..end`.
    pub trials: std::ops::Range<u64>,
    /// Budget of sub-boxes or phase regions per layer decision.
    pub budget: usize,
}

/// Trials per parallel work item (the exact decisions are slow, so small chunks keep
/// both threads busy and the progress bar moving).
const CHUNK: u64 = 16;

/// Runs the trials of `job` in parallel (rayon's current pool), calling `tick` after each
/// chunk. `inactive_hist` holds the first layer only (deeper layers are decided as whole
/// layers, not neuron by neuron).
pub fn run_box(job: &BoxJob<'_>, tick: &(dyn Fn(u64) + Sync)) -> Counts {
    use rayon::prelude::*;
    let (start, end) = (job.trials.start, job.trials.end);
    let chunks = end.saturating_sub(start).div_ceil(CHUNK);
    let arch = job.arch;
    let region = cube(job.a, job.b, arch.inputs());
    let zero = || {
        let mut c = Counts::zero(arch, false);
        c.inactive_hist.truncate(1);
        c.undecided = Some(0);
        c
    };
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut counts = zero();
            let lo = start + c * CHUNK;
            let hi = (lo + CHUNK).min(end);
            for trial in lo..hi {
                let theta = job.sampler.sample(&mut trial_rng(job.seed, trial));
                let params: Vec<BigRational> =
                    vec_from_f64(&theta).expect("the samplers draw finite values");
                let net = Network::new(arch.clone(), params).expect("sampler fills D parameters");
                let first = (0..arch.width(1))
                    .filter(|&j| first_layer_inactive_on_box(&net, j, job.a, job.b))
                    .count();
                counts.trials += 1;
                counts.inactive_hist[0][first] += 1;
                counts.first_layer_inactive += (first > 0) as u64;
                let mut dead = first == arch.width(1);
                let mut unknown = false;
                for k in arch.hidden_layers().skip(1) {
                    if dead {
                        break;
                    }
                    match decide_dead_on_box(&net, k, &region, job.budget) {
                        BoxDecision::Dead { .. } => dead = true,
                        BoxDecision::Unknown { .. } => unknown = true,
                        BoxDecision::Alive { .. } => {}
                    }
                }
                counts.dead_layer += dead as u64;
                if let Some(u) = counts.undecided.as_mut() {
                    *u += (!dead && unknown) as u64;
                }
            }
            tick(hi - lo);
            counts
        })
        .reduce(zero, |a, b| a.plus(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::activity_on_data;
    use crate::data::{DataSpec, Dataset, Target};

    /// Dead on the box implies dead on data inside it (exact), trial by trial; and a
    /// first layer dead on the grid that includes the box's corners is dead on the box.
    #[test]
    fn dead_on_box_implies_dead_on_data_inside() {
        let arch = Arch::new(vec![1, 3, 2, 2, 1]).unwrap();
        let sampler = InitSampler::new(
            &arch,
            &"torch-default".parse().unwrap(),
            &"default".parse().unwrap(),
        );
        let data: Dataset<BigRational> = "grid:-1,1:33"
            .parse::<DataSpec>()
            .unwrap()
            .build(1, 1, &Target::Abs, 0)
            .unwrap();
        let (a, b) = (
            BigRational::from_integer((-1).into()),
            BigRational::from_integer(1.into()),
        );
        let (mut on_box, mut on_data) = (0, 0);
        for trial in 0..300 {
            let job = BoxJob {
                arch: &arch,
                sampler: &sampler,
                a: &a,
                b: &b,
                seed: 8,
                trials: trial..trial + 1,
                budget: 2000,
            };
            let counts = run_box(&job, &|_| {});
            assert_eq!(counts.undecided, Some(0));
            let theta = sampler.sample(&mut trial_rng(8, trial));
            let net: Network<BigRational> =
                Network::new(arch.clone(), vec_from_f64(&theta).unwrap()).unwrap();
            let act = activity_on_data(&net, &data).unwrap();
            let dead_data = !act.dead_layers().is_empty();
            if counts.dead_layer == 1 {
                assert!(
                    dead_data,
                    "trial {trial}: dead on the box but not on data inside it"
                );
            }
            // in one dimension the first layer's inactivity on the box is decided at the
            // endpoints, which the grid contains
            assert_eq!(
                counts.inactive_hist[0]
                    .iter()
                    .position(|&c| c == 1)
                    .unwrap(),
                act.inactive_per_layer()[0]
            );
            on_box += counts.dead_layer;
            on_data += dead_data as u64;
        }
        assert!(on_box > 20 && on_data >= on_box, "{on_box} {on_data}");
    }
}
