//! Certified enclosures: closed intervals with exact rational endpoints.
//!
//! An [`Interval`] stands for an unknown real number known to lie in `[lo, hi]`. Every
//! operation is inclusion isotone (the result contains every exact result), so a
//! computation on enclosures is a proof about the reals. Operations on points whose exact
//! result is rational return that point: values that are known exactly stay exact and
//! never widen. This is what the exact optimizer mode relies on: a coordinate whose
//! gradient history is exactly zero is moved by exactly zero.
//!
//! Square roots and real powers (Adam's `sqrt(v)`, Nadam's `0.96^(t/250)`) are enclosed
//! to `prec` fractional bits; endpoints can be rounded outward to `2^-prec` to keep the
//! numbers from growing ([`Interval::round_outward`]).

use super::{BigRational, Scalar, ScalarError, Sign};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;

/// Default precision (fractional bits) of enclosures of square roots and powers, and of
/// outward rounding. See [`crate::prec`].
pub const DEFAULT_PREC: u32 = crate::prec::ENCLOSURE_BITS;

/// An exact rational type usable as an interval endpoint.
///
/// The provided methods go through [`BigRational`]; implementations may override them.
pub trait RationalField: Scalar {
    /// Exact comparison.
    fn cmp_exact(&self, other: &Self) -> Ordering {
        match self.sub_ref(other).sign() {
            Sign::Negative => Ordering::Less,
            Sign::Zero => Ordering::Equal,
            _ => Ordering::Greater,
        }
    }
    /// The exact value as a [`BigRational`].
    fn to_big(&self) -> BigRational {
        self.to_rational()
            .expect("an exact rational type always has a rational value")
    }
    /// Bit length of the larger of numerator and denominator.
    fn bit_size(&self) -> u64 {
        let q = self.to_big();
        q.numer().bits().max(q.denom().bits())
    }
    /// Largest multiple of `2^-bits` that is `<= self` (`up == false`) or smallest that is
    /// `>= self` (`up == true`).
    fn round_dyadic(&self, bits: u32, up: bool) -> Self {
        Self::from_rational(&round_dyadic_big(&self.to_big(), bits, up))
    }
}

