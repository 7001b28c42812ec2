//! The exact audit of one network on one data set.
//!
//! The witness `theta*` with `R(theta*) < V` is built by [`super::witness`]; the
//! verdict is `inconclusive` when there is none (for instance constant targets, V = 0).

use super::crosscheck::CrossCheck;
pub use super::witness::constructive_witness;
use crate::activity::Activity;
use crate::activity::filtered::{Filter, best_constant};
use crate::data::{DataError, Dataset};
use crate::net::{Arch, NetError, Network};
use crate::optim::train::TrainConfig;
use crate::optim::{Hyper, OptimError, OptimizerKind, Resolved};
use crate::scalar::{BigRational, DyadicInterval, F64Interval, Real, Scalar};
use num_traits::Zero;
use rayon::prelude::*;

/// Errors of the audit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The data do not fit the network, or the network has no exact value in the
    /// enclosure type of the optimizer runs.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The data have no value in the enclosure type of the optimizer runs.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Invalid hyperparameters for an optimizer of the cross-check.
    #[error("{optimizer}: {source}")]
    Hyper {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The cause.
        #[source]
        source: OptimError,
    },
    /// [`AuditOptions::layer`] names a layer that is not dead on the data.
    #[error("layer {layer} was asked for, but it is not dead on the data (dead layers: {dead:?})")]
    LayerNotDead {
        /// The layer asked for.
        layer: usize,
        /// The layers that are dead on the data.
        dead: Vec<usize>,
    },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Optimizers to run as a cross-check.
    pub optimizers: Vec<OptimizerKind>,
    /// Hyperparameters (PyTorch's defaults where `None`).
    pub hyper: Hyper,
    /// Steps per run.
    pub steps: u64,
    /// Mini-batch size of the mini-batch runs (`None`: full batches only).
    pub batch: Option<usize>,
    /// Seed of the mini-batch sampler.
    pub batch_seed: u64,
    /// The dead layer to certify (it must be dead on the data); `None`: the deepest one.
    /// `audit --domain` passes the layer proven dead on the whole box.
    pub layer: Option<usize>,
}

/// The audit's conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A dead layer, frozen trajectories, and a witness with risk < V.
    NonConvergenceCertified,
    /// No dead layer on the data.
    MechanismNotApplicable {
        /// Why, in words (how many neurons are inactive where).
        reason: String,
    },
    /// A dead layer but something missing or failing.
    Inconclusive {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// The JSON name of the verdict.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::NonConvergenceCertified => "non-convergence-certified",
            Verdict::MechanismNotApplicable { .. } => "mechanism-not-applicable",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
    /// The reason, when there is one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::NonConvergenceCertified => None,
            Verdict::MechanismNotApplicable { reason } | Verdict::Inconclusive { reason } => {
                Some(reason)
            }
        }
    }
}

/// One optimizer run of the cross-check.
#[derive(Debug, Clone)]
pub struct OptimizerRun {
    /// The optimizer and its exact hyperparameters.
    pub resolved: Resolved,
    /// Steps.
    pub steps: u64,
    /// Mini-batch size (`None`: full batch).
    pub batch: Option<usize>,
    /// Sampler seed.
    pub batch_seed: u64,
    /// The enclosure arithmetic of the run (`Scalar::NAME`: `"dyadic-interval"` or
    /// `"f64-interval"`, see [`super::crosscheck`]).
    pub arithmetic: &'static str,
    /// Every coordinate of layers 1..k and `W_{k+1}` bit-identical to theta_0 at every step.
    pub frozen: bool,
    /// Layer k dead at every step.
    pub layer_stayed_dead: bool,
    /// The realization constant on the data at every step.
    pub constant_realization: bool,
    /// The full-data risk `>= V` at every step (`None`: undecided by the enclosure at some step).
    pub risk_never_below_v: Option<bool>,
    /// The step at which the enclosure of the risk or of a coordinate left `f64`'s range,
    /// where the run stopped (the stop rule of [`crate::optim::train::TrainRun::enclosure_lost_at`]):
    /// the flags above cover steps `0..=n` only. The verdict does not depend on it: the runs
    /// illustrate the theorem, and a stopped run contradicts nothing.
    pub enclosure_lost_at: Option<u64>,
}

