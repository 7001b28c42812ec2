//! Tensors from NumPy `.npy`/`.npz` files (crate ndarray-npy) and safetensors files, as
//! `f64`, for data (`--data npy:X.npy[,Y.npy]`, `npz:FILE`, `safetensors:FILE`) and weights
//! (`--weights FILE.npz`).
//!
//! Element types `float64`, `float32` and the integer types are read; every `float32` and
//! every integer of magnitude `<= 2^53` is exactly its `f64`, so a tensor is *exact* unless
//! it holds a larger integer (then the nearest `f64` is used and the tensor is marked
//! rounded). NaN and infinities are rejected. A file's declared shape is checked against
//! its size before anything is allocated.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Errors reading tensors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TensorError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An array whose bytes or shape are not what is expected.
    #[error("{path}: {member}{source}")]
    Array {
        /// The file.
        path: PathBuf,
        /// The `.npz` member and `": "`, or nothing.
        member: String,
        /// What is wrong.
        source: ArrayError,
    },
    /// Not a zip archive (an `.npz` is one).
    #[error("{path}: not an .npz (zip) file: {source}")]
    Zip {
        /// The file.
        path: PathBuf,
        /// The archive reader's error.
        source: zip::result::ZipError,
    },
    /// A member of the `.npz` archive that cannot be opened.
    #[error("{path}: member {index}: {source}")]
    Member {
        /// The file.
        path: PathBuf,
        /// Its position in the archive.
        index: usize,
        /// The archive reader's error.
        source: zip::result::ZipError,
    },
    /// A member of the `.npz` archive that cannot be read.
    #[error("{path}: member {name}: {source}")]
    MemberRead {
        /// The file.
        path: PathBuf,
        /// The member.
        name: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A member larger than [`MAX_MEMBER_BYTES`].
    #[error("{path}: member {name} has {bytes} bytes (limit {MAX_MEMBER_BYTES})")]
    MemberSize {
        /// The file.
        path: PathBuf,
        /// The member.
        name: String,
        /// Its size.
        bytes: u64,
    },
    /// Not a safetensors file.
    #[error("{path}: not a safetensors file: {source}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: safetensors::SafeTensorError,
    },
    /// A safetensors tensor of a type other than floats and integers.
    #[error("{path}: tensor {name:?} has dtype {dtype} (float64, float32 and integers are read)")]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: String,
    },
    /// A NaN or infinity in a safetensors tensor.
    #[error("{path}: tensor {name:?} entry {index} is {value} (not a finite number)")]
    NotFinite {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Its position, row-major.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// What is wrong with an array's bytes or shape (the file is named by
/// [`TensorError::Array`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// Not the `.npy` format.
    #[error("not a .npy array (bad magic)")]
    Magic,
    /// A `.npy` version this reader does not know.
    #[error("unsupported .npy version {0}")]
    Version(u8),
    /// The `.npy` header is cut short or has no readable shape.
    #[error("{0}")]
    Header(&'static str),
    /// A dimension of the header that is not a number.
    #[error("bad dimension {0:?} in the .npy header")]
    Dimension(String),
    /// The header declares more elements than the file has bytes.
    #[error("header declares {count} elements but the array has {bytes} bytes")]
    Declared {
        /// Elements declared.
        count: usize,
        /// Bytes present.
        bytes: usize,
    },
    /// The array reader failed.
    #[error("{0}")]
    Npy(#[from] ndarray_npy::ReadNpyError),
    /// An element type other than floats and integers.
    #[error("unsupported dtype (float64, float32 and integer arrays are read)")]
    Dtype,
    /// A NaN or an infinity.
    #[error("entry {index} is {value} (not a finite number)")]
    NotFinite {
        /// Its position, row-major.
        index: usize,
        /// The value.
        value: f64,
    },
    /// `x` or `y` of the wrong shape.
    #[error("{what} has shape {shape:?}, expected (M, {per}) with M >= 1")]
    Shape {
        /// `x` or `y`.
        what: &'static str,
        /// The shape found.
        shape: Vec<usize>,
        /// Entries per point expected.
        per: usize,
    },
    /// `x` and `y` of different lengths.
    #[error("x has {x} points but y has {y}")]
    Points {
        /// Points of `x`.
        x: usize,
        /// Points of `y`.
        y: usize,
    },
}

/// A tensor in `f64`, row-major (C order).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The entries, row-major.
    pub data: Vec<f64>,
    /// Whether every entry is exactly the stored value.
    pub exact: bool,
}

/// Most bytes of one `.npz` member read into memory.
pub const MAX_MEMBER_BYTES: u64 = 1 << 34;

fn read_file(path: &Path) -> Result<Vec<u8>, TensorError> {
    std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.into(),
        source,
    })
}

