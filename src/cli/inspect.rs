//! `deadrelu inspect`: activity of theta on the data.

use super::args::BoxDomain;
use super::format::{brief, decision_json, decision_line, number, print_json, show};
use super::{CliError, CommonArgs, Mode};
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
    /// Also decide, exactly, which hidden layers are dead on the input box [A,B]^d.
    #[arg(long, allow_hyphen_values = true)]
    pub domain: Option<BoxDomain>,
    /// Most branch-and-bound nodes the box decision visits per layer (then, for d <= 4, at most that many sub-boxes and phase regions) before answering unknown.
    #[arg(long, default_value_t = 20_000)]
    pub box_budget: usize,
}

/// The exact decision of every hidden layer on the box, as JSON.
pub fn domain_json(
    net: &Network<BigRational>,
    a: &BigRational,
    b: &BigRational,
    budget: usize,
) -> Value {
    use crate::activity::domain::{
        BoxDecision, cube, decide_dead_on_box_with, first_layer_inactive_on_box,
    };
    let spinner = super::progress::DelayedSpinner::new("box decisions");
    let arch = net.arch();
    let region = cube(a, b, arch.inputs());
    let first: Vec<usize> = (0..arch.width(1))
        .filter(|&j| first_layer_inactive_on_box(net, j, a, b))
        .collect();
    let mut dead = Vec::new();
    let layers: Vec<Value> = arch
        .hidden_layers()
        .map(|k| {
            let nodes = |n: usize| {
                spinner.set_message(&format!(
                    "box decision of layer {k}: {n} of at most {budget} nodes"
                ));
            };
            let decision = decide_dead_on_box_with(net, k, &region, budget, Some(&nodes)).0;
            if matches!(decision, BoxDecision::Dead { .. }) {
                dead.push(k);
            }
            decision_json(k, &decision)
        })
        .collect();
    json!({
        "box": [crate::scalar::rational_string(a), crate::scalar::rational_string(b)],
        "first_layer_inactive_neurons": first,
        "dead_layers": dead,
        "layers": layers,
    })
}

/// The findings of `inspect` in one scalar type.
pub struct InspectReport {
    /// Activity on the data.
    pub activity: Activity,
    /// Empirical risk, as text (exact string or float).
    pub risk: Value,
    /// Best-constant risk `V`.
    pub best_constant_risk: Value,
    /// Exact mode: decisions the `f64` filter left to exact arithmetic.
    pub exact_fallbacks: Option<usize>,
}

