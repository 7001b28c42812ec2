//! Exact integers of the dyadic fallback: [`ShiftedInt`] (an integer split into base-`2^beta` digits for the limb products), the dyadic decomposition of an `f64`, [`RowInts`] (one data row at a common power-of-two scale) and [`scaled`].

use super::*;

/// A non-negative integer `mant 2^shift` with a sign: `(-1)^neg mant 2^shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShiftedInt {
    /// Negative.
    pub neg: bool,
    /// The odd-or-any mantissa.
    pub mant: u64,
    /// The power of two.
    pub shift: u32,
}

impl ShiftedInt {
    /// `v` as `(-1)^neg mant 2^shift`.
    pub fn from_i64(v: i64) -> Self {
        Self {
            neg: v < 0,
            mant: v.unsigned_abs(),
            shift: 0,
        }
    }

    /// Bits of `|self|` (0 for zero).
    pub(super) fn bits(&self) -> u64 {
        if self.mant == 0 {
            0
        } else {
            u64::from(64 - self.mant.leading_zeros()) + u64::from(self.shift)
        }
    }

    /// Number of base-`2^beta` digits of `|self|` (0 for zero).
    pub(super) fn digits(&self, beta: u32) -> usize {
        self.bits().div_ceil(u64::from(beta)) as usize
    }

    /// Digit `t` of `|self|` in base `2^beta`, with the sign of `self`.
    pub(super) fn digit(&self, t: usize, beta: u32) -> f64 {
        let mask = (1u128 << beta) - 1;
        let lo = t as u64 * u64::from(beta);
        let shift = u64::from(self.shift);
        let d = if lo + u64::from(beta) <= shift {
            0
        } else if lo >= shift {
            let s = lo - shift;
            if s >= 64 {
                0
            } else {
                (u128::from(self.mant >> s) & mask) as u64
            }
        } else {
            // shift - lo < beta
            ((u128::from(self.mant) << (shift - lo)) & mask) as u64
        };
        let d = d as f64; // below 2^beta: exact
        if self.neg { -d } else { d }
    }

    /// Calls `put(t, digit t)` for every nonzero digit (with the sign of `self`).
    #[inline]
    pub(super) fn write_digits(&self, beta: u32, mut put: impl FnMut(usize, f64)) {
        if self.mant == 0 {
            return;
        }
        let top = 64 - self.mant.leading_zeros() + self.shift;
        if top <= 128 {
            let mask = (1u128 << beta) - 1;
            let mut v = u128::from(self.mant) << self.shift;
            let mut t = 0;
            while v != 0 {
                let d = ((v & mask) as u64) as f64; // below 2^beta: exact
                if d != 0.0 {
                    put(t, if self.neg { -d } else { d });
                }
                v >>= beta;
                t += 1;
            }
        } else {
            for t in 0..self.digits(beta) {
                let d = self.digit(t, beta);
                if d != 0.0 {
                    put(t, d);
                }
            }
        }
    }

    /// The integer.
    pub fn to_bigint(self) -> BigInt {
        let v = BigInt::from(self.mant) << self.shift as usize;
        if self.neg { -v } else { v }
    }
}

/// `v = (-1)^neg m 2^e` with `m` odd (`None` for zero or a value that is not finite).
#[inline]
pub fn dyadic_f64(v: f64) -> Option<(bool, u64, i64)> {
    if !v.is_finite() || v == 0.0 {
        return None;
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    let tz = m.trailing_zeros();
    Some((v < 0.0, m >> tz, e + i64::from(tz)))
}

/// One data row in the engine's form: `x_i = X_i 2^p / d`, `y_o = Y_o 2^p / d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowInts {
    /// `p <= 0`.
    pub p: i64,
    /// `d >= 1`.
    pub d: u64,
    /// `X`.
    pub x: Vec<ShiftedInt>,
    /// `Y`.
    pub y: Vec<ShiftedInt>,
}

impl RowInts {
    /// A row of doubles (`d = 1`); `None` if a value is not finite or the spread of
    /// exponents is beyond [`MAX_DIGITS`].
    pub fn from_f64(x: &[f64], y: &[f64]) -> Option<Self> {
        // one pass over the bits writes every value's sign, odd mantissa and exponent
        // (the exponent parked in `shift`, offset by EXP_BIAS so that it is
        // non-negative), finding the lowest and highest exponents; a second pass over
        // the written integers turns exponents into shifts from the lowest (every shift
        // checked in advance, so it cannot fail). The second pass stays in cache and
        // does not decode the doubles again.
        const EXP_BIAS: i64 = 2048; // exponents are in -1074 ..= 971
        let (mut p, mut top) = (0i64, i64::MIN);
        let mut decode = |vals: &[f64]| -> Option<Vec<ShiftedInt>> {
            let mut out = Vec::with_capacity(vals.len());
            for &v in vals {
                if !v.is_finite() {
                    return None;
                }
                out.push(match dyadic_f64(v) {
                    None => ShiftedInt::default(),
                    Some((neg, mant, e)) => {
                        p = p.min(e);
                        top = top.max(e);
                        ShiftedInt {
                            neg,
                            mant,
                            shift: (e + EXP_BIAS) as u32,
                        }
                    }
                });
            }
            Some(out)
        };
        let mut xs = decode(x)?;
        let mut ys = decode(y)?;
        // top is i64::MIN (no nonzero value) or an exponent; p >= -1074
        if top > p + 64 * 32 {
            return None;
        }
        let base = (p + EXP_BIAS) as u32;
        for v in xs.iter_mut().chain(ys.iter_mut()) {
            // a zero keeps shift 0; otherwise e - p, in 0 ..= 2048 (checked above)
            v.shift = if v.mant == 0 { 0 } else { v.shift - base };
        }
        Some(Self {
            p,
            d: 1,
            x: xs,
            y: ys,
        })
    }

    /// The exact value `Y_o 2^p / d` of target `o`.
    pub fn y_value(&self, o: usize) -> crate::scalar::BigRational {
        scaled(self.y[o].to_bigint(), self.p, &BigInt::from(self.d))
    }

    /// The exact value `X_i 2^p / d` of input `i`.
    pub fn x_value(&self, i: usize) -> crate::scalar::BigRational {
        scaled(self.x[i].to_bigint(), self.p, &BigInt::from(self.d))
    }
}

/// `n 2^e / d` as a rational.
pub fn scaled(n: BigInt, e: i64, d: &BigInt) -> crate::scalar::BigRational {
    if e >= 0 {
        crate::scalar::BigRational::new(n << e as usize, d.clone())
    } else {
        crate::scalar::BigRational::new(n, d << (-e) as usize)
    }
}
