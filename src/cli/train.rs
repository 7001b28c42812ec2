//! `deadrelu train`: one training run.

use super::args::OptimArgs;
use super::format::{number, print_json, show};
use super::{CliError, CommonArgs, Mode};
use crate::activity::{F64Exactness, activity_with_exactness};
use crate::data::Dataset;
use crate::net::Network;
use crate::optim::train::{TrainConfig, train};
use crate::optim::{OptimizerKind, Resolved};
use crate::scalar::{BigRational, DyadicInterval, Real, Sign};
use clap::Args;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

/// Options of `train`.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// sgd, momentum, nesterov, adagrad, rmsprop, adam, adamax, amsgrad, nadam, adadelta.
    #[arg(long, default_value = "adam", value_parser = super::args::optimizer)]
    pub optimizer: OptimizerKind,
    /// Number of steps.
    #[arg(long, default_value_t = 100, value_parser = super::args::steps())]
    pub steps: u64,
    /// Mini-batch size (full batch when omitted).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed of the mini-batch sampler.
    #[arg(long, default_value_t = 0)]
    pub batch_seed: u64,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Arithmetic: f64, or exact (certified enclosures with dyadic endpoints; a coordinate
    /// that never moves stays exact).
    #[arg(long, value_enum, default_value_t = Mode::F64, hide_possible_values = true)]
    pub mode: Mode,
    /// Write one JSON line per step (step, risk, theta); the last holds theta after the final step.
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

/// The summary of one run in scalar type `S` (shared with `audit`).
pub struct RunSummary {
    /// JSON fields of INTERFACE.md and more.
    pub json: Value,
    /// Whether every coordinate up to the first initially dead layer (and `W_{k+1}`) was frozen.
    pub frozen_up_to_dead_layer: Option<bool>,
}

/// Runs one training in scalar type `S`.
///
/// # Errors
/// [`CliError`] for data that do not fit, or an unwritable trace.
pub fn run_in<S: Real>(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    resolved: &Resolved,
    config: &TrainConfig,
    trace: Option<&PathBuf>,
) -> Result<RunSummary, CliError> {
    let (data_exact, net_exact) = (data, net);
    let net: Network<S> = net.convert().map_err(|e| CliError::input("--weights", e))?;
    let data: Dataset<S> = data.convert().map_err(|e| CliError::input("--data", e))?;
    let opt = resolved.build::<S>().map_err(CliError::library)?;
    let (v, _) = data.best_constant();
    // V itself is reported exactly (from the exact data), whatever S is
    let v_report = if S::EXACT {
        Value::String(crate::scalar::rational_string(
            &data_exact.best_constant().0,
        ))
    } else {
        number(&v)
    };
    // In f64, near ties are judged against the exact network and data (the f64 network
    // and data are their roundings); after training, the f64 parameters are the network.
    let mut exactness = F64Exactness::of_exact(net_exact, data_exact);
    let act0 = activity_with_exactness(&net, &data, &exactness)
        .map_err(|e| CliError::input("--data", e))?;
    let mut writer = match trace {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| CliError::Output {
                path: path.display().to_string(),
                source: e.into(),
            })?,
        )),
        None => None,
    };
    let mut write_error = None;
    let progress = super::format::progress_bar(config.steps, "training");
    let run = train(&net, &data, &opt, config, Some(&v), |view| {
        progress.inc(1);
        if let Some(w) = writer.as_mut() {
            let line = json!({"step": view.step, "risk": number(view.risk), "theta": view.theta.iter().map(number).collect::<Vec<_>>()});
            if let Err(e) = writeln!(w, "{line}") {
                write_error.get_or_insert(e);
            }
        }
    })
    .map_err(|e| CliError::input("--batch", e))?;
    progress.finish_and_clear();
    if let Some(w) = writer.as_mut()
        && let Err(e) = w.flush()
    {
        write_error.get_or_insert(e);
    }
    if let (Some(reason), Some(path)) = (write_error, trace) {
        return Err(CliError::Output {
            path: path.display().to_string(),
            source: reason.into(),
        });
    }
    exactness.params.fill(true);
    let act1 = activity_with_exactness(&run.last, &data, &exactness)
        .map_err(|e| CliError::input("--data", e))?;
    let arch = net.arch();
    let frozen_up_to_dead_layer = act0.first_dead_layer().map(|k| {
        let end = arch.layer_range(k).end + arch.width(k + 1) * arch.width(k);
        run.moved[..end].iter().all(|m| !m)
    });
    let not_below = match run.risk_final.sub_ref(&v).sign() {
        Sign::Negative => json!(false),
        Sign::Undecided => json!("undecided"),
        _ => json!(true),
    };
    let json = json!({
        "optimizer": resolved.kind.name(),
        "hyperparameters": resolved.to_json(),
        "steps": config.steps,
        "batch": config.batch,
        "scalar": S::NAME,
        "risk_initial": number(&run.risk_initial),
        "risk_final": number(&run.risk_final),
        "best_constant_risk": v_report,
        "risk_final_not_below_best_constant": not_below,
        "frozen_params": run.frozen_count(),
        "params": arch.num_params(),
        "zero_gradient_history_params": run.zero_gradient_history.iter().filter(|z| **z).count(),
        "dead_layers_initial": act0.dead_layers(),
        "dead_layers_final": act1.dead_layers(),
        "undecided_neurons_final": act1.status.iter().flatten().filter(|s| **s == crate::activity::NeuronStatus::Undecided).count(),
        "constant_on_data_final": act1.constant_on_data(),
        "frozen_up_to_dead_layer": frozen_up_to_dead_layer,
        "diverged": run.diverged,
        "enclosure_lost_at_step": run.enclosure_lost_at,
    });
    let mut json = json;
    if !S::EXACT {
        // pre-activations whose f64 sign the rigorous rounding bound does not settle
        json["near_ties_initial"] = json!(act0.near_tie_count);
        json["near_ties_final"] = json!(act1.near_tie_count);
    }
    Ok(RunSummary {
        json,
        frozen_up_to_dead_layer,
    })
}

