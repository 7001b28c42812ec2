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
//!    positive); otherwise the node is split on an unstable neuron chosen by the LP's
//!    multipliers (BaBSR-like, earliest layer first: `branching_neuron`).
//!    Before the LPs, the bounds of layers `2..k-1` are tightened ([`tighten`]: CROWN
//!    back-substitution on every node, the LP too at the root), each tighter bound proven
//!    by multipliers like a neuron of layer `k`; a node's bounds hold on every node below
//!    it, which intersects its own intervals with them. CROWN with optimized lower
//!    slopes ([`alpha`]: projected sign-gradient steps; any slope in `[0, 1]` is the same
//!    kind of multipliers, so proofs keep their form) is tried on each neuron of layer
//!    `k` before its LP, and tightens the intermediate bounds; with input splits
//!    (`d <= 8`) nodes solve no LP at all (a neuron the slopes leave open is checked at
//!    the bound's maximizing corner, then the box is split).
//! 3. A node with every phase fixed is one linear piece of the network: its relaxation is
//!    exact, so only an LP maximum of exactly 0 (or float trouble) leaves it open; such
//!    leaves are reported and the caller falls back to the exact phase method
//!    ([`super::phases`], `d <= 4`).
//!
//! Every `dead` answer is a tree of nodes whose leaves carry either "empty" (the node's
//! interval bounds contradict a fixing) or, per neuron of layer `k`, "interval" or exact
//! multipliers: the independent checker re-derives the bounds and the rows and re-checks
//! each inequality (`deadrelu-check`, `boxlp`).

pub mod alpha;
pub mod lp;
pub mod quick;
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
    /// The current node's box (narrowed by the input splits above it).
    region: Vec<(BigRational, BigRational)>,
    /// Whether nodes may split the box ([`INPUT_SPLIT_MAX_DIM`]).
    input_splits: bool,
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

/// The exact point of the box nearest to the `f64` point `x` (its first `d` coordinates),
/// if some neuron of layer `k` is positive there: the interval forward pass
/// ([`FloatNet::may_be_positive`]) first, the exact one ([`confirm`]) only if that leaves
/// it open.
pub fn witness_at(
    net: &Network<BigRational>,
    fnet: &FloatNet,
    k: usize,
    x: &[f64],
    region: &[(BigRational, BigRational)],
) -> Option<(Vec<BigRational>, usize, BigRational)> {
    let d = fnet.widths[0];
    if x.len() < d {
        return None;
    }
    let exact = exact_point(&x[..d], region)?;
    if !fnet.may_be_positive(k, &exact) {
        return None;
    }
    confirm(net, k, &exact).map(|(j, v)| (exact, j, v))
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
        // the solver's multipliers of the neurons the LP leaves open, for the branching
        let mut duals: Vec<Vec<f64>> = Vec::new();
        if !rest.is_empty() {
            let problem = FloatProblem::new(&rel);
            let mut still = Vec::new();
            duals.clear();
            let mut dense: Option<alpha::Dense> = None;
            for &j in &rest {
                let objective = &rel.objectives[j];
                if self.tighten != Tightening::Off {
                    let dense =
                        dense.get_or_insert_with(|| alpha::Dense::new(&self.fnet, &rel, &nb));
                    let found = dense.optimize(objective, alpha::NODE_STEPS);
                    if found.bound <= SAFE_SLACK {
                        let (ys, b) = tighten::safe(&rel, objective, &found.multipliers);
                        if b <= 0.0 {
                            self.stats.proofs += 1;
                            proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
                            continue;
                        }
                    }
                    // with input splits the LP is not solved on nodes: on the benchmark's
                    // queries it proved nothing the optimized slopes did not (the same
                    // trees) and took two thirds of the time
                    if self.input_splits {
                        if let Some((x, n, value)) =
                            witness_at(self.net, &self.fnet, self.k, &found.corner, &self.region)
                        {
                            return Err(Stop::Alive(x, n, value));
                        }
                        still.push(j);
                        continue;
                    }
                } else {
                    let (ys, b) =
                        tighten::safe(&rel, objective, &tighten::crown(&rel, objective, &nb));
                    if b <= 0.0 {
                        self.stats.proofs += 1;
                        proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
                        continue;
                    }
                }
                let sol = problem.maximize(objective);
                self.stats.lps += 1;
                if let Some(ys) = lp::prove(&rel, j, &sol) {
                    self.stats.proofs += 1;
                    proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
                    continue;
                }
                if let Some((x, n, value)) =
                    witness_at(self.net, &self.fnet, self.k, &sol.x, &self.region)
                {
                    return Err(Stop::Alive(x, n, value));
                }
                if sol.y.len() == rel.rows.len() {
                    duals.push(sol.y);
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
        if self.input_splits
            && let Some((i, t)) = self.input_split()
        {
            let below = if bounds.is_empty() {
                inherit.map(<[_]>::to_vec)
            } else {
                Some(bounds.clone())
            };
            let saved = (self.region[i].clone(), self.fnet.region[i]);
            let exact_t = BigRational::from_float(t).expect("a finite threshold");
            self.region[i].1 = exact_t.clone();
            self.fnet.region[i] = Iv::new(saved.1.lo, t);
            let low = self.explore(fix, &rest, depth + 1, below.as_deref());
            let high = if low.is_ok() {
                self.region[i] = (exact_t, saved.0.1.clone());
                self.fnet.region[i] = Iv::new(t, saved.1.hi);
                self.explore(fix, &rest, depth + 1, below.as_deref())
            } else {
                Err(Stop::Budget)
            };
            (self.region[i], self.fnet.region[i]) = saved;
            let (low, high) = (low?, high?);
            return Ok(LpTree::Node {
                bounds,
                proofs,
                tight,
                split: Some(Split {
                    layer: 0,
                    neuron: i,
                    at: Some(t),
                    inactive: Box::new(low),
                    active: Box::new(high),
                }),
            });
        }
        let Some((layer, neuron)) = branching_neuron(&rel, &nb, &duals) else {
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
                at: None,
                inactive: Box::new(inactive),
                active: Box::new(active),
            }),
        })
    }
}

