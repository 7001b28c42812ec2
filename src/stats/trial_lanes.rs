//! Eight trials at once: the dead-layer decision with one trial per vector lane.
//!
//! [`super::montecarlo::Simulator`] decides one trial at a time, vectorised over the data
//! points; for the narrow networks this toolkit studies (widths of a few neurons) most of
//! its time goes to per-row set-up, horizontal maxima and branches whose outcome is
//! random. Here the eight trials whose parameters are drawn together (converted in bulk by
//! [`crate::stats::draw_plan::DrawPlan::fill_lanes`] for uniform schemes, drawn lane by lane from
//! eight keystreams for normal ones) stay together: every parameter is a vector of eight
//! lanes, one per
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
//! instead, so the caller decides in lanes only parameters for which [`LaneDecider::safe`]
//! holds: a bound computed from the largest parameter magnitude and the largest input
//! shows that no value can overflow.
//! Tests compare every count with the single-trial path.

use super::simd::simd_dispatch;
use crate::data::Dataset;
use crate::net::Arch;
use crate::stats::lanes::LANES;

/// One value in each of the eight lanes.
type Lanes = [f64; LANES];

/// Decides eight trials at once (see the module docs).
pub struct LaneDecider {
    /// Per hidden layer: rows, columns, offset of its weights in theta.
    layers: Vec<(usize, usize, usize)>,
    /// Points, and how many go through the layers together (a tile: the activations of
    /// a tile stay in the processor's cache whatever the number of points).
    m: usize,
    tile: usize,
    /// Inputs, point-major (`xs[p * d + i]`), the same in every lane, and their largest
    /// magnitude.
    xs: Vec<Lanes>,
    x_abs: f64,
    /// Entries of theta up to the last hidden layer.
    params: usize,
    /// Activations of the tile, point-major, before and after the current layer.
    cur: Vec<Lanes>,
    next: Vec<Lanes>,
    /// Per hidden neuron (layer by layer), its largest pre-activation so far.
    top: Vec<Lanes>,
    /// `inactive[k - 1][l]`: inactive neurons of hidden layer `k` in lane `l` after
    /// [`LaneDecider::decide`].
    pub inactive: Vec<[u32; LANES]>,
    /// Whether some hidden layer of lane `l` is dead.
    pub dead: [bool; LANES],
}

impl LaneDecider {
    /// Prepares the decider for `data` (`None` when it has no point).
    pub fn new(arch: &Arch, data: &Dataset<f64>) -> Option<Self> {
        let (m, d) = (data.len(), data.inputs());
        if m == 0 {
            return None;
        }
        let hidden: Vec<usize> = arch.hidden_layers().collect();
        let mut xs = Vec::with_capacity(m * d);
        let mut x_abs = 0.0f64;
        for p in 0..m {
            for &v in data.x(p) {
                xs.push([v; LANES]);
                x_abs = x_abs.max(v.abs());
            }
        }
        let widest = hidden.iter().map(|&k| arch.width(k)).max().unwrap_or(0);
        // about 128 KiB of activations per buffer
        let tile = (TILE_VALUES / widest.max(1)).max(4).min(m);
        Some(Self {
            layers: hidden
                .iter()
                .map(|&k| (arch.width(k), arch.width(k - 1), arch.layer_offset(k)))
                .collect(),
            m,
            tile,
            x_abs,
            params: hidden
                .iter()
                .map(|&k| arch.width(k) * (arch.width(k - 1) + 1))
                .sum(),
            xs,
            cur: vec![[0.0; LANES]; tile * widest],
            next: vec![[0.0; LANES]; tile * widest],
            top: vec![[0.0; LANES]; hidden.iter().map(|&k| arch.width(k)).sum()],
            inactive: vec![[0; LANES]; hidden.len()],
            dead: [false; LANES],
        })
    }

    /// Entries of theta the decision reads (up to the last hidden layer).
    pub fn params(&self) -> usize {
        self.params
    }

