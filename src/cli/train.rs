//! `deadrelu train`: one training run.

use super::inspect::show;
use super::{CliError, CommonArgs, Mode, print_json};
use crate::activity::activity_on_data;
use crate::data::Dataset;
use crate::net::Network;
use crate::optim::train::{TrainConfig, train};
use crate::optim::{Hyper, OptimizerKind, Resolved, build, parse_hyper};
use crate::scalar::{BigRational, DyadicInterval, Real, Scalar, Sign};
use clap::Args;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

/// Optimizer and hyperparameter flags (PyTorch's defaults when omitted).
#[derive(Args, Debug, Clone, Default)]
pub struct OptimArgs {
    /// Learning rate (default: PyTorch's for the optimizer).
    #[arg(long)]
    pub lr: Option<String>,
    /// Momentum (momentum and nesterov: 0.9 by default; sgd: 0; rmsprop: 0).
    #[arg(long)]
    pub momentum: Option<String>,
    /// Adam-family beta1 (0.9).
    #[arg(long)]
    pub beta1: Option<String>,
    /// Adam-family beta2 (0.999).
    #[arg(long)]
    pub beta2: Option<String>,
    /// eps (Adam family 1e-8, Adagrad 1e-10, RMSProp 1e-8, Adadelta 1e-6); must be > 0.
    #[arg(long)]
    pub eps: Option<String>,
    /// RMSProp alpha (0.99).
    #[arg(long)]
    pub alpha: Option<String>,
    /// RMSProp centered.
    #[arg(long)]
    pub centered: bool,
    /// Adagrad lr_decay (0).
    #[arg(long)]
    pub lr_decay: Option<String>,
    /// NAdam momentum_decay psi (0.004).
    #[arg(long)]
    pub momentum_decay: Option<String>,
    /// Adadelta rho (0.9).
    #[arg(long)]
    pub rho: Option<String>,
    /// Weight decay (L2, added to the gradient; 0). Breaks the frozen property.
    #[arg(long)]
    pub weight_decay: Option<String>,
}

impl OptimArgs {
    /// The exact hyperparameters.
    ///
    /// # Errors
    /// [`CliError::Input`] naming the flag.
    pub fn hyper(&self) -> Result<Hyper, CliError> {
        let p = |flag: &'static str, v: &Option<String>| -> Result<Option<BigRational>, CliError> {
            v.as_deref()
                .map(|t| parse_hyper(flag, t))
                .transpose()
                .map_err(|e| CliError::Input(e.to_string()))
        };
        Ok(Hyper {
            lr: p("lr", &self.lr)?,
            momentum: p("momentum", &self.momentum)?,
            beta1: p("beta1", &self.beta1)?,
            beta2: p("beta2", &self.beta2)?,
            eps: p("eps", &self.eps)?,
            alpha: p("alpha", &self.alpha)?,
            centered: self.centered,
            lr_decay: p("lr-decay", &self.lr_decay)?,
            momentum_decay: p("momentum-decay", &self.momentum_decay)?,
            rho: p("rho", &self.rho)?,
            weight_decay: p("weight-decay", &self.weight_decay)?,
        })
    }
}

/// Options of `train`.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// sgd, momentum, nesterov, adagrad, rmsprop, adam, adamax, amsgrad, nadam, adadelta.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Number of steps.
    #[arg(long, default_value_t = 100)]
    pub steps: u64,
    /// Mini-batch size (full batch when omitted).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed of the mini-batch sampler.
    #[arg(long, default_value_t = 0)]
    pub batch_seed: u64,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Arithmetic: f64, or exact (rational enclosures; a coordinate that never moves stays exact).
    #[arg(long, value_enum, default_value_t = Mode::F64)]
    pub mode: Mode,
    /// Write one JSON line per step (step, risk, theta); the last holds theta after the final step.
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

pub(crate) fn number<S: Scalar>(v: &S) -> Value {
    if S::EXACT {
        Value::String(v.to_exact_string())
    } else {
        json!(v.to_f64())
    }
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
    let data_exact = data;
    let net: Network<S> = net.convert();
    let data: Dataset<S> = data.convert();
    let opt = build::<S>(resolved);
    let (v, _) = data.best_constant();
    // V itself is reported exactly (from the exact data), whatever S is
    let v_report = if S::EXACT {
        Value::String(crate::scalar::rational_string(
            &data_exact.best_constant().0,
        ))
    } else {
        number(&v)
    };
    let act0 = activity_on_data(&net, &data).map_err(|e| CliError::input("--data", e))?;
    let mut writer = match trace {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| CliError::Output {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        )),
        None => None,
    };
    let mut write_error = None;
    let progress = super::progress_bar(config.steps, "training");
    let run = train(&net, &data, opt.as_ref(), config, Some(&v), |view| {
        progress.inc(1);
        if let Some(w) = writer.as_mut() {
            let line = json!({"step": view.step, "risk": number(view.risk), "theta": view.theta.iter().map(number).collect::<Vec<_>>()});
            if let Err(e) = writeln!(w, "{line}") {
                write_error.get_or_insert(e.to_string());
            }
        }
    })
    .map_err(|e| CliError::input("--batch", e))?;
    progress.finish_and_clear();
    if let Some(w) = writer.as_mut()
        && let Err(e) = w.flush()
    {
        write_error.get_or_insert(e.to_string());
    }
    if let (Some(reason), Some(path)) = (write_error, trace) {
        return Err(CliError::Output {
            path: path.display().to_string(),
            reason,
        });
    }
    let act1 = activity_on_data(&run.last, &data).map_err(|e| CliError::input("--data", e))?;
    let arch = net.arch();
    let frozen_up_to_dead_layer = act0.first_dead_layer().map(|k| {
        let end = arch.layer_range(k).end + arch.width(k + 1) * arch.width(k);
        run.moved[..end].iter().all(|m| !m)
    });
    let not_below = match run.risk_final.sub(&v).sign() {
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
    });
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
    let kind: OptimizerKind = args
        .optimizer
        .parse()
        .map_err(|e| CliError::input("--optimizer", e))?;
    let resolved = args
        .optim
        .hyper()?
        .resolve(kind)
        .map_err(|e| CliError::Input(e.to_string()))?;
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
    println!(
        "dead layers: initially {}, finally {}",
        v["dead_layers_initial"], v["dead_layers_final"]
    );
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
