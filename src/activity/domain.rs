//! Activity on an input box `[a,b]^d` (the true-risk setting), decided exactly.
//!
//! - First layer: the closed form of MECHANISM.md, neuron `j` is inactive on the box iff
//!   `B_j + sum_i max(a W_ji, b W_ji) <= 0` ([`first_layer_inactive_on_box`]).
//! - Deeper layers: interval bound propagation (IBP) in exact rational interval
//!   arithmetic ([`ibp_bounds`]) is sound: an upper bound `<= 0` proves a neuron inactive
//!   on the whole box; it is incomplete (it over-approximates).
//! - [`decide_dead_on_box`] first runs the witness search and branch and bound of
//!   [`super::bab`] (LP relaxations, pruning proven by safe dual bounds); what that
//!   leaves undecided on at most [`MAX_DIM`] inputs goes to the two methods below.
//! - Input splitting makes it a decision by splitting the input box: on every
//!   sub-box either IBP proves the layer inactive, or the exact forward pass at the
//!   sub-box's centre finds an active neuron (a *witness*: an exact rational point of the
//!   box, re-checkable by one forward pass), or the sub-box is bisected along its longest
//!   side. The leaves of a `dead` answer cover the box and are each proven by IBP.
//!
//! - When splitting runs out of its budget (it decides every case in which the largest
//!   pre-activation of the layer over the box is not exactly 0, since IBP bounds converge
//!   to the true range as boxes shrink, but not a maximum of exactly 0), the complete
//!   phase method of [`super::phases`] decides, with an exact LP by vertex enumeration.
//!
//! Limits: splitting costs grow like `(1/width)^d`, the phase method's like the number of
//! linear pieces of the network on the box times `C(n, d-1)` exact solves for `n`
//! constraints; both are meant for `d <= 3` (the phase method takes `d <= 4`) and small
//! networks, and both stop at a budget with `unknown` and the reason.

use super::bab::{LpDecision, LpSettings, LpTree, decide_by_lp};
use super::phases::{MAX_DIM, PhaseDecision, PhaseTree, decide_by_phases};
use crate::net::Network;
use crate::scalar::{BigRational, Interval, Scalar};
use num_traits::{Signed, Zero};
use serde_json::{Value, json};

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
    let inet: Network<Interval<BigRational>> = net
        .convert()
        .expect("a rational converts exactly to a point interval");
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

mod filtered_ibp;
pub use filtered_ibp::FilteredIbp;
use filtered_ibp::{first_positive_at, open_neurons};

/// The bisection tree of a proof by input splitting: every leaf box is proven inactive
/// by [`ibp_bounds`].
#[derive(Debug, Clone, PartialEq)]
pub enum SplitTree {
    /// Interval bounds prove every neuron of the layer `<= 0` on this box.
    Leaf,
    /// The box is cut at `x_axis = at` into a low and a high part.
    Split {
        /// Coordinate (0-based).
        axis: usize,
        /// Where.
        at: BigRational,
        /// The part with `x_axis <= at`.
        low: Box<SplitTree>,
        /// The part with `x_axis >= at`.
        high: Box<SplitTree>,
    },
}

impl SplitTree {
    /// Leaf boxes.
    pub fn regions(&self) -> usize {
        match self {
            SplitTree::Leaf => 1,
            SplitTree::Split { low, high, .. } => low.regions() + high.regions(),
        }
    }
}

/// How a `dead` answer is proven.
#[derive(Debug, Clone, PartialEq)]
pub enum DeadProof {
    /// Sub-boxes covering the box, each proven by interval bounds.
    Split(SplitTree),
    /// Phase regions covering the box, each proven by an exact LP (vertex enumeration).
    Phases(PhaseTree),
    /// Branch and bound over phases, each node's LP bound proven by dual multipliers
    /// ([`super::bab`]).
    Lp(LpTree),
}

