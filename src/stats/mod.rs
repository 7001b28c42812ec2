//! Statistics in `f64`: Monte Carlo of born-dead networks ([`montecarlo`]), exact
//! first-layer probabilities and lower bounds ([`bound`]), Wilson intervals, plots.

pub mod bound;
pub mod bound_normal;
pub mod draw_plan;
pub mod lanes;
pub mod montecarlo;
pub mod onbox;
mod simd;
pub mod trial_lanes;

/// The 0.975 quantile of the standard normal (two-sided 95%).
pub const Z95: f64 = 1.959963984540054;

/// The Wilson score interval at 95% for `k` successes in `n` trials.
///
/// ```text
/// p = k/n,  d = 1 + z^2/n,  c = (p + z^2/(2n)) / d,  h = z sqrt(p(1-p)/n + z^2/(4n^2)) / d
/// ```
/// `[0, 1]` when `n = 0`.
pub fn wilson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let d = 1.0 + z2 / n;
    let c = (p + z2 / (2.0 * n)) / d;
    let h = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / d;
    // at k = 0 (k = n) the lower (upper) end is exactly 0 (1); rounding would leave a
    // residue of the order of 1e-18 there
    let lo = if k == 0.0 { 0.0 } else { (c - h).max(0.0) };
    let hi = if k == n { 1.0 } else { (c + h).min(1.0) };
    [lo, hi]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference_values() {
        // the peer's wilson(13, 48) in shared/peers/dead_layer_mc.py
        let [lo, hi] = wilson(13, 48);
        assert!(
            (lo - 0.1656595762745644).abs() < 1e-12 && (hi - 0.40996964982240613).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 0), [0.0, 1.0]);
        let [lo, hi] = wilson(0, 100);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.03 && hi < 0.04);
    }
}
