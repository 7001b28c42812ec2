//! Importing theta from a safetensors file written by PyTorch (`safetensors.torch.save_file(
//! model.state_dict(), path)`) for an `nn.Sequential` of `nn.Linear` layers with ReLUs
//! between them: tensors `P0.weight`, `P0.bias`, `P2.weight`, ... where `P` is an optional
//! common prefix (`net.`, `model.`) and the numbers are the module indices.
//!
//! The architecture is inferred from the shapes (`weight` is `out x in`, `bias` is `out`)
//! and checked for consistency (`in` of a layer equals `out` of the one before). Every
//! stored `f32` or `f64` becomes its exact rational (an `f32` is widened to `f64`
//! exactly, then made exact), so an audit sees exactly the numbers PyTorch stored.

use crate::net::{Arch, NetError};
use crate::scalar::{BigRational, rational_from_f64};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors importing safetensors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a safetensors file.
    #[error("{path}: not a safetensors file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A tensor name that is not `<prefix><index>.weight|bias`.
    #[error(
        "{path}: tensor {name:?} is not a weight or bias of an nn.Linear in an nn.Sequential (only Linear layers with ReLUs between them are supported)"
    )]
    UnsupportedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
    },
    /// A missing weight or bias.
    #[error(
        "{path}: layer {index} has no {what} tensor (nn.Linear with bias=False is not supported)"
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// Module index.
        index: u64,
        /// `"weight"` or `"bias"`.
        what: &'static str,
    },
    /// A dtype other than F32 or F64.
    #[error(
        "{path}: tensor {name:?} has dtype {dtype}; only float32 and float64 are read (convert with .float())"
    )]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// The dtype.
        dtype: String,
    },
    /// Shapes that do not chain.
    #[error("{path}: {reason}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// A NaN or infinity.
    #[error("{path}: tensor {name:?} entry {index} is {value} (not a finite number)")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Flat index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The inferred architecture is invalid.
    #[error("{path}: {source}")]
    Net {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: NetError,
    },
}

fn values(path: &Path, name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f64>, ImportError> {
    let raw: Vec<f64> = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        other => {
            return Err(ImportError::Dtype {
                path: path.into(),
                name: name.into(),
                dtype: format!("{other:?}"),
            });
        }
    };
    if let Some((index, &value)) = raw.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ImportError::NonFinite {
            path: path.into(),
            name: name.into(),
            index,
            value,
        });
    }
    Ok(raw)
}

/// A tensor as read: its name, shape and values.
pub type Tensor = (String, Vec<usize>, Vec<f64>);

/// Reads a safetensors file: the inferred architecture and theta (exact).
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn read_safetensors(path: &Path) -> Result<(Arch, Vec<BigRational>), ImportError> {
    let (arch, params) = read_safetensors_f64(path)?;
    let params = params
        .into_iter()
        .map(|v| rational_from_f64(v).expect("checked finite"))
        .collect();
    Ok((arch, params))
}

/// Reads a safetensors file: the inferred architecture and theta as the stored `f64`
/// values (`f32` widened exactly), which are the exact parameters.
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn read_safetensors_f64(path: &Path) -> Result<(Arch, Vec<f64>), ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.into(),
        source,
    })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| ImportError::Format {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut named = Vec::new();
    for (name, view) in tensors.iter() {
        let data = values(path, name, view.dtype(), view.data())?;
        named.push((name.to_string(), view.shape().to_vec(), data));
    }
    theta_from_tensors(path, named)
}

/// Infers the architecture and theta from the named tensors of an `nn.Sequential` of
/// `nn.Linear` layers (`<prefix><index>.weight|bias`, see the module docs).
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn theta_from_tensors(
    path: &Path,
    named: Vec<Tensor>,
) -> Result<(Arch, Vec<f64>), ImportError> {
    // index -> (weight, bias)
    let mut layers: BTreeMap<u64, [Option<Tensor>; 2]> = BTreeMap::new();
    let mut prefix: Option<String> = None;
    for (name, shape, data) in named {
        let unsupported = || ImportError::UnsupportedTensor {
            path: path.into(),
            name: name.to_string(),
        };
        let (head, kind) = name.rsplit_once('.').ok_or_else(unsupported)?;
        let slot = match kind {
            "weight" => 0,
            "bias" => 1,
            _ => return Err(unsupported()),
        };
        let (pre, index) = match head.rsplit_once('.') {
            Some((p, i)) => (format!("{p}."), i),
            None => (String::new(), head),
        };
        let index: u64 = index.parse().map_err(|_| unsupported())?;
        if prefix.get_or_insert_with(|| pre.clone()) != &pre {
            return Err(unsupported());
        }
        layers.entry(index).or_default()[slot] = Some((name.to_string(), shape, data));
    }
    if layers.is_empty() {
        return Err(ImportError::Shape {
            path: path.into(),
            reason: "no tensors".into(),
        });
    }
    let shape_err = |reason: String| ImportError::Shape {
        path: path.into(),
        reason,
    };
    let mut widths: Vec<usize> = Vec::new();
    let mut params = Vec::new();
    for (index, [weight, bias]) in layers {
        let (wname, wshape, wdata) = weight.ok_or(ImportError::Missing {
            path: path.into(),
            index,
            what: "weight",
        })?;
        let (bname, bshape, bdata) = bias.ok_or(ImportError::Missing {
            path: path.into(),
            index,
            what: "bias",
        })?;
        let [out, inp] = wshape[..] else {
            return Err(shape_err(format!(
                "{wname} has shape {wshape:?}, expected [out, in]"
            )));
        };
        if bshape != [out] {
            return Err(shape_err(format!(
                "{bname} has shape {bshape:?}, expected [{out}]"
            )));
        }
        match widths.last() {
            None => widths.push(inp),
            Some(&prev) if prev != inp => {
                return Err(shape_err(format!(
                    "{wname} takes {inp} inputs but the layer before has {prev} outputs"
                )));
            }
            Some(_) => {}
        }
        widths.push(out);
        params.extend(wdata.iter().chain(&bdata));
    }
    let arch = Arch::new(widths).map_err(|source| ImportError::Net {
        path: path.into(),
        source,
    })?;
    Ok((arch, params))
}