impl RationalField for BigRational {
    fn cmp_exact(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn bit_size(&self) -> u64 {
        self.numer().bits().max(self.denom().bits())
    }
    fn to_big(&self) -> BigRational {
        self.clone()
    }
}

fn round_dyadic_big(q: &BigRational, bits: u32, up: bool) -> BigRational {
    use num_integer::Integer;
    // floor or ceil of numer * 2^bits / denom, then reduce the power of two: no gcd.
    let shifted = q.numer() << bits as usize;
    let (quot, rem) = shifted.div_mod_floor(q.denom());
    let m = if up && !rem.is_zero() {
        quot + 1u32
    } else {
        quot
    };
    if m.is_zero() {
        return BigRational::zero();
    }
    let tz = m.trailing_zeros().unwrap_or(0).min(bits as u64);
    BigRational::new_raw(
        m >> tz as usize,
        BigInt::one() << (bits as usize - tz as usize),
    )
}

/// Enclosure `[lo, hi]` of `sqrt(q)` for `q >= 0`, with `hi - lo <= 2^-bits / denom(q)`;
/// `lo == hi` when `q` is the square of a rational.
pub fn sqrt_enclosure(q: &BigRational, bits: u32) -> (BigRational, BigRational) {
    assert!(!q.is_negative(), "sqrt of a negative rational");
    let (n, d) = (q.numer(), q.denom());
    let (rn, rd) = (n.sqrt(), d.sqrt());
    if &(&rn * &rn) == n && &(&rd * &rd) == d {
        let r = BigRational::new(rn, rd);
        return (r.clone(), r);
    }
    // sqrt(n/d) = sqrt(n d 4^bits) / (d 2^bits)
    let scaled: BigInt = (n * d) << (2 * bits as usize);
    let s = scaled.sqrt();
    let den = d << bits as usize;
    let lo = BigRational::new(s.clone(), den.clone());
    let hi = BigRational::new(s + 1u32, den);
    (lo, hi)
}

/// Enclosure of `q^(p/r)` for `q > 0`, with width at most `2^-bits` (relative to the
/// integer part) and a point when the result is found to be exact.
pub fn pow_ratio_enclosure(
    q: &BigRational,
    p: u64,
    r: u64,
    bits: u32,
) -> (BigRational, BigRational) {
    assert!(
        q.is_positive() && r > 0,
        "pow_ratio_enclosure needs q > 0 and r > 0"
    );
    let g = num_integer::gcd(p, r);
    let (p, r) = (p / g.max(1), r / g.max(1));
    let qp = num_traits::pow::pow(q.clone(), p as usize);
    if r == 1 {
        return (qp.clone(), qp);
    }
    let (rn, rd) = (qp.numer().nth_root(r as u32), qp.denom().nth_root(r as u32));
    if &num_traits::pow::pow(rn.clone(), r as usize) == qp.numer()
        && &num_traits::pow::pow(rd.clone(), r as usize) == qp.denom()
    {
        let root = BigRational::new(rn, rd);
        return (root.clone(), root);
    }
    // Not a rational: floor(root_r(floor(qp * 2^(bits r)))) / 2^bits < qp^(1/r) < that + 2^-bits
    let scaled = (qp.numer() << (bits as usize * r as usize)) / qp.denom();
    let m = scaled.nth_root(r as u32);
    let den = BigInt::one() << bits as usize;
    let lo = BigRational::new(m.clone(), den.clone());
    (lo, BigRational::new(m + 1u32, den))
}

/// A closed interval `[lo, hi]` with exact endpoints of type `R`, `lo <= hi`.
#[derive(Clone, Debug)]
pub struct Interval<R: RationalField = BigRational> {
    lo: R,
    hi: R,
}

impl<R: RationalField> Interval<R> {
    /// The interval `[lo, hi]`.
    ///
    /// # Errors
    /// Returns `None` if `lo > hi`.
    pub fn new(lo: R, hi: R) -> Option<Self> {
        (lo.cmp_exact(&hi) != Ordering::Greater).then_some(Self { lo, hi })
    }
    /// The point interval `[x, x]`.
    pub fn point(x: R) -> Self {
        Self {
            lo: x.clone(),
            hi: x,
        }
    }
    /// Lower endpoint.
    pub fn lo(&self) -> &R {
        &self.lo
    }
    /// Upper endpoint.
    pub fn hi(&self) -> &R {
        &self.hi
    }
    /// Whether `lo == hi`.
    pub fn is_point(&self) -> bool {
        self.lo.cmp_exact(&self.hi) == Ordering::Equal
    }
    /// `hi - lo`.
    pub fn width(&self) -> R {
        self.hi.sub_ref(&self.lo)
    }
    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: &R) -> bool {
        self.lo.cmp_exact(x) != Ordering::Greater && x.cmp_exact(&self.hi) != Ordering::Greater
    }
    /// Largest bit size of the endpoints.
    pub fn bit_size(&self) -> u64 {
        self.lo.bit_size().max(self.hi.bit_size())
    }
    /// Rounds `lo` down and `hi` up to multiples of `2^-bits`, when an endpoint's bit
    /// size exceeds `max_bits`; returns the interval unchanged otherwise. The result
    /// contains `self`.
    pub fn round_outward(&self, bits: u32, max_bits: u64) -> Self {
        if self.bit_size() <= max_bits {
            return self.clone();
        }
        Self {
            lo: self.lo.round_dyadic(bits, false),
            hi: self.hi.round_dyadic(bits, true),
        }
    }
    fn from_pair(a: R, b: R) -> Self {
        if a.cmp_exact(&b) == Ordering::Greater {
            Self { lo: b, hi: a }
        } else {
            Self { lo: a, hi: b }
        }
        .bounded()
    }
    /// Keeps a non-point enclosure's endpoints bounded: rounds outward to the
    /// `2^-DEFAULT_PREC` grid when they exceed `ENCLOSURE_MAX_BITS` bits. Points are
    /// never rounded here (exact values stay exact).
    fn bounded(self) -> Self {
        let max = crate::prec::ENCLOSURE_MAX_BITS;
        if (self.lo.bit_size() <= max && self.hi.bit_size() <= max) || self.is_point() {
            return self;
        }
        Self {
            lo: self.lo.round_dyadic(DEFAULT_PREC, false),
            hi: self.hi.round_dyadic(DEFAULT_PREC, true),
        }
    }
    fn hull(values: [R; 4]) -> Self {
        let mut lo = values[0].clone();
        let mut hi = values[0].clone();
        for v in &values[1..] {
            if v.cmp_exact(&lo) == Ordering::Less {
                lo = v.clone();
            }
            if v.cmp_exact(&hi) == Ordering::Greater {
                hi = v.clone();
            }
        }
        Self { lo, hi }.bounded()
    }
    fn point_value(&self) -> Option<&R> {
        self.is_point().then_some(&self.lo)
    }
}

