//! Dead for good (audit::checkpoint): a layer killed with an Adam state that decays is
//! certified dead forever; a momentum buffer pointing back revives it, answered
//! `may-revive` and confirmed by running the optimizer exactly.

use deadrelu::audit::checkpoint::{Revival, audit_checkpoint, decide_on_box};
use deadrelu::data::Dataset;
use deadrelu::net::{Arch, Network};
use deadrelu::optim::reach::{CheckpointState, Span};
use deadrelu::optim::{Hyper, Optimizer, OptimizerKind};
use deadrelu::scalar::{BigRational, Interval, Scalar};
use num_traits::Signed;

mod common;

use common::q;

/// The arguments of `deadrelu audit --weights W --data D --optimizer-state S --optimizer O`
/// followed by `extra`.
fn audit_state<'a>(
    weights: &'a str,
    data: &'a str,
    state: &'a str,
    optimizer: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "audit",
        "--weights",
        weights,
        "--data",
        data,
        "--optimizer-state",
        state,
        "--optimizer",
        optimizer,
    ];
    args.extend_from_slice(extra);
    args
}

/// Architecture 1-2-1; data x in {-1, 0, 1}, y = |x|; layer 1 dead on the data.
fn setup() -> (Network<BigRational>, Dataset<BigRational>) {
    common::dead_layer_net()
}

/// Adam's moments: m pushes every layer-1 coordinate up (towards reviving), v = m^2 * 4.
fn adam_state(m: BigRational, step: u64) -> CheckpointState {
    let mut st = CheckpointState::zero(7);
    st.step = vec![step; 7];
    st.with("exp_avg", vec![-m.clone(); 7])
        .with("exp_avg_sq", vec![&m * &m * q(4, 1); 7])
}

