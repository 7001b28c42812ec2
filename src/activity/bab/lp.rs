//! The LP relaxation of one branch-and-bound node, its floating-point solution, and the
//! exact proof made from the solver's dual multipliers.
//!
//! # The relaxation
//! Variables: the inputs `x` (in the box) and the post-activations `a_{l,n}` of the
//! hidden layers `l < k` that are not off. With `z_{l,n} = w_{l,n} . a_{l-1} + b_{l,n}`
//! (`a_0 = x`) and exact interval bounds `[L, U]` of `z_{l,n}` on the node
//! ([`super::node_bounds`]), every neuron is in one of three states:
//! - *off* (fixed inactive, or `U <= 0`): `a = 0`, no variable. A fixed neuron adds the
//!   row `Fix: z <= 0`.
//! - *on* (fixed active, or `L >= 0`): `a = z`, the rows `EqUp: a - z <= 0` and
//!   `EqDown: z - a <= 0`. A fixed neuron adds `Fix: -z <= 0`.
//! - *unstable* (`L < 0 < U`, free): the triangle, `Gez: z - a <= 0` and
//!   `Tri: (U - L) a - U z <= -U L` (with `a >= 0` as a variable bound).
//!
//! Every `a` lies in `[max(L,0), max(U,0)]` and every `x_i` in the box: these are the
//! *variable bounds*. Each point of the node (an input of the box whose phases agree with
//! the fixings, with the network's true post-activations) satisfies every row and bound,
//! so the relaxation contains the node.
//!
//! # The proof (safe dual bound)
//! For the objective `z_{k,j} = c . v + c0` and any multipliers `y >= 0`, one per row
//! `g_r . v <= h_r`, every point of the relaxation has
//! `c . v = y . (G v) + r . v <= y . h + sum_i max(r_i lo_i, r_i hi_i)` with the residual
//! `r = c - G^T y`, since `G v <= h` and `v` lies in its bounds. So
//! `c0 + y . h + sum_i max(r_i lo_i, r_i hi_i) <= 0` proves neuron `j` inactive on the
//! node, whatever `y` is: the floating-point solver only *proposes* `y` (its duals,
//! clamped at 0 and rounded to 24-bit dyadics). The bound is evaluated in outward-rounded
//! interval arithmetic ([`crate::scalar::iv`]) over enclosures of the exact coefficients,
//! so its upper end bounds the exact value; the checker re-evaluates it in exact
//! rationals. A wrong or inaccurate dual costs a failed proof (more branching), never a
//! false one (the approach of safe dual bounds in exact MIP solving, Neumaier and
//! Shcherbina 2004). An infeasible node is handled the same way: a Farkas ray of the
//! solver, scaled up, is such a `y`.
//!
//! # Bounds
//! The node's bounds `[L, U]` are doubles from outward-rounded interval propagation
//! ([`super::node_bounds`]); they enter the certificate as they are, and the rows are
//! defined from them, so the checker rebuilds exactly the rows the multipliers refer to.

use super::{FloatNet, NodeBounds, Phase};
use crate::scalar::iv::Iv;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

/// Which row of the relaxation a multiplier belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKind {
    /// The phase constraint of a branched neuron (`z <= 0` if inactive, `-z <= 0` if
    /// active).
    Fix,
    /// `a - z <= 0` of an on neuron.
    EqUp,
    /// `z - a <= 0` of an on neuron.
    EqDown,
    /// `z - a <= 0` of an unstable neuron.
    Gez,
    /// The triangle's upper side `(U - L) a - U z <= -U L` of an unstable neuron.
    Tri,
}

impl RowKind {
    /// The name in certificates.
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Fix => "fix",
            RowKind::EqUp => "eq_up",
            RowKind::EqDown => "eq_down",
            RowKind::Gez => "gez",
            RowKind::Tri => "tri",
        }
    }
}

/// One row `g . v <= h` of the relaxation, named by its kind and neuron, with enclosures
/// of its exact coefficients.
#[derive(Debug, Clone)]
pub struct Row {
    /// Kind.
    pub kind: RowKind,
    /// Hidden layer (1-based, `< k`).
    pub layer: usize,
    /// Neuron (0-based).
    pub neuron: usize,
    /// Coefficients as `(variable, enclosure)`.
    pub coeffs: Vec<(usize, Iv)>,
    /// Right-hand side (enclosure).
    pub rhs: Iv,
}

