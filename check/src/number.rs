//! Exact numbers: the checker's own parser (with size limits) and text form.
//!
//! Accepted: an integer `-12`, a fraction `p/q` (`q != 0`, signs allowed on both), and a
//! decimal `[-+]digits[.digits][e[-+]digits]`. Surrounding whitespace is ignored.
//! Limits: at most [`MAX_DIGITS`] digits, a decimal exponent of at most [`MAX_EXPONENT`]
//! in absolute value after moving the point; both are checked on the text before any
//! big number is built, so `1e-9223372036854775808` and a 100 KB decimal are refused at
//! once.

use crate::limits::{Limit, MAX_DIGITS, MAX_EXPONENT, too_large};
use crate::{CheckError, unreadable};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

fn bad(text: &str, what: &str) -> CheckError {
    let shown: String = text.chars().take(40).collect();
    let more = if text.chars().count() > 40 { "..." } else { "" };
    unreadable(format!("{what}: {shown:?}{more} is not an exact number"))
}

fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn strip_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn integer(s: &str) -> Option<BigInt> {
    let (negative, body) = strip_sign(s);
    if !digits_only(body) {
        return None;
    }
    let n: BigInt = body.parse().ok()?;
    Some(if negative { -n } else { n })
}

fn ten_to(n: u64) -> BigInt {
    num_traits::pow(BigInt::from(10u32), n as usize)
}

/// Parses an exact number (`what` names it in errors).
///
/// # Errors
/// [`CheckError::Unreadable`] for bad syntax or a zero denominator,
/// [`CheckError::TooLarge`] naming [`Limit::Digits`] or [`Limit::Exponent`].
pub fn parse(text: &str, what: &str) -> Result<BigRational, CheckError> {
    // at most MAX_DIGITS digits plus a few signs, a point, a slash and an exponent
    if text.len() > MAX_DIGITS + 64 {
        return Err(too_large(
            Limit::Digits,
            format!("{what}: a number of {} characters", text.len()),
        ));
    }
    let s = text.trim();
    if let Some((p, q)) = s.split_once('/') {
        let (p, q) = (p.trim(), q.trim());
        let digits = p.len() + q.len();
        if digits > MAX_DIGITS {
            return Err(too_large(Limit::Digits, format!("{what}: {digits} digits")));
        }
        let num = integer(p).ok_or_else(|| bad(text, what))?;
        let den = integer(q).ok_or_else(|| bad(text, what))?;
        if den.is_zero() {
            return Err(unreadable(format!("{what}: zero denominator in {s:?}")));
        }
        return Ok(BigRational::new(num, den));
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(pos) => (&s[..pos], Some(&s[pos + 1..])),
        None => (s, None),
    };
    let (negative, body) = strip_sign(mantissa);
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad(text, what));
    }
    let digits = int_part.len() + frac_part.len();
    if digits > MAX_DIGITS {
        return Err(too_large(Limit::Digits, format!("{what}: {digits} digits")));
    }
    let exp: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (neg, body) = strip_sign(e);
            if !digits_only(body) {
                return Err(bad(text, what));
            }
            let trimmed = body.trim_start_matches('0');
            // more than 6 significant digits is more than MAX_EXPONENT already
            if trimmed.len() > 6 {
                return Err(too_large(
                    Limit::Exponent,
                    format!("{what}: exponent {}{body}", if neg { "-" } else { "" }),
                ));
            }
            let v: i64 = if trimmed.is_empty() {
                0
            } else {
                trimmed.parse().map_err(|_| bad(text, what))?
            };
            if neg { -v } else { v }
        }
    };
    // |exp| <= 999_999 and frac_part.len() <= MAX_DIGITS: no overflow
    let scale = exp - frac_part.len() as i64;
    if scale.unsigned_abs() > MAX_EXPONENT {
        return Err(too_large(
            Limit::Exponent,
            format!("{what}: a decimal exponent of {scale}"),
        ));
    }
    let all = format!("{int_part}{frac_part}");
    let m: BigInt = all.parse().map_err(|_| bad(text, what))?;
    let m = if negative { -m } else { m };
    let factor = ten_to(scale.unsigned_abs());
    Ok(if scale >= 0 {
        BigRational::from_integer(m * factor)
    } else {
        BigRational::new(m, factor)
    })
}

/// The text form the writer uses: `p` for integers, else `p/q` in lowest terms.
pub fn show(q: &BigRational) -> String {
    if q.denom().is_one() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
}

