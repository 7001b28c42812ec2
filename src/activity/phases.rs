//! A complete exact decision of "layer `k` is dead on a box" by branching over ReLU
//! phases, with an exact linear program solved by vertex enumeration.
//!
//! On a region where the phase (active or inactive) of every neuron of layers `1..k-1`
//! is fixed, the pre-activations of layer `k` are affine in `x`, and so is every earlier
//! pre-activation. The regions are convex polytopes (the box cut by the half-spaces of the
//! phases), kept with their constraints *and their vertices*: the largest and smallest
//! value of an affine function over a bounded polytope is attained at a vertex, so every
//! bound here is exact. Neurons are visited in order (layer 1 first); a neuron whose range
//! over the region is `<= 0` or `>= 0` has its phase forced, otherwise the region is cut in
//! two by its zero hyperplane (a point with `z = 0` belongs to both sides: there the two
//! affine forms agree, since `ReLU(0) = 0`). At layer `k` either every neuron has maximum
//! `<= 0` on the region, or a vertex where one is positive is a *witness*: an exact
//! rational point of the box, confirmed by a forward pass.
//!
//! Cutting a polytope by `a.x <= b` keeps the old vertices that satisfy it and adds the
//! solutions of the `d x d` systems made of `a.x = b` and `d-1` old constraints that
//! satisfy every constraint: `C(n-1, d-1)` exact solves for `n` constraints. That is why
//! the method is limited to small input dimension ([`MAX_DIM`]); the number of regions
//! grows with the number of linear pieces of the network on the box, and a budget of
//! regions stops it with `unknown`.
//!
//! Unlike input splitting with interval bounds, this terminates on every network, also
//! when the largest pre-activation of the layer is exactly 0 on the box.

use crate::net::Network;
use crate::scalar::BigRational;
use num_traits::{Signed, Zero};

/// The largest input dimension the vertex enumeration accepts.
pub const MAX_DIM: usize = 4;

/// An affine function `a.x + c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    /// Coefficients.
    pub a: Vec<BigRational>,
    /// Constant.
    pub c: BigRational,
}

impl Affine {
    fn zero(d: usize) -> Self {
        Self {
            a: vec![BigRational::zero(); d],
            c: BigRational::zero(),
        }
    }
    /// The value at `x`.
    pub fn at(&self, x: &[BigRational]) -> BigRational {
        self.a
            .iter()
            .zip(x)
            .fold(self.c.clone(), |acc, (a, x)| acc + a * x)
    }
}

/// A bounded convex polytope `{x : a_i.x <= b_i}` with its vertices.
#[derive(Debug, Clone)]
pub struct Polytope {
    d: usize,
    constraints: Vec<(Vec<BigRational>, BigRational)>,
    vertices: Vec<Vec<BigRational>>,
}

/// Solves the square system `rows x = rhs` exactly; `None` if it is singular.
pub fn solve(rows: &[&[BigRational]], rhs: &[&BigRational]) -> Option<Vec<BigRational>> {
    let d = rows.len();
    let mut m: Vec<Vec<BigRational>> = rows
        .iter()
        .zip(rhs)
        .map(|(r, b)| {
            let mut row = r.to_vec();
            row.push((*b).clone());
            row
        })
        .collect();
    for col in 0..d {
        let pivot = (col..d).find(|&r| !m[r][col].is_zero())?;
        m.swap(col, pivot);
        let p = m[col][col].clone();
        for v in m[col].iter_mut() {
            *v = &*v / &p;
        }
        for r in 0..d {
            if r != col && !m[r][col].is_zero() {
                let f = m[r][col].clone();
                let (pivot_row, row) = if r < col {
                    let (a, b) = m.split_at_mut(col);
                    (&b[0], &mut a[r])
                } else {
                    let (a, b) = m.split_at_mut(r);
                    (&a[col], &mut b[0])
                };
                for (v, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *v -= &f * p;
                }
            }
        }
    }
    Some(
        m.into_iter()
            .map(|mut row| row.pop().expect("d+1 entries"))
            .collect(),
    )
}

