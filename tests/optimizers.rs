//! The optimizers: a shared invariant checker over every optimizer and scalar type,
//! golden trajectories, weight decay breaking the frozen property, f64 against exact.

mod common;
use deadrelu::data::{DataSpec, Dataset, Target};
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::optim::train::{TrainConfig, train};
use deadrelu::optim::{Hyper, Optimizer, OptimizerConfig, OptimizerKind};
use deadrelu::scalar::{BigRational, DyadicInterval, Interval, Real, Scalar};
use num_traits::One;

fn optimizer<S: Real>(kind: OptimizerKind, hyper: &Hyper) -> OptimizerConfig<S> {
    hyper.resolve(kind).unwrap().build::<S>().unwrap()
}

/// Coordinates 0 and 2 get an exactly zero gradient at every step, 1 and 3 do not.
fn check_frozen_property<S: Real>() {
    for kind in OptimizerKind::ALL {
        let opt = optimizer::<S>(kind, &Hyper::default());
        let theta0: Vec<S> = [1, -2, 3, 5].iter().map(|&v| S::from_ratio(v, 7)).collect();
        let mut theta = theta0.clone();
        let mut state = opt.init(4);
        for step in 0..6 {
            let grad: Vec<S> = [0, 1 + step, 0, -3]
                .iter()
                .map(|&v| S::from_ratio(v, 4))
                .collect();
            // purity: the same inputs give the same outputs and the same state
            let mut again_state = state.clone();
            let again = opt.step(&theta, &grad, &mut again_state);
            let next = opt.step(&theta, &grad, &mut state);
            assert!(
                again.iter().zip(&next).all(|(a, b)| a.identical(b)),
                "{} is not pure",
                kind.name()
            );
            assert_eq!(format!("{again_state:?}"), format!("{state:?}"));
            theta = next.into_iter().map(|v| v.tighten()).collect();
            assert_eq!(state.steps_taken(), step as u64 + 1);
        }
        for i in [0, 2] {
            assert!(
                theta[i].identical(&theta0[i]),
                "{} moved a zero-gradient coordinate ({})",
                kind.name(),
                S::NAME
            );
        }
        for i in [1, 3] {
            assert!(
                !theta[i].identical(&theta0[i]),
                "{} did not move coordinate {i} ({})",
                kind.name(),
                S::NAME
            );
        }
    }
}

#[test]
fn frozen_property_f64() {
    check_frozen_property::<f64>();
}

#[test]
fn frozen_property_interval() {
    check_frozen_property::<Interval<BigRational>>();
}

#[test]
fn frozen_property_dyadic_interval() {
    check_frozen_property::<DyadicInterval>();
}

#[cfg(feature = "gmp")]
#[test]
fn frozen_property_interval_rug() {
    check_frozen_property::<Interval<rug::Rational>>();
}

/// Golden trajectories: `tests/golden/optimizers.py` (update rules of torch.optim's
/// documentation, written independently) prints theta after each step, theta_0 = 1, the
/// gradient sequence 0.5, -0.25, 1, 0, 2, default hyperparameters.
const GOLDEN: [(&str, [f64; 5]); 10] = [
    ("sgd", [0.9995, 0.99975, 0.99875, 0.99875, 0.99675]),
    (
        "momentum",
        [
            0.9995,
            0.9993000000000001,
            0.9981200000000001,
            0.9970580000000001,
            0.9941022000000002,
        ],
    ),
    (
        "nesterov",
        [0.99905, 0.99912, 0.997058, 0.9961022, 0.9914419800000001],
    ),
    (
        "adagrad",
        [
            0.990000000002,
            0.9944721359561995,
            0.9857434203475217,
            0.9857434203475217,
            0.9770662020351519,
        ],
    ),
    (
        "rmsprop",
        [
            0.900000019999996,
            0.9449013374421751,
            0.8574273783928595,
            0.8574273783928595,
            0.7703959111000087,
        ],
    ),
    (
        "adam",
        [
            0.99900000002,
            0.9987336629870784,
            0.9980755513967708,
            0.997536466428097,
            0.996836717917191,
        ],
    ),
    (
        "adamax",
        [
            0.99800000004,
            0.9975785259427449,
            0.9967076772429663,
            0.9960894376079372,
            0.9953676481558552,
        ],
    ),
    (
        "amsgrad",
        [
            0.99900000002,
            0.9987336629870784,
            0.9980755513967708,
            0.997536736037996,
            0.9968369875270899,
        ],
    ),
    (
        "nadam",
        [
            0.9978870964855473,
            0.9987093159232228,
            0.9967131117214759,
            0.9965429761901744,
            0.9941110907777849,
        ],
    ),
    (
        "adadelta",
        [
            0.9968377855834876,
            0.9989228726112789,
            0.9946161569990815,
            0.9946161569990815,
            0.9891493224519912,
        ],
    ),
];
const GRADIENTS: [(i64, u64); 5] = [(1, 2), (-1, 4), (1, 1), (0, 1), (2, 1)];

