use super::*;
use crate::scalar::{Scalar, q};

fn exact_net(widths: Vec<usize>, params: Vec<BigRational>) -> Network<BigRational> {
    Network::new(Arch::new(widths).unwrap(), params).unwrap()
}

fn pow2(e: i32) -> BigRational {
    if e >= 0 {
        BigRational::from_integer(num_bigint::BigInt::from(1) << e as usize)
    } else {
        BigRational::new(1.into(), num_bigint::BigInt::from(1) << (-e) as usize)
    }
}

/// Issue 15, item 6: the old absolute tolerance 1e-9 called this decided; exact z is
/// +9.3e-9, f64 gives -2.98e-8. The bound must leave it undecided.
#[test]
fn cancellation_with_large_weights_is_a_near_tie() {
    let w = [
        pow2(27),
        q(7, 1) * pow2(-29),
        q(7, 1) * pow2(-29),
        -(pow2(27) + pow2(-25)),
    ];
    let b = q(7, 1) * pow2(-29);
    let mut params: Vec<BigRational> = w.to_vec();
    params.push(b);
    params.extend([q(1, 1), q(0, 1)]); // output layer 1x1
    let net = exact_net(vec![4, 1, 1], params);
    let x: Vec<BigRational> = vec![q(1, 1); 4];
    let z_exact = &net.forward(&x).pre[0][0];
    assert_eq!(z_exact.sign(), Sign::Positive);
    let bn = BatchNet::from_exact(&net).unwrap();
    assert!(bn.layer_exact(1));
    let xf = Array2::from_elem((1, 4), 1.0);
    let pass = forward(&bn, xf.view(), InputExactness::AllExact).unwrap();
    let (z, e) = (pass.layers[0].z[[0, 0]], pass.layers[0].e[[0, 0]]);
    // The f64 value depends on the summation order (sequential: -2.98e-8); every order
    // is off by far more than 1e-9.
    assert!((z - z_exact.to_f64()).abs() > 1e-8, "{z}");
    assert!(e >= (z_exact.to_f64() - z).abs());
    assert_eq!(pass.layers[0].sign(0, 0), Sign::Undecided);
    let act = crate::activity::batched::activity(&pass);
    assert_eq!(act.near_tie_count, 1);
    assert_eq!(act.near_ties[0].value, z);
}

/// All-zero inputs with zero bias: exactly 0, bound exactly 0, decided `Zero`; a
/// nonzero tie `x - 1` at `x = 1` is 0.0 in f64 but left undecided.
#[test]
fn exact_zero_and_float_zero() {
    // 1-2-1-1: z_{1,0} = x - 1, z_{1,1} = -x; layer 2: z = a_0 + a_1 + 0.
    let params = vec![
        q(1, 1),
        q(-1, 1),
        q(-1, 1),
        q(0, 1),
        q(1, 1),
        q(1, 1),
        q(0, 1),
        q(2, 1),
        q(3, 1),
    ];
    let net = exact_net(vec![1, 2, 1, 1], params);
    let bn = BatchNet::from_exact(&net).unwrap();
    let x = Array2::from_shape_vec((2, 1), vec![0.0, 1.0]).unwrap();
    for kind in [BoundKind::Dot, BoundKind::Norm] {
        let pass = forward_with(&bn, x.view(), InputExactness::AllExact, kind).unwrap();
        assert_eq!(pass.layers[0].sign(0, 1), Sign::Zero); // -0 * 1: all products 0
        assert_eq!(pass.layers[0].sign(0, 0), Sign::Negative);
        assert_eq!(pass.layers[0].sign(1, 0), Sign::Undecided); // 1 - 1
        assert_eq!(pass.layers[0].sign(1, 1), Sign::Negative);
        assert_eq!(pass.layers[1].sign(0, 0), Sign::Zero);
        // At x = 1 the activation of neuron 0 is only known up to e, so layer 2 is not Zero.
        assert_eq!(pass.layers[1].sign(1, 0), Sign::Undecided);
        let act = crate::activity::batched::activity(&pass);
        assert_eq!(act.dead_layers(), vec![1, 2]);
        assert_eq!(act.exact_ties, 4);
        assert_eq!(act.near_tie_count, 2);
    }
}

