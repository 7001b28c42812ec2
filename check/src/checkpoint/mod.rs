//! The check of a `dead-forever` certificate (deadrelu's `audit --optimizer-state`).
//!
//! Claims, each re-derived here with this crate's own code:
//!
//! 1. `box` contains the reachable set of every coordinate of layers `1..layer` under
//!    zero loss gradient from `(theta, state)` with the optimizer and hyperparameters of
//!    the certificate: the bound of each coordinate is recomputed from the derivations of
//!    deadrelu's `optim::reach` module docs (repeated in the README) on a finer grid
//!    (`2^-112`; every rounding goes outward), and must lie inside the certificate's
//!    interval. An edited state (a larger `exp_avg`, a momentum buffer pointing the other
//!    way, a smaller step count) gives a larger or shifted bound and fails here.
//! 2. `layer` is dead on every data point for every parameter of `box`: interval bounds
//!    of the pre-activations of layers `1..layer` (exact rationals; layer 1 exact, later
//!    layers with inputs `>= 0`), every upper bound of layer `layer` `<= 0`.
//! 3. The digest.
//! 4. With a `domain` (`audit --optimizer-state ... --domain box:A,B`): every data point
//!    lies in `[lo, hi]^d`, and the layer is dead on that whole input box for every
//!    parameter of `box`: the split tree covers the box and this crate's interval pass
//!    settles every leaf ([`domain`]).
//!
//! Limits (`crate::limits`): the parameter count is sized with checked arithmetic and
//! `points x parameters <= MAX_POINTS_TIMES_PARAMS` before the data are read; the
//! re-derived bounds and the interval products are charged to a [`Meter`].

use crate::canon::digest;
use crate::limits::{Limit, MAX_POINTS_TIMES_PARAMS, Meter, bits, too_large};
use crate::read::{count, field, list, number, vector};
use crate::{CheckError, Claim, ensure, unreadable};
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde_json::Value;

mod bounds;
mod domain;

use bounds::{Coord, Hyper, PREC, SPLITS, reach};
use domain::Pass;

/// What a successful check of a `dead-forever` certificate established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCheckpoint {
    /// The architecture.
    pub widths: Vec<usize>,
    /// The layer dead forever.
    pub layer: usize,
    /// The optimizer.
    pub optimizer: String,
    /// Data points.
    pub points: usize,
    /// Coordinates whose reachable interval was re-derived.
    pub coordinates: usize,
    /// The input box `[lo, hi]^d` the layer was proven dead on, if the certificate has one.
    pub domain: Option<(BigRational, BigRational)>,
}

impl CheckedCheckpoint {
    /// The one-line summary.
    pub fn summary(&self) -> String {
        let on = match &self.domain {
            Some((a, b)) => format!(" and on every input of [{a}, {b}]^{}", self.widths[0]),
            None => String::new(),
        };
        format!(
            "valid: layer {} of {} stays dead on all {} points{on} at every future step of {} from this checkpoint (reachable box of {} coordinates re-derived, deadness over the box re-proven)",
            self.layer,
            self.widths
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(","),
            self.points,
            self.optimizer,
            self.coordinates
        )
    }
}

