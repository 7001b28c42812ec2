//! The typed optimizer configurations: PyTorch's defaults, validated setters with typed
//! errors, the resolution of the command-line flags, hand-computed steps of the options
//! the golden trajectories do not cover (dampening, centered RMSprop with momentum).

mod common;
use common::q;
use deadrelu::optim::{
    AdamConfig, Hyper, NadamConfig, OptimError, Optimizer, OptimizerConfig, OptimizerKind,
    RmspropConfig, SgdConfig, parse_hyper,
};
use deadrelu::scalar::{BigRational, DyadicInterval, Interval, Scalar, ScalarError};
use num_traits::{One, Zero};
use serde_json::json;

/// The exact configuration of every command-line optimizer with no flag given: PyTorch's
/// documented defaults.
#[test]
fn defaults_are_pytorchs() {
    let expected = [
        (
            "sgd",
            json!({"lr": "1/1000", "momentum": "0", "dampening": "0", "nesterov": false, "weight_decay": "0"}),
        ),
        (
            "momentum",
            json!({"lr": "1/1000", "momentum": "9/10", "dampening": "0", "nesterov": false, "weight_decay": "0"}),
        ),
        (
            "nesterov",
            json!({"lr": "1/1000", "momentum": "9/10", "dampening": "0", "nesterov": true, "weight_decay": "0"}),
        ),
        (
            "adagrad",
            json!({"lr": "1/100", "lr_decay": "0", "eps": "1/10000000000", "weight_decay": "0"}),
        ),
        (
            "rmsprop",
            json!({"lr": "1/100", "alpha": "99/100", "eps": "1/100000000", "momentum": "0", "centered": false, "weight_decay": "0"}),
        ),
        (
            "adam",
            json!({"lr": "1/1000", "beta1": "9/10", "beta2": "999/1000", "eps": "1/100000000", "amsgrad": false, "weight_decay": "0"}),
        ),
        (
            "adamax",
            json!({"lr": "1/500", "beta1": "9/10", "beta2": "999/1000", "eps": "1/100000000", "weight_decay": "0"}),
        ),
        (
            "amsgrad",
            json!({"lr": "1/1000", "beta1": "9/10", "beta2": "999/1000", "eps": "1/100000000", "amsgrad": true, "weight_decay": "0"}),
        ),
        (
            "nadam",
            json!({"lr": "1/500", "beta1": "9/10", "beta2": "999/1000", "eps": "1/100000000", "momentum_decay": "1/250", "weight_decay": "0"}),
        ),
        (
            "adadelta",
            json!({"lr": "1", "rho": "9/10", "eps": "1/1000000", "weight_decay": "0"}),
        ),
    ];
    for (name, json) in expected {
        let kind: OptimizerKind = name.parse().unwrap();
        let resolved = Hyper::default().resolve(kind).unwrap();
        assert_eq!(resolved.kind, kind);
        assert_eq!(resolved.to_json(), json, "{name}");
    }
    // the typed constructors give the same numbers in every scalar type
    let adam = AdamConfig::<Interval<BigRational>>::new();
    assert_eq!(adam.lr().to_rational(), Some(q(1, 1000)));
    assert_eq!(adam.betas().1.to_rational(), Some(q(999, 1000)));
    assert!(!adam.amsgrad());
    assert_eq!(AdamConfig::<f64>::default().eps(), &1e-8);
    assert_eq!(
        NadamConfig::<f64>::new().momentum_decay(),
        num_rational::Ratio::new(4, 1000)
    );
}

/// Flags override the defaults, exactly.
#[test]
fn flags_override_defaults() {
    let hyper = Hyper {
        lr: Some(q(1, 3)),
        beta2: Some(q(99, 100)),
        momentum: Some(q(1, 2)),
        centered: true,
        momentum_decay: Some(q(1, 1000)),
        weight_decay: Some(q(1, 10)),
        ..Hyper::default()
    };
    let r = hyper.resolve(OptimizerKind::Rmsprop).unwrap();
    let OptimizerConfig::Rmsprop(c) = &r.config else {
        panic!("{:?}", r.config)
    };
    assert_eq!(
        (c.lr(), c.momentum(), c.centered(), c.weight_decay()),
        (&q(1, 3), &q(1, 2), true, &q(1, 10))
    );
    assert_eq!(c.alpha(), &q(99, 100));
    let r = hyper.resolve(OptimizerKind::Nadam).unwrap();
    assert_eq!(r.to_json()["momentum_decay"], "1/1000");
    assert_eq!(r.to_json()["beta1"], "9/10");
    assert_eq!(r.to_json()["beta2"], "99/100");
    let r = hyper.resolve(OptimizerKind::Nesterov).unwrap();
    assert_eq!(r.to_json()["momentum"], "1/2");
    assert_eq!(r.to_json()["nesterov"], true);
}

