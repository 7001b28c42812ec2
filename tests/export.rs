//! `export-vnnlib`: the ONNX model computes exactly the pre-activations of the chosen
//! layer (decoded and evaluated here with exact arithmetic), the VNN-LIB query has the
//! box and one disjunct per neuron, rounding is reported, bad options are refused.

mod common;
use common::{deadrelu, json, q};
use deadrelu::net::init::init_network;
use deadrelu::scalar::BigRational;
use num_traits::Zero;
use onnx_protobuf::{Message, ModelProto};

/// Evaluates the exported graph (Gemm with transB = 1, Relu) at `x`, exactly.
fn run_graph(model: &ModelProto, x: &[BigRational]) -> Vec<BigRational> {
    let graph = model.graph.as_ref().expect("a graph");
    let tensor = |name: &str| {
        let t = graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .expect("initializer");
        let values: Vec<BigRational> = t
            .double_data
            .iter()
            .map(|&v| BigRational::from_float(v).unwrap())
            .collect();
        (t.dims.clone(), values)
    };
    let mut values = std::collections::HashMap::new();
    values.insert("X".to_string(), x.to_vec());
    for node in &graph.node {
        let out = match node.op_type.as_str() {
            "Gemm" => {
                assert_eq!(node.attribute[0].name, "transB");
                assert_eq!(node.attribute[0].i, 1);
                let input = &values[&node.input[0]];
                let (dims, w) = tensor(&node.input[1]);
                let (_, b) = tensor(&node.input[2]);
                let (rows, cols) = (dims[0] as usize, dims[1] as usize);
                (0..rows)
                    .map(|j| {
                        (0..cols).fold(b[j].clone(), |acc, i| acc + &w[j * cols + i] * &input[i])
                    })
                    .collect()
            }
            "Relu" => values[&node.input[0]]
                .iter()
                .map(|v: &BigRational| {
                    if *v > BigRational::zero() {
                        v.clone()
                    } else {
                        BigRational::zero()
                    }
                })
                .collect(),
            other => panic!("unexpected op {other}"),
        };
        values.insert(node.output[0].clone(), out);
    }
    values["Y"].clone()
}

#[test]
fn onnx_is_exactly_the_truncated_network_and_vnnlib_is_the_query() {
    let dir = std::env::temp_dir().join(format!("deadrelu-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("q");
    let p = prefix.to_str().unwrap();
    let arch = "2,3,4,3,1";
    for k in 1..=3usize {
        let layer = k.to_string();
        let v = json(&[
            "export-vnnlib",
            "--arch",
            arch,
            "--seed",
            "5",
            "--layer",
            &layer,
            "--domain",
            "box:-1,0.5",
            "--out",
            p,
            "--nnet",
            "--json",
        ]);
        assert_eq!(v["exact"], true);
        assert_eq!(v["layer"], k);
        assert!(["dead", "alive"].contains(&v["deadrelu"]["status"].as_str().unwrap()));
        let bytes = std::fs::read(format!("{p}.onnx")).unwrap();
        let model = ModelProto::parse_from_bytes(&bytes).unwrap();
        let net = init_network::<BigRational>(
            &deadrelu::net::Arch::new(vec![2, 3, 4, 3, 1]).unwrap(),
            &"torch-default".parse().unwrap(),
            &"default".parse().unwrap(),
            5,
        )
        .unwrap();
        for x in [
            [q(-1, 1), q(1, 2)],
            [q(-1, 3), q(0, 1)],
            [q(1, 2), q(-7, 8)],
            [q(1, 5), q(1, 5)],
        ] {
            assert_eq!(
                run_graph(&model, &x),
                net.forward(&x).pre[k - 1],
                "layer {k} at {x:?}"
            );
        }
        let vnnlib = std::fs::read_to_string(format!("{p}.vnnlib")).unwrap();
        let width = [3, 4, 3][k - 1];
        assert_eq!(vnnlib.matches("(declare-const X_").count(), 2);
        assert_eq!(vnnlib.matches("(declare-const Y_").count(), width);
        assert_eq!(vnnlib.matches("(assert (>= X_").count(), 2);
        assert!(vnnlib.contains("(assert (<= X_1 0.5))"));
        assert_eq!(vnnlib.matches(">= Y_").count(), width);
        let nnet = std::fs::read_to_string(format!("{p}.nnet")).unwrap();
        assert!(
            nnet.lines()
                .nth(1)
                .unwrap()
                .starts_with(&format!("{k},2,{width},"))
        );
    }
    // single precision rounds, and says so
    let v = json(&[
        "export-vnnlib",
        "--arch",
        arch,
        "--seed",
        "5",
        "--layer",
        "2",
        "--out",
        p,
        "--dtype",
        "f32",
        "--json",
    ]);
    assert_eq!(v["exact"], false);
    assert!(v["rounding"]["rounded"].as_u64().unwrap() > 0);
    // refused: not a hidden layer, a box end without a decimal form
    let (code, _, err) = deadrelu(&["export-vnnlib", "--arch", arch, "--layer", "4", "--out", p]);
    assert_eq!(code, 2);
    assert!(err.contains("not a hidden layer"), "{err}");
    let (code, _, err) = deadrelu(&[
        "export-vnnlib",
        "--arch",
        arch,
        "--layer",
        "1",
        "--domain",
        "box:0,1/3",
        "--out",
        p,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("exact decimal"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
