//! Near ties in the Monte Carlo: trials whose dead-layer decision the rigorous `f64`
//! rounding bound does not settle.
//!
//! The fast paths decide in `f64`. Their float decision is kept only when the a-priori
//! bound of [`crate::net::batch::a_priori`] settles every hidden neuron it looked at
//! (largest pre-activation above the bound `E_k` of its layer, or below `-E_k`): then it
//! is the decision of the exact network, the drawn `f64` parameters on the `f64` data
//! (taken as exact: the Monte Carlo is about the data the estimate runs on, in `f64`).
//! Otherwise the trial goes through `settle`, the batched pass with the per-value
//! bound ([`crate::net::batch`], the one `inspect --mode f64` uses), which settles the
//! rest but the true near ties; those are counted apart ([`super::Counts::near_ties`]),
//! like overflowed trials, never as dead or alive.

use crate::net::Arch;
use crate::net::batch::{BatchNet, BoundKind, InputExactness, forward_with};
use crate::scalar::Sign;
use ndarray::Array2;

/// Whether the largest computed pre-activation `top` of a neuron settles its status
/// given the bound `e` of every pre-activation of its layer: `top > e` proves a positive
/// exact value, `top + e < 0` proves every exact value negative.
#[inline]
pub fn top_settled(top: f64, e: f64) -> bool {
    top - e > 0.0 || top + e < 0.0
}

/// The inputs as the `M x l_0` matrix of the batched pass.
pub(super) fn input_matrix(data: &crate::data::Dataset<f64>) -> Array2<f64> {
    Array2::from_shape_fn((data.len(), data.inputs()), |(m, i)| data.x(m)[i])
}

/// The decision of a trial from the per-value bound: `Some((dead, inactive per hidden
/// layer))` when every hidden pre-activation's sign is settled (then it is the exact
/// decision), `None` for a near tie. `theta` holds at least the hidden layers' entries.
pub(super) fn settle(arch: &Arch, theta: &[f64], x: &Array2<f64>) -> Option<(bool, Vec<u32>)> {
    let hidden = arch.layer_offset(arch.depth());
    let mut params = vec![0.0; arch.num_params()];
    params[..hidden].copy_from_slice(&theta[..hidden]);
    let net = BatchNet::from_f64(arch.clone(), params, vec![true; arch.depth()]).ok()?;
    let pass = forward_with(&net, x.view(), InputExactness::AllExact, BoundKind::Dot).ok()?;
    let mut dead = false;
    let mut inactive = Vec::with_capacity(arch.depth() - 1);
    for layer in &pass.layers[..arch.depth() - 1] {
        let mut count = 0u32;
        for j in 0..layer.z.ncols() {
            let signs = (0..layer.z.nrows()).map(|m| layer.sign(m, j));
            let (mut positive, mut undecided) = (false, false);
            for s in signs {
                match s {
                    Sign::Positive => positive = true,
                    Sign::Undecided => undecided = true,
                    _ => {}
                }
            }
            if positive {
                continue;
            }
            if undecided {
                return None;
            }
            count += 1;
        }
        dead |= count as usize == layer.z.ncols();
        inactive.push(count);
    }
    Some((dead, inactive))
}
