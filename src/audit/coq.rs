//! A certificate as a Coq file checked by Coq's kernel (`deadrelu audit --coq FILE.v`).
//!
//! The file states the architecture, the data, theta_0, the dead layer and the witness
//! theta* with exact rationals (Coq's `Q`), proves by computation in the kernel
//! (`vm_compute` on the reflective checker `cert_check` of proofs/Cert.v) that the layer
//! is dead on every data point and that the witness has risk below V, and concludes
//! with `cert_sound` (proofs/Cert.v, resting on proofs/Train.v) that for each of the ten
//! optimizers, every hyperparameter, batch loss and sequence of batches drawn from the
//! data, no iterate and no limit point is a global minimizer. Check it with
//! `coqc -Q proofs DeadRelu FILE.v` after `make -C proofs`.
//!
//! Size: one rational per entry of the data, theta_0 and theta*, so the file grows
//! linearly in `M (l_0 + l_L) + 2 D`. Checking runs one exact forward pass of theta_0
//! per data point up to the dead layer, and one of theta* per data point, so its time
//! grows like `M D` rational operations (times the cost of the rationals' sizes).

use super::certificate::FORMAT;
use crate::scalar::ScalarError;
use crate::scalar::{BigRational, parse_rational};
use serde_json::Value;
use std::fmt::Write;

/// Why a certificate cannot be written as a Coq file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoqError {
    /// A missing or malformed field: the writer's own words for which field and what it
    /// expected, no other error inside.
    #[error("unreadable certificate: {0}")]
    Malformed(String),
    /// An entry of a list of exact strings that is not an exact number.
    #[error("unreadable certificate: {what}[{index}]: {source}")]
    Number {
        /// The list (`theta0`, `data.x[3]`).
        what: String,
        /// The entry.
        index: usize,
        /// The cause.
        source: ScalarError,
    },
}

fn unreadable(what: impl Into<String>) -> CoqError {
    CoqError::Malformed(what.into())
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, CoqError> {
    v.get(name)
        .ok_or_else(|| unreadable(format!("missing field {name:?}")))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, CoqError> {
    v.as_array()
        .ok_or_else(|| unreadable(format!("{what}: expected a list")))
}

fn count(v: &Value, what: &str) -> Result<u64, CoqError> {
    v.as_u64()
        .ok_or_else(|| unreadable(format!("{what}: expected a non-negative integer")))
}

/// A rational as a Coq `Q` literal `(n#d)`.
fn q_literal(q: &BigRational) -> String {
    format!("({}#{})", q.numer(), q.denom())
}

/// A JSON list of exact strings as Coq `Q` literals.
fn q_items(v: &Value, what: &str) -> Result<Vec<String>, CoqError> {
    list(v, what)?
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::String(s) => {
                parse_rational(s)
                    .map(|q| q_literal(&q))
                    .map_err(|source| CoqError::Number {
                        what: what.to_string(),
                        index: i,
                        source,
                    })
            }
            _ => Err(unreadable(format!("{what}[{i}]: expected an exact string"))),
        })
        .collect()
}

/// A JSON list of exact strings as a Coq `list Q`.
fn q_list(v: &Value, what: &str) -> Result<String, CoqError> {
    Ok(format!("[{}]", q_items(v, what)?.join("; ")))
}

/// A flat parameter vector as a Coq `list Q`, one line per weight matrix and bias vector
/// (`(* name W_k *)`, `(* name B_k *)`), in MECHANISM.md's layout.
fn q_params(v: &Value, name: &str, arch: &[u64]) -> Result<String, CoqError> {
    let items = q_items(v, name)?;
    let mut lines = Vec::new();
    let mut at = 0usize;
    for (k, w) in arch.windows(2).enumerate() {
        let (n_in, n_out) = (
            usize::try_from(w[0]).unwrap_or(usize::MAX),
            usize::try_from(w[1]).unwrap_or(usize::MAX),
        );
        for (part, len) in [("W", n_out.saturating_mul(n_in)), ("B", n_out)] {
            let end = at.saturating_add(len);
            let chunk = items.get(at..end).ok_or_else(|| {
                unreadable(format!(
                    "{name}: {} entries do not fit the architecture",
                    items.len()
                ))
            })?;
            lines.push(format!(
                "  (* {name} {part}_{} *) {}",
                k + 1,
                chunk.join("; ")
            ));
            at = end;
        }
    }
    if at != items.len() {
        return Err(unreadable(format!(
            "{name}: {} entries, the architecture has {at}",
            items.len()
        )));
    }
    let lines: Vec<String> = lines.into_iter().filter(|l| !l.ends_with("*) ")).collect();
    Ok(format!("[\n{}\n]", lines.join(";\n")))
}

