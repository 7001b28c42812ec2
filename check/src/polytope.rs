//! Polytopes `{x : a.x <= b}` with their vertices, for phase-branching proofs: the
//! checker's own vertex enumeration (exact, metered).
//!
//! A region starts as a box (its `2^d` corners) and is cut by half-spaces; the vertices
//! of `P ∩ {h <= 0}` are the old vertices with `h <= 0` plus the points where `h = 0`
//! meets `d - 1` of the old faces (found by Gauss-Jordan elimination) and lie in `P`.
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

/// Gauss-Jordan elimination on `[A | b]` (`n` rows of `n + 1`); `None` if singular.
fn gauss(
    mut rows: Vec<Vec<BigRational>>,
    meter: &mut Meter,
) -> Result<Option<Vec<BigRational>>, CheckError> {
    let n = rows.len();
    for c in 0..n {
        let Some(p) = (c..n).find(|&r| !rows[r][c].is_zero()) else {
            return Ok(None);
        };
        rows.swap(c, p);
        for r in 0..n {
            if r != c && !rows[r][c].is_zero() {
                let f = &rows[r][c] / &rows[c][c];
                let pivot = rows[c].clone();
                for (v, p) in rows[r].iter_mut().zip(&pivot).skip(c) {
                    meter.op(bits(&f), bits(p))?;
                    *v -= &f * p;
                }
            }
        }
    }
    Ok(Some(
        rows.iter()
            .enumerate()
            .map(|(i, r)| &r[n] / &r[i])
            .collect(),
    ))
}

/// A polytope with its vertices.
#[derive(Clone, Debug)]
pub struct Region {
    /// `h` with `h(x) <= 0` inside.
    halfspaces: Vec<Form>,
    vertices: Vec<Vec<BigRational>>,
}

fn unit(d: usize, i: usize, s: i64) -> Vec<BigRational> {
    (0..d)
        .map(|j| BigRational::from_integer(if i == j { s.into() } else { 0.into() }))
        .collect()
}

impl Region {
    /// The box `prod [lo_i, hi_i]` (at most [`crate::limits::MAX_PHASE_DIM`] axes).
    pub fn of_box(region: &[(BigRational, BigRational)]) -> Self {
        let d = region.len();
        let halfspaces = region
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
        Self {
            halfspaces,
            vertices,
        }
    }

    fn inside(&self, x: &[BigRational], meter: &mut Meter) -> Result<bool, CheckError> {
        for g in &self.halfspaces {
            if eval(g, x, meter)?.is_positive() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The region intersected with `h(x) <= 0`.
    ///
    /// # Errors
    /// [`CheckError::TooLarge`] when the meter's budget is spent.
    pub fn with(&self, h: Form, meter: &mut Meter) -> Result<Self, CheckError> {
        let d = h.0.len();
        let mut vertices = Vec::new();
        for v in &self.vertices {
            if !eval(&h, v, meter)?.is_positive() {
                vertices.push(v.clone());
            }
        }
        let n = self.halfspaces.len();
        if h.0.iter().any(|a| !a.is_zero()) && d >= 1 && d - 1 <= n {
            // new vertices lie on h = 0 and on d - 1 old faces: every (d-1)-subset
            let m = d - 1;
            let mut pick: Vec<usize> = (0..m).collect();
            loop {
                let mut rows = vec![h.0.iter().cloned().chain([-&h.1]).collect::<Vec<_>>()];
                for &i in &pick {
                    let g = &self.halfspaces[i];
                    rows.push(g.0.iter().cloned().chain([-&g.1]).collect());
                }
                // building and eliminating the (d x d+1) system: about (d+1)^3 operations
                meter.charge(crate::limits::OP_OVERHEAD * ((d + 1) * (d + 1) * (d + 1)) as u64)?;
                if let Some(x) = gauss(rows, meter)?
                    && self.inside(&x, meter)?
                {
                    vertices.push(x);
                }
                // the next (d-1)-subset of 0..n, in lexicographic order
                let Some(i) = (0..m).rev().find(|&i| pick[i] < n - m + i) else {
                    break;
                };
                pick[i] += 1;
                for j in i + 1..m {
                    pick[j] = pick[j - 1] + 1;
                }
            }
        }
        // sorting compares rationals by cross-multiplication
        let v = vertices.len() as u64;
        meter.charge(
            crate::limits::OP_OVERHEAD * (d as u64 + 1) * v * (64 - v.leading_zeros() as u64),
        )?;
        vertices.sort();
        vertices.dedup();
        let mut halfspaces = self.halfspaces.clone();
        halfspaces.push(h);
        Ok(Self {
            halfspaces,
            vertices,
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
