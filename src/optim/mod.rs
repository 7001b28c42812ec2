//! The optimizers of the SGD family, one file each, generic over the scalar type.
//!
//! Each follows PyTorch's documented update rule (`torch.optim`, maximize = False,
//! foreach/fused irrelevant), with PyTorch's default hyperparameters given as exact
//! ratios. A step is pure: `(theta, gradient, state) -> (theta', state')`.
//!
//! All state starts at zero (PyTorch's SGD momentum buffer starts as the first gradient,
//! which is zero for a coordinate whose gradient is zero), `eps > 0`, so with no weight
//! decay every optimizer here is *coordinate-frozen* (MECHANISM.md, fact 3): a coordinate
//! whose gradient was zero at every step so far has never moved. Weight decay
//! (`g <- g + wd * theta`, [`apply_weight_decay`]) breaks this, on purpose and visibly.
//!
//! In exact mode the scalar is an [`crate::scalar::Interval`]: square roots and Nadam's
//! `0.96^(t/250)` are certified enclosures, and a coordinate with an exactly zero
//! gradient history is moved by exactly zero (no widening).

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod nadam;
mod rmsprop;
mod sgd;
pub mod train;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use nadam::Nadam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::scalar::{BigRational, Real, Scalar, parse_rational};
use num_traits::Signed;

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
    /// A hyperparameter out of its range.
    #[error("--{flag} {value}: {reason}")]
    Hyper {
        /// The flag name.
        flag: &'static str,
        /// As given.
        value: String,
        /// The admissible range.
        reason: String,
    },
}

/// The optimizer state: the step counter and named per-coordinate buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct State<S: Scalar> {
    /// Steps taken so far (`t` of the formulas is `step + 1` during a step).
    pub step: u64,
    /// Per-coordinate buffers, in the order of [`Optimizer::buffer_names`].
    pub buffers: Vec<Vec<S>>,
    /// Scalar state (Nadam's running product of `mu_t`).
    pub scalars: Vec<S>,
}

impl<S: Scalar> State<S> {
    /// Zero state with `count` buffers of length `dim`.
    pub fn zeros(count: usize, dim: usize) -> Self {
        Self {
            step: 0,
            buffers: vec![vec![S::zero(); dim]; count],
            scalars: Vec::new(),
        }
    }
}

/// One optimizer: a pure step on `theta` given the gradient.
pub trait Optimizer<S: Real>: Send + Sync {
    /// The name used on the command line.
    fn name(&self) -> &'static str;
    /// The names of the per-coordinate buffers of [`State::buffers`].
    fn buffer_names(&self) -> &'static [&'static str];
    /// The initial (zero) state for `dim` coordinates.
    fn init(&self, dim: usize) -> State<S> {
        State::zeros(self.buffer_names().len(), dim)
    }
    /// One step: returns `theta'` and the new state.
    fn step(&self, theta: &[S], grad: &[S], state: State<S>) -> (Vec<S>, State<S>);
}

/// `g + wd * theta` (PyTorch's `weight_decay`, L2 form), or `g` when `wd == 0`.
pub fn apply_weight_decay<S: Scalar>(grad: &[S], theta: &[S], wd: &S) -> Vec<S> {
    if wd.is_zero() {
        return grad.to_vec();
    }
    grad.iter()
        .zip(theta)
        .map(|(g, p)| g.add(&wd.mul(p)))
        .collect()
}

/// `beta * old + (1 - beta) * new`, the exponential moving average of every optimizer.
pub fn ema<S: Scalar>(beta: &S, old: &S, new: &S) -> S {
    if old.is_zero() && new.is_zero() {
        return S::zero();
    }
    beta.mul(old).add(&S::one().sub(beta).mul(new))
}

/// `base^t` by repeated multiplication (exact for exact types).
pub fn powi<S: Scalar>(base: &S, t: u64) -> S {
    (0..t).fold(S::one(), |acc, _| acc.mul(base))
}

/// The optimizers of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Plain SGD.
    Sgd,
    /// SGD with momentum (0.9 unless `--momentum`).
    Momentum,
    /// SGD with Nesterov momentum (0.9 unless `--momentum`).
    Nesterov,
    /// Adagrad.
    Adagrad,
    /// RMSProp (with `centered` and `momentum` options).
    Rmsprop,
    /// Adam.
    Adam,
    /// Adamax.
    Adamax,
    /// Adam with `amsgrad = True`.
    Amsgrad,
    /// NAdam.
    Nadam,
    /// Adadelta (covered by Do, Jentzen, Riekert 2025).
    Adadelta,
}

