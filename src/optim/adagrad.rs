//! Adagrad (`torch.optim.Adagrad`).
//!
//! ```text
//! g <- g + wd theta;  clr = lr / (1 + (t - 1) lr_decay)
//! s <- s + g^2;       theta <- theta - clr g / (sqrt(s) + eps)
//! ```

use super::{OptimError, Optimizer, apply_weight_decay, epsilon, non_negative, positive};
use crate::scalar::{Real, Scalar};

/// Adagrad's hyperparameters.
///
/// Defaults are PyTorch's: `lr = 1e-2`, `lr_decay = 0`, `weight_decay = 0`,
/// `initial_accumulator_value = 0` (the only value here: the frozen property is proved
/// from a zero initial state), `eps = 1e-10`. Admissible: `lr > 0`, `lr_decay >= 0`,
/// `weight_decay >= 0`, `eps > 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdagradConfig<S> {
    lr: S,
    lr_decay: S,
    eps: S,
    weight_decay: S,
}

/// Adagrad's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AdagradState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `s`, the running sum of squared gradients (PyTorch's `sum`).
    pub sum: Vec<S>,
}

impl<S: Scalar> Default for AdagradConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> AdagradConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(1, 100),
            lr_decay: S::zero(),
            eps: S::from_ratio(1, 10_000_000_000),
            weight_decay: S::zero(),
        }
    }
    accessors! {
        /// Learning rate.
        lr, with_lr, "Sets the learning rate.", "`lr > 0`";
        /// Learning-rate decay.
        lr_decay, with_lr_decay, "Sets the learning-rate decay.", "`lr_decay >= 0`";
        /// `eps`.
        eps, with_eps, "Sets `eps`.", "`eps > 0`";
        /// Weight decay.
        weight_decay, with_weight_decay, "Sets the weight decay.", "`weight_decay >= 0`";
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> AdagradConfig<T> {
        AdagradConfig {
            lr: f(&self.lr),
            lr_decay: f(&self.lr_decay),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        non_negative("lr_decay", &self.lr_decay)?;
        epsilon(&self.eps)?;
        non_negative("weight_decay", &self.weight_decay)?;
        Ok(self)
    }
}

impl<S: Real> Optimizer<S> for AdagradConfig<S> {
    type State = AdagradState<S>;
    fn init(&self, dim: usize) -> AdagradState<S> {
        AdagradState {
            step: 0,
            sum: vec![S::zero(); dim],
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut AdagradState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.sum.len());
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let decays = S::from_int(i64::try_from(state.step - 1).unwrap_or(i64::MAX));
        let clr = self
            .lr
            .div_ref(&S::one().add_ref(&decays.mul_ref(&self.lr_decay)));
        theta
            .iter()
            .zip(&g)
            .zip(state.sum.iter_mut())
            .map(|((p, gi), sum)| {
                if gi.is_zero() {
                    return p.clone();
                }
                *sum = sum.add_ref(&gi.square());
                let denom = sum.sqrt().add_ref(&self.eps);
                p.sub_ref(&clr.mul_ref(gi).div_ref(&denom))
            })
            .collect()
    }
}
