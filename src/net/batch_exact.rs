//! The exact forward pass of a whole data set at matrix-product speed: integer matrix
//! products computed exactly by `f64` matrix products on small digits (an error-free
//! splitting in the spirit of Ozaki, Ogita, Oishi and Rump's "error-free transformation
//! of matrix multiplication").
//!
//! # Representation
//! Every parameter of a layer whose parameters are doubles is `w = w~ g_k` with `w~` an
//! integer and `g_k = 2^-s_k` (`s_k >= 0`) the smallest power of two that is a unit of
//! every weight and bias of layer `k` (capped at 1). A data row is
//! `x_i = X_i 2^p / d` with integers `X_i`, `p <= 0` and an odd (or any positive) integer
//! `d` shared by the row's inputs and targets (CSV decimals: `d = 5^K`, `p = -K`; doubles:
//! `d = 1`, `p` the row's smallest exponent). ReLU is positively homogeneous, so with the
//! constant column `C_1 = d 2^-p` and `C_{k+1} = C_k 2^{s_k}`,
//!
//! ```text
//! Z_1 = W~_1 X + b~_1 C_1,   Z_{k+1} = W~_{k+1} ReLU(Z_k) + b~_{k+1} C_{k+1}   (integers)
//! z_k = Z_k 2^{p - s_1 - ... - s_k} / d                                         (exactly)
//! ```
//!
//! (induction: `z_1 = g_1 (W~_1 X + b~_1 d 2^-p) 2^p / d`, and `ReLU(c t) = c ReLU(t)`
//! for `c > 0`). So the sign of every pre-activation is the sign of an integer, and the
//! outputs are exact rationals with a power-of-two-times-`d` denominator.
//!
//! # Exact integer products in `f64`
//! Per layer `k` with fan-in `n`, the weights are written in base `2^bw` and the layer's
//! inputs in base `2^ba`, with `bw + ba <= 53 - ceil(log2(n + 1))`: `W~ = sum_s W^(s)
//! 2^{bw s}` with signed digits `|W^(s)| < 2^bw` (the sign of the entry on each digit),
//! inputs `A = sum_t A^(t) 2^{ba t}` with `0 <= A^(t) < 2^ba` (or signed, layer 1). `bw`
//! is the narrowest width that still gives the fewest weight digits of at most half the
//! budget, and the inputs (usually the wider integers) get the rest. Every product of a
//! digit of `W` and a digit of `A` is an integer below `2^{bw + ba}` in magnitude, a dot
//! product of `n + 1` of them is below `(n + 1) 2^{bw + ba} <= 2^53`, and so is every
//! partial sum in any order: every partial sum is an integer of magnitude below `2^53`,
//! hence a double, so each `f64` matrix product `A^(t) W^(s)^T` (any blocking, with or
//! without FMA) is exact. Each entry `Z = sum_{s,t} P_{st} 2^{bw s + ba t}` is then
//! added up in `i128` base-`2^32` limbs (each term below `2^85` in its limb, at most
//! `64 * 64` terms) and normalized by carries to limbs in `[0, 2^32)` and a final carry
//! in `{0, -1}` (enough limbs for `|Z| < (#products) 2^{53 + max shift}`): the sign of
//! the value is that carry when it is `-1`, else positive unless every limb is 0. The
//! bits of `ReLU(Z_k)`, cut in the next layer's input base, are its input digits.
//!
//! # Engines
//! Where the processor has AVX-512 IFMA, the products run instead on [`ifma`]: digits in
//! base `2^52` with offsets for signed values, `vpmadd52luq`/`vpmadd52huq` products summed
//! exactly in 64-bit lanes (proof there), usually one digit per weight and per layer-1
//! input. Both engines give the same integers; [`ExactEngine`] picks one, and the
//! environment variable `DEADRELU_EXACT_ENGINE=f64` ([`ENGINE_VAR`]) forces the `f64` digit engine above
//! (the tests run both).
//!
//! The pass runs over fixed blocks of rows in parallel; everything is exact, so the
//! result does not depend on the thread count at all.

use crate::net::Arch;
use ndarray::Array2;
use num_bigint::BigInt;
use num_traits::One;

/// Rows per block of the exact pass.
pub const EXACT_BLOCK_ROWS: usize = 128;

/// Most digits of one integer the engine handles (beyond: the caller's fallback).
pub const MAX_DIGITS: usize = 64;

struct LimbLayer {
    /// Digit planes (base `2^bw`) of `[W~ | b~]^T`, each `(n + 1) x rows`.
    planes: Vec<Array2<f64>>,
    /// `s_k`.
    shift: u32,
    /// The weights' digit base exponent.
    bw: u32,
    /// The inputs' digit base exponent (`bw + ba <= 53 - ceil(log2(n + 1))`).
    ba: u32,
}

