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
        "valid: layer {k} of {} is dead on all {} points (exact), the realization is constant, V = {}, witness risk {} < V",
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
