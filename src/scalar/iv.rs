//! Outward-rounded `f64` intervals (the normal-initialization bounds of `stats::bound_normal`
//! and the box branch and bound of `activity::bab` use them), and the few elementary
//! functions the normal bounds need.
//!
//! Every basic operation (`+ - * /`, `sqrt`) is IEEE 754 correctly rounded to nearest, so
//! its exact result lies within half an ulp of the computed one; stepping the lower end
//! one double down and the upper end one double up (`next_down`, `next_up`) therefore
//! encloses it. Nothing else of the platform's floating point is trusted: `exp`, `sin`,
//! `cos`, `erf` and Dawson's integral are evaluated from their series with these
//! operations and an explicit bound on the truncated remainder, and `pi` and `ln 2` enter
//! as the two doubles around them. An interval argument is handled by monotonicity
//! (`exp`) or by a Lipschitz bound around its midpoint (`|sin'|, |cos'| <= 1`,
//! `|erf'| <= 2/sqrt(pi)`, `|F'| = |1 - 2xF| <= 1` for Dawson's `F`).
//!
//! Endpoints are finite; an operation whose result would not be (overflow) panics, which
//! the callers rule out by the ranges they use.

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::{BigRational, rational_from_f64};

/// A closed interval `[lo, hi]` of doubles enclosing an unknown real.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iv {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

fn dn(x: f64) -> f64 {
    x.next_down()
}
fn up(x: f64) -> f64 {
    x.next_up()
}

impl Iv {
    /// `[lo, hi]`.
    pub fn new(lo: f64, hi: f64) -> Self {
        debug_assert!(lo <= hi && lo.is_finite() && hi.is_finite(), "[{lo}, {hi}]");
        Iv { lo, hi }
    }
    /// The exact double `x`.
    pub fn point(x: f64) -> Self {
        Iv::new(x, x)
    }
    /// Width, rounded up.
    pub fn width(&self) -> f64 {
        up(self.hi - self.lo)
    }
    /// The larger magnitude of the two ends.
    pub fn mag(&self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }
    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
    /// The hull with `[-r, r]` added (`r >= 0`).
    pub fn pm(self, r: f64) -> Self {
        Iv::new(dn(self.lo - r), up(self.hi + r))
    }
    /// Intersection with `[0, 1]` (for probabilities).
    pub fn clamp01(self) -> Self {
        Iv::new(self.lo.clamp(0.0, 1.0), self.hi.clamp(0.0, 1.0))
    }
    /// The tightest enclosure of a rational by doubles.
    pub fn from_rational(q: &BigRational) -> Self {
        let x = q.to_f64().unwrap_or(f64::NAN);
        assert!(x.is_finite(), "rational out of the double range");
        let exact = |v: f64| rational_from_f64(v).expect("finite");
        let (mut lo, mut hi) = (x, x);
        while &exact(lo) > q {
            lo = dn(lo);
        }
        while &exact(hi) < q {
            hi = up(hi);
        }
        Iv::new(lo, hi)
    }
    /// The integer `n` (exact below `2^53`, enclosed above).
    pub fn int(n: u64) -> Self {
        if n < (1 << 53) {
            Iv::point(n as f64)
        } else {
            Iv::from_rational(&BigRational::from_integer(BigInt::from(n)))
        }
    }
    /// `1/self`, for an interval not containing 0.
    pub fn recip(self) -> Self {
        Iv::point(1.0) / self
    }
    /// `self^2` (non-negative even when the interval contains 0).
    pub fn sqr(self) -> Self {
        let m = self * self;
        if self.lo <= 0.0 && self.hi >= 0.0 {
            Iv::new(0.0, m.hi)
        } else {
            Iv::new(m.lo.max(0.0), m.hi)
        }
    }
    /// `self^n`.
    pub fn powi(self, n: u32) -> Self {
        let mut r = Iv::point(1.0);
        for _ in 0..n {
            r = r * self;
        }
        r
    }
    /// `sqrt(self)` for `self >= 0`.
    pub fn sqrt(self) -> Self {
        assert!(self.lo >= 0.0, "sqrt of a negative interval");
        Iv::new(dn(self.lo.sqrt()).max(0.0), up(self.hi.sqrt()))
    }
    /// `|self|`.
    pub fn abs(self) -> Self {
        if self.lo >= 0.0 {
            self
        } else if self.hi <= 0.0 {
            -self
        } else {
            Iv::new(0.0, self.mag())
        }
    }
    /// Midpoint `m` (a double) and a radius `r` with `self` inside `[m - r, m + r]`.
    fn mid_rad(self) -> (f64, f64) {
        let m = self.lo + (self.hi - self.lo) / 2.0;
        let m = m.clamp(self.lo, self.hi);
        (m, up((m - self.lo).max(self.hi - m)))
    }
}

