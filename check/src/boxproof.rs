//! Replay of a proof that hidden layer `k` is dead on a box, and of an `alive` witness.
//!
//! A proof is `{"method": ..., "tree": [nodes in pre-order]}`:
//! - `input-splitting`: a node is `"ibp"` (a leaf: the checker's interval bounds show
//!   every neuron of layer `k` `<= 0` on the sub-box) or `{"split": [axis, at]}` followed
//!   by the low and the high half.
//! - `phase-branching` (at most [`MAX_PHASE_DIM`] inputs): a node is `"forced"` (a leaf:
//!   on the region every neuron up to layer `k` has a fixed phase, checked exactly over
//!   the region's vertices, and layer `k` is `<= 0`) or `{"branch": [layer, neuron]}`
//!   followed by the inactive (`z <= 0`) and the active (`z >= 0`) side.

use crate::exact::{Net, forward, relu};
use crate::limits::{
    Limit, MAX_PHASE_DIM, MAX_PROOF_DEPTH, MAX_PROOF_NODES, Meter, bits, too_large,
};
use crate::number::{brief, parse};
use crate::polytope::{Form, Region};
use crate::{CheckError, Claim, fails, unreadable};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;

type Interval = (BigRational, BigRational);

/// Interval bounds (the checker's own) of layer `k`'s pre-activations over a box.
fn interval_bounds(
    net: Net<'_>,
    k: usize,
    region: &[Interval],
    meter: &mut Meter,
) -> Result<Vec<Interval>, CheckError> {
    let mut input = region.to_vec();
    let mut z = Vec::new();
    for l in 1..=k {
        let (w, b) = net.layer(l);
        let cols = net.widths[l - 1];
        z = Vec::with_capacity(b.len());
        for (j, bias) in b.iter().enumerate() {
            let (mut lo, mut hi) = (bias.clone(), bias.clone());
            for (wji, (a_lo, a_hi)) in w[j * cols..(j + 1) * cols].iter().zip(&input) {
                if wji.is_zero() {
                    continue;
                }
                meter.op(bits(wji), bits(a_lo) + bits(a_hi))?;
                let (p, q) = (wji * a_lo, wji * a_hi);
                if p <= q {
                    lo += p;
                    hi += q;
                } else {
                    lo += q;
                    hi += p;
                }
            }
            z.push((lo, hi));
        }
        input = z.iter().map(|(lo, hi)| (relu(lo), relu(hi))).collect();
    }
    Ok(z)
}

/// A non-negative integer of a proof (an axis, a layer, a neuron).
pub(crate) fn count(v: &Value, what: &str) -> Result<usize, CheckError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| unreadable(format!("{what}: expected a non-negative integer")))
}

/// The node at `pos` of a proof tree in prefix order (advancing `pos`), refusing trees
/// deeper than [`MAX_PROOF_DEPTH`] and trees that end early.
pub(crate) fn next_node<'t>(
    tree: &'t [Value],
    pos: &mut usize,
    depth: usize,
) -> Result<&'t Value, CheckError> {
    if depth > MAX_PROOF_DEPTH {
        return Err(too_large(
            Limit::ProofDepth,
            format!("the proof tree is deeper than {MAX_PROOF_DEPTH}"),
        ));
    }
    let node = tree
        .get(*pos)
        .ok_or_else(|| fails(Claim::DomainProof, "the proof tree ends early"))?;
    *pos += 1;
    Ok(node)
}

struct Replay<'a> {
    net: Net<'a>,
    k: usize,
    tree: &'a [Value],
    pos: usize,
    meter: Meter,
}