/// A network whose parameters are doubles, prepared for the exact pass.
pub struct LimbNet {
    arch: Arch,
    layers: Vec<LimbLayer>,
    /// The layers on the IFMA engine, when it runs.
    ifma: Option<Vec<ifma::IfmaLayer>>,
}

/// Which engine computes the integer matrix products of [`LimbNet::block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactEngine {
    /// AVX-512 IFMA ([`ifma`]) where the processor has it, else [`ExactEngine::F64`].
    Auto,
    /// `f64` matrix products on small digits (module docs), on any processor.
    F64,
}

/// The environment variable that chooses the [`ExactEngine`].
pub const ENGINE_VAR: &str = "DEADRELU_EXACT_ENGINE";

/// A value of [`ENGINE_VAR`] that names no engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ENGINE_VAR}={value:?} names no engine (expected f64 or auto)")]
pub struct UnknownEngine {
    /// The value found.
    pub value: String,
}

impl ExactEngine {
    /// The engine [`ENGINE_VAR`] names: `f64` gives [`ExactEngine::F64`]; `auto`, an
    /// empty value or no variable give [`ExactEngine::Auto`] (case and surrounding spaces
    /// ignored). Both engines give the same results; the variable only exists to run (and
    /// test) the fallback on a processor with IFMA.
    ///
    /// # Errors
    /// [`UnknownEngine`] for any other value (the command line refuses it with exit 2).
    pub fn try_from_env() -> Result<Self, UnknownEngine> {
        match std::env::var_os(ENGINE_VAR) {
            None => Ok(Self::Auto),
            Some(v) => {
                let v = v.to_string_lossy();
                match v.trim().to_ascii_lowercase().as_str() {
                    "f64" => Ok(Self::F64),
                    "auto" | "" => Ok(Self::Auto),
                    _ => Err(UnknownEngine {
                        value: v.into_owned(),
                    }),
                }
            }
        }
    }

    /// [`ExactEngine::try_from_env`], with [`ExactEngine::Auto`] for a value that names no
    /// engine (the command line has refused such a value before any exact pass runs).
    pub fn from_env() -> Self {
        Self::try_from_env().unwrap_or(Self::Auto)
    }
}

/// The exact pass over one block of rows.
#[derive(Debug, Clone)]
pub struct BlockExact {
    /// Per hidden layer `k`: the sign (`-1`, `0`, `1`) of `z_k` (`rows x l_k`).
    pub signs: Vec<Array2<i8>>,
    /// Per row: the integers `Z_L` of the outputs (`z_L = Z_L 2^{p - S} / d`).
    pub out: Vec<Vec<BigInt>>,
}

/// The constant column `C_1 = d 2^-p` of `rows` (`None` when `-p` does not fit a shift).
fn constant_column(rows: &[RowInts]) -> Option<Vec<ShiftedInt>> {
    rows.iter()
        .map(|r| {
            Some(ShiftedInt {
                neg: false,
                mant: r.d,
                shift: u32::try_from(-r.p).ok()?,
            })
        })
        .collect()
}

/// Bits `[lo, lo + width)` of the non-negative integer with base-`2^32` limbs `limbs`
/// (`width <= 64`).
fn bits_at(limbs: &[u32], lo: u64, width: u32) -> u64 {
    let q = (lo / 32) as usize;
    let r = (lo % 32) as u32;
    let mut window = 0u128;
    for (i, &l) in limbs.iter().skip(q).take(4).enumerate() {
        window |= u128::from(l) << (32 * i);
    }
    ((window >> r) & ((1u128 << width) - 1)) as u64
}

impl LimbNet {
    /// Prepares `params` (layout of MECHANISM.md, every entry the exact parameter). `None`
    /// when a parameter is not finite or a layer's integers need more than
    /// [`MAX_DIGITS`] digits. The engine is [`ExactEngine::from_env`].
    pub fn new(arch: &Arch, params: &[f64]) -> Option<Self> {
        Self::with_engine(arch, params, ExactEngine::from_env())
    }

