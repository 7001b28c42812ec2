//! Loading data and weights fast: straight to `f64` for `--mode f64` and the float filter,
//! with what an exact computation needs kept on the side.
//!
//! - [`DataF64`]: a data set in `f64` from any `--data` spec, with per-row exactness.
//! - [`read_weights_f64`] / [`read_weights_exact`]: theta from JSON, safetensors or `.npz`,
//!   chosen by the file extension.

use super::{csv_f64, tensors};
use crate::data::{DataError, DataSpec, Dataset, Target};
use crate::net::Arch;
use crate::net::batch::InputExactness;
use crate::net::batch_exact::{RowInts, ShiftedInt};
use crate::scalar::{BigRational, Scalar, rational_from_f64};
use ndarray::Array2;
use std::path::Path;

/// One point exactly: its inputs and its targets.
pub type ExactRow = (Vec<BigRational>, Vec<BigRational>);

/// Where the exact values of the rows of a [`DataF64`] come from.
#[derive(Debug, Clone)]
enum ExactSource {
    /// The `f64` values are exact wherever the row is marked exact; no other rows.
    F64,
    /// Rows re-read from a CSV file.
    Csv(csv_f64::CsvRows),
    /// The exact data set (synthetic data, small).
    Exact(Box<Dataset<BigRational>>),
}

/// A data set in `f64`: inputs, targets, and per row whether its inputs and targets are
/// exactly their `f64` values.
#[derive(Debug, Clone)]
pub struct DataF64 {
    /// Inputs (`M x l_0`).
    pub x: Array2<f64>,
    /// Targets (`M x l_L`).
    pub y: Array2<f64>,
    /// Per row: exact.
    pub row_exact: Vec<bool>,
    source: ExactSource,
    /// CSV rows as integers, when loaded with [`DataF64::load_with_ints`].
    ints: Option<csv_f64::CsvInts>,
    /// Whether the targets are the exact targets of the data (not `--target` values
    /// computed in `f64`).
    y_exact: bool,
}

fn target_f64(target: &Target, x: &[f64]) -> f64 {
    let l1 = || x.iter().map(|v| v.abs()).sum::<f64>();
    match target {
        Target::Abs => l1(),
        Target::Square => x.iter().map(|v| v * v).sum(),
        Target::Sin => x.iter().sum::<f64>().sin(),
        Target::ReluBump => (1.0 - 2.0 * l1()).max(0.0),
        Target::Const(c) => c.to_f64(),
    }
}

/// Tensor data `(x, y)` for a tensor spec, `y` absent when the file has none.
fn tensor_data(
    spec: &DataSpec,
    inputs: usize,
    outputs: usize,
) -> Result<Option<tensors::DataArrays>, DataError> {
    let bad = |path: &Path, reason: String| DataError::Spec {
        what: "data",
        spec: path.display().to_string(),
        reason,
    };
    let named = |path: &Path, list: Vec<(String, tensors::Tensor)>| {
        let mut x = None;
        let mut y = None;
        for (name, t) in list {
            match name.as_str() {
                "x" | "X" => x = Some(t),
                "y" | "Y" => y = Some(t),
                _ => {}
            }
        }
        let x = x.ok_or_else(|| bad(path, "no tensor named x (or X)".into()))?;
        tensors::data_arrays(x, y, inputs, outputs).map_err(|r| bad(path, r.to_string()))
    };
    let tensor_err = |path: &Path, e: tensors::TensorError| bad(path, e.to_string());
    Ok(Some(match spec {
        DataSpec::Npy { x, y } => {
            let tx = tensors::read_npy(x).map_err(|e| tensor_err(x, e))?;
            let ty = match y {
                Some(y) => Some(tensors::read_npy(y).map_err(|e| tensor_err(y, e))?),
                None => None,
            };
            tensors::data_arrays(tx, ty, inputs, outputs).map_err(|r| bad(x, r.to_string()))?
        }
        DataSpec::Npz(path) => named(
            path,
            tensors::read_npz(path).map_err(|e| tensor_err(path, e))?,
        )?,
        DataSpec::Safetensors(path) => named(
            path,
            tensors::read_safetensors(path).map_err(|e| tensor_err(path, e))?,
        )?,
        _ => return Ok(None),
    }))
}

