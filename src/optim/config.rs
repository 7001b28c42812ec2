//! Any one of the optimizers: [`OptimizerConfig`] and its [`OptimizerState`], for code
//! that picks the optimizer at run time (the command line, the audit, the Monte Carlo).

use super::{
    AdadeltaConfig, AdadeltaState, AdagradConfig, AdagradState, AdamConfig, AdamState,
    AdamaxConfig, AdamaxState, NadamConfig, NadamState, OptimError, Optimizer, RmspropConfig,
    RmspropState, SgdConfig, SgdState,
};
use crate::scalar::{Real, Scalar};
use serde_json::Value;

/// The configuration of one optimizer, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerConfig<S> {
    /// SGD, with or without (Nesterov) momentum.
    Sgd(SgdConfig<S>),
    /// Adagrad.
    Adagrad(AdagradConfig<S>),
    /// RMSprop.
    Rmsprop(RmspropConfig<S>),
    /// Adam or AMSGrad.
    Adam(AdamConfig<S>),
    /// Adamax.
    Adamax(AdamaxConfig<S>),
    /// NAdam.
    Nadam(NadamConfig<S>),
    /// Adadelta.
    Adadelta(AdadeltaConfig<S>),
}

/// The state of the optimizer of the same [`OptimizerConfig`] variant.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerState<S> {
    /// SGD's.
    Sgd(SgdState<S>),
    /// Adagrad's.
    Adagrad(AdagradState<S>),
    /// RMSprop's.
    Rmsprop(RmspropState<S>),
    /// Adam's.
    Adam(AdamState<S>),
    /// Adamax's.
    Adamax(AdamaxState<S>),
    /// NAdam's.
    Nadam(NadamState<S>),
    /// Adadelta's.
    Adadelta(AdadeltaState<S>),
}

impl<S> OptimizerState<S> {
    /// Steps taken so far.
    pub fn steps_taken(&self) -> u64 {
        match self {
            OptimizerState::Sgd(s) => s.step,
            OptimizerState::Adagrad(s) => s.step,
            OptimizerState::Rmsprop(s) => s.step,
            OptimizerState::Adam(s) => s.step,
            OptimizerState::Adamax(s) => s.step,
            OptimizerState::Nadam(s) => s.step,
            OptimizerState::Adadelta(s) => s.step,
        }
    }
}

macro_rules! from_config {
    ($($variant:ident($config:ident)),*) => {$(
        impl<S> From<$config<S>> for OptimizerConfig<S> {
            fn from(config: $config<S>) -> Self {
                OptimizerConfig::$variant(config)
            }
        }
    )*};
}

from_config!(
    Sgd(SgdConfig),
    Adagrad(AdagradConfig),
    Rmsprop(RmspropConfig),
    Adam(AdamConfig),
    Adamax(AdamaxConfig),
    Nadam(NadamConfig),
    Adadelta(AdadeltaConfig)
);

impl<S: Scalar> OptimizerConfig<S> {
    /// The same hyperparameters in scalar type `T`, each mapped by `f`, validated again
    /// (a rounding to `f64` can leave a range: `beta = 1 - 10^-20` becomes `1.0`).
    ///
    /// # Errors
    /// [`OptimError::OutOfRange`] when an image leaves its range.
    pub fn map<T: Scalar>(&self, f: impl Fn(&S) -> T) -> Result<OptimizerConfig<T>, OptimError> {
        match self {
            OptimizerConfig::Sgd(c) => c.map(f).validated().map(OptimizerConfig::Sgd),
            OptimizerConfig::Adagrad(c) => c.map(f).validated().map(OptimizerConfig::Adagrad),
            OptimizerConfig::Rmsprop(c) => c.map(f).validated().map(OptimizerConfig::Rmsprop),
            OptimizerConfig::Adam(c) => c.map(f).validated().map(OptimizerConfig::Adam),
            OptimizerConfig::Adamax(c) => c.map(f).validated().map(OptimizerConfig::Adamax),
            OptimizerConfig::Nadam(c) => c.map(f).validated().map(OptimizerConfig::Nadam),
            OptimizerConfig::Adadelta(c) => c.map(f).validated().map(OptimizerConfig::Adadelta),
        }
    }

