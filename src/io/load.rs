//! Loading data and weights fast: straight to `f64` for `--mode f64` and the float filter,
//! with what an exact computation needs kept on the side.
//!
//! - [`DataF64`]: a data set in `f64` from any `--data` spec, with per-row exactness.
//! - Weights (theta from JSON, safetensors or `.npz`, by file extension): see
//!   [`super::load_weights`].

use super::{csv_f64, tensors};
use crate::data::{DataError, DataSpec, Dataset, Problem, Target};
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
    let bad = |path: &Path, reason: Problem| DataError::Spec {
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
        let x = x.ok_or_else(|| bad(path, Problem::NoInputTensor))?;
        tensors::data_arrays(x, y, inputs, outputs)
            .map_err(|r| bad(path, Problem::Tensor(Box::new(r))))
    };
    let tensor_err = |path: &Path, e: tensors::TensorError| bad(path, Problem::Tensor(Box::new(e)));
    Ok(Some(match spec {
        DataSpec::Npy { x, y } => {
            let tx = tensors::read_npy(x).map_err(|e| tensor_err(x, e))?;
            let ty = match y {
                Some(y) => Some(tensors::read_npy(y).map_err(|e| tensor_err(y, e))?),
                None => None,
            };
            tensors::data_arrays(tx, ty, inputs, outputs)
                .map_err(|r| bad(x, Problem::Tensor(Box::new(r))))?
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
            reason: Problem::InexactIntegers,
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
            let (x, y) = ints.ints[m * w..(m + 1) * w].split_at(d);
            let cells = |v: &[i64]| v.iter().map(|&v| ShiftedInt::from_i64(v)).collect();
            return Some(RowInts {
                p: -i64::from(k),
                d: 5u64.checked_pow(u32::from(k))?,
                x: cells(x),
                y: cells(y),
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
