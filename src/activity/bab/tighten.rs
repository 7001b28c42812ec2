//! Tighter bounds than interval propagation, each proven by multipliers of the relaxation.
//!
//! The bounds `[L, U]` of a neuron `(l, n)` define its triangle, so the tighter they are,
//! the tighter every relaxation built on them. For the pre-activation `z_{l,n}` and its
//! negation, multipliers `y >= 0` of the rows of the layers `< l` give a safe bound exactly
//! as for a neuron of layer `k` ([`super::lp`]'s module docs): `z_{l,n} <= U'` and
//! `-z_{l,n} <= -L'`. They come from two sources, both only *proposals* (the bound is
//! evaluated in outward-rounded intervals, and re-evaluated exactly by the checker):
//!
//! - [`crown`]: back-substitution through the layers (CROWN / DeepPoly): a positive
//!   coefficient on an unstable `a` is replaced by the triangle's upper side (row `tri`),
//!   a negative one by `a >= z` (row `gez`) when `U > -L`, else by `a >= 0` (the variable
//!   bound); an on neuron's `a = z` uses `eq_up` or `eq_down`. No solver, `O(width^2)` per
//!   layer and neuron. [`tighten`] starts from these slopes and optimizes them
//!   ([`super::alpha`]).
//! - the floating-point LP of [`super::lp`] (its duals), for the neurons the first leaves
//!   unstable.
//!
//! [`tighten`] does this at the root of the branch and bound, layer by layer from layer
//! 2 (layer 1's interval bounds are exact on a box), re-propagating intervals after each
//! layer. The root's bounds then hold on every node (each node lies inside the root), so
//! every node intersects its interval bounds with them; the checker re-verifies the
//! multipliers at the root and does the same.

use super::alpha;
use super::lp::{self, FloatProblem, Form, Relaxation, RowKind, State};
use super::{FloatNet, NodeBounds, Phase, node_bounds};
use crate::scalar::iv::Iv;
use std::collections::HashMap;

/// Which side of a neuron's bounds a proof tightens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `z <= U`.
    Upper,
    /// `z >= L`.
    Lower,
}

impl Side {
    /// The name in certificates.
    pub fn name(self) -> &'static str {
        match self {
            Side::Upper => "upper",
            Side::Lower => "lower",
        }
    }
}

/// A proven bound of neuron `(layer, neuron)`: multipliers of rows of the layers below.
#[derive(Debug, Clone, PartialEq)]
pub struct TightProof {
    /// Hidden layer (`>= 2`, `< k`).
    pub layer: usize,
    /// Neuron.
    pub neuron: usize,
    /// Which bound.
    pub side: Side,
    /// `(kind, layer, neuron, y)`, each `y` a positive double.
    pub multipliers: Vec<(RowKind, usize, usize, f64)>,
}

fn mid(x: Iv) -> f64 {
    x.lo + (x.hi - x.lo) / 2.0
}

/// The negated form.
pub fn negated(f: &Form) -> Form {
    (f.0.iter().map(|(v, c)| (*v, -*c)).collect(), -f.1)
}

