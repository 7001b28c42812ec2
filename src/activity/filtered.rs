//! Exact activity at float speed: a floating-point filter with exact fallback (the
//! filtered kernels of CGAL, Shewchuk's adaptive predicates).
//!
//! Every pre-activation is first computed in `f64` together with a rigorous bound `e` on
//! its distance to the exact rational value. A sign the enclosure `[z^ - e, z^ + e]`
//! settles is final; only where it contains 0 is the point recomputed exactly, by the
//! integer engine of [`super::exact_dyadic`]. The result is the one of
//! [`super::activity_on_data`] on exact rationals, decision for decision.
//!
//! # The bound
//! The enclosures come from the batched `f64` forward pass of [`crate::net::batch`]
//! (matrix products over blocks of points, with a proven a-priori bound per
//! pre-activation: Higham's `gamma_{n+1}`, conversion errors of values that are not
//! doubles, underflow, and `e = +inf` on overflow; see its module docs for the proof).
//! Its signs `Positive`, `Negative` and `Zero` are final for the exact network; every
//! `Undecided` sign of a hidden pre-activation is settled here by the exact engine, one
//! point at a time, and counted in [`FilteredActivity::exact_fallbacks`].

use super::exact_dyadic::{ExactNet, ExactPoint, dyadic_parts};
use super::{Activity, NeuronStatus};
use crate::data::Dataset;
use crate::net::batch::{BatchNet, BatchPass, InputExactness, forward};
use crate::net::{NetError, Network};
use crate::scalar::{BigRational, Sign};
use ndarray::Array2;
use num_bigint::BigInt;
use num_traits::{One, ToPrimitive, Zero};
use rayon::prelude::*;

/// The nearest `f64` to `q` and whether it is `q` exactly.
pub fn to_f64_exactly(q: &BigRational) -> (f64, bool) {
    // fast path: n / 2^s with |n| < 2^53 and s <= 1022 is n * 2^-s, exact when normal
    let (n, d) = (q.numer(), q.denom());
    let s = d.trailing_zeros().unwrap_or(0);
    if d.bits() == s + 1
        && s <= 1022
        && let Some(i) = n.to_i64().filter(|i| i.unsigned_abs() < 1 << 53)
    {
        let v = i as f64 * f64::from_bits((1023 - s) << 52);
        if v == 0.0 || v.abs() >= f64::MIN_POSITIVE {
            return (v, true);
        }
    }
    let v = q.to_f64().unwrap_or(f64::NAN);
    let d = q.denom();
    let tz = d.trailing_zeros().unwrap_or(0);
    let dyadic = (d >> tz as usize).is_one();
    let exact = v.is_finite()
        && dyadic
        && q.numer().bits() <= 53
        && (v == 0.0 || v.abs() >= f64::MIN_POSITIVE);
    (v, exact)
}

/// What one point contributes.
struct PointOutcome {
    /// `positive[h]` for every hidden neuron, layers concatenated.
    positive: Vec<bool>,
    ties: usize,
    fallbacks: usize,
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
    float: BatchNet,
    exact: ExactNet,
}

/// Points per unit of parallel work of the exact fallbacks.
const FALLBACK_BLOCK: usize = 64;

impl<'a> Filter<'a> {
    /// Prepares `net`.
    ///
    /// # Errors
    /// [`NetError`] from [`BatchNet::from_exact`] (a fan-in beyond its bound).
    pub fn new(net: &'a Network<BigRational>) -> Result<Self, NetError> {
        Ok(Self {
            net,
            float: BatchNet::from_exact(net)?,
            exact: ExactNet::new(net),
        })
    }

    /// The exact output at `x`.
    pub fn exact_output(&self, x: &[BigRational]) -> Vec<BigRational> {
        self.exact.output(x)
    }

    /// The `f64` enclosures of every pre-activation at every point of `data`.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the inputs do not fit the architecture.
    pub fn enclose(&self, data: &Dataset<BigRational>) -> Result<BatchPass, NetError> {
        let arch = self.net.arch();
        if data.inputs() != arch.inputs() {
            return Err(NetError::DataShape {
                what: "inputs",
                expected: arch.inputs(),
                got: data.inputs(),
            });
        }
        let (m, d) = (data.len(), data.inputs());
        let rows: Vec<(Vec<f64>, bool)> = (0..m)
            .into_par_iter()
            .map(|r| {
                let mut exact = true;
                let values = data
                    .x(r)
                    .iter()
                    .map(|q| {
                        let (v, e) = to_f64_exactly(q);
                        exact &= e;
                        v
                    })
                    .collect();
                (values, exact)
            })
            .collect();
        let exact_rows: Vec<bool> = rows.iter().map(|(_, e)| *e).collect();
        let flat: Vec<f64> = rows.into_iter().flat_map(|(v, _)| v).collect();
        let x = Array2::from_shape_vec((m, d), flat).expect("rows of equal length");
        forward(&self.float, x.view(), InputExactness::Rows(&exact_rows))
    }

