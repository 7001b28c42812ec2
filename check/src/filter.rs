//! Float-filtered signs: the dead layer's pre-activations in f64 with a proven error
//! bound; only a sign the bound does not settle goes to the exact pass.
//!
//! Soundness. Every exact number `q` is read as a float `q~` with a bound `|q - q~| <= e`
//! ([`approx`], [`approx_small`]); the bound is a power of two computed from the exact
//! residual's bit lengths, so it does not trust the float conversion. For a neuron with
//! inputs `a~` (bounds `e`), weights `w~` (bounds `ew`) and bias `b~` (bound `eb`), the
//! float pass computes `s = fl(b~ + sum w~_i a~_i)`, `t = fl(|b~| + sum |w~_i| |a~_i|)` and
//! `c = fl(eb + sum ew_i (|a~_i| + e_i) + |w~_i| e_i)`, in any summation order. With
//! `u = 2^-53`, `eta = 2^-1074` (the absolute error of a product in the subnormal range)
//! and `gamma_m = m u / (1 - m u)` (Higham, Accuracy and Stability of Numerical
//! Algorithms, 2nd ed., Lemma 3.1 and eq. (3.5)), the exact pre-activation `z` satisfies
//! `|z - s| <= C + gamma_{n+1} T + (n+1) eta`, where `T` and `C` are the exact values of
//! the sums `t` and `c` (`w a - w~ a~ = (w - w~) a + w~ (a - a~)` and `|a| <= |a~| + e`).
//! Since `t`, `c` are sums of non-negative terms, `T <= t (1 + 2 gamma_{n+1}) + n eta` and
//! `C <= c (1 + 2 gamma_{3n+1}) + 3n eta`. [`bound`] returns a float `E` at least the
//! sum of these, with `2 (n+1) u >= gamma_{n+1}` (valid while `(n+1) u <= 1/2`), a
//! relative slack `8 m u`, `m = 3n + 4`, covering the four roundings of the bound's own
//! evaluation, and `4 m eta` for the absolute terms. Then `s <= -E` proves `z <= 0` and
//! `s > E` proves `z > 0`; otherwise the sign is undecided. Any non-finite value (an
//! overflow) makes the sign undecided. ReLU is 1-Lipschitz, so the next layer's input
//! is `max(s, 0)` with bound `E`, or exactly 0 where `z <= 0` is proven.

const U: f64 = 1.0 / 9_007_199_254_740_992.0; // 2^-53
const ETA: f64 = f64::from_bits(1); // 2^-1074, the smallest subnormal

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

/// `2^e` as f64, `e` in `-1074..=1023`; smaller is `2^-1074` (an upper bound), larger
/// is infinity.
fn pow2_up(e: i64) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if e >= -1074 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        ETA
    }
}

fn is_pow2(d: &BigInt) -> bool {
    d.trailing_zeros() == Some(d.bits() - 1)
}

/// A float and a bound `e` with `|q - f| <= e` (`f` may be non-finite, then the bound is
/// infinite and every sign it touches is undecided).
pub fn approx(q: &BigRational) -> (f64, f64) {
    let (n, d) = (q.numer(), q.denom());
    if n.is_zero() {
        return (0.0, 0.0);
    }
    if n.bits() <= 53 && is_pow2(d) && d.bits() <= 1023 {
        // n / 2^s with |n| < 2^53 is exact unless it falls below the normal range
        let v = n.to_f64().unwrap_or(f64::NAN) * pow2_up(1 - d.bits() as i64);
        if v.is_finite() && v.abs() >= f64::MIN_POSITIVE {
            return (v, 0.0);
        }
    }
    let v = q.to_f64().unwrap_or(f64::NAN);
    if !v.is_finite() {
        return (f64::NAN, f64::INFINITY);
    }
    let Some(exact) = BigRational::from_float(v) else {
        return (f64::NAN, f64::INFINITY);
    };
    let r = q - exact;
    if r.is_zero() {
        return (v, 0.0);
    }
    // |r| < 2^bits(num) / 2^(bits(den) - 1)
    let e = r.numer().abs().bits() as i64 - r.denom().bits() as i64 + 1;
    (v, pow2_up(e))
}

/// [`approx`] of `p / q` for `|p|, q < 2^53` without big integers: the division is
/// correctly rounded, so the error is at most half an ulp, `<= 2^-53 |v|` for a normal
/// result and `<= 2^-1075` below; `(|v| 2^-52).next_up()` covers both.
pub fn approx_small(p: i64, q: u64) -> (f64, f64) {
    let v = p as f64 / q as f64;
    if q.is_power_of_two() && (v == 0.0 || v.abs() >= f64::MIN_POSITIVE) {
        return (v, 0.0);
    }
    (v, (v.abs() * (2.0 * 2.0 * U)).next_up())
}

