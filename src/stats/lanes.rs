//! The ChaCha8 keystreams of eight streams at once, word for word those of
//! `rand_chacha::ChaCha8Rng` (0.3.1) after `set_stream`.
//!
//! The Monte Carlo draws theta for trials `i..i+8` from streams `i..i+8` of one seed.
//! `rand_chacha` computes four blocks of one stream per call (SIMD across the rows of a
//! block); here each of the sixteen state words is a vector of eight lanes, one per
//! stream, so a double round is 32 lane-wise add/xor/rotate steps on eight blocks at
//! once. Nothing else changes: the key is the generator's seed (`get_seed`), word 12-13
//! the 64-bit block counter from 0, words 14-15 the stream, eight rounds, and the input
//! state added at the end (RFC 7539's layout with a 64-bit counter and nonce, as
//! `rand_chacha` uses it). A test compares every word with `rand_chacha`.

use super::simd::simd_dispatch;

/// Streams computed together.
pub const LANES: usize = 8;

/// One state word in every lane.
pub type V = [u32; LANES];

/// The `i`-th `u64` of every lane.
pub type Words = [u64; LANES];

#[inline(always)]
fn add(a: &mut V, b: &V) {
    for l in 0..LANES {
        a[l] = a[l].wrapping_add(b[l]);
    }
}

#[inline(always)]
fn xor_rot(d: &mut V, a: &V, r: u32) {
    for l in 0..LANES {
        d[l] = (d[l] ^ a[l]).rotate_left(r);
    }
}

#[inline(always)]
fn quarter(x: &mut [V; 16], a: usize, b: usize, c: usize, d: usize) {
    let (mut va, mut vb, mut vc, mut vd) = (x[a], x[b], x[c], x[d]);
    add(&mut va, &vb);
    xor_rot(&mut vd, &va, 16);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 12);
    add(&mut va, &vb);
    xor_rot(&mut vd, &va, 8);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 7);
    (x[a], x[b], x[c], x[d]) = (va, vb, vc, vd);
}

/// Writes `u64` `i` of stream `streams[l]` under `key` (words `2i` and `2i+1`) to
/// `out[i][l]`, for all `i < out.len()` (a multiple of 8, one block per 8).
#[inline(always)]
fn blocks_generic(key: &[u32; 8], streams: &[u64; LANES], out: &mut [Words]) {
    const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
    let mut init = [[0u32; LANES]; 16];
    for (w, s) in SIGMA.iter().enumerate() {
        init[w] = [*s; LANES];
    }
    for (w, k) in key.iter().enumerate() {
        init[4 + w] = [*k; LANES];
    }
    for l in 0..LANES {
        init[14][l] = streams[l] as u32;
        init[15][l] = (streams[l] >> 32) as u32;
    }
    for (b, block) in out.chunks_exact_mut(8).enumerate() {
        init[12] = [b as u32; LANES];
        init[13] = [((b as u64) >> 32) as u32; LANES];
        let mut x = init;
        for _ in 0..4 {
            quarter(&mut x, 0, 4, 8, 12);
            quarter(&mut x, 1, 5, 9, 13);
            quarter(&mut x, 2, 6, 10, 14);
            quarter(&mut x, 3, 7, 11, 15);
            quarter(&mut x, 0, 5, 10, 15);
            quarter(&mut x, 1, 6, 11, 12);
            quarter(&mut x, 2, 7, 8, 13);
            quarter(&mut x, 3, 4, 9, 14);
        }
        for (w, word) in x.iter_mut().enumerate() {
            add(word, &init[w]);
        }
        for (i, pair) in block.iter_mut().enumerate() {
            for l in 0..LANES {
                pair[l] = u64::from(x[2 * i][l]) | (u64::from(x[2 * i + 1][l]) << 32);
            }
        }
    }
}

simd_dispatch! {
    /// [`blocks_generic`] compiled for the vector units the processor has (AVX-512VL
    /// preferred: 32 vector registers hold the state without spilling, and rotates are one
    /// instruction; else AVX2).
    fn blocks(key: &[u32; 8], streams: &[u64; LANES], out: &mut [Words]) = blocks_generic;
    blocks_avx512: ["avx512f", "avx512vl"],
    blocks_avx2: ["avx2"],
}

