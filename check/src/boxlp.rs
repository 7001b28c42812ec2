//! Replay of an `lp-branching` proof that hidden layer `k` is dead on a box: a tree of
//! phase splits whose nodes carry interval bounds and linear-programming dual
//! multipliers, all re-checked here in exact rationals.
//!
//! A node fixes the phase of the neurons split on above it (`z <= 0` on the inactive
//! side, `z >= 0` on the active side); it stands for the inputs of the box that agree
//! with those phases. In pre-order, a node is
//! - `{"empty": [l, n], "bounds": B}`: the node holds no input. `B` bounds layers
//!   `1..l-1`; the checker's interval of neuron `(l, n)` computed from them has `L > 0`
//!   while the neuron is fixed inactive, or `U < 0` while fixed active.
//! - `{"bounds": B, "proofs": [[j, P], ...], "split": null or [l, n]}`: `B` bounds every
//!   neuron of layers `1..k-1` by `["L", "U"]`; each `P` proves neuron `j` of layer `k`
//!   `<= 0` on the whole node (so on everything below it): `"interval"` (the checker's
//!   interval of `z_{k,j}` from `B` has `U <= 0`) or multipliers
//!   `[[kind, l, n, "y"], ...]` of rows of the relaxation below. A node with `"split":
//!   null` must leave no neuron of layer `k` unproven; a split node is followed by its
//!   inactive side, then its active side. `"split": [0, i, "t"]` splits the node's box
//!   instead, on input `i` at `t` (`lo_i <= t <= hi_i`): the first child is the box with
//!   `x_i <= t`, the second the box with `x_i >= t`; the two cover the node's box, and
//!   each child is replayed on its own box (layer 1's inputs, the relaxation's variable
//!   bounds) with the fixings and inherited bounds of the node.
//!
//! **Bounds.** Layer by layer, the inputs are the box (layer 1) or, from the previous
//! layer's stated bounds, `[max(L,0), max(U,0)]` (or `0` for a neuron fixed inactive).
//! The checker computes each neuron's interval `[lo, hi]` over them exactly, clips it by
//! the neuron's fixing (`hi <= 0` if inactive, `lo >= 0` if active), and requires the
//! stated `L <= lo`, `U >= hi`, `L <= U`. On every input of the node, `z` then lies in
//! `[L, U]` (by induction over the layers).
//!
//! **Tightened and inherited bounds.** A node may carry `"tight": [[l, n, side, M], ...]`
//! with `side` `"upper"` or `"lower"` and `M` multipliers (as below) of rows of the layers
//! `< l` only: they prove `z_{l,n} <= U'` or `-z_{l,n} <= -L'` over the relaxation of the
//! layers before `l` (built from the stated bounds already verified). A node that states
//! bounds (it has proofs or tight bounds) passes them down: every node below intersects
//! its intervals with the bounds of the nearest node above it that states them. So a
//! neuron's reference interval is its interval from the previous layer's stated bounds,
//! intersected with the inherited bounds and with what `"tight"` proves, then clipped by
//! the fixing; the stated bounds must contain it (for an `empty` node, the interval of
//! the contradicting neuron is intersected with the inherited bounds too).
//!
//! **The relaxation.** A neuron of layer `l < k` is *off* (fixed inactive, or `U <= 0`:
//! `a = 0`), *on* (fixed active, or `L >= 0`: `a = z`) or *unstable*. The variables are
//! the inputs `x` and the `a` of every neuron that is not off, with bounds the box and
//! `[max(L,0), max(U,0)]`. With `z = g . v + c` over the previous layer's variables, the
//! rows are: `fix` (fixed neurons) `g.v <= -c` if inactive, `-g.v <= c` if active;
//! `eq_up` (on) `a - g.v <= c`; `eq_down` (on) and `gez` (unstable) `g.v - a <= -c`;
//! `tri` (unstable) `(U - L) a - U g.v <= U c - U L`. Every input of the node, with the
//! network's own values, satisfies all of them.
//!
//! **Multipliers.** For `z_{k,j} = c . v + c0` and multipliers `y_r > 0` of rows
//! `g_r . v <= h_r`: `z_{k,j} <= c0 + sum_r y_r h_r + sum_i max(r_i lo_i, r_i hi_i)` with
//! `r = c - sum_r y_r g_r`. The checker computes this bound exactly and requires `<= 0`.

use crate::boxproof::{count, next_node};
use crate::exact::{Net, relu};
use crate::limits::{Meter, bits};
use crate::number::{brief, parse};
use crate::{CheckError, Claim, fails, unreadable};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::Value;

mod relax;

type Interval = (BigRational, BigRational);

