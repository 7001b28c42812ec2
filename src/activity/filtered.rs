//! Exact activity at float speed: a floating-point filter with exact fallback (the
//! filtered kernels of CGAL, Shewchuk's adaptive predicates).
//!
//! Every pre-activation is first computed in `f64` together with a rigorous bound `e` on
//! its distance to the exact rational value. A sign the enclosure `[z^ - e, z^ + e]`
//! settles is final; only where it contains 0 is the point recomputed exactly, by the
//! integer engine of [`super::exact_dyadic`]. The result is the one of
//! [`super::activity_on_data`] on exact rationals, decision for decision.
//!
//! # The bound (an a-priori bound per dot product, not interval arithmetic)
//! Each parameter and input `v` is converted once to its nearest double `v^` (correctly
//! rounded); `|v - v^|` is 0 when `v` is a dyadic that fits a normal double (all `f32`
//! and `f64` values), and at most the gap `next_up(|v^|) - |v^|` otherwise (`1/3`, `0.1`,
//! subnormal results). For one pre-activation with `n` inputs, computed in any fixed order
//! with IEEE round-to-nearest,
//!
//! ```text
//! z^ = fl(b^ + sum_i w^_i a^_i),   s^ = fl(|b^| + sum_i |w^_i| |a^_i|)
//! |z^ - (b^ + sum w^ a^)| <= g (s^ + t) + 2t,     g = gamma_m / (1 - gamma_m),  m = n + 16,
//! gamma_m = m u / (1 - m u),  u = 2^-53,  t = n 2^-1074 (underflow: each product may lose
//! up to 2^-1075 absolutely, additions of subnormals are exact)
//! |(b^ + sum w^ a^) - (b + sum w a)| <= e_b + sum_i |w^_i| e_a + e_w (sum_i |a^_i| + n e_a)
//! ```
//!
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., (3.5) and
//! section 2.1 for underflow), with `e_a` the largest error of the layer's inputs and `e_w`
//! the largest conversion error of the layer's weights. The bound itself is evaluated
//! in `f64` with every operation rounded up (the result of each non-negative operation
//! is followed by `next_up`), so the computed `e` is at least the true bound. ReLU is
//! 1-Lipschitz, so an input's error is its pre-activation's; a pre-activation proven
//! `<= 0` gives the input `0` with error `0` (so the layers after a dead layer are exact
//! again). A NaN or an infinity anywhere (overflow) leaves the sign undecided, and the
//! exact engine decides.

use super::exact_dyadic::{ExactNet, ExactPoint};
use super::{Activity, NeuronStatus};
use crate::data::Dataset;
use crate::net::{NetError, Network};
use crate::scalar::BigRational;
use num_traits::ToPrimitive;
use rayon::prelude::*;

/// `u = 2^-53`, the unit roundoff of `f64`.
const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;
/// The smallest positive subnormal, `2^-1074`.
const TINY: f64 = 4.9406564584124654e-324;

/// `x` rounded up by one step (an upper bound of the exact result of the operation that
/// produced `x` under round-to-nearest, for non-negative finite values).
fn up(x: f64) -> f64 {
    x.next_up()
}

/// The nearest `f64` to `q` and a bound on `|q - v|` (`0` when exact, infinite on
/// overflow).
pub fn to_f64_with_error(q: &BigRational) -> (f64, f64) {
    let v = q.to_f64().unwrap_or(f64::NAN);
    if !v.is_finite() {
        return (v, f64::INFINITY);
    }
    let d = q.denom();
    let tz = d.trailing_zeros().unwrap_or(0);
    let dyadic = (d >> tz as usize) == num_bigint::BigInt::from(1);
    let exact = dyadic && q.numer().bits() <= 53 && (v == 0.0 || v.abs() >= f64::MIN_POSITIVE);
    if exact {
        return (v, 0.0);
    }
    let a = v.abs();
    (v, a.next_up() - a)
}

/// Most roundings a product term of a dot product with `n` inputs passes through in
/// [`dot_and_abs`] plus the bias: its multiplication, at most `n` additions in its lane
/// (the remainder goes to lane 0), 7 to add the lanes, 1 for the bias; `n + 16` bounds it.
fn roundings(n: usize) -> usize {
    n + 16
}

