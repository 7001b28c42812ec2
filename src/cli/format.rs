//! Output shared by the commands: JSON on stdout, numbers (exact strings or floats),
//! the readable lines of box decisions, progress bars.

use crate::activity::domain::BoxDecision;
use crate::scalar::Scalar;
use serde_json::{Value, json};

thread_local! {
    /// Where [`print_json`] puts its value instead of stdout while [`super::run_json`]
    /// runs a command on this thread.
    static CAPTURE: std::cell::RefCell<Option<Option<Value>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with [`print_json`] captured on this thread; returns the value it printed.
pub(crate) fn capture_json<T>(f: impl FnOnce() -> T) -> (T, Option<Value>) {
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
    let out = f();
    let value = CAPTURE.with(|c| c.borrow_mut().take()).flatten();
    (out, value)
}

/// Ends a capture that [`capture_json`] could not end (its function unwound).
pub(crate) fn end_capture() {
    CAPTURE.with(|c| *c.borrow_mut() = None);
}

/// Prints a JSON value on stdout as one line (or hands it to [`capture_json`]).
pub(crate) fn print_json(v: &serde_json::Value) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(slot) => {
            *slot = Some(v.clone());
            true
        }
        None => false,
    });
    if !captured {
        println!(
            "{}",
            serde_json::to_string(v).expect("JSON values always serialize")
        );
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal (hidden otherwise, so
/// logs and CI output stay clean).
pub(crate) fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A scalar as JSON: its exact string in exact arithmetic, else a float.
pub(crate) fn number<S: Scalar>(v: &S) -> Value {
    if S::EXACT {
        Value::String(v.to_exact_string())
    } else {
        json!(v.to_f64())
    }
}

/// One layer's box decision as JSON.
pub fn decision_json(k: usize, decision: &BoxDecision) -> Value {
    match decision {
        BoxDecision::Dead { proof } => {
            json!({"layer": k, "status": "dead", "proof": proof.method(), "regions": proof.regions()})
        }
        BoxDecision::Alive {
            witness,
            neuron,
            value,
        } => json!({
            "layer": k, "status": "alive", "neuron": neuron,
            "witness": witness.iter().map(crate::scalar::rational_string).collect::<Vec<_>>(),
            "preactivation": crate::scalar::rational_string(value),
        }),
        BoxDecision::Unknown { reason } => {
            json!({"layer": k, "status": "unknown", "reason": reason})
        }
    }
}

/// One line describing a layer's box decision (from [`decision_json`]).
pub fn decision_line(l: &Value) -> String {
    match l["status"].as_str() {
        Some("dead") => format!(
            "layer {}: DEAD on the box ({}: {} regions, each proven exactly)",
            l["layer"],
            show(&l["proof"]),
            l["regions"]
        ),
        Some("alive") => format!(
            "layer {}: alive, neuron {} has pre-activation {} at x = {}",
            l["layer"],
            l["neuron"],
            show(&l["preactivation"]),
            l["witness"]
        ),
        _ => format!(
            "layer {}: unknown ({})",
            l["layer"],
            l["reason"].as_str().unwrap_or("")
        ),
    }
}

/// A JSON value as text: a string without its quotes.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An exact string when it is short, else its decimal value with a pointer to `--json`.
pub(crate) fn brief(v: &Value) -> String {
    match v.as_str() {
        Some(text) if text.len() > 40 => {
            let approx = crate::scalar::parse_rational(text)
                .map(|q| crate::scalar::Scalar::to_f64(&q))
                .unwrap_or(f64::NAN);
            format!("{approx:.6} (exact rational in --json)")
        }
        _ => show(v),
    }
}

/// A rational as the nearest double (NaN when it has none).
pub fn to_f64(q: &crate::scalar::BigRational) -> f64 {
    num_traits::ToPrimitive::to_f64(q).unwrap_or(f64::NAN)
}