/// The ten optimizers of proofs/Optimizers.v: (theorem name, its hyperparameters, the
/// coordinate optimizer, the Optimizers.v lemma that it is coordinate-frozen).
const OPTIMIZERS: [(&str, &str, &str, &str); 10] = [
    ("sgd", "lr", "sgd lr", "sgd_frozen"),
    ("momentum", "lr mu", "momentum lr mu", "momentum_frozen"),
    ("nesterov", "lr mu", "nesterov lr mu", "nesterov_frozen"),
    (
        "adagrad",
        "lr eps lr_decay",
        "adagrad lr eps lr_decay",
        "adagrad_frozen",
    ),
    (
        "rmsprop",
        "lr mu alpha eps centered use_momentum",
        "rmsprop lr mu alpha eps centered use_momentum",
        "rmsprop_frozen",
    ),
    (
        "adam",
        "lr beta1 beta2 eps",
        "adam lr beta1 beta2 eps false",
        "adam_frozen",
    ),
    (
        "amsgrad",
        "lr beta1 beta2 eps",
        "adam lr beta1 beta2 eps true",
        "adam_frozen",
    ),
    (
        "adamax",
        "lr beta1 beta2 eps",
        "adamax lr beta1 beta2 eps",
        "adamax_frozen",
    ),
    (
        "nadam",
        "lr beta1 beta2 eps nadam_mu",
        "nadam lr beta1 beta2 eps nadam_mu",
        "nadam_frozen",
    ),
    (
        "adadelta",
        "lr eps rho",
        "adadelta lr eps rho",
        "adadelta_frozen",
    ),
];

