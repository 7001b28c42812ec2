//! The proof tree of a `dead` answer ([`LpTree`]) and its JSON for the certificate.

use super::*;

/// How one neuron of layer `k` is proven `<= 0` on a leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum NeuronProof {
    /// The node's interval upper bound is `<= 0`.
    Interval,
    /// Multipliers of the relaxation's rows: `(kind, layer, neuron, y)`, each `y` a
    /// positive double (an exact dyadic rational).
    Dual(Vec<(RowKind, usize, usize, f64)>),
}

/// A branch-and-bound proof tree. A neuron of layer `k` proven on a node is proven on
/// its whole subtree (the node contains its children), so children prove only the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum LpTree {
    /// No input reaches this node: the bounds of the layers before `at.layer` make the
    /// interval of neuron `at` contradict its fixing.
    Empty {
        /// The contradicting neuron.
        at: Contradiction,
        /// `(L, U)` of the layers before it.
        bounds: Vec<Vec<(f64, f64)>>,
        /// Proofs of the bounds tighter than the intervals (layers before it).
        tight: Vec<TightProof>,
    },
    /// A node that proves some neurons of layer `k`, then ends (every neuron is proven
    /// here or above) or splits.
    Node {
        /// `(L, U)` of every neuron of layers `1..k-1` (the rows are built from them);
        /// empty when the node proves nothing.
        bounds: Vec<Vec<(f64, f64)>>,
        /// `(neuron of layer k, proof)`.
        proofs: Vec<(usize, NeuronProof)>,
        /// Bounds tighter than the intervals, each proven ([`tighten`]); every node below
        /// intersects its intervals with the bounds of the nearest node above it that
        /// states them.
        tight: Vec<TightProof>,
        /// The split below, if any.
        split: Option<Split>,
    },
}

/// A split on a neuron's phase, or (layer 0) on an input's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Hidden layer (`< k`), or 0 for an input split.
    pub layer: usize,
    /// Neuron (0-based), or the input.
    pub neuron: usize,
    /// An input split's threshold `t` (an exact double inside the node's box).
    pub at: Option<f64>,
    /// The side `z <= 0` (an input split: `x_i <= t`).
    pub inactive: Box<LpTree>,
    /// The side `z >= 0` (an input split: `x_i >= t`).
    pub active: Box<LpTree>,
}

/// An exact double as text: its exact rational value.
fn exact_text(x: f64) -> String {
    BigRational::from_float(x).map_or_else(|| "nan".into(), |q| crate::scalar::rational_string(&q))
}

fn bounds_json(bounds: &[Vec<(f64, f64)>]) -> Value {
    Value::Array(
        bounds
            .iter()
            .map(|layer| {
                Value::Array(
                    layer
                        .iter()
                        .map(|&(lo, hi)| json!([exact_text(lo), exact_text(hi)]))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn multipliers_json(ys: &[(RowKind, usize, usize, f64)]) -> Value {
    Value::Array(
        ys.iter()
            .map(|(kind, l, n, y)| json!([kind.name(), l, n, exact_text(*y)]))
            .collect(),
    )
}

fn tight_json(tight: &[TightProof]) -> Value {
    Value::Array(
        tight
            .iter()
            .map(|t| {
                json!([
                    t.layer,
                    t.neuron,
                    t.side.name(),
                    multipliers_json(&t.multipliers)
                ])
            })
            .collect(),
    )
}

impl LpTree {
    /// Leaves.
    pub fn regions(&self) -> usize {
        match self {
            LpTree::Empty { .. } | LpTree::Node { split: None, .. } => 1,
            LpTree::Node { split: Some(s), .. } => s.inactive.regions() + s.active.regions(),
        }
    }

    /// The tree in prefix order (as in certificates). A node is
    /// `{"empty": [layer, neuron], "bounds": B}` or
    /// `{"bounds": B, "proofs": [[j, P], ...], "split": [layer, neuron] or null}`, a split
    /// node followed by its inactive then its active side (an input split:
    /// `"split": [0, i, "t"]`, followed by the sides `x_i <= t` and `x_i >= t`). `B` lists `["L", "U"]` per
    /// neuron per layer from layer 1; `P` is `"interval"` or the multipliers
    /// `[[kind, layer, neuron, "y"], ...]`; all numbers are exact rationals.
    pub fn flatten(&self, out: &mut Vec<Value>) {
        match self {
            LpTree::Empty { at, bounds, tight } => {
                let mut node = json!({
                    "empty": [at.layer, at.neuron],
                    "bounds": bounds_json(bounds),
                });
                if !tight.is_empty() {
                    node["tight"] = tight_json(tight);
                }
                out.push(node);
            }
            LpTree::Node {
                bounds,
                proofs,
                tight,
                split,
            } => {
                let per: Vec<Value> = proofs
                    .iter()
                    .map(|(j, p)| match p {
                        NeuronProof::Interval => json!([j, "interval"]),
                        NeuronProof::Dual(ys) => json!([j, multipliers_json(ys)]),
                    })
                    .collect();
                let mut node = json!({
                    "bounds": bounds_json(bounds),
                    "proofs": per,
                    "split": split.as_ref().map(|s| match s.at {
                        Some(t) => json!([0, s.neuron, exact_text(t)]),
                        None => json!([s.layer, s.neuron]),
                    }),
                });
                if !tight.is_empty() {
                    node["tight"] = tight_json(tight);
                }
                out.push(node);
                if let Some(s) = split {
                    s.inactive.flatten(out);
                    s.active.flatten(out);
                }
            }
        }
    }
}
