use super::*;
use crate::net::Network;
use crate::scalar::{BigRational, rational_from_f64};
use rand::{Rng, SeedableRng};

fn check(widths: &[usize], params: &[f64], rows: &[RowInts]) {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let exact: Vec<BigRational> = params
        .iter()
        .map(|v| rational_from_f64(*v).unwrap())
        .collect();
    let net = Network::new(arch.clone(), exact).unwrap();
    for engine in [ExactEngine::Auto, ExactEngine::F64] {
        let limbs = LimbNet::with_engine(&arch, params, engine).expect("representable");
        if engine == ExactEngine::F64 || !ifma::available() {
            assert_eq!(limbs.engine_name(), "f64");
        } else {
            assert_eq!(limbs.engine_name(), "ifma");
        }
        check_engine(&arch, &net, &limbs, rows);
    }
}

fn check_engine(arch: &Arch, net: &Network<BigRational>, limbs: &LimbNet, rows: &[RowInts]) {
    let got = limbs.block(rows).expect("representable");
    for (m, row) in rows.iter().enumerate() {
        let x: Vec<BigRational> = (0..row.x.len()).map(|i| row.x_value(i)).collect();
        let pass = net.forward(&x);
        for k in 1..arch.depth() {
            for (j, z) in pass.pre[k - 1].iter().enumerate() {
                let sign = match z.cmp(&BigRational::from_integer(0.into())) {
                    std::cmp::Ordering::Less => -1,
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Greater => 1,
                };
                assert_eq!(
                    got.signs[k - 1][[m, j]],
                    sign,
                    "{} layer {k} row {m}",
                    limbs.engine_name()
                );
            }
        }
        assert_eq!(
            limbs.output_values(row, &got.out[m]),
            pass.pre[arch.depth() - 1],
            "{} row {m}",
            limbs.engine_name()
        );
    }
}

#[test]
fn matches_the_integer_engine_on_f32_networks_and_decimal_rows() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for widths in [vec![3, 5, 4, 2], vec![20, 30, 1], vec![1, 8, 8, 8, 1]] {
        let arch = Arch::new(widths.clone()).unwrap();
        let params: Vec<f64> = (0..arch.num_params())
            .map(|i| match i % 11 {
                0 => 0.0,
                1 => rng.gen_range(-1.0f64..1.0) * 1e-7,
                2 => rng.gen_range(-4.0f64..4.0).round(),
                _ => rng.gen_range(-1.0f64..1.0) as f32 as f64,
            })
            .collect();
        let rows: Vec<RowInts> = (0..40)
            .map(|r| {
                if r % 2 == 0 {
                    // decimals with K fractional digits: X / 10^K
                    let k = rng.gen_range(0..12u32);
                    let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
                        ShiftedInt::from_i64(rng.gen_range(-(10i64.pow(k + 1))..10i64.pow(k + 1)))
                    };
                    RowInts {
                        p: -i64::from(k),
                        d: 5u64.pow(k),
                        x: (0..widths[0]).map(|_| draw(&mut rng)).collect(),
                        y: (0..*widths.last().unwrap())
                            .map(|_| draw(&mut rng))
                            .collect(),
                    }
                } else {
                    let x: Vec<f64> = (0..widths[0])
                        .map(|i| match i % 5 {
                            0 => 0.0,
                            1 => 3.0,
                            _ => rng.gen_range(-2.0f64..2.0) as f32 as f64,
                        })
                        .collect();
                    RowInts::from_f64(&x, &vec![0.5; *widths.last().unwrap()]).unwrap()
                }
            })
            .collect();
        check(&widths, &params, &rows);
    }
}

