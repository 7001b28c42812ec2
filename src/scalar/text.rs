//! Exact rationals from and to text: the reader of integers, ratios and decimals (read
//! exactly, with limits on huge inputs) and the lowest-terms writer.

use super::{BigRational, ScalarError};
use crate::limits::{MAX_DECIMAL_EXPONENT, MAX_EXACT_DIGITS};
use num_bigint::BigInt;
use num_traits::{One, Zero};

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
