//! The fixed-point fallback of [`super::bounds`] for wide or deep networks: powers and
//! products with `FIXED_BITS` bits after the point, rounded the safe way.

use crate::net::Arch;
use crate::scalar::BigRational;
use num_bigint::BigInt;
use num_traits::{One, Zero};

/// First-layer widths up to which [`bounds`] works exactly.
pub(super) const EXACT_WIDTH: usize = 4096;
/// Up to this sum of `l_{k-1} * l_k` over the deeper hidden layers, [`bounds`] works exactly.
pub(super) const EXACT_LAYER_BITS: usize = 2048;
/// Bits after the point of the fixed-point fallback of [`bounds`].
pub(super) const FIXED_BITS: u64 = 1300;

/// `x * 2^FIXED_BITS` rounded up or down.
fn to_fixed(x: &BigRational, up: bool) -> BigInt {
    let scaled = x * BigRational::from_integer(BigInt::one() << FIXED_BITS);
    if up { scaled.ceil() } else { scaled.floor() }.to_integer()
}

/// `p^n` for `p` in `[0, 1]`, rounded up or down to `FIXED_BITS` bits at every product
/// (a bound on the exact power in the direction asked; the rounding is monotone).
pub(super) fn fixed_pow(p: &BigRational, n: usize, up: bool) -> BigRational {
    let round = |x: BigInt| {
        let mask = (BigInt::one() << FIXED_BITS) - 1u32;
        let carry = up && !(&x & &mask).is_zero();
        (x >> FIXED_BITS) + u32::from(carry)
    };
    let one = BigInt::one() << FIXED_BITS;
    let (mut base, mut acc, mut n) = (to_fixed(p, up), one.clone(), n);
    while n > 0 {
        if n & 1 == 1 {
            acc = round(&acc * &base);
        }
        n >>= 1;
        if n > 0 {
            base = round(&base * &base);
            if base.is_zero() {
                acc = BigInt::zero();
                break;
            }
        }
    }
    BigRational::new(acc, one)
}

/// An upper bound of `alive * prod_k (1 - (pb / 2^{l_{k-1}})^{l_k})` over the hidden
/// layers `k >= 2`, in fixed point: a layer whose term is below `2^-FIXED_BITS` is left
/// out (its factor is at most 1), the others are subtracted rounded down.
pub(super) fn alive_fixed(arch: &Arch, alive: &BigRational, pb: &BigRational) -> BigRational {
    let mut a = to_fixed(alive, true);
    if !pb.is_zero() {
        for k in 2..arch.depth() {
            let w = arch.width(k);
            let e = arch.width(k - 1).saturating_mul(w);
            if e as u64 > FIXED_BITS {
                continue;
            }
            let w = u32::try_from(w).unwrap_or(u32::MAX);
            let num = pb.numer().pow(w);
            let den = pb.denom().pow(w) << e;
            a -= (&a * num) / den;
        }
    }
    BigRational::new(a, BigInt::one() << FIXED_BITS)
}
