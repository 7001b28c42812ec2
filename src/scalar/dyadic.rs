//! Certified enclosures with dyadic endpoints (`m * 2^e`), rounded outward to a fixed
//! number of significant bits: the fast enclosure type of exact trajectories.
//!
//! [`super::Interval`] over `BigRational` normalizes every result by a gcd, which
//! dominates the cost of exact training. Here addition and multiplication of endpoints
//! are exact integer operations (shift, add, multiply) and results are rounded outward
//! to [`MANTISSA_BITS`] significant bits, in the manner of MPFR interval arithmetic, in
//! pure Rust. Points stay points as long as they are exact and small: a point result
//! whose mantissa exceeds [`MAX_POINT_BITS`] is widened to an enclosure, and a value that
//! is not dyadic (`1/10`, `2/63`) enters as the tightest enclosure at that precision.
//! Multiplying by an exact zero gives an exact zero, and subtracting an exact zero leaves
//! a value untouched, so a coordinate whose gradient history is exactly zero stays
//! bit-identical.

use super::{
    BigRational, Real, Scalar, ScalarError, Sign, pow_ratio_enclosure, rational_from_f64,
    rational_string,
};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Zero};
use std::cmp::Ordering;

/// Significant bits of a rounded endpoint.
pub const MANTISSA_BITS: u64 = crate::prec::DYADIC_MANTISSA_BITS;
/// A point whose mantissa grows beyond this many bits is widened to an enclosure.
pub const MAX_POINT_BITS: u64 = crate::prec::DYADIC_MAX_POINT_BITS;
/// Beyond this ratio of magnitudes (in bits) a sum's small term is only a rounding
/// direction ([`Dyadic::add_toward`]); more than [`MAX_POINT_BITS`], so exact points that
/// fit stay exact.
const GAP_BITS: i64 = (MAX_POINT_BITS + MANTISSA_BITS + 8) as i64;
/// Magnitudes below `2^MIN_EXPONENT` are flushed outward ([`Dyadic::floored`]): without
/// a floor, a bound that is squared step after step doubles its exponent each time.
const MIN_EXPONENT: i64 = crate::prec::DYADIC_MIN_EXPONENT;

/// An exact dyadic number `m * 2^e`, normalized (`m` odd, or `m = 0` and `e = 0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dyadic {
    m: BigInt,
    e: i64,
}