/// A neuron's state on a node (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `a = 0`.
    Off,
    /// `a = z`.
    On,
    /// `L < 0 < U`, not fixed.
    Unstable,
}

/// An affine form over the node's variables: `(coefficients, constant)`.
pub type Form = (Vec<(usize, Iv)>, Iv);

/// The relaxation of one node: variables with bounds, rows, and the affine form of each
/// layer-`k` pre-activation.
pub struct Relaxation {
    /// `(lo, hi)` per variable (doubles; the inputs' box is enclosed outward).
    pub bounds: Vec<(f64, f64)>,
    /// The rows.
    pub rows: Vec<Row>,
    /// Layer `k`'s pre-activations.
    pub objectives: Vec<Form>,
    /// The state of every neuron of the layers `< k`.
    pub states: Vec<Vec<State>>,
}

/// The affine form `w_{l,n} . a_{l-1} + b_{l,n}` over the node's variables.
fn pre_activation(net: &FloatNet, l: usize, n: usize, prev_vars: &[Option<usize>]) -> Form {
    let (w, b) = net.row(l, n);
    let coeffs = prev_vars
        .iter()
        .zip(w)
        .filter_map(|(var, w)| var.filter(|_| w.lo != 0.0 || w.hi != 0.0).map(|v| (v, *w)))
        .collect();
    (coeffs, b)
}

fn scaled(coeffs: &[(usize, Iv)], by: Iv) -> Vec<(usize, Iv)> {
    coeffs.iter().map(|(v, c)| (*v, *c * by)).collect()
}

/// Builds the relaxation of a node from its bounds and fixings.
// the loops walk neurons by index across the fixings and the bounds together
#[allow(clippy::needless_range_loop)]
pub fn relax(net: &FloatNet, k: usize, fix: &[Vec<Option<Phase>>], nb: &NodeBounds) -> Relaxation {
    let d = net.widths[0];
    let mut bounds: Vec<(f64, f64)> = net.region.iter().map(|r| (r.lo, r.hi)).collect();
    let mut rows = Vec::new();
    let mut states = Vec::with_capacity(k.saturating_sub(1));
    let mut prev: Vec<Option<usize>> = (0..d).map(Some).collect();
    let one = Iv::point(1.0);
    for l in 1..k {
        let mut vars = Vec::with_capacity(net.widths[l]);
        let mut st = Vec::with_capacity(net.widths[l]);
        for n in 0..net.widths[l] {
            let (lo, hi) = nb.z[l - 1][n];
            let fixed = fix[l - 1][n];
            let (g, c) = pre_activation(net, l, n, &prev);
            let state = match fixed {
                Some(Phase::Inactive) => State::Off,
                Some(Phase::Active) => State::On,
                None if hi <= 0.0 => State::Off,
                None if lo >= 0.0 => State::On,
                None => State::Unstable,
            };
            match fixed {
                // z <= 0: g.v <= -c
                Some(Phase::Inactive) => rows.push(Row {
                    kind: RowKind::Fix,
                    layer: l,
                    neuron: n,
                    coeffs: g.clone(),
                    rhs: -c,
                }),
                // -z <= 0: -g.v <= c
                Some(Phase::Active) => rows.push(Row {
                    kind: RowKind::Fix,
                    layer: l,
                    neuron: n,
                    coeffs: scaled(&g, -one),
                    rhs: c,
                }),
                None => {}
            }
            let var = (state != State::Off).then(|| {
                bounds.push((lo.max(0.0), hi.max(0.0)));
                bounds.len() - 1
            });
            if let Some(v) = var {
                if state == State::On {
                    // a - z <= 0: a - g.v <= c
                    let mut up = scaled(&g, -one);
                    up.push((v, one));
                    rows.push(Row {
                        kind: RowKind::EqUp,
                        layer: l,
                        neuron: n,
                        coeffs: up,
                        rhs: c,
                    });
                }
                // z - a <= 0: g.v - a <= -c (EqDown for on, Gez for unstable)
                let mut down = g.clone();
                down.push((v, -one));
                rows.push(Row {
                    kind: if state == State::On {
                        RowKind::EqDown
                    } else {
                        RowKind::Gez
                    },
                    layer: l,
                    neuron: n,
                    coeffs: down,
                    rhs: -c,
                });
                if state == State::Unstable {
                    // (U - L) a - U g.v <= U c - U L
                    let (lo, hi) = (Iv::point(lo), Iv::point(hi));
                    let mut tri = scaled(&g, -hi);
                    tri.push((v, hi - lo));
                    rows.push(Row {
                        kind: RowKind::Tri,
                        layer: l,
                        neuron: n,
                        coeffs: tri,
                        rhs: hi * c - hi * lo,
                    });
                }
            }
            vars.push(var);
            st.push(state);
        }
        states.push(st);
        prev = vars;
    }
    let objectives = (0..net.widths[k])
        .map(|j| pre_activation(net, k, j, &prev))
        .collect();
    Relaxation {
        bounds,
        rows,
        objectives,
        states,
    }
}

