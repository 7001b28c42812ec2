//! Certified enclosures with `f64` endpoints, rounded outward: the enclosure type of the
//! audit's optimizer cross-check on large networks.
//!
//! Every endpoint operation is done in round-to-nearest `f64` together with the sign of
//! its rounding error, found exactly by an error-free transformation: `TwoSum` for `+`
//! and `-` (exact without overflow, subnormals included), the fused multiply-add
//! remainders `fma(a, b, -p)` for `*`, `fma(-q, b, a)` for `/` and `fma(-s, s, x)` for
//! `sqrt`. Those remainders are exact while the result and the operands stay clear of
//! the subnormal range; below [`TINY`] the result is widened by one ulp on both sides
//! regardless. A lower endpoint whose rounding went up is moved to the next float below
//! (the error of round-to-nearest is at most half an ulp, so the exact value is inside),
//! and symmetrically for upper endpoints. An overflow to infinity becomes the largest
//! finite float on the side where the exact value is finite. Exact results are never
//! widened: a point stays a point as long as its operations are exact, so a coordinate
//! whose gradient history is exactly zero stays bit-identical, as with
//! [`super::DyadicInterval`]. NaN never arises from finite endpoints; should it arise
//! from infinite ones (`0 * inf`), the enclosure is the whole line.

use super::{BigRational, Real, Scalar, ScalarError, Sign, pow_ratio_enclosure, rational_string};
use num_traits::{One, Zero};

/// Below this magnitude a product, quotient or square root is widened by one ulp on
/// both sides (its `fma` remainder may be inexact near the subnormal range).
pub const TINY: f64 = 1.0e-290;

/// A closed interval `[lo, hi]` of `f64`, `lo <= hi`, no NaN (infinite ends allowed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct F64Interval {
    lo: f64,
    hi: f64,
}

const ENTIRE: F64Interval = F64Interval {
    lo: f64::NEG_INFINITY,
    hi: f64::INFINITY,
};

/// `r` rounded to nearest with exact error `err` (`true value = r + err`), as a lower
/// (`up == false`) or upper end.
#[inline]
fn directed(r: f64, err: f64, up: bool) -> f64 {
    if r.is_infinite() {
        // the exact value of finite operands is finite
        return match (up, r > 0.0) {
            (false, true) => f64::MAX,
            (true, false) => f64::MIN,
            _ => r,
        };
    }
    if err.is_nan() {
        // an intermediate of the error-free transformation overflowed: widen
        return widen(r, up);
    }
    if up && err > 0.0 {
        r.next_up()
    } else if !up && err < 0.0 {
        r.next_down()
    } else {
        r
    }
}

#[inline]
fn two_sum_err(a: f64, b: f64, s: f64) -> f64 {
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

#[inline]
fn add_dir(a: f64, b: f64, up: bool) -> f64 {
    let s = a + b;
    if !a.is_finite() || !b.is_finite() {
        return s;
    }
    directed(s, two_sum_err(a, b, s), up)
}

#[inline]
fn sub_dir(a: f64, b: f64, up: bool) -> f64 {
    add_dir(a, -b, up)
}

#[inline]
fn widen(r: f64, up: bool) -> f64 {
    if up { r.next_up() } else { r.next_down() }
}

#[inline]
fn mul_dir(a: f64, b: f64, up: bool) -> f64 {
    if a == 0.0 || b == 0.0 {
        return 0.0;
    }
    let p = a * b;
    if !a.is_finite() || !b.is_finite() {
        return p;
    }
    if p.abs() < TINY {
        return widen(p, up);
    }
    directed(p, a.mul_add(b, -p), up)
}

fn div_dir(a: f64, b: f64, up: bool) -> f64 {
    if a == 0.0 {
        return 0.0;
    }
    let q = a / b;
    if !a.is_finite() || !b.is_finite() {
        return q;
    }
    if q.abs() < TINY || a.abs() < TINY {
        return widen(q, up);
    }
    // a / b = q + r / b with r = a - q b exact
    let r = (-q).mul_add(b, a);
    directed(q, if b > 0.0 { r } else { -r }, up)
}

fn sqrt_dir(x: f64, up: bool) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let s = x.sqrt();
    if !x.is_finite() {
        return s;
    }
    if x < TINY {
        return widen(s, up).max(0.0);
    }
    // sqrt(x) - s has the sign of x - s^2
    directed(s, (-s).mul_add(s, x), up).max(0.0)
}

