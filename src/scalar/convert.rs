//! Exact conversions between scalar types: `f64` to rationals, one scalar type to another
//! through the exact value, and the ordered sum.

use super::{BigRational, Scalar, ScalarError, rational_string};
use num_bigint::BigInt;
use num_traits::{One, Zero};

/// `n/d` as an exact rational (`d != 0`).
pub(crate) fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// Exact image of a finite `f64` as a [`BigRational`].
///
/// # Errors
/// [`ScalarError::NonFinite`] for NaN and infinities.
pub fn rational_from_f64(x: f64) -> Result<BigRational, ScalarError> {
    if !x.is_finite() {
        return Err(ScalarError::NonFinite {
            value: x.to_string(),
        });
    }
    // x = m 2^e with an integer m < 2^53: lowest terms by removing the common factors of
    // two (the denominator is a power of two), without a gcd
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    if m == 0 {
        return Ok(BigRational::zero());
    }
    let tz = m.trailing_zeros() as i64;
    m >>= tz;
    e += tz;
    let n = if x < 0.0 {
        -BigInt::from(m)
    } else {
        BigInt::from(m)
    };
    Ok(if e >= 0 {
        BigRational::from_integer(n << e as usize)
    } else {
        BigRational::new_raw(n, BigInt::one() << (-e) as usize)
    })
}

/// Converts a vector of `f64` to exact scalars.
///
/// # Errors
/// [`ScalarError::NonFinite`] at the first non-finite entry.
pub fn vec_from_f64<S: Scalar>(values: &[f64]) -> Result<Vec<S>, ScalarError> {
    values.iter().map(|&v| S::from_f64(v)).collect()
}

/// Converts a value to another scalar type, through its exact value.
///
/// A value that is one known rational (every exact value, every finite `f64`, a point
/// enclosure) is converted with [`Scalar::from_rational`]: exactly for exact targets, to
/// the nearest double for `f64`, to the tightest enclosure for [`DyadicInterval`](super::DyadicInterval).
/// Nothing goes through `f64` unless the target is `f64`: a non-point enclosure becomes
/// its midpoint there, and is refused by every exact target.
///
/// # Errors
/// [`ScalarError::NonFinite`] for a NaN or an infinity; [`ScalarError::NotAPoint`] for a
/// non-point enclosure and an exact target.
pub fn convert<S: Scalar, T: Scalar>(value: &S) -> Result<T, ScalarError> {
    match value.to_rational() {
        Some(q) => {
            let t = T::from_rational(&q);
            if !T::EXACT && !t.to_f64().is_finite() {
                return Err(ScalarError::BeyondF64 {
                    value: crate::limits::shown_bare(&rational_string(&q)),
                });
            }
            Ok(t)
        }
        None if T::EXACT && S::EXACT => Err(ScalarError::NotAPoint {
            value: value.to_exact_string(),
            target: T::NAME,
        }),
        // A NaN or an infinity (the only f64 without a rational value), or an enclosure
        // going to f64 as its midpoint.
        None => T::from_f64(value.to_f64()),
    }
}

/// Sum of a slice, left to right (an ordered reduction: deterministic in `f64`).
pub fn sum<S: Scalar>(values: &[S]) -> S {
    values.iter().fold(S::zero(), |acc, v| acc.add_ref(v))
}
