//! The scalar layer: one Copy-free [`Scalar`] trait and its implementations.
//!
//! Every numerical routine of the crate (forward pass, risk, gradient, optimizers) is
//! written once, generic over `S: Scalar`, and runs on
//!
//! - `f64` (fast, rounded; the Monte Carlo path),
//! - [`BigRational`] from num-rational (exact, pure Rust, the default exact type),
//! - `rug::Rational` (exact, GMP; cargo feature `gmp`),
//! - [`Interval`] over an exact rational type (certified enclosures for the optimizers
//!   that need square roots or real powers).
//!
//! Arithmetic is by reference (`a.add_ref(&b)`), so big numbers are never copied implicitly.
//! Hyperparameters are built from integer ratios ([`Scalar::from_ratio`]), never from an
//! `f64` literal: `from_ratio(9, 10)` is exactly 9/10 in exact mode, while
//! `from_f64(0.9)` would be the dyadic rational nearest to 0.9.

mod bigrational;
mod convert;
mod dyadic;
mod f64interval;
mod float;
#[cfg(feature = "gmp")]
mod gmp;
mod interval;
pub mod iv;
mod text;

pub use dyadic::{Dyadic, DyadicInterval};
pub use f64interval::F64Interval;
pub use interval::{
    DEFAULT_PREC, Interval, RationalField, Real, pow_ratio_enclosure, sqrt_enclosure,
};

pub use num_rational::BigRational;
use num_traits::{One, Zero};
use std::fmt;

pub(crate) use convert::q;
pub use convert::{convert, rational_from_f64, sum, vec_from_f64};
pub use text::{parse_rational, rational_string};

/// Errors of the scalar layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScalarError {
    /// A NaN or an infinity was offered where a finite number is required.
    #[error("non-finite number {value} (NaN and infinities are not numbers here)")]
    NonFinite {
        /// The offending value as printed by Rust.
        value: String,
    },
    /// A string could not be read as an exact number.
    #[error(
        "cannot read {text} as an exact number (expected an integer, a decimal like -0.25 or 1e-3, or a ratio p/q)"
    )]
    Unparsable {
        /// The text that was offered (quoted; shortened when long).
        text: String,
    },
    /// A ratio with denominator zero.
    #[error("zero denominator in {text}")]
    ZeroDenominator {
        /// The text that was offered.
        text: String,
    },
    /// A value that is not one known number (an enclosure wider than a point) was to be
    /// converted to a type that holds only one number.
    #[error("cannot convert the enclosure {value} to {target}: it is not a single number")]
    NotAPoint {
        /// The value, as [`Scalar::to_exact_string`] prints it.
        value: String,
        /// [`Scalar::NAME`] of the target type.
        target: &'static str,
    },
    /// An exact number beyond the range of `f64` (it rounds to an infinity), where an `f64`
    /// computation needs it.
    #[error("{value} is beyond the range of f64 (it rounds to infinity; exact mode takes it)")]
    BeyondF64 {
        /// The number (shortened when long).
        value: String,
    },
    /// A number over the size limits of [`crate::limits`] (too many digits, or a decimal
    /// exponent too large in magnitude).
    #[error("exact number {text} is too large: {what} (limit {limit})")]
    TooLarge {
        /// The start of the text that was offered (at most 40 characters).
        text: String,
        /// What is over the limit.
        what: String,
        /// The limit.
        limit: u64,
    },
}

/// The outcome of a sign test. Exact types always decide; an enclosure that contains
/// zero in its interior (or is not a point at zero) may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    /// Strictly below zero.
    Negative,
    /// Exactly zero.
    Zero,
    /// Strictly above zero.
    Positive,
    /// The value is not known well enough to decide (an enclosure straddling zero, or a
    /// NaN in `f64`).
    Undecided,
}

impl Sign {
    /// `Some(true)` when the value is `<= 0` for sure, `Some(false)` when it is `> 0` for
    /// sure, `None` when undecided. This is the test "inactive" of MECHANISM.md.
    pub fn is_nonpositive(self) -> Option<bool> {
        match self {
            Sign::Negative | Sign::Zero => Some(true),
            Sign::Positive => Some(false),
            Sign::Undecided => None,
        }
    }
}

