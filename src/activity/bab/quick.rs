//! The root proven by bounds alone, before the witness search and any LP.
//!
//! On most dead queries of the benchmark (`benches/marabou/`) the root's interval bounds,
//! tightened by CROWN back-substitution ([`tighten::tighten`] with no LP), already prove
//! every neuron of layer `k` `<= 0`, by its interval, by CROWN's multipliers or, failing
//! both, by the LP's (the same proofs as a branch-and-bound node's, checked the same
//! way). Trying this first costs one CROWN pass and at most one LP per neuron of layer
//! `k` proven plus one, and spares the witness search and the root's LP tightening of
//! the layers below `k`. It stops at the first neuron of layer `k` that stays open; the
//! caller then goes on as before (witness search, then branch and bound), unless the
//! LP's maximizer there is already an exactly confirmed witness.

use super::alpha;
use super::lp::{FloatProblem, relax};
use super::tighten::{self, Stopped};
use super::{
    FloatNet, LpDecision, LpTree, NeuronProof, Phase, Stats, named, node_bounds, witness_at,
};
use crate::net::Network;
use crate::scalar::BigRational;

/// The root proven by its bounds alone (see the module docs): `Dead` with a one-node
/// tree (`Empty` cannot occur at the root, which fixes nothing, but is passed on if it
/// does), `Alive` when an LP's maximizer is a witness, `None` when some neuron of layer
/// `k` stays open (or a bound overflows); with the counters. Without `lp`, a neuron of
/// layer `k` that CROWN with optimized slopes leaves open ends it (with input splits:
/// on the benchmark's queries the root's LP proved nothing the slopes did not).
pub fn root_by_bounds(
    net: &Network<BigRational>,
    fnet: &FloatNet,
    k: usize,
    region: &[(BigRational, BigRational)],
    lp: bool,
) -> (Option<LpDecision>, Stats) {
    let mut stats = Stats {
        nodes: 1,
        ..Stats::default()
    };
    let decision = root(net, fnet, k, region, lp, &mut stats);
    (decision, stats)
}

fn root(
    net: &Network<BigRational>,
    fnet: &FloatNet,
    k: usize,
    region: &[(BigRational, BigRational)],
    lp: bool,
    stats: &mut Stats,
) -> Option<LpDecision> {
    let fix: Vec<Vec<Option<Phase>>> = (1..k).map(|l| vec![None; fnet.widths[l]]).collect();
    let mut nb = match node_bounds(fnet, k, &fix, None) {
        Ok(Some(nb)) => nb,
        Ok(None) => return None,
        Err((at, nb)) => {
            let tree = LpTree::Empty {
                at,
                bounds: nb.z,
                tight: Vec::new(),
            };
            return Some(LpDecision::Dead(tree));
        }
    };
    let tight = match tighten::tighten(fnet, k, &fix, &mut nb, 0) {
        Ok((proofs, _)) => proofs,
        Err(Stopped::Overflow) => return None,
        Err(Stopped::Empty(at, below, tight)) => {
            let tree = LpTree::Empty {
                at,
                bounds: below.z,
                tight,
            };
            return Some(LpDecision::Dead(tree));
        }
    };
    let last = &nb.z[k - 1];
    let open: Vec<usize> = (0..last.len()).filter(|&j| last[j].1 > 0.0).collect();
    let mut proofs: Vec<(usize, NeuronProof)> = (0..last.len())
        .filter(|&j| last[j].1 <= 0.0)
        .map(|j| (j, NeuronProof::Interval))
        .collect();
    if !open.is_empty() {
        let rel = relax(fnet, k, &fix, &nb);
        let mut problem: Option<FloatProblem> = None;
        let mut dense: Option<alpha::Dense> = None;
        for &j in &open {
            let objective = &rel.objectives[j];
            let (ys, b) = tighten::safe(&rel, objective, &tighten::crown(&rel, objective, &nb));
            // CROWN failing, optimized slopes ([`alpha`]), and only then the LP
            let (ys, b) = if b > 0.0 {
                let dense = dense.get_or_insert_with(|| alpha::Dense::new(fnet, &rel, &nb));
                let found = dense.optimize(objective, alpha::NODE_STEPS);
                tighten::safe(&rel, objective, &found.multipliers)
            } else {
                (ys, b)
            };
            if b > 0.0 && !lp {
                return None;
            }
            let ys = if b <= 0.0 {
                ys
            } else {
                let sol = problem
                    .get_or_insert_with(|| FloatProblem::new(&rel))
                    .maximize(objective);
                stats.lps += 1;
                match super::lp::prove(&rel, j, &sol) {
                    Some(ys) => ys,
                    None => {
                        if let Some((x, neuron, value)) = witness_at(net, fnet, k, &sol.x, region) {
                            return Some(LpDecision::Alive {
                                witness: x,
                                neuron,
                                value,
                            });
                        }
                        return None;
                    }
                }
            };
            stats.proofs += 1;
            proofs.push((j, NeuronProof::Dual(named(&rel, ys))));
        }
    }
    let mut bounds = nb.z;
    bounds.truncate(k - 1);
    let tree = LpTree::Node {
        bounds,
        proofs,
        tight,
        split: None,
    };
    Some(LpDecision::Dead(tree))
}