// num-traits' `Zero` and `One` (the supertraits of `Scalar`) and the by-value operators
// they require; the arithmetic is the by-reference one of `Scalar`.
impl<R: RationalField> std::ops::Add for Interval<R> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl<R: RationalField> std::ops::Mul for Interval<R> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl<R: RationalField> Zero for Interval<R> {
    /// The point `[0, 0]`.
    fn zero() -> Self {
        Self::point(R::zero())
    }
    /// Whether the interval is the point zero (not: whether it contains zero).
    fn is_zero(&self) -> bool {
        self.lo.sign() == Sign::Zero && self.hi.sign() == Sign::Zero
    }
}

impl<R: RationalField> One for Interval<R> {
    /// The point `[1, 1]`.
    fn one() -> Self {
        Self::point(R::one())
    }
}

impl<R: RationalField> Scalar for Interval<R> {
    const EXACT: bool = true;
    const NAME: &'static str = "interval";

    fn from_int(n: i64) -> Self {
        Self::point(R::from_int(n))
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        Self::point(R::from_ratio(num, den))
    }
    fn from_rational(q: &BigRational) -> Self {
        Self::point(R::from_rational(q))
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        R::from_f64(x).map(Self::point)
    }
    fn add_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return self.clone();
        }
        Self {
            lo: self.lo.add_ref(&rhs.lo),
            hi: self.hi.add_ref(&rhs.hi),
        }
        .bounded()
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return self.clone();
        }
        Self {
            lo: self.lo.sub_ref(&rhs.hi),
            hi: self.hi.sub_ref(&rhs.lo),
        }
        .bounded()
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Self::zero();
        }
        match (self.point_value(), rhs.point_value()) {
            (Some(a), Some(b)) => Self::point(a.mul_ref(b)),
            (Some(a), None) => Self::from_pair(a.mul_ref(&rhs.lo), a.mul_ref(&rhs.hi)),
            (None, Some(b)) => Self::from_pair(self.lo.mul_ref(b), self.hi.mul_ref(b)),
            (None, None) => Self::hull([
                self.lo.mul_ref(&rhs.lo),
                self.lo.mul_ref(&rhs.hi),
                self.hi.mul_ref(&rhs.lo),
                self.hi.mul_ref(&rhs.hi),
            ]),
        }
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        assert!(
            matches!(rhs.sign(), Sign::Positive | Sign::Negative),
            "interval division by an enclosure that may contain zero"
        );
        if self.is_zero() {
            return Self::zero();
        }
        match (self.point_value(), rhs.point_value()) {
            (Some(a), Some(b)) => Self::point(a.div_ref(b)),
            (_, Some(b)) => Self::from_pair(self.lo.div_ref(b), self.hi.div_ref(b)),
            _ => Self::hull([
                self.lo.div_ref(&rhs.lo),
                self.lo.div_ref(&rhs.hi),
                self.hi.div_ref(&rhs.lo),
                self.hi.div_ref(&rhs.hi),
            ]),
        }
    }
    fn neg_ref(&self) -> Self {
        Self {
            lo: self.hi.neg_ref(),
            hi: self.lo.neg_ref(),
        }
    }
    fn abs(&self) -> Self {
        match self.sign() {
            Sign::Positive | Sign::Zero => self.clone(),
            Sign::Negative => self.neg_ref(),
            Sign::Undecided => {
                if self.lo.sign() != Sign::Negative {
                    self.clone()
                } else if self.hi.sign() != Sign::Positive {
                    self.neg_ref()
                } else {
                    Self {
                        lo: R::zero(),
                        hi: self.lo.neg_ref().max(&self.hi),
                    }
                }
            }
        }
    }
    fn max(&self, other: &Self) -> Self {
        Self {
            lo: self.lo.max(&other.lo),
            hi: self.hi.max(&other.hi),
        }
    }
    fn sign(&self) -> Sign {
        match (self.lo.sign(), self.hi.sign()) {
            (Sign::Positive, _) => Sign::Positive,
            (_, Sign::Negative) => Sign::Negative,
            (Sign::Zero, Sign::Zero) => Sign::Zero,
            _ => Sign::Undecided,
        }
    }
    fn relu(&self) -> Self {
        Self {
            lo: self.lo.relu(),
            hi: self.hi.relu(),
        }
    }
    fn relu_derivative(&self) -> Self {
        if self.lo.sign() == Sign::Positive {
            Self::one()
        } else if self.hi.sign() != Sign::Positive {
            Self::zero()
        } else {
            Self {
                lo: R::zero(),
                hi: R::one(),
            }
        }
    }
    fn identical(&self, other: &Self) -> bool {
        self.lo.identical(&other.lo) && self.hi.identical(&other.hi)
    }
    fn to_f64(&self) -> f64 {
        if self.is_point() {
            return self.lo.to_f64();
        }
        self.lo.add_ref(&self.hi).div_ref(&R::from_int(2)).to_f64()
    }
    fn to_rational(&self) -> Option<BigRational> {
        self.point_value().and_then(|p| p.to_rational())
    }
    fn to_exact_string(&self) -> String {
        match self.point_value() {
            Some(p) => p.to_exact_string(),
            None => format!(
                "[{}, {}]",
                self.lo.to_exact_string(),
                self.hi.to_exact_string()
            ),
        }
    }
    fn square(&self) -> Self {
        match self.abs() {
            a if a.is_point() => a.mul_ref(&a),
            a => Self {
                lo: a.lo.mul_ref(&a.lo),
                hi: a.hi.mul_ref(&a.hi),
            }
            .bounded(),
        }
    }
}

