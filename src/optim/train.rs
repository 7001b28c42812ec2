//! Training: full-batch gradient descent or seeded mini-batches, with any optimizer, in
//! `f64` or in exact mode (certified enclosures).
//!
//! Mini-batches: at every step, `batch` distinct indices drawn uniformly without
//! replacement (rand 0.8.5 `seq::index::sample`) from `ChaCha8Rng::seed_from_u64(batch_seed)`;
//! the full data set when `batch` is `None` or `>= M`.
//!
//! Exact mode: theta is a vector of [`crate::scalar::Interval`]s, points at the start. A
//! coordinate that moves is rounded outward when its endpoints grow beyond
//! [`crate::prec::ENCLOSURE_MAX_BITS`] ([`Real::tighten`]); a coordinate that never moves is
//! never touched and stays bit-identical to theta_0.

use crate::data::Dataset;
use crate::net::{NetError, Network};
use crate::optim::Optimizer;
use crate::scalar::{Real, Scalar};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// How to train.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainConfig {
    /// Number of optimizer steps.
    pub steps: u64,
    /// Mini-batch size; `None` for full batches.
    pub batch: Option<usize>,
    /// Seed of the mini-batch sampler.
    pub batch_seed: u64,
}

/// What one step looked like (passed to the observer).
#[derive(Debug)]
pub struct StepView<'a, S: Scalar> {
    /// Step index `n` (theta_n is the parameter before step `n + 1`).
    pub step: u64,
    /// Full-data risk at theta_n.
    pub risk: &'a S,
    /// theta_n.
    pub theta: &'a [S],
}

/// The result of a training run.
#[derive(Debug, Clone)]
pub struct TrainRun<S: Scalar> {
    /// theta_0.
    pub initial: Network<S>,
    /// theta_T.
    pub last: Network<S>,
    /// Full-data risk at theta_0.
    pub risk_initial: S,
    /// Full-data risk at theta_T.
    pub risk_final: S,
    /// `moved[i]`: whether coordinate `i` ever changed (not bit-identical to theta_0).
    pub moved: Vec<bool>,
    /// `zero_gradient_history[i]`: whether the gradient of coordinate `i` was exactly zero
    /// at every step (a decided zero; enclosures containing zero do not count).
    pub zero_gradient_history: Vec<bool>,
    /// Steps whose full-data risk went below `floor` (when a floor was given).
    pub steps_below_floor: Vec<u64>,
    /// Whether a non-finite value appeared (f64 only).
    pub diverged: bool,
    /// Enclosures (exact mode) only: the step at which the enclosure of the risk or of a
    /// coordinate left `f64`'s range, where the run stopped (`last` and `risk_final` are
    /// that step's). Interval arithmetic over-approximates each step's dependencies (the
    /// wrapping effect), so on a long run whose iterates do not settle the enclosures
    /// can widen geometrically; past this point they would say nothing, and their
    /// exponents would grow without bound.
    pub enclosure_lost_at: Option<u64>,
}

impl<S: Scalar> TrainRun<S> {
    /// Number of coordinates that never moved.
    pub fn frozen_count(&self) -> usize {
        self.moved.iter().filter(|m| !**m).count()
    }
}

/// Trains `net` on `data` with `opt` for `config.steps` steps. `observe` sees every
/// theta_n, `n = 0..=T`, with its full-data risk; `floor` (e.g. the best-constant risk)
/// records the steps whose risk is decidedly below it.
///
/// # Errors
/// [`NetError`] when the data do not fit the network or the batch is empty.
pub fn train<S: Real, O: Optimizer<S> + ?Sized>(
    net: &Network<S>,
    data: &Dataset<S>,
    opt: &O,
    config: &TrainConfig,
    floor: Option<&S>,
    mut observe: impl FnMut(StepView<'_, S>),
) -> Result<TrainRun<S>, NetError> {
    let dim = net.params().len();
    let mut theta = net.params().to_vec();
    let mut state = opt.init(dim);
    let mut moved = vec![false; dim];
    let mut zero_history = vec![true; dim];
    let mut below = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(config.batch_seed);
    let m = data.len();
    let batch_size = config.batch.filter(|&b| b < m);
    if config.batch == Some(0) {
        return Err(NetError::Batch {
            reason: "batch size 0".into(),
        });
    }
    let mut risk_initial = None;
    let mut diverged = false;
    let mut current = Network::new(net.arch().clone(), theta.clone())?;
    for step in 0..=config.steps {
        crate::cancel::point();
        let full = if step == config.steps || batch_size.is_some() {
            None
        } else {
            Some(current.risk_and_gradient(data, None)?)
        };
        let risk = match &full {
            Some((r, _)) => r.clone(),
            None => current.risk(data, None)?,
        };
        if let Some(f) = floor
            && risk.sub_ref(f).sign() == crate::scalar::Sign::Negative
        {
            below.push(step);
        }
        if !S::EXACT && !risk.to_f64().is_finite() {
            diverged = true;
        }
        let lost = S::EXACT
            && !(risk.to_f64().is_finite() && theta.iter().all(|t| t.to_f64().is_finite()));
        observe(StepView {
            step,
            risk: &risk,
            theta: &theta,
        });
        if risk_initial.is_none() {
            risk_initial = Some(risk.clone());
        }
        if step == config.steps || lost {
            let risk_final = risk;
            return Ok(TrainRun {
                initial: net.clone(),
                last: current,
                risk_initial: risk_initial.unwrap_or_else(|| risk_final.clone()),
                risk_final,
                moved,
                zero_gradient_history: zero_history,
                steps_below_floor: below,
                diverged,
                enclosure_lost_at: lost.then_some(step),
            });
        }
        let grad = match (full, batch_size) {
            (Some((_, g)), _) => g,
            (None, Some(b)) => {
                let idx = rand::seq::index::sample(&mut rng, m, b).into_vec();
                current.risk_and_gradient(data, Some(&idx))?.1
            }
            (None, None) => current.risk_and_gradient(data, None)?.1,
        };
        for (z, g) in zero_history.iter_mut().zip(&grad) {
            *z &= g.sign() == crate::scalar::Sign::Zero;
        }
        let next = opt.step(&theta, &grad, &mut state);
        theta = next
            .into_iter()
            .zip(theta.iter())
            .zip(moved.iter_mut())
            .map(|((new, old), mv)| {
                if new.identical(old) {
                    new
                } else {
                    *mv = true;
                    new.tighten()
                }
            })
            .collect();
        current = Network::new(net.arch().clone(), theta.clone())?;
    }
    unreachable!("the loop returns at step == steps")
}