/// The exact data set of a tensor spec (`npy:`, `npz:`, `safetensors:`); targets from
/// `target` when the files hold none. `None` for other specs.
///
/// # Errors
/// [`DataError`] naming the file and what does not fit.
pub fn tensor_dataset_exact(
    spec: &DataSpec,
    inputs: usize,
    outputs: usize,
    target: &Target,
) -> Result<Option<Dataset<BigRational>>, DataError> {
    let Some((x, y, exact)) = tensor_data(spec, inputs, outputs)? else {
        return Ok(None);
    };
    if !exact {
        return Err(DataError::Spec {
            what: "data",
            spec: spec.to_string(),
            reason: "integers above 2^53 cannot be read exactly from a tensor".into(),
        });
    }
    let to_q = |v: &f64| rational_from_f64(*v).expect("finite (checked)");
    let xs: Vec<Vec<BigRational>> = x
        .outer_iter()
        .map(|r| r.iter().map(to_q).collect())
        .collect();
    let ys: Vec<Vec<BigRational>> = match y {
        Some(y) => y
            .outer_iter()
            .map(|r| r.iter().map(to_q).collect())
            .collect(),
        None => xs.iter().map(|x| vec![target.eval(x); outputs]).collect(),
    };
    Dataset::from_rows(xs, ys).map(Some)
}

impl DataF64 {
    /// Loads `spec` in `f64`: CSV and tensors directly, synthetic data through the exact
    /// data set (then rounded, with per-row exactness).
    ///
    /// # Errors
    /// [`DataError`] as the exact loaders.
    pub fn load(
        spec: &DataSpec,
        inputs: usize,
        outputs: usize,
        target: &Target,
        data_seed: u64,
    ) -> Result<Self, DataError> {
        Self::load_with_ints(spec, inputs, outputs, target, data_seed, false)
    }

    /// As [`DataF64::load`]; with `ints`, CSV rows are kept as integers as well, for
    /// [`DataF64::row_ints`].
    ///
    /// # Errors
    /// As [`DataF64::load`].
    pub fn load_with_ints(
        spec: &DataSpec,
        inputs: usize,
        outputs: usize,
        target: &Target,
        data_seed: u64,
        ints: bool,
    ) -> Result<Self, DataError> {
        if let DataSpec::Csv(path) = spec {
            let c = csv_f64::CsvF64::read_with(path, inputs, outputs, ints)?;
            return Self {
                x: c.x,
                y: c.y,
                row_exact: c.row_exact,
                source: ExactSource::Csv(c.rows),
                ints: c.ints,
                y_exact: true,
            }
            .finite();
        }
        if let Some((x, y, exact)) = tensor_data(spec, inputs, outputs)? {
            let (y, y_exact) = match y {
                Some(y) => (y, true),
                None => {
                    let y = Array2::from_shape_fn((x.nrows(), outputs), |(m, _)| {
                        target_f64(target, x.row(m).as_slice().expect("standard layout"))
                    });
                    (y, false)
                }
            };
            let m = x.nrows();
            return Self {
                x,
                y,
                row_exact: vec![exact && y_exact; m],
                source: ExactSource::F64,
                ints: None,
                y_exact,
            }
            .finite();
        }
        Self::from_exact(spec.build(inputs, outputs, target, data_seed)?).finite()
    }

    /// `self` when every value is finite; else the first point with a value beyond the
    /// range of `f64` (or a target that overflowed), which `f64` mode cannot compute with.
    ///
    /// # Errors
    /// [`DataError::Convert`] naming the point.
    pub fn finite(self) -> Result<Self, DataError> {
        let bad = |a: &Array2<f64>| {
            a.outer_iter()
                .position(|row| row.iter().any(|v| !v.is_finite()))
        };
        let point = match (bad(&self.x), bad(&self.y)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Ok(self),
        };
        let value = self
            .x
            .row(point)
            .iter()
            .chain(self.y.row(point))
            .find(|v| !v.is_finite())
            .copied()
            .unwrap_or(f64::NAN);
        let value = match &self.source {
            ExactSource::Exact(exact) => exact
                .x(point)
                .iter()
                .chain(exact.y(point))
                .find(|q| !q.to_f64().is_finite())
                .map(|q| crate::limits::shown_bare(&crate::scalar::rational_string(q)))
                .unwrap_or_else(|| value.to_string()),
            _ => value.to_string(),
        };
        Err(DataError::Convert {
            point,
            source: crate::scalar::ScalarError::BeyondF64 { value },
        })
    }