impl Replay<'_> {
    fn next_node(&mut self, depth: usize) -> Result<&Value, CheckError> {
        next_node(self.tree, &mut self.pos, depth)
    }

    /// The affine pre-activation of neuron `j` of layer `l` given the previous outputs.
    fn form(&mut self, l: usize, j: usize, prev: &[Form]) -> Result<Form, CheckError> {
        let (w, b) = self.net.layer(l);
        let cols = self.net.widths[l - 1];
        let d = self.net.widths[0];
        let mut f: Form = (vec![BigRational::zero(); d], b[j].clone());
        for (wji, out) in w[j * cols..(j + 1) * cols].iter().zip(prev) {
            if wji.is_zero() {
                continue;
            }
            for (a, o) in f.0.iter_mut().zip(&out.0) {
                self.meter.op(bits(wji), bits(o))?;
                *a += wji * o;
            }
            self.meter.op(bits(wji), bits(&out.1))?;
            f.1 += wji * &out.1;
        }
        Ok(f)
    }

    fn split(&mut self, region: Vec<Interval>, depth: usize) -> Result<usize, CheckError> {
        let node = self.next_node(depth)?.clone();
        if node.as_str() == Some("ibp") {
            let z = interval_bounds(self.net, self.k, &region, &mut self.meter)?;
            let first_positive = z.iter().enumerate().find(|(_, (_, hi))| hi.is_positive());
            if let Some((j, (_, hi))) = first_positive {
                return Err(fails(
                    Claim::DomainProof,
                    format!(
                        "interval bounds do not prove neuron {j} of layer {} inactive on a leaf box (upper bound {})",
                        self.k,
                        brief(hi)
                    ),
                ));
            }
            return Ok(1);
        }
        let spec = node
            .get("split")
            .and_then(|s| s.as_array())
            .filter(|s| s.len() == 2)
            .ok_or_else(|| {
                unreadable("domain.proof.tree: expected \"ibp\" or {\"split\": [axis, at]}")
            })?;
        let axis = count(&spec[0], "split axis")?;
        let at = match &spec[1] {
            Value::String(s) => parse(s, "split point")?,
            _ => return Err(unreadable("split point: expected an exact string")),
        };
        if axis >= region.len() || at < region[axis].0 || at > region[axis].1 {
            return Err(fails(Claim::DomainProof, "a split lies outside its box"));
        }
        let mut low = region.clone();
        let mut high = region;
        low[axis].1 = at.clone();
        high[axis].0 = at;
        Ok(self.split(low, depth + 1)? + self.split(high, depth + 1)?)
    }

    /// Walks neurons from `at` up to (not including) `until`, each forced on `region`.
    fn forced(
        &mut self,
        region: &Region,
        at: &mut (usize, usize),
        until: (usize, usize),
        prev: &mut Vec<Form>,
        cur: &mut Vec<Form>,
    ) -> Result<(), CheckError> {
        let d = self.net.widths[0];
        while *at < until {
            let (l, n) = *at;
            let f = self.form(l, n, prev)?;
            let Some((lo, hi)) = region.range(&f, &mut self.meter)? else {
                return Ok(()); // an empty region: nothing to prove
            };
            if !hi.is_positive() {
                cur.push((vec![BigRational::zero(); d], BigRational::zero()));
            } else if !lo.is_negative() {
                cur.push(f);
            } else {
                return Err(fails(
                    Claim::DomainProof,
                    format!(
                        "neuron {n} of layer {l} changes sign on a region and the proof does not branch on it"
                    ),
                ));
            }
            *at = if n + 1 == self.net.widths[l] {
                *prev = std::mem::take(cur);
                (l + 1, 0)
            } else {
                (l, n + 1)
            };
        }
        Ok(())
    }

    fn phases(
        &mut self,
        region: Region,
        mut at: (usize, usize),
        mut prev: Vec<Form>,
        mut cur: Vec<Form>,
        depth: usize,
    ) -> Result<usize, CheckError> {
        let node = self.next_node(depth)?.clone();
        let end = (self.k, 0);
        if node.as_str() == Some("forced") {
            self.forced(&region, &mut at, end, &mut prev, &mut cur)?;
            for j in 0..self.net.widths[self.k] {
                let f = self.form(self.k, j, &prev)?;
                if let Some((_, hi)) = region.range(&f, &mut self.meter)?
                    && hi.is_positive()
                {
                    return Err(fails(
                        Claim::DomainProof,
                        format!(
                            "neuron {j} of layer {} reaches {} on a region",
                            self.k,
                            brief(&hi)
                        ),
                    ));
                }
            }
            return Ok(1);
        }
        let spec = node
            .get("branch")
            .and_then(|s| s.as_array())
            .filter(|s| s.len() == 2)
            .ok_or_else(|| {
                unreadable(
                    "domain.proof.tree: expected \"forced\" or {\"branch\": [layer, neuron]}",
                )
            })?;
        let target = (
            count(&spec[0], "branch layer")?,
            count(&spec[1], "branch neuron")?,
        );
        if target < at || target >= end || target.1 >= self.net.widths[target.0] {
            return Err(fails(
                Claim::DomainProof,
                "a branch names a neuron out of order",
            ));
        }
        self.forced(&region, &mut at, target, &mut prev, &mut cur)?;
        if at != target {
            return Ok(1); // the region was empty
        }
        let f = self.form(target.0, target.1, &prev)?;
        let d = self.net.widths[0];
        let zero: Form = (vec![BigRational::zero(); d], BigRational::zero());
        let neg: Form = (f.0.iter().map(|v| -v).collect(), -&f.1);
        let next = if target.1 + 1 == self.net.widths[target.0] {
            (target.0 + 1, 0)
        } else {
            (target.0, target.1 + 1)
        };
        let mut total = 0;
        for (h, out) in [(f.clone(), zero), (neg, f)] {
            let mut c = cur.clone();
            c.push(out);
            let (p, c) = if next.1 == 0 {
                (c, Vec::new())
            } else {
                (prev.clone(), c)
            };
            let sub = region.with(h, &mut self.meter)?;
            total += self.phases(sub, next, p, c, depth + 1)?;
        }
        Ok(total)
    }
}

