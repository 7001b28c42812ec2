//! The `--data` and `--target` specs: parsing, display, and building the exact data set.

use super::{DataError, Dataset, MAX_POINTS, Problem, read_csv};
use crate::scalar::{BigRational, ScalarError, parse_rational, rational_from_f64};
use num_traits::{Signed, ToPrimitive, Zero};
use rand::SeedableRng;
use rand::distributions::{Distribution, Uniform};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

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
        let bad = |reason: Problem| DataError::Spec {
            what: "target",
            spec: spec.into(),
            reason,
        };
        Ok(match spec {
            "abs" => Target::Abs,
            "square" => Target::Square,
            "sin" => Target::Sin,
            "relu-bump" => Target::ReluBump,
            _ => match spec.strip_prefix("const:") {
                Some(v) => Target::Const(parse_rational(v).map_err(|e| bad(e.into()))?),
                None => {
                    return Err(bad(Problem::Expected(
                        "abs, square, sin, relu-bump or const:V",
                    )));
                }
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
        let bad = |reason: Problem| DataError::Spec {
            what: "data",
            spec: spec.into(),
            reason,
        };
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| {
                bad(Problem::Expected("uniform:A,B:M, grid:A,B:M, csv:PATH, npy:X.npy[,Y.npy], npz:FILE or safetensors:FILE"))
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
            .ok_or_else(|| bad(Problem::Expected("A,B:M")))?;
        let (a, b) = range
            .split_once(',')
            .ok_or_else(|| bad(Problem::Expected("A,B before :M")))?;
        let a = parse_rational(a).map_err(|e| bad(e.into()))?;
        let b = parse_rational(b).map_err(|e| bad(e.into()))?;
        let m: usize = count
            .trim()
            .parse()
            .map_err(|_| bad(Problem::Count(crate::limits::shown(count))))?;
        if m == 0 {
            return Err(bad(Problem::NoPoints));
        }
        if a > b {
            return Err(bad(Problem::Reversed));
        }
        match kind {
            "uniform" => Ok(DataSpec::Uniform { a, b, m }),
            "grid" => Ok(DataSpec::Grid { a, b, m }),
            _ => Err(bad(Problem::UnknownKind(kind.into()))),
        }
    }
}

impl DataSpec {
    /// Builds the exact data set for `inputs` and `outputs` per point: synthetic data and
    /// CSV. Tensor files (`npy`, `npz`, `safetensors`) are input/output, read by
    /// `deadrelu::io::build_dataset`, which builds every spec (data sits below `io`).
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
        let bad = |reason: Problem| DataError::Spec {
            what: "data",
            spec: self.to_string(),
            reason,
        };
        let xs: Vec<Vec<BigRational>> = match self {
            DataSpec::Csv(path) => return read_csv(path, inputs, outputs),
            DataSpec::Npy { .. } | DataSpec::Npz(_) | DataSpec::Safetensors(_) => {
                return Err(bad(Problem::TensorSpec));
            }
            DataSpec::Grid { a, b, m } => {
                let total = u32::try_from(inputs)
                    .ok()
                    .and_then(|d| (*m as u128).checked_pow(d))
                    .filter(|&t| t <= MAX_POINTS as u128);
                let total =
                    total.ok_or_else(|| bad(Problem::GridTooLarge { m: *m, inputs }))? as usize;
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
                    return Err(bad(Problem::TooManyPoints(*m)));
                }
                let (af, bf) = (
                    ToPrimitive::to_f64(a).unwrap_or(f64::NAN),
                    ToPrimitive::to_f64(b).unwrap_or(f64::NAN),
                );
                // rand's Uniform needs the width B - A finite too.
                if !(af.is_finite() && bf.is_finite() && (bf - af).is_finite()) {
                    return Err(bad(Problem::RangeNotFinite));
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
                    xs.push(point.map_err(|e| bad(e.into()))?);
                }
                xs
            }
        };
        let ys = xs.iter().map(|x| vec![target.eval(x); outputs]).collect();
        Dataset::from_rows(xs, ys)
    }
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
