//! The certificate check: every claim in turn (see the README for the list).
//!
//! Each claim check is one call of [`ensure`], marked `// claim:` for the mutation run
//! (`check/mutation.sh` disables them one at a time).

use crate::canon::digest;
use crate::exact::{Net, Sparse, mean, output_after_dead, squared_error};
use crate::filter::{FloatLayer, Verdict, verdicts};
use crate::limits::{Limit, MAX_POINTS_TIMES_PARAMS, Meter, too_large};
use crate::number::{brief, show};
use crate::read::{count, field, float, list, number, vector};
use crate::{CheckError, Claim, FORMAT, READS, boxproof, ensure, unreadable};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;

/// What a successful check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The certificate's format version.
    pub version: u64,
    /// The architecture.
    pub widths: Vec<usize>,
    /// Number of data points.
    pub points: usize,
    /// The dead layer.
    pub dead_layer: usize,
    /// `V`.
    pub best_constant_risk: String,
    /// The witness risk.
    pub witness_risk: String,
    /// `(A, B, regions)` when the certificate claims the whole box.
    pub domain: Option<(String, String, usize)>,
    /// Dead-layer signs the float filter left to the exact pass.
    pub exact_fallbacks: usize,
    /// Optimizer runs recorded (informative, not verified).
    pub optimizer_records: usize,
    /// Exact work spent (units of [`crate::limits::Meter`]).
    pub exact_work: u64,
}

impl Checked {
    /// The one-line summary `check` prints.
    pub fn summary(&self) -> String {
        let arch = self
            .widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let readable = |text: &str| {
            crate::number::parse(text, "summary")
                .map(|q| crate::number::readable(&q))
                .unwrap_or_else(|_| text.to_string())
        };
        let mut s = format!(
            "valid: layer {} of {arch} is dead on all {} points (exact), the realization is constant, V = {}, witness risk {} < V",
            self.dead_layer,
            self.points,
            readable(&self.best_constant_risk),
            readable(&self.witness_risk)
        );
        if let Some((a, b, regions)) = &self.domain {
            s += &format!(
                "; layer {} is dead on the whole box [{a}, {b}]^{} ({regions} regions re-proven)",
                self.dead_layer, self.widths[0]
            );
        }
        s
    }

    /// The line about the optimizer records.
    pub fn records_note(&self) -> String {
        format!(
            "optimizer records: {} run(s), informative only (not verified: the frozen trajectory is a theorem about the optimizer class, not a claim of the certificate)",
            self.optimizer_records
        )
    }
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// The data: inputs as floats with bounds (exact on demand), targets exact.
struct Data<'a> {
    rows: &'a [Value],
    d: usize,
    xf: Vec<f64>,
    xe: Vec<f64>,
    ys: Vec<Vec<BigRational>>,
}

impl Data<'_> {
    /// The exact input `m`, reading only the coordinates in `read` (others are 0).
    fn exact_x(&self, m: usize, read: Option<&[bool]>) -> Result<Vec<BigRational>, CheckError> {
        let row = list(&self.rows[m], "data.x")?;
        row.iter()
            .enumerate()
            .map(|(i, v)| match read {
                Some(r) if !r[i] => Ok(BigRational::zero()),
                _ => number(v, "data.x"),
            })
            .collect()
    }
}

fn read_widths(cert: &Value) -> Result<Vec<usize>, CheckError> {
    list(field(cert, "arch")?, "arch")?
        .iter()
        .map(|w| count(w, "arch"))
        .collect()
}

fn parameter_count(widths: &[usize]) -> Option<usize> {
    widths.windows(2).try_fold(0usize, |acc, w| {
        w[1].checked_mul(w[0].checked_add(1)?)
            .and_then(|n| acc.checked_add(n))
    })
}

fn read_data<'a>(cert: &'a Value, widths: &[usize]) -> Result<Data<'a>, CheckError> {
    let data = field(cert, "data")?;
    let rows = list(field(data, "x")?, "data.x")?;
    let yrows = list(field(data, "y")?, "data.y")?;
    // claim: data
    ensure(
        Claim::Data,
        !rows.is_empty() && rows.len() == yrows.len(),
        || format!("{} inputs and {} targets", rows.len(), yrows.len()),
    )?;
    let (d, outs) = (widths[0], widths[widths.len() - 1]);
    let fits = rows
        .iter()
        .all(|r| r.as_array().is_some_and(|r| r.len() == d))
        && yrows
            .iter()
            .all(|r| r.as_array().is_some_and(|r| r.len() == outs));
    // claim: data
    ensure(Claim::Data, fits, || {
        "a point does not fit the architecture".into()
    })?;
    let mut xf = Vec::with_capacity(rows.len() * d);
    let mut xe = Vec::with_capacity(rows.len() * d);
    for (m, row) in rows.iter().enumerate() {
        let label = format!("data.x[{m}]");
        for v in list(row, "data.x")? {
            let (f, e) = float(v, &label)?;
            xf.push(f);
            xe.push(e);
        }
    }
    let ys = yrows
        .iter()
        .enumerate()
        .map(|(m, y)| vector(y, &format!("data.y[{m}]")))
        .collect::<Result<_, _>>()?;
    Ok(Data {
        rows,
        d,
        xf,
        xe,
        ys,
    })
}

