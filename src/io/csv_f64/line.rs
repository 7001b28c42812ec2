//! One CSV line: the fast path for plain decimals (`f64` value, exactness and the row's integers at a common decimal scale), and the general path through exact rationals.

use super::*;
use crate::scalar::ScalarError;

/// A decimal cell `(-1)^neg sig 10^scale` (`sig = u64::MAX`: digits were dropped).
#[derive(Debug, Clone, Copy)]
pub(super) struct Decimal {
    pub(super) neg: bool,
    pub(super) sig: u64,
    pub(super) scale: i64,
}

/// `10^i` for `i <= 18` (the powers of ten that are `i64`).
const POW10_I64: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `5^i` for `i <= 27` (the powers of five that are `u64`).
const POW5: [u64; 28] = {
    let mut t = [1u64; 28];
    let mut i = 1;
    while i < 28 {
        t[i] = t[i - 1] * 5;
        i += 1;
    }
    t
};

/// Most fractional digits `K` of a row kept as integers (`5^K < 2^63`).
pub const MAX_ROW_DIGITS: i64 = 27;

/// A row of decimals as integers at the scale `10^-K`: `(K, X)` with every cell
/// `X_i / 10^K` exactly; `None` when that does not fit (digits dropped, `K` above
/// [`MAX_ROW_DIGITS`], or an integer beyond `i64`).
pub(super) fn row_integers(cells: &[Decimal], out: &mut Vec<i64>) -> Option<u8> {
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
        let up = (c.scale + k) as usize; // >= 0
        let v = POW10_I64
            .get(up)
            .and_then(|&p| i64::try_from(c.sig).ok()?.checked_mul(p));
        match v {
            Some(v) => out.push(if c.neg { -v } else { v }),
            None => return fail(out),
        }
    }
    Some(k as u8)
}

/// A decimal cell as `(value, exact)`, or `None` when it is not a plain decimal (a ratio,
/// or not a number: the caller falls back to [`parse_rational`]).
pub(super) fn decimal(cell: &str) -> Option<(f64, bool)> {
    let b = cell.as_bytes();
    let i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let (sig, frac, dropped, zero_run, digits, end) = cell_digits(b, i);
    if digits == 0 {
        return None;
    }
    let exponent: i64 = match b.get(end) {
        None => 0,
        Some(b'e' | b'E') => cell[end + 1..].parse().ok()?,
        Some(_) => return None,
    };
    if exponent.abs() > 100_000 {
        return None; // parse_rational reports it
    }
    let value: f64 = cell.parse().ok()?;
    // value = sig * 10^scale exactly (when nothing was dropped)
    let scale = exponent - frac + zero_run;
    Some((value, exact_decimal(sig, scale, dropped)))
}

/// Whether `sig * 10^scale` (with nonzero digits dropped beyond `sig` when `dropped`) is
/// a double.
pub(super) fn exact_decimal(sig: u64, scale: i64, dropped: bool) -> bool {
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
            let five = POW5[k as usize];
            sig.is_multiple_of(five) && sig / five <= 1 << 53
        }
    }
}

