//! Forward pass + generalized gradient over a data set: f64 against exact rationals,
//! parameterised by width and data size, seeded.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deadrelu::data::{DataSpec, Dataset, Target};
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, Scalar};

fn setup<S: Scalar>(width: usize, points: usize) -> (Network<S>, Dataset<S>) {
    let arch = Arch::new(vec![1, width, width, width, 1]).unwrap();
    let net: Network<BigRational> =
        init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 1).unwrap();
    let data = format!("grid:-1,1:{points}")
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    (net.convert(), data.convert())
}

fn gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk_and_gradient");
    group.sample_size(10);
    for &(width, points) in &[(4usize, 16usize), (8, 64)] {
        group.throughput(Throughput::Elements(points as u64));
        let id = format!("1-{width}-{width}-{width}-1/M={points}");
        let (nf, df) = setup::<f64>(width, points);
        group.bench_with_input(BenchmarkId::new("f64", &id), &(), |b, _| {
            b.iter(|| nf.risk_and_gradient(&df, None).unwrap())
        });
        let (ne, de) = setup::<BigRational>(width, points);
        group.bench_with_input(BenchmarkId::new("bigrational", &id), &(), |b, _| {
            b.iter(|| ne.risk_and_gradient(&de, None).unwrap())
        });
        #[cfg(feature = "gmp")]
        {
            let (ng, dg) = setup::<rug::Rational>(width, points);
            group.bench_with_input(BenchmarkId::new("rug", &id), &(), |b, _| {
                b.iter(|| ng.risk_and_gradient(&dg, None).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, gradient);
criterion_main!(benches);
