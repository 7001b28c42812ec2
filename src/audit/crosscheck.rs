//! The audit's optimizer cross-check: every optimizer run from theta_0 in certified
//! enclosure arithmetic, checking the mechanism at every step.
//!
//! # Arithmetic
//! Small setups run in [`DyadicInterval`] (exact dyadic ends rounded outward to many
//! bits); from [`F64_WORK`] parameters x points on, in [`F64Interval`] (`f64` ends
//! rounded outward by one ulp where an operation is inexact). Both keep exact results
//! exact, so a coordinate whose gradient is exactly zero at every step stays
//! bit-identical to theta_0 in either; the run reports which one it used.
//!
//! # The gradient
//! The loop is that of [`crate::optim::train::train`] (the same steps, the same seeded
//! mini-batches, the full-data risk at every theta_n), with one difference in how the
//! gradient is evaluated. Layer `k` was decided dead on the data exactly at theta_0. At
//! every step where the coordinates of layers `1..k` (a prefix of the frozen ones) are
//! bit-identical to theta_0, the pre-activations of layer `k` are those of theta_0 at
//! every point, all `<= 0`, so every point has `a_k = 0`: the outputs are the one
//! constant `c` of the later layers applied to zeros, the generalized gradient of layers
//! `1..k` and of `W_{k+1}` is zero (fact 2), and that of the later layers is the
//! backpropagation of the summed output error `(2/|B|) sum_{m in B} (c - y_m)` through
//! them. These are the values of the full backpropagation
//! ([`Network::risk_and_gradient`]) at `O(parameters after k + |B| outputs)` instead of
//! `O(|B| parameters)`. At a step where those coordinates have moved (possible only for
//! an optimizer that moves zero-gradient coordinates, such as weight decay), the full
//! backpropagation and a fresh activity decision in enclosure arithmetic are used.

use super::mechanism::{AuditError, OptimizerRun, frozen_range};
use crate::activity::activity_on_data;
use crate::activity::filtered::best_constant;
use crate::data::Dataset;
use crate::net::Network;
use crate::optim::train::TrainConfig;
use crate::optim::{Optimizer, OptimizerConfig, Resolved};
use crate::scalar::{BigRational, DyadicInterval, F64Interval, Real, Scalar, Sign};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// From this many parameters x points on the cross-check runs in [`F64Interval`].
pub const F64_WORK: u128 = 1 << 22;

/// The arithmetic of the cross-check for a setup of `params` parameters and `points`
/// data points: `"dyadic-interval"` or `"f64-interval"`.
pub fn arithmetic(params: usize, points: usize) -> &'static str {
    if params as u128 * points as u128 >= F64_WORK {
        F64Interval::NAME
    } else {
        DyadicInterval::NAME
    }
}

/// One setup of the cross-check in enclosure type `S`.
pub(super) struct CrossCheck<'a, S: Real> {
    /// theta_0 in `S`.
    net: Network<S>,
    /// The exact data (converted to `S` only if the full backpropagation is needed).
    data: &'a Dataset<BigRational>,
    data_s: std::sync::OnceLock<Dataset<S>>,
    /// The targets in `S`.
    ys: Vec<Vec<S>>,
    /// The dead layer.
    k: usize,
    /// Layer `k` is dead on the data at theta_0 (exact decision).
    dead_at_start: bool,
    /// `V` in `S`.
    v: S,
    /// The data's own best-constant risk `V_d` and mean target `mu`, exactly
    /// ([`best_constant`]) and then in `S`: the full-data risk of the constant output `c`
    /// is `V_d + sum_o (c_o - mu_o)^2` and its summed error `sum_m (c - y_m) = M (c - mu)`,
    /// so a full-data step costs `O(outputs)` instead of `O(M outputs)`.
    v_data: S,
    mean: Vec<S>,
}

