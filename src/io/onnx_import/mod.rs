//! Reading theta from an ONNX MLP (`--weights model.onnx`), exactly.
//!
//! The graph must be one chain from its single input to its single output made of
//! `Gemm` (any `alpha`, `beta`, `transB`; `transA = 0`), `MatMul` (optionally followed by
//! an `Add` of a bias: `bias=False` layers export as a lone `MatMul`), `Relu` between the
//! affine layers, and `Flatten` (axis 1) or `Identity`, which change nothing on a batch of
//! vectors. Any other node is refused with its name and op type, as is a `Relu` after the
//! last layer (deadrelu's networks have a linear output). Weights are float32 or float64
//! initializers (`raw_data` or the typed fields); each stored float becomes its exact
//! rational, and `alpha`/`beta` are applied in exact arithmetic.

use crate::net::{Arch, NetError};
use crate::scalar::{BigRational, ScalarError, rational_from_f64};
use onnx_protobuf::{Message, ModelProto};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
pub use tensor::InitializerError;
use tensor::{attr_f, attr_i, broadcast_bias, tensor_values};

mod tensor;
#[cfg(test)]
mod tests;

/// Errors importing ONNX.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxImportError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not an ONNX model: the protobuf message does not parse.
    #[error("{path}: not an ONNX model: {source}")]
    Protobuf {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: protobuf::Error,
    },
    /// An initializer whose values cannot be read.
    #[error("{path}: {source}")]
    Initializer {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: InitializerError,
    },
    /// An initializer value that is not a finite number.
    #[error("{path}: initializer {name:?}[{index}]: {source}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The initializer.
        name: String,
        /// The entry, row-major.
        index: usize,
        /// The cause.
        source: ScalarError,
    },
    /// A `Gemm` attribute (`alpha`, `beta`) that is not a finite number.
    #[error("{path}: node {node:?} {attribute}: {source}")]
    Attribute {
        /// The file.
        path: PathBuf,
        /// The node's name.
        node: String,
        /// The attribute.
        attribute: &'static str,
        /// The cause.
        source: ScalarError,
    },
    /// A graph that is not an MLP deadrelu reads: the importer's own description of what
    /// does not fit (which node, which input, which dims), no other error inside.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A node deadrelu does not read.
    #[error(
        "{path}: node {name:?} has op type {op}, which is not supported (Gemm, MatMul, Add, Relu, Flatten, Identity)"
    )]
    UnsupportedNode {
        /// The file.
        path: PathBuf,
        /// The node's name.
        name: String,
        /// Its op type.
        op: String,
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

/// An initializer: its dims and exact values.
struct Init {
    dims: Vec<usize>,
    values: Vec<BigRational>,
}

/// One affine layer being assembled: `out x in` weights row-major and biases.
struct Layer {
    rows: usize,
    cols: usize,
    w: Vec<BigRational>,
    b: Vec<BigRational>,
    /// A MatMul whose Add has not been seen yet.
    open_matmul: bool,
}

/// Reads an ONNX MLP: the inferred architecture and theta (exact).
///
/// # Errors
/// [`OnnxImportError`] naming the file and the offending node or initializer.
pub fn read_onnx(path: &Path) -> Result<(Arch, Vec<BigRational>), OnnxImportError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxImportError::Io {
        path: path.into(),
        source,
    })?;
    let fmt = |reason: String| OnnxImportError::Format {
        path: path.into(),
        reason,
    };
    let model =
        ModelProto::parse_from_bytes(&bytes).map_err(|source| OnnxImportError::Protobuf {
            path: path.into(),
            source,
        })?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| fmt("not an ONNX model: no graph".into()))?;
    let mut inits: HashMap<&str, Init> = HashMap::new();
    for t in &graph.initializer {
        let values = tensor_values(t).map_err(|source| OnnxImportError::Initializer {
            path: path.into(),
            source,
        })?;
        let values = values
            .into_iter()
            .enumerate()
            .map(|(index, v)| {
                rational_from_f64(v).map_err(|source| OnnxImportError::Value {
                    path: path.into(),
                    name: t.name.clone(),
                    index,
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let dims = t.dims.iter().map(|&d| d as usize).collect();
        inits.insert(t.name.as_str(), Init { dims, values });
    }
    let inputs: Vec<&str> = graph
        .input
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| !inits.contains_key(n))
        .collect();
    let [input] = inputs[..] else {
        return Err(fmt(format!(
            "expected one graph input besides the initializers, found {}",
            inputs.len()
        )));
    };
    let mut current = input.to_string();
    let mut layers: Vec<Layer> = Vec::new();
    let mut relu_after_last = false;
    for node in &graph.node {
        let name = if node.name.is_empty() {
            node.output.first().cloned().unwrap_or_default()
        } else {
            node.name.clone()
        };
        let unsupported = || OnnxImportError::UnsupportedNode {
            path: path.into(),
            name: name.clone(),
            op: node.op_type.clone(),
        };
        let [output] = &node.output[..] else {
            return Err(fmt(format!(
                "node {name:?} ({}) has {} outputs, expected one",
                node.op_type,
                node.output.len()
            )));
        };
        let data_inputs: Vec<&str> = node
            .input
            .iter()
            .map(String::as_str)
            .filter(|i| !i.is_empty() && !inits.contains_key(i))
            .collect();
        let chain_err = || {
            fmt(format!(
                "node {name:?} ({}) does not continue the chain from {current:?} (branches and residual connections are not supported)",
                node.op_type
            ))
        };
        if data_inputs != [current.as_str()] {
            if matches!(
                node.op_type.as_str(),
                "Gemm" | "MatMul" | "Add" | "Relu" | "Flatten" | "Identity"
            ) {
                return Err(chain_err());
            }
            return Err(unsupported());
        }
        let init = |i: usize, what: &str| -> Result<&Init, OnnxImportError> {
            node.input
                .get(i)
                .and_then(|n| inits.get(n.as_str()))
                .ok_or_else(|| {
                    fmt(format!(
                        "node {name:?} ({}): its {what} is not an initializer",
                        node.op_type
                    ))
                })
        };
        let open = layers.last().is_some_and(|l| l.open_matmul);
        match node.op_type.as_str() {
            "Identity" => {}
            "Flatten" => {
                if attr_i(node, "axis", 1) != 1 {
                    return Err(fmt(format!(
                        "node {name:?} (Flatten) has axis {}, only 1 is read",
                        attr_i(node, "axis", 1)
                    )));
                }
            }
            "Relu" => {
                if layers.is_empty() || relu_after_last {
                    return Err(fmt(format!(
                        "node {name:?} (Relu) does not follow an affine layer"
                    )));
                }
                if let Some(l) = layers.last_mut() {
                    l.open_matmul = false;
                }
                relu_after_last = true;
            }
            "Gemm" | "MatMul" => {
                if !layers.is_empty() && !relu_after_last {
                    return Err(fmt(format!(
                        "node {name:?} ({}) follows an affine layer without a Relu between them",
                        node.op_type
                    )));
                }
                if node.input.first().map(String::as_str) != Some(current.as_str()) {
                    return Err(fmt(format!(
                        "node {name:?} ({}): the data must be its first input",
                        node.op_type
                    )));
                }
                let gemm = node.op_type == "Gemm";
                if gemm && attr_i(node, "transA", 0) != 0 {
                    return Err(fmt(format!("node {name:?} (Gemm) has transA = 1")));
                }
                let trans_b = gemm && attr_i(node, "transB", 0) != 0;
                let b = init(1, "weight")?;
                let [d0, d1] = b.dims[..] else {
                    return Err(fmt(format!(
                        "node {name:?} ({}): weight has dims {:?}, expected 2",
                        node.op_type, b.dims
                    )));
                };
                let (rows, cols) = if trans_b { (d0, d1) } else { (d1, d0) };
                let alpha = if gemm {
                    rational_from_f64(attr_f(node, "alpha", 1.0) as f64).map_err(|source| {
                        OnnxImportError::Attribute {
                            path: path.into(),
                            node: name.clone(),
                            attribute: "alpha",
                            source,
                        }
                    })?
                } else {
                    BigRational::from_integer(1.into())
                };
                let w: Vec<BigRational> = (0..rows)
                    .flat_map(|j| (0..cols).map(move |i| (j, i)))
                    .map(|(j, i)| {
                        let v = if trans_b {
                            &b.values[j * cols + i]
                        } else {
                            &b.values[i * rows + j]
                        };
                        v * &alpha
                    })
                    .collect();
                let mut bias = vec![BigRational::from_integer(0.into()); rows];
                if gemm && node.input.len() > 2 && !node.input[2].is_empty() {
                    let c = init(2, "bias")?;
                    let beta =
                        rational_from_f64(attr_f(node, "beta", 1.0) as f64).map_err(|source| {
                            OnnxImportError::Attribute {
                                path: path.into(),
                                node: name.clone(),
                                attribute: "beta",
                                source,
                            }
                        })?;
                    bias = broadcast_bias(&c.values, &c.dims, rows)
                        .ok_or_else(|| {
                            fmt(format!(
                                "node {name:?} (Gemm): bias dims {:?} do not broadcast to [{rows}]",
                                c.dims
                            ))
                        })?
                        .into_iter()
                        .map(|v| v * &beta)
                        .collect();
                }
                if let Some(prev) = layers.last()
                    && prev.rows != cols
                {
                    return Err(fmt(format!(
                        "node {name:?} ({}) takes {cols} inputs but the layer before gives {}",
                        node.op_type, prev.rows
                    )));
                }
                layers.push(Layer {
                    rows,
                    cols,
                    w,
                    b: bias,
                    open_matmul: !gemm,
                });
                relu_after_last = false;
            }
            "Add" if open => {
                let other = node
                    .input
                    .iter()
                    .find(|i| i.as_str() != current)
                    .and_then(|n| inits.get(n.as_str()))
                    .ok_or_else(|| {
                        fmt(format!(
                            "node {name:?} (Add): the bias is not an initializer"
                        ))
                    })?;
                let layer = layers.last_mut().expect("open implies a layer");
                let add =
                    broadcast_bias(&other.values, &other.dims, layer.rows).ok_or_else(|| {
                        fmt(format!(
                            "node {name:?} (Add): bias dims {:?} do not broadcast to [{}]",
                            other.dims, layer.rows
                        ))
                    })?;
                for (b, a) in layer.b.iter_mut().zip(add) {
                    *b += a;
                }
                layer.open_matmul = false;
            }
            _ => return Err(unsupported()),
        }
        current = output.clone();
    }
    let outputs: Vec<&str> = graph.output.iter().map(|v| v.name.as_str()).collect();
    if outputs != [current.as_str()] {
        return Err(fmt(format!(
            "the graph's output {outputs:?} is not the end of the chain {current:?}"
        )));
    }
    if relu_after_last {
        return Err(fmt(
            "the graph ends with a Relu: deadrelu's networks have a linear output layer".into(),
        ));
    }
    let first = layers
        .first()
        .ok_or_else(|| fmt("no Gemm or MatMul layer".into()))?;
    let mut widths = vec![first.cols];
    let mut params = Vec::new();
    for l in layers {
        widths.push(l.rows);
        params.extend(l.w);
        params.extend(l.b);
    }
    let arch = Arch::new(widths).map_err(|source| OnnxImportError::Net {
        path: path.into(),
        source,
    })?;
    Ok((arch, params))
}
