//! Adamax (`torch.optim.Adamax`).
//!
//! ```text
//! g <- g + wd theta;  m <- b1 m + (1 - b1) g;  u <- max(b2 u, |g| + eps)
//! theta <- theta - (lr / (1 - b1^t)) m / u
//! ```
//! Rational throughout: no enclosure is needed.

use super::{Optimizer, State, apply_weight_decay, ema, powi};
use crate::scalar::Real;

/// Adamax.
#[derive(Debug, Clone)]
pub struct Adamax<S: Real> {
    lr: S,
    beta1: S,
    beta2: S,
    eps: S,
    weight_decay: S,
}

impl<S: Real> Adamax<S> {
    /// Adamax with `lr`, betas, `eps > 0`, weight decay.
    pub fn new(lr: S, beta1: S, beta2: S, eps: S, weight_decay: S) -> Self {
        Self {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for Adamax<S> {
    fn name(&self) -> &'static str {
        "adamax"
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_inf"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        let t = state.step + 1;
        state.step = t;
        let clr = self.lr.div(&S::one().sub(&powi(&self.beta1, t)));
        let [m, u] = &mut state.buffers[..] else {
            unreachable!("two buffers")
        };
        let next = (0..theta.len())
            .map(|i| {
                m[i] = ema(&self.beta1, &m[i], &g[i]);
                u[i] = self.beta2.mul(&u[i]).max(&g[i].abs().add(&self.eps));
                if m[i].is_zero() {
                    theta[i].clone()
                } else {
                    theta[i].sub(&clr.mul(&m[i]).div(&u[i]))
                }
            })
            .collect();
        (next, state)
    }
}
