//! The exact integer matrix products of [`super::LimbNet::block`] on AVX-512 IFMA
//! (`vpmadd52luq` / `vpmadd52huq`): digits in base `2^52`, about the cost of one `f64`
//! matrix product per pair of digits.
//!
//! # Digits and offsets
//! Per layer with fan-in `n` (`n + 1` columns with the bias), the weights `W~` (module
//! docs of [`super`]) are integers with `|W| < 2^{52 D - 1}`; the layer stores
//! `U = W + o_W`, `o_W = 2^{52 D - 1}`, so `0 <= U < 2^{52 D}`: `D` unsigned digits
//! `U = sum_s U^(s) 2^{52 s}`, `0 <= U^(s) < 2^52`. The inputs `A` of the layer (the
//! data integers and `C_1` for layer 1, `ReLU(Z_k)` and `C_{k+1}` after) are stored as
//! `V = A + o_A` with `T` unsigned digits: `o_A = 0` when every input of the block is
//! `>= 0` (always after layer 1: ReLU outputs), else `o_A = 2^{52 T - 1}` with
//! `|A| < 2^{52 T - 1}`. With the sums over the `n + 1` columns
//! `RU^(s)_j = sum_i U^(s)_{ji}` (per neuron, once per network) and
//! `CV^(t)_m = sum_i V^(t)_{mi}` (per point, once per layer),
//!
//! ```text
//! Z_mj = sum_i (U_ji - o_W)(V_mi - o_A)
//!      = sum_{s,t} 2^{52(s+t)} P^(st)_mj - o_A sum_s 2^{52 s} RU^(s)_j
//!        - o_W sum_t 2^{52 t} CV^(t)_m + (n + 1) o_W o_A,
//! P^(st)_mj = sum_i V^(t)_mi U^(s)_ji.
//! ```
//!
//! # Exact products
//! Each digit product `V U < 2^104` is `H 2^52 + L` with `L, H < 2^52`: `vpmadd52luq`
//! adds `L`, `vpmadd52huq` adds `H` to a 64-bit lane. A lane holding at most
//! [`FLUSH`]` = 4096` such terms stays below `4096 (2^52 - 1) < 2^64`: no overflow, so
//! each run of at most 4096 columns gives `P = HI 2^52 + LO` exactly. The value is
//! assembled per entry in `i64` base-`2^52` places `acc[q]`, stored place-major (for a
//! point, place `q` of every neuron is contiguous, so every step below is a vector loop
//! over neurons): `LO` and `HI`, each below `2^64`, go in as three parts below `2^52`
//! (`LO mod 2^52` into place `s + t`, `LO >> 52` plus `HI mod 2^52` into `s + t + 1`,
//! `HI >> 52` into `s + t + 2`). A place gets such parts from at most `3 min(D, T) <= 192`
//! digit pairs per run, each below `2^53`, so it stays below `2^61`; between runs a carry
//! pass brings places `0 .. D + T` back into `[0, 2^52)` (the top place keeps the rest,
//! below `2^20` plus one run's parts, as `P < (n + 1) 2^{52 (D + T)}`). The offset terms,
//! split into parts below `2^52` the same way, are then subtracted: `CV^(t) 2^51`
//! (below `2^123`) out of places `t + D - 1 ..= t + D + 1`, `RU^(s) 2^51` out of
//! `s + T - 1 ..= s + T + 1` and `(n + 1) 2^50` added into `D + T - 1 ..= D + T`, at
//! most eight parts per place; with `n + 1 <= 2^20` ([`MAX_COLUMNS`]) every place stays
//! far inside `i64`. The carry pass (`v = acc[q] + carry`, place `v mod 2^52`, carry
//! `v >> 52`, arithmetic) then gives places in `[0, 2^52)` and a final carry in
//! `{0, -1}`, since `|Z| < (n + 1) 2^{52 D - 1} 2^{52 T} < 2^{52 (D + T + 1) - 1}`
//! (`D + T + 1` places). The places of `ReLU(Z)` are
//! directly the next layer's input digits.

use super::{BlockExact, LimbNet, MAX_DIGITS, RowInts, ShiftedInt};
use ndarray::Array2;
use num_bigint::{BigInt, BigUint};

