//! The optimizers by name, and their hyperparameters as exact flags: what the command line
//! (and the audit, and the Monte Carlo) asks for, resolved to a validated
//! [`OptimizerConfig`] with PyTorch's defaults for what was not given.

use super::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamaxConfig, NadamConfig, OptimError,
    OptimizerConfig, RmspropConfig, SgdConfig,
};
use crate::scalar::{BigRational, Real, Scalar, parse_rational};
use num_traits::{Signed, ToPrimitive};

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

/// Hyperparameters as exact rationals, as the flags give them; `None` means PyTorch's
/// default for the optimizer. A flag the optimizer has no use for is ignored.
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

/// Parses an exact hyperparameter value from a flag.
///
/// # Errors
/// [`OptimError::Unparsable`] naming the flag.
pub fn parse_hyper(parameter: &'static str, text: &str) -> Result<BigRational, OptimError> {
    parse_rational(text).map_err(|source| OptimError::Unparsable {
        parameter,
        text: text.into(),
        source,
    })
}

/// One optimizer of the command line with its exact, validated hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The optimizer.
    pub kind: OptimizerKind,
    /// Its hyperparameters, exact.
    pub config: OptimizerConfig<BigRational>,
}

impl Resolved {
    /// The configuration in scalar type `S` (each hyperparameter by
    /// [`Scalar::from_rational`]: exact for exact types, nearest for `f64`), validated
    /// again.
    ///
    /// # Errors
    /// [`OptimError::OutOfRange`] when a rounded value leaves its range (`f64` turns
    /// `beta2 = 1 - 10^-20` into `1.0`).
    pub fn build<S: Real>(&self) -> Result<OptimizerConfig<S>, OptimError> {
        self.config.map(S::from_rational)
    }
    /// JSON object name -> exact string (booleans for the flags `centered`, `amsgrad`,
    /// `nesterov`).
    pub fn to_json(&self) -> serde_json::Value {
        self.config.to_json()
    }
}

/// `config.setter(value)` when the flag was given, else `config`.
fn set<C>(
    config: C,
    value: &Option<BigRational>,
    setter: impl FnOnce(C, BigRational) -> Result<C, OptimError>,
) -> Result<C, OptimError> {
    match value {
        Some(v) => setter(config, v.clone()),
        None => Ok(config),
    }
}

impl Hyper {
    /// The configuration of `kind`: PyTorch's defaults, overridden by the flags given,
    /// each validated by the optimizer's own setter.
    ///
    /// # Errors
    /// [`OptimError::OutOfRange`] for `lr <= 0`, `eps <= 0`, betas / alpha / rho /
    /// momentum outside `[0, 1)`, negative weight decay or decays, a momentum decay
    /// beyond `u32` ratios; [`OptimError::Incompatible`] for Nesterov with momentum 0.
    pub fn resolve(&self, kind: OptimizerKind) -> Result<Resolved, OptimError> {
        use OptimizerKind as K;
        let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        let wd = &self.weight_decay;
        let config: OptimizerConfig<BigRational> = match kind {
            K::Sgd | K::Momentum | K::Nesterov => {
                let default_momentum = if kind == K::Sgd { q(0, 1) } else { q(9, 10) };
                let momentum = self.momentum.clone().unwrap_or(default_momentum);
                let c = SgdConfig::new().with_momentum(momentum)?;
                let c = set(c, &self.lr, SgdConfig::with_lr)?;
                let c = set(c, wd, SgdConfig::with_weight_decay)?;
                c.with_nesterov(kind == K::Nesterov)?.into()
            }
            K::Adagrad => {
                let c = set(AdagradConfig::new(), &self.lr, AdagradConfig::with_lr)?;
                let c = set(c, &self.lr_decay, AdagradConfig::with_lr_decay)?;
                let c = set(c, &self.eps, AdagradConfig::with_eps)?;
                set(c, wd, AdagradConfig::with_weight_decay)?.into()
            }
            K::Rmsprop => {
                let c = set(RmspropConfig::new(), &self.lr, RmspropConfig::with_lr)?;
                let c = set(c, &self.alpha, RmspropConfig::with_alpha)?;
                let c = set(c, &self.eps, RmspropConfig::with_eps)?;
                let c = set(c, &self.momentum, RmspropConfig::with_momentum)?;
                let c = set(c, wd, RmspropConfig::with_weight_decay)?;
                c.with_centered(self.centered).into()
            }
            K::Adam | K::Amsgrad => {
                let c = AdamConfig::<BigRational>::new();
                let (b1, b2) = (c.betas().0.clone(), c.betas().1.clone());
                let c = set(c, &self.lr, AdamConfig::with_lr)?;
                let c = c.with_betas(
                    self.beta1.clone().unwrap_or(b1),
                    self.beta2.clone().unwrap_or(b2),
                )?;
                let c = set(c, &self.eps, AdamConfig::with_eps)?;
                let c = set(c, wd, AdamConfig::with_weight_decay)?;
                c.with_amsgrad(kind == K::Amsgrad).into()
            }
            K::Adamax => {
                let c = AdamaxConfig::<BigRational>::new();
                let (b1, b2) = (c.betas().0.clone(), c.betas().1.clone());
                let c = set(c, &self.lr, AdamaxConfig::with_lr)?;
                let c = c.with_betas(
                    self.beta1.clone().unwrap_or(b1),
                    self.beta2.clone().unwrap_or(b2),
                )?;
                let c = set(c, &self.eps, AdamaxConfig::with_eps)?;
                set(c, wd, AdamaxConfig::with_weight_decay)?.into()
            }
            K::Nadam => {
                let c = NadamConfig::<BigRational>::new();
                let (b1, b2) = (c.betas().0.clone(), c.betas().1.clone());
                let c = set(c, &self.lr, NadamConfig::with_lr)?;
                let c = c.with_betas(
                    self.beta1.clone().unwrap_or(b1),
                    self.beta2.clone().unwrap_or(b2),
                )?;
                let c = set(c, &self.eps, NadamConfig::with_eps)?;
                let c = set(c, wd, NadamConfig::with_weight_decay)?;
                match &self.momentum_decay {
                    Some(psi) => c.with_momentum_decay(small_ratio(psi)?)?,
                    None => c,
                }
                .into()
            }
            K::Adadelta => {
                let c = set(AdadeltaConfig::new(), &self.lr, AdadeltaConfig::with_lr)?;
                let c = set(c, &self.rho, AdadeltaConfig::with_rho)?;
                let c = set(c, &self.eps, AdadeltaConfig::with_eps)?;
                set(c, wd, AdadeltaConfig::with_weight_decay)?.into()
            }
        };
        Ok(Resolved { kind, config })
    }
}

/// NAdam's `psi` as a ratio of `u32`s (an exponent of the exact enclosures).
fn small_ratio(psi: &BigRational) -> Result<num_rational::Ratio<u32>, OptimError> {
    let out_of_range = |expected| OptimError::OutOfRange {
        parameter: "momentum_decay",
        value: psi.to_exact_string(),
        expected,
    };
    if psi.is_negative() {
        return Err(out_of_range("must be >= 0"));
    }
    match (psi.numer().to_u32(), psi.denom().to_u32()) {
        (Some(n), Some(d)) => Ok(num_rational::Ratio::new(n, d)),
        _ => Err(out_of_range("numerator and denominator must be below 2^32")),
    }
}