/// A number for people: six significant digits (scientific notation outside
/// `[1e-4, 1e6)`), then the exact fraction when it is short (`0.0947232 (exactly
/// 219/2312)`), or its size when it is not.
pub fn readable(q: &BigRational) -> String {
    use num_traits::ToPrimitive;
    let x = q.to_f64().unwrap_or(f64::NAN);
    let decimal = if x == 0.0 {
        "0".to_string()
    } else if (1e-4..1e6).contains(&x.abs()) {
        let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
        let t = format!("{x:.decimals$}");
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    } else {
        format!("{x:.5e}")
    };
    let exact = show_if_short(q);
    if exact == decimal {
        decimal
    } else {
        format!("{decimal} ({exact})")
    }
}

fn show_if_short(q: &BigRational) -> String {
    let bits = q.numer().bits() + q.denom().bits();
    if bits <= 128 {
        format!("exactly {}", show(q))
    } else {
        format!("exactly a fraction of {bits} bits")
    }
}

/// [`show`] for messages: numbers over 1000 bits are abbreviated to a float
/// approximation and their size (writing a huge number in decimal is itself slow).
pub fn brief(q: &BigRational) -> String {
    let bits = q.numer().bits() + q.denom().bits();
    if bits <= 1000 {
        show(q)
    } else {
        use num_traits::ToPrimitive;
        format!(
            "~{:e} (a fraction of {bits} bits)",
            q.to_f64().unwrap_or(f64::NAN)
        )
    }
}

/// A float-friendly reading of small numbers without building a big integer: `p`,
/// `-p`, `p/q` with at most 15 digits each (so `|p|, q < 2^53` are exact f64s) returns
/// `(p, q)`. Anything else returns `None` (and is parsed by [`parse`]). The language is
/// a subset of [`parse`]'s, with the same value.
pub fn small_fraction(text: &str) -> Option<(i64, u64)> {
    let (p, q) = match text.split_once('/') {
        Some((p, q)) => (p, q),
        None => (text, "1"),
    };
    let (negative, body) = match p.as_bytes().first() {
        Some(b'-') => (true, &p[1..]),
        _ => (false, p),
    };
    if body.len() > 15 || q.len() > 15 || !digits_only(body) || !digits_only(q) {
        return None;
    }
    let num: i64 = body.parse().ok()?;
    let den: u64 = q.parse().ok()?;
    if den == 0 {
        return None;
    }
    Some((if negative { -num } else { num }, den))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn values() {
        assert_eq!(parse("-12", "x").unwrap(), q(-12, 1));
        assert_eq!(parse(" 6/-4 ", "x").unwrap(), q(-3, 2));
        assert_eq!(parse("1.25e-2", "x").unwrap(), q(1, 80));
        assert_eq!(parse("-.5E1", "x").unwrap(), q(-5, 1));
        assert_eq!(parse("3.", "x").unwrap(), q(3, 1));
        assert_eq!(parse("+7e+0002", "x").unwrap(), q(700, 1));
        assert_eq!(show(&q(-3, 2)), "-3/2");
        assert_eq!(show(&q(4, 2)), "2");
        assert_eq!(small_fraction("-3/16"), Some((-3, 16)));
        assert_eq!(small_fraction("1.5"), None);
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "", "-", ".", "1/0", "1/", "/2", "e5", "1e", "1e+", "0x10", "1 2", "1.2.3", "--1",
            "nan", "inf",
        ] {
            assert!(
                matches!(parse(bad, "x"), Err(CheckError::Unreadable(_))),
                "{bad:?}"
            );
        }
    }

    /// Issue 15 items 1 and 7: rejected at once, naming the limit.
    #[test]
    fn limits_are_named_and_fast() {
        let start = Instant::now();
        let huge = "1".repeat(100_000);
        let long_decimal = format!("0.{huge}");
        let too_many = "1".repeat(MAX_DIGITS + 1);
        let zero_den = format!("1/{}1", "0".repeat(MAX_DIGITS));
        let cases: [(&str, Limit); 6] = [
            ("1e-9223372036854775808", Limit::Exponent),
            ("1e-100000", Limit::Exponent),
            ("1e1201", Limit::Exponent),
            (&long_decimal, Limit::Digits),
            (&too_many, Limit::Digits),
            (&zero_den, Limit::Digits),
        ];
        for (text, limit) in cases {
            match parse(text, "x") {
                Err(CheckError::TooLarge { limit: l, .. }) => {
                    assert_eq!(l, limit, "{}", &text[..20])
                }
                other => panic!("{}: {other:?}", &text[..20]),
            }
        }
        // the largest accepted exponent and digit count are cheap too
        assert!(parse("1e-1200", "x").is_ok());
        assert!(parse(&"9".repeat(MAX_DIGITS), "x").is_ok());
        assert!(start.elapsed().as_secs_f64() < 1.0, "{:?}", start.elapsed());
    }
}