/// Rounded parameters and inputs: the bound covers the conversion error too.
#[test]
fn bound_covers_inexact_parameters_and_inputs() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for trial in 0..40 {
        let widths = vec![3, 5, 4, 2];
        let arch = Arch::new(widths.clone()).unwrap();
        let scale = [1i64, 1 << 20, 1 << 40][trial % 3];
        let params: Vec<BigRational> = (0..arch.num_params())
            .map(|_| q(rng.gen_range(-1000..1000) * scale, rng.gen_range(1..97)))
            .collect();
        let net = exact_net(widths, params);
        let xs: Vec<Vec<BigRational>> = (0..7)
            .map(|_| {
                (0..3)
                    .map(|_| q(rng.gen_range(-50..50), rng.gen_range(1..13)))
                    .collect()
            })
            .collect();
        let xf = Array2::from_shape_fn((7, 3), |(m, i)| xs[m][i].to_f64());
        let bn = BatchNet::from_exact(&net).unwrap();
        let kind = [BoundKind::Dot, BoundKind::Norm][trial % 2];
        let pass = forward_with(&bn, xf.view(), InputExactness::AllRounded, kind).unwrap();
        for (m, x) in xs.iter().enumerate() {
            let exact = net.forward(x);
            for (k, zk) in exact.pre.iter().enumerate() {
                for (j, z) in zk.iter().enumerate() {
                    let (zf, e) = (pass.layers[k].z[[m, j]], pass.layers[k].e[[m, j]]);
                    let err = z.sub_ref(&rational_from_f64(zf).unwrap()).abs();
                    assert!(err <= rational_from_f64(e).unwrap(), "layer {k} point {m}");
                    let s = pass.layers[k].sign(m, j);
                    if s != Sign::Undecided {
                        assert_eq!(s, z.sign());
                    }
                }
            }
        }
    }
}

/// Same bits on one thread and on several (the block partition is fixed).
#[test]
fn deterministic_across_thread_counts() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let arch = Arch::new(vec![17, 33, 9, 3]).unwrap();
    let params: Vec<f64> = (0..arch.num_params())
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let bn = BatchNet::from_f64(arch, params, vec![true; 3]).unwrap();
    let x = Array2::from_shape_fn((3 * BLOCK_ROWS + 5, 17), |_| rng.gen_range(-1.0..1.0));
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| forward(&bn, x.view(), InputExactness::AllExact).unwrap())
    };
    let (a, b) = (run(1), run(3));
    for (la, lb) in a.layers.iter().zip(&b.layers) {
        assert!(
            la.z.iter()
                .zip(&lb.z)
                .all(|(p, q)| p.to_bits() == q.to_bits())
        );
        assert!(
            la.e.iter()
                .zip(&lb.e)
                .all(|(p, q)| p.to_bits() == q.to_bits())
        );
    }
    // The bound is small relative to |W||a| here: no sign of layer 1 is undecided
    // unless |z| is tiny.
    let undecided = a.layers[0]
        .e
        .iter()
        .zip(&a.layers[0].z)
        .filter(|(e, z)| f64::abs(**z) <= **e)
        .count();
    assert_eq!(undecided, 0);
}

#[test]
fn overflow_is_undecided() {
    let arch = Arch::new(vec![2, 1, 1]).unwrap();
    let bn = BatchNet::from_f64(arch, vec![1e308, 1e308, 0.0, 1.0, 0.0], vec![true, true]).unwrap();
    let x = Array2::from_shape_vec((1, 2), vec![1.5, 1.5]).unwrap();
    let pass = forward(&bn, x.view(), InputExactness::AllExact).unwrap();
    assert_eq!(pass.layers[0].e[[0, 0]], f64::INFINITY);
    assert_eq!(pass.layers[0].sign(0, 0), Sign::Undecided);
}
