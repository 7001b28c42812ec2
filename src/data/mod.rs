//! Data sets: synthetic (`uniform:A,B:M`, `grid:A,B:M` with a named target) and CSV.
//!
//! Data are built once as exact rationals (the canonical form) and converted to the
//! scalar type of a computation with [`Dataset::convert`]: exactly for exact types,
//! to the nearest `f64` in float mode.
//!
//! - `grid:A,B:M`: for `l_0 = 1`, the `M` points `A + (B - A) i / (M - 1)`, `i = 0..M-1`,
//!   exactly (so `grid:-1,1:64` has the exact points `-1 + 2i/63`). For `l_0 > 1`, the
//!   tensor grid of those points, `M^l_0` points, first coordinate slowest.
//! - `uniform:A,B:M`: `M` points iid uniform on `[A,B)^l_0`, drawn in `f64` from
//!   `ChaCha8Rng::seed_from_u64(data_seed)` (rand 0.8 `Uniform<f64>`, coordinates in
//!   order), then made exact.
//! - Targets (every output gets the same value): `abs` = `sum_i |x_i|`, `square` =
//!   `sum_i x_i^2`, `relu-bump` = `max(0, 1 - 2 sum_i |x_i|)`, `const:V`, all exact;
//!   `sin` = `sin(sum_i x_i)` evaluated in `f64` and made exact (a float enters the
//!   *definition* of the data there, visibly, never a computation on them).
//! - `csv:PATH`: columns `x_1..x_{l_0}, y_1..y_{l_L}`; a header row is allowed; numbers as
//!   integers, decimals (read exactly: `0.1` is 1/10) or ratios `p/q`.
//! - `npy:X.npy[,Y.npy]`, `npz:FILE` (arrays `x`, `y`), `safetensors:FILE` (tensors `x`,
//!   `y`): NumPy/safetensors tensors, each `f32`/`f64`/integer entry read exactly; without
//!   `y` the targets come from `--target`. See [`crate::io`] (also for the fast `f64` loaders).

mod csv;
mod problem;
mod spec;
#[cfg(test)]
mod tests;

pub use csv::{is_header_cell, read_csv};
pub use problem::Problem;
pub use spec::{DataSpec, Target};

use crate::scalar::Scalar;
use ndarray::Array2;
use std::path::PathBuf;

/// The most data points a synthetic spec may produce.
pub const MAX_POINTS: usize = 10_000_000;

/// Errors of the data module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A `--data` or `--target` spec that cannot be read.
    #[error("bad {what} spec {}: {reason}", crate::limits::shown(.spec))]
    Spec {
        /// `"data"` or `"target"`.
        what: &'static str,
        /// The spec as given.
        spec: String,
        /// What is wrong.
        #[source]
        reason: Problem,
    },
    /// A CSV file that cannot be opened.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A malformed CSV cell or row.
    #[error("{path}:{line}:{column}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (0 when the whole row is at fault).
        column: usize,
        /// What is wrong.
        #[source]
        reason: Problem,
    },
    /// A value has no value in the target type of [`Dataset::convert`].
    #[error("data point {point}: {source}")]
    Convert {
        /// 0-based index of the point.
        point: usize,
        /// The cause.
        #[source]
        source: crate::scalar::ScalarError,
    },
}

/// A data set `(x_m, y_m)`, `m = 0..M-1`, rows of two matrices.
#[derive(Debug, Clone)]
pub struct Dataset<S: Scalar> {
    x: Array2<S>,
    y: Array2<S>,
}