    /// Rounds an exact data set to `f64`, keeping it for exact rows.
    pub fn from_exact(exact: Dataset<BigRational>) -> Self {
        let conv = |q: &BigRational| q.to_f64();
        let x = exact.x_matrix().map(conv);
        let y = exact.y_matrix().map(conv);
        let row_exact = (0..exact.len())
            .map(|m| {
                exact.x(m).iter().chain(exact.y(m)).all(|q| {
                    let f = q.to_f64();
                    f.is_finite() && rational_from_f64(f).is_ok_and(|r| &r == q)
                })
            })
            .collect();
        Self {
            x,
            y,
            row_exact,
            source: ExactSource::Exact(Box::new(exact)),
            ints: None,
            y_exact: true,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// Whether there are no points (never for a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exactness of the inputs, for [`crate::net::batch::forward`].
    pub fn exactness(&self) -> InputExactness<'_> {
        InputExactness::Rows(&self.row_exact)
    }

    /// The exact input of point `m` (re-read from a CSV file when the row is not exact).
    ///
    /// # Errors
    /// [`DataError`] when a CSV file cannot be re-read.
    pub fn exact_x(&self, m: usize) -> Result<Vec<BigRational>, DataError> {
        let d = self.x.ncols();
        match &self.source {
            ExactSource::Exact(data) => Ok(data.x(m).to_vec()),
            ExactSource::Csv(rows) if !self.row_exact[m] => {
                let mut row = rows.exact_row(m)?;
                row.truncate(d);
                Ok(row)
            }
            _ => Ok(self
                .x
                .row(m)
                .iter()
                .map(|v| rational_from_f64(*v).expect("finite"))
                .collect()),
        }
    }

    /// Whether every target is exact data (CSV, tensors with `y`, exact data sets), not
    /// a `--target` value computed in `f64`.
    pub fn targets_exact(&self) -> bool {
        self.y_exact
    }

    /// Row `m` as integers for the exact pass ([`crate::activity::batched_inspect`]):
    /// CSV rows of decimals (`X / 10^K`), rows of doubles; `None` for other rows (their
    /// exact values come from [`DataF64::exact_xy`]).
    pub fn row_ints(&self, m: usize) -> Option<RowInts> {
        if let Some(ints) = &self.ints {
            let k = ints.k[m];
            if k == u8::MAX {
                return None;
            }
            let (d, w) = (self.x.ncols(), self.x.ncols() + self.y.ncols());
            let row = &ints.ints[m * w..(m + 1) * w];
            let cells: Vec<ShiftedInt> = row.iter().map(|&v| ShiftedInt::from_i64(v)).collect();
            let (x, y) = cells.split_at(d);
            return Some(RowInts {
                p: -i64::from(k),
                d: 5u64.checked_pow(u32::from(k))?,
                x: x.to_vec(),
                y: y.to_vec(),
            });
        }
        if !self.row_exact[m] || !self.y_exact {
            return None;
        }
        RowInts::from_f64(
            self.x.row(m).as_slice().expect("standard layout"),
            self.y.row(m).as_slice().expect("standard layout"),
        )
    }

    /// The exact inputs and targets of point `m` (`None` for targets computed in `f64`
    /// from `--target`).
    ///
    /// # Errors
    /// [`DataError`] when a CSV file cannot be re-read.
    pub fn exact_xy(&self, m: usize) -> Result<Option<ExactRow>, DataError> {
        if !self.y_exact {
            return Ok(None);
        }
        let d = self.x.ncols();
        let exact = |v: &f64| rational_from_f64(*v).expect("finite");
        Ok(Some(match &self.source {
            ExactSource::Exact(data) => (data.x(m).to_vec(), data.y(m).to_vec()),
            ExactSource::Csv(rows) if !self.row_exact[m] => {
                let mut row = rows.exact_row(m)?;
                let y = row.split_off(d);
                (row, y)
            }
            _ => (
                self.x.row(m).iter().map(exact).collect(),
                self.y.row(m).iter().map(exact).collect(),
            ),
        }))
    }

    /// The data as a [`Dataset<f64>`] (a copy).
    pub fn dataset(&self) -> Dataset<f64> {
        let rows = |a: &Array2<f64>| a.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>();
        Dataset::from_rows(rows(&self.x), rows(&self.y)).expect("consistent shapes")
    }
}

/// Errors reading weights in any format, as one line.
pub type WeightsMessage = String;

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
) -> Result<(Arch, Vec<f64>, Vec<bool>), WeightsMessage> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let exact_layers = |arch: &Arch| vec![true; arch.depth()];
    if layer_order.is_some() && !matches!(ext, "safetensors" | "npz") {
        return Err(format!(
            "{}: --layer-order applies to .safetensors and .npz state_dicts only",
            path.display()
        ));
    }
    match ext {
        "safetensors" => {
            let (arch, p) = crate::io::safetensors::read_safetensors_f64(path, layer_order)
                .map_err(|e| e.to_string())?;
            let ex = exact_layers(&arch);
            Ok((arch, p, ex))
        }
        "npz" => {
            let named = tensors::read_npz(path).map_err(|e| e.to_string())?;
            if let Some((name, _)) = named.iter().find(|(_, t)| !t.exact) {
                return Err(format!(
                    "{}: tensor {name:?} holds integers above 2^53",
                    path.display()
                ));
            }
            let named = named
                .into_iter()
                .map(|(n, t)| (n, t.shape, t.data))
                .collect();
            let (arch, p) =
                crate::io::safetensors::theta_from_tensors(path, named, layer_order, None)
                    .map_err(|e| e.to_string())?;
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
) -> Result<(Arch, Vec<BigRational>), WeightsMessage> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "safetensors" => crate::io::safetensors::read_safetensors_ordered(path, layer_order)
            .map_err(|e| e.to_string()),
        "npz" => {
            let (arch, p, _) = read_weights_f64(path, layer_order)?;
            let p = p
                .into_iter()
                .map(|v| rational_from_f64(v).expect("finite (checked)"))
                .collect();
            Ok((arch, p))
        }
        _ if layer_order.is_some() => Err(format!(
            "{}: --layer-order applies to .safetensors and .npz state_dicts only",
            path.display()
        )),
        #[cfg(feature = "onnx")]
        "onnx" => crate::io::onnx_import::read_onnx(path).map_err(|e| e.to_string()),
        _ => {
            refuse_torch_save(path)?;
            crate::io::weights::read_json(path).map_err(|e| e.to_string())
        }
    }
}

