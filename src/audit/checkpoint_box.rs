//! Dead for good on a whole input box: `audit --optimizer-state ... --domain box:A,B`.
//!
//! The decision of [`crate::audit::checkpoint`] with the data replaced by the input box
//! `X = [A, B]^d`: layer `k` is certified dead forever on `X` when every pre-activation of
//! layer `k` is `<= 0` for every input in `X` and every parameter in the reachable box `P`
//! of layers `1..k`. The data must lie in `X` (else the box says nothing about training),
//! so the induction of [`crate::audit::checkpoint`] applies: dead on `X` implies dead on
//! the data, hence zero gradient, hence the next step stays in `P`, where the layer is dead
//! on `X` again.
//!
//! # The decision (exact rationals)
//! Interval bound propagation with interval weights *and* interval inputs: a product
//! `w x` with `w in [w_lo, w_hi]`, `x in [x_lo, x_hi]` lies between the least and the
//! greatest of the four corner products, and sums add. For layer 1 this is exact: each
//! `(w_ji, x_i)` pair occurs once in neuron `j`'s pre-activation and the pairs vary
//! independently, so the upper bound `U` is attained at the corner choosing, per `i`, the
//! pair with the largest product (and `b_hi`); `U > 0` is then a witness at once. Deeper
//! layers are over-approximated, so when a bound leaves a sign open the input box is split
//! (bisection of its widest side) and each half decided again, at most `budget` nodes and
//! depth [`MAX_DEPTH`]. At each node with an unsettled neuron a candidate point is tried:
//! the input at the middle of the node (the exact corner for layer 1) and the parameter
//! corner of [`crate::audit::checkpoint`] for that input, evaluated exactly. The verdicts:
//!
//! - `dead-forever-certified`: every leaf of the split tree settles every neuron; the
//!   tree goes into the certificate and the checker re-walks it with its own interval pass;
//! - `may-revive`: an input point of `X` and a parameter point of `P` where a neuron of
//!   layer `k` is positive, exact;
//! - `undecided`: the budget or the depth ran out (only the input box is split; the
//!   parameter box is not, so a layer alive on no corner of `P` but not settled by the
//!   interval bounds stays undecided).

use super::checkpoint::corner;
use crate::net::{Arch, NetError, Network};
use crate::optim::reach::Span;
use crate::scalar::{BigRational, rational_string};
use num_traits::{Signed, Zero};
use serde_json::{Value, json};

/// Deepest split of the input box (the certificate nests one JSON object per level, and
/// JSON readers limit nesting to 128).
pub const MAX_DEPTH: usize = 60;

/// How the input box was split: a leaf, or a cut of side `dim` at `at`.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitTree {
    /// Decided by the interval pass on this sub-box.
    Leaf,
    /// `below`: side `dim` in `[lo, at]`; `above`: in `[at, hi]`.
    Split {
        /// The side cut.
        dim: usize,
        /// Where.
        at: BigRational,
        /// The lower half.
        below: Box<SplitTree>,
        /// The upper half.
        above: Box<SplitTree>,
    },
}

impl SplitTree {
    /// The certificate's form: `null` for a leaf, `{"dim", "at", "below", "above"}`.
    pub fn to_json(&self) -> Value {
        match self {
            SplitTree::Leaf => Value::Null,
            SplitTree::Split {
                dim,
                at,
                below,
                above,
            } => {
                json!({"dim": dim, "at": rational_string(at), "below": below.to_json(), "above": above.to_json()})
            }
        }
    }
}

/// The decision of one layer on the input box.
#[derive(Debug, Clone, PartialEq)]
pub enum BoxRevival {
    /// Dead on the whole input box for every parameter of the reachable box.
    DeadForever {
        /// The proof: the split of the input box whose leaves the interval pass settles.
        tree: SplitTree,
    },
    /// An input and a parameter point of the boxes where the layer is alive.
    MayRevive {
        /// The full parameter vector.
        witness: Vec<BigRational>,
        /// The input point (in the input box).
        input: Vec<BigRational>,
        /// The neuron of layer `k`.
        neuron: usize,
        /// Its pre-activation there (`> 0`).
        value: BigRational,
    },
    /// Budget or depth exhausted.
    Undecided {
        /// Why.
        reason: String,
    },
}

impl BoxRevival {
    /// The JSON name (as for the data).
    pub fn name(&self) -> &'static str {
        match self {
            BoxRevival::DeadForever { .. } => "dead-forever-certified",
            BoxRevival::MayRevive { .. } => "may-revive",
            BoxRevival::Undecided { .. } => "undecided",
        }
    }
}

/// Pre-activation bounds of layer `k` for inputs in `input` and parameters in `boxes`.
pub fn layer_bounds_on(arch: &Arch, boxes: &[Span], input: &[Span], k: usize) -> Vec<Span> {
    let mut act: Vec<Span> = input.to_vec();
    let mut z = Vec::new();
    for l in 1..=k {
        z = (0..arch.width(l))
            .map(|j| {
                let b = &boxes[arch.bias_index(l, j)];
                let (mut lo, mut hi) = (b.lo.clone(), b.hi.clone());
                for (i, a) in act.iter().enumerate() {
                    let w = &boxes[arch.weight_index(l, j, i)];
                    let p = [&w.lo * &a.lo, &w.lo * &a.hi, &w.hi * &a.lo, &w.hi * &a.hi];
                    lo += p.iter().min().expect("four products");
                    hi += p.iter().max().expect("four products");
                }
                Span { lo, hi }
            })
            .collect();
        act = z
            .iter()
            .map(|s| Span {
                lo: s.lo.clone().max(BigRational::zero()),
                hi: s.hi.clone().max(BigRational::zero()),
            })
            .collect();
    }
    z
}

