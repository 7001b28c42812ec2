//! Tests of the Monte Carlo: batched and lane paths count exactly as single trials.

use super::*;
use crate::data::{DataSpec, Target};
use crate::net::Network;

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
            let x = super::near_ties::input_matrix(&data);
            let n = drawn_in_lanes(&job, lanes, &mut sim, &key, 5..405, words, &mut counts, &x);
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

/// Issue 15, item 6 in the Monte Carlo: the network of the issue (f64 sum about
/// -2e-8, exact +9.3e-9) is a near tie, neither dead nor alive, in the single-trial
/// path and in lanes; a clear case is decided as before.
#[test]
fn cancellation_is_a_near_tie_in_the_monte_carlo() {
    use crate::stats::lanes::LANES;
    let arch = Arch::new(vec![4, 1, 1]).unwrap();
    let sampler = InitSampler::new(
        &arch,
        &"uniform:1".parse().unwrap(),
        &"default".parse().unwrap(),
    );
    let data = Dataset::from_rows(vec![vec![1.0; 4]; 3], vec![vec![0.0]; 3]).unwrap();
    let big = 134_217_728.0;
    let small = 7.0 * 2f64.powi(-29);
    let tie = [big, small, small, -(big + 2f64.powi(-25)), small, 1.0, 0.0];
    let clear = [1.0, -1.0, 0.5, -1.0, -0.25, 1.0, 0.0]; // z = -0.75: dead
    let mut thetas = vec![[0.0; LANES]; 7];
    for (e, slot) in thetas.iter_mut().enumerate() {
        slot[0] = tie[e];
        slot[1] = clear[e];
    }
    let mut sim = Simulator::new(&arch, &sampler, &data);
    assert!(!sim.run_trial_from_lanes(&thetas, 0));
    assert!(sim.near_tie);
    let mut counts = Counts::zero(&arch, false);
    counts.tally_sim(&sim, false);
    assert!(sim.run_trial_from_lanes(&thetas, 1));
    assert!(!sim.near_tie);
    counts.tally_sim(&sim, true);
    let mut lanes = LaneDecider::new(&arch, &data).unwrap();
    let errors = lanes.safe(big + 1.0).unwrap();
    lanes.decide(&thetas);
    assert!(lanes.dead[0], "the float decision");
    assert!(!lanes.settled(0, &errors));
    let x = super::near_ties::input_matrix(&data);
    let mut in_lanes = Counts::zero(&arch, false);
    in_lanes.tally_lane(&lanes, &errors, 0, &arch, &thetas, &x);
    in_lanes.tally_lane(&lanes, &errors, 1, &arch, &thetas, &x);
    assert_eq!(in_lanes, counts);
    assert_eq!(
        (counts.trials, counts.near_ties, counts.dead_layer),
        (2, 1, 1)
    );
}