/// `(point, neuron, z)`: a neuron active at a data point.
type Active = (usize, usize, BigRational);

/// The first data point where layer `k` of `theta` has a positive neuron, as
/// `(point, neuron, z)`, and the number of points the float filter left undecided.
fn first_active(
    net: Net<'_>,
    k: usize,
    data: &Data<'_>,
    meter: &mut Meter,
) -> Result<(Option<Active>, usize), CheckError> {
    let layers: Vec<FloatLayer> = (1..=k)
        .map(|l| {
            let (w, b) = net.layer(l);
            FloatLayer::new(net.widths[l], net.widths[l - 1], w, b)
        })
        .collect();
    let xe = data.xe.iter().any(|e| *e != 0.0).then_some(&data.xe[..]);
    let verdicts = verdicts(&layers, data.d, &data.xf, xe);
    let sparse = Sparse::new(net, k);
    let mut fallbacks = 0;
    for (m, v) in verdicts.iter().enumerate() {
        match v {
            Verdict::Dead => {}
            Verdict::Active(_) | Verdict::Undecided => {
                // the exact value decides (and gives the exact z of an active neuron)
                if *v == Verdict::Undecided {
                    fallbacks += 1;
                }
                let pre = sparse.forward(&data.exact_x(m, None)?, meter)?;
                if let Some((j, z)) = pre[k - 1].iter().enumerate().find(|(_, z)| z.is_positive()) {
                    return Ok((Some((m, j, z.clone())), fallbacks));
                }
            }
        }
    }
    Ok((None, fallbacks))
}

/// The exact risk of `theta` on the data.
fn risk(net: Net<'_>, data: &Data<'_>, meter: &mut Meter) -> Result<BigRational, CheckError> {
    let sparse = Sparse::new(net, net.depth());
    let read = sparse.inputs_read();
    let total = sum_points(data.ys.len(), meter, |m, meter| {
        let x = data.exact_x(m, Some(&read))?;
        let pre = sparse.forward(&x, meter)?;
        squared_error(&pre[net.depth() - 1], &data.ys[m], meter)
    })?;
    Ok(mean(total, data.ys.len()))
}

/// `sum_m f(m)` over `points` points, on all cores in contiguous chunks. The sum is exact,
/// so it is the same for any thread count; an error is the one of the first failing
/// point, as in a serial loop. Each chunk meters its own work against the budget left at
/// the start, and all of it is charged to `meter` afterwards: a certificate too large for
/// the budget is refused either way, after at most one budget's work per thread.
fn sum_points(
    points: usize,
    meter: &mut Meter,
    f: impl Fn(usize, &mut Meter) -> Result<BigRational, CheckError> + Sync,
) -> Result<BigRational, CheckError> {
    let per = points.div_ceil(crate::filter::threads()).max(1);
    let start = meter.used();
    let f = &f;
    let parts: Vec<Result<(BigRational, u64), CheckError>> = std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..points)
            .step_by(per)
            .map(|lo| {
                scope.spawn(move || {
                    let mut own = Meter::starting_at(start);
                    let mut total = BigRational::zero();
                    for m in lo..(lo + per).min(points) {
                        total += f(m, &mut own)?;
                    }
                    Ok((total, own.used() - start))
                })
            })
            .collect();
        chunks
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut total = BigRational::zero();
    for part in parts {
        let (t, used) = part?;
        meter.charge(used)?;
        total += t;
    }
    Ok(total)
}

/// Verifies every claim of a certificate (version 1 or 2) with exact arithmetic, signs
/// through the float filter with exact fallback.
///
/// # Errors
/// [`CheckError::NotJson`] for a text that is not JSON, [`CheckError::Unreadable`] for
/// malformed input or an unknown version,
/// [`CheckError::TooLarge`] over a limit, [`CheckError::ClaimFails`] naming the first
/// false claim.
pub fn check_certificate(text: &str) -> Result<Checked, CheckError> {
    let cert: Value = crate::read::strict_json(text)?;
    check_certificate_value(&cert)
}

