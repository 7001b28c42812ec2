//! The options of `estimate` and where its results go; the sweep they describe, checked
//! (depths, shards, configurations) before anything runs.

use crate::cli::CliError;
use crate::cli::args::{
    BoxDomain, DataArgs, Depths, Given, InitList, MAX_CONFIGURATIONS, OptimArgs, OptimizerList,
    Shard,
};
use crate::net::Arch;
use crate::net::init::{BiasInit, InitScheme};
use clap::Args;
use std::path::PathBuf;

/// Options of `estimate`.
#[derive(Args, Debug, Clone)]
pub struct EstimateArgs {
    /// Widths l_0..l_L; with --widths/--depths it gives l_0, l_L and the defaults.
    #[arg(long, value_delimiter = ',', default_value = "1,3,3,3,3,3,1")]
    pub arch: Vec<usize>,
    /// Initialization schemes, comma-separated (a sweep): torch-default,he-normal,rai,...
    #[arg(long, default_value = "torch-default")]
    pub init: InitList,
    /// Biases: default (the scheme's own), zero, same (as the weights), uniform:C, normal:S,
    /// const:V.
    #[arg(long, default_value = "default")]
    pub bias_init: Given<BiasInit>,
    /// Number of trials per configuration.
    #[arg(long, default_value_t = 10_000, value_parser = crate::cli::args::trials())]
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
    pub depths: Option<Depths>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run only shard I of N (0-based), e.g. 0/4; combine with `deadrelu merge`.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Also train every trial and classify the outcome.
    #[arg(long)]
    pub train: bool,
    /// Optimizer(s) for --train: a name, a list, or all.
    #[arg(long, default_value = "adam")]
    pub optimizer: Given<OptimizerList>,
    /// Steps for --train.
    #[arg(long, default_value_t = 100, value_parser = crate::cli::args::steps())]
    pub steps: u64,
    /// Mini-batch size for --train (full batch when omitted).
    #[arg(long)]
    pub batch: Option<usize>,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Decide deadness on the whole input box [A,B]^d (box:A,B) instead of on the data,
    /// exactly per trial (the data are then not used).
    #[arg(long)]
    pub domain: Option<BoxDomain>,
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
    /// Write the tidy CSV table here: one row per configuration (and optimizer), each
    /// probability with lo and hi, the bounds, mean inactive per layer, training fractions.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the figures: PATH.svg or PATH.png (the probabilities against depth, or width,
    /// with 95% error bars), PATH-inactive (mean inactive per layer) and, with --train,
    /// PATH-training (outcomes per optimizer).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,
}

/// At most this many worker threads.
pub(super) const MAX_THREADS: usize = 1024;

/// Trials `start..end` of shard `i` of `n` (0 <= i < n), without overflow.
pub(super) fn shard_range(trials: u64, i: u64, n: u64) -> (u64, u64) {
    let at = |k: u64| (u128::from(trials) * u128::from(k) / u128::from(n)) as u64;
    (at(i), at(i + 1))
}

/// The configurations of a sweep.
pub(super) fn configurations(
    args: &EstimateArgs,
) -> Result<Vec<(Arch, Given<InitScheme>)>, CliError> {
    let base = Arch::new(args.arch.clone()).map_err(|e| CliError::input("--arch", e))?;
    let (l0, ll) = (base.inputs(), base.outputs());
    let widths = args.widths.clone();
    let depths = args.depths.clone().map(|d| d.0);
    let inits = &args.init.0;
    let count = crate::limits::checked_product(
        "the number of configurations",
        [
            widths.as_ref().map_or(1, Vec::len),
            depths.as_ref().map_or(1, Vec::len),
            inits.len(),
        ],
    )
    .map_err(CliError::library)?;
    crate::limits::check_cap(
        "--widths x --depths x --init: the number of configurations",
        count as u128,
        MAX_CONFIGURATIONS as u128,
    )
    .map_err(CliError::library)?;
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
                    .map_err(CliError::library)?;
                    let mut v = vec![l0];
                    v.extend(std::iter::repeat_n(w, l.saturating_sub(1)));
                    v.push(ll);
                    archs.push(Arch::new(v).map_err(|e| CliError::input("--widths/--depths", e))?);
                }
            }
        }
    }
    Ok(archs
        .into_iter()
        .flat_map(|a| inits.iter().map(move |i| (a.clone(), i.clone())))
        .collect())
}