/// `g >= gamma_m / (1 - gamma_m) = m u / (1 - 2 m u)`, rounded up, for `m` roundings
/// ([`roundings`]).
fn gamma_factor(n: usize) -> f64 {
    let mu = up(roundings(n) as f64 * UNIT_ROUNDOFF);
    let denominator = (1.0 - 2.0 * mu).next_down();
    if denominator <= 0.5 {
        return f64::INFINITY;
    }
    up(mu / denominator)
}

struct FloatLayer {
    rows: usize,
    cols: usize,
    w: Vec<f64>,
    /// Upper bound of `sum_i |w^_ji|` per row.
    row_abs: Vec<f64>,
    /// Largest conversion error of a weight.
    w_err: f64,
    b: Vec<f64>,
    b_err: Vec<f64>,
    /// [`gamma_factor`] of `cols`.
    g: f64,
    /// `n 2^-1074`.
    t: f64,
}

/// The `f64` images of a network's parameters, with their conversion errors.
pub struct FloatNet {
    layers: Vec<FloatLayer>,
}

impl FloatNet {
    /// Converts `net` once.
    pub fn new(net: &Network<BigRational>) -> Self {
        let arch = net.arch();
        let p = net.params();
        let layers = (1..=arch.depth())
            .map(|k| {
                let (rows, cols) = (arch.width(k), arch.width(k - 1));
                let (w, b) = p[arch.layer_range(k)].split_at(rows * cols);
                let wc: Vec<(f64, f64)> = w.iter().map(to_f64_with_error).collect();
                let bc: Vec<(f64, f64)> = b.iter().map(to_f64_with_error).collect();
                let w_err = wc.iter().fold(0.0f64, |m, (_, e)| m.max(*e));
                let w: Vec<f64> = wc.into_iter().map(|(v, _)| v).collect();
                let g = gamma_factor(cols);
                let row_abs = w
                    .chunks(cols)
                    .map(|row| {
                        let s = row.iter().fold(0.0f64, |acc, v| acc + v.abs());
                        up(up(s * up(1.0 + g)) + (cols as f64) * TINY)
                    })
                    .collect();
                FloatLayer {
                    rows,
                    cols,
                    w,
                    row_abs,
                    w_err,
                    b: bc.iter().map(|(v, _)| *v).collect(),
                    b_err: bc.iter().map(|(_, e)| *e).collect(),
                    g,
                    t: (cols as f64) * TINY,
                }
            })
            .collect();
        Self { layers }
    }
}

/// The decision of one pre-activation's sign by its enclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decided {
    Positive,
    NonPositive { zero: bool },
    Open,
}

fn decide(z: f64, e: f64) -> Decided {
    if !(z.is_finite() && e.is_finite()) {
        return Decided::Open;
    }
    if z > e {
        Decided::Positive
    } else if z < -e {
        Decided::NonPositive { zero: false }
    } else if z == 0.0 && e == 0.0 {
        Decided::NonPositive { zero: true }
    } else {
        Decided::Open
    }
}

/// What one point contributes.
struct PointOutcome {
    /// `positive[h]` for every hidden neuron, layers concatenated.
    positive: Vec<bool>,
    ties: usize,
    fallbacks: usize,
    /// `(z^, e)` of every output.
    output: Vec<(f64, f64)>,
}

/// The filtered exact activity and how much of it needed exact arithmetic.
#[derive(Debug, Clone)]
pub struct FilteredActivity {
    /// Identical to [`super::activity_on_data`] on exact rationals.
    pub activity: Activity,
    /// Decisions the `f64` enclosure did not settle and exact arithmetic did: signs of
    /// hidden pre-activations, and comparisons of outputs between points.
    pub exact_fallbacks: usize,
}

/// The filtered exact engine for one network: its `f64` image and its exact form.
pub struct Filter<'a> {
    net: &'a Network<BigRational>,
    float: FloatNet,
    exact: ExactNet,
}

impl<'a> Filter<'a> {
    /// Prepares `net`.
    pub fn new(net: &'a Network<BigRational>) -> Self {
        Self {
            net,
            float: FloatNet::new(net),
            exact: ExactNet::new(net),
        }
    }