/// The exact pre-activations of layer `k` of `theta` at `x`.
fn preactivations(
    arch: &Arch,
    theta: &[BigRational],
    x: &[BigRational],
    k: usize,
) -> Result<Vec<BigRational>, NetError> {
    let net = Network::new(arch.clone(), theta.to_vec())?;
    let mut a = x.to_vec();
    let mut z = Vec::new();
    for l in 1..=k {
        z = net.affine(l, &a);
        a = z
            .iter()
            .map(|v| v.clone().max(BigRational::zero()))
            .collect();
    }
    Ok(z)
}

/// The candidate `(input, parameters)` for neuron `j` of layer `k` on the sub-box
/// `region` (module docs).
fn candidate(
    arch: &Arch,
    theta: &[BigRational],
    boxes: &[Span],
    region: &[Span],
    k: usize,
    j: usize,
) -> (Vec<BigRational>, Vec<BigRational>) {
    if k == 1 {
        let mut params = theta.to_vec();
        let bi = arch.bias_index(1, j);
        params[bi] = boxes[bi].hi.clone();
        let mut x = Vec::with_capacity(region.len());
        for (i, r) in region.iter().enumerate() {
            let wi = arch.weight_index(1, j, i);
            let w = &boxes[wi];
            let pairs = [
                (&w.lo, &r.lo),
                (&w.lo, &r.hi),
                (&w.hi, &r.lo),
                (&w.hi, &r.hi),
            ];
            let (wb, xb) = pairs
                .iter()
                .max_by(|p, q| (p.0 * p.1).cmp(&(q.0 * q.1)))
                .expect("four pairs");
            params[wi] = (*wb).clone();
            x.push((*xb).clone());
        }
        return (x, params);
    }
    let two = BigRational::from_integer(2.into());
    let x: Vec<BigRational> = region.iter().map(|r| (&r.lo + &r.hi) / &two).collect();
    let params = corner(arch, theta, boxes, &x, k, j);
    (x, params)
}

enum Stop {
    Witness(BoxRevival),
    Out(String),
}

struct Search<'a> {
    arch: &'a Arch,
    theta: &'a [BigRational],
    boxes: &'a [Span],
    k: usize,
    budget: usize,
    nodes: usize,
}

impl Search<'_> {
    fn go(&mut self, region: Vec<Span>, depth: usize) -> Result<Result<SplitTree, Stop>, NetError> {
        self.nodes += 1;
        if self.nodes > self.budget {
            return Ok(Err(Stop::Out(format!(
                "the box budget ({} nodes) ran out before every sub-box of the input box was settled",
                self.budget
            ))));
        }
        let z = layer_bounds_on(self.arch, self.boxes, &region, self.k);
        let open: Vec<usize> = (0..z.len()).filter(|&j| z[j].hi.is_positive()).collect();
        if open.is_empty() {
            return Ok(Ok(SplitTree::Leaf));
        }
        for &j in &open {
            let (x, params) = candidate(self.arch, self.theta, self.boxes, &region, self.k, j);
            let pre = preactivations(self.arch, &params, &x, self.k)?;
            if let Some(n) = pre.iter().position(Signed::is_positive) {
                return Ok(Err(Stop::Witness(BoxRevival::MayRevive {
                    witness: params,
                    input: x,
                    neuron: n,
                    value: pre[n].clone(),
                })));
            }
        }
        if depth >= MAX_DEPTH {
            return Ok(Err(Stop::Out(format!(
                "the input box was split {MAX_DEPTH} times without settling a sub-box"
            ))));
        }
        let dim = (0..region.len())
            .max_by(|&a, &b| region[a].width().cmp(&region[b].width()).then(b.cmp(&a)))
            .expect("at least one input");
        let two = BigRational::from_integer(2.into());
        let at = (&region[dim].lo + &region[dim].hi) / &two;
        if region[dim].width().is_zero() {
            return Ok(Err(Stop::Out(
                "the input box is a point the interval bounds do not settle".into(),
            )));
        }
        let mut low = region.clone();
        low[dim].hi = at.clone();
        let mut high = region;
        high[dim].lo = at.clone();
        let below = match self.go(low, depth + 1)? {
            Ok(t) => t,
            Err(s) => return Ok(Err(s)),
        };
        let above = match self.go(high, depth + 1)? {
            Ok(t) => t,
            Err(s) => return Ok(Err(s)),
        };
        Ok(Ok(SplitTree::Split {
            dim,
            at,
            below: Box::new(below),
            above: Box::new(above),
        }))
    }
}

/// Decides layer `k` of `net` on the input box `[a, b]^d` for every parameter in `boxes`
/// (coordinates of layers `1..k`), exploring at most `budget` nodes. Returns the decision
/// and the nodes explored.
///
/// # Errors
/// [`NetError`] when the boxes do not fit the network.
pub fn decide_on_input_box(
    net: &Network<BigRational>,
    boxes: &[Span],
    a: &BigRational,
    b: &BigRational,
    k: usize,
    budget: usize,
) -> Result<(BoxRevival, usize), NetError> {
    let arch = net.arch();
    let region = vec![Span::hull(a, b); arch.width(0)];
    let mut search = Search {
        arch,
        theta: net.params(),
        boxes,
        k,
        budget: budget.max(1),
        nodes: 0,
    };
    let revival = match search.go(region, 0)? {
        Ok(tree) => BoxRevival::DeadForever { tree },
        Err(Stop::Witness(w)) => w,
        Err(Stop::Out(reason)) => BoxRevival::Undecided { reason },
    };
    Ok((revival, search.nodes))
}