/// Golden values hold in f64 (to 1e-12) and are enclosed by the exact path (to the
/// width of an f64 rounding of the golden value).
#[test]
fn golden_trajectories() {
    for (name, expected) in GOLDEN {
        let kind: OptimizerKind = name.parse().unwrap();
        let (of, oe) = (
            optimizer::<f64>(kind, &Hyper::default()),
            optimizer::<Interval<BigRational>>(kind, &Hyper::default()),
        );
        let (mut tf, mut sf) = (vec![1.0f64], of.init(1));
        let (mut te, mut se) = (vec![Interval::<BigRational>::one()], oe.init(1));
        for (step, &(n, d)) in GRADIENTS.iter().enumerate() {
            tf = of.step(&tf, &[f64::from_ratio(n, d)], &mut sf);
            te = oe
                .step(&te, &[Interval::from_ratio(n, d)], &mut se)
                .into_iter()
                .map(|v| v.tighten())
                .collect();
            assert!(
                (tf[0] - expected[step]).abs() <= 1e-12,
                "{name} step {step}: {} vs {}",
                tf[0],
                expected[step]
            );
            let (lo, hi) = (te[0].lo().to_f64(), te[0].hi().to_f64());
            let slack = 1e-12;
            assert!(
                lo - slack <= expected[step] && expected[step] <= hi + slack,
                "{name} step {step}: [{lo}, {hi}] vs {}",
                expected[step]
            );
            assert!(hi - lo < 1e-20, "{name}: enclosure too wide");
        }
    }
}

/// The last lines of `tests/golden/optimizers.py`: theta after 10_000 steps of the five
/// gradients repeated, for the optimizers whose bias corrections are powers of the step.
const GOLDEN_LONG: [(&str, f64); 4] = [
    ("adam", -5.307406844323788),
    ("adamax", -5.513166422546829),
    ("amsgrad", -5.303551291103283),
    ("nadam", -11.608890103017666),
];

/// Relative distance allowed between the `f64` path and the Python golden values after
/// 10_000 steps (measured: 0, bit-identical, with glibc's `pow` on both sides; the slack
/// is for another libm's last bit).
const LONG_RUN_TOLERANCE: f64 = 1e-12;

/// At large `t` the `f64` path still follows torch's formulas (`beta ** step`).
#[test]
fn golden_long_trajectories() {
    for (name, expected) in GOLDEN_LONG {
        let kind: OptimizerKind = name.parse().unwrap();
        let opt = optimizer::<f64>(kind, &Hyper::default());
        let (mut theta, mut state) = (vec![1.0f64], opt.init(1));
        for step in 0..10_000 {
            let (n, d) = GRADIENTS[step % GRADIENTS.len()];
            theta = opt.step(&theta, &[f64::from_ratio(n, d)], &mut state);
        }
        assert_eq!(state.steps_taken(), 10_000);
        assert!(
            (theta[0] - expected).abs() <= LONG_RUN_TOLERANCE * (1.0 + expected.abs()),
            "{name}: {} vs {expected}",
            theta[0]
        );
    }
}

