//! `deadrelu audit --optimizer-state STATE --optimizer NAME`: dead for good.
//!
//! From a training checkpoint (`--weights`, the network's parameters) and PyTorch's
//! optimizer state (`--optimizer-state`, `optimizer.state_dict()` as JSON, layout in
//! [`crate::optim::reach::torch`]), every hidden layer dead on the data is decided:
//! `dead-forever-certified`, `may-revive` (with an exact witness in the reachable box) or
//! `undecided` ([`crate::audit::checkpoint`]). Hyperparameters are the optimizer flags
//! (`--lr`, `--beta1`, ..., PyTorch's defaults otherwise), exact. `--certificate` writes
//! the certificate of the deepest layer certified dead forever, after the independent
//! checker has accepted it.

use super::CliError;
use super::audit::AuditArgs;
use super::format::print_json;
use crate::audit::checkpoint::{Revival, audit_checkpoint_groups, certificate_groups};
use crate::audit::checkpoint_box::{BoxRevival, decide_on_input_box};
use crate::optim::reach::torch::safetensors_state_document;
use crate::optim::reach::{group_hyper, parse_torch_state};
use crate::scalar::rational_string;
use serde_json::{Value, json};

/// The checkpoint audit as JSON.
///
/// # Errors
/// [`CliError`] for bad input (exit 2) or an unwritable certificate.
pub fn checkpoint_json(args: &AuditArgs, state_path: &std::path::Path) -> Result<Value, CliError> {
    let Some(kind) = args.optimizer else {
        return Err(CliError::Input(
            "--optimizer-state needs --optimizer NAME (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamax, amsgrad, nadam, adadelta)".into(),
        ));
    };
    let resolved = args
        .optim
        .hyper()
        .resolve(kind)
        .map_err(CliError::library)?;
    if args.common.weights.is_none() {
        return Err(CliError::Input(
            "--optimizer-state needs --weights (the checkpoint's parameters)".into(),
        ));
    }
    let setup = args.common.setup()?;
    let doc = read_state_document(state_path)?;
    let flag = format!("--optimizer-state {}", state_path.display());
    let state = parse_torch_state(&doc, setup.net.arch()).map_err(|e| CliError::input(&flag, e))?;
    let hypers =
        group_hyper(&doc, &args.optim.hyper(), kind).map_err(|e| CliError::input(&flag, e))?;
    let groups = hypers
        .iter()
        .enumerate()
        .map(|(g, h)| {
            h.resolve(kind)
                .map_err(|e| CliError::input(&format!("{flag}: param_groups[{g}]"), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // one group: its hyperparameters are the flags' (the group may only agree with them)
    let resolved = if groups.len() == 1 {
        groups[0].clone()
    } else {
        resolved
    };
    let configs: Vec<_> = groups.iter().map(|g| g.config.clone()).collect();
    if let Some(d) = &args.domain
        && let Some(m) =
            (0..setup.data.len()).find(|&m| setup.data.x(m).iter().any(|x| *x < d.lo || *x > d.hi))
    {
        return Err(CliError::Input(format!(
            "--domain {}: data point {m} lies outside the box, so the box proof would not cover the data",
            d.text
        )));
    }
    let report = audit_checkpoint_groups(&setup.net, &setup.data, &configs, &state)
        .map_err(CliError::library)?;
    // --domain: each dead layer decided again on the whole input box
    let on_box: Vec<Option<(BoxRevival, usize)>> = match &args.domain {
        None => Vec::new(),
        Some(d) => report
            .decisions
            .iter()
            .map(|dec| {
                if dec.boxes.is_empty() {
                    return Ok(None);
                }
                decide_on_input_box(
                    &setup.net,
                    &dec.boxes,
                    &d.lo,
                    &d.hi,
                    dec.layer,
                    args.box_budget,
                )
                .map(Some)
                .map_err(CliError::library)
            })
            .collect::<Result<_, _>>()?,
    };
    let layers: Vec<Value> = report
        .decisions
        .iter()
        .map(|d| {
            let mut v = json!({
                "layer": d.layer,
                "verdict": d.revival.name(),
                "unsettled_pairs": d.unsettled,
                "box_max_width": d.boxes.iter().map(|s| s.width()).max().map(|w| rational_string(&w)),
                "box_max_width_f64": d.boxes.iter().map(|s| s.width()).max().map(|w| crate::scalar::Scalar::to_f64(&w)),
            });
            match &d.revival {
                Revival::DeadForever => {}
                Revival::MayRevive {
                    witness,
                    point,
                    neuron,
                    value,
                } => {
                    v["witness"] = json!({
                        "theta": witness[..d.boxes.len()].iter().map(rational_string).collect::<Vec<_>>(),
                        "data_point": point,
                        "neuron": neuron,
                        "preactivation": rational_string(value),
                    });
                }
                Revival::Undecided { reason } => v["reason"] = json!(reason.to_string()),
            }
            v
        })
        .collect();
    let mut layers = layers;
    for (v, b) in layers.iter_mut().zip(&on_box) {
        let on_data = v.clone();
        let Some((revival, nodes)) = b else {
            v["on_data"] = on_data;
            continue;
        };
        let mut w = json!({"layer": v["layer"], "verdict": revival.name(), "nodes": nodes, "box_max_width": on_data["box_max_width"], "box_max_width_f64": on_data["box_max_width_f64"]});
        match revival {
            BoxRevival::DeadForever { .. } => {}
            BoxRevival::MayRevive {
                witness,
                input,
                neuron,
                value,
            } => {
                let end = report
                    .decisions
                    .iter()
                    .find(|d| json!(d.layer) == v["layer"])
                    .map_or(0, |d| d.boxes.len());
                w["witness"] = json!({
                    "theta": witness[..end].iter().map(rational_string).collect::<Vec<_>>(),
                    "input": input.iter().map(rational_string).collect::<Vec<_>>(),
                    "neuron": neuron,
                    "preactivation": rational_string(value),
                });
            }
            BoxRevival::Undecided { reason } => w["reason"] = json!(reason),
        }
        w["on_data"] = on_data;
        *v = w;
    }
    // the layer certified: on the data, or with --domain on the whole box
    let certified = if args.domain.is_some() {
        report
            .decisions
            .iter()
            .zip(&on_box)
            .rev()
            .find_map(|(d, b)| match b {
                Some((BoxRevival::DeadForever { tree }, _)) => Some((d, Some(tree))),
                _ => None,
            })
    } else {
        report.certified().map(|d| (d, None))
    };
    let verdict = if report.dead_layers.is_empty() {
        "mechanism-not-applicable"
    } else if certified.is_some() {
        "dead-forever-certified"
    } else if layers.iter().all(|l| l["verdict"] == "may-revive") {
        "may-revive"
    } else {
        "undecided"
    };
    let mut certificate_path = Value::Null;
    if let (Some(path), Some((decision, tree))) = (&args.certificate, certified) {
        let mut cert = certificate_groups(
            &setup.net,
            &setup.data,
            kind.name(),
            &configs,
            &state,
            decision,
        );
        if let (Some(d), Some(tree)) = (&args.domain, tree) {
            cert["domain"] = json!({"lo": rational_string(&d.lo), "hi": rational_string(&d.hi), "split": tree.to_json()});
            if let Some(obj) = cert.as_object_mut() {
                obj.remove("digest");
            }
            cert["digest"] = Value::String(crate::audit::certificate::digest_of(&cert));
        }
        let text = serde_json::to_string_pretty(&cert).expect("JSON values serialize");
        if let Err(e) = crate::audit::check_checkpoint_certificate(&text) {
            return Err(CliError::Internal {
                what: "the certificate fails its own check and is not written",
                source: e.into(),
            });
        }
        std::fs::write(path, text + "\n").map_err(|e| CliError::Output {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        certificate_path = json!(path.display().to_string());
    }
    let note = match (&args.certificate, certified) {
        (Some(path), None) => Some(format!(
            "no certificate written to {}: no hidden layer is certified dead forever",
            path.display()
        )),
        _ => None,
    };
    Ok(json!({
        "mode": "checkpoint",
        "arch": setup.net.arch().widths(),
        "optimizer": kind.name(),
        "hyperparameters": resolved.to_json(),
        "param_groups": groups.iter().map(|g| g.config.to_json()).collect::<Vec<_>>(),
        "steps_taken": state.step.iter().max(),
        "verdict": verdict,
        "dead_layers": report.dead_layers,
        "certified_layer": certified.map(|(d, _)| d.layer),
        "domain": args.domain.as_ref().map(|d| d.text.clone()),
        "layers": layers,
        "certificate": certificate_path,
        "certificate_note": note,
    }))
}

/// The state document of `--optimizer-state`: JSON, or safetensors (the `.safetensors`
/// extension, or a file that does not start with `{`), converted to the JSON layout.
fn read_state_document(path: &std::path::Path) -> Result<Value, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::input(
            &format!("--optimizer-state: cannot read {}", path.display()),
            e,
        )
    })?;
    let json_like = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors") || !json_like;
    let flag = format!("--optimizer-state {}", path.display());
    if is_safetensors {
        return safetensors_state_document(path).map_err(|e| CliError::input(&flag, e));
    }
    let text = String::from_utf8(bytes).map_err(|e| CliError::input(&flag, e))?;
    crate::io::strict_json::parse(&text).map_err(|e| CliError::input(&flag, e))
}

/// Runs the checkpoint audit and prints it.
///
/// # Errors
/// [`CliError`] as [`checkpoint_json`].
pub fn run(args: &AuditArgs, state_path: &std::path::Path) -> Result<(), CliError> {
    let v = checkpoint_json(args, state_path)?;
    if args.common.json {
        print_json(&v);
        return Ok(());
    }
    println!("verdict: {}", v["verdict"].as_str().unwrap_or(""));
    if let Some(d) = v["domain"].as_str() {
        println!(
            "decided on the whole input box {d} (every input, every parameter of the reachable box)"
        );
    }
    println!(
        "dead layers on the data at the checkpoint (exact): {}; optimizer {} after {} steps",
        v["dead_layers"], v["optimizer"], v["steps_taken"]
    );
    for l in v["layers"].as_array().into_iter().flatten() {
        print!(
            "  layer {}: {} (widest reachable interval {})",
            l["layer"],
            l["verdict"].as_str().unwrap_or(""),
            l["box_max_width_f64"]
        );
        if let Some(w) = l.get("witness")
            && let Some(input) = w.get("input")
        {
            print!(
                "; alive at input {input} neuron {} (pre-activation {}) for a parameter in the box",
                w["neuron"],
                super::format::readable(&w["preactivation"], false)
            );
        } else if let Some(w) = l.get("witness") {
            print!(
                "; alive at data point {} neuron {} (pre-activation {}) for a parameter in the box",
                w["data_point"],
                w["neuron"],
                super::format::readable(&w["preactivation"], false)
            );
        }
        if let Some(r) = l["reason"].as_str() {
            print!("; {r}");
        }
        println!();
    }
    if let Some(path) = v["certificate"].as_str() {
        println!("certificate written to {path}; re-verify with `deadrelu check {path}`");
    }
    if let Some(note) = v["certificate_note"].as_str() {
        println!("{note}");
    }
    Ok(())
}

/// `check` of a `dead-forever` certificate: `None` when `text` is another certificate.
pub fn check_dead_forever(
    text: &str,
    json_out: bool,
) -> Option<Result<(), crate::audit::CheckError>> {
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("claim").and_then(Value::as_str) != Some("dead-forever") {
        return None;
    }
    let result = crate::audit::check_checkpoint_certificate(text);
    if json_out {
        print_json(&match &result {
            Ok(c) => json!({"valid": true, "summary": c.summary()}),
            Err(e) => {
                json!({"valid": false, "error": e.to_string(), "claim": e.claim().map(|c| c.name())})
            }
        });
    } else if let Ok(c) = &result {
        println!("{}", c.summary());
    }
    Some(result.map(|_| ()))
}
