//! Batched `f64` forward pass over all data points with a rigorous rounding bound.
//!
//! # API (used by `inspect --mode f64` and by the filtered exact mode)
//!
//! ```text
//! let net = BatchNet::from_exact(&exact_net)?;            // or BatchNet::from_f64(arch, params, exact)
//! let pass = forward(&net, x.view(), InputExactness::AllRounded)?;   // x: M x l_0 f64
//! pass.layers[k - 1].z[[m, j]]   // z~ = f64 pre-activation of layer k (1..=L), point m, neuron j
//! pass.layers[k - 1].e[[m, j]]   // e  with |z_exact - z~| <= e  (+inf: nothing known)
//! pass.layers[k - 1].sign(m, j)  // Sign::Positive / Negative / Zero / Undecided, decided by (z~, e)
//! ```
//!
//! `z_exact` is the pre-activation for the EXACT rational parameters and inputs, of which
//! the `f64` values handed in are the nearest (or faithful) roundings: a [`BatchNet`] knows
//! per layer whether its `f64` parameters *are* the exact ones, and [`InputExactness`] says
//! the same for the rows of `x`. A sign is decided when the bound settles it:
//! `Positive` if `z~ - e > 0`, `Negative` if `z~ + e < 0`, `Zero` if `z~ = 0` and `e = 0`
//! (then `z_exact = 0`), else `Undecided` (also for NaN and infinities, where `e = +inf`).
//! [`crate::activity::batched::activity`] summarizes a pass the way `inspect --mode f64` reports it: the float
//! decision `z~ <= 0` per neuron, and a *near tie* wherever the sign is `Undecided`.
//!
//! Determinism: the points are cut into fixed blocks of [`BLOCK_ROWS`] rows (independent of
//! the thread count); rayon runs the blocks in parallel and each block is a sequence of
//! matrix products (ndarray + matrixmultiply) whose summation order depends only on the
//! block, never on the number of threads. So `z~` and `e` are bit-identical on any thread
//! count. (matrixmultiply picks its SIMD kernel, possibly with FMA, at run time from the
//! CPU; the bound below holds for every evaluation order and with or without FMA.)
//!
//! # The bound and why it holds
//!
//! Notation: `u = 2^-53` (unit roundoff), `eta = 2^-1075` (half the smallest subnormal),
//! `uc = 2^-52`, `gamma_n = n u / (1 - n u)`. Standard model of IEEE binary64 with
//! round-to-nearest and gradual underflow, valid whenever no overflow occurs:
//! `fl(x op y) = (x op y)(1 + d) + h` with `|d| <= u`, `|h| <= eta`, `h = 0` for `+` and `-`
//! (a sum of two doubles that lands in the subnormal range is exact); an FMA is one such
//! operation on `x y + s`.
//!
//! *Conversion.* An exact value `w` and its `f64` rounding `w~` (nearest, or any faithful
//! rounding) satisfy `|w - w~| <= uc max(|w~|, 2^-1022)` (half an ulp, or one ulp for a
//! faithful rounding; `2^-1074` in the subnormal range). Layers whose parameters are not
//! all exact use `W' = max(|W~|, 2^-1022)`, `b' = max(|b~|, 2^-1022)` entrywise and
//! `p = 1`; exact layers use `W' = |W~|`, `b' = |b~|`, `p = 0`. Rows of inputs likewise.
//!
//! *One layer* (`n` inputs, pre-activation `z = W a + b`, computed `z~ = fl(W~ a~ + b~)`
//! in any order, `|a - a~| <= e_a` entrywise):
//!
//! ```text
//! z - z~ = [W~ a~ + b~ - fl(W~ a~ + b~)] + (W - W~) a + W~ (a - a~) + (b - b~)
//! |first| <= gamma_{n+1} (|W~||a~| + |b~|) + (2n + 2) eta      (Higham, Thm 3.1, plus the
//!            underflow terms: at most 2n + 1 operations, each adds <= eta, carried by <= n
//!            later additions)
//! |rest|  <= p uc W' (|a~| + e_a) + |W~| e_a + p uc b'
//! =>  |z - z~| <= W' v + c1 b' + (2n + 2) eta,   v = c1 |a~| + c2 e_a,
//!     c1 = gamma_{n+1} + p uc,  c2 = 1 + p uc.
//! ```
//!
//! *Computing the bound itself.* `v` is evaluated entrywise rounding upward (`next_up` of
//! the round-to-nearest result, which is `>=` the exact result; a product with a zero
//! factor is exactly 0). `S = W' v` is one matrix product in round-to-nearest: all terms
//! are `>= 0`, so the computed `S~ >= S (1 - u)^n - n eta` (each product and addition
//! shrinks by at most `(1 - u)` and the products lose at most `eta` each), hence
//! `S <= (S~ + n eta) / (1 - u)^n <= (S~ + n eta)(1 + 2 n u)` for `n u <= 1/2`. So
//!
//! ```text
//! e = up( up(S~ + A) * F ) + up(c1 b'),   A = (4n + 4) 2^-1074,  F = 1 + 2 (n + 1) u
//! ```
//!
//! (every `up` rounds upward as above; `c1` is itself rounded up, from
//! `gamma_{n+1} <= (n+1) u (1 + 2^-11)` for `n <= 2^40`). When `S~ = 0` and no product of
//! nonzero entries of `W'` and `v` can underflow (checked per block from the smallest
//! nonzero entries), every product of the forward pass is exactly 0, `z~ = b~` and
//! `e = up(c1 b')`; so an exactly zero pre-activation with all-zero inputs is decided
//! `Zero` rather than left undecided.
//!
//! *Through the layers.* `a = ReLU(z)` is 1-Lipschitz, so `e_a = e` of the layer before,
//! except where `fl(z~ + e) <= 0`: then `z <= 0` and `z~ <= 0` (a sum of two doubles
//! rounds to `<= 0` only if it is `<= 0`), both activations are 0 and `e_a = 0`.
//!
//! *Overflow.* A finite `z~` proves no operation of its dot product overflowed (an
//! infinity never comes back to a finite value), so the model above applies; otherwise, or
//! if the bound itself overflows or is NaN, `e = +inf` and the sign is `Undecided`.