/// Every range is checked, and the error says which hyperparameter, as a variant.
#[test]
fn setters_validate_with_typed_errors() {
    let out_of_range = |e: OptimError| match e {
        OptimError::OutOfRange { parameter, .. } => parameter,
        other => panic!("{other:?}"),
    };
    type Q = BigRational;
    let adam = AdamConfig::<Q>::new();
    assert_eq!(
        out_of_range(adam.clone().with_lr(q(0, 1)).unwrap_err()),
        "lr"
    );
    assert_eq!(
        out_of_range(adam.clone().with_betas(q(1, 1), q(1, 2)).unwrap_err()),
        "beta1"
    );
    assert_eq!(
        out_of_range(adam.clone().with_betas(q(1, 2), q(-1, 2)).unwrap_err()),
        "beta2"
    );
    assert_eq!(
        out_of_range(adam.clone().with_eps(q(0, 1)).unwrap_err()),
        "eps"
    );
    assert_eq!(
        out_of_range(adam.with_weight_decay(q(-1, 10)).unwrap_err()),
        "weight_decay"
    );
    assert_eq!(
        out_of_range(RmspropConfig::<Q>::new().with_alpha(q(1, 1)).unwrap_err()),
        "alpha"
    );
    let sgd = SgdConfig::<Q>::new();
    assert_eq!(
        out_of_range(sgd.clone().with_dampening(q(3, 2)).unwrap_err()),
        "dampening"
    );
    assert!(matches!(
        sgd.clone().with_nesterov(true),
        Err(OptimError::Incompatible { .. })
    ));
    let nesterov = sgd
        .with_momentum(q(9, 10))
        .unwrap()
        .with_nesterov(true)
        .unwrap();
    assert!(matches!(
        nesterov.clone().with_dampening(q(1, 2)),
        Err(OptimError::Incompatible { .. })
    ));
    assert!(matches!(
        nesterov.with_momentum(q(0, 1)),
        Err(OptimError::Incompatible { .. })
    ));
    assert_eq!(
        out_of_range(
            NadamConfig::<Q>::new()
                .with_momentum_decay(num_rational::Ratio::new_raw(1, 0))
                .unwrap_err()
        ),
        "momentum_decay"
    );
    // through the flags: the message names the flag (the CLI prints it)
    let bad = Hyper {
        eps: Some(q(0, 1)),
        ..Hyper::default()
    };
    let err = bad.resolve(OptimizerKind::Adam).unwrap_err();
    assert_eq!(out_of_range(err.clone()), "eps");
    assert!(err.to_string().starts_with("--eps 0: must be > 0"), "{err}");
    let bad = Hyper {
        momentum: Some(q(0, 1)),
        ..Hyper::default()
    };
    assert!(matches!(
        bad.resolve(OptimizerKind::Nesterov),
        Err(OptimError::Incompatible {
            parameter: "momentum",
            ..
        })
    ));
    let bad = Hyper {
        momentum_decay: Some(BigRational::new(1.into(), (1u64 << 40).into())),
        ..Hyper::default()
    };
    assert_eq!(
        out_of_range(bad.resolve(OptimizerKind::Nadam).unwrap_err()),
        "momentum_decay"
    );
    let weight_decay = Hyper {
        weight_decay: Some(q(-1, 10)),
        ..Hyper::default()
    };
    let err = weight_decay.resolve(OptimizerKind::Sgd).unwrap_err();
    assert_eq!(err.to_string(), "--weight-decay -1/10: must be >= 0");
    match parse_hyper("lr-decay", "fast").unwrap_err() {
        OptimError::Unparsable {
            parameter,
            source: ScalarError::Unparsable { .. },
            ..
        } => assert_eq!(parameter, "lr-decay"),
        other => panic!("{other:?}"),
    }
}

