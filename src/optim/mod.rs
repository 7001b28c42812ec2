//! The optimizers of the SGD family, one file each, generic over the scalar type.
//!
//! Each optimizer is a typed, validated configuration (`SgdConfig`, `AdamConfig`, ...)
//! whose defaults are PyTorch's, and a typed state with named fields (`AdamState` has
//! `exp_avg`, `exp_avg_sq`, `beta1_power`, ...). A step is pure: it reads the
//! configuration, `theta`, the gradient and the state, and returns `theta'` after updating
//! the state it was given ([`Optimizer::step`]); nothing else is touched.
//!
//! The update rules are `torch.optim`'s single-tensor ones (`maximize = False`,
//! `foreach`/`fused` irrelevant), as in torch's source (`_single_tensor_adam` and so on):
//!
//! - hyperparameters are exact ratios (`9/10`, never `from_f64(0.9)`), so in exact mode
//!   they are the numbers PyTorch's documentation states, and in `f64` the nearest
//!   doubles, which are the values of PyTorch's Python literals;
//! - the bias-correction powers `beta^t` (Adam, AMSGrad, Adamax, NAdam) and NAdam's
//!   `0.96^(t psi)` are carried in the state and advanced once per step by
//!   [`Real::step_power`]: in exact mode one product per step (exactly `beta^t`, or a
//!   certified enclosure of NAdam's real power), in `f64` `pow(beta, t)` as torch
//!   computes `beta1 ** step` (a Python float power, `step` a float). A run of `T` steps
//!   costs `O(T)` for the powers, not `O(T^2)`.
//!
//! All state starts at zero (PyTorch's SGD momentum buffer starts as the first gradient,
//! which is zero for a coordinate whose gradient is zero), `eps > 0`, so with no weight
//! decay every optimizer here is *coordinate-frozen* (MECHANISM.md, fact 3): a coordinate
//! whose gradient was zero at every step so far has never moved. Weight decay
//! (`g <- g + wd * theta`, [`apply_weight_decay`]) breaks this, on purpose and visibly.
//!
//! In exact mode the scalar is an [`crate::scalar::Interval`] or a
//! [`crate::scalar::DyadicInterval`]: square roots and NAdam's `0.96^(t psi)` are certified
//! enclosures, and a coordinate with an exactly zero gradient history is moved by exactly
//! zero (no widening).
//!
//! The command line names ten optimizers ([`OptimizerKind`]); [`Hyper::resolve`] turns
//! its flags into an exact, validated [`Resolved`] configuration, and
//! [`Resolved::build`] into the [`OptimizerConfig`] of any scalar type.
//!
//! ```
//! use deadrelu::optim::{AdamConfig, Optimizer};
//! use deadrelu::scalar::Scalar;
//!
//! // PyTorch's Adam with lr = 1/100 and amsgrad, in f64
//! let adam = AdamConfig::<f64>::new()
//!     .with_lr(f64::from_ratio(1, 100))
//!     .unwrap()
//!     .with_amsgrad(true);
//! let mut state = adam.init(2);
//! let theta = adam.step(&[1.0, 2.0], &[0.5, 0.0], &mut state);
//! assert_eq!(state.step, 1);
//! assert_eq!(theta[1], 2.0); // a zero gradient never moves a coordinate
//! assert!((theta[0] - 0.99).abs() < 1e-9);
//! ```

/// A config's validated setters and getters, one pair per field of type `S`: a field's
/// getter doc, then `field, with_field, "setter doc", "admissible condition";`. Each
/// setter re-validates the whole config, so no invalid combination can be built.
macro_rules! accessors {
    ($(#[doc = $get_doc:literal] $field:ident, $with:ident, $set_doc:literal, $cond:literal;)*) => {
        $(
            #[doc = $set_doc]
            #[doc = ""]
            #[doc = "# Errors"]
            #[doc = concat!("[`OptimError::OutOfRange`] unless ", $cond, ".")]
            pub fn $with(self, $field: S) -> Result<Self, OptimError> {
                Self { $field, ..self }.validated()
            }
            #[doc = $get_doc]
            pub fn $field(&self) -> &S {
                &self.$field
            }
        )*
    };
}

/// `with_betas` and `betas` of the Adam family (a `betas: (S, S)` field).
macro_rules! betas_accessors {
    () => {
        /// Sets `(beta1, beta2)`.
        ///
        /// # Errors
        /// [`OptimError::OutOfRange`] unless both are in `[0, 1)`.
        pub fn with_betas(self, beta1: S, beta2: S) -> Result<Self, OptimError> {
            Self {
                betas: (beta1, beta2),
                ..self
            }
            .validated()
        }
        /// `(beta1, beta2)`.
        pub fn betas(&self) -> (&S, &S) {
            (&self.betas.0, &self.betas.1)
        }
    };
}

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod config;
mod flags;
mod nadam;
pub mod reach;
mod rmsprop;
mod sgd;
pub mod train;

pub use adadelta::{AdadeltaConfig, AdadeltaState};
pub use adagrad::{AdagradConfig, AdagradState};
pub use adam::{AdamConfig, AdamState};
pub use adamax::{AdamaxConfig, AdamaxState};
pub use config::{OptimizerConfig, OptimizerState};
pub use flags::{Hyper, OptimizerKind, Resolved, parse_hyper};
pub use nadam::{NadamConfig, NadamState};
pub use rmsprop::{RmspropConfig, RmspropState};
pub use sgd::{SgdConfig, SgdState};

use crate::scalar::{Real, Scalar, ScalarError, Sign};

/// Errors of the optimizer module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimError {
    /// An unknown optimizer name.
    #[error(
        "unknown optimizer {name:?} (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamax, amsgrad, nadam, adadelta)"
    )]
    UnknownOptimizer {
        /// As given.
        name: String,
    },
    /// A hyperparameter outside its admissible range.
    #[error("--{flag} {}: {expected}", crate::limits::shown_bare(.value), flag = parameter.replace('_', "-"))]
    OutOfRange {
        /// PyTorch's name of the hyperparameter (`weight_decay`; the flag is `--weight-decay`).
        parameter: &'static str,
        /// The value, exactly (`"-1/10"`), or as `f64` prints it.
        value: String,
        /// The admissible range, e.g. `"must be > 0"`.
        expected: &'static str,
    },
    /// Hyperparameters that are each admissible but not together (PyTorch's rule that
    /// Nesterov momentum needs `momentum > 0` and `dampening = 0`).
    #[error("--{flag}: {reason}", flag = parameter.replace('_', "-"))]
    Incompatible {
        /// The hyperparameter that was set last.
        parameter: &'static str,
        /// Why the combination is refused.
        reason: &'static str,
    },
    /// A hyperparameter's text that is not an exact number.
    #[error("--{flag} {}: {source}", crate::limits::shown_bare(.text), flag = parameter.replace('_', "-"))]
    Unparsable {
        /// PyTorch's name of the hyperparameter.
        parameter: &'static str,
        /// As given.
        text: String,
        /// Why it is not a number.
        #[source]
        source: ScalarError,
    },
}

