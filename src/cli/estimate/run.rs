//! Running `estimate`: the configurations of the sweep, each over its shard of trials, on
//! the data or on a box, with or without training.

use super::emit::emit;
use super::options::{EstimateArgs, MAX_THREADS, configurations, shard_range};
use super::result::{result_json, training_settings};
use crate::cli::CliError;
use crate::data::Dataset;
use crate::net::init::{BiasInit, InitSampler, InitScheme};
use crate::optim::OptimizerKind;
use crate::optim::train::TrainConfig;
use crate::scalar::BigRational;
use crate::stats::montecarlo::{McJob, run};
use crate::stats::onbox::{BoxJob, run_box};
use serde_json::json;

/// The smallest box `[lo, hi]^d` holding every input of `data`.
pub(super) fn data_box(data: &Dataset<BigRational>) -> (BigRational, BigRational) {
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
    let (shard_i, shard_n) = args.shard.map_or((0, 1), |s| (s.index, s.count));
    let bias: BiasInit = args.bias_init.value.clone();
    let (spec, target) = args.data.parse();
    let optimizers = if args.train {
        args.optimizer.value.0.clone()
    } else {
        vec![]
    };
    let hyper = args.optim.hyper();
    let domain = args.domain.as_ref().map(|d| (d.lo.clone(), d.hi.clone()));
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
    ignored_flags(args);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| CliError::input("--threads", e))?;
    let (start, end) = shard_range(args.trials, shard_i, shard_n);
    let runs_per_config = optimizers.len().max(1) as u64;
    let bar = crate::cli::format::progress_bar(
        (end - start) * configs.len() as u64 * runs_per_config,
        "trials",
    );
    let clock = std::time::Instant::now();
    let mut results = Vec::new();
    for (arch, init) in &configs {
        let scheme: InitScheme = init.value.clone();
        // Working memory of the Monte Carlo: a few parameter vectors per lane and thread.
        crate::limits::check_allocation(
            "--arch: the parameters of the trials in flight",
            arch.num_params(),
            8 * 8 * 4 * pool.current_num_threads(),
        )
        .map_err(CliError::library)?;
        // On a box the data are not used, so they are not built (a default grid in
        // high dimension can be huge).
        let data_exact = match domain {
            Some(_) => None,
            None => Some(
                crate::io::build_dataset(
                    &spec,
                    arch.inputs(),
                    arch.outputs(),
                    &target,
                    args.data.seed,
                )
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
                .map_err(CliError::library)?;
            let optimizer = resolved
                .as_ref()
                .map(|r| r.build::<f64>())
                .transpose()
                .map_err(CliError::library)?;
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
                &init.text,
                &args.bias_init.text,
                &counts,
                &region,
                domain.is_some(),
                kind.map(|k| k.name()),
            )?;
            for w in v["warnings"].as_array().cloned().unwrap_or_default() {
                crate::cli::warn(&format!("{arch} {init}: {}", w.as_str().unwrap_or("")));
            }
            v["shard"] = json!([shard_i, shard_n]);
            results.push(v);
        }
    }
    bar.finish_and_clear();
    let secs = clock.elapsed().as_secs_f64();
    let total_trials = (end - start) * configs.len() as u64 * runs_per_config;
    crate::cli::note(&format!(
        "{total_trials} trials in {secs:.3} s ({:.0} trials/s, {} threads)",
        total_trials as f64 / secs.max(1e-9),
        pool.current_num_threads()
    ));
    let out = json!({
        "command": "estimate",
        "seed": args.seed,
        "data": args.data.spec.text,
        "domain": args.domain.as_ref().map(|d| &d.text),
        "box_budget": args.domain.is_some().then_some(args.box_budget),
        "per_neuron": args.per_neuron,
        "data_seed": args.data.seed,
        "target": args.data.target.text,
        "trials": args.trials,
        "training": training_settings(args),
        "shard": [shard_i, shard_n],
        "results": results,
    });
    emit(&out, &args.report)
}

/// Warns about flags that have no effect in this run (compared with their defaults, so a
/// default given explicitly is not reported).
fn ignored_flags(args: &EstimateArgs) {
    let optim_set =
        format!("{:?}", args.optim) != format!("{:?}", crate::cli::OptimArgs::default());
    if !args.train
        && (args.optimizer.text != "adam" || args.steps != 100 || args.batch.is_some() || optim_set)
    {
        crate::cli::warn(
            "--optimizer, --steps, --batch and the optimizer's hyperparameters are ignored without --train",
        );
    }
    if args.domain.is_some()
        && (args.data.spec.text != "grid:-1,1:64"
            || args.data.target.text != "abs"
            || args.data.seed != 0)
    {
        crate::cli::warn(
            "--data, --target and --data-seed are ignored with --domain (the box is used, not the data)",
        );
    }
    if args.domain.is_none() {
        if args.box_budget != 2_000 {
            crate::cli::warn("--box-budget is ignored without --domain");
        }
        args.data.warn_ignored();
    }
}
