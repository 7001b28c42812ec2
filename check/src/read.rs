//! Reading the certificate's JSON: the document (duplicate keys refused), fields, exact
//! numbers, lists, counts.

use crate::filter::{approx, approx_small};
use crate::number::{parse, small_fraction};
use crate::{CheckError, unreadable};
use num_rational::BigRational;
use serde_core::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parses `text` as one JSON value, refusing a key that appears twice in an object
/// (`serde_json` alone keeps the last one silently, so a certificate could show one value
/// to a reader and another to the checker).
pub(crate) fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A JSON value as `serde_json` builds it, with the duplicate check in objects.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let mut shown: String = key.chars().take(60).collect();
                if shown.len() < key.len() {
                    shown.push('…');
                }
                return Err(de::Error::custom(format!("duplicate key {shown:?}")));
            }
            let value = map.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let e = strict_json(r#"{"format":"a","format":"b"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key \"format\""), "{e}");
        assert!(strict_json(r#"{"claims":[{"x":"1","y":"2","x":"3"}]}"#).is_err());
        assert!(strict_json(r#"{"a":{"b":1},"c":{"b":2}}"#).is_ok());
    }

    #[test]
    fn values_are_those_of_serde_json() {
        let text = r#"{"a":[1,-2,3.5,"1/3",null,true,false],"b":{"c":18446744073709551615}}"#;
        assert_eq!(
            strict_json(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(strict_json("{} x").is_err());
        assert!(strict_json("").is_err());
    }
}
