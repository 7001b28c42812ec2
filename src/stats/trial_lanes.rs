//! Eight trials at once: the dead-layer decision with one trial per vector lane.
//!
//! [`super::montecarlo::Simulator`] decides one trial at a time, vectorised over the data
//! points; for the narrow networks this toolkit studies (widths of a few neurons) most of
//! its time goes to per-row set-up, horizontal maxima and branches whose outcome is
//! random. Here the eight trials whose parameters [`crate::net::init::DrawPlan::fill_lanes`]
//! converts together stay together: every parameter is a vector of eight lanes, one per
//! trial, and every layer runs over all points with the same scalar operations in every
//! lane. There is nothing to branch on: a layer's rows are computed whether or not they
//! turn out inactive, and the layers after a dead one simply compute the constant that
//! every point then shares.
//!
//! Each lane performs exactly the operations of the generic forward pass
//! ([`crate::net::Network::affine`]) in the same order, a plain multiply and add, never
//! fused: `b_j + w_j1 x_1 + w_j2 x_2 + ...`, then `ReLU`. The one difference is that the
//! generic pass skips a product whose factor is zero, where a lane adds it. With finite
//! factors that product is `±0`, and adding it changes at most the sign of a zero sum,
//! which neither `z > 0` nor the `ReLU` distinguishes. A product `0 * inf` would be NaN
//! instead, so [`LaneDecider::new`] declines (returns `None`) unless a bound computed from
//! the largest parameter magnitude and the largest input shows that no value can overflow.
//! Tests compare every count with the single-trial path.

use crate::data::Dataset;
use crate::net::Arch;
use crate::net::init::DrawPlan;
use crate::net::lanes::LANES;

/// One value in each of the eight lanes.
type Lanes = [f64; LANES];

/// Decides eight trials at once (see the module docs).
pub struct LaneDecider {
    /// Per hidden layer: rows, columns, offset of its weights in theta.
    layers: Vec<(usize, usize, usize)>,
    /// Points.
    m: usize,
    /// Inputs, point-major (`xs[p * d + i]`), the same in every lane.
    xs: Vec<Lanes>,
    cur: Vec<Lanes>,
    next: Vec<Lanes>,
    /// `inactive[k - 1][l]`: inactive neurons of hidden layer `k` in lane `l` after
    /// [`LaneDecider::decide`].
    pub inactive: Vec<[u32; LANES]>,
    /// Whether some hidden layer of lane `l` is dead.
    pub dead: [bool; LANES],
}

impl LaneDecider {
    /// Prepares the decider, or `None` when an overflow cannot be ruled out for
    /// parameters drawn by `plan` (see the module docs) or the plan does not cover the
    /// hidden layers.
    pub fn new(arch: &Arch, plan: &DrawPlan, data: &Dataset<f64>) -> Option<Self> {
        let (m, d) = (data.len(), data.inputs());
        let hidden: Vec<usize> = arch.hidden_layers().collect();
        let needed: usize = hidden
            .iter()
            .map(|&k| arch.width(k) * (arch.width(k - 1) + 1))
            .sum();
        if plan.len() < needed || m == 0 {
            return None;
        }
        let mut xs = Vec::with_capacity(m * d);
        let mut bound = 0.0f64;
        for p in 0..m {
            for &v in data.x(p) {
                xs.push([v; LANES]);
                bound = bound.max(v.abs());
            }
        }
        // |z_j| <= |b_j| + sum_i |w_ji| |x_i| <= e (1 + cols * bound) in exact arithmetic;
        // doubling per layer covers the rounding of the few operations many times over
        let e = plan.max_abs();
        for &k in &hidden {
            bound = 2.0 * e * (1.0 + arch.width(k - 1) as f64 * bound);
            if !(bound < 1e300) {
                return None;
            }
        }
        let widest = hidden.iter().map(|&k| arch.width(k)).max().unwrap_or(0);
        Some(Self {
            layers: hidden
                .iter()
                .map(|&k| (arch.width(k), arch.width(k - 1), arch.layer_offset(k)))
                .collect(),
            m,
            xs,
            cur: vec![[0.0; LANES]; m * widest],
            next: vec![[0.0; LANES]; m * widest],
            inactive: vec![[0; LANES]; hidden.len()],
            dead: [false; LANES],
        })
    }

