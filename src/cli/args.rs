//! Options shared by the commands (flattened into each command's options), their value
//! parsers, and the setup they describe (network and data).

use super::{Cause, CliError};
use crate::data::{DataSpec, Dataset, Target};
use crate::net::init::{BiasInit, InitScheme, init_network};
use crate::net::{Arch, Network};
use crate::optim::{Hyper, OptimError, OptimizerKind};
use crate::scalar::BigRational;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::str::FromStr;

/// Most optimizer steps a command runs (`--steps`): a billion steps of the smallest
/// network take minutes; more is a typo, not a job, and is refused (exit 2) instead of
/// running for centuries.
pub const MAX_STEPS: u64 = 1_000_000_000;

/// Most Monte Carlo trials per configuration (`--trials`), for the same reason: 10^13
/// trials take days at the fastest rate measured (5 million a second).
pub const MAX_TRIALS: u64 = 10_000_000_000_000;

/// The value parser of `--steps`.
pub fn steps() -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(..=MAX_STEPS)
}

/// The value parser of `--trials`.
pub fn trials() -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(..=MAX_TRIALS)
}

/// Arithmetic of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Exact: every sign decided exactly (a float filter with a proven error bound, exact
    /// rationals where it does not settle), risks and `V` as exact rationals.
    Exact,
    /// IEEE doubles.
    F64,
}

impl Mode {
    /// `"exact"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Exact => "exact",
            Mode::F64 => "f64",
        }
    }
}

/// The shared options of INTERFACE.md.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Required unless --weights (whose architecture it must then match): widths l_0..l_L,
    /// e.g. 1,8,8,1 (L >= 2, all >= 1).
    #[arg(long, value_delimiter = ',', required_unless_present = "weights")]
    pub arch: Option<Vec<usize>>,
    /// Initialization: torch-default, he-normal, he-uniform, glorot-normal, glorot-uniform,
    /// lecun-normal, rai, uniform:C, normal:S. Ignored with --weights.
    #[arg(long, default_value = "torch-default")]
    pub init: Given<InitScheme>,
    /// Biases: default (the scheme's own), zero, same (as the weights), uniform:C, normal:S,
    /// const:V.
    #[arg(long, default_value = "default")]
    pub bias_init: Given<BiasInit>,
    /// Seed of the initialization (trial 0 of its ChaCha8 stream family). Ignored with --weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Theta from a file instead of --init, by extension: JSON {"arch":[..],"params":[..]}, or a
    /// PyTorch state_dict of nn.Linear layers (any module names; see --layer-order) saved as .safetensors or .npz, or an ONNX
    /// MLP (.onnx: Gemm, MatMul+Add, Relu, Flatten, Identity); f32/f64, read exactly.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The order of the Linear modules of a .safetensors/.npz state_dict, input layer first
    /// (e.g. fc1,fc2,head); needed only when neither the module numbers (0, 2, 4; fc1, fc2)
    /// nor the shapes imply it. Linear layers without a bias tensor (bias=False) get bias 0.
    #[arg(long, requires = "weights")]
    pub layer_order: Option<String>,
    /// The data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,
}

/// The data options, shared by every command that builds data (`estimate` too).
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data: uniform:A,B:M, grid:A,B:M, csv:PATH, npy:X.npy[,Y.npy], npz:FILE (arrays x, y)
    /// or safetensors:FILE (tensors x, y); without y the targets come from --target.
    #[arg(id = "data", long = "data", default_value = "grid:-1,1:64")]
    pub spec: Given<DataSpec>,
    /// Seed of uniform:A,B:M data.
    #[arg(id = "data_seed", long = "data-seed", default_value_t = 0)]
    pub seed: u64,
    /// Target of data without targets (grid, uniform, npy/npz/safetensors without y): abs,
    /// square, sin, relu-bump, const:V.
    #[arg(long, default_value = "abs")]
    pub target: Given<Target>,
}

