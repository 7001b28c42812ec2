//! `deadrelu audit` and `deadrelu check`.

use super::args::{BoxDomain, Given, OptimArgs, OptimizerList, Setup};
use super::format::{
    decision_json, first_layer_json, first_layer_line, print_json, readable, show,
};
use super::{CliError, CommonArgs};
use crate::activity::domain::{BoxDecision, DeadProof, cube, decide_dead_on_box_with};
use crate::audit::{AuditOptions, Certificate, audit, check_certificate, check_certificate_value};
use crate::optim::OptimizerKind;
use crate::scalar::{BigRational, rational_string};
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Options of `audit`.
#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Optimizers to run as a cross-check: all (the nine) or a list like adam,sgd.
    #[arg(long, default_value = "all")]
    pub optimizers: Given<OptimizerList>,
    /// Steps per optimizer run.
    #[arg(long, default_value_t = 50, value_parser = super::args::steps())]
    pub steps: u64,
    /// Mini-batch size of the additional seeded mini-batch runs (0: full batches only).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Seed of the mini-batch sampler.
    #[arg(long, default_value_t = 0)]
    pub batch_seed: u64,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Write the certificate (JSON) here when the verdict is non-convergence-certified.
    #[arg(long)]
    pub certificate: Option<PathBuf>,
    /// Also write the certificate as a Coq file checked by Coq's kernel
    /// (`coqc -Q proofs DeadRelu FILE.v`, see proofs/README.md).
    #[arg(long)]
    pub coq: Option<PathBuf>,
    /// Certify on the whole input box [A,B]^d (box:A,B): the deepest hidden layer proven
    /// dead on the box is the one certified, and the certificate carries the proof.
    #[arg(long)]
    pub domain: Option<BoxDomain>,
    /// With --domain: most nodes (branch-and-bound nodes, sub-boxes or phase regions) the
    /// box decision may explore per layer before answering unknown (undecided with
    /// --optimizer-state).
    #[arg(long, default_value_t = 20_000)]
    pub box_budget: usize,
    /// Checkpoint mode: PyTorch's optimizer state_dict as JSON; requires --weights (the
    /// checkpoint's parameters) and --optimizer. Decides whether each dead layer stays dead
    /// forever; with --domain, on the whole input box (every input of the box, every
    /// parameter of the reachable box); --optimizers, --steps, --batch, --batch-seed and
    /// --coq do not apply.
    #[arg(long, requires_all = ["optimizer", "weights"])]
    pub optimizer_state: Option<PathBuf>,
    /// The optimizer of --optimizer-state (sgd, momentum, nesterov, adagrad, rmsprop,
    /// adam, adamax, amsgrad, nadam, adadelta); requires --optimizer-state.
    #[arg(long, requires = "optimizer_state", value_parser = super::args::optimizer)]
    pub optimizer: Option<OptimizerKind>,
}

/// Options of `check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The certificate to re-verify.
    pub path: PathBuf,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,
}

