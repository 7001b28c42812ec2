//! SGD with optional momentum, dampening and Nesterov momentum (`torch.optim.SGD`).
//!
//! ```text
//! g <- g + wd theta
//! if momentum != 0:  b <- g (first step),  b <- mu b + (1 - dampening) g (later)
//!                    g <- g + mu b (nesterov)  or  g <- b
//! theta <- theta - lr g
//! ```

use super::{OptimError, Optimizer, apply_weight_decay, non_negative, positive, unit};
use crate::scalar::{Real, Scalar};

/// SGD's hyperparameters; `momentum = 0` is plain SGD.
///
/// Defaults are PyTorch's: `lr = 1e-3`, `momentum = 0`, `dampening = 0`,
/// `weight_decay = 0`, `nesterov = false` (`maximize = false` is the only mode).
/// Admissible: `lr > 0`, `momentum` in `[0, 1)`, `dampening` in `[0, 1]`,
/// `weight_decay >= 0`; Nesterov momentum needs `momentum > 0` and `dampening = 0`
/// (PyTorch's rule). The Coq proof of the frozen property (proofs/Optimizers.v) covers
/// dampening 0; with any dampening a zero gradient history keeps the buffer at zero.
#[derive(Debug, Clone, PartialEq)]
pub struct SgdConfig<S> {
    lr: S,
    momentum: S,
    dampening: S,
    nesterov: bool,
    weight_decay: S,
}

/// SGD's state: PyTorch's `momentum_buffer`, absent until the first step with momentum.
#[derive(Debug, Clone, PartialEq)]
pub struct SgdState<S> {
    /// Steps taken so far.
    pub step: u64,
    /// `b`, one per coordinate; `None` before the first step or without momentum.
    pub momentum_buffer: Option<Vec<S>>,
}

impl<S: Scalar> Default for SgdConfig<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> SgdConfig<S> {
    /// PyTorch's defaults (plain SGD, `lr = 1e-3`).
    pub fn new() -> Self {
        Self {
            lr: S::from_ratio(1, 1000),
            momentum: S::zero(),
            dampening: S::zero(),
            nesterov: false,
            weight_decay: S::zero(),
        }
    }
    accessors! {
        /// Learning rate.
        lr, with_lr, "Sets the learning rate.", "`lr > 0`";
        /// Momentum `mu`.
        momentum, with_momentum, "Sets the momentum.", "`momentum` is in `[0, 1)`;";
        /// Dampening.
        dampening, with_dampening, "Sets the dampening.", "`dampening` is in `[0, 1]`;";
        /// Weight decay.
        weight_decay, with_weight_decay, "Sets the weight decay.", "`weight_decay >= 0`";
    }
    /// Switches Nesterov momentum on or off.
    ///
    /// # Errors
    /// [`OptimError::Incompatible`] for Nesterov with `momentum = 0` or `dampening != 0`.
    pub fn with_nesterov(self, nesterov: bool) -> Result<Self, OptimError> {
        Self { nesterov, ..self }.validated()
    }
    /// Whether the momentum is Nesterov's.
    pub fn nesterov(&self) -> bool {
        self.nesterov
    }

    /// The same hyperparameters in another scalar type, not yet validated.
    pub(super) fn map<T>(&self, f: impl Fn(&S) -> T) -> SgdConfig<T> {
        SgdConfig {
            lr: f(&self.lr),
            momentum: f(&self.momentum),
            dampening: f(&self.dampening),
            nesterov: self.nesterov,
            weight_decay: f(&self.weight_decay),
        }
    }
    /// Checks every range.
    pub(super) fn validated(self) -> Result<Self, OptimError> {
        positive("lr", &self.lr)?;
        unit("momentum", &self.momentum)?;
        non_negative("dampening", &self.dampening)?;
        if S::one().sub_ref(&self.dampening).sign() == crate::scalar::Sign::Negative {
            return Err(OptimError::OutOfRange {
                parameter: "dampening",
                value: self.dampening.to_exact_string(),
                expected: "must be in [0, 1]",
            });
        }
        non_negative("weight_decay", &self.weight_decay)?;
        if self.nesterov && (self.momentum.is_zero() || !self.dampening.is_zero()) {
            return Err(OptimError::Incompatible {
                parameter: "momentum",
                reason: "Nesterov momentum needs momentum > 0 and dampening 0",
            });
        }
        Ok(self)
    }
}

impl<S: Real> Optimizer<S> for SgdConfig<S> {
    type State = SgdState<S>;
    fn init(&self, _dim: usize) -> SgdState<S> {
        SgdState {
            step: 0,
            momentum_buffer: None,
        }
    }
    fn step(&self, theta: &[S], grad: &[S], state: &mut SgdState<S>) -> Vec<S> {
        assert_eq!(theta.len(), grad.len(), "theta and gradient lengths");
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let direction = if self.momentum.is_zero() {
            g
        } else {
            let buffer = match state.momentum_buffer.take() {
                // first step: b = g (torch.clone(grad).detach())
                None => g.clone(),
                Some(old) => {
                    let keep = S::one().sub_ref(&self.dampening);
                    old.iter()
                        .zip(&g)
                        .map(|(b, gi)| {
                            let damped = if self.dampening.is_zero() {
                                gi.clone()
                            } else {
                                keep.mul_ref(gi)
                            };
                            self.momentum.mul_ref(b).add_ref(&damped)
                        })
                        .collect()
                }
            };
            let direction = if self.nesterov {
                g.iter()
                    .zip(&buffer)
                    .map(|(gi, b)| gi.add_ref(&self.momentum.mul_ref(b)))
                    .collect()
            } else {
                buffer.clone()
            };
            state.momentum_buffer = Some(buffer);
            direction
        };
        theta
            .iter()
            .zip(&direction)
            .map(|(p, d)| {
                if d.is_zero() {
                    p.clone()
                } else {
                    p.sub_ref(&self.lr.mul_ref(d))
                }
            })
            .collect()
    }
}
