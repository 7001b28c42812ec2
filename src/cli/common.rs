//! Options shared by the commands and the setup they describe (network and data).

use super::CliError;
use crate::data::{DataSpec, Dataset, Target};
use crate::io::weights;
use crate::net::init::{BiasInit, InitScheme, init_network};
use crate::net::{Arch, Network};
use crate::scalar::BigRational;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Arithmetic of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Exact rationals (num-rational's BigRational; rug under `--features gmp` with `--gmp`).
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
    /// Widths l_0..l_L, e.g. 1,8,8,1 (L >= 2, all >= 1). Inferred from --weights if omitted there.
    #[arg(long, value_delimiter = ',')]
    pub arch: Option<Vec<usize>>,
    /// Initialization: uniform:C, normal:S, torch-default, he-normal, he-uniform, glorot-normal, glorot-uniform, lecun-normal.
    #[arg(long, default_value = "torch-default")]
    pub init: String,
    /// Biases: zero, same, uniform:C, normal:S, const:V (default: the scheme's own).
    #[arg(long, default_value = "default")]
    pub bias_init: String,
    /// Seed of the initialization (trial 0 of its ChaCha8 stream family).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Theta from a file instead of --init: JSON {"arch":[..],"params":[..]}, or a PyTorch
    /// nn.Sequential of nn.Linear saved as .safetensors (f32/f64, read exactly).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Data: uniform:A,B:M, grid:A,B:M or csv:PATH.
    #[arg(long, default_value = "grid:-1,1:64")]
    pub data: String,
    /// Seed of uniform:A,B:M data.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Target of synthetic data: abs, square, sin, relu-bump, const:V.
    #[arg(long, default_value = "abs")]
    pub target: String,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,
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
        let net = match &self.weights {
            Some(path) => {
                let (arch, params) = if path.extension().is_some_and(|e| e == "safetensors") {
                    crate::io::safetensors::read_safetensors(path)
                        .map_err(|e| CliError::input("--weights", e))?
                } else {
                    weights::read_json(path).map_err(|e| CliError::input("--weights", e))?
                };
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
                Network::new(arch, params).map_err(|e| CliError::input("--weights", e))?
            }
            None => {
                let arch = self.arch()?;
                let (init, bias) = self.schemes()?;
                init_network(&arch, &init, &bias, self.seed)
                    .map_err(|e| CliError::input("--init", e))?
            }
        };
        let data = self.dataset(net.arch())?;
        Ok(Setup { net, data })
    }

    /// Builds the data for an architecture.
    ///
    /// # Errors
    /// [`CliError::Input`] naming `--data`, `--target` or the CSV file and line.
    pub fn dataset(&self, arch: &Arch) -> Result<Dataset<BigRational>, CliError> {
        let spec: DataSpec = self
            .data
            .parse()
            .map_err(|e| CliError::input("--data", e))?;
        let target: Target = self
            .target
            .parse()
            .map_err(|e| CliError::input("--target", e))?;
        spec.build(arch.inputs(), arch.outputs(), &target, self.data_seed)
            .map_err(|e| CliError::input("--data", e))
    }
}