impl DataArgs {
    /// Warns about data flags that have no effect: `--target` with data that carry their
    /// targets (CSV, `npy:X.npy,Y.npy`) and `--data-seed` with data that are not random.
    pub fn warn_ignored(&self) {
        let carries_targets = matches!(
            self.spec.value,
            DataSpec::Csv(_) | DataSpec::Npy { y: Some(_), .. }
        );
        if carries_targets && self.target.text != "abs" {
            super::warn("--target is ignored: these data carry their own targets");
        }
        if !matches!(self.spec.value, DataSpec::Uniform { .. }) && self.seed != 0 {
            super::warn("--data-seed is ignored: only uniform:A,B:M data are random");
        }
    }

    /// The data specification and the target (parsed by clap already).
    pub fn parse(&self) -> (DataSpec, Target) {
        (self.spec.value.clone(), self.target.value.clone())
    }
}

/// What the shared options describe: an exact network and an exact data set.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The network, exact.
    pub net: Network<BigRational>,
    /// The data, exact.
    pub data: Dataset<BigRational>,
}

impl CommonArgs {
    /// The initialization scheme and the biases' (parsed by clap already).
    pub fn schemes(&self) -> (InitScheme, BiasInit) {
        (self.init.value.clone(), self.bias_init.value.clone())
    }

    /// The architecture from `--arch`.
    ///
    /// # Errors
    /// [`CliError::Input`] when missing or invalid.
    pub fn arch(&self) -> Result<Arch, CliError> {
        let widths = self
            .arch
            .clone()
            .ok_or_else(|| CliError::Input("--arch is required (e.g. --arch 1,8,8,1)".into()))?;
        Arch::new(widths).map_err(|e| CliError::input("--arch", e))
    }