/// `a + b` rounded to nearest and the sign of its rounding error (Knuth's TwoSum: the
/// error `e` is exact, so `a + b` lies in `[s, next_up(s)]` if `e > 0`, in
/// `[next_down(s), s]` if `e < 0`, and is `s` if `e == 0`).
fn sum_down(a: f64, b: f64) -> f64 {
    let (s, e) = two_sum(a, b);
    if e < 0.0 || !e.is_finite() { dn(s) } else { s }
}
fn sum_up(a: f64, b: f64) -> f64 {
    let (s, e) = two_sum(a, b);
    if e > 0.0 || !e.is_finite() { up(s) } else { s }
}
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}
/// `a * b` rounded down / up: the error `fma(a, b, -p)` is exact while the product is
/// far from the subnormal range (below `2^-960` the result is stepped outward anyway).
fn product_down(a: f64, b: f64) -> f64 {
    let p = a * b;
    if p == 0.0 && (a == 0.0 || b == 0.0) {
        return 0.0;
    }
    if p.abs() >= MIN_EXACT_PRODUCT && p.is_finite() && a.mul_add(b, -p) >= 0.0 {
        p
    } else {
        dn(p)
    }
}
fn product_up(a: f64, b: f64) -> f64 {
    let p = a * b;
    if p == 0.0 && (a == 0.0 || b == 0.0) {
        return 0.0;
    }
    if p.abs() >= MIN_EXACT_PRODUCT && p.is_finite() && a.mul_add(b, -p) <= 0.0 {
        p
    } else {
        up(p)
    }
}
/// `2^-960`: above it the rounding error of a product is a double.
const MIN_EXACT_PRODUCT: f64 = 1.0261342003245941e-289;

impl Add for Iv {
    type Output = Iv;
    fn add(self, o: Iv) -> Iv {
        Iv::new(sum_down(self.lo, o.lo), sum_up(self.hi, o.hi))
    }
}
impl Sub for Iv {
    type Output = Iv;
    fn sub(self, o: Iv) -> Iv {
        Iv::new(sum_down(self.lo, -o.hi), sum_up(self.hi, -o.lo))
    }
}
impl Neg for Iv {
    type Output = Iv;
    fn neg(self) -> Iv {
        Iv::new(-self.hi, -self.lo)
    }
}
impl Mul for Iv {
    type Output = Iv;
    fn mul(self, o: Iv) -> Iv {
        let ends = [
            (self.lo, o.lo),
            (self.lo, o.hi),
            (self.hi, o.lo),
            (self.hi, o.hi),
        ];
        let lo = ends
            .iter()
            .map(|&(a, b)| product_down(a, b))
            .fold(f64::INFINITY, f64::min);
        let hi = ends
            .iter()
            .map(|&(a, b)| product_up(a, b))
            .fold(f64::NEG_INFINITY, f64::max);
        Iv::new(lo, hi)
    }
}
impl Div for Iv {
    type Output = Iv;
    fn div(self, o: Iv) -> Iv {
        assert!(
            o.lo > 0.0 || o.hi < 0.0,
            "division by an interval containing 0"
        );
        let p = [
            self.lo / o.lo,
            self.lo / o.hi,
            self.hi / o.lo,
            self.hi / o.hi,
        ];
        let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = if lo == 0.0 { 0.0 } else { dn(lo) };
        let hi = if hi == 0.0 { 0.0 } else { up(hi) };
        Iv::new(lo, hi)
    }
}
impl Add<f64> for Iv {
    type Output = Iv;
    fn add(self, o: f64) -> Iv {
        self + Iv::point(o)
    }
}
impl Mul<f64> for Iv {
    type Output = Iv;
    fn mul(self, o: f64) -> Iv {
        self * Iv::point(o)
    }
}

