//! RMSprop (`torch.optim.RMSprop`), with the `centered` and `momentum` options.
//!
//! ```text
//! g <- g + wd theta;  v <- alpha v + (1 - alpha) g^2
//! centered: ga <- alpha ga + (1 - alpha) g;  vt = v - ga^2;  else vt = v
//! d = sqrt(vt) + eps
//! momentum > 0: b <- mu b + g / d;  theta <- theta - lr b
//! else:         theta <- theta - lr g / d
//! ```
//! No power of the step counter appears: nothing to carry but the buffers.

use super::{
    OptimError, Optimizer, apply_weight_decay, ema, epsilon, non_negative, positive, unit,
};
use crate::scalar::{Real, Scalar};

/// RMSprop's hyperparameters.
///
/// Defaults are PyTorch's: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`,
/// `weight_decay = 0`, `momentum = 0`, `centered = false`. Admissible: `lr > 0`,
/// `alpha` and `momentum` in `[0, 1)`, `eps > 0`, `weight_decay >= 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct RmspropConfig<S> {
    lr: S,
    alpha: S,
    eps: S,
    weight_decay: S,
    momentum: S,
    centered: bool,
}

/// RMSprop's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RmspropState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `v`, the moving average of squared gradients.
    pub square_avg: Vec<S>,
    /// `ga`, the moving average of gradients; `Some` exactly when centered.
    pub grad_avg: Option<Vec<S>>,
    /// `b`; `Some` exactly when `momentum > 0`.
    pub momentum_buffer: Option<Vec<S>>,
}

impl<S: Scalar> Default for RmspropConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> RmspropConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(1, 100),
            alpha: S::from_ratio(99, 100),
            eps: S::from_ratio(1, 100_000_000),
            weight_decay: S::zero(),
            momentum: S::zero(),
            centered: false,
        }
    }
    accessors! {
        /// Learning rate.
        lr, with_lr, "Sets the learning rate.", "`lr > 0`";
        /// `alpha`.
        alpha, with_alpha, "Sets the smoothing constant `alpha`.", "`alpha` is in `[0, 1)`";
        /// `eps`.
        eps, with_eps, "Sets `eps`.", "`eps > 0`";
        /// Weight decay.
        weight_decay, with_weight_decay, "Sets the weight decay.", "`weight_decay >= 0`";
        /// Momentum.
        momentum, with_momentum, "Sets the momentum.", "`momentum` is in `[0, 1)`";
    }
    /// Centers the second moment (`v - ga^2`) or not.
    pub fn with_centered(self, centered: bool) -> Self {
        Self { centered, ..self }
    }
    /// Whether the second moment is centered.
    pub fn centered(&self) -> bool {
        self.centered
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> RmspropConfig<T> {
        RmspropConfig {
            lr: f(&self.lr),
            alpha: f(&self.alpha),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
            momentum: f(&self.momentum),
            centered: self.centered,
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        unit("alpha", &self.alpha)?;
        epsilon(&self.eps)?;
        non_negative("weight_decay", &self.weight_decay)?;
        unit("momentum", &self.momentum)?;
        Ok(self)
    }
}

impl<S: Real> Optimizer<S> for RmspropConfig<S> {
    type State = RmspropState<S>;
    fn init(&self, dim: usize) -> RmspropState<S> {
        let zeros = || vec![S::zero(); dim];
        RmspropState {
            step: 0,
            square_avg: zeros(),
            grad_avg: self.centered.then(zeros),
            momentum_buffer: (!self.momentum.is_zero()).then(zeros),
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut RmspropState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.square_avg.len());
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        (0..theta.len())
            .map(|i| {
                let gi = &g[i];
                let v = &mut state.square_avg[i];
                *v = ema(&self.alpha, v, &gi.square());
                let vt = match state.grad_avg.as_mut() {
                    Some(grad_avg) => {
                        grad_avg[i] = ema(&self.alpha, &grad_avg[i], gi);
                        v.sub_ref(&grad_avg[i].square())
                    }
                    None => v.clone(),
                };
                let scaled = if gi.is_zero() {
                    S::zero()
                } else {
                    gi.div_ref(&vt.sqrt().add_ref(&self.eps))
                };
                let direction = match state.momentum_buffer.as_mut() {
                    Some(buffer) => {
                        buffer[i] = self.momentum.mul_ref(&buffer[i]).add_ref(&scaled);
                        buffer[i].clone()
                    }
                    None => scaled,
                };
                if direction.is_zero() {
                    theta[i].clone()
                } else {
                    theta[i].sub_ref(&self.lr.mul_ref(&direction))
                }
            })
            .collect()
    }
}