/// Every `size`-subset of `0..n`, in lexicographic order.
fn subsets(n: usize, size: usize, mut visit: impl FnMut(&[usize])) {
    if size > n {
        return;
    }
    let mut idx: Vec<usize> = (0..size).collect();
    loop {
        visit(&idx);
        let Some(i) = (0..size).rev().find(|&i| idx[i] < n - size + i) else {
            return;
        };
        idx[i] += 1;
        for j in i + 1..size {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

impl Polytope {
    /// The box `lo <= x <= hi`.
    pub fn from_box(region: &[(BigRational, BigRational)]) -> Self {
        let d = region.len();
        let mut constraints = Vec::with_capacity(2 * d);
        for (i, (lo, hi)) in region.iter().enumerate() {
            let mut up = vec![BigRational::zero(); d];
            up[i] = BigRational::from_integer(1.into());
            let down: Vec<BigRational> = up.iter().map(|v| -v).collect();
            constraints.push((up, hi.clone()));
            constraints.push((down, -lo));
        }
        let mut vertices = vec![Vec::with_capacity(d)];
        for (lo, hi) in region {
            vertices = vertices
                .into_iter()
                .flat_map(|v: Vec<BigRational>| {
                    [lo, hi].into_iter().map(move |x| {
                        let mut w = v.clone();
                        w.push(x.clone());
                        w
                    })
                })
                .collect();
        }
        vertices.sort();
        vertices.dedup();
        Self {
            d,
            constraints,
            vertices,
        }
    }

    /// The vertices.
    pub fn vertices(&self) -> &[Vec<BigRational>] {
        &self.vertices
    }

    fn satisfies(&self, x: &[BigRational], extra: Option<(&[BigRational], &BigRational)>) -> bool {
        let ok = |a: &[BigRational], b: &BigRational| {
            a.iter()
                .zip(x)
                .fold(BigRational::zero(), |acc, (a, x)| acc + a * x)
                <= *b
        };
        self.constraints.iter().all(|(a, b)| ok(a, b)) && extra.is_none_or(|(a, b)| ok(a, b))
    }

    /// The polytope cut by `a.x <= b`.
    pub fn cut(&self, a: &[BigRational], b: &BigRational) -> Self {
        let dot = |x: &[BigRational]| {
            a.iter()
                .zip(x)
                .fold(BigRational::zero(), |acc, (a, x)| acc + a * x)
        };
        let mut vertices: Vec<Vec<BigRational>> = self
            .vertices
            .iter()
            .filter(|v| dot(v) <= *b)
            .cloned()
            .collect();
        if a.iter().any(|v| !v.is_zero()) {
            let n = self.constraints.len();
            subsets(n, self.d - 1, |others| {
                let mut rows: Vec<&[BigRational]> = vec![a];
                let mut rhs = vec![b];
                for &o in others {
                    rows.push(&self.constraints[o].0);
                    rhs.push(&self.constraints[o].1);
                }
                if let Some(x) = solve(&rows, &rhs)
                    && self.satisfies(&x, None)
                {
                    vertices.push(x);
                }
            });
        }
        vertices.sort();
        vertices.dedup();
        let mut constraints = self.constraints.clone();
        constraints.push((a.to_vec(), b.clone()));
        Self {
            d: self.d,
            constraints,
            vertices,
        }
    }

    /// The smallest and largest value of `f` over the polytope with a vertex attaining
    /// the largest; `None` if the polytope is empty.
    pub fn range(&self, f: &Affine) -> Option<(BigRational, BigRational, &[BigRational])> {
        let mut values = self.vertices.iter().map(|v| (f.at(v), v));
        let (first, v0) = values.next()?;
        let (mut lo, mut hi, mut arg) = (first.clone(), first, v0);
        for (value, v) in values {
            if value < lo {
                lo = value;
            } else if value > hi {
                hi = value;
                arg = v;
            }
        }
        Some((lo, hi, arg))
    }
}

/// The proof of a `dead` answer: the tree of phase branches. Neurons are visited in order
/// (layer 1..k-1, neuron 0..); a neuron without a [`PhaseTree::Branch`] node has its
/// phase forced on the region, and at a [`PhaseTree::Leaf`] every later neuron is forced
/// and every neuron of layer `k` has maximum `<= 0` on the region.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseTree {
    /// The rest of the neurons are forced, and layer `k` is nonpositive on the region.
    Leaf,
    /// The region is cut by the zero hyperplane of neuron `neuron` of layer `layer`.
    Branch {
        /// Hidden layer (1-based).
        layer: usize,
        /// Neuron (0-based).
        neuron: usize,
        /// The part where its pre-activation is `<= 0`.
        inactive: Box<PhaseTree>,
        /// The part where it is `>= 0`.
        active: Box<PhaseTree>,
    },
}

impl PhaseTree {
    /// Leaves (regions) of the tree.
    pub fn regions(&self) -> usize {
        match self {
            PhaseTree::Leaf => 1,
            PhaseTree::Branch {
                inactive, active, ..
            } => inactive.regions() + active.regions(),
        }
    }
}

/// The outcome of [`decide_by_phases`].
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseDecision {
    /// Layer `k` is dead on the box; the tree proves it.
    Dead(PhaseTree),
    /// A vertex of a region where neuron `neuron` of layer `k` is positive.
    Alive {
        /// The point (in the box).
        witness: Vec<BigRational>,
        /// The neuron.
        neuron: usize,
        /// Its pre-activation there, from an exact forward pass.
        value: BigRational,
    },
    /// Stopped.
    Unknown(String),
}

enum Stop {
    Alive(Vec<BigRational>, usize),
    Budget,
}

struct Search<'a> {
    net: &'a Network<BigRational>,
    k: usize,
    regions: usize,
    budget: usize,
}

impl Search<'_> {
    /// The affine pre-activation of neuron `j` of layer `l` from the previous outputs.
    fn form(&self, l: usize, j: usize, prev: &[Affine]) -> Affine {
        let arch = self.net.arch();
        let p = self.net.params();
        let d = arch.inputs();
        let mut f = Affine {
            a: vec![BigRational::zero(); d],
            c: p[arch.bias_index(l, j)].clone(),
        };
        for (i, out) in prev.iter().enumerate() {
            let w = &p[arch.weight_index(l, j, i)];
            if w.is_zero() {
                continue;
            }
            for (fa, oa) in f.a.iter_mut().zip(&out.a) {
                *fa += w * oa;
            }
            f.c += w * &out.c;
        }
        f
    }

    fn explore(
        &mut self,
        poly: Polytope,
        (mut l, mut n): (usize, usize),
        mut prev: Vec<Affine>,
        mut cur: Vec<Affine>,
    ) -> Result<PhaseTree, Stop> {
        crate::cancel::point();
        self.regions += 1;
        if self.regions > self.budget {
            return Err(Stop::Budget);
        }
        let arch = self.net.arch();
        let d = arch.inputs();
        loop {
            if l == self.k {
                for j in 0..arch.width(l) {
                    let f = self.form(l, j, &prev);
                    if let Some((_, hi, arg)) = poly.range(&f)
                        && hi.is_positive()
                    {
                        return Err(Stop::Alive(arg.to_vec(), j));
                    }
                }
                return Ok(PhaseTree::Leaf);
            }
            let f = self.form(l, n, &prev);
            let Some((lo, hi, _)) = poly.range(&f) else {
                return Ok(PhaseTree::Leaf); // an empty region (not reached from a box)
            };
            if !hi.is_positive() {
                cur.push(Affine::zero(d));
            } else if !lo.is_negative() {
                cur.push(f);
            } else {
                let next = if n + 1 == arch.width(l) {
                    (l + 1, 0)
                } else {
                    (l, n + 1)
                };
                let split = |cur: &Vec<Affine>, out: Affine| {
                    let mut cur = cur.clone();
                    cur.push(out);
                    let mut prev = prev.clone();
                    if next.1 == 0 {
                        prev = std::mem::take(&mut cur);
                    }
                    (prev, cur)
                };
                let below = poly.cut(&f.a, &-&f.c);
                let neg: Vec<BigRational> = f.a.iter().map(|v| -v).collect();
                let above = poly.cut(&neg, &f.c);
                let (p0, c0) = split(&cur, Affine::zero(d));
                let inactive = self.explore(below, next, p0, c0)?;
                let (p1, c1) = split(&cur, f);
                let active = self.explore(above, next, p1, c1)?;
                return Ok(PhaseTree::Branch {
                    layer: l,
                    neuron: n,
                    inactive: Box::new(inactive),
                    active: Box::new(active),
                });
            }
            n += 1;
            if n == arch.width(l) {
                prev = std::mem::take(&mut cur);
                l += 1;
                n = 0;
            }
        }
    }
}