/// Everything the audit found.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The verdict.
    pub verdict: Verdict,
    /// Activity of theta_0 on the data.
    pub activity: Activity,
    /// Decisions of the activity that the `f64` filter left to exact arithmetic.
    pub exact_fallbacks: usize,
    /// The dead layer used (the deepest one, which freezes the most coordinates).
    pub dead_layer: Option<usize>,
    /// The constant value of the realization on the data.
    pub constant_value: Option<Vec<BigRational>>,
    /// `R(theta_0)`.
    pub risk: BigRational,
    /// `V`.
    pub best_constant_risk: BigRational,
    /// Coordinates with an exactly zero gradient at theta_0 (full data).
    pub zero_gradient: Vec<usize>,
    /// Number of coordinates in layers 1..k and `W_{k+1}`.
    pub frozen_count: usize,
    /// The witness and its exact risk.
    pub witness: Option<(Network<BigRational>, BigRational)>,
    /// The optimizer runs.
    pub runs: Vec<OptimizerRun>,
}

/// The coordinates frozen by a dead layer `k`: layers 1..k and `W_{k+1}`.
pub fn frozen_range(arch: &Arch, k: usize) -> std::ops::Range<usize> {
    0..arch.layer_range(k).end + arch.width(k + 1) * arch.width(k)
}

