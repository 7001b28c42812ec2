//! RMSProp (`torch.optim.RMSprop`), with the `centered` and `momentum` options.
//!
//! ```text
//! g <- g + wd theta;  v <- alpha v + (1 - alpha) g^2
//! centered: ga <- alpha ga + (1 - alpha) g;  vt = v - ga^2;  else vt = v
//! d = sqrt(vt) + eps
//! momentum > 0: b <- mu b + g / d;  theta <- theta - lr b
//! else:         theta <- theta - lr g / d
//! ```

use super::{Optimizer, State, apply_weight_decay, ema};
use crate::scalar::Real;

/// RMSProp.
#[derive(Debug, Clone)]
pub struct RmsProp<S: Real> {
    lr: S,
    alpha: S,
    eps: S,
    momentum: S,
    centered: bool,
    weight_decay: S,
}

impl<S: Real> RmsProp<S> {
    /// RMSProp with `lr`, `alpha`, `eps > 0`, `momentum`, `centered`, weight decay.
    pub fn new(lr: S, alpha: S, eps: S, momentum: S, centered: bool, weight_decay: S) -> Self {
        Self {
            lr,
            alpha,
            eps,
            momentum,
            centered,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for RmsProp<S> {
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["square_avg", "grad_avg", "momentum_buffer"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let use_momentum = !self.momentum.is_zero();
        let [v, ga, buf] = &mut state.buffers[..] else {
            unreachable!("three buffers")
        };
        let next = (0..theta.len())
            .map(|i| {
                let gi = &g[i];
                v[i] = ema(&self.alpha, &v[i], &gi.square());
                let vt = if self.centered {
                    ga[i] = ema(&self.alpha, &ga[i], gi);
                    v[i].sub(&ga[i].square())
                } else {
                    v[i].clone()
                };
                let scaled = if gi.is_zero() {
                    S::zero()
                } else {
                    gi.div(&vt.sqrt().add(&self.eps))
                };
                let dir = if use_momentum {
                    buf[i] = self.momentum.mul(&buf[i]).add(&scaled);
                    buf[i].clone()
                } else {
                    scaled
                };
                if dir.is_zero() {
                    theta[i].clone()
                } else {
                    theta[i].sub(&self.lr.mul(&dir))
                }
            })
            .collect();
        (next, state)
    }
}
