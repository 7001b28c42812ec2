//! The independent checker: re-verifies a certificate from the file alone.
//!
//! Deliberately small and separate: it parses the JSON itself, evaluates networks with
//! its own forward pass over plain `BigRational` vectors, and never calls the audit, the
//! network module or the optimizers. It names the first failing claim.

use super::certificate::{FORMAT, VERSION, digest_of};
use crate::scalar::{BigRational, parse_rational};
use num_traits::{Signed, Zero};
use serde_json::Value;

/// Why a certificate was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The file cannot be read or is not a certificate (exit 2).
    #[error("unreadable certificate: {0}")]
    Unreadable(String),
    /// A claim is false (exit 1).
    #[error("claim {claim:?} fails: {detail}")]
    ClaimFails {
        /// The claim's field.
        claim: &'static str,
        /// What was found.
        detail: String,
    },
}

type Matrix = Vec<Vec<BigRational>>;

fn unreadable(what: impl Into<String>) -> CheckError {
    CheckError::Unreadable(what.into())
}

fn fails(claim: &'static str, detail: impl Into<String>) -> CheckError {
    CheckError::ClaimFails {
        claim,
        detail: detail.into(),
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, CheckError> {
    v.get(name)
        .ok_or_else(|| unreadable(format!("missing field {name:?}")))
}

fn number(v: &Value, what: &str) -> Result<BigRational, CheckError> {
    match v {
        Value::String(s) => parse_rational(s).map_err(|e| unreadable(format!("{what}: {e}"))),
        _ => Err(unreadable(format!("{what}: expected an exact string"))),
    }
}

fn vector(v: &Value, what: &str) -> Result<Vec<BigRational>, CheckError> {
    let items = v
        .as_array()
        .ok_or_else(|| unreadable(format!("{what}: expected a list")))?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| number(x, &format!("{what}[{i}]")))
        .collect()
}

fn matrix(v: &Value, what: &str) -> Result<Matrix, CheckError> {
    let rows = v
        .as_array()
        .ok_or_else(|| unreadable(format!("{what}: expected a list of rows")))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| vector(r, &format!("{what}[{i}]")))
        .collect()
}

fn count(v: &Value, what: &str) -> Result<usize, CheckError> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| unreadable(format!("{what}: expected a non-negative integer")))
}

/// The checker's own forward pass: pre-activations `z_1..z_L` at `x`.
fn forward(widths: &[usize], theta: &[BigRational], x: &[BigRational]) -> Matrix {
    let mut pre = Vec::new();
    let mut input: Vec<BigRational> = x.to_vec();
    let mut offset = 0;
    for k in 1..widths.len() {
        let (rows, cols) = (widths[k], widths[k - 1]);
        let weights = &theta[offset..offset + rows * cols];
        let biases = &theta[offset + rows * cols..offset + rows * cols + rows];
        offset += rows * (cols + 1);
        let z: Vec<BigRational> = (0..rows)
            .map(|j| {
                (0..cols).fold(biases[j].clone(), |acc, i| {
                    acc + &weights[j * cols + i] * &input[i]
                })
            })
            .collect();
        input = z
            .iter()
            .map(|v| {
                if v.is_positive() {
                    v.clone()
                } else {
                    BigRational::zero()
                }
            })
            .collect();
        pre.push(z);
    }
    pre
}

fn risk(widths: &[usize], theta: &[BigRational], xs: &Matrix, ys: &Matrix) -> BigRational {
    let total = xs.iter().zip(ys).fold(BigRational::zero(), |acc, (x, y)| {
        let pre = forward(widths, theta, x);
        let out = pre.last().expect("at least one layer");
        out.iter()
            .zip(y)
            .fold(acc, |a, (o, t)| a + (o - t) * (o - t))
    });
    total / BigRational::from_integer((xs.len() as i64).into())
}

fn show(q: &BigRational) -> String {
    crate::scalar::rational_string(q)
}

