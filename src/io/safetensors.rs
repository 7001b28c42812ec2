//! Importing theta from a safetensors file written by PyTorch (`safetensors.torch.save_file(
//! model.state_dict(), path)`) for a chain of `nn.Linear` layers with ReLUs between them,
//! under any module names: tensors `M.weight` and, unless the layer has `bias=False`
//! (then its biases are 0), `M.bias` for each module `M` (`0`, `net.2`, `fc1`,
//! `encoder.0`, `head`, ...). The layer order is explicit (`--layer-order`, or the file's
//! `layer_order` metadata), else implied by the module numbers, else by the one order in
//! which the shapes chain; see `io::safetensors_order`.
//!
//! The architecture is inferred from the shapes (`weight` is `out x in`, `bias` is `out`)
//! and checked for consistency (`in` of a layer equals `out` of the one before). Every
//! stored `f16`, `bf16`, `f32` or `f64` becomes its exact rational (each is widened to
//! `f64` exactly, then made exact), so an audit sees exactly the numbers PyTorch stored.

use super::safetensors_order::{OrderError, OrderSource};
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
    #[error("{path}: not a safetensors file: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: safetensors::SafeTensorError,
    },
    /// A tensor name that is not `<module>.weight|bias`.
    #[error(
        "{path}: tensor {name:?} is not a weight or bias of an nn.Linear{hint} (only Linear layers with ReLUs between them are supported)"
    )]
    UnsupportedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// What it seems to be instead (`""` or `" (it belongs to a BatchNorm: ...)"`).
        hint: &'static str,
    },
    /// A module with a bias and no weight.
    #[error("{path}: module {module:?} has a bias but no weight tensor")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The module's name.
        module: String,
    },
    /// A dtype other than a float type.
    #[error(
        "{path}: tensor {name:?} has dtype {dtype}; only float16, bfloat16, float32 and float64 weights are read (convert with .float())"
    )]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// The dtype.
        dtype: String,
    },
    /// Shapes that do not make a chain of Linear layers, or no layer order.
    #[error("{path}: {source}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What does not fit (boxed: the order's lists make it large).
        source: Box<ShapeError>,
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

/// Why the tensors of a state_dict do not make a chain of Linear layers (the file is named
/// by [`ImportError::Shape`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// No tensors at all.
    #[error("no tensors")]
    Empty,
    /// A weight that is not 2-D.
    #[error("{name} has shape {shape:?}, expected [out, in] (an nn.Linear weight)")]
    Weight {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A bias whose shape is not `[out]` of its weight.
    #[error("{name} has shape {shape:?}, expected [{out}]")]
    Bias {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The outputs of its weight.
        out: usize,
    },
    /// No layer order (see [`crate::io::safetensors_order`]).
    #[error(transparent)]
    Order(#[from] OrderError),
    /// In the order found, a layer's inputs are not the outputs of the layer before.
    #[error(
        "{name} takes {inputs} inputs but the layer before it ({before}) has {outputs} outputs{}",
        if *explicit { "" } else { "; if this is not the order of the layers, give it with --layer-order" }
    )]
    Chain {
        /// The weight.
        name: String,
        /// Its inputs.
        inputs: usize,
        /// The module before it.
        before: String,
        /// That module's outputs.
        outputs: usize,
        /// Whether the order was given (`--layer-order` or the metadata), not inferred.
        explicit: bool,
    },
}

fn values(path: &Path, name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f64>, ImportError> {
    // every conversion below is exact: each format's values are doubles
    let raw: Vec<f64> = match dtype {
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
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

/// Reads a safetensors file: the inferred architecture and theta (exact), the layer order
/// from the names, the file's metadata or the shapes.
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn read_safetensors(path: &Path) -> Result<(Arch, Vec<BigRational>), ImportError> {
    read_safetensors_ordered(path, None)
}

/// [`read_safetensors`] with an explicit layer order (`"fc1,fc2,head"`: the module names,
/// input layer first), as `--layer-order` gives it.
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn read_safetensors_ordered(
    path: &Path,
    layer_order: Option<&str>,
) -> Result<(Arch, Vec<BigRational>), ImportError> {
    let (arch, params) = read_safetensors_f64(path, layer_order)?;
    let params = params
        .into_iter()
        .map(|v| rational_from_f64(v).expect("checked finite"))
        .collect();
    Ok((arch, params))
}

/// Reads a safetensors file: the inferred architecture and theta as the stored values
/// widened to `f64` (exactly), which are the exact parameters. `layer_order`: as in
/// [`read_safetensors_ordered`].
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor.
pub fn read_safetensors_f64(
    path: &Path,
    layer_order: Option<&str>,
) -> Result<(Arch, Vec<f64>), ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.into(),
        source,
    })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|source| ImportError::Format {
        path: path.into(),
        source,
    })?;
    let metadata = SafeTensors::read_metadata(&bytes)
        .ok()
        .and_then(|(_, m)| m.metadata().as_ref()?.get("layer_order").cloned());
    let mut named = Vec::new();
    for (name, view) in tensors.iter() {
        let data = values(path, name, view.dtype(), view.data())?;
        named.push((name.to_string(), view.shape().to_vec(), data));
    }
    theta_from_tensors(path, named, layer_order, metadata.as_deref())
}