use super::{Arch, NetError, Network};
use crate::scalar::{BigRational, Sign, rational_from_f64};
use ndarray::{Array1, Array2, ArrayView2, s};
use rayon::prelude::*;

/// Rows of one block: the unit of parallel work, fixed so results never depend on the
/// thread count.
pub const BLOCK_ROWS: usize = 256;

/// The largest fan-in the bound supports (`n u <= 2^-13`).
pub const MAX_FAN_IN: usize = 1 << 40;

const U: f64 = 1.0 / 9_007_199_254_740_992.0; // 2^-53
const UC: f64 = 2.0 * U; // 2^-52
const MIN_NORMAL: f64 = f64::MIN_POSITIVE; // 2^-1022
const MIN_SUB: f64 = f64::from_bits(1); // 2^-1074

/// `x` rounded up: the next double above the round-to-nearest result of a nonnegative
/// quantity (0 stays 0 only when the caller knows it is exact).
#[inline]
fn up(x: f64) -> f64 {
    x.next_up()
}

/// An upper bound of `c a` for `c, a >= 0`: exactly 0 when a factor is 0.
#[inline]
fn mul_up(c: f64, a: f64) -> f64 {
    if c == 0.0 || a == 0.0 { 0.0 } else { up(c * a) }
}

/// An upper bound of `p + q` for `p, q >= 0`: exact when one of them is 0.
#[inline]
fn add_up(p: f64, q: f64) -> f64 {
    if p == 0.0 {
        q
    } else if q == 0.0 {
        p
    } else {
        up(p + q)
    }
}

/// `c1 = gamma_{n+1} + p uc` rounded up, from `gamma_{n+1} <= (n+1) u (1 + 2^-11)` for
/// `(n+1) u <= 2^-12`.
fn gamma_up(n: usize, p: f64) -> f64 {
    up(up(up((n + 1) as f64 * (1.0 + 1.0 / 2048.0)) + p) * U)
}

/// An upper bound of the Euclidean norm of `n` nonnegative finite values: exactly 0 when
/// all are 0. The sum of squares in round-to-nearest loses at most a factor `(1 - u)^n`
/// and `eta` per square (underflow), so `sum <= (q~ + n 2^-1074)(1 + 2(n+1)u)`; `sqrt` is
/// correctly rounded and rounded up once more.
fn norm_up(values: impl Iterator<Item = f64>) -> f64 {
    let (mut q, mut n, mut any) = (0.0f64, 0usize, false);
    for v in values {
        q += v * v;
        n += 1;
        any |= v != 0.0;
    }
    if !any {
        return 0.0;
    }
    let f = 1.0 + (2 * (n + 1)) as f64 * U;
    up(up(up(q + n as f64 * MIN_SUB) * f).sqrt())
}

