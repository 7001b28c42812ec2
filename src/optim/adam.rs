//! Adam and AMSGrad (`torch.optim.Adam`, `amsgrad = True`).
//!
//! ```text
//! g <- g + wd theta;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//! c1 = 1 - b1^t;  c2 = 1 - b2^t
//! amsgrad: vmax <- max(vmax, v) (on the uncorrected v, as current PyTorch);  w = vmax;  else w = v
//! theta <- theta - (lr / c1) m / (sqrt(w) / sqrt(c2) + eps)
//! ```
//! `b1^t` and `b2^t` are carried in the state ([`AdamState::beta1_power`]); torch's
//! `_single_tensor_adam` computes `bias_correction1 = 1 - beta1 ** step` with `step` the
//! float step counter, which is what the `f64` path computes.

use super::{
    OptimError, Optimizer, apply_weight_decay, ema, epsilon, next_power, non_negative, positive,
    unit,
};
use crate::scalar::{Real, Scalar};

/// Adam's hyperparameters (AMSGrad with `amsgrad = true`).
///
/// Defaults are PyTorch's: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0` (L2, added to the gradient; `decoupled_weight_decay = False`),
/// `amsgrad = false`. Admissible: `lr > 0`, betas in `[0, 1)`, `eps > 0`,
/// `weight_decay >= 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamConfig<S> {
    lr: S,
    betas: (S, S),
    eps: S,
    weight_decay: S,
    amsgrad: bool,
}

/// Adam's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState<S> {
    /// Steps taken so far (`t` after the step).
    pub step: u64,
    /// `b1^step` (1 before the first step).
    pub beta1_power: S,
    /// `b2^step` (1 before the first step).
    pub beta2_power: S,
    /// `m`, the first moment.
    pub exp_avg: Vec<S>,
    /// `v`, the second moment.
    pub exp_avg_sq: Vec<S>,
    /// `vmax`; `Some` exactly for AMSGrad.
    pub max_exp_avg_sq: Option<Vec<S>>,
}

impl<S: Scalar> Default for AdamConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> AdamConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(1, 1000),
            betas: (S::from_ratio(9, 10), S::from_ratio(999, 1000)),
            eps: S::from_ratio(1, 100_000_000),
            weight_decay: S::zero(),
            amsgrad: false,
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
    /// AMSGrad or plain Adam.
    pub fn with_amsgrad(self, amsgrad: bool) -> Self {
        Self { amsgrad, ..self }
    }
    /// Whether this is AMSGrad.
    pub fn amsgrad(&self) -> bool {
        self.amsgrad
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> AdamConfig<T> {
        AdamConfig {
            lr: f(&self.lr),
            betas: (f(&self.betas.0), f(&self.betas.1)),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
            amsgrad: self.amsgrad,
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

impl<S: Real> Optimizer<S> for AdamConfig<S> {
    type State = AdamState<S>;
    fn init(&self, dim: usize) -> AdamState<S> {
        AdamState {
            step: 0,
            beta1_power: S::one(),
            beta2_power: S::one(),
            exp_avg: vec![S::zero(); dim],
            exp_avg_sq: vec![S::zero(); dim],
            max_exp_avg_sq: self.amsgrad.then(|| vec![S::zero(); dim]),
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut AdamState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.exp_avg.len());
        let (beta1, beta2) = &self.betas;
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let t = state.step;
        state.beta1_power = next_power(beta1, &state.beta1_power, t);
        state.beta2_power = next_power(beta2, &state.beta2_power, t);
        let bias_correction1 = S::one().sub_ref(&state.beta1_power);
        let bias_correction2_sqrt = S::one().sub_ref(&state.beta2_power).sqrt();
        let step_size = self.lr.div_ref(&bias_correction1);
        let AdamState {
            exp_avg,
            exp_avg_sq,
            max_exp_avg_sq,
            ..
        } = state;
        (0..theta.len())
            .map(|i| {
                exp_avg[i] = ema(beta1, &exp_avg[i], &g[i]);
                exp_avg_sq[i] = ema(beta2, &exp_avg_sq[i], &g[i].square());
                let second = match max_exp_avg_sq.as_mut() {
                    Some(max) => {
                        max[i] = max[i].max(&exp_avg_sq[i]);
                        &max[i]
                    }
                    None => &exp_avg_sq[i],
                };
                if exp_avg[i].is_zero() {
                    return theta[i].clone();
                }
                let denom = second
                    .sqrt()
                    .div_ref(&bias_correction2_sqrt)
                    .add_ref(&self.eps);
                theta[i].sub_ref(&step_size.mul_ref(&exp_avg[i]).div_ref(&denom))
            })
            .collect()
    }
}