    /// As [`LimbNet::new`], on `engine`.
    pub fn with_engine(arch: &Arch, params: &[f64], engine: ExactEngine) -> Option<Self> {
        if params.len() != arch.num_params() {
            return None;
        }
        let mut ifma_layers = (engine == ExactEngine::Auto && ifma::available()).then(Vec::new);
        let mut layers = Vec::with_capacity(arch.depth());
        for k in 1..=arch.depth() {
            let (rows, n) = (arch.width(k), arch.width(k - 1));
            // n + 1 products of digits below 2^bw and 2^ba: below 2^53 when
            // bw + ba <= 53 - log, n + 1 <= 2^log
            let log = (n as u64 + 1).next_power_of_two().trailing_zeros();
            if log >= 40 {
                return None;
            }
            let budget = 53 - log;
            let range = arch.layer_range(k);
            let p = &params[range];
            let mut parts = Vec::with_capacity(p.len());
            let mut low = 0i64;
            for &v in p {
                if !v.is_finite() {
                    return None;
                }
                let part = dyadic_f64(v);
                if let Some((_, _, e)) = part {
                    low = low.min(e);
                }
                parts.push(part);
            }
            let shift = u32::try_from(-low).ok()?;
            let ints: Vec<ShiftedInt> = parts
                .into_iter()
                .map(|part| match part {
                    None => Some(ShiftedInt::default()),
                    Some((neg, mant, e)) => Some(ShiftedInt {
                        neg,
                        mant,
                        shift: u32::try_from(e - low).ok()?,
                    }),
                })
                .collect::<Option<_>>()?;
            // the fewest weight digits of at most half the budget, as narrow as that
            // allows: the inputs get the rest of the budget
            if let Some(l) = &mut ifma_layers {
                match ifma::IfmaLayer::new(&ints, rows, n) {
                    Some(layer) => l.push(layer),
                    None => ifma_layers = None,
                }
            }
            let wbits = ints.iter().map(ShiftedInt::bits).max().unwrap_or(0);
            let half = u64::from(budget / 2);
            let dw = wbits.div_ceil(half).max(1);
            let bw = u32::try_from(wbits.div_ceil(dw).max(1)).ok()?;
            let ba = budget - bw;
            let digits = ints.iter().map(|v| v.digits(bw)).max().unwrap_or(0);
            if digits > MAX_DIGITS {
                return None;
            }
            // the f64 digit planes only serve the f64 engine
            let planes = (0..if ifma_layers.is_some() {
                0
            } else {
                digits.max(1)
            })
                .map(|s| {
                    Array2::from_shape_fn((n + 1, rows), |(i, j)| {
                        let v = if i < n {
                            &ints[j * n + i]
                        } else {
                            &ints[rows * n + j]
                        };
                        v.digit(s, bw)
                    })
                })
                .collect();
            layers.push(LimbLayer {
                planes,
                shift,
                bw,
                ba,
            });
        }
        Some(Self {
            arch: arch.clone(),
            layers,
            ifma: ifma_layers,
        })
    }