/// A `"tight"` entry: layer, neuron, whether it bounds from above, its multipliers.
type TightBound<'v> = (usize, usize, bool, &'v [Value]);

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Off,
    On,
    Unstable,
}

fn pair(v: &Value, what: &str) -> Result<(usize, usize), CheckError> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((count(a, what)?, count(b, what)?)),
        _ => Err(unreadable(format!("{what}: expected [layer, neuron]"))),
    }
}

fn number(v: &Value, what: &str) -> Result<BigRational, CheckError> {
    match v {
        Value::String(s) => parse(s, what),
        _ => Err(unreadable(format!(
            "{what}: expected an exact number as a string"
        ))),
    }
}

struct Replay<'a> {
    net: Net<'a>,
    k: usize,
    /// The current node's box (the proof's box, narrowed by the input splits above).
    region: Vec<Interval>,
    tree: &'a [Value],
    pos: usize,
    meter: Meter,
    /// `Some(true)` fixed active, `Some(false)` fixed inactive, per layer `1..k-1`.
    fix: Vec<Vec<Option<bool>>>,
    /// The verified bounds of the nearest node above that states them (they hold on the
    /// current node, which lies inside that one).
    inherited: Option<Vec<Vec<Interval>>>,
}

impl Replay<'_> {
    fn next_node(&mut self, depth: usize) -> Result<&Value, CheckError> {
        next_node(self.tree, &mut self.pos, depth)
    }

    /// The inputs of layer `l` (`l >= 1`) as intervals: the box, or from the stated
    /// bounds of layer `l - 1`.
    fn inputs(&self, l: usize, bounds: &[Vec<Interval>]) -> Vec<Interval> {
        if l == 1 {
            return self.region.to_vec();
        }
        bounds[l - 2]
            .iter()
            .enumerate()
            .map(|(n, (lo, hi))| match self.fix[l - 2][n] {
                Some(false) => (BigRational::zero(), BigRational::zero()),
                _ => (relu(lo), relu(hi)),
            })
            .collect()
    }

    /// The exact interval of `z_{l,n}` over `inputs`, unclipped.
    fn interval(
        &mut self,
        l: usize,
        n: usize,
        inputs: &[Interval],
    ) -> Result<Interval, CheckError> {
        let (w, b) = self.net.layer(l);
        let cols = self.net.widths[l - 1];
        let (mut lo, mut hi) = (b[n].clone(), b[n].clone());
        for (wi, (alo, ahi)) in w[n * cols..(n + 1) * cols].iter().zip(inputs) {
            if wi.is_zero() || (alo.is_zero() && ahi.is_zero()) {
                continue;
            }
            self.meter.op(bits(wi), bits(alo) + bits(ahi))?;
            let (p, q) = (wi * alo, wi * ahi);
            if p <= q {
                lo += p;
                hi += q;
            } else {
                lo += q;
                hi += p;
            }
        }
        Ok((lo, hi))
    }

    /// Reads the node's `"tight"` proofs (absent: none) of neurons of layers `1..=layers`:
    /// `(layer, neuron, upper?, multipliers)`.
    fn tight_list<'v>(
        &self,
        v: Option<&'v Value>,
        layers: usize,
    ) -> Result<Vec<TightBound<'v>>, CheckError> {
        let Some(v) = v else {
            return Ok(Vec::new());
        };
        let list = v
            .as_array()
            .ok_or_else(|| unreadable("domain.proof: \"tight\" must be a list"))?;
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            let Some([l, n, side, ys]) = t.as_array().map(Vec::as_slice) else {
                return Err(unreadable(
                    "domain.proof: a tight bound is [layer, neuron, side, multipliers]",
                ));
            };
            let (l, n) = (count(l, "tight layer")?, count(n, "tight neuron")?);
            if l == 0 || l > layers || n >= self.net.widths[l] {
                return Err(fails(
                    Claim::DomainProof,
                    "a tight bound names no neuron of the node's stated layers",
                ));
            }
            let upper = match side.as_str() {
                Some("upper") => true,
                Some("lower") => false,
                _ => return Err(unreadable("domain.proof: a tight side is upper or lower")),
            };
            let ys = ys
                .as_array()
                .ok_or_else(|| unreadable("domain.proof: tight multipliers must be a list"))?;
            out.push((l, n, upper, ys.as_slice()));
        }
        Ok(out)
    }

    /// Reads and verifies stated bounds of layers `1..=layers`. Each neuron's reference
    /// interval is its interval from the stated bounds of the layer before, intersected
    /// with the inherited bounds and with what the node's `tight` multipliers prove
    /// (rows of the layers before it only), then clipped by the fixing; the stated bounds
    /// must contain it.
    fn bounds(
        &mut self,
        v: Option<&Value>,
        tight: Option<&Value>,
        layers: usize,
    ) -> Result<Vec<Vec<Interval>>, CheckError> {
        let tight = self.tight_list(tight, layers)?;
        let list = v
            .and_then(Value::as_array)
            .filter(|l| l.len() == layers)
            .ok_or_else(|| {
                unreadable(format!(
                    "domain.proof: a node's bounds must list {layers} layers"
                ))
            })?;
        let mut out: Vec<Vec<Interval>> = Vec::with_capacity(layers);
        for (li, layer) in list.iter().enumerate() {
            let l = li + 1;
            let width = self.net.widths[l];
            let entries = layer
                .as_array()
                .filter(|e| e.len() == width)
                .ok_or_else(|| {
                    unreadable(format!(
                        "domain.proof: bounds of layer {l}: expected {width} pairs"
                    ))
                })?;
            let inputs = self.inputs(l, &out);
            // what the multipliers prove for this layer, over the relaxation of the
            // layers before it
            let mut proven: Vec<(Option<BigRational>, Option<BigRational>)> =
                vec![(None, None); width];
            if tight.iter().any(|t| t.0 == l) {
                let rel = self.relaxation(out.clone());
                for &(tl, n, upper, ys) in &tight {
                    if tl != l {
                        continue;
                    }
                    let b = self.multiplier_bound(&rel, l, n, !upper, ys)?;
                    let slot = &mut proven[n];
                    if upper {
                        slot.1 = Some(slot.1.take().map_or(b.clone(), |u| u.min(b)));
                    } else {
                        let lo = -b;
                        slot.0 = Some(slot.0.take().map_or(lo.clone(), |x| x.max(lo)));
                    }
                }
            }
            let mut stated = Vec::with_capacity(width);
            for (n, e) in entries.iter().enumerate() {
                let (lo_s, hi_s) = match e.as_array().map(Vec::as_slice) {
                    Some([a, b]) => (number(a, "bound")?, number(b, "bound")?),
                    _ => return Err(unreadable("domain.proof: a bound is [\"L\", \"U\"]")),
                };
                let (mut lo, mut hi) = self.interval(l, n, &inputs)?;
                if let Some((ilo, ihi)) = self
                    .inherited
                    .as_ref()
                    .and_then(|b| b.get(l - 1))
                    .and_then(|b| b.get(n))
                {
                    lo = lo.max(ilo.clone());
                    hi = hi.min(ihi.clone());
                }
                if let Some(p) = &proven[n].0 {
                    lo = lo.max(p.clone());
                }
                if let Some(p) = &proven[n].1 {
                    hi = hi.min(p.clone());
                }
                match self.fix[l - 1][n] {
                    Some(false) if hi.is_positive() => hi = BigRational::zero(),
                    Some(true) if lo.is_negative() => lo = BigRational::zero(),
                    _ => {}
                }
                if lo_s > hi_s || lo_s > lo || hi_s < hi {
                    return Err(fails(
                        Claim::DomainProof,
                        format!(
                            "stated bounds [{}, {}] of neuron {n} of layer {l} do not contain the checker's interval [{}, {}]",
                            brief(&lo_s),
                            brief(&hi_s),
                            brief(&lo),
                            brief(&hi)
                        ),
                    ));
                }
                stated.push((lo_s, hi_s));
            }
            out.push(stated);
        }
        Ok(out)
    }

    /// Replays a node and its subtree; `open` lists the neurons of layer `k` not proven
    /// above. Returns the number of leaves.
    fn node(&mut self, open: &[usize], depth: usize) -> Result<usize, CheckError> {
        let node = self.next_node(depth)?.clone();
        if let Some(at) = node.get("empty") {
            let (l, n) = pair(at, "domain.proof: empty")?;
            if l == 0 || l >= self.k || n >= self.net.widths[l] {
                return Err(fails(
                    Claim::DomainProof,
                    "an empty node names no neuron below layer k",
                ));
            }
            let Some(active) = self.fix[l - 1][n] else {
                return Err(fails(
                    Claim::DomainProof,
                    "an empty node names a neuron that is not fixed",
                ));
            };
            let bounds = self.bounds(node.get("bounds"), node.get("tight"), l - 1)?;
            let inputs = self.inputs(l, &bounds);
            let (mut lo, mut hi) = self.interval(l, n, &inputs)?;
            if let Some((ilo, ihi)) = self
                .inherited
                .as_ref()
                .and_then(|b| b.get(l - 1))
                .and_then(|b| b.get(n))
            {
                lo = lo.max(ilo.clone());
                hi = hi.min(ihi.clone());
            }
            let contradiction = if active {
                hi.is_negative()
            } else {
                lo.is_positive()
            };
            if !contradiction {
                return Err(fails(
                    Claim::DomainProof,
                    format!(
                        "a node called empty is not: neuron {n} of layer {l} has interval [{}, {}]",
                        brief(&lo),
                        brief(&hi)
                    ),
                ));
            }
            return Ok(1);
        }
        let proofs = node
            .get("proofs")
            .and_then(Value::as_array)
            .ok_or_else(|| unreadable("domain.proof: a node needs \"proofs\" (a list)"))?;
        let mut rest: Vec<usize> = open.to_vec();
        // the bounds the children inherit: this node's when it states them (verified)
        let mut stated = None;
        if !proofs.is_empty() || node.get("tight").is_some() {
            let bounds = self.bounds(node.get("bounds"), node.get("tight"), self.k - 1)?;
            stated = Some(bounds.clone());
            let rel = self.relaxation(bounds);
            for entry in proofs {
                let (j, p) = match entry.as_array().map(Vec::as_slice) {
                    Some([j, p]) => (count(j, "proof neuron")?, p),
                    _ => return Err(unreadable("domain.proof: a proof is [neuron, proof]")),
                };
                let Some(at) = rest.iter().position(|&o| o == j) else {
                    return Err(fails(
                        Claim::DomainProof,
                        format!(
                            "neuron {j} of layer {} is proven twice or does not exist",
                            self.k
                        ),
                    ));
                };
                self.neuron(&rel, j, p)?;
                rest.remove(at);
            }
        }
        match node.get("split") {
            Some(Value::Null) | None => {
                if let Some(j) = rest.first() {
                    return Err(fails(
                        Claim::DomainProof,
                        format!("neuron {j} of layer {} is not proven on a leaf", self.k),
                    ));
                }
                Ok(1)
            }
            Some(Value::Array(at)) if at.len() == 3 => {
                let i = count(&at[0], "domain.proof: split").and_then(|l| match l {
                    0 => count(&at[1], "domain.proof: split input"),
                    _ => Err(fails(
                        Claim::DomainProof,
                        "a split with a threshold names no input (layer 0)",
                    )),
                })?;
                let t = number(&at[2], "domain.proof: split threshold")?;
                let Some((lo, hi)) = self.region.get(i).cloned() else {
                    return Err(fails(Claim::DomainProof, "an input split names no input"));
                };
                if t < lo || t > hi {
                    return Err(fails(
                        Claim::DomainProof,
                        format!(
                            "an input split of input {i} at {} lies outside the node's box [{}, {}]",
                            brief(&t),
                            brief(&lo),
                            brief(&hi)
                        ),
                    ));
                }
                let outer = match stated {
                    Some(b) => self.inherited.replace(b),
                    None => self.inherited.clone(),
                };
                self.region[i] = (lo.clone(), t.clone());
                let low = self.node(&rest, depth + 1);
                self.region[i] = (t, hi.clone());
                let high = low.and_then(|low| Ok(low + self.node(&rest, depth + 1)?));
                self.region[i] = (lo, hi);
                self.inherited = outer;
                high
            }
            Some(at) => {
                let (l, n) = pair(at, "domain.proof: split")?;
                if l == 0 || l >= self.k || n >= self.net.widths[l] || self.fix[l - 1][n].is_some()
                {
                    return Err(fails(
                        Claim::DomainProof,
                        "a split names no free neuron below layer k",
                    ));
                }
                let outer = match stated {
                    Some(b) => self.inherited.replace(b),
                    None => self.inherited.clone(),
                };
                self.fix[l - 1][n] = Some(false);
                let low = self.node(&rest, depth + 1);
                self.fix[l - 1][n] = Some(true);
                let high = low.and_then(|low| Ok(low + self.node(&rest, depth + 1)?));
                self.fix[l - 1][n] = None;
                self.inherited = outer;
                high
            }
        }
    }
}

/// Replays an `lp-branching` tree for layer `k` of `net` on `region`; the number of
/// leaves.
pub(crate) fn check_lp_tree(
    net: Net<'_>,
    k: usize,
    region: &[Interval],
    tree: &[Value],
) -> Result<usize, CheckError> {
    let fix = (1..k).map(|l| vec![None; net.widths[l]]).collect();
    let mut replay = Replay {
        net,
        k,
        region: region.to_vec(),
        tree,
        pos: 0,
        meter: Meter::new(),
        fix,
        inherited: None,
    };
    let open: Vec<usize> = (0..net.widths[k]).collect();
    let leaves = replay.node(&open, 0)?;
    if replay.pos != tree.len() {
        return Err(fails(
            Claim::DomainProof,
            "the proof tree has nodes past its end",
        ));
    }
    Ok(leaves)
}
