//! The batched forward pass itself: blocks of [`BLOCK_ROWS`] points in parallel, each
//! layer's pre-activations `z~` with their bounds `e` (the bound of the parent module's docs).

use super::*;

/// Pre-activations and their bounds of one layer at every point.
#[derive(Debug, Clone)]
pub struct LayerPass {
    /// `z~` (`M x l_k`), the `f64` pre-activations.
    pub z: Array2<f64>,
    /// `e` (`M x l_k`): `|z_exact - z~| <= e` (`+inf` when nothing is known).
    pub e: Array2<f64>,
}

impl LayerPass {
    /// The sign of `z_exact` at point `m`, neuron `j`, as far as the bound decides it.
    pub fn sign(&self, m: usize, j: usize) -> Sign {
        decide(self.z[[m, j]], self.e[[m, j]])
    }
}

/// The sign of `z_exact` given `z~` and `e` with `|z_exact - z~| <= e`.
#[inline]
pub fn decide(z: f64, e: f64) -> Sign {
    if z - e > 0.0 {
        Sign::Positive
    } else if z + e < 0.0 {
        Sign::Negative
    } else if z == 0.0 && e == 0.0 {
        Sign::Zero
    } else {
        Sign::Undecided
    }
}

/// `(proven positive, undecided)` for `z~` with bound `e`: the tests of [`decide`]
/// without branches, for loops over whole layers (the signs of a layer are as good as
/// random, and a mispredicted branch per sign costs more than the tests).
#[inline(always)]
pub fn sign_flags(z: f64, e: f64) -> (bool, bool) {
    let positive = z - e > 0.0;
    let negative = z + e < 0.0;
    let zero = (z == 0.0) & (e == 0.0);
    (positive, !(positive | negative | zero))
}

/// The rows of an `M x l` array in standard (row-major) layout, as slices: callers pass
/// `as_standard_layout()`, which copies only an array that is not.
pub fn row_slices<S: ndarray::Data<Elem = f64>>(
    a: &ndarray::ArrayBase<S, ndarray::Ix2>,
) -> std::slice::ChunksExact<'_, f64> {
    a.as_slice()
        .expect("standard layout")
        .chunks_exact(a.ncols().max(1))
}

/// A batched pass: `layers[k-1]` for `k = 1..=L` (the last is the output layer).
#[derive(Debug, Clone)]
pub struct BatchPass {
    /// Per layer.
    pub layers: Vec<LayerPass>,
}

