//! Fast CSV loading straight to `f64` (the `--mode f64` path and the float filter).
//!
//! Same file format and errors as [`crate::data::read_csv`] (columns `x_1..x_{l_0},
//! y_1..y_{l_L}`, an optional header row, integers, decimals or ratios `p/q`), but every cell
//! becomes the nearest `f64` directly: decimals through Rust's `str::parse::<f64>`, which
//! rounds correctly, never through a rational. The file is streamed in chunks of
//! [`CHUNK_BYTES`]; the lines of a chunk are parsed in parallel (rayon) and kept in file
//! order, so the result does not depend on the thread count.
//!
//! Exactness is kept per row: a row is *exact* when every cell's decimal (or ratio) value
//! is its `f64` (integers below `2^53`, `0.5`, `0.375`, ...; `0.1` is not). For rows that
//! are not, the exact values are re-read lazily from the file when an exact computation
//! needs them ([`CsvF64::exact_row`]): the byte offset of every data row is kept.

use crate::data::DataError;
use crate::scalar::{BigRational, parse_rational, rational_from_f64};
use ndarray::Array2;
use rayon::prelude::*;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// Bytes read per chunk.
pub const CHUNK_BYTES: usize = 8 << 20;

/// A CSV data set in `f64`.
#[derive(Debug, Clone)]
pub struct CsvF64 {
    /// Inputs (`M x l_0`).
    pub x: Array2<f64>,
    /// Targets (`M x l_L`).
    pub y: Array2<f64>,
    /// Per row: every cell of the row is exactly its `f64`.
    pub row_exact: Vec<bool>,
    /// Where each row is in the file, to re-read exact values.
    pub rows: CsvRows,
    /// When asked for ([`CsvF64::read_with`]): every row as integers at the scale `10^-K`.
    pub ints: Option<CsvInts>,
}

/// The rows of a CSV file as integers: row `m` is `X_i / 10^K` with `K = k[m]` and `X`
/// its `inputs + outputs` integers in `ints`; `k[m] = u8::MAX` where the row does not fit
/// (ratios, quotes, more than 19 significant digits, `K` above [`MAX_ROW_DIGITS`]: the
/// exact values are then re-read with [`CsvRows::exact_row`]).
#[derive(Debug, Clone, Default)]
pub struct CsvInts {
    /// `K` per row.
    pub k: Vec<u8>,
    /// The integers, row-major, `inputs + outputs` per row (zeros for rows that do not
    /// fit).
    pub ints: Vec<i64>,
}

/// Where the data rows of a CSV file are, to re-read them exactly.
#[derive(Debug, Clone)]
pub struct CsvRows {
    /// Byte offset of each data row's line in the file.
    offsets: Vec<u64>,
    /// 1-based line number of each data row.
    lines: Vec<u64>,
    path: PathBuf,
}

/// A decimal cell `(-1)^neg sig 10^scale` (`sig = u64::MAX`: digits were dropped).
#[derive(Debug, Clone, Copy)]
struct Decimal {
    neg: bool,
    sig: u64,
    scale: i64,
}

/// Most fractional digits `K` of a row kept as integers (`5^K < 2^63`).
pub const MAX_ROW_DIGITS: i64 = 27;

/// A row of decimals as integers at the scale `10^-K`: `(K, X)` with every cell
/// `X_i / 10^K` exactly; `None` when that does not fit (digits dropped, `K` above
/// [`MAX_ROW_DIGITS`], or an integer beyond `i64`).
fn row_integers(cells: &[Decimal], out: &mut Vec<i64>) -> Option<u8> {
    let start = out.len();
    let low = cells
        .iter()
        .filter(|c| c.sig != 0)
        .map(|c| c.scale)
        .min()
        .unwrap_or(0)
        .min(0);
    let k = -low;
    let fail = |out: &mut Vec<i64>| {
        out.truncate(start);
        None
    };
    if k > MAX_ROW_DIGITS {
        return fail(out);
    }
    for c in cells {
        if c.sig == u64::MAX {
            return fail(out);
        }
        if c.sig == 0 {
            out.push(0);
            continue;
        }
        let up = (c.scale + k) as u32; // >= 0
        let v = 10i64
            .checked_pow(up)
            .and_then(|p| i64::try_from(c.sig).ok()?.checked_mul(p));
        match v {
            Some(v) => out.push(if c.neg { -v } else { v }),
            None => return fail(out),
        }
    }
    Some(k as u8)
}