/// Checks a `dead-forever` certificate (module docs).
///
/// # Errors
/// [`CheckError::NotJson`] for a text that is not JSON, [`CheckError::Unreadable`] for a
/// malformed certificate, [`CheckError::ClaimFails`]
/// naming the false claim.
pub fn check_checkpoint_certificate(text: &str) -> Result<CheckedCheckpoint, CheckError> {
    let cert: Value = serde_json::from_str(text)?;
    let claim = field(&cert, "claim")?.as_str().unwrap_or("");
    ensure(Claim::Kind, claim == "dead-forever", || {
        format!("claim is {claim:?}, not \"dead-forever\"")
    })?;
    let widths: Vec<usize> = list(field(&cert, "arch")?, "arch")?
        .iter()
        .enumerate()
        .map(|(i, w)| count(w, &format!("arch[{i}]")))
        .collect::<Result<_, _>>()?;
    ensure(
        Claim::Arch,
        widths.len() >= 3 && widths.iter().all(|&w| w >= 1),
        || "arch needs L >= 2 and widths >= 1".into(),
    )?;
    let layer = count(field(&cert, "layer")?, "layer")?;
    ensure(
        Claim::DeadLayerIndex,
        layer >= 1 && layer < widths.len() - 1,
        || format!("layer {layer} is not a hidden layer"),
    )?;
    // parameter layout up to layer k, sized with overflow-safe arithmetic
    let mut offsets = vec![0usize; layer + 2];
    for l in 1..=layer {
        offsets[l + 1] = widths[l]
            .checked_mul(widths[l - 1].saturating_add(1))
            .and_then(|n| n.checked_add(offsets[l]))
            .ok_or_else(|| too_large(Limit::Size, "the parameter count overflows"))?;
    }
    let offset = |k: usize| -> usize { offsets[k] };
    let end = offset(layer + 1);
    let rows = list(field(field(&cert, "data")?, "x")?, "data.x")?;
    let work = (rows.len() as u128).saturating_mul(end as u128);
    if work > MAX_POINTS_TIMES_PARAMS {
        return Err(too_large(
            Limit::Size,
            format!(
                "{} data points x {end} parameters of layers 1..{layer}",
                rows.len()
            ),
        ));
    }
    let mut meter = Meter::new();
    let theta = vector(field(&cert, "theta")?, "theta")?;
    ensure(Claim::Theta0, theta.len() == end, || {
        format!(
            "theta has {} entries, layers 1..{layer} have {end}",
            theta.len()
        )
    })?;
    let xs: Vec<Vec<BigRational>> = rows
        .iter()
        .enumerate()
        .map(|(m, x)| vector(x, &format!("data.x[{m}]")))
        .collect::<Result<_, _>>()?;
    ensure(
        Claim::Data,
        !xs.is_empty() && xs.iter().all(|x| x.len() == widths[0]),
        || "data.x: at least one point, each with arch[0] inputs".into(),
    )?;
    let opt = field(&cert, "optimizer")?;
    let name = field(opt, "name")?.as_str().unwrap_or("").to_string();
    field(opt, "hyperparameters")?;
    // parameter groups: one hyperparameter set per group, the group of each coordinate
    let groups: Vec<Hyper> = match opt.get("groups") {
        Some(g) => list(g, "optimizer.groups")?.iter().map(Hyper).collect(),
        None => vec![Hyper(field(opt, "hyperparameters")?)],
    };
    let state = field(&cert, "state")?;
    let steps: Vec<u64> = list(field(state, "step")?, "state.step")?
        .iter()
        .map(|s| {
            s.as_u64()
                .ok_or_else(|| unreadable("state.step: expected integers"))
        })
        .collect::<Result<_, _>>()?;
    let mut buffers = std::collections::BTreeMap::new();
    if let Some(obj) = field(state, "buffers")?.as_object() {
        for (k, v) in obj {
            let b = vector(v, &format!("state.buffers.{k}"))?;
            if b.len() != end {
                return Err(unreadable(format!(
                    "state.buffers.{k}: expected {end} entries"
                )));
            }
            buffers.insert(k.clone(), b);
        }
    }
    let group: Vec<usize> = match state.get("group") {
        Some(g) => list(g, "state.group")?
            .iter()
            .map(|v| count(v, "state.group"))
            .collect::<Result<_, _>>()?,
        None => vec![0; end],
    };
    if group.len() != end || group.iter().any(|&g| g >= groups.len()) {
        return Err(unreadable(format!(
            "state.group: expected {end} indices into optimizer.groups"
        )));
    }
    let mu_product = match state.get("mu_product") {
        Some(v) => vector(v, "state.mu_product")?,
        None => vec![BigRational::one(); end],
    };
    if steps.len() != end || mu_product.len() != end {
        return Err(unreadable(format!(
            "state: expected {end} entries per coordinate"
        )));
    }
    let bx = field(&cert, "box")?;
    let lo = vector(field(bx, "lo")?, "box.lo")?;
    let hi = vector(field(bx, "hi")?, "box.hi")?;
    if lo.len() != end || hi.len() != end {
        return Err(unreadable(format!("box: expected {end} entries each")));
    }
    // claim 1: the box contains the re-derived reachable interval of every coordinate
    for i in 0..end {
        let get = |b: &str| {
            buffers
                .get(b)
                .map(|v: &Vec<BigRational>| v[i].clone())
                .unwrap_or_else(BigRational::zero)
        };
        let has = |b: &str| buffers.contains_key(b);
        let coord = Coord {
            p: &theta[i],
            t: steps[i],
            buffers: &get,
            has: &has,
            mu_product: mu_product[i].clone(),
        };
        // the bound of one coordinate: a few hundred operations on numbers of the state's
        // sizes and the 2^-112 grid (the split points), charged up front
        let size = bits(&theta[i])
            + buffers.values().map(|b| bits(&b[i])).sum::<u64>()
            + bits(&mu_product[i]);
        for _ in 0..SPLITS.len() * 16 {
            meter.op(size, 2 * PREC as u64)?;
        }
        let r = reach(&name, &groups[group[i]], &coord);
        ensure(
            Claim::ReachableBox,
            matches!(&r, Ok((l, h)) if &lo[i] <= l && h <= &hi[i]),
            || match &r {
                Ok((l, h)) => format!(
                    "coordinate {i}: the reachable interval [{l}, {h}] is not inside the box [{}, {}]",
                    lo[i], hi[i]
                ),
                Err(e) => format!("coordinate {i}: no reachable bound ({e})"),
            },
        )?;
    }
    // claim 2: layer k dead on the data over the box
    let pass = Pass {
        widths: &widths,
        offsets: &offsets,
        lo: &lo,
        hi: &hi,
        layer,
    };
    for (m, x) in xs.iter().enumerate() {
        let input = x.iter().map(|v| (v.clone(), v.clone())).collect();
        pass.dead_over(input, &mut meter, &|| format!("data point {m}"))?;
    }
    // claim 4 (optional): dead on the whole input box of `domain`
    let domain = match cert.get("domain") {
        Some(d) => {
            pass.domain(d, &xs, &mut meter)?;
            Some((
                number(field(d, "lo")?, "domain.lo")?,
                number(field(d, "hi")?, "domain.hi")?,
            ))
        }
        None => None,
    };
    let stated = field(&cert, "digest")?.as_str().unwrap_or("").to_string();
    let actual = digest(&cert);
    ensure(Claim::Digest, stated == actual, || {
        format!("stated {stated}, computed {actual}")
    })?;
    Ok(CheckedCheckpoint {
        widths,
        layer,
        optimizer: name,
        points: xs.len(),
        coordinates: end,
        domain,
    })
}
