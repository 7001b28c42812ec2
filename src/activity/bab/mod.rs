//! "Is hidden layer `k` dead on a box?" at verifier scale: a seeded floating-point
//! witness search, then branch and bound over ReLU phases with LP relaxations whose
//! pruning is proven in exact rationals.
//!
//! 1. Witnesses ([`witness`]): projected sign-gradient ascent on `max_j z_{k,j}` from
//!    seeded starts in the box, in `f64`; a candidate counts only after the exact forward
//!    pass (rationals) finds a positive pre-activation there.
//! 2. Branch and bound: a node fixes the phase (inactive `z <= 0` or active `z >= 0`) of
//!    some neurons of layers `< k`. On a node, exact interval bounds ([`node_bounds`])
//!    settle what they can (an empty node, a neuron of layer `k` with upper bound `<= 0`);
//!    for the rest the triangle relaxation ([`lp`]) is solved in floating point by
//!    Clarabel (a well-kept pure-Rust interior-point solver) and its dual multipliers are
//!    turned into an exact bound `<= 0` ([`lp::prove`]). A neuron the bound does not
//!    settle is checked at the LP's maximizer by the exact forward pass (a witness if
//!    positive); otherwise the node is split on its unstable neuron with the largest
//!    triangle (`-L U / (U - L)`), earliest layer first among equals.
//!    Before the LPs, the bounds of layers `2..k-1` are tightened ([`tighten`]: CROWN
//!    back-substitution on every node, the LP too at the root), each tighter bound proven
//!    by multipliers like a neuron of layer `k`; a node's bounds hold on every node below
//!    it, which intersects its own intervals with them. CROWN is also tried on each
//!    neuron of layer `k` before its LP.
//! 3. A node with every phase fixed is one linear piece of the network: its relaxation is
//!    exact, so only an LP maximum of exactly 0 (or float trouble) leaves it open; such
//!    leaves are reported and the caller falls back to the exact phase method
//!    ([`super::phases`], `d <= 4`).
//!
//! Every `dead` answer is a tree of nodes whose leaves carry either "empty" (the node's
//! interval bounds contradict a fixing) or, per neuron of layer `k`, "interval" or exact
//! multipliers: the independent checker re-derives the bounds and the rows and re-checks
//! each inequality (`deadrelu-check`, `boxlp`).

pub mod lp;
pub mod tighten;
pub mod witness;

use crate::net::Network;
use crate::scalar::BigRational;
use crate::scalar::iv::Iv;
use lp::{FloatProblem, Relaxation, RowKind, State};
use num_traits::{Signed, ToPrimitive};
use serde_json::{Value, json};
use tighten::TightProof;

/// A fixed phase of a neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `z <= 0`.
    Inactive,
    /// `z >= 0`.
    Active,
}

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

/// How one neuron of layer `k` is proven `<= 0` on a leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum NeuronProof {
    /// The node's interval upper bound is `<= 0`.
    Interval,
    /// Multipliers of the relaxation's rows: `(kind, layer, neuron, y)`, each `y` a
    /// positive double (an exact dyadic rational).
    Dual(Vec<(RowKind, usize, usize, f64)>),
}

/// A branch-and-bound proof tree. A neuron of layer `k` proven on a node is proven on
/// its whole subtree (the node contains its children), so children prove only the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum LpTree {
    /// No input reaches this node: the bounds of the layers before `at.layer` make the
    /// interval of neuron `at` contradict its fixing.
    Empty {
        /// The contradicting neuron.
        at: Contradiction,
        /// `(L, U)` of the layers before it.
        bounds: Vec<Vec<(f64, f64)>>,
        /// Proofs of the bounds tighter than the intervals (layers before it).
        tight: Vec<TightProof>,
    },
    /// A node that proves some neurons of layer `k`, then ends (every neuron is proven
    /// here or above) or splits.
    Node {
        /// `(L, U)` of every neuron of layers `1..k-1` (the rows are built from them);
        /// empty when the node proves nothing.
        bounds: Vec<Vec<(f64, f64)>>,
        /// `(neuron of layer k, proof)`.
        proofs: Vec<(usize, NeuronProof)>,
        /// Bounds tighter than the intervals, each proven ([`tighten`]); every node below
        /// intersects its intervals with the bounds of the nearest node above it that
        /// states them.
        tight: Vec<TightProof>,
        /// The split below, if any.
        split: Option<Split>,
    },
}

/// A split on a neuron's phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Hidden layer (`< k`).
    pub layer: usize,
    /// Neuron (0-based).
    pub neuron: usize,
    /// The side `z <= 0`.
    pub inactive: Box<LpTree>,
    /// The side `z >= 0`.
    pub active: Box<LpTree>,
}

