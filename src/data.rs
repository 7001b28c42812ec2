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

use crate::scalar::{BigRational, Scalar, ScalarError, parse_rational, rational_from_f64};
use ndarray::Array2;
use num_traits::{Signed, ToPrimitive, Zero};
use rand::SeedableRng;
use rand::distributions::{Distribution, Uniform};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// The most data points a synthetic spec may produce.
pub const MAX_POINTS: usize = 10_000_000;

/// Errors of the data module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A `--data` or `--target` spec that cannot be read.
    #[error("bad {what} spec {spec:?}: {reason}")]
    Spec {
        /// `"data"` or `"target"`.
        what: &'static str,
        /// The spec as given.
        spec: String,
        /// What is wrong.
        reason: String,
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
        reason: String,
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
        let bad = |reason: String| DataError::Spec {
            what: "data",
            spec: "rows".into(),
            reason,
        };
        if xs.is_empty() || xs.len() != ys.len() {
            return Err(bad(format!(
                "{} inputs and {} outputs (need the same, >= 1)",
                xs.len(),
                ys.len()
            )));
        }
        let (d, o) = (xs[0].len(), ys[0].len());
        if d == 0 || o == 0 || xs.iter().any(|r| r.len() != d) || ys.iter().any(|r| r.len() != o) {
            return Err(bad("rows of unequal or zero length".into()));
        }
        let m = xs.len();
        let x = Array2::from_shape_vec((m, d), xs.into_iter().flatten().collect())
            .map_err(|e| bad(e.to_string()))?;
        let y = Array2::from_shape_vec((m, o), ys.into_iter().flatten().collect())
            .map_err(|e| bad(e.to_string()))?;
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

/// A target function for synthetic data.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `sum_i |x_i|`.
    Abs,
    /// `sum_i x_i^2`.
    Square,
    /// `sin(sum_i x_i)` in `f64`, made exact.
    Sin,
    /// `max(0, 1 - 2 sum_i |x_i|)`.
    ReluBump,
    /// A constant.
    Const(BigRational),
}

impl std::str::FromStr for Target {
    type Err = DataError;
    fn from_str(spec: &str) -> Result<Self, DataError> {
        let bad = |reason: &str| DataError::Spec {
            what: "target",
            spec: spec.into(),
            reason: reason.into(),
        };
        Ok(match spec {
            "abs" => Target::Abs,
            "square" => Target::Square,
            "sin" => Target::Sin,
            "relu-bump" => Target::ReluBump,
            _ => match spec.strip_prefix("const:") {
                Some(v) => Target::Const(parse_rational(v).map_err(|e| bad(&e.to_string()))?),
                None => return Err(bad("expected abs, square, sin, relu-bump or const:V")),
            },
        })
    }
}

impl Target {
    /// The exact target value at `x`.
    pub fn eval(&self, x: &[BigRational]) -> BigRational {
        let l1 = || {
            x.iter()
                .fold(BigRational::zero(), |acc, v| acc + Signed::abs(v))
        };
        match self {
            Target::Abs => l1(),
            Target::Square => x.iter().fold(BigRational::zero(), |acc, v| acc + v * v),
            Target::Sin => {
                let s: f64 = x
                    .iter()
                    .map(|v| ToPrimitive::to_f64(v).unwrap_or(f64::NAN))
                    .sum();
                rational_from_f64(s.sin()).unwrap_or_else(|_| BigRational::zero())
            }
            Target::ReluBump => {
                let v = BigRational::from_integer(1.into())
                    - BigRational::from_integer(2.into()) * l1();
                if v.is_positive() {
                    v
                } else {
                    BigRational::zero()
                }
            }
            Target::Const(c) => c.clone(),
        }
    }
}