    /// Warns (on stderr, unless `--quiet`) about the flags of this setup that have no
    /// effect: `--init`, `--bias-init` and `--seed` with `--weights`, and the data flags of
    /// [`DataArgs::warn_ignored`]. Each command calls it once.
    pub fn warn_ignored(&self) {
        let given: Vec<&str> = [
            (self.init.text != "torch-default", "--init"),
            (self.bias_init.text != "default", "--bias-init"),
            (self.seed != 0, "--seed"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect();
        if let Some(path) = &self.weights
            && !given.is_empty()
        {
            let (flags, verb) = match given.as_slice() {
                [one] => (one.to_string(), "is"),
                [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), "are"),
                [] => unreachable!("checked non-empty"),
            };
            super::warn(&format!(
                "{flags} {verb} ignored: theta is read from {}",
                path.display()
            ));
        } else if self.weights.is_none()
            && self.init.value == InitScheme::Rai
            && self.bias_init.text != "default"
        {
            super::warn("--bias-init is ignored with --init rai: rai draws its own biases");
        }
        self.data.warn_ignored();
    }

    /// Builds the network (from `--weights` or `--init`) and the data.
    ///
    /// # Errors
    /// [`CliError::Input`] naming the offending flag, file, line or field.
    pub fn setup(&self) -> Result<Setup, CliError> {
        let net = self.network()?;
        let data = self.dataset(net.arch())?;
        Ok(Setup { net, data })
    }

    /// Checks `--arch`, when given, against the architecture of `--weights`.
    ///
    /// # Errors
    /// [`CliError::Input`] when they disagree.
    pub fn check_arch(&self, arch: &Arch) -> Result<(), CliError> {
        if let Some(widths) = &self.arch
            && widths != arch.widths()
        {
            return Err(CliError::Input(format!(
                "--arch {} disagrees with --weights architecture {arch}",
                Arch::new(widths.clone())
                    .map(|a| a.to_string())
                    .unwrap_or_else(|_| format!("{widths:?}"))
            )));
        }
        Ok(())
    }

    /// Builds the exact network (from `--weights` by extension, or `--init`).
    ///
    /// # Errors
    /// [`CliError::Input`] naming the offending flag, file or field.
    pub fn network(&self) -> Result<Network<BigRational>, CliError> {
        Ok(match &self.weights {
            Some(path) => {
                let (arch, params) =
                    crate::io::read_weights_exact(path, self.layer_order.as_deref())
                        .map_err(|e| CliError::input("--weights", e))?;
                self.check_arch(&arch)?;
                Network::new(arch, params).map_err(|e| CliError::input("--weights", e))?
            }
            None => {
                let arch = self.arch()?;
                let (init, bias) = self.schemes();
                init_network(&arch, &init, &bias, self.seed)
                    .map_err(|e| CliError::input("--init", e))?
            }
        })
    }

    /// Builds the data for an architecture.
    ///
    /// # Errors
    /// [`CliError::Input`] naming `--data`, `--target` or the CSV file and line.
    pub fn dataset(&self, arch: &Arch) -> Result<Dataset<BigRational>, CliError> {
        let (spec, target) = self.data.parse();
        crate::io::build_dataset(
            &spec,
            arch.inputs(),
            arch.outputs(),
            &target,
            self.data.seed,
        )
        .map_err(|e| CliError::input("--data", e))
    }
}

/// Optimizer and hyperparameter flags (PyTorch's defaults when omitted).
#[derive(Args, Debug, Clone, Default)]
pub struct OptimArgs {
    /// Learning rate (default: PyTorch's for the optimizer).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub lr: Option<BigRational>,
    /// Momentum (momentum and nesterov: 0.9 by default; sgd: 0; rmsprop: 0).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub momentum: Option<BigRational>,
    /// Adam-family beta1 (0.9).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub beta1: Option<BigRational>,
    /// Adam-family beta2 (0.999).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub beta2: Option<BigRational>,
    /// eps (Adam family 1e-8, Adagrad 1e-10, RMSProp 1e-8, Adadelta 1e-6); must be > 0.
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub eps: Option<BigRational>,
    /// RMSProp alpha (0.99).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub alpha: Option<BigRational>,
    /// RMSProp centered.
    #[arg(long)]
    pub centered: bool,
    /// Adagrad lr_decay (0).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub lr_decay: Option<BigRational>,
    /// NAdam momentum_decay psi (0.004).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub momentum_decay: Option<BigRational>,
    /// Adadelta rho (0.9).
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub rho: Option<BigRational>,
    /// Weight decay (L2, added to the gradient; 0). Breaks the frozen property.
    #[arg(long, value_parser = rational, allow_hyphen_values = true)]
    pub weight_decay: Option<BigRational>,
}

impl OptimArgs {
    /// The exact hyperparameters (parsed by clap already).
    pub fn hyper(&self) -> Hyper {
        Hyper {
            lr: self.lr.clone(),
            momentum: self.momentum.clone(),
            beta1: self.beta1.clone(),
            beta2: self.beta2.clone(),
            eps: self.eps.clone(),
            alpha: self.alpha.clone(),
            centered: self.centered,
            lr_decay: self.lr_decay.clone(),
            momentum_decay: self.momentum_decay.clone(),
            rho: self.rho.clone(),
            weight_decay: self.weight_decay.clone(),
        }
    }
}

/// The value parser of exact numbers (`0.1`, `1/3`, `-2e-3`): parsed once, by clap, into
/// the exact rational.
///
/// # Errors
/// The parser's message; clap names the flag.
pub fn rational(text: &str) -> Result<BigRational, crate::scalar::ScalarError> {
    crate::scalar::parse_rational(text)
}

/// The value parser of `--optimizer NAME` (one of [`OptimizerKind::ALL`]'s names).
///
/// # Errors
/// [`OptimError::UnknownOptimizer`], listing the names; clap names the flag.
pub fn optimizer(text: &str) -> Result<OptimizerKind, OptimError> {
    text.parse()
}

/// A list of optimizers as the flags give it: a name, a comma-separated list
/// (`adam,sgd`), or `all` (the nine of the paper); parsed once, by clap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptimizerList(pub Vec<OptimizerKind>);

impl FromStr for OptimizerList {
    type Err = OptimError;
    fn from_str(text: &str) -> Result<Self, OptimError> {
        OptimizerKind::parse_list(text).map(OptimizerList)
    }
}

/// Parses `box:A,B` (for a domain read back from a shard file; the flag is a [`BoxDomain`]).
///
/// # Errors
/// [`CliError::Invalid`] naming `--domain`.
pub fn parse_domain(text: &str) -> Result<(BigRational, BigRational), CliError> {
    let d: BoxDomain = text.parse().map_err(|e| CliError::input("--domain", e))?;
    Ok((d.lo, d.hi))
}

/// A flag's value parsed once, by clap (its `FromStr`), kept with the text it was given
/// as, which the JSON outputs echo.
#[derive(Debug, Clone)]
pub struct Given<T> {
    /// The text on the command line (or the default).
    pub text: String,
    /// The parsed value.
    pub value: T,
}

impl<T: FromStr> FromStr for Given<T> {
    type Err = T::Err;
    fn from_str(text: &str) -> Result<Self, T::Err> {
        Ok(Given {
            text: text.to_string(),
            value: text.parse()?,
        })
    }
}

impl<T> std::fmt::Display for Given<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// `--domain box:A,B` with `A <= B`: the box `[A,B]^d`, exact.
#[derive(Debug, Clone)]
pub struct BoxDomain {
    /// The text given.
    pub text: String,
    /// `A`.
    pub lo: BigRational,
    /// `B`.
    pub hi: BigRational,
}

impl FromStr for BoxDomain {
    type Err = Cause;
    fn from_str(text: &str) -> Result<Self, Cause> {
        let bad = || {
            Cause::from(format!(
                "{}: expected box:A,B with A <= B",
                crate::limits::shown(text)
            ))
        };
        let rest = text.strip_prefix("box:").ok_or_else(bad)?;
        let (a, b) = rest.split_once(',').ok_or_else(bad)?;
        let lo = crate::scalar::parse_rational(a)?;
        let hi = crate::scalar::parse_rational(b)?;
        if lo > hi {
            return Err(bad());
        }
        Ok(BoxDomain {
            text: text.to_string(),
            lo,
            hi,
        })
    }
}

/// `--init` of `estimate`: comma-separated schemes (a sweep), each parsed.
#[derive(Debug, Clone)]
pub struct InitList(pub Vec<Given<InitScheme>>);

impl FromStr for InitList {
    type Err = crate::net::init::InitError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map(InitList)
    }
}

