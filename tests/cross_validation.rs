//! Property tests: the f64 and exact paths agree; the exact gradient equals the exact
//! central difference along lines where no activation pattern changes.

mod common;
use common::q;
use deadrelu::data::Dataset;
use deadrelu::net::{Arch, Network};
use deadrelu::prec::F64_AGREEMENT;
use deadrelu::scalar::{BigRational, Scalar};
use proptest::prelude::*;

/// A random small architecture, dyadic parameters (i/64) and dyadic data.
fn case() -> impl Strategy<Value = (Vec<usize>, Vec<i32>, Vec<i32>, Vec<i32>)> {
    (
        1usize..=3,
        prop::collection::vec(1usize..=4, 1..=3),
        1usize..=2,
    )
        .prop_flat_map(|(d, hidden, o)| {
            let mut widths = vec![d];
            widths.extend(hidden);
            widths.push(o);
            let n = Arch::new(widths.clone()).unwrap().num_params();
            let points = 4;
            (
                Just(widths),
                prop::collection::vec(-96i32..=96, n),
                prop::collection::vec(-64i32..=64, points * d),
                prop::collection::vec(-64i32..=64, points * o),
            )
        })
}

/// The network with parameters `p/64` and data `x/32` (dyadic: exact in `f64` too).
fn build(
    widths: &[usize],
    p: &[i32],
    xs: &[i32],
    ys: &[i32],
) -> (Network<BigRational>, Dataset<BigRational>) {
    build_over(widths, p, xs, ys, (64, 32))
}

/// The network with parameters `p/dp` and data `x/dx`, for `(dp, dx) = dens`.
fn build_over(
    widths: &[usize],
    p: &[i32],
    xs: &[i32],
    ys: &[i32],
    (dp, dx): (i64, i64),
) -> (Network<BigRational>, Dataset<BigRational>) {
    let arch = Arch::new(widths.to_vec()).unwrap();
    let (d, o) = (arch.inputs(), arch.outputs());
    let net = Network::new(arch, p.iter().map(|&v| q(v as i64, dp)).collect()).unwrap();
    let rows = |v: &[i32], w: usize| {
        v.chunks(w)
            .map(|c| c.iter().map(|&a| q(a as i64, dx)).collect())
            .collect()
    };
    (net, Dataset::from_rows(rows(xs, d), rows(ys, o)).unwrap())
}

fn close(f: f64, e: &BigRational) -> bool {
    let e = e.to_f64();
    (f - e).abs() <= F64_AGREEMENT * (1.0 + e.abs())
}

