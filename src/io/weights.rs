//! Reading and writing theta as JSON: `{"arch":[..],"params":[..]}` in the layout of
//! MECHANISM.md, entries as JSON numbers (read as the exact value of the double) or as
//! exact strings (`"13/48"`, `"-0.1"`).

use crate::net::{Arch, NetError};
use crate::scalar::{BigRational, ScalarError, parse_rational, rational_from_f64, rational_string};
use std::path::{Path, PathBuf};

/// Errors reading weights.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not JSON (or has a key twice).
    #[error("{path}: not JSON: {source}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// No `"arch"` list.
    #[error("{path}: missing \"arch\" (a list of widths)")]
    MissingArch {
        /// The file.
        path: PathBuf,
    },
    /// An entry of `arch` that is not a width.
    #[error("{path}: arch[{index}] = {found} is not a non-negative integer")]
    Width {
        /// The file.
        path: PathBuf,
        /// 0-based index into `arch`.
        index: usize,
        /// The entry as JSON.
        found: String,
    },
    /// No `"params"` list.
    #[error("{path}: missing \"params\" (a list)")]
    MissingParams {
        /// The file.
        path: PathBuf,
    },
    /// An entry of `params` whose nearest `f64` is infinite (read in `f64` only).
    #[error("{path}: params[{index}] is not finite in f64")]
    NotFiniteF64 {
        /// The file.
        path: PathBuf,
        /// 0-based index into `params`.
        index: usize,
    },
    /// An entry of `params` that is not an exact number.
    #[error("{path}: params[{index}]: {source}")]
    Entry {
        /// The file.
        path: PathBuf,
        /// 0-based index into `params`.
        index: usize,
        /// The cause.
        source: EntryError,
    },
    /// Architecture and parameter count disagree.
    #[error("{path}: {source}")]
    Net {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: NetError,
    },
}

/// Why a JSON entry is not an exact number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// A string that is not an exact number, or a number that is not finite.
    #[error(transparent)]
    Scalar(#[from] ScalarError),
    /// A JSON number that is not an `i64` and has no `f64` value.
    #[error("number {number} is not representable")]
    Unrepresentable {
        /// The number as JSON.
        number: String,
    },
    /// Neither a number nor a string.
    #[error("expected a number or an exact string, got {found}")]
    WrongType {
        /// The value as JSON.
        found: String,
    },
}

/// Reads an entry: a JSON number (its exact double value) or an exact string.
///
/// # Errors
/// [`EntryError`] naming what is wrong.
pub fn exact_from_json(v: &serde_json::Value) -> Result<BigRational, EntryError> {
    match v {
        serde_json::Value::String(s) => Ok(parse_rational(s)?),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(BigRational::from_integer(i.into()));
            }
            let f = n.as_f64().ok_or_else(|| EntryError::Unrepresentable {
                number: n.to_string(),
            })?;
            Ok(rational_from_f64(f)?)
        }
        other => Err(EntryError::WrongType {
            found: other.to_string(),
        }),
    }
}