impl Dyadic {
    fn new(m: BigInt, e: i64) -> Self {
        if m.is_zero() {
            return Self { m, e: 0 };
        }
        let tz = m.trailing_zeros().unwrap_or(0);
        if tz == 0 {
            Self { m, e }
        } else {
            Self {
                m: m >> tz as usize,
                e: e + tz as i64,
            }
        }
    }
    fn zero() -> Self {
        Self {
            m: BigInt::zero(),
            e: 0,
        }
    }
    fn int(n: i64) -> Self {
        Self::new(BigInt::from(n), 0)
    }
    fn bits(&self) -> u64 {
        self.m.bits()
    }
    fn sign(&self) -> Sign {
        match self.m.sign() {
            num_bigint::Sign::Minus => Sign::Negative,
            num_bigint::Sign::NoSign => Sign::Zero,
            num_bigint::Sign::Plus => Sign::Positive,
        }
    }
    fn is_zero(&self) -> bool {
        self.m.is_zero()
    }
    fn neg_ref(&self) -> Self {
        Self {
            m: -self.m.clone(),
            e: self.e,
        }
    }
    fn add_ref(&self, o: &Self) -> Self {
        if self.is_zero() {
            return o.clone();
        }
        if o.is_zero() {
            return self.clone();
        }
        let e = self.e.min(o.e);
        let a = &self.m << (self.e - e) as usize;
        let b = &o.m << (o.e - e) as usize;
        Self::new(a + b, e)
    }
    fn sub_ref(&self, o: &Self) -> Self {
        self.add_ref(&o.neg_ref())
    }
    fn mul_ref(&self, o: &Self) -> Self {
        if self.is_zero() || o.is_zero() {
            return Self::zero();
        }
        // odd * odd is odd: already normalized
        Self {
            m: &self.m * &o.m,
            e: self.e + o.e,
        }
    }
    /// `t` with `2^(t-1) <= |self| < 2^t` (meaningless for zero).
    fn top(&self) -> i64 {
        self.e.saturating_add(self.m.bits() as i64)
    }
    /// `self + o` rounded toward `+inf` (`up`) or `-inf`, exact unless one term is below
    /// `2^-GAP_BITS` of the other: then the exact sum would need more than `GAP_BITS`
    /// significant bits (so it would be rounded anyway), and aligning the two would cost
    /// that many bits of work; the small term is replaced by `0` or by `+-2^(t - GAP_BITS)`
    /// (`t` the larger term's [`Dyadic::top`]), whichever moves the sum in the rounding
    /// direction, which keeps the result a bound in that direction.
    fn add_toward(&self, o: &Self, up: bool) -> Self {
        if self.is_zero() || o.is_zero() {
            return self.add_ref(o);
        }
        let (big, small) = if self.top() >= o.top() {
            (self, o)
        } else {
            (o, self)
        };
        let floor = big.top().saturating_sub(GAP_BITS);
        if small.top() >= floor {
            return self.add_ref(o);
        }
        match (small.sign(), up) {
            (Sign::Positive, true) => big.add_ref(&Self::new(BigInt::one(), floor)),
            (Sign::Negative, false) => big.add_ref(&Self::new(-BigInt::one(), floor)),
            _ => big.clone(),
        }
    }
    /// The nearest bound of `self` toward `up` whose magnitude is 0 or at least
    /// `2^MIN_EXPONENT`: values below it in magnitude are flushed to 0 on the side of
    /// zero, or to `+-2^MIN_EXPONENT` on the other, so exponents stay bounded.
    fn floored(self, up: bool) -> Self {
        if self.is_zero() || self.top() > MIN_EXPONENT {
            return self;
        }
        match (self.sign(), up) {
            (Sign::Positive, true) => Self::new(BigInt::one(), MIN_EXPONENT),
            (Sign::Negative, false) => Self::new(-BigInt::one(), MIN_EXPONENT),
            _ => Self::zero(),
        }
    }
    fn cmp(&self, o: &Self) -> Ordering {
        let rank = |s: Sign| match s {
            Sign::Negative => 0,
            Sign::Zero => 1,
            _ => 2,
        };
        let (sa, so) = (self.sign(), o.sign());
        if sa != so || sa == Sign::Zero {
            return rank(sa).cmp(&rank(so));
        }
        // same sign, both nonzero: a larger top is a larger magnitude
        let (ta, to) = (self.top(), o.top());
        if ta != to {
            let magnitude = ta.cmp(&to);
            return if sa == Sign::Positive {
                magnitude
            } else {
                magnitude.reverse()
            };
        }
        match self.sub_ref(o).sign() {
            Sign::Negative => Ordering::Less,
            Sign::Zero => Ordering::Equal,
            _ => Ordering::Greater,
        }
    }
    fn min(a: &Self, b: &Self) -> Self {
        if a.cmp(b) == Ordering::Greater {
            b.clone()
        } else {
            a.clone()
        }
    }
    fn max(a: &Self, b: &Self) -> Self {
        if a.cmp(b) == Ordering::Less {
            b.clone()
        } else {
            a.clone()
        }
    }
    /// Rounds to at most `bits` significant bits, down (towards -inf) or up.
    fn round(&self, bits: u64, up: bool) -> Self {
        let have = self.bits();
        if have <= bits {
            return self.clone();
        }
        let shift = (have - bits) as usize;
        // BigInt >> rounds towards -inf
        let m = if up {
            -((-self.m.clone()) >> shift)
        } else {
            &self.m >> shift
        };
        Self::new(m, self.e + shift as i64)
    }
    /// The exact value.
    pub fn to_rational(&self) -> BigRational {
        if self.e >= 0 {
            BigRational::from_integer(&self.m << self.e as usize)
        } else {
            BigRational::new(self.m.clone(), BigInt::one() << (-self.e) as usize)
        }
    }
    /// The dyadic of `bits` significant bits just below (or above) `q`; exact if `q` is a
    /// dyadic of at most that many bits.
    fn from_rational_round(q: &BigRational, bits: u64, up: bool) -> Self {
        if q.is_zero() {
            return Self::zero();
        }
        let (n, d) = (q.numer(), q.denom());
        // choose e with |q| / 2^e having bits+1 integer bits: e = bits(n) - bits(d) - bits - 1
        let e = n.bits() as i64 - d.bits() as i64 - bits as i64 - 1;
        let (num, den) = if e >= 0 {
            (n.clone(), d << e as usize)
        } else {
            (n << (-e) as usize, d.clone())
        };
        let (quot, rem) = num.div_mod_floor(&den);
        let m = if up && !rem.is_zero() { quot + 1 } else { quot };
        Self::new(m, e).round(bits, up)
    }
    fn is_dyadic(q: &BigRational) -> bool {
        let d = q.denom();
        (d & (d - BigInt::one())).is_zero()
    }
    fn from_rational_exact(q: &BigRational) -> Option<Self> {
        if !Self::is_dyadic(q) {
            return None;
        }
        let shift = q.denom().trailing_zeros().unwrap_or(0) as i64;
        Some(Self::new(q.numer().clone(), -shift))
    }
    /// An `f64` within one ulp (the 64 leading bits rounded, then scaled), infinite or zero
    /// beyond `f64`'s range, without building the rational (whose size is the exponent).
    fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let top = self.top();
        if top > 1100 {
            return if self.sign() == Sign::Negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
        }
        if top < -1200 {
            return 0.0;
        }
        // the 64 leading bits, then the exact power of two in at most three steps
        let drop = self.m.bits().saturating_sub(64);
        let lead: f64 = num_traits::ToPrimitive::to_f64(&(&self.m >> drop as usize))
            .expect("a 64-bit integer is a finite f64");
        let mut e = self.e + drop as i64;
        let mut v = lead;
        while e != 0 {
            let step = e.clamp(-1000, 1000);
            v *= 2f64.powi(step as i32);
            e -= step;
        }
        v
    }
}