/// The first `out.len()` `u64`s (a multiple of 8) of the keystreams of eight streams of
/// one key, as `rand_chacha`'s `next_u64` yields them (word `2i` low, `2i+1` high):
/// `u64` `i` of stream `streams[l]` is `out[i][l]`. Vectorized where the processor has it
/// (`blocks`).
pub fn keystreams(key: &[u32; 8], streams: &[u64; LANES], out: &mut [Words]) {
    assert!(out.len().is_multiple_of(8), "whole blocks of 8 u64s");
    blocks(key, streams, out);
}

/// One lane's keystream from [`keystreams`] as a generator: `next_u64` yields
/// `words[0][lane]`, `words[1][lane]`, ..., exactly what `rand_chacha`'s `next_u64` yields
/// for that stream. Anything else (a `next_u32`, bytes, or more words than computed) would
/// not match the stream, so it marks the generator [`LaneRng::spoiled`]: a caller must
/// then discard what it drew and use the stream itself. From then on it yields splitmix64
/// words, not the stream's but varied, so that a rejection sampler still ends (constant
/// words could make it loop forever).
pub struct LaneRng<'a> {
    words: &'a [Words],
    lane: usize,
    next: usize,
    spoiled: bool,
}

impl<'a> LaneRng<'a> {
    /// The generator of lane `lane` of `words`.
    pub fn new(words: &'a [Words], lane: usize) -> Self {
        assert!(lane < LANES, "a lane");
        Self {
            words,
            lane,
            next: 0,
            spoiled: false,
        }
    }

    /// How many words it has yielded (of the stream while not spoiled).
    pub fn used(&self) -> usize {
        self.next
    }

    /// Whether something other than the stream's next `u64`s was asked for.
    pub fn spoiled(&self) -> bool {
        self.spoiled
    }
}

impl LaneRng<'_> {
    /// A word once spoiled (splitmix64 of a counter).
    #[cold]
    fn filler(&mut self) -> u64 {
        self.spoiled = true;
        self.next += 1;
        let mut z = (self.next as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl rand::RngCore for LaneRng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.filler() as u32
    }
    #[inline]
    fn next_u64(&mut self) -> u64 {
        // (after a `next_u32` the stream's words may follow again: the draw is discarded
        // anyway)
        match self.words.get(self.next) {
            Some(w) => {
                self.next += 1;
                w[self.lane]
            }
            None => self.filler(),
        }
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let w = self.filler().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The key words of a `rand_chacha` generator (its seed, little endian).
pub fn key_of(rng: &rand_chacha::ChaCha8Rng) -> [u32; 8] {
    let seed = rng.get_seed();
    std::array::from_fn(|i| u32::from_le_bytes(seed[4 * i..4 * i + 4].try_into().expect("4 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::init::trial_rng;
    use rand::RngCore;

    /// A lane generator yields its stream's `u64`s, and is spoiled by anything else.
    #[test]
    fn lane_rng_follows_its_stream() {
        let key = key_of(&trial_rng(3, 0));
        let mut out = vec![[0u64; LANES]; 16];
        keystreams(&key, &std::array::from_fn(|l| 40 + l as u64), &mut out);
        let mut lane = LaneRng::new(&out, 5);
        let mut rng = trial_rng(3, 45);
        for _ in 0..16 {
            assert_eq!(lane.next_u64(), rng.next_u64());
        }
        assert!(!lane.spoiled());
        lane.next_u64();
        assert!(lane.spoiled());
        let mut other = LaneRng::new(&out, 0);
        other.next_u32();
        assert!(other.spoiled());
    }

    #[test]
    fn same_words_as_rand_chacha() {
        for seed in [0u64, 1, 12345, u64::MAX] {
            let key = key_of(&trial_rng(seed, 0));
            for first in [0u64, 8, 1 << 33, u64::MAX - 7] {
                let streams: [u64; LANES] = std::array::from_fn(|l| first.wrapping_add(l as u64));
                let mut out = vec![[0u64; LANES]; 8 * 9];
                keystreams(&key, &streams, &mut out);
                for l in 0..LANES {
                    let mut rng = trial_rng(seed, streams[l]);
                    let expected: Vec<u64> = (0..8 * 9).map(|_| rng.next_u64()).collect();
                    let got: Vec<u64> = out.iter().map(|w| w[l]).collect();
                    assert_eq!(got, expected, "seed {seed} stream {}", streams[l]);
                }
            }
        }
    }
}
