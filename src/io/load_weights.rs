//! Weights by file extension, straight to `f64` with per-layer exactness
//! ([`read_weights_f64`]) or exact ([`read_weights_exact`]): JSON, safetensors, `.npz`
//! state_dicts and (feature `onnx`) ONNX; `torch.save` files are named and refused.

use super::tensors;
use crate::io::weights::{EntryError, WeightsError};
use crate::net::Arch;
use crate::scalar::{BigRational, Scalar, rational_from_f64};
use std::path::{Path, PathBuf};

/// Errors reading weights in any format; each displays as one line naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadWeightsError {
    /// JSON weights that cannot be read.
    #[error(transparent)]
    Json(#[from] WeightsError),
    /// A safetensors or `.npz` state_dict that does not make a network.
    #[error(transparent)]
    StateDict(#[from] crate::io::safetensors::ImportError),
    /// A `.npz` archive that cannot be read.
    #[error(transparent)]
    Tensor(#[from] tensors::TensorError),
    /// An ONNX model that cannot be imported.
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Onnx(Box<crate::io::onnx_import::OnnxImportError>),
    /// `--layer-order` for a format without layer names.
    #[error("{}: --layer-order applies to .safetensors and .npz state_dicts only", .path.display())]
    LayerOrder {
        /// The file.
        path: PathBuf,
    },
    /// A `.npz` tensor of integers that `f64` does not hold exactly.
    #[error("{}: tensor {name:?} holds integers above 2^53", .path.display())]
    BigIntegers {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
    },
    /// A `torch.save` file or another zip archive given as JSON weights.
    #[error("{}: {what}, not JSON weights; deadrelu does not unpickle: save the state_dict as safetensors (safetensors.torch.save_file(model.state_dict(), \"m.safetensors\")), export ONNX, or pass the model to the Python package (deadrelu.inspect(model, X))", .path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// What the file is.
        what: &'static str,
    },
}

#[cfg(feature = "onnx")]
impl From<crate::io::onnx_import::OnnxImportError> for LoadWeightsError {
    fn from(e: crate::io::onnx_import::OnnxImportError) -> Self {
        LoadWeightsError::Onnx(Box::new(e))
    }
}

/// Theta from `path` in `f64` with per-layer exactness, by extension: `.safetensors`,
/// `.npz` (tensors named as a PyTorch `state_dict`: `fc1.weight`, `fc1.bias`, `0.weight`,
/// ...; the layer order from `layer_order` (`"fc1,fc2,head"`) when given, see
/// [`crate::io::safetensors::theta_from_tensors`]), `.onnx` (feature `onnx`) or JSON (`{"arch":[..],"params":[..]}`; numbers are their doubles, so exact; strings
/// like `"1/3"` are rounded to the nearest double and their layer marked rounded).
///
/// # Errors
/// A message naming the file and the entry.
pub fn read_weights_f64(
    path: &Path,
    layer_order: Option<&str>,
) -> Result<(Arch, Vec<f64>, Vec<bool>), LoadWeightsError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let exact_layers = |arch: &Arch| vec![true; arch.depth()];
    if layer_order.is_some() && !matches!(ext, "safetensors" | "npz") {
        return Err(LoadWeightsError::LayerOrder { path: path.into() });
    }
    match ext {
        "safetensors" => {
            let (arch, p) = crate::io::safetensors::read_safetensors_f64(path, layer_order)?;
            let ex = exact_layers(&arch);
            Ok((arch, p, ex))
        }
        "npz" => {
            let named = tensors::read_npz(path)?;
            if let Some((name, _)) = named.iter().find(|(_, t)| !t.exact) {
                return Err(LoadWeightsError::BigIntegers {
                    path: path.into(),
                    name: name.clone(),
                });
            }
            let named = named
                .into_iter()
                .map(|(n, t)| (n, t.shape, t.data))
                .collect();
            let (arch, p) =
                crate::io::safetensors::theta_from_tensors(path, named, layer_order, None)?;
            let ex = exact_layers(&arch);
            Ok((arch, p, ex))
        }
        #[cfg(feature = "onnx")]
        "onnx" => {
            let (arch, exact) = read_weights_exact(path, None)?;
            let p: Vec<f64> = exact.iter().map(crate::scalar::Scalar::to_f64).collect();
            // exact unless a Gemm alpha/beta made a product that is not a double
            let all = exact
                .iter()
                .zip(&p)
                .all(|(q, v)| rational_from_f64(*v).is_ok_and(|back| back == *q));
            let ex = vec![all; arch.depth()];
            Ok((arch, p, ex))
        }
        _ => {
            refuse_torch_save(path)?;
            read_json_f64(path)
        }
    }
}

/// Theta from `path`, exact, by extension (as [`read_weights_f64`]).
///
/// # Errors
/// A message naming the file and the entry.
pub fn read_weights_exact(
    path: &Path,
    layer_order: Option<&str>,
) -> Result<(Arch, Vec<BigRational>), LoadWeightsError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "safetensors" => Ok(crate::io::safetensors::read_safetensors_ordered(
            path,
            layer_order,
        )?),
        "npz" => {
            let (arch, p, _) = read_weights_f64(path, layer_order)?;
            let p = p
                .into_iter()
                .map(|v| rational_from_f64(v).expect("finite (checked)"))
                .collect();
            Ok((arch, p))
        }
        _ if layer_order.is_some() => Err(LoadWeightsError::LayerOrder { path: path.into() }),
        #[cfg(feature = "onnx")]
        "onnx" => Ok(crate::io::onnx_import::read_onnx(path)?),
        _ => {
            refuse_torch_save(path)?;
            Ok(crate::io::weights::read_json(path)?)
        }
    }
}

