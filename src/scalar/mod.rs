//! The scalar layer: one Copy-free [`Scalar`] trait and its implementations.
//!
//! Every numerical routine of the crate (forward pass, risk, gradient, optimizers) is
//! written once, generic over `S: Scalar`, and runs on
//!
//! - `f64` (fast, rounded; the Monte Carlo path),
//! - [`BigRational`] from num-rational (exact, pure Rust, the default exact type),
//! - `rug::Rational` (exact, GMP; cargo feature `gmp`),
//! - [`Interval`] over an exact rational type (certified enclosures for the optimizers
//!   that need square roots or real powers).
//!
//! Arithmetic is by reference (`a.add_ref(&b)`), so big numbers are never copied implicitly.
//! Hyperparameters are built from integer ratios ([`Scalar::from_ratio`]), never from an
//! `f64` literal: `from_ratio(9, 10)` is exactly 9/10 in exact mode, while
//! `from_f64(0.9)` would be the dyadic rational nearest to 0.9.

mod bigrational;
mod dyadic;
mod f64interval;
mod float;
#[cfg(feature = "gmp")]
mod gmp;
mod interval;
pub mod iv;

pub use dyadic::{Dyadic, DyadicInterval};
pub use f64interval::F64Interval;
pub use interval::{
    DEFAULT_PREC, Interval, RationalField, Real, pow_ratio_enclosure, sqrt_enclosure,
};

use num_bigint::BigInt;
pub use num_rational::BigRational;
use num_traits::{One, Zero};
use std::fmt;

use crate::limits::{MAX_DECIMAL_EXPONENT, MAX_EXACT_DIGITS};

/// Errors of the scalar layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScalarError {
    /// A NaN or an infinity was offered where a finite number is required.
    #[error("non-finite number {value} (NaN and infinities are not numbers here)")]
    NonFinite {
        /// The offending value as printed by Rust.
        value: String,
    },
    /// A string could not be read as an exact number.
    #[error(
        "cannot read {text} as an exact number (expected an integer, a decimal like -0.25 or 1e-3, or a ratio p/q)"
    )]
    Unparsable {
        /// The text that was offered (quoted; shortened when long).
        text: String,
    },
    /// A ratio with denominator zero.
    #[error("zero denominator in {text}")]
    ZeroDenominator {
        /// The text that was offered.
        text: String,
    },
    /// A value that is not one known number (an enclosure wider than a point) was to be
    /// converted to a type that holds only one number.
    #[error("cannot convert the enclosure {value} to {target}: it is not a single number")]
    NotAPoint {
        /// The value, as [`Scalar::to_exact_string`] prints it.
        value: String,
        /// [`Scalar::NAME`] of the target type.
        target: &'static str,
    },
    /// An exact number beyond the range of `f64` (it rounds to an infinity), where an `f64`
    /// computation needs it.
    #[error("{value} is beyond the range of f64 (it rounds to infinity; exact mode takes it)")]
    BeyondF64 {
        /// The number (shortened when long).
        value: String,
    },
    /// A number over the size limits of [`crate::limits`] (too many digits, or a decimal
    /// exponent too large in magnitude).
    #[error("exact number {text} is too large: {what} (limit {limit})")]
    TooLarge {
        /// The start of the text that was offered (at most 40 characters).
        text: String,
        /// What is over the limit.
        what: String,
        /// The limit.
        limit: u64,
    },
}

/// The outcome of a sign test. Exact types always decide; an enclosure that contains
/// zero in its interior (or is not a point at zero) may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    /// Strictly below zero.
    Negative,
    /// Exactly zero.
    Zero,
    /// Strictly above zero.
    Positive,
    /// The value is not known well enough to decide (an enclosure straddling zero, or a
    /// NaN in `f64`).
    Undecided,
}

impl Sign {
    /// `Some(true)` when the value is `<= 0` for sure, `Some(false)` when it is `> 0` for
    /// sure, `None` when undecided. This is the test "inactive" of MECHANISM.md.
    pub fn is_nonpositive(self) -> Option<bool> {
        match self {
            Sign::Negative | Sign::Zero => Some(true),
            Sign::Positive => Some(false),
            Sign::Undecided => None,
        }
    }
}