impl OptimizerKind {
    /// The nine optimizers of the paper, in its order (the first nine of [`Self::ALL`]).
    pub const NINE: [OptimizerKind; 9] = {
        let mut nine = [OptimizerKind::Sgd; 9];
        let mut i = 0;
        while i < 9 {
            nine[i] = Self::ALL[i];
            i += 1;
        }
        nine
    };
    /// All ten implemented (the nine and Adadelta).
    pub const ALL: [OptimizerKind; 10] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adagrad,
        OptimizerKind::Rmsprop,
        OptimizerKind::Adam,
        OptimizerKind::Adamax,
        OptimizerKind::Amsgrad,
        OptimizerKind::Nadam,
        OptimizerKind::Adadelta,
    ];
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Nesterov => "nesterov",
            OptimizerKind::Adagrad => "adagrad",
            OptimizerKind::Rmsprop => "rmsprop",
            OptimizerKind::Adam => "adam",
            OptimizerKind::Adamax => "adamax",
            OptimizerKind::Amsgrad => "amsgrad",
            OptimizerKind::Nadam => "nadam",
            OptimizerKind::Adadelta => "adadelta",
        }
    }
    /// Parses a comma-separated list, or `all` (the nine of the paper).
    ///
    /// # Errors
    /// [`OptimError::UnknownOptimizer`].
    pub fn parse_list(text: &str) -> Result<Vec<Self>, OptimError> {
        if text == "all" {
            return Ok(Self::NINE.to_vec());
        }
        text.split(',').map(|s| s.trim().parse()).collect()
    }
    /// PyTorch's default learning rate.
    pub fn default_lr(self) -> BigRational {
        let (n, d) = match self {
            OptimizerKind::Sgd | OptimizerKind::Momentum | OptimizerKind::Nesterov => (1, 1000),
            OptimizerKind::Adagrad | OptimizerKind::Rmsprop => (1, 100),
            OptimizerKind::Adam | OptimizerKind::Amsgrad => (1, 1000),
            OptimizerKind::Adamax | OptimizerKind::Nadam => (2, 1000),
            OptimizerKind::Adadelta => (1, 1),
        };
        BigRational::new(n.into(), d.into())
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = OptimError;
    fn from_str(s: &str) -> Result<Self, OptimError> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| OptimError::UnknownOptimizer { name: s.into() })
    }
}

/// Hyperparameters as exact rationals; `None` means PyTorch's default for the optimizer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hyper {
    /// Learning rate.
    pub lr: Option<BigRational>,
    /// Momentum (SGD variants; RMSProp's `momentum`).
    pub momentum: Option<BigRational>,
    /// Adam-family `beta1`.
    pub beta1: Option<BigRational>,
    /// Adam-family `beta2`.
    pub beta2: Option<BigRational>,
    /// `eps`.
    pub eps: Option<BigRational>,
    /// RMSProp's `alpha`.
    pub alpha: Option<BigRational>,
    /// RMSProp's `centered`.
    pub centered: bool,
    /// Adagrad's `lr_decay`.
    pub lr_decay: Option<BigRational>,
    /// Nadam's `momentum_decay` (psi).
    pub momentum_decay: Option<BigRational>,
    /// Adadelta's `rho`.
    pub rho: Option<BigRational>,
    /// `weight_decay` (L2 form, added to the gradient).
    pub weight_decay: Option<BigRational>,
}

fn ratio(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn check(flag: &'static str, v: &BigRational, ok: bool, reason: &str) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::Hyper {
            flag,
            value: crate::scalar::rational_string(v),
            reason: reason.into(),
        })
    }
}

/// Parses an exact hyperparameter value from a flag.
///
/// # Errors
/// [`OptimError::Hyper`] naming the flag.
pub fn parse_hyper(flag: &'static str, text: &str) -> Result<BigRational, OptimError> {
    parse_rational(text).map_err(|e| OptimError::Hyper {
        flag,
        value: text.into(),
        reason: e.to_string(),
    })
}

/// The resolved hyperparameters of one optimizer, exact, with their flags' names.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The optimizer.
    pub kind: OptimizerKind,
    /// `(name, value)` of every hyperparameter in use.
    pub values: Vec<(&'static str, BigRational)>,
}

impl Resolved {
    /// The value of a hyperparameter.
    ///
    /// # Panics
    /// **Panics if the optimizer has no such hyperparameter** (a programming error).
    pub fn get(&self, name: &str) -> &BigRational {
        &self
            .values
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{} has no {name}", self.kind.name()))
            .1
    }
    /// JSON object name -> exact string.
    pub fn to_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .values
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    serde_json::Value::String(crate::scalar::rational_string(v)),
                )
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