/// Scalars with square roots and rational powers: exactly rounded in `f64`, certified
/// enclosures for [`Interval`]. The optimizers that need them (Adagrad, RMSProp, Adam,
/// AMSGrad, Nadam) are generic over this trait.
pub trait Real: Scalar {
    /// `sqrt(self)` for `self >= 0`.
    ///
    /// For an enclosure, the result encloses `sqrt` over the non-negative part: an
    /// enclosure `[lo, hi]` with `lo < 0 <= hi` gives an enclosure of `[0, sqrt(hi)]`.
    /// `f64` follows IEEE (NaN below zero).
    ///
    /// # Panics
    /// **Panics for an enclosure whose upper end is negative** (it holds no number with
    /// a square root), for both [`Interval`] and [`crate::scalar::DyadicInterval`].
    fn sqrt(&self) -> Self;
    /// `self^(p/r)` for `self > 0`, `r > 0`.
    ///
    /// # Panics
    /// **Panics for an enclosure that is not positive, or `r == 0`.**
    fn pow_ratio(&self, p: u64, r: u64) -> Self;
    /// Keeps a moving value's representation bounded (outward rounding for enclosures,
    /// nothing for `f64`). Called on coordinates that changed in a step.
    fn tighten(&self) -> Self {
        self.clone()
    }
    /// `base^(t e)` for step `t >= 1` of an optimizer and a fixed exponent `e = p / r`
    /// (`exponent = (p, r)`, `r > 0`), given `root = base^e` and
    /// `previous = base^((t - 1) e)`: the powers `beta^t` (`e = 1`) and NAdam's
    /// `0.96^(t psi)` that the optimizers carry in their state, one call per step.
    ///
    /// Exact types and enclosures multiply once, `previous * root`: exactly `base^(t e)`
    /// when `root` is exact, an enclosure of it otherwise, so `T` steps cost `T` products.
    /// `f64` ignores `root` and `previous` and returns `base.powf(t * (p / r))` (libm
    /// `pow`), which is what `torch.optim` computes (`beta1 ** step`,
    /// `0.96 ** (step * momentum_decay)`: Python float powers of the float `step`); the
    /// `t`-fold product would round differently.
    fn step_power(base: &Self, root: &Self, previous: &Self, t: u64, exponent: (u64, u64)) -> Self {
        let _ = (base, t, exponent);
        previous.mul_ref(root)
    }
}

impl Real for f64 {
    fn sqrt(&self) -> Self {
        f64::sqrt(*self)
    }
    fn pow_ratio(&self, p: u64, r: u64) -> Self {
        self.powf(p as f64 / r as f64)
    }
    fn step_power(
        base: &Self,
        _root: &Self,
        _previous: &Self,
        t: u64,
        exponent: (u64, u64),
    ) -> Self {
        // PyTorch: `beta ** step` with `step` a float; `exponent.0 / exponent.1` is the
        // correctly rounded f64 of the exponent (both below 2^53), as Python's literal
        base.powf(t as f64 * (exponent.0 as f64 / exponent.1 as f64))
    }
}

