//! Dead for good: from a training checkpoint (weights plus optimizer state), decide
//! whether a layer that is dead on the data now stays dead at every future step.
//!
//! # The argument
//! Let layer `k` be dead on the data at the checkpoint. While it is dead, the generalized
//! gradient of the risk over any batch of the data is zero in every coordinate of layers
//! `1..k` (MECHANISM.md, fact 2), so those coordinates follow the zero-gradient dynamics of
//! their optimizer (with weight decay, `g = wd * p`), which depend on nothing else.
//! [`crate::optim::reach::reachable_box`] encloses every position of that dynamics in a box
//! `P`. If layer `k` is dead on the data for *every* parameter in `P`, then by induction
//! over the steps the layer is dead at every step: at step `n` it is dead, so step `n + 1`
//! is a zero-gradient step and lands in `P`, where the layer is dead again. The verdicts:
//!
//! - `dead-forever-certified`: every pre-activation of layer `k` is `<= 0` at every data
//!   point for every parameter in `P`, proven by the bounds below;
//! - `may-revive`: a parameter point in `P` (the *witness*) at which layer `k` has a
//!   positive pre-activation at some data point, checked exactly. The box over-approximates
//!   the reachable set, so this says the certificate is impossible, not that the layer
//!   revives; `examples/` shows a case where the optimizer does revive it;
//! - `undecided`: neither (the bounds are loose and no corner witness was found), or no
//!   box exists (the reason of [`crate::optim::reach::NotCertified`]).
//!
//! # Deadness on a parameter box (exact)
//! For a data point `x`, bounds `[L, U]` of every pre-activation over the box are computed
//! layer by layer in exact rationals. Layer 1 is affine in its parameters with the point
//! `x` as coefficients, so `U = b_hi + sum_i max(W_lo x_i, W_hi x_i)` is the exact maximum
//! (attained at a corner) and likewise `L`. Deeper layers see activations `a in [a_lo,
//! a_hi]` with `a_lo >= 0`, so over `W in [W_lo, W_hi]` and `a` the product `W a` is at
//! most `max(W_hi a_lo, W_hi a_hi)` and at least `min(W_lo a_lo, W_lo a_hi)`: interval
//! arithmetic, sound but not exact when the activations of different neurons share
//! parameters. Layer `k` is certified dead when every `U <= 0` (for layer 1 this is
//! exact: `U > 0` gives a witness at once).
//!
//! # Witnesses
//! For each `(x, j)` with `U > 0`, a corner of the box is chosen by propagating a desired
//! sign backwards: neuron `j` of layer `k` wants `+1`; a neuron of layer `l >= 2` with
//! desire `d` takes `W_hi, b_hi` (`d = +1`) or `W_lo, b_lo` (`d = -1`), as its inputs are
//! `>= 0`; a neuron of layer 1 takes `W_hi` where `d x_i >= 0` and `W_lo` elsewhere; the
//! desire of neuron `m` of layer `l - 1` is the sign of `sum_i d_i W_{l,i,m}` at the
//! chosen weights; neurons without desire keep the checkpoint value. The candidate is
//! evaluated exactly on all data.

use crate::activity::activity_on_data;
use crate::data::Dataset;
use crate::net::{Arch, NetError, Network};
use crate::optim::OptimizerConfig;
use crate::optim::reach::{CheckpointState, NotCertified, Span, reachable_box_groups};
use crate::scalar::{BigRational, rational_string};
use num_traits::{Signed, Zero};
use serde_json::{Value, json};

/// The decision for one layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Revival {
    /// Dead at every parameter of the reachable box: dead forever.
    DeadForever,
    /// A parameter point of the box where the layer is alive.
    MayRevive {
        /// The full parameter vector (checkpoint values outside layers `1..k`).
        witness: Vec<BigRational>,
        /// The data point where a neuron of layer `k` is positive.
        point: usize,
        /// The neuron.
        neuron: usize,
        /// Its pre-activation there (`> 0`).
        value: BigRational,
    },
    /// Not decided.
    Undecided {
        /// Why.
        reason: Undecided,
    },
}

/// Why a layer's revival is not decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Undecided {
    /// No reachable box: a coordinate's dynamics has no bound.
    #[error("no reachable box: {0}")]
    NoBox(#[source] NotCertified),
    /// The interval bounds leave pairs unsettled and no corner witness was found.
    #[error(
        "interval bounds over the reachable box leave {unsettled} (data point, neuron) pairs of layer {layer} unsettled and no corner of the box revives the layer"
    )]
    Loose {
        /// The layer.
        layer: usize,
        /// The (data point, neuron) pairs whose upper bound is positive.
        unsettled: usize,
    },
}

impl Revival {
    /// The JSON name.
    pub fn name(&self) -> &'static str {
        match self {
            Revival::DeadForever => "dead-forever-certified",
            Revival::MayRevive { .. } => "may-revive",
            Revival::Undecided { .. } => "undecided",
        }
    }
}

