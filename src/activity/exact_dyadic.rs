//! The exact fallback of the filtered forward pass: integer sums at a common power-of-two
//! scale.
//!
//! Weights, biases and data read from `f32`/`f64` values are dyadic rationals
//! `m 2^e`. A layer's weights are stored as integers at one common exponent, a layer's
//! values as integers at one common exponent, so a pre-activation is an integer dot
//! product (no gcd, no rational normalization).
//!
//! Values that are not dyadic (`1/3`, or a decimal such as `0.1` read from CSV) are
//! handled by an odd scale: with `Q_k` the least common multiple of the odd parts of the
//! denominators of `W_k` and `B_k`, and `D_x` that of the inputs of one point `x`,
//!
//! ```text
//! x~ = D_x x,  W~_k = Q_k W_k,  P_k = D_x Q_1 ... Q_k,  B~_k = P_k B_k   (all dyadic)
//! z~_k = W~_k ReLU(z~_{k-1}) + B~_k = P_k z_k        (z~_0 = x~, no ReLU on the input)
//! ```
//!
//! by induction (`ReLU(P t) = P ReLU(t)` for `P > 0`), so `sign(z_k) = sign(z~_k)` and
//! `z_k = z~_k / P_k` exactly. For dyadic data and weights every `Q_k = D_x = 1` and the
//! scale disappears.

use crate::net::Network;
use crate::scalar::BigRational;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// A vector of dyadic rationals `m_i 2^e` at one common exponent `e`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntVec {
    /// The integers `m_i`.
    pub m: Vec<BigInt>,
    /// The common exponent.
    pub e: i64,
}

impl IntVec {
    /// Dyadic rationals at a common exponent; `None` if some value is not dyadic.
    pub fn from_rationals(values: &[BigRational]) -> Option<Self> {
        let mut parts = Vec::with_capacity(values.len());
        for q in values {
            parts.push(dyadic_parts(q)?);
        }
        let e = parts
            .iter()
            .filter(|(m, _)| !m.is_zero())
            .map(|(_, e)| *e)
            .min()
            .unwrap_or(0);
        let m = parts
            .into_iter()
            .map(|(m, ex)| {
                if m.is_zero() {
                    m
                } else {
                    m << (ex - e) as usize
                }
            })
            .collect();
        Some(Self { m, e })
    }

    /// Brings the vector to exponent `e` (`e` must not exceed the current exponent).
    fn lower_to(&mut self, e: i64) {
        debug_assert!(e <= self.e);
        let shift = (self.e - e) as usize;
        if shift > 0 {
            for v in &mut self.m {
                if !v.is_zero() {
                    *v <<= shift;
                }
            }
        }
        self.e = e;
    }

    /// The exact value of entry `i`, divided by the odd scale `scale`.
    pub fn value(&self, i: usize, scale: &BigInt) -> BigRational {
        let m = &self.m[i];
        if self.e >= 0 {
            BigRational::new(m << self.e as usize, scale.clone())
        } else {
            BigRational::new(m.clone(), scale << (-self.e) as usize)
        }
    }
}

/// `q = m 2^e` when the denominator of `q` is a power of two.
pub fn dyadic_parts(q: &BigRational) -> Option<(BigInt, i64)> {
    let d = q.denom();
    let tz = d.trailing_zeros().unwrap_or(0);
    if !(d >> tz as usize).is_one() {
        return None;
    }
    Some((q.numer().clone(), -(tz as i64)))
}

/// The odd part of a positive integer.
fn odd_part(d: &BigInt) -> BigInt {
    let tz = d.trailing_zeros().unwrap_or(0);
    d >> tz as usize
}

/// The least common multiple of the odd parts of the denominators of `values`.
pub fn odd_scale<'a>(values: impl IntoIterator<Item = &'a BigRational>) -> BigInt {
    let mut l = BigInt::one();
    for q in values {
        if q.denom().is_one() {
            continue;
        }
        let odd = odd_part(q.denom());
        if !odd.is_one() && !(&l % &odd).is_zero() {
            l = l.lcm(&odd);
        }
    }
    l
}

/// `q * scale` as a dyadic `(m, e)`; `scale` must clear the odd part of `q`'s denominator.
fn scaled_dyadic(q: &BigRational, scale: &BigInt) -> (BigInt, i64) {
    if scale.is_one() {
        return dyadic_parts(q).expect("the scale clears every odd denominator");
    }
    let d = q.denom();
    let tz = d.trailing_zeros().unwrap_or(0);
    let odd = d >> tz as usize;
    let (quot, rem) = scale.div_rem(&odd);
    debug_assert!(rem.is_zero(), "the scale clears every odd denominator");
    (q.numer() * quot, -(tz as i64))
}

/// Values at a common exponent from `(m, e)` pairs.
fn common(parts: Vec<(BigInt, i64)>) -> IntVec {
    let e = parts
        .iter()
        .filter(|(m, _)| !m.is_zero())
        .map(|(_, e)| *e)
        .min()
        .unwrap_or(0);
    let m = parts
        .into_iter()
        .map(|(m, ex)| {
            if m.is_zero() {
                m
            } else {
                m << (ex - e) as usize
            }
        })
        .collect();
    IntVec { m, e }
}