impl F64Interval {
    /// `[lo, hi]`; `None` unless `lo <= hi` (and neither is NaN).
    pub fn new(lo: f64, hi: f64) -> Option<Self> {
        (lo <= hi).then_some(Self { lo, hi })
    }
    /// The point `[x, x]`.
    pub fn point(x: f64) -> Self {
        Self { lo: x, hi: x }
    }
    /// Lower end.
    pub fn lo(&self) -> f64 {
        self.lo
    }
    /// Upper end.
    pub fn hi(&self) -> f64 {
        self.hi
    }
    /// Whether the enclosure is one float.
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }
    fn checked(lo: f64, hi: f64) -> Self {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            ENTIRE
        } else {
            Self { lo, hi }
        }
    }
    /// The hull of four products or quotients (lower ends, upper ends).
    fn hull(lows: [f64; 4], highs: [f64; 4]) -> Self {
        if lows.iter().chain(&highs).any(|v| v.is_nan()) {
            return ENTIRE;
        }
        Self::checked(
            lows.into_iter().fold(f64::INFINITY, f64::min),
            highs.into_iter().fold(f64::NEG_INFINITY, f64::max),
        )
    }
}

impl std::ops::Add for F64Interval {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl std::ops::Mul for F64Interval {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl Zero for F64Interval {
    fn zero() -> Self {
        Self::point(0.0)
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.lo == 0.0 && self.hi == 0.0
    }
}

impl One for F64Interval {
    fn one() -> Self {
        Self::point(1.0)
    }
}

impl Scalar for F64Interval {
    const EXACT: bool = true;
    const NAME: &'static str = "f64-interval";