/// Infers the architecture and theta from the named tensors of a chain of `nn.Linear`
/// layers (`<module>.weight` and optionally `<module>.bias`, see the module docs).
/// `layer_order` is the explicit order of the command line, `metadata` the file's
/// `layer_order` entry; both optional, and they must agree when both are given.
///
/// # Errors
/// [`ImportError`] naming the file and the offending tensor or module.
pub fn theta_from_tensors(
    path: &Path,
    named: Vec<Tensor>,
    layer_order: Option<&str>,
    metadata: Option<&str>,
) -> Result<(Arch, Vec<f64>), ImportError> {
    let shape_err = |source: ShapeError| ImportError::Shape {
        path: path.into(),
        source: Box::new(source),
    };
    // module name -> (weight, bias)
    let mut modules: BTreeMap<String, [Option<Tensor>; 2]> = BTreeMap::new();
    for (name, shape, data) in named {
        let unsupported = |hint| ImportError::UnsupportedTensor {
            path: path.into(),
            name: name.to_string(),
            hint,
        };
        let (module, kind) = name.rsplit_once('.').ok_or_else(|| unsupported(""))?;
        let slot = match kind {
            "weight" => 0,
            "bias" => 1,
            "running_mean" | "running_var" | "num_batches_tracked" => {
                return Err(unsupported(
                    " (it belongs to a BatchNorm; fold it into the Linear first, e.g. with the Python package's deadrelu.theta(model))",
                ));
            }
            _ => return Err(unsupported("")),
        };
        let module = module.to_string();
        modules.entry(module).or_default()[slot] = Some((name, shape, data));
    }
    if modules.is_empty() {
        return Err(shape_err(ShapeError::Empty));
    }
    // every module: a 2-D weight, a bias (or none) of its out size
    let mut shapes = Vec::with_capacity(modules.len());
    for (module, [weight, bias]) in &mut modules {
        let Some((wname, wshape, _)) = weight else {
            return Err(ImportError::Missing {
                path: path.into(),
                module: module.clone(),
            });
        };
        let [out, inp] = wshape[..] else {
            return Err(shape_err(ShapeError::Weight {
                name: wname.clone(),
                shape: wshape.clone(),
            }));
        };
        match bias {
            Some((bname, bshape, _)) if *bshape != [out] => {
                return Err(shape_err(ShapeError::Bias {
                    name: bname.clone(),
                    shape: bshape.clone(),
                    out,
                }));
            }
            Some(_) => {}
            // bias=False: zero biases
            None => *bias = Some((format!("{module}.bias"), vec![out], vec![0.0; out])),
        }
        shapes.push((module.clone(), (out, inp)));
    }
    let (order, source) = super::safetensors_order::layer_order(&shapes, layer_order, metadata)
        .map_err(|e| shape_err(e.into()))?;
    let mut widths: Vec<usize> = Vec::new();
    let mut params = Vec::new();
    let mut previous: Option<String> = None;
    for module in order {
        let [Some((wname, wshape, wdata)), Some((_, _, bdata))] = modules
            .remove(&module)
            .expect("the order lists the modules")
        else {
            unreachable!("every module has a weight and a bias (checked above)")
        };
        let (out, inp) = (wshape[0], wshape[1]);
        if let (Some(&prev), Some(before)) = (widths.last(), &previous)
            && prev != inp
        {
            return Err(shape_err(ShapeError::Chain {
                name: wname,
                inputs: inp,
                before: before.clone(),
                outputs: prev,
                explicit: source == OrderSource::Explicit,
            }));
        }
        if widths.is_empty() {
            widths.push(inp);
        }
        widths.push(out);
        params.extend(wdata.iter().chain(&bdata));
        previous = Some(module);
    }
    let arch = Arch::new(widths).map_err(|source| ImportError::Net {
        path: path.into(),
        source,
    })?;
    Ok((arch, params))
}
