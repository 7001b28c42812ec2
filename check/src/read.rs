//! Reading the certificate's JSON: fields, exact numbers, lists, counts.

use crate::filter::{approx, approx_small};
use crate::number::{parse, small_fraction};
use crate::{CheckError, unreadable};
use num_rational::BigRational;
use serde_json::Value;

pub(crate) fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, CheckError> {
    v.get(name)
        .ok_or_else(|| unreadable(format!("missing field {name:?}")))
}

pub(crate) fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], CheckError> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| unreadable(format!("{what}: expected a list")))
}

pub(crate) fn number(v: &Value, what: &str) -> Result<BigRational, CheckError> {
    match v {
        Value::String(s) => parse(s, what),
        _ => Err(unreadable(format!("{what}: expected an exact string"))),
    }
}

pub(crate) fn vector(v: &Value, what: &str) -> Result<Vec<BigRational>, CheckError> {
    list(v, what)?
        .iter()
        .enumerate()
        .map(|(i, x)| number(x, &format!("{what}[{i}]")))
        .collect()
}

pub(crate) fn count(v: &Value, what: &str) -> Result<usize, CheckError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| unreadable(format!("{what}: expected a non-negative integer")))
}

/// A number read as a float with a bound (see [`crate::filter`]); small fractions take
/// a fast path, everything else the exact parser. Fails exactly where [`number`] fails.
pub(crate) fn float(v: &Value, what: &str) -> Result<(f64, f64), CheckError> {
    match v {
        Value::String(s) => match small_fraction(s) {
            Some((p, q)) => Ok(approx_small(p, q)),
            None => Ok(approx(&parse(s, what)?)),
        },
        _ => Err(unreadable(format!("{what}: expected an exact string"))),
    }
}
