//! Criterion group `inspect_f64`: the batched f64 pass with its rigorous bound (norm and
//! matrix-product bounds) on an MNIST-shaped 784-256-256-10 network with f32 weights, and
//! the CSV loader on the same data. Short runs: `cargo bench --bench inspect_f64 --
//! --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, criterion_group, criterion_main};
use deadrelu::activity::batched::activity;
use deadrelu::io::csv_f64::CsvF64;
use deadrelu::net::Arch;
use deadrelu::net::batch::{BatchNet, BoundKind, InputExactness, forward_with};
use rand::{Rng, SeedableRng};

const POINTS: usize = 2000;

fn setup() -> (BatchNet, ndarray::Array2<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let arch = Arch::new(vec![784, 256, 256, 10]).unwrap();
    let mut params = Vec::with_capacity(arch.num_params());
    for k in 1..=arch.depth() {
        let c = 1.0 / (arch.width(k - 1) as f64).sqrt();
        for _ in arch.layer_range(k) {
            params.push(f64::from(rng.gen_range(-c..c) as f32));
        }
    }
    let net = BatchNet::from_f64(arch, params, vec![true; 3]).unwrap();
    let x = ndarray::Array2::from_shape_fn((POINTS, 784), |_| f64::from(rng.r#gen::<f32>()));
    (net, x)
}

fn bench(c: &mut Criterion) {
    let (net, x) = setup();
    let mut group = c.benchmark_group("inspect_f64");
    group.sample_size(10);
    for (name, kind) in [
        ("forward_norm_bound", BoundKind::Norm),
        ("forward_dot_bound", BoundKind::Dot),
    ] {
        group.bench_function(format!("{name}/784-256-256-10/M={POINTS}"), |b| {
            b.iter(|| {
                let pass = forward_with(&net, x.view(), InputExactness::AllExact, kind).unwrap();
                activity(&pass)
            })
        });
    }
    let path = std::env::temp_dir().join(format!("deadrelu-bench-{}.csv", std::process::id()));
    let mut text = String::new();
    for row in x.outer_iter() {
        let cells: Vec<String> = row.iter().map(|v| format!("{:.9}", v)).collect();
        text.push_str(&cells.join(","));
        text.push_str(",0,0,0,0,0,0,0,0,0,1\n");
    }
    std::fs::write(&path, text).unwrap();
    group.bench_function(format!("csv_load/784+10 columns/M={POINTS}"), |b| {
        b.iter(|| CsvF64::read(&path, 784, 10).unwrap())
    });
    group.finish();
    std::fs::remove_file(&path).ok();
}

criterion_group!(benches, bench);
criterion_main!(benches);
