//! NAdam (`torch.optim.NAdam`, `decoupled_weight_decay = False`).
//!
//! ```text
//! g <- g + wd theta
//! mu_t = b1 (1 - 0.5 * 0.96^(t psi));  mu_{t+1} = b1 (1 - 0.5 * 0.96^((t+1) psi));  P <- P mu_t
//! m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  d = sqrt(v / (1 - b2^t)) + eps
//! theta <- theta - lr (1 - mu_t) / (1 - P) g / d - lr mu_{t+1} / (1 - P mu_{t+1}) m / d
//! ```
//! As torch's `_single_tensor_nadam`: `bias_correction2 = 1 - beta2 ** step`,
//! `mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))`, `mu_product *= mu` (a
//! float64 tensor when torch's default dtype is float64; float32 otherwise, which the
//! `f64` path here does not imitate). `b2^t`, `0.96^((t+1) psi)` and `P` are carried in
//! the state. `0.96^(t psi) = (24/25)^(t psi)` is a real power: in exact mode
//! `(24/25)^psi` is enclosed once and its powers are products of enclosures.

use super::{
    OptimError, Optimizer, apply_weight_decay, ema, epsilon, next_power, non_negative, positive,
    unit,
};
use crate::scalar::{Real, Scalar};
use num_rational::Ratio;

/// NAdam's hyperparameters.
///
/// Defaults are PyTorch's: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0` (L2; `decoupled_weight_decay = False`, the only mode here),
/// `momentum_decay = 4e-3`. Admissible: `lr > 0`, betas in `[0, 1)`, `eps > 0`,
/// `weight_decay >= 0`, `momentum_decay` a ratio of `u32`s with a non-zero denominator
/// (it is an exponent: exact mode encloses `(24/25)^momentum_decay`).
#[derive(Debug, Clone, PartialEq)]
pub struct NadamConfig<S> {
    lr: S,
    betas: (S, S),
    eps: S,
    weight_decay: S,
    momentum_decay: Ratio<u32>,
}

/// NAdam's state.
#[derive(Debug, Clone, PartialEq)]
pub struct NadamState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `b2^step` (1 before the first step).
    pub beta2_power: S,
    /// `P = mu_1 mu_2 ... mu_step`, PyTorch's `mu_product` (1 before the first step).
    pub mu_product: S,
    /// `0.96^psi`, enclosed once (exact mode's factor from one power to the next).
    pub decay_root: S,
    /// `0.96^((step + 1) psi)`: the power in `mu_{t+1}` of the last step, which is the
    /// `mu_t` of the next one.
    pub decay_power: S,
    /// `m`, the first moment.
    pub exp_avg: Vec<S>,
    /// `v`, the second moment.
    pub exp_avg_sq: Vec<S>,
}

impl<S: Scalar> Default for NadamConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> NadamConfig<S> {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(2, 1000),
            betas: (S::from_ratio(9, 10), S::from_ratio(999, 1000)),
            eps: S::from_ratio(1, 100_000_000),
            weight_decay: S::zero(),
            momentum_decay: Ratio::new(4, 1000),
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
    /// Sets the momentum decay `psi`.
    ///
    /// # Errors
    /// [`OptimError::OutOfRange`] for a zero denominator.
    pub fn with_momentum_decay(self, momentum_decay: Ratio<u32>) -> Result<Self, OptimError> {
        Self {
            momentum_decay,
            ..self
        }
        .validated()
    }
    /// Momentum decay `psi`.
    pub fn momentum_decay(&self) -> Ratio<u32> {
        self.momentum_decay
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> NadamConfig<T> {
        NadamConfig {
            lr: f(&self.lr),
            betas: (f(&self.betas.0), f(&self.betas.1)),
            eps: f(&self.eps),
            weight_decay: f(&self.weight_decay),
            momentum_decay: self.momentum_decay,
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        unit("beta1", &self.betas.0)?;
        unit("beta2", &self.betas.1)?;
        epsilon(&self.eps)?;
        non_negative("weight_decay", &self.weight_decay)?;
        if *self.momentum_decay.denom() == 0 {
            return Err(OptimError::OutOfRange {
                parameter: "momentum_decay",
                value: format!("{}/0", self.momentum_decay.numer()),
                expected: "must have a non-zero denominator",
            });
        }
        Ok(self)
    }
    /// `psi` as the `(p, r)` of [`Real::step_power`].
    fn exponent(&self) -> (u64, u64) {
        (
            u64::from(*self.momentum_decay.numer()),
            u64::from(*self.momentum_decay.denom()),
        )
    }
}

/// `0.96`, the base of PyTorch's momentum schedule.
fn decay_base<S: Scalar>() -> S {
    S::from_ratio(24, 25)
}

impl<S: Real> Optimizer<S> for NadamConfig<S> {
    type State = NadamState<S>;
    fn init(&self, dim: usize) -> NadamState<S> {
        let (p, r) = self.exponent();
        let decay_root = decay_base::<S>().pow_ratio(p, r);
        let decay_power = S::step_power(&decay_base(), &decay_root, &S::one(), 1, (p, r));
        NadamState {
            step: 0,
            beta2_power: S::one(),
            mu_product: S::one(),
            decay_root,
            decay_power,
            exp_avg: vec![S::zero(); dim],
            exp_avg_sq: vec![S::zero(); dim],
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut NadamState<S>) -> Vec<S> {
        assert!(theta.len() == grad.len() && grad.len() == state.exp_avg.len());
        let (beta1, beta2) = &self.betas;
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let t = state.step;
        state.beta2_power = next_power(beta2, &state.beta2_power, t);
        let decay = std::mem::replace(&mut state.decay_power, S::zero());
        state.decay_power = S::step_power(
            &decay_base(),
            &state.decay_root,
            &decay,
            t + 1,
            self.exponent(),
        )
        // an enclosure's endpoints would grow by the root's bits at every step
        .tighten();
        let half = S::from_ratio(1, 2);
        let mu = beta1.mul_ref(&S::one().sub_ref(&half.mul_ref(&decay)));
        let mu_next = beta1.mul_ref(&S::one().sub_ref(&half.mul_ref(&state.decay_power)));
        state.mu_product = state.mu_product.mul_ref(&mu).tighten();
        let product = &state.mu_product;
        let bias_correction2 = S::one().sub_ref(&state.beta2_power);
        let coef_g = self
            .lr
            .mul_ref(&S::one().sub_ref(&mu))
            .div_ref(&S::one().sub_ref(product));
        let coef_m = self
            .lr
            .mul_ref(&mu_next)
            .div_ref(&S::one().sub_ref(&product.mul_ref(&mu_next)));
        let NadamState {
            exp_avg,
            exp_avg_sq,
            ..
        } = state;
        (0..theta.len())
            .map(|i| {
                exp_avg[i] = ema(beta1, &exp_avg[i], &g[i]);
                exp_avg_sq[i] = ema(beta2, &exp_avg_sq[i], &g[i].square());
                if exp_avg[i].is_zero() && g[i].is_zero() {
                    return theta[i].clone();
                }
                let d = exp_avg_sq[i]
                    .div_ref(&bias_correction2)
                    .sqrt()
                    .add_ref(&self.eps);
                theta[i]
                    .sub_ref(&coef_g.mul_ref(&g[i]).div_ref(&d))
                    .sub_ref(&coef_m.mul_ref(&exp_avg[i]).div_ref(&d))
            })
            .collect()
    }
}
