//! Hand-computed exact results for a small network, run on every exact scalar type.

mod common;
use common::{q, small_net};
use deadrelu::activity::{NeuronStatus, activity_on_data};
use deadrelu::data::Dataset;
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, Interval, Scalar};

fn rat<S: Scalar>(v: &S) -> BigRational {
    v.to_rational().expect("exact value")
}

/// Forward pass, risk and gradient of the 1-2-1 network, computed by hand:
///
/// ```text
/// x = 1:  z1 = (1, -1/2), a1 = (1, 0),   N = 2 - 1 = 1,        error 1 - 0 = 1
/// x = -1: z1 = (-1, 3/2), a1 = (0, 3/2), N = 9/2 - 1 = 7/2,    error 7/2 - 1 = 5/2
/// R = (1 + 25/4) / 2 = 29/8
/// delta_out = (2/M)(N - y) = (1, 5/2)
/// dW2 = 1*(1,0) + 5/2*(0,3/2) = (1, 15/4),  dB2 = 7/2
/// delta1 = (2*1, 0) at x=1; (0, 3*5/2) at x=-1
/// dW1 = (2*1, 15/2*(-1)) = (2, -15/2),      dB1 = (2, 15/2)
/// ```
fn check_small_net<S: Scalar>() {
    let (net, data) = small_net::<S>();
    let pass = net.forward(data.x(1));
    assert_eq!(
        pass.pre[0].iter().map(rat).collect::<Vec<_>>(),
        vec![q(-1, 1), q(3, 2)]
    );
    assert_eq!(rat(&pass.output()[0]), q(7, 2));
    assert_eq!(rat(&net.risk(&data, None).unwrap()), q(29, 8));
    let (risk, grad) = net.risk_and_gradient(&data, None).unwrap();
    assert_eq!(rat(&risk), q(29, 8));
    let expected = [
        q(2, 1),
        q(-15, 2),
        q(2, 1),
        q(15, 2),
        q(1, 1),
        q(15, 4),
        q(7, 2),
    ];
    assert_eq!(grad.iter().map(rat).collect::<Vec<_>>(), expected.to_vec());
    // mini-batch of the second point only, twice: same as that point alone
    let (r2, g2) = net.risk_and_gradient(&data, Some(&[1, 1])).unwrap();
    assert_eq!(rat(&r2), q(25, 4));
    assert_eq!(rat(&g2[5]), q(15, 2)); // dW2[1] = 2 * 5/2 * 3/2
    // best constant: y = (0, 1): mean 1/2, V = 1/4
    let (v, mean) = data.best_constant();
    assert_eq!((rat(&v), rat(&mean[0])), (q(1, 4), q(1, 2)));
}

#[test]
fn small_net_bigrational() {
    check_small_net::<BigRational>();
}

#[test]
fn small_net_interval_points() {
    check_small_net::<Interval<BigRational>>();
}

#[cfg(feature = "gmp")]
#[test]
fn small_net_rug() {
    check_small_net::<rug::Rational>();
}

#[test]
fn small_net_f64_matches() {
    let (net, data) = small_net::<f64>();
    let (risk, grad) = net.risk_and_gradient(&data, None).unwrap();
    assert_eq!(risk, 29.0 / 8.0);
    assert_eq!(grad, vec![2.0, -7.5, 2.0, 7.5, 1.0, 3.75, 3.5]);
}

/// A tie z = 0 is inactive and has derivative 0 (ReLU'(0) = 0): with B1 = (0, 0) and x = 0
/// every first-layer pre-activation is exactly 0, so the gradient of W1 and B1 vanishes.
#[test]
fn ties_have_zero_derivative() {
    let arch = Arch::new(vec![1, 2, 1]).unwrap();
    let params = [
        q(1, 1),
        q(-1, 1),
        q(0, 1),
        q(0, 1),
        q(2, 1),
        q(3, 1),
        q(-1, 1),
    ];
    let net = Network::new(arch, params.to_vec()).unwrap();
    let data = Dataset::from_rows(vec![vec![q(0, 1)]], vec![vec![q(5, 1)]]).unwrap();
    let (risk, grad) = net.risk_and_gradient(&data, None).unwrap();
    assert_eq!(risk, q(36, 1));
    assert_eq!(
        grad,
        vec![
            q(0, 1),
            q(0, 1),
            q(0, 1),
            q(0, 1),
            q(0, 1),
            q(0, 1),
            q(-12, 1)
        ]
    );
    let act = activity_on_data(&net, &data).unwrap();
    assert_eq!(act.status[0], vec![NeuronStatus::Inactive; 2]);
    assert_eq!(act.exact_ties, 2);
    assert_eq!(act.dead_layers(), vec![1]);
}

/// Facts 1 and 2 on a hand-built dead network: layer 2 dead on the data makes the
/// realization constant and the gradient zero in layers 1, 2 and W_3.
#[test]
fn dead_layer_freezes_gradient() {
    let arch = Arch::new(vec![2, 2, 2, 1]).unwrap();
    let mut params = vec![q(1, 3); arch.num_params()];
    for j in 0..2 {
        params[arch.bias_index(2, j)] = q(-10, 1); // layer 2 dead on the box [-1,1]^2
    }
    let net = Network::new(arch.clone(), params).unwrap();
    let data = Dataset::from_rows(
        vec![
            vec![q(1, 2), q(-1, 1)],
            vec![q(0, 1), q(1, 1)],
            vec![q(-1, 1), q(1, 7)],
        ],
        vec![vec![q(1, 1)], vec![q(2, 1)], vec![q(-3, 1)]],
    )
    .unwrap();
    let act = activity_on_data(&net, &data).unwrap();
    assert_eq!(act.dead_layers(), vec![2]);
    assert!(act.outputs_identical);
    let (_, grad) = net.risk_and_gradient(&data, None).unwrap();
    let frozen_end = arch.weight_index(3, 0, 0) + arch.width(2);
    assert!(grad[..frozen_end].iter().all(|g| *g == q(0, 1)));
    assert_ne!(grad[arch.bias_index(3, 0)], q(0, 1));
}
