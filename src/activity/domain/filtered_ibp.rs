//! The `f64` filter of [`super::ibp_bounds`] ([`FilteredIbp`]) and the two questions input
//! splitting asks it: which neurons stay open on a sub-box, which is positive at a point.

use super::*;
use crate::scalar::{F64Interval, Sign};

/// One layer in `f64`: rows, columns, weight enclosures, exact weight signs, bias enclosures.
type FloatLayer = (usize, usize, Vec<F64Interval>, Vec<i8>, Vec<F64Interval>);

/// The `f64` filter of [`ibp_bounds`]: enclosures, in outward-rounded `f64`
/// ([`F64Interval`]), of the *endpoints* that [`ibp_bounds`] computes.
///
/// Soundness. Exact interval arithmetic keeps an endpoint exact until it exceeds
/// [`crate::prec::ENCLOSURE_MAX_BITS`] bits and then rounds it outward to the
/// `2^-DEFAULT_PREC` grid, by less than `2^-DEFAULT_PREC`; an affine neuron of `n`
/// inputs is `n` products and `n` sums, so its computed upper endpoint lies in
/// `[u, u + 2n 2^-DEFAULT_PREC]` where `u` is the exact interval arithmetic of the
/// previous layer's computed endpoints (and symmetrically for the lower one). With
/// enclosures `EL`, `EH` of the previous layer's computed endpoints, the sums
/// `B + sum_{w > 0} W EH_i + sum_{w < 0} W EL_i` (the sign of each exact weight is
/// known) in [`F64Interval`] enclose `u`; widening the upper end by `(2n + 2) 2^-96`
/// encloses the computed endpoint. ReLU is monotone, so `ReLU(EL)`, `ReLU(EH)` enclose
/// the next inputs. A sign of the computed upper endpoint that this enclosure settles is
/// the sign [`ibp_bounds`] finds.
pub struct FilteredIbp {
    layers: Vec<FloatLayer>,
    /// `false`: every sign is left to exact arithmetic (the pure rational path).
    pub(super) enabled: bool,
}

/// How one filtered upper endpoint compares with 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upper {
    Positive,
    NonPositive,
    Undecided,
}

impl FilteredIbp {
    /// The `f64` image of layers `1..=k` of `net`.
    pub fn new(net: &Network<BigRational>, k: usize) -> Self {
        let arch = net.arch();
        let p = net.params();
        let layers = (1..=k)
            .map(|l| {
                let (rows, cols) = (arch.width(l), arch.width(l - 1));
                let range = arch.layer_range(l);
                let (w, b) = p[range].split_at(rows * cols);
                let sign = w
                    .iter()
                    .map(|v| match v.sign() {
                        Sign::Positive => 1,
                        Sign::Negative => -1,
                        _ => 0,
                    })
                    .collect();
                (
                    rows,
                    cols,
                    w.iter().map(F64Interval::from_rational).collect(),
                    sign,
                    b.iter().map(F64Interval::from_rational).collect(),
                )
            })
            .collect();
        Self {
            layers,
            enabled: true,
        }
    }

    /// The upper endpoints of layer `k` over `region` (a box, or a point when
    /// `lo == hi`), as far as the filter settles their signs.
    fn uppers(&self, region: &[(BigRational, BigRational)]) -> Vec<Upper> {
        if !self.enabled {
            let width = self.layers.last().map_or(0, |l| l.0);
            return vec![Upper::Undecided; width];
        }
        let grid = f64::from_bits((1023 - crate::scalar::DEFAULT_PREC as u64) << 52);
        let mut lo: Vec<F64Interval> = region
            .iter()
            .map(|(a, _)| F64Interval::from_rational(a))
            .collect();
        let mut hi: Vec<F64Interval> = region
            .iter()
            .map(|(_, b)| F64Interval::from_rational(b))
            .collect();
        let mut out = Vec::new();
        for (li, (rows, cols, w, sign, b)) in self.layers.iter().enumerate() {
            let slack = F64Interval::new(
                -((2 * cols + 2) as f64 * grid),
                (2 * cols + 2) as f64 * grid,
            )
            .expect("lo <= hi");
            let (mut next_lo, mut next_hi) = (Vec::with_capacity(*rows), Vec::with_capacity(*rows));
            for j in 0..*rows {
                let (mut zl, mut zh) = (b[j], b[j]);
                for i in 0..*cols {
                    let (s, wv) = (sign[j * cols + i], &w[j * cols + i]);
                    if s > 0 {
                        zl = zl.add_ref(&wv.mul_ref(&lo[i]));
                        zh = zh.add_ref(&wv.mul_ref(&hi[i]));
                    } else if s < 0 {
                        zl = zl.add_ref(&wv.mul_ref(&hi[i]));
                        zh = zh.add_ref(&wv.mul_ref(&lo[i]));
                    }
                }
                let zl = F64Interval::new(zl.add_ref(&slack).lo(), zl.hi()).expect("lo <= hi");
                let zh = F64Interval::new(zh.lo(), zh.add_ref(&slack).hi()).expect("lo <= hi");
                if li + 1 == self.layers.len() {
                    out.push(if zh.lo() > 0.0 {
                        Upper::Positive
                    } else if zh.hi() <= 0.0 {
                        Upper::NonPositive
                    } else {
                        Upper::Undecided
                    });
                }
                next_lo.push(zl.relu());
                next_hi.push(zh.relu());
            }
            (lo, hi) = (next_lo, next_hi);
        }
        out
    }
}

/// The neurons of layer `k` whose [`ibp_bounds`] upper bound over `region` is positive,
/// decided by the filter, with the exact bounds where it does not settle one; counts the
/// boxes that needed them in `fallbacks`.
pub(super) fn open_neurons(
    net: &Network<BigRational>,
    filter: &FilteredIbp,
    region: &InputBox,
    k: usize,
    fallbacks: &mut usize,
) -> Vec<usize> {
    let uppers = filter.uppers(region);
    if uppers.contains(&Upper::Undecided) {
        *fallbacks += 1;
        let bounds = ibp_bounds(net, region, k);
        return bounds[k - 1]
            .iter()
            .enumerate()
            .filter(|(_, z)| z.hi().is_positive())
            .map(|(j, _)| j)
            .collect();
    }
    uppers
        .iter()
        .enumerate()
        .filter(|(_, u)| **u == Upper::Positive)
        .map(|(j, _)| j)
        .collect()
}

/// The first of `open` (in order) whose exact pre-activation of layer `k` at `point` is
/// positive, with that value: the filter on the point box, the exact forward pass where
/// it does not settle a sign (counted in `fallbacks`) and for the value.
pub(super) fn first_positive_at(
    net: &Network<BigRational>,
    filter: &FilteredIbp,
    point: &[BigRational],
    open: &[usize],
    k: usize,
    fallbacks: &mut usize,
) -> Option<(usize, BigRational)> {
    let region: InputBox = point.iter().map(|x| (x.clone(), x.clone())).collect();
    let uppers = filter.uppers(&region);
    let mut exact: Option<Vec<BigRational>> = None;
    for &j in open {
        let positive = match uppers[j] {
            Upper::Positive => true,
            Upper::NonPositive => false,
            Upper::Undecided => {
                if exact.is_none() {
                    *fallbacks += 1;
                }
                let z = exact.get_or_insert_with(|| net.forward(point).pre[k - 1].clone());
                z[j].sign() == Sign::Positive
            }
        };
        if positive {
            let z = exact.unwrap_or_else(|| net.forward(point).pre[k - 1].clone());
            return Some((j, z[j].clone()));
        }
    }
    None
}
