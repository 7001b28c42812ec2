//! `f64` as a [`Scalar`]: fast and rounded.

use super::{BigRational, Scalar, ScalarError, Sign};
use num_traits::ToPrimitive;

impl Scalar for f64 {
    const EXACT: bool = false;
    const NAME: &'static str = "f64";

    fn from_int(n: i64) -> Self {
        n as f64
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        assert!(den != 0, "from_ratio: zero denominator");
        // Correctly rounded through the exact rational.
        Self::from_rational(&BigRational::new(num.into(), den.into()))
    }
    fn from_rational(q: &BigRational) -> Self {
        ToPrimitive::to_f64(q).unwrap_or(f64::NAN)
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        if x.is_finite() {
            Ok(x)
        } else {
            Err(ScalarError::NonFinite {
                value: x.to_string(),
            })
        }
    }
    fn add_ref(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        self / rhs
    }
    fn neg_ref(&self) -> Self {
        -self
    }
    fn abs(&self) -> Self {
        f64::abs(*self)
    }
    fn max(&self, other: &Self) -> Self {
        f64::max(*self, *other)
    }
    fn sign(&self) -> Sign {
        if *self > 0.0 {
            Sign::Positive
        } else if *self < 0.0 {
            Sign::Negative
        } else if *self == 0.0 {
            Sign::Zero
        } else {
            Sign::Undecided
        }
    }
    fn relu(&self) -> Self {
        if *self > 0.0 { *self } else { 0.0 }
    }
    fn relu_derivative(&self) -> Self {
        if *self > 0.0 { 1.0 } else { 0.0 }
    }
    fn identical(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
    fn to_f64(&self) -> f64 {
        *self
    }
    fn to_rational(&self) -> Option<BigRational> {
        BigRational::from_float(*self)
    }
    fn to_exact_string(&self) -> String {
        format!("{self:?}")
    }
}
