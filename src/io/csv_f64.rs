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
//! needs them ([`CsvRows::exact_row`]): the byte offset of every data row is kept.

use crate::data::{DataError, Problem};
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

/// Appends up to [`CHUNK_BYTES`] of `file` to `buf` (into its spare capacity, not zeroed
/// first); `true` at the end of the file.
fn read_chunk(file: &mut std::fs::File, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let n = file.take(CHUNK_BYTES as u64).read_to_end(buf)?;
    Ok(n < CHUNK_BYTES)
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
        let csv_err = |line: u64, column: usize, reason: Problem| DataError::Csv {
            path: path.into(),
            line,
            column,
            reason,
        };
        let want = inputs
            .checked_add(outputs)
            .ok_or_else(|| csv_err(1, 0, Problem::TooManyColumns))?;
        let columns = |got: usize| Problem::Columns {
            got,
            inputs,
            outputs,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let file_bytes = file.metadata().map_or(0, |m| m.len());
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let (mut row_exact, mut offsets, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        let mut row_ints = CsvInts::default();
        // Two buffers: the next chunk is read while the current one is parsed.
        let mut cur: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 8);
        let mut next: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 8);
        let (mut base_offset, mut base_line) = (0u64, 1u64);
        let mut seen_record = false;
        let mut eof = read_chunk(&mut file, &mut cur).map_err(io)?;
        loop {
            // Complete lines only, unless at the end of the file.
            let end = if eof {
                cur.len()
            } else {
                match memchr::memrchr(b'\n', &cur) {
                    Some(p) => p + 1,
                    None => {
                        // a line longer than the chunk: read more
                        eof = read_chunk(&mut file, &mut cur).map_err(io)?;
                        continue;
                    }
                }
            };
            next.clear();
            next.extend_from_slice(&cur[end..]);
            let text = &cur[..end];
            let (read, blocks) = if eof {
                (Ok(true), line::parse_chunk(text, want, ints))
            } else {
                rayon::join(
                    || read_chunk(&mut file, &mut next),
                    || line::parse_chunk(text, want, ints),
                )
            };
            for block in blocks {
                for (index, special) in &block.specials {
                    let line = base_line + *index as u64;
                    let record_before =
                        seen_record || block.rows.first().is_some_and(|r| r.0 < *index);
                    let reason = match special {
                        Special::Text(..) if !record_before => {
                            seen_record = true; // the header
                            continue;
                        }
                        Special::Text(n, _) if *n != want => (0, columns(*n)),
                        Special::Text(_, reason) => (1, reason.clone().into()),
                        Special::Error(LineError::Columns(n)) => (0, columns(*n)),
                        Special::Error(LineError::Cell(col, e)) => (*col, e.clone().into()),
                        Special::Error(LineError::NotUtf8(e)) => (0, (*e).into()),
                    };
                    return Err(csv_err(line, reason.0, reason.1));
                }
                if xs.is_empty() && !block.rows.is_empty() {
                    // reserve for the whole file at the density of the first rows, with 2%
                    // to spare (the rest of a file is rarely denser than its start)
                    let seen = u128::from(base_offset + block.bytes as u64).max(1);
                    let rows = (u128::from(file_bytes) * block.rows.len() as u128 * 51)
                        .div_ceil(seen * 50);
                    let rows = usize::try_from(rows).unwrap_or(usize::MAX);
                    let cap = usize::try_from(file_bytes).unwrap_or(usize::MAX);
                    xs.reserve(rows.saturating_mul(inputs).min(cap));
                    ys.reserve(rows.saturating_mul(outputs).min(cap));
                    if ints {
                        row_ints.ints.reserve(rows.saturating_mul(want).min(cap));
                    }
                }
                seen_record |= !block.rows.is_empty();
                for (r, &(index, pos)) in block.rows.iter().enumerate() {
                    let v = &block.values[r * want..(r + 1) * want];
                    xs.extend_from_slice(&v[..inputs]);
                    ys.extend_from_slice(&v[inputs..]);
                    offsets.push(base_offset + pos as u64);
                    lines.push(base_line + index as u64);
                }
                row_exact.extend_from_slice(&block.row_exact);
                row_ints.k.extend_from_slice(&block.k);
                row_ints.ints.extend_from_slice(&block.ints);
                base_line += block.lines as u64;
                base_offset += block.bytes as u64;
            }
            if eof {
                break;
            }
            eof = read.map_err(io)?;
            std::mem::swap(&mut cur, &mut next);
        }
        let m = row_exact.len();
        if m == 0 {
            return Err(csv_err(1, 0, Problem::NoRows));
        }
        let x = Array2::from_shape_vec((m, inputs), xs).map_err(|e| csv_err(1, 0, e.into()))?;
        let y = Array2::from_shape_vec((m, outputs), ys).map_err(|e| csv_err(1, 0, e.into()))?;
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
                    reason: e.into(),
                })
            })
            .collect()
    }
}

mod line;
pub use line::MAX_ROW_DIGITS;
#[cfg(test)]
use line::*;
use line::{LineError, Special, cells};

#[cfg(test)]
mod tests;
