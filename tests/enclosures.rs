//! Property test of the enclosure arithmetic: every operation of both enclosure types
//! ([`Interval`] over `BigRational`, [`DyadicInterval`]) contains the exact result of
//! every choice of operands from its inputs.
//!
//! Operands have numerators and denominators of up to 224 bits, beyond the 160 bits at
//! which `Interval` rounds its endpoints outward and the 128-bit mantissas of
//! `DyadicInterval`, so the rounding paths run; the test checks that most cases of
//! every arithmetic operation round. The exact reference is `BigRational`: the exact result where it is rational, and
//! for `sqrt` and rational powers, whose results are not, the containment is checked
//! through exact powers of the rational bounds (`lo^2 <= x <= hi^2`,
//! `lo^r <= x^p <= hi^r`).
//!
//! The runner is seeded (ChaCha), so a run is reproducible; `PROPTEST_CASES` sets the
//! number of cases per operation (default 128).

use deadrelu::scalar::{BigRational, DyadicInterval, Interval, Real, Scalar};
use num_bigint::{BigInt, BigUint, Sign as BigSign};
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// The two enclosure types, seen through their exact bounds.
trait Enclosure: Real {
    /// An enclosure of `[lo, hi]`.
    fn enclose(lo: &BigRational, hi: &BigRational) -> Self;
    /// The exact bounds.
    fn bounds(&self) -> (BigRational, BigRational);
}

impl Enclosure for Interval<BigRational> {
    fn enclose(lo: &BigRational, hi: &BigRational) -> Self {
        Interval::new(lo.clone(), hi.clone()).expect("lo <= hi")
    }
    fn bounds(&self) -> (BigRational, BigRational) {
        (self.lo().clone(), self.hi().clone())
    }
}

impl Enclosure for DyadicInterval {
    fn enclose(lo: &BigRational, hi: &BigRational) -> Self {
        DyadicInterval::enclosing(lo, hi).expect("lo <= hi")
    }
    fn bounds(&self) -> (BigRational, BigRational) {
        (self.lo(), self.hi())
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128)
}

/// A non-negative rational with numerator and denominator of up to 224 bits (and
/// sometimes small ones, and zero).
fn magnitude() -> BoxedStrategy<BigRational> {
    let digits = || prop::collection::vec(any::<u8>(), 1..=28);
    prop_oneof![
        1 => Just(BigRational::zero()),
        2 => (0u32..20, 1u32..20).prop_map(|(n, d)| BigRational::new(n.into(), d.into())),
        8 => (digits(), digits()).prop_map(|(n, d)| {
            let n = BigInt::from_biguint(BigSign::Plus, BigUint::from_bytes_le(&n));
            let d = BigInt::from_biguint(BigSign::Plus, BigUint::from_bytes_le(&d)) + 1u32;
            BigRational::new(n, d)
        }),
    ]
    .boxed()
}

/// Any rational of [`magnitude`]'s sizes.
fn rational() -> BoxedStrategy<BigRational> {
    (magnitude(), any::<bool>())
        .prop_map(|(q, negative)| if negative { -q } else { q })
        .boxed()
}

/// An interval `[lo, hi]` and a fraction `t` in `[0, 1]` that picks an interior point.
fn interval(values: BoxedStrategy<BigRational>) -> impl Strategy<Value = Operand> {
    (values.clone(), values, 0u32..=64).prop_map(|(a, b, t)| {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        Operand {
            lo,
            hi,
            t: BigRational::new(t.into(), 64.into()),
        }
    })
}

/// The bounds of an operand and the fraction that picks its interior sample.
#[derive(Debug, Clone)]
struct Operand {
    lo: BigRational,
    hi: BigRational,
    t: BigRational,
}