/// The activation pattern (z > 0) of every hidden neuron at every point, per layer.
fn patterns<S: Scalar>(net: &Network<S>, data: &Dataset<S>, upto: usize) -> Vec<bool> {
    (0..data.len())
        .flat_map(|m| {
            let pass = net.forward(data.x(m));
            pass.pre[..upto]
                .iter()
                .flatten()
                .map(|z| z.sign() == deadrelu::scalar::Sign::Positive)
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(128)))]

    /// Parameters `p/61` and data `x/31`: no non-zero value is a double, so the f64
    /// path rounds from its inputs on and agrees only to the tolerance.
    #[test]
    fn f64_agrees_with_exact((widths, p, xs, ys) in case()) {
        let (net, data) = build_over(&widths, &p, &xs, &ys, (61, 31));
        let (netf, dataf): (Network<f64>, Dataset<f64>) = (net.convert().unwrap(), data.convert().unwrap());
        let (re, ge) = net.risk_and_gradient(&data, None).unwrap();
        let (rf, gf) = netf.risk_and_gradient(&dataf, None).unwrap();
        prop_assert!(close(rf, &re), "risk {rf} vs {}", re);
        for (f, e) in gf.iter().zip(&ge) {
            prop_assert!(close(*f, e), "gradient {f} vs {}", e);
        }
        // the rounding bound of the very values computed covers the exact value, and
        // every sign it settles is the exact sign
        let ex = deadrelu::activity::F64Exactness::of_exact(&net, &data);
        let bn = deadrelu::net::batch::BatchNet::from_f64(net.arch().clone(), netf.params().to_vec(), ex.params.clone()).unwrap();
        for m in 0..data.len() {
            let (pe, pf) = (net.forward(data.x(m)), netf.forward(dataf.x(m)));
            let mut a: Vec<f64> = dataf.x(m).to_vec();
            let mut e_a: Option<Vec<f64>> = None;
            for (k, (le, lf)) in pe.pre.iter().zip(&pf.pre).enumerate() {
                let e = bn.point_bound(k + 1, &a, e_a.as_deref(), ex.rows[m], lf);
                for ((ze, zf), ev) in le.iter().zip(lf).zip(&e) {
                    let err = (ze - deadrelu::scalar::rational_from_f64(*zf).unwrap()).abs();
                    prop_assert!(err <= deadrelu::scalar::rational_from_f64(*ev).unwrap());
                    let s = deadrelu::net::batch::decide(*zf, *ev);
                    if s != deadrelu::scalar::Sign::Undecided {
                        prop_assert_eq!(ze.sign(), s);
                    }
                }
                a = lf.iter().map(|&v| v.max(0.0)).collect();
                e_a = Some(lf.iter().zip(&e).map(|(&v, &ev)| deadrelu::net::batch::activation_error(v, ev)).collect());
            }
        }
    }

    #[test]
    fn gradient_equals_central_difference((widths, p, xs, ys) in case(), layer_pick in 0usize..8, dir in prop::collection::vec(-8i32..=8, 64)) {
        let (net, data) = build(&widths, &p, &xs, &ys);
        let arch = net.arch().clone();
        let layer = 1 + layer_pick % arch.depth();
        let range = arch.layer_range(layer);
        let mut v = vec![q(0, 1); arch.num_params()];
        for (slot, d) in v[range].iter_mut().zip(dir.iter().cycle()) {
            *slot = q(*d as i64, 8);
        }
        let (_, grad) = net.risk_and_gradient(&data, None).unwrap();
        let directional = grad.iter().zip(&v).fold(q(0, 1), |acc, (g, d)| acc + g * d);
        let shifted = |t: &BigRational| Network::new(arch.clone(), net.params().iter().zip(&v).map(|(a, d)| a + t * d).collect()).unwrap();
        // Only layer `layer` moves, so every pre-activation is affine in t while the
        // patterns stay fixed; equal patterns at t = -h, 0, h prove they are fixed.
        let base = patterns(&net, &data, arch.depth() - 1);
        let mut checked = false;
        for k in 4..40 {
            let h = q(1, 1i64 << k);
            let (plus, minus) = (shifted(&h), shifted(&-h.clone()));
            if patterns(&plus, &data, arch.depth() - 1) == base && patterns(&minus, &data, arch.depth() - 1) == base {
                let diff = (plus.risk(&data, None).unwrap() - minus.risk(&data, None).unwrap()) / (q(2, 1) * &h);
                prop_assert_eq!(diff, directional.clone());
                checked = true;
                break;
            }
        }
        // A tie z = 0 at t = 0 that a line crosses leaves no interval of fixed pattern.
        prop_assume!(checked);
    }
}

#[cfg(feature = "gmp")]
proptest! {
    #[test]
    fn rug_agrees_exactly_with_bigrational((widths, p, xs, ys) in case()) {
        let (net, data) = build(&widths, &p, &xs, &ys);
        let (netg, datag): (Network<rug::Rational>, Dataset<rug::Rational>) = (net.convert().unwrap(), data.convert().unwrap());
        let (re, ge) = net.risk_and_gradient(&data, None).unwrap();
        let (rg, gg) = netg.risk_and_gradient(&datag, None).unwrap();
        prop_assert_eq!(rg.to_rational().unwrap(), re);
        for (g, e) in gg.iter().zip(&ge) {
            prop_assert_eq!(&g.to_rational().unwrap(), e);
        }
    }
}