    /// Whether no value can overflow when no parameter exceeds `max_abs` in magnitude,
    /// by the a-priori bound of [`crate::net::batch::a_priori`] (the inputs taken as
    /// exact); decide only such parameters. Returns that bound's rounding errors per
    /// hidden layer for [`LaneDecider::settled`].
    pub fn safe(&self, max_abs: f64) -> Option<Vec<f64>> {
        let fan_ins = self.layers.iter().map(|&(_, cols, _)| cols);
        crate::net::batch::a_priori(fan_ins, max_abs, self.x_abs, true)
    }

    /// Whether the a-priori bound `errors` (from [`LaneDecider::safe`]) settles every
    /// hidden neuron of lane `l` in the last
    /// decision (see [`crate::stats::montecarlo::near_ties`]): then its float decision is
    /// the exact one.
    #[inline(never)]
    pub fn settled(&self, l: usize, errors: &[f64]) -> bool {
        use crate::stats::montecarlo::near_ties::top_settled;
        let mut tops = &self.top[..];
        self.layers.iter().zip(errors).all(|(&(rows, _, _), &e)| {
            let (top, rest) = tops.split_at(rows);
            tops = rest;
            top.iter().all(|t| top_settled(t[l], e))
        })
    }

    /// Decides the eight trials whose parameters are `thetas` (entry `e` of lane `l` is
    /// `thetas[e][l]`); the results are in [`LaneDecider::inactive`] and
    /// [`LaneDecider::dead`].
    pub fn decide(&mut self, thetas: &[Lanes]) {
        assert!(
            thetas.len() >= self.params,
            "theta up to the last hidden layer"
        );
        decide(self, thetas)
    }