/// Powers of ten that are doubles.
pub(super) const P10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Eight ASCII bytes (little-endian in `v`) that are all digits `0-9`.
#[inline]
fn eight_digits(v: u64) -> bool {
    (v.wrapping_add(0x4646_4646_4646_4646) | v.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
        == 0
}

/// The value of eight ASCII digits (little-endian in `v`, first digit in the lowest byte),
/// by three multiply-and-shift steps that combine 1, 2 then 4 digits at a time (the
/// well-known SWAR digit parse used by fast float parsers).
#[inline]
fn parse_eight(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = v.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32
}

/// The digits of one cell from `line[i..]` (a sign, digits with at most one `.`; no
/// exponent): `(sig, frac, dropped, zero_run, digits, end)` as the definitions in
/// [`fast_line`]. Runs of eight digits are read at once; a cell of more than 19 digits is
/// re-read digit by digit (leading zeros skipped, digits beyond 19 significant ones
/// dropped).
#[inline]
fn cell_digits(line: &[u8], start: usize) -> (u64, i64, bool, i64, usize, usize) {
    let n = line.len();
    let mut i = start;
    let mut sig = 0u64;
    while i < n && line[i].is_ascii_digit() {
        sig = sig.wrapping_mul(10).wrapping_add(u64::from(line[i] - b'0'));
        i += 1;
    }
    let int_digits = i - start;
    let mut frac = 0usize;
    if i < n && line[i] == b'.' {
        i += 1;
        let f = i;
        while i + 8 <= n {
            let w = u64::from_le_bytes(line[i..i + 8].try_into().expect("8 bytes"));
            if !eight_digits(w) {
                break;
            }
            sig = sig.wrapping_mul(100_000_000).wrapping_add(parse_eight(w));
            i += 8;
        }
        while i < n && line[i].is_ascii_digit() {
            sig = sig.wrapping_mul(10).wrapping_add(u64::from(line[i] - b'0'));
            i += 1;
        }
        frac = i - f;
    }
    let digits = int_digits + frac;
    if digits <= 19 {
        // 19 digits fit a u64: sig is exact, nothing dropped
        return (sig, frac as i64, false, 0, digits, i);
    }
    let (mut sig, mut sig_digits, mut dropped, mut zero_run) = (0u64, 0usize, false, 0i64);
    for &c in &line[start..i] {
        if c == b'.' {
            continue;
        }
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
    }
    (sig, frac as i64, dropped, zero_run, digits, i)
}

/// The common case in one scan: `want` plain decimal cells separated by commas (spaces
/// around them allowed), appended to `out` with whether all are exact. `None` for
/// anything else (quotes, ratios, headers, errors, a different count): the caller takes
/// the general path. Values: Clinger's fast path (`sig` and `10^|scale|` both doubles, one
/// correctly rounded operation) or else `str::parse::<f64>`; both round correctly.
pub(super) fn fast_line(
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
        let neg = i < n && line[i] == b'-';
        if i < n && (line[i] == b'-' || line[i] == b'+') {
            i += 1;
        }
        // sig: the first (at most 19) significant digits; frac: digits after the dot;
        // zero_run: zeros dropped beyond 19 significant digits; dropped: a nonzero one.
        let (sig, frac, dropped, zero_run, digits, end) = cell_digits(line, i);
        i = end;
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
            if neg { -v } else { v }
        } else {
            // ASCII by construction
            let text = std::str::from_utf8(&line[cell_start..cell_end]).ok()?;
            text.parse().ok()?
        };
        exact &= exact_decimal(sig, scale, dropped);
        if let Some(d) = dec.as_deref_mut() {
            d.push(Decimal {
                neg,
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
pub(super) fn cell_value(cell: &str) -> Result<(f64, bool), ScalarError> {
    if let Some(v) = decimal(cell) {
        return Ok(v);
    }
    let q = parse_rational(cell)?;
    let f = num_traits::ToPrimitive::to_f64(&q).unwrap_or(f64::NAN);
    let exact = f.is_finite() && rational_from_f64(f).is_ok_and(|r| r == q);
    Ok((f, exact))
}

/// The cells of a line, trimmed; a line with a quote goes through the csv crate.
pub(super) fn cells(line: &str) -> Vec<String> {
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

/// What a line is, its values (if any) appended to a [`Block`].
pub(super) enum Parsed {
    Blank,
    /// A data row (appended).
    Row,
    /// A row none of whose cells is a number (a header when it is the first): its
    /// number of cells and the first cell's error.
    Text(usize, ScalarError),
}

/// A line that is not a data row.
pub(super) enum LineError {
    /// A row of numbers with this many cells (not the number wanted).
    Columns(usize),
    /// The cell in this 1-based column is not a number.
    Cell(usize, ScalarError),
    /// The line is not UTF-8 text.
    NotUtf8(std::str::Utf8Error),
}

/// A line that is not blank and not a data row: [`Parsed::Text`] or a [`LineError`].
pub(super) enum Special {
    Text(usize, ScalarError),
    Error(LineError),
}

/// The data rows of a block of lines, in flat buffers, and its other lines.
#[derive(Default)]
pub(super) struct Block {
    /// `want` values per data row.
    pub(super) values: Vec<f64>,
    /// Per data row: all its values exact.
    pub(super) row_exact: Vec<bool>,
    /// Per data row (when integers are asked for): `K`, or `u8::MAX` ([`CsvInts`]).
    pub(super) k: Vec<u8>,
    /// `want` integers per data row (when asked for).
    pub(super) ints: Vec<i64>,
    /// Per data row: the index of its line in the block and its byte offset.
    pub(super) rows: Vec<(usize, usize)>,
    /// Lines that are neither blank nor data rows, with their index in the block.
    pub(super) specials: Vec<(usize, Special)>,
    /// Lines in the block.
    pub(super) lines: usize,
    /// Bytes of the block.
    pub(super) bytes: usize,
}

/// Bytes of a block of lines: the unit of parallel parsing (the results do not depend on
/// it).
const BLOCK_BYTES: usize = 1 << 16;

/// The complete lines `text` (ending with a newline, or the end of the file) in blocks of
/// about [`BLOCK_BYTES`], parsed in parallel, in file order.
pub(super) fn parse_chunk(text: &[u8], want: usize, ints: bool) -> Vec<Block> {
    let mut bounds = vec![0];
    let mut p = 0;
    while p < text.len() {
        let q = (p + BLOCK_BYTES).min(text.len());
        p = memchr::memchr(b'\n', &text[q..]).map_or(text.len(), |i| q + i + 1);
        bounds.push(p);
    }
    bounds
        .par_windows(2)
        .map(|w| parse_block(&text[w[0]..w[1]], want, ints))
        .collect()
}

/// The lines of `text` into a [`Block`].
fn parse_block(text: &[u8], want: usize, ints: bool) -> Block {
    let mut block = Block {
        bytes: text.len(),
        ..Block::default()
    };
    let mut dec = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let nl = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        let mut line = &text[pos..nl];
        while let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        let index = block.lines;
        match parse_line(line, want, ints, &mut block, &mut dec) {
            Ok(Parsed::Row) => block.rows.push((index, pos)),
            Ok(Parsed::Blank) => {}
            Ok(Parsed::Text(n, e)) => block.specials.push((index, Special::Text(n, e))),
            Err(e) => block.specials.push((index, Special::Error(e))),
        }
        block.lines += 1;
        pos = nl + 1;
    }
    block
}

/// One line; a data row's values (and integers, when `ints`) are appended to `block`.
/// `dec` is scratch space.
pub(super) fn parse_line(
    line: &[u8],
    want: usize,
    ints: bool,
    block: &mut Block,
    dec: &mut Vec<Decimal>,
) -> Result<Parsed, LineError> {
    if let Some(exact) = fast_line(line, want, &mut block.values, ints.then_some(&mut *dec)) {
        block.row_exact.push(exact);
        if ints {
            let k = row_integers(dec, &mut block.ints).unwrap_or_else(|| {
                block.ints.resize(block.ints.len() + want, 0);
                u8::MAX
            });
            block.k.push(k);
        }
        return Ok(Parsed::Row);
    }
    let line = std::str::from_utf8(line).map_err(LineError::NotUtf8)?;
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
        let (_, reason) = first_err.expect("a nonempty row without numbers has an error");
        return Ok(Parsed::Text(parts.len(), reason));
    }
    if parts.len() != want {
        return Err(LineError::Columns(parts.len()));
    }
    if let Some((col, e)) = first_err {
        return Err(LineError::Cell(col, e));
    }
    block.values.extend_from_slice(&values);
    block.row_exact.push(all_exact);
    if ints {
        block.k.push(u8::MAX);
        block.ints.resize(block.ints.len() + want, 0);
    }
    Ok(Parsed::Row)
}
