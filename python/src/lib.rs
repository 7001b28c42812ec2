//! `deadrelu._native`: the `deadrelu` command line in-process for the Python package.
//!
//! Python converts its inputs (a model's weights as raw float64 bits or exact strings,
//! NumPy data as raw float64 bits); this module turns them into the files the CLI reads
//! (theta as JSON with exact strings, data as CSV with exact strings: no decimal
//! rounding anywhere), runs the command through [`deadrelu::cli::run_json`] on a worker
//! thread with the GIL released, and returns its JSON text. Bad input raises
//! `ValueError` with the CLI's one-line message; Ctrl-C raises `KeyboardInterrupt` and
//! stops the Rust work (`deadrelu::cancel`: the long loops stop at their next
//! cancellation point, nothing is written after it).

use deadrelu::net::Arch;
use deadrelu::scalar::{BigRational, parse_rational, rational_from_f64, rational_string};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Why the inputs could not be written for the CLI: each cause kept whole as the source
/// (the texts are the ValueError messages Python users see).
#[derive(Debug, thiserror::Error)]
enum InputError {
    /// A scratch file or directory could not be created or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The model's widths are not an architecture.
    #[error("model: {0}")]
    Arch(#[source] deadrelu::net::NetError),
    /// A float64 that is not a finite number (NaN, inf).
    #[error("{what} entry {index}: {source}")]
    Float {
        what: &'static str,
        index: usize,
        #[source]
        source: deadrelu::scalar::ScalarError,
    },
    /// A data float64 that is not finite, with its place.
    #[error("{inner} (row {row}, column {col})")]
    DataCell {
        row: usize,
        col: usize,
        #[source]
        inner: Box<InputError>,
    },
    /// An exact string that is not a number.
    #[error("model parameter {index}: {source}")]
    Text {
        index: usize,
        #[source]
        source: deadrelu::scalar::ScalarError,
    },
    /// Bytes that are not a whole number of float64.
    #[error("{what}: {len} bytes is not a whole number of float64")]
    Bytes { what: &'static str, len: usize },
    /// Both or neither of raw bits and exact strings.
    #[error("model: give exactly one of raw float64 bits or exact strings")]
    ModelForm,
    /// A parameter count that does not match the architecture.
    #[error("model: architecture {arch} has {expected} parameters, got {got}")]
    ParamCount {
        arch: Arch,
        expected: usize,
        got: usize,
    },
    /// `rows * cols` overflows.
    #[error("data: size overflows")]
    DataOverflow,
    /// A data shape that does not match the bytes.
    #[error("data: expected {rows} x {cols} values (at least one point and one column), got {got}")]
    DataShape {
        rows: usize,
        cols: usize,
        got: usize,
    },
}

impl From<InputError> for PyErr {
    fn from(e: InputError) -> PyErr {
        PyValueError::new_err(e.to_string())
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, InputError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "deadrelu-py-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|source| InputError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn f64s(bytes: &[u8], what: &'static str) -> Result<Vec<f64>, InputError> {
    if !bytes.len().is_multiple_of(8) {
        return Err(InputError::Bytes {
            what,
            len: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

fn exact(x: f64, what: &'static str, index: usize) -> Result<BigRational, InputError> {
    rational_from_f64(x).map_err(|source| InputError::Float {
        what,
        index,
        source,
    })
}

/// The error of writing `path`.
fn write_error(path: &Path) -> impl Fn(std::io::Error) -> InputError + '_ {
    move |source| InputError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    }
}

/// Writes theta as `{"arch":[..],"params":[..]}` with exact strings.
fn write_weights(
    path: &Path,
    widths: Vec<usize>,
    bits: Option<&[u8]>,
    strings: Option<Vec<String>>,
) -> Result<(), InputError> {
    let arch = Arch::new(widths).map_err(InputError::Arch)?;
    let params: Vec<BigRational> = match (bits, strings) {
        (Some(b), None) => f64s(b, "model")?
            .into_iter()
            .enumerate()
            .map(|(i, x)| exact(x, "model parameter", i))
            .collect::<Result<_, _>>()?,
        (None, Some(s)) => s
            .iter()
            .enumerate()
            .map(|(index, t)| {
                parse_rational(t).map_err(|source| InputError::Text { index, source })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(InputError::ModelForm),
    };
    if params.len() != arch.num_params() {
        return Err(InputError::ParamCount {
            expected: arch.num_params(),
            got: params.len(),
            arch,
        });
    }
    let json = deadrelu::io::weights::to_json(&arch, &params);
    std::fs::write(path, json.to_string()).map_err(write_error(path))
}

/// Writes `rows` points with `cols` float64 columns (x then y) as CSV of exact strings.
fn write_data(path: &Path, rows: usize, cols: usize, bits: &[u8]) -> Result<(), InputError> {
    let values = f64s(bits, "data")?;
    let expected = rows.checked_mul(cols).ok_or(InputError::DataOverflow)?;
    if values.len() != expected || rows == 0 || cols == 0 {
        return Err(InputError::DataShape {
            rows,
            cols,
            got: values.len(),
        });
    }
    let file = std::fs::File::create(path).map_err(write_error(path))?;
    let mut out = std::io::BufWriter::new(file);
    let werr = write_error(path);
    for r in 0..rows {
        let row = &values[r * cols..(r + 1) * cols];
        let mut line = String::new();
        for (c, &x) in row.iter().enumerate() {
            let q = exact(x, "data", r * cols + c).map_err(|e| InputError::DataCell {
                row: r,
                col: c,
                inner: Box::new(e),
            })?;
            if c > 0 {
                line.push(',');
            }
            line.push_str(&rational_string(&q));
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(&werr)?;
    }
    out.flush().map_err(werr)
}

/// Runs one CLI command with `--json` and returns its JSON text.
///
/// `args`: the words after `deadrelu` (the command and its flags). `model`: `(widths,
/// float64 little-endian bytes)` or `(widths, exact strings)` in the layout of
/// MECHANISM.md; when given, `--weights FILE` is appended. `data`: `(rows, cols, float64
/// bytes)` row-major with x then y columns; when given, `--data csv:FILE` is appended.
#[pyfunction]
#[pyo3(signature = (args, widths=None, model_bits=None, model_exact=None, data=None))]
fn run(
    py: Python<'_>,
    mut args: Vec<String>,
    widths: Option<Vec<usize>>,
    model_bits: Option<&[u8]>,
    model_exact: Option<Vec<String>>,
    data: Option<(usize, usize, &[u8])>,
) -> PyResult<String> {
    let dir = TempDir::new()?;
    if let Some(widths) = widths {
        let path = dir.0.join("model.json");
        write_weights(&path, widths, model_bits, model_exact)?;
        args.push("--weights".into());
        args.push(path.display().to_string());
    }
    if let Some((rows, cols, bits)) = data {
        let path = dir.0.join("data.csv");
        write_data(&path, rows, cols, bits)?;
        args.push("--data".into());
        args.push(format!("csv:{}", path.display()));
    }
    let value = on_worker(py, move || {
        deadrelu::cli::run_json(&args).map(|v| v.to_string())
    })?;
    value.map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Runs `work` on a worker thread with the GIL released, checking for signals every 50 ms.
/// On Ctrl-C (`KeyboardInterrupt`, or any exception a signal handler raises) the Rust work
/// is asked to stop ([`deadrelu::cancel::request`]: it stops at its next cancellation
/// point, within milliseconds), the worker is awaited for up to 2 s, and the exception is
/// raised; a second Ctrl-C while waiting raises at once.
fn on_worker<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    use std::sync::mpsc::RecvTimeoutError;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("deadrelu".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| PyValueError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(Duration::from_millis(50)), rx));
        rx = back;
        match got {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    deadrelu::cancel::request();
                    let deadline = std::time::Instant::now() + Duration::from_secs(2);
                    while std::time::Instant::now() < deadline {
                        let (got, back) =
                            py.detach(move || (rx.recv_timeout(Duration::from_millis(20)), rx));
                        rx = back;
                        match got {
                            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
                            _ => break,
                        }
                    }
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyValueError::new_err(
                    "deadrelu: the worker thread stopped without an answer (a bug)",
                ));
            }
        }
    }
}

/// The exact rational of a float64 (for tests and the BatchNorm fold): its string.
#[pyfunction]
fn exact_string(x: f64) -> PyResult<String> {
    rational_from_f64(x)
        .map(|q| rational_string(&q))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The whole command line (`deadrelu ARGS...`): prints as the binary does; returns the
/// exit code. Backs the `deadrelu` console script of the package; Ctrl-C stops the run
/// and raises `KeyboardInterrupt`.
#[pyfunction]
fn cli_main(py: Python<'_>, args: Vec<String>) -> PyResult<i32> {
    let mut words = vec!["deadrelu".to_string()];
    words.extend(args);
    on_worker(py, move || deadrelu::cli::run(words))
}

/// The order of a state_dict's Linear modules, by the CLI's rule
/// ([`deadrelu::io::safetensors_order::layer_order`]): `order` (the `layer_order` option,
/// comma-separated) if given, else the numbers in the names, else the only order in which
/// the shapes chain. `modules`: (name, (out, in)) of each weight. Returns the names in
/// order and where it came from (`"explicit"`, `"numbers"` or `"shapes"`); a refusal is a
/// `ValueError` with the CLI's message, saying `layer_order` where the CLI says
/// `--layer-order`.
#[pyfunction]
#[pyo3(signature = (modules, order=None))]
fn layer_order(
    modules: Vec<(String, (usize, usize))>,
    order: Option<String>,
) -> PyResult<(Vec<String>, &'static str)> {
    use deadrelu::io::safetensors_order::{ASK_FOR_ORDER, OrderSource};
    match deadrelu::io::safetensors_order::layer_order(&modules, order.as_deref(), None) {
        Ok((names, source)) => Ok((
            names,
            match source {
                OrderSource::Explicit => "explicit",
                OrderSource::Numbers => "numbers",
                OrderSource::Shapes => "shapes",
            },
        )),
        Err(e) => Err(PyValueError::new_err(
            e.to_string()
                .replace(
                ASK_FOR_ORDER,
                "give it with layer_order=[...] (input layer first), or pass the nn.Module itself (its forward pass gives the order)",
            )
            .replace("--layer-order", "layer_order"),
        )),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(exact_string, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(layer_order, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