/// A closed interval `[lo, hi]` with dyadic endpoints; see the module docs.
#[derive(Clone, Debug)]
pub struct DyadicInterval {
    lo: Dyadic,
    hi: Dyadic,
}

impl DyadicInterval {
    fn point(d: Dyadic) -> Self {
        Self {
            lo: d.clone(),
            hi: d,
        }
    }
    /// The tightest enclosure of `[lo, hi]` with endpoints of `MANTISSA_BITS`
    /// significant bits (`lo` rounded down, `hi` up; exact when they are dyadic numbers
    /// of that many bits).
    ///
    /// # Errors
    /// Returns `None` if `lo > hi`.
    pub fn enclosing(lo: &BigRational, hi: &BigRational) -> Option<Self> {
        (lo <= hi).then(|| Self {
            lo: Dyadic::from_rational_round(lo, MANTISSA_BITS, false),
            hi: Dyadic::from_rational_round(hi, MANTISSA_BITS, true),
        })
    }
    /// Whether `lo == hi`.
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }
    /// Lower endpoint (exact).
    pub fn lo(&self) -> BigRational {
        self.lo.to_rational()
    }
    /// Upper endpoint (exact).
    pub fn hi(&self) -> BigRational {
        self.hi.to_rational()
    }
    /// Rounds a result outward: non-points to `MANTISSA_BITS`, points only when they grew
    /// beyond `MAX_POINT_BITS`.
    fn bounded(lo: Dyadic, hi: Dyadic) -> Self {
        if lo == hi && lo.bits() <= MAX_POINT_BITS && (lo.is_zero() || lo.top() > MIN_EXPONENT) {
            return Self { lo, hi };
        }
        Self {
            lo: lo.round(MANTISSA_BITS, false).floored(false),
            hi: hi.round(MANTISSA_BITS, true).floored(true),
        }
    }
    fn hull(values: [Dyadic; 4]) -> (Dyadic, Dyadic) {
        let mut lo = values[0].clone();
        let mut hi = values[0].clone();
        for v in &values[1..] {
            lo = Dyadic::min(&lo, v);
            hi = Dyadic::max(&hi, v);
        }
        (lo, hi)
    }
    /// `a / b` rounded down or up to `MANTISSA_BITS` significant bits, by one integer
    /// division (no gcd).
    fn div_bound(a: &Dyadic, b: &Dyadic, up: bool) -> Dyadic {
        if a.is_zero() {
            return Dyadic::zero();
        }
        let shift = (MANTISSA_BITS + 2 + b.bits()).saturating_sub(a.bits()) as usize;
        let (quot, rem) = (&a.m << shift).div_mod_floor(&b.m);
        let m = if up && !rem.is_zero() { quot + 1 } else { quot };
        Dyadic::new(m, a.e - b.e - shift as i64).round(MANTISSA_BITS, up)
    }
}