#[test]
fn exact_zeros_and_cancellations_are_decided() {
    // z_1 = x_0 - x_1 + 0 is exactly 0 at x_0 = x_1; second neuron 2^-60 x_0 - 2^-60 x_1
    // + 2^-70 is positive; huge and tiny magnitudes in one layer.
    let t = 2f64.powi(-60);
    let params = vec![
        1.0,
        -1.0,
        t,
        -t,
        0.0,
        2f64.powi(-70), // layer 1
        2f64.powi(40),
        1.0,
        -3.0, // layer 2
    ];
    let rows = vec![
        RowInts::from_f64(&[0.1, 0.1], &[1.0]).unwrap(),
        RowInts::from_f64(&[1e-300, 1e-300], &[0.0]).unwrap(),
        RowInts::from_f64(&[5.0, 4.0], &[0.0]).unwrap(),
    ];
    check(&[2, 2, 1], &params, &rows);
    let limbs = LimbNet::new(&Arch::new(vec![2, 2, 1]).unwrap(), &params).unwrap();
    let got = limbs.block(&rows).unwrap();
    assert_eq!(got.signs[0][[0, 0]], 0);
    assert_eq!(got.signs[0][[0, 1]], 1);
}

/// Per-layer bases: integer weights (narrow weight digits, wide input digits), a wide
/// layer beside a narrow one, one-ulp ties and signs, huge and tiny inputs in one row
/// (many input digits), negative outputs (the final carry).
#[test]
fn per_layer_bases_one_ulp_ties_and_wide_spreads() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let u = f64::EPSILON;
    for widths in [vec![2, 3, 2], vec![40, 3, 300, 2], vec![5, 9, 1]] {
        let arch = Arch::new(widths.clone()).unwrap();
        let mut params: Vec<f64> = (0..arch.num_params())
            .map(|i| match i % 5 {
                0 => rng.gen_range(-3.0f64..3.0).round(),
                1 => -(rng.gen_range(0.0f64..1.0) as f32 as f64),
                _ => rng.gen_range(-1.0f64..1.0) as f32 as f64,
            })
            .collect();
        // layer 1, neuron 0: x_0 - x_1 (a one-ulp tie at x_0 = 1 + 2^-52, x_1 = 1)
        let n = widths[0];
        for i in 0..n {
            params[arch.weight_index(1, 0, i)] = [1.0, -1.0].get(i).copied().unwrap_or(0.0);
        }
        params[arch.bias_index(1, 0)] = 0.0;
        let outputs = *widths.last().unwrap();
        let mut rows = Vec::new();
        for r in 0..24 {
            let mut x: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0f64..2.0)).collect();
            match r % 4 {
                0 => x[..2].copy_from_slice(&[1.0 + u, 1.0]),
                1 => x[..2].copy_from_slice(&[1.0, 1.0 + u]),
                2 => x[..2].copy_from_slice(&[1.0 - u / 2.0, 1.0 - u / 2.0]),
                _ => x[0] *= 2f64.powi(-900),
            }
            rows.push(RowInts::from_f64(&x, &vec![-0.5; outputs]).unwrap());
        }
        check(&widths, &params, &rows);
        // a shallow layer gets wider input digits than the 300-wide one after it
        let limbs = LimbNet::new(&arch, &params).unwrap();
        for (k, (bw, ba)) in limbs.bases().into_iter().enumerate() {
            let log = (widths[k] as u32 + 1).next_power_of_two().trailing_zeros();
            assert_eq!(bw + ba, 53 - log, "layer {}", k + 1);
        }
    }
}

#[test]
fn digits_of_shifted_integers() {
    let v = ShiftedInt {
        neg: true,
        mant: 0b1011,
        shift: 19,
    };
    // -(11 << 19) in base 2^21: digit 0 = (11 << 19) mod 2^21 = 3 << 19, digit 1 = 2
    assert_eq!(v.digits(21), 2);
    assert_eq!(v.digit(0, 21), -((3u64 << 19) as f64));
    assert_eq!(v.digit(1, 21), -2.0);
    assert_eq!(v.digit(2, 21), 0.0);
    assert_eq!(dyadic_f64(0.75), Some((false, 3, -2)));
    assert_eq!(dyadic_f64(-f64::from_bits(1)), Some((true, 1, -1074)));
}

