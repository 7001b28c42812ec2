//! `deadrelu merge`: sums the counts of all shards, after checking each one.

use super::emit::emit;
use super::options::{ReportArgs, shard_range};
use super::result::{arch_widths, result_json};
use super::run::data_box;
use crate::cli::CliError;
use crate::cli::args::parse_domain;
use crate::data::{DataSpec, Target};
use crate::net::Arch;
use crate::stats::montecarlo::Counts;
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Why a shard's counts cannot be those of its trials.
#[derive(Debug, thiserror::Error)]
pub(super) enum CountsError {
    #[error("{counted} trials, but its shard has {trials}")]
    Trials { counted: u64, trials: u64 },
    #[error("{what} = {value} exceeds the {trials} trials")]
    ExceedsTrials {
        what: &'static str,
        value: u64,
        trials: u64,
    },
    #[error("{histograms} histograms for {hidden} hidden layers")]
    Histograms { histograms: usize, hidden: usize },
    #[error("inactive_undecided does not have one entry per hidden layer")]
    Undecided,
    #[error("layer {layer}'s histogram has {bins} bins")]
    Bins { layer: usize, bins: usize },
    #[error("layer {layer}'s histogram sums to {sum}, not {trials}")]
    HistogramSum {
        layer: usize,
        sum: u128,
        trials: u64,
    },
    #[error("training outcomes sum to {sum}, not {trials}")]
    TrainingSum { sum: u128, trials: u64 },
    #[error("training counts present without --train, or missing with it")]
    TrainingPresence,
}

/// Checks that a shard's counts are those of `trials` trials of `arch`: every count at most
/// the trials, each layer's histogram summing to the trials, training outcomes summing to
/// the trials. A hand-edited or truncated shard is refused instead of merged.
pub(super) fn validate_counts(
    c: &Counts,
    arch: &Arch,
    trials: u64,
    training: bool,
) -> Result<(), CountsError> {
    if c.trials != trials {
        return Err(CountsError::Trials {
            counted: c.trials,
            trials,
        });
    }
    let at_most = |what: &'static str, value: u64| {
        if value > trials {
            Err(CountsError::ExceedsTrials {
                what,
                value,
                trials,
            })
        } else {
            Ok(())
        }
    };
    at_most("dead_layer", c.dead_layer)?;
    at_most("first_layer_inactive", c.first_layer_inactive)?;
    at_most("undecided", c.undecided.unwrap_or(0))?;
    at_most("overflowed", c.overflowed)?;
    at_most("near_ties", c.near_ties)?;
    let hidden: Vec<usize> = arch.hidden_layers().collect();
    // On a box without --per-neuron only the first layer has a histogram.
    if c.inactive_hist.is_empty() || c.inactive_hist.len() > hidden.len() {
        return Err(CountsError::Histograms {
            histograms: c.inactive_hist.len(),
            hidden: hidden.len(),
        });
    }
    if !(c.inactive_undecided.is_empty() || c.inactive_undecided.len() == hidden.len()) {
        return Err(CountsError::Undecided);
    }
    for (idx, (hist, &k)) in c.inactive_hist.iter().zip(&hidden).enumerate() {
        if hist.len() != arch.width(k) + 1 {
            return Err(CountsError::Bins {
                layer: k,
                bins: hist.len(),
            });
        }
        let undecided = c.inactive_undecided.get(idx).copied().unwrap_or(0);
        let sum: u128 = hist.iter().map(|&v| u128::from(v)).sum::<u128>()
            + u128::from(undecided)
            + u128::from(c.overflowed)
            + u128::from(c.near_ties);
        if sum != u128::from(trials) {
            return Err(CountsError::HistogramSum {
                layer: k,
                sum,
                trials,
            });
        }
    }
    match (&c.training, training) {
        (None, false) => {}
        (Some(t), true) => {
            let sum: u128 = [
                t.dead_at_init,
                t.became_constant,
                t.above_best_constant,
                t.below_best_constant,
                t.diverged,
            ]
            .iter()
            .map(|&v| u128::from(v))
            .sum::<u128>()
                + u128::from(c.overflowed)
                + u128::from(c.near_ties);
            if sum != u128::from(trials) {
                return Err(CountsError::TrainingSum { sum, trials });
            }
        }
        _ => return Err(CountsError::TrainingPresence),
    }
    Ok(())
}

