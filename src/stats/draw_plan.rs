//! Drawing theta in bulk for the Monte Carlo: a [`DrawPlan`] lists the runs of uniform
//! and constant entries of an [`InitSampler`]'s draw, so that the generator words of one
//! trial ([`DrawPlan::sample`]) or of eight trials at once ([`DrawPlan::fill_lanes`],
//! fed by [`super::lanes`]) become exactly the entries the sampler draws, bit for bit.

use crate::net::init::{EntryDist, InitSampler};
use rand::distributions::{Distribution, Uniform};
use rand_chacha::ChaCha8Rng;

/// A run of theta entries in a [`DrawPlan`]. A uniform run keeps rand's distribution and,
/// when they reproduce it bit for bit (checked when the plan is made), its `scale` and
/// `low`, so that eight trials can be converted at once.
#[derive(Debug, Clone, Copy)]
enum PlanEntry {
    Uniform(Uniform<f64>, Option<(f64, f64)>),
    Const(f64),
}

/// rand 0.8.5's `UniformFloat<f64>::sample` from the generator's `u64` `w`, given the
/// distribution's `scale` and `low`: a value in `[1, 2)` from the top 52 bits, minus 1,
/// times `scale`, plus `low`.
#[inline(always)]
fn uniform_from_word(w: u64, scale: f64, low: f64) -> f64 {
    let one_two = f64::from_bits((w >> 12) | 0x3FF0_0000_0000_0000);
    (one_two - 1.0) * scale + low
}

/// The `scale` and `low` of `Uniform::<f64>::new(low, high)` as rand 0.8.5 computes them
/// (`high - low`, lowered until the largest sample stays below `high`), if they reproduce
/// `dist` on a set of probe words (otherwise the plan samples through `dist`).
fn uniform_parts(dist: &Uniform<f64>, low: f64, high: f64) -> Option<(f64, f64)> {
    let max_rand = f64::from_bits((u64::MAX >> 12) | 0x3FF0_0000_0000_0000) - 1.0;
    let mut scale = high - low;
    while scale.is_finite() && scale > 0.0 && scale * max_rand + low >= high {
        scale = f64::from_bits(scale.to_bits() - 1);
    }
    let probes = [
        0,
        1 << 12,
        1 << 63,
        u64::MAX,
        0x9E37_79B9_7F4A_7C15,
        0x0123_4567_89AB_CDEF,
    ];
    probes
        .iter()
        .all(|&w| {
            uniform_from_word(w, scale, low).to_bits() == dist.sample(&mut OneWord(w)).to_bits()
        })
        .then_some((scale, low))
}

/// Runs of theta entries `(count, distribution)` in layout order; see [`DrawPlan::new`].
#[derive(Debug, Clone)]
pub struct DrawPlan {
    runs: Vec<(usize, PlanEntry)>,
    draws: usize,
}

impl DrawPlan {
    /// A plan for drawing the first `n` entries of theta of `sampler` in bulk, when every
    /// one of them is uniform or constant (and the scheme is not `rai`); `None` otherwise.
    /// See [`DrawPlan::sample`].
    pub fn new(sampler: &InitSampler, n: usize) -> Option<DrawPlan> {
        if sampler.is_rai() {
            return None;
        }
        // every layer is visited (entries past n as empty runs), so a normal
        // distribution anywhere gives None below
        let mut runs = Vec::new();
        let arch = sampler.arch();
        let mut left = n.min(arch.num_params());
        for k in 0..arch.depth() {
            let (w, b) = sampler.layer(k + 1);
            let (rows, cols) = (arch.width(k + 1), arch.width(k));
            let weights = (rows * cols).min(left);
            let biases = rows.min(left - weights);
            left -= weights + biases;
            for (count, dist) in [(weights, *w), (biases, *b)] {
                let entry = match dist {
                    EntryDist::Uniform(u, c) => PlanEntry::Uniform(u, uniform_parts(&u, -c, c)),
                    EntryDist::Const(v) => PlanEntry::Const(v),
                    EntryDist::Normal(_) => return None,
                };
                if count > 0 {
                    runs.push((count, entry));
                }
            }
        }
        let draws = runs
            .iter()
            .filter(|(_, d)| matches!(d, PlanEntry::Uniform(..)))
            .map(|(count, _)| count)
            .sum();
        Some(DrawPlan { runs, draws })
    }

    /// Fills the first entries of `theta` (as many as the plan covers) with exactly the
    /// entries [`InitSampler::sample_into`] draws, bit for bit, leaving the rest as they
    /// are. It reads all the generator words it needs with one `fill_bytes` and converts
    /// them with the same `Uniform` distributions: the generator yields its `u64`s as
    /// consecutive pairs of little-endian `u32` words either way, so the draws are
    /// identical (tested for every prefix and scheme). `scratch` is reused between calls.
    pub fn sample(&self, rng: &mut ChaCha8Rng, theta: &mut [f64], scratch: &mut Vec<u8>) {
        scratch.clear();
        scratch.resize(8 * self.draws, 0);
        rand::RngCore::fill_bytes(rng, scratch);
        let words = scratch
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8 bytes")));
        self.fill(words, theta);
    }

    /// How many generator `u64`s one draw consumes.
    pub fn draws(&self) -> usize {
        self.draws
    }

    /// Fills the first entries of `theta` from the generator's `u64`s in order (one per
    /// uniform entry), exactly as sampling from the generator does.
    pub fn fill(&self, mut words: impl Iterator<Item = u64>, theta: &mut [f64]) {
        let mut idx = 0;
        for (count, entry) in &self.runs {
            let slots = &mut theta[idx..idx + count];
            match entry {
                PlanEntry::Uniform(u, _) => {
                    for (slot, word) in slots.iter_mut().zip(&mut words) {
                        *slot = u.sample(&mut OneWord(word));
                    }
                }
                PlanEntry::Const(v) => slots.fill(*v),
            }
            idx += count;
        }
    }