    /// Every hidden sign of point `m` decided, exactly.
    fn point(&self, pass: &BatchPass, x: &[BigRational], m: usize) -> PointOutcome {
        let depth = pass.layers.len();
        let mut out = PointOutcome {
            positive: Vec::new(),
            ties: 0,
            fallbacks: 0,
        };
        let mut exact: Option<ExactPoint> = None;
        for (li, layer) in pass.layers[..depth - 1].iter().enumerate() {
            for j in 0..layer.z.ncols() {
                let sign = match layer.sign(m, j) {
                    Sign::Undecided => {
                        out.fallbacks += 1;
                        let p = exact.get_or_insert_with(|| self.exact.start(x));
                        while p.layer < li + 1 {
                            self.exact.advance(p);
                        }
                        match p.signum(j) {
                            1 => Sign::Positive,
                            0 => Sign::Zero,
                            _ => Sign::Negative,
                        }
                    }
                    decided => decided,
                };
                out.ties += usize::from(sign == Sign::Zero);
                out.positive.push(sign == Sign::Positive);
            }
        }
        out
    }

    /// The activity of the network on `data`, decided exactly.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the inputs do not fit the architecture.
    pub fn activity(&self, data: &Dataset<BigRational>) -> Result<FilteredActivity, NetError> {
        self.activity_with_progress(data, |_| {})
    }