/// How the bound `S = W' v` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundKind {
    /// A second matrix product, entry by entry (tightest; twice the cost of the pass).
    Dot,
    /// Cauchy-Schwarz `||W'_j||_2 ||v_m||_2`, row norms only (nearly free; looser by the
    /// ratio of the RMS to the mean of the entries, about 1.2-2 on dense data).
    #[default]
    Norm,
}

/// Whether the `f64` inputs are the exact inputs or roundings of them.
#[derive(Debug, Clone, Copy)]
pub enum InputExactness<'a> {
    /// Every entry of `x` is the exact input (for example `f32`/`f64` tensors, JSON numbers).
    AllExact,
    /// Every entry may be a rounding of the exact input (for example decimals like `0.1`).
    AllRounded,
    /// Per row: `true` when every entry of that row is exact.
    Rows(&'a [bool]),
}

impl InputExactness<'_> {
    fn row(&self, m: usize) -> bool {
        match self {
            InputExactness::AllExact => true,
            InputExactness::AllRounded => false,
            InputExactness::Rows(r) => r[m],
        }
    }
}

/// One layer in `f64`, with what the bound needs.
#[derive(Debug, Clone)]
struct Layer {
    /// `W~` (`l_k x l_{k-1}`).
    w: Array2<f64>,
    /// `W'` transposed (`l_{k-1} x l_k`), the matrix of the bound product.
    wb_t: Array2<f64>,
    /// `b~`.
    b: Array1<f64>,
    /// `up(c1 b')` per neuron.
    b_term: Array1<f64>,
    /// `c1` (rounded up).
    c1: f64,
    /// `c2`.
    c2: f64,
    /// `c1 + c2 uc` rounded up (rows of inputs that are roundings, layer 1 only).
    c1_rounded_input: f64,
    /// Smallest nonzero entry of `W'` (`+inf` if none).
    wb_min: f64,
    /// `A`.
    abs_term: f64,
    /// `(2n + 2) 2^-1074`, the forward pass's own underflow term (norm bound).
    abs_fwd: f64,
    /// `||W'_j||_2` rounded up, per neuron.
    w_norm: Vec<f64>,
    /// `F`.
    factor: f64,
}

/// The network in `f64` for batched passes, with per layer whether the `f64` parameters
/// are exactly the network's parameters.
#[derive(Debug, Clone)]
pub struct BatchNet {
    arch: Arch,
    layers: Vec<Layer>,
    exact: Vec<bool>,
}

impl BatchNet {
    /// From exact parameters: each rounded to the nearest `f64`; a layer is exact when
    /// every rounding is.
    ///
    /// # Errors
    /// [`NetError::Batch`] for a fan-in above [`MAX_FAN_IN`].
    pub fn from_exact(net: &Network<BigRational>) -> Result<Self, NetError> {
        let arch = net.arch().clone();
        let mut params = Vec::with_capacity(arch.num_params());
        let mut exact = Vec::with_capacity(arch.depth());
        for k in 1..=arch.depth() {
            let mut all = true;
            for q in &net.params()[arch.layer_range(k)] {
                let f = num_traits::ToPrimitive::to_f64(q).unwrap_or(f64::NAN);
                all &= f.is_finite() && rational_from_f64(f).is_ok_and(|r| &r == q);
                params.push(f);
            }
            exact.push(all);
        }
        Self::from_f64(arch, params, exact)
    }

