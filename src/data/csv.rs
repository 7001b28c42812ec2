//! `csv:PATH`: numeric columns read exactly, with an optional header row.

use super::{DataError, Dataset, Problem};
use crate::scalar::{BigRational, ScalarError, parse_rational};
use std::path::Path;
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
    let text = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut lines = LineCounter::default();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let want = inputs + outputs;
    for (row_no, record) in reader.records().enumerate() {
        let csv_err = |line: u64, column: usize, reason: Problem| DataError::Csv {
            path: path.into(),
            line,
            column,
            reason,
        };
        let record = record.map_err(|e| {
            let line = e
                .position()
                .map_or(row_no as u64 + 1, |p| lines.line(&text, p.byte()));
            csv_err(line, 0, e.into())
        })?;
        let line = record
            .position()
            .map_or(row_no as u64 + 1, |p| lines.line(&text, p.byte()));
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
                Problem::Columns {
                    got: record.len(),
                    inputs,
                    outputs,
                },
            ));
        }
        let mut values = Vec::with_capacity(want);
        for (col, p) in parsed.into_iter().enumerate() {
            values.push(p.map_err(|e| csv_err(line, col + 1, e.into()))?);
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
            reason: Problem::NoRows,
        });
    }
    Dataset::from_rows(xs, ys)
}

/// The 1-based line of a record from its byte offset, counted in the text itself: the
/// csv crate's own line numbers are off after blank lines and CRLF line ends
/// (BurntSushi/rust-csv#208, #395). Offsets only grow, so lines are counted once.
#[derive(Default)]
struct LineCounter {
    /// Bytes counted so far.
    at: usize,
    /// Newlines before `at`.
    newlines: u64,
}

impl LineCounter {
    fn line(&mut self, text: &[u8], byte: u64) -> u64 {
        let mut b = usize::try_from(byte).unwrap_or(text.len()).min(text.len());
        // a record starts at its first cell, never at the end of a blank line before it
        while b < text.len() && matches!(text[b], b'\r' | b'\n') {
            b += 1;
        }
        if b < self.at {
            return self.newlines + 1
                - memchr::memchr_iter(b'\n', &text[b..self.at]).count() as u64;
        }
        self.newlines += memchr::memchr_iter(b'\n', &text[self.at..b]).count() as u64;
        self.at = b;
        self.newlines + 1
    }
}

/// Whether a CSV cell of the first row reads as a column name: not a number, and not a
/// spelling of a non-finite float (`nan`, `inf`, `-Infinity`, ...), which is bad data,
/// not a header.
pub fn is_header_cell(cell: &str) -> bool {
    let lower = cell.trim().to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    !matches!(body, "nan" | "inf" | "infinity") && parse_rational(cell).is_err()
}