/// Where the inputs come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// `uniform:A,B:M`.
    Uniform {
        /// Lower end.
        a: BigRational,
        /// Upper end.
        b: BigRational,
        /// Number of points.
        m: usize,
    },
    /// `grid:A,B:M`.
    Grid {
        /// Lower end.
        a: BigRational,
        /// Upper end.
        b: BigRational,
        /// Points per axis.
        m: usize,
    },
    /// `csv:PATH`.
    Csv(PathBuf),
    /// `npy:X.npy[,Y.npy]`: inputs (and targets) as NumPy arrays.
    Npy {
        /// Inputs, shape `(M, l_0)` (or `(M, ...)` with `l_0` entries per point).
        x: PathBuf,
        /// Targets, shape `(M,)` or `(M, l_L)`; from `--target` when absent.
        y: Option<PathBuf>,
    },
    /// `npz:FILE`: arrays `x` and (optionally) `y`.
    Npz(PathBuf),
    /// `safetensors:FILE`: tensors `x` and (optionally) `y`.
    Safetensors(PathBuf),
}

impl std::str::FromStr for DataSpec {
    type Err = DataError;
    fn from_str(spec: &str) -> Result<Self, DataError> {
        let bad = |reason: String| DataError::Spec {
            what: "data",
            spec: spec.into(),
            reason,
        };
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| {
                bad("expected uniform:A,B:M, grid:A,B:M, csv:PATH, npy:X.npy[,Y.npy], npz:FILE or safetensors:FILE".into())
            })?;
        match kind {
            "csv" => return Ok(DataSpec::Csv(PathBuf::from(rest))),
            "npz" => return Ok(DataSpec::Npz(PathBuf::from(rest))),
            "safetensors" => return Ok(DataSpec::Safetensors(PathBuf::from(rest))),
            "npy" => {
                let (x, y) = match rest.split_once(',') {
                    Some((x, y)) => (x, Some(PathBuf::from(y))),
                    None => (rest, None),
                };
                return Ok(DataSpec::Npy {
                    x: PathBuf::from(x),
                    y,
                });
            }
            _ => {}
        }
        let (range, count) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("expected A,B:M".into()))?;
        let (a, b) = range
            .split_once(',')
            .ok_or_else(|| bad("expected A,B before :M".into()))?;
        let a = parse_rational(a).map_err(|e| bad(e.to_string()))?;
        let b = parse_rational(b).map_err(|e| bad(e.to_string()))?;
        let m: usize = count
            .trim()
            .parse()
            .map_err(|_| bad(format!("M = {count:?} is not a positive integer")))?;
        if m == 0 {
            return Err(bad("M must be >= 1".into()));
        }
        if a > b {
            return Err(bad("A must be <= B".into()));
        }
        match kind {
            "uniform" => Ok(DataSpec::Uniform { a, b, m }),
            "grid" => Ok(DataSpec::Grid { a, b, m }),
            _ => Err(bad(format!(
                "unknown kind {kind:?} (uniform, grid, csv, npy, npz, safetensors)"
            ))),
        }
    }
}

