//! Adamax (`torch.optim.Adamax`).
//!
//! ```text
//! g <- g + wd theta;  m <- b1 m + (1 - b1) g;  u <- max(b2 u, |g| + eps)
//! theta <- theta - (lr / (1 - b1^t)) m / u
//! ```
//! Rational throughout: no enclosure is needed. `b1^t` is carried in the state; torch's
//! `_single_tensor_adamax` computes `bias_correction = 1 - beta1 ** step`.

use super::{
    OptimError, Optimizer, apply_weight_decay, ema, epsilon, next_power, non_negative, positive,
    unit,
};
use crate::scalar::{Real, Scalar};

/// Adamax's hyperparameters.
///
/// Defaults are PyTorch's: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0`. Admissible: `lr > 0`, betas in `[0, 1)`, `eps > 0`,
/// `weight_decay >= 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamaxConfig<S> {
    lr: S,
    betas: (S, S),
    eps: S,
    weight_decay: S,
}

/// Adamax's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamaxState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `b1^step` (1 before the first step).
    pub beta1_power: S,
    /// `m`, the first moment.
    pub exp_avg: Vec<S>,
    /// `u`, the exponentially weighted infinity norm.
    pub exp_inf: Vec<S>,
}

impl<S: Scalar> Default for AdamaxConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> AdamaxConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(2, 1000),
            betas: (S::from_ratio(9, 10), S::from_ratio(999, 1000)),
            eps: S::from_ratio(1, 100_000_000),
            weight_decay: S::zero(),
        }
    }
    accessors! {
        /// Learning rate.
        lr, with_lr, "Sets the learning rate.", "`lr > 0`";
        /// `eps`.
        eps, with_eps, "Sets `eps`.", "`eps > 0`";
        /// Weight decay.
        weight_decay, with_weight_decay, "Sets the weight decay.", "`weight_decay >= 0`";
    }
    betas_accessors!();

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> AdamaxConfig<T> {
        AdamaxConfig {
            lr: f(&self.lr),
            betas: (f(&self.betas.0), f(&self.betas.1)),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        unit("beta1", &self.betas.0)?;
        unit("beta2", &self.betas.1)?;
        epsilon(&self.eps)?;
        non_negative("weight_decay", &self.weight_decay)?;
        Ok(self)
    }
}

impl<S: Real> Optimizer<S> for AdamaxConfig<S> {
    type State = AdamaxState<S>;
    fn init(&self, dim: usize) -> AdamaxState<S> {
        AdamaxState {
            step: 0,
            beta1_power: S::one(),
            exp_avg: vec![S::zero(); dim],
            exp_inf: vec![S::zero(); dim],
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut AdamaxState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.exp_avg.len());
        let (beta1, beta2) = &self.betas;
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        state.beta1_power = next_power(beta1, &state.beta1_power, state.step);
        let clr = self.lr.div_ref(&S::one().sub_ref(&state.beta1_power));
        let AdamaxState {
            exp_avg, exp_inf, ..
        } = state;
        (0..theta.len())
            .map(|i| {
                exp_avg[i] = ema(beta1, &exp_avg[i], &g[i]);
                exp_inf[i] = beta2
                    .mul_ref(&exp_inf[i])
                    .max(&g[i].abs().add_ref(&self.eps));
                if exp_avg[i].is_zero() {
                    theta[i].clone()
                } else {
                    theta[i].sub_ref(&clr.mul_ref(&exp_avg[i]).div_ref(&exp_inf[i]))
                }
            })
            .collect()
    }
}