/// An exact configuration whose `f64` image leaves a range is refused when built in
/// `f64`, and accepted in exact mode.
#[test]
fn rounding_to_f64_is_validated() {
    let tiny = BigRational::new(1.into(), num_bigint::BigInt::from(10).pow(20));
    let hyper = Hyper {
        beta2: Some(q(1, 1) - &tiny),
        ..Hyper::default()
    };
    let resolved = hyper.resolve(OptimizerKind::Adam).unwrap();
    assert!(matches!(
        resolved.build::<f64>(),
        Err(OptimError::OutOfRange {
            parameter: "beta2",
            ..
        })
    ));
    assert!(resolved.build::<Interval<BigRational>>().is_ok());
    let lr = Hyper {
        lr: Some(BigRational::new(
            1.into(),
            num_bigint::BigInt::from(10).pow(400),
        )),
        ..Hyper::default()
    };
    let resolved = lr.resolve(OptimizerKind::Sgd).unwrap();
    assert!(matches!(
        resolved.build::<f64>(),
        Err(OptimError::OutOfRange {
            parameter: "lr",
            ..
        })
    ));
    assert!(resolved.build::<DyadicInterval>().is_ok());
}

/// SGD with dampening, by hand (PyTorch: the first step sets `b = g`, later
/// `b <- mu b + (1 - dampening) g`): mu = 1/2, dampening = 1/2, lr = 1, gradients 1, 2, 2.
#[test]
fn sgd_dampening_by_hand() {
    type Q = Interval<BigRational>;
    let sgd = SgdConfig::<Q>::new()
        .with_lr(Q::one())
        .unwrap()
        .with_momentum(Q::from_ratio(1, 2))
        .unwrap()
        .with_dampening(Q::from_ratio(1, 2))
        .unwrap();
    let mut state = sgd.init(2);
    assert!(state.momentum_buffer.is_none());
    let mut theta = vec![Q::zero(), Q::from_ratio(5, 1)];
    let mut seen = vec![];
    for g in [1, 2, 2] {
        theta = sgd.step(&theta, &[Q::from_int(g), Q::zero()], &mut state);
        seen.push(theta[0].to_rational().unwrap());
    }
    // b: 1, 1/2 + 1 = 3/2, 3/4 + 1 = 7/4; theta: -1, -5/2, -17/4
    assert_eq!(seen, vec![q(-1, 1), q(-5, 2), q(-17, 4)]);
    assert_eq!(
        state.momentum_buffer.unwrap()[0].to_rational(),
        Some(q(7, 4))
    );
    assert!(theta[1].identical(&Q::from_ratio(5, 1)));
}

/// Centered RMSprop with momentum, one coordinate, two steps by hand in rationals where
/// the square roots are exact: alpha = 1/2, eps = 1/2, momentum = 1/2, lr = 1, g = 2, 2.
#[test]
fn centered_rmsprop_with_momentum_by_hand() {
    type Q = Interval<BigRational>;
    let rms = RmspropConfig::<Q>::new()
        .with_lr(Q::one())
        .unwrap()
        .with_alpha(Q::from_ratio(1, 2))
        .unwrap()
        .with_eps(Q::from_ratio(1, 2))
        .unwrap()
        .with_momentum(Q::from_ratio(1, 2))
        .unwrap()
        .with_centered(true);
    let mut state = rms.init(1);
    assert!(state.grad_avg.is_some() && state.momentum_buffer.is_some());
    // step 1: v = 2, ga = 1, vt = 1, d = 3/2, b = 4/3, theta = -4/3
    let theta = rms.step(&[Q::zero()], &[Q::from_int(2)], &mut state);
    assert_eq!(theta[0].to_rational(), Some(q(-4, 3)));
    // step 2: v = 3, ga = 3/2, vt = 3/4 (not a square: enclosure), so check the buffer
    // and the state's named fields instead
    let theta = rms.step(&theta, &[Q::from_int(2)], &mut state);
    assert_eq!(state.square_avg[0].to_rational(), Some(q(3, 1)));
    assert_eq!(
        state.grad_avg.as_ref().unwrap()[0].to_rational(),
        Some(q(3, 2))
    );
    // b = 2/3 + 2 / (sqrt(3/4) + 1/2), theta = -4/3 - b
    let expected = -4.0 / 3.0 - (2.0 / 3.0 + 2.0 / (0.75f64.sqrt() + 0.5));
    assert!((theta[0].to_f64() - expected).abs() < 1e-15);
    assert_eq!(state.step, 2);
}