/// A number type the network code is generic over.
///
/// Built on num-traits: [`Zero`] and [`One`] are supertraits, so `S::zero()`, `S::one()`
/// and `x.is_zero()` are num-traits' own (and the operator traits `Add` and `Mul` that
/// they require are implemented by value). The crate's arithmetic is Copy-free and by
/// reference: [`Scalar::add_ref`] and its siblings take their operands by reference and
/// return a new value, so big numbers are never moved or copied implicitly. (They are
/// named `*_ref` so that they do not collide with `Add::add` and `Mul::mul` in generic
/// code.)
///
/// # Laws
/// For exact implementations (`EXACT == true`) the operations are those of the ordered
/// field of rationals: `add`/`mul` are associative and commutative, `mul` distributes over
/// `add`, `zero`/`one` are neutral, `a.sub_ref(&a)` is zero, `a.div_ref(&a)` is one for non-zero
/// `a`, and [`Scalar::sign`] never answers [`Sign::Undecided`]. For `f64` the same hold up
/// to IEEE rounding. For enclosures ([`Interval`]) every operation is *inclusion
/// isotone*: the result contains every exact result of operands drawn from the inputs;
/// and operations on point operands whose exact result is rational give that point
/// (no widening of values that are known exactly).
///
/// [`Scalar::relu`] and [`Scalar::relu_derivative`] follow MECHANISM.md:
/// `ReLU(t) = max(t, 0)`, `ReLU'(t) = 1` if `t > 0`, else `0` (so `ReLU'(0) = 0`).
pub trait Scalar: Clone + fmt::Debug + Send + Sync + Zero + One + 'static {
    /// Whether values of this type are exact (rationals or certified enclosures).
    const EXACT: bool;
    /// A short name for reports: `"f64"`, `"bigrational"`, `"rug"`, `"interval"`.
    const NAME: &'static str;

    /// The integer `n`.
    fn from_int(n: i64) -> Self;
    /// The ratio `num / den`, exact for exact types, correctly rounded for `f64`.
    ///
    /// # Panics
    /// **Panics if `den == 0`.** Callers use literal denominators.
    fn from_ratio(num: i64, den: u64) -> Self;
    /// The value of an exact rational: exact for exact types, nearest for `f64`.
    fn from_rational(q: &BigRational) -> Self;
    /// The exact value of a finite `f64` (its dyadic rational).
    ///
    /// # Errors
    /// [`ScalarError::NonFinite`] for NaN and infinities.
    fn from_f64(x: f64) -> Result<Self, ScalarError>;

    /// `self + rhs`.
    fn add_ref(&self, rhs: &Self) -> Self;
    /// `self - rhs`.
    fn sub_ref(&self, rhs: &Self) -> Self;
    /// `self * rhs`.
    fn mul_ref(&self, rhs: &Self) -> Self;
    /// `self / rhs`.
    ///
    /// # Panics
    /// **Panics for exact types if `rhs` is zero** (or, for enclosures, may contain zero);
    /// `f64` follows IEEE. The crate divides only by quantities it has made positive
    /// (batch sizes, `eps`-shifted denominators).
    fn div_ref(&self, rhs: &Self) -> Self;
    /// `-self`.
    fn neg_ref(&self) -> Self;
    /// `|self|`.
    fn abs(&self) -> Self;
    /// The larger of `self` and `other` (for enclosures: the enclosure of the maximum).
    fn max(&self, other: &Self) -> Self;

    /// The sign of the value, [`Sign::Undecided`] when it cannot be decided.
    fn sign(&self) -> Sign;
    /// `max(self, 0)`.
    fn relu(&self) -> Self;
    /// The generalized derivative: `1` where `self > 0`, `0` where `self <= 0`; for an
    /// undecided enclosure, the enclosure `[0, 1]`.
    fn relu_derivative(&self) -> Self;

    /// Whether the two values have the same representation (for exact types: are equal;
    /// for `f64`: have the same bits; for enclosures: the same endpoints). Used to check
    /// that frozen coordinates are *bit-identical*.
    fn identical(&self, other: &Self) -> bool;
    /// A nearby `f64` (the midpoint for enclosures).
    fn to_f64(&self) -> f64;
    /// The exact rational value, when the value is a single known rational.
    fn to_rational(&self) -> Option<BigRational>;
    /// The value as text: `"13/48"` for rationals (lowest terms, no `/1`), Rust's
    /// shortest round-trip form for `f64`, `"[lo, hi]"` for a non-point enclosure.
    fn to_exact_string(&self) -> String;

    /// `self * self`.
    fn square(&self) -> Self {
        self.mul_ref(self)
    }
}

