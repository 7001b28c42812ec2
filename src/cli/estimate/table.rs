//! The tidy CSV of `estimate --csv` and `merge --csv`: one row per configuration (and
//! optimizer, with `--train`), one column per variable, numbers as numbers, so that
//! pandas, R or a spreadsheet reads it without parsing strings.

use super::result::{arch_label, arch_widths};
use crate::cli::CliError;
use serde_json::Value;
use std::path::Path;

/// The outcome classes of a trained trial: column suffix and JSON key.
const OUTCOMES: [(&str, &str); 5] = [
    ("dead_at_init", "dead_at_init"),
    ("became_constant", "became_constant"),
    ("stayed_at_or_above_v", "above_best_constant"),
    ("went_below_v", "below_best_constant"),
    ("diverged", "diverged"),
];

/// A JSON leaf as a CSV cell: numbers as written by serde_json (shortest round-trip),
/// strings without quotes, null as empty.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The rows (header first) of the tidy table of `out` (an `estimate` or `merge` JSON).
pub(super) fn rows(out: &Value) -> Vec<Vec<String>> {
    let results = out["results"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let layers = results
        .iter()
        .map(|r| arch_widths(r).len().saturating_sub(2))
        .max()
        .unwrap_or(0);
    let training = results.iter().any(|r| r["training"].is_object());
    let mut header: Vec<String> = [
        "arch",
        "inputs",
        "width",
        "depth",
        "init",
        "bias_init",
        "trials",
        "seed",
        "decided_on",
        "p_dead_layer",
        "p_dead_layer_lo",
        "p_dead_layer_hi",
        "bound_dead_layer",
        "p_dead_first_layer_neuron",
        "p_dead_first_layer_neuron_lo",
        "p_dead_first_layer_neuron_hi",
        "bound_dead_first_layer_neuron",
        "p_neuron_inactive_on_box",
        "p_neuron_inactive_on_box_lo",
        "p_neuron_inactive_on_box_hi",
        "p_undecided",
        "overflowed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend((1..=layers).map(|k| format!("mean_inactive_layer_{k}")));
    if training {
        header.extend(["optimizer", "steps", "batch"].map(String::from));
        header.extend(OUTCOMES.iter().map(|(name, _)| format!("train_{name}")));
    }
    let decided_on = match out["domain"].as_str() {
        Some(d) => d.to_string(),
        None => format!("data {}", out["data"].as_str().unwrap_or("")),
    };
    let mut rows = vec![header];
    for r in results {
        let widths = arch_widths(r);
        let exact_p = r["p_neuron_inactive_on_box"]
            .as_str()
            .and_then(|p| crate::scalar::parse_rational(p).ok())
            .map(|q| crate::cli::format::to_f64(&q));
        let enclosure = &r["p_neuron_inactive_on_box_enclosure"];
        let mut row = vec![
            arch_label(r, "-"),
            widths.first().map(|w| w.to_string()).unwrap_or_default(),
            widths.get(1).map(|w| w.to_string()).unwrap_or_default(),
            widths.len().saturating_sub(1).to_string(),
            cell(&r["init"]),
            cell(&r["bias_init"]),
            cell(&r["trials"]),
            cell(&out["seed"]),
            decided_on.clone(),
            cell(&r["p_dead_layer"]),
            cell(&r["ci95"][0]),
            cell(&r["ci95"][1]),
            cell(&r["bound_dead_layer"]),
            cell(&r["p_dead_first_layer_neuron"]),
            cell(&r["p_dead_first_layer_neuron_ci95"][0]),
            cell(&r["p_dead_first_layer_neuron_ci95"][1]),
            cell(&r["bound_dead_first_layer_neuron"]),
            exact_p.map(|p| p.to_string()).unwrap_or_default(),
            cell(&enclosure[0]),
            cell(&enclosure[1]),
            cell(&r["p_undecided"]),
            cell(&r["overflowed"]),
        ];
        let means = r["mean_inactive_per_layer"].as_array();
        row.extend((0..layers).map(|k| means.and_then(|m| m.get(k)).map(cell).unwrap_or_default()));
        if training {
            let t = &r["training"];
            row.push(cell(&t["optimizer"]));
            row.push(cell(&out["training"]["steps"]));
            row.push(cell(&out["training"]["batch"]));
            row.extend(OUTCOMES.iter().map(|(_, key)| cell(&t[*key])));
        }
        rows.push(row);
    }
    rows
}

/// Writes the tidy table of `out` to `path`.
///
/// # Errors
/// [`CliError::Output`] when the file cannot be written.
pub(super) fn write_csv(path: &Path, out: &Value) -> Result<(), CliError> {
    let failed = |e: csv::Error| CliError::Output {
        path: path.display().to_string(),
        source: e.into(),
    };
    let mut w = csv::Writer::from_path(path).map_err(failed)?;
    for row in rows(out) {
        w.write_record(&row).map_err(failed)?;
    }
    w.flush().map_err(|e| failed(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_tidy_row_per_configuration_and_optimizer() {
        let result = |arch: Vec<usize>, opt: &str| {
            json!({
                "arch": arch, "init": "torch-default", "bias_init": "default", "trials": 100,
                "p_dead_layer": 0.25, "ci95": [0.2, 0.3], "bound_dead_layer": 0.1,
                "p_dead_first_layer_neuron": 0.5, "p_dead_first_layer_neuron_ci95": [0.4, 0.6],
                "bound_dead_first_layer_neuron": 0.4375, "p_neuron_inactive_on_box": "1/4",
                "p_neuron_inactive_on_box_enclosure": [0.25, 0.25], "overflowed": 0,
                "mean_inactive_per_layer": vec![0.5; arch.len() - 2],
                "training": {"optimizer": opt, "dead_at_init": 0.25, "became_constant": 0.0,
                             "above_best_constant": 0.5, "below_best_constant": 0.25,
                             "diverged": 0.0},
            })
        };
        let out = json!({
            "seed": 7, "data": "grid:-1,1:64", "domain": null,
            "training": {"steps": 10, "batch": null},
            "results": [result(vec![1, 2, 1], "sgd"), result(vec![1, 2, 2, 1], "adam")],
        });
        let rows = rows(&out);
        assert_eq!(rows.len(), 3);
        let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
        assert_eq!(rows[1][col("arch")], "1-2-1");
        assert_eq!(rows[2][col("width")], "2");
        assert_eq!(rows[2][col("depth")], "3");
        assert_eq!(rows[1][col("seed")], "7");
        assert_eq!(rows[1][col("decided_on")], "data grid:-1,1:64");
        assert_eq!(rows[1][col("p_dead_layer_lo")], "0.2");
        assert_eq!(rows[1][col("p_neuron_inactive_on_box")], "0.25");
        // a layer the configuration does not have is an empty cell
        assert_eq!(rows[1][col("mean_inactive_layer_2")], "");
        assert_eq!(rows[2][col("mean_inactive_layer_2")], "0.5");
        assert_eq!(rows[2][col("optimizer")], "adam");
        assert_eq!(rows[2][col("train_went_below_v")], "0.25");
        assert_eq!(rows[1][col("batch")], "");
        assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    }
}