/// Writes the Coq file of a (JSON) certificate of non-convergence.
///
/// # Errors
/// [`CoqError`] if the certificate lacks a field or has a malformed one.
/// The claims themselves are not checked here: Coq's kernel checks them.
pub fn coq_certificate(cert: &Value) -> Result<String, CoqError> {
    if field(cert, "format")?.as_str() != Some(FORMAT) {
        return Err(unreadable(format!("format is not {FORMAT:?}")));
    }
    let widths = list(field(cert, "arch")?, "arch")?
        .iter()
        .map(|w| count(w, "arch"))
        .collect::<Result<Vec<_>, _>>()?;
    let arch: Vec<String> = widths.iter().map(u64::to_string).collect();
    let k = count(field(cert, "dead_layer")?, "dead_layer")?;
    let data = field(cert, "data")?;
    let xs = list(field(data, "x")?, "data.x")?;
    let ys = list(field(data, "y")?, "data.y")?;
    if xs.len() != ys.len() {
        return Err(unreadable(format!(
            "data: {} inputs and {} targets",
            xs.len(),
            ys.len()
        )));
    }
    let theta0 = q_params(field(cert, "theta0")?, "theta0", &widths)?;
    let witness = q_params(field(field(cert, "witness")?, "theta")?, "witness", &widths)?;
    let show = |name: &str| cert.get(name).and_then(Value::as_str).unwrap_or("?");
    let mut out = String::new();
    let w = &mut out;
    // writing into a String cannot fail
    let _ = writeln!(
        w,
        "(* A certificate of non-convergence checked by Coq's kernel, written by deadrelu {}\n   \
         (`deadrelu audit ... --coq`). Check: make -C proofs && coqc -Q proofs DeadRelu THIS_FILE.v\n   \
         Claims (exact, re-computed below by vm_compute): layer {k} of theta0 is dead on every\n   \
         data point; the witness has risk {} < V = {}. JSON certificate digest: {}. *)",
        env!("CARGO_PKG_VERSION"),
        cert.get("witness")
            .and_then(|v| v.get("risk"))
            .and_then(Value::as_str)
            .unwrap_or("?"),
        show("best_constant_risk"),
        show("digest"),
    );
    let _ = writeln!(w, "From Coq Require Import QArith List.");
    let _ = writeln!(w, "From DeadRelu Require Import Optimizers Train Cert.");
    let _ = writeln!(w, "Import ListNotations.");
    let _ = writeln!(w, "Local Open Scope Q_scope.\n");
    let _ = writeln!(
        w,
        "Definition arch : list nat := [{}]%nat.",
        arch.join("; ")
    );
    let _ = writeln!(w, "Definition dead_layer : nat := {k}%nat.");
    let _ = writeln!(w, "Definition data : list (list Q * list Q) := [");
    for (m, (x, y)) in xs.iter().zip(ys).enumerate() {
        let sep = if m + 1 < xs.len() { ";" } else { "" };
        let _ = writeln!(
            w,
            "  ({}, {}){sep}",
            q_list(x, &format!("data.x[{m}]"))?,
            q_list(y, &format!("data.y[{m}]"))?
        );
    }
    let _ = writeln!(w, "].");
    let _ = writeln!(w, "Definition theta0 : list Q := {theta0}.");
    let _ = writeln!(w, "Definition witness : list Q := {witness}.\n");
    let _ = writeln!(
        w,
        "(* Computed by the kernel at Qed (vm_compute): shapes, layer dead_layer of theta0 dead on\n   \
         every point, risk(witness) < V. *)"
    );
    let _ = writeln!(
        w,
        "Lemma checked : cert_check arch data dead_layer theta0 witness = true.\n\
         Proof. vm_cast_no_check (eq_refl true). Qed.\n"
    );
    let _ = writeln!(
        w,
        "(* For every coordinate-frozen optimizer: the layer stays dead, the risk stays >= V, and\n   \
         no iterate and no limit point is a global minimizer. *)"
    );
    let _ = writeln!(
        w,
        "Theorem no_global_minimizer : forall o, coordinate_frozen o -> cert_conclusion arch data dead_layer theta0 o.\n\
         Proof. exact (cert_sound arch data dead_layer theta0 witness checked). Qed.\n"
    );
    for (name, params, opt, lemma) in OPTIMIZERS {
        let _ = writeln!(
            w,
            "Theorem {name}_fails : forall {params}, cert_conclusion arch data dead_layer theta0 ({opt}).\n\
             Proof. intros. apply no_global_minimizer, {lemma}. Qed."
        );
    }
    let names: Vec<String> = OPTIMIZERS
        .iter()
        .map(|(name, ..)| format!("{name}_fails"))
        .collect();
    let _ = writeln!(
        w,
        "\n(* all ten theorems at once, for one Print Assumptions *)\n\
         Definition all_optimizers_fail := ({}).\nPrint Assumptions all_optimizers_fail.",
        names.join(", ")
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiny() -> Value {
        json!({
            "format": FORMAT,
            "arch": [1, 1, 1],
            "dead_layer": 1,
            "data": {"x": [["-1"], ["1/2"]], "y": [["0"], ["3"]]},
            "theta0": ["1/3", "-1", "0", "5/2"],
            "witness": {"theta": ["6", "0", "1", "0"], "risk": "0"},
            "best_constant_risk": "9/4",
            "digest": "abc",
        })
    }

    #[test]
    fn states_every_number_as_a_q_literal() {
        let text = coq_certificate(&tiny()).unwrap();
        assert!(text.contains("Definition arch : list nat := [1; 1; 1]%nat."));
        assert!(text.contains("Definition dead_layer : nat := 1%nat."));
        assert!(text.contains("  ([(-1#1)], [(0#1)]);\n  ([(1#2)], [(3#1)])\n]."));
        assert!(text.contains(
            "Definition theta0 : list Q := [\n  (* theta0 W_1 *) (1#3);\n  (* theta0 B_1 *) (-1#1);\n  \
             (* theta0 W_2 *) (0#1);\n  (* theta0 B_2 *) (5#2)\n]."
        ));
        assert!(text.contains("(* witness W_1 *) (6#1);"));
        assert_eq!(text.matches("_fails : forall").count(), 10);
        assert!(text.contains("risk 0 < V = 9/4"));
    }

    #[test]
    fn malformed_certificates_are_rejected() {
        let mut bad = tiny();
        bad["theta0"][1] = json!(3);
        assert!(coq_certificate(&bad).is_err());
        let mut bad = tiny();
        bad["theta0"][1] = json!("1/0");
        assert!(matches!(
            coq_certificate(&bad),
            Err(CoqError::Number { ref what, index: 1, .. }) if what == "theta0"
        ));
        let mut bad = tiny();
        bad["data"]["y"] = json!([["0"]]);
        assert!(coq_certificate(&bad).is_err());
        let mut bad = tiny();
        bad["witness"]["theta"] = json!(["1", "2", "3"]);
        assert!(coq_certificate(&bad).is_err());
        let mut bad = tiny();
        bad["format"] = json!("other");
        assert!(coq_certificate(&bad).is_err());
    }
}
