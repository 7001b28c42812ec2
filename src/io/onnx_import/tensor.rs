//! Initializers and attributes of an ONNX graph: float32/float64 values (raw or typed
//! fields, sizes checked before use), node attributes, bias broadcasting.

use crate::scalar::BigRational;
use onnx_protobuf::{NodeProto, TensorProto, tensor_proto::DataType};

/// Why an initializer's values cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitializerError {
    /// Data kept in a file beside the model.
    #[error(
        "initializer {name:?} keeps its data in an external file (save the model with its data inside)"
    )]
    External {
        /// The initializer.
        name: String,
    },
    /// Dims that are negative or whose product overflows.
    #[error("initializer {name:?} has invalid dims {dims:?}")]
    Dims {
        /// The initializer.
        name: String,
        /// Its dims.
        dims: Vec<i64>,
    },
    /// `raw_data` of the wrong length.
    #[error("initializer {name:?}: {bytes} raw bytes for {count} {dtype} values")]
    RawBytes {
        /// The initializer.
        name: String,
        /// Bytes present.
        bytes: usize,
        /// Values its dims declare.
        count: usize,
        /// `float32` or `float64`.
        dtype: &'static str,
    },
    /// A data type other than float32 and float64.
    #[error("initializer {name:?} has data type {data_type}; only float32 and float64 are read")]
    DataType {
        /// The initializer.
        name: String,
        /// ONNX's `TensorProto.DataType` number.
        data_type: i32,
    },
    /// Typed values whose count is not the product of the dims.
    #[error("initializer {name:?} has {values} values for dims {dims:?}")]
    Count {
        /// The initializer.
        name: String,
        /// Values present.
        values: usize,
        /// Its dims.
        dims: Vec<i64>,
    },
}

/// The values of an initializer as `f64` (every float32 and float64 exactly), or why
/// they cannot be read.
pub(super) fn tensor_values(t: &TensorProto) -> Result<Vec<f64>, InitializerError> {
    let name = || t.name.clone();
    if !t.external_data.is_empty() {
        return Err(InitializerError::External { name: name() });
    }
    let count: usize = t
        .dims
        .iter()
        .try_fold(1usize, |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .ok_or_else(|| InitializerError::Dims {
            name: name(),
            dims: t.dims.clone(),
        })?;
    let raw_bytes = |width: usize, dtype| {
        if t.raw_data.len() == count.saturating_mul(width) {
            Ok(())
        } else {
            Err(InitializerError::RawBytes {
                name: name(),
                bytes: t.raw_data.len(),
                count,
                dtype,
            })
        }
    };
    let values: Vec<f64> = if t.data_type == DataType::FLOAT as i32 {
        if !t.raw_data.is_empty() {
            raw_bytes(4, "float32")?;
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
                .collect()
        } else {
            t.float_data.iter().map(|&v| v as f64).collect()
        }
    } else if t.data_type == DataType::DOUBLE as i32 {
        if !t.raw_data.is_empty() {
            raw_bytes(8, "float64")?;
            t.raw_data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect()
        } else {
            t.double_data.clone()
        }
    } else {
        return Err(InitializerError::DataType {
            name: name(),
            data_type: t.data_type,
        });
    };
    if values.len() != count {
        return Err(InitializerError::Count {
            name: name(),
            values: values.len(),
            dims: t.dims.clone(),
        });
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