impl DataSpec {
    /// Builds the exact data set for `inputs` and `outputs` per point.
    ///
    /// # Errors
    /// [`DataError`] for unreadable CSV files, wrong column counts, a grid or sample larger
    /// than [`MAX_POINTS`], a `uniform` range that is not finite in `f64`.
    pub fn build(
        &self,
        inputs: usize,
        outputs: usize,
        target: &Target,
        data_seed: u64,
    ) -> Result<Dataset<BigRational>, DataError> {
        let bad = |reason: String| DataError::Spec {
            what: "data",
            spec: self.to_string(),
            reason,
        };
        let xs: Vec<Vec<BigRational>> = match self {
            DataSpec::Csv(path) => return read_csv(path, inputs, outputs),
            DataSpec::Npy { .. } | DataSpec::Npz(_) | DataSpec::Safetensors(_) => {
                return crate::io::tensor_dataset_exact(self, inputs, outputs, target)
                    .map(|d| d.expect("a tensor spec"));
            }
            DataSpec::Grid { a, b, m } => {
                let total = u32::try_from(inputs)
                    .ok()
                    .and_then(|d| (*m as u128).checked_pow(d))
                    .filter(|&t| t <= MAX_POINTS as u128);
                let total = total
                    .ok_or_else(|| bad(format!("{m}^{inputs} grid points exceed {MAX_POINTS}")))?
                    as usize;
                let axis: Vec<BigRational> = if *m == 1 {
                    vec![a.clone()]
                } else {
                    let step = (b - a) / BigRational::from_integer((*m as i64 - 1).into());
                    (0..*m)
                        .map(|i| a + &step * BigRational::from_integer((i as i64).into()))
                        .collect()
                };
                (0..total)
                    .map(|mut idx| {
                        let mut point = vec![BigRational::zero(); inputs];
                        for c in (0..inputs).rev() {
                            point[c] = axis[idx % m].clone();
                            idx /= m;
                        }
                        point
                    })
                    .collect()
            }
            DataSpec::Uniform { a, b, m } => {
                if *m > MAX_POINTS {
                    return Err(bad(format!("{m} points exceed {MAX_POINTS}")));
                }
                let (af, bf) = (
                    ToPrimitive::to_f64(a).unwrap_or(f64::NAN),
                    ToPrimitive::to_f64(b).unwrap_or(f64::NAN),
                );
                // rand's Uniform needs the width B - A finite too.
                if !(af.is_finite() && bf.is_finite() && (bf - af).is_finite()) {
                    return Err(bad(
                        "the range [A, B] and its width B - A must be finite in f64".into(),
                    ));
                }
                let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
                let mut draw: Box<dyn FnMut() -> f64> = if af < bf {
                    let dist = Uniform::new(af, bf);
                    Box::new(move || dist.sample(&mut rng))
                } else {
                    Box::new(move || af)
                };
                let mut xs = Vec::with_capacity(*m);
                for _ in 0..*m {
                    let point: Result<Vec<BigRational>, ScalarError> =
                        (0..inputs).map(|_| rational_from_f64(draw())).collect();
                    xs.push(point.map_err(|e| bad(e.to_string()))?);
                }
                xs
            }
        };
        let ys = xs.iter().map(|x| vec![target.eval(x); outputs]).collect();
        Dataset::from_rows(xs, ys)
    }
}

/// Reads `csv:PATH` with `inputs + outputs` numeric columns.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read, [`DataError::Csv`] naming line and
/// column for a malformed row or cell.
pub fn read_csv(
    path: &Path,
    inputs: usize,
    outputs: usize,
) -> Result<Dataset<BigRational>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let want = inputs + outputs;
    for (row_no, record) in reader.records().enumerate() {
        let csv_err = |line: u64, column: usize, reason: String| DataError::Csv {
            path: path.into(),
            line,
            column,
            reason,
        };
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(row_no as u64 + 1);
            csv_err(line, 0, e.to_string())
        })?;
        let line = record
            .position()
            .map(|p| p.line())
            .unwrap_or(row_no as u64 + 1);
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        let parsed: Vec<Result<BigRational, ScalarError>> =
            record.iter().map(parse_rational).collect();
        if row_no == 0 && record.iter().all(is_header_cell) {
            continue; // header row
        }
        if record.len() != want {
            return Err(csv_err(
                line,
                0,
                format!(
                    "{} columns, expected {want} ({inputs} inputs + {outputs} outputs)",
                    record.len()
                ),
            ));
        }
        let mut values = Vec::with_capacity(want);
        for (col, p) in parsed.into_iter().enumerate() {
            values.push(p.map_err(|e| csv_err(line, col + 1, e.to_string()))?);
        }
        let y = values.split_off(inputs);
        xs.push(values);
        ys.push(y);
    }
    if xs.is_empty() {
        return Err(DataError::Csv {
            path: path.into(),
            line: 1,
            column: 0,
            reason: "no data rows".into(),
        });
    }
    Dataset::from_rows(xs, ys)
}

/// Whether a CSV cell of the first row reads as a column name: not a number, and not a
/// spelling of a non-finite float (`nan`, `inf`, `-Infinity`, ...), which is bad data,
/// not a header.
pub fn is_header_cell(cell: &str) -> bool {
    let lower = cell.trim().to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    !matches!(body, "nan" | "inf" | "infinity") && parse_rational(cell).is_err()
}

