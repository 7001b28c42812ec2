//! One dense ReLU layer on all points at once, with an `f64` upper bound that skips rows
//! proven inactive; compiled for AVX2 too (plain multiply and add, the generic rounding).

use crate::stats::simd::simd_dispatch;

/// A layer's weights (row-major, `rows x cols`) and biases.
#[derive(Clone, Copy)]
pub(super) struct Layer<'a> {
    pub(super) w: &'a [f64],
    pub(super) b: &'a [f64],
    /// Whether a later layer reads the rows; if not (the last hidden layer), only
    /// whether each neuron is active is decided, stopping at its first positive block.
    pub(super) keep_rows: bool,
}

/// Per input, the largest value over the points, and the smallest (`None`: every input is
/// `>= 0`, as after a ReLU).
pub(super) type Range<'a> = (&'a [f64], Option<&'a [f64]>);

simd_dispatch! {
    /// One dense layer on all points: `out[j*m + p] = ReLU(b[j] + sum_i w[j*cols + i] *
    /// input[i*m + p])`, summing only over the inputs in `active_in` (the others are zero at
    /// every point, and the generic forward pass skips zero products too), in ascending order
    /// as the generic code does. Writes the neurons with some positive pre-activation to
    /// `active_out`, their largest pre-activation to `top[j]`, and returns the number of the
    /// others (inactive on every point). Compiled for AVX2 too and chosen at run time (plain
    /// multiply and add, never FMA, so the rounding is that of the generic code).
    ///
    /// Before a row is computed, its pre-activation is bounded above by the same sum, in the
    /// same order, with each input replaced by its largest value over the points where the
    /// weight is positive and by its smallest where it is negative. Rounding to nearest is
    /// monotone (`x <= y` implies `fl(x) <= fl(y)`), so step by step this `f64` bound is at
    /// least the computed pre-activation at every point; when it is `<= 0` the neuron is
    /// inactive on every point and its row, which no later layer reads, is not computed.
    #[inline]
    pub(super) fn dense_layer(
        layer: Layer<'_>,
        input: &[f64],
        range: Range<'_>,
        active_in: &[usize],
        out: &mut [f64],
        top: &mut [f64],
        active_out: &mut Vec<usize>,
    ) -> usize = dense_layer_generic;
    dense_layer_avx2: ["avx2"],
}

/// Fan-ins up to this size use the unrolled kernels with stack buffers.
const SMALL_FAN_IN: usize = 8;

#[inline(always)]
fn dense_layer_generic(
    Layer { w, b, keep_rows }: Layer<'_>,
    input: &[f64],
    (in_max, in_min): Range<'_>,
    active_in: &[usize],
    out: &mut [f64],
    top: &mut [f64],
    active_out: &mut Vec<usize>,
) -> usize {
    let rows = b.len();
    let cols = w.len() / rows;
    let m = out.len() / rows;
    active_out.clear();
    let c = active_in.len();
    let mut ins: [&[f64]; SMALL_FAN_IN] = [&[]; SMALL_FAN_IN];
    if c <= SMALL_FAN_IN {
        for (slot, &i) in ins.iter_mut().zip(active_in) {
            *slot = &input[i * m..(i + 1) * m];
        }
    }
    // the bounds of all rows first, without branches (the signs of the weights are
    // random, so branching on them would mispredict half the time); adding `w * 0`
    // instead of skipping the term changes at most the sign of a zero, which `<= 0`
    // ignores
    let mut maybe_active = 0u64;
    let mut uppers = [0.0f64; 64];
    for j in 0..rows.min(64) {
        let wj = &w[j * cols..(j + 1) * cols];
        let mut upper = b[j];
        for &i in active_in {
            let low = match in_min {
                Some(low) => low[i],
                None => 0.0,
            };
            // select by a mask: a conditional here compiles to a branch that
            // mispredicts on random signs
            let pick = 0u64.wrapping_sub((wj[i] > 0.0) as u64);
            let x = f64::from_bits((in_max[i].to_bits() & pick) | (low.to_bits() & !pick));
            upper += wj[i] * x;
        }
        maybe_active |= ((upper > 0.0) as u64) << j;
        uppers[j] = upper;
    }
    // a row not computed gets its bound as its largest pre-activation (>= the computed
    // value at every point; the near-tie check reads it)
    let skipped = !maybe_active & (u64::MAX >> (64 - rows.min(64)));
    let mut rest = skipped;
    while rest != 0 {
        let j = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        top[j] = uppers[j];
    }
    active_out.resize(rows, 0);
    let mut found = 0;
    // the rows to compute, in ascending order: the set bits (one loop exit to predict per
    // layer, not one branch per row), then for wide layers every row past the 64th
    let mut next_row = move || {
        if maybe_active != 0 {
            let j = maybe_active.trailing_zeros() as usize;
            maybe_active &= maybe_active - 1;
            Some(j)
        } else {
            None
        }
    };
    for j in std::iter::from_fn(&mut next_row).chain(64..rows) {
        let wj = &w[j * cols..(j + 1) * cols];
        let row = &mut out[j * m..(j + 1) * m];
        let largest = if c <= SMALL_FAN_IN {
            let mut ws = [0.0; SMALL_FAN_IN];
            for (slot, &i) in ws.iter_mut().zip(active_in) {
                *slot = wj[i];
            }
            match c {
                1 => dense_relu_fixed::<1>(&ws, b[j], &ins, row, keep_rows),
                2 => dense_relu_fixed::<2>(&ws, b[j], &ins, row, keep_rows),
                3 => dense_relu_fixed::<3>(&ws, b[j], &ins, row, keep_rows),
                4 => dense_relu_fixed::<4>(&ws, b[j], &ins, row, keep_rows),
                5 => dense_relu_fixed::<5>(&ws, b[j], &ins, row, keep_rows),
                6 => dense_relu_fixed::<6>(&ws, b[j], &ins, row, keep_rows),
                7 => dense_relu_fixed::<7>(&ws, b[j], &ins, row, keep_rows),
                _ => dense_relu_fixed::<8>(&ws, b[j], &ins, row, keep_rows),
            }
        } else {
            dense_relu_any(wj, b[j], input, active_in, row)
        };
        top[j] = largest;
        active_out[found] = j;
        found += (largest > 0.0) as usize;
    }
    active_out.truncate(found);
    rows - active_out.len()
}