/// [`check_certificate`] of a certificate already parsed (or built in memory): the same
/// claims, the same code, without the text. `serde_json` writes a [`Value`] so that reading
/// it back gives the same value (strings escaped exactly, integers exact, no duplicate keys
/// in a map, floats round-trip with its `float_roundtrip` feature, which `deadrelu` enables),
/// so `deadrelu audit` checks the value it is about to write instead of re-parsing it.
///
/// # Errors
/// As [`check_certificate`], except that there is no text to be unreadable.
pub fn check_certificate_value(cert: &Value) -> Result<Checked, CheckError> {
    if field(cert, "format")?.as_str() != Some(FORMAT) {
        return Err(unreadable(format!("format is not {FORMAT:?}")));
    }
    let version = field(cert, "version")?.as_u64();
    let version = version.filter(|v| READS.contains(v)).ok_or_else(|| {
        unreadable(format!(
            "version {}: this checker reads versions {READS:?}; use a deadrelu-check that reads it",
            field(cert, "version")
                .map(|v| v.to_string())
                .unwrap_or_default()
        ))
    })?;
    // claim: claim
    ensure(
        Claim::Kind,
        field(cert, "claim")?.as_str() == Some("non-convergence"),
        || "only \"non-convergence\" certificates exist".into(),
    )?;
    // architecture
    let widths = read_widths(cert)?;
    // claim: arch
    ensure(
        Claim::Arch,
        widths.len() >= 3 && !widths.contains(&0),
        || "needs L >= 2 and every width >= 1".into(),
    )?;
    let params = parameter_count(&widths);
    // claim: arch
    ensure(Claim::Arch, params.is_some(), || {
        "the parameter count overflows".into()
    })?;
    let params = params.unwrap_or(0);
    let depth = widths.len() - 1;
    let points = field(field(cert, "data")?, "x")?
        .as_array()
        .map_or(0, Vec::len);
    if (points as u128) * (params as u128) > MAX_POINTS_TIMES_PARAMS {
        return Err(too_large(
            Limit::Size,
            format!("{points} points x {params} parameters"),
        ));
    }
    let data = read_data(cert, &widths)?;
    let theta0 = vector(field(cert, "theta0")?, "theta0")?;
    // claim: theta0
    ensure(Claim::Theta0, theta0.len() == params, || {
        format!("{} entries, the architecture has {params}", theta0.len())
    })?;
    let net = Net {
        widths: &widths,
        theta: &theta0,
    };
    let mut meter = Meter::new();
    // the dead layer
    let k = count(field(cert, "dead_layer")?, "dead_layer")?;
    // claim: dead_layer
    ensure(Claim::DeadLayerIndex, (1..depth).contains(&k), || {
        format!("{k} is not a hidden layer (1..{})", depth - 1)
    })?;
    let (active, exact_fallbacks) = first_active(net, k, &data, &mut meter)?;
    // claim: dead on data
    ensure(Claim::DeadOnData, active.is_none(), || {
        let (m, j, z) = active.clone().unwrap_or((0, 0, BigRational::zero()));
        format!(
            "neuron {j} of layer {k} is active at point {m} (z = {})",
            brief(&z)
        )
    })?;
    if version == 1 {
        check_preactivations(cert, net, k, &data, &mut meter)?;
    }
    // the constant and the risks
    let constant = output_after_dead(net, k, &mut meter)?;
    let claimed = vector(field(cert, "constant_value")?, "constant_value")?;
    // claim: constant_value
    ensure(Claim::ConstantValue, claimed == constant, || {
        format!(
            "the output with layer {k} dead is [{}]",
            constant.iter().map(brief).collect::<Vec<_>>().join(", ")
        )
    })?;
    let total = sum_points(points, &mut meter, |m, meter| {
        squared_error(&constant, &data.ys[m], meter)
    })?;
    let r0 = mean(total, points);
    let claimed = number(field(cert, "risk_theta0")?, "risk_theta0")?;
    // claim: risk_theta0
    ensure(Claim::RiskTheta0, claimed == r0, || {
        format!("recomputed {}", brief(&r0))
    })?;
    let sum_y = data
        .ys
        .iter()
        .fold(vec![BigRational::zero(); widths[depth]], |mut acc, y| {
            for (a, t) in acc.iter_mut().zip(y) {
                *a += t;
            }
            acc
        });
    let mean_y: Vec<BigRational> = sum_y.into_iter().map(|s| mean(s, points)).collect();
    let total = sum_points(points, &mut meter, |m, meter| {
        squared_error(&mean_y, &data.ys[m], meter)
    })?;
    let v = mean(total, points);
    let claimed = number(field(cert, "best_constant_risk")?, "best_constant_risk")?;
    // claim: best_constant_risk
    ensure(Claim::BestConstantRisk, claimed == v, || {
        format!("recomputed V = {}", brief(&v))
    })?;
    let frozen = net.offset(k + 1) + widths[k + 1] * widths[k];
    let claimed = count(field(cert, "frozen_coordinates")?, "frozen_coordinates")?;
    // claim: frozen_coordinates
    ensure(Claim::FrozenCoordinates, claimed == frozen, || {
        format!("layers 1..{k} and W_{} have {frozen} coordinates", k + 1)
    })?;
    // the witness
    let witness = field(cert, "witness")?;
    let theta_star = vector(field(witness, "theta")?, "witness.theta")?;
    // claim: witness.theta
    ensure(Claim::WitnessTheta, theta_star.len() == params, || {
        format!(
            "{} entries, the architecture has {params}",
            theta_star.len()
        )
    })?;
    let star = Net {
        widths: &widths,
        theta: &theta_star,
    };
    let rw = risk(star, &data, &mut meter)?;
    let claimed = number(field(witness, "risk")?, "witness.risk")?;
    // claim: witness.risk
    ensure(Claim::WitnessRisk, claimed == rw, || {
        format!("claimed risk differs from the recomputed {}", brief(&rw))
    })?;
    // claim: witness below V
    ensure(Claim::WitnessBelowV, rw < v, || {
        format!("risk {} is not below V = {}", brief(&rw), brief(&v))
    })?;
    let domain = match cert.get("domain") {
        Some(d) => Some(check_domain(d, net, k, &data)?),
        None => None,
    };
    let optimizer_records = cert
        .get("records")
        .and_then(|r| r.get("optimizer_runs"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    // integrity
    let stated = field(cert, "digest")?
        .as_str()
        .ok_or_else(|| unreadable("digest: expected a string"))?;
    // claim: digest
    ensure(Claim::Digest, stated == digest(cert), || {
        "the SHA-256 of the certificate's content does not match (edited after it was written)"
            .into()
    })?;
    Ok(Checked {
        version,
        widths: widths.clone(),
        points,
        dead_layer: k,
        best_constant_risk: show(&v),
        witness_risk: show(&rw),
        domain,
        exact_fallbacks,
        optimizer_records,
        exact_work: meter.used(),
    })
}

/// Version 1 lists every pre-activation of layers `1..k`; they must be a forward pass.
fn check_preactivations(
    cert: &Value,
    net: Net<'_>,
    k: usize,
    data: &Data<'_>,
    meter: &mut Meter,
) -> Result<(), CheckError> {
    let claimed = list(field(cert, "preactivations")?, "preactivations")?;
    // claim: preactivations
    ensure(
        Claim::Preactivations,
        claimed.len() == data.ys.len(),
        || "one entry per data point expected".into(),
    )?;
    let sparse = Sparse::new(net, k);
    for (m, c) in claimed.iter().enumerate() {
        let pre = sparse.forward(&data.exact_x(m, None)?, meter)?;
        let c = list(c, "preactivations")?
            .iter()
            .map(|z| vector(z, &format!("preactivations[{m}]")))
            .collect::<Result<Vec<_>, _>>()?;
        // claim: preactivations
        ensure(Claim::Preactivations, c == pre, || {
            format!("point {m}: pre-activations of layers 1..{k} differ from a forward pass")
        })?;
    }
    Ok(())
}

/// The box claim: `[A, B]` non-empty, about the dead layer, holding every data point,
/// and the proof replayed. Returns `(A, B, regions)`.
fn check_domain(
    domain: &Value,
    net: Net<'_>,
    k: usize,
    data: &Data<'_>,
) -> Result<(String, String, usize), CheckError> {
    let bounds = vector(field(domain, "box")?, "domain.box")?;
    let [a, b] = <[BigRational; 2]>::try_from(bounds)
        .map_err(|_| unreadable("domain.box: expected [A, B]"))?;
    // claim: domain.box
    ensure(Claim::DomainBox, a <= b, || {
        "the box is empty (A > B)".into()
    })?;
    let layer = count(field(domain, "layer")?, "domain.layer")?;
    // claim: domain.layer
    ensure(Claim::DomainLayer, layer == k, || {
        format!("the box claim is about layer {layer}, dead_layer is {k}")
    })?;
    let mut outside = None;
    for m in 0..data.ys.len() {
        if data.exact_x(m, None)?.iter().any(|v| *v < a || *v > b) {
            outside = Some(m);
            break;
        }
    }
    // claim: domain data in box
    ensure(Claim::DomainCoversData, outside.is_none(), || {
        format!("data point {} lies outside the box", outside.unwrap_or(0))
    })?;
    let region = vec![(a.clone(), b.clone()); net.widths[0]];
    let mut regions = 0;
    // claim: domain.proof
    regions +=
        boxproof::check_box_proof(net.widths, net.theta, k, &region, field(domain, "proof")?)?;
    Ok((show(&a), show(&b), regions))
}
