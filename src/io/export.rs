//! Export for external verifiers: the network up to hidden layer `k` as ONNX
//! (`io::onnx`, feature `onnx`) or the `.nnet` text format, and the VNN-LIB query "some neuron of layer `k` is active
//! somewhere in the box `[a,b]^d`".
//!
//! The exported network maps `x` to the pre-activations `z_k(x)` of layer `k` (Gemm and
//! Relu nodes, ReLU after layers `1..k-1`, none after `k`). Its VNN-LIB property asserts
//! the input box and `OR_j Y_j >= margin`, the usual form of a *counterexample*: a
//! verifier answering `unsat` proves every `z_kj < margin` on the box, so with margin 0
//! that layer `k` is dead there; `sat` with a point where some `z_kj > 0` shows it alive.
//! VNN-LIB has no strict inequality, so `sat` at a point where the largest `z_kj` is
//! exactly 0 (a dead layer whose maximum is 0) is possible: `deadrelu inspect --domain`
//! decides that case exactly.
//!
//! Exactness: entries are written as IEEE doubles (ONNX `DOUBLE` tensors, shortest
//! round-trip decimals in text). Parameters drawn by `--init` or read from safetensors are
//! doubles already, so the export is exact for them; a rational that is not a double
//! (e.g. 1/3 from a JSON file) is rounded to nearest and reported. `--dtype f32` writes
//! `FLOAT` tensors for tools that only read single precision, rounding and reporting.

use crate::net::Network;
use crate::scalar::BigRational;
use num_traits::{One, ToPrimitive, Zero};

/// Element type of the exported tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE double (exact for parameters that are doubles).
    F64,
    /// IEEE single (rounded).
    F32,
}

/// How exactly the export represents the network.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Rounding {
    /// Entries that had to be rounded.
    pub rounded: usize,
    /// The largest absolute rounding error (as a double).
    pub max_error: f64,
}

impl Rounding {
    fn record(&mut self, exact: &BigRational, written: f64) {
        let back = BigRational::from_float(written).unwrap_or_else(BigRational::zero);
        if back != *exact {
            self.rounded += 1;
            let err = (exact - back)
                .to_f64()
                .map(f64::abs)
                .unwrap_or(f64::INFINITY);
            self.max_error = self.max_error.max(err);
        }
    }
}

/// `(weights row-major, biases)` of layers `1..=k`, as written (with rounding recorded).
pub(crate) fn layers(
    net: &Network<BigRational>,
    k: usize,
    dtype: Dtype,
    rounding: &mut Rounding,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let arch = net.arch();
    let p = net.params();
    let mut write = |q: &BigRational| {
        let mut v = q.to_f64().unwrap_or(f64::NAN);
        if dtype == Dtype::F32 {
            v = v as f32 as f64;
        }
        rounding.record(q, v);
        v
    };
    (1..=k)
        .map(|l| {
            let (rows, cols) = (arch.width(l), arch.width(l - 1));
            let w = (0..rows)
                .flat_map(|j| (0..cols).map(move |i| (j, i)))
                .map(|(j, i)| write(&p[arch.weight_index(l, j, i)]))
                .collect();
            let b = (0..rows)
                .map(|j| write(&p[arch.bias_index(l, j)]))
                .collect();
            (w, b)
        })
        .collect()
}

/// The network up to layer `k` in the `.nnet` text format (Reluplex, Marabou, NNV):
/// header, sizes, the input box as min/max, no normalization (means 0, ranges 1), then
/// weights and biases row by row; the last layer is linear, as the format assumes.
pub fn nnet_text(net: &Network<BigRational>, k: usize, a: f64, b: f64) -> (String, Rounding) {
    let arch = net.arch();
    let mut rounding = Rounding::default();
    let d = arch.inputs();
    let sizes: Vec<usize> = (0..=k).map(|l| arch.width(l)).collect();
    let join = |v: &[f64]| v.iter().map(|x| format!("{x:?},")).collect::<String>();
    let mut out = String::new();
    out.push_str(&format!(
        "// deadrelu {}: layers 1..{k} of {arch}, output = pre-activations of layer {k}\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&format!(
        "{k},{d},{},{},\n",
        arch.width(k),
        sizes.iter().max().copied().unwrap_or(d)
    ));
    out.push_str(&format!(
        "{}\n",
        sizes.iter().map(|s| format!("{s},")).collect::<String>()
    ));
    out.push_str("0,\n");
    out.push_str(&format!("{}\n", join(&vec![a; d])));
    out.push_str(&format!("{}\n", join(&vec![b; d])));
    out.push_str(&format!("{}\n", join(&vec![0.0; d + 1])));
    out.push_str(&format!("{}\n", join(&vec![1.0; d + 1])));
    for (l, (w, bias)) in layers(net, k, Dtype::F64, &mut rounding)
        .into_iter()
        .enumerate()
    {
        let cols = arch.width(l);
        for row in w.chunks(cols.max(1)) {
            out.push_str(&format!("{}\n", join(row)));
        }
        for v in bias {
            out.push_str(&format!("{v:?},\n"));
        }
    }
    (out, rounding)
}