impl DeadProof {
    /// The method's name (as in certificates).
    pub fn method(&self) -> &'static str {
        match self {
            DeadProof::Split(_) => "input-splitting",
            DeadProof::Phases(_) => "phase-branching",
            DeadProof::Lp(_) => "lp-branching",
        }
    }
    /// Regions of the proof (leaf boxes or phase regions).
    pub fn regions(&self) -> usize {
        match self {
            DeadProof::Split(t) => t.regions(),
            DeadProof::Phases(t) => t.regions(),
            DeadProof::Lp(t) => t.regions(),
        }
    }
    /// The proof as JSON: `{"method", "regions", "tree"}` with the tree as a flat list in
    /// prefix order (so any depth parses): for input splitting `{"split": [axis, "at"]}`
    /// (followed by the low then the high part) or `"ibp"`; for phase branching
    /// `{"branch": [layer, neuron]}` (followed by the inactive then the active part) or
    /// `"forced"`.
    pub fn to_json(&self) -> Value {
        let mut nodes = Vec::new();
        match self {
            DeadProof::Split(t) => flatten_split(t, &mut nodes),
            DeadProof::Phases(t) => flatten_phases(t, &mut nodes),
            DeadProof::Lp(t) => t.flatten(&mut nodes),
        }
        json!({"method": self.method(), "regions": self.regions(), "tree": nodes})
    }
}

fn flatten_split(t: &SplitTree, out: &mut Vec<Value>) {
    match t {
        SplitTree::Leaf => out.push(json!("ibp")),
        SplitTree::Split {
            axis,
            at,
            low,
            high,
        } => {
            out.push(json!({"split": [axis, crate::scalar::rational_string(at)]}));
            flatten_split(low, out);
            flatten_split(high, out);
        }
    }
}

fn flatten_phases(t: &PhaseTree, out: &mut Vec<Value>) {
    match t {
        PhaseTree::Leaf => out.push(json!("forced")),
        PhaseTree::Branch {
            layer,
            neuron,
            inactive,
            active,
        } => {
            out.push(json!({"branch": [layer, neuron]}));
            flatten_phases(inactive, out);
            flatten_phases(active, out);
        }
    }
}