impl Operand {
    /// The endpoints and one interior point: the exact values the test draws.
    fn samples(&self) -> [BigRational; 3] {
        let inner = &self.lo + &self.t * (&self.hi - &self.lo);
        [self.lo.clone(), self.hi.clone(), inner]
    }
    fn enclosure<E: Enclosure>(&self) -> E {
        E::enclose(&self.lo, &self.hi)
    }
}

fn positive() -> BoxedStrategy<BigRational> {
    magnitude()
        .prop_map(|q| q + BigRational::new(1.into(), 1000.into()))
        .boxed()
}

/// An interval that does not contain zero (a divisor).
fn nonzero_interval() -> impl Strategy<Value = Operand> {
    (interval(positive()), any::<bool>()).prop_map(|(o, negative)| {
        if negative {
            Operand {
                lo: -o.hi,
                hi: -o.lo,
                t: o.t,
            }
        } else {
            o
        }
    })
}

fn inside(value: &BigRational, (lo, hi): &(BigRational, BigRational)) -> bool {
    lo <= value && value <= hi
}

/// Tally of a run: cases, and cases whose result is strictly wider than the hull of the
/// exact results at the samples (the enclosure rounded, or the operands did).
#[derive(Default)]
struct Tally {
    cases: u32,
    rounded: u32,
}

