//! Polytopes `{x : a.x <= b}` with their vertices, for phase-branching proofs: the
//! checker's own vertex enumeration (exact, metered).
//!
//! A region starts as a box (its `2^d` corners) and is cut by half-spaces; the vertices
//! of `P ∩ {h <= 0}` are the old vertices with `h <= 0` plus the points where `h = 0`
//! crosses an edge of `P` (see [`Region::with`]).
//! The range of an affine function over a bounded polytope is attained at its vertices.

use crate::CheckError;
use crate::limits::{Meter, bits};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// Affine function `a.x + c`.
pub type Form = (Vec<BigRational>, BigRational);

/// `f(x)`, metered.
///
/// # Errors
/// [`CheckError::TooLarge`] when the meter's budget is spent.
pub fn eval(f: &Form, x: &[BigRational], meter: &mut Meter) -> Result<BigRational, CheckError> {
    let mut acc = f.1.clone();
    for (a, v) in f.0.iter().zip(x) {
        if a.is_zero() || v.is_zero() {
            continue;
        }
        meter.op(bits(a), bits(v))?;
        acc += a * v;
    }
    Ok(acc)
}

/// A polytope with its vertices, and per vertex the set of half-spaces tight there.
#[derive(Clone, Debug)]
pub struct Region {
    /// `h` with `h(x) <= 0` inside.
    halfspaces: Vec<Form>,
    vertices: Vec<Vec<BigRational>>,
    /// `tight[v]`: bit `i` set when `halfspaces[i]` is `0` at vertex `v`.
    tight: Vec<Bits>,
}

/// A set of half-space indices.
type Bits = Vec<u64>;

fn set_bit(b: &mut Bits, i: usize) {
    if b.len() <= i / 64 {
        b.resize(i / 64 + 1, 0);
    }
    b[i / 64] |= 1 << (i % 64);
}

fn unit(d: usize, i: usize, s: i64) -> Vec<BigRational> {
    (0..d)
        .map(|j| BigRational::from_integer(if i == j { s.into() } else { 0.into() }))
        .collect()
}

/// The rank of `rows` (each of length `d`), by exact elimination, metered.
fn rank(mut rows: Vec<Vec<BigRational>>, meter: &mut Meter) -> Result<usize, CheckError> {
    let d = rows.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..d {
        let Some(p) = (r..rows.len()).find(|&i| !rows[i][c].is_zero()) else {
            continue;
        };
        rows.swap(r, p);
        let pivot = rows[r].clone();
        for row in rows.iter_mut().skip(r + 1) {
            if row[c].is_zero() {
                continue;
            }
            let f = &row[c] / &pivot[c];
            for (v, q) in row.iter_mut().zip(&pivot).skip(c) {
                meter.op(bits(&f), bits(q))?;
                *v -= &f * q;
            }
        }
        r += 1;
    }
    Ok(r)
}

impl Region {
    /// The box `prod [lo_i, hi_i]` (at most [`crate::limits::MAX_PHASE_DIM`] axes).
    pub fn of_box(region: &[(BigRational, BigRational)]) -> Self {
        let d = region.len();
        let halfspaces: Vec<Form> = region
            .iter()
            .enumerate()
            .flat_map(|(i, (lo, hi))| [(unit(d, i, 1), -hi), (unit(d, i, -1), lo.clone())])
            .collect();
        let mut vertices: Vec<Vec<BigRational>> = vec![vec![]];
        for (lo, hi) in region {
            vertices = vertices
                .iter()
                .flat_map(|v| {
                    [lo, hi].map(|x| {
                        let mut w = v.clone();
                        w.push(x.clone());
                        w
                    })
                })
                .collect();
        }
        vertices.sort();
        vertices.dedup();
        // corner v is tight at x_i <= hi_i where v_i = hi_i, at -x_i <= -lo_i where v_i = lo_i
        let tight = vertices
            .iter()
            .map(|v| {
                let mut b = Bits::new();
                for (i, (lo, hi)) in region.iter().enumerate() {
                    if v[i] == *hi {
                        set_bit(&mut b, 2 * i);
                    }
                    if v[i] == *lo {
                        set_bit(&mut b, 2 * i + 1);
                    }
                }
                b
            })
            .collect();
        Self {
            halfspaces,
            vertices,
            tight,
        }
    }