fn check_shape(widths: &[usize], theta: &[BigRational], k: usize) -> Result<(), CheckError> {
    let params: Option<usize> = widths.windows(2).try_fold(0usize, |acc, w| {
        w[1].checked_mul(w[0].checked_add(1)?)
            .and_then(|n| acc.checked_add(n))
    });
    if widths.len() < 3 || params != Some(theta.len()) || !(1..widths.len() - 1).contains(&k) {
        return Err(unreadable(
            "the network does not match its widths, or the layer is not hidden",
        ));
    }
    Ok(())
}

/// Verifies a proof that hidden layer `k` is dead on the box `region` with the
/// checker's own interval bounds, affine forms and vertex enumeration. Returns the
/// number of regions.
///
/// # Errors
/// [`CheckError::ClaimFails`] with [`Claim::DomainProof`] naming what does not hold,
/// [`CheckError::Unreadable`] for a malformed proof, [`CheckError::TooLarge`] over a
/// limit.
pub fn check_box_proof(
    widths: &[usize],
    theta: &[BigRational],
    k: usize,
    region: &[(BigRational, BigRational)],
    proof: &Value,
) -> Result<usize, CheckError> {
    check_shape(widths, theta, k)?;
    if region.len() != widths[0] {
        return Err(unreadable("the box does not match the inputs"));
    }
    let tree = proof
        .get("tree")
        .and_then(|t| t.as_array())
        .ok_or_else(|| unreadable("domain.proof.tree: expected a list"))?;
    if tree.len() > MAX_PROOF_NODES {
        return Err(too_large(
            Limit::ProofNodes,
            format!("the proof tree has {} nodes", tree.len()),
        ));
    }
    let net = Net { widths, theta };
    let mut replay = Replay {
        net,
        k,
        tree,
        pos: 0,
        meter: Meter::new(),
    };
    let regions = match proof.get("method").and_then(|m| m.as_str()) {
        Some("input-splitting") => replay.split(region.to_vec(), 0)?,
        Some("phase-branching") => {
            let d = widths[0];
            if d > MAX_PHASE_DIM {
                return Err(too_large(
                    Limit::PhaseDimension,
                    format!("a phase-branching proof over {d} inputs"),
                ));
            }
            let identity: Vec<Form> = (0..d)
                .map(|i| {
                    let mut a = vec![BigRational::zero(); d];
                    a[i] = BigRational::from_integer(1.into());
                    (a, BigRational::zero())
                })
                .collect();
            replay.phases(Region::of_box(region), (1, 0), identity, Vec::new(), 0)?
        }
        // its own replay, which also checks that the tree ends where the proof does
        Some("lp-branching") => return crate::boxlp::check_lp_tree(net, k, region, tree),
        _ => {
            return Err(unreadable(
                "domain.proof.method: input-splitting, phase-branching or lp-branching",
            ));
        }
    };
    if replay.pos != tree.len() {
        return Err(fails(
            Claim::DomainProof,
            "the proof tree has nodes past its end",
        ));
    }
    Ok(regions)
}

/// Verifies an `alive` answer: `witness` lies in the box and neuron `neuron` of layer `k`
/// is positive there (the checker's own exact forward pass). Returns the pre-activation.
///
/// # Errors
/// [`CheckError::ClaimFails`] with [`Claim::AliveWitness`] if not.
pub fn check_alive_witness(
    widths: &[usize],
    theta: &[BigRational],
    k: usize,
    region: &[(BigRational, BigRational)],
    witness: &[BigRational],
    neuron: usize,
) -> Result<BigRational, CheckError> {
    check_shape(widths, theta, k)?;
    if witness.len() != region.len()
        || witness.len() != widths[0]
        || witness
            .iter()
            .zip(region)
            .any(|(x, (lo, hi))| x < lo || x > hi)
    {
        return Err(fails(Claim::AliveWitness, "the point is not in the box"));
    }
    let mut meter = Meter::new();
    let z = forward(Net { widths, theta }, witness, k, &mut meter)?
        .get(k - 1)
        .and_then(|z| z.get(neuron))
        .cloned()
        .ok_or_else(|| fails(Claim::AliveWitness, "no such neuron"))?;
    if !z.is_positive() {
        return Err(fails(
            Claim::AliveWitness,
            format!("pre-activation {} is not positive", brief(&z)),
        ));
    }
    Ok(z)
}
