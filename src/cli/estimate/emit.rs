//! Where the results of `estimate` and `merge` go: JSON, text table, CSV, SVG plot.

use super::options::ReportArgs;
use super::result::{arch_label, arch_widths};
use crate::cli::CliError;
use crate::cli::format::print_json;
use crate::cli::plot::{Curve, plot_curves};
use serde_json::Value;

pub(super) fn emit(out: &Value, report: &ReportArgs) -> Result<(), CliError> {
    let (json_out, csv, plot) = (report.json, report.csv.as_ref(), report.plot.as_ref());
    let results = out["results"].as_array().cloned().unwrap_or_default();
    if let Some(path) = csv {
        let mut w = csv::Writer::from_path(path).map_err(|e| CliError::Output {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        let header = [
            "arch",
            "init",
            "trials",
            "p_dead_layer",
            "ci95_lo",
            "ci95_hi",
            "bound_dead_layer",
            "p_dead_first_layer_neuron",
            "first_ci95_lo",
            "first_ci95_hi",
            "bound_dead_first_layer_neuron",
        ];
        let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
        for r in &results {
            let arch = arch_label(r, "-");
            let s = |v: &Value| {
                if v.is_null() {
                    String::new()
                } else {
                    v.to_string().trim_matches('"').to_string()
                }
            };
            rows.push(vec![
                arch,
                s(&r["init"]),
                s(&r["trials"]),
                s(&r["p_dead_layer"]),
                s(&r["ci95"][0]),
                s(&r["ci95"][1]),
                s(&r["bound_dead_layer"]),
                s(&r["p_dead_first_layer_neuron"]),
                s(&r["p_dead_first_layer_neuron_ci95"][0]),
                s(&r["p_dead_first_layer_neuron_ci95"][1]),
                s(&r["bound_dead_first_layer_neuron"]),
            ]);
        }
        for row in rows {
            w.write_record(&row).map_err(|e| CliError::Output {
                path: path.display().to_string(),
                source: e.into(),
            })?;
        }
        w.flush().map_err(|e| CliError::Output {
            path: path.display().to_string(),
            source: e.into(),
        })?;
    }
    if let Some(path) = plot {
        let mut curves: Vec<Curve> = Vec::new();
        for r in &results {
            let widths = arch_widths(r);
            let depth = widths.len().saturating_sub(1) as f64;
            let label = format!(
                "width {} {}",
                widths.get(1).copied().unwrap_or(0),
                r["init"].as_str().unwrap_or("")
            );
            let point = (
                depth,
                r["p_dead_layer"].as_f64().unwrap_or(0.0),
                r["ci95"][0].as_f64().unwrap_or(0.0),
                r["ci95"][1].as_f64().unwrap_or(1.0),
                r["bound_dead_layer"].as_f64(),
            );
            match curves.iter_mut().find(|c| c.label == label) {
                Some(c) => c.points.push(point),
                None => curves.push(Curve {
                    label,
                    points: vec![point],
                }),
            }
        }
        plot_curves(
            path,
            "P(some hidden layer dead on the data)",
            "depth L",
            &curves,
        )
        .map_err(|reason| CliError::Output {
            path: path.display().to_string(),
            source: reason.into(),
        })?;
    }
    if json_out {
        print_json(out);
        return Ok(());
    }
    for r in &results {
        let arch = arch_label(r, ",");
        println!(
            "{arch:<24} {:<14} trials {:>9}  P(dead layer) {:.4} [{:.4}, {:.4}] (bound {:.4})  P(first-layer neuron inactive) {:.4} [{:.4}, {:.4}]{}",
            r["init"].as_str().unwrap_or(""),
            r["trials"],
            r["p_dead_layer"].as_f64().unwrap_or(f64::NAN),
            r["ci95"][0].as_f64().unwrap_or(f64::NAN),
            r["ci95"][1].as_f64().unwrap_or(f64::NAN),
            r["bound_dead_layer"].as_f64().unwrap_or(f64::NAN),
            r["p_dead_first_layer_neuron"].as_f64().unwrap_or(f64::NAN),
            r["p_dead_first_layer_neuron_ci95"][0]
                .as_f64()
                .unwrap_or(f64::NAN),
            r["p_dead_first_layer_neuron_ci95"][1]
                .as_f64()
                .unwrap_or(f64::NAN),
            r["bound_dead_first_layer_neuron"]
                .as_f64()
                .map(|b| format!(" (bound {b:.4})"))
                .unwrap_or_default(),
        );
        if let Some(p) = r["p_neuron_inactive_on_box"].as_str() {
            println!("    one first-layer neuron inactive on the box: p = {p} (exact)");
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
                "    one first-layer neuron inactive on the box: p in [{}, {}] (certified)",
                g(lo),
                g(hi)
            );
        }
        if let Some(b) = r["box"].as_array() {
            println!(
                "    decided exactly on the whole box [{}, {}]^{}; undecided within the budget: {:.4}",
                b[0].as_str().unwrap_or(""),
                b[1].as_str().unwrap_or(""),
                arch_widths(r).first().copied().unwrap_or(0),
                r["p_undecided"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(means) = r["mean_inactive_per_layer"].as_array() {
            let undecided = r["p_inactive_undecided_per_layer"].as_array();
            let cells: Vec<String> = means
                .iter()
                .enumerate()
                .map(
                    |(k, m)| match (m.as_f64(), undecided.and_then(|u| u[k].as_f64())) {
                        (Some(m), Some(u)) if u > 0.0 => format!("{m:.3} ({u:.4} undecided)"),
                        (Some(m), _) => format!("{m:.3}"),
                        (None, Some(u)) if u > 0.0 => format!("- ({u:.4} undecided)"),
                        (None, _) => "-".into(),
                    },
                )
                .collect();
            println!(
                "    mean inactive neurons per hidden layer: {}",
                cells.join(", ")
            );
        }
        if let Some(t) = r.get("training") {
            println!(
                "    {} training: dead at init {:.4}, became constant {:.4}, stayed >= V {:.4}, went below V {:.4}, diverged {:.4}",
                t["optimizer"].as_str().unwrap_or(""),
                t["dead_at_init"].as_f64().unwrap_or(0.0),
                t["became_constant"].as_f64().unwrap_or(0.0),
                t["above_best_constant"].as_f64().unwrap_or(0.0),
                t["below_best_constant"].as_f64().unwrap_or(0.0),
                t["diverged"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(())
}