    fn exact_at(&self, x: &[BigRational], state: &mut Option<ExactPoint>, k: usize) {
        let p = state.get_or_insert_with(|| self.exact.start(x));
        while p.layer < k {
            self.exact.advance(p);
        }
    }

    /// One point: every hidden sign decided (exactly), outputs enclosed.
    fn point(&self, x: &[BigRational]) -> PointOutcome {
        let depth = self.float.layers.len();
        let mut input: Vec<f64> = Vec::with_capacity(x.len());
        let mut input_err = 0.0f64;
        for q in x {
            let (v, e) = to_f64_with_error(q);
            input.push(v);
            input_err = input_err.max(e);
        }
        let hidden: usize = self.float.layers[..depth - 1].iter().map(|l| l.rows).sum();
        let mut out = PointOutcome {
            positive: Vec::with_capacity(hidden),
            ties: 0,
            fallbacks: 0,
            output: Vec::new(),
        };
        let mut exact: Option<ExactPoint> = None;
        for (li, layer) in self.float.layers.iter().enumerate() {
            let k = li + 1;
            let n = layer.cols;
            let extra = if layer.w_err > 0.0 {
                let s = input.iter().fold(0.0f64, |acc, v| acc + v.abs());
                let s = up(up(s * up(1.0 + layer.g)) + layer.t);
                up(layer.w_err * up(s + up((n as f64) * input_err)))
            } else {
                0.0
            };
            let mut next = Vec::with_capacity(layer.rows);
            let mut next_err = 0.0f64;
            for j in 0..layer.rows {
                let row = &layer.w[j * n..(j + 1) * n];
                let (dot, abs) = dot_and_abs(row, &input);
                let z = dot + layer.b[j];
                let s = abs + layer.b[j].abs();
                let rounding = up(up(layer.g * up(s + layer.t)) + 2.0 * layer.t);
                let propagated = up(up(up(layer.row_abs[j] * input_err) + layer.b_err[j]) + extra);
                let e = up(rounding + propagated);
                if k == depth {
                    out.output.push((z, e));
                    continue;
                }
                let decided = match decide(z, e) {
                    Decided::Open => {
                        out.fallbacks += 1;
                        self.exact_at(x, &mut exact, k);
                        let p = exact.as_ref().expect("just computed");
                        match p.signum(j) {
                            1 => {
                                // the exact value gives a tighter input for the next layer
                                let (v, ve) = to_f64_with_error(&p.value(j));
                                out.positive.push(true);
                                next.push(v);
                                next_err = next_err.max(ve);
                                continue;
                            }
                            0 => Decided::NonPositive { zero: true },
                            _ => Decided::NonPositive { zero: false },
                        }
                    }
                    d => d,
                };
                match decided {
                    Decided::Positive => {
                        out.positive.push(true);
                        next.push(z);
                        next_err = next_err.max(e);
                    }
                    Decided::NonPositive { zero } => {
                        out.ties += usize::from(zero);
                        out.positive.push(false);
                        next.push(0.0);
                    }
                    Decided::Open => unreachable!("settled above"),
                }
            }
            input = next;
            input_err = next_err;
        }
        out
    }

    /// The exact output at `x`.
    pub fn exact_output(&self, x: &[BigRational]) -> Vec<BigRational> {
        self.exact.output(x)
    }

    /// The activity of the network on `data`, decided exactly.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the inputs do not fit the architecture.
    pub fn activity(&self, data: &Dataset<BigRational>) -> Result<FilteredActivity, NetError> {
        self.activity_with_progress(data, |_| {})
    }