    /// From `f64` parameters in the layout of MECHANISM.md; `exact[k-1]` says whether the
    /// entries of layer `k` are the exact parameters (else each is a rounding of its exact
    /// value). Non-finite parameters are allowed: they make every bound they touch `+inf`.
    ///
    /// # Errors
    /// [`NetError::ParamCount`] for a wrong length, [`NetError::Batch`] for a wrong
    /// `exact` length or a fan-in above [`MAX_FAN_IN`].
    pub fn from_f64(arch: Arch, params: Vec<f64>, exact: Vec<bool>) -> Result<Self, NetError> {
        if params.len() != arch.num_params() {
            return Err(NetError::ParamCount {
                arch: arch.to_string(),
                expected: arch.num_params(),
                got: params.len(),
            });
        }
        if exact.len() != arch.depth() {
            return Err(NetError::Batch {
                reason: format!(
                    "{} exactness flags for {} layers",
                    exact.len(),
                    arch.depth()
                ),
            });
        }
        let mut layers = Vec::with_capacity(arch.depth());
        for k in 1..=arch.depth() {
            let (rows, n) = (arch.width(k), arch.width(k - 1));
            if n > MAX_FAN_IN {
                return Err(NetError::Batch {
                    reason: format!("fan-in {n} of layer {k} exceeds {MAX_FAN_IN}"),
                });
            }
            let off = arch.layer_offset(k);
            let w = Array2::from_shape_vec((rows, n), params[off..off + rows * n].to_vec())
                .expect("shape matches the layout");
            let b = Array1::from(params[off + rows * n..off + rows * (n + 1)].to_vec());
            let p = if exact[k - 1] { 0.0 } else { 1.0 };
            let widen = |v: f64| {
                if exact[k - 1] {
                    v.abs()
                } else {
                    v.abs().max(MIN_NORMAL)
                }
            };
            let c1 = gamma_up(n, p);
            let c2 = if exact[k - 1] { 1.0 } else { 1.0 + UC }; // exact in f64
            let c1_rounded_input = add_up(c1, up(c2 * UC));
            let wb_t = w.t().map(|&v| widen(v));
            let w_norm = wb_t
                .columns()
                .into_iter()
                .map(|c| norm_up(c.iter().copied()))
                .collect();
            let wb_min = wb_t
                .iter()
                .copied()
                .filter(|&v| v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let b_term = b.map(|&v| mul_up(c1, widen(v)));
            layers.push(Layer {
                w,
                wb_t,
                b,
                b_term,
                c1,
                c2,
                c1_rounded_input,
                wb_min,
                abs_term: (4 * n + 4) as f64 * MIN_SUB,
                abs_fwd: (2 * n + 2) as f64 * MIN_SUB,
                w_norm,
                factor: 1.0 + (2 * (n + 1)) as f64 * U,
            });
        }
        Ok(Self {
            arch,
            layers,
            exact,
        })
    }

    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// Whether the `f64` parameters of layer `k` (1-based) are the exact ones.
    pub fn layer_exact(&self, k: usize) -> bool {
        self.exact[k - 1]
    }

    /// `W~_k` (`l_k x l_{k-1}`).
    pub fn weights(&self, k: usize) -> &Array2<f64> {
        &self.layers[k - 1].w
    }

    /// `b~_k`.
    pub fn biases(&self, k: usize) -> &Array1<f64> {
        &self.layers[k - 1].b
    }

    /// The bound `e` of layer `k`'s pre-activations `z` at one point, computed in any
    /// order (sequentially, as [`crate::net::Network::forward`] does, or by a matrix
    /// product) from the activations `a` of the layer before: the inputs for `k = 1`
    /// (`row_exact`: whether they are the exact inputs), else `ReLU(z~)` of layer `k - 1`
    /// with `e_a[i]` bounding its distance to the exact activation (see
    /// [`activation_error`]). The same bound as [`forward_with`]`(.., BoundKind::Dot)`,
    /// one point at a time; `+inf` where `z` is not finite.
    ///
    /// # Panics
    /// If `k` is not a layer or the lengths do not fit it.
    pub fn point_bound(
        &self,
        k: usize,
        a: &[f64],
        e_a: Option<&[f64]>,
        row_exact: bool,
        z: &[f64],
    ) -> Vec<f64> {
        let layer = &self.layers[k - 1];
        let n = layer.w.ncols();
        assert!(a.len() == n && z.len() == layer.w.nrows() && e_a.is_none_or(|e| e.len() == n));
        // v = c1 |a~| + c2 e_a, rounded up, and its smallest nonzero entry
        let mut v_min = f64::INFINITY;
        let v: Vec<f64> = (0..n)
            .map(|i| {
                let vi = match e_a {
                    None if k == 1 && row_exact => mul_up(layer.c1, a[i].abs()),
                    None if k == 1 => mul_up(layer.c1_rounded_input, a[i].abs().max(MIN_NORMAL)),
                    None => mul_up(layer.c1, a[i].abs()),
                    Some(ea) => add_up(mul_up(layer.c1, a[i].abs()), mul_up(layer.c2, ea[i])),
                };
                if vi > 0.0 {
                    v_min = v_min.min(vi);
                }
                vi
            })
            .collect();
        let no_underflow = layer.wb_min * v_min >= 2.0 * MIN_NORMAL;
        (0..z.len())
            .map(|j| {
                // S~ = W'_j v in round-to-nearest (every term >= 0; any order)
                let s = (0..n).fold(0.0, |acc, i| acc + layer.wb_t[[i, j]] * v[i]);
                let bt = layer.b_term[j];
                let bound = if s == 0.0 && no_underflow {
                    bt
                } else {
                    add_up(up(add_up(s, layer.abs_term) * layer.factor), bt)
                };
                if z[j].is_finite() && bound.is_finite() {
                    bound
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    }
}

/// The bound on `|ReLU(z) - ReLU(z~)|` given `|z - z~| <= e`: `0` where `fl(z~ + e) <= 0`
/// (both activations are 0), else `e` (`ReLU` is 1-Lipschitz).
#[inline]
pub fn activation_error(z: f64, e: f64) -> f64 {
    if z + e <= 0.0 { 0.0 } else { e }
}

/// The largest magnitude any value of a forward pass may reach before the a-priori bound
/// calls it a possible overflow (far enough below `f64::MAX` that nothing else can
/// overflow either).
pub const A_PRIORI_LIMIT: f64 = 1e300;

/// A-priori bounds of an `f64` forward pass through layers of fan-ins `fan_ins`, from
/// the largest magnitudes alone: every parameter is at most `max_param` in magnitude and
/// is exact (the `f64` value is the parameter), every input at most `x_abs` and exact
/// (`inputs_exact`) or the nearest `f64` to the exact input. Returns, per layer, a bound
/// `E_k` on `|z - z~|` valid for every pre-activation of layer `k` at every point, in
/// any evaluation order; `None` when some value of the pass might exceed
/// [`A_PRIORI_LIMIT`] (then nothing is known, overflow included).
///
/// With `M_{k-1}` bounding the computed activations and `E_{k-1}` their error
/// (`M_0 = x_abs`; `E_0 = 0`, or `uc max(x_abs, 2^-1022)` for rounded inputs), the
/// rounding bound of the module docs with `|W~| <= P` entrywise gives
///
/// ```text
/// T_k = P (n M_{k-1} + 1)                        (>= |W~| |a~| + |b~|)
/// E_k = c1 T_k + (2n + 2) 2^-1074 + n P E_{k-1}
/// M_k = T_k + E_k                                (>= every computed partial sum)
/// ```
///
/// each evaluated rounding upward. A sign of layer `k` is then settled wherever
/// `|z~| > E_k`; the bound is cheap (per layer, not per value) and loose (it assumes
/// the worst point and the largest weight everywhere), so callers use it to settle the
/// clear cases and fall back to [`BatchNet::point_bound`] for the others.
pub fn a_priori(
    fan_ins: impl IntoIterator<Item = usize>,
    max_param: f64,
    x_abs: f64,
    inputs_exact: bool,
) -> Option<Vec<f64>> {
    let p = max_param.abs();
    let mut m = x_abs.abs();
    let mut e = if inputs_exact {
        0.0
    } else {
        mul_up(UC, m.max(MIN_NORMAL))
    };
    let mut out = Vec::new();
    for n in fan_ins {
        if n > MAX_FAN_IN {
            return None;
        }
        let nf = n as f64; // exact: n <= 2^40
        let t = mul_up(p, add_up(mul_up(nf, m), 1.0));
        let e_k = add_up(
            add_up(mul_up(gamma_up(n, 0.0), t), (2 * n + 2) as f64 * MIN_SUB),
            mul_up(mul_up(nf, p), e),
        );
        m = add_up(t, e_k);
        e = e_k;
        // (NaN fails the comparison too)
        if m.partial_cmp(&A_PRIORI_LIMIT) != Some(std::cmp::Ordering::Less) {
            return None;
        }
        out.push(e);
    }
    Some(out)
}

mod pass;
pub use pass::{
    BatchPass, LayerPass, decide, forward, forward_map, forward_with, row_slices, sign_flags,
};

#[cfg(test)]
mod tests;