/// Verifies every claim of a certificate (see [`super::certificate`]) with exact
/// arithmetic. Returns a summary line on success.
///
/// # Errors
/// [`CheckError::Unreadable`] for malformed input, [`CheckError::ClaimFails`] naming the
/// first false claim.
pub fn check_certificate(text: &str) -> Result<String, CheckError> {
    let cert: Value =
        serde_json::from_str(text).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    if field(&cert, "format")?.as_str() != Some(FORMAT) {
        return Err(unreadable(format!("format is not {FORMAT:?}")));
    }
    if field(&cert, "version")?.as_u64() != Some(VERSION) {
        return Err(unreadable(format!(
            "unsupported version (this checker reads version {VERSION})"
        )));
    }
    if field(&cert, "claim")?.as_str() != Some("non-convergence") {
        return Err(fails(
            "claim",
            "only \"non-convergence\" certificates exist",
        ));
    }
    // architecture
    let widths: Vec<usize> = field(&cert, "arch")?
        .as_array()
        .ok_or_else(|| unreadable("arch: expected a list"))?
        .iter()
        .map(|w| count(w, "arch"))
        .collect::<Result<_, _>>()?;
    if widths.len() < 3 || widths.contains(&0) {
        return Err(fails("arch", "needs L >= 2 and every width >= 1"));
    }
    let params = widths.windows(2).try_fold(0usize, |acc, w| {
        w[1].checked_mul(w[0] + 1).and_then(|n| acc.checked_add(n))
    });
    let params = params.ok_or_else(|| fails("arch", "parameter count overflows"))?;
    let depth = widths.len() - 1;
    // data
    let data = field(&cert, "data")?;
    let xs = matrix(field(data, "x")?, "data.x")?;
    let ys = matrix(field(data, "y")?, "data.y")?;
    if xs.is_empty() || xs.len() != ys.len() {
        return Err(fails(
            "data",
            format!("{} inputs and {} targets", xs.len(), ys.len()),
        ));
    }
    if xs.iter().any(|x| x.len() != widths[0]) || ys.iter().any(|y| y.len() != widths[depth]) {
        return Err(fails("data", "a point does not fit the architecture"));
    }
    // theta_0
    let theta0 = vector(field(&cert, "theta0")?, "theta0")?;
    if theta0.len() != params {
        return Err(fails(
            "theta0",
            format!("{} entries, the architecture has {params}", theta0.len()),
        ));
    }
    // dead layer and its pre-activations
    let k = count(field(&cert, "dead_layer")?, "dead_layer")?;
    if !(1..depth).contains(&k) {
        return Err(fails(
            "dead_layer",
            format!("{k} is not a hidden layer (1..{})", depth - 1),
        ));
    }
    let claimed_pre = field(&cert, "preactivations")?
        .as_array()
        .ok_or_else(|| unreadable("preactivations: expected a list"))?;
    if claimed_pre.len() != xs.len() {
        return Err(fails("preactivations", "one entry per data point expected"));
    }
    let constant = vector(field(&cert, "constant_value")?, "constant_value")?;
    for (m, (x, claimed)) in xs.iter().zip(claimed_pre).enumerate() {
        let pre = forward(&widths, &theta0, x);
        let claimed = matrix(claimed, &format!("preactivations[{m}]"))?;
        if claimed.len() != k || claimed.iter().zip(&pre).any(|(c, z)| c != z) {
            return Err(fails(
                "preactivations",
                format!("point {m}: pre-activations of layers 1..{k} differ from a forward pass"),
            ));
        }
        if let Some((j, z)) = pre[k - 1].iter().enumerate().find(|(_, z)| z.is_positive()) {
            return Err(fails(
                "dead_layer",
                format!(
                    "neuron {j} of layer {k} is active at point {m} (z = {})",
                    show(z)
                ),
            ));
        }
        if pre[depth - 1] != constant {
            return Err(fails(
                "constant_value",
                format!("the output at point {m} differs"),
            ));
        }
    }
    // risks
    let r0 = risk(&widths, &theta0, &xs, &ys);
    if number(field(&cert, "risk_theta0")?, "risk_theta0")? != r0 {
        return Err(fails("risk_theta0", format!("recomputed {}", show(&r0))));
    }
    let m = BigRational::from_integer((xs.len() as i64).into());
    let mean: Vec<BigRational> = (0..widths[depth])
        .map(|o| ys.iter().fold(BigRational::zero(), |a, y| a + &y[o]) / &m)
        .collect();
    let v = ys.iter().fold(BigRational::zero(), |a, y| {
        y.iter()
            .zip(&mean)
            .fold(a, |b, (t, c)| b + (t - c) * (t - c))
    }) / &m;
    if number(field(&cert, "best_constant_risk")?, "best_constant_risk")? != v {
        return Err(fails(
            "best_constant_risk",
            format!("recomputed V = {}", show(&v)),
        ));
    }
    if r0 < v {
        return Err(fails(
            "risk_theta0",
            "below V, impossible for a constant realization",
        ));
    }
    let frozen = widths[..=k]
        .windows(2)
        .map(|w| w[1] * (w[0] + 1))
        .sum::<usize>()
        + widths[k + 1] * widths[k];
    if count(field(&cert, "frozen_coordinates")?, "frozen_coordinates")? != frozen {
        return Err(fails(
            "frozen_coordinates",
            format!("layers 1..{k} and W_{} have {frozen} coordinates", k + 1),
        ));
    }
    // witness
    let witness = field(&cert, "witness")?;
    let theta_star = vector(field(witness, "theta")?, "witness.theta")?;
    if theta_star.len() != params {
        return Err(fails(
            "witness",
            format!(
                "{} entries, the architecture has {params}",
                theta_star.len()
            ),
        ));
    }
    let rw = risk(&widths, &theta_star, &xs, &ys);
    if number(field(witness, "risk")?, "witness.risk")? != rw {
        return Err(fails(
            "witness",
            format!("claimed risk differs from the recomputed {}", show(&rw)),
        ));
    }
    if rw >= v {
        return Err(fails(
            "witness",
            format!("risk {} is not below V = {}", show(&rw), show(&v)),
        ));
    }
    // the whole box, when claimed
    let mut on_box = String::new();
    if let Some(domain) = cert.get("domain") {
        let bounds = vector(field(domain, "box")?, "domain.box")?;
        let [a, b] = <[BigRational; 2]>::try_from(bounds)
            .map_err(|_| unreadable("domain.box: expected [A, B]"))?;
        if a > b {
            return Err(fails("domain", "the box is empty (A > B)"));
        }
        if count(field(domain, "layer")?, "domain.layer")? != k {
            return Err(fails(
                "domain",
                "the box claim is about another layer than dead_layer",
            ));
        }
        if let Some(m) = xs.iter().position(|x| x.iter().any(|v| *v < a || *v > b)) {
            return Err(fails(
                "domain",
                format!("data point {m} lies outside the box"),
            ));
        }
        let region = vec![(a.clone(), b.clone()); widths[0]];
        let regions = check_box_proof(&widths, &theta0, k, &region, field(domain, "proof")?)?;
        on_box = format!(
            "; layer {k} is dead on the whole box [{}, {}]^{} ({regions} regions re-proven)",
            show(&a),
            show(&b),
            widths[0]
        );
    }
    // integrity
    let digest = field(&cert, "digest")?
        .as_str()
        .ok_or_else(|| unreadable("digest: expected a string"))?;
    if digest != digest_of(&cert) {
        return Err(fails(
            "digest",
            "the SHA-256 of the certificate's content does not match (edited after it was written)",
        ));
    }
    Ok(format!(
        "valid: layer {k} of {} is dead on all {} points (exact), the realization is constant, V = {}, witness risk {} < V{on_box}",
        widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(","),
        xs.len(),
        show(&v),
        show(&rw)
    ))
}