    fn from_int(n: i64) -> Self {
        Self::from_rational(&BigRational::from_integer(n.into()))
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        assert!(den != 0, "from_ratio with a zero denominator");
        Self::from_rational(&BigRational::new(num.into(), den.into()))
    }
    fn from_rational(q: &BigRational) -> Self {
        let v = num_traits::ToPrimitive::to_f64(q).unwrap_or(f64::NAN);
        if v.is_nan() {
            return ENTIRE;
        }
        if v.is_infinite() {
            return if v > 0.0 {
                Self {
                    lo: f64::MAX,
                    hi: f64::INFINITY,
                }
            } else {
                Self {
                    lo: f64::NEG_INFINITY,
                    hi: f64::MIN,
                }
            };
        }
        let exact = BigRational::from_float(v).expect("finite");
        match exact.cmp(q) {
            std::cmp::Ordering::Equal => Self::point(v),
            std::cmp::Ordering::Greater => Self {
                lo: v.next_down(),
                hi: v,
            },
            std::cmp::Ordering::Less => Self {
                lo: v,
                hi: v.next_up(),
            },
        }
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        if x.is_finite() {
            // -0.0 and 0.0 are the same number; keep one representation
            Ok(Self::point(if x == 0.0 { 0.0 } else { x }))
        } else {
            Err(ScalarError::NonFinite {
                value: x.to_string(),
            })
        }
    }
    #[inline]
    fn add_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return *self;
        }
        Self::checked(
            add_dir(self.lo, rhs.lo, false),
            add_dir(self.hi, rhs.hi, true),
        )
    }
    #[inline]
    fn sub_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return *self;
        }
        Self::checked(
            sub_dir(self.lo, rhs.hi, false),
            sub_dir(self.hi, rhs.lo, true),
        )
    }
    #[inline]
    fn mul_ref(&self, rhs: &Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Self::zero();
        }
        let (a, b, c, d) = (self.lo, self.hi, rhs.lo, rhs.hi);
        if self.is_point() && rhs.is_point() {
            return Self::checked(mul_dir(a, c, false), mul_dir(a, c, true));
        }
        Self::hull(
            [
                mul_dir(a, c, false),
                mul_dir(a, d, false),
                mul_dir(b, c, false),
                mul_dir(b, d, false),
            ],
            [
                mul_dir(a, c, true),
                mul_dir(a, d, true),
                mul_dir(b, c, true),
                mul_dir(b, d, true),
            ],
        )
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        assert!(
            matches!(rhs.sign(), Sign::Positive | Sign::Negative),
            "interval division by an enclosure that may contain zero"
        );
        if self.is_zero() {
            return Self::zero();
        }
        let (a, b, c, d) = (self.lo, self.hi, rhs.lo, rhs.hi);
        Self::hull(
            [
                div_dir(a, c, false),
                div_dir(a, d, false),
                div_dir(b, c, false),
                div_dir(b, d, false),
            ],
            [
                div_dir(a, c, true),
                div_dir(a, d, true),
                div_dir(b, c, true),
                div_dir(b, d, true),
            ],
        )
    }
    #[inline]
    fn neg_ref(&self) -> Self {
        Self {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
    #[inline]
    fn abs(&self) -> Self {
        if self.lo >= 0.0 {
            *self
        } else if self.hi <= 0.0 {
            self.neg_ref()
        } else {
            Self {
                lo: 0.0,
                hi: (-self.lo).max(self.hi),
            }
        }
    }
    fn max(&self, other: &Self) -> Self {
        Self {
            lo: self.lo.max(other.lo),
            hi: self.hi.max(other.hi),
        }
    }
    fn sign(&self) -> Sign {
        if self.lo > 0.0 {
            Sign::Positive
        } else if self.hi < 0.0 {
            Sign::Negative
        } else if self.is_zero() {
            Sign::Zero
        } else {
            Sign::Undecided
        }
    }
    fn relu(&self) -> Self {
        Self {
            lo: self.lo.max(0.0),
            hi: self.hi.max(0.0),
        }
    }
    fn relu_derivative(&self) -> Self {
        if self.lo > 0.0 {
            Self::one()
        } else if self.hi <= 0.0 {
            Self::zero()
        } else {
            Self { lo: 0.0, hi: 1.0 }
        }
    }
    #[inline]
    fn identical(&self, other: &Self) -> bool {
        self.lo.to_bits() == other.lo.to_bits() && self.hi.to_bits() == other.hi.to_bits()
    }
    fn to_f64(&self) -> f64 {
        if self.is_point() {
            self.lo
        } else {
            self.lo / 2.0 + self.hi / 2.0
        }
    }
    fn to_rational(&self) -> Option<BigRational> {
        if self.is_point() {
            BigRational::from_float(self.lo)
        } else {
            None
        }
    }
    fn to_exact_string(&self) -> String {
        let end = |v: f64| {
            BigRational::from_float(v)
                .map(|q| rational_string(&q))
                .unwrap_or_else(|| v.to_string())
        };
        if self.is_point() {
            end(self.lo)
        } else {
            format!("[{}, {}]", end(self.lo), end(self.hi))
        }
    }
    #[inline]
    fn square(&self) -> Self {
        let a = self.abs();
        Self::checked(mul_dir(a.lo, a.lo, false), mul_dir(a.hi, a.hi, true))
    }
}

impl Real for F64Interval {
    fn sqrt(&self) -> Self {
        assert!(
            self.hi.is_nan() || self.hi >= 0.0,
            "sqrt of an enclosure whose upper end is negative"
        );
        Self::checked(sqrt_dir(self.lo.max(0.0), false), sqrt_dir(self.hi, true))
    }
    fn pow_ratio(&self, p: u64, r: u64) -> Self {
        assert!(
            self.sign() == Sign::Positive && self.hi.is_finite(),
            "pow_ratio of a non-positive or unbounded enclosure"
        );
        // x -> x^(p/r) is increasing for x > 0; the rational enclosures of the ends,
        // rounded outward to floats
        let bits = 80;
        let end = |x: f64, up: bool| {
            let q = BigRational::from_float(x).expect("finite");
            let (l, h) = pow_ratio_enclosure(&q, p, r, bits);
            let e = Self::from_rational(if up { &h } else { &l });
            if up { e.hi } else { e.lo }
        };
        Self::checked(end(self.lo, false), end(self.hi, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::q;
    use proptest::prelude::*;

    fn contains(i: &F64Interval, x: &BigRational) -> bool {
        let lo = BigRational::from_float(i.lo);
        let hi = BigRational::from_float(i.hi);
        lo.is_none_or(|lo| &lo <= x) && hi.is_none_or(|hi| x <= &hi)
    }

    fn exact(v: f64) -> BigRational {
        BigRational::from_float(v).unwrap()
    }

    #[test]
    fn exact_results_stay_points_and_zero_keeps_bits() {
        let a = F64Interval::point(0.1);
        assert!(a.sub_ref(&F64Interval::zero()).identical(&a));
        assert!(a.add_ref(&F64Interval::zero()).identical(&a));
        let z = F64Interval::from_ratio(9, 10).mul_ref(&F64Interval::zero());
        assert!(z.is_zero());
        assert!(
            F64Interval::point(0.5)
                .mul_ref(&F64Interval::point(0.25))
                .is_point()
        );
        // 1/3 is not a float: a one-ulp enclosure
        let third = F64Interval::from_ratio(1, 3);
        assert!(!third.is_point() && third.hi == third.lo.next_up());
        assert!(contains(&third, &q(1, 3)));
        // sqrt(4) exact, sqrt(2) enclosed
        assert!(
            F64Interval::point(4.0)
                .sqrt()
                .identical(&F64Interval::point(2.0))
        );
        let r2 = F64Interval::point(2.0).sqrt();
        assert!(r2.hi == r2.lo.next_up());
        assert!(exact(r2.lo) * exact(r2.lo) < q(2, 1) && exact(r2.hi) * exact(r2.hi) > q(2, 1));
        // overflow stays finite on the finite side
        let big = F64Interval::point(f64::MAX).add_ref(&F64Interval::point(f64::MAX));
        assert_eq!((big.lo, big.hi), (f64::MAX, f64::INFINITY));
    }

    #[test]
    fn powers_enclose() {
        let x = F64Interval::from_ratio(24, 25);
        let p = x.pow_ratio(1, 250);
        let lo = exact(p.lo);
        let hi = exact(p.hi);
        // lo^250 <= 24/25 <= hi^250
        assert!(num_traits::pow(lo, 250) <= q(24, 25));
        assert!(num_traits::pow(hi, 250) >= q(24, 25));
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1e6f64..1e6),
            (-1.0f64..1.0).prop_map(|v| v * 1e-300),
            (-1.0f64..1.0).prop_map(|v| v * 1e300),
            (-1000i64..1000).prop_map(|v| v as f64 / 64.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Every operation on points encloses the exact rational result.
        #[test]
        fn operations_enclose(a in value(), b in value()) {
            let (x, y) = (F64Interval::point(a), F64Interval::point(b));
            let (qa, qb) = (exact(a), exact(b));
            prop_assert!(contains(&x.add_ref(&y), &(&qa + &qb)));
            prop_assert!(contains(&x.sub_ref(&y), &(&qa - &qb)));
            prop_assert!(contains(&x.mul_ref(&y), &(&qa * &qb)));
            prop_assert!(contains(&x.square(), &(&qa * &qa)));
            if b != 0.0 {
                prop_assert!(contains(&x.div_ref(&y), &(&qa / &qb)));
            }
            if a >= 0.0 {
                let s = x.sqrt();
                let (lo, hi) = (exact(s.lo), exact(s.hi));
                prop_assert!(&lo * &lo <= qa && (s.hi.is_infinite() || qa <= &hi * &hi));
            }
            // enclosures of enclosures
            let w = x.add_ref(&F64Interval::from_ratio(1, 3));
            let qw = &qa + q(1, 3);
            prop_assert!(contains(&w, &qw));
            prop_assert!(contains(&w.mul_ref(&y), &(&qw * &qb)));
        }
    }
}