/// Runs the audit and returns its JSON (shared with the demo).
///
/// # Errors
/// [`CliError`] for bad options or an unwritable certificate.
fn audit_json(args: &AuditArgs) -> Result<Value, CliError> {
    let kinds = args.optimizers.value.0.clone();
    let hyper = args.optim.hyper();
    for kind in &kinds {
        hyper.resolve(*kind).map_err(CliError::library)?;
    }
    let setup = args.common.setup()?;
    let domain = match &args.domain {
        Some(domain) => match box_layer(&setup, domain, args.box_budget)? {
            Ok(found) => Some(found),
            Err(mut not_applicable) => {
                if let Some(note) = not_written(args, "no hidden layer is proven dead on the box") {
                    not_applicable["certificate_note"] = json!(note);
                }
                return Ok(not_applicable);
            }
        },
        None => None,
    };
    let options = AuditOptions {
        optimizers: kinds,
        hyper,
        steps: args.steps,
        batch: (args.batch > 0).then_some(args.batch),
        batch_seed: args.batch_seed,
        layer: domain.as_ref().map(|d| d.layer),
    };
    let mut spinner = super::progress::DelayedSpinner::new("audit");
    let report = audit(&setup.net, &setup.data, &options, |what| {
        spinner.set_message(what);
    })
    .map_err(CliError::library)?;
    let mut certificate_path = Value::Null;
    let mut coq_path = Value::Null;
    if (args.certificate.is_some() || args.coq.is_some())
        && let Some(mut cert) = Certificate::from_report(&setup.net, &setup.data, &report)
    {
        if let Some(d) = &domain {
            cert = cert.with_domain(&d.a, &d.b, d.layer, d.proof.to_json());
        }
        spinner.set_message("certificate: writing and checking it independently");
        // the independent checker must accept what is written: it checks the value that is
        // then written as is (serde_json reads back the value it wrote; see
        // `check_certificate_value`), without re-serializing and re-parsing it here
        if let Err(e) = check_certificate_value(&cert.0) {
            return Err(CliError::Internal {
                what: "the certificate fails its own check and is not written",
                source: e.into(),
            });
        }
        if let Some(path) = &args.coq {
            let coq = crate::audit::coq_certificate(&cert.0).map_err(|e| CliError::Internal {
                what: "no Coq file",
                source: e.into(),
            })?;
            write_file(path, &coq)?;
            coq_path = json!(path.display().to_string());
        }
        if let Some(path) = &args.certificate {
            write_json(path, &cert.0)?;
            certificate_path = json!(path.display().to_string());
        }
    }
    spinner.finish();
    let strings =
        |v: &[crate::scalar::BigRational]| v.iter().map(rational_string).collect::<Vec<_>>();
    let note = if certificate_path.is_null() && coq_path.is_null() {
        let why = match report.dead_layer {
            None => {
                "no hidden layer is dead on the data, so there is nothing to certify".to_string()
            }
            Some(_) => format!(
                "the verdict is {}{}",
                report.verdict.name(),
                report
                    .verdict
                    .reason()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        };
        not_written(args, &why)
    } else {
        None
    };
    Ok(json!({
        "arch": setup.net.arch().widths(),
        "verdict": report.verdict.name(),
        "reason": report.verdict.reason(),
        "dead_layer": report.dead_layer,
        "dead_layers": report.activity.dead_layers(),
        "inactive_per_layer": report.activity.inactive_per_layer(),
        "exact_ties": report.activity.exact_ties,
        "exact_fallbacks": report.exact_fallbacks,
        "constant_value": report.constant_value.as_deref().map(strings),
        "risk": rational_string(&report.risk),
        "best_constant_risk": rational_string(&report.best_constant_risk),
        "witness_risk": report.witness.as_ref().map(|(_, r)| rational_string(r)),
        "zero_gradient_coordinates": report.zero_gradient.len(),
        "frozen_coordinates": report.frozen_count,
        "params": setup.net.arch().num_params(),
        "optimizers": report.runs.iter().map(|r| json!({
            "name": r.resolved.kind.name(),
            "steps": r.steps,
            "batch": r.batch,
            "arithmetic": r.arithmetic,
            "frozen": r.frozen,
            "layer_stayed_dead": r.layer_stayed_dead,
            "constant_realization": r.constant_realization,
            "risk_never_below_best_constant": r.risk_never_below_v,
            "enclosure_lost_at_step": r.enclosure_lost_at,
        })).collect::<Vec<_>>(),
        "certificate": certificate_path,
        "coq": coq_path,
        "certificate_note": note,
        "first_layer_inactive": first_layer_json(setup.net.arch(), &report.activity),
        "domain": domain.as_ref().map(|d| d.json.clone()),
    }))
}

/// The sentence saying why a requested certificate (or Coq file) was not written.
fn not_written(args: &AuditArgs, why: &str) -> Option<String> {
    let requested: Vec<String> = [&args.certificate, &args.coq]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    (!requested.is_empty()).then(|| {
        format!(
            "no certificate written to {}: {why}",
            requested.join(" or ")
        )
    })
}

/// Writes `value` as pretty JSON and a newline, streamed through a buffer.
fn write_json(path: &std::path::Path, value: &Value) -> Result<(), CliError> {
    use std::io::Write;
    let fail = |e: std::io::Error| CliError::Output {
        path: path.display().to_string(),
        source: e.into(),
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| fail(e.into()))?;
    out.write_all(b"\n").map_err(fail)?;
    out.flush().map_err(fail)
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| CliError::Output {
        path: path.display().to_string(),
        source: e.into(),
    })
}

