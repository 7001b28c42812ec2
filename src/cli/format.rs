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
    if !std::io::stderr().is_terminal() || super::quiet() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(super::progress::style());
    bar.set_message(what.to_string());
    bar
}

/// A scalar as JSON: its exact string in exact arithmetic (an enclosure that is not a
/// point as the array `["lo", "hi"]` of exact strings), else a float.
pub(crate) fn number<S: Scalar>(v: &S) -> Value {
    if S::EXACT {
        let text = v.to_exact_string();
        match text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.split_once(", "))
        {
            Some((lo, hi)) => json!([lo, hi]),
            None => Value::String(text),
        }
    } else {
        json!(v.to_f64())
    }
}

/// A number for people: `0` for zero, six significant digits between `1e-3` and `1e6`,
/// scientific notation (four significant digits) outside, so a nonzero value never
/// prints as zero.
pub fn decimal(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return x.to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if (-3..6).contains(&magnitude) {
        let decimals = usize::try_from(5 - magnitude).unwrap_or(0);
        trim_zeros(format!("{x:.decimals$}"))
    } else {
        sci(x, 3)
    }
}

/// An exact probability for people, the same in every command: its [`decimal`] (trailing
/// zeros dropped), then `(exact)` when that is the value, `(exactly 1/4)` when the
/// fraction is short, or `(exact fraction in --json)`.
pub fn exact_probability(q: &crate::scalar::BigRational) -> String {
    let fraction = crate::scalar::rational_string(q);
    let value = decimal(to_f64(q));
    if fraction == value {
        format!("{value} (exact)")
    } else if fraction.len() <= 24 {
        format!("{value} (exactly {fraction})")
    } else {
        format!("{value} (exact fraction in --json)")
    }
}