/// The shape declared in an `.npy` header, checked so that its element count cannot
/// exceed the bytes present (every element takes at least one byte).
fn declared_elements(bytes: &[u8]) -> Result<usize, ArrayError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(ArrayError::Magic);
    }
    let (start, len): (usize, usize) = match bytes[6] {
        1 => (10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
        2 | 3 if bytes.len() >= 12 => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
        v => return Err(ArrayError::Version(v)),
    };
    let header = bytes
        .get(start..start.saturating_add(len))
        .ok_or(ArrayError::Header("truncated .npy header"))?;
    let header = String::from_utf8_lossy(header);
    let shape = header
        .split_once("'shape'")
        .and_then(|(_, r)| r.split_once('('))
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(s, _)| s)
        .ok_or(ArrayError::Header("no shape in the .npy header"))?;
    let mut count: usize = 1;
    for part in shape.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: usize = part
            .trim_end_matches('L')
            .parse()
            .map_err(|_| ArrayError::Dimension(part.to_string()))?;
        count = count
            .checked_mul(d)
            .ok_or(ArrayError::Header("shape overflows"))?;
    }
    if count > bytes.len() {
        return Err(ArrayError::Declared {
            count,
            bytes: bytes.len(),
        });
    }
    Ok(count)
}

/// Reads an `.npy` array held in memory.
fn npy_from_bytes(bytes: &[u8]) -> Result<Tensor, ArrayError> {
    use ndarray::ArrayD;
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    declared_elements(bytes)?;
    fn attempt<T: ndarray_npy::ReadableElement + Clone>(
        bytes: &[u8],
        conv: impl Fn(T) -> (f64, bool),
    ) -> Option<Result<Tensor, ArrayError>> {
        match ArrayD::<T>::read_npy(std::io::Cursor::new(bytes)) {
            Err(ReadNpyError::WrongDescriptor(_)) => None,
            Err(e) => Some(Err(ArrayError::Npy(e))),
            Ok(a) => {
                let shape = a.shape().to_vec();
                let mut exact = true;
                let data: Vec<f64> = a
                    .iter()
                    .map(|v| {
                        let (f, ex) = conv(v.clone());
                        exact &= ex;
                        f
                    })
                    .collect();
                Some(Ok(Tensor { shape, data, exact }))
            }
        }
    }
    const BIG: u64 = 1 << 53;
    let t = attempt::<f64>(bytes, |v| (v, true))
        .or_else(|| attempt::<f32>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<i64>(bytes, |v| (v as f64, v.unsigned_abs() <= BIG)))
        .or_else(|| attempt::<u64>(bytes, |v| (v as f64, v <= BIG)))
        .or_else(|| attempt::<i32>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<u32>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<i16>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<u16>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<i8>(bytes, |v| (f64::from(v), true)))
        .or_else(|| attempt::<u8>(bytes, |v| (f64::from(v), true)))
        .unwrap_or(Err(ArrayError::Dtype))?;
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(ArrayError::NotFinite {
            index: i,
            value: t.data[i],
        });
    }
    Ok(t)
}

/// Reads a `.npy` file.
///
/// # Errors
/// [`TensorError`] naming the file.
pub fn read_npy(path: &Path) -> Result<Tensor, TensorError> {
    npy_from_bytes(&read_file(path)?).map_err(|source| TensorError::Array {
        path: path.into(),
        member: String::new(),
        source,
    })
}

/// Reads every array of an `.npz` file (plain or compressed), by name (without `.npy`).
///
/// # Errors
/// [`TensorError`] naming the file and the member.
pub fn read_npz(path: &Path) -> Result<Vec<(String, Tensor)>, TensorError> {
    let file = std::fs::File::open(path).map_err(|source| TensorError::Io {
        path: path.into(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|source| TensorError::Zip {
        path: path.into(),
        source,
    })?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|source| TensorError::Member {
            path: path.into(),
            index: i,
            source,
        })?;
        let name = member.name().to_string();
        if member.size() > MAX_MEMBER_BYTES {
            return Err(TensorError::MemberSize {
                path: path.into(),
                name,
                bytes: member.size(),
            });
        }
        let mut bytes = Vec::new();
        (&mut member)
            .take(MAX_MEMBER_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|source| TensorError::MemberRead {
                path: path.into(),
                name: name.clone(),
                source,
            })?;
        let tensor = npy_from_bytes(&bytes).map_err(|source| TensorError::Array {
            path: path.into(),
            member: format!("{name}: "),
            source,
        })?;
        out.push((name.trim_end_matches(".npy").to_string(), tensor));
    }
    Ok(out)
}