/// An exact double as text: its exact rational value.
fn exact_text(x: f64) -> String {
    BigRational::from_float(x).map_or_else(|| "nan".into(), |q| crate::scalar::rational_string(&q))
}

fn bounds_json(bounds: &[Vec<(f64, f64)>]) -> Value {
    Value::Array(
        bounds
            .iter()
            .map(|layer| {
                Value::Array(
                    layer
                        .iter()
                        .map(|&(lo, hi)| json!([exact_text(lo), exact_text(hi)]))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn multipliers_json(ys: &[(RowKind, usize, usize, f64)]) -> Value {
    Value::Array(
        ys.iter()
            .map(|(kind, l, n, y)| json!([kind.name(), l, n, exact_text(*y)]))
            .collect(),
    )
}

fn tight_json(tight: &[TightProof]) -> Value {
    Value::Array(
        tight
            .iter()
            .map(|t| {
                json!([
                    t.layer,
                    t.neuron,
                    t.side.name(),
                    multipliers_json(&t.multipliers)
                ])
            })
            .collect(),
    )
}

impl LpTree {
    /// Leaves.
    pub fn regions(&self) -> usize {
        match self {
            LpTree::Empty { .. } | LpTree::Node { split: None, .. } => 1,
            LpTree::Node { split: Some(s), .. } => s.inactive.regions() + s.active.regions(),
        }
    }

    /// The tree in prefix order (as in certificates). A node is
    /// `{"empty": [layer, neuron], "bounds": B}` or
    /// `{"bounds": B, "proofs": [[j, P], ...], "split": [layer, neuron] or null}`, a split
    /// node followed by its inactive then its active side. `B` lists `["L", "U"]` per
    /// neuron per layer from layer 1; `P` is `"interval"` or the multipliers
    /// `[[kind, layer, neuron, "y"], ...]`; all numbers are exact rationals.
    pub fn flatten(&self, out: &mut Vec<Value>) {
        match self {
            LpTree::Empty { at, bounds, tight } => {
                let mut node = json!({
                    "empty": [at.layer, at.neuron],
                    "bounds": bounds_json(bounds),
                });
                if !tight.is_empty() {
                    node["tight"] = tight_json(tight);
                }
                out.push(node);
            }
            LpTree::Node {
                bounds,
                proofs,
                tight,
                split,
            } => {
                let per: Vec<Value> = proofs
                    .iter()
                    .map(|(j, p)| match p {
                        NeuronProof::Interval => json!([j, "interval"]),
                        NeuronProof::Dual(ys) => json!([j, multipliers_json(ys)]),
                    })
                    .collect();
                let mut node = json!({
                    "bounds": bounds_json(bounds),
                    "proofs": per,
                    "split": split.as_ref().map(|s| json!([s.layer, s.neuron])),
                });
                if !tight.is_empty() {
                    node["tight"] = tight_json(tight);
                }
                out.push(node);
                if let Some(s) = split {
                    s.inactive.flatten(out);
                    s.active.flatten(out);
                }
            }
        }
    }
}

/// The outcome of [`decide_by_lp`].
#[derive(Debug, Clone, PartialEq)]
pub enum LpDecision {
    /// Layer `k` is dead on the box; the tree proves it.
    Dead(LpTree),
    /// An exact point of the box where neuron `neuron` of layer `k` is positive.
    Alive {
        /// The point.
        witness: Vec<BigRational>,
        /// The neuron.
        neuron: usize,
        /// Its pre-activation there (exact forward pass, > 0).
        value: BigRational,
    },
    /// Not decided: the reason.
    Unknown(String),
}

enum Stop {
    Alive(Vec<BigRational>, usize, BigRational),
    Budget,
    Stuck(String),
}

/// Counters of a run, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Nodes visited.
    pub nodes: usize,
    /// Floating-point LPs solved.
    pub lps: usize,
    /// Neurons proven by multipliers.
    pub proofs: usize,
}

struct Search<'a> {
    net: &'a Network<BigRational>,
    fnet: FloatNet,
    k: usize,
    region: &'a [(BigRational, BigRational)],
    budget: usize,
    stats: Stats,
    progress: Option<&'a dyn Fn(usize)>,
    /// How bounds are tightened ([`tighten`]).
    tighten: Tightening,
}

/// The exact point of the box nearest to an `f64` point (each coordinate clamped exactly).
pub fn exact_point(x: &[f64], region: &[(BigRational, BigRational)]) -> Option<Vec<BigRational>> {
    x.iter()
        .zip(region)
        .map(|(&v, (lo, hi))| {
            let q = BigRational::from_float(v)?;
            Some(if &q < lo {
                lo.clone()
            } else if &q > hi {
                hi.clone()
            } else {
                q
            })
        })
        .collect()
}

/// The exact forward pass at `x`: the first neuron of layer `k` that is positive.
pub fn confirm(
    net: &Network<BigRational>,
    k: usize,
    x: &[BigRational],
) -> Option<(usize, BigRational)> {
    let pass = net.forward(x);
    pass.pre[k - 1]
        .iter()
        .enumerate()
        .find(|(_, z)| z.is_positive())
        .map(|(j, z)| (j, z.clone()))
}

impl Search<'_> {
    /// Explores a node; `open` lists the neurons of layer `k` not proven above.
    /// `inherit`: the bounds stated by the nearest node above that states them.
    fn explore(
        &mut self,
        fix: &mut Vec<Vec<Option<Phase>>>,
        open: &[usize],
        depth: usize,
        inherit: Option<&[Vec<(f64, f64)>]>,
    ) -> Result<LpTree, Stop> {
        self.stats.nodes += 1;
        if let Some(report) = self.progress {
            report(self.stats.nodes);
        }
        if self.stats.nodes > self.budget {
            return Err(Stop::Budget);
        }
        let overflow =
            || Stop::Stuck("interval bounds overflow the double range on this box".into());
        let mut nb = match node_bounds(&self.fnet, self.k, fix, inherit) {
            Err((at, nb)) => {
                return Ok(LpTree::Empty {
                    at,
                    bounds: nb.z,
                    tight: Vec::new(),
                });
            }
            Ok(None) => return Err(overflow()),
            Ok(Some(nb)) => nb,
        };
        let mut tight = Vec::new();
        let tighten_here = match self.tighten {
            Tightening::Off => None,
            Tightening::Crown => Some(0),
            Tightening::CrownLp if depth == 0 => Some(ROOT_LPS),
            Tightening::CrownLp => Some(0),
        };
        if let Some(lps) = tighten_here {
            match tighten::tighten(&self.fnet, self.k, fix, &mut nb, lps) {
                Ok((proofs, solved)) => {
                    self.stats.lps += solved;
                    tight = proofs;
                }
                Err(tighten::Stopped::Overflow) => return Err(overflow()),
                Err(tighten::Stopped::Empty(at, below, tight)) => {
                    return Ok(LpTree::Empty {
                        at,
                        bounds: below.z,
                        tight,
                    });
                }
            }
        }
        let mut proofs: Vec<(usize, NeuronProof)> = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for &j in open {
            if nb.z[self.k - 1][j].1 <= 0.0 {
                proofs.push((j, NeuronProof::Interval));
            } else {
                rest.push(j);
            }
        }
        let rel = lp::relax(&self.fnet, self.k, fix, &nb);
        if !rest.is_empty() {
            let problem = FloatProblem::new(&rel);
            let d = self.fnet.widths[0];
            let mut still = Vec::new();
            for &j in &rest {
                let objective = &rel.objectives[j];
                let (ys, b) = tighten::safe(&rel, objective, &tighten::crown(&rel, objective, &nb));
                if b <= 0.0 {
                    self.stats.proofs += 1;
                    proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
                    continue;
                }
                let sol = problem.maximize(objective);
                self.stats.lps += 1;
                if let Some(ys) = lp::prove(&rel, j, &sol) {
                    self.stats.proofs += 1;
                    proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
                    continue;
                }
                if sol.x.len() >= d
                    && let Some(x) = exact_point(&sol.x[..d], self.region)
                    && let Some((n, value)) = confirm(self.net, self.k, &x)
                {
                    return Err(Stop::Alive(x, n, value));
                }
                still.push(j);
            }
            rest = still;
        }
        let mut bounds = nb.z.clone();
        bounds.truncate(self.k - 1);
        if proofs.is_empty() && tight.is_empty() {
            bounds.clear();
        }
        if rest.is_empty() {
            return Ok(LpTree::Node {
                bounds,
                proofs,
                tight,
                split: None,
            });
        }
        let Some((layer, neuron)) = branching_neuron(&rel, &nb) else {
            return Err(Stop::Stuck(format!(
                "a linear piece of the network (the phases of layers 1..{} settled, {depth} of them by branching) where the floating-point LP settles no sign of layer {}: its maximum may be exactly 0",
                self.k - 1,
                self.k
            )));
        };
        let below = if bounds.is_empty() {
            inherit.map(<[_]>::to_vec)
        } else {
            Some(bounds.clone())
        };
        let mut side = |phase, fix: &mut Vec<Vec<Option<Phase>>>| {
            fix[layer - 1][neuron] = Some(phase);
            let t = self.explore(fix, &rest, depth + 1, below.as_deref());
            fix[layer - 1][neuron] = None;
            t
        };
        let inactive = side(Phase::Inactive, fix)?;
        let active = side(Phase::Active, fix)?;
        Ok(LpTree::Node {
            bounds,
            proofs,
            tight,
            split: Some(Split {
                layer,
                neuron,
                inactive: Box::new(inactive),
                active: Box::new(active),
            }),
        })
    }
}

fn named(rel: &Relaxation, ys: Vec<(usize, f64)>) -> Vec<(RowKind, usize, usize, f64)> {
    ys.into_iter()
        .map(|(r, y)| {
            let row = &rel.rows[r];
            (row.kind, row.layer, row.neuron, y)
        })
        .collect()
}

/// The unstable neuron with the largest triangle height `-L U / (U - L)`; ties go to the
/// earliest layer and neuron.
fn branching_neuron(rel: &Relaxation, nb: &NodeBounds) -> Option<(usize, usize)> {
    let mut best: Option<(f64, usize, usize)> = None;
    for (li, states) in rel.states.iter().enumerate() {
        for (n, s) in states.iter().enumerate() {
            if *s != State::Unstable {
                continue;
            }
            let (l, u) = nb.z[li][n];
            let height = -l * u / (u - l);
            let height = if height.is_finite() { height } else { f64::MAX };
            if best.is_none_or(|(h, _, _)| height > h) {
                best = Some((height, li + 1, n));
            }
        }
    }
    best.map(|(_, l, n)| (l, n))
}

/// Settings of [`decide_by_lp`].
#[derive(Clone, Copy)]
pub struct LpSettings<'a> {
    /// Most branch-and-bound nodes.
    pub budget: usize,
    /// Seed of the witness search.
    pub seed: u64,
    /// Called with the number of nodes visited so far.
    pub progress: Option<&'a dyn Fn(usize)>,
}

/// Most LPs the root's tightening solves ([`Tightening::CrownLp`]).
pub const ROOT_LPS: usize = 400;

/// How [`decide_by_lp`] tightens bounds ([`tighten`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tightening {
    /// Interval bounds only.
    Off,
    /// Back-substitution (CROWN) on every node.
    Crown,
    /// CROWN on every node, at the root followed by the LP for what stays unstable.
    #[default]
    CrownLp,
}

