//! The network up to hidden layer `k` as an ONNX model (Gemm and Relu nodes), for
//! external verifiers; see [`super::export`] for what is exported and how exactly.
//! Behind feature `onnx` (on with the default feature `cli`).

use super::export::{Dtype, Rounding, layers};
use crate::net::Network;
use crate::scalar::BigRational;
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_proto::DataType, tensor_shape_proto, type_proto,
};
use protobuf::{EnumOrUnknown, MessageField};

fn tensor(name: &str, dims: &[usize], values: &[f64], dtype: Dtype) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.iter().map(|&d| d as i64).collect();
    match dtype {
        Dtype::F64 => {
            t.data_type = DataType::DOUBLE as i32;
            t.double_data = values.to_vec();
        }
        Dtype::F32 => {
            t.data_type = DataType::FLOAT as i32;
            t.float_data = values.iter().map(|&v| v as f32).collect();
        }
    }
    t
}

fn value_info(name: &str, width: usize, dtype: Dtype) -> ValueInfoProto {
    let dim = |n: usize| {
        let mut d = tensor_shape_proto::Dimension::new();
        d.value = Some(tensor_shape_proto::dimension::Value::DimValue(n as i64));
        d
    };
    let mut shape = TensorShapeProto::new();
    shape.dim = vec![dim(1), dim(width)];
    let mut tensor_type = type_proto::Tensor::new();
    tensor_type.elem_type = match dtype {
        Dtype::F64 => DataType::DOUBLE as i32,
        Dtype::F32 => DataType::FLOAT as i32,
    };
    tensor_type.shape = MessageField::some(shape);
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tensor_type));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = MessageField::some(ty);
    v
}

fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = output.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    n
}

/// The network up to the pre-activations of layer `k` as an ONNX model (opset 13, input
/// `X` of shape `[1, d]`, output `Y` of shape `[1, l_k]`), and how much was rounded.
pub fn onnx_model(net: &Network<BigRational>, k: usize, dtype: Dtype) -> (Vec<u8>, Rounding) {
    let arch = net.arch();
    let mut rounding = Rounding::default();
    let mut graph = GraphProto::new();
    graph.name = format!("deadrelu_layer_{k}");
    graph.input = vec![value_info("X", arch.inputs(), dtype)];
    graph.output = vec![value_info("Y", arch.width(k), dtype)];
    let mut input = "X".to_string();
    for (idx, (w, b)) in layers(net, k, dtype, &mut rounding).into_iter().enumerate() {
        let l = idx + 1;
        let (rows, cols) = (arch.width(l), arch.width(l - 1));
        let (wn, bn) = (format!("W{l}"), format!("B{l}"));
        graph
            .initializer
            .push(tensor(&wn, &[rows, cols], &w, dtype));
        graph.initializer.push(tensor(&bn, &[rows], &b, dtype));
        let z = if l == k {
            "Y".to_string()
        } else {
            format!("Z{l}")
        };
        let mut gemm = node("Gemm", &[&input, &wn, &bn], &z);
        let mut trans_b = AttributeProto::new();
        trans_b.name = "transB".into();
        trans_b.type_ = EnumOrUnknown::new(AttributeType::INT);
        trans_b.i = 1;
        gemm.attribute.push(trans_b);
        graph.node.push(gemm);
        if l < k {
            let a = format!("A{l}");
            graph.node.push(node("Relu", &[&z], &a));
            input = a;
        }
    }
    let mut model = ModelProto::new();
    model.ir_version = 8;
    model.producer_name = "deadrelu".into();
    model.producer_version = env!("CARGO_PKG_VERSION").into();
    let mut opset = OperatorSetIdProto::new();
    opset.version = 13;
    model.opset_import = vec![opset];
    model.graph = MessageField::some(graph);
    let bytes = model
        .write_to_bytes()
        .expect("a well-formed model serializes");
    (bytes, rounding)
}