/// `pi`: the doubles below and above it.
pub fn pi() -> Iv {
    let p = std::f64::consts::PI;
    Iv::new(dn(p), up(p))
}

fn ln2() -> Iv {
    let l = std::f64::consts::LN_2;
    Iv::new(dn(l), up(l))
}

/// `e^x` for a double `x <= 709`.
fn exp_point(x: f64) -> Iv {
    assert!(x <= 709.0, "exp overflow");
    if x < -740.0 {
        // e^-740 < 2^-1067, below the smallest subnormal's half
        return Iv::new(0.0, f64::from_bits(1));
    }
    let k = (x / std::f64::consts::LN_2).round();
    let r = Iv::point(x) - ln2() * k;
    // |r| <= ln2/2 + rounding < 0.35: Taylor to degree 24, remainder
    // sum_{n>24} |r|^n/n! <= 2 |r|^25/25! < 1e-35
    let mut s = Iv::point(1.0);
    for n in (1..=24).rev() {
        s = Iv::point(1.0) + r * s / Iv::int(n);
    }
    let s = s.pm(1e-35);
    // 2^k in two exact factors (k in [-1068, 1023])
    let (k1, k2) = ((k / 2.0).trunc() as i32, (k - (k / 2.0).trunc()) as i32);
    s * 2f64.powi(k1) * 2f64.powi(k2)
}

/// `e^x`.
pub fn exp(x: Iv) -> Iv {
    Iv::new(exp_point(x.lo).lo, exp_point(x.hi).hi)
}

/// `(sin r, cos r)` for `|r| <= 1` by their Taylor series (remainders `< 1e-30`).
fn sin_cos_small(r: Iv) -> (Iv, Iv) {
    debug_assert!(r.mag() <= 1.0);
    let z = r.sqr();
    // sin r = r (1 - z/(2*3) (1 - z/(4*5) (...))), 14 terms; cos likewise
    let mut s = Iv::point(1.0);
    let mut c = Iv::point(1.0);
    for n in (1..=14u64).rev() {
        s = Iv::point(1.0) - z * s / Iv::int((2 * n) * (2 * n + 1));
        c = Iv::point(1.0) - z * c / Iv::int((2 * n - 1) * (2 * n));
    }
    ((r * s).pm(1e-30), c.pm(1e-30))
}

/// `sin(x)/x` (1 at 0).
pub fn sinc(x: Iv) -> Iv {
    if x.mag() <= 1.0 {
        // the series of sin_cos_small without the factor x; its remainder divided by x
        // is below |x|^30/31! < 1e-30
        let z = x.sqr();
        let mut s = Iv::point(1.0);
        for n in (1..=14u64).rev() {
            s = Iv::point(1.0) - z * s / Iv::int((2 * n) * (2 * n + 1));
        }
        s.pm(1e-30)
    } else {
        sin_cos(x).0 / x
    }
}