/// What the floating-point solver returned for one objective.
pub struct FloatSolution {
    /// Its status.
    pub status: SolverStatus,
    /// The maximum it found (meaningful when solved).
    pub value: f64,
    /// The primal point (the variables).
    pub x: Vec<f64>,
    /// One multiplier per row of [`Relaxation::rows`] (>= 0 up to rounding).
    pub y: Vec<f64>,
}

fn mid(x: Iv) -> f64 {
    x.lo + (x.hi - x.lo) / 2.0
}

/// The problem in the solver's form, built once per node: rows first, then the variable
/// bounds as rows (`v_i <= hi_i`, `-v_i <= -lo_i`). Coefficients are the midpoints of
/// their enclosures: the solver's answer is only a hint.
pub struct FloatProblem {
    a: CscMatrix<f64>,
    b: Vec<f64>,
    n: usize,
    rows: usize,
    /// The solver of the last objective: the next one only replaces its cost vector
    /// (Clarabel's data update), which keeps the equilibration and the KKT system's
    /// ordering and symbolic factorization (a third of a small LP's time).
    solver: std::cell::RefCell<Option<DefaultSolver<f64>>>,
}

impl FloatProblem {
    /// The relaxation in floating point.
    pub fn new(rel: &Relaxation) -> Self {
        let n = rel.bounds.len();
        let m = rel.rows.len() + 2 * n;
        let mut cols: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        let mut b = Vec::with_capacity(m);
        for (r, row) in rel.rows.iter().enumerate() {
            for (v, c) in &row.coeffs {
                cols[*v].push((r, mid(*c)));
            }
            b.push(mid(row.rhs));
        }
        let base = rel.rows.len();
        for (v, (lo, hi)) in rel.bounds.iter().enumerate() {
            cols[v].push((base + 2 * v, 1.0));
            cols[v].push((base + 2 * v + 1, -1.0));
            b.push(*hi);
            b.push(-lo);
        }
        let mut colptr = Vec::with_capacity(n + 1);
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
        colptr.push(0);
        for col in &mut cols {
            col.sort_by_key(|e| e.0);
            for &(r, v) in col.iter() {
                if v != 0.0 {
                    rowval.push(r);
                    nzval.push(v);
                }
            }
            colptr.push(rowval.len());
        }
        Self {
            a: CscMatrix::new(m, n, colptr, rowval, nzval),
            b,
            n,
            rows: rel.rows.len(),
            solver: std::cell::RefCell::new(None),
        }
    }