/// The error bound `E` of the module docs for `n` products.
pub fn bound(n: usize, t: f64, c: f64) -> f64 {
    let m = 3.0 * n as f64 + 4.0;
    let g = 2.0 * (n as f64 + 1.0) * U;
    let e = ((c + g * t) * (1.0 + 8.0 * m * U)).next_up();
    (e + 4.0 * m * ETA).next_up()
}

/// One layer in floats: `w~` row-major, `|w~|`, the weights' bounds (`None`: all exact),
/// `b~` and its bounds.
#[derive(Debug, Clone)]
pub struct FloatLayer {
    rows: usize,
    cols: usize,
    w: Vec<f64>,
    w_abs: Vec<f64>,
    w_err: Option<Vec<f64>>,
    b: Vec<f64>,
    b_err: Vec<f64>,
}

impl FloatLayer {
    /// From the exact `W` (row-major, `rows x cols`) and `B`.
    pub fn new(rows: usize, cols: usize, w: &[BigRational], b: &[BigRational]) -> Self {
        let (w, w_err): (Vec<f64>, Vec<f64>) = w.iter().map(approx).unzip();
        let (b, b_err): (Vec<f64>, Vec<f64>) = b.iter().map(approx).unzip();
        let w_abs = w.iter().map(|v| v.abs()).collect();
        let w_err = w_err.iter().any(|e| *e != 0.0).then_some(w_err);
        Self {
            rows,
            cols,
            w,
            w_abs,
            w_err,
            b,
            b_err,
        }
    }
}

/// The sign of one neuron as far as the filter can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// `z <= 0` proven.
    NonPositive,
    /// `z > 0` proven.
    Positive,
    /// The bound does not settle it.
    Undecided,
}