struct ExactLayer {
    rows: usize,
    cols: usize,
    /// `W~_k` row-major at one exponent.
    weights: IntVec,
    /// `Q_1 ... Q_k`.
    cumulative_scale: BigInt,
    /// `B~_k` for points with `D_x = 1`.
    bias_unit: IntVec,
    /// Per weight: `(negative, |w~|)` when `|w~|` fits 64 bits.
    small: Vec<Option<(bool, u64)>>,
}

/// `acc += w a` on little-endian 64-bit limbs (`acc` has room for the carry).
fn mul_add(acc: &mut [u64], w: u64, a: &[u64]) {
    let mut carry: u128 = 0;
    for (slot, &limb) in acc.iter_mut().zip(a) {
        let t = *slot as u128 + (w as u128) * (limb as u128) + carry;
        *slot = t as u64;
        carry = t >> 64;
    }
    let mut k = a.len();
    while carry != 0 {
        let t = acc[k] as u128 + carry;
        acc[k] = t as u64;
        carry = t >> 64;
        k += 1;
    }
}

/// The non-negative integer of little-endian 64-bit limbs.
fn from_limbs(limbs: &[u64]) -> BigInt {
    let digits: Vec<u32> = limbs
        .iter()
        .flat_map(|&l| [l as u32, (l >> 32) as u32])
        .collect();
    BigInt::from_biguint(num_bigint::Sign::Plus, num_bigint::BigUint::new(digits))
}

/// A network prepared for exact dyadic forward passes.
pub struct ExactNet {
    layers: Vec<ExactLayer>,
}

/// The exact state of one point after some layer: `z~_layer` and `P_layer`.
#[derive(Debug, Clone)]
pub struct ExactPoint {
    /// The layer of `z` (0: the scaled input).
    pub layer: usize,
    /// `z~_layer`.
    pub z: IntVec,
    /// `P_layer` (odd, positive).
    pub scale: BigInt,
    /// `D_x`.
    input_scale: BigInt,
}

impl ExactPoint {
    /// The exact pre-activation `z_{layer, j}`.
    pub fn value(&self, j: usize) -> BigRational {
        self.z.value(j, &self.scale)
    }
    /// The sign of `z_{layer, j}` (`-1`, `0`, `1`).
    pub fn signum(&self, j: usize) -> i8 {
        match self.z.m[j].sign() {
            num_bigint::Sign::Minus => -1,
            num_bigint::Sign::NoSign => 0,
            num_bigint::Sign::Plus => 1,
        }
    }
}

impl ExactNet {
    /// Prepares `net` (one pass over the parameters).
    pub fn new(net: &Network<BigRational>) -> Self {
        let arch = net.arch();
        let p = net.params();
        let mut cumulative = BigInt::one();
        let layers = (1..=arch.depth())
            .map(|k| {
                let (rows, cols) = (arch.width(k), arch.width(k - 1));
                let range = arch.layer_range(k);
                let (w, b) = p[range].split_at(rows * cols);
                let q = odd_scale(w.iter().chain(b));
                cumulative *= &q;
                let weights = common(w.iter().map(|v| scaled_dyadic(v, &q)).collect());
                let bias_unit = common(b.iter().map(|v| scaled_dyadic(v, &cumulative)).collect());
                let small = weights
                    .m
                    .iter()
                    .map(|w| {
                        let digits = w.magnitude().to_u64_digits();
                        match digits.len() {
                            0 => Some((false, 0)),
                            1 => Some((w.is_negative(), digits[0])),
                            _ => None,
                        }
                    })
                    .collect();
                ExactLayer {
                    rows,
                    cols,
                    small,
                    weights,
                    cumulative_scale: cumulative.clone(),
                    bias_unit,
                }
            })
            .collect();
        Self { layers }
    }

    /// The number of affine layers `L`.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The state of point `x` before layer 1.
    pub fn start(&self, x: &[BigRational]) -> ExactPoint {
        let d = odd_scale(x);
        let z = common(x.iter().map(|v| scaled_dyadic(v, &d)).collect());
        ExactPoint {
            layer: 0,
            z,
            scale: d.clone(),
            input_scale: d,
        }
    }

