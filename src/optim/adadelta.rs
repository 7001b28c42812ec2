//! Adadelta (`torch.optim.Adadelta`), covered by Do, Jentzen & Riekert (2025).
//!
//! ```text
//! g <- g + wd theta;  v <- rho v + (1 - rho) g^2
//! delta = sqrt(u + eps) / sqrt(v + eps) * g;  u <- rho u + (1 - rho) delta^2
//! theta <- theta - lr delta
//! ```

use super::{Optimizer, State, apply_weight_decay, ema};
use crate::scalar::Real;

/// Adadelta.
#[derive(Debug, Clone)]
pub struct Adadelta<S: Real> {
    lr: S,
    rho: S,
    eps: S,
    weight_decay: S,
}

impl<S: Real> Adadelta<S> {
    /// Adadelta with `lr`, `rho`, `eps > 0`, weight decay.
    pub fn new(lr: S, rho: S, eps: S, weight_decay: S) -> Self {
        Self {
            lr,
            rho,
            eps,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for Adadelta<S> {
    fn name(&self) -> &'static str {
        "adadelta"
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["square_avg", "acc_delta"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        state.step += 1;
        let [v, u] = &mut state.buffers[..] else {
            unreachable!("two buffers")
        };
        let next = (0..theta.len())
            .map(|i| {
                v[i] = ema(&self.rho, &v[i], &g[i].square());
                if g[i].is_zero() {
                    // delta = 0: u decays, theta stays
                    u[i] = ema(&self.rho, &u[i], &S::zero());
                    return theta[i].clone();
                }
                let delta = u[i]
                    .add(&self.eps)
                    .sqrt()
                    .div(&v[i].add(&self.eps).sqrt())
                    .mul(&g[i]);
                u[i] = ema(&self.rho, &u[i], &delta.square()).tighten();
                theta[i].sub(&self.lr.mul(&delta))
            })
            .collect();
        (next, state)
    }
}