/// Runs `train`.
///
/// # Errors
/// [`CliError::Input`] for bad options.
pub fn run(args: &TrainArgs) -> Result<(), CliError> {
    let kind = args.optimizer;
    let resolved = args
        .optim
        .hyper()
        .resolve(kind)
        .map_err(CliError::library)?;
    args.common.warn_ignored();
    let setup = args.common.setup()?;
    let config = TrainConfig {
        steps: args.steps,
        batch: args.batch,
        batch_seed: args.batch_seed,
    };
    if args.batch == Some(0) {
        return Err(CliError::Input(
            "--batch 0: a batch needs at least one point".into(),
        ));
    }
    let summary = match args.mode {
        Mode::F64 => run_in::<f64>(
            &setup.net,
            &setup.data,
            &resolved,
            &config,
            args.trace.as_ref(),
        )?,
        Mode::Exact => run_in::<DyadicInterval>(
            &setup.net,
            &setup.data,
            &resolved,
            &config,
            args.trace.as_ref(),
        )?,
    };
    let mut v = summary.json;
    v["arch"] = json!(setup.net.arch().widths());
    v["mode"] = json!(args.mode.name());
    if args.common.json {
        print_json(&v);
        return Ok(());
    }
    println!(
        "{} for {} steps ({} batches, {} arithmetic) on {} ({} parameters)",
        v["optimizer"].as_str().unwrap_or(""),
        args.steps,
        args.batch
            .map(|b| format!("mini-{b}"))
            .unwrap_or_else(|| "full".into()),
        args.mode.name(),
        setup.net.arch(),
        setup.net.arch().num_params()
    );
    println!(
        "risk: {} -> {}   (best-constant risk V = {})",
        show(&v["risk_initial"]),
        show(&v["risk_final"]),
        show(&v["best_constant_risk"])
    );
    if let Some(step) = v["enclosure_lost_at_step"].as_u64() {
        println!(
            "stopped at step {step}: the enclosure of the exact trajectory left f64's range (interval arithmetic widens on long runs that do not settle); the figures above are that step's, and say little"
        );
    }
    println!(
        "dead layers: initially {}, finally {}",
        v["dead_layers_initial"], v["dead_layers_final"]
    );
    if v["near_ties_initial"].as_u64().unwrap_or(0) + v["near_ties_final"].as_u64().unwrap_or(0) > 0
    {
        println!(
            "near ties (|z| <= e, the rigorous bound on the f64 rounding error: the f64 decision is not certain there, try --mode exact): initially {}, finally {}",
            v["near_ties_initial"], v["near_ties_final"]
        );
    }
    println!(
        "coordinates that never moved: {} of {}",
        v["frozen_params"], v["params"]
    );
    match summary.frozen_up_to_dead_layer {
        Some(true) => println!(
            "every parameter up to the first dead layer (and the next weight matrix) stayed frozen: the mechanism held"
        ),
        Some(false) => println!("WARNING: a parameter up to the dead layer moved (weight decay?)"),
        None => println!("no dead layer at initialization: the mechanism does not apply"),
    }
    println!(
        "constant on data at the end: {}",
        v["constant_on_data_final"]
    );
    Ok(())
}