/// The IFMA engine's lane flush: a fan-in above 4096 (two runs of lane sums), widths
/// that are not multiples of 8 or 16, a block of one row, and inputs near the top of
/// a 52-bit digit (offsets with borrows).
#[test]
fn wide_fan_in_odd_widths_and_single_rows() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
    // the last case: many digits on both sides (weights and inputs down to 2^-190) with
    // two lane runs, the most place terms between carries
    for (widths, nrows, spread) in [
        (vec![5000, 3, 1], 3, false),
        (vec![4200, 17, 2], 1, false),
        (vec![7, 1, 33, 5], 9, false),
        (vec![4300, 6, 2], 2, true),
    ] {
        let arch = Arch::new(widths.clone()).unwrap();
        let params: Vec<f64> = (0..arch.num_params())
            .map(|i| match i % 7 {
                0 => -(rng.gen_range(0.0f64..1.0) as f32 as f64),
                1 => (1u64 << 50) as f64 - 1.0,
                2 if spread => rng.gen_range(-1.0f64..1.0) * 2f64.powi(-190),
                _ => rng.gen_range(-1.0f64..1.0) as f32 as f64,
            })
            .collect();
        let rows: Vec<RowInts> = (0..nrows)
            .map(|r| {
                let x: Vec<f64> = (0..widths[0])
                    .map(|i| match (i + r) % 6 {
                        0 => -((1u64 << 52) as f64 - 1.0),
                        1 => (1u64 << 52) as f64 - 1.0,
                        2 => 0.0,
                        3 if spread => rng.gen_range(-1.0f64..1.0) * 2f64.powi(-170),
                        _ => rng.gen_range(-3.0f64..3.0),
                    })
                    .collect();
                RowInts::from_f64(&x, &vec![1.0; *widths.last().unwrap()]).unwrap()
            })
            .collect();
        check(&widths, &params, &rows);
    }
}

#[test]
fn offset_digits_and_places() {
    let v = ShiftedInt {
        neg: true,
        mant: 3,
        shift: 52,
    };
    // -(3 2^52) + 2^103 in base 2^52: digits (0, 2^51 - 3)
    let mut d = vec![0u64; 2];
    ifma::offset_digits(&v, 2, true, |t, x| d[t] = x);
    assert_eq!(d, vec![0, (1 << 51) - 3]);
    let v = ShiftedInt {
        neg: true,
        mant: 1,
        shift: 0,
    };
    ifma::offset_digits(&v, 2, true, |t, x| d[t] = x);
    assert_eq!(d, vec![(1 << 52) - 1, (1 << 51) - 1]);
    assert_eq!(
        ifma::places_to_bigint(&[5, 1], false),
        BigInt::from(5) + (BigInt::from(1) << 52)
    );
    assert_eq!(
        ifma::places_to_bigint(&[(1 << 52) - 1, (1 << 52) - 1], true),
        BigInt::from(-1)
    );
}

