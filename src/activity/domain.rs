//! Activity on an input box `[a,b]^d` (the true-risk setting), decided exactly.
//!
//! - First layer: the closed form of MECHANISM.md, neuron `j` is inactive on the box iff
//!   `B_j + sum_i max(a W_ji, b W_ji) <= 0` ([`first_layer_inactive_on_box`]).
//! - Deeper layers: interval bound propagation (IBP) in exact rational interval
//!   arithmetic ([`ibp_bounds`]) is sound: an upper bound `<= 0` proves a neuron inactive
//!   on the whole box; it is incomplete (it over-approximates).
//! - [`decide_dead_on_box`] makes it a decision by splitting the input box: on every
//!   sub-box either IBP proves the layer inactive, or the exact forward pass at the
//!   sub-box's centre finds an active neuron (a *witness*: an exact rational point of the
//!   box, re-checkable by one forward pass), or the sub-box is bisected along its longest
//!   side. The leaves of a `dead` answer cover the box and are each proven by IBP.
//!
//! Limits: splitting decides every case in which the largest pre-activation of the layer
//! over the box is not exactly 0 (IBP bounds converge to the true range as boxes
//! shrink); when the maximum is exactly 0 (a tie on the boundary of activity) it may not
//! terminate, and the budget of boxes turns the answer into `unknown` with that reason.
//! The cost grows like `(1/width)^d`: meant for `d <= 3` and small networks.

use crate::net::Network;
use crate::scalar::{BigRational, Interval, Scalar, Sign};
use num_traits::{Signed, Zero};

/// An axis-aligned box: `(lo, hi)` per input coordinate.
pub type InputBox = Vec<(BigRational, BigRational)>;

/// The cube `[a,b]^d`.
pub fn cube(a: &BigRational, b: &BigRational, d: usize) -> InputBox {
    vec![(a.clone(), b.clone()); d]
}

/// The closed-form test of MECHANISM.md for neuron `j` of layer 1 on `[a,b]^d`.
pub fn first_layer_inactive_on_box(
    net: &Network<BigRational>,
    j: usize,
    a: &BigRational,
    b: &BigRational,
) -> bool {
    let arch = net.arch();
    let p = net.params();
    let sup = (0..arch.inputs()).fold(p[arch.bias_index(1, j)].clone(), |acc, i| {
        let w = &p[arch.weight_index(1, j, i)];
        let (x, y) = (a * w, b * w);
        acc + if x > y { x } else { y }
    });
    !sup.is_positive()
}

/// Exact interval bounds of the pre-activations `z_1..z_k` over a box.
pub fn ibp_bounds(
    net: &Network<BigRational>,
    region: &InputBox,
    k: usize,
) -> Vec<Vec<Interval<BigRational>>> {
    let inet: Network<Interval<BigRational>> = net.convert();
    let mut input: Vec<Interval<BigRational>> = region
        .iter()
        .map(|(lo, hi)| Interval::new(lo.clone(), hi.clone()).expect("lo <= hi"))
        .collect();
    let mut out = Vec::with_capacity(k);
    for layer in 1..=k {
        let z = inet.affine(layer, &input);
        input = z.iter().map(Scalar::relu).collect();
        out.push(z);
    }
    out
}

/// The answer of [`decide_dead_on_box`].
#[derive(Debug, Clone, PartialEq)]
pub enum BoxDecision {
    /// Every neuron of the layer is inactive on the whole box: the leaves of the split,
    /// each proven by IBP.
    Dead {
        /// The sub-boxes (they cover the box).
        leaves: Vec<InputBox>,
    },
    /// Some neuron is active at an exact point of the box.
    Alive {
        /// The point.
        witness: Vec<BigRational>,
        /// The active neuron (0-based).
        neuron: usize,
        /// Its pre-activation there (> 0).
        value: BigRational,
    },
    /// The budget ran out.
    Unknown {
        /// Why.
        reason: String,
    },
}

fn centre(region: &InputBox) -> Vec<BigRational> {
    let two = BigRational::from_integer(2.into());
    region.iter().map(|(lo, hi)| (lo + hi) / &two).collect()
}