    /// The hyperparameters as a JSON object, PyTorch's names; numbers as exact strings
    /// ([`Scalar::to_exact_string`]), flags as booleans.
    pub fn to_json(&self) -> Value {
        let text = |v: &S| Value::String(v.to_exact_string());
        let mut map = serde_json::Map::new();
        let mut put = |name: &str, value: Value| {
            map.insert(name.to_string(), value);
        };
        match self {
            OptimizerConfig::Sgd(c) => {
                put("lr", text(c.lr()));
                put("momentum", text(c.momentum()));
                put("dampening", text(c.dampening()));
                put("nesterov", Value::Bool(c.nesterov()));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Adagrad(c) => {
                put("lr", text(c.lr()));
                put("lr_decay", text(c.lr_decay()));
                put("eps", text(c.eps()));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Rmsprop(c) => {
                put("lr", text(c.lr()));
                put("alpha", text(c.alpha()));
                put("eps", text(c.eps()));
                put("momentum", text(c.momentum()));
                put("centered", Value::Bool(c.centered()));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Adam(c) => {
                put("lr", text(c.lr()));
                put("beta1", text(c.betas().0));
                put("beta2", text(c.betas().1));
                put("eps", text(c.eps()));
                put("amsgrad", Value::Bool(c.amsgrad()));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Adamax(c) => {
                put("lr", text(c.lr()));
                put("beta1", text(c.betas().0));
                put("beta2", text(c.betas().1));
                put("eps", text(c.eps()));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Nadam(c) => {
                put("lr", text(c.lr()));
                put("beta1", text(c.betas().0));
                put("beta2", text(c.betas().1));
                put("eps", text(c.eps()));
                let psi = c.momentum_decay();
                let psi = if *psi.denom() == 1 {
                    psi.numer().to_string()
                } else {
                    format!("{}/{}", psi.numer(), psi.denom())
                };
                put("momentum_decay", Value::String(psi));
                put("weight_decay", text(c.weight_decay()));
            }
            OptimizerConfig::Adadelta(c) => {
                put("lr", text(c.lr()));
                put("rho", text(c.rho()));
                put("eps", text(c.eps()));
                put("weight_decay", text(c.weight_decay()));
            }
        }
        Value::Object(map)
    }
}

impl<S: Real> Optimizer<S> for OptimizerConfig<S> {
    type State = OptimizerState<S>;
    fn init(&self, dim: usize) -> OptimizerState<S> {
        match self {
            OptimizerConfig::Sgd(c) => OptimizerState::Sgd(c.init(dim)),
            OptimizerConfig::Adagrad(c) => OptimizerState::Adagrad(c.init(dim)),
            OptimizerConfig::Rmsprop(c) => OptimizerState::Rmsprop(c.init(dim)),
            OptimizerConfig::Adam(c) => OptimizerState::Adam(c.init(dim)),
            OptimizerConfig::Adamax(c) => OptimizerState::Adamax(c.init(dim)),
            OptimizerConfig::Nadam(c) => OptimizerState::Nadam(c.init(dim)),
            OptimizerConfig::Adadelta(c) => OptimizerState::Adadelta(c.init(dim)),
        }
    }
    /// One step of the configured optimizer.
    ///
    /// # Panics
    /// **Panics if `state` belongs to another variant** (it must come from
    /// [`Optimizer::init`] of this configuration), or for lengths that differ.
    fn step(&self, theta: &[S], grad: &[S], state: &mut OptimizerState<S>) -> Vec<S> {
        use OptimizerConfig as C;
        use OptimizerState as St;
        match (self, state) {
            (C::Sgd(c), St::Sgd(s)) => c.step(theta, grad, s),
            (C::Adagrad(c), St::Adagrad(s)) => c.step(theta, grad, s),
            (C::Rmsprop(c), St::Rmsprop(s)) => c.step(theta, grad, s),
            (C::Adam(c), St::Adam(s)) => c.step(theta, grad, s),
            (C::Adamax(c), St::Adamax(s)) => c.step(theta, grad, s),
            (C::Nadam(c), St::Nadam(s)) => c.step(theta, grad, s),
            (C::Adadelta(c), St::Adadelta(s)) => c.step(theta, grad, s),
            _ => panic!("the optimizer state belongs to another optimizer"),
        }
    }
}
