//! How exact rationals grow along a gradient-descent trajectory, and how the enclosures
//! keep them in check. Run: `cargo run --release --example bit_growth`.
//!
//! Plain full-batch gradient descent `theta <- theta - lr * grad` in exact rationals
//! (`BigRational`, no rounding at all) on a live 1-3-3-1 network with 16 grid points,
//! printing the bit length of the largest numerator or denominator in theta after each
//! step and the time the step took; then the same with dyadic enclosures
//! (`DyadicInterval`), whose endpoints stay at 128 significant bits.

use deadrelu::data::{DataSpec, Dataset, Target};
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, DyadicInterval, Real, Scalar};
use std::time::Instant;

fn max_bits(theta: &[BigRational]) -> u64 {
    theta
        .iter()
        .map(|q| q.numer().bits().max(q.denom().bits()))
        .max()
        .unwrap_or(0)
}

fn main() {
    let arch = Arch::new(vec![1, 3, 3, 1]).unwrap();
    let net: Network<BigRational> =
        init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 4).unwrap();
    let data = "grid:-1,1:16"
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    let lr = BigRational::new(1.into(), 100.into());
    println!("exact rationals, no rounding (lr = 1/100):");
    println!("step  max bits  seconds");
    let mut theta = net.params().to_vec();
    println!("{:>4}  {:>8}  {:>7}", 0, max_bits(&theta), "-");
    for step in 1..=4 {
        let clock = Instant::now();
        let current = Network::new(arch.clone(), theta.clone()).unwrap();
        let (_, grad) = current.risk_and_gradient(&data, None).unwrap();
        theta = theta.iter().zip(&grad).map(|(p, g)| p - &lr * g).collect();
        println!(
            "{:>4}  {:>8}  {:>7.3}",
            step,
            max_bits(&theta),
            clock.elapsed().as_secs_f64()
        );
    }
    println!("\ndyadic enclosures (the regime of `train --mode exact` and `audit`):");
    println!("step  max bits  max width       seconds");
    let dnet: Network<DyadicInterval> = net.convert().unwrap();
    let ddata: Dataset<DyadicInterval> = data.convert().unwrap();
    let dlr = DyadicInterval::from_rational(&lr);
    let mut theta: Vec<DyadicInterval> = dnet.params().to_vec();
    for step in 1..=50 {
        let clock = Instant::now();
        let current = Network::new(arch.clone(), theta.clone()).unwrap();
        let (_, grad) = current.risk_and_gradient(&ddata, None).unwrap();
        theta = theta
            .iter()
            .zip(&grad)
            .map(|(p, g)| p.sub_ref(&dlr.mul_ref(g)).tighten())
            .collect();
        if step % 10 == 0 || step == 1 {
            let bits = theta
                .iter()
                .map(|t| max_bits(&[t.lo(), t.hi()]))
                .max()
                .unwrap_or(0);
            let width = theta
                .iter()
                .map(|t| (t.hi() - t.lo()).to_f64())
                .fold(0.0, f64::max);
            println!(
                "{:>4}  {:>8}  {:>12.3e}  {:>7.4}",
                step,
                bits,
                width,
                clock.elapsed().as_secs_f64()
            );
        }
    }
}
