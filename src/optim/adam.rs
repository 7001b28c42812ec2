//! Adam and AMSGrad (`torch.optim.Adam`, `amsgrad = True`).
//!
//! ```text
//! g <- g + wd theta;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//! c1 = 1 - b1^t;  c2 = 1 - b2^t
//! amsgrad: vmax <- max(vmax, v) (on the uncorrected v, as current PyTorch);  w = vmax;  else w = v
//! theta <- theta - (lr / c1) m / (sqrt(w) / sqrt(c2) + eps)
//! ```

use super::{Optimizer, State, apply_weight_decay, ema, powi};
use crate::scalar::Real;

/// Adam, or AMSGrad with `amsgrad = true`.
#[derive(Debug, Clone)]
pub struct Adam<S: Real> {
    name: &'static str,
    lr: S,
    beta1: S,
    beta2: S,
    eps: S,
    amsgrad: bool,
    weight_decay: S,
}

impl<S: Real> Adam<S> {
    /// Adam with `lr`, betas, `eps > 0`, the AMSGrad flag and weight decay.
    pub fn new(
        name: &'static str,
        lr: S,
        beta1: S,
        beta2: S,
        eps: S,
        amsgrad: bool,
        weight_decay: S,
    ) -> Self {
        Self {
            name,
            lr,
            beta1,
            beta2,
            eps,
            amsgrad,
            weight_decay,
        }
    }
}

impl<S: Real> Optimizer<S> for Adam<S> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        let t = state.step + 1;
        state.step = t;
        let c1 = S::one().sub(&powi(&self.beta1, t));
        let sqrt_c2 = S::one().sub(&powi(&self.beta2, t)).sqrt();
        let step_size = self.lr.div(&c1);
        let [m, v, vmax] = &mut state.buffers[..] else {
            unreachable!("three buffers")
        };
        let next = (0..theta.len())
            .map(|i| {
                m[i] = ema(&self.beta1, &m[i], &g[i]);
                v[i] = ema(&self.beta2, &v[i], &g[i].square());
                let w = if self.amsgrad {
                    vmax[i] = vmax[i].max(&v[i]);
                    &vmax[i]
                } else {
                    &v[i]
                };
                if m[i].is_zero() {
                    return theta[i].clone();
                }
                let denom = w.sqrt().div(&sqrt_c2).add(&self.eps);
                theta[i].sub(&step_size.mul(&m[i]).div(&denom))
            })
            .collect();
        (next, state)
    }
}