/// A decimal cell as `(value, exact)`, or `None` when it is not a plain decimal (a ratio,
/// or not a number: the caller falls back to [`parse_rational`]).
fn decimal(cell: &str) -> Option<(f64, bool)> {
    let b = cell.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let (mut digits, mut frac, mut sig) = (0usize, 0usize, 0u64);
    let mut sig_digits = 0usize; // significant digits (leading zeros skipped)
    let mut dropped = false; // a nonzero digit beyond 19 significant ones
    let mut trailing_zero_run = 0usize;
    let mut seen_dot = false;
    while i < b.len() {
        match b[i] {
            d @ b'0'..=b'9' => {
                digits += 1;
                if seen_dot {
                    frac += 1;
                }
                let v = u64::from(d - b'0');
                if sig_digits > 0 || v != 0 {
                    if sig_digits < 19 {
                        sig = sig * 10 + v;
                        sig_digits += 1;
                    } else if v != 0 {
                        dropped = true;
                    } else {
                        trailing_zero_run += 1;
                    }
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let exponent: i64 = if i < b.len() {
        cell[i + 1..].parse().ok()?
    } else {
        0
    };
    if exponent.abs() > 100_000 {
        return None; // parse_rational reports it
    }
    let value: f64 = cell.parse().ok()?;
    // value = sig * 10^scale exactly (when nothing was dropped)
    let scale = exponent - frac as i64 + trailing_zero_run as i64;
    Some((value, exact_decimal(sig, scale, dropped)))
}

/// Whether `sig * 10^scale` (with nonzero digits dropped beyond `sig` when `dropped`) is
/// a double.
fn exact_decimal(sig: u64, scale: i64, dropped: bool) -> bool {
    if sig == 0 {
        !dropped
    } else if dropped {
        false
    } else if scale >= 0 {
        scale <= 16 && u128::from(sig) * 10u128.pow(scale as u32) <= 1 << 53
    } else {
        let k = (-scale) as u32;
        // most significands are not multiples of 5: one multiply-by-constant test first
        k <= 27 && sig.is_multiple_of(5) && {
            let five = 5u64.pow(k);
            sig.is_multiple_of(five) && sig / five <= 1 << 53
        }
    }
}

/// Powers of ten that are doubles.
const P10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case in one scan: `want` plain decimal cells separated by commas (spaces
/// around them allowed), appended to `out` with whether all are exact. `None` for
/// anything else (quotes, ratios, headers, errors, a different count): the caller takes
/// the general path. Values: Clinger's fast path (`sig` and `10^|scale|` both doubles, one
/// correctly rounded operation) or else `str::parse::<f64>`; both round correctly.
fn fast_line(
    line: &[u8],
    want: usize,
    out: &mut Vec<f64>,
    mut dec: Option<&mut Vec<Decimal>>,
) -> Option<bool> {
    let start_len = out.len();
    if let Some(d) = dec.as_deref_mut() {
        d.clear();
    }
    let mut exact = true;
    let mut i = 0usize;
    let n = line.len();
    loop {
        while i < n && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        let cell_start = i;
        if i < n && (line[i] == b'-' || line[i] == b'+') {
            i += 1;
        }
        let (mut digits, mut frac, mut sig, mut sig_digits) = (0usize, 0i64, 0u64, 0usize);
        let (mut dropped, mut zero_run, mut seen_dot) = (false, 0i64, false);
        while i < n {
            let c = line[i];
            if c.is_ascii_digit() {
                digits += 1;
                frac += i64::from(seen_dot);
                let v = u64::from(c - b'0');
                if sig_digits > 0 || v != 0 {
                    if sig_digits < 19 {
                        sig = sig * 10 + v;
                        sig_digits += 1;
                    } else if v != 0 {
                        dropped = true;
                    } else {
                        zero_run += 1;
                    }
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if digits == 0 {
            out.truncate(start_len);
            return None;
        }
        let mut exponent = 0i64;
        if i < n && (line[i] == b'e' || line[i] == b'E') {
            i += 1;
            let neg = i < n && line[i] == b'-';
            if i < n && (line[i] == b'-' || line[i] == b'+') {
                i += 1;
            }
            let e_start = i;
            while i < n && line[i].is_ascii_digit() && i - e_start < 6 {
                exponent = exponent * 10 + i64::from(line[i] - b'0');
                i += 1;
            }
            if i == e_start || (i < n && line[i].is_ascii_digit()) {
                out.truncate(start_len);
                return None;
            }
            if neg {
                exponent = -exponent;
            }
            if exponent.abs() > 100_000 {
                out.truncate(start_len);
                return None; // parse_rational reports it
            }
        }
        let cell_end = i;
        while i < n && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        if i < n && line[i] != b',' {
            out.truncate(start_len);
            return None;
        }
        let scale = exponent - frac + zero_run;
        let value = if !dropped && sig < (1 << 53) && scale.abs() <= 22 {
            let v = sig as f64;
            let v = if scale >= 0 {
                v * P10[scale as usize]
            } else {
                v / P10[(-scale) as usize]
            };
            if line[cell_start] == b'-' { -v } else { v }
        } else {
            // ASCII by construction
            let text = std::str::from_utf8(&line[cell_start..cell_end]).ok()?;
            text.parse().ok()?
        };
        exact &= exact_decimal(sig, scale, dropped);
        if let Some(d) = dec.as_deref_mut() {
            d.push(Decimal {
                neg: line[cell_start] == b'-',
                sig: if dropped { u64::MAX } else { sig },
                scale,
            });
        }
        out.push(value);
        if out.len() - start_len > want {
            out.truncate(start_len);
            return None;
        }
        if i >= n {
            break;
        }
        i += 1; // the comma
    }
    if out.len() - start_len != want {
        out.truncate(start_len);
        return None;
    }
    Some(exact)
}

/// A cell as `(f64, exact)`.
fn cell_value(cell: &str) -> Result<(f64, bool), String> {
    if let Some(v) = decimal(cell) {
        return Ok(v);
    }
    let q = parse_rational(cell).map_err(|e| e.to_string())?;
    let f = num_traits::ToPrimitive::to_f64(&q).unwrap_or(f64::NAN);
    let exact = f.is_finite() && rational_from_f64(f).is_ok_and(|r| r == q);
    Ok((f, exact))
}

/// The cells of a line, trimmed; a line with a quote goes through the csv crate.
fn cells(line: &str) -> Vec<String> {
    if line.contains('"') {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(line.as_bytes());
        if let Some(Ok(record)) = reader.records().next() {
            return record.iter().map(str::to_string).collect();
        }
    }
    line.split(',').map(|c| c.trim().to_string()).collect()
}

enum Parsed {
    Blank,
    /// Values, all exact, and (when asked) the row as integers ([`row_integers`]).
    Row(Vec<f64>, bool, Option<(u8, Vec<i64>)>),
    /// A row none of whose cells is a number (a header when it is the first): its
    /// number of cells and the first cell's error.
    Text(usize, String),
}

fn parse_line(line: &str, want: usize, ints: bool) -> Result<Parsed, (usize, String)> {
    let mut values = Vec::with_capacity(want);
    let mut dec = Vec::new();
    if let Some(exact) = fast_line(line.as_bytes(), want, &mut values, ints.then_some(&mut dec)) {
        let row = if ints {
            let mut out = Vec::with_capacity(want);
            row_integers(&dec, &mut out).map(|k| (k, out))
        } else {
            None
        };
        return Ok(Parsed::Row(values, exact, row));
    }
    let fast = !line.contains('"');
    let owned;
    let parts: Vec<&str> = if fast {
        line.split(',').map(str::trim).collect()
    } else {
        owned = cells(line);
        owned.iter().map(String::as_str).collect()
    };
    if parts.iter().all(|c| c.is_empty()) {
        return Ok(Parsed::Blank);
    }
    let mut values = Vec::with_capacity(want);
    let mut all_exact = true;
    let mut first_err = None;
    for (col, c) in parts.iter().enumerate() {
        match cell_value(c) {
            Ok((v, ex)) => {
                values.push(v);
                all_exact &= ex;
            }
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some((col + 1, e));
                }
            }
        }
    }
    if values.is_empty() {
        let reason = first_err.map(|(_, r)| r).unwrap_or_default();
        return Ok(Parsed::Text(parts.len(), reason));
    }
    if parts.len() != want {
        return Err((0, parts.len().to_string()));
    }
    if let Some(err) = first_err {
        return Err(err);
    }
    Ok(Parsed::Row(values, all_exact, None))
}

impl CsvF64 {
    /// Reads `path` with `inputs + outputs` numeric columns.
    ///
    /// # Errors
    /// [`DataError::Io`] when the file cannot be read, [`DataError::Csv`] naming line and
    /// column of a malformed row or cell (the messages of [`crate::data::read_csv`]).
    pub fn read(path: &Path, inputs: usize, outputs: usize) -> Result<Self, DataError> {
        Self::read_with(path, inputs, outputs, false)
    }

    /// As [`CsvF64::read`], with the rows as integers as well when `ints`.
    ///
    /// # Errors
    /// As [`CsvF64::read`].
    pub fn read_with(
        path: &Path,
        inputs: usize,
        outputs: usize,
        ints: bool,
    ) -> Result<Self, DataError> {
        let io = |source| DataError::Io {
            path: path.into(),
            source,
        };
        let csv_err = |line: u64, column: usize, reason: String| DataError::Csv {
            path: path.into(),
            line,
            column,
            reason,
        };
        let want = inputs
            .checked_add(outputs)
            .ok_or_else(|| csv_err(1, 0, "too many columns".into()))?;
        let columns = |n: usize| {
            format!("{n} columns, expected {want} ({inputs} inputs + {outputs} outputs)")
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let (mut row_exact, mut offsets, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + 4096);
        let (mut base_offset, mut base_line) = (0u64, 1u64);
        let mut seen_record = false;
        let mut eof = false;
        let mut row_ints = CsvInts::default();
        while !eof {
            let start = buf.len();
            buf.resize(start + CHUNK_BYTES, 0);
            let mut filled = start;
            while filled < buf.len() {
                let n = file.read(&mut buf[filled..]).map_err(io)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                filled += n;
            }
            buf.truncate(filled);
            // Complete lines only, unless at the end of the file.
            let end = if eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(p) => p + 1,
                    None => continue, // a line longer than the buffer: read more
                }
            };
            let text = std::str::from_utf8(&buf[..end])
                .map_err(|e| csv_err(base_line, 0, format!("not UTF-8 text: {e}")))?;
            let mut spans = Vec::new();
            let mut pos = 0usize;
            for nl in memchr::memchr_iter(b'\n', text.as_bytes())
                .chain((end > 0 && !text.ends_with('\n')).then_some(end))
            {
                spans.push((pos, nl));
                pos = nl + 1;
            }
            let parsed: Vec<Result<Parsed, (usize, String)>> = spans
                .par_iter()
                .map(|&(a, b)| parse_line(text[a..b].trim_end_matches('\r'), want, ints))
                .collect();
            for (i, (p, &(a, _))) in parsed.into_iter().zip(&spans).enumerate() {
                let line = base_line + i as u64;
                match p {
                    Ok(Parsed::Blank) => {}
                    Ok(Parsed::Text(..)) if !seen_record => seen_record = true, // header
                    Ok(Parsed::Text(n, reason)) => {
                        return Err(if n != want {
                            csv_err(line, 0, columns(n))
                        } else {
                            csv_err(line, 1, reason)
                        });
                    }
                    Ok(Parsed::Row(values, exact, row)) => {
                        seen_record = true;
                        if ints {
                            match row {
                                Some((k, v)) => {
                                    row_ints.k.push(k);
                                    row_ints.ints.extend_from_slice(&v);
                                }
                                None => {
                                    row_ints.k.push(u8::MAX);
                                    row_ints.ints.resize(row_ints.ints.len() + want, 0);
                                }
                            }
                        }
                        xs.extend_from_slice(&values[..inputs]);
                        ys.extend_from_slice(&values[inputs..]);
                        row_exact.push(exact);
                        offsets.push(base_offset + a as u64);
                        lines.push(line);
                    }
                    Err((0, n)) => {
                        let n: usize = n.parse().unwrap_or(0);
                        return Err(csv_err(line, 0, columns(n)));
                    }
                    Err((col, reason)) => return Err(csv_err(line, col, reason)),
                }
            }
            base_line += spans.len() as u64;
            base_offset += end as u64;
            buf.drain(..end);
        }
        let m = row_exact.len();
        if m == 0 {
            return Err(csv_err(1, 0, "no data rows".into()));
        }
        let x =
            Array2::from_shape_vec((m, inputs), xs).map_err(|e| csv_err(1, 0, e.to_string()))?;
        let y =
            Array2::from_shape_vec((m, outputs), ys).map_err(|e| csv_err(1, 0, e.to_string()))?;
        Ok(Self {
            x,
            y,
            row_exact,
            rows: CsvRows {
                offsets,
                lines,
                path: path.into(),
            },
            ints: ints.then_some(row_ints),
        })
    }
}

impl CsvRows {
    /// The exact values of data row `m` (inputs then targets), re-read from the file.
    ///
    /// # Errors
    /// [`DataError`] if the file changed or cannot be read.
    pub fn exact_row(&self, m: usize) -> Result<Vec<BigRational>, DataError> {
        let io = |source| DataError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = std::fs::File::open(&self.path).map_err(io)?;
        file.seek(std::io::SeekFrom::Start(self.offsets[m]))
            .map_err(io)?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(file), &mut line).map_err(io)?;
        cells(line.trim_end_matches(['\n', '\r']))
            .iter()
            .enumerate()
            .map(|(col, c)| {
                parse_rational(c).map_err(|e| DataError::Csv {
                    path: self.path.clone(),
                    line: self.lines[m],
                    column: col + 1,
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::q;

    #[test]
    fn decimals_and_their_exactness() {
        for (text, value, exact) in [
            ("0", 0.0, true),
            ("-0.000", 0.0, true),
            ("255", 255.0, true),
            ("0.5", 0.5, true),
            ("-0.375", -0.375, true),
            ("1e3", 1000.0, true),
            ("2.5E-1", 0.25, true),
            ("0.1", 0.1, false),
            ("9007199254740993", 9007199254740992.0, false),
            ("1e-400", 0.0, false),
            ("+.5", 0.5, true),
            ("12345678901234567890123", 1.2345678901234568e22, false),
        ] {
            let (v, ex) = cell_value(text).unwrap();
            assert_eq!((v, ex), (value, exact), "{text}");
        }
        assert_eq!(cell_value("1/4").unwrap(), (0.25, true));
        assert_eq!(cell_value("1/3").unwrap(), (1.0 / 3.0, false));
        assert!(cell_value("nan").is_err());
        assert!(cell_value("1e").is_err());
        assert!(cell_value("1e-100001").is_err());
        assert!(cell_value(".").is_err());
    }

    #[test]
    fn fast_line_agrees_with_the_general_path() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut cells_text = Vec::new();
        for _ in 0..20_000 {
            let v: f64 = rng.gen_range(-1.0..1.0) * 10f64.powi(rng.gen_range(-30..30));
            let text = match rng.gen_range(0..6) {
                0 => format!("{v}"),
                1 => format!("{v:e}"),
                2 => format!("{:.9}", v),
                3 => format!("{}", rng.gen_range(-300i64..300)),
                4 => format!("{:.3}E{}", v, rng.gen_range(-400..400)),
                _ => format!("{}", (v as f32)),
            };
            cells_text.push(text);
        }
        for chunk in cells_text.chunks(7) {
            let line = chunk.join(" , ");
            let mut out = Vec::new();
            let exact = fast_line(line.as_bytes(), chunk.len(), &mut out, None).expect(&line);
            let mut all = true;
            for (c, v) in chunk.iter().zip(&out) {
                let (w, ex) = decimal(c).unwrap();
                assert_eq!(v.to_bits(), w.to_bits(), "{c}");
                all &= ex;
                // exactness is never claimed wrongly
                if ex {
                    assert_eq!(
                        rational_from_f64(w).unwrap(),
                        parse_rational(c).unwrap(),
                        "{c}"
                    );
                }
            }
            assert_eq!(exact, all, "{line}");
        }
        for bad in [
            "1,2,3",
            "1,x",
            "1/2,3",
            "\"1\",2",
            "1e,2",
            "1e-100001,2",
            "1 2,3",
        ] {
            assert!(
                fast_line(bad.as_bytes(), 2, &mut Vec::new(), None).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_like_the_exact_reader() {
        let dir = std::env::temp_dir().join(format!("deadrelu-csvf64-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.csv");
        std::fs::write(&path, "x,y\r\n0.5,1\n\n0.1 ,\"2\"\n1/3,-4\n").unwrap();
        let d = CsvF64::read(&path, 1, 1).unwrap();
        assert_eq!(d.x.as_slice().unwrap(), &[0.5, 0.1, 1.0 / 3.0]);
        assert_eq!(d.y.as_slice().unwrap(), &[1.0, 2.0, -4.0]);
        assert_eq!(d.row_exact, vec![true, false, false]);
        assert_eq!(d.rows.exact_row(1).unwrap(), vec![q(1, 10), q(2, 1)]);
        assert_eq!(d.rows.exact_row(2).unwrap(), vec![q(1, 3), q(-4, 1)]);
        let exact = crate::data::read_csv(&path, 1, 1).unwrap();
        assert_eq!(exact.len(), 3);
        // as integers at 10^-K: 0.5,1 -> K=1 (5, 10); 0.1,"2" (quoted: general path) and
        // 1/3 (a ratio) do not fit
        let ints = CsvF64::read_with(&path, 1, 1, true).unwrap().ints.unwrap();
        assert_eq!(ints.k, vec![1, u8::MAX, u8::MAX]);
        assert_eq!(&ints.ints[..2], &[5, 10]);
        std::fs::write(&path, "-1.25e-3,120\n7,0.000\n1e30,1\n").unwrap();
        let ints = CsvF64::read_with(&path, 1, 1, true).unwrap().ints.unwrap();
        assert_eq!(ints.k, vec![5, 0, u8::MAX]);
        assert_eq!(&ints.ints[..4], &[-125, 12_000_000, 7, 0]);
        std::fs::write(&path, "1,2\n3,x\n").unwrap();
        let e = CsvF64::read(&path, 1, 1).unwrap_err().to_string();
        assert!(e.contains(":2:2:"), "{e}");
        std::fs::write(&path, "1,2\n3\n").unwrap();
        let e = CsvF64::read(&path, 1, 1).unwrap_err().to_string();
        assert!(e.contains(":2:0: 1 columns, expected 2"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