impl<'a, S: Real> CrossCheck<'a, S> {
    /// Prepares the runs.
    ///
    /// # Errors
    /// [`AuditError::Net`] if a parameter has no value in `S`.
    pub(super) fn new(
        net: &Network<BigRational>,
        data: &'a Dataset<BigRational>,
        k: usize,
        dead_at_start: bool,
        v: &BigRational,
    ) -> Result<Self, AuditError> {
        let ys = (0..data.len())
            .map(|m| data.y(m).iter().map(S::from_rational).collect())
            .collect();
        let (v_data, mean) = best_constant(data);
        Ok(Self {
            net: net.convert()?,
            data,
            data_s: std::sync::OnceLock::new(),
            ys,
            k,
            dead_at_start,
            v: S::from_rational(v),
            v_data: S::from_rational(&v_data),
            mean: mean.iter().map(S::from_rational).collect(),
        })
    }

    fn data_s(&self) -> Result<&Dataset<S>, AuditError> {
        if let Some(d) = self.data_s.get() {
            return Ok(d);
        }
        let d = self.data.convert()?;
        Ok(self.data_s.get_or_init(|| d))
    }

    /// The outputs' constant `c` and the pre-activations of layers `k+1..L` from
    /// `a_k = 0`, at `theta`.
    fn tail(&self, theta: &[S]) -> Vec<Vec<S>> {
        let arch = self.net.arch();
        let mut pre: Vec<Vec<S>> = Vec::new();
        let mut a: Vec<S> = vec![S::zero(); arch.width(self.k)];
        for l in self.k + 1..=arch.depth() {
            let z: Vec<S> = (0..arch.width(l))
                .map(|j| {
                    a.iter()
                        .enumerate()
                        .filter(|(_, v)| !v.is_zero())
                        .fold(theta[arch.bias_index(l, j)].clone(), |acc, (i, v)| {
                            acc.add_ref(&theta[arch.weight_index(l, j, i)].mul_ref(v))
                        })
                })
                .collect();
            a = z.iter().map(Scalar::relu).collect();
            pre.push(z);
        }
        pre
    }

    /// Risk over `rows` (all points when `None`) with every point at `a_k = 0`.
    fn tail_risk(&self, c: &[S], rows: Option<&[usize]>) -> S {
        let err = |m: usize| {
            c.iter()
                .zip(&self.ys[m])
                .fold(S::zero(), |acc, (c, y)| acc.add_ref(&c.sub_ref(y).square()))
        };
        match rows {
            Some(r) => r
                .iter()
                .fold(S::zero(), |acc, &m| acc.add_ref(&err(m)))
                .div_ref(&S::from_int(r.len() as i64)),
            // (1/M) sum_m |c - y_m|^2 = V_d + |c - mu|^2
            None => c
                .iter()
                .zip(&self.mean)
                .fold(self.v_data.clone(), |acc, (c, mu)| {
                    acc.add_ref(&c.sub_ref(mu).square())
                }),
        }
    }

    /// Risk and generalized gradient over `rows` with every point at `a_k = 0` (see the
    /// module docs).
    fn tail_gradient(&self, theta: &[S], rows: Option<&[usize]>) -> (S, Vec<S>) {
        let arch = self.net.arch();
        let k = self.k;
        let pre = self.tail(theta);
        let c = pre.last().expect("the output layer");
        let risk = self.tail_risk(c, rows);
        let mut delta: Vec<S> = match rows {
            Some(rows) => {
                let two_over = S::from_int(2).div_ref(&S::from_int(rows.len() as i64));
                (0..c.len())
                    .map(|o| {
                        let sum = rows.iter().fold(S::zero(), |acc, &m| {
                            acc.add_ref(&c[o].sub_ref(&self.ys[m][o]))
                        });
                        two_over.mul_ref(&sum)
                    })
                    .collect()
            }
            // (2/M) sum_m (c - y_m) = 2 (c - mu)
            None => c
                .iter()
                .zip(&self.mean)
                .map(|(c, mu)| S::from_int(2).mul_ref(&c.sub_ref(mu)))
                .collect(),
        };
        let mut grad = vec![S::zero(); theta.len()];
        for l in (k + 1..=arch.depth()).rev() {
            let cols = arch.width(l - 1);
            let input: Vec<S> = if l == k + 1 {
                vec![S::zero(); cols]
            } else {
                pre[l - 2 - k].iter().map(Scalar::relu).collect()
            };
            for (j, d) in delta.iter().enumerate() {
                if d.is_zero() {
                    continue;
                }
                for (i, a) in input.iter().enumerate() {
                    if !a.is_zero() {
                        grad[arch.weight_index(l, j, i)] = d.mul_ref(a);
                    }
                }
                grad[arch.bias_index(l, j)] = d.clone();
            }
            if l == k + 1 {
                break;
            }
            delta = (0..cols)
                .map(|i| {
                    let rd = pre[l - 2 - k][i].relu_derivative();
                    if rd.is_zero() {
                        return S::zero();
                    }
                    let back = delta.iter().enumerate().fold(S::zero(), |acc, (j, d)| {
                        if d.is_zero() {
                            acc
                        } else {
                            acc.add_ref(&theta[arch.weight_index(l, j, i)].mul_ref(d))
                        }
                    });
                    rd.mul_ref(&back)
                })
                .collect();
        }
        (risk, grad)
    }