    /// Decides the eight trials whose parameters are `thetas` (entry `e` of lane `l` is
    /// `thetas[e][l]`); the results are in [`LaneDecider::inactive`] and
    /// [`LaneDecider::dead`].
    pub fn decide(&mut self, thetas: &[Lanes]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the processor supports AVX-512F, checked just above.
                return unsafe { self.decide_avx512(thetas) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2, checked just above.
                return unsafe { self.decide_avx2(thetas) };
            }
        }
        self.decide_generic(thetas)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn decide_avx512(&mut self, thetas: &[Lanes]) {
        self.decide_generic(thetas)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn decide_avx2(&mut self, thetas: &[Lanes]) {
        self.decide_generic(thetas)
    }

    #[inline(always)]
    fn decide_generic(&mut self, thetas: &[Lanes]) {
        let m = self.m;
        let last = self.layers.len();
        self.dead = [false; LANES];
        for (idx, &(rows, cols, off)) in self.layers.iter().enumerate() {
            let w = &thetas[off..off + rows * cols];
            let b = &thetas[off + rows * cols..off + rows * (cols + 1)];
            let input = if idx == 0 {
                &self.xs[..]
            } else {
                &self.cur[..m * cols]
            };
            let out = &mut self.next[..m * rows];
            // the last hidden layer's rows are not read again
            let keep = idx + 1 < last;
            let inactive = &mut self.inactive[idx];
            *inactive = [0; LANES];
            macro_rules! fixed {
                ($c:literal) => {
                    if keep {
                        layer_fixed::<$c, true>(w, b, input, out, inactive)
                    } else {
                        layer_fixed::<$c, false>(w, b, input, out, inactive)
                    }
                };
            }
            match cols {
                1 => fixed!(1),
                2 => fixed!(2),
                3 => fixed!(3),
                4 => fixed!(4),
                5 => fixed!(5),
                6 => fixed!(6),
                7 => fixed!(7),
                8 => fixed!(8),
                _ => layer_any(w, b, cols, input, out, keep, inactive),
            }
            for l in 0..LANES {
                self.dead[l] |= inactive[l] as usize == rows;
            }
            std::mem::swap(&mut self.cur, &mut self.next);
        }
    }
}

/// `z > top ? z : top` lane by lane.
#[inline(always)]
fn max_into(top: &mut Lanes, z: &Lanes) {
    for l in 0..LANES {
        top[l] = if z[l] > top[l] { z[l] } else { top[l] };
    }
}

/// `ReLU` lane by lane, as the generic pass computes it.
#[inline(always)]
fn relu(z: &Lanes) -> Lanes {
    std::array::from_fn(|l| if z[l] > 0.0 { z[l] } else { 0.0 })
}

/// Adds the lanes whose largest pre-activation is not positive to `inactive`.
#[inline(always)]
fn tally(top: &Lanes, inactive: &mut [u32; LANES]) {
    for l in 0..LANES {
        inactive[l] += !(top[l] > 0.0) as u32;
    }
}

/// `b + w_1 x_1 + ... + w_C x_C` lane by lane, in this order.
#[inline(always)]
fn pre<const C: usize>(b: &Lanes, w: &[Lanes; C], x: &[Lanes]) -> Lanes {
    let mut z = *b;
    for i in 0..C {
        for l in 0..LANES {
            z[l] += w[i][l] * x[i][l];
        }
    }
    z
}

/// One layer with `C` inputs per point: `out[p * rows + j] = ReLU(b_j + sum_i w_ji
/// input[p * C + i])` (written only when `KEEP`), counting per lane the rows with no
/// positive pre-activation.
#[inline(always)]
fn layer_fixed<const C: usize, const KEEP: bool>(
    w: &[Lanes],
    b: &[Lanes],
    input: &[Lanes],
    out: &mut [Lanes],
    inactive: &mut [u32; LANES],
) {
    let rows = b.len();
    for (j, bj) in b.iter().enumerate() {
        let wj: [Lanes; C] = std::array::from_fn(|i| w[j * C + i]);
        // two running maxima, of the even and the odd points, so that consecutive points
        // do not wait on each other's maximum (no closure here: it would not inherit the
        // caller's target features)
        let (mut top, mut odd) = ([f64::NEG_INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
        let pairs = input.chunks_exact(2 * C);
        let rest = pairs.remainder();
        for (q, x) in pairs.enumerate() {
            let (z0, z1) = (pre::<C>(bj, &wj, &x[..C]), pre::<C>(bj, &wj, &x[C..]));
            max_into(&mut top, &z0);
            max_into(&mut odd, &z1);
            if KEEP {
                out[2 * q * rows + j] = relu(&z0);
                out[(2 * q + 1) * rows + j] = relu(&z1);
            }
        }
        if !rest.is_empty() {
            let z = pre::<C>(bj, &wj, rest);
            max_into(&mut top, &z);
            if KEEP {
                out[(input.len() / C - 1) * rows + j] = relu(&z);
            }
        }
        max_into(&mut top, &odd);
        tally(&top, inactive);
    }
}

/// [`layer_fixed`] for any number of inputs.
#[inline(always)]
fn layer_any(
    w: &[Lanes],
    b: &[Lanes],
    cols: usize,
    input: &[Lanes],
    out: &mut [Lanes],
    keep: bool,
    inactive: &mut [u32; LANES],
) {
    let rows = b.len();
    for (j, bj) in b.iter().enumerate() {
        let wj = &w[j * cols..(j + 1) * cols];
        let mut top = [f64::NEG_INFINITY; LANES];
        for (p, x) in input.chunks_exact(cols).enumerate() {
            let mut z = *bj;
            for (wi, xi) in wj.iter().zip(x) {
                for l in 0..LANES {
                    z[l] += wi[l] * xi[l];
                }
            }
            max_into(&mut top, &z);
            if keep {
                out[p * rows + j] = relu(&z);
            }
        }
        tally(&top, inactive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSpec, Target};
    use crate::net::init::{InitSampler, trial_rng};
    use crate::net::lanes::{key_of, keystreams};
    use crate::stats::montecarlo::Simulator;

    fn data(spec: &str, arch: &Arch) -> Dataset<f64> {
        spec.parse::<DataSpec>()
            .unwrap()
            .build(arch.width(0), arch.width(arch.depth()), &Target::Abs, 3)
            .unwrap()
            .convert()
    }

    /// Every lane decides exactly as the single-trial simulator (itself tested against
    /// the generic activity code): fan-ins 1 to 8 and beyond (the generic kernel), odd
    /// numbers of points (the unpaired last point), zero biases, layers after a dead one.
    #[test]
    fn lanes_decide_as_single_trials() {
        let cases = [
            ("1,3,3,3,3,3,1", "grid:-1,1:64", "torch-default", "default", 40),
            ("2,3,2,3,1", "grid:-1,1:5", "torch-default", "default", 40),
            ("2,70,9,4,1", "uniform:-2,1:37", "he-uniform", "default", 8),
            ("3,5,5,5,5,2", "uniform:0,1:11", "uniform:0.5", "zero", 40),
            ("4,6,7,8,1,4,2", "uniform:-1,1:1", "torch-default", "default", 40),
            ("1,1,1,1,1,1,1,1,1", "grid:-1,1:2", "uniform:1", "default", 40),
        ];
        for (arch, spec, scheme, bias, groups) in cases {
            let arch = Arch::new(arch.split(',').map(|w| w.parse().unwrap()).collect()).unwrap();
            let sampler = InitSampler::new(&arch, &scheme.parse().unwrap(), &bias.parse().unwrap());
            let data = data(spec, &arch);
            let mut sim = Simulator::new(&arch, &sampler, &data);
            let plan = sim.plan().cloned().expect("uniform schemes have a plan");
            let mut lanes = LaneDecider::new(&arch, &plan, &data).expect("bounded");
            let key = key_of(&trial_rng(5, 0));
            let mut words = vec![[0u64; LANES]; plan.draws().div_ceil(8) * 8];
            let mut thetas = vec![[0.0; LANES]; plan.len()];
            let (mut dead, mut alive, mut inactive) = (0, 0, 0);
            for group in (0..groups).map(|g| 1000 + 8 * g) {
                keystreams(&key, &std::array::from_fn(|l| group + l as u64), &mut words);
                plan.fill_lanes(&words, &mut thetas);
                lanes.decide(&thetas);
                for l in 0..LANES {
                    let single = sim.run_trial(5, group + l as u64);
                    assert_eq!(lanes.dead[l], single, "{arch:?} trial {}", group + l as u64);
                    let counts: Vec<usize> =
                        lanes.inactive.iter().map(|n| n[l] as usize).collect();
                    assert_eq!(counts, sim.inactive, "{arch:?} trial {}", group + l as u64);
                    inactive += counts.iter().sum::<usize>();
                    if single {
                        dead += 1;
                    } else {
                        alive += 1;
                    }
                }
            }
            // the cases exercise both outcomes (the wide network is never dead, but has
            // inactive neurons)
            let wide = arch.width(1) > 8;
            assert!(
                (dead > 0 || wide) && alive > 0 && inactive > 0,
                "{arch:?}: {dead} dead, {alive} alive, {inactive} inactive neurons"
            );
        }
    }

    /// Parameters or inputs large enough that a value could overflow: the decider
    /// declines rather than risk `0 * inf` where the generic pass skips the product.
    #[test]
    fn declines_when_values_could_overflow() {
        let arch = Arch::new(vec![1, 4, 4, 1]).unwrap();
        let data = data("grid:-1,1:8", &arch);
        let plan = |c: &str| {
            InitSampler::new(&arch, &c.parse().unwrap(), &"default".parse().unwrap())
                .bulk_plan(arch.num_params())
                .unwrap()
        };
        assert!(LaneDecider::new(&arch, &plan("uniform:1"), &data).is_some());
        assert!(LaneDecider::new(&arch, &plan("uniform:1e200"), &data).is_none());
        let far = data_far(&arch);
        assert!(LaneDecider::new(&arch, &plan("uniform:1"), &far).is_none());
    }

    fn data_far(arch: &Arch) -> Dataset<f64> {
        data("grid:-1e300,1e300:8", arch)
    }
}
