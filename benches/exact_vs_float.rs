//! Criterion benches, seeded, parameterised by width, depth and data size:
//! - `risk_and_gradient`: forward pass + generalized gradient over a data set, in f64,
//!   BigRational, the dyadic enclosures of exact trajectories and (feature `gmp`) rug;
//! - `optimizer_step`: one step of every optimizer on a theta of D coordinates;
//! - `trajectory`: T exact (enclosure) steps against T f64 steps;
//! - `dead_layer_detection`: activity on the data, generic exact and f64, and the Monte
//!   Carlo fast paths (one trial; eight trials in vector lanes);
//! - `monte_carlo`: trials per second of `estimate`'s kernel.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deadrelu::activity::activity_on_data;
use deadrelu::data::{DataSpec, Dataset, Target};
use deadrelu::net::init::{BiasInit, InitSampler, InitScheme, init_network, trial_rng};
use deadrelu::net::{Arch, Network};
use deadrelu::optim::train::{TrainConfig, train};
use deadrelu::optim::{Hyper, Optimizer, OptimizerKind};
use deadrelu::scalar::{BigRational, DyadicInterval, Real, Scalar};
use deadrelu::stats::lanes::{LANES, key_of, keystreams};
use deadrelu::stats::montecarlo::Simulator;
use deadrelu::stats::trial_lanes::LaneDecider;

fn setup<S: Scalar>(widths: &[usize], points: usize) -> (Network<S>, Dataset<S>) {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let net: Network<BigRational> =
        init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 1).unwrap();
    let data = format!("grid:-1,1:{points}")
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    (net.convert().unwrap(), data.convert().unwrap())
}

fn label(widths: &[usize], points: usize) -> String {
    format!(
        "{}/M={points}",
        widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-")
    )
}

const SIZES: [(&[usize], usize); 3] = [
    (&[1, 4, 4, 4, 1], 16),
    (&[1, 8, 8, 8, 1], 64),
    (&[1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1], 64),
];

fn gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk_and_gradient");
    group.sample_size(10);
    for (widths, points) in SIZES {
        group.throughput(Throughput::Elements(points as u64));
        let id = label(widths, points);
        let (nf, df) = setup::<f64>(widths, points);
        group.bench_with_input(BenchmarkId::new("f64", &id), &(), |b, _| {
            b.iter(|| nf.risk_and_gradient(&df, None).unwrap())
        });
        let (ne, de) = setup::<BigRational>(widths, points);
        group.bench_with_input(BenchmarkId::new("bigrational", &id), &(), |b, _| {
            b.iter(|| ne.risk_and_gradient(&de, None).unwrap())
        });
        let (nd, dd) = setup::<DyadicInterval>(widths, points);
        group.bench_with_input(BenchmarkId::new("dyadic-interval", &id), &(), |b, _| {
            b.iter(|| nd.risk_and_gradient(&dd, None).unwrap())
        });
        #[cfg(feature = "gmp")]
        {
            let (ng, dg) = setup::<rug::Rational>(widths, points);
            group.bench_with_input(BenchmarkId::new("rug", &id), &(), |b, _| {
                b.iter(|| ng.risk_and_gradient(&dg, None).unwrap())
            });
        }
    }
    group.finish();
}

fn step_of<S: Real>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    dim: usize,
) {
    let theta: Vec<S> = (0..dim)
        .map(|i| S::from_ratio(i as i64 % 7 - 3, 8))
        .collect();
    let grad: Vec<S> = (0..dim)
        .map(|i| S::from_ratio(i as i64 % 5 - 2, 16))
        .collect();
    for kind in OptimizerKind::NINE {
        let opt = Hyper::default()
            .resolve(kind)
            .unwrap()
            .build::<S>()
            .unwrap();
        let mut state = opt.init(dim);
        opt.step(&theta, &grad, &mut state);
        c.bench_with_input(
            BenchmarkId::new(format!("{}/{}", S::NAME, kind.name()), dim),
            &(),
            |b, _| b.iter(|| opt.step(&theta, &grad, &mut state.clone())),
        );
    }
}

fn optimizer_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_step");
    group.sample_size(10);
    let dim = 161usize;
    group.throughput(Throughput::Elements(dim as u64));
    step_of::<f64>(&mut group, dim);
    step_of::<DyadicInterval>(&mut group, dim);
    group.finish();
}

