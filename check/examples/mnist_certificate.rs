//! Writes a version-2 certificate for a born-dead MNIST-shaped network, to time the
//! checker at scale (issue 16 item 4):
//!
//! ```text
//! cargo run --release -p deadrelu-check --example mnist_certificate -- /tmp/mnist.json [points]
//! /usr/bin/time -v target/release/deadrelu-check /tmp/mnist.json
//! ```
//!
//! 784-256-256-10, 10,000 synthetic points with f32 coordinates in [0, 1) (dyadic,
//! `k / 2^24`), f32 weights; layer 1 is alive (bias 0) and layer 2 is born dead (biases
//! below minus the largest reachable input), so the checker's float pass runs through
//! two dense layers at every point. Targets are one-hot classes of `x_0`; the witness is
//! the one-feature fit of `deadrelu audit` (`ReLU(x_0)` through the chain). Exact values
//! are computed with this crate's exact functions; the checker recomputes them all.

use deadrelu_check::canon::seal;
use deadrelu_check::exact::{Net, Sparse, output_after_dead};
use deadrelu_check::limits::Meter;
use deadrelu_check::number::show;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::{Value, json};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    /// A uniform f32 in [-s, s) (exactly representable).
    fn f32(&mut self, s: f32) -> f32 {
        ((self.next() >> 29) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * s
    }
}

fn exact(v: f32) -> BigRational {
    BigRational::from_float(v).expect("finite")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/mnist.json".into());
    let points: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let widths = [784usize, 256, 256, 10];
    let mut rng = Lcg(2026);
    // data: k / 2^24 in [0, 1)
    let scale = BigInt::from(1u64 << 24);
    let xs: Vec<Vec<BigRational>> = (0..points)
        .map(|_| {
            (0..widths[0])
                .map(|_| BigRational::new(BigInt::from(rng.next() >> 29), scale.clone()))
                .collect()
        })
        .collect();
    let ys: Vec<Vec<BigRational>> = xs
        .iter()
        .map(|x| {
            let class = (&x[0] * BigRational::from_integer(10.into())).floor();
            (0..widths[3])
                .map(|o| {
                    BigRational::from_integer(
                        if class == BigRational::from_integer((o as i64).into()) {
                            1
                        } else {
                            0
                        }
                        .into(),
                    )
                })
                .collect()
        })
        .collect();
    // theta0: layer 1 alive, layer 2 dead on [0, 1]^784
    let mut theta: Vec<f32> = Vec::new();
    let w1: Vec<f32> = (0..256 * 784).map(|_| rng.f32(1.0 / 28.0)).collect();
    let a1_max: Vec<f32> = (0..256)
        .map(|j| {
            w1[j * 784..(j + 1) * 784]
                .iter()
                .map(|w| w.max(0.0))
                .sum::<f32>()
        })
        .collect();
    theta.extend(&w1);
    theta.extend(std::iter::repeat_n(0.0f32, 256));
    let w2: Vec<f32> = (0..256 * 256).map(|_| rng.f32(1.0 / 16.0)).collect();
    let b2: Vec<f32> = (0..256)
        .map(|j| {
            let reach: f32 = (0..256).map(|i| w2[j * 256 + i].max(0.0) * a1_max[i]).sum();
            -(reach * 1.01 + 0.5)
        })
        .collect();
    theta.extend(&w2);
    theta.extend(&b2);
    theta.extend((0..10 * 256).map(|_| rng.f32(1.0 / 16.0)));
    theta.extend((0..10).map(|_| rng.f32(0.1)));
    let theta0: Vec<BigRational> = theta.iter().map(|&v| exact(v)).collect();
    let net = Net {
        widths: &widths,
        theta: &theta0,
    };
    let mut meter = Meter::new();
    let constant = output_after_dead(net, 2, &mut meter).unwrap();
    let m = BigRational::from_integer((points as i64).into());
    let sq = |a: &[BigRational], b: &[BigRational]| -> BigRational {
        a.iter()
            .zip(b)
            .fold(BigRational::zero(), |s, (p, q)| s + (p - q) * (p - q))
    };
    let r0 = ys
        .iter()
        .fold(BigRational::zero(), |s, y| s + sq(&constant, y))
        / &m;
    let mean_y: Vec<BigRational> = (0..10)
        .map(|o| ys.iter().fold(BigRational::zero(), |s, y| s + &y[o]) / &m)
        .collect();
    let v = ys
        .iter()
        .fold(BigRational::zero(), |s, y| s + sq(&mean_y, y))
        / &m;
    // witness: phi(x) = ReLU(x_0) = x_0 through neuron 0 of each hidden layer
    let phi: Vec<&BigRational> = xs.iter().map(|x| &x[0]).collect();
    let mean_phi = phi.iter().fold(BigRational::zero(), |s, p| s + *p) / &m;
    let var = phi.iter().fold(BigRational::zero(), |s, p| {
        s + (*p - &mean_phi) * (*p - &mean_phi)
    }) / &m;
    let mut star = vec![BigRational::zero(); theta0.len()];
    let one = BigRational::from_integer(1.into());
    star[0] = one.clone(); // W1[0, 0]
    let off2 = 256 * 785;
    star[off2] = one.clone(); // W2[0, 0]
    let off3 = off2 + 256 * 257;
    for o in 0..10 {
        let cov = ys.iter().zip(&phi).fold(BigRational::zero(), |s, (y, p)| {
            s + (*p - &mean_phi) * (&y[o] - &mean_y[o])
        }) / &m;
        let beta = cov / &var;
        star[off3 + 10 * 256 + o] = &mean_y[o] - &beta * &mean_phi;
        star[off3 + o * 256] = beta;
    }
    let sparse = Sparse::new(
        Net {
            widths: &widths,
            theta: &star,
        },
        3,
    );
    let rw = xs.iter().zip(&ys).fold(BigRational::zero(), |s, (x, y)| {
        let out = sparse.forward(x, &mut meter).unwrap();
        s + sq(&out[2], y)
    }) / &m;
    assert!(rw < v && r0 >= v && !rw.is_negative());
    let strings = |v: &[BigRational]| v.iter().map(show).collect::<Vec<_>>();
    let mut cert = json!({
        "format": "deadrelu-certificate",
        "version": 2,
        "claim": "non-convergence",
        "arch": widths,
        "data": {
            "x": xs.iter().map(|x| strings(x)).collect::<Vec<_>>(),
            "y": ys.iter().map(|y| strings(y)).collect::<Vec<_>>(),
        },
        "theta0": strings(&theta0),
        "dead_layer": 2,
        "constant_value": strings(&constant),
        "risk_theta0": show(&r0),
        "best_constant_risk": show(&v),
        "frozen_coordinates": off3 + 10 * 256,
        "witness": {"theta": strings(&star), "risk": show(&rw)},
        "records": {"generator": "deadrelu-check example mnist_certificate", "verified": false, "optimizer_runs": Value::Array(vec![])},
    });
    seal(&mut cert);
    std::fs::write(&path, serde_json::to_string(&cert).unwrap()).unwrap();
    eprintln!(
        "wrote {path}: {points} points, V = {}, witness risk ~{:.4}",
        show(&v),
        {
            use num_traits::ToPrimitive;
            rw.to_f64().unwrap_or(f64::NAN)
        }
    );
}