/// The answer of [`decide_dead_on_box`].
#[derive(Debug, Clone, PartialEq)]
pub enum BoxDecision {
    /// Every neuron of the layer is inactive on the whole box.
    Dead {
        /// The proof.
        proof: DeadProof,
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

/// Most sub-boxes input splitting explores before the phase method takes over.
pub const SPLIT_BUDGET: usize = 1024;

/// Deepest nesting of bisections (keeps the recursion and the proof shallow).
const MAX_SPLIT_DEPTH: usize = 96;

enum SplitStop {
    Alive(Vec<BigRational>, usize, BigRational),
    Budget,
}

/// The state of one input-splitting search.
struct SplitContext<'a> {
    filter: &'a FilteredIbp,
    explored: usize,
    budget: usize,
    fallbacks: usize,
}

fn split_search(
    net: &Network<BigRational>,
    k: usize,
    current: InputBox,
    depth: usize,
    ctx: &mut SplitContext<'_>,
) -> Result<SplitTree, SplitStop> {
    crate::cancel::point();
    ctx.explored += 1;
    if ctx.explored > ctx.budget || depth > MAX_SPLIT_DEPTH {
        return Err(SplitStop::Budget);
    }
    let open = open_neurons(net, ctx.filter, &current, k, &mut ctx.fallbacks);
    if open.is_empty() {
        return Ok(SplitTree::Leaf);
    }
    let point = centre(&current);
    if let Some((j, value)) =
        first_positive_at(net, ctx.filter, &point, &open, k, &mut ctx.fallbacks)
    {
        return Err(SplitStop::Alive(point, j, value));
    }
    let axis = (0..current.len())
        .max_by(|&x, &y| (&current[x].1 - &current[x].0).cmp(&(&current[y].1 - &current[y].0)))
        .unwrap_or(0);
    if (&current[axis].1 - &current[axis].0).is_zero() {
        // a single point where nothing is active, yet IBP (exact on a point) disagrees:
        // cannot happen; give up rather than claim anything
        return Err(SplitStop::Budget);
    }
    let at = (&current[axis].0 + &current[axis].1) / BigRational::from_integer(2.into());
    let mut left = current.clone();
    let mut right = current;
    left[axis].1 = at.clone();
    right[axis].0 = at.clone();
    let low = split_search(net, k, left, depth + 1, ctx)?;
    let high = split_search(net, k, right, depth + 1, ctx)?;
    Ok(SplitTree::Split {
        axis,
        at,
        low: Box::new(low),
        high: Box::new(high),
    })
}

/// Decides whether hidden layer `k` is dead on `region` (see the module docs): the
/// witness search and branch and bound of [`super::bab`] on at most `budget` nodes;
/// if that does not decide and the box has at most [`MAX_DIM`] inputs, input splitting
/// with interval bounds on at most `min(budget, SPLIT_BUDGET)` sub-boxes, then the
/// complete phase method on at most `budget` regions.
pub fn decide_dead_on_box(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
) -> BoxDecision {
    decide_dead_on_box_with(net, k, region, budget, None).0
}

/// [`decide_dead_on_box`], reporting the branch-and-bound nodes visited to `progress`,
/// and the number of decisions the `f64` filter of input splitting left to exact
/// arithmetic (sub-boxes whose exact interval bounds were needed, centres whose exact
/// forward pass was needed; 0 when branch and bound decides).
pub fn decide_dead_on_box_with(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
    progress: Option<&dyn Fn(usize)>,
) -> (BoxDecision, usize) {
    let settings = LpSettings {
        budget,
        seed: k as u64,
        progress,
        input_splits: true,
    };
    let lp_reason = match decide_by_lp(net, k, region, settings).0 {
        LpDecision::Dead(tree) => {
            return (
                BoxDecision::Dead {
                    proof: DeadProof::Lp(tree),
                },
                0,
            );
        }
        LpDecision::Alive {
            witness,
            neuron,
            value,
        } => {
            return (
                BoxDecision::Alive {
                    witness,
                    neuron,
                    value,
                },
                0,
            );
        }
        LpDecision::Unknown(why) => why,
    };
    if net.arch().inputs() > MAX_DIM {
        return (BoxDecision::Unknown { reason: lp_reason }, 0);
    }
    let (decision, fallbacks) =
        decide_by_splitting(net, k, region, budget, FilteredIbp::new(net, k));
    let decision = match decision {
        BoxDecision::Unknown { reason } => BoxDecision::Unknown {
            reason: format!("{lp_reason}; {reason}"),
        },
        other => other,
    };
    (decision, fallbacks)
}

/// Input splitting with interval bounds, then the phase method, without branch and
/// bound: with `filtered`, interval signs come from the `f64` filter with an exact
/// fallback (the number of fallbacks is returned); without, every sign is decided in
/// exact rationals. Both give the same decision and proof (tested), which is what this
/// entry point is for; [`decide_dead_on_box`] is the one to use.
pub fn decide_dead_on_box_by_splitting(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
    filtered: bool,
) -> (BoxDecision, usize) {
    let mut filter = FilteredIbp::new(net, k);
    filter.enabled = filtered;
    decide_by_splitting(net, k, region, budget, filter)
}

fn decide_by_splitting(
    net: &Network<BigRational>,
    k: usize,
    region: &InputBox,
    budget: usize,
    filter: FilteredIbp,
) -> (BoxDecision, usize) {
    let mut ctx = SplitContext {
        filter: &filter,
        explored: 0,
        budget: budget.min(SPLIT_BUDGET),
        fallbacks: 0,
    };
    match split_search(net, k, region.clone(), 0, &mut ctx) {
        Ok(tree) => {
            return (
                BoxDecision::Dead {
                    proof: DeadProof::Split(tree),
                },
                ctx.fallbacks,
            );
        }
        Err(SplitStop::Alive(witness, neuron, value)) => {
            return (
                BoxDecision::Alive {
                    witness,
                    neuron,
                    value,
                },
                ctx.fallbacks,
            );
        }
        Err(SplitStop::Budget) => {}
    }
    let (explored, fallbacks) = (ctx.explored, ctx.fallbacks);
    let decision = match decide_by_phases(net, k, region, budget) {
        PhaseDecision::Dead(tree) => BoxDecision::Dead {
            proof: DeadProof::Phases(tree),
        },
        PhaseDecision::Alive {
            witness,
            neuron,
            value,
        } => BoxDecision::Alive {
            witness,
            neuron,
            value,
        },
        PhaseDecision::Unknown(why) => BoxDecision::Unknown {
            reason: format!(
                "input splitting used {explored} sub-boxes without a decision (the largest pre-activation may be exactly 0 on the box), and then: {why}"
            ),
        },
    };
    (decision, fallbacks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;

    use crate::scalar::q;

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
        for (j, bound) in bounds[0].iter().enumerate() {
            assert_eq!(
                first_layer_inactive_on_box(&net, j, &a, &b),
                !bound.hi().is_positive(),
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
            BoxDecision::Dead { proof } => assert!(proof.regions() >= 1),
            other => panic!("{other:?}"),
        }
    }
}