/// Reads an exact rational from text: an integer (`-3`), a ratio (`13/48`, `-1/3`), or a
/// decimal with optional exponent (`0.1`, `-2.5e-3`, `1E6`). Decimals are read exactly
/// (`0.1` is 1/10, not the nearest double).
///
/// # Errors
/// [`ScalarError::Unparsable`] for anything else (including `nan`, `inf`),
/// [`ScalarError::ZeroDenominator`] for `p/0`.
pub fn parse_rational(text: &str) -> Result<BigRational, ScalarError> {
    let s = text.trim();
    let bad = || ScalarError::Unparsable {
        text: excerpt(text),
    };
    let too_large = |what: String, limit: u64| ScalarError::TooLarge {
        text: excerpt(text),
        what,
        limit,
    };
    if s.is_empty() {
        return Err(bad());
    }
    // Digits are counted before any big number is built, so a megabyte of digits is
    // refused at the cost of reading it once.
    let digit_count = s.bytes().filter(u8::is_ascii_digit).count();
    if digit_count > MAX_EXACT_DIGITS {
        return Err(too_large(
            format!("{digit_count} digits"),
            MAX_EXACT_DIGITS as u64,
        ));
    }
    if let Some((p, q)) = s.split_once('/') {
        let num: BigInt = parse_integer(p.trim()).ok_or_else(bad)?;
        let den: BigInt = parse_integer(q.trim()).ok_or_else(bad)?;
        if den.is_zero() {
            return Err(ScalarError::ZeroDenominator {
                text: excerpt(text),
            });
        }
        return Ok(BigRational::new(num, den));
    }
    let (mantissa, exponent_text) = match s.find(['e', 'E']) {
        Some(pos) => (&s[..pos], Some(&s[pos + 1..])),
        None => (s, None),
    };
    let (negative, digits) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // The exponent is read as an i128 (a digit count above bounds its length), so no
    // i64 edge case (`-9223372036854775808`) can wrap; the scale is checked before any
    // power of ten is built.
    let exponent: i128 = match exponent_text {
        Some(t) => {
            let body = t.strip_prefix(['-', '+']).unwrap_or(t);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            if body.trim_start_matches('0').len() > 30 {
                return Err(too_large(
                    "decimal exponent".to_string(),
                    MAX_DECIMAL_EXPONENT,
                ));
            }
            t.parse().map_err(|_| bad())?
        }
        None => 0,
    };
    let all_digits = format!("{int_part}{frac_part}");
    let significand = all_digits.parse::<BigInt>().map_err(|_| bad())?;
    if significand.is_zero() {
        return Ok(<BigRational as Zero>::zero());
    }
    let scale = exponent - frac_part.len() as i128;
    if scale.unsigned_abs() > u128::from(MAX_DECIMAL_EXPONENT) {
        return Err(too_large(
            format!("decimal exponent {scale}"),
            MAX_DECIMAL_EXPONENT,
        ));
    }
    let factor = num_traits::pow::pow(BigInt::from(10u32), scale.unsigned_abs() as usize);
    let value = if scale >= 0 {
        BigRational::from_integer(significand * factor)
    } else {
        BigRational::new(significand, factor)
    };
    Ok(if negative { -value } else { value })
}

/// `text` for error messages about huge inputs (shortened when long).
fn excerpt(text: &str) -> String {
    crate::limits::shown(text.trim())
}