/// Terms per 64-bit lane before the lane sums are flushed (`4096 (2^52 - 1) < 2^64`).
pub const FLUSH: usize = 4096;

/// Most columns (fan-in plus the bias) of a layer on this engine.
pub const MAX_COLUMNS: usize = 1 << 20;

const MASK: u64 = (1 << 52) - 1;
/// Neurons per panel (two vectors of eight lanes).
const NR: usize = 16;
/// Points per micro-kernel call.
const MR: usize = 4;
/// Points per sub-block of the assembly (its `i128` places stay in cache).
const SUB: usize = 16;
/// Columns per pass over a panel (a panel slice of `KC x 16` words stays in L1).
const KC: usize = 256;

/// Whether the processor has the instructions of this engine.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One layer's weights in base `2^52` with the offset `o_W` (module docs).
pub(super) struct IfmaLayer {
    /// `D`.
    digits: usize,
    /// Panels: digit `s`, panel `p` (neurons `16 p ..`), column `i`, 16 words.
    panels: Vec<u64>,
    /// `RU^(s)_j` at `s * rows + j`.
    row_sums: Vec<u128>,
}

/// Digit `t` (base `2^52`) of `|v|`.
fn magnitude_digit(v: &ShiftedInt, t: usize) -> u64 {
    let lo = t as u64 * 52;
    let shift = u64::from(v.shift);
    if v.mant == 0 || lo + 52 <= shift {
        0
    } else if lo >= shift {
        let s = lo - shift;
        if s >= 64 { 0 } else { (v.mant >> s) & MASK }
    } else {
        // shift - lo < 52
        ((u128::from(v.mant) << (shift - lo)) as u64) & MASK
    }
}

/// Calls `put(t, digit)` for the `count` base-`2^52` digits of `v + offset`, `offset =
/// 2^{52 count - 1}` when `offset` (then `|v| < offset`), else 0 (then `v >= 0`, `v <
/// 2^{52 count}`).
pub(super) fn offset_digits(
    v: &ShiftedInt,
    count: usize,
    offset: bool,
    mut put: impl FnMut(usize, u64),
) {
    if !offset || !v.neg {
        for t in 0..count {
            let mut d = magnitude_digit(v, t);
            if offset && t + 1 == count {
                d += 1 << 51; // the top digit of |v| is below 2^51
            }
            put(t, d);
        }
    } else {
        // 2^{52 count - 1} - |v|, digit by digit with a borrow
        let mut borrow = 0u64;
        for t in 0..count {
            let o = if t + 1 == count { 1u64 << 51 } else { 0 };
            let m = magnitude_digit(v, t) + borrow;
            if o >= m {
                put(t, o - m);
                borrow = 0;
            } else {
                put(t, o + (1 << 52) - m);
                borrow = 1;
            }
        }
        debug_assert_eq!(borrow, 0);
    }
}

/// Digits needed for `v` (with room for the offset's sign bit when `offset`).
fn digits_for(bits: u64, offset: bool) -> usize {
    (bits + u64::from(offset)).div_ceil(52).max(1) as usize
}

impl IfmaLayer {
    /// `ints` are the layer's `W~` (row-major, `rows x n`) then `b~` (`rows`).
    pub(super) fn new(ints: &[ShiftedInt], rows: usize, n: usize) -> Option<Self> {
        let cols = n + 1;
        if cols > MAX_COLUMNS {
            return None;
        }
        let bits = ints.iter().map(ShiftedInt::bits).max().unwrap_or(0);
        let digits = digits_for(bits, true);
        if digits > MAX_DIGITS {
            return None;
        }
        let npanels = rows.div_ceil(NR);
        let len = digits
            .checked_mul(npanels)?
            .checked_mul(cols)?
            .checked_mul(NR)?;
        let mut panels = vec![0u64; len];
        let mut row_sums = vec![0u128; digits * rows];
        for j in 0..rows {
            let (p, l) = (j / NR, j % NR);
            for i in 0..cols {
                let v = if i < n {
                    &ints[j * n + i]
                } else {
                    &ints[rows * n + j]
                };
                offset_digits(v, digits, true, |s, d| {
                    panels[((s * npanels + p) * cols + i) * NR + l] = d;
                    row_sums[s * rows + j] += u128::from(d);
                });
            }
        }
        Some(Self {
            digits,
            panels,
            row_sums,
        })
    }
}