/// A `torch.save` file (a zip archive holding `data.pkl`, or a legacy pickle) given as
/// JSON weights: refused with a line saying what to give instead (deadrelu never
/// unpickles).
fn refuse_torch_save(path: &Path) -> Result<(), WeightsMessage> {
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
    Err(format!(
        "{}: {what}, not JSON weights; deadrelu does not unpickle: save the state_dict as safetensors (safetensors.torch.save_file(model.state_dict(), \"m.safetensors\")), export ONNX, or pass the model to the Python package (deadrelu.inspect(model, X))",
        path.display()
    ))
}

/// JSON weights straight to `f64` (see [`read_weights_f64`]).
fn read_json_f64(path: &Path) -> Result<(Arch, Vec<f64>, Vec<bool>), WeightsMessage> {
    let show = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {show}: {e}"))?;
    let v: serde_json::Value =
        crate::io::strict_json::parse(&text).map_err(|e| format!("{show}: not JSON: {e}"))?;
    let widths = v
        .get("arch")
        .and_then(|a| a.as_array())
        .ok_or_else(|| format!("{show}: missing \"arch\" (a list of widths)"))?
        .iter()
        .enumerate()
        .map(|(i, w)| {
            w.as_u64()
                .and_then(|w| usize::try_from(w).ok())
                .ok_or_else(|| format!("{show}: arch[{i}] = {w} is not a non-negative integer"))
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let arch = Arch::new(widths).map_err(|e| format!("{show}: {e}"))?;
    let params = v
        .get("params")
        .and_then(|p| p.as_array())
        .ok_or_else(|| format!("{show}: missing \"params\" (a list)"))?;
    // The parameter count is checked before anything is allocated for it.
    let count = arch
        .widths()
        .windows(2)
        .try_fold(0usize, |acc, w| {
            w[0].checked_add(1)
                .and_then(|c| c.checked_mul(w[1]))
                .and_then(|c| c.checked_add(acc))
        })
        .ok_or_else(|| format!("{show}: architecture {arch} has too many parameters"))?;
    if params.len() != count {
        return Err(format!(
            "{show}: architecture {arch} has {count} parameters, got {}",
            params.len()
        ));
    }
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
                        return Err(format!(
                            "{show}: params[{i}]: number {n} is not representable"
                        ));
                    }
                },
            },
            _ => {
                let q = crate::io::weights::exact_from_json(p)
                    .map_err(|e| format!("{show}: params[{i}]: {e}"))?;
                let f = q.to_f64();
                (
                    f,
                    f.is_finite() && rational_from_f64(f).is_ok_and(|r| r == q),
                )
            }
        };
        if !f.is_finite() {
            return Err(format!("{show}: params[{i}] is not finite in f64"));
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
                .contains("7 parameters, got 1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