fn parse_integer(s: &str) -> Option<BigInt> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `n/d` as an exact rational (`d != 0`).
pub(crate) fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// The text of an exact rational: lowest terms, denominator omitted when it is 1.
pub fn rational_string(q: &BigRational) -> String {
    // machine-word fast path (the common case: f32/f64 values), same text
    use num_traits::ToPrimitive;
    if let (Some(n), Some(d)) = (q.numer().to_i64(), q.denom().to_u64()) {
        return if d == 1 {
            n.to_string()
        } else {
            format!("{n}/{d}")
        };
    }
    if q.denom().is_one() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
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
/// the nearest double for `f64`, to the tightest enclosure for [`DyadicInterval`].
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rational_forms() {
        let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        assert_eq!(parse_rational("-3").unwrap(), q(-3, 1));
        assert_eq!(parse_rational("13/48").unwrap(), q(13, 48));
        assert_eq!(parse_rational("2/-4").unwrap(), q(-1, 2));
        assert_eq!(parse_rational("0.1").unwrap(), q(1, 10));
        assert_eq!(parse_rational("-2.5e-3").unwrap(), q(-1, 400));
        assert_eq!(parse_rational("1E2").unwrap(), q(100, 1));
        assert_eq!(parse_rational(".5").unwrap(), q(1, 2));
        assert_eq!(parse_rational("+7.").unwrap(), q(7, 1));
        for bad in [
            "", "nan", "inf", "1/", "/2", "1.2.3", "e5", "1e", "--1", "0x10", "1/2/3",
        ] {
            assert!(
                matches!(parse_rational(bad), Err(ScalarError::Unparsable { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_rational("1/0"),
            Err(ScalarError::ZeroDenominator { .. })
        ));
    }

    #[test]
    fn parse_rational_limits_refuse_huge_inputs_promptly() {
        let start = std::time::Instant::now();
        let huge_digits = format!("0.{}", "7".repeat(100_000));
        for text in [
            "1e-9223372036854775808",
            "1e9223372036854775807",
            "1e-100000",
            "1e99999999999999999999999999999999999999",
            "-1.5e-4001",
            huge_digits.as_str(),
        ] {
            assert!(
                matches!(parse_rational(text), Err(ScalarError::TooLarge { .. })),
                "{}",
                &text[..text.len().min(30)]
            );
        }
        let long_ratio = format!("{}/3", "1".repeat(4_001));
        assert!(matches!(
            parse_rational(&long_ratio),
            Err(ScalarError::TooLarge { .. })
        ));
        assert!(start.elapsed().as_secs_f64() < 1.0, "{:?}", start.elapsed());
        // At the limits the values are exact.
        let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        assert_eq!(parse_rational("0e-9223372036854775808").unwrap(), q(0, 1));
        let ratio = format!("{}/{}", "7".repeat(1999), "3".repeat(2000));
        let start = std::time::Instant::now();
        assert!(parse_rational(&ratio).is_ok());
        assert!(start.elapsed().as_secs_f64() < 0.5, "{:?}", start.elapsed());
        assert_eq!(
            parse_rational("1e-4000").unwrap(),
            BigRational::new(1.into(), num_traits::pow::pow(BigInt::from(10), 4000))
        );
        assert_eq!(
            parse_rational("25e-4000").unwrap(),
            parse_rational("2.5e-3999").unwrap()
        );
        assert!(matches!(
            parse_rational("1e-x"),
            Err(ScalarError::Unparsable { .. })
        ));
    }

    #[test]
    fn rational_strings_are_lowest_terms() {
        assert_eq!(
            rational_string(&BigRational::new(26.into(), 96.into())),
            "13/48"
        );
        assert_eq!(
            rational_string(&BigRational::new((-6).into(), 2.into())),
            "-3"
        );
        assert_eq!(rational_string(&BigRational::zero()), "0");
    }

    #[test]
    fn fast_f64_images_and_strings_match_the_general_ones() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -0.5,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            3.0e300,
            -7.25e-310,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                values.push(v);
                values.push(v as f32 as f64);
                values.retain(|v| v.is_finite());
            }
        }
        for v in values {
            let q = rational_from_f64(v).unwrap();
            let reference = BigRational::from_float(v).unwrap();
            assert_eq!(q, reference, "{v:e}");
            assert_eq!(
                (q.numer(), q.denom()),
                (reference.numer(), reference.denom())
            );
            let text = if reference.denom().is_one() {
                reference.numer().to_string()
            } else {
                format!("{}/{}", reference.numer(), reference.denom())
            };
            assert_eq!(rational_string(&q), text);
        }
    }

    #[test]
    fn f64_images_are_exact_and_reject_non_finite() {
        assert_eq!(
            rational_from_f64(0.1).unwrap(),
            BigRational::new(3602879701896397i64.into(), 36028797018963968i64.into())
        );
        assert!(matches!(
            rational_from_f64(f64::NAN),
            Err(ScalarError::NonFinite { .. })
        ));
        assert!(matches!(
            rational_from_f64(f64::INFINITY),
            Err(ScalarError::NonFinite { .. })
        ));
    }
}