/// Reads a weights document up to its entries: the architecture and the `params` list,
/// its length checked against the architecture (the one parser of [`read_json`] and the
/// `f64` reader of [`crate::io::read_weights_f64`]).
///
/// # Errors
/// [`WeightsError`] naming the file and what is wrong.
pub(crate) fn read_document(path: &Path) -> Result<(Arch, Vec<serde_json::Value>), WeightsError> {
    let text = std::fs::read_to_string(path).map_err(|source| WeightsError::Io {
        path: path.into(),
        source,
    })?;
    let mut v: serde_json::Value =
        crate::io::strict_json::parse(&text).map_err(|source| WeightsError::NotJson {
            path: path.into(),
            source,
        })?;
    let widths = v
        .get("arch")
        .and_then(|a| a.as_array())
        .ok_or_else(|| WeightsError::MissingArch { path: path.into() })?
        .iter()
        .enumerate()
        .map(|(index, w)| {
            w.as_u64()
                .and_then(|w| usize::try_from(w).ok())
                .ok_or_else(|| WeightsError::Width {
                    path: path.into(),
                    index,
                    found: w.to_string(),
                })
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let arch = Arch::new(widths).map_err(|source| WeightsError::Net {
        path: path.into(),
        source,
    })?;
    let Some(serde_json::Value::Array(params)) = v.get_mut("params").map(serde_json::Value::take)
    else {
        return Err(WeightsError::MissingParams { path: path.into() });
    };
    if params.len() != arch.num_params() {
        return Err(WeightsError::Net {
            path: path.into(),
            source: NetError::ParamCount {
                arch: arch.to_string(),
                expected: arch.num_params(),
                got: params.len(),
            },
        });
    }
    Ok((arch, params))
}

/// Reads `{"arch":[..],"params":[..]}` from `path`.
///
/// # Errors
/// [`WeightsError`] naming the file and the offending entry.
pub fn read_json(path: &Path) -> Result<(Arch, Vec<BigRational>), WeightsError> {
    let (arch, params) = read_document(path)?;
    let params = params
        .iter()
        .enumerate()
        .map(|(index, p)| {
            exact_from_json(p).map_err(|source| WeightsError::Entry {
                path: path.into(),
                index,
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((arch, params))
}

/// The JSON object `{"arch":[..],"params":[..]}` with exact strings.
pub fn to_json(arch: &Arch, params: &[BigRational]) -> serde_json::Value {
    serde_json::json!({
        "arch": arch.widths(),
        "params": params.iter().map(rational_string).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    /// Writes `text` to a scratch file and reads it as weights.
    fn read(text: &str, tag: &str) -> Result<(Arch, Vec<BigRational>), WeightsError> {
        let dir = std::env::temp_dir().join(format!("deadrelu-w-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.json");
        std::fs::write(&path, text).unwrap();
        let r = read_json(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        r
    }

    #[test]
    fn every_refusal_names_its_facts_and_keeps_its_cause() {
        let e = read(r#"{"arch":[1,1,1],"params":[1,2,3,4]"#, "eof").unwrap_err();
        let WeightsError::NotJson { ref source, .. } = e else {
            panic!("{e}")
        };
        assert!(source.is_eof() && source.line() == 1, "{e}");
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));
        assert!(
            e.to_string()
                .contains("w.json: not JSON: EOF while parsing"),
            "{e}"
        );
        let e = read(r#"{"arch":[1,-1,1],"params":[]}"#, "width").unwrap_err();
        assert!(
            matches!(e, WeightsError::Width { index: 1, ref found, .. } if found == "-1"),
            "{e}"
        );
        assert!(matches!(
            read(r#"{"params":[]}"#, "arch").unwrap_err(),
            WeightsError::MissingArch { .. }
        ));
        assert!(matches!(
            read(r#"{"arch":[1,1,1],"params":{}}"#, "params").unwrap_err(),
            WeightsError::MissingParams { .. }
        ));
        let e = read(r#"{"arch":[1,1,1],"params":[1,2,3]}"#, "count").unwrap_err();
        assert!(
            matches!(
                e,
                WeightsError::Net {
                    source: NetError::ParamCount {
                        expected: 4,
                        got: 3,
                        ..
                    },
                    ..
                }
            ),
            "{e}"
        );
        let e = read(r#"{"arch":[1,1,1],"params":[1,"1/0",3,4]}"#, "entry").unwrap_err();
        assert!(
            matches!(
                e,
                WeightsError::Entry {
                    index: 1,
                    source: EntryError::Scalar(_),
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.source().is_some_and(|s| s.is::<EntryError>()));
        let (arch, p) = read(r#"{"arch":[1,1,1],"params":[1,"1/3",-2,0.5]}"#, "ok").unwrap();
        assert_eq!(arch.widths(), &[1, 1, 1]);
        assert_eq!(p[1], crate::scalar::q(1, 3));
        assert_eq!(p[3], crate::scalar::q(1, 2));
    }
}