fn dead_setup<S: Scalar>() -> (Network<S>, Dataset<S>, usize) {
    // seed 1 of the 11-layer net: layers 3 and 4 dead on the grid
    let arch = Arch::new(vec![1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]).unwrap();
    let net: Network<BigRational> =
        init_network(&arch, &InitScheme::TorchDefault, &BiasInit::Default, 1).unwrap();
    let data = "grid:-1,1:16"
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    let frozen_end = arch.layer_range(3).end + arch.width(4) * arch.width(3);
    (net.convert().unwrap(), data.convert().unwrap(), frozen_end)
}

/// Weight decay moves the frozen coordinates (the property is lost), and without it
/// they stay put.
#[test]
fn weight_decay_breaks_the_frozen_property() {
    let (net, data, frozen_end) = dead_setup::<f64>();
    let config = TrainConfig {
        steps: 20,
        batch: None,
        batch_seed: 0,
    };
    for kind in OptimizerKind::NINE {
        let plain = train(
            &net,
            &data,
            &optimizer::<f64>(kind, &Hyper::default()),
            &config,
            None,
            |_| {},
        )
        .unwrap();
        assert!(
            plain.moved[..frozen_end].iter().all(|m| !m),
            "{}",
            kind.name()
        );
        let hyper = Hyper {
            weight_decay: Some(BigRational::new(1.into(), 10.into())),
            ..Hyper::default()
        };
        let decayed = train(
            &net,
            &data,
            &optimizer::<f64>(kind, &hyper),
            &config,
            None,
            |_| {},
        )
        .unwrap();
        assert!(
            decayed.moved[..frozen_end].iter().any(|m| *m),
            "{}: weight decay left every frozen coordinate in place",
            kind.name()
        );
    }
}

/// The f64 path lies within a named tolerance of the exact (enclosure) path, and the
/// exact path keeps the frozen coordinates bit-identical.
#[test]
fn f64_matches_exact_path() {
    let (netf, dataf, frozen_end) = dead_setup::<f64>();
    let (nete, datae, _) = dead_setup::<Interval<BigRational>>();
    let config = TrainConfig {
        steps: 8,
        batch: Some(5),
        batch_seed: 3,
    };
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::Adam,
        OptimizerKind::Nadam,
        OptimizerKind::Rmsprop,
    ] {
        let rf = train(
            &netf,
            &dataf,
            &optimizer::<f64>(kind, &Hyper::default()),
            &config,
            None,
            |_| {},
        )
        .unwrap();
        let re = train(
            &nete,
            &datae,
            &optimizer::<Interval<BigRational>>(kind, &Hyper::default()),
            &config,
            None,
            |_| {},
        )
        .unwrap();
        for (f, e) in rf.last.params().iter().zip(re.last.params()) {
            assert!(
                (f - e.to_f64()).abs() <= deadrelu::prec::F64_AGREEMENT * (1.0 + f.abs()),
                "{}: {f} vs {}",
                kind.name(),
                e.to_exact_string()
            );
        }
        for i in 0..frozen_end {
            assert!(re.last.params()[i].identical(&nete.params()[i]));
            assert!(re.last.params()[i].is_point());
        }
        assert_eq!(rf.moved, re.moved, "{}", kind.name());
        // the dyadic enclosures (the exact mode of train and audit) agree too
        let (netd, datad, _) = dead_setup::<DyadicInterval>();
        let rd = train(
            &netd,
            &datad,
            &optimizer::<DyadicInterval>(kind, &Hyper::default()),
            &config,
            None,
            |_| {},
        )
        .unwrap();
        for ((f, d), e) in rf
            .last
            .params()
            .iter()
            .zip(rd.last.params())
            .zip(re.last.params())
        {
            assert!(
                (f - d.to_f64()).abs() <= deadrelu::prec::F64_AGREEMENT * (1.0 + f.abs()),
                "{}: {f} vs {}",
                kind.name(),
                d.to_exact_string()
            );
            let (lo, hi) = (d.lo(), d.hi());
            assert!(
                lo <= hi && (e.hi() >= &lo && e.lo() <= &hi),
                "{}: the two enclosures must overlap",
                kind.name()
            );
        }
        for i in 0..frozen_end {
            assert!(
                rd.last.params()[i].identical(&netd.params()[i]) && rd.last.params()[i].is_point()
            );
        }
        assert_eq!(rf.moved, rd.moved, "{}", kind.name());
    }
}
