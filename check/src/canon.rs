//! Canonical serialization and the digest.
//!
//! Canonical JSON: object keys sorted by their bytes, no whitespace, strings and numbers
//! written as `serde_json` writes them. This is byte-for-byte what version 1 hashed
//! (`serde_json::to_string` of a `Value` with sorted maps), without depending on
//! `serde_json`'s map order feature. The digest is the SHA-256 (lower-case hex) of the
//! canonical JSON of the certificate without its top-level `digest` field. It guards
//! against accidental edits and truncation; anyone can recompute it, so it proves
//! nothing about the claims, which the checker verifies one by one.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;

/// Writes the canonical JSON of `v`, skipping the top-level key `skip` if given.
///
/// # Errors
/// Any error of the writer.
pub fn write_canonical<W: Write>(
    v: &Value,
    skip: Option<&str>,
    out: &mut W,
) -> std::io::Result<()> {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.write_all(b"{")?;
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, k)?;
                out.write_all(b":")?;
                write_canonical(&map[k.as_str()], None, out)?;
            }
            out.write_all(b"}")
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(x, None, out)?;
            }
            out.write_all(b"]")
        }
        leaf => serde_json::to_writer(&mut *out, leaf).map_err(std::io::Error::from),
    }
}

/// The canonical JSON of `v` as a string.
pub fn canonical(v: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(v, None, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// The digest of a certificate: SHA-256 of its canonical JSON without `digest`.
pub fn digest(cert: &Value) -> String {
    let mut hasher = Sha256::new();
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hasher);
        write_canonical(cert, Some("digest"), &mut buffered).expect("hashing does not fail");
        buffered.flush().expect("hashing does not fail");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sets `cert["digest"]` to the digest of the rest (what the writer does last, and what
/// a test does to reseal a certificate after breaking one claim).
pub fn seal(cert: &mut Value) {
    let d = digest(cert);
    if let Some(map) = cert.as_object_mut() {
        map.insert("digest".into(), Value::String(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_sorted_and_compact() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, "x\"y"], "a": {"d": null, "c": true}, "é": 0.5}"#)
                .unwrap();
        assert_eq!(
            canonical(&v),
            r#"{"a":{"c":true,"d":null},"b":[1,"x\"y"],"é":0.5}"#
        );
        let mut with = v.clone();
        with["digest"] = Value::from("zz");
        assert_eq!(digest(&with), digest(&v));
        // SHA-256 of the canonical text, computed independently of this module
        let text = canonical(&v);
        let hex: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest(&v), hex);
    }
}
