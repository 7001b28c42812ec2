//! Filtered exact mode against f64 (issue 16), seeded synthetic networks with `f32`
//! parameters and `f32` data (torch-default init rounded to `f32`, inputs uniform on
//! `[-1, 1)` rounded to `f32`):
//! - `inspect_decisions`: the activity on the data, f64 (the batched pass of `net::batch`
//!   and its float decisions) against exact (the same pass, its rigorous bound, and the
//!   exact integer fallback wherever the bound leaves a sign open);
//! - `inspect_exact_values`: the exact risk and `V` as `inspect --mode exact` reports them
//!   (the exact integer forward pass at every point when no layer is dead; the constant
//!   after the dead layer when one is).
//!
//! - `inspect`: what `inspect` computes after loading, f64 (decisions, risk, V) against
//!   exact (decisions, exact risk, exact V: the batched exact pass of `net::batch_exact`).
//!
//! Run: `cargo bench --bench filtered -- --warm-up-time 1 --measurement-time 3`
//! (`-- inspect/` for the end-to-end group alone).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deadrelu::activity::batched::{activity, activity_streaming};
use deadrelu::activity::batched_inspect::inspect_exact_batched;
use deadrelu::activity::filtered::{Filter, best_constant, exact_risk};
use deadrelu::data::Dataset;
use deadrelu::io::DataF64;
use deadrelu::net::batch::{BatchNet, InputExactness, forward};
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, rational_from_f64};
use ndarray::Array2;
use num_traits::ToPrimitive;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Torch-default theta rounded to `f32`; with `dead`, hidden layer 2 gets non-positive
/// weights and biases (born dead on any data).
fn network(widths: &[usize], dead: bool) -> Network<BigRational> {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let net: Network<BigRational> =
        init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 7).unwrap();
    let dead_range = arch.layer_range(2);
    let params = net
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let v = p.to_f64().unwrap() as f32 as f64;
            let v = if dead && dead_range.contains(&i) {
                -v.abs()
            } else {
                v
            };
            rational_from_f64(v).unwrap()
        })
        .collect();
    Network::new(arch, params).unwrap()
}

fn data(inputs: usize, outputs: usize, points: usize) -> (Dataset<BigRational>, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut draw = |n: usize| -> Vec<f64> {
        (0..n)
            .map(|_| rng.gen_range(-1.0f64..1.0) as f32 as f64)
            .collect()
    };
    let xs: Vec<Vec<f64>> = (0..points).map(|_| draw(inputs)).collect();
    let ys: Vec<Vec<f64>> = (0..points).map(|_| draw(outputs)).collect();
    let exact = |rows: &[Vec<f64>]| -> Vec<Vec<BigRational>> {
        rows.iter()
            .map(|r| r.iter().map(|v| rational_from_f64(*v).unwrap()).collect())
            .collect()
    };
    let flat = Array2::from_shape_vec((points, inputs), xs.concat()).unwrap();
    (Dataset::from_rows(exact(&xs), exact(&ys)).unwrap(), flat)
}

const CASES: [(&[usize], usize, bool); 4] = [
    (&[1, 8, 8, 8, 1], 64, false),
    (&[8, 64, 128, 64, 1], 500, false),
    (&[784, 256, 256, 10], 10_000, false),
    (&[784, 256, 256, 10], 10_000, true),
];

fn label(widths: &[usize], points: usize, dead: bool) -> String {
    let w: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
    format!(
        "{}/M={points}{}",
        w.join("-"),
        if dead { "/dead" } else { "" }
    )
}

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("inspect_decisions");
    group.sample_size(10);
    for (widths, points, dead) in CASES {
        let net = network(widths, dead);
        let (data, x) = data(widths[0], widths[widths.len() - 1], points);
        let id = label(widths, points, dead);
        group.throughput(Throughput::Elements(points as u64));
        let batch = BatchNet::from_exact(&net).unwrap();
        group.bench_with_input(BenchmarkId::new("f64", &id), &(), |b, _| {
            b.iter(|| activity(&forward(&batch, x.view(), InputExactness::AllExact).unwrap()))
        });
        let filter = Filter::new(&net).unwrap();
        group.bench_with_input(BenchmarkId::new("exact", &id), &(), |b, _| {
            b.iter(|| filter.activity(&data).unwrap())
        });
    }
    group.finish();
}

/// What `inspect` computes end to end after loading, f64 against exact: f64 decisions,
/// risk and V; exact decisions, exact risk and exact V (the batched exact pass of
/// `net::batch_exact` at every point when no layer is dead).
fn inspect(c: &mut Criterion) {
    let mut group = c.benchmark_group("inspect");
    group.sample_size(10);
    for (widths, points, dead) in CASES {
        let net = network(widths, dead);
        let (data, _) = data(widths[0], widths[widths.len() - 1], points);
        let params: Vec<f64> = net.params().iter().map(|p| p.to_f64().unwrap()).collect();
        let fdata = DataF64::from_exact(data);
        let arch = net.arch().clone();
        let id = label(widths, points, dead);
        group.throughput(Throughput::Elements(points as u64));
        let batch = BatchNet::from_exact(&net).unwrap();
        group.bench_with_input(BenchmarkId::new("f64", &id), &(), |b, _| {
            b.iter(|| {
                let (act, out) =
                    activity_streaming(&batch, fdata.x.view(), fdata.exactness()).unwrap();
                let risk: f64 = (&out - &fdata.y).mapv(|v| v * v).sum();
                let mean = fdata.y.mean_axis(ndarray::Axis(0)).unwrap();
                let v: f64 = (&fdata.y - &mean).mapv(|v| v * v).sum();
                (act, risk, v)
            })
        });
        group.bench_with_input(BenchmarkId::new("exact", &id), &(), |b, _| {
            b.iter(|| {
                inspect_exact_batched(&arch, &params, &fdata, |_| {})
                    .unwrap()
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn values(c: &mut Criterion) {
    let mut group = c.benchmark_group("inspect_exact_values");
    group.sample_size(10);
    // the rational path's exact outputs of a live MNIST-shaped network take minutes
    // (group `inspect` has the batched exact pass): not benched here
    for (widths, points, dead) in CASES.into_iter().filter(|(w, _, d)| *d || w[0] < 784) {
        let net = network(widths, dead);
        let (data, _) = data(widths[0], widths[widths.len() - 1], points);
        let filter = Filter::new(&net).unwrap();
        let act = filter.activity(&data).unwrap().activity;
        group.throughput(Throughput::Elements(points as u64));
        group.bench_with_input(
            BenchmarkId::new("risk_and_v", label(widths, points, dead)),
            &(),
            |b, _| {
                b.iter(|| {
                    let out = filter.outputs(&data, &act);
                    (exact_risk(&out, &data), best_constant(&data))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, inspect, decisions, values);
criterion_main!(benches);