/// One optimizer: a typed configuration whose step is pure.
///
/// `step` reads `theta`, the gradient and the state made by [`Optimizer::init`] for the
/// same dimension, updates that state in place and returns `theta'`; the same inputs give
/// the same outputs (tests/optimizers.rs checks it for every optimizer and scalar type).
pub trait Optimizer<S: Real> {
    /// The state: the step counter and the named buffers of the optimizer.
    type State: Clone + std::fmt::Debug + Send;
    /// The initial state for `dim` coordinates (zero buffers, step 0).
    fn init(&self, dim: usize) -> Self::State;
    /// One step: updates `state` and returns `theta'`.
    ///
    /// # Panics
    /// **Panics if `theta`, `grad` and the state's buffers differ in length** (the state
    /// must come from [`Optimizer::init`] with `dim = theta.len()`).
    fn step(&self, theta: &[S], grad: &[S], state: &mut Self::State) -> Vec<S>;
}

/// `g + wd * theta` (PyTorch's `weight_decay`, L2 form), or `g` when `wd == 0`.
pub fn apply_weight_decay<S: Scalar>(grad: &[S], theta: &[S], wd: &S) -> Vec<S> {
    if wd.is_zero() {
        return grad.to_vec();
    }
    grad.iter()
        .zip(theta)
        .map(|(g, p)| g.add_ref(&wd.mul_ref(p)))
        .collect()
}

/// `beta * old + (1 - beta) * new`, the exponential moving average of every optimizer.
pub fn ema<S: Scalar>(beta: &S, old: &S, new: &S) -> S {
    if old.is_zero() && new.is_zero() {
        return S::zero();
    }
    beta.mul_ref(old)
        .add_ref(&S::one().sub_ref(beta).mul_ref(new))
}

/// `beta^t` from `previous = beta^(t - 1)`, as [`Real::step_power`] computes it: one
/// product in exact mode, `pow(beta, t)` in `f64` (torch's `beta ** step`).
pub fn next_power<S: Real>(beta: &S, previous: &S, t: u64) -> S {
    S::step_power(beta, beta, previous, t, (1, 1))
}

/// `value > 0`, or [`OptimError::OutOfRange`].
fn positive<S: Scalar>(parameter: &'static str, value: &S) -> Result<(), OptimError> {
    require(
        parameter,
        value,
        value.sign() == Sign::Positive,
        "must be > 0",
    )
}

/// `value >= 0`, or [`OptimError::OutOfRange`].
fn non_negative<S: Scalar>(parameter: &'static str, value: &S) -> Result<(), OptimError> {
    let ok = matches!(value.sign(), Sign::Zero | Sign::Positive);
    require(parameter, value, ok, "must be >= 0")
}

/// `0 <= value < 1`, or [`OptimError::OutOfRange`].
fn unit<S: Scalar>(parameter: &'static str, value: &S) -> Result<(), OptimError> {
    let ok = matches!(value.sign(), Sign::Zero | Sign::Positive)
        && S::one().sub_ref(value).sign() == Sign::Positive;
    require(parameter, value, ok, "must be in [0, 1)")
}

/// `eps > 0`, or [`OptimError::OutOfRange`] saying why it matters here.
fn epsilon<S: Scalar>(value: &S) -> Result<(), OptimError> {
    require(
        "eps",
        value,
        value.sign() == Sign::Positive,
        "must be > 0 (the frozen property needs eps > 0)",
    )
}

fn require<S: Scalar>(
    parameter: &'static str,
    value: &S,
    ok: bool,
    expected: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::OutOfRange {
            parameter,
            value: value.to_exact_string(),
            expected,
        })
    }
}