/// One dead layer of the checkpoint and its decision.
#[derive(Debug, Clone)]
pub struct LayerDecision {
    /// The layer (dead on the data at the checkpoint).
    pub layer: usize,
    /// The decision.
    pub revival: Revival,
    /// The reachable box of layers `1..k` (empty when none exists).
    pub boxes: Vec<Span>,
    /// `(point, neuron)` pairs the interval bounds did not settle.
    pub unsettled: usize,
}

/// The checkpoint audit: every layer dead at the checkpoint, decided.
#[derive(Debug, Clone)]
pub struct CheckpointReport {
    /// Dead layers on the data at the checkpoint (exact).
    pub dead_layers: Vec<usize>,
    /// One decision per dead layer, shallowest first.
    pub decisions: Vec<LayerDecision>,
}

impl CheckpointReport {
    /// The deepest layer certified dead forever.
    pub fn certified(&self) -> Option<&LayerDecision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| d.revival == Revival::DeadForever)
    }
}

/// Pre-activation bounds `[L, U]` of layers `1..=k` at input `x` over the parameter box
/// (`boxes[i]` for coordinate `i`), exact (module docs). Returns the bounds of layer `k`.
fn layer_bounds(arch: &Arch, boxes: &[Span], x: &[BigRational], k: usize) -> Vec<Span> {
    let input: Vec<Span> = x.iter().map(Span::point).collect();
    super::checkpoint_box::layer_bounds_on(arch, boxes, &input, k)
}

/// The corner candidate of the module docs for neuron `j` of layer `k` at input `x`.
pub(crate) fn corner(
    arch: &Arch,
    theta: &[BigRational],
    boxes: &[Span],
    x: &[BigRational],
    k: usize,
    j: usize,
) -> Vec<BigRational> {
    let mut out = theta.to_vec();
    let mut desire = vec![0i8; arch.width(k)];
    desire[j] = 1;
    for l in (1..=k).rev() {
        for (i, &d) in desire.iter().enumerate() {
            if d == 0 {
                continue;
            }
            let pick = |s: &Span, up: bool| if up { s.hi.clone() } else { s.lo.clone() };
            let bi = arch.bias_index(l, i);
            out[bi] = pick(&boxes[bi], d > 0);
            for m in 0..arch.width(l - 1) {
                let wi = arch.weight_index(l, i, m);
                // layer 1: the input x_m may be negative, then the lower weight is larger
                let up = if l == 1 {
                    (d > 0) != x.get(m).is_some_and(Signed::is_negative)
                } else {
                    d > 0
                };
                out[wi] = pick(&boxes[wi], up);
            }
        }
        if l > 1 {
            desire = (0..arch.width(l - 1))
                .map(|m| {
                    let s = desire.iter().enumerate().filter(|(_, d)| **d != 0).fold(
                        BigRational::zero(),
                        |acc, (i, &d)| {
                            let w = &out[arch.weight_index(l, i, m)];
                            if d > 0 { acc + w } else { acc - w }
                        },
                    );
                    if s.is_positive() {
                        1
                    } else if s.is_negative() {
                        -1
                    } else {
                        0
                    }
                })
                .collect();
        }
    }
    out
}

/// A positive pre-activation of layer `k` of `theta` on the data: `(point, neuron, value)`.
fn alive_at(
    arch: &Arch,
    theta: &[BigRational],
    data: &Dataset<BigRational>,
    k: usize,
) -> Result<Option<(usize, usize, BigRational)>, NetError> {
    let net = Network::new(arch.clone(), theta.to_vec())?;
    for m in 0..data.len() {
        let mut a = data.x(m).to_vec();
        for l in 1..=k {
            let z = net.affine(l, &a);
            if l == k
                && let Some(j) = z.iter().position(|v| v.is_positive())
            {
                return Ok(Some((m, j, z[j].clone())));
            }
            a = z.into_iter().map(|v| v.max(BigRational::zero())).collect();
        }
    }
    Ok(None)
}

/// Decides layer `k` over the parameter box `boxes` (coordinates `0..end of layer k`).
///
/// # Errors
/// [`NetError`] when the data do not fit.
pub fn decide_on_box(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    boxes: &[Span],
    k: usize,
) -> Result<(Revival, usize), NetError> {
    let arch = net.arch();
    let mut unsettled = Vec::new();
    for m in 0..data.len() {
        for (j, z) in layer_bounds(arch, boxes, data.x(m), k).iter().enumerate() {
            if z.hi.is_positive() {
                unsettled.push((m, j));
            }
        }
    }
    if unsettled.is_empty() {
        return Ok((Revival::DeadForever, 0));
    }
    let mut tried = std::collections::BTreeSet::new();
    for &(m, j) in &unsettled {
        let candidate = corner(arch, net.params(), boxes, data.x(m), k, j);
        if !tried.insert(candidate.clone()) {
            continue;
        }
        if let Some((point, neuron, value)) = alive_at(arch, &candidate, data, k)? {
            return Ok((
                Revival::MayRevive {
                    witness: candidate,
                    point,
                    neuron,
                    value,
                },
                unsettled.len(),
            ));
        }
    }
    Ok((
        Revival::Undecided {
            reason: Undecided::Loose {
                layer: k,
                unsettled: unsettled.len(),
            },
        },
        unsettled.len(),
    ))
}

