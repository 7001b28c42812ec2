//! Adagrad (`torch.optim.Adagrad`, initial accumulator 0).
//!
//! ```text
//! g <- g + wd theta;  clr = lr / (1 + (t - 1) lr_decay)
//! s <- s + g^2;       theta <- theta - clr g / (sqrt(s) + eps)
//! ```

use super::{Optimizer, State, apply_weight_decay};
use crate::scalar::Real;

/// Adagrad.
#[derive(Debug, Clone)]
pub struct Adagrad<S: Real> {
    lr: S,
    lr_decay: S,
    eps: S,
    weight_decay: S,
}

impl<S: Real> Adagrad<S> {
    /// Adagrad with `lr`, `lr_decay`, `eps > 0`, weight decay.
    pub fn new(lr: S, lr_decay: S, eps: S, weight_decay: S) -> Self {
        Self {
            lr,
            lr_decay,
            eps,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for Adagrad<S> {
    fn name(&self) -> &'static str {
        "adagrad"
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["sum"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        let t = state.step + 1;
        state.step = t;
        let clr = self
            .lr
            .div(&S::one().add(&S::from_int(t as i64 - 1).mul(&self.lr_decay)));
        let next = theta
            .iter()
            .zip(&g)
            .zip(state.buffers[0].iter_mut())
            .map(|((p, gi), sum)| {
                if !gi.is_zero() {
                    *sum = sum.add(&gi.square());
                }
                if gi.is_zero() {
                    return p.clone();
                }
                let denom = sum.sqrt().add(&self.eps);
                p.sub(&clr.mul(gi).div(&denom))
            })
            .collect();
        (next, state)
    }
}