// num-traits' `Zero` and `One` (the supertraits of `Scalar`) and the by-value operators
// they require; the arithmetic is the by-reference one of `Scalar`.
impl std::ops::Add for DyadicInterval {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl std::ops::Mul for DyadicInterval {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl Zero for DyadicInterval {
    /// The point `[0, 0]`.
    fn zero() -> Self {
        Self::point(Dyadic::zero())
    }
    /// Whether the interval is the point zero (not: whether it contains zero).
    fn is_zero(&self) -> bool {
        self.lo.is_zero() && self.hi.is_zero()
    }
}

impl One for DyadicInterval {
    /// The point `[1, 1]`.
    fn one() -> Self {
        Self::point(Dyadic::int(1))
    }
}

impl Scalar for DyadicInterval {
    const EXACT: bool = true;
    const NAME: &'static str = "dyadic-interval";

    fn from_int(n: i64) -> Self {
        Self::point(Dyadic::int(n))
    }
    fn from_ratio(num: i64, den: u64) -> Self {
        assert!(den != 0, "from_ratio: zero denominator");
        Self::from_rational(&BigRational::new(num.into(), den.into()))
    }
    fn from_rational(q: &BigRational) -> Self {
        match Dyadic::from_rational_exact(q) {
            Some(d) if d.bits() <= MAX_POINT_BITS => Self::point(d),
            _ => Self {
                lo: Dyadic::from_rational_round(q, MANTISSA_BITS, false),
                hi: Dyadic::from_rational_round(q, MANTISSA_BITS, true),
            },
        }
    }
    fn from_f64(x: f64) -> Result<Self, ScalarError> {
        Ok(Self::from_rational(&rational_from_f64(x)?))
    }
    fn add_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return self.clone();
        }
        if self.is_zero() {
            return rhs.clone();
        }
        Self::bounded(
            self.lo.add_toward(&rhs.lo, false),
            self.hi.add_toward(&rhs.hi, true),
        )
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        if rhs.is_zero() {
            return self.clone();
        }
        Self::bounded(
            self.lo.add_toward(&rhs.hi.neg_ref(), false),
            self.hi.add_toward(&rhs.lo.neg_ref(), true),
        )
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Self::zero();
        }
        if self.is_point() && rhs.is_point() {
            let p = self.lo.mul_ref(&rhs.lo);
            return Self::bounded(p.clone(), p);
        }
        let (lo, hi) = Self::hull([
            self.lo.mul_ref(&rhs.lo),
            self.lo.mul_ref(&rhs.hi),
            self.hi.mul_ref(&rhs.lo),
            self.hi.mul_ref(&rhs.hi),
        ]);
        Self::bounded(lo, hi)
    }
    fn div_ref(&self, rhs: &Self) -> Self {
        assert!(
            matches!(rhs.sign(), Sign::Positive | Sign::Negative),
            "interval division by an enclosure that may contain zero"
        );
        if self.is_zero() {
            return Self::zero();
        }
        if self.is_point() && rhs.is_point() {
            // a point when the quotient is exact at this precision
            return Self {
                lo: Self::div_bound(&self.lo, &rhs.lo, false),
                hi: Self::div_bound(&self.lo, &rhs.lo, true),
            };
        }
        let pairs = [
            (&self.lo, &rhs.lo),
            (&self.lo, &rhs.hi),
            (&self.hi, &rhs.lo),
            (&self.hi, &rhs.hi),
        ];
        let lows = pairs.map(|(a, b)| Self::div_bound(a, b, false));
        let highs = pairs.map(|(a, b)| Self::div_bound(a, b, true));
        let lo = lows
            .iter()
            .skip(1)
            .fold(lows[0].clone(), |acc, v| Dyadic::min(&acc, v));
        let hi = highs
            .iter()
            .skip(1)
            .fold(highs[0].clone(), |acc, v| Dyadic::max(&acc, v));
        Self { lo, hi }
    }
    fn neg_ref(&self) -> Self {
        Self {
            lo: self.hi.neg_ref(),
            hi: self.lo.neg_ref(),
        }
    }
    fn abs(&self) -> Self {
        match (self.lo.sign(), self.hi.sign()) {
            (Sign::Negative, Sign::Positive) => Self {
                lo: Dyadic::zero(),
                hi: Dyadic::max(&self.lo.neg_ref(), &self.hi),
            },
            (_, Sign::Negative | Sign::Zero) => self.neg_ref(),
            _ => self.clone(),
        }
    }
    fn max(&self, other: &Self) -> Self {
        Self {
            lo: Dyadic::max(&self.lo, &other.lo),
            hi: Dyadic::max(&self.hi, &other.hi),
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
        let clamp = |d: &Dyadic| {
            if d.sign() == Sign::Positive {
                d.clone()
            } else {
                Dyadic::zero()
            }
        };
        Self {
            lo: clamp(&self.lo),
            hi: clamp(&self.hi),
        }
    }
    fn relu_derivative(&self) -> Self {
        if self.lo.sign() == Sign::Positive {
            Self::one()
        } else if self.hi.sign() != Sign::Positive {
            Self::zero()
        } else {
            Self {
                lo: Dyadic::zero(),
                hi: Dyadic::int(1),
            }
        }
    }
    fn identical(&self, other: &Self) -> bool {
        self.lo == other.lo && self.hi == other.hi
    }
    fn to_f64(&self) -> f64 {
        if self.is_point() {
            return self.lo.to_f64();
        }
        (self.lo.to_f64() + self.hi.to_f64()) / 2.0
    }
    fn to_rational(&self) -> Option<BigRational> {
        self.is_point().then(|| self.lo.to_rational())
    }
    fn to_exact_string(&self) -> String {
        if self.is_point() {
            rational_string(&self.lo.to_rational())
        } else {
            format!(
                "[{}, {}]",
                rational_string(&self.lo.to_rational()),
                rational_string(&self.hi.to_rational())
            )
        }
    }
    fn square(&self) -> Self {
        let a = self.abs();
        if a.is_point() {
            return a.mul_ref(&a);
        }
        Self::bounded(a.lo.mul_ref(&a.lo), a.hi.mul_ref(&a.hi))
    }
}