/// The micro-kernel: for points `r0 .. r0 + M` and the 16 neurons of one panel, adds
/// `L` and `H` of `V_mi U_ji` over columns `k0 .. k0 + kc` to `lo` / `hi` (row stride
/// `ldc`, neurons from `c0`).
///
/// # Safety
/// The processor supports `avx512f` and `avx512ifma`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
#[allow(clippy::too_many_arguments)]
unsafe fn micro<const M: usize>(
    a: &[u64],
    lda: usize,
    r0: usize,
    (k0, kc): (usize, usize),
    panel: &[u64],
    lo: &mut [u64],
    hi: &mut [u64],
    (ldc, c0): (usize, usize),
) {
    use std::arch::x86_64::*;
    assert!(k0 + kc <= lda && (k0 + kc) * NR <= panel.len());
    assert!((r0 + M) * lda <= a.len());
    assert!((r0 + M - 1) * ldc + c0 + NR <= lo.len().min(hi.len()));
    let mut accl = [[_mm512_setzero_si512(); 2]; M];
    let mut acch = [[_mm512_setzero_si512(); 2]; M];
    for r in 0..M {
        for v in 0..2 {
            let at = (r0 + r) * ldc + c0 + 8 * v;
            // SAFETY: at + 8 <= len (asserted above); unaligned loads
            unsafe {
                accl[r][v] = _mm512_loadu_si512(lo.as_ptr().add(at).cast());
                acch[r][v] = _mm512_loadu_si512(hi.as_ptr().add(at).cast());
            }
        }
    }
    for k in k0..k0 + kc {
        // SAFETY: (k + 1) * 16 <= panel.len() (asserted above)
        let (b0, b1) = unsafe {
            let p = panel.as_ptr().add(k * NR);
            (
                _mm512_loadu_si512(p.cast()),
                _mm512_loadu_si512(p.add(8).cast()),
            )
        };
        for r in 0..M {
            // SAFETY: (r0 + r) * lda + k < (r0 + M) * lda <= a.len() (asserted above)
            let x = _mm512_set1_epi64(unsafe { *a.get_unchecked((r0 + r) * lda + k) } as i64);
            accl[r][0] = _mm512_madd52lo_epu64(accl[r][0], x, b0);
            acch[r][0] = _mm512_madd52hi_epu64(acch[r][0], x, b0);
            accl[r][1] = _mm512_madd52lo_epu64(accl[r][1], x, b1);
            acch[r][1] = _mm512_madd52hi_epu64(acch[r][1], x, b1);
        }
    }
    for r in 0..M {
        for v in 0..2 {
            let at = (r0 + r) * ldc + c0 + 8 * v;
            // SAFETY: as for the loads
            unsafe {
                _mm512_storeu_si512(lo.as_mut_ptr().add(at).cast(), accl[r][v]);
                _mm512_storeu_si512(hi.as_mut_ptr().add(at).cast(), acch[r][v]);
            }
        }
    }
}