fn trajectory(c: &mut Criterion) {
    let mut group = c.benchmark_group("trajectory");
    group.sample_size(10);
    let widths: &[usize] = &[1, 8, 8, 8, 1];
    for steps in [5u64, 20] {
        let config = TrainConfig {
            steps,
            batch: None,
            batch_seed: 0,
        };
        for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
            let resolved = Hyper::default().resolve(kind).unwrap();
            let (nf, df) = setup::<f64>(widths, 64);
            let of = resolved.build::<f64>().unwrap();
            group.bench_with_input(
                BenchmarkId::new(format!("f64/{}", kind.name()), steps),
                &(),
                |b, _| b.iter(|| train(&nf, &df, &of, &config, None, |_| {}).unwrap()),
            );
            let (nd, dd) = setup::<DyadicInterval>(widths, 64);
            let od = resolved.build::<DyadicInterval>().unwrap();
            group.bench_with_input(
                BenchmarkId::new(format!("dyadic-interval/{}", kind.name()), steps),
                &(),
                |b, _| b.iter(|| train(&nd, &dd, &od, &config, None, |_| {}).unwrap()),
            );
        }
    }
    group.finish();
}

fn dead_layer_detection(c: &mut Criterion) {
    let mut group = c.benchmark_group("dead_layer_detection");
    group.sample_size(10);
    for (widths, points) in SIZES {
        let id = label(widths, points);
        let (nf, df) = setup::<f64>(widths, points);
        group.bench_with_input(BenchmarkId::new("generic-f64", &id), &(), |b, _| {
            b.iter(|| activity_on_data(&nf, &df).unwrap())
        });
        let (ne, de) = setup::<BigRational>(widths, points);
        group.bench_with_input(BenchmarkId::new("generic-bigrational", &id), &(), |b, _| {
            b.iter(|| activity_on_data(&ne, &de).unwrap())
        });
        let arch = Arch::new(widths.to_vec()).unwrap();
        let sampler = InitSampler::new(&arch, &InitScheme::TorchDefault, &BiasInit::Default);
        let mut sim = Simulator::new(&arch, &sampler, &df);
        let mut trial = 0u64;
        group.bench_with_input(BenchmarkId::new("montecarlo-trial", &id), &(), |b, _| {
            b.iter(|| {
                trial += 1;
                sim.run_trial(1, trial)
            })
        });
        // eight trials per call, one per vector lane (`estimate`'s path for uniform
        // schemes), over sixteen pre-drawn groups
        let plan = sim.plan().cloned().expect("torch-default has a bulk plan");
        let key = key_of(&trial_rng(1, 0));
        let mut words = vec![[0u64; LANES]; plan.draws().div_ceil(8) * 8];
        let groups: Vec<Vec<[f64; LANES]>> = (0..16u64)
            .map(|g| {
                keystreams(&key, &std::array::from_fn(|l| 8 * g + l as u64), &mut words);
                let mut thetas = vec![[0.0; LANES]; plan.len()];
                plan.fill_lanes(&words, &mut thetas);
                thetas
            })
            .collect();
        let mut lanes = LaneDecider::new(&arch, &df).expect("data has points");
        assert!(lanes.safe(plan.max_abs()).is_some());
        let mut g = 0;
        group.bench_with_input(
            BenchmarkId::new("montecarlo-8-trials-lanes", &id),
            &(),
            |b, _| {
                b.iter(|| {
                    g = (g + 1) % groups.len();
                    lanes.decide(&groups[g]);
                    lanes.dead
                })
            },
        );
    }
    group.finish();
}

fn monte_carlo(c: &mut Criterion) {
    let mut group = c.benchmark_group("monte_carlo");
    group.sample_size(10);
    let trials = 20_000u64;
    for widths in [
        &[1usize, 3, 3, 3, 3, 3, 1][..],
        &[1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1][..],
        &[1, 16, 16, 16, 1][..],
    ] {
        let arch = Arch::new(widths.to_vec()).unwrap();
        let (_, data) = setup::<f64>(widths, 64);
        let sampler = InitSampler::new(&arch, &InitScheme::TorchDefault, &BiasInit::Default);
        group.throughput(Throughput::Elements(trials));
        group.bench_with_input(
            BenchmarkId::new("estimate-kernel", label(widths, 64)),
            &(),
            |b, _| {
                b.iter(|| {
                    let job = deadrelu::stats::montecarlo::McJob {
                        arch: &arch,
                        sampler: &sampler,
                        data: &data,
                        seed: 3,
                        trials: 0..trials,
                        training: None,
                    };
                    deadrelu::stats::montecarlo::run(&job, &|_| {})
                })
            },
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    gradient,
    optimizer_step,
    trajectory,
    dead_layer_detection,
    monte_carlo
);
criterion_main!(benches);