/// For messages: the spec, with numbers of more than 24 characters shown as `~1e308`.
impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = |q: &BigRational| {
            let exact = crate::scalar::rational_string(q);
            if exact.len() <= 24 {
                exact
            } else {
                format!("~{:e}", ToPrimitive::to_f64(q).unwrap_or(f64::NAN))
            }
        };
        match self {
            DataSpec::Uniform { a, b, m } => write!(f, "uniform:{},{}:{m}", r(a), r(b)),
            DataSpec::Grid { a, b, m } => write!(f, "grid:{},{}:{m}", r(a), r(b)),
            DataSpec::Csv(path) => write!(f, "csv:{}", path.display()),
            DataSpec::Npy { x, y: None } => write!(f, "npy:{}", x.display()),
            DataSpec::Npy { x, y: Some(y) } => write!(f, "npy:{},{}", x.display(), y.display()),
            DataSpec::Npz(path) => write!(f, "npz:{}", path.display()),
            DataSpec::Safetensors(path) => write!(f, "safetensors:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scalar::q;

    #[test]
    fn grid_is_exact() {
        let spec: DataSpec = "grid:-1,1:64".parse().unwrap();
        let d = spec.build(1, 1, &Target::Abs, 0).unwrap();
        assert_eq!(d.len(), 64);
        assert_eq!(d.x(0)[0], q(-1, 1));
        assert_eq!(d.x(1)[0], q(-61, 63));
        assert_eq!(d.x(63)[0], q(1, 1));
        assert_eq!(d.y(1)[0], q(61, 63));
        let d2 = "grid:0,1:3"
            .parse::<DataSpec>()
            .unwrap()
            .build(2, 2, &Target::Square, 0)
            .unwrap();
        assert_eq!(d2.len(), 9);
        assert_eq!(d2.x(5), &[q(1, 2), q(1, 1)]);
        assert_eq!(d2.y(5), &[q(5, 4), q(5, 4)]);
    }

    #[test]
    fn best_constant_of_abs_grid() {
        let d = "grid:-1,1:3"
            .parse::<DataSpec>()
            .unwrap()
            .build(1, 1, &Target::Abs, 0)
            .unwrap();
        // y = 1, 0, 1: mean 2/3, V = ((1/3)^2 + (2/3)^2 + (1/3)^2)/3 = 2/9
        let (v, mean) = d.best_constant();
        assert_eq!(mean, vec![q(2, 3)]);
        assert_eq!(v, q(2, 9));
    }

    #[test]
    fn specs_reject_nonsense() {
        for bad in [
            "grid:1,0:3",
            "grid:0,1:0",
            "grid:0,1",
            "foo:0,1:3",
            "uniform:a,1:3",
            "grid",
        ] {
            assert!(
                matches!(bad.parse::<DataSpec>(), Err(DataError::Spec { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            "cos".parse::<Target>(),
            Err(DataError::Spec { .. })
        ));
        // Ranges whose width overflows f64, and grids whose size overflows, are errors.
        let spec: DataSpec = "uniform:-1e308,1e308:4".parse().unwrap();
        assert!(matches!(
            spec.build(1, 1, &Target::Abs, 0),
            Err(DataError::Spec { .. })
        ));
        let spec: DataSpec = "grid:0,1:3".parse().unwrap();
        for inputs in [64, usize::MAX] {
            assert!(matches!(
                spec.build(inputs, 1, &Target::Abs, 0),
                Err(DataError::Spec { .. })
            ));
        }
        assert_eq!(
            "const:1/3".parse::<Target>().unwrap(),
            Target::Const(q(1, 3))
        );
    }

    #[test]
    fn uniform_data_is_seeded() {
        let spec: DataSpec = "uniform:-1,1:5".parse().unwrap();
        let a = spec.build(2, 1, &Target::Abs, 7).unwrap();
        let b = spec.build(2, 1, &Target::Abs, 7).unwrap();
        let c = spec.build(2, 1, &Target::Abs, 8).unwrap();
        assert_eq!(a.x_matrix(), b.x_matrix());
        assert_ne!(a.x_matrix(), c.x_matrix());
        assert!(a.x_matrix().iter().all(|v| v >= &q(-1, 1) && v < &q(1, 1)));
    }
}