impl BatchPass {
    /// The output `N(x_m)` of every point (`M x l_L`), in `f64`.
    pub fn output(&self) -> &Array2<f64> {
        &self.layers.last().expect("L >= 2").z
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.layers[0].z.nrows()
    }
    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One block's pass: `(z, e)` per layer.
type BlockPass = Vec<(Array2<f64>, Array2<f64>)>;

fn forward_block(
    net: &BatchNet,
    x: ArrayView2<f64>,
    first_row: usize,
    inputs: InputExactness,
    kind: BoundKind,
) -> BlockPass {
    let rows = x.nrows();
    let mut out: BlockPass = Vec::with_capacity(net.layers.len());
    for (li, layer) in net.layers.iter().enumerate() {
        let n = layer.w.ncols();
        // v = c1 |a~| + c2 e_a, rounded up, and its smallest nonzero entry.
        // The activations a~ of the layer before (x for layer 1), and e_a: 0 where
        // fl(z~ + e) <= 0 (both activations are 0), else e.
        let prev = if li == 0 { None } else { Some(&out[li - 1]) };
        let a_owned = prev.map(|(zp, _)| zp.mapv(|t| if t > 0.0 { t } else { 0.0 }));
        let a: ArrayView2<f64> = match &a_owned {
            Some(a) => a.view(),
            None => x.view(),
        };
        let ea_of = activation_error;
        let row_exact = |r: usize| li > 0 || inputs.row(first_row + r);
        let mut z = a.dot(&layer.w.t());
        z += &layer.b;
        let mut v_min = f64::INFINITY;
        let mut e = match kind {
            BoundKind::Dot => {
                // v = c1 |a~| + c2 e_a entrywise, rounded up.
                let mut v = Array2::<f64>::zeros((rows, n));
                for (r, mut vrow) in v.outer_iter_mut().enumerate() {
                    let arow = a.row(r);
                    for (i, vv) in vrow.iter_mut().enumerate() {
                        *vv = match prev {
                            None if row_exact(r) => mul_up(layer.c1, arow[i].abs()),
                            None => mul_up(layer.c1_rounded_input, arow[i].abs().max(MIN_NORMAL)),
                            Some((zp, ep)) => add_up(
                                mul_up(layer.c1, arow[i]),
                                mul_up(layer.c2, ea_of(zp[[r, i]], ep[[r, i]])),
                            ),
                        };
                        if *vv > 0.0 {
                            v_min = v_min.min(*vv);
                        }
                    }
                }
                v.dot(&layer.wb_t)
            }
            BoundKind::Norm => {
                // S <= ||W'_j||_2 ||v_m||_2 (Cauchy-Schwarz) and, by the triangle
                // inequality, ||v_m|| <= c1 ||a~_m|| + c2 ||e_a,m||, every norm rounded up; a
                // norm is exactly 0 only for an all-zero vector, so S~ = 0 only when every
                // product is 0. Then the forward pass's own underflow term is added.
                let mut e = Array2::<f64>::zeros((rows, layer.w.nrows()));
                for (r, mut erow) in e.outer_iter_mut().enumerate() {
                    let arow = a.row(r);
                    let vm = match prev {
                        None if row_exact(r) => {
                            mul_up(layer.c1, norm_up(arow.iter().map(|v| v.abs())))
                        }
                        None => mul_up(
                            layer.c1_rounded_input,
                            norm_up(arow.iter().map(|v| v.abs().max(MIN_NORMAL))),
                        ),
                        Some((zp, ep)) => add_up(
                            mul_up(layer.c1, norm_up(arow.iter().copied())),
                            mul_up(
                                layer.c2,
                                norm_up(
                                    zp.row(r)
                                        .iter()
                                        .zip(ep.row(r))
                                        .map(|(&zv, &ev)| ea_of(zv, ev)),
                                ),
                            ),
                        ),
                    };
                    for (ev, &wn) in erow.iter_mut().zip(&layer.w_norm) {
                        let s = mul_up(wn, vm);
                        *ev = if s == 0.0 {
                            0.0
                        } else {
                            add_up(s, layer.abs_fwd)
                        };
                    }
                }
                e
            }
        };
        // No product of nonzero entries can underflow (so S~ = 0 means every product of
        // the forward pass is exactly 0): checked with a margin of 2. (The norm bound is
        // already an upper bound: its zeros are exact and it needs no further factor.)
        let no_underflow = kind == BoundKind::Norm || layer.wb_min * v_min >= 2.0 * MIN_NORMAL;
        let (abs_term, factor) = match kind {
            BoundKind::Dot => (layer.abs_term, layer.factor),
            BoundKind::Norm => (0.0, 1.0),
        };
        ndarray::Zip::from(&mut e)
            .and(&z)
            .and_broadcast(&layer.b_term)
            .for_each(|ev, &zv, &bt| {
                let s = *ev;
                let bound = if s == 0.0 && no_underflow {
                    bt
                } else {
                    let t = add_up(s, abs_term);
                    add_up(if factor == 1.0 { t } else { up(t * factor) }, bt)
                };
                *ev = if zv.is_finite() && bound.is_finite() {
                    bound
                } else {
                    f64::INFINITY
                };
            });
        out.push((z, e));
    }
    out
}

/// The batched forward pass of `net` at the rows of `x` (`M x l_0`), with the bound `e` of
/// every pre-activation (see the module docs).
///
/// # Errors
/// [`NetError::DataShape`] if `x` has the wrong number of columns, [`NetError::Batch`] if
/// `InputExactness::Rows` has the wrong length.
pub fn forward(
    net: &BatchNet,
    x: ArrayView2<f64>,
    inputs: InputExactness,
) -> Result<BatchPass, NetError> {
    forward_with(net, x, inputs, BoundKind::default())
}

/// [`forward`] with a choice of how the bound is computed.
///
/// # Errors
/// As [`forward`].
pub fn forward_with(
    net: &BatchNet,
    x: ArrayView2<f64>,
    inputs: InputExactness,
    kind: BoundKind,
) -> Result<BatchPass, NetError> {
    let m = x.nrows();
    let blocks = forward_map(net, x, inputs, kind, |_, layers| layers)?;
    let layers = (0..net.layers.len())
        .map(|li| {
            let width = net.arch.width(li + 1);
            let mut z = Array2::<f64>::zeros((m, width));
            let mut e = Array2::<f64>::zeros((m, width));
            for (bi, block) in blocks.iter().enumerate() {
                let lo = bi * BLOCK_ROWS;
                let rows = block[li].z.nrows();
                z.slice_mut(s![lo..lo + rows, ..]).assign(&block[li].z);
                e.slice_mut(s![lo..lo + rows, ..]).assign(&block[li].e);
            }
            LayerPass { z, e }
        })
        .collect();
    Ok(BatchPass { layers })
}

/// The pass of [`forward_with`] block by block, never assembled: `f(first_row, layers)`
/// for every block of [`BLOCK_ROWS`] rows (`layers[k-1]` holds the block's rows), in
/// parallel; the results in block order.
///
/// # Errors
/// As [`forward`].
pub fn forward_map<T: Send>(
    net: &BatchNet,
    x: ArrayView2<f64>,
    inputs: InputExactness,
    kind: BoundKind,
    f: impl Fn(usize, Vec<LayerPass>) -> T + Sync,
) -> Result<Vec<T>, NetError> {
    if x.ncols() != net.arch.inputs() {
        return Err(NetError::DataShape {
            what: "inputs",
            expected: net.arch.inputs(),
            got: x.ncols(),
        });
    }
    if let InputExactness::Rows(r) = inputs
        && r.len() != x.nrows()
    {
        return Err(NetError::Batch {
            reason: format!("{} row flags for {} points", r.len(), x.nrows()),
        });
    }
    let m = x.nrows();
    Ok((0..m.div_ceil(BLOCK_ROWS))
        .into_par_iter()
        .map(|bi| {
            let lo = bi * BLOCK_ROWS;
            let hi = (lo + BLOCK_ROWS).min(m);
            let layers = forward_block(net, x.slice(s![lo..hi, ..]), lo, inputs, kind)
                .into_iter()
                .map(|(z, e)| LayerPass { z, e })
                .collect();
            f(lo, layers)
        })
        .collect())
}