/// Decides whether hidden layer `k` of `net` is dead on `region` (a box) exactly, by
/// phase branching (see the module docs), exploring at most `budget` regions.
pub fn decide_by_phases(
    net: &Network<BigRational>,
    k: usize,
    region: &[(BigRational, BigRational)],
    budget: usize,
) -> PhaseDecision {
    let d = net.arch().inputs();
    if d > MAX_DIM {
        return PhaseDecision::Unknown(format!(
            "the exact phase method enumerates vertices and takes at most {MAX_DIM} inputs (this network has {d})"
        ));
    }
    let mut search = Search {
        net,
        k,
        regions: 0,
        budget,
    };
    // layer 1's pre-activations are affine in x: the identity as "layer 0 outputs"
    let identity: Vec<Affine> = (0..d)
        .map(|i| {
            let mut f = Affine::zero(d);
            f.a[i] = BigRational::from_integer(1.into());
            f
        })
        .collect();
    match search.explore(Polytope::from_box(region), (1, 0), identity, Vec::new()) {
        Ok(tree) => PhaseDecision::Dead(tree),
        Err(Stop::Alive(witness, neuron)) => {
            // the affine form is exact on the closed region, so the forward pass agrees;
            // a witness is only ever claimed after that forward pass confirms it
            let value = net.forward(&witness).pre[k - 1][neuron].clone();
            if value.is_positive() {
                PhaseDecision::Alive {
                    witness,
                    neuron,
                    value,
                }
            } else {
                PhaseDecision::Unknown(format!(
                    "internal inconsistency: an affine form is positive at a vertex where the forward pass gives {} (please report)",
                    crate::scalar::rational_string(&value)
                ))
            }
        }
        Err(Stop::Budget) => PhaseDecision::Unknown(format!(
            "{budget} phase regions explored without a decision (the network has too many linear pieces on the box for this budget)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;

    use crate::scalar::q;

    #[test]
    fn cutting_a_square_gives_the_triangle() {
        let square = Polytope::from_box(&[(q(0, 1), q(1, 1)), (q(0, 1), q(1, 1))]);
        assert_eq!(square.vertices().len(), 4);
        // x + y <= 1
        let tri = square.cut(&[q(1, 1), q(1, 1)], &q(1, 1));
        let mut v = tri.vertices().to_vec();
        v.sort();
        assert_eq!(
            v,
            vec![
                vec![q(0, 1), q(0, 1)],
                vec![q(0, 1), q(1, 1)],
                vec![q(1, 1), q(0, 1)]
            ]
        );
        let f = Affine {
            a: vec![q(2, 1), q(1, 1)],
            c: q(-1, 2),
        };
        let (lo, hi, arg) = tri.range(&f).unwrap();
        assert_eq!(
            (lo, hi, arg.to_vec()),
            (q(-1, 2), q(3, 2), vec![q(1, 1), q(0, 1)])
        );
        // x + y <= -1 leaves nothing
        assert!(
            square
                .cut(&[q(1, 1), q(1, 1)], &q(-1, 1))
                .range(&f)
                .is_none()
        );
    }

    /// relu(x) - relu(x) is 0 everywhere: its maximum is exactly 0, which input
    /// splitting cannot prove; the phase method proves it dead.
    #[test]
    fn maximum_exactly_zero_is_decided() {
        let arch = Arch::new(vec![1, 2, 1, 1]).unwrap();
        let params = vec![
            q(1, 1),
            q(1, 1),
            q(0, 1),
            q(0, 1),
            q(1, 1),
            q(-1, 1),
            q(0, 1),
            q(1, 1),
            q(0, 1),
        ];
        let net = Network::new(arch, params).unwrap();
        let region = vec![(q(-1, 1), q(1, 1))];
        match decide_by_phases(&net, 2, &region, 100) {
            PhaseDecision::Dead(tree) => assert!(tree.regions() >= 2),
            other => panic!("{other:?}"),
        }
        // a bias of 1/1000 makes it alive everywhere
        let mut params = net.params().to_vec();
        params[6] = q(1, 1000);
        let net = Network::new(net.arch().clone(), params).unwrap();
        match decide_by_phases(&net, 2, &region, 100) {
            PhaseDecision::Alive { value, .. } => assert_eq!(value, q(1, 1000)),
            other => panic!("{other:?}"),
        }
    }
}