/// `lo + hi 2^52 = V U^T` over columns `k0 .. k1` (`k1 - k0 <= FLUSH`), `lo` and `hi`
/// `rb x ldc` set to the sums (every lane sum exact: module docs).
///
/// # Safety
/// The processor supports `avx512f` and `avx512ifma`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    a: &[u64],
    rb: usize,
    lda: usize,
    (k0, k1): (usize, usize),
    panels: &[u64],
    npanels: usize,
    lo: &mut [u64],
    hi: &mut [u64],
) {
    debug_assert!(k1 - k0 <= FLUSH);
    let ldc = npanels * NR;
    lo.fill(0);
    hi.fill(0);
    let mut kb = k0;
    while kb < k1 {
        let kc = KC.min(k1 - kb);
        for p in 0..npanels {
            let panel = &panels[p * lda * NR..(p + 1) * lda * NR];
            let mut r = 0;
            // SAFETY (each call): the caller guarantees the features
            unsafe {
                while r + MR <= rb {
                    micro::<MR>(a, lda, r, (kb, kc), panel, lo, hi, (ldc, p * NR));
                    r += MR;
                }
                match rb - r {
                    3 => micro::<3>(a, lda, r, (kb, kc), panel, lo, hi, (ldc, p * NR)),
                    2 => micro::<2>(a, lda, r, (kb, kc), panel, lo, hi, (ldc, p * NR)),
                    1 => micro::<1>(a, lda, r, (kb, kc), panel, lo, hi, (ldc, p * NR)),
                    _ => {}
                }
            }
        }
        kb += kc;
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    _: &[u64],
    _: usize,
    _: usize,
    _: (usize, usize),
    _: &[u64],
    _: usize,
    _: &mut [u64],
    _: &mut [u64],
) {
    unreachable!("the engine is only chosen where available() holds")
}

/// The value of places `limbs` (base `2^52`, each in `[0, 2^52)`) minus `2^{52 len}`
/// when `negative`.
pub(super) fn places_to_bigint(limbs: &[u64], negative: bool) -> BigInt {
    let mut words: Vec<u32> = Vec::with_capacity(limbs.len() * 2 + 1);
    let (mut buf, mut have) = (0u128, 0u32);
    for &l in limbs {
        buf |= u128::from(l) << have;
        have += 52;
        while have >= 32 {
            words.push(buf as u32);
            buf >>= 32;
            have -= 32;
        }
    }
    if have > 0 {
        words.push(buf as u32);
    }
    let v = BigInt::from(BigUint::new(words));
    if negative {
        v - (BigInt::from(1) << (52 * limbs.len()))
    } else {
        v
    }
}

/// Adds `sign v` (`v` below `2^128`, `sign` 1 or -1) as places `q, q + 1, q + 2` (base
/// `2^52`) to column `j` of `places` (place-major, `width` columns).
fn add_places(places: &mut [i64], width: usize, j: usize, q: usize, v: u128, sign: i64) {
    for (k, d) in [v & MASK as u128, (v >> 52) & MASK as u128, v >> 104]
        .into_iter()
        .enumerate()
    {
        if d != 0 {
            places[(q + k) * width + j] += sign * d as i64;
        }
    }
}

/// The exact pass over `rows` on this engine (same result as the `f64` digit engine).
/// `None` when an integer needs more than [`MAX_DIGITS`] digits.
pub(super) fn block(net: &LimbNet, layers: &[IfmaLayer], rows: &[RowInts]) -> Option<BlockExact> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `layers` exist only where `available()` held (LimbNet::with_engine)
        unsafe { block_avx512(net, layers, rows) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (net, layers, rows);
        unreachable!("the engine is only chosen where available() holds")
    }
}