    /// As [`Filter::activity`], calling `progress(points)` as blocks of points finish.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the inputs do not fit the architecture.
    pub fn activity_with_progress(
        &self,
        data: &Dataset<BigRational>,
        progress: impl Fn(usize) + Sync,
    ) -> Result<FilteredActivity, NetError> {
        let arch = self.net.arch();
        if data.inputs() != arch.inputs() {
            return Err(NetError::DataShape {
                what: "inputs",
                expected: arch.inputs(),
                got: data.inputs(),
            });
        }
        const BLOCK: usize = 64;
        let outcomes: Vec<PointOutcome> = (0..data.len())
            .collect::<Vec<_>>()
            .par_chunks(BLOCK)
            .flat_map_iter(|block| {
                let done: Vec<PointOutcome> = block.iter().map(|&m| self.point(data.x(m))).collect();
                progress(block.len());
                done
            })
            .collect();
        let widths: Vec<usize> = arch.hidden_layers().map(|k| arch.width(k)).collect();
        let hidden: usize = widths.iter().sum();
        let mut positive = vec![false; hidden];
        let (mut ties, mut fallbacks) = (0, 0);
        for o in &outcomes {
            for (p, &q) in positive.iter_mut().zip(&o.positive) {
                *p |= q;
            }
            ties += o.ties;
            fallbacks += o.fallbacks;
        }
        let mut status = Vec::with_capacity(widths.len());
        let mut at = 0;
        for w in widths {
            status.push(
                positive[at..at + w]
                    .iter()
                    .map(|&p| {
                        if p {
                            NeuronStatus::Active
                        } else {
                            NeuronStatus::Inactive
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            at += w;
        }
        let dead = status
            .iter()
            .any(|l| l.iter().all(|s| *s == NeuronStatus::Inactive));
        let outputs_identical = if dead {
            // fact 1: a layer inactive at every point gives every point the same output
            true
        } else {
            let (same, exact_comparisons) = self.outputs_identical(data, &outcomes);
            fallbacks += exact_comparisons;
            same
        };
        Ok(FilteredActivity {
            activity: Activity {
                status,
                exact_ties: ties,
                near_tie_count: 0,
                near_ties: Vec::new(),
                outputs_identical,
            },
            exact_fallbacks: fallbacks,
        })
    }

    /// Whether every output equals the first point's, and how many comparisons needed the
    /// exact outputs.
    fn outputs_identical(
        &self,
        data: &Dataset<BigRational>,
        outcomes: &[PointOutcome],
    ) -> (bool, usize) {
        let first = &outcomes[0].output;
        let mut first_exact: Option<Vec<BigRational>> = None;
        let mut exact_comparisons = 0;
        for (m, o) in outcomes.iter().enumerate().skip(1) {
            let separated = first.iter().zip(&o.output).any(|(&(z0, e0), &(z1, e1))| {
                let apart = |za: f64, ea: f64, zb: f64, eb: f64| {
                    let lo = (za - ea).next_down();
                    let hi = (zb + eb).next_up();
                    lo.is_finite() && hi.is_finite() && lo > hi
                };
                apart(z0, e0, z1, e1) || apart(z1, e1, z0, e0)
            });
            if separated {
                return (false, exact_comparisons);
            }
            exact_comparisons += 1;
            let a = first_exact.get_or_insert_with(|| self.exact_output(data.x(0)));
            if *a != self.exact_output(data.x(m)) {
                return (false, exact_comparisons);
            }
        }
        (true, exact_comparisons)
    }
}

/// `fl(sum_i w_i a_i)` and `fl(sum_i |w_i a_i|)`, in a fixed order (eight interleaved
/// partial sums, then their sum left to right): deterministic, and every term passes
/// through at most `n` additions, so the bound of the module docs holds.
fn dot_and_abs(w: &[f64], a: &[f64]) -> (f64, f64) {
    const LANES: usize = 8;
    let mut s = [0.0f64; LANES];
    let mut t = [0.0f64; LANES];
    let chunks = w.len() / LANES;
    for c in 0..chunks {
        let (wc, ac) = (&w[c * LANES..(c + 1) * LANES], &a[c * LANES..(c + 1) * LANES]);
        for l in 0..LANES {
            let p = wc[l] * ac[l];
            s[l] += p;
            t[l] += p.abs();
        }
    }
    for i in chunks * LANES..w.len() {
        let p = w[i] * a[i];
        s[0] += p;
        t[0] += p.abs();
    }
    (s.iter().sum(), t.iter().sum())
}

/// The filtered exact activity of `net` on `data` (see the module docs).
///
/// # Errors
/// [`NetError::DataShape`] if the inputs do not fit the architecture.
pub fn filtered_activity(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<FilteredActivity, NetError> {
    Filter::new(net).activity(data)
}