impl<S: Scalar> Dataset<S> {
    /// A data set from rows of inputs and outputs.
    ///
    /// # Errors
    /// [`DataError::Spec`] if the rows are ragged, empty, or `xs` and `ys` differ in count.
    pub fn from_rows(xs: Vec<Vec<S>>, ys: Vec<Vec<S>>) -> Result<Self, DataError> {
        let bad = |reason: Problem| DataError::Spec {
            what: "data",
            spec: "rows".into(),
            reason,
        };
        if xs.is_empty() || xs.len() != ys.len() {
            return Err(bad(Problem::RowCounts {
                inputs: xs.len(),
                outputs: ys.len(),
            }));
        }
        let (d, o) = (xs[0].len(), ys[0].len());
        if d == 0 || o == 0 || xs.iter().any(|r| r.len() != d) || ys.iter().any(|r| r.len() != o) {
            return Err(bad(Problem::Ragged));
        }
        let m = xs.len();
        let x = Array2::from_shape_vec((m, d), xs.into_iter().flatten().collect())
            .map_err(|e| bad(e.into()))?;
        let y = Array2::from_shape_vec((m, o), ys.into_iter().flatten().collect())
            .map_err(|e| bad(e.into()))?;
        Ok(Self { x, y })
    }
    /// Number of points `M`.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }
    /// Whether there are no points (never true for a constructed data set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Inputs per point.
    pub fn inputs(&self) -> usize {
        self.x.ncols()
    }
    /// Outputs per point.
    pub fn outputs(&self) -> usize {
        self.y.ncols()
    }
    /// Input `x_m`.
    pub fn x(&self, m: usize) -> &[S] {
        let d = self.inputs();
        &self.x.as_slice().expect("standard layout")[m * d..(m + 1) * d]
    }
    /// Target `y_m`.
    pub fn y(&self, m: usize) -> &[S] {
        let o = self.outputs();
        &self.y.as_slice().expect("standard layout")[m * o..(m + 1) * o]
    }
    /// The input matrix (`M x l_0`).
    pub fn x_matrix(&self) -> &Array2<S> {
        &self.x
    }
    /// The target matrix (`M x l_L`).
    pub fn y_matrix(&self) -> &Array2<S> {
        &self.y
    }
    /// Converts to another scalar type with [`crate::scalar::convert`]: through exact
    /// values, never through `f64` for an exact target.
    ///
    /// # Errors
    /// [`DataError::Convert`] at the first value that has no value in `T` (a NaN, an
    /// infinity, or a non-point enclosure going to an exact type).
    pub fn convert<T: Scalar>(&self) -> Result<Dataset<T>, DataError> {
        fn matrix<S: Scalar, T: Scalar>(a: &Array2<S>) -> Result<Array2<T>, DataError> {
            let columns = a.ncols().max(1);
            let values = a
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    crate::scalar::convert(v).map_err(|source| DataError::Convert {
                        point: i / columns,
                        source,
                    })
                })
                .collect::<Result<Vec<T>, _>>()?;
            Ok(Array2::from_shape_vec(a.dim(), values).expect("the shape of the source"))
        }
        Ok(Dataset {
            x: matrix(&self.x)?,
            y: matrix(&self.y)?,
        })
    }
    /// A subset of the points, in the given order.
    pub fn select(&self, rows: &[usize]) -> Self {
        Self {
            x: self.x.select(ndarray::Axis(0), rows),
            y: self.y.select(ndarray::Axis(0), rows),
        }
    }

    /// `V = (1/M) sum_m |y_m - mean(y)|^2`, the risk of the best constant (MECHANISM.md,
    /// fact 4), with the mean `mean(y)` that attains it.
    pub fn best_constant(&self) -> (S, Vec<S>) {
        let m = S::from_int(self.len() as i64);
        let mean: Vec<S> = (0..self.outputs())
            .map(|o| {
                (0..self.len())
                    .fold(S::zero(), |acc, r| acc.add_ref(&self.y(r)[o]))
                    .div_ref(&m)
            })
            .collect();
        let total = (0..self.len()).fold(S::zero(), |acc, r| {
            acc.add_ref(&crate::loss::squared_error(self.y(r), &mean))
        });
        (total.div_ref(&m), mean)
    }
}
