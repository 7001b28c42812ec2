//! `rug::Rational` (GMP) as a [`Scalar`] and [`RationalField`]: exact, fast for large
//! numbers. Behind the cargo feature `gmp`.

use super::{BigRational, RationalField, Scalar, ScalarError, Sign, rational_string};
use num_bigint::BigInt;
use rug::{Integer, Rational};
use std::cmp::Ordering;

fn to_big(q: &Rational) -> BigRational {
    let parse = |i: &Integer| {
        BigInt::parse_bytes(i.to_string_radix(16).as_bytes(), 16).expect("hex integer")
    };
    BigRational::new(parse(q.numer()), parse(q.denom()))
}

fn from_big(q: &BigRational) -> Rational {
    let n = Integer::from_str_radix(&q.numer().to_str_radix(16), 16).expect("hex integer");
    let d = Integer::from_str_radix(&q.denom().to_str_radix(16), 16).expect("hex integer");
    Rational::from((n, d))
}

impl Scalar for Rational {
    const EXACT: bool = true;
    const NAME: &'static str = "rug";

    fn from_int(n: i64) -> Self {
        Rational::from(n)
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        assert!(den != 0, "from_ratio: zero denominator");
        Rational::from((num, den))
    }
    fn from_rational(q: &BigRational) -> Self {
        from_big(q)
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        Rational::from_f64(x).ok_or_else(|| ScalarError::NonFinite {
            value: x.to_string(),
        })
    }
    fn add_ref(&self, rhs: &Self) -> Self {
        Rational::from(self + rhs)
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        Rational::from(self - rhs)
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        Rational::from(self * rhs)
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        assert!(
            rhs.cmp0() != Ordering::Equal,
            "rug::Rational division by zero"
        );
        Rational::from(self / rhs)
    }
    fn neg_ref(&self) -> Self {
        Rational::from(-self)
    }
    fn abs(&self) -> Self {
        Rational::from(self.abs_ref())
    }
    fn max(&self, other: &Self) -> Self {
        if self >= other {
            self.clone()
        } else {
            other.clone()
        }
    }
    fn sign(&self) -> Sign {
        match self.cmp0() {
            Ordering::Less => Sign::Negative,
            Ordering::Equal => Sign::Zero,
            Ordering::Greater => Sign::Positive,
        }
    }
    fn relu(&self) -> Self {
        if self.cmp0() == Ordering::Greater {
            self.clone()
        } else {
            Rational::new()
        }
    }
    fn relu_derivative(&self) -> Self {
        if self.cmp0() == Ordering::Greater {
            Rational::from(1)
        } else {
            Rational::new()
        }
    }
    fn identical(&self, other: &Self) -> bool {
        self == other
    }
    fn to_f64(&self) -> f64 {
        Rational::to_f64(self)
    }
    fn to_rational(&self) -> Option<BigRational> {
        Some(to_big(self))
    }
    fn to_exact_string(&self) -> String {
        rational_string(&to_big(self))
    }
}

impl RationalField for Rational {
    fn cmp_exact(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn bit_size(&self) -> u64 {
        u64::from(
            self.numer()
                .significant_bits()
                .max(self.denom().significant_bits()),
        )
    }
}