/// Deepest proof tree the checker walks (a guard against hostile input).
const MAX_TREE_DEPTH: usize = 512;

/// Interval bounds (the checker's own) of the pre-activations of layer `k` over a box.
fn interval_bounds(
    widths: &[usize],
    theta: &[BigRational],
    k: usize,
    region: &[(BigRational, BigRational)],
) -> Vec<(BigRational, BigRational)> {
    let mut input = region.to_vec();
    let mut offset = 0;
    let mut z = Vec::new();
    for l in 1..=k {
        let (rows, cols) = (widths[l], widths[l - 1]);
        let weights = &theta[offset..offset + rows * cols];
        let biases = &theta[offset + rows * cols..offset + rows * cols + rows];
        offset += rows * (cols + 1);
        z = (0..rows)
            .map(|j| {
                (0..cols).fold((biases[j].clone(), biases[j].clone()), |(lo, hi), i| {
                    let w = &weights[j * cols + i];
                    let (a, b) = (w * &input[i].0, w * &input[i].1);
                    if a <= b {
                        (lo + a, hi + b)
                    } else {
                        (lo + b, hi + a)
                    }
                })
            })
            .collect();
        let relu = |v: &BigRational| {
            if v.is_positive() {
                v.clone()
            } else {
                BigRational::zero()
            }
        };
        input = z.iter().map(|(lo, hi)| (relu(lo), relu(hi))).collect();
    }
    z
}