    /// Maximizes `c . v + c0` over the relaxation (floating point).
    pub fn maximize(&self, objective: &Form) -> FloatSolution {
        let mut q = vec![0.0; self.n];
        for (v, c) in &objective.0 {
            q[*v] -= mid(*c);
        }
        let p = CscMatrix::<f64>::zeros((self.n, self.n));
        let cones = [SupportedConeT::NonnegativeConeT(self.b.len())];
        let failed = |status| FloatSolution {
            status,
            value: f64::NAN,
            x: Vec::new(),
            y: Vec::new(),
        };
        let Ok(settings) = DefaultSettingsBuilder::default()
            .verbose(false)
            .max_iter(200)
            .tol_gap_abs(1e-10)
            .tol_gap_rel(1e-10)
            .tol_feas(1e-10)
            .max_threads(1)
            .presolve_enable(false)
            .build()
        else {
            return failed(SolverStatus::NumericalError);
        };
        let read = |solver: &DefaultSolver<f64>| {
            let sol = &solver.solution;
            FloatSolution {
                status: sol.status,
                value: mid(objective.1) - sol.obj_val,
                x: sol.x.clone(),
                y: sol.z[..self.rows].to_vec(),
            }
        };
        let mut cell = self.solver.borrow_mut();
        if let Some(solver) = cell.as_mut()
            && solver.update_q(&q).is_ok()
        {
            solver.solve();
            return read(solver);
        }
        let Ok(mut solver) = DefaultSolver::new(&p, &q, &self.a, &self.b, &cones, settings) else {
            return failed(SolverStatus::NumericalError);
        };
        solver.solve();
        let out = read(&solver);
        *cell = Some(solver);
        out
    }
}

/// A solver multiplier made usable: clamped at 0 and rounded toward zero to 24
/// significant bits (any `y >= 0` is allowed; short ones keep the certificate small and
/// its exact check fast).
pub fn multiplier(y: f64) -> Option<f64> {
    if !y.is_finite() || y <= 0.0 {
        return None;
    }
    let rounded = f64::from_bits(y.to_bits() & !((1u64 << 29) - 1));
    (rounded > 0.0).then_some(rounded)
}

/// An upper bound (rigorous: outward rounding) of the safe bound
/// `c0 + y . h + sum_i max(r_i lo_i, r_i hi_i)` of the module docs, for multipliers
/// `(row, y_row)` (each `y_row > 0`); infinity when something overflows.
pub fn safe_bound(rel: &Relaxation, objective: &Form, multipliers: &[(usize, f64)]) -> f64 {
    let mut r: Vec<Iv> = vec![Iv::point(0.0); rel.bounds.len()];
    for (v, c) in &objective.0 {
        r[*v] = r[*v] + *c;
    }
    let mut bound = objective.1;
    for &(row, y) in multipliers {
        let row = &rel.rows[row];
        let y = Iv::point(y);
        bound = bound + y * row.rhs;
        for (v, g) in &row.coeffs {
            r[*v] = r[*v] - y * *g;
        }
    }
    for (ri, (lo, hi)) in r.iter().zip(&rel.bounds) {
        bound = bound + *ri * Iv::new(*lo, *hi);
    }
    if bound.hi.is_finite() {
        bound.hi
    } else {
        f64::INFINITY
    }
}

/// Tries to prove `z_{k,j} <= 0` on the node from a floating-point solution: its duals,
/// or (for an infeasible LP) its Farkas ray scaled until the bound is `<= 0`. Returns
/// the multipliers `(row, y)` of a proof.
pub fn prove(rel: &Relaxation, j: usize, sol: &FloatSolution) -> Option<Vec<(usize, f64)>> {
    let multipliers: Vec<(usize, f64)> = sol
        .y
        .iter()
        .enumerate()
        .filter_map(|(r, &y)| multiplier(y).map(|y| (r, y)))
        .collect();
    let objective = &rel.objectives[j];
    match sol.status {
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            // a Farkas ray y: y.h + sum sup(-(G^T y)_i v_i) < 0 proves the node empty;
            // t y then proves any objective for t large enough, since the bound with t y
            // is at most base + t f (the sup of a sum is at most the sum of the sups)
            let empty: Form = (Vec::new(), Iv::point(0.0));
            let f = safe_bound(rel, &empty, &multipliers);
            if f >= 0.0 {
                return None;
            }
            let base = safe_bound(rel, objective, &[]);
            if base <= 0.0 {
                return Some(Vec::new());
            }
            // a power of two at least 2 base / -f + 1, so that t y is exact
            let ratio = 2.0 * base / -f + 1.0;
            let t = 2f64.powi(ratio.log2().ceil().clamp(0.0, 1100.0) as i32);
            if !t.is_finite() {
                return None;
            }
            let scaled: Vec<(usize, f64)> = multipliers.iter().map(|&(r, y)| (r, y * t)).collect();
            (safe_bound(rel, objective, &scaled) <= 0.0).then_some(scaled)
        }
        _ => (safe_bound(rel, objective, &multipliers) <= 0.0).then_some(multipliers),
    }
}
