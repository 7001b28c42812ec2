//! Tests of the ONNX reader: an exported model read back, a hand-built chain of every
//! supported node, and refusals naming the node.

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
    AttributeProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
    attribute_proto::AttributeType, tensor_proto::DataType,
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

#[test]
fn causes_are_kept_as_sources() {
    use std::error::Error;
    // not a protobuf message: the parser's error is the source
    let e = read(b"not a model at all", "proto").unwrap_err();
    assert!(matches!(e, OnnxImportError::Protobuf { .. }), "{e}");
    assert!(e.source().is_some_and(|s| s.is::<protobuf::Error>()));
    // a NaN initializer: which initializer, which entry, and the ScalarError
    let bytes = model(
        vec![node("Gemm", &["x", "W", "b"], "y")],
        vec![
            init_f32("W", &[1, 2], &[1.0, f32::NAN]),
            init_f32("b", &[1], &[0.0]),
        ],
        "y",
    );
    let e = read(&bytes, "nan").unwrap_err();
    assert!(
        matches!(e, OnnxImportError::Value { ref name, index: 1, .. } if name == "W"),
        "{e}"
    );
    assert!(e.source().is_some_and(|s| s.is::<ScalarError>()));
    assert!(e.to_string().contains("initializer \"W\"[1]: "), "{e}");
    // raw bytes of the wrong length: the initializer's facts
    let mut w = init_f32("W", &[1, 1], &[1.0]);
    w.float_data.clear();
    w.raw_data = vec![0; 3];
    let bytes = model(vec![node("Gemm", &["x", "W"], "y")], vec![w], "y");
    let e = read(&bytes, "raw").unwrap_err();
    assert!(
        matches!(
            e,
            OnnxImportError::Initializer {
                source: InitializerError::RawBytes {
                    bytes: 3,
                    count: 1,
                    dtype: "float32",
                    ..
                },
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("3 raw bytes for 1 float32 values"),
        "{e}"
    );
}