/// A double from a draw: zero, a small integer, an `f32`, or an `f32` scaled by a
/// power of two far from 1 (wide exponent spreads: many digits).
fn value(kind: u8, v: f64, e: i32) -> f64 {
    match kind % 5 {
        0 => 0.0,
        1 => (v * 4.0).round(),
        2 => v as f32 as f64 * 2f64.powi(e),
        _ => v as f32 as f64,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Both engines equal the rational forward pass on random networks: mixed
    /// magnitudes, negative inputs, exact ties (a neuron `x_0 - x_1` at `x_0 = x_1`),
    /// widths that are not multiples of 8, blocks of one row.
    #[test]
    fn engines_equal_the_rational_forward(
        hidden in proptest::collection::vec(1usize..21, 1..3),
        n0 in 2usize..7,
        outs in 1usize..3,
        pdraws in proptest::collection::vec((0u8..5, -1.0f64..1.0, -120i32..120), 600),
        rdraws in proptest::collection::vec((0u8..5, -2.0f64..2.0, -300i32..300), 1..8),
        tie in proptest::bool::ANY,
    ) {
        let mut widths = vec![n0];
        widths.extend(&hidden);
        widths.push(outs);
        let arch = Arch::new(widths.clone()).unwrap();
        let mut params: Vec<f64> = (0..arch.num_params())
            .map(|i| {
                let (k, v, e) = pdraws[i % pdraws.len()];
                value(k.wrapping_add((i / pdraws.len()) as u8), v, e)
            })
            .collect();
        if tie {
            for i in 0..n0 {
                params[arch.weight_index(1, 0, i)] = [1.0, -1.0].get(i).copied().unwrap_or(0.0);
            }
            params[arch.bias_index(1, 0)] = 0.0;
        }
        let rows: Vec<RowInts> = rdraws
            .iter()
            .enumerate()
            .map(|(r, &(k, v, e))| {
                let mut x: Vec<f64> =
                    (0..n0).map(|i| value(k.wrapping_add(i as u8), v - i as f64 * 0.3, e)).collect();
                if tie && r % 2 == 0 {
                    x[1] = x[0];
                }
                RowInts::from_f64(&x, &vec![v; outs]).unwrap()
            })
            .collect();
        check(&widths, &params, &rows);
    }
}

/// `RowInts::from_f64` gives `x_i = X_i 2^p` exactly (zeros, signed zeros, subnormals,
/// both ends of the range), with `p` the lowest exponent and every shift non-negative;
/// a value that is not finite gives `None`.
#[test]
fn row_ints_from_f64_are_the_values() {
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        f64::from_bits(1),
        -f64::from_bits(3),
        f64::MIN_POSITIVE,
        0.1,
        -(1.0 / 3.0),
        1e300,
        12345.678,
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for case in 0..400 {
        let len = rng.gen_range(1..9);
        let mut pick = |_| {
            if rng.gen_bool(0.3) {
                specials[rng.gen_range(0..specials.len())]
            } else {
                let v = rng.gen_range(-1.0f64..1.0) as f32 as f64;
                v * 2f64.powi(rng.gen_range(-40..40))
            }
        };
        let x: Vec<f64> = (0..len).map(&mut pick).collect();
        let y: Vec<f64> = (0..2).map(&mut pick).collect();
        let spread = x
            .iter()
            .chain(&y)
            .filter_map(|&v| dyadic_f64(v).map(|(_, _, e)| e))
            .fold((i64::MAX, i64::MIN), |(lo, hi), e| (lo.min(e), hi.max(e)));
        let Some(row) = RowInts::from_f64(&x, &y) else {
            assert!(spread.1 - spread.0 > 64 * 32, "case {case}: {x:?} {y:?}");
            continue;
        };
        assert_eq!(row.d, 1);
        assert_eq!(row.p, spread.0.min(0), "case {case}");
        for (i, v) in x.iter().enumerate() {
            assert_eq!(
                row.x_value(i),
                rational_from_f64(*v).unwrap(),
                "case {case}"
            );
        }
        for (o, v) in y.iter().enumerate() {
            assert_eq!(
                row.y_value(o),
                rational_from_f64(*v).unwrap(),
                "case {case}"
            );
        }
        for v in row.x.iter().chain(&row.y) {
            if v.mant == 0 {
                assert_eq!(
                    (v.shift, v.neg),
                    (0, false),
                    "case {case}: a zero is plain 0"
                );
            }
        }
    }
    assert!(RowInts::from_f64(&[1.0, f64::NAN], &[0.0]).is_none());
    assert!(RowInts::from_f64(&[1.0], &[f64::INFINITY]).is_none());
    // the widest spread a double allows (2^971 down to 2^-1074) still fits the engine
    let wide = RowInts::from_f64(&[f64::MAX, f64::from_bits(1)], &[-0.0]).unwrap();
    assert_eq!(wide.p, -1074);
    assert_eq!(wide.x_value(0), rational_from_f64(f64::MAX).unwrap());
    assert_eq!(
        wide.x_value(1),
        rational_from_f64(f64::from_bits(1)).unwrap()
    );
}