/// A `torch.save` file (a zip archive holding `data.pkl`, or a legacy pickle) given as
/// JSON weights: refused with a line saying what to give instead (deadrelu never
/// unpickles).
fn refuse_torch_save(path: &Path) -> Result<(), LoadWeightsError> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    // zip: a local file header, its name (length at 26) from byte 30
    let zip_name = (n >= 30 && head.starts_with(b"PK\x03\x04")).then(|| {
        let len = usize::from(u16::from_le_bytes([head[26], head[27]]));
        String::from_utf8_lossy(&head[30..n.min(30 + len)]).into_owned()
    });
    let pickle = n >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]);
    let what = match zip_name {
        Some(name) if name.ends_with(".pkl") => "a torch.save file (a zip archive of pickles)",
        Some(_) => "a zip archive (name a NumPy .npz file *.npz)",
        None if pickle => "a torch.save file (a pickle)",
        None => return Ok(()),
    };
    Err(LoadWeightsError::NotJson {
        path: path.into(),
        what,
    })
}

/// JSON weights straight to `f64` (see [`read_weights_f64`]).
fn read_json_f64(path: &Path) -> Result<(Arch, Vec<f64>, Vec<bool>), LoadWeightsError> {
    let entry = |index: usize, source: EntryError| WeightsError::Entry {
        path: path.into(),
        index,
        source,
    };
    let (arch, params) = crate::io::weights::read_document(path)?;
    let count = params.len();
    let mut out = Vec::with_capacity(count);
    let mut exact = vec![true; arch.depth()];
    let mut k = 1;
    let mut layer_end = arch.layer_range(1).end;
    for (i, p) in params.iter().enumerate() {
        while i >= layer_end {
            k += 1;
            layer_end = arch.layer_range(k).end;
        }
        let (f, ex) = match p {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => (i as f64, i.unsigned_abs() <= 1 << 53),
                None => match n.as_f64() {
                    Some(f) => (f, true),
                    None => {
                        let number = n.to_string();
                        return Err(entry(i, EntryError::Unrepresentable { number }).into());
                    }
                },
            },
            _ => {
                let q = crate::io::weights::exact_from_json(p).map_err(|e| entry(i, e))?;
                let f = q.to_f64();
                (
                    f,
                    f.is_finite() && rational_from_f64(f).is_ok_and(|r| r == q),
                )
            }
        };
        if !f.is_finite() {
            return Err(WeightsError::NotFiniteF64 {
                path: path.into(),
                index: i,
            }
            .into());
        }
        exact[k - 1] &= ex;
        out.push(f);
    }
    Ok((arch, out, exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torch_save_files_are_named_not_parsed_as_json() {
        let dir = std::env::temp_dir().join(format!("deadrelu-io-pt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("init.pt");
        // torch.save's zip: a local file header whose first entry is `init/data.pkl`
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([0u8; 22]);
        zip.extend(13u16.to_le_bytes());
        zip.extend([0u8; 2]);
        zip.extend(b"init/data.pkl\x80\x02}q\x00.");
        let cases: [(&[u8], &str); 3] = [
            (&zip, "a torch.save file (a zip archive of pickles)"),
            (b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.", "a torch.save file (a pickle)"),
            (b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00w.npy", "a zip archive (name a NumPy .npz file *.npz)"),
        ];
        for (bytes, what) in cases {
            std::fs::write(&path, bytes).unwrap();
            for e in [
                read_weights_f64(&path, None).unwrap_err(),
                read_weights_exact(&path, None).unwrap_err(),
            ] {
                let e = e.to_string();
                assert!(
                    e.contains(what) && e.contains("safetensors.torch.save_file"),
                    "{e}"
                );
            }
        }
        // JSON is still read
        std::fs::write(&path, r#"{"arch":[1,1,1],"params":[1,0,1,0]}"#).unwrap();
        assert_eq!(
            read_weights_exact(&path, None).unwrap().0.widths(),
            &[1, 1, 1]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_weights_in_f64_know_their_exactness() {
        let dir = std::env::temp_dir().join(format!("deadrelu-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.json");
        std::fs::write(
            &path,
            r#"{"arch":[1,2,1],"params":[0.5,-1,"1/4",0,"1/3",2,0.1]}"#,
        )
        .unwrap();
        let (arch, p, exact) = read_weights_f64(&path, None).unwrap();
        assert_eq!(arch.widths(), &[1, 2, 1]);
        assert_eq!(p, vec![0.5, -1.0, 0.25, 0.0, 1.0 / 3.0, 2.0, 0.1]);
        assert_eq!(exact, vec![true, false]);
        let (_, q) = read_weights_exact(&path, None).unwrap();
        assert_eq!(q[4], crate::scalar::q(1, 3));
        std::fs::write(&path, r#"{"arch":[1,2,1],"params":[1]}"#).unwrap();
        assert!(
            read_weights_f64(&path, None)
                .unwrap_err()
                .to_string()
                .contains("7 parameters, got 1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
