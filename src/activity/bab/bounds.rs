//! Exact-enclosure bounds of a node: the network and the box as outward `f64` enclosures
//! ([`FloatNet`]) and the interval bounds of every neuron under fixed phases ([`node_bounds`]).

use super::*;

/// The network's parameters and the box as outward enclosures by doubles.
pub struct FloatNet {
    /// Widths `d, l_1, ..., l_k`.
    pub widths: Vec<usize>,
    /// Per layer `l` (index `l - 1`): `W_l` row-major and `b_l`.
    layers: Vec<(Vec<Iv>, Vec<Iv>)>,
    /// The box.
    pub region: Vec<Iv>,
}

/// The largest magnitude the enclosures accept (leaves room for sums and products).
const MAX_MAGNITUDE: f64 = 1e150;

fn enclose(q: &BigRational) -> Option<Iv> {
    let x = q.to_f64()?;
    (x.is_finite() && x.abs() <= MAX_MAGNITUDE).then(|| Iv::from_rational(q))
}

impl FloatNet {
    /// `None` when a parameter or a bound of the box is outside `[-1e150, 1e150]`.
    pub fn new(
        net: &Network<BigRational>,
        k: usize,
        region: &[(BigRational, BigRational)],
    ) -> Option<Self> {
        let arch = net.arch();
        let p = net.params();
        let widths = arch.widths()[..=k].to_vec();
        let mut layers = Vec::with_capacity(k);
        for l in 1..=k {
            let mut w = Vec::with_capacity(widths[l] * widths[l - 1]);
            let mut b = Vec::with_capacity(widths[l]);
            for j in 0..widths[l] {
                for i in 0..widths[l - 1] {
                    w.push(enclose(&p[arch.weight_index(l, j, i)])?);
                }
                b.push(enclose(&p[arch.bias_index(l, j)])?);
            }
            layers.push((w, b));
        }
        let region = region
            .iter()
            .map(|(lo, hi)| Some(Iv::new(enclose(lo)?.lo, enclose(hi)?.hi)))
            .collect::<Option<_>>()?;
        Some(Self {
            widths,
            layers,
            region,
        })
    }

    /// Whether some neuron of layer `k` may be positive at the point `x` (inside the
    /// box): the forward pass in outward-rounded intervals; `false` proves every
    /// pre-activation of layer `k` `<= 0` there, `true` may be rounding.
    pub fn may_be_positive(&self, k: usize, x: &[BigRational]) -> bool {
        let mut a: Vec<Iv> = x.iter().map(Iv::from_rational).collect();
        for l in 1..=k {
            let z: Vec<Iv> = (0..self.widths[l])
                .map(|n| {
                    let (w, b) = self.row(l, n);
                    w.iter().zip(&a).fold(b, |s, (w, a)| s + *w * *a)
                })
                .collect();
            if l == k {
                return z.iter().any(|z| z.hi > 0.0 || z.hi.is_nan());
            }
            a = z
                .iter()
                .map(|z| Iv::new(z.lo.max(0.0), z.hi.max(0.0)))
                .collect();
        }
        true
    }

    /// Row `n` of layer `l`: its weights and its bias.
    pub fn row(&self, l: usize, n: usize) -> (&[Iv], Iv) {
        let cols = self.widths[l - 1];
        let (w, b) = &self.layers[l - 1];
        (&w[n * cols..(n + 1) * cols], b[n])
    }
}

/// Bounds of the pre-activations of layers `1..=k` on a node.
#[derive(Debug, Clone)]
pub struct NodeBounds {
    /// `(L, U)` per neuron, per layer (index `l - 1`), after the fixings clip them.
    pub z: Vec<Vec<(f64, f64)>>,
}

/// Why a node holds no input: neuron `(layer, neuron)`'s bounds contradict its fixing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contradiction {
    /// Hidden layer.
    pub layer: usize,
    /// Neuron.
    pub neuron: usize,
}

/// Interval bound propagation on a node, outward rounded: `z = W a + b` over intervals;
/// a neuron fixed inactive has `U` clipped to 0 and `a = 0`, one fixed active has `L`
/// clipped to 0 and `a = z`, a free one `a = [max(L,0), max(U,0)]`. `Err` with the first
/// neuron whose fixing contradicts its bounds (`L > 0` for a neuron fixed inactive,
/// `U < 0` for one fixed active: the node holds no input) and the bounds of the layers
/// before it; `Ok(None)` when a bound overflows. With `inherit` (bounds proven on a
/// region containing the node, e.g. the root's [`tighten`]ed ones) each interval is first
/// intersected with the inherited one (an empty intersection becomes the point `U`).
// the loops walk neurons by index across the fixings and the bounds together
#[allow(clippy::needless_range_loop)]
pub fn node_bounds(
    net: &FloatNet,
    k: usize,
    fix: &[Vec<Option<Phase>>],
    inherit: Option<&[Vec<(f64, f64)>]>,
) -> Result<Option<NodeBounds>, (Contradiction, NodeBounds)> {
    let mut input: Vec<Iv> = net.region.clone();
    let mut out: Vec<Vec<(f64, f64)>> = Vec::with_capacity(k);
    for l in 1..=k {
        let mut z = Vec::with_capacity(net.widths[l]);
        for n in 0..net.widths[l] {
            let (w, b) = net.row(l, n);
            let s = w.iter().zip(&input).fold(b, |s, (w, a)| {
                if a.lo == 0.0 && a.hi == 0.0 {
                    s
                } else {
                    s + *w * *a
                }
            });
            let (mut lo, mut hi) = (s.lo, s.hi);
            if !(lo.is_finite() && hi.is_finite()) {
                return Ok(None);
            }
            if let Some(&(plo, phi)) = inherit.and_then(|b| b.get(l - 1)).and_then(|b| b.get(n)) {
                lo = lo.max(plo);
                hi = hi.min(phi);
                if lo > hi {
                    lo = hi;
                }
            }
            if l < k {
                match fix[l - 1][n] {
                    Some(Phase::Inactive) if lo > 0.0 => {
                        return Err((
                            Contradiction {
                                layer: l,
                                neuron: n,
                            },
                            NodeBounds { z: out },
                        ));
                    }
                    Some(Phase::Active) if hi < 0.0 => {
                        return Err((
                            Contradiction {
                                layer: l,
                                neuron: n,
                            },
                            NodeBounds { z: out },
                        ));
                    }
                    Some(Phase::Inactive) => hi = hi.min(0.0),
                    Some(Phase::Active) => lo = lo.max(0.0),
                    None => {}
                }
            }
            z.push((lo, hi));
        }
        if l < k {
            input = z
                .iter()
                .enumerate()
                .map(|(n, &(lo, hi))| match fix[l - 1][n] {
                    Some(Phase::Inactive) => Iv::point(0.0),
                    _ => Iv::new(lo.max(0.0), hi.max(0.0)),
                })
                .collect();
        }
        out.push(z);
    }
    Ok(Some(NodeBounds { z: out }))
}
