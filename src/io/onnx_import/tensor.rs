//! Initializers and attributes of an ONNX graph: float32/float64 values (raw or typed
//! fields, sizes checked before use), node attributes, bias broadcasting.

use crate::scalar::BigRational;
use onnx_protobuf::{NodeProto, TensorProto, tensor_proto::DataType};

/// The values of an initializer as `f64` (every float32 and float64 exactly), or why
/// they cannot be read.
pub(super) fn tensor_values(t: &TensorProto) -> Result<Vec<f64>, String> {
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

/// A float attribute of a node, or its default.
pub(super) fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.f)
}

/// An integer attribute of a node, or its default.
pub(super) fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.i)
}

/// A bias of dims `[n]`, `[1, n]`, `[1]` or `[]` as `n` values.
pub(super) fn broadcast_bias(
    values: &[BigRational],
    dims: &[usize],
    n: usize,
) -> Option<Vec<BigRational>> {
    match (dims, values) {
        ([m], _) | ([1, m], _) if *m == n && values.len() == n => Some(values.to_vec()),
        ([] | [1] | [1, 1], [v]) => Some(vec![v.clone(); n]),
        _ => None,
    }
}