    /// The region intersected with `h(x) <= 0`.
    ///
    /// The vertices of `P ∩ {h <= 0}` are the vertices of `P` with `h <= 0` and the
    /// points where `h = 0` crosses an edge `[u, v]` of `P` with `h(u) > 0 > h(v)`
    /// (a vertex of the cut lies on a face of `P` of dimension at most 1). Two vertices
    /// are the ends of an edge exactly when the half-spaces tight at both have rank
    /// `d - 1` (the face they define is then 1-dimensional; for any polytope, of any
    /// dimension). The half-spaces tight at a crossing point are those tight at both
    /// ends (a linear function `<= 0` on a segment that is `0` inside it is `0` on all
    /// of it) and `h`. This costs a bit-set test per pair of vertices and a small
    /// elimination per candidate edge, instead of a system for every `(d-1)`-subset of
    /// the half-spaces (a chain of 60 cuts of a 4-cube took seconds that way).
    ///
    /// # Errors
    /// [`CheckError::TooLarge`] when the meter's budget is spent.
    pub fn with(&self, h: Form, meter: &mut Meter) -> Result<Self, CheckError> {
        let d = h.0.len();
        let index = self.halfspaces.len();
        let values: Vec<BigRational> = self
            .vertices
            .iter()
            .map(|v| eval(&h, v, meter))
            .collect::<Result<_, _>>()?;
        let (mut vertices, mut tight) = (Vec::new(), Vec::new());
        for ((v, t), hv) in self.vertices.iter().zip(&self.tight).zip(&values) {
            if !hv.is_positive() {
                let mut t = t.clone();
                if hv.is_zero() {
                    set_bit(&mut t, index);
                }
                vertices.push(v.clone());
                tight.push(t);
            }
        }
        let words = (index / 64 + 1) as u64;
        for (u, hu) in values.iter().enumerate().filter(|(_, h)| h.is_positive()) {
            for (v, hv) in values.iter().enumerate().filter(|(_, h)| h.is_negative()) {
                meter.charge(words)?;
                let (tu, tv) = (&self.tight[u], &self.tight[v]);
                let common: Bits = tu.iter().zip(tv).map(|(a, b)| a & b).collect();
                let count: u32 = common.iter().map(|w| w.count_ones()).sum();
                if (count as usize) + 1 < d {
                    continue; // fewer than d - 1 common faces: not an edge
                }
                if d > 1 {
                    let rows: Vec<Vec<BigRational>> = (0..index)
                        .filter(|&i| common.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1))
                        .map(|i| self.halfspaces[i].0.clone())
                        .collect();
                    if rank(rows, meter)? != d - 1 {
                        continue;
                    }
                }
                // x = u + t (v - u) with h(x) = 0: t = h(u) / (h(u) - h(v)) in (0, 1)
                let t = hu / &(hu - hv);
                let (pu, pv) = (&self.vertices[u], &self.vertices[v]);
                let mut x = Vec::with_capacity(d);
                for (a, b) in pu.iter().zip(pv) {
                    meter.op(bits(&t), bits(a) + bits(b))?;
                    x.push(a + &t * (b - a));
                }
                let mut t = common;
                set_bit(&mut t, index);
                vertices.push(x);
                tight.push(t);
            }
        }
        let mut halfspaces = self.halfspaces.clone();
        halfspaces.push(h);
        Ok(Self {
            halfspaces,
            vertices,
            tight,
        })
    }

    /// Smallest and largest value of `f` on the region (`None` if it is empty).
    ///
    /// # Errors
    /// [`CheckError::TooLarge`] when the meter's budget is spent.
    pub fn range(
        &self,
        f: &Form,
        meter: &mut Meter,
    ) -> Result<Option<(BigRational, BigRational)>, CheckError> {
        let mut out: Option<(BigRational, BigRational)> = None;
        for v in &self.vertices {
            let x = eval(f, v, meter)?;
            out = Some(match out {
                None => (x.clone(), x),
                Some((lo, hi)) if x < lo => (x, hi),
                Some((lo, hi)) if x > hi => (lo, x),
                Some(same) => same,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> BigRational {
        BigRational::from_integer(n.into())
    }

    /// Solves `A x = b` for a square system by Gauss-Jordan; `None` if singular.
    fn solve(mut rows: Vec<Vec<BigRational>>) -> Option<Vec<BigRational>> {
        let n = rows.len();
        for c in 0..n {
            let p = (c..n).find(|&r| !rows[r][c].is_zero())?;
            rows.swap(c, p);
            for r in 0..n {
                if r != c && !rows[r][c].is_zero() {
                    let f = &rows[r][c] / &rows[c][c];
                    let pivot = rows[c].clone();
                    for (v, p) in rows[r].iter_mut().zip(&pivot) {
                        *v -= &f * p;
                    }
                }
            }
        }
        Some((0..n).map(|i| &rows[i][n] / &rows[i][i]).collect())
    }

    /// The vertices by brute force: every `d`-subset of the half-spaces whose equalities
    /// have one solution lying in the polytope.
    fn brute_vertices(halfspaces: &[Form], d: usize) -> Vec<Vec<BigRational>> {
        let n = halfspaces.len();
        let mut out = Vec::new();
        let mut pick: Vec<usize> = (0..d).collect();
        loop {
            let rows = pick
                .iter()
                .map(|&i| {
                    let g = &halfspaces[i];
                    g.0.iter().cloned().chain([-&g.1]).collect()
                })
                .collect();
            if let Some(x) = solve(rows) {
                let mut meter = Meter::new();
                let inside = halfspaces
                    .iter()
                    .all(|g| !eval(g, &x, &mut meter).unwrap().is_positive());
                if inside {
                    out.push(x);
                }
            }
            let Some(i) = (0..d).rev().find(|&i| pick[i] < n - d + i) else {
                break;
            };
            pick[i] += 1;
            for j in i + 1..d {
                pick[j] = pick[j - 1] + 1;
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The incremental enumeration (edges by the rank test) finds exactly the vertices
    /// of brute force, cut after cut, degenerate cuts (through vertices, repeated,
    /// parallel, constant) included.
    #[test]
    fn cuts_keep_exactly_the_vertices() {
        let mut s: u64 = 12345;
        let mut next = |m: i64| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) % (2 * m as u64 + 1)) as i64 - m
        };
        for trial in 0..60 {
            let d = 1 + trial % 4;
            let cube: Vec<(BigRational, BigRational)> = (0..d).map(|_| (q(-2), q(2))).collect();
            let mut region = Region::of_box(&cube);
            let mut meter = Meter::new();
            for _ in 0..8 {
                // small coefficients make cuts through vertices and repeated faces common
                let h: Form = ((0..d).map(|_| q(next(2))).collect(), q(next(3)));
                region = region.with(h, &mut meter).unwrap();
                let mut got = region.vertices.clone();
                got.sort();
                got.dedup();
                assert_eq!(got.len(), region.vertices.len(), "duplicate vertices");
                assert_eq!(got, brute_vertices(&region.halfspaces, d), "d = {d}");
                if got.is_empty() {
                    break;
                }
            }
        }
    }
}