    /// Advances `point` by one layer (ReLU of the current values, then the affine map).
    pub fn advance(&self, point: &mut ExactPoint) {
        let layer = &self.layers[point.layer];
        let relu = point.layer > 0;
        let input = &point.z;
        let e = layer.weights.e + input.e;
        let mut sums: Vec<BigInt> = Vec::with_capacity(layer.rows);
        // the inputs that contribute, as (index, negative, magnitude limbs)
        let active: Vec<(usize, bool, Vec<u64>)> = (0..layer.cols)
            .filter_map(|i| {
                let v = &input.m[i];
                if v.is_zero() || relu && v.is_negative() {
                    return None;
                }
                Some((i, v.is_negative(), v.magnitude().to_u64_digits()))
            })
            .collect();
        let limbs = active.iter().map(|(_, _, l)| l.len()).max().unwrap_or(0) + 2;
        let (mut pos, mut neg) = (vec![0u64; limbs], vec![0u64; limbs]);
        // one-limb inputs (f32 data, say): 128-bit products summed in 192 bits
        let one_limb = limbs <= 3;
        for j in 0..layer.rows {
            if one_limb {
                let row = &layer.weights.m[j * layer.cols..(j + 1) * layer.cols];
                let small = &layer.small[j * layer.cols..(j + 1) * layer.cols];
                let (mut p, mut n) = ((0u128, 0u64), (0u128, 0u64));
                let mut big = BigInt::zero();
                for (i, a_negative, a) in &active {
                    match small[*i] {
                        Some((_, 0)) => {}
                        Some((w_negative, w)) => {
                            let t = w as u128 * a[0] as u128;
                            let acc = if w_negative != *a_negative {
                                &mut n
                            } else {
                                &mut p
                            };
                            let (lo, carry) = acc.0.overflowing_add(t);
                            *acc = (lo, acc.1 + u64::from(carry));
                        }
                        None => big += &row[*i] * &input.m[*i],
                    }
                }
                let wide = |(lo, hi): (u128, u64)| from_limbs(&[lo as u64, (lo >> 64) as u64, hi]);
                sums.push(wide(p) - wide(n) + big);
                continue;
            }
            let row = &layer.weights.m[j * layer.cols..(j + 1) * layer.cols];
            let small = &layer.small[j * layer.cols..(j + 1) * layer.cols];
            pos.fill(0);
            neg.fill(0);
            let mut big = BigInt::zero();
            for (i, a_negative, a) in &active {
                match small[*i] {
                    Some((_, 0)) => {}
                    Some((w_negative, w)) => {
                        let acc = if w_negative != *a_negative {
                            &mut neg
                        } else {
                            &mut pos
                        };
                        mul_add(acc, w, a);
                    }
                    None => big += &row[*i] * &input.m[*i],
                }
            }
            sums.push(from_limbs(&pos) - from_limbs(&neg) + big);
        }
        let mut z = IntVec { m: sums, e };
        // B~_k = (Q_1 ... Q_k B_k) D_x
        let mut bias = layer.bias_unit.clone();
        if !point.input_scale.is_one() {
            for b in &mut bias.m {
                if !b.is_zero() {
                    *b *= &point.input_scale;
                }
            }
        }
        let target = z.e.min(bias.e);
        z.lower_to(target);
        bias.lower_to(target);
        for (s, b) in z.m.iter_mut().zip(&bias.m) {
            if !b.is_zero() {
                *s += b;
            }
        }
        point.layer += 1;
        point.scale = &point.input_scale * &layer.cumulative_scale;
        point.z = z;
    }

    /// The exact output `N(x)`.
    pub fn output(&self, x: &[BigRational]) -> Vec<BigRational> {
        let mut p = self.start(x);
        while p.layer < self.depth() {
            self.advance(&mut p);
        }
        (0..p.z.m.len()).map(|j| p.value(j)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;
    use crate::scalar::q;

    #[test]
    fn exact_forward_matches_rationals_with_mixed_denominators() {
        let arch = Arch::new(vec![2, 3, 2, 1]).unwrap();
        let params: Vec<BigRational> = [
            (1, 3),
            (-1, 2),
            (5, 4),
            (1, 1),
            (0, 1),
            (-7, 8),
            (1, 10),
            (3, 16),
            (-1, 5),
            (2, 1),
            (1, 7),
            (-1, 3),
            (1, 2),
            (1, 1),
            (-3, 4),
            (1, 9),
            (1, 1),
            (-1, 1),
            (1, 1024),
            (-5, 6),
        ]
        .iter()
        .map(|&(n, d)| q(n, d))
        .collect();
        let net = Network::new(arch.clone(), params).unwrap();
        let exact = ExactNet::new(&net);
        for x in [
            vec![q(1, 10), q(-3, 7)],
            vec![q(0, 1), q(0, 1)],
            vec![q(5, 2), q(1, 1)],
            vec![q(-1, 3), q(1, 1 << 20)],
        ] {
            let pass = net.forward(&x);
            let mut p = exact.start(&x);
            for k in 1..=arch.depth() {
                exact.advance(&mut p);
                let got: Vec<BigRational> = (0..arch.width(k)).map(|j| p.value(j)).collect();
                assert_eq!(got, pass.pre[k - 1], "layer {k} at {x:?}");
                for (j, z) in pass.pre[k - 1].iter().enumerate() {
                    assert_eq!(
                        p.signum(j) as i32,
                        z.signum().to_integer().try_into().unwrap_or(0i32)
                    );
                }
            }
            assert_eq!(exact.output(&x), net.output(&x));
        }
    }

    #[test]
    fn odd_scales_and_dyadic_parts() {
        assert_eq!(dyadic_parts(&q(3, 8)), Some((BigInt::from(3), -3)));
        assert_eq!(dyadic_parts(&q(1, 3)), None);
        assert_eq!(odd_scale(&[q(1, 10), q(1, 6), q(1, 4)]), BigInt::from(15));
    }
}