/// Affine function `a.x + c` in the checker's phase replay.
type Form = (Vec<BigRational>, BigRational);

fn eval(f: &Form, x: &[BigRational]) -> BigRational {
    f.0.iter()
        .zip(x)
        .fold(f.1.clone(), |acc, (a, x)| acc + a * x)
}

/// A polytope `{x : a.x <= b}` with its vertices (the checker's own enumeration).
#[derive(Clone)]
struct Region {
    halfspaces: Vec<Form>,
    vertices: Vec<Vec<BigRational>>,
}

/// Gauss-Jordan elimination on `[A | b]`; `None` if singular.
fn gauss(mut rows: Vec<Vec<BigRational>>) -> Option<Vec<BigRational>> {
    let n = rows.len();
    for c in 0..n {
        let p = (c..n).find(|&r| !rows[r][c].is_zero())?;
        rows.swap(c, p);
        for r in 0..n {
            if r != c && !rows[r][c].is_zero() {
                let f = &rows[r][c] / &rows[c][c];
                let pivot = rows[c].clone();
                for (v, p) in rows[r].iter_mut().zip(&pivot).skip(c) {
                    *v -= &f * p;
                }
            }
        }
    }
    Some(
        rows.iter()
            .enumerate()
            .map(|(i, r)| &r[n] / &r[i])
            .collect(),
    )
}

impl Region {
    fn of_box(region: &[(BigRational, BigRational)]) -> Self {
        let d = region.len();
        let unit = |i: usize, s: i64| -> Vec<BigRational> {
            (0..d)
                .map(|j| BigRational::from_integer(if i == j { s.into() } else { 0.into() }))
                .collect()
        };
        // a.x <= b stored as (a, -b) so that eval(h, x) <= 0 means inside
        let halfspaces = region
            .iter()
            .enumerate()
            .flat_map(|(i, (lo, hi))| [(unit(i, 1), -hi), (unit(i, -1), lo.clone())])
            .collect();
        let mut vertices: Vec<Vec<BigRational>> = vec![vec![]];
        for (lo, hi) in region {
            let mut next = Vec::new();
            for v in &vertices {
                for x in [lo, hi] {
                    let mut w = v.clone();
                    w.push(x.clone());
                    next.push(w);
                }
            }
            vertices = next;
        }
        vertices.sort();
        vertices.dedup();
        Self {
            halfspaces,
            vertices,
        }
    }

    /// The region intersected with `h(x) <= 0`.
    fn with(&self, h: Form) -> Self {
        let d = h.0.len();
        let inside = |hs: &[Form], x: &[BigRational]| hs.iter().all(|g| !eval(g, x).is_positive());
        let mut vertices: Vec<Vec<BigRational>> = self
            .vertices
            .iter()
            .filter(|v| !eval(&h, v).is_positive())
            .cloned()
            .collect();
        if h.0.iter().any(|a| !a.is_zero()) && d >= 1 {
            // new vertices lie on h = 0 and on d-1 old faces
            let n = self.halfspaces.len();
            let mut pick: Vec<usize> = (0..d - 1).collect();
            'subsets: loop {
                if d - 1 <= n {
                    let mut rows = vec![h.0.iter().cloned().chain([-&h.1]).collect::<Vec<_>>()];
                    for &i in &pick {
                        let g = &self.halfspaces[i];
                        rows.push(g.0.iter().cloned().chain([-&g.1]).collect());
                    }
                    if let Some(x) = gauss(rows)
                        && inside(&self.halfspaces, &x)
                    {
                        vertices.push(x);
                    }
                } else {
                    break 'subsets;
                }
                // next (d-1)-subset of 0..n
                let m = d - 1;
                let mut i = m;
                loop {
                    if i == 0 {
                        break 'subsets;
                    }
                    i -= 1;
                    if pick[i] < n - m + i {
                        pick[i] += 1;
                        for j in i + 1..m {
                            pick[j] = pick[j - 1] + 1;
                        }
                        break;
                    }
                }
            }
        }
        vertices.sort();
        vertices.dedup();
        let mut halfspaces = self.halfspaces.clone();
        halfspaces.push(h);
        Self {
            halfspaces,
            vertices,
        }
    }

    /// Smallest and largest value of `f` on the region (`None` if empty).
    fn range(&self, f: &Form) -> Option<(BigRational, BigRational)> {
        let mut values = self.vertices.iter().map(|v| eval(f, v));
        let first = values.next()?;
        Some(values.fold((first.clone(), first), |(lo, hi), v| {
            if v < lo {
                (v, hi)
            } else if v > hi {
                (lo, v)
            } else {
                (lo, hi)
            }
        }))
    }
}