/// Reads every tensor of a safetensors file, in the file's order.
///
/// # Errors
/// [`TensorError`] naming the file and the tensor.
pub fn read_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>, TensorError> {
    use safetensors::Dtype;
    let bytes = read_file(path)?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|source| {
        TensorError::Safetensors {
            path: path.into(),
            source,
        }
    })?;
    let mut out = Vec::new();
    for (name, view) in st.tensors() {
        let b = view.data();
        macro_rules! conv {
            ($t:ty, $n:expr, $f:expr) => {
                b.chunks_exact($n)
                    .map(|c| $f(<$t>::from_le_bytes(c.try_into().expect("chunk size"))))
                    .collect::<Vec<(f64, bool)>>()
            };
        }
        const BIG: u64 = 1 << 53;
        let pairs = match view.dtype() {
            Dtype::F64 => conv!(f64, 8, |v| (v, true)),
            Dtype::F32 => conv!(f32, 4, |v: f32| (f64::from(v), true)),
            Dtype::I64 => conv!(i64, 8, |v: i64| (v as f64, v.unsigned_abs() <= BIG)),
            Dtype::U64 => conv!(u64, 8, |v: u64| (v as f64, v <= BIG)),
            Dtype::I32 => conv!(i32, 4, |v: i32| (f64::from(v), true)),
            Dtype::U32 => conv!(u32, 4, |v: u32| (f64::from(v), true)),
            Dtype::I16 => conv!(i16, 2, |v: i16| (f64::from(v), true)),
            Dtype::U16 => conv!(u16, 2, |v: u16| (f64::from(v), true)),
            Dtype::I8 => conv!(i8, 1, |v: i8| (f64::from(v), true)),
            Dtype::U8 => conv!(u8, 1, |v: u8| (f64::from(v), true)),
            other => {
                return Err(TensorError::Dtype {
                    path: path.into(),
                    name,
                    dtype: format!("{other:?}"),
                });
            }
        };
        let exact = pairs.iter().all(|p| p.1);
        let data: Vec<f64> = pairs.into_iter().map(|p| p.0).collect();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(TensorError::NotFinite {
                path: path.into(),
                name,
                index: i,
                value: data[i],
            });
        }
        out.push((
            name.to_string(),
            Tensor {
                shape: view.shape().to_vec(),
                data,
                exact,
            },
        ));
    }
    Ok(out)
}

/// Inputs, targets if present, and whether every entry is exact.
pub type DataArrays = (ndarray::Array2<f64>, Option<ndarray::Array2<f64>>, bool);

/// Data `(x, y)` from tensors: `x` of shape `(M, ...)` with `l_0` entries per point
/// (flattened row-major), `y` of shape `(M,)` or `(M, l_L)`, or absent.
///
/// # Errors
/// A message saying which shape does not fit.
pub fn data_arrays(
    x: Tensor,
    y: Option<Tensor>,
    inputs: usize,
    outputs: usize,
) -> Result<DataArrays, ArrayError> {
    let rows = |t: &Tensor, per: usize, what: &'static str| -> Result<usize, ArrayError> {
        let shape_err = || ArrayError::Shape {
            what,
            shape: t.shape.clone(),
            per,
        };
        let m = *t.shape.first().ok_or_else(shape_err)?;
        let rest: usize = t.shape[1..].iter().product();
        if rest != per || m == 0 || Some(t.data.len()) != m.checked_mul(per) {
            return Err(shape_err());
        }
        Ok(m)
    };
    let m = rows(&x, inputs, "x")?;
    let mut exact = x.exact;
    let xa = ndarray::Array2::from_shape_vec((m, inputs), x.data)
        .expect("the shape was checked against the entries");
    let ya = match y {
        None => None,
        Some(y) => {
            let my = rows(&y, outputs, "y")?;
            if my != m {
                return Err(ArrayError::Points { x: m, y: my });
            }
            exact &= y.exact;
            Some(
                ndarray::Array2::from_shape_vec((m, outputs), y.data)
                    .expect("the shape was checked against the entries"),
            )
        }
    };
    Ok((xa, ya, exact))
}

#[cfg(test)]
mod tests;