/// The layer of `audit --domain`: the deepest hidden layer proven dead on the box.
struct BoxLayer {
    a: BigRational,
    b: BigRational,
    layer: usize,
    proof: DeadProof,
    json: Value,
}

/// Decides the hidden layers on the box, deepest first, until one is dead. `Ok(Err(v))`
/// is the report when none is (the mechanism does not apply on the box).
fn box_layer(
    setup: &Setup,
    domain: &BoxDomain,
    budget: usize,
) -> Result<Result<BoxLayer, Value>, CliError> {
    let (a, b) = (domain.lo.clone(), domain.hi.clone());
    let text = &domain.text;
    let (net, data) = (&setup.net, &setup.data);
    let arch = net.arch();
    if let Some(m) = (0..data.len()).find(|&m| data.x(m).iter().any(|x| *x < a || *x > b)) {
        return Err(CliError::Input(format!(
            "--domain {text}: data point {m} lies outside the box, so the box proof would not cover the data"
        )));
    }
    let region = cube(&a, &b, arch.inputs());
    let spinner = super::progress::DelayedSpinner::new("box decisions (deepest layer first)");
    let mut layers = Vec::new();
    let mut found = None;
    for k in arch.hidden_layers().rev() {
        spinner.set_message(&format!("box decision of layer {k} (deepest first)"));
        let nodes = |n: usize| {
            spinner.set_message(&format!(
                "box decision of layer {k} (deepest first): {n} of at most {budget} nodes"
            ));
        };
        let (decision, exact_fallbacks) =
            decide_dead_on_box_with(net, k, &region, budget, Some(&nodes));
        let mut line = decision_json(k, &decision);
        line["exact_fallbacks"] = json!(exact_fallbacks);
        layers.push(line);
        if let BoxDecision::Dead { proof } = decision {
            found = Some((k, proof));
            break;
        }
    }
    drop(spinner);
    let box_text = [rational_string(&a), rational_string(&b)];
    match found {
        Some((layer, proof)) => {
            let json = json!({
                "box": box_text, "layer": layer, "method": proof.method(),
                "regions": proof.regions(), "layers": layers,
            });
            Ok(Ok(BoxLayer {
                a,
                b,
                layer,
                proof,
                json,
            }))
        }
        None => Ok(Err(json!({
            "arch": arch.widths(),
            "verdict": "mechanism-not-applicable",
            "reason": format!(
                "no hidden layer is proven dead on the whole box [{}, {}]^{} (see domain.layers)",
                box_text[0], box_text[1], arch.inputs()
            ),
            "dead_layer": null,
            "certificate": null,
            "domain": {"box": box_text, "layer": null, "layers": layers},
        }))),
    }
}

/// Runs `audit`.
///
/// # Errors
/// [`CliError`] for bad options.
pub fn run(args: &AuditArgs) -> Result<(), CliError> {
    args.common.warn_ignored();
    if let Some(path) = &args.optimizer_state {
        if args.optimizers.text != "all"
            || args.steps != 50
            || args.batch != 8
            || args.batch_seed != 0
            || args.coq.is_some()
        {
            super::warn(
                "--optimizers, --steps, --batch, --batch-seed and --coq are ignored with --optimizer-state",
            );
        }
        if args.domain.is_none() && args.box_budget != 20_000 {
            super::warn("--box-budget is ignored without --domain");
        }
        return super::audit_checkpoint::run(args, path);
    }
    if args.domain.is_none() && args.box_budget != 20_000 {
        super::warn("--box-budget is ignored without --domain");
    }
    let v = audit_json(args)?;
    if args.common.json {
        print_json(&v);
        return Ok(());
    }
    print_report(&v);
    Ok(())
}