fn dot4(w: &[f64], a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (wc, wr) = w.split_at(w.len() / 4 * 4);
    let (ac, ar) = a.split_at(wc.len());
    for (w4, a4) in wc.chunks_exact(4).zip(ac.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += w4[l] * a4[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in wr.iter().zip(ar) {
        s += x * y;
    }
    s
}

/// One layer in floats: for each neuron `(s, E)` and the next layer's input with bounds.
fn layer_pass(
    layer: &FloatLayer,
    a: &[f64],
    e: Option<&[f64]>,
    out_s: &mut Vec<f64>,
    out_e: &mut Vec<f64>,
) {
    let n = layer.cols;
    let a_abs: Vec<f64> = a.iter().map(|v| v.abs()).collect();
    out_s.clear();
    out_e.clear();
    for j in 0..layer.rows {
        let row = j * n..(j + 1) * n;
        let s = layer.b[j] + dot4(&layer.w[row.clone()], a);
        let t = layer.b[j].abs() + dot4(&layer.w_abs[row.clone()], &a_abs);
        let mut c = layer.b_err[j];
        if let Some(we) = &layer.w_err {
            c += dot4(&we[row.clone()], &a_abs);
            if let Some(e) = e {
                c += dot4(&we[row.clone()], e);
            }
        }
        if let Some(e) = e {
            c += dot4(&layer.w_abs[row], e);
        }
        out_s.push(s);
        out_e.push(bound(n, t, c));
    }
}

/// The signs of layer `k` (the last of `layers`) at the input `x` with bounds `xe`.
pub fn signs(layers: &[FloatLayer], x: &[f64], xe: Option<&[f64]>) -> Vec<Sign> {
    let (mut s, mut e) = (Vec::new(), Vec::new());
    let mut a: Vec<f64> = x.to_vec();
    let mut ae: Option<Vec<f64>> = xe.map(|v| v.to_vec());
    for (i, layer) in layers.iter().enumerate() {
        layer_pass(layer, &a, ae.as_deref(), &mut s, &mut e);
        if i + 1 == layers.len() {
            break;
        }
        a.clear();
        let mut next_e = Vec::with_capacity(s.len());
        for (&sj, &ej) in s.iter().zip(&e) {
            if sj <= -ej {
                a.push(0.0);
                next_e.push(0.0);
            } else {
                a.push(if sj > 0.0 { sj } else { 0.0 });
                next_e.push(ej);
            }
        }
        ae = next_e.iter().any(|v| *v != 0.0).then_some(next_e);
    }
    s.iter().zip(&e).map(|(&sj, &ej)| decide(sj, ej)).collect()
}

/// What the filter says about a layer at one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every neuron proven `<= 0`.
    Dead,
    /// This neuron proven `> 0`.
    Active(usize),
    /// Some sign needs the exact pass (and none is proven positive).
    Undecided,
}

/// [`signs`] summarized.
pub fn verdict(layers: &[FloatLayer], x: &[f64], xe: Option<&[f64]>) -> Verdict {
    summarize(&signs(layers, x, xe))
}

/// Points per block of [`verdicts`]: each weight row is read once per block.
pub const BLOCK: usize = 8;

/// [`signs`] for a block of points at once (the same values: each point's sums are
/// those of `layer_pass`, in the same order; the row of weights stays in cache while
/// the block's points use it).
pub fn signs_block(layers: &[FloatLayer], xs: &[&[f64]], xes: Option<&[&[f64]]>) -> Vec<Vec<Sign>> {
    let p = xs.len();
    let mut a: Vec<Vec<f64>> = xs.iter().map(|x| x.to_vec()).collect();
    let mut ae: Vec<Option<Vec<f64>>> = match xes {
        Some(e) => e.iter().map(|e| Some(e.to_vec())).collect(),
        None => vec![None; p],
    };
    let mut s: Vec<Vec<f64>> = vec![Vec::new(); p];
    let mut e: Vec<Vec<f64>> = vec![Vec::new(); p];
    for (li, layer) in layers.iter().enumerate() {
        let n = layer.cols;
        let a_abs: Vec<Vec<f64>> = a
            .iter()
            .map(|v| v.iter().map(|x| x.abs()).collect())
            .collect();
        for q in 0..p {
            s[q].clear();
            e[q].clear();
        }
        for j in 0..layer.rows {
            let row = j * n..(j + 1) * n;
            let (w, w_abs) = (&layer.w[row.clone()], &layer.w_abs[row.clone()]);
            let we = layer.w_err.as_ref().map(|we| &we[row]);
            for q in 0..p {
                let sj = layer.b[j] + dot4(w, &a[q]);
                let t = layer.b[j].abs() + dot4(w_abs, &a_abs[q]);
                let mut c = layer.b_err[j];
                if let Some(we) = we {
                    c += dot4(we, &a_abs[q]);
                    if let Some(eq) = &ae[q] {
                        c += dot4(we, eq);
                    }
                }
                if let Some(eq) = &ae[q] {
                    c += dot4(w_abs, eq);
                }
                s[q].push(sj);
                e[q].push(bound(n, t, c));
            }
        }
        if li + 1 == layers.len() {
            break;
        }
        for q in 0..p {
            a[q].clear();
            let mut next_e = Vec::with_capacity(s[q].len());
            for (&sj, &ej) in s[q].iter().zip(&e[q]) {
                if sj <= -ej {
                    a[q].push(0.0);
                    next_e.push(0.0);
                } else {
                    a[q].push(if sj > 0.0 { sj } else { 0.0 });
                    next_e.push(ej);
                }
            }
            ae[q] = next_e.iter().any(|v| *v != 0.0).then_some(next_e);
        }
    }
    s.iter()
        .zip(&e)
        .map(|(s, e)| s.iter().zip(e).map(|(&sj, &ej)| decide(sj, ej)).collect())
        .collect()
}

fn decide(sj: f64, ej: f64) -> Sign {
    if !(sj.is_finite() && ej.is_finite()) {
        Sign::Undecided
    } else if sj <= -ej {
        Sign::NonPositive
    } else if sj > ej {
        Sign::Positive
    } else {
        Sign::Undecided
    }
}

fn summarize(s: &[Sign]) -> Verdict {
    if let Some(j) = s.iter().position(|v| *v == Sign::Positive) {
        Verdict::Active(j)
    } else if s.contains(&Sign::Undecided) {
        Verdict::Undecided
    } else {
        Verdict::Dead
    }
}

/// Rows `first..first + len` of the row-major `v` with rows of `d`.
fn rows(v: &[f64], first: usize, len: usize, d: usize) -> Vec<&[f64]> {
    (first..first + len)
        .map(|m| &v[m * d..(m + 1) * d])
        .collect()
}

/// The threads the checker's loops over points use: one per core, at most 64.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 64)
}