    /// One run of `opt` (see the module docs).
    ///
    /// # Errors
    /// [`AuditError::Net`] for an empty batch, [`AuditError::Data`] if the data have no
    /// value in `S` when the full backpropagation is needed.
    pub(super) fn run(
        &self,
        resolved: &Resolved,
        opt: &OptimizerConfig<S>,
        config: &TrainConfig,
    ) -> Result<OptimizerRun, AuditError> {
        let arch = self.net.arch().clone();
        let frozen = frozen_range(&arch, self.k);
        let layers = 0..arch.layer_range(self.k).end;
        let mut theta = self.net.params().to_vec();
        let mut state = opt.init(theta.len());
        let mut rng = ChaCha8Rng::seed_from_u64(config.batch_seed);
        let m = self.data.len();
        if config.batch == Some(0) {
            return Err(crate::net::NetError::Batch {
                reason: "batch size 0".into(),
            }
            .into());
        }
        let batch_size = config.batch.filter(|&b| b < m);
        let (mut is_frozen, mut dead, mut constant, mut not_below) = (true, true, true, Some(true));
        let mut lost: Option<u64> = None;
        // Whether some coordinate of the frozen range, or of layers 1..k, has ever differed
        // from its value at the step before (so possibly from theta_0): recorded by the
        // update below, which compares every coordinate anyway. "Never changed" is
        // "bit-identical to theta_0 at every step so far"; a coordinate that moved and
        // came back counts as moved (then the shortcut is not taken: slower, still right).
        let (mut frozen_moved, mut layers_moved) = (false, false);
        // both ranges start at coordinate 0, so the first changed coordinate tells both
        debug_assert!(frozen.start == 0 && layers.start == 0 && layers.end <= frozen.end);
        for step in 0..=config.steps {
            let unchanged = !frozen_moved;
            let shortcut = !layers_moved;
            is_frozen &= unchanged;
            let current = (!shortcut)
                .then(|| Network::new(arch.clone(), theta.clone()))
                .transpose()?;
            let gradient = |rows: Option<&[usize]>| -> Result<(S, Vec<S>), AuditError> {
                match &current {
                    None => Ok(self.tail_gradient(&theta, rows)),
                    Some(net) => Ok(net.risk_and_gradient(self.data_s()?, rows)?),
                }
            };
            let full = if step == config.steps || batch_size.is_some() {
                None
            } else {
                Some(gradient(None)?)
            };
            let risk = match (&full, &current) {
                (Some((r, _)), _) => r.clone(),
                (None, None) => self.tail_risk(self.tail(&theta).last().expect("L >= 1"), None),
                (None, Some(net)) => net.risk(self.data_s()?, None)?,
            };
            // Layer k's pre-activations are a function of layers 1..k and the data only:
            // while those are bit-identical to theta_0 the layer is the same dead layer,
            // as decided exactly on theta_0, and fact 1 makes the realization constant.
            // Otherwise recompute in enclosure arithmetic. Checked at the last step in
            // any case.
            if !unchanged || step == config.steps {
                let found = match &current {
                    None => Some((self.dead_at_start, self.dead_at_start)),
                    Some(net) => activity_on_data(net, self.data_s()?)
                        .ok()
                        .map(|act| (act.dead_layers().contains(&self.k), act.constant_on_data())),
                };
                match found {
                    Some((d, c)) => {
                        dead &= d;
                        constant &= c;
                    }
                    None => (dead, constant) = (false, false),
                }
            }
            match risk.sub_ref(&self.v).sign() {
                Sign::Negative => not_below = Some(false),
                Sign::Undecided if not_below == Some(true) => not_below = None,
                _ => {}
            }
            // The stop rule of `optim::train::train`: once the enclosure of the risk or of
            // a coordinate leaves f64's range it says nothing more (interval arithmetic
            // widens on runs that do not settle), so the run stops here and says so.
            if !(risk.to_f64().is_finite() && theta.iter().all(|t| t.to_f64().is_finite())) {
                lost = Some(step);
                if not_below == Some(true) {
                    not_below = None;
                }
                break;
            }
            if step == config.steps {
                break;
            }
            let grad = match (full, batch_size) {
                (Some((_, g)), _) => g,
                (None, Some(b)) => {
                    let idx = rand::seq::index::sample(&mut rng, m, b).into_vec();
                    gradient(Some(&idx))?.1
                }
                (None, None) => gradient(None)?.1,
            };
            let next = opt.step(&theta, &grad, &mut state);
            let mut moved_below = usize::MAX; // the first coordinate that changed
            theta = next
                .into_iter()
                .zip(theta.iter())
                .enumerate()
                .map(|(i, (new, old))| {
                    if new.identical(old) {
                        new
                    } else {
                        moved_below = moved_below.min(i);
                        new.tighten()
                    }
                })
                .collect();
            frozen_moved |= moved_below < frozen.end;
            layers_moved |= moved_below < layers.end;
        }
        Ok(OptimizerRun {
            resolved: resolved.clone(),
            steps: config.steps,
            batch: config.batch,
            batch_seed: config.batch_seed,
            arithmetic: S::NAME,
            frozen: is_frozen,
            layer_stayed_dead: dead,
            constant_realization: constant,
            risk_never_below_v: not_below,
            enclosure_lost_at: lost,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::filtered::Filter;
    use crate::net::Arch;
    use crate::optim::OptimizerKind;
    use crate::scalar::q;

    /// The shortcut gradient is the full backpropagation's, exactly (in rationals through
    /// point enclosures: both exact), on a net whose layer 2 is dead, full batch and
    /// mini-batch.
    #[test]
    fn tail_gradient_equals_full_backpropagation() {
        let arch = Arch::new(vec![2, 3, 2, 2, 2]).unwrap();
        let n = arch.num_params();
        let mut params: Vec<BigRational> = (0..n as i64).map(|i| q((i * 7) % 11 - 5, 4)).collect();
        for v in &mut params[arch.layer_range(2)] {
            *v = -num_traits::Signed::abs(v);
        }
        let net = Network::new(arch.clone(), params).unwrap();
        let data = "grid:-1,1:7"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(2, 2, &crate::data::Target::Abs, 0)
            .unwrap();
        let act = Filter::new(&net).unwrap().activity(&data).unwrap().activity;
        assert!(act.dead_layers().contains(&2));
        let rational: CrossCheck<'_, crate::scalar::Interval> =
            CrossCheck::new(&net, &data, 2, true, &q(0, 1)).unwrap();
        let theta: Vec<crate::scalar::Interval> = rational.net.params().to_vec();
        for rows in [None, Some(&[0usize, 3, 4][..])] {
            let (r1, g1) = rational.tail_gradient(&theta, rows);
            let (r2, g2) = net.risk_and_gradient(&data, rows).unwrap();
            assert_eq!(r1.to_rational().unwrap(), r2);
            let g1: Vec<BigRational> = g1.iter().map(|g| g.to_rational().unwrap()).collect();
            assert_eq!(g1, g2);
        }
        // and a run keeps the frozen coordinates, in both arithmetics
        let resolved = crate::optim::Hyper::default()
            .resolve(OptimizerKind::Adam)
            .unwrap();
        let config = TrainConfig {
            steps: 5,
            batch: Some(3),
            batch_seed: 1,
        };
        let check: CrossCheck<'_, DyadicInterval> =
            CrossCheck::new(&net, &data, 2, true, &q(0, 1)).unwrap();
        let run = check
            .run(&resolved, &resolved.build().unwrap(), &config)
            .unwrap();
        assert!(run.frozen && run.layer_stayed_dead && run.constant_realization);
        let fast: CrossCheck<'_, F64Interval> =
            CrossCheck::new(&net, &data, 2, true, &q(0, 1)).unwrap();
        let run = fast
            .run(&resolved, &resolved.build().unwrap(), &config)
            .unwrap();
        assert!(run.frozen && run.layer_stayed_dead && run.constant_realization);
        assert_eq!(run.risk_never_below_v, Some(true));
    }

    /// The stop rule: an SGD run with a learning rate of `2^300` drives the later layers'
    /// enclosures past `f64`'s range within a few steps; the run stops at that step and
    /// says so (in both arithmetics), and the frozen coordinates stayed bit-identical up
    /// to there. A sane learning rate never loses the enclosure.
    #[test]
    fn run_stops_when_the_enclosure_is_lost() {
        let arch = Arch::new(vec![2, 3, 2, 2, 1]).unwrap();
        let n = arch.num_params();
        let mut params: Vec<BigRational> = (0..n as i64).map(|i| q((i * 5) % 9 - 3, 4)).collect();
        for v in &mut params[arch.layer_range(2)] {
            *v = -num_traits::Signed::abs(v) - q(1, 8);
        }
        let net = Network::new(arch.clone(), params).unwrap();
        let data = "grid:-1,1:5"
            .parse::<crate::data::DataSpec>()
            .unwrap()
            .build(2, 1, &crate::data::Target::Abs, 0)
            .unwrap();
        let act = Filter::new(&net).unwrap().activity(&data).unwrap().activity;
        assert!(act.dead_layers().contains(&2));
        let config = TrainConfig {
            steps: 50,
            batch: None,
            batch_seed: 1,
        };
        let hyper = |lr: BigRational| crate::optim::Hyper {
            lr: Some(lr),
            ..Default::default()
        };
        let huge = hyper(BigRational::from_integer(
            num_bigint::BigInt::from(1) << 300,
        ))
        .resolve(OptimizerKind::Sgd)
        .unwrap();
        let sane = hyper(q(1, 100)).resolve(OptimizerKind::Sgd).unwrap();
        let fast: CrossCheck<'_, F64Interval> =
            CrossCheck::new(&net, &data, 2, true, &q(0, 1)).unwrap();
        let run = fast.run(&huge, &huge.build().unwrap(), &config).unwrap();
        let at = run.enclosure_lost_at.expect("the enclosure is lost");
        assert!((1..10).contains(&at), "lost at step {at}");
        assert!(run.frozen && run.layer_stayed_dead);
        assert_eq!(run.risk_never_below_v, None);
        let run = fast.run(&sane, &sane.build().unwrap(), &config).unwrap();
        assert_eq!(run.enclosure_lost_at, None);
        assert_eq!(run.risk_never_below_v, Some(true));
        let slow: CrossCheck<'_, DyadicInterval> =
            CrossCheck::new(&net, &data, 2, true, &q(0, 1)).unwrap();
        let run = slow.run(&huge, &huge.build().unwrap(), &config).unwrap();
        let at_dyadic = run.enclosure_lost_at.expect("the enclosure is lost");
        assert!((1..10).contains(&at_dyadic), "lost at step {at_dyadic}");
        assert!(run.frozen && run.layer_stayed_dead);
    }
}