/// Decides whether hidden layer `k` is dead on `region` (see the module docs), exploring
/// at most `budget` sub-boxes.
pub fn decide_dead_on_box(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
) -> BoxDecision {
    let mut stack = vec![region.clone()];
    let mut leaves = Vec::new();
    let mut explored = 0usize;
    while let Some(current) = stack.pop() {
        explored += 1;
        if explored > budget {
            return BoxDecision::Unknown {
                reason: format!(
                    "{budget} sub-boxes explored without a decision (the largest pre-activation of layer {k} may be exactly 0 on the box, or the network is too large for input splitting)"
                ),
            };
        }
        let bounds = ibp_bounds(net, &current, k);
        let open: Vec<usize> = bounds[k - 1]
            .iter()
            .enumerate()
            .filter(|(_, z)| z.hi().is_positive())
            .map(|(j, _)| j)
            .collect();
        if open.is_empty() {
            leaves.push(current);
            continue;
        }
        let point = centre(&current);
        let pass = net.forward(&point);
        if let Some(&j) = open
            .iter()
            .find(|&&j| pass.pre[k - 1][j].sign() == Sign::Positive)
        {
            return BoxDecision::Alive {
                witness: point,
                neuron: j,
                value: pass.pre[k - 1][j].clone(),
            };
        }
        let axis = (0..current.len())
            .max_by(|&x, &y| (&current[x].1 - &current[x].0).cmp(&(&current[y].1 - &current[y].0)))
            .unwrap_or(0);
        if Zero::is_zero(&(&current[axis].1 - &current[axis].0)) {
            // a single point, and the forward pass there found nothing active: IBP on a
            // point is exact, so this cannot happen; treat it as proven to stay sound
            leaves.push(current);
            continue;
        }
        let mid = (&current[axis].0 + &current[axis].1) / BigRational::from_integer(2.into());
        let mut left = current.clone();
        let mut right = current;
        left[axis].1 = mid.clone();
        right[axis].0 = mid;
        stack.push(right);
        stack.push(left);
    }
    BoxDecision::Dead { leaves }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn closed_form_matches_ibp_on_layer_one() {
        let arch = Arch::new(vec![2, 3, 1]).unwrap();
        let params: Vec<BigRational> = [1, -2, 3, 2, -1, -1, -5, 1, -4, 1, 1, 1, 0]
            .iter()
            .map(|&v| q(v, 2))
            .collect();
        let net = Network::new(arch, params).unwrap();
        let (a, b) = (q(-1, 1), q(1, 1));
        let bounds = ibp_bounds(&net, &cube(&a, &b, 2), 1);
        for j in 0..3 {
            assert_eq!(
                first_layer_inactive_on_box(&net, j, &a, &b),
                !bounds[0][j].hi().is_positive(),
                "neuron {j}"
            );
        }
    }

    #[test]
    fn splitting_finds_witness_ibp_misses() {
        // z2 = relu(x) + relu(-x) - 3/4 = |x| - 3/4: positive near x = +-1, so layer 2 is
        // alive on [-1,1]; IBP on the whole box gives [-3/4, 5/4] (no proof either way)
        let arch = Arch::new(vec![1, 2, 1, 1]).unwrap();
        let params = vec![
            q(1, 1),
            q(-1, 1),
            q(0, 1),
            q(0, 1),
            q(1, 1),
            q(1, 1),
            q(-3, 4),
            q(1, 1),
            q(0, 1),
        ];
        let net = Network::new(arch.clone(), params).unwrap();
        match decide_dead_on_box(&net, 2, &cube(&q(-1, 1), &q(1, 1), 1), 1000) {
            BoxDecision::Alive { witness, value, .. } => {
                assert!(value.is_positive());
                assert!(net.forward(&witness).pre[1][0].is_positive());
            }
            other => panic!("{other:?}"),
        }
        // on [-1/2, 1/2] it is dead (|x| - 3/4 <= -1/4) and splitting proves it
        match decide_dead_on_box(&net, 2, &cube(&q(-1, 2), &q(1, 2), 1), 1000) {
            BoxDecision::Dead { leaves } => assert!(!leaves.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}
