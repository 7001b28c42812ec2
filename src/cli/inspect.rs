//! `deadrelu inspect`: activity of theta on the data.

use super::{CliError, CommonArgs, Mode, print_json};
use crate::activity::{Activity, activity_on_data};
use crate::data::Dataset;
use crate::net::Network;
use crate::scalar::{BigRational, Scalar};
use clap::Args;
use serde_json::{Value, json};

/// Options of `inspect`.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Arithmetic: exact rationals or f64.
    #[arg(long, value_enum, default_value_t = Mode::Exact)]
    pub mode: Mode,
}

/// The findings of `inspect` in one scalar type.
pub struct InspectReport {
    /// Activity on the data.
    pub activity: Activity,
    /// Empirical risk, as text (exact string or float).
    pub risk: Value,
    /// Best-constant risk `V`.
    pub best_constant_risk: Value,
}

fn number<S: Scalar>(v: &S) -> Value {
    if S::EXACT {
        Value::String(v.to_exact_string())
    } else {
        json!(v.to_f64())
    }
}

/// Computes activity and risk in scalar type `S`.
///
/// # Errors
/// [`CliError::Input`] when the data do not fit the network.
pub fn inspect_in<S: Scalar>(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<InspectReport, CliError> {
    let net: Network<S> = net.convert();
    let data: Dataset<S> = data.convert();
    let activity = activity_on_data(&net, &data).map_err(|e| CliError::input("--data", e))?;
    let risk = net
        .risk(&data, None)
        .map_err(|e| CliError::input("--data", e))?;
    let (v, _) = data.best_constant();
    Ok(InspectReport {
        activity,
        risk: number(&risk),
        best_constant_risk: number(&v),
    })
}

/// Runs `inspect`.
///
/// # Errors
/// [`CliError::Input`] for bad options or files.
pub fn run(args: &InspectArgs) -> Result<(), CliError> {
    let setup = args.common.setup()?;
    let report = match args.mode {
        Mode::Exact => inspect_in::<BigRational>(&setup.net, &setup.data)?,
        Mode::F64 => inspect_in::<f64>(&setup.net, &setup.data)?,
    };
    let arch = setup.net.arch();
    let act = &report.activity;
    if args.common.json {
        let mut v = json!({
            "arch": arch.widths(),
            "mode": args.mode.name(),
            "data_points": setup.data.len(),
            "inactive_per_layer": act.inactive_per_layer(),
            "inactive_neurons": act.inactive_neurons(),
            "dead_layers": act.dead_layers(),
            "constant_on_data": act.constant_on_data(),
            "risk": report.risk,
            "best_constant_risk": report.best_constant_risk,
            "exact_ties": act.exact_ties,
        });
        if args.mode == Mode::F64 {
            v["near_ties"] = json!({"tolerance": crate::prec::NEAR_TIE_F64, "count": act.near_tie_count, "first": act.near_ties});
        }
        print_json(&v);
        return Ok(());
    }
    println!(
        "network {arch} ({} parameters), {} data points, {} arithmetic",
        arch.num_params(),
        setup.data.len(),
        args.mode.name()
    );
    for (k, count) in arch.hidden_layers().zip(act.inactive_per_layer()) {
        let width = arch.width(k);
        let mark = if count == width { "  DEAD" } else { "" };
        println!("  hidden layer {k}: {count}/{width} neurons inactive on the data{mark}");
    }
    let dead = act.dead_layers();
    if dead.is_empty() {
        println!("no dead layer: the mechanism does not apply to this theta");
    } else {
        println!(
            "dead layers: {dead:?}: the realization is constant on the data and every parameter up to layer {} and W_{} has zero gradient",
            dead[dead.len() - 1],
            dead[dead.len() - 1] + 1
        );
    }
    println!("constant on data: {}", act.constant_on_data());
    println!(
        "risk: {}   best-constant risk V: {}",
        show(&report.risk),
        show(&report.best_constant_risk)
    );
    if act.exact_ties > 0 {
        println!(
            "pre-activations exactly 0 (decided inactive, ReLU'(0) = 0): {}",
            act.exact_ties
        );
    }
    if act.near_tie_count > 0 {
        println!(
            "near ties (|z| <= {:e}; the f64 decision is fragile there, try --mode exact): {}",
            crate::prec::NEAR_TIE_F64,
            act.near_tie_count
        );
    }
    Ok(())
}

pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