/// `x` in scientific notation with `digits` decimals, trailing zeros dropped (`1.3e-5`).
fn sci(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let text = format!("{x:.digits$e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa.to_string())),
        None => text,
    }
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A probability for people: four significant digits, scientific notation below `1e-3`,
/// `0` and `1` only when exact.
pub fn probability(p: f64) -> String {
    if p == 0.0 || p == 1.0 || !p.is_finite() {
        return decimal(p);
    }
    if p.abs() < 1e-3 {
        return sci(p, 2);
    }
    let magnitude = p.abs().log10().floor() as i32;
    let decimals = usize::try_from(3 - magnitude).unwrap_or(0);
    format!("{p:.decimals$}")
}

/// An estimate with its interval `[lo, hi]` as value and width: `0.3120 ± 0.0203` when
/// the interval is symmetric at the printed precision, else `0.0013 +0.0005/-0.0004`;
/// the value is printed to the precision of the width (two significant digits of it),
/// in scientific notation when the width is below `1e-3`.
pub fn interval(p: f64, lo: f64, hi: f64) -> String {
    let (up, down) = ((hi - p).max(0.0), (p - lo).max(0.0));
    let width = up.max(down);
    if width.is_nan() || width <= 0.0 || !p.is_finite() {
        return probability(p);
    }
    if width < 1e-3 {
        let fixed = |x: f64| {
            if x == 0.0 {
                "0".to_string()
            } else {
                format!("{x:.1e}")
            }
        };
        let (u, d) = (fixed(up), fixed(down));
        let value = if p == 0.0 { "0".to_string() } else { sci(p, 2) };
        return if u == d {
            format!("{value} ± {u}")
        } else {
            format!("{value} +{u}/-{d}")
        };
    }
    let decimals = usize::try_from(1 - width.log10().floor() as i32).unwrap_or(0);
    let (u, d) = (format!("{up:.decimals$}"), format!("{down:.decimals$}"));
    let value = format!("{p:.decimals$}");
    if u == d {
        format!("{value} ± {u}")
    } else {
        format!("{value} +{u}/-{d}")
    }
}

/// A JSON number or exact string (`"341/3969"`) as a decimal for people ([`decimal`]);
/// with `exact`, an exact string as it is. An enclosure `["lo", "hi"]` prints as
/// `[lo, hi]`.
pub fn readable(v: &Value, exact: bool) -> String {
    match v {
        Value::Number(n) => n.as_f64().map(decimal).unwrap_or_else(|| n.to_string()),
        Value::String(text) if exact => text.clone(),
        Value::String(text) => match crate::scalar::parse_rational(text) {
            Ok(q) => decimal(crate::scalar::Scalar::to_f64(&q)),
            Err(_) => text.clone(),
        },
        Value::Array(items) if items.len() == 2 => format!(
            "[{}, {}]",
            readable(&items[0], exact),
            readable(&items[1], exact)
        ),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| readable(i, exact))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "-".into(),
        other => other.to_string(),
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

/// A rational as the nearest double (NaN when it has none).
pub fn to_f64(q: &crate::scalar::BigRational) -> f64 {
    num_traits::ToPrimitive::to_f64(q).unwrap_or(f64::NAN)
}

/// The inactive first-layer neurons of `activity` and what they freeze, as JSON
/// (`first_layer_inactive` of `inspect` and `audit`).
pub(crate) fn first_layer_json(
    arch: &crate::net::Arch,
    activity: &crate::activity::Activity,
) -> Value {
    let frozen = crate::activity::frozen::first_layer_frozen(arch, activity);
    json!({
        "neurons": frozen.iter().map(|f| f.neuron).collect::<Vec<_>>(),
        "width": arch.width(1),
        "frozen_coordinates": frozen.iter().map(|f| f.count()).sum::<usize>(),
        "frozen": frozen,
    })
}

/// The sentence of [`first_layer_json`] for the text reports.
pub(crate) fn first_layer_line(v: &Value) -> String {
    let neurons: Vec<u64> = v["neurons"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let width = v["width"].as_u64().unwrap_or(0);
    if neurons.is_empty() {
        return format!("first layer: none of its {width} neurons is inactive on the data");
    }
    let list = neurons
        .iter()
        .map(|j| j.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "first layer: {} of {width} neurons inactive on the data (neuron{} {list}, 0-based): \
         frozen for good with {} ({} coordinates), so training can use only {} of the {width}",
        neurons.len(),
        if neurons.len() == 1 { "" } else { "s" },
        if neurons.len() == 1 {
            "its row of W_1, its bias and its column of W_2"
        } else {
            "their rows of W_1, biases and columns of W_2"
        },
        v["frozen_coordinates"],
        width - neurons.len() as u64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_scientific_notation() {
        assert_eq!(decimal(0.0), "0");
        assert_eq!(decimal(341.0 / 3969.0), "0.0859158");
        assert_eq!(decimal(0.271116), "0.271116");
        assert_eq!(decimal(9.3e-7), "9.3e-7");
        assert_eq!(decimal(-1.5), "-1.5");
        assert_eq!(decimal(1234567.0), "1.235e6");
        assert_eq!(decimal(0.25), "0.25");
    }

    #[test]
    fn exact_probabilities_print_one_way() {
        let q = |n: i64, d: i64| crate::scalar::BigRational::new(n.into(), d.into());
        assert_eq!(exact_probability(&q(1, 4)), "0.25 (exactly 1/4)");
        assert_eq!(
            exact_probability(&q(175, 256)),
            "0.683594 (exactly 175/256)"
        );
        assert_eq!(exact_probability(&q(0, 1)), "0 (exact)");
        assert_eq!(exact_probability(&q(1, 1)), "1 (exact)");
        let tiny = q(1, 3)
            / crate::scalar::BigRational::from_integer(num_bigint::BigInt::from(10).pow(40));
        assert_eq!(
            exact_probability(&tiny),
            "3.333e-41 (exact fraction in --json)"
        );
    }

    #[test]
    fn probabilities_never_print_as_zero() {
        assert_eq!(probability(0.0), "0");
        assert_eq!(probability(1.0), "1");
        assert_eq!(probability(1.28e-5), "1.28e-5");
        assert_eq!(probability(0.3391), "0.3391");
        assert_eq!(probability(0.0169), "0.01690");
    }

    #[test]
    fn intervals_as_value_and_width() {
        assert_eq!(interval(0.3391, 0.3326, 0.3457), "0.3391 +0.0066/-0.0065");
        assert_eq!(interval(0.5, 0.49, 0.51), "0.500 ± 0.010");
        assert_eq!(interval(0.0013, 0.0008, 0.0018), "1.3e-3 ± 5.0e-4");
        assert_eq!(
            interval(0.00125, 0.00085, 0.00184),
            "1.25e-3 +5.9e-4/-4.0e-4"
        );
        // p = 0 with a nonzero upper end: never "0.0000 [0.0000, 0.0000]".
        assert_eq!(interval(0.0, 0.0, 1.28e-5), "0 +1.3e-5/-0");
        assert_eq!(interval(0.2066, 0.18933, 0.22480), "0.207 +0.018/-0.017");
        assert_eq!(interval(0.5, 0.5, 0.5), "0.5000");
    }

    #[test]
    fn readable_numbers() {
        assert_eq!(readable(&json!("341/3969"), false), "0.0859158");
        assert_eq!(readable(&json!("341/3969"), true), "341/3969");
        assert_eq!(readable(&json!(["1/3", "1/2"]), false), "[0.333333, 0.5]");
        assert_eq!(readable(&json!(9.3e-7), false), "9.3e-7");
    }

    #[test]
    fn enclosures_become_arrays() {
        use crate::scalar::DyadicInterval;
        let point = DyadicInterval::from_rational(&crate::scalar::parse_rational("1/4").unwrap());
        assert_eq!(number(&point), json!("1/4"));
        let third = DyadicInterval::from_rational(&crate::scalar::parse_rational("1/3").unwrap());
        let v = number(&third);
        let items = v.as_array().expect("an enclosure of 1/3 is an array");
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|s| s.is_string()));
    }
}
