//! What is wrong with a data spec, a CSV row or cell, or a tensor data file: the typed
//! cause carried by [`super::DataError::Spec`] and [`super::DataError::Csv`]. Each
//! variant's message is the text the CLI shows after the spec or the file position.

use super::MAX_POINTS;
use crate::scalar::ScalarError;

/// The cause of a [`super::DataError::Spec`] or [`super::DataError::Csv`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A number that does not parse (a bound, a constant, a CSV cell).
    #[error(transparent)]
    Number(#[from] ScalarError),
    /// Not of the expected form.
    #[error("expected {0}")]
    Expected(&'static str),
    /// The point count of a synthetic spec (as shown).
    #[error("M = {0} is not a positive integer")]
    Count(String),
    /// A synthetic spec with `M = 0`.
    #[error("M must be >= 1")]
    NoPoints,
    /// `A > B`.
    #[error("A must be <= B")]
    Reversed,
    /// An unknown spec kind.
    #[error("unknown kind {0:?} (uniform, grid, csv, npy, npz, safetensors)")]
    UnknownKind(String),
    /// A tensor spec handed to the exact builder of `data`.
    #[error("tensor files are read by `deadrelu::io::build_dataset`")]
    TensorSpec,
    /// A grid of more than [`MAX_POINTS`] points.
    #[error("{m}^{inputs} grid points exceed {MAX_POINTS}")]
    GridTooLarge {
        /// Points per axis.
        m: usize,
        /// Axes.
        inputs: usize,
    },
    /// A sample of more than [`MAX_POINTS`] points.
    #[error("{0} points exceed {MAX_POINTS}")]
    TooManyPoints(usize),
    /// A `uniform` range that `f64` cannot sample.
    #[error("the range [A, B] and its width B - A must be finite in f64")]
    RangeNotFinite,
    /// Inputs and outputs of different counts, or none.
    #[error("{inputs} inputs and {outputs} outputs (need the same, >= 1)")]
    RowCounts {
        /// Input rows.
        inputs: usize,
        /// Output rows.
        outputs: usize,
    },
    /// Rows of different lengths.
    #[error("rows of unequal or zero length")]
    Ragged,
    /// Values that do not make a matrix of the asked shape.
    #[error(transparent)]
    Shape(#[from] ndarray::ShapeError),
    /// A CSV row with the wrong number of cells.
    #[error("{got} columns, expected {} ({inputs} inputs + {outputs} outputs)", inputs + outputs)]
    Columns {
        /// Cells in the row.
        got: usize,
        /// Inputs wanted.
        inputs: usize,
        /// Outputs wanted.
        outputs: usize,
    },
    /// `inputs + outputs` overflows.
    #[error("too many columns")]
    TooManyColumns,
    /// A CSV file without data rows.
    #[error("no data rows")]
    NoRows,
    /// CSV text that is not UTF-8.
    #[error("not UTF-8 text: {0}")]
    NotUtf8(#[from] std::str::Utf8Error),
    /// A CSV record the csv crate cannot read.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// A tensor data file without an input tensor.
    #[error("no tensor named x (or X)")]
    NoInputTensor,
    /// Tensor integers that `f64` does not hold exactly.
    #[error("integers above 2^53 cannot be read exactly from a tensor")]
    InexactIntegers,
    /// A tensor file that cannot be read or does not fit the network (the error of the
    /// tensor reader, which sits above this module).
    #[error(transparent)]
    Tensor(Box<dyn std::error::Error + Send + Sync>),
}