/// A number type the network code is generic over.
///
/// Built on num-traits: [`Zero`] and [`One`] are supertraits, so `S::zero()`, `S::one()`
/// and `x.is_zero()` are num-traits' own (and the operator traits `Add` and `Mul` that
/// they require are implemented by value). The crate's arithmetic is Copy-free and by
/// reference: [`Scalar::add_ref`] and its siblings take their operands by reference and
/// return a new value, so big numbers are never moved or copied implicitly. (They are
/// named `*_ref` so that they do not collide with `Add::add` and `Mul::mul` in generic
/// code.)
///
/// # Laws
/// For exact implementations (`EXACT == true`) the operations are those of the ordered
/// field of rationals: `add`/`mul` are associative and commutative, `mul` distributes over
/// `add`, `zero`/`one` are neutral, `a.sub_ref(&a)` is zero, `a.div_ref(&a)` is one for non-zero
/// `a`, and [`Scalar::sign`] never answers [`Sign::Undecided`]. For `f64` the same hold up
/// to IEEE rounding. For enclosures ([`Interval`]) every operation is *inclusion
/// isotone*: the result contains every exact result of operands drawn from the inputs;
/// and operations on point operands whose exact result is rational give that point
/// (no widening of values that are known exactly).
///
/// [`Scalar::relu`] and [`Scalar::relu_derivative`] follow MECHANISM.md:
/// `ReLU(t) = max(t, 0)`, `ReLU'(t) = 1` if `t > 0`, else `0` (so `ReLU'(0) = 0`).
pub trait Scalar: Clone + fmt::Debug + Send + Sync + Zero + One + 'static {
    /// Whether values of this type are exact (rationals or certified enclosures).
    const EXACT: bool;
    /// A short name for reports: `"f64"`, `"bigrational"`, `"rug"`, `"interval"`.
    const NAME: &'static str;

    /// The integer `n`.
    fn from_int(n: i64) -> Self;
    /// The ratio `num / den`, exact for exact types, correctly rounded for `f64`.
    ///
    /// # Panics
    /// **Panics if `den == 0`.** Callers use literal denominators.
    fn from_ratio(num: i64, den: u64) -> Self;
    /// The value of an exact rational: exact for exact types, nearest for `f64`.
    fn from_rational(q: &BigRational) -> Self;
    /// The exact value of a finite `f64` (its dyadic rational).
    ///
    /// # Errors
    /// [`ScalarError::NonFinite`] for NaN and infinities.
    fn from_f64(x: f64) -> Result<Self, ScalarError>;

    /// `self + rhs`.
    fn add_ref(&self, rhs: &Self) -> Self;
    /// `self - rhs`.
    fn sub_ref(&self, rhs: &Self) -> Self;
    /// `self * rhs`.
    fn mul_ref(&self, rhs: &Self) -> Self;
    /// `self / rhs`.
    ///
    /// # Panics
    /// **Panics for exact types if `rhs` is zero** (or, for enclosures, may contain zero);
    /// `f64` follows IEEE. The crate divides only by quantities it has made positive
    /// (batch sizes, `eps`-shifted denominators).
    fn div_ref(&self, rhs: &Self) -> Self;
    /// `-self`.
    fn neg_ref(&self) -> Self;
    /// `|self|`.
    fn abs(&self) -> Self;
    /// The larger of `self` and `other` (for enclosures: the enclosure of the maximum).
    fn max(&self, other: &Self) -> Self;

    /// The sign of the value, [`Sign::Undecided`] when it cannot be decided.
    fn sign(&self) -> Sign;
    /// `max(self, 0)`.
    fn relu(&self) -> Self;
    /// The generalized derivative: `1` where `self > 0`, `0` where `self <= 0`; for an
    /// undecided enclosure, the enclosure `[0, 1]`.
    fn relu_derivative(&self) -> Self;

    /// Whether the two values have the same representation (for exact types: are equal;
    /// for `f64`: have the same bits; for enclosures: the same endpoints). Used to check
    /// that frozen coordinates are *bit-identical*.
    fn identical(&self, other: &Self) -> bool;
    /// A nearby `f64` (the midpoint for enclosures).
    fn to_f64(&self) -> f64;
    /// The exact rational value, when the value is a single known rational.
    fn to_rational(&self) -> Option<BigRational>;
    /// The value as text: `"13/48"` for rationals (lowest terms, no `/1`), Rust's
    /// shortest round-trip form for `f64`, `"[lo, hi]"` for a non-point enclosure.
    fn to_exact_string(&self) -> String;

    /// `self * self`.
    fn square(&self) -> Self {
        self.mul_ref(self)
    }
}

#[cfg(test)]
mod tests;