/// Writes the ReLU row and returns the largest pre-activation; without `keep`, writes
/// nothing and returns at the first block with a positive pre-activation (its largest).
#[inline(always)]
fn dense_relu_fixed<const C: usize>(
    ws: &[f64; SMALL_FAN_IN],
    b: f64,
    ins: &[&[f64]; SMALL_FAN_IN],
    row: &mut [f64],
    keep: bool,
) -> f64 {
    const LANES: usize = 8;
    let m = row.len();
    assert!(
        ins[..C].iter().all(|r| r.len() == m),
        "every input row has one value per point"
    );
    let mut largest = [f64::NEG_INFINITY; LANES];
    let blocks = m / LANES;
    for blk in 0..blocks {
        let base = blk * LANES;
        let mut z = [b; LANES];
        for i in 0..C {
            // SAFETY: base + LANES <= blocks * LANES <= m == ins[i].len(), asserted above.
            let xs = unsafe { ins[i].get_unchecked(base..base + LANES) };
            for l in 0..LANES {
                z[l] += ws[i] * xs[l];
            }
        }
        for l in 0..LANES {
            largest[l] = if z[l] > largest[l] { z[l] } else { largest[l] };
        }
        if keep {
            let out: &mut [f64; LANES] = (&mut row[base..base + LANES])
                .try_into()
                .expect("a block of LANES");
            for l in 0..LANES {
                out[l] = if z[l] > 0.0 { z[l] } else { 0.0 };
            }
        } else if largest.iter().any(|&v| v > 0.0) {
            return max_of_lanes(largest);
        }
    }
    let mut top = max_of_lanes(largest);
    for p in blocks * LANES..m {
        let mut z = b;
        for i in 0..C {
            z += ws[i] * ins[i][p];
        }
        row[p] = if z > 0.0 { z } else { 0.0 };
        top = if z > top { z } else { top };
    }
    top
}

/// The largest of eight lanes, by halving (vector maxima instead of a chain of seven
/// scalar ones).
#[inline(always)]
fn max_of_lanes(mut v: [f64; 8]) -> f64 {
    for half in [4, 2, 1] {
        for l in 0..half {
            v[l] = if v[l + half] > v[l] {
                v[l + half]
            } else {
                v[l]
            };
        }
    }
    v[0]
}

/// Writes the ReLU row and returns the largest pre-activation.
#[inline(always)]
fn dense_relu_any(wj: &[f64], b: f64, input: &[f64], active_in: &[usize], row: &mut [f64]) -> f64 {
    let m = row.len();
    row.fill(b);
    for &i in active_in {
        let wi = wj[i];
        for (z, x) in row.iter_mut().zip(&input[i * m..(i + 1) * m]) {
            *z += wi * x;
        }
    }
    let mut top = f64::NEG_INFINITY;
    for z in row.iter_mut() {
        top = if *z > top { *z } else { top };
        *z = if *z > 0.0 { *z } else { 0.0 };
    }
    top
}
