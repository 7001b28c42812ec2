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
use crate::activity::domain::{
    BoxDecision, InputBox, cube, decide_dead_on_box, first_layer_inactive_on_box,
};
use crate::net::init::{InitSampler, trial_rng};
use crate::net::{Arch, Network};
use crate::scalar::{BigRational, vec_from_f64};
use num_traits::Signed;

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
    /// Budget of sub-boxes or phase regions per layer (or neuron) decision.
    pub budget: usize,
    /// Decide every hidden neuron, not only whole layers, so that `inactive_hist` covers
    /// every hidden layer (up to width times more exact decisions).
    pub per_neuron: bool,
}

/// Neuron `j` of hidden layer `k` alone: the network up to layer `k` with only row `j`
/// of layer `k`, and an output layer of zeros (layer `k` of it is dead on a region
/// exactly when that neuron is inactive there).
fn single_neuron(net: &Network<BigRational>, k: usize, j: usize) -> Network<BigRational> {
    let arch = net.arch();
    let mut widths: Vec<usize> = arch.widths()[..k].to_vec();
    widths.extend([1, 1]);
    let cols = arch.width(k - 1);
    let off = arch.layer_offset(k);
    let theta = net.params();
    let mut params: Vec<BigRational> = theta[..off].to_vec();
    params.extend_from_slice(&theta[off + j * cols..off + (j + 1) * cols]);
    params.push(theta[off + arch.width(k) * cols + j].clone());
    params.extend([
        BigRational::from_integer(0.into()),
        BigRational::from_integer(0.into()),
    ]);
    Network::new(Arch::new(widths).expect("widths >= 1"), params).expect("sizes match")
}

/// What is known of one hidden layer on the box, neuron by neuron.
struct LayerTally {
    /// Neurons proven inactive.
    inactive: usize,
    /// Some neuron proven active.
    alive: bool,
    /// Some neuron undecided within the budget.
    unknown: bool,
}

/// Decides every neuron of hidden layer `k` on `region` (see [`single_neuron`]).
fn tally_layer(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
) -> LayerTally {
    let mut t = LayerTally {
        inactive: 0,
        alive: false,
        unknown: false,
    };
    for j in 0..net.arch().width(k) {
        match decide_dead_on_box(&single_neuron(net, k, j), k, region, budget) {
            BoxDecision::Dead { .. } => t.inactive += 1,
            BoxDecision::Alive { .. } => t.alive = true,
            BoxDecision::Unknown { .. } => t.unknown = true,
        }
    }
    t
}

/// Trials per parallel work item (the exact decisions are slow, so small chunks keep
/// both threads busy and the progress bar moving).
const CHUNK: u64 = 16;

/// Runs the trials of `job` in parallel (rayon's current pool), calling `tick` after each
/// chunk. Without `per_neuron`, `inactive_hist` holds the first layer only (deeper layers
/// are decided as whole layers); with it, every hidden layer, and `inactive_undecided`
/// the trials whose count in a layer is not determined within the budget.
pub fn run_box(job: &BoxJob<'_>, tick: &(dyn Fn(u64) + Sync)) -> Counts {
    use rayon::prelude::*;
    let (start, end) = (job.trials.start, job.trials.end);
    let chunks = end.saturating_sub(start).div_ceil(CHUNK);
    let arch = job.arch;
    let region = cube(job.a, job.b, arch.inputs());
    let zero = || {
        let mut c = Counts::zero(arch, false);
        if job.per_neuron {
            c.inactive_undecided = vec![0; arch.depth() - 1];
        } else {
            c.inactive_hist.truncate(1);
        }
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
                crate::cancel::point();
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
                if job.per_neuron {
                    let (d, u) = per_neuron(&net, &region, job.budget, dead, &mut counts);
                    (dead, unknown) = (d, u);
                } else {
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

/// Tallies hidden layers 2.. neuron by neuron (the first is counted already; `dead` says
/// whether it is dead) and returns whether some layer is dead and whether, none being
/// proven dead, some layer's deadness is undecided. After the first dead layer every
/// later pre-activation is one constant on the box, so those layers are counted from one
/// exact forward pass.
fn per_neuron(
    net: &Network<BigRational>,
    region: &InputBox,
    budget: usize,
    mut dead: bool,
    counts: &mut Counts,
) -> (bool, bool) {
    let arch = net.arch();
    let mut unknown = false;
    let corner: Vec<BigRational> = region.iter().map(|(lo, _)| lo.clone()).collect();
    let constant = net.forward(&corner);
    for k in arch.hidden_layers().skip(1) {
        let (inactive, undecided) = if dead {
            let z = &constant.pre[k - 1];
            (z.iter().filter(|v| !v.is_positive()).count(), false)
        } else {
            let t = tally_layer(net, k, region, budget);
            // a layer with an active neuron is alive whatever the undecided ones are
            unknown |= t.unknown && !t.alive;
            (t.inactive, t.unknown)
        };
        if undecided {
            counts.inactive_undecided[k - 1] += 1;
        } else {
            counts.inactive_hist[k - 1][inactive] += 1;
        }
        dead |= !undecided && inactive == arch.width(k);
    }
    (dead, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::activity_on_data;
    use crate::data::{DataSpec, Dataset, Target};

    /// Neuron by neuron: a neuron inactive on the box is inactive on every data point
    /// inside it (exact), layer by layer; the dead-layer decision is that of whole layers;
    /// and the deeper layers' counts are not trivially zero.
    #[test]
    fn neuron_counts_on_box_bound_those_on_data_inside() {
        for (widths, spec) in [
            (vec![1, 3, 2, 2, 1], "grid:-1,1:33"),
            (vec![2, 3, 3, 2, 1], "grid:-1,1:9"),
        ] {
            let arch = Arch::new(widths).unwrap();
            let sampler = InitSampler::new(
                &arch,
                &"torch-default".parse().unwrap(),
                &"default".parse().unwrap(),
            );
            let data: Dataset<BigRational> = spec
                .parse::<DataSpec>()
                .unwrap()
                .build(arch.inputs(), 1, &Target::Abs, 0)
                .unwrap();
            let (a, b) = (
                BigRational::from_integer((-1).into()),
                BigRational::from_integer(1.into()),
            );
            let mut deeper = 0;
            for trial in 0..150 {
                let job = |per_neuron| BoxJob {
                    arch: &arch,
                    sampler: &sampler,
                    a: &a,
                    b: &b,
                    seed: 6,
                    trials: trial..trial + 1,
                    budget: 2000,
                    per_neuron,
                };
                let per = run_box(&job(true), &|_| {});
                let layers = run_box(&job(false), &|_| {});
                assert_eq!(per.dead_layer, layers.dead_layer, "trial {trial}");
                assert_eq!(per.undecided, Some(0));
                assert!(per.inactive_undecided.iter().all(|&u| u == 0));
                let theta = sampler.sample(&mut trial_rng(6, trial));
                let net: Network<BigRational> =
                    Network::new(arch.clone(), vec_from_f64(&theta).unwrap()).unwrap();
                let on_data = activity_on_data(&net, &data).unwrap().inactive_per_layer();
                for (k, hist) in per.inactive_hist.iter().enumerate() {
                    let on_box = hist.iter().position(|&c| c == 1).unwrap();
                    assert!(on_box <= on_data[k], "trial {trial} layer {}", k + 1);
                    if k > 0 {
                        deeper += on_box;
                    }
                }
            }
            assert!(deeper > 20, "{arch:?}: {deeper}");
        }
    }

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
                per_neuron: false,
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
