//! Arithmetic on the checker's `2^-PREC` grid, every result rounded the way asked.

use super::PREC;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;

pub(super) fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

pub(super) fn round(x: &BigRational, up: bool) -> BigRational {
    let g = BigInt::one() << PREC;
    let s = x * BigRational::from_integer(g.clone());
    BigRational::new(if up { s.ceil() } else { s.floor() }.to_integer(), g)
}

pub(super) fn pow_bound(base: &BigRational, mut e: u64, up: bool) -> BigRational {
    let mut out = BigRational::one();
    let mut sq = round(base, up);
    while e > 0 {
        if e & 1 == 1 {
            out = round(&(&out * &sq), up);
        }
        e >>= 1;
        if e > 0 {
            sq = round(&(&sq * &sq), up);
        }
    }
    out
}

/// `sqrt(x)` rounded down (`up = false`) or up to the grid, `x >= 0`.
pub(super) fn sqrt_bound(x: &BigRational, up: bool) -> BigRational {
    // sqrt(n/d) = sqrt(n d) / d; floor(sqrt(n d 4^P)) / (d 2^P) <= sqrt(x) < (that + 1) / (d 2^P)
    let (n, d) = (x.numer(), x.denom());
    let s = ((n * d) << (2 * PREC)).sqrt();
    let den = d << PREC;
    let exact = &s * &s == (n * d) << (2 * PREC);
    if up && !exact {
        BigRational::new(s + 1, den)
    } else {
        BigRational::new(s, den)
    }
}
