//! `num_rational::BigRational` as a [`Scalar`]: exact, pure Rust.

use super::{BigRational, Scalar, ScalarError, Sign, rational_from_f64, rational_string};
use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

impl Scalar for BigRational {
    const EXACT: bool = true;
    const NAME: &'static str = "bigrational";

    fn from_int(n: i64) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        assert!(den != 0, "from_ratio: zero denominator");
        BigRational::new(BigInt::from(num), BigInt::from(den))
    }
    fn from_rational(q: &BigRational) -> Self {
        q.clone()
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        rational_from_f64(x)
    }
    fn add_ref(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Self::zero();
        }
        self * rhs
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        assert!(!rhs.is_zero(), "BigRational division by zero");
        self / rhs
    }
    fn neg_ref(&self) -> Self {
        -self
    }
    fn abs(&self) -> Self {
        Signed::abs(self)
    }
    fn max(&self, other: &Self) -> Self {
        if self >= other {
            self.clone()
        } else {
            other.clone()
        }
    }
    fn sign(&self) -> Sign {
        if self.is_positive() {
            Sign::Positive
        } else if self.is_negative() {
            Sign::Negative
        } else {
            Sign::Zero
        }
    }
    fn relu(&self) -> Self {
        if self.is_positive() {
            self.clone()
        } else {
            Self::zero()
        }
    }
    fn relu_derivative(&self) -> Self {
        if self.is_positive() {
            Self::one()
        } else {
            Self::zero()
        }
    }
    fn identical(&self, other: &Self) -> bool {
        self == other
    }
    fn to_f64(&self) -> f64 {
        ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
    fn to_rational(&self) -> Option<BigRational> {
        Some(self.clone())
    }
    fn to_exact_string(&self) -> String {
        rational_string(self)
    }
}