fn sqrt_round(d: &Dyadic, up: bool) -> Dyadic {
    if d.sign() != Sign::Positive {
        return Dyadic::zero();
    }
    // make the exponent even and give the root MANTISSA_BITS + 1 bits
    let (mut m, mut e) = (d.m.clone(), d.e);
    if e.rem_euclid(2) != 0 {
        m <<= 1;
        e -= 1;
    }
    let extra = (2 * (MANTISSA_BITS + 1))
        .saturating_sub(m.bits())
        .div_ceil(2) as i64;
    let scaled = m << (2 * extra) as usize;
    let s = scaled.sqrt();
    let exact = &s * &s == scaled;
    let root = if up && !exact { s + 1 } else { s };
    Dyadic::new(root, e / 2 - extra).round(MANTISSA_BITS, up)
}

impl Real for DyadicInterval {
    fn sqrt(&self) -> Self {
        assert!(
            self.hi.sign() != Sign::Negative,
            "sqrt of an enclosure whose upper end is negative"
        );
        Self {
            lo: sqrt_round(&self.lo, false),
            hi: sqrt_round(&self.hi, true),
        }
    }
    fn pow_ratio(&self, p: u64, r: u64) -> Self {
        assert!(
            self.sign() == Sign::Positive,
            "pow_ratio of a non-positive enclosure"
        );
        let bits = MANTISSA_BITS as u32 + 8;
        let (l, _) = pow_ratio_enclosure(&self.lo.to_rational(), p, r, bits);
        let (_, h) = pow_ratio_enclosure(&self.hi.to_rational(), p, r, bits);
        Self {
            lo: Dyadic::from_rational_round(&l, MANTISSA_BITS, false),
            hi: Dyadic::from_rational_round(&h, MANTISSA_BITS, true),
        }
    }
    fn tighten(&self) -> Self {
        Self::bounded(self.lo.clone(), self.hi.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scalar::q;

    fn contains(i: &DyadicInterval, x: &BigRational) -> bool {
        &i.lo() <= x && x <= &i.hi()
    }

    #[test]
    fn enclosures_contain_the_exact_results() {
        let a = DyadicInterval::from_rational(&q(1, 3));
        let b = DyadicInterval::from_rational(&q(-2, 7));
        assert!(!a.is_point() && contains(&a, &q(1, 3)));
        assert!(contains(&a.mul_ref(&b), &q(-2, 21)));
        assert!(contains(&a.add_ref(&b), &q(1, 21)));
        assert!(contains(&a.div_ref(&b), &q(-7, 6)));
        assert!(contains(&b.square(), &q(4, 49)));
        let two = DyadicInterval::from_int(2);
        let r = two.sqrt();
        assert!(r.lo() * r.lo() <= q(2, 1) && r.hi() * r.hi() >= q(2, 1));
        assert!(r.hi() - r.lo() < BigRational::new(1.into(), BigInt::one() << 120));
        assert!(DyadicInterval::from_ratio(9, 4).sqrt().is_point());
        let p = DyadicInterval::from_ratio(24, 25).pow_ratio(3, 250);
        let x = (24.0f64 / 25.0).powf(3.0 / 250.0);
        assert!(p.lo().to_f64() <= x + 1e-15 && p.hi().to_f64() >= x - 1e-15);
    }

    #[test]
    fn dyadic_points_stay_exact_and_zero_annihilates() {
        let a = DyadicInterval::from_f64(0.375).unwrap();
        let b = DyadicInterval::from_f64(-1.25).unwrap();
        assert!(a.is_point() && a.mul_ref(&b).is_point());
        assert_eq!(a.mul_ref(&b).to_rational(), Some(q(-15, 32)));
        let wide = DyadicInterval::from_rational(&q(1, 3));
        assert!(
            DyadicInterval::zero()
                .mul_ref(&wide)
                .identical(&DyadicInterval::zero())
        );
        assert!(
            a.sub_ref(&DyadicInterval::zero().mul_ref(&wide))
                .identical(&a)
        );
        assert_eq!(
            DyadicInterval::from_rational(&q(-1, 2))
                .relu_derivative()
                .to_rational(),
            Some(q(0, 1))
        );
    }
}
