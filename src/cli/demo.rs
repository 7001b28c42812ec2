//! `deadrelu demo`: a one-minute tour that needs no arguments.

use super::CliError;
use super::inspect::inspect_in;
use crate::audit::{AuditOptions, Certificate, audit, check_certificate};
use crate::data::{DataSpec, Target};
use crate::net::Arch;
use crate::net::init::{BiasInit, InitScheme, init_network};
use crate::optim::{Hyper, OptimizerKind};
use crate::scalar::BigRational;
use clap::Args;

/// Options of `demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// First seed of the search for a born-dead network.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the demo's certificate as a Coq file checked by Coq's kernel
    /// (`coqc -Q proofs DeadRelu FILE.v`).
    #[arg(long)]
    pub coq: Option<std::path::PathBuf>,
}

/// The demo's architecture: deep and narrow, so that a dead layer is likely.
pub const DEMO_ARCH: [usize; 12] = [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1];

/// Runs the demo.
///
/// # Errors
/// Only if an internal step fails (reported, never a panic).
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let arch = Arch::new(DEMO_ARCH.to_vec()).map_err(|e| CliError::input("demo", e))?;
    let data = "grid:-1,1:64"
        .parse::<DataSpec>()
        .and_then(|s| s.build(1, 1, &Target::Abs, 0))
        .map_err(|e| CliError::input("demo", e))?;
    println!(
        "deadrelu demo: networks born dead, and why no optimizer of the SGD family can revive them"
    );
    println!(
        "architecture {arch}, PyTorch default init, data: 64 grid points on [-1,1], target |x|"
    );
    println!();
    println!("1. Searching seeds for a network with a dead hidden layer (exact arithmetic):");
    let mut seed = args.seed;
    let (net, report) = loop {
        let net =
            init_network::<BigRational>(&arch, &InitScheme::TorchDefault, &BiasInit::Default, seed)
                .map_err(|e| CliError::input("demo", e))?;
        let report = inspect_in::<BigRational>(&net, &data)?;
        let dead = report.activity.dead_layers();
        println!(
            "   seed {seed}: inactive neurons per hidden layer {:?}{}",
            report.activity.inactive_per_layer(),
            if dead.is_empty() {
                String::new()
            } else {
                format!("  -> dead layers {dead:?}")
            }
        );
        if !dead.is_empty() {
            break (net, report);
        }
        seed += 1;
        if seed > args.seed + 1000 {
            return Err(CliError::CheckFailed(
                "no dead network within 1000 seeds".into(),
            ));
        }
    };
    let k = report.activity.first_dead_layer().unwrap_or(0);
    println!();
    println!(
        "2. Seed {seed}: hidden layer {k} is dead on all 64 points (every pre-activation <= 0, decided exactly)."
    );
    let approx = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|t| crate::scalar::parse_rational(t).ok())
            .map(|q| crate::scalar::Scalar::to_f64(&q))
            .unwrap_or(f64::NAN)
    };
    println!(
        "   So the network is constant on the data: risk {}, while the best constant has risk V = {} (both exact fractions in `inspect --json`).",
        super::format::decimal(approx(&report.risk)),
        super::format::decimal(approx(&report.best_constant_risk))
    );
    let (_, grad) = net
        .risk_and_gradient(&data, None)
        .map_err(|e| CliError::input("demo", e))?;
    let upto = net.arch().layer_range(k).end + net.arch().width(k + 1) * net.arch().width(k);
    let zero = grad
        .iter()
        .take(upto)
        .filter(|g| num_traits::Zero::is_zero(*g))
        .count();
    println!(
        "   Generalized gradient: {zero} of the first {upto} coordinates (layers 1..{k} and W_{}) are exactly 0.",
        k + 1
    );
    let f64_report = inspect_in::<f64>(&net, &data)?;
    println!();
    println!(
        "3. The same network in f64: dead layers {:?}, near ties {} (the float path agrees).",
        f64_report.activity.dead_layers(),
        f64_report.activity.near_tie_count
    );
    println!();
    println!(
        "4. Exact audit: every optimizer of the paper for 10 exact steps (enclosure arithmetic),"
    );
    println!(
        "   a witness theta* with exact risk < V, and a certificate re-verified by the independent checker:"
    );
    let options = AuditOptions {
        optimizers: OptimizerKind::NINE.to_vec(),
        hyper: Hyper::default(),
        steps: 10,
        batch: None,
        batch_seed: 0,
        layer: None,
    };
    let audit_report =
        audit(&net, &data, &options, |_| {}).map_err(|e| CliError::input("demo", e))?;
    println!("   verdict: {}", audit_report.verdict.name());
    if let Some((_, w)) = &audit_report.witness {
        let f = |q: &crate::scalar::BigRational| {
            super::format::decimal(crate::scalar::Scalar::to_f64(q))
        };
        println!(
            "   witness risk {} < V = {} (compared exactly)",
            f(w),
            f(&audit_report.best_constant_risk)
        );
    }
    let runs = &audit_report.runs;
    let held = runs
        .iter()
        .filter(|r| r.frozen && r.constant_realization)
        .count();
    println!(
        "   {held} of {} optimizer runs kept every frozen coordinate bit-identical and the realization constant",
        runs.len()
    );
    match Certificate::from_report(&net, &data, &audit_report) {
        Some(cert) => {
            let text = serde_json::to_string_pretty(&cert.0).expect("JSON values serialize");
            match check_certificate(&text) {
                Ok(summary) => println!("   check: {summary}"),
                Err(e) => println!("   check FAILED: {e}"),
            }
            if let Some(path) = &args.coq {
                let coq =
                    crate::audit::coq_certificate(&cert.0).map_err(|e| CliError::Internal {
                        what: "no Coq file",
                        source: e.into(),
                    })?;
                std::fs::write(path, coq).map_err(|e| CliError::Output {
                    path: path.display().to_string(),
                    source: e.into(),
                })?;
                println!(
                    "   Coq file for Coq's kernel: {} (coqc -Q proofs DeadRelu FILE.v)",
                    path.display()
                );
            }
        }
        None => println!("   no certificate: the verdict is not non-convergence-certified"),
    }
    println!();
    println!(
        "Next: `deadrelu audit --arch {arch} --seed {seed} --steps 50 --certificate c.json` and `deadrelu check c.json`"
    );
    Ok(())
}