/// Computes activity and risk in scalar type `S`.
///
/// # Errors
/// [`CliError::Input`] when the data do not fit the network.
pub fn inspect_in<S: Scalar>(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<InspectReport, CliError> {
    if std::any::TypeId::of::<S>() == std::any::TypeId::of::<f64>() {
        // f64: the batched pass with the rigorous rounding bound (near ties by the bound).
        let f = super::inspect_f64::inspect_exact_in_f64(net, data)?;
        return Ok(InspectReport {
            activity: f.activity,
            risk: f.risk,
            best_constant_risk: f.best_constant_risk,
            exact_fallbacks: None,
        });
    }
    let net: Network<S> = net.convert().map_err(|e| CliError::input("--weights", e))?;
    let data: Dataset<S> = data.convert().map_err(|e| CliError::input("--data", e))?;
    let activity = activity_on_data(&net, &data).map_err(|e| CliError::input("--data", e))?;
    let risk = net
        .risk(&data, None)
        .map_err(|e| CliError::input("--data", e))?;
    let (v, _) = data.best_constant();
    Ok(InspectReport {
        activity,
        risk: number(&risk),
        best_constant_risk: number(&v),
        exact_fallbacks: None,
    })
}

/// The exact findings of `inspect`: the filtered exact activity
/// ([`crate::activity::filtered`]), and the exact risk and `V`, the risk from the
/// constant output after a dead layer when there is one.
///
/// # Errors
/// [`CliError::Input`] when the data do not fit the network.
pub fn inspect_exact(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<InspectReport, CliError> {
    use crate::activity::filtered::{Filter, best_constant, exact_risk};
    if data.outputs() != net.arch().outputs() {
        return Err(CliError::input(
            "--data",
            crate::net::NetError::DataShape {
                what: "outputs",
                expected: net.arch().outputs(),
                got: data.outputs(),
            },
        ));
    }
    let filter = Filter::new(net).map_err(|e| CliError::input("--weights", e))?;
    let bar = super::progress::DelayedBar::new(data.len() as u64, "exact decisions (points)");
    let found = filter
        .activity_with_progress(data, |n| bar.inc(n as u64))
        .map_err(|e| CliError::input("--data", e))?;
    let outputs = if found.activity.dead_layers().is_empty() {
        bar.set_message("exact outputs (points)");
        bar.inc_length(data.len() as u64);
        filter.outputs_with_progress(data, &found.activity, |n| bar.inc(n as u64))
    } else {
        filter.outputs(data, &found.activity)
    };
    let risk = exact_risk(&outputs, data);
    let (v, _) = best_constant(data);
    bar.finish();
    Ok(InspectReport {
        activity: found.activity,
        risk: Value::String(crate::scalar::rational_string(&risk)),
        best_constant_risk: Value::String(crate::scalar::rational_string(&v)),
        exact_fallbacks: Some(found.exact_fallbacks),
    })
}

/// The exact findings of `inspect` by the batched exact pass
/// ([`crate::activity::batched_inspect`]), when `--weights` holds doubles (JSON numbers,
/// `f32`/`f64` tensors): weights and data straight to numbers, no rational until the
/// risk. `None` when it does not apply (the rational path then runs).
///
/// # Errors
/// [`CliError::Input`] for bad files or shapes.
pub fn inspect_exact_fast(
    common: &CommonArgs,
) -> Result<Option<(crate::net::Arch, usize, InspectReport)>, CliError> {
    let Some(path) = &common.weights else {
        return Ok(None);
    };
    let (arch, params, exact) = crate::io::read_weights_f64(path, common.layer_order.as_deref())
        .map_err(|e| CliError::input("--weights", e))?;
    if !exact.iter().all(|&e| e) {
        return Ok(None);
    }
    common.check_arch(&arch)?;
    let (spec, target) = common.data.parse();
    let data = crate::io::DataF64::load_with_ints(
        &spec,
        arch.inputs(),
        arch.outputs(),
        &target,
        common.data.seed,
        true,
    )
    .map_err(|e| CliError::input("--data", e))?;
    let bar = super::progress::DelayedBar::new(data.len() as u64, "exact pass (points)");
    let found =
        crate::activity::batched_inspect::inspect_exact_batched(&arch, &params, &data, |n| {
            bar.inc(n as u64)
        })
        .map_err(|e| CliError::input("--data", e))?;
    bar.finish();
    Ok(found.map(|f| {
        (
            arch,
            data.len(),
            InspectReport {
                activity: f.activity,
                risk: Value::String(crate::scalar::rational_string(&f.risk)),
                best_constant_risk: Value::String(crate::scalar::rational_string(
                    &f.best_constant_risk,
                )),
                exact_fallbacks: Some(f.exact_fallbacks),
            },
        )
    }))
}

/// Runs `inspect`.
///
/// # Errors
/// [`CliError::Input`] for bad options or files.
pub fn run(args: &InspectArgs) -> Result<(), CliError> {
    // every option is checked before anything is computed or printed
    let domain = args.domain.as_ref().map(|d| (d.lo.clone(), d.hi.clone()));
    let (arch, points, report, exact_net) = match args.mode {
        Mode::Exact if let Some((arch, points, report)) = inspect_exact_fast(&args.common)? => {
            (arch, points, report, None)
        }
        Mode::Exact => {
            let setup = args.common.setup()?;
            let report = inspect_exact(&setup.net, &setup.data)?;
            (
                setup.net.arch().clone(),
                setup.data.len(),
                report,
                Some(setup.net),
            )
        }
        Mode::F64 => {
            let f = super::inspect_f64::inspect_f64(&args.common)?;
            let report = InspectReport {
                activity: f.activity,
                risk: f.risk,
                best_constant_risk: f.best_constant_risk,
                exact_fallbacks: None,
            };
            (f.arch, f.points, report, None)
        }
    };
    let arch = &arch;
    // The exact network, only when --domain asks for the exact box decision.
    let domain_net = || -> Result<crate::net::Network<BigRational>, CliError> {
        match &exact_net {
            Some(net) => Ok(net.clone()),
            None => args.common.network(),
        }
    };
    // the box decision before any output, so that a failure prints nothing else
    let domain = match &domain {
        Some((a, b)) => Some(domain_json(&domain_net()?, a, b, args.box_budget)),
        None => None,
    };
    let act = &report.activity;
    if args.common.json {
        let mut v = json!({
            "arch": arch.widths(),
            "mode": args.mode.name(),
            "data_points": points,
            "inactive_per_layer": act.inactive_per_layer(),
            "inactive_neurons": act.inactive_neurons(),
            "dead_layers": act.dead_layers(),
            "constant_on_data": act.constant_on_data(),
            "risk": report.risk,
            "best_constant_risk": report.best_constant_risk,
            "exact_ties": act.exact_ties,
        });
        if let Some(n) = report.exact_fallbacks {
            v["exact_fallbacks"] = json!(n);
        }
        if let Some(d) = domain {
            v["domain"] = d;
        }
        if args.mode == Mode::F64 {
            v["near_ties"] = json!({
                "rule": "|z| <= e, e a rigorous bound on the f64 rounding error (src/net/batch.rs)",
                "count": act.near_tie_count,
                "first": act.near_ties,
            });
        }
        print_json(&v);
        return Ok(());
    }
    println!(
        "network {arch} ({} parameters), {} data points, {} arithmetic",
        arch.num_params(),
        points,
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
        brief(&report.risk),
        brief(&report.best_constant_risk)
    );
    if act.exact_ties > 0 {
        println!(
            "pre-activations exactly 0 (decided inactive, ReLU'(0) = 0): {}",
            act.exact_ties
        );
    }
    if let Some(d) = &domain {
        println!(
            "on the box [{}, {}]^{} (exact):",
            show(&d["box"][0]),
            show(&d["box"][1]),
            arch.inputs()
        );
        println!(
            "  first-layer neurons inactive on the box (closed form): {}",
            d["first_layer_inactive_neurons"]
        );
        for l in d["layers"].as_array().into_iter().flatten() {
            println!("  {}", decision_line(l));
        }
    }
    if act.near_tie_count > 0 {
        println!(
            "near ties (|z| <= e, the rigorous bound on the f64 rounding error: the f64 decision is not certain there, try --mode exact): {}",
            act.near_tie_count
        );
    }
    Ok(())
}
