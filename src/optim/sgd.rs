//! SGD with optional momentum and Nesterov momentum (`torch.optim.SGD`, dampening 0).
//!
//! ```text
//! g <- g + wd theta
//! if momentum != 0:  b <- g (first step), b <- mu b + g (later);  g <- g + mu b (nesterov) or g <- b
//! theta <- theta - lr g
//! ```

use super::{Optimizer, State, apply_weight_decay};
use crate::scalar::Real;

/// SGD; `momentum = 0` is plain SGD.
#[derive(Debug, Clone)]
pub struct Sgd<S: Real> {
    name: &'static str,
    lr: S,
    momentum: S,
    nesterov: bool,
    weight_decay: S,
}

impl<S: Real> Sgd<S> {
    /// SGD with learning rate `lr`, `momentum` (0 for none), Nesterov flag, weight decay.
    pub fn new(name: &'static str, lr: S, momentum: S, nesterov: bool, weight_decay: S) -> Self {
        Self {
            name,
            lr,
            momentum,
            nesterov,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for Sgd<S> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["momentum_buffer"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        let first = state.step == 0;
        state.step += 1;
        let use_momentum = !self.momentum.is_zero();
        let buf = &mut state.buffers[0];
        let next = theta
            .iter()
            .zip(&g)
            .zip(buf.iter_mut())
            .map(|((p, gi), b)| {
                let dir = if use_momentum {
                    *b = if first {
                        gi.clone()
                    } else {
                        self.momentum.mul(b).add(gi)
                    };
                    if self.nesterov {
                        gi.add(&self.momentum.mul(b))
                    } else {
                        b.clone()
                    }
                } else {
                    gi.clone()
                };
                if dir.is_zero() {
                    p.clone()
                } else {
                    p.sub(&self.lr.mul(&dir))
                }
            })
            .collect();
        (next, state)
    }
}
