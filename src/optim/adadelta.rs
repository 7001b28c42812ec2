//! Adadelta (`torch.optim.Adadelta`), covered by Do, Jentzen & Riekert (2025).
//!
//! ```text
//! g <- g + wd theta;  v <- rho v + (1 - rho) g^2
//! delta = sqrt(u + eps) / sqrt(v + eps) * g;  u <- rho u + (1 - rho) delta^2
//! theta <- theta - lr delta
//! ```
//! No power of the step counter appears: nothing to carry but the buffers.

use super::{
    OptimError, Optimizer, apply_weight_decay, ema, epsilon, non_negative, positive, unit,
};
use crate::scalar::{Real, Scalar};

/// Adadelta's hyperparameters.
///
/// Defaults are PyTorch's: `lr = 1.0`, `rho = 0.9`, `eps = 1e-6`, `weight_decay = 0`.
/// Admissible: `lr > 0`, `rho` in `[0, 1)`, `eps > 0`, `weight_decay >= 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdadeltaConfig<S> {
    lr: S,
    rho: S,
    eps: S,
    weight_decay: S,
}

/// Adadelta's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AdadeltaState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `v`, the moving average of squared gradients.
    pub square_avg: Vec<S>,
    /// `u`, the moving average of squared updates.
    pub acc_delta: Vec<S>,
}

impl<S: Scalar> Default for AdadeltaConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> AdadeltaConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::one(),
            rho: S::from_ratio(9, 10),
            eps: S::from_ratio(1, 1_000_000),
            weight_decay: S::zero(),
        }
    }
    accessors! {
        /// Learning rate.
        lr, with_lr, "Sets the learning rate.", "`lr > 0`";
        /// `rho`.
        rho, with_rho, "Sets `rho`.", "`rho` is in `[0, 1)`";
        /// `eps`.
        eps, with_eps, "Sets `eps`.", "`eps > 0`";
        /// Weight decay.
        weight_decay, with_weight_decay, "Sets the weight decay.", "`weight_decay >= 0`";
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> AdadeltaConfig<T> {
        AdadeltaConfig {
            lr: f(&self.lr),
            rho: f(&self.rho),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        unit("rho", &self.rho)?;
        epsilon(&self.eps)?;
        non_negative("weight_decay", &self.weight_decay)?;
        Ok(self)
    }
}

impl<S: Real> Optimizer<S> for AdadeltaConfig<S> {
    type State = AdadeltaState<S>;
    fn init(&self, dim: usize) -> AdadeltaState<S> {
        AdadeltaState {
            step: 0,
            square_avg: vec![S::zero(); dim],
            acc_delta: vec![S::zero(); dim],
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut AdadeltaState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.square_avg.len());
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let AdadeltaState {
            square_avg,
            acc_delta,
            ..
        } = state;
        (0..theta.len())
            .map(|i| {
                square_avg[i] = ema(&self.rho, &square_avg[i], &g[i].square());
                if g[i].is_zero() {
                    // delta = 0: u decays, theta stays
                    acc_delta[i] = ema(&self.rho, &acc_delta[i], &S::zero());
                    return theta[i].clone();
                }
                let delta = acc_delta[i]
                    .add_ref(&self.eps)
                    .sqrt()
                    .div_ref(&square_avg[i].add_ref(&self.eps).sqrt())
                    .mul_ref(&g[i]);
                acc_delta[i] = ema(&self.rho, &acc_delta[i], &delta.square()).tighten();
                theta[i].sub_ref(&self.lr.mul_ref(&delta))
            })
            .collect()
    }
}
