//! The JSON of one configuration from its counts, shared by `estimate` and `merge` so a
//! merge prints exactly what one run prints.

use super::options::EstimateArgs;
use crate::cli::CliError;
use crate::cli::format::to_f64;
use crate::net::Arch;
use crate::net::init::{BiasInit, InitScheme};
use crate::scalar::{BigRational, rational_string};
use crate::stats::bound::bounds;
use crate::stats::montecarlo::Counts;
use crate::stats::wilson;
use serde_json::{Value, json};

/// The widths `l_0..l_L` of a result's `arch` field.
pub(super) fn arch_widths(r: &Value) -> Vec<usize> {
    r["arch"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64().map(|u| u as usize))
                .collect()
        })
        .unwrap_or_default()
}

/// The widths joined by `sep`.
pub(super) fn arch_label(r: &Value, sep: &str) -> String {
    arch_widths(r)
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The JSON of one configuration from its counts (shared by `estimate` and `merge`, so a
/// merge gives exactly the output of one run).
pub(super) fn result_json(
    arch: &Arch,
    init: &str,
    bias_init: &str,
    counts: &Counts,
    (a, b): &(BigRational, BigRational),
    on_box: bool,
    training: Option<&str>,
) -> Result<Value, CliError> {
    let scheme: InitScheme = init.parse().map_err(CliError::library)?;
    let bias: BiasInit = bias_init.parse().map_err(CliError::library)?;
    let bd = bounds(arch, &scheme, &bias, a, b);
    let n = counts.trials;
    let p_dead = counts.dead_layer as f64 / n.max(1) as f64;
    let p_first = counts.first_layer_inactive as f64 / n.max(1) as f64;
    let ci_dead = wilson(counts.dead_layer, n);
    let ci_first = wilson(counts.first_layer_inactive, n);
    let mut warnings = Vec::new();
    if counts.overflowed > 0 {
        warnings.push(format!(
            "{} of {n} trials overflowed f64 (a pre-activation not finite) and were not decided: \
             the probabilities are lower estimates; use smaller scales, or --domain for exact decisions",
            counts.overflowed
        ));
    }
    if counts.near_ties > 0 {
        warnings.push(format!(
            "{} of {n} trials have a near tie (a hidden sign the rigorous f64 rounding bound \
             does not settle) and were not decided: p_dead_layer lies in [p, p + p_near_ties]",
            counts.near_ties
        ));
    }
    // Overflowed trials are counted as not dead: the intervals are then only lower
    // estimates and say nothing against the bounds.
    if counts.overflowed + counts.near_ties == 0 && ci_dead[1] < to_f64(&bd.dead_layer) {
        warnings.push(format!(
            "p_dead_layer's interval lies below the bound {}: a bug",
            to_f64(&bd.dead_layer)
        ));
    }
    if let Some(bf) = &bd.first_layer_neuron
        && counts.overflowed + counts.near_ties == 0
        && ci_first[1] < to_f64(bf)
    {
        warnings.push(format!(
            "p_dead_first_layer_neuron's interval lies below the bound {}: a bug",
            to_f64(bf)
        ));
    }
    // on the box itself the first-layer count estimates 1 - (1-p)^{l_1} exactly, so its
    // interval must meet the enclosure from above too
    if let Some(bh) = &bd.first_layer_neuron_hi
        && on_box
        && ci_first[0] > to_f64(bh)
    {
        warnings.push(format!(
            "p_dead_first_layer_neuron's interval lies above the certified enclosure's upper end {}",
            to_f64(bh)
        ));
    }
    // on a box without --per-neuron only the first layer is counted neuron by neuron (the
    // others are null); with it, a layer's mean is over the trials where its count was
    // determined within the budget
    let mean_inactive: Vec<Option<f64>> = arch
        .hidden_layers()
        .map(|k| {
            counts.inactive_hist.get(k - 1).and_then(|h| {
                // null too when no trial settled the layer's count
                let decided: u64 = h.iter().sum();
                (decided > 0).then(|| {
                    h.iter()
                        .enumerate()
                        .map(|(c, k)| c as f64 * *k as f64)
                        .sum::<f64>()
                        / decided as f64
                })
            })
        })
        .collect();
    let mut v = json!({
        "arch": arch.widths(),
        "init": init,
        "bias_init": bias_init,
        "trials": n,
        "overflowed": counts.overflowed,
        "near_ties": counts.near_ties,
        "p_near_ties": counts.near_ties as f64 / n.max(1) as f64,
        "p_dead_layer": p_dead,
        "ci95": ci_dead,
        "bound_dead_layer": to_f64(&bd.dead_layer),
        "p_dead_first_layer_neuron": p_first,
        "p_dead_first_layer_neuron_ci95": ci_first,
        "bound_dead_first_layer_neuron": bd.first_layer_neuron.as_ref().map(to_f64),
        "p_neuron_inactive_on_box": bd.p.as_ref().map(rational_string),
        "p_neuron_inactive_on_box_enclosure": bd.p_enclosure.map(|(lo, hi)| [lo, hi]),
        "data_box": (!on_box).then(|| [rational_string(a), rational_string(b)]),
        "box": on_box.then(|| [rational_string(a), rational_string(b)]),
        "mean_inactive_per_layer": mean_inactive,
        "counts": counts,
        "warnings": warnings,
    });
    if let Some(u) = counts.undecided {
        // the probability lies in [p_dead_layer, p_dead_layer + p_undecided]
        v["p_undecided"] = json!(u as f64 / n.max(1) as f64);
        if u > 0 {
            warnings.push(format!(
                "{u} trials undecided within --box-budget: p_dead_layer is then a lower estimate"
            ));
            v["warnings"] = json!(warnings);
        }
    }
    if !counts.inactive_undecided.is_empty() {
        // per hidden layer, the trials left out of that layer's mean and histogram
        v["p_inactive_undecided_per_layer"] = json!(
            counts
                .inactive_undecided
                .iter()
                .map(|&u| u as f64 / n.max(1) as f64)
                .collect::<Vec<_>>()
        );
    }
    if let (Some(t), Some(name)) = (&counts.training, training) {
        let frac = |k: u64| k as f64 / n.max(1) as f64;
        v["training"] = json!({
            "optimizer": name,
            "dead_at_init": frac(t.dead_at_init),
            "became_constant": frac(t.became_constant),
            "above_best_constant": frac(t.above_best_constant),
            "below_best_constant": frac(t.below_best_constant),
            "diverged": frac(t.diverged),
        });
    }
    Ok(v)
}

/// What a training sweep was run with (null without `--train`): shards merge only when
/// these are equal.
pub(super) fn training_settings(args: &EstimateArgs) -> Value {
    if !args.train {
        return Value::Null;
    }
    json!({
        "optimizer": args.optimizer.text,
        "steps": args.steps,
        "batch": args.batch,
        "hyperparameters": format!("{:?}", args.optim),
    })
}
