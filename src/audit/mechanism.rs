//! The exact audit of one network on one data set.
//!
//! # The witness
//! A parameter `theta*` with `R(theta*) < V` is built, not searched for: for an input
//! coordinate `i`, a sign `s` and a threshold `t` (a data value of `x_i`), the feature
//! `phi(x) = ReLU(s (x_i - t))` is computed by neuron 0 of layer 1 and passed unchanged
//! through neuron 0 of every further hidden layer (weight 1, bias 0, since `phi >= 0`);
//! all other hidden neurons are zero. The output layer is the least-squares fit
//! `y_o ~ c_o + beta_o phi`, whose risk is exactly
//!
//! ```text
//! R = V - sum_o cov(phi, y_o)^2 / var(phi)
//! ```
//!
//! so any feature correlated with some output gives a witness. The best candidate over
//! all `i`, `s`, `t` is taken. When none correlates (for instance constant targets, V = 0)
//! the verdict is `inconclusive` with that reason.

use crate::activity::filtered::{Filter, best_constant};
use crate::activity::{Activity, activity_on_data};
use crate::data::{DataError, Dataset};
use crate::net::{Arch, NetError, Network};
use crate::optim::train::{TrainConfig, train};
use crate::optim::{Hyper, OptimError, OptimizerConfig, OptimizerKind, Resolved};
use crate::scalar::{BigRational, DyadicInterval, Scalar, Sign};
use num_traits::{Signed, Zero};

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
    /// Every coordinate of layers 1..k and `W_{k+1}` bit-identical to theta_0 at every step.
    pub frozen: bool,
    /// Layer k dead at every step.
    pub layer_stayed_dead: bool,
    /// The realization constant on the data at every step.
    pub constant_realization: bool,
    /// The full-data risk `>= V` at every step (`None`: undecided by the enclosure at some step).
    pub risk_never_below_v: Option<bool>,
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

/// The least-squares fit of the targets by one feature `phi(x) = ReLU(s (x_i - t))`.
struct FeatureFit {
    mean_phi: BigRational,
    var: BigRational,
    /// Per output: `(mean(y_o), cov(phi, y_o))`.
    outputs: Vec<(BigRational, BigRational)>,
}

impl FeatureFit {
    /// `None` when the feature is constant on the data (`var = 0`).
    fn new(data: &Dataset<BigRational>, i: usize, positive: bool, t: &BigRational) -> Option<Self> {
        let m = BigRational::from_integer((data.len() as i64).into());
        let phi: Vec<BigRational> = (0..data.len())
            .map(|r| {
                let d = &data.x(r)[i] - t;
                let v = if positive { d } else { -d };
                if v.is_positive() {
                    v
                } else {
                    BigRational::zero()
                }
            })
            .collect();
        let mean_phi = phi.iter().fold(BigRational::zero(), |a, v| a + v) / &m;
        let var = phi.iter().fold(BigRational::zero(), |a, v| {
            a + (v - &mean_phi) * (v - &mean_phi)
        }) / &m;
        if var.is_zero() {
            return None;
        }
        let outputs = (0..data.outputs())
            .map(|o| {
                let mean_y =
                    (0..data.len()).fold(BigRational::zero(), |a, r| a + &data.y(r)[o]) / &m;
                let cov = (0..data.len()).fold(BigRational::zero(), |a, r| {
                    a + (&phi[r] - &mean_phi) * (&data.y(r)[o] - &mean_y)
                }) / &m;
                (mean_y, cov)
            })
            .collect();
        Some(Self {
            mean_phi,
            var,
            outputs,
        })
    }

    /// `V - R(fit) = sum_o cov_o^2 / var`.
    fn gain(&self) -> BigRational {
        self.outputs
            .iter()
            .fold(BigRational::zero(), |acc, (_, cov)| {
                acc + cov * cov / &self.var
            })
    }
}

/// Builds the witness of the module docs, or `None` if no candidate feature correlates
/// with the targets.
pub fn constructive_witness(
    arch: &Arch,
    data: &Dataset<BigRational>,
) -> Option<(Network<BigRational>, BigRational)> {
    let mut best: Option<(BigRational, usize, bool, BigRational, FeatureFit)> = None; // (gain, i, sign, t, fit)
    for i in 0..data.inputs() {
        let mut thresholds: Vec<BigRational> =
            (0..data.len()).map(|r| data.x(r)[i].clone()).collect();
        thresholds.sort();
        thresholds.dedup();
        for t in &thresholds {
            for positive in [true, false] {
                let Some(fit) = FeatureFit::new(data, i, positive, t) else {
                    continue;
                };
                let gain = fit.gain();
                if gain.is_positive() && best.as_ref().is_none_or(|b| gain > b.0) {
                    best = Some((gain, i, positive, t.clone(), fit));
                }
            }
        }
    }
    let (_, i, positive, t, fit) = best?;
    let mut params = vec![BigRational::zero(); arch.num_params()];
    let one = BigRational::from_integer(1.into());
    params[arch.weight_index(1, 0, i)] = if positive { one.clone() } else { -one.clone() };
    params[arch.bias_index(1, 0)] = if positive { -t } else { t };
    for k in 2..arch.depth() {
        params[arch.weight_index(k, 0, 0)] = one.clone();
    }
    let last = arch.depth();
    for (o, (mean_y, cov)) in fit.outputs.iter().enumerate() {
        let beta = cov / &fit.var;
        params[arch.bias_index(last, o)] = mean_y - &beta * &fit.mean_phi;
        params[arch.weight_index(last, o, 0)] = beta;
    }
    let net = Network::new(arch.clone(), params).ok()?;
    let risk = net.risk(data, None).ok()?;
    Some((net, risk))
}