impl std::fmt::Display for InitList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<&str> = self.0.iter().map(|g| g.text.as_str()).collect();
        f.write_str(&texts.join(","))
    }
}

/// At most this many configurations (widths x depths x schemes) in one sweep.
pub const MAX_CONFIGURATIONS: usize = 10_000;

/// `--depths`: a list like `2,4,8` or a range like `2..20` (at most
/// [`MAX_CONFIGURATIONS`] depths).
#[derive(Debug, Clone)]
pub struct Depths(pub Vec<usize>);

impl FromStr for Depths {
    type Err = Cause;
    fn from_str(text: &str) -> Result<Self, Cause> {
        let bad = || {
            Cause::from(format!(
                "{text:?}: expected a list like 2,4,8 or a range like 2..20"
            ))
        };
        if let Some((a, b)) = text.split_once("..") {
            let (a, b): (usize, usize) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if a > b {
                return Err(bad());
            }
            crate::limits::check_cap(
                "the number of depths",
                (b - a) as u128 + 1,
                MAX_CONFIGURATIONS as u128,
            )?;
            return Ok(Depths((a..=b).collect()));
        }
        text.split(',')
            .map(|s| s.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()
            .map(Depths)
    }
}

/// `--shard I/N`: shard `index` of `count` (`0 <= I < N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// `I`.
    pub index: u64,
    /// `N`.
    pub count: u64,
}

/// A `--shard` that is not `I/N` with `0 <= I < N`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text:?}: expected I/N with 0 <= I < N")]
pub struct ShardError {
    /// The value given.
    pub text: String,
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(text: &str) -> Result<Self, ShardError> {
        let bad = || ShardError {
            text: text.to_string(),
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}