/// Audits `net` on `data` exactly.
///
/// # Errors
/// [`AuditError::Net`] when the data do not fit the network, [`AuditError::Hyper`] for
/// invalid hyperparameters, [`AuditError::LayerNotDead`] when [`AuditOptions::layer`] is
/// not a dead layer.
pub fn audit(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    options: &AuditOptions,
    mut progress: impl FnMut(&str),
) -> Result<AuditReport, AuditError> {
    // exact decisions by the f64 filter; exact values from the cheap parts when a layer
    // is dead (crate::activity::filtered)
    progress("exact decisions on the data (f64 filter, exact fallback)");
    let filter = Filter::new(net)?;
    let found = filter.activity(data)?;
    let (activity, exact_fallbacks) = (found.activity, found.exact_fallbacks);
    let (risk, grad) = match activity.first_dead_layer() {
        Some(first) if data.outputs() == net.arch().outputs() => {
            filter.risk_and_gradient_after_dead(data, first)
        }
        _ => net.risk_and_gradient(data, None)?,
    };
    let (v, _) = best_constant(data);
    let zero_gradient: Vec<usize> = grad
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_zero())
        .map(|(i, _)| i)
        .collect();
    let arch = net.arch();
    let dead = activity.dead_layers();
    if let Some(k) = options.layer
        && !dead.contains(&k)
    {
        return Err(AuditError::LayerNotDead { layer: k, dead });
    }
    let Some(&k) = options.layer.as_ref().or(dead.last()) else {
        let counts = activity.inactive_per_layer();
        let parts: Vec<String> = arch
            .hidden_layers()
            .zip(&counts)
            .map(|(l, c)| format!("layer {l}: {c}/{}", arch.width(l)))
            .collect();
        return Ok(AuditReport {
            verdict: Verdict::MechanismNotApplicable {
                reason: format!(
                    "no hidden layer is dead on the data; inactive neurons per layer: {}",
                    parts.join(", ")
                ),
            },
            activity,
            exact_fallbacks,
            dead_layer: None,
            constant_value: None,
            risk,
            best_constant_risk: v,
            zero_gradient,
            frozen_count: 0,
            witness: None,
            runs: Vec::new(),
        });
    };
    let constant_value = filter.constant_after(dead[0]);
    let frozen = frozen_range(arch, k);
    let mut reasons = Vec::new();
    if !frozen.clone().all(|i| grad[i].is_zero()) {
        reasons
            .push("a coordinate up to the dead layer has a non-zero gradient (a bug)".to_string());
    }
    progress("the witness (exact risk < V)");
    let witness = constructive_witness(arch, data);
    match &witness {
        None => reasons.push(if v.is_zero() {
            "the targets are constant on the data (V = 0): the constant realization is a global minimizer".to_string()
        } else {
            "no witness with risk < V was found".to_string()
        }),
        Some((_, wr)) if *wr >= v => reasons.push("the witness does not beat V".to_string()),
        _ => {}
    }
    let exact_dead_at_start = activity.dead_layers().contains(&k);
    let runs = if super::crosscheck::arithmetic(arch.num_params(), data.len()) == F64Interval::NAME
    {
        cross_check::<F64Interval>(
            net,
            data,
            options,
            k,
            exact_dead_at_start,
            &v,
            &mut progress,
        )?
    } else {
        cross_check::<DyadicInterval>(
            net,
            data,
            options,
            k,
            exact_dead_at_start,
            &v,
            &mut progress,
        )?
    };
    // The runs illustrate a theorem (Do, Hannibal, Jentzen): a dead layer freezes every
    // optimizer of the class, whatever the run. A run that contradicts it (a frozen
    // coordinate moved, the layer revived, the risk went below V) is a bug and makes the
    // verdict inconclusive. A run whose enclosure left f64's range stopped there: it
    // confirms the steps it covered, contradicts nothing, and is reported as stopped
    // (`enclosure_lost_at`), like a risk the enclosure leaves undecided.
    for run in &runs {
        if !(run.frozen && run.layer_stayed_dead && run.constant_realization)
            || run.risk_never_below_v == Some(false)
        {
            reasons.push(format!(
                "the {} run did not stay frozen and constant",
                run.resolved.kind.name()
            ));
        }
    }
    let verdict = if reasons.is_empty() {
        Verdict::NonConvergenceCertified
    } else {
        Verdict::Inconclusive {
            reason: reasons.join("; "),
        }
    };
    Ok(AuditReport {
        verdict,
        activity,
        exact_fallbacks,
        dead_layer: Some(k),
        constant_value: Some(constant_value),
        risk,
        best_constant_risk: v,
        zero_gradient,
        frozen_count: frozen.len(),
        witness,
        runs,
    })
}

/// Every optimizer run of the cross-check in enclosure type `S`.
fn cross_check<S: Real>(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    options: &AuditOptions,
    k: usize,
    dead_at_start: bool,
    v: &BigRational,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<OptimizerRun>, AuditError> {
    let check: CrossCheck<'_, S> = CrossCheck::new(net, data, k, dead_at_start, v)?;
    // the runs, in report order: every optimizer at full batch, then at mini-batch size
    let mut jobs = Vec::new();
    for kind in &options.optimizers {
        let resolved = options
            .hyper
            .resolve(*kind)
            .map_err(|source| AuditError::Hyper {
                optimizer: kind.name(),
                source,
            })?;
        let opt = resolved.build::<S>().map_err(|source| AuditError::Hyper {
            optimizer: kind.name(),
            source,
        })?;
        let mut batches = vec![None];
        if let Some(b) = options.batch.filter(|&b| b < data.len()) {
            batches.push(Some(b));
        }
        for batch in batches {
            let config = TrainConfig {
                steps: options.steps,
                batch,
                batch_seed: options.batch_seed,
            };
            jobs.push((resolved.clone(), opt.clone(), config));
        }
    }
    progress(&format!(
        "optimizer cross-check in {}: {} runs of {} steps",
        S::NAME,
        jobs.len(),
        options.steps
    ));
    // independent runs, in parallel; results in job order (deterministic)
    jobs.par_iter()
        .map(|(resolved, opt, config)| {
            crate::cancel::point();
            check.run(resolved, opt, config)
        })
        .collect()
}