/// [`block`], compiled for AVX-512 so that the assembly's loops over neurons (64-bit
/// adds, masks and arithmetic shifts) are vector loops.
///
/// # Safety
/// The processor supports `avx512f` and `avx512ifma`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn block_avx512(
    net: &LimbNet,
    layers: &[IfmaLayer],
    rows: &[RowInts],
) -> Option<BlockExact> {
    let rb = rows.len();
    let n0 = net.arch.inputs();
    // C_1 = d 2^-p
    let mut constant = super::constant_column(rows)?;
    // one pass over the inputs: whether any is negative, and the widest magnitude
    let (mut signed, mut bits) = (false, 0u64);
    for v in rows.iter().flat_map(|r| r.x.iter()) {
        signed |= v.neg & (v.mant != 0);
        bits = bits.max(v.bits());
    }
    let bits = constant.iter().map(ShiftedInt::bits).fold(bits, u64::max);
    let mut t_count = digits_for(bits, signed);
    if t_count > MAX_DIGITS {
        return None;
    }
    let mut lda = n0 + 1;
    // input digit planes, each rb x lda
    let mut input = vec![0u64; t_count.checked_mul(rb)?.checked_mul(lda)?];
    for (m, row) in rows.iter().enumerate() {
        for (i, v) in row
            .x
            .iter()
            .chain(std::iter::once(&constant[m]))
            .enumerate()
        {
            if t_count == 1 {
                // one digit: |v| < 2^51 (signed) or < 2^52, so mant << shift is exact
                let mag = if v.mant == 0 { 0 } else { v.mant << v.shift };
                input[m * lda + i] = match (signed, v.neg) {
                    (false, _) => mag,
                    (true, false) => (1 << 51) + mag,
                    (true, true) => (1 << 51) - mag,
                };
            } else {
                offset_digits(v, t_count, signed, |t, d| input[(t * rb + m) * lda + i] = d);
            }
        }
    }
    let mut offset_in = signed;
    let mut signs = Vec::with_capacity(layers.len() - 1);
    for (li, layer) in layers.iter().enumerate() {
        let width = net.arch.width(li + 1);
        let last = li + 1 == layers.len();
        let cols = lda;
        let dw = layer.digits;
        let npanels = width.div_ceil(NR);
        let ldc = npanels * NR;
        let places = dw + t_count + 1;
        let plane = rb * lda;
        // CV^(t)_m
        let cv: Vec<u128> = (0..t_count * rb)
            .map(|tm| {
                input[tm * lda..(tm + 1) * lda]
                    .iter()
                    .map(|&v| u128::from(v))
                    .sum()
            })
            .collect();
        // the next input (hidden layers): C_{k+1} = C_k 2^{s_k}, at most
        // max(places, digits of C) digit planes of width + 1 columns
        let mut next_planes = 0;
        if !last {
            for c in &mut constant {
                c.shift = c.shift.checked_add(net.layers[li].shift)?;
            }
            let cbits = constant.iter().map(ShiftedInt::bits).max().unwrap_or(0);
            next_planes = digits_for(cbits, false).max(places);
            if next_planes > MAX_DIGITS + places {
                return None;
            }
        }
        let nlda = width + 1;
        let mut next = vec![0u64; next_planes.checked_mul(rb)?.checked_mul(nlda)?];
        let mut sign = Array2::<i8>::zeros((rb, width));
        let mut out: Vec<Vec<BigInt>> = Vec::with_capacity(if last { rb } else { 0 });
        let mut used = 0usize;
        // the offset terms of every entry, as places (module docs): per neuron
        // - o_A RU^(s) 2^{52 s} + (n + 1) o_W o_A (when the inputs are offset), per point
        // - o_W CV^(t) 2^{52 t}
        // (all zero when the inputs are not offset)
        let mut offsets = vec![0i64; places * width];
        if offset_in {
            for j in 0..width {
                for s in 0..dw {
                    let ru = layer.row_sums[s * width + j] << 51;
                    add_places(&mut offsets, width, j, s + t_count - 1, ru, -1);
                }
                let n1 = (cols as u128) << 50;
                add_places(&mut offsets, width, j, dw + t_count - 1, n1, 1);
            }
        }
        let mut point_offsets = vec![0i64; places];
        let mut acc = vec![0i64; SUB * places * width];
        let mut lo = vec![0u64; SUB * ldc];
        let mut hi = vec![0u64; SUB * ldc];
        let mut carry = vec![0i64; width];
        let mut high = vec![0u64; width];
        let mut keep = vec![0u64; width];
        let mut cell = vec![0u64; places];
        let runs = cols.div_ceil(FLUSH);
        for r0 in (0..rb).step_by(SUB) {
            let rs = SUB.min(rb - r0);
            let acc = &mut acc[..rs * places * width];
            acc.fill(0);
            for run in 0..runs {
                let (k0, k1) = (run * FLUSH, ((run + 1) * FLUSH).min(cols));
                for t in 0..t_count {
                    let a = &input[t * plane + r0 * lda..t * plane + (r0 + rs) * lda];
                    if a.iter().all(|&v| v == 0) {
                        continue;
                    }
                    for s in 0..dw {
                        let panels =
                            &layer.panels[s * npanels * cols * NR..(s + 1) * npanels * cols * NR];
                        // SAFETY: `layers` exist only where `available()` held
                        // (LimbNet::with_engine)
                        unsafe { product(a, rs, lda, (k0, k1), panels, npanels, &mut lo, &mut hi) };
                        // HI 2^52 + LO, each below 2^64, as three places below 2^52
                        for m in 0..rs {
                            let (l, h) =
                                (&lo[m * ldc..m * ldc + width], &hi[m * ldc..m * ldc + width]);
                            let row = &mut acc
                                [(m * places + s + t) * width..(m * places + s + t + 3) * width];
                            let (p0, rest) = row.split_at_mut(width);
                            let (p1, p2) = rest.split_at_mut(width);
                            for ((((a0, a1), a2), &l), &h) in
                                p0.iter_mut().zip(p1).zip(p2).zip(l).zip(h)
                            {
                                *a0 += (l & MASK) as i64;
                                *a1 += ((l >> 52) + (h & MASK)) as i64;
                                *a2 += (h >> 52) as i64;
                            }
                        }
                    }
                }
                if run + 1 < runs {
                    // carries between runs keep every place below 2^63 (module docs)
                    for m in 0..rs {
                        let row = &mut acc[m * places * width..(m + 1) * places * width];
                        for q in 0..places - 1 {
                            let (this, next) = row[q * width..(q + 2) * width].split_at_mut(width);
                            for (a, b) in this.iter_mut().zip(next) {
                                *b += *a >> 52;
                                *a &= MASK as i64;
                            }
                        }
                    }
                }
            }
            for m in 0..rs {
                let mm = r0 + m;
                let row = &mut acc[m * places * width..(m + 1) * places * width];
                point_offsets.fill(0);
                for t in 0..t_count {
                    add_places(
                        &mut point_offsets,
                        1,
                        0,
                        t + dw - 1,
                        cv[t * rb + mm] << 51,
                        -1,
                    );
                }
                // carries: places in [0, 2^52) and a final carry in {0, -1}
                carry.fill(0);
                high.fill(0);
                for (q, (place, off)) in row
                    .chunks_exact_mut(width)
                    .zip(offsets.chunks_exact(width))
                    .enumerate()
                {
                    let po = point_offsets[q];
                    for (((a, c), h), &o) in
                        place.iter_mut().zip(&mut carry).zip(&mut high).zip(off)
                    {
                        let v = *a + po + o + *c;
                        *a = v & MASK as i64;
                        *c = v >> 52;
                        *h = if *a != 0 { q as u64 + 1 } else { *h };
                    }
                }
                debug_assert!(carry.iter().all(|&c| c == 0 || c == -1));
                // keep: all ones where Z > 0 (final carry 0, some place nonzero), else 0
                for ((k, &c), &h) in keep.iter_mut().zip(&carry).zip(&high) {
                    *k = u64::from((c == 0) & (h != 0)).wrapping_neg();
                }
                let signs = sign.row_mut(mm).into_slice().expect("standard layout");
                for ((g, &c), &k) in signs.iter_mut().zip(&carry).zip(&keep) {
                    *g = (c as i8) | (k & 1) as i8;
                }
                if last {
                    let outs = (0..width)
                        .map(|j| {
                            for (q, c) in cell.iter_mut().enumerate() {
                                *c = row[q * width + j] as u64;
                            }
                            places_to_bigint(&cell, carry[j] == -1)
                        })
                        .collect();
                    out.push(outs);
                } else {
                    let row_used = keep.iter().zip(&high).map(|(&k, &h)| k & h).max();
                    used = used.max(row_used.unwrap_or(0) as usize);
                    // the places of ReLU(Z) are the next input's digits
                    for (t, place) in row.chunks_exact(width).enumerate() {
                        let dst = &mut next[(t * rb + mm) * nlda..(t * rb + mm) * nlda + width];
                        for ((d, &v), &k) in dst.iter_mut().zip(place).zip(&keep) {
                            *d = v as u64 & k;
                        }
                    }
                }
            }
        }
        if last {
            return Some(BlockExact { signs, out });
        }
        for (m, c) in constant.iter().enumerate() {
            offset_digits(c, next_planes, false, |t, d| {
                next[(t * rb + m) * nlda + width] = d
            });
        }
        let cdigits = constant
            .iter()
            .map(|c| digits_for(c.bits(), false))
            .max()
            .unwrap_or(1);
        let t_next = cdigits.max(used).max(1);
        if t_next > MAX_DIGITS {
            return None;
        }
        next.truncate(t_next * rb * nlda);
        input = next;
        t_count = t_next;
        lda = nlda;
        offset_in = false;
        signs.push(sign);
    }
    unreachable!("the output layer returns")
}