struct Replay<'a> {
    widths: &'a [usize],
    theta: &'a [BigRational],
    k: usize,
    tree: &'a [Value],
    pos: usize,
}

impl Replay<'_> {
    fn weight_offset(&self, l: usize) -> usize {
        self.widths[..l].windows(2).map(|w| w[1] * (w[0] + 1)).sum()
    }

    /// The affine pre-activation of neuron `j` of layer `l` given the previous outputs.
    fn form(&self, l: usize, j: usize, prev: &[Form]) -> Form {
        let (rows, cols) = (self.widths[l], self.widths[l - 1]);
        let off = self.weight_offset(l);
        let d = self.widths[0];
        let mut f: Form = (
            vec![BigRational::zero(); d],
            self.theta[off + rows * cols + j].clone(),
        );
        for (i, out) in prev.iter().enumerate() {
            let w = &self.theta[off + j * cols + i];
            for (a, o) in f.0.iter_mut().zip(&out.0) {
                *a += w * o;
            }
            f.1 += w * &out.1;
        }
        f
    }

    fn next_node(&mut self) -> Result<&Value, CheckError> {
        let node = self
            .tree
            .get(self.pos)
            .ok_or_else(|| fails("domain", "the proof tree ends early"))?;
        self.pos += 1;
        Ok(node)
    }

    fn split(
        &mut self,
        region: Vec<(BigRational, BigRational)>,
        depth: usize,
    ) -> Result<usize, CheckError> {
        if depth > MAX_TREE_DEPTH {
            return Err(fails("domain", "the proof tree is too deep"));
        }
        let node = self.next_node()?.clone();
        if node.as_str() == Some("ibp") {
            let z = interval_bounds(self.widths, self.theta, self.k, &region);
            if let Some((j, (_, hi))) = z.iter().enumerate().find(|(_, (_, hi))| hi.is_positive()) {
                return Err(fails(
                    "domain",
                    format!(
                        "interval bounds do not prove neuron {j} of layer {} inactive on a leaf box (upper bound {})",
                        self.k,
                        show(hi)
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
        let at = number(&spec[1], "split point")?;
        if axis >= region.len() || at < region[axis].0 || at > region[axis].1 {
            return Err(fails("domain", "a split lies outside its box"));
        }
        let mut low = region.clone();
        let mut high = region;
        low[axis].1 = at.clone();
        high[axis].0 = at;
        Ok(self.split(low, depth + 1)? + self.split(high, depth + 1)?)
    }

    /// Walks neurons from `at` up to (not including) `until`, each forced on `region`.
    fn forced(
        &self,
        region: &Region,
        at: &mut (usize, usize),
        until: (usize, usize),
        prev: &mut Vec<Form>,
        cur: &mut Vec<Form>,
    ) -> Result<(), CheckError> {
        let d = self.widths[0];
        while *at < until {
            let (l, n) = *at;
            let f = self.form(l, n, prev);
            let Some((lo, hi)) = region.range(&f) else {
                return Ok(()); // an empty region: nothing to prove
            };
            if !hi.is_positive() {
                cur.push((vec![BigRational::zero(); d], BigRational::zero()));
            } else if !lo.is_negative() {
                cur.push(f);
            } else {
                return Err(fails(
                    "domain",
                    format!(
                        "neuron {n} of layer {l} changes sign on a region and the proof does not branch on it"
                    ),
                ));
            }
            *at = if n + 1 == self.widths[l] {
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
        if depth > MAX_TREE_DEPTH {
            return Err(fails("domain", "the proof tree is too deep"));
        }
        let node = self.next_node()?.clone();
        let end = (self.k, 0);
        if node.as_str() == Some("forced") {
            self.forced(&region, &mut at, end, &mut prev, &mut cur)?;
            for j in 0..self.widths[self.k] {
                let f = self.form(self.k, j, &prev);
                if let Some((_, hi)) = region.range(&f)
                    && hi.is_positive()
                {
                    return Err(fails(
                        "domain",
                        format!(
                            "neuron {j} of layer {} reaches {} on a region",
                            self.k,
                            show(&hi)
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
        if target < at || target >= end || target.1 >= self.widths[target.0] {
            return Err(fails("domain", "a branch names a neuron out of order"));
        }
        self.forced(&region, &mut at, target, &mut prev, &mut cur)?;
        if at != target {
            return Ok(1); // the region was empty
        }
        let f = self.form(target.0, target.1, &prev);
        let d = self.widths[0];
        let zero: Form = (vec![BigRational::zero(); d], BigRational::zero());
        let neg: Form = (f.0.iter().map(|v| -v).collect(), -&f.1);
        let next = if target.1 + 1 == self.widths[target.0] {
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
            total += self.phases(region.with(h), next, p, c, depth + 1)?;
        }
        Ok(total)
    }
}

/// The largest input dimension of a phase-branching proof the checker accepts.
pub const MAX_PHASE_DIM: usize = 4;

/// Verifies a proof that hidden layer `k` is dead on the box `region` (the `proof` object
/// of a certificate's `domain` section, see [`crate::activity::domain::DeadProof`]) with
/// the checker's own interval bounds, affine forms and vertex enumeration. Returns the
/// number of regions.
///
/// # Errors
/// [`CheckError::ClaimFails`] naming what does not hold, [`CheckError::Unreadable`] for a
/// malformed proof.
pub fn check_box_proof(
    widths: &[usize],
    theta: &[BigRational],
    k: usize,
    region: &[(BigRational, BigRational)],
    proof: &Value,
) -> Result<usize, CheckError> {
    let tree = field(proof, "tree")?
        .as_array()
        .ok_or_else(|| unreadable("domain.proof.tree: expected a list"))?;
    let mut replay = Replay {
        widths,
        theta,
        k,
        tree,
        pos: 0,
    };
    let regions = match field(proof, "method")?.as_str() {
        Some("input-splitting") => replay.split(region.to_vec(), 0)?,
        Some("phase-branching") => {
            let d = widths[0];
            if d > MAX_PHASE_DIM {
                return Err(unreadable(format!(
                    "phase-branching proofs are checked for at most {MAX_PHASE_DIM} inputs"
                )));
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
        _ => {
            return Err(unreadable(
                "domain.proof.method: input-splitting or phase-branching",
            ));
        }
    };
    if replay.pos != tree.len() {
        return Err(fails("domain", "the proof tree has nodes past its end"));
    }
    Ok(regions)
}

/// Verifies an `alive` answer: `witness` lies in the box and neuron `neuron` of layer `k`
/// is positive there (the checker's own forward pass). Returns the pre-activation.
///
/// # Errors
/// [`CheckError::ClaimFails`] if not.
pub fn check_alive_witness(
    widths: &[usize],
    theta: &[BigRational],
    k: usize,
    region: &[(BigRational, BigRational)],
    witness: &[BigRational],
    neuron: usize,
) -> Result<BigRational, CheckError> {
    if witness.len() != region.len()
        || witness
            .iter()
            .zip(region)
            .any(|(x, (lo, hi))| x < lo || x > hi)
    {
        return Err(fails("witness", "the point is not in the box"));
    }
    let z = forward(widths, theta, witness)
        .get(k - 1)
        .and_then(|z| z.get(neuron))
        .cloned()
        .ok_or_else(|| fails("witness", "no such neuron"))?;
    if !z.is_positive() {
        return Err(fails(
            "witness",
            format!("pre-activation {} is not positive", show(&z)),
        ));
    }
    Ok(z)
}