/// CROWN multipliers `(row, y)` for maximizing `objective` over `rel` (see the module
/// docs); `bounds` are the node's bounds the relaxation was built from.
pub fn crown(rel: &Relaxation, objective: &Form, bounds: &NodeBounds) -> Vec<(usize, f64)> {
    // the rows of each neuron by kind
    let mut index: HashMap<(RowKind, usize, usize), usize> = HashMap::new();
    for (r, row) in rel.rows.iter().enumerate() {
        index.insert((row.kind, row.layer, row.neuron), r);
    }
    // the variable of every neuron, numbered as `lp::relax` numbers them
    let d = rel.bounds.len()
        - rel
            .states
            .iter()
            .flatten()
            .filter(|s| **s != State::Off)
            .count();
    let mut vars: Vec<Vec<Option<usize>>> = Vec::with_capacity(rel.states.len());
    let mut next = d;
    for states in &rel.states {
        vars.push(
            states
                .iter()
                .map(|s| {
                    (*s != State::Off).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect(),
        );
    }
    let mut lambda = vec![0.0; rel.bounds.len()];
    for (v, c) in &objective.0 {
        lambda[*v] += mid(*c);
    }
    let mut out = Vec::new();
    for li in (0..rel.states.len()).rev() {
        for (n, state) in rel.states[li].iter().enumerate() {
            let Some(v) = vars[li][n] else { continue };
            let coef = lambda[v];
            if coef == 0.0 || !coef.is_finite() {
                continue;
            }
            let (lo, hi) = bounds.z[li][n];
            let choice = match state {
                State::On if coef > 0.0 => Some((RowKind::EqUp, coef)),
                State::On => Some((RowKind::EqDown, -coef)),
                State::Unstable if coef > 0.0 => Some((RowKind::Tri, coef / (hi - lo))),
                State::Unstable if hi > -lo => Some((RowKind::Gez, -coef)),
                _ => None,
            };
            let Some((kind, y)) = choice else { continue };
            let Some(&r) = index.get(&(kind, li + 1, n)) else {
                continue;
            };
            if !(y.is_finite() && y > 0.0) {
                continue;
            }
            for (u, g) in &rel.rows[r].coeffs {
                lambda[*u] -= y * mid(*g);
            }
            lambda[v] = 0.0;
            out.push((r, y));
        }
    }
    out
}

/// Multipliers made usable ([`lp::multiplier`]) and the safe bound they prove.
pub fn safe(rel: &Relaxation, objective: &Form, ys: &[(usize, f64)]) -> (Vec<(usize, f64)>, f64) {
    let ys: Vec<(usize, f64)> = ys
        .iter()
        .filter_map(|&(r, y)| lp::multiplier(y).map(|y| (r, y)))
        .collect();
    let b = lp::safe_bound(rel, objective, &ys);
    (ys, b)
}

/// Why [`tighten`] stopped early.
pub enum Stopped {
    /// A bound overflows.
    Overflow,
    /// The node holds no input: the tightened bounds (of the layers before the neuron)
    /// and the proofs of those below it.
    Empty(super::Contradiction, NodeBounds, Vec<TightProof>),
}

/// Tightens the bounds `nb` of a node with fixings `fix` (see the module docs), layers
/// `2..k-1`, neurons that are not fixed and unstable; at most `lps` LPs after CROWN
/// (none: CROWN only). Returns the proofs of every bound it changed and the LPs solved.
// the loops walk neurons by index across the fixings, the bounds and the objectives
#[allow(clippy::needless_range_loop)]
pub fn tighten(
    net: &FloatNet,
    k: usize,
    fix: &[Vec<Option<Phase>>],
    nb: &mut NodeBounds,
    lps: usize,
) -> Result<(Vec<TightProof>, usize), Stopped> {
    let mut proofs = Vec::new();
    let mut solved = 0;
    for l in 2..k {
        let rel = lp::relax(net, l, fix, nb);
        let mut problem: Option<FloatProblem> = None;
        let mut dense: Option<alpha::Dense> = None;
        for n in 0..net.widths[l] {
            if fix[l - 1][n].is_some() {
                continue;
            }
            for side in [Side::Upper, Side::Lower] {
                let (lo, hi) = nb.z[l - 1][n];
                if !(lo < 0.0 && hi > 0.0) {
                    break;
                }
                let objective = match side {
                    Side::Upper => rel.objectives[n].clone(),
                    Side::Lower => negated(&rel.objectives[n]),
                };
                let current = match side {
                    Side::Upper => hi,
                    Side::Lower => -lo,
                };
                // CROWN's slopes first, then better ones ([`alpha`]); the safe bound only
                // if the floating-point one improves
                let dense = dense.get_or_insert_with(|| alpha::Dense::new(net, &rel, nb));
                let found = dense.optimize(&objective, alpha::TIGHT_STEPS);
                let (mut ys, mut b) = if found.bound < current {
                    safe(&rel, &objective, &found.multipliers)
                } else {
                    (Vec::new(), f64::INFINITY)
                };
                if b > 0.0 && solved < lps {
                    solved += 1;
                    let sol = problem
                        .get_or_insert_with(|| FloatProblem::new(&rel))
                        .maximize(&objective);
                    let found: Vec<(usize, f64)> = sol.y.iter().copied().enumerate().collect();
                    let (ys2, b2) = safe(&rel, &objective, &found);
                    if b2 < b {
                        (ys, b) = (ys2, b2);
                    }
                }
                if b < current {
                    match side {
                        Side::Upper => nb.z[l - 1][n].1 = b,
                        Side::Lower => nb.z[l - 1][n].0 = -b,
                    }
                    proofs.push(TightProof {
                        layer: l,
                        neuron: n,
                        side,
                        multipliers: ys
                            .into_iter()
                            .map(|(r, y)| {
                                let row = &rel.rows[r];
                                (row.kind, row.layer, row.neuron, y)
                            })
                            .collect(),
                    });
                }
            }
        }
        // the deeper layers' intervals from the tightened ones
        match node_bounds(net, k, fix, Some(&nb.z)) {
            Ok(Some(next)) => *nb = next,
            Ok(None) => return Err(Stopped::Overflow),
            Err((at, below)) => {
                proofs.retain(|p| p.layer < at.layer);
                return Err(Stopped::Empty(at, below, proofs));
            }
        }
    }
    Ok((proofs, solved))
}