/// The readable audit report.
pub fn print_report(v: &Value) {
    println!("verdict: {}", v["verdict"].as_str().unwrap_or(""));
    if let Some(reason) = v["reason"].as_str() {
        println!("  reason: {reason}");
    }
    if v["first_layer_inactive"].is_object() {
        println!("{}", first_layer_line(&v["first_layer_inactive"]));
    }
    if v["dead_layer"].is_null() {
        for l in v["domain"]["layers"].as_array().into_iter().flatten() {
            println!("  {}", super::format::decision_line(l));
        }
        let first_inactive = v["first_layer_inactive"]["neurons"]
            .as_array()
            .is_some_and(|n| !n.is_empty());
        if v["verdict"] == "mechanism-not-applicable" && v["domain"].is_null() && first_inactive {
            println!(
                "no hidden layer is dead, so the network is not frozen as a whole; the inactive first-layer neurons are, but whether the smaller network still reaches the infimum is not decided here"
            );
        }
        if let Some(note) = v["certificate_note"].as_str() {
            println!("{note}");
        }
        return;
    }
    let dead: Vec<String> = v["dead_layers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| k.to_string())
        .collect();
    println!(
        "dead layers on the data (exact): {}; the certificate uses layer {}",
        dead.join(", "),
        v["dead_layer"]
    );
    println!(
        "the network is constant on the data, with value {}",
        readable(&v["constant_value"], false)
    );
    println!(
        "risk R(theta_0) = {}, best-constant risk V = {} (exact fractions in --json and in the certificate)",
        readable(&v["risk"], false),
        readable(&v["best_constant_risk"], false)
    );
    if !v["witness_risk"].is_null() {
        println!(
            "witness theta* has exact risk {} < V: the infimum is below V, so no frozen trajectory reaches a global minimizer",
            readable(&v["witness_risk"], false)
        );
    }
    println!(
        "frozen coordinates (layers 1..k and W_(k+1)): {} of {}",
        v["frozen_coordinates"], v["params"]
    );
    let yes_no = |x: &Value| match x.as_bool() {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "undecided",
    };
    for run in v["optimizers"].as_array().into_iter().flatten() {
        println!(
            "  {:<9} {:>4} steps {:<12} frozen {:<3}  layer dead throughout {:<3}  constant {:<3}  risk >= V {}",
            run["name"].as_str().unwrap_or(""),
            run["steps"],
            run["batch"]
                .as_u64()
                .map(|b| format!("batch {b}"))
                .unwrap_or_else(|| "full batch".into()),
            yes_no(&run["frozen"]),
            yes_no(&run["layer_stayed_dead"]),
            yes_no(&run["constant_realization"]),
            yes_no(&run["risk_never_below_best_constant"])
        );
        if let Some(step) = run["enclosure_lost_at_step"].as_u64() {
            println!(
                "    stopped at step {step}: the interval enclosure left f64's range (the flags cover steps 0..={step})"
            );
        }
    }
    if let Some(d) = v["domain"].as_object() {
        println!(
            "on the whole box [{}, {}]^{}: layer {} is dead ({}, regions: {}, each proven exactly), so the mechanism holds for every data set in the box",
            show(&d["box"][0]),
            show(&d["box"][1]),
            v["arch"][0],
            d["layer"],
            show(&d["method"]),
            d["regions"]
        );
    }
    if let Some(path) = v["certificate"].as_str() {
        println!("certificate written to {path}; re-verify with `deadrelu check {path}`");
    }
    if let Some(note) = v["certificate_note"].as_str() {
        println!("{note}");
    }
}

/// Runs `check`.
///
/// # Errors
/// [`CliError::CheckFailed`] (exit 1) for a false claim, [`CliError::Input`] (exit 2)
/// for an unreadable file.
pub fn check(args: &CheckArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.path)
        .map_err(|e| CliError::input(&format!("cannot read {}", args.path.display()), e))?;
    if let Some(result) = super::audit_checkpoint::check_dead_forever(&text, args.json) {
        return result.map_err(|e| CliError::check(&args.path, e));
    }
    let mut spinner = super::progress::DelayedSpinner::new("checking the certificate");
    let result = check_certificate(&text);
    spinner.finish();
    if args.json {
        let v = match &result {
            Ok(c) => json!({
                "valid": true,
                "summary": c.summary(),
                "version": c.version,
                "exact_fallbacks": c.exact_fallbacks,
                "exact_work": c.exact_work,
                "optimizer_records": {"runs": c.optimizer_records, "verified": false},
            }),
            Err(e) => {
                json!({"valid": false, "error": e.to_string(), "claim": e.claim().map(|c| c.name())})
            }
        };
        print_json(&v);
    }
    match result {
        Ok(checked) => {
            if !args.json {
                println!("{}", checked.summary());
                println!("{}", checked.records_note());
            }
            Ok(())
        }
        Err(e) => Err(CliError::check(&args.path, e)),
    }
}