/// A rational as an exact decimal, if it has one (denominator `2^i 5^j`).
pub fn exact_decimal(q: &BigRational) -> Option<String> {
    let mut den = q.denom().clone();
    let (two, five) = (num_bigint::BigInt::from(2), num_bigint::BigInt::from(5));
    let (mut twos, mut fives) = (0u32, 0u32);
    while (&den % &two).is_zero() {
        den /= &two;
        twos += 1;
    }
    while (&den % &five).is_zero() {
        den /= &five;
        fives += 1;
    }
    if !den.is_one() {
        return None;
    }
    let digits = twos.max(fives);
    let scaled = q * BigRational::from_integer(num_bigint::BigInt::from(10).pow(digits));
    let int = scaled.to_integer();
    let (sign, abs) = if int < num_bigint::BigInt::zero() {
        ("-", -int)
    } else {
        ("", int)
    };
    let mut s = abs.to_string();
    let digits = digits as usize;
    if s.len() <= digits {
        s = format!("{}{s}", "0".repeat(digits + 1 - s.len()));
    }
    let (whole, frac) = s.split_at(s.len() - digits);
    Some(format!(
        "{sign}{whole}.{}",
        if frac.is_empty() { "0" } else { frac }
    ))
}

/// Errors of the export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A number VNN-LIB must state exactly has no finite decimal form (e.g. 1/3).
    #[error("{what} {value} has no exact decimal form, which VNN-LIB needs")]
    NoExactDecimal {
        /// `"the box end"` or `"the margin"`.
        what: &'static str,
        /// The number, as an exact rational.
        value: String,
    },
}

/// The VNN-LIB property: inputs in `[a,b]^d`, and some output `>= margin`.
///
/// # Errors
/// [`ExportError::NoExactDecimal`] when `a`, `b` or the margin have no exact decimal
/// form.
pub fn vnnlib_text(
    d: usize,
    outputs: usize,
    k: usize,
    a: &BigRational,
    b: &BigRational,
    margin: &BigRational,
) -> Result<String, ExportError> {
    let dec = |q: &BigRational, what: &'static str| {
        exact_decimal(q).ok_or_else(|| ExportError::NoExactDecimal {
            what,
            value: crate::scalar::rational_string(q),
        })
    };
    let (lo, hi, m) = (
        dec(a, "the box end")?,
        dec(b, "the box end")?,
        dec(margin, "the margin")?,
    );
    let mut s = format!(
        "; deadrelu {}: is some neuron of hidden layer {k} active somewhere in [{lo}, {hi}]^{d}?\n\
         ; Y_j is the pre-activation z_{k}j. sat: a point with some Y_j >= {m};\n\
         ; unsat: every Y_j < {m} on the whole box (with margin 0: layer {k} is dead there).\n\n",
        env!("CARGO_PKG_VERSION")
    );
    for i in 0..d {
        s.push_str(&format!("(declare-const X_{i} Real)\n"));
    }
    for j in 0..outputs {
        s.push_str(&format!("(declare-const Y_{j} Real)\n"));
    }
    s.push('\n');
    for i in 0..d {
        s.push_str(&format!(
            "(assert (>= X_{i} {lo}))\n(assert (<= X_{i} {hi}))\n"
        ));
    }
    s.push('\n');
    if outputs == 1 {
        s.push_str(&format!("(assert (>= Y_0 {m}))\n"));
    } else {
        s.push_str("(assert (or\n");
        for j in 0..outputs {
            s.push_str(&format!("    (and (>= Y_{j} {m}))\n"));
        }
        s.push_str("))\n");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scalar::q;

    #[test]
    fn exact_decimals() {
        assert_eq!(exact_decimal(&q(-1, 1)).as_deref(), Some("-1.0"));
        assert_eq!(exact_decimal(&q(3, 8)).as_deref(), Some("0.375"));
        assert_eq!(exact_decimal(&q(-1, 20)).as_deref(), Some("-0.05"));
        assert_eq!(exact_decimal(&q(5, 2)).as_deref(), Some("2.5"));
        assert_eq!(exact_decimal(&q(1, 3)), None);
    }
}