impl Tally {
    fn count(&mut self, result: &(BigRational, BigRational), exact: &[BigRational]) {
        self.cases += 1;
        let lo = exact.iter().min().expect("samples");
        let hi = exact.iter().max().expect("samples");
        if &result.0 < lo || &result.1 > hi {
            self.rounded += 1;
        }
    }
}

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// Checks a binary operation against its exact counterpart on the samples of both
/// operands; returns how many cases rounded.
fn binary<E: Enclosure>(
    name: &str,
    right: impl Strategy<Value = Operand>,
    op: impl Fn(&E, &E) -> E,
    exact: impl Fn(&BigRational, &BigRational) -> BigRational,
) -> Tally {
    let tally = std::cell::RefCell::new(Tally::default());
    runner()
        .run(&(interval(rational()), right), |(x, y)| {
            let result = op(&x.enclosure::<E>(), &y.enclosure::<E>()).bounds();
            let mut values = Vec::new();
            for a in x.samples() {
                for b in y.samples() {
                    let e = exact(&a, &b);
                    prop_assert!(
                        inside(&e, &result),
                        "{name}: {a} op {b} = {e} outside [{}, {}]",
                        result.0,
                        result.1
                    );
                    values.push(e);
                }
            }
            tally.borrow_mut().count(&result, &values);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{} {name}: {e}", E::NAME));
    tally.into_inner()
}

/// Checks a unary operation; `contains(result, x)` decides whether the exact image of
/// the sample `x` lies in the result. For the tally, `range` gives the exact range of
/// the operation on the operand when it is rational; otherwise a non-point result counts
/// as rounded.
fn unary<E: Enclosure>(
    name: &str,
    operand: impl Strategy<Value = Operand>,
    op: impl Fn(&E) -> E,
    contains: impl Fn(&(BigRational, BigRational), &BigRational) -> bool,
    range: impl Fn(&Operand) -> Option<(BigRational, BigRational)>,
) -> Tally {
    let tally = std::cell::RefCell::new(Tally::default());
    runner()
        .run(&operand, |x| {
            let result = op(&x.enclosure::<E>()).bounds();
            for a in x.samples() {
                if !contains(&result, &a) {
                    return Err(TestCaseError::fail(format!(
                        "{name}: image of {a} outside [{}, {}]",
                        result.0, result.1
                    )));
                }
            }
            let mut t = tally.borrow_mut();
            match range(&x) {
                Some((lo, hi)) => t.count(&result, &[lo, hi]),
                None => {
                    t.cases += 1;
                    t.rounded += u32::from(result.0 != result.1);
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{} {name}: {e}", E::NAME));
    tally.into_inner()
}

/// `sqrt(x)` lies in `[lo, hi]`: `lo <= 0` or `lo^2 <= x`, and `hi >= 0` and `x <= hi^2`.
fn sqrt_inside((lo, hi): &(BigRational, BigRational), x: &BigRational) -> bool {
    (!lo.is_positive() || lo * lo <= *x) && !hi.is_negative() && *x <= hi * hi
}

/// `x^(p/r)` lies in `[lo, hi]` (for `x > 0`): `lo^r <= x^p <= hi^r`, with `lo <= 0`
/// always below.
fn pow_inside(p: u64, r: u64) -> impl Fn(&(BigRational, BigRational), &BigRational) -> bool {
    move |(lo, hi), x| {
        let xp = num_traits::pow(x.clone(), p as usize);
        (!lo.is_positive() || num_traits::pow(lo.clone(), r as usize) <= xp)
            && hi.is_positive()
            && xp <= num_traits::pow(hi.clone(), r as usize)
    }
}

/// The exact range of `x^2` on an operand.
fn square_range(x: &Operand) -> Option<(BigRational, BigRational)> {
    let (a, b) = (&x.lo * &x.lo, &x.hi * &x.hi);
    let hi = a.clone().max(b.clone());
    let lo = if x.lo.is_negative() && x.hi.is_positive() {
        BigRational::zero()
    } else {
        a.min(b)
    };
    Some((lo, hi))
}

/// Every operation and its tally.
fn every_operation<E: Enclosure>() -> Vec<(&'static str, Tally)> {
    let mut tallies = vec![
        (
            "add",
            binary::<E>("add", interval(rational()), E::add_ref, |a, b| a + b),
        ),
        (
            "sub",
            binary::<E>("sub", interval(rational()), E::sub_ref, |a, b| a - b),
        ),
        (
            "mul",
            binary::<E>("mul", interval(rational()), E::mul_ref, |a, b| a * b),
        ),
        (
            "div",
            binary::<E>("div", nonzero_interval(), E::div_ref, |a, b| a / b),
        ),
    ];
    let exactly = |f: fn(&BigRational) -> BigRational| {
        move |(lo, hi): &(BigRational, BigRational), x: &BigRational| {
            let e = f(x);
            *lo <= e && e <= *hi
        }
    };
    tallies.push((
        "relu",
        unary::<E>(
            "relu",
            interval(rational()),
            E::relu,
            exactly(|x| {
                if x.is_positive() {
                    x.clone()
                } else {
                    BigRational::zero()
                }
            }),
            |_| None,
        ),
    ));
    tallies.push((
        "square",
        unary::<E>(
            "square",
            interval(rational()),
            E::square,
            exactly(|x| x * x),
            square_range,
        ),
    ));
    // sqrt over intervals of non-negative numbers, and over intervals that start below
    // zero (the result encloses sqrt over the non-negative part; only those samples are
    // checked).
    tallies.push((
        "sqrt",
        unary::<E>("sqrt", interval(magnitude()), E::sqrt, sqrt_inside, |_| {
            None
        }),
    ));
    tallies.push((
        "sqrt (lo < 0)",
        unary::<E>(
            "sqrt (lo < 0)",
            (positive(), interval(magnitude())).prop_map(|(below, o)| Operand { lo: -below, ..o }),
            E::sqrt,
            |result, x| x.is_negative() || sqrt_inside(result, x),
            |_| None,
        ),
    ));
    for (p, r) in [(1, 2), (3, 2), (2, 3), (5, 7), (3, 250)] {
        tallies.push((
            "pow_ratio",
            unary::<E>(
                "pow_ratio",
                interval(positive()),
                move |x: &E| x.pow_ratio(p, r),
                pow_inside(p, r),
                |_| None,
            ),
        ));
    }
    tallies
}

/// The property and the check that it ran through rounding: in most cases of every
/// operation the result is wider than the exact range (operands beyond the exact
/// precision of the type). `relu` does no arithmetic and never rounds, so it is left
/// out of that check.
fn check<E: Enclosure>() {
    for (name, tally) in every_operation::<E>() {
        assert_eq!(tally.cases, cases(), "{} {name}", E::NAME);
        if name == "relu" {
            continue;
        }
        assert!(
            2 * tally.rounded > tally.cases,
            "{} {name}: only {} of {} cases rounded; the operands are too small",
            E::NAME,
            tally.rounded,
            tally.cases
        );
    }
}

#[test]
fn interval_operations_contain_the_exact_results() {
    check::<Interval<BigRational>>();
}

#[test]
fn dyadic_interval_operations_contain_the_exact_results() {
    check::<DyadicInterval>();
}

/// A 200-bit operand is rounded by both types (so the property
/// above exercises the rounding paths), and the rounded result still contains the exact
/// one.
#[test]
fn rounding_is_forced() {
    let big = BigRational::new(
        (BigInt::one() << 200usize) + 1u32,
        (BigInt::one() << 199usize) + 3u32,
    );
    let third = BigRational::new(1.into(), 3.into());
    let exact = &big * &third;
    let i = Interval::new(big.clone(), &big + &third).unwrap();
    let product = i.mul_ref(&Interval::point(third.clone()));
    assert!(product.lo() < &exact && product.contains(&exact));
    let d = DyadicInterval::from_rational(&big).mul_ref(&DyadicInterval::from_rational(&third));
    assert!(d.lo() < exact && exact < d.hi());
}

/// The contract of [`Real::sqrt`]: an enclosure whose upper end is negative panics, for
/// both types; one that only starts below zero does not.
#[test]
fn sqrt_of_a_negative_enclosure_panics() {
    let minus = |n: i64| BigRational::from_integer((-n).into());
    let i = Interval::new(minus(4), minus(1)).unwrap();
    let d = DyadicInterval::enclosing(&minus(4), &minus(1)).unwrap();
    assert!(std::panic::catch_unwind(|| i.sqrt()).is_err());
    assert!(std::panic::catch_unwind(|| d.sqrt()).is_err());
    let straddling = DyadicInterval::enclosing(&minus(1), &BigRational::from_integer(4.into()));
    let r = straddling.unwrap().sqrt();
    assert_eq!(
        (r.lo(), r.hi()),
        (BigRational::zero(), BigRational::from_integer(2.into()))
    );
}

/// Operands whose magnitudes differ by far more than the mantissa (2^0 against
/// 2^-100000) are added and compared in bounded time, and the results still contain the
/// exact values; a point squared over and over is flushed outward instead of doubling
/// its exponent each time.
#[test]
fn dyadic_huge_exponent_gaps_stay_sound_and_cheap() {
    let start = std::time::Instant::now();
    let one = BigRational::one();
    let tiny = BigRational::new(BigInt::one(), BigInt::one() << 100_000usize);
    for (a, b) in [(&one, &tiny), (&tiny, &one)] {
        for sign in [1i32, -1] {
            let b = if sign < 0 { -b.clone() } else { b.clone() };
            let (x, y) = (
                DyadicInterval::from_rational(a),
                DyadicInterval::from_rational(&b),
            );
            let (lo, hi) = x.add_ref(&y).bounds();
            let exact = a + &b;
            assert!(lo <= exact && exact <= hi, "add {sign}");
            let (lo, hi) = x.sub_ref(&y).bounds();
            let exact = a - &b;
            assert!(lo <= exact && exact <= hi, "sub {sign}");
        }
    }
    let mut x = DyadicInterval::from_ratio(1, 3);
    for _ in 0..80 {
        x = x.mul_ref(&x);
    }
    let (lo, hi) = x.bounds();
    // (1/3)^(2^80) is positive and far below 2^-65536, the smallest magnitude kept
    let floor = BigRational::new(BigInt::one(), BigInt::one() << 65_536usize);
    assert!(lo.is_zero() && hi.is_positive() && hi <= floor, "{lo}");
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
}