#[test]
fn adam_decaying_state_is_dead_forever_and_large_lr_may_revive() {
    let (net, data) = setup();
    let state = adam_state(q(1, 10), 500);
    let small = Hyper {
        lr: Some(q(1, 100)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adam)
    .unwrap();
    let report = audit_checkpoint(&net, &data, &small.config, &state).unwrap();
    assert_eq!(report.dead_layers, vec![1]);
    let d = &report.decisions[0];
    assert_eq!(d.revival, Revival::DeadForever, "{d:?}");
    // the box of b_1: moves up by at most about lr * 1/2 * 9 < 1/2
    let b = &d.boxes[2];
    assert_eq!(b.lo, q(-1, 1));
    assert!(b.hi > q(-1, 1) && b.hi < q(-1, 2), "{b:?}");
    // a learning rate ten times larger: the box reaches alive parameters
    let large = Hyper {
        lr: Some(q(1, 5)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adam)
    .unwrap();
    let report = audit_checkpoint(&net, &data, &large.config, &state).unwrap();
    match &report.decisions[0].revival {
        Revival::MayRevive {
            witness,
            value,
            point,
            neuron,
        } => {
            assert!(value.is_positive());
            // the witness lies in the box and is alive, exactly
            for (i, s) in report.decisions[0].boxes.iter().enumerate() {
                assert!(s.contains(&witness[i]));
            }
            let wnet = Network::new(net.arch().clone(), witness.clone()).unwrap();
            let z = wnet.affine(1, data.x(*point));
            assert_eq!(&z[*neuron], value);
        }
        other => panic!("expected may-revive, got {other:?}"),
    }
}

#[test]
fn momentum_buffer_revives_the_layer_and_the_optimizer_confirms_it() {
    let (net, data) = setup();
    // buffer -1/2 on both biases: momentum 0.9, lr 1/4 moves them up by 1/4 * 1/2 * 9 = 9/8
    let mut state = CheckpointState::zero(7).with(
        "momentum_buffer",
        vec![
            q(0, 1),
            q(0, 1),
            q(-1, 2),
            q(-1, 2),
            q(0, 1),
            q(0, 1),
            q(0, 1),
        ],
    );
    state.step = vec![10; 7];
    let resolved = Hyper {
        lr: Some(q(1, 4)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Momentum)
    .unwrap();
    let report = audit_checkpoint(&net, &data, &resolved.config, &state).unwrap();
    assert!(
        matches!(report.decisions[0].revival, Revival::MayRevive { .. }),
        "{:?}",
        report.decisions[0]
    );
    // Confirm: run momentum SGD exactly. While layer 1 is dead the gradient of layer 1 is
    // zero, so its trajectory is the zero-gradient one until the first alive step.
    let opt = resolved.build::<Interval<BigRational>>().unwrap();
    let mut st = opt.init(7);
    if let deadrelu::optim::OptimizerState::Sgd(s) = &mut st {
        s.step = 10;
        s.momentum_buffer = Some(
            state.buffers["momentum_buffer"]
                .iter()
                .cloned()
                .map(Interval::point)
                .collect(),
        );
    }
    let mut theta: Vec<Interval<BigRational>> =
        net.params().iter().cloned().map(Interval::point).collect();
    let mut revived_at = None;
    for n in 1..=50 {
        let exact: Vec<BigRational> = theta.iter().map(|v| v.to_rational().unwrap()).collect();
        let current = Network::new(net.arch().clone(), exact).unwrap();
        let (_, grad) = current.risk_and_gradient(&data, None).unwrap();
        let g: Vec<Interval<BigRational>> = grad.into_iter().map(Interval::point).collect();
        theta = opt.step(&theta, &g, &mut st);
        let exact: Vec<BigRational> = theta.iter().map(|v| v.to_rational().unwrap()).collect();
        let alive = (0..data.len()).any(|m| {
            Network::new(net.arch().clone(), exact.clone())
                .unwrap()
                .affine(1, data.x(m))
                .iter()
                .any(|z| z.is_positive())
        });
        if alive {
            revived_at = Some(n);
            break;
        }
    }
    assert!(
        revived_at.is_some(),
        "momentum SGD did not revive the layer"
    );
}

/// Layer 2 over a box: interval bounds certify when the box is small, and a box wide
/// enough in layer 2's bias gives a witness.
#[test]
fn deeper_layer_on_a_box() {
    let arch = Arch::new(vec![1, 2, 1, 1]).unwrap();
    // layer 1 alive (w = 1, -1, b = 0), layer 2: z = a1 + a2 - 2 <= -1 on x in [-1, 1]
    let params = vec![
        q(1, 1),
        q(-1, 1),
        q(0, 1),
        q(0, 1), // W1, b1
        q(1, 1),
        q(1, 1),
        q(-2, 1), // W2, b2
        q(1, 1),
        q(0, 1), // W3, b3
    ];
    let net = Network::new(arch.clone(), params.clone()).unwrap();
    let xs = vec![vec![q(-1, 1)], vec![q(1, 2)], vec![q(1, 1)]];
    let ys = vec![vec![q(1, 1)], vec![q(0, 1)], vec![q(1, 1)]];
    let data = Dataset::from_rows(xs, ys).unwrap();
    let widen = |r: BigRational| -> Vec<Span> {
        params[..7]
            .iter()
            .map(|p| Span {
                lo: p - &r,
                hi: p + &r,
            })
            .collect()
    };
    let (v, unsettled) = decide_on_box(&net, &data, &widen(q(1, 10)), 2).unwrap();
    assert_eq!((v, unsettled), (Revival::DeadForever, 0));
    let (v, _) = decide_on_box(&net, &data, &widen(q(1, 2)), 2).unwrap();
    assert!(matches!(v, Revival::MayRevive { .. }), "{v:?}");
}

/// The command line end to end: the Adam checkpoint certified with a certificate the
/// checker accepts, rejected once the state is edited (and the digest resealed); the
/// momentum checkpoint answered `may-revive` with its witness.
#[test]
fn cli_checkpoint_audit_certificate_and_tampering() {
    let dir = common::dead_checkpoint_files("checkpoint");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("adam.json"),
        r#"{"state":{"0":{"step":500.0,"exp_avg":[[-0.1],[-0.1]],"exp_avg_sq":[[0.04],[0.04]]},
                     "1":{"step":500.0,"exp_avg":[-0.1,-0.1],"exp_avg_sq":[0.04,0.04]}},
            "param_groups":[{"lr":0.01,"params":[0,1,2,3]}]}"#,
    )
    .unwrap();
    let data = format!("csv:{}", path("data.csv"));
    let (w, adam, cert) = (path("w.json"), path("adam.json"), path("cert.json"));
    let v = common::json(&audit_state(
        &w,
        &data,
        &adam,
        "adam",
        &["--lr", "0.01", "--certificate", &cert, "--json"],
    ));
    assert_eq!(v["verdict"], "dead-forever-certified", "{v}");
    assert_eq!(v["certified_layer"], 1);
    let (code, out, err) = common::deadrelu(&["check", &cert]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("stays dead"), "{out}");
    // edit the state: a ten times larger first moment, digest resealed
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    c["state"]["buffers"]["exp_avg"][2] = serde_json::json!("-1");
    deadrelu_check::canon::seal(&mut c);
    std::fs::write(path("edited.json"), c.to_string()).unwrap();
    let (code, _, err) = common::deadrelu(&["check", &path("edited.json")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("reachable"), "{err}");
    // a smaller step count makes the bias correction larger: rejected as well
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    c["state"]["step"] = serde_json::json!(vec![1; 4]);
    deadrelu_check::canon::seal(&mut c);
    std::fs::write(path("edited2.json"), c.to_string()).unwrap();
    let (code, _, err) = common::deadrelu(&["check", &path("edited2.json")]);
    assert_eq!(code, 1, "{err}");
    // momentum: may-revive with a witness; a bad state is exit 2
    std::fs::write(
        path("mom.json"),
        r#"{"state":{"1":{"momentum_buffer":[-0.5,-0.5]}},"param_groups":[{"params":[0,1,2,3]}]}"#,
    )
    .unwrap();
    let v = common::json(&audit_state(
        &w,
        &data,
        &path("mom.json"),
        "momentum",
        &["--lr", "1/4", "--json"],
    ));
    assert_eq!(v["verdict"], "may-revive", "{v}");
    assert!(v["layers"][0]["witness"]["preactivation"].is_string());
    std::fs::write(
        path("bad.json"),
        r#"{"state":{"1":{"momentum_buffer":[1]}}}"#,
    )
    .unwrap();
    let (code, _, err) =
        common::deadrelu(&audit_state(&w, &data, &path("bad.json"), "momentum", &[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("entries"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Weight decay: Adadelta (contraction toward 0, no sign change) certifies a layer whose
/// weights and biases are all <= 0 on inputs >= 0, and the checker accepts the
/// certificate; a large edited `acc_delta` (the contraction factor may exceed 2) is
/// rejected by the reachable-box claim. Adam with weight decay on the same network
/// answers `may-revive` (its overshoot interval lets every coordinate cross 0).
#[test]
fn weight_decay_checkpoints_adadelta_certified_adam_may_revive() {
    let arch = Arch::new(vec![1, 2, 1]).unwrap();
    let params = vec![
        q(-1, 2),
        q(-1, 1),
        q(-1, 1),
        q(-1, 4),
        q(1, 1),
        q(1, 1),
        q(0, 1),
    ];
    let net = Network::new(arch, params).unwrap();
    let xs = vec![vec![q(0, 1)], vec![q(1, 1)], vec![q(2, 1)]];
    let ys = vec![vec![q(0, 1)], vec![q(1, 1)], vec![q(2, 1)]];
    let data = Dataset::from_rows(xs, ys).unwrap();
    let mut state = CheckpointState::zero(7)
        .with("square_avg", vec![q(1, 100); 7])
        .with("acc_delta", vec![q(1, 10_000); 7]);
    state.step = vec![30; 7];
    let ada = Hyper {
        weight_decay: Some(q(1, 10_000)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adadelta)
    .unwrap();
    let report = audit_checkpoint(&net, &data, &ada.config, &state).unwrap();
    let d = &report.decisions[0];
    assert_eq!(d.revival, Revival::DeadForever, "{d:?}");
    // the bias -1 may shrink toward 0 but not cross it
    assert_eq!(d.boxes[2], Span::hull(&q(-1, 1), &q(0, 1)));
    let cert =
        deadrelu::audit::checkpoint::certificate(&net, &data, "adadelta", &ada.config, &state, d);
    let text = cert.to_string();
    let ok = deadrelu::audit::check_checkpoint_certificate(&text).unwrap();
    assert_eq!(ok.layer, 1);
    let mut edited = cert.clone();
    edited["state"]["buffers"]["acc_delta"][2] = serde_json::json!("10000");
    deadrelu_check::canon::seal(&mut edited);
    let e = deadrelu::audit::check_checkpoint_certificate(&edited.to_string()).unwrap_err();
    assert!(e.to_string().contains("coordinate 2"), "{e}");
    // Adam with weight decay: may-revive, the witness alive and inside the box
    let mut adam_state = CheckpointState::zero(7)
        .with("exp_avg", vec![q(1, 1000); 7])
        .with("exp_avg_sq", vec![q(1, 100); 7]);
    adam_state.step = vec![30; 7];
    let adam = Hyper {
        lr: Some(q(1, 1000)),
        weight_decay: Some(q(1, 100)),
        ..Hyper::default()
    }
    .resolve(OptimizerKind::Adam)
    .unwrap();
    let report = audit_checkpoint(&net, &data, &adam.config, &adam_state).unwrap();
    let d = &report.decisions[0];
    let Revival::MayRevive { witness, value, .. } = &d.revival else {
        panic!("expected may-revive, got {d:?}");
    };
    assert!(value.is_positive());
    for (i, s) in d.boxes.iter().enumerate() {
        assert!(s.contains(&witness[i]) && s.lo.is_negative() && s.hi.is_positive());
    }
    // The checker re-derives the same weight-decay boxes: a certificate written for this
    // may-revive decision passes the reachable-box claim and fails only deadness over the
    // box, for every adaptive optimizer with weight decay.
    for (kind, name, extra) in [
        (OptimizerKind::Adam, "adam", vec![]),
        (
            OptimizerKind::Amsgrad,
            "amsgrad",
            vec![("max_exp_avg_sq", q(1, 50))],
        ),
        (OptimizerKind::Nadam, "nadam", vec![]),
        (OptimizerKind::Adamax, "adamax", vec![("exp_inf", q(1, 50))]),
        (
            OptimizerKind::Rmsprop,
            "rmsprop",
            vec![("momentum_buffer", q(-1, 50))],
        ),
    ] {
        let resolved = Hyper {
            lr: Some(q(1, 1000)),
            weight_decay: Some(q(1, 100)),
            momentum: Some(q(9, 10)),
            ..Hyper::default()
        }
        .resolve(kind)
        .unwrap();
        let mut st = adam_state.clone();
        for (b, v) in extra {
            st = st.with(b, vec![v; 7]);
        }
        if kind == OptimizerKind::Nadam {
            st.mu_product = vec![q(1, 1000); 7];
        }
        let report = audit_checkpoint(&net, &data, &resolved.config, &st).unwrap();
        let d = &report.decisions[0];
        assert!(
            matches!(d.revival, Revival::MayRevive { .. }),
            "{name}: {d:?}"
        );
        let cert =
            deadrelu::audit::checkpoint::certificate(&net, &data, name, &resolved.config, &st, d);
        let e = deadrelu::audit::check_checkpoint_certificate(&cert.to_string()).unwrap_err();
        assert!(
            e.to_string().contains("not proven <= 0 over the box"),
            "{name}: {e}"
        );
    }
}

/// The checker's limits for `dead-forever` certificates: an architecture whose layer
/// sizes times the data exceed `max_points_x_params` is refused by that limit before
/// anything else is read, and a certificate of long exact numbers is stopped by the
/// deterministic work meter (`max_exact_work`), both exit 2 from `deadrelu check`.
#[test]
fn checker_limits_for_dead_forever_certificates() {
    use deadrelu_check::{CheckError, Limit};
    let base = serde_json::json!({
        "format": "deadrelu-certificate",
        "version": 1,
        "claim": "dead-forever",
        "arch": [1, 1_000_000_000_000u64, 1],
        "data": {"x": [["0"]]},
        "theta": [],
        "optimizer": {"name": "sgd", "hyperparameters": {}},
        "state": {"step": [], "buffers": {}},
        "layer": 1,
        "box": {"lo": [], "hi": []},
        "digest": "",
    });
    match deadrelu::audit::check_checkpoint_certificate(&base.to_string()) {
        Err(CheckError::TooLarge { limit, .. }) => assert_eq!(limit, Limit::Size),
        other => panic!("expected the size limit, got {other:?}"),
    }
    // 1-16-1, layer 1 (32 coordinates) with 3900-digit parameters: over the work budget
    let long = format!("1{}/3", "7".repeat(3900));
    let mut c = base.clone();
    c["arch"] = serde_json::json!([1, 16, 1]);
    c["theta"] = serde_json::json!(vec![long.clone(); 32]);
    c["optimizer"] = serde_json::json!({"name": "sgd", "hyperparameters": {
        "lr": "1/10", "momentum": "0", "dampening": "0", "nesterov": false, "weight_decay": "0"}});
    c["state"] = serde_json::json!({"step": vec![1; 32], "buffers": {}});
    c["box"] = serde_json::json!({"lo": vec![long.clone(); 32], "hi": vec![long; 32]});
    deadrelu_check::canon::seal(&mut c);
    let text = c.to_string();
    match deadrelu::audit::check_checkpoint_certificate(&text) {
        Err(CheckError::TooLarge { limit, .. }) => assert_eq!(limit, Limit::ExactWork),
        other => panic!("expected the work limit, got {other:?}"),
    }
    let dir = std::env::temp_dir().join(format!("deadrelu-ckpt-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("long.json");
    std::fs::write(&path, &text).unwrap();
    let (code, _, err) = common::deadrelu(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_exact_work"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The state as safetensors (`state.<i>.<buffer>` tensors, `param_groups` metadata):
/// the same Adam checkpoint as the JSON of `cli_checkpoint_audit_certificate_and_tampering`
/// gives the same verdict and the same box; a tensor outside the naming is exit 2.
#[test]
fn safetensors_state_matches_json() {
    use safetensors::{Dtype, tensor::TensorView};
    let dir = common::dead_checkpoint_files("ckpt-st");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("adam.json"),
        r#"{"state":{"0":{"step":500.0,"exp_avg":[[-0.1],[-0.1]],"exp_avg_sq":[[0.04],[0.04]]},
                     "1":{"step":500.0,"exp_avg":[-0.1,-0.1],"exp_avg_sq":[0.04,0.04]}},
            "param_groups":[{"params":[0,1,2,3]}]}"#,
    )
    .unwrap();
    let f32s = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let (m, v, step) = (f32s(&[-0.1, -0.1]), f32s(&[0.04, 0.04]), f32s(&[500.0]));
    // f32 values: the JSON gets the same f32 values widened, for equal boxes
    let m64 = f64::from(-0.1f32);
    let v64 = f64::from(0.04f32);
    std::fs::write(
        path("adam32.json"),
        format!(
            r#"{{"state":{{"0":{{"step":500,"exp_avg":[[{m64:?}],[{m64:?}]],"exp_avg_sq":[[{v64:?}],[{v64:?}]]}},
                        "1":{{"step":500,"exp_avg":[{m64:?},{m64:?}],"exp_avg_sq":[{v64:?},{v64:?}]}}}}}}"#
        ),
    )
    .unwrap();
    let mut views = Vec::new();
    for i in 0..2 {
        let shape = if i == 0 { vec![2, 1] } else { vec![2] };
        views.push((
            format!("state.{i}.exp_avg"),
            TensorView::new(Dtype::F32, shape.clone(), &m).unwrap(),
        ));
        views.push((
            format!("state.{i}.exp_avg_sq"),
            TensorView::new(Dtype::F32, shape, &v).unwrap(),
        ));
        views.push((
            format!("state.{i}.step"),
            TensorView::new(Dtype::F32, vec![], &step).unwrap(),
        ));
    }
    let meta = std::collections::HashMap::from([(
        "param_groups".to_string(),
        r#"[{"params":[0,1,2,3]}]"#.to_string(),
    )]);
    safetensors::serialize_to_file(
        views,
        Some(meta),
        std::path::Path::new(&path("adam.safetensors")),
    )
    .unwrap();
    let data = format!("csv:{}", path("data.csv"));
    let run = |state: &str| {
        common::json(&audit_state(
            &path("w.json"),
            &data,
            state,
            "adam",
            &["--lr", "0.01", "--json"],
        ))
    };
    let a = run(&path("adam.safetensors"));
    let b = run(&path("adam32.json"));
    assert_eq!(a["verdict"], "dead-forever-certified", "{a}");
    assert_eq!(a["layers"], b["layers"]);
    // a tensor outside the naming
    let bad = f32s(&[1.0]);
    safetensors::serialize_to_file(
        vec![(
            "exp_avg.0",
            TensorView::new(Dtype::F32, vec![1], &bad).unwrap(),
        )],
        None,
        std::path::Path::new(&path("bad.safetensors")),
    )
    .unwrap();
    let (code, _, err) = common::deadrelu(&audit_state(
        &path("w.json"),
        &data,
        &path("bad.safetensors"),
        "adam",
        &[],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("state.<parameter index>.<buffer>"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Parameter groups: the layer-1 weights with Adam lr 1/100 and the biases in a second
/// group with lr 1/5 may revive (the bias group moves far enough); both groups at 1/100
/// are certified, the certificate records the groups and the checker accepts it, and
/// moving a coordinate to the other group (resealed) is rejected. A flag that disagrees
/// with a group is exit 2.
#[test]
fn parameter_groups_from_the_state() {
    let dir = common::dead_checkpoint_files("ckpt-groups");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let state = |bias_lr: &str| {
        format!(
            r#"{{"state":{{"0":{{"step":500,"exp_avg":[[-0.1],[-0.1]],"exp_avg_sq":[[0.04],[0.04]]}},
                       "1":{{"step":500,"exp_avg":[-0.1,-0.1],"exp_avg_sq":[0.04,0.04]}}}},
              "param_groups":[{{"params":[0,2,3],"lr":0.01,"betas":[0.9,0.999],"weight_decay":0}},
                              {{"params":[1],"lr":{bias_lr},"betas":[0.9,0.999],"weight_decay":0}}]}}"#
        )
    };
    std::fs::write(path("large.json"), state("0.2")).unwrap();
    std::fs::write(path("small.json"), state("0.01")).unwrap();
    let data = format!("csv:{}", path("data.csv"));
    let cert = path("cert.json");
    let w = path("w.json");
    let v = common::json(&audit_state(
        &w,
        &data,
        &path("large.json"),
        "adam",
        &["--json"],
    ));
    assert_eq!(v["verdict"], "may-revive", "{v}");
    assert_eq!(v["param_groups"][1]["lr"], "1/5");
    let v = common::json(&audit_state(
        &w,
        &data,
        &path("small.json"),
        "adam",
        &["--json", "--certificate", &cert],
    ));
    assert_eq!(v["verdict"], "dead-forever-certified", "{v}");
    let (code, out, err) = common::deadrelu(&["check", &cert]);
    assert_eq!(code, 0, "{out}{err}");
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    assert_eq!(c["state"]["group"], serde_json::json!([0, 0, 1, 1]));
    // the biases' group now claims lr 1/5: their box is too small
    c["optimizer"]["groups"][1]["lr"] = serde_json::json!("1/5");
    deadrelu_check::canon::seal(&mut c);
    std::fs::write(path("edited.json"), c.to_string()).unwrap();
    let (code, _, err) = common::deadrelu(&["check", &path("edited.json")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("coordinate 2"), "{err}");
    // a flag that disagrees with a group
    let (code, _, err) = common::deadrelu(&audit_state(
        &w,
        &data,
        &path("small.json"),
        "adam",
        &["--lr", "0.5"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("disagrees"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `--domain box:A,B` in checkpoint mode: the Adam checkpoint certified dead forever on
/// the whole box [-1,1] (certificate accepted), answered `may-revive` on [-4,4] with an
/// exact witness (input 4, a parameter of the box, checked here by hand), a layer-2 case
/// proven only after splitting the input box (undecided with a one-node budget), and the
/// checker rejecting an edited box (digest resealed) and a box that misses the data.
#[test]
fn cli_checkpoint_audit_on_input_box() {
    use deadrelu::scalar::{BigRational, parse_rational};
    let dir = common::dead_checkpoint_files("ckbox");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("adam.json"),
        r#"{"state":{"0":{"step":500.0,"exp_avg":[[-0.1],[-0.1]],"exp_avg_sq":[[0.04],[0.04]]},
                     "1":{"step":500.0,"exp_avg":[-0.1,-0.1],"exp_avg_sq":[0.04,0.04]}},
            "param_groups":[{"lr":0.01,"params":[0,1,2,3]}]}"#,
    )
    .unwrap();
    let data = format!("csv:{}", path("data.csv"));
    let (w, adam, cert) = (path("w.json"), path("adam.json"), path("cert.json"));
    let run = |weights: &str, state: &str, opt: &str, domain: &str, extra: &[&str]| {
        let mut a = vec!["--lr", "0.01", "--domain", domain, "--json"];
        a.extend_from_slice(extra);
        common::json(&audit_state(weights, &data, state, opt, &a))
    };
    let v = run(&w, &adam, "adam", "box:-1,1", &["--certificate", &cert]);
    assert_eq!(v["verdict"], "dead-forever-certified", "{v}");
    assert_eq!(v["layers"][0]["nodes"], 1, "{v}");
    let (code, out, err) = common::deadrelu(&["check", &cert]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("every input of [-1, 1]^1"), "{out}");
    // dead on the data, alive on the larger box: an exact witness
    let v = run(&w, &adam, "adam", "box:-4,4", &[]);
    assert_eq!(v["verdict"], "may-revive", "{v}");
    assert_eq!(
        v["layers"][0]["on_data"]["verdict"],
        "dead-forever-certified"
    );
    let wit = &v["layers"][0]["witness"];
    assert_eq!(wit["input"], serde_json::json!(["4"]), "{v}");
    let q = |s: &serde_json::Value| parse_rational(s.as_str().unwrap()).unwrap();
    let n = wit["neuron"].as_u64().unwrap() as usize;
    let z = q(&wit["theta"][n]) * BigRational::from_integer(4.into()) + q(&wit["theta"][2 + n]);
    assert_eq!(z, q(&wit["preactivation"]));
    assert!(z > BigRational::from_integer(0.into()), "{z}");
    // the witness parameter lies in the reachable box: |theta - checkpoint| <= widest
    let d = q(&wit["theta"][n]) - parse_rational(["1/2", "-1/2"][n]).unwrap();
    let widest = q(&v["layers"][0]["box_max_width"]);
    assert!(d <= widest && -d <= widest);
    // the box must contain the data
    let (code, _, err) = common::deadrelu(&audit_state(
        &w,
        &data,
        &adam,
        "adam",
        &["--domain", "box:0,1"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the box"), "{err}");
    // layer 2 of relu(x) - relu(x) - 1/2: the interval pass needs three sub-boxes
    std::fs::write(
        path("w2.json"),
        r#"{"arch":[1,2,1,1],"params":["1","1","0","0","1","-1","-1/2","1","0"]}"#,
    )
    .unwrap();
    std::fs::write(
        path("sgd.json"),
        r#"{"state":{},"param_groups":[{"lr":0.01,"params":[0,1,2,3,4,5]}]}"#,
    )
    .unwrap();
    let (w2, sgd, cert2) = (path("w2.json"), path("sgd.json"), path("cert2.json"));
    let v = run(&w2, &sgd, "sgd", "box:-1,1", &["--certificate", &cert2]);
    assert_eq!(v["verdict"], "dead-forever-certified", "{v}");
    assert_eq!(v["layers"][0]["nodes"], 5, "{v}");
    let v = run(&w2, &sgd, "sgd", "box:-1,1", &["--box-budget", "1"]);
    assert_eq!(v["verdict"], "undecided", "{v}");
    assert!(
        v["layers"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("budget"),
        "{v}"
    );
    let (code, out, err) = common::deadrelu(&["check", &cert2]);
    assert_eq!(code, 0, "{out}{err}");
    // layer 2 of relu(x) - 3/2: dead on the data (x <= 1), alive at x = 13/8 of [-1, 2],
    // found at the middle of the fourth sub-box
    std::fs::write(
        path("w3.json"),
        r#"{"arch":[1,2,1,1],"params":["1","1","0","0","1","0","-3/2","1","0"]}"#,
    )
    .unwrap();
    let v = run(&path("w3.json"), &sgd, "sgd", "box:-1,2", &[]);
    assert_eq!(v["verdict"], "may-revive", "{v}");
    assert_eq!(
        v["layers"][0]["on_data"]["verdict"],
        "dead-forever-certified"
    );
    assert_eq!(
        v["layers"][0]["witness"]["input"],
        serde_json::json!(["13/8"]),
        "{v}"
    );
    assert_eq!(v["layers"][0]["witness"]["preactivation"], "1/8", "{v}");
    let edited = |f: &dyn Fn(&mut serde_json::Value), name: &str| {
        let mut c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&cert2).unwrap()).unwrap();
        f(&mut c);
        deadrelu_check::canon::seal(&mut c);
        std::fs::write(path(name), c.to_string()).unwrap();
        common::deadrelu(&["check", &path(name)])
    };
    // a wider box: the last sub-box [1/2, 4] is not settled
    let (code, _, err) = edited(&|c| c["domain"]["hi"] = serde_json::json!("4"), "e1.json");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not proven <= 0 over the box"), "{err}");
    // a split moved out of its sub-box
    let (code, _, err) = edited(
        &|c| c["domain"]["split"]["at"] = serde_json::json!("2"),
        "e2.json",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not inside its sub-box"), "{err}");
    // a box that misses a data point
    let (code, _, err) = edited(&|c| c["domain"]["lo"] = serde_json::json!("0"), "e3.json");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("outside the box"), "{err}");
    // no split at all: the root box is not settled
    let (code, _, err) = edited(
        &|c| c["domain"]["split"] = serde_json::Value::Null,
        "e4.json",
    );
    assert_eq!(code, 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
