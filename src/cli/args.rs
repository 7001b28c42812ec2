//! Options shared by the commands (flattened into each command's options), their value
//! parsers, and the setup they describe (network and data).

use super::CliError;
use crate::data::{DataSpec, Dataset, Target};
use crate::net::init::{BiasInit, InitScheme, init_network};
use crate::net::{Arch, Network};
use crate::optim::Hyper;
use crate::scalar::BigRational;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

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
    /// Widths l_0..l_L, e.g. 1,8,8,1 (L >= 2, all >= 1). Required unless --weights, whose
    /// architecture it must then match.
    #[arg(long, value_delimiter = ',', required_unless_present = "weights")]
    pub arch: Option<Vec<usize>>,
    /// Initialization: torch-default, he-normal, he-uniform, glorot-normal, glorot-uniform,
    /// lecun-normal, rai, uniform:C, normal:S. Ignored with --weights.
    #[arg(long, default_value = "torch-default")]
    pub init: String,
    /// Biases: zero, same, uniform:C, normal:S, const:V (default: the scheme's own).
    #[arg(long, default_value = "default")]
    pub bias_init: String,
    /// Seed of the initialization (trial 0 of its ChaCha8 stream family). Ignored with --weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Theta from a file instead of --init, by extension: JSON {"arch":[..],"params":[..]}, or a
    /// PyTorch nn.Sequential of nn.Linear state_dict saved as .safetensors or .npz, or an ONNX
    /// MLP (.onnx: Gemm, MatMul+Add, Relu, Flatten, Identity); f32/f64, read exactly.
    #[arg(long)]
    pub weights: Option<PathBuf>,
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
    pub spec: String,
    /// Seed of uniform:A,B:M data.
    #[arg(id = "data_seed", long = "data-seed", default_value_t = 0)]
    pub seed: u64,
    /// Target of synthetic data: abs, square, sin, relu-bump, const:V.
    #[arg(long, default_value = "abs")]
    pub target: String,
}

impl DataArgs {
    /// Warns about data flags that have no effect: `--target` with CSV data (its last
    /// columns are the targets) and `--data-seed` with data that are not random.
    pub fn warn_ignored(&self) {
        if self.spec.starts_with("csv:") && self.target != "abs" {
            super::warn("--target is ignored: CSV data carry their targets in their last columns");
        }
        if !self.spec.starts_with("uniform:") && self.seed != 0 {
            super::warn("--data-seed is ignored: only uniform:A,B:M data are random");
        }
    }

    /// The data specification and the target.
    ///
    /// # Errors
    /// [`CliError::Invalid`] naming `--data` or `--target`.
    pub fn parse(&self) -> Result<(DataSpec, Target), CliError> {
        let spec: DataSpec = self
            .spec
            .parse()
            .map_err(|e| CliError::input("--data", e))?;
        let target: Target = self
            .target
            .parse()
            .map_err(|e| CliError::input("--target", e))?;
        Ok((spec, target))
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
    /// Parses the initialization scheme.
    ///
    /// # Errors
    /// [`CliError::Input`] naming `--init` or `--bias-init`.
    pub fn schemes(&self) -> Result<(InitScheme, BiasInit), CliError> {
        let init: InitScheme = self
            .init
            .parse()
            .map_err(|e| CliError::Input(format!("{e}")))?;
        let bias: BiasInit = self
            .bias_init
            .parse()
            .map_err(|e| CliError::Input(format!("{e}")))?;
        Ok((init, bias))
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
                if self.init != "torch-default" || self.bias_init != "default" || self.seed != 0 {
                    super::warn(&format!(
                        "--init, --bias-init and --seed are ignored: theta is read from {}",
                        path.display()
                    ));
                }
                let (arch, params) = crate::io::read_weights_exact(path)
                    .map_err(|e| CliError::input("--weights", e))?;
                self.check_arch(&arch)?;
                Network::new(arch, params).map_err(|e| CliError::input("--weights", e))?
            }
            None => {
                let arch = self.arch()?;
                let (init, bias) = self.schemes()?;
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
        let (spec, target) = self.data.parse()?;
        self.data.warn_ignored();
        spec.build(arch.inputs(), arch.outputs(), &target, self.data.seed)
            .map_err(|e| CliError::input("--data", e))
    }
}

/// Optimizer and hyperparameter flags (PyTorch's defaults when omitted).
#[derive(Args, Debug, Clone, Default)]
pub struct OptimArgs {
    /// Learning rate (default: PyTorch's for the optimizer).
    #[arg(long, value_parser = rational)]
    pub lr: Option<BigRational>,
    /// Momentum (momentum and nesterov: 0.9 by default; sgd: 0; rmsprop: 0).
    #[arg(long, value_parser = rational)]
    pub momentum: Option<BigRational>,
    /// Adam-family beta1 (0.9).
    #[arg(long, value_parser = rational)]
    pub beta1: Option<BigRational>,
    /// Adam-family beta2 (0.999).
    #[arg(long, value_parser = rational)]
    pub beta2: Option<BigRational>,
    /// eps (Adam family 1e-8, Adagrad 1e-10, RMSProp 1e-8, Adadelta 1e-6); must be > 0.
    #[arg(long, value_parser = rational)]
    pub eps: Option<BigRational>,
    /// RMSProp alpha (0.99).
    #[arg(long, value_parser = rational)]
    pub alpha: Option<BigRational>,
    /// RMSProp centered.
    #[arg(long)]
    pub centered: bool,
    /// Adagrad lr_decay (0).
    #[arg(long, value_parser = rational)]
    pub lr_decay: Option<BigRational>,
    /// NAdam momentum_decay psi (0.004).
    #[arg(long, value_parser = rational)]
    pub momentum_decay: Option<BigRational>,
    /// Adadelta rho (0.9).
    #[arg(long, value_parser = rational)]
    pub rho: Option<BigRational>,
    /// Weight decay (L2, added to the gradient; 0). Breaks the frozen property.
    #[arg(long, value_parser = rational)]
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
pub fn rational(text: &str) -> Result<BigRational, String> {
    crate::scalar::parse_rational(text).map_err(|e| e.to_string())
}

/// Parses `box:A,B`.
///
/// # Errors
/// [`CliError::Input`] naming `--domain`.
pub fn parse_domain(text: &str) -> Result<(BigRational, BigRational), CliError> {
    let bad = || CliError::Input(format!("--domain {text:?}: expected box:A,B with A <= B"));
    let rest = text.strip_prefix("box:").ok_or_else(bad)?;
    let (a, b) = rest.split_once(',').ok_or_else(bad)?;
    let a = crate::scalar::parse_rational(a).map_err(|e| CliError::input("--domain", e))?;
    let b = crate::scalar::parse_rational(b).map_err(|e| CliError::input("--domain", e))?;
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}