    /// [`DrawPlan::fill`] for eight trials at once: `words[i][l]` is the `i`-th `u64` of
    /// trial `l`'s generator, and `thetas[e][l]` receives entry `e` of its theta (bit for
    /// bit the same values; tested).
    #[inline(always)]
    pub fn fill_lanes(&self, words: &[[u64; 8]], thetas: &mut [[f64; 8]]) {
        let mut idx = 0;
        let mut next = 0;
        for (count, entry) in &self.runs {
            let slots = &mut thetas[idx..idx + count];
            match entry {
                PlanEntry::Uniform(_, Some((scale, low))) => {
                    for (slot, w) in slots.iter_mut().zip(&words[next..next + count]) {
                        for l in 0..8 {
                            slot[l] = uniform_from_word(w[l], *scale, *low);
                        }
                    }
                    next += count;
                }
                PlanEntry::Uniform(u, None) => {
                    for (slot, w) in slots.iter_mut().zip(&words[next..next + count]) {
                        for l in 0..8 {
                            slot[l] = u.sample(&mut OneWord(w[l]));
                        }
                    }
                    next += count;
                }
                PlanEntry::Const(v) => slots.fill([*v; 8]),
            }
            idx += count;
        }
    }

    /// The largest magnitude any entry the plan covers can take (`c` for `U(-c, c)`).
    pub fn max_abs(&self) -> f64 {
        self.runs
            .iter()
            .map(|(_, entry)| match entry {
                PlanEntry::Uniform(u, _) => {
                    // the support of `U(-c, c)` as rand draws it is within [-c, c)
                    let probe = |w| f64::abs(u.sample(&mut OneWord(w)));
                    probe(0).max(probe(u64::MAX))
                }
                PlanEntry::Const(v) => f64::abs(*v),
            })
            .fold(0.0, f64::max)
    }

    /// Entries of theta the plan covers.
    pub fn len(&self) -> usize {
        self.runs.iter().map(|(count, _)| count).sum()
    }

    /// Whether the plan covers no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A generator that yields one given `u64`: `Uniform<f64>` (rand 0.8.5) consumes exactly
/// one `next_u64` per sample, so sampling from `OneWord(w)` is sampling with the word `w`.
struct OneWord(u64);

impl rand::RngCore for OneWord {
    fn next_u32(&mut self) -> u32 {
        self.0 as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for (d, s) in dest.iter_mut().zip(self.0.to_le_bytes().iter().cycle()) {
            *d = *s;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Arch;
    use crate::net::init::trial_rng;

    /// The bulk path draws bit for bit what entry-by-entry sampling draws, for every
    /// prefix, across many generator refills, and falls back for normal and rai schemes.
    #[test]
    fn prefix_sampling_is_the_same_draw() {
        let arch = Arch::new(vec![3, 40, 7, 5, 2]).unwrap();
        let d = arch.num_params();
        let cases: Vec<(&str, &str)> = vec![
            ("torch-default", "default"),
            ("uniform:2.5", "default"),
            ("he-uniform", "default"),
            ("glorot-uniform", "uniform:0.1"),
            ("glorot-uniform", "const:0.25"),
            ("he-normal", "default"),
            ("normal:1", "default"),
            ("rai", "default"),
        ];
        let mut scratch = Vec::new();
        for (scheme, bias) in cases {
            let s = InitSampler::new(&arch, &scheme.parse().unwrap(), &bias.parse().unwrap());
            let bulk = !matches!(scheme, "he-normal" | "normal:1" | "rai");
            for n in [0, 1, 119, 120, 160, 161, 200, d - 1, d] {
                let Some(plan) = DrawPlan::new(&s, n) else {
                    assert!(!bulk, "{scheme} has a bulk plan");
                    continue;
                };
                assert!(bulk, "{scheme} {bias} has no bulk plan");
                for trial in [0, 1, 17] {
                    let full = s.sample(&mut trial_rng(5, trial));
                    let mut theta = vec![f64::NAN; d];
                    plan.sample(&mut trial_rng(5, trial), &mut theta, &mut scratch);
                    assert_eq!(
                        &theta[..n],
                        &full[..n],
                        "{scheme} {bias} trial {trial} n {n}"
                    );
                    assert!(theta[n..].iter().all(|v| v.is_nan()), "nothing past n");
                }
                // eight trials at once: the same values, and the fast conversion is used
                assert!(
                    plan.runs
                        .iter()
                        .all(|(_, e)| !matches!(e, PlanEntry::Uniform(_, None)))
                );
                let mut rngs: Vec<_> = (0..8).map(|l| trial_rng(5, 40 + l)).collect();
                let words: Vec<[u64; 8]> = (0..plan.draws())
                    .map(|_| std::array::from_fn(|l| rand::RngCore::next_u64(&mut rngs[l])))
                    .collect();
                let mut thetas = vec![[f64::NAN; 8]; plan.len()];
                plan.fill_lanes(&words, &mut thetas);
                assert_eq!(plan.len(), n);
                for l in 0..8 {
                    let full = s.sample(&mut trial_rng(5, 40 + l as u64));
                    let got: Vec<f64> = thetas.iter().map(|t| t[l]).collect();
                    assert_eq!(&got[..], &full[..n], "{scheme} {bias} lane {l} n {n}");
                }
            }
        }
    }
}