/// Decides whether hidden layer `k` of `net` is dead on the box `region`: a witness
/// search, then branch and bound (see the module docs) with the root's bounds tightened
/// by CROWN and the LP. Returns the decision and the counters.
pub fn decide_by_lp(
    net: &Network<BigRational>,
    k: usize,
    region: &[(BigRational, BigRational)],
    settings: LpSettings<'_>,
) -> (LpDecision, Stats) {
    decide_by_lp_with(net, k, region, settings, Tightening::default())
}

/// [`decide_by_lp`] with a choice of tightening (for comparisons).
pub fn decide_by_lp_with(
    net: &Network<BigRational>,
    k: usize,
    region: &[(BigRational, BigRational)],
    settings: LpSettings<'_>,
    tightening: Tightening,
) -> (LpDecision, Stats) {
    let Some(fnet) = FloatNet::new(net, k, region) else {
        return (
            LpDecision::Unknown(format!(
                "branch and bound needs the parameters of layers 1..{k} and the box within [-1e150, 1e150]"
            )),
            Stats::default(),
        );
    };
    if let Some((witness, neuron, value)) = witness::search(net, &fnet, k, region, settings.seed) {
        return (
            LpDecision::Alive {
                witness,
                neuron,
                value,
            },
            Stats::default(),
        );
    }
    let mut fix: Vec<Vec<Option<Phase>>> = (1..k).map(|l| vec![None; fnet.widths[l]]).collect();
    let mut search = Search {
        net,
        fnet,
        k,
        region,
        budget: settings.budget,
        stats: Stats::default(),
        progress: settings.progress,
        tighten: tightening,
    };
    let open: Vec<usize> = (0..search.fnet.widths[k]).collect();
    let decision = match search.explore(&mut fix, &open, 0, None) {
        Ok(tree) => LpDecision::Dead(tree),
        Err(Stop::Alive(witness, neuron, value)) => LpDecision::Alive {
            witness,
            neuron,
            value,
        },
        Err(Stop::Budget) => LpDecision::Unknown(format!(
            "branch and bound visited {} nodes (the budget) without a decision",
            settings.budget
        )),
        Err(Stop::Stuck(why)) => LpDecision::Unknown(why),
    };
    (decision, search.stats)
}

#[cfg(test)]
mod tests;
