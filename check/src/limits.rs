//! Resource limits: a hostile certificate is rejected within seconds, naming the limit.
//!
//! Sizes are checked before anything is allocated or computed from them; exact work
//! (rational arithmetic, polytope steps) is metered by a deterministic [`Meter`], not by
//! the clock, so the same certificate is accepted or rejected on every machine.

use crate::CheckError;

/// Most decimal digits of one exact number (numerator plus denominator, or mantissa).
/// The exact decimal of any f64, subnormals included, has fewer than 800 significant
/// digits; the exact values a certificate states (risks, V) stay far below this.
pub const MAX_DIGITS: usize = 4000;
/// Largest `|e|` of a decimal `m * 10^e` after moving the point (`1e-100000` is over).
pub const MAX_EXPONENT: u64 = 1200;
/// Most nodes in a box proof's tree.
pub const MAX_PROOF_NODES: usize = 1_000_000;
/// Deepest box proof tree.
pub const MAX_PROOF_DEPTH: usize = 512;
/// Most inputs of a phase-branching proof (its vertex enumeration grows with `d`).
pub const MAX_PHASE_DIM: usize = 4;
/// Most exact work units (about one 64-bit word operation each, see [`Meter`]) spent
/// on exact arithmetic: exact forward passes, risks, interval bounds, vertex enumeration.
/// About 1.5e9 units run per second (measured on the development machine,
/// `cargo test --release -p deadrelu-check --test limits calibrate -- --ignored`).
pub const MAX_EXACT_WORK: u64 = 8_000_000_000;
/// Most `points x parameters` of a certificate (the float pass costs about this many
/// multiply-adds; 10,000 MNIST-shaped points are 2.7e9).
pub const MAX_POINTS_TIMES_PARAMS: u128 = 50_000_000_000;

/// The fixed cost of one rational operation in work units (allocation and
/// normalization of small numbers take about a microsecond).
pub const OP_OVERHEAD: u64 = 1500;

/// A named limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`MAX_DIGITS`].
    Digits,
    /// [`MAX_EXPONENT`].
    Exponent,
    /// [`MAX_PROOF_NODES`].
    ProofNodes,
    /// [`MAX_PROOF_DEPTH`].
    ProofDepth,
    /// [`MAX_PHASE_DIM`].
    PhaseDimension,
    /// [`MAX_EXACT_WORK`].
    ExactWork,
    /// [`MAX_POINTS_TIMES_PARAMS`].
    Size,
}

impl Limit {
    /// The limit with its value.
    pub fn describe(self) -> String {
        match self {
            Limit::Digits => format!("max_digits = {MAX_DIGITS} per exact number"),
            Limit::Exponent => format!("max_exponent = {MAX_EXPONENT} (decimal exponent)"),
            Limit::ProofNodes => format!("max_proof_nodes = {MAX_PROOF_NODES}"),
            Limit::ProofDepth => format!("max_proof_depth = {MAX_PROOF_DEPTH}"),
            Limit::PhaseDimension => {
                format!("max_phase_dim = {MAX_PHASE_DIM} inputs for phase-branching proofs")
            }
            Limit::ExactWork => format!("max_exact_work = {MAX_EXACT_WORK} word operations"),
            Limit::Size => format!("max_points_x_params = {MAX_POINTS_TIMES_PARAMS}"),
        }
    }
}

pub(crate) fn too_large(limit: Limit, detail: impl Into<String>) -> CheckError {
    CheckError::TooLarge {
        limit,
        detail: detail.into(),
    }
}

/// Counts exact work: an operation on numbers of `a` and `b` bits costs about
/// `(a/64 + 1) * (b/64 + 1)` word operations (schoolbook multiplication; a rational's
/// normalization by gcd is of the same order), and the meter stops the check once
/// [`MAX_EXACT_WORK`] is spent.
#[derive(Debug, Default)]
pub struct Meter {
    used: u64,
}

impl Meter {
    /// A fresh meter.
    pub fn new() -> Self {
        Self::default()
    }

    /// A meter that has already spent `used` (a share of the work run on another
    /// thread, charged back to the main meter afterwards).
    pub fn starting_at(used: u64) -> Self {
        Self { used }
    }

    /// Work spent so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Charges `units`.
    ///
    /// # Errors
    /// [`CheckError::TooLarge`] with [`Limit::ExactWork`] once the budget is spent.
    pub fn charge(&mut self, units: u64) -> Result<(), CheckError> {
        self.used = self.used.saturating_add(units);
        if self.used > MAX_EXACT_WORK {
            return Err(too_large(
                Limit::ExactWork,
                "the exact arithmetic this certificate needs is too large",
            ));
        }
        Ok(())
    }

    /// Charges a multiplication of numbers of `a` and `b` bits and the addition of the
    /// product to a rational of `a + b` bits or fewer: the schoolbook product
    /// `(a/64 + 1) (b/64 + 1)` plus the binary gcd that normalizes the sum, about
    /// `64 ((a + b)/64 + 1)^2` word operations, plus [`OP_OVERHEAD`] for the
    /// allocations of even the smallest rational operation.
    ///
    /// # Errors
    /// As [`Meter::charge`].
    pub fn op(&mut self, a: u64, b: u64) -> Result<(), CheckError> {
        let (wa, wb) = (a / 64 + 1, b / 64 + 1);
        let sum = wa.saturating_add(wb);
        self.charge(
            wa.saturating_mul(wb)
                .saturating_add(sum.saturating_mul(sum).saturating_mul(64))
                .saturating_add(OP_OVERHEAD),
        )
    }
}

/// Bits of a rational (numerator plus denominator).
pub fn bits(q: &num_rational::BigRational) -> u64 {
    q.numer().bits() + q.denom().bits()
}