/// [`verdict`] for every point (`x` holds `points` rows of `d`), on all cores, in blocks
/// of [`BLOCK`] points; the result is the same for any thread count.
pub fn verdicts(layers: &[FloatLayer], d: usize, x: &[f64], xe: Option<&[f64]>) -> Vec<Verdict> {
    let points = x.len().checked_div(d).unwrap_or(0);
    let per = points.div_ceil(threads()).max(1);
    let mut out = vec![Verdict::Undecided; points];
    std::thread::scope(|scope| {
        for (c, chunk) in out.chunks_mut(per).enumerate() {
            scope.spawn(move || {
                for (b, slots) in chunk.chunks_mut(BLOCK).enumerate() {
                    let first = c * per + b * BLOCK;
                    let xs = rows(x, first, slots.len(), d);
                    let es = xe.map(|e| rows(e, first, slots.len(), d));
                    let signs = signs_block(layers, &xs, es.as_deref());
                    for (slot, s) in slots.iter_mut().zip(&signs) {
                        *slot = summarize(s);
                    }
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn approximations_enclose() {
        for v in [
            q(1, 3),
            q(-2, 3),
            q(1, 1 << 40),
            q(7, 10),
            q(123_456_789, 1),
        ] {
            let (f, e) = approx(&v);
            let diff = (v.clone() - BigRational::from_float(f).unwrap()).abs();
            assert!(diff <= BigRational::from_float(e).unwrap(), "{v}");
        }
        assert_eq!(approx(&q(3, 8)), (0.375, 0.0));
        let tiny = BigRational::new(1.into(), num_traits::pow(BigInt::from(2), 1100));
        let (f, e) = approx(&tiny);
        assert!(f >= 0.0 && e > 0.0);
        let (f, e) = approx_small(1, 3);
        assert!(((1.0 / 3.0) - f).abs() <= e && e < 1e-15);
        assert_eq!(approx_small(-3, 16), (-0.1875, 0.0));
    }

    /// The issue 15 item 6 case: f64 gets the sign wrong, the filter says undecided.
    #[test]
    fn near_tie_is_undecided_not_wrong() {
        let p2 = |e: i32| BigRational::from_float(2f64.powi(e)).unwrap();
        let w = vec![
            p2(27),
            q(7, 1) * p2(-29),
            q(7, 1) * p2(-29),
            -(p2(27) + p2(-25)),
        ];
        let b = vec![q(7, 1) * p2(-29)];
        let layer = FloatLayer::new(1, 4, &w, &b);
        let x = [1.0, 1.0, 1.0, 1.0];
        assert_eq!(signs(&[layer], &x, None), vec![Sign::Undecided]);
    }

    /// The blocked pass gives every point the signs of the single-point pass.
    #[test]
    fn blocks_equal_single_points() {
        let w: Vec<BigRational> = (0..12).map(|i| q((i * 5) % 7 - 3, 1 + i % 4)).collect();
        let b = vec![q(1, 3), q(-1, 2), q(0, 1)];
        let l1 = FloatLayer::new(3, 4, &w, &b);
        let l2 = FloatLayer::new(1, 3, &w[..3], &[q(-1, 5)]);
        let layers = [l1, l2];
        let xs: Vec<Vec<f64>> = (0..11)
            .map(|m| {
                (0..4)
                    .map(|i| ((m * 3 + i * 7) % 9) as f64 / 4.0 - 1.0)
                    .collect()
            })
            .collect();
        let es: Vec<Vec<f64>> = xs
            .iter()
            .map(|x| x.iter().map(|v| v.abs() * 1e-9).collect())
            .collect();
        let refs: Vec<&[f64]> = xs.iter().map(|v| &v[..]).collect();
        let erefs: Vec<&[f64]> = es.iter().map(|v| &v[..]).collect();
        let blocked = signs_block(&layers, &refs, Some(&erefs));
        for m in 0..xs.len() {
            assert_eq!(blocked[m], signs(&layers, &xs[m], Some(&es[m])));
        }
        let flat: Vec<f64> = xs.concat();
        let all = verdicts(&layers, 4, &flat, None);
        for m in 0..xs.len() {
            assert_eq!(all[m], verdict(&layers, &xs[m], None));
        }
    }

    #[test]
    fn clear_signs_are_decided() {
        let w = vec![q(1, 2), q(-1, 3)];
        let layer = FloatLayer::new(1, 2, &w, &[q(-1, 10)]);
        assert_eq!(
            signs(std::slice::from_ref(&layer), &[0.0, 0.0], None),
            vec![Sign::NonPositive]
        );
        assert_eq!(signs(&[layer], &[1.0, 0.0], None), vec![Sign::Positive]);
    }
}
