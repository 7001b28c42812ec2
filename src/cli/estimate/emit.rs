//! Where the results of `estimate` and `merge` go: JSON, the text report, the tidy CSV
//! (`table`) and the figures (`cli::plot`).

use super::options::ReportArgs;
use super::result::{arch_label, arch_widths};
use crate::cli::CliError;
use crate::cli::format::{interval, print_json, probability};
use serde_json::Value;

pub(super) fn emit(out: &Value, report: &ReportArgs) -> Result<(), CliError> {
    let results = out["results"].as_array().cloned().unwrap_or_default();
    if let Some(path) = &report.csv {
        super::table::write_csv(path, out)?;
    }
    if let Some(path) = &report.plot {
        let written =
            crate::cli::plot::write_plots(path, out).map_err(|reason| CliError::Output {
                path: path.display().to_string(),
                source: reason.into(),
            })?;
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        crate::cli::note(&format!("figures written: {}", names.join(", ")));
        if !results.iter().any(|r| r["training"].is_object()) {
            crate::cli::note("no training figure: the run has no training outcomes (--train)");
        }
        if names.len() < 2 + usize::from(results.iter().any(|r| r["training"].is_object())) {
            crate::cli::note(
                "no figure of inactive neurons per layer: no layer's count was settled (on a box only with --per-neuron)",
            );
        }
    }
    if report.json {
        print_json(out);
        return Ok(());
    }
    let on = match out["domain"].as_str() {
        Some(_) => "on the box",
        None => "on the data",
    };
    for r in &results {
        print_result(r, on);
    }
    Ok(())
}

/// The readable lines of one configuration.
fn print_result(r: &Value, on: &str) {
    let f = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    let bound = |key: &str| {
        r[key]
            .as_f64()
            .map(|b| format!("   (proven lower bound {})", probability(b)))
            .unwrap_or_default()
    };
    println!(
        "{}  {}{}  {} trials",
        arch_label(r, ","),
        r["init"].as_str().unwrap_or(""),
        match r["bias_init"].as_str() {
            Some("default") | None => String::new(),
            Some(b) => format!(" (biases {b})"),
        },
        r["trials"]
    );
    let dead_label = format!("P(some hidden layer dead {on})");
    let first_label = "P(some first-layer neuron inactive)";
    let w = dead_label.len().max(first_label.len());
    println!(
        "    {dead_label:<w$}  {:<24}{}",
        interval(
            f("p_dead_layer"),
            r["ci95"][0].as_f64().unwrap_or(f64::NAN),
            r["ci95"][1].as_f64().unwrap_or(f64::NAN)
        ),
        bound("bound_dead_layer")
    );
    println!(
        "    {first_label:<w$}  {:<24}{}",
        interval(
            f("p_dead_first_layer_neuron"),
            r["p_dead_first_layer_neuron_ci95"][0]
                .as_f64()
                .unwrap_or(f64::NAN),
            r["p_dead_first_layer_neuron_ci95"][1]
                .as_f64()
                .unwrap_or(f64::NAN)
        ),
        bound("bound_dead_first_layer_neuron")
    );
    let box_text = r["box"]
        .as_array()
        .or_else(|| r["data_box"].as_array())
        .map(|b| {
            format!(
                "[{}, {}]^{}",
                b[0].as_str().unwrap_or(""),
                b[1].as_str().unwrap_or(""),
                arch_widths(r).first().copied().unwrap_or(0)
            )
        })
        .unwrap_or_default();
    if let Some(p) = r["p_neuron_inactive_on_box"].as_str() {
        let value = crate::scalar::parse_rational(p)
            .map(|q| crate::cli::format::exact_probability(&q))
            .unwrap_or_else(|_| p.to_string());
        println!("    one first-layer neuron inactive on {box_text}: p = {value}");
    } else if let Some([lo, hi]) = r["p_neuron_inactive_on_box_enclosure"]
        .as_array()
        .map(|e| [e[0].as_f64(), e[1].as_f64()])
    {
        let g = |x: Option<f64>| match x {
            Some(x) if x == 0.0 || x >= 1e-4 => format!("{x:.10}"),
            Some(x) => format!("{x:.6e}"),
            None => "?".into(),
        };
        println!(
            "    one first-layer neuron inactive on {box_text}: p in [{}, {}] (certified)",
            g(lo),
            g(hi)
        );
    }
    if r["box"].is_array() {
        println!(
            "    decided exactly on the whole box; undecided within --box-budget: {}",
            probability(r["p_undecided"].as_f64().unwrap_or(0.0))
        );
    }
    if let Some(means) = r["mean_inactive_per_layer"].as_array() {
        let undecided = r["p_inactive_undecided_per_layer"].as_array();
        let cells: Vec<String> = means
            .iter()
            .enumerate()
            .map(
                |(k, m)| match (m.as_f64(), undecided.and_then(|u| u[k].as_f64())) {
                    (Some(m), Some(u)) if u > 0.0 => {
                        format!("{m:.3} ({} undecided)", probability(u))
                    }
                    (Some(m), _) => format!("{m:.3}"),
                    (None, Some(u)) if u > 0.0 => format!("- ({} undecided)", probability(u)),
                    (None, _) => "-".into(),
                },
            )
            .collect();
        println!(
            "    mean inactive neurons per hidden layer: {}",
            cells.join(", ")
        );
        if means.iter().skip(1).any(Value::is_null) && r["box"].is_array() {
            println!("    (deeper layers on the box are counted only with --per-neuron)");
        }
    }
    if let Some(t) = r.get("training").filter(|t| t.is_object()) {
        let p = |key: &str| probability(t[key].as_f64().unwrap_or(0.0));
        println!(
            "    {} training: dead at init {}, became constant {}, stayed >= V {}, went below V {}, diverged {}",
            t["optimizer"].as_str().unwrap_or(""),
            p("dead_at_init"),
            p("became_constant"),
            p("above_best_constant"),
            p("below_best_constant"),
            p("diverged")
        );
    }
}
