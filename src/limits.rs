//! Resource limits: every size cap of the crate, named, and the checks that enforce them
//! before anything is allocated.
//!
//! Inputs come from flags, CSV files, weights and certificates written by anyone. A number
//! with a million digits, an architecture whose parameter count wraps `usize`, or a grid
//! of `64^5` points must end in a clear error (exit 2), never in a hang, an allocation
//! abort or a panic. Sizes are computed with checked arithmetic and compared with these
//! caps and with the memory the machine has available *before* allocating.

/// At most this many decimal digits in one exact number (the digits of a decimal, or of
/// the numerator plus the denominator of a ratio). Shortest round-trip `f64` text has at
/// most 17 significant digits and the exact decimal expansion of any `f64` has at most
/// 767. The cap keeps the reduction of a ratio (a gcd) in milliseconds: the fuzz harness
/// found a 20 000-digit ratio taking over two seconds.
pub const MAX_EXACT_DIGITS: usize = 4_000;

/// At most this decimal exponent, in absolute value, after the fraction digits are
/// accounted for (`1.5e-3` has exponent `-4` on the digits `15`). `f64` needs at most
/// about 1100 (the smallest subnormal written out exactly); `10^4000` already has 13 288
/// bits, so arithmetic on such numbers stays fast.
pub const MAX_DECIMAL_EXPONENT: u64 = 4_000;

/// At most this many parameters in a network (`D = sum_k l_k (l_{k-1} + 1)`): 2^30, or
/// 8 GiB as `f64`. Larger architectures are refused before anything is allocated.
pub const MAX_PARAMS: usize = 1 << 30;

/// At most this many layers (`L`).
pub const MAX_DEPTH: usize = 100_000;

/// Echoed input longer than this many bytes is shortened in messages ([`shown`]).
pub const MAX_ECHO_BYTES: usize = 80;

/// Characters of a shortened echo that are kept.
const ECHO_KEPT_CHARS: usize = 60;