/// The checkpoint audit (module docs): every layer dead on the data at `net`, decided.
///
/// # Errors
/// [`NetError`] when the data or the state do not fit the network.
pub fn audit_checkpoint(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    config: &OptimizerConfig<BigRational>,
    state: &CheckpointState,
) -> Result<CheckpointReport, NetError> {
    audit_checkpoint_groups(net, data, std::slice::from_ref(config), state)
}

/// [`audit_checkpoint`] with one configuration per parameter group (`state.group`).
///
/// # Errors
/// [`NetError`] when the data or the state do not fit the network.
pub fn audit_checkpoint_groups(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    configs: &[OptimizerConfig<BigRational>],
    state: &CheckpointState,
) -> Result<CheckpointReport, NetError> {
    let arch = net.arch();
    let activity = activity_on_data(net, data)?;
    let dead_layers = activity.dead_layers();
    let mut decisions = Vec::new();
    for &k in &dead_layers {
        let end = arch.layer_range(k).end;
        match reachable_box_groups(configs, net.params(), state, 0..end) {
            Err(e) => decisions.push(LayerDecision {
                layer: k,
                revival: Revival::Undecided {
                    reason: Undecided::NoBox(e),
                },
                boxes: Vec::new(),
                unsettled: 0,
            }),
            Ok(boxes) => {
                let (revival, unsettled) = decide_on_box(net, data, &boxes, k)?;
                decisions.push(LayerDecision {
                    layer: k,
                    revival,
                    boxes,
                    unsettled,
                });
            }
        }
    }
    Ok(CheckpointReport {
        dead_layers,
        decisions,
    })
}

fn strings(v: &[BigRational]) -> Vec<String> {
    v.iter().map(rational_string).collect()
}

/// The certificate of a layer certified dead forever (format in check/README.md): the
/// network, the data inputs, the optimizer and its hyperparameters, the state of layers
/// `1..k`, the box, and the digest.
pub fn certificate(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    optimizer: &str,
    config: &OptimizerConfig<BigRational>,
    state: &CheckpointState,
    decision: &LayerDecision,
) -> Value {
    certificate_groups(
        net,
        data,
        optimizer,
        std::slice::from_ref(config),
        state,
        decision,
    )
}

/// [`certificate`] with one configuration per parameter group: with more than one, the
/// optimizer gets `groups` (the hyperparameters of each) and the state `group` (the
/// group of each coordinate).
pub fn certificate_groups(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
    optimizer: &str,
    configs: &[OptimizerConfig<BigRational>],
    state: &CheckpointState,
    decision: &LayerDecision,
) -> Value {
    let config = &configs[0];
    let end = decision.boxes.len();
    let mut buffers = serde_json::Map::new();
    for name in CheckpointState::buffer_names(config) {
        if let Some(b) = state.buffers.get(name) {
            buffers.insert(name.to_string(), json!(strings(&b[..end])));
        }
    }
    let mut state_json = json!({
        "step": state.step[..end].to_vec(),
        "buffers": buffers,
    });
    if !state.mu_product.is_empty() {
        state_json["mu_product"] = json!(strings(&state.mu_product[..end]));
    }
    let mut optimizer_json = json!({"name": optimizer, "hyperparameters": config.to_json()});
    if configs.len() > 1 {
        optimizer_json["groups"] = json!(
            configs
                .iter()
                .map(OptimizerConfig::to_json)
                .collect::<Vec<_>>()
        );
        state_json["group"] = json!(
            (0..end)
                .map(|i| state.group.get(i).copied().unwrap_or(0))
                .collect::<Vec<_>>()
        );
    }
    let lo: Vec<BigRational> = decision.boxes.iter().map(|s| s.lo.clone()).collect();
    let hi: Vec<BigRational> = decision.boxes.iter().map(|s| s.hi.clone()).collect();
    let mut body = json!({
        "format": crate::audit::certificate::FORMAT,
        "version": crate::audit::certificate::VERSION,
        "claim": "dead-forever",
        "arch": net.arch().widths(),
        "data": {"x": (0..data.len()).map(|m| strings(data.x(m))).collect::<Vec<_>>()},
        "theta": strings(&net.params()[..end]),
        "optimizer": optimizer_json,
        "state": state_json,
        "layer": decision.layer,
        "box": {"lo": strings(&lo), "hi": strings(&hi)},
    });
    let digest = crate::audit::certificate::digest_of(&body);
    body["digest"] = Value::String(digest);
    body
}