/// Options of `merge`.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// JSON outputs of `estimate --shard I/N --json`, all shards of one run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs `merge`: sums the counts of all shards and prints exactly what one unsharded run
/// would have printed.
///
/// # Errors
/// [`CliError::Input`] for unreadable files, shards of different runs, or missing or
/// repeated shards.
pub fn run_merge(args: &MergeArgs) -> Result<(), CliError> {
    let mut docs = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::input(&format!("cannot read {}", path.display()), e))?;
        let v: Value = crate::io::strict_json::parse(&text)
            .map_err(|e| CliError::input(&format!("{}: not JSON", path.display()), e))?;
        if v["command"] != "estimate" {
            return Err(CliError::Input(format!(
                "{}: not the JSON of `deadrelu estimate --json`",
                path.display()
            )));
        }
        docs.push((path.clone(), v));
    }
    let first = docs[0].1.clone();
    let n = first["shard"][1].as_u64().unwrap_or(0);
    // Every shard exactly once: N must be the number of files (checked before sizing).
    if n != docs.len() as u64 {
        return Err(CliError::Input(format!(
            "{}: a run of {n} shards, but {} files were given (a shard is missing or extra)",
            docs[0].0.display(),
            docs.len()
        )));
    }
    let trials = first["trials"].as_u64().ok_or_else(|| {
        CliError::Input(format!("{}: trials is not a count", docs[0].0.display()))
    })?;
    let mut seen = vec![false; docs.len()];
    for (path, v) in &docs {
        for key in [
            "seed",
            "data",
            "domain",
            "box_budget",
            "per_neuron",
            "data_seed",
            "target",
            "trials",
            "training",
        ] {
            if v[key] != first[key] {
                return Err(CliError::Input(format!(
                    "{}: {key} differs from {}",
                    path.display(),
                    docs[0].0.display()
                )));
            }
        }
        let (i, ni) = (
            v["shard"][0].as_u64().unwrap_or(u64::MAX),
            v["shard"][1].as_u64().unwrap_or(0),
        );
        if ni != n || i >= n || std::mem::replace(&mut seen[i as usize], true) {
            return Err(CliError::Input(format!(
                "{}: shard {i}/{ni} does not fit the others (of {n}) or repeats",
                path.display()
            )));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(CliError::Input(format!("shard {missing}/{n} is missing")));
    }
    let spec: DataSpec = first["data"]
        .as_str()
        .unwrap_or("")
        .parse()
        .map_err(|e| CliError::input("data", e))?;
    let target: Target = first["target"]
        .as_str()
        .unwrap_or("")
        .parse()
        .map_err(|e| CliError::input("target", e))?;
    let configs = first["results"].as_array().cloned().unwrap_or_default();
    let mut results = Vec::new();
    for (idx, r) in configs.iter().enumerate() {
        let widths = arch_widths(r);
        let arch = Arch::new(widths).map_err(|e| CliError::input("arch", e))?;
        let mut total: Option<Counts> = None;
        for (path, v) in &docs {
            if v["results"].as_array().map(Vec::len) != Some(configs.len()) {
                return Err(CliError::Input(format!(
                    "{}: a different number of configurations",
                    path.display()
                )));
            }
            let rr = &v["results"][idx];
            if rr["arch"] != r["arch"]
                || rr["init"] != r["init"]
                || rr["bias_init"] != r["bias_init"]
            {
                return Err(CliError::Input(format!(
                    "{}: configuration {idx} differs",
                    path.display()
                )));
            }
            let c: Counts = serde_json::from_value(rr["counts"].clone())
                .map_err(|e| CliError::input(&format!("{}: counts", path.display()), e))?;
            let (start, end) = shard_range(trials, v["shard"][0].as_u64().unwrap_or(0), n);
            validate_counts(&c, &arch, end - start, !first["training"].is_null()).map_err(|e| {
                CliError::input(
                    &format!("{}: configuration {idx}: counts", path.display()),
                    e,
                )
            })?;
            total = Some(match total {
                None => c,
                Some(t) => t.plus(&c),
            });
        }
        let total = total.expect("at least one file");
        let data_seed = first["data_seed"].as_u64().unwrap_or(0);
        let data_exact =
            crate::io::build_dataset(&spec, arch.inputs(), arch.outputs(), &target, data_seed)
                .map_err(|e| CliError::input("data", e))?;
        let training = r.get("training").and_then(|t| t["optimizer"].as_str());
        let domain = first["domain"].as_str().map(parse_domain).transpose()?;
        let region = domain.clone().unwrap_or_else(|| data_box(&data_exact));
        let mut v = result_json(
            &arch,
            r["init"].as_str().unwrap_or(""),
            r["bias_init"].as_str().unwrap_or("default"),
            &total,
            &region,
            domain.is_some(),
            training,
        )?;
        v["shard"] = json!([0, 1]);
        results.push(v);
    }
    let mut out = first.clone();
    out["shard"] = json!([0, 1]);
    out["results"] = Value::Array(results);
    emit(&out, &args.report)
}
