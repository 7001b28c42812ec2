//! The tolerance policy: every tolerance and precision of the crate, named, in one place.

/// Relative tolerance under which an `f64` result is said to agree with the exact one
/// (`|f - e| <= F64_AGREEMENT * (1 + |e|)`), for the small networks of the tests.
pub const F64_AGREEMENT: f64 = 1e-9;

/// Fractional bits of certified enclosures of square roots and powers, and the grid of
/// outward rounding (`2^-96`).
pub const ENCLOSURE_BITS: u32 = 96;

/// An enclosure endpoint whose numerator or denominator exceeds this many bits is rounded
/// outward to the `2^-ENCLOSURE_BITS` grid after an optimizer step. Frozen coordinates
/// never change and are never rounded.
pub const ENCLOSURE_MAX_BITS: u64 = 160;

/// Significant bits of a rounded endpoint of a [`crate::scalar::DyadicInterval`] (the
/// enclosure type of exact trajectories).
pub const DYADIC_MANTISSA_BITS: u64 = 128;

/// An exact dyadic point whose mantissa grows beyond this many bits is widened to an
/// enclosure of [`DYADIC_MANTISSA_BITS`] bits.
pub const DYADIC_MAX_POINT_BITS: u64 = 512;
/// Smallest exponent of a nonzero endpoint of a dyadic enclosure: smaller magnitudes are
/// flushed outward (to 0 on the side of zero, to `+-2^-65536` on the other).
pub const DYADIC_MIN_EXPONENT: i64 = -65_536;