impl<R: RationalField> Real for Interval<R> {
    fn sqrt(&self) -> Self {
        assert!(
            self.hi.sign() != Sign::Negative,
            "sqrt of an enclosure whose upper end is negative"
        );
        let bits = DEFAULT_PREC;
        let lo = self.lo.to_big();
        // sqrt is defined on [0, inf): enclose it over the non-negative part.
        let lo = if lo.is_negative() {
            BigRational::zero()
        } else {
            lo
        };
        let (l, _) = sqrt_enclosure(&lo, bits);
        let (_, h) = sqrt_enclosure(&self.hi.to_big(), bits);
        Self {
            lo: R::from_rational(&l),
            hi: R::from_rational(&h),
        }
    }
    fn pow_ratio(&self, p: u64, r: u64) -> Self {
        assert!(
            self.sign() == Sign::Positive,
            "pow_ratio of a non-positive enclosure"
        );
        let bits = DEFAULT_PREC;
        // x -> x^(p/r) is increasing for x > 0 and p >= 0.
        let (l, _) = pow_ratio_enclosure(&self.lo.to_big(), p, r, bits);
        let (_, h) = pow_ratio_enclosure(&self.hi.to_big(), p, r, bits);
        Self {
            lo: R::from_rational(&l),
            hi: R::from_rational(&h),
        }
    }
    fn tighten(&self) -> Self {
        self.round_outward(DEFAULT_PREC, crate::prec::ENCLOSURE_MAX_BITS)
    }
}

impl<R: RationalField> std::fmt::Display for Interval<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_exact_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scalar::q;

    #[test]
    fn sqrt_of_squares_is_exact() {
        assert_eq!(sqrt_enclosure(&q(9, 4), 64), (q(3, 2), q(3, 2)));
        let (lo, hi) = sqrt_enclosure(&q(2, 1), 64);
        assert!(&lo * &lo < q(2, 1) && &hi * &hi > q(2, 1));
        assert!(&hi - &lo <= BigRational::new(1.into(), BigInt::one() << 64));
    }

    #[test]
    fn pow_ratio_encloses() {
        let (lo, hi) = pow_ratio_enclosure(&q(24, 25), 3, 250, 100);
        let x = (24.0f64 / 25.0).powf(3.0 / 250.0);
        assert!(num_traits::ToPrimitive::to_f64(&lo).unwrap() <= x + 1e-15);
        assert!(num_traits::ToPrimitive::to_f64(&hi).unwrap() >= x - 1e-15);
        // exact lo^250 <= (24/25)^3 <= hi^250
        let target = num_traits::pow::pow(q(24, 25), 3);
        assert!(num_traits::pow::pow(lo.clone(), 250) <= target);
        assert!(num_traits::pow::pow(hi.clone(), 250) >= target);
        assert_eq!(pow_ratio_enclosure(&q(4, 9), 1, 2, 50), (q(2, 3), q(2, 3)));
        assert_eq!(
            pow_ratio_enclosure(&q(2, 1), 500, 250, 50),
            (q(4, 1), q(4, 1))
        );
    }

    #[test]
    fn points_stay_points_and_zero_annihilates() {
        let a = Interval::<BigRational>::from_ratio(1, 3);
        let w = Interval::new(q(-1, 2), q(1, 2)).unwrap();
        assert!(a.mul_ref(&a).is_point());
        assert!(
            Interval::<BigRational>::zero()
                .mul_ref(&w)
                .identical(&Interval::zero())
        );
        assert!(a.sub_ref(&Interval::zero().mul_ref(&w)).identical(&a));
        assert_eq!(w.sign(), Sign::Undecided);
        assert!(w.relu_derivative().contains(&q(1, 2)));
        assert_eq!(w.square().lo(), &q(0, 1));
        assert_eq!(w.square().hi(), &q(1, 4));
    }

    #[test]
    fn outward_rounding_contains() {
        let a = Interval::point(q(1, 3));
        let r = a.round_outward(10, 0);
        assert!(r.contains(&q(1, 3)) && !r.is_point());
        assert!(r.width() <= q(1, 1024));
    }
}
