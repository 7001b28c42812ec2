//! The versioned JSON certificate of non-convergence.
//!
//! Everything is an exact string. The *claims* (re-verified by the independent checker,
//! the crate [`deadrelu_check`]; its README lists them): the architecture, the data,
//! theta_0, the dead layer `k` (dead at every data point: the checker re-derives the
//! signs, version 2 no longer lists the pre-activations), the constant value of the
//! realization, `R(theta_0)`, `V`, the number of coordinates frozen by layer k, the
//! witness theta* and its risk (`< V`), and optionally the whole-box claim with its
//! proof. The *records* (the optimizer runs of the audit) are informative: they document
//! what was simulated, marked `"verified": false`; fact 3 is a theorem about the
//! optimizer class, so the certificate's validity does not rest on them, and `check`
//! says so. The SHA-256 digest over the canonical JSON guards against accidental edits
//! and truncation; anyone can recompute it, so it proves nothing by itself.

use super::mechanism::AuditReport;
use crate::data::Dataset;
use crate::net::Network;
use crate::scalar::{BigRational, rational_string};
use serde_json::{Value, json};

/// The format name.
pub const FORMAT: &str = deadrelu_check::FORMAT;
/// The format version written (version 1 listed every pre-activation of layers 1..k).
pub const VERSION: u64 = deadrelu_check::VERSION;

/// A certificate as JSON.
#[derive(Debug, Clone)]
pub struct Certificate(pub Value);

fn strings(v: &[BigRational]) -> Vec<String> {
    v.iter().map(rational_string).collect()
}

/// SHA-256 of the canonical JSON (sorted keys, no spaces) of `body` without `digest`
/// (the checker's own [`deadrelu_check::canon::digest`]).
pub fn digest_of(body: &Value) -> String {
    deadrelu_check::canon::digest(body)
}

impl Certificate {
    /// Adds the claim that layer `k` (the certificate's dead layer) is dead on the whole
    /// box `[a,b]^d`, with its proof ([`crate::activity::domain::DeadProof::to_json`]),
    /// and renews the digest. The checker then also verifies that every data point lies
    /// in the box and replays the proof.
    pub fn with_domain(mut self, a: &BigRational, b: &BigRational, k: usize, proof: Value) -> Self {
        self.0["domain"] = json!({
            "box": [rational_string(a), rational_string(b)],
            "layer": k,
            "proof": proof,
        });
        let digest = digest_of(&self.0);
        self.0["digest"] = Value::String(digest);
        self
    }

    /// Builds the certificate of a certified audit; `None` unless the verdict is
    /// `non-convergence-certified`.
    pub fn from_report(
        net: &Network<BigRational>,
        data: &Dataset<BigRational>,
        report: &AuditReport,
    ) -> Option<Self> {
        if report.verdict != super::Verdict::NonConvergenceCertified {
            return None;
        }
        let k = report.dead_layer?;
        let (witness, witness_risk) = report.witness.as_ref()?;
        let constant = report.constant_value.as_ref()?;
        let runs: Vec<Value> = report
            .runs
            .iter()
            .map(|r| {
                json!({
                    "name": r.resolved.kind.name(),
                    "hyperparameters": r.resolved.to_json(),
                    "steps": r.steps,
                    "batch": r.batch,
                    "batch_seed": r.batch_seed,
                    "arithmetic": r.arithmetic,
                    "frozen": r.frozen,
                    "layer_stayed_dead": r.layer_stayed_dead,
                    "constant_realization": r.constant_realization,
                    "risk_never_below_best_constant": r.risk_never_below_v,
                    "enclosure_lost_at_step": r.enclosure_lost_at,
                })
            })
            .collect();
        let mut body = json!({
            "format": FORMAT,
            "version": VERSION,
            "claim": "non-convergence",
            "arch": net.arch().widths(),
            "data": {
                "x": (0..data.len()).map(|m| strings(data.x(m))).collect::<Vec<_>>(),
                "y": (0..data.len()).map(|m| strings(data.y(m))).collect::<Vec<_>>(),
            },
            "theta0": strings(net.params()),
            "dead_layer": k,
            "constant_value": strings(constant),
            "risk_theta0": rational_string(&report.risk),
            "best_constant_risk": rational_string(&report.best_constant_risk),
            "frozen_coordinates": report.frozen_count,
            "witness": {"theta": strings(witness.params()), "risk": rational_string(witness_risk)},
            "records": {
                "generator": format!("deadrelu {}", env!("CARGO_PKG_VERSION")),
                "verified": false,
                "note": "informative: what the audit simulated; check does not verify it (fact 3 is a theorem about the optimizer class)",
                "optimizer_runs": runs,
            },
        });
        let digest = digest_of(&body);
        body["digest"] = Value::String(digest);
        Some(Self(body))
    }
}