/// Most inputs for which branch and bound splits the box rather than a neuron's phase
/// (on the benchmark's queries, `d <= 8`, input splits decide the two 4-32-32-31-9-1 and
/// 6-17-20-11-17-1 queries in about 2 s each, which phase splits did not within 20 s,
/// and take fewer nodes on every other query that needs a split).
pub const INPUT_SPLIT_MAX_DIM: usize = 8;

impl Search<'_> {
    /// The input split of a node that needs a split: the input whose interval width times
    /// the total weight magnitude on it in layer 1 (its smear) is largest, at the middle
    /// of its interval (an exact double strictly inside); `None` if no input has room.
    fn input_split(&self) -> Option<(usize, f64)> {
        let d = self.fnet.widths[0];
        let mut best: Option<(f64, usize, f64)> = None;
        for i in 0..d {
            let r = self.fnet.region[i];
            let (lo, hi) = (&self.region[i].0, &self.region[i].1);
            let t = r.lo + (r.hi - r.lo) / 2.0;
            let Some(exact_t) = BigRational::from_float(t) else {
                continue;
            };
            if !(lo < &exact_t && &exact_t < hi) {
                continue;
            }
            let weight: f64 = (0..self.fnet.widths[1])
                .map(|n| self.fnet.row(1, n).0[i].mag())
                .sum();
            let smear = (r.hi - r.lo) * weight;
            if best.is_none_or(|(b, _, _)| smear > b) {
                best = Some((smear, i, t));
            }
        }
        best.map(|(_, i, t)| (i, t))
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

/// The neuron to split on. Splitting an unstable neuron replaces its triangle by an exact
/// piece, which removes the triangle's intercept `-L U` from every bound that uses its
/// upper side `Tri`, in proportion to that row's multiplier (the BaBSR estimate of
/// Bunel et al. 2020, here with the LP's multipliers). So each unstable neuron scores
/// `sum_j y_j(Tri) * (-L U)` over the LP multipliers `y_j` of the neurons of layer `k`
/// still open; the split goes to the earliest layer with a positive score, its best
/// scoring neuron (splitting early layers first also tightens every bound after them:
/// on the benchmark's 5-10-22-23-8-1 query, 19 nodes against 115 for the largest
/// triangle overall and 333 for the best score overall). Without a positive score, the
/// largest triangle height `-L U / (U - L)`. Ties go to the earliest layer and neuron.
fn branching_neuron(
    rel: &Relaxation,
    nb: &NodeBounds,
    duals: &[Vec<f64>],
) -> Option<(usize, usize)> {
    let mut score: Vec<Vec<f64>> = rel.states.iter().map(|s| vec![0.0; s.len()]).collect();
    for (r, row) in rel.rows.iter().enumerate() {
        if row.kind != RowKind::Tri {
            continue;
        }
        let (l, u) = nb.z[row.layer - 1][row.neuron];
        let gain: f64 = duals.iter().map(|y| y[r].max(0.0)).sum::<f64>() * (-l * u);
        if gain.is_finite() {
            score[row.layer - 1][row.neuron] += gain;
        }
    }
    // (scored, score, height, layer, neuron): scored ones first, the earliest layer
    // (scanned first, replaced only by a strictly better key), then score, then height
    let mut best: Option<(bool, f64, f64, usize, usize)> = None;
    for (li, states) in rel.states.iter().enumerate() {
        for (n, s) in states.iter().enumerate() {
            if *s != State::Unstable {
                continue;
            }
            let (l, u) = nb.z[li][n];
            let height = -l * u / (u - l);
            let height = if height.is_finite() { height } else { f64::MAX };
            let sc = score[li][n];
            let scored = sc > 0.0;
            let better = match best {
                None => true,
                Some((bs, bsc, bh, bl, _)) => {
                    if scored != bs {
                        scored
                    } else if scored {
                        // a later layer never replaces a scored earlier one
                        bl == li + 1 && (sc > bsc || (sc == bsc && height > bh))
                    } else {
                        height > bh
                    }
                }
            };
            if better {
                best = Some((scored, sc, height, li + 1, n));
            }
        }
    }
    best.map(|(_, _, _, l, n)| (l, n))
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
    /// Whether a node may split the box (on at most [`INPUT_SPLIT_MAX_DIM`] inputs)
    /// rather than a neuron's phase.
    pub input_splits: bool,
}

/// How far above 0 a floating-point bound of optimized slopes may be for its safe bound
/// to be evaluated (the safe bound is the proof; this only saves evaluating hopeless ones).
const SAFE_SLACK: f64 = 1e-9;

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

/// Decides whether hidden layer `k` of `net` is dead on the box `region`: the root's
/// bounds alone ([`quick`]), else a witness search, then branch and bound (see the module
/// docs) with bounds tightened by CROWN on every node and, when the nodes split phases
/// only (no input splits), by the LP at the root too (with input splits the root's LPs
/// saved no node on the benchmark's queries that need a split, and cost up to a third of
/// the time: `examples/box_bab` with TIGHTEN `crown` against `lp`). Returns the decision
/// and the counters.
pub fn decide_by_lp(
    net: &Network<BigRational>,
    k: usize,
    region: &[(BigRational, BigRational)],
    settings: LpSettings<'_>,
) -> (LpDecision, Stats) {
    let tightening = if settings.input_splits && region.len() <= INPUT_SPLIT_MAX_DIM {
        Tightening::Crown
    } else {
        Tightening::CrownLp
    };
    decide_by_lp_with(net, k, region, settings, tightening)
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
    // most dead queries: the root's bounds alone settle them (no search, no LP)
    let mut stats = Stats::default();
    if tightening != Tightening::Off {
        let decision;
        let lp = !(settings.input_splits && region.len() <= INPUT_SPLIT_MAX_DIM);
        (decision, stats) = quick::root_by_bounds(net, &fnet, k, region, lp);
        if let Some(decision) = decision {
            return (decision, stats);
        }
    }
    if let Some((witness, neuron, value)) = witness::search(net, &fnet, k, region, settings.seed) {
        return (
            LpDecision::Alive {
                witness,
                neuron,
                value,
            },
            stats,
        );
    }
    let mut fix: Vec<Vec<Option<Phase>>> = (1..k).map(|l| vec![None; fnet.widths[l]]).collect();
    let mut search = Search {
        net,
        fnet,
        k,
        region: region.to_vec(),
        input_splits: settings.input_splits && region.len() <= INPUT_SPLIT_MAX_DIM,
        budget: settings.budget,
        stats,
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

mod tree;
pub use tree::*;

mod bounds;
pub use bounds::*;

#[cfg(test)]
mod tests;
