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
use crate::scalar::{BigRational, rational_from_f64};
use onnx_protobuf::{Message, ModelProto, NodeProto, TensorProto, tensor_proto::DataType};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    /// Not an ONNX model, or not an MLP deadrelu reads.
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

fn tensor_values(t: &TensorProto) -> Result<Vec<f64>, String> {
    let name = &t.name;
    if !t.external_data.is_empty() {
        return Err(format!(
            "initializer {name:?} keeps its data in an external file (save the model with its data inside)"
        ));
    }
    let count: usize = t
        .dims
        .iter()
        .try_fold(1usize, |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .ok_or_else(|| format!("initializer {name:?} has invalid dims {:?}", t.dims))?;
    let values: Vec<f64> = if t.data_type == DataType::FLOAT as i32 {
        if !t.raw_data.is_empty() {
            if t.raw_data.len() != count.saturating_mul(4) {
                return Err(format!(
                    "initializer {name:?}: {} raw bytes for {count} float32 values",
                    t.raw_data.len()
                ));
            }
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
                .collect()
        } else {
            t.float_data.iter().map(|&v| v as f64).collect()
        }
    } else if t.data_type == DataType::DOUBLE as i32 {
        if !t.raw_data.is_empty() {
            if t.raw_data.len() != count.saturating_mul(8) {
                return Err(format!(
                    "initializer {name:?}: {} raw bytes for {count} float64 values",
                    t.raw_data.len()
                ));
            }
            t.raw_data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect()
        } else {
            t.double_data.clone()
        }
    } else {
        return Err(format!(
            "initializer {name:?} has data type {}; only float32 and float64 are read",
            t.data_type
        ));
    };
    if values.len() != count {
        return Err(format!(
            "initializer {name:?} has {} values for dims {:?}",
            values.len(),
            t.dims
        ));
    }
    Ok(values)
}

fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.f)
}

fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.i)
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
        ModelProto::parse_from_bytes(&bytes).map_err(|e| fmt(format!("not an ONNX model: {e}")))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| fmt("not an ONNX model: no graph".into()))?;
    let mut inits: HashMap<&str, Init> = HashMap::new();
    for t in &graph.initializer {
        let values = tensor_values(t).map_err(&fmt)?;
        let values = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                rational_from_f64(v).map_err(|e| fmt(format!("initializer {:?}[{i}]: {e}", t.name)))
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
                    rational_from_f64(attr_f(node, "alpha", 1.0) as f64)
                        .map_err(|e| fmt(format!("node {name:?} alpha: {e}")))?
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
                    let beta = rational_from_f64(attr_f(node, "beta", 1.0) as f64)
                        .map_err(|e| fmt(format!("node {name:?} beta: {e}")))?;
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

/// A bias of dims `[n]`, `[1, n]`, `[1]` or `[]` as `n` values.
fn broadcast_bias(values: &[BigRational], dims: &[usize], n: usize) -> Option<Vec<BigRational>> {
    match (dims, values) {
        ([m], _) | ([1, m], _) if *m == n && values.len() == n => Some(values.to_vec()),
        ([] | [1] | [1, 1], [v]) => Some(vec![v.clone(); n]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Network;
    use crate::scalar::q;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn exported_gemm_model_reads_back_exactly() {
        let arch = Arch::new(vec![2, 3, 1]).unwrap();
        let params: Vec<BigRational> = (0..arch.num_params() as i64).map(|i| q(i - 4, 8)).collect();
        let net = Network::new(arch.clone(), params.clone()).unwrap();
        let (bytes, _) = crate::io::onnx::onnx_model(&net, 2, crate::io::export::Dtype::F64);
        let dir = std::env::temp_dir().join(format!("deadrelu-onnx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = write(&dir, "m.onnx", &bytes);
        let (a, got) = read_onnx(&p).unwrap();
        assert_eq!(a, arch);
        assert_eq!(got, params);
        let _ = std::fs::remove_dir_all(&dir);
    }

    use onnx_protobuf::{
        AttributeProto, GraphProto, ValueInfoProto, attribute_proto::AttributeType,
    };
    use protobuf::{EnumOrUnknown, MessageField};

    fn init_f32(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
        let mut t = TensorProto::new();
        t.name = name.into();
        t.dims = dims.to_vec();
        t.data_type = DataType::FLOAT as i32;
        t.raw_data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        t
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        let mut n = NodeProto::new();
        n.op_type = op.into();
        n.name = format!("/{op}_{output}");
        n.input = inputs.iter().map(|s| s.to_string()).collect();
        n.output = vec![output.into()];
        n
    }

    fn io(name: &str) -> ValueInfoProto {
        let mut v = ValueInfoProto::new();
        v.name = name.into();
        v
    }

    fn model(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, out: &str) -> Vec<u8> {
        let mut g = GraphProto::new();
        g.input = vec![io("x")];
        g.output = vec![io(out)];
        g.node = nodes;
        g.initializer = inits;
        let mut m = ModelProto::new();
        m.graph = MessageField::some(g);
        m.write_to_bytes().unwrap()
    }

    fn read(bytes: &[u8], tag: &str) -> Result<(Arch, Vec<BigRational>), OnnxImportError> {
        let dir = std::env::temp_dir().join(format!("deadrelu-onnx-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = read_onnx(&write(&dir, "m.onnx", bytes));
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn matmul_add_flatten_identity_bias_free_and_scaled_gemm() {
        // x -> Flatten -> MatMul(B1: 1x2) + C1 -> Relu -> Identity -> MatMul(B2: 2x2) (no bias)
        //   -> Relu -> Gemm(alpha 2, beta 1/2, transB 0; B3: 2x1, C3: [1])
        let mut gemm = node("Gemm", &["a2", "B3", "C3"], "y");
        for (name, f) in [("alpha", 2.0f32), ("beta", 0.5)] {
            let mut a = AttributeProto::new();
            a.name = name.into();
            a.type_ = EnumOrUnknown::new(AttributeType::FLOAT);
            a.f = f;
            gemm.attribute.push(a);
        }
        let bytes = model(
            vec![
                node("Flatten", &["x"], "f"),
                node("MatMul", &["f", "B1"], "m1"),
                node("Add", &["C1", "m1"], "z1"),
                node("Relu", &["z1"], "a1"),
                node("Identity", &["a1"], "i1"),
                node("MatMul", &["i1", "B2"], "z2"),
                node("Relu", &["z2"], "a2"),
                gemm,
            ],
            vec![
                init_f32("B1", &[1, 2], &[0.1, -0.5]),
                init_f32("C1", &[2], &[0.25, -1.0]),
                init_f32("B2", &[2, 2], &[1.0, 2.0, 3.0, 4.0]),
                init_f32("B3", &[2, 1], &[0.75, -0.125]),
                init_f32("C3", &[1], &[3.0]),
            ],
            "y",
        );
        let (arch, p) = read(&bytes, "chain").unwrap();
        assert_eq!(arch.widths(), &[1, 2, 2, 1]);
        let f = |x: f32| rational_from_f64(x as f64).unwrap();
        let want = vec![
            f(0.1),
            f(-0.5),
            q(1, 4),
            q(-1, 1), // W1 (2x1), B1
            q(1, 1),
            q(3, 1),
            q(2, 1),
            q(4, 1),
            q(0, 1),
            q(0, 1), // W2 = B2^T, no bias
            q(3, 2),
            q(-1, 4),
            q(3, 2), // W3 = 2 * B3^T, B3 = 3 / 2
        ];
        assert_eq!(p, want);
        assert_ne!(
            p[0],
            q(1, 10),
            "float32 0.1 is read as the float, not the decimal"
        );
    }

    #[test]
    fn other_ops_are_refused_naming_the_node() {
        let bytes = model(
            vec![
                node("Gemm", &["x", "W", "b"], "z"),
                node("Tanh", &["z"], "t"),
                node("Gemm", &["t", "W2"], "y"),
            ],
            vec![
                init_f32("W", &[1, 1], &[1.0]),
                init_f32("b", &[1], &[0.0]),
                init_f32("W2", &[1, 1], &[1.0]),
            ],
            "y",
        );
        let e = read(&bytes, "tanh").unwrap_err().to_string();
        assert!(
            e.contains("\"/Tanh_t\"") && e.contains("op type Tanh"),
            "{e}"
        );
        // a residual addition: Add of two data tensors
        let bytes = model(
            vec![
                node("Gemm", &["x", "W", "b"], "z"),
                node("Relu", &["z"], "a"),
                node("Add", &["a", "x"], "r"),
                node("Gemm", &["r", "W2"], "y"),
            ],
            vec![
                init_f32("W", &[1, 1], &[1.0]),
                init_f32("b", &[1], &[0.0]),
                init_f32("W2", &[1, 1], &[1.0]),
            ],
            "y",
        );
        let e = read(&bytes, "res").unwrap_err().to_string();
        assert!(e.contains("does not continue the chain"), "{e}");
        // a Relu on the output
        let bytes = model(
            vec![
                node("Gemm", &["x", "W", "b"], "z"),
                node("Relu", &["z"], "a"),
                node("Gemm", &["a", "W2"], "o"),
                node("Relu", &["o"], "y"),
            ],
            vec![
                init_f32("W", &[1, 1], &[1.0]),
                init_f32("b", &[1], &[0.0]),
                init_f32("W2", &[1, 1], &[1.0]),
            ],
            "y",
        );
        let e = read(&bytes, "relu-out").unwrap_err().to_string();
        assert!(e.contains("ends with a Relu"), "{e}");
        let e = read(b"not a model at all", "junk").unwrap_err().to_string();
        assert!(e.contains("m.onnx"), "{e}");
    }
}
