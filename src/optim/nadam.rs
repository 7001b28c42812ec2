//! NAdam (`torch.optim.NAdam`, `decoupled_weight_decay = False`).
//!
//! ```text
//! g <- g + wd theta
//! mu_t = b1 (1 - 0.5 * 0.96^(t psi));  mu_{t+1} = b1 (1 - 0.5 * 0.96^((t+1) psi));  P <- P mu_t
//! m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  d = sqrt(v / (1 - b2^t)) + eps
//! theta <- theta - lr (1 - mu_t) / (1 - P) g / d - lr mu_{t+1} / (1 - P mu_{t+1}) m / d
//! ```
//! `0.96^(t psi) = (24/25)^(t psi)` is a real power: a certified enclosure in exact mode.

use super::{Optimizer, State, apply_weight_decay, ema, powi};
use crate::scalar::{BigRational, Real};
use num_traits::ToPrimitive;

/// NAdam.
#[derive(Debug, Clone)]
pub struct Nadam<S: Real> {
    lr: S,
    beta1: S,
    beta2: S,
    eps: S,
    /// `0.96^psi`, enclosed once; `0.96^(t psi)` is its `t`-th power.
    decay_root: S,
    weight_decay: S,
}

impl<S: Real> Nadam<S> {
    /// NAdam with `lr`, betas, `eps > 0`, momentum decay `psi >= 0` (an exact ratio of
    /// numerator and denominator below 2^32), weight decay.
    ///
    /// # Panics
    /// **Panics if `psi` is negative or its numerator or denominator exceed `u32`.**
    pub fn new(lr: S, beta1: S, beta2: S, eps: S, psi: &BigRational, weight_decay: S) -> Self {
        let psi = (
            psi.numer()
                .to_u32()
                .expect("momentum_decay numerator fits u32") as u64,
            psi.denom()
                .to_u32()
                .expect("momentum_decay denominator fits u32") as u64,
        );
        let decay_root = S::from_ratio(24, 25).pow_ratio(psi.0, psi.1);
        Self {
            lr,
            beta1,
            beta2,
            eps,
            decay_root,
            weight_decay,
        }
    }

    /// `mu_t = b1 (1 - 0.5 * (24/25)^(t psi))`, with `(24/25)^(t psi) = ((24/25)^psi)^t`
    /// (one root, enclosed at construction, then exact products).
    pub fn mu(&self, t: u64) -> S {
        let decay = super::powi(&self.decay_root, t);
        self.beta1
            .mul(&S::one().sub(&S::from_ratio(1, 2).mul(&decay)))
    }
}

impl<S: Real> Optimizer<S> for Nadam<S> {
    fn name(&self) -> &'static str {
        "nadam"
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
    fn init(&self, dim: usize) -> State<S> {
        let mut s = State::zeros(2, dim);
        s.scalars = vec![S::one()];
        s
    }
    fn step(&self, theta: &[S], grad: &[S], mut state: State<S>) -> (Vec<S>, State<S>) {
        let g = apply_weight_decay(grad, theta, &self.weight_decay);
        let t = state.step + 1;
        state.step = t;
        let (mu, mu_next) = (self.mu(t), self.mu(t + 1));
        let product = state.scalars[0].mul(&mu).tighten();
        state.scalars[0] = product.clone();
        let c2 = S::one().sub(&powi(&self.beta2, t));
        let coef_g = self.lr.mul(&S::one().sub(&mu)).div(&S::one().sub(&product));
        let coef_m = self
            .lr
            .mul(&mu_next)
            .div(&S::one().sub(&product.mul(&mu_next)));
        let [m, v] = &mut state.buffers[..] else {
            unreachable!("two buffers")
        };
        let next = (0..theta.len())
            .map(|i| {
                m[i] = ema(&self.beta1, &m[i], &g[i]);
                v[i] = ema(&self.beta2, &v[i], &g[i].square());
                if m[i].is_zero() && g[i].is_zero() {
                    return theta[i].clone();
                }
                let d = v[i].div(&c2).sqrt().add(&self.eps);
                theta[i]
                    .sub(&coef_g.mul(&g[i]).div(&d))
                    .sub(&coef_m.mul(&m[i]).div(&d))
            })
            .collect();
        (next, state)
    }
}