/// `text` as an error message quotes it: in double quotes with escapes (`{:?}`), or, when
/// longer than [`MAX_ECHO_BYTES`], its first 60 characters, `…` and its length, so that
/// a 63 KB flag value or file field does not come back in full:
/// `"1111…" (63000 bytes)`.
pub fn shown(text: &str) -> String {
    if text.len() <= MAX_ECHO_BYTES {
        return format!("{text:?}");
    }
    let cut = text
        .char_indices()
        .nth(ECHO_KEPT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    format!("{:?}… ({} bytes)", &text[..cut], text.len())
}

/// `text` unquoted, shortened like [`shown`] when longer than [`MAX_ECHO_BYTES`] (for
/// numbers a message prints bare: `--lr 1/10: must be > 0`).
pub fn shown_bare(text: &str) -> String {
    shorten_over(text, MAX_ECHO_BYTES)
}

fn shorten_over(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let cut = text
        .char_indices()
        .nth(ECHO_KEPT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

/// Shortens, in a one-line message, every word (a run without spaces) longer than 256
/// bytes as [`shown_bare`] does: the last line of defence, applied to every message the
/// command line prints, for echoes no call site shortened.
pub fn shorten_words(message: &str) -> String {
    const LONG_WORD: usize = 256;
    if message.len() <= LONG_WORD {
        return message.to_string();
    }
    message
        .split(' ')
        .map(|w| shorten_over(w, LONG_WORD))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fraction of the available memory one allocation may take.
const MEMORY_FRACTION: f64 = 0.8;

/// Errors of the limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A size that does not fit `usize` (or `u64`) when computed.
    #[error("{what} overflows: the size is larger than any machine can hold")]
    Overflow {
        /// What was being sized.
        what: String,
    },
    /// A size over a named cap.
    #[error("{what} is {got}, over the limit of {limit}")]
    OverCap {
        /// What was being sized.
        what: String,
        /// The size asked for.
        got: u128,
        /// The cap.
        limit: u128,
    },
    /// An allocation larger than the memory available.
    #[error("{what} needs {needed_mib} MiB but only {available_mib} MiB of memory are available")]
    Memory {
        /// What was being allocated.
        what: String,
        /// Bytes needed, in MiB.
        needed_mib: u64,
        /// Bytes available, in MiB.
        available_mib: u64,
    },
}

/// `count * bytes_each` checked for overflow and against the memory available now
/// (`MemAvailable` of `/proc/meminfo`; where that cannot be read, against 2^40 bytes).
///
/// # Errors
/// [`LimitError::Overflow`] when the product overflows, [`LimitError::Memory`] when it
/// exceeds 80 % of the available memory.
pub fn check_allocation(what: &str, count: usize, bytes_each: usize) -> Result<(), LimitError> {
    let bytes = count
        .checked_mul(bytes_each)
        .ok_or_else(|| LimitError::Overflow {
            what: what.to_string(),
        })? as u64;
    let available = available_memory().unwrap_or(1 << 40);
    if (bytes as f64) > MEMORY_FRACTION * available as f64 {
        return Err(LimitError::Memory {
            what: what.to_string(),
            needed_mib: bytes.div_ceil(1 << 20),
            available_mib: available >> 20,
        });
    }
    Ok(())
}

/// `value <= limit`, or [`LimitError::OverCap`] naming `what`.
///
/// # Errors
/// [`LimitError::OverCap`] when `value > limit`.
pub fn check_cap(what: &str, value: u128, limit: u128) -> Result<(), LimitError> {
    if value > limit {
        return Err(LimitError::OverCap {
            what: what.to_string(),
            got: value,
            limit,
        });
    }
    Ok(())
}

/// The product of `factors`, checked for overflow.
///
/// # Errors
/// [`LimitError::Overflow`] naming `what`.
pub fn checked_product(
    what: &str,
    factors: impl IntoIterator<Item = usize>,
) -> Result<usize, LimitError> {
    factors
        .into_iter()
        .try_fold(1usize, |acc, f| acc.checked_mul(f))
        .ok_or_else(|| LimitError::Overflow {
            what: what.to_string(),
        })
}

/// Bytes of memory available now, from `/proc/meminfo` (Linux); `None` elsewhere.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_echoes_are_shortened() {
        assert_eq!(shown("box:0,1"), "\"box:0,1\"");
        let long = format!("box:{}", "9".repeat(63_000));
        let s = shown(&long);
        assert_eq!(s, format!("\"box:{}\"… (63004 bytes)", "9".repeat(56)));
        // multi-byte characters are never cut inside
        let wide = "é".repeat(100);
        assert_eq!(shown(&wide), format!("{:?}… (200 bytes)", "é".repeat(60)));
        let msg = format!("--domain: bad {} here", "7".repeat(300));
        assert_eq!(
            shorten_words(&msg),
            format!("--domain: bad {}… (300 bytes) here", "7".repeat(60))
        );
        assert_eq!(shorten_words("short message"), "short message");
        assert_eq!(shown_bare("-1/10"), "-1/10");
        assert_eq!(
            shown_bare(&"1".repeat(81)),
            format!("{}… (81 bytes)", "1".repeat(60))
        );
    }

    #[test]
    fn allocation_checks() {
        assert!(check_allocation("small", 1000, 8).is_ok());
        assert!(matches!(
            check_allocation("wrap", usize::MAX, 2),
            Err(LimitError::Overflow { .. })
        ));
        // 2^60 bytes exceeds the memory of any machine this runs on.
        assert!(matches!(
            check_allocation("huge", 1 << 57, 8),
            Err(LimitError::Memory { .. })
        ));
    }

    #[test]
    fn caps_and_products() {
        assert!(check_cap("x", 5, 5).is_ok());
        assert!(matches!(
            check_cap("x", 6, 5),
            Err(LimitError::OverCap {
                got: 6,
                limit: 5,
                ..
            })
        ));
        assert_eq!(checked_product("p", [2, 3, 7]), Ok(42));
        assert!(checked_product("p", [usize::MAX, 2]).is_err());
    }
}
