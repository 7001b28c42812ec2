//! `deadrelu estimate`, `deadrelu bound` and `deadrelu merge`.

use super::CliError;
use super::args::{DataArgs, OptimArgs, parse_domain};
use super::format::print_json;
use super::plot::{Curve, plot_curves};
use crate::data::{DataSpec, Dataset, Target};
use crate::net::Arch;
use crate::net::init::{BiasInit, InitSampler, InitScheme};
use crate::optim::OptimizerKind;
use crate::optim::train::TrainConfig;
use crate::scalar::{BigRational, rational_string};
use crate::stats::bound::{BiasTerm, bounds, exact_bias_term, p_inactive_uniform};
use crate::stats::montecarlo::{Counts, McJob, run};
use crate::stats::onbox::{BoxJob, run_box};
use crate::stats::wilson;
use clap::Args;
use num_traits::ToPrimitive;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Options of `estimate`.
#[derive(Args, Debug, Clone)]
pub struct EstimateArgs {
    /// Widths l_0..l_L; with --widths/--depths it gives l_0, l_L and the defaults.
    #[arg(long, value_delimiter = ',', default_value = "1,3,3,3,3,3,1")]
    pub arch: Vec<usize>,
    /// Initialization schemes, comma-separated (a sweep): torch-default,he-normal,rai,...
    #[arg(long, default_value = "torch-default")]
    pub init: String,
    /// Biases: zero, same, uniform:C, normal:S, const:V (default: the scheme's own).
    #[arg(long, default_value = "default")]
    pub bias_init: String,
    /// Number of trials per configuration.
    #[arg(long, default_value_t = 10_000)]
    pub trials: u64,
    /// Seed; trial i uses stream i of this seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub data: DataArgs,
    /// Sweep of hidden widths (every hidden layer gets the width), e.g. 2,3,5.
    #[arg(long, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// Sweep of depths L (number of affine layers), e.g. 2..20 or 2,4,8.
    #[arg(long)]
    pub depths: Option<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run only shard I of N (0-based), e.g. 0/4; combine with `deadrelu merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Also train every trial and classify the outcome.
    #[arg(long)]
    pub train: bool,
    /// Optimizer(s) for --train: a name, a list, or all.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Steps for --train.
    #[arg(long, default_value_t = 100)]
    pub steps: u64,
    /// Mini-batch size for --train (full batch when omitted).
    #[arg(long)]
    pub batch: Option<usize>,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Decide deadness on the whole input box [A,B]^d (box:A,B) instead of on the data,
    /// exactly per trial (the data are then not used).
    #[arg(long)]
    pub domain: Option<String>,
    /// With --domain: most sub-boxes or phase regions per layer decision; a trial that runs
    /// out is counted as undecided.
    #[arg(long, default_value_t = 2_000)]
    pub box_budget: usize,
    /// With --domain: decide every hidden neuron on the box, so that the distribution of
    /// inactive neurons covers every hidden layer, not only the first (up to width times
    /// more exact decisions per trial).
    #[arg(long)]
    pub per_neuron: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where the results of `estimate` and `merge` go.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Write a CSV table here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write an SVG plot (probability of a dead layer against depth, one curve per width).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// At most this many worker threads.
const MAX_THREADS: usize = 1024;

/// At most this many configurations (widths x depths x schemes) in one sweep.
const MAX_CONFIGURATIONS: usize = 10_000;

fn parse_depths(text: &str) -> Result<Vec<usize>, CliError> {
    let bad = || {
        CliError::Input(format!(
            "--depths {text:?}: expected a list like 2,4,8 or a range like 2..20"
        ))
    };
    if let Some((a, b)) = text.split_once("..") {
        let (a, b): (usize, usize) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b {
            return Err(bad());
        }
        crate::limits::check_cap(
            "--depths: the number of depths",
            (b - a) as u128 + 1,
            MAX_CONFIGURATIONS as u128,
        )
        .map_err(|e| CliError::Input(e.to_string()))?;
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect()
}

/// Trials `start..end` of shard `i` of `n` (0 <= i < n), without overflow.
fn shard_range(trials: u64, i: u64, n: u64) -> (u64, u64) {
    let at = |k: u64| (u128::from(trials) * u128::from(k) / u128::from(n)) as u64;
    (at(i), at(i + 1))
}

fn parse_shard(text: &str) -> Result<(u64, u64), CliError> {
    let bad = || CliError::Input(format!("--shard {text:?}: expected I/N with 0 <= I < N"));
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The configurations of a sweep.
fn configurations(args: &EstimateArgs) -> Result<Vec<(Arch, String)>, CliError> {
    let base = Arch::new(args.arch.clone()).map_err(|e| CliError::input("--arch", e))?;
    let (l0, ll) = (base.inputs(), base.outputs());
    let widths = args.widths.clone();
    let depths = args.depths.as_deref().map(parse_depths).transpose()?;
    let inits: Vec<String> = args.init.split(',').map(|s| s.trim().to_string()).collect();
    let count = crate::limits::checked_product(
        "the number of configurations",
        [
            widths.as_ref().map_or(1, Vec::len),
            depths.as_ref().map_or(1, Vec::len),
            inits.len(),
        ],
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    crate::limits::check_cap(
        "--widths x --depths x --init: the number of configurations",
        count as u128,
        MAX_CONFIGURATIONS as u128,
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    let mut archs = Vec::new();
    match (widths, depths) {
        (None, None) => archs.push(base.clone()),
        (w, d) => {
            let widths = w.unwrap_or_else(|| vec![base.width(1)]);
            let depths = d.unwrap_or_else(|| vec![base.depth()]);
            for &w in &widths {
                for &l in &depths {
                    crate::limits::check_cap(
                        "--depths: a depth",
                        l as u128,
                        crate::limits::MAX_DEPTH as u128,
                    )
                    .map_err(|e| CliError::Input(e.to_string()))?;
                    let mut v = vec![l0];
                    v.extend(std::iter::repeat_n(w, l.saturating_sub(1)));
                    v.push(ll);
                    archs.push(
                        Arch::new(v)
                            .map_err(|e| CliError::Input(format!("--widths/--depths: {e}")))?,
                    );
                }
            }
        }
    }
    Ok(archs
        .into_iter()
        .flat_map(|a| inits.iter().map(move |i| (a.clone(), i.clone())))
        .collect())
}

fn data_box(data: &Dataset<BigRational>) -> (BigRational, BigRational) {
    let mut all = data.x_matrix().iter();
    let first = all.next().cloned().unwrap_or_default();
    data.x_matrix()
        .iter()
        .fold((first.clone(), first), |(lo, hi), v| {
            (
                if *v < lo { v.clone() } else { lo },
                if *v > hi { v.clone() } else { hi },
            )
        })
}

/// The widths `l_0..l_L` of a result's `arch` field.
fn arch_widths(r: &Value) -> Vec<usize> {
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
fn arch_label(r: &Value, sep: &str) -> String {
    arch_widths(r)
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

fn f(q: &BigRational) -> f64 {
    q.to_f64().unwrap_or(f64::NAN)
}

/// The JSON of one configuration from its counts (shared by `estimate` and `merge`, so a
/// merge gives exactly the output of one run).
fn result_json(
    arch: &Arch,
    init: &str,
    bias_init: &str,
    counts: &Counts,
    (a, b): &(BigRational, BigRational),
    on_box: bool,
    training: Option<&str>,
) -> Result<Value, CliError> {
    let scheme: InitScheme = init.parse().map_err(|e| CliError::Input(format!("{e}")))?;
    let bias: BiasInit = bias_init
        .parse()
        .map_err(|e| CliError::Input(format!("{e}")))?;
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
    // Overflowed trials are counted as not dead: the intervals are then only lower
    // estimates and say nothing against the bounds.
    if counts.overflowed == 0 && ci_dead[1] < f(&bd.dead_layer) {
        warnings.push(format!(
            "p_dead_layer's interval lies below the bound {}: a bug",
            f(&bd.dead_layer)
        ));
    }
    if let Some(bf) = &bd.first_layer_neuron
        && counts.overflowed == 0
        && ci_first[1] < f(bf)
    {
        warnings.push(format!(
            "p_dead_first_layer_neuron's interval lies below the bound {}: a bug",
            f(bf)
        ));
    }
    // on the box itself the first-layer count estimates 1 - (1-p)^{l_1} exactly, so its
    // interval must meet the enclosure from above too
    if let Some(bh) = &bd.first_layer_neuron_hi
        && on_box
        && ci_first[0] > f(bh)
    {
        warnings.push(format!(
            "p_dead_first_layer_neuron's interval lies above the certified enclosure's upper end {}",
            f(bh)
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
        "p_dead_layer": p_dead,
        "ci95": ci_dead,
        "bound_dead_layer": f(&bd.dead_layer),
        "p_dead_first_layer_neuron": p_first,
        "p_dead_first_layer_neuron_ci95": ci_first,
        "bound_dead_first_layer_neuron": bd.first_layer_neuron.as_ref().map(f),
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

/// Runs `estimate`.
///
/// # Errors
/// [`CliError`] for bad options or unwritable outputs.
pub fn run_estimate(args: &EstimateArgs) -> Result<(), CliError> {
    if args.trials == 0 {
        return Err(CliError::Input("--trials must be at least 1".into()));
    }
    if args.threads == Some(0) {
        return Err(CliError::Input(
            "--threads must be at least 1 (omit it to use every core)".into(),
        ));
    }
    // Each thread is a real OS thread: a huge count would spawn threads until the
    // machine gives out.
    if let Some(t) = args.threads
        && t > MAX_THREADS
    {
        return Err(CliError::Input(format!(
            "--threads {t} is over the limit of {MAX_THREADS}"
        )));
    }
    if args.batch == Some(0) {
        return Err(CliError::Input(
            "--batch must be at least 1 (omit it for full batches)".into(),
        ));
    }
    let configs = configurations(args)?;
    let (shard_i, shard_n) = args
        .shard
        .as_deref()
        .map(parse_shard)
        .transpose()?
        .unwrap_or((0, 1));
    let bias: BiasInit = args
        .bias_init
        .parse()
        .map_err(|e| CliError::Input(format!("{e}")))?;
    let (spec, target) = args.data.parse()?;
    let optimizers = if args.train {
        OptimizerKind::parse_list(&args.optimizer).map_err(|e| CliError::input("--optimizer", e))?
    } else {
        vec![]
    };
    let hyper = args.optim.hyper();
    let domain = args.domain.as_deref().map(parse_domain).transpose()?;
    if domain.is_none() && args.per_neuron {
        return Err(CliError::Input(
            "--per-neuron needs --domain: on the data every neuron is always counted".into(),
        ));
    }
    if domain.is_some() && args.train {
        return Err(CliError::Input(
            "--train with --domain: training runs on the data; estimate the box without --train"
                .into(),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| CliError::Input(format!("--threads: {e}")))?;
    let (start, end) = shard_range(args.trials, shard_i, shard_n);
    let runs_per_config = optimizers.len().max(1) as u64;
    let bar = super::format::progress_bar(
        (end - start) * configs.len() as u64 * runs_per_config,
        "trials",
    );
    let clock = std::time::Instant::now();
    let mut results = Vec::new();
    for (arch, init) in &configs {
        let scheme: InitScheme = init.parse().map_err(|e| CliError::Input(format!("{e}")))?;
        // Working memory of the Monte Carlo: a few parameter vectors per lane and thread.
        crate::limits::check_allocation(
            "--arch: the parameters of the trials in flight",
            arch.num_params(),
            8 * 8 * 4 * pool.current_num_threads(),
        )
        .map_err(|e| CliError::Input(e.to_string()))?;
        // On a box the data are not used, so they are not built (a default grid in
        // high dimension can be huge).
        let data_exact = match domain {
            Some(_) => None,
            None => Some(
                spec.build(arch.inputs(), arch.outputs(), &target, args.data.seed)
                    .map_err(|e| CliError::input("--data", e))?,
            ),
        };
        let data: Option<Dataset<f64>> = data_exact
            .as_ref()
            .map(Dataset::convert)
            .transpose()
            .map_err(|e| CliError::input("--data", e))?;
        let sampler = InitSampler::new(arch, &scheme, &bias);
        let kinds: Vec<Option<OptimizerKind>> = if optimizers.is_empty() {
            vec![None]
        } else {
            optimizers.iter().copied().map(Some).collect()
        };
        for kind in kinds {
            let resolved = kind
                .map(|k| hyper.resolve(k))
                .transpose()
                .map_err(|e| CliError::Input(e.to_string()))?;
            let optimizer = resolved
                .as_ref()
                .map(|r| r.build::<f64>())
                .transpose()
                .map_err(|e| CliError::Input(e.to_string()))?;
            let config = TrainConfig {
                steps: args.steps,
                batch: args.batch,
                batch_seed: args.seed,
            };
            let (counts, region) = match &domain {
                Some((a, b)) => {
                    let job = BoxJob {
                        arch,
                        sampler: &sampler,
                        a,
                        b,
                        seed: args.seed,
                        trials: start..end,
                        budget: args.box_budget,
                        per_neuron: args.per_neuron,
                    };
                    let counts = pool.install(|| run_box(&job, &|n| bar.inc(n)));
                    (counts, (a.clone(), b.clone()))
                }
                None => {
                    let (Some(data), Some(data_exact)) = (&data, &data_exact) else {
                        unreachable!("the data are built whenever there is no --domain")
                    };
                    let job = McJob {
                        arch,
                        sampler: &sampler,
                        data,
                        seed: args.seed,
                        trials: start..end,
                        training: optimizer.as_ref().map(|o| (o, config.clone())),
                    };
                    (
                        pool.install(|| run(&job, &|n| bar.inc(n))),
                        data_box(data_exact),
                    )
                }
            };
            let mut v = result_json(
                arch,
                init,
                &args.bias_init,
                &counts,
                &region,
                domain.is_some(),
                kind.map(|k| k.name()),
            )?;
            for w in v["warnings"].as_array().cloned().unwrap_or_default() {
                eprintln!(
                    "deadrelu: warning: {} {init}: {}",
                    arch,
                    w.as_str().unwrap_or("")
                );
            }
            v["shard"] = json!([shard_i, shard_n]);
            results.push(v);
        }
    }
    bar.finish_and_clear();
    let secs = clock.elapsed().as_secs_f64();
    let total_trials = (end - start) * configs.len() as u64 * runs_per_config;
    eprintln!(
        "deadrelu: {total_trials} trials in {secs:.3} s ({:.0} trials/s, {} threads)",
        total_trials as f64 / secs.max(1e-9),
        pool.current_num_threads()
    );
    let out = json!({
        "command": "estimate",
        "seed": args.seed,
        "data": args.data.spec,
        "domain": args.domain,
        "box_budget": args.domain.is_some().then_some(args.box_budget),
        "per_neuron": args.per_neuron,
        "data_seed": args.data.seed,
        "target": args.data.target,
        "trials": args.trials,
        "training": training_settings(args),
        "shard": [shard_i, shard_n],
        "results": results,
    });
    emit(&out, &args.report)
}

/// What a training sweep was run with (null without `--train`): shards merge only when
/// these are equal.
fn training_settings(args: &EstimateArgs) -> Value {
    if !args.train {
        return Value::Null;
    }
    json!({
        "optimizer": args.optimizer,
        "steps": args.steps,
        "batch": args.batch,
        "hyperparameters": format!("{:?}", args.optim),
    })
}

/// Checks that a shard's counts are those of `trials` trials of `arch`: every count at most
/// the trials, each layer's histogram summing to the trials, training outcomes summing to
/// the trials. A hand-edited or truncated shard is refused instead of merged.
fn validate_counts(c: &Counts, arch: &Arch, trials: u64, training: bool) -> Result<(), String> {
    if c.trials != trials {
        return Err(format!("{} trials, but its shard has {trials}", c.trials));
    }
    let at_most = |what: &str, v: u64| {
        if v > trials {
            Err(format!("{what} = {v} exceeds the {trials} trials"))
        } else {
            Ok(())
        }
    };
    at_most("dead_layer", c.dead_layer)?;
    at_most("first_layer_inactive", c.first_layer_inactive)?;
    at_most("undecided", c.undecided.unwrap_or(0))?;
    at_most("overflowed", c.overflowed)?;
    let hidden: Vec<usize> = arch.hidden_layers().collect();
    // On a box without --per-neuron only the first layer has a histogram.
    if c.inactive_hist.is_empty() || c.inactive_hist.len() > hidden.len() {
        return Err(format!(
            "{} histograms for {} hidden layers",
            c.inactive_hist.len(),
            hidden.len()
        ));
    }
    if !(c.inactive_undecided.is_empty() || c.inactive_undecided.len() == hidden.len()) {
        return Err("inactive_undecided does not have one entry per hidden layer".into());
    }
    for (idx, (hist, &k)) in c.inactive_hist.iter().zip(&hidden).enumerate() {
        if hist.len() != arch.width(k) + 1 {
            return Err(format!("layer {k}'s histogram has {} bins", hist.len()));
        }
        let undecided = c.inactive_undecided.get(idx).copied().unwrap_or(0);
        let sum: u128 = hist.iter().map(|&v| u128::from(v)).sum::<u128>()
            + u128::from(undecided)
            + u128::from(c.overflowed);
        if sum != u128::from(trials) {
            return Err(format!("layer {k}'s histogram sums to {sum}, not {trials}"));
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
                + u128::from(c.overflowed);
            if sum != u128::from(trials) {
                return Err(format!("training outcomes sum to {sum}, not {trials}"));
            }
        }
        _ => return Err("training counts present without --train, or missing with it".into()),
    }
    Ok(())
}

fn emit(out: &Value, report: &ReportArgs) -> Result<(), CliError> {
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
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
        let v: Value = crate::io::strict_json::parse(&text)
            .map_err(|e| CliError::Input(format!("{}: not JSON: {e}", path.display())))?;
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
                .map_err(|e| CliError::Input(format!("{}: counts: {e}", path.display())))?;
            let (start, end) = shard_range(trials, v["shard"][0].as_u64().unwrap_or(0), n);
            validate_counts(&c, &arch, end - start, !first["training"].is_null()).map_err(|e| {
                CliError::Input(format!(
                    "{}: configuration {idx}: counts: {e}",
                    path.display()
                ))
            })?;
            total = Some(match total {
                None => c,
                Some(t) => t.plus(&c),
            });
        }
        let total = total.expect("at least one file");
        let data_seed = first["data_seed"].as_u64().unwrap_or(0);
        let data_exact = spec
            .build(arch.inputs(), arch.outputs(), &target, data_seed)
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

/// Widths up to which `bound --width` gives `1 - (1-p)^w` as an exact rational.
const MAX_EXACT_WIDTH: usize = 4096;

/// A rigorous enclosure of `1 - (1-p)^w` for `p` in `[p_lo, p_hi]` (within `[0, 1]`):
/// `(1-p)^w` by square-and-multiply in `f64`, each product widened by one ulp outward
/// (round-to-nearest errs by at most half an ulp), so the bounds hold for any `w`, in at
/// most 128 multiplications.
fn at_least_one_of(p_lo: f64, p_hi: f64, w: usize) -> (f64, f64) {
    let (mut base_lo, mut base_hi) = (
        (1.0 - p_hi).next_down().max(0.0),
        (1.0 - p_lo).next_up().min(1.0),
    );
    let (mut acc_lo, mut acc_hi) = (1.0f64, 1.0f64);
    let mut e = w;
    while e > 0 {
        if e & 1 == 1 {
            acc_lo = (acc_lo * base_lo).next_down().max(0.0);
            acc_hi = (acc_hi * base_hi).next_up().min(1.0);
        }
        base_lo = (base_lo * base_lo).next_down().max(0.0);
        base_hi = (base_hi * base_hi).next_up().min(1.0);
        e >>= 1;
    }
    (
        (1.0 - acc_hi).next_down().max(0.0),
        (1.0 - acc_lo).next_up().min(1.0),
    )
}

/// Options of `bound`.
#[derive(Args, Debug, Clone)]
pub struct BoundArgs {
    /// Initialization: uniform:C, torch-default, he-uniform, glorot-uniform (exact p);
    /// normal:S, he-normal, glorot-normal (needs --width unless biases are zero),
    /// lecun-normal, rai (certified enclosure p_lo, p_hi; p when rational).
    #[arg(long, default_value = "torch-default")]
    pub init: String,
    /// Biases: zero, same, uniform:C, normal:S, const:V (default: the scheme's own).
    #[arg(long, default_value = "default")]
    pub bias_init: String,
    /// Input dimension d = l_0.
    #[arg(long, default_value_t = 1)]
    pub inputs: usize,
    /// The box [A,B]^d.
    #[arg(long, default_value = "-1,1", allow_hyphen_values = true)]
    pub r#box: String,
    /// First-layer width l_1, for P(at least one of l_1 neurons inactive).
    #[arg(long)]
    pub width: Option<usize>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `bound`.
///
/// # Errors
/// [`CliError::Input`] for bad options.
pub fn run_bound(args: &BoundArgs) -> Result<(), CliError> {
    let scheme: InitScheme = args
        .init
        .parse()
        .map_err(|e| CliError::Input(format!("{e}")))?;
    let bias: BiasInit = args
        .bias_init
        .parse()
        .map_err(|e| CliError::Input(format!("{e}")))?;
    let (a, b) = args
        .r#box
        .split_once(',')
        .ok_or_else(|| CliError::Input(format!("--box {:?}: expected A,B", args.r#box)))?;
    let a = crate::scalar::parse_rational(a).map_err(|e| CliError::input("--box", e))?;
    let b = crate::scalar::parse_rational(b).map_err(|e| CliError::input("--box", e))?;
    if a > b {
        return Err(CliError::Input("--box: A must be <= B".into()));
    }
    if args.inputs == 0 || args.inputs > 64 {
        return Err(CliError::Input("--inputs: must be in 1..=64".into()));
    }
    let term: Option<BiasTerm> = if scheme == InitScheme::Rai {
        None
    } else {
        exact_bias_term(&scheme, &bias)
    };
    let exact = term.map(|t| p_inactive_uniform(args.inputs, &a, &b, &t));
    let enclosure = match &exact {
        Some(_) => None,
        None => {
            crate::stats::bound_normal::p_enclosure(&scheme, &bias, args.inputs, args.width, &a, &b)
                .map_err(|e| CliError::Input(format!("--init {}: {e}", args.init)))?
        }
    };
    let p = exact.or_else(|| enclosure.as_ref().and_then(|e| e.exact.clone()));
    let (p_lo, p_hi) = match (&p, &enclosure) {
        (Some(p), _) => enclose_f64(p),
        (None, Some(e)) => (Some(e.lo), Some(e.hi)),
        (None, None) => (None, None),
    };
    // Exactly for widths up to MAX_EXACT_WIDTH; beyond, (1-p)^w has too many digits to
    // print, and only the rigorous f64 enclosure is given.
    let one = || BigRational::from_integer(1.into());
    let exact_at_least_one = match (&p, args.width) {
        (Some(p), Some(w)) if w <= MAX_EXACT_WIDTH => {
            Some(one() - num_traits::pow::pow(one() - p, w))
        }
        _ => None,
    };
    // 1 - (1-p)^w is increasing in p: the enclosure's ends give its enclosure
    let at_least_one_range = match (p_lo, p_hi, args.width) {
        (Some(lo), Some(hi), Some(w)) => Some(at_least_one_of(lo, hi, w)),
        _ => None,
    };
    let mut v = json!({
        "init": args.init,
        "bias_init": args.bias_init,
        "inputs": args.inputs,
        "box": [rational_string(&a), rational_string(&b)],
        "p": p.as_ref().map(rational_string),
        "p_lo": p_lo,
        "p_hi": p_hi,
        "width": args.width,
        "p_at_least_one_dead": exact_at_least_one.as_ref().map(rational_string),
        "p_at_least_one_dead_f64": exact_at_least_one.as_ref().map(f),
        "p_at_least_one_dead_range": at_least_one_range.map(|(lo, hi)| [lo, hi]),
        "note": if p_lo.is_none() { Some("no p for this scheme and bias (uniform weights with a bias not a rational multiple of their scale, or normal biases)") } else { None },
    });
    if p.is_none()
        && let Some(o) = v.as_object_mut()
    {
        // `p` only when rational; the enclosure always
        o.remove("p");
        o.remove("p_at_least_one_dead");
        o.remove("p_at_least_one_dead_f64");
    }
    if args.json {
        print_json(&v);
        return Ok(());
    }
    let label = format!(
        "P(one first-layer neuron inactive on [{}, {}]^{})",
        rational_string(&a),
        rational_string(&b),
        args.inputs
    );
    match (&p, p_lo, p_hi) {
        (Some(p), _, _) => println!("{label} = {} = {:.6}", rational_string(p), f(p)),
        (None, Some(lo), Some(hi)) => println!("{label} in [{lo:.12}, {hi:.12}] (certified)"),
        _ => println!(
            "no p for {} with biases {} (see `deadrelu bound --help`)",
            args.init, args.bias_init
        ),
    }
    if let (Some(q), Some(w)) = (&exact_at_least_one, args.width) {
        println!(
            "P(at least one of {w} first-layer neurons inactive) = {} = {:.6}",
            rational_string(q),
            f(q)
        );
    } else if let (Some((lo, hi)), Some(w)) = (at_least_one_range, args.width) {
        println!("P(at least one of {w} first-layer neurons inactive) in [{lo:.10}, {hi:.10}]");
    }
    Ok(())
}

/// The doubles just below and above an exact rational.
fn enclose_f64(q: &BigRational) -> (Option<f64>, Option<f64>) {
    let x = f(q);
    let exact = crate::scalar::rational_from_f64(x).ok();
    match exact {
        Some(e) if &e == q => (Some(x), Some(x)),
        Some(e) if &e < q => (Some(x), Some(x.next_up())),
        Some(_) => (Some(x.next_down()), Some(x)),
        None => (None, None),
    }
}