/// One exact optimizer run in enclosure arithmetic ([`DyadicInterval`]), checking the
/// mechanism at every step.
#[allow(clippy::too_many_arguments)]
fn run_optimizer(
    exact_dead_at_start: bool,
    net: &Network<DyadicInterval>,
    data: &Dataset<DyadicInterval>,
    resolved: &Resolved,
    opt: &OptimizerConfig<DyadicInterval>,
    config: &TrainConfig,
    k: usize,
    v: &DyadicInterval,
) -> Result<OptimizerRun, crate::net::NetError> {
    let frozen = frozen_range(net.arch(), k);
    let theta0 = net.params().to_vec();
    let (mut is_frozen, mut dead, mut constant, mut not_below) = (true, true, true, Some(true));
    let arch = net.arch().clone();
    train(net, data, opt, config, None, |view| {
        let unchanged = theta0[frozen.clone()]
            .iter()
            .zip(&view.theta[frozen.clone()])
            .all(|(a, b)| a.identical(b));
        is_frozen &= unchanged;
        // Layer k's pre-activations are a function of the frozen coordinates and the data
        // only: while those are bit-identical to theta_0 the layer is the same dead layer,
        // as decided exactly on theta_0 by the audit itself, and fact 1 makes the realization
        // constant. Whenever they are not, recompute in enclosure arithmetic. Checked at
        // the last step in any case.
        if !unchanged || view.step == config.steps {
            let found = if unchanged {
                Some((exact_dead_at_start, exact_dead_at_start))
            } else {
                Network::new(arch.clone(), view.theta.to_vec())
                    .ok()
                    .and_then(|n| activity_on_data(&n, data).ok())
                    .map(|act| (act.dead_layers().contains(&k), act.constant_on_data()))
            };
            match found {
                Some((d, c)) => {
                    dead &= d;
                    constant &= c;
                }
                None => (dead, constant) = (false, false),
            }
        }
        match view.risk.sub_ref(v).sign() {
            Sign::Negative => not_below = Some(false),
            Sign::Undecided if not_below == Some(true) => not_below = None,
            _ => {}
        }
    })?;
    Ok(OptimizerRun {
        resolved: resolved.clone(),
        steps: config.steps,
        batch: config.batch,
        batch_seed: config.batch_seed,
        frozen: is_frozen,
        layer_stayed_dead: dead,
        constant_realization: constant,
        risk_never_below_v: not_below,
    })
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
    let net_i: Network<DyadicInterval> = net.convert()?;
    let data_i: Dataset<DyadicInterval> = data.convert()?;
    let v_i = DyadicInterval::from_rational(&v);
    let mut runs = Vec::new();
    for kind in &options.optimizers {
        let resolved = options
            .hyper
            .resolve(*kind)
            .map_err(|source| AuditError::Hyper {
                optimizer: kind.name(),
                source,
            })?;
        let opt = resolved
            .build::<DyadicInterval>()
            .map_err(|source| AuditError::Hyper {
                optimizer: kind.name(),
                source,
            })?;
        let mut configs = vec![TrainConfig {
            steps: options.steps,
            batch: None,
            batch_seed: options.batch_seed,
        }];
        if let Some(b) = options.batch.filter(|&b| b < data.len()) {
            configs.push(TrainConfig {
                steps: options.steps,
                batch: Some(b),
                batch_seed: options.batch_seed,
            });
        }
        for config in configs {
            crate::cancel::point();
            progress(&format!(
                "{} ({})",
                kind.name(),
                config
                    .batch
                    .map(|b| format!("mini-batch {b}"))
                    .unwrap_or_else(|| "full batch".into())
            ));
            let run = run_optimizer(
                exact_dead_at_start,
                &net_i,
                &data_i,
                &resolved,
                &opt,
                &config,
                k,
                &v_i,
            )?;
            if !(run.frozen && run.layer_stayed_dead && run.constant_realization)
                || run.risk_never_below_v == Some(false)
            {
                reasons.push(format!(
                    "the {} run did not stay frozen and constant",
                    kind.name()
                ));
            }
            runs.push(run);
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scalar::q;

    #[test]
    fn witness_beats_v_on_abs() {
        let data = "grid:-1,1:5"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(1, 1, &crate::data::Target::Abs, 0)
            .unwrap();
        let arch = Arch::new(vec![1, 3, 2, 1]).unwrap();
        let (_, risk) = constructive_witness(&arch, &data).unwrap();
        let (v, _) = data.best_constant();
        // y = |x| on {-1,-1/2,0,1/2,1}: mean 3/5, V = 7/50
        assert_eq!(v, q(7, 50));
        assert!(risk < v);
    }

    #[test]
    fn constant_targets_have_no_witness() {
        let data = "grid:-1,1:5"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(1, 1, &crate::data::Target::Const(q(1, 3)), 0)
            .unwrap();
        assert!(constructive_witness(&Arch::new(vec![1, 2, 1]).unwrap(), &data).is_none());
    }
}