impl Hyper {
    /// Resolves defaults (PyTorch's) and validates ranges for `kind`.
    ///
    /// # Errors
    /// [`OptimError::Hyper`] for `lr <= 0`, `eps <= 0`, betas / alpha / rho / momentum
    /// outside `[0, 1)`, negative weight decay or decays.
    pub fn resolve(&self, kind: OptimizerKind) -> Result<Resolved, OptimError> {
        use OptimizerKind::*;
        let or = |v: &Option<BigRational>, d: BigRational| v.clone().unwrap_or(d);
        let lr = or(&self.lr, kind.default_lr());
        check("lr", &lr, lr.is_positive(), "must be > 0")?;
        let wd = or(&self.weight_decay, ratio(0, 1));
        check("weight-decay", &wd, !wd.is_negative(), "must be >= 0")?;
        let unit = |flag: &'static str, v: BigRational| -> Result<BigRational, OptimError> {
            check(
                flag,
                &v,
                !v.is_negative() && v < ratio(1, 1),
                "must be in [0, 1)",
            )?;
            Ok(v)
        };
        let positive = |flag: &'static str, v: BigRational| -> Result<BigRational, OptimError> {
            check(
                flag,
                &v,
                v.is_positive(),
                "must be > 0 (the frozen property needs eps > 0)",
            )?;
            Ok(v)
        };
        let mut values = vec![("lr", lr)];
        match kind {
            Sgd => {
                let m = or(&self.momentum, ratio(0, 1));
                values.push(("momentum", unit("momentum", m)?));
            }
            Momentum | Nesterov => {
                let m = or(&self.momentum, ratio(9, 10));
                let m = unit("momentum", m)?;
                if kind == Nesterov {
                    check(
                        "momentum",
                        &m,
                        m.is_positive(),
                        "Nesterov needs momentum > 0",
                    )?;
                }
                values.push(("momentum", m));
            }
            Adagrad => {
                values.push(("lr_decay", or(&self.lr_decay, ratio(0, 1))));
                check(
                    "lr-decay",
                    &values[1].1,
                    !values[1].1.is_negative(),
                    "must be >= 0",
                )?;
                values.push((
                    "eps",
                    positive("eps", or(&self.eps, ratio(1, 10_000_000_000)))?,
                ));
            }
            Rmsprop => {
                values.push(("alpha", unit("alpha", or(&self.alpha, ratio(99, 100)))?));
                values.push((
                    "eps",
                    positive("eps", or(&self.eps, ratio(1, 100_000_000)))?,
                ));
                values.push((
                    "momentum",
                    unit("momentum", or(&self.momentum, ratio(0, 1)))?,
                ));
                values.push(("centered", ratio(self.centered as i64, 1)));
            }
            Adam | Amsgrad | Adamax | Nadam => {
                values.push(("beta1", unit("beta1", or(&self.beta1, ratio(9, 10)))?));
                values.push(("beta2", unit("beta2", or(&self.beta2, ratio(999, 1000)))?));
                values.push((
                    "eps",
                    positive("eps", or(&self.eps, ratio(1, 100_000_000)))?,
                ));
                if kind == Nadam {
                    let psi = or(&self.momentum_decay, ratio(4, 1000));
                    check("momentum-decay", &psi, !psi.is_negative(), "must be >= 0")?;
                    let fits = |v: &num_bigint::BigInt| v.bits() <= 32;
                    check(
                        "momentum-decay",
                        &psi,
                        fits(psi.numer()) && fits(psi.denom()),
                        "numerator and denominator must be below 2^32",
                    )?;
                    values.push(("momentum_decay", psi));
                }
            }
            Adadelta => {
                values.push(("rho", unit("rho", or(&self.rho, ratio(9, 10)))?));
                values.push(("eps", positive("eps", or(&self.eps, ratio(1, 1_000_000)))?));
            }
        }
        values.push(("weight_decay", wd));
        Ok(Resolved { kind, values })
    }
}

/// Builds the optimizer of `resolved` hyperparameters for scalar type `S`.
pub fn build<S: Real>(resolved: &Resolved) -> Box<dyn Optimizer<S>> {
    use OptimizerKind as K;
    let s = |name: &str| S::from_rational(resolved.get(name));
    let wd = s("weight_decay");
    match resolved.kind {
        K::Sgd | K::Momentum | K::Nesterov => Box::new(Sgd::new(
            resolved.kind.name(),
            s("lr"),
            s("momentum"),
            resolved.kind == K::Nesterov,
            wd,
        )),
        K::Adagrad => Box::new(Adagrad::new(s("lr"), s("lr_decay"), s("eps"), wd)),
        K::Rmsprop => Box::new(RmsProp::new(
            s("lr"),
            s("alpha"),
            s("eps"),
            s("momentum"),
            resolved.get("centered").is_positive(),
            wd,
        )),
        K::Adam | K::Amsgrad => Box::new(Adam::new(
            resolved.kind.name(),
            s("lr"),
            s("beta1"),
            s("beta2"),
            s("eps"),
            resolved.kind == K::Amsgrad,
            wd,
        )),
        K::Adamax => Box::new(Adamax::new(s("lr"), s("beta1"), s("beta2"), s("eps"), wd)),
        K::Nadam => {
            let psi = resolved.get("momentum_decay");
            Box::new(Nadam::new(
                s("lr"),
                s("beta1"),
                s("beta2"),
                s("eps"),
                psi,
                wd,
            ))
        }
        K::Adadelta => Box::new(Adadelta::new(s("lr"), s("rho"), s("eps"), wd)),
    }
}