    /// The engine that computes the products: `"ifma"` or `"f64"`.
    pub fn engine_name(&self) -> &'static str {
        if self.ifma.is_some() { "ifma" } else { "f64" }
    }

    /// `S = s_1 + ... + s_L`: the outputs are `Z_L 2^{p - S} / d`.
    pub fn output_shift(&self) -> u64 {
        self.layers.iter().map(|l| u64::from(l.shift)).sum()
    }

    /// Per layer, the digit base exponents `(bw, ba)` of its weights and inputs.
    pub fn bases(&self) -> Vec<(u32, u32)> {
        self.layers.iter().map(|l| (l.bw, l.ba)).collect()
    }

    /// The exact pass over `rows` (all of the same width as the network's inputs and
    /// outputs). `None` when some integer needs more than [`MAX_DIGITS`] digits.
    pub fn block(&self, rows: &[RowInts]) -> Option<BlockExact> {
        match &self.ifma {
            Some(layers) => ifma::block(self, layers, rows),
            None => self.block_f64(rows),
        }
    }

    /// [`LimbNet::block`] on `f64` digit products.
    fn block_f64(&self, rows: &[RowInts]) -> Option<BlockExact> {
        let rb = rows.len();
        let n0 = self.arch.inputs();
        // constant column C_1 = d 2^-p
        let mut constant = constant_column(rows)?;
        let ba0 = self.layers[0].ba;
        let t0 = rows
            .iter()
            .flat_map(|r| r.x.iter())
            .chain(&constant)
            .map(|v| v.digits(ba0))
            .max()
            .unwrap_or(0)
            .max(1);
        if t0 > MAX_DIGITS {
            return None;
        }
        let mut input: Vec<Array2<f64>> = vec![Array2::zeros((rb, n0 + 1)); t0];
        for (m, row) in rows.iter().enumerate() {
            for (i, v) in row
                .x
                .iter()
                .chain(std::iter::once(&constant[m]))
                .enumerate()
            {
                v.write_digits(ba0, |t, d| input[t][[m, i]] = d);
            }
        }
        let mut signs = Vec::with_capacity(self.layers.len() - 1);
        for (li, layer) in self.layers.iter().enumerate() {
            let width = self.arch.width(li + 1);
            let (bw, ba) = (u64::from(layer.bw), u64::from(layer.ba));
            // every product of an input digit plane and a weight digit plane, exact (module
            // docs), with its power of two; all-zero input planes contribute nothing
            let mut prods: Vec<(u64, Array2<f64>)> =
                Vec::with_capacity(input.len() * layer.planes.len());
            for (t, a) in input.iter().enumerate() {
                if a.iter().all(|&v| v == 0.0) {
                    continue;
                }
                for (s, w) in layer.planes.iter().enumerate() {
                    prods.push((bw * s as u64 + ba * t as u64, a.dot(w)));
                }
            }
            // |Z| < #prods 2^{53 + max shift}: limbs of 32 bits with room for the sign
            let top = prods.iter().map(|(sh, _)| *sh).max().unwrap_or(0)
                + 53
                + u64::from(
                    (prods.len() as u64 + 1)
                        .next_power_of_two()
                        .trailing_zeros(),
                )
                + 1;
            let nlimbs = usize::try_from(top.div_ceil(32)).ok()?;
            let slices: Vec<(usize, u32, &[f64])> = prods
                .iter()
                .map(|(sh, p)| {
                    (
                        (*sh / 32) as usize,
                        (*sh % 32) as u32,
                        p.as_slice().expect("standard layout"),
                    )
                })
                .collect();
            let cells = rb * width;
            let last = li + 1 == self.layers.len();
            let mut limbs = vec![0u32; if last { nlimbs } else { cells * nlimbs }];
            let mut sign = Array2::<i8>::zeros((rb, width));
            let mut used_bits = 0u64;
            let mut out: Vec<Vec<BigInt>> = if last {
                (0..rb).map(|_| Vec::with_capacity(width)).collect()
            } else {
                Vec::new()
            };
            let mut acc = vec![0i128; nlimbs];
            for (c, sg) in sign.iter_mut().enumerate() {
                acc.iter_mut().for_each(|a| *a = 0);
                for &(q, r, p) in &slices {
                    // an integer below 2^53 in magnitude: exact in i64; shifted below 2^85
                    acc[q] += i128::from(p[c] as i64) << r;
                }
                let cell = if last {
                    &mut limbs[..]
                } else {
                    &mut limbs[c * nlimbs..(c + 1) * nlimbs]
                };
                let mut carry = 0i128;
                let mut high = 0usize;
                for (q, (a, l)) in acc.iter().zip(cell.iter_mut()).enumerate() {
                    let t = a + carry;
                    *l = (t & 0xffff_ffff) as u32;
                    carry = t >> 32;
                    if *l != 0 {
                        high = q + 1;
                    }
                }
                debug_assert!(carry == 0 || carry == -1);
                *sg = if carry == -1 {
                    -1
                } else if high > 0 {
                    1
                } else {
                    0
                };
                if last {
                    let mut v = BigInt::from(num_bigint::BigUint::from_slice(cell));
                    if carry == -1 {
                        v -= BigInt::one() << (32 * nlimbs);
                    }
                    out[c / width].push(v);
                } else if *sg > 0 {
                    let b = 32 * high as u64 - u64::from(cell[high - 1].leading_zeros());
                    used_bits = used_bits.max(b);
                }
            }
            if last {
                return Some(BlockExact { signs, out });
            }
            drop(prods);
            // the next input: digits of ReLU(Z_k) in the next layer's input base, and
            // C_{k+1} = C_k 2^{s_k}
            let bn = self.layers[li + 1].ba;
            for c in &mut constant {
                c.shift = c.shift.checked_add(layer.shift)?;
            }
            let used = usize::try_from(used_bits.div_ceil(u64::from(bn))).ok()?;
            let t_next = constant
                .iter()
                .map(|v| v.digits(bn))
                .max()
                .unwrap_or(0)
                .max(used)
                .max(1);
            if t_next > MAX_DIGITS {
                return None;
            }
            let mut next = vec![Array2::<f64>::zeros((rb, width + 1)); t_next];
            for ((m, j), &sg) in sign.indexed_iter() {
                if sg > 0 {
                    let c = m * width + j;
                    let cell = &limbs[c * nlimbs..(c + 1) * nlimbs];
                    for (t, plane) in next.iter_mut().enumerate().take(used) {
                        // below 2^bn <= 2^52: exact
                        plane[[m, j]] = bits_at(cell, u64::from(bn) * t as u64, bn) as f64;
                    }
                }
            }
            for (m, c) in constant.iter().enumerate() {
                c.write_digits(bn, |t, d| next[t][[m, width]] = d);
            }
            input = next;
            signs.push(sign);
        }
        unreachable!("the output layer returns")
    }

    /// The exact outputs `z_L` of a row from its block result.
    pub fn output_values(&self, row: &RowInts, z: &[BigInt]) -> Vec<crate::scalar::BigRational> {
        let e = row.p - self.output_shift() as i64;
        let d = BigInt::from(row.d);
        z.iter().map(|v| scaled(v.clone(), e, &d)).collect()
    }
}

pub mod ifma;
mod ints;
pub use ints::{RowInts, ShiftedInt, dyadic_f64, scaled};

#[cfg(test)]
mod tests;