/// `(sin x, cos x)` for a double `x`.
fn sin_cos_point(x: f64) -> (Iv, Iv) {
    if x.abs() >= 1e12 {
        // not reached by the callers (their arguments stay below 1e9); still enclosed
        return (Iv::new(-1.0, 1.0), Iv::new(-1.0, 1.0));
    }
    // pi/2 = P1 + P2 + P3 with P1, P2 of 33 and 32 significant bits (fdlibm's pio2_1,
    // pio2_2), so k P1 and k P2 are exact for |k| < 2^20, and P3 enclosed by two doubles
    const P1: f64 = 1.5707963267341256;
    const P2: f64 = 6.077100506303966e-11;
    const P3: f64 = 2.0222662487959506e-21;
    let k = (x / std::f64::consts::FRAC_PI_2).round();
    let ki = Iv::point(k);
    let r = if k.abs() < (1u64 << 20) as f64 {
        // exact products (at most 53 significant bits), so no widening by ulp(k P1)
        Iv::point(x) - Iv::point(k * P1) - Iv::point(k * P2) - ki * Iv::new(dn(P3), up(P3))
    } else {
        Iv::point(x) - ki * P1 - ki * P2 - ki * Iv::new(dn(P3), up(P3))
    };
    let (s, c) = sin_cos_small(r);
    match (k.rem_euclid(4.0)) as u8 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// `(sin x, cos x)`.
pub fn sin_cos(x: Iv) -> (Iv, Iv) {
    let (m, r) = x.mid_rad();
    let (s, c) = sin_cos_point(m);
    let clip = |v: Iv| Iv::new(v.lo.max(-1.0), v.hi.min(1.0));
    (clip(s.pm(r)), clip(c.pm(r)))
}

/// `erf(x)` for a double `x >= 0`.
fn erf_point(x: f64) -> Iv {
    debug_assert!(x >= 0.0);
    if x > 6.0 {
        // 0 < erfc(x) <= e^{-x^2}/(x sqrt(pi)) < 3e-17
        return Iv::new(dn(1.0 - 3e-17), 1.0);
    }
    // erf x = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1}/(2n+1)!! (positive terms); the ratio of
    // consecutive terms is 2x^2/(2n+3), <= 1/2 once 2n+3 >= 4x^2, and then the rest of
    // the series is at most the last term added
    let xi = Iv::point(x);
    let z2 = xi.sqr() * 2.0;
    let mut term = xi;
    let mut sum = xi;
    let mut n = 0u64;
    loop {
        term = term * z2 / Iv::int(2 * n + 3);
        sum = sum + term;
        n += 1;
        if (2 * n + 3) as f64 >= 4.0 * x * x && term.hi <= 1e-20 * sum.lo.max(1e-300) {
            break;
        }
    }
    let sum = Iv::new(sum.lo, up(sum.hi + term.hi));
    (Iv::point(2.0) / pi().sqrt() * exp(-xi.sqr()) * sum).clamp01()
}

/// `erf(x)`.
pub fn erf(x: Iv) -> Iv {
    let (m, r) = x.mid_rad();
    let v = if m >= 0.0 {
        erf_point(m)
    } else {
        -erf_point(-m)
    };
    // |erf'| <= 2/sqrt(pi)
    let v = v.pm(up(r * std::f64::consts::FRAC_2_SQRT_PI.next_up()));
    Iv::new(v.lo.max(-1.0), v.hi.min(1.0))
}

/// Dawson's integral `F(x) = e^{-x^2} int_0^x e^{t^2} dt` for a double `x >= 0`.
fn dawson_point(x: f64) -> Iv {
    debug_assert!(x >= 0.0);
    let xi = Iv::point(x);
    if x < 12.0 {
        // e^{-x^2} sum_n x^{2n+1}/(n! (2n+1)); consecutive terms have ratio
        // x^2 (2n+1)/((n+1)(2n+3)) < x^2/(n+1) <= 1/2 once n+1 >= 2x^2, and then the
        // rest is at most the last term added
        let z = xi.sqr();
        let mut pw = xi; // x^{2n+1}/n!
        let mut sum = xi;
        let mut n = 0u64;
        let last = loop {
            pw = pw * z / Iv::int(n + 1);
            n += 1;
            let term = pw / Iv::int(2 * n + 1);
            sum = sum + term;
            if (n + 1) as f64 >= 2.0 * x * x && term.hi <= 1e-20 * sum.lo.max(1e-300) {
                break term;
            }
        };
        let sum = Iv::new(sum.lo, up(sum.hi + last.hi));
        return exp(-z) * sum;
    }
    // x >= 12, with x0 = 8 (module docs of `super`): F(x) = sum_{n<N} c_n x^{-2n-1}
    // + e^{x0^2 - x^2} (F(x0) - sum_{n<N} c_n x0^{-2n-1}) + 2 c_N e^{-x^2} I_N, with
    // c_0 = 1/2, c_{n+1} = c_n (2n+1)/2, 0 <= 2 c_N e^{-x^2} I_N <= 2 c_N x^{-2N-1} /
    // (2 - (2N+1)/64) for N <= 60, and the middle term at most e^{-80} < 1e-34 in
    // magnitude (both F(x0) and the sum lie in [0, 1])
    let inv = xi.recip();
    let inv2 = inv.sqr();
    let mut c = Iv::point(0.5);
    let mut pw = inv;
    let mut sum = Iv::point(0.0);
    let mut n = 0u64;
    loop {
        sum = sum + c * pw;
        c = c * Iv::int(2 * n + 1) * 0.5;
        pw = pw * inv2;
        n += 1;
        // now c = c_n and pw = x^{-2n-1}
        if n >= 60 || (c * pw).hi <= 1e-19 * inv.lo {
            break;
        }
    }
    let rest = (c * 2.0 * pw / (Iv::point(2.0) - Iv::int(2 * n + 1) / Iv::point(64.0))).hi;
    Iv::new(dn(sum.lo - 1e-34), up(sum.hi + rest + 1e-34))
}

/// Dawson's integral `F(x)` (odd).
pub fn dawson(x: Iv) -> Iv {
    let (m, r) = x.mid_rad();
    let v = if m >= 0.0 {
        dawson_point(m)
    } else {
        -dawson_point(-m)
    };
    v.pm(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::q;

    #[test]
    fn rationals_are_enclosed_tightly() {
        let t = Iv::from_rational(&q(1, 3));
        assert!(t.lo < t.hi && t.hi == t.lo.next_up());
        assert_eq!(Iv::from_rational(&q(1, 4)), Iv::point(0.25));
    }

    #[test]
    fn elementary_functions_enclose_reference_values() {
        // reference values to 20 digits (DLMF / standard tables)
        let cases: Vec<(Iv, f64)> = vec![
            (exp(Iv::point(1.0)), std::f64::consts::E),
            (exp(Iv::point(-20.5)), 1.2501528663867426e-09),
            (sin_cos(Iv::point(1.0)).0, 0.8414709848078965),
            (sin_cos(Iv::point(100.0)).1, 0.8623188722876839),
            (sin_cos(Iv::point(-1e5)).0, -0.03574879797201651),
            (erf(Iv::point(0.5)), 0.5204998778130465),
            (erf(Iv::point(3.0)), 0.9999779095030014),
            (dawson(Iv::point(1.0)), 0.5380795069127684),
            (dawson(Iv::point(5.0)), 0.10213407442427684),
            (dawson(Iv::point(20.0)), 0.02503136792640367),
            (dawson(Iv::point(11.9)), 0.04216676056202758),
            (dawson(Iv::point(12.0)), 0.04181287645398826),
            (dawson(Iv::point(-0.25)), -0.23983916356289822),
        ];
        for (i, (v, want)) in cases.iter().enumerate() {
            let tol = 4.0 * f64::EPSILON * want.abs().max(1e-300);
            assert!(
                v.lo <= want + tol && want - tol <= v.hi,
                "case {i}: {v:?} vs {want}"
            );
            assert!(v.width() < 1e-12 * want.abs().max(1e-3), "case {i}: {v:?}");
        }
    }
}