    #[inline(always)]
    fn decide_generic(&mut self, thetas: &[Lanes]) {
        let (m, tile, d) = (self.m, self.tile, self.xs.len() / self.m);
        let last = self.layers.len();
        self.top.fill([f64::NEG_INFINITY; LANES]);
        // layer by layer over a tile of points, tile after tile: a point's pre-activations
        // do not depend on the other points, and each neuron's largest pre-activation
        // is carried over from tile to tile
        for start in (0..m).step_by(tile) {
            let points = tile.min(m - start);
            let mut tops = &mut self.top[..];
            for (idx, &(rows, cols, off)) in self.layers.iter().enumerate() {
                let w = &thetas[off..off + rows * cols];
                let b = &thetas[off + rows * cols..off + rows * (cols + 1)];
                let input = if idx == 0 {
                    &self.xs[start * d..(start + points) * d]
                } else {
                    &self.cur[..points * cols]
                };
                let out = &mut self.next[..points * rows];
                let (top, rest) = tops.split_at_mut(rows);
                tops = rest;
                // the last hidden layer's rows are not read again
                let keep = idx + 1 < last;
                macro_rules! fixed {
                    ($c:literal) => {
                        if keep {
                            layer_fixed::<$c, true>(w, b, input, out, top)
                        } else {
                            layer_fixed::<$c, false>(w, b, input, out, top)
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
                    _ => layer_any(w, b, cols, input, out, keep, top),
                }
                std::mem::swap(&mut self.cur, &mut self.next);
            }
        }
        self.dead = [false; LANES];
        let mut tops = &self.top[..];
        for (&(rows, _, _), inactive) in self.layers.iter().zip(&mut self.inactive) {
            let (top, rest) = tops.split_at(rows);
            tops = rest;
            *inactive = [0; LANES];
            // inactive: no positive pre-activation at any point
            for t in top {
                for (n, v) in inactive.iter_mut().zip(t) {
                    *n += 1 - (*v > 0.0) as u32;
                }
            }
            for (dead, n) in self.dead.iter_mut().zip(inactive.iter()) {
                *dead |= *n as usize == rows;
            }
        }
    }
}

/// Activations per buffer in a tile (8 lanes of 8 bytes each: 128 KiB).
const TILE_VALUES: usize = 2048;

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
    // a plain loop, not `std::array::from_fn`: whether that helper is inlined depends on
    // how the crate is cut into codegen units, and when it was, LLVM stopped vectorizing
    // the whole kernel (measured: 3x slower)
    let mut r = [0.0; LANES];
    for l in 0..LANES {
        r[l] = if z[l] > 0.0 { z[l] } else { 0.0 };
    }
    r
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
/// input[p * C + i])` (written only when `KEEP`), raising `top[j]` to row `j`'s largest
/// pre-activation.
#[inline(always)]
fn layer_fixed<const C: usize, const KEEP: bool>(
    w: &[Lanes],
    b: &[Lanes],
    input: &[Lanes],
    out: &mut [Lanes],
    top: &mut [Lanes],
) {
    let rows = b.len();
    for (j, bj) in b.iter().enumerate() {
        let mut wj: [Lanes; C] = [[0.0; LANES]; C];
        wj.copy_from_slice(&w[j * C..(j + 1) * C]);
        // two running maxima, of the even and the odd points, so that consecutive points
        // do not wait on each other's maximum (no closure here: it would not inherit the
        // caller's target features)
        let (mut even, mut odd) = (top[j], [f64::NEG_INFINITY; LANES]);
        let pairs = input.chunks_exact(2 * C);
        let rest = pairs.remainder();
        for (q, x) in pairs.enumerate() {
            let (z0, z1) = (pre::<C>(bj, &wj, &x[..C]), pre::<C>(bj, &wj, &x[C..]));
            max_into(&mut even, &z0);
            max_into(&mut odd, &z1);
            if KEEP {
                out[2 * q * rows + j] = relu(&z0);
                out[(2 * q + 1) * rows + j] = relu(&z1);
            }
        }
        if !rest.is_empty() {
            let z = pre::<C>(bj, &wj, rest);
            max_into(&mut even, &z);
            if KEEP {
                out[(input.len() / C - 1) * rows + j] = relu(&z);
            }
        }
        max_into(&mut even, &odd);
        top[j] = even;
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
    top: &mut [Lanes],
) {
    let rows = b.len();
    let points = input.len() / cols;
    for (j, bj) in b.iter().enumerate() {
        let wj = &w[j * cols..(j + 1) * cols];
        let mut largest = top[j];
        // four points at a time: four independent chains of additions instead of one
        // long chain per point
        let mut p = 0;
        while p < points {
            let block = (points - p).min(4);
            let xs: [&[Lanes]; 4] =
                std::array::from_fn(|q| &input[(p + q.min(block - 1)) * cols..][..cols]);
            let mut z = [*bj; 4];
            for (i, wi) in wj.iter().enumerate() {
                for q in 0..4 {
                    for l in 0..LANES {
                        z[q][l] += wi[l] * xs[q][i][l];
                    }
                }
            }
            for (q, zq) in z.iter().enumerate().take(block) {
                max_into(&mut largest, zq);
                if keep {
                    out[(p + q) * rows + j] = relu(zq);
                }
            }
            p += block;
        }
        top[j] = largest;
    }
}

simd_dispatch! {
    /// [`LaneDecider::decide_generic`] compiled for the vector units the processor has.
    fn decide(lanes: &mut LaneDecider, thetas: &[Lanes]) = LaneDecider::decide_generic;
    decide_avx512: ["avx512f"],
    decide_avx2: ["avx2"],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSpec, Target};
    use crate::net::init::{InitSampler, trial_rng};
    use crate::stats::lanes::{key_of, keystreams};
    use crate::stats::montecarlo::Simulator;

    fn data(spec: &str, arch: &Arch) -> Dataset<f64> {
        spec.parse::<DataSpec>()
            .unwrap()
            .build(arch.width(0), arch.width(arch.depth()), &Target::Abs, 3)
            .unwrap()
            .convert()
            .unwrap()
    }

    /// Every lane decides exactly as the single-trial simulator (itself tested against
    /// the generic activity code), in every compiled variant: fan-ins 1 to 8 and beyond (the generic kernel), odd
    /// numbers of points (the unpaired last point), zero biases, layers after a dead one.
    #[test]
    fn lanes_decide_as_single_trials() {
        let cases = [
            (
                "1,3,3,3,3,3,1",
                "grid:-1,1:64",
                "torch-default",
                "default",
                40,
            ),
            ("2,3,2,3,1", "grid:-1,1:5", "torch-default", "default", 40),
            ("2,70,9,4,1", "uniform:-2,1:37", "he-uniform", "default", 8),
            ("3,5,5,5,5,2", "uniform:0,1:11", "uniform:0.5", "zero", 40),
            (
                "4,6,7,8,1,4,2",
                "uniform:-1,1:1",
                "torch-default",
                "default",
                40,
            ),
            (
                "1,1,1,1,1,1,1,1,1",
                "grid:-1,1:2",
                "uniform:1",
                "default",
                40,
            ),
            // more than eight inputs, and a wide fan-in with fewer points than a block
            ("10,4,3,1", "uniform:-1,1:7", "torch-default", "default", 40),
            (
                "2,12,9,3,1",
                "uniform:-1,1:2",
                "torch-default",
                "default",
                40,
            ),
        ];
        for (arch, spec, scheme, bias, groups) in cases {
            let arch = Arch::new(arch.split(',').map(|w| w.parse().unwrap()).collect()).unwrap();
            let sampler = InitSampler::new(&arch, &scheme.parse().unwrap(), &bias.parse().unwrap());
            let data = data(spec, &arch);
            let mut sim = Simulator::new(&arch, &sampler, &data);
            let plan = sim.plan().cloned().expect("uniform schemes have a plan");
            let mut lanes = LaneDecider::new(&arch, &data).unwrap();
            assert!(lanes.safe(plan.max_abs()).is_some());
            let key = key_of(&trial_rng(5, 0));
            let mut words = vec![[0u64; LANES]; plan.draws().div_ceil(8) * 8];
            let mut thetas = vec![[0.0; LANES]; plan.len()];
            let (mut dead, mut alive, mut inactive) = (0, 0, 0);
            for group in (0..groups).map(|g| 1000 + 8 * g) {
                keystreams(&key, &std::array::from_fn(|l| group + l as u64), &mut words);
                plan.fill_lanes(&words, &mut thetas);
                // every compiled variant decides alike
                lanes.decide_generic(&thetas);
                let generic = (lanes.dead, lanes.inactive.clone());
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the processor supports AVX2, checked just above.
                    unsafe { decide_avx2(&mut lanes, &thetas) };
                    assert_eq!((lanes.dead, lanes.inactive.clone()), generic);
                }
                lanes.decide(&thetas);
                assert_eq!((lanes.dead, lanes.inactive.clone()), generic);
                for l in 0..LANES {
                    let single = sim.run_trial(5, group + l as u64);
                    assert_eq!(lanes.dead[l], single, "{arch:?} trial {}", group + l as u64);
                    let counts: Vec<usize> = lanes.inactive.iter().map(|n| n[l] as usize).collect();
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
            let wide = arch.width(1) > 20;
            assert!(
                (dead > 0 || wide) && alive > 0 && inactive > 0,
                "{arch:?}: {dead} dead, {alive} alive, {inactive} inactive neurons"
            );
        }
    }

    /// Parameters or inputs large enough that a value could overflow are not safe for
    /// the lanes (the generic pass would skip a product `0 * inf` that a lane computes).
    #[test]
    fn unsafe_when_values_could_overflow() {
        let arch = Arch::new(vec![1, 4, 4, 1]).unwrap();
        let plan = |c: &str| {
            let sampler = InitSampler::new(&arch, &c.parse().unwrap(), &"default".parse().unwrap());
            crate::stats::draw_plan::DrawPlan::new(&sampler, arch.num_params())
                .unwrap()
                .max_abs()
        };
        assert_eq!(plan("uniform:0.5"), 0.5);
        let lanes = LaneDecider::new(&arch, &data("grid:-1,1:8", &arch)).unwrap();
        assert!(lanes.safe(plan("uniform:1")).is_some());
        assert!(lanes.safe(plan("uniform:1e200")).is_none());
        let far = LaneDecider::new(&arch, &data_far(&arch)).unwrap();
        assert!(far.safe(plan("uniform:1")).is_none());
    }

    fn data_far(arch: &Arch) -> Dataset<f64> {
        data("grid:-1e300,1e300:8", arch)
    }
}