    /// As [`Filter::activity`], calling `progress(points)` as blocks of points are
    /// decided.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the inputs do not fit the architecture.
    pub fn activity_with_progress(
        &self,
        data: &Dataset<BigRational>,
        progress: impl Fn(usize) + Sync,
    ) -> Result<FilteredActivity, NetError> {
        let pass = self.enclose(data)?;
        let arch = self.net.arch();
        let widths: Vec<usize> = arch.hidden_layers().map(|k| arch.width(k)).collect();
        let hidden: usize = widths.iter().sum();
        let blocks: Vec<(Vec<bool>, usize, usize)> = (0..data.len())
            .collect::<Vec<_>>()
            .par_chunks(FALLBACK_BLOCK)
            .map(|block| {
                let mut positive = vec![false; hidden];
                let (mut ties, mut fallbacks) = (0, 0);
                for &m in block {
                    let o = self.point(&pass, data.x(m), m);
                    for (p, q) in positive.iter_mut().zip(o.positive) {
                        *p |= q;
                    }
                    ties += o.ties;
                    fallbacks += o.fallbacks;
                }
                progress(block.len());
                (positive, ties, fallbacks)
            })
            .collect();
        let mut positive = vec![false; hidden];
        let (mut ties, mut fallbacks) = (0, 0);
        for (p, t, f) in blocks {
            for (a, b) in positive.iter_mut().zip(p) {
                *a |= b;
            }
            ties += t;
            fallbacks += f;
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
            let (same, exact_comparisons) = self.outputs_identical(data, &pass);
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
    fn outputs_identical(&self, data: &Dataset<BigRational>, pass: &BatchPass) -> (bool, usize) {
        let last = pass.layers.last().expect("L >= 2");
        let apart = |za: f64, ea: f64, zb: f64, eb: f64| {
            let lo = (za - ea).next_down();
            let hi = (zb + eb).next_up();
            lo.is_finite() && hi.is_finite() && lo > hi
        };
        let mut first_exact: Option<Vec<BigRational>> = None;
        let mut exact_comparisons = 0;
        for m in 1..data.len() {
            let separated = (0..last.z.ncols()).any(|o| {
                let (z0, e0) = (last.z[[0, o]], last.e[[0, o]]);
                let (z1, e1) = (last.z[[m, o]], last.e[[m, o]]);
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

/// The filtered exact activity of `net` on `data` (see the module docs).
///
/// # Errors
/// [`NetError::DataShape`] if the inputs do not fit the architecture, or an error of
/// [`BatchNet::from_exact`].
pub fn filtered_activity(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<FilteredActivity, NetError> {
    Filter::new(net)?.activity(data)
}

/// Exact sums of rationals: dyadic terms as integers at a common power-of-two scale,
/// the others as rationals (one normalization per non-dyadic term).
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Dyadic part `m 2^e`.
    mantissa: BigInt,
    exponent: i64,
    rest: Option<BigRational>,
}

impl ExactSum {
    /// Adds `q`.
    pub fn add(&mut self, q: &BigRational) {
        match dyadic_parts(q) {
            Some((m, e)) => self.add_dyadic(m, e),
            None => match &mut self.rest {
                Some(r) => *r += q,
                None => self.rest = Some(q.clone()),
            },
        }
    }
    /// Adds `q^2`.
    pub fn add_square(&mut self, q: &BigRational) {
        match dyadic_parts(q) {
            Some((m, e)) => self.add_dyadic(&m * &m, 2 * e),
            None => self.add(&(q * q)),
        }
    }
    /// Adds `a b`.
    pub fn add_product(&mut self, a: &BigRational, b: &BigRational) {
        match (dyadic_parts(a), dyadic_parts(b)) {
            (Some((ma, ea)), Some((mb, eb))) => self.add_dyadic(ma * mb, ea + eb),
            _ => self.add(&(a * b)),
        }
    }
    /// Adds `m 2^e`.
    pub fn add_dyadic(&mut self, m: BigInt, e: i64) {
        if m.is_zero() {
            return;
        }
        if self.mantissa.is_zero() {
            (self.mantissa, self.exponent) = (m, e);
        } else if e >= self.exponent {
            self.mantissa += m << (e - self.exponent) as usize;
        } else {
            self.mantissa = (&self.mantissa << (self.exponent - e) as usize) + m;
            self.exponent = e;
        }
    }
    /// Adds another sum.
    pub fn merge(&mut self, other: ExactSum) {
        self.add_dyadic(other.mantissa, other.exponent);
        if let Some(r) = other.rest {
            self.add(&r);
        }
    }
    /// The exact value.
    pub fn value(&self) -> BigRational {
        let dyadic = if self.exponent >= 0 {
            BigRational::from_integer(&self.mantissa << self.exponent as usize)
        } else {
            BigRational::new(
                self.mantissa.clone(),
                BigInt::one() << (-self.exponent) as usize,
            )
        };
        match &self.rest {
            Some(r) => dyadic + r,
            None => dyadic,
        }
    }
}

/// Exact values a user sees, computed from the parts that are cheap exactly.
impl Filter<'_> {
    /// The output of the network at every point whose activation vector at hidden layer
    /// `k` is zero: the later layers applied to zeros (biases and weights only).
    pub fn constant_after(&self, k: usize) -> Vec<BigRational> {
        let arch = self.net.arch();
        let mut a = vec![BigRational::zero(); arch.width(k)];
        let mut z = Vec::new();
        for l in k + 1..=arch.depth() {
            z = self.net.affine(l, &a);
            a = z.iter().map(crate::scalar::Scalar::relu).collect();
        }
        z
    }

    /// The exact output at every point: the constant after the first dead layer when
    /// `activity` has one (fact 1), else the exact integer forward pass at every point.
    pub fn outputs(&self, data: &Dataset<BigRational>, activity: &Activity) -> Outputs {
        self.outputs_with_progress(data, activity, |_| {})
    }

    /// As [`Filter::outputs`], calling `progress(points)` as blocks of points finish.
    pub fn outputs_with_progress(
        &self,
        data: &Dataset<BigRational>,
        activity: &Activity,
        progress: impl Fn(usize) + Sync,
    ) -> Outputs {
        match activity.first_dead_layer() {
            Some(k) => Outputs::Constant(self.constant_after(k)),
            None => Outputs::PerPoint(
                (0..data.len())
                    .collect::<Vec<_>>()
                    .par_chunks(FALLBACK_BLOCK)
                    .flat_map_iter(|block| {
                        let done: Vec<Vec<BigRational>> = block
                            .iter()
                            .map(|&m| self.exact_output(data.x(m)))
                            .collect();
                        progress(block.len());
                        done
                    })
                    .collect(),
            ),
        }
    }
}

/// The exact outputs of a network on a data set.
#[derive(Debug, Clone)]
pub enum Outputs {
    /// The same output at every point.
    Constant(Vec<BigRational>),
    /// One output per point.
    PerPoint(Vec<Vec<BigRational>>),
}

/// `(1/M) sum_m |out_m - y_m|^2` exactly; with a constant output `c` it is
/// `(1/M) sum_o (M c_o^2 - 2 c_o S_o + T_o)` with `S_o = sum_m y_mo`, `T_o = sum_m y_mo^2`.
pub fn exact_risk(outputs: &Outputs, data: &Dataset<BigRational>) -> BigRational {
    let m = BigRational::from_integer(BigInt::from(data.len()));
    match outputs {
        Outputs::Constant(c) => {
            let (s, t) = target_sums(data);
            let total =
                c.iter()
                    .zip(s.iter().zip(&t))
                    .fold(BigRational::zero(), |acc, (c, (s, t))| {
                        acc + &m * c * c - BigRational::from_integer(2.into()) * c * s + t
                    });
            total / m
        }
        Outputs::PerPoint(out) => {
            let total = out
                .par_iter()
                .enumerate()
                .fold(ExactSum::default, |mut acc, (r, o)| {
                    for (v, y) in o.iter().zip(data.y(r)) {
                        acc.add_square(&(v - y));
                    }
                    acc
                })
                .reduce(ExactSum::default, |mut a, b| {
                    a.merge(b);
                    a
                });
            total.value() / m
        }
    }
}

/// `S_o = sum_m y_mo` and `T_o = sum_m y_mo^2`, exactly.
fn target_sums(data: &Dataset<BigRational>) -> (Vec<BigRational>, Vec<BigRational>) {
    (0..data.outputs())
        .map(|o| {
            let (mut s, mut t) = (ExactSum::default(), ExactSum::default());
            for r in 0..data.len() {
                let y = &data.y(r)[o];
                s.add(y);
                t.add_square(y);
            }
            (s.value(), t.value())
        })
        .unzip()
}

/// The best-constant risk `V = (1/M) sum_o (T_o - S_o^2 / M)` and the mean target, exactly
/// (the values of [`Dataset::best_constant`], from two sums per output).
pub fn best_constant(data: &Dataset<BigRational>) -> (BigRational, Vec<BigRational>) {
    let m = BigRational::from_integer(BigInt::from(data.len()));
    let (s, t) = target_sums(data);
    let v = s
        .iter()
        .zip(&t)
        .fold(BigRational::zero(), |acc, (s, t)| acc + t - s * s / &m)
        / &m;
    (v, s.into_iter().map(|s| s / &m).collect())
}

impl Filter<'_> {
    /// `R(theta)` and its generalized gradient when hidden layer `k` is dead on `data`
    /// (every point has `a_k = 0`): the values of [`Network::risk_and_gradient`], from the
    /// layers after `k` alone. Every point shares the pre-activations of layers `k+1..L`
    /// computed from `a_k = 0`; the output error summed over the points,
    /// `(2/M) (M c - S)`, is backpropagated once; the gradient of layers `1..k` is zero
    /// (fact 2: `ReLU'(z_k) = 0` at every point), and so is that of `W_{k+1}` (`a_k = 0`).
    ///
    /// # Panics
    /// **Panics if `k` is not a hidden layer.** The caller passes a dead layer of the
    /// filtered activity.
    pub fn risk_and_gradient_after_dead(
        &self,
        data: &Dataset<BigRational>,
        k: usize,
    ) -> (BigRational, Vec<BigRational>) {
        let arch = self.net.arch();
        assert!(arch.hidden_layers().contains(&k), "layer {k} is not hidden");
        let params = self.net.params();
        // z_{k+1..L} from a_k = 0
        let mut pre: Vec<Vec<BigRational>> = Vec::new();
        let mut a = vec![BigRational::zero(); arch.width(k)];
        for l in k + 1..=arch.depth() {
            let z = self.net.affine(l, &a);
            a = z.iter().map(crate::scalar::Scalar::relu).collect();
            pre.push(z);
        }
        let c = pre.last().expect("the output layer").clone();
        let risk = exact_risk(&Outputs::Constant(c.clone()), data);
        let m = BigRational::from_integer(BigInt::from(data.len()));
        let (s, _) = target_sums(data);
        let two_over_m = BigRational::from_integer(2.into()) / &m;
        let mut delta: Vec<BigRational> = c
            .iter()
            .zip(&s)
            .map(|(c, s)| &two_over_m * (&m * c - s))
            .collect();
        let mut grad = vec![BigRational::zero(); params.len()];
        for l in (k + 1..=arch.depth()).rev() {
            let cols = arch.width(l - 1);
            let input: Vec<BigRational> = if l == k + 1 {
                vec![BigRational::zero(); cols]
            } else {
                pre[l - 2 - k]
                    .iter()
                    .map(crate::scalar::Scalar::relu)
                    .collect()
            };
            for (j, d) in delta.iter().enumerate() {
                if d.is_zero() {
                    continue;
                }
                for (i, a) in input.iter().enumerate() {
                    if !a.is_zero() {
                        grad[arch.weight_index(l, j, i)] = d * a;
                    }
                }
                grad[arch.bias_index(l, j)] = d.clone();
            }
            if l == k + 1 {
                break;
            }
            delta = (0..cols)
                .map(|i| {
                    if !num_traits::Signed::is_positive(&pre[l - 2 - k][i]) {
                        return BigRational::zero();
                    }
                    delta
                        .iter()
                        .enumerate()
                        .fold(BigRational::zero(), |acc, (j, d)| {
                            if d.is_zero() {
                                acc
                            } else {
                                acc + &params[arch.weight_index(l, j, i)] * d
                            }
                        })
                })
                .collect();
        }
        (risk, grad)
    }
}
