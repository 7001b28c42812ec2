//! The interval pass of a `dead-forever` certificate (claim 2) and its input-box form
//! (claim 4): a `domain` of `lo`, `hi` and a `split` tree covering `[lo, hi]^d`.
//!
//! The pass: pre-activation bounds of layers `1..layer` for inputs in given intervals and
//! parameters in `box`, each product `w a` between the least and the greatest of its four
//! corner products (exact rationals), activations clamped at 0; every upper bound of layer
//! `layer` must be `<= 0`. The tree: `null` is a leaf, decided by the pass on its sub-box;
//! `{"dim": i, "at": q, "below": T, "above": T}` needs `lo_i < q < hi_i` of the current
//! sub-box and covers it by `below` (side `i` in `[lo_i, q]`) and `above` (in `[q, hi_i]`),
//! so the leaves cover the whole box.

use crate::limits::{Meter, bits};
use crate::read::{count, field, number};
use crate::{CheckError, Claim, ensure, unreadable};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;

/// The parameter layout and box the pass reads.
pub(super) struct Pass<'a> {
    pub widths: &'a [usize],
    pub offsets: &'a [usize],
    pub lo: &'a [BigRational],
    pub hi: &'a [BigRational],
    pub layer: usize,
}

type Iv = (BigRational, BigRational);

impl Pass<'_> {
    /// Layer `layer` is `<= 0` for inputs in `input` (module docs); `at` names the input
    /// in the error.
    pub fn dead_over(
        &self,
        input: Vec<Iv>,
        meter: &mut Meter,
        at: &dyn Fn() -> String,
    ) -> Result<(), CheckError> {
        let (lo, hi, layer) = (self.lo, self.hi, self.layer);
        let mut act = input;
        for l in 1..=layer {
            let base = self.offsets[l];
            let (fan_in, width) = (self.widths[l - 1], self.widths[l]);
            let mut z: Vec<Iv> = Vec::with_capacity(width);
            for j in 0..width {
                let bi = base + width * fan_in + j;
                let (mut zl, mut zh) = (lo[bi].clone(), hi[bi].clone());
                for (i, (al, ah)) in act.iter().enumerate() {
                    let wi = base + j * fan_in + i;
                    let cost = (bits(&lo[wi]) + bits(&hi[wi]), bits(al) + bits(ah));
                    for _ in 0..4 {
                        meter.op(cost.0, cost.1)?;
                    }
                    let c = [&lo[wi] * al, &lo[wi] * ah, &hi[wi] * al, &hi[wi] * ah];
                    zl += c.iter().min().expect("four");
                    zh += c.iter().max().expect("four");
                }
                z.push((zl, zh));
            }
            if l == layer {
                for (j, (_, zh)) in z.iter().enumerate() {
                    ensure(Claim::DeadOverBox, !zh.is_positive(), || {
                        format!(
                            "{}, neuron {j} of layer {layer}: the pre-activation is not proven <= 0 over the box (upper bound {zh})",
                            at()
                        )
                    })?;
                }
            }
            act = z
                .into_iter()
                .map(|(a, b)| (a.max(BigRational::zero()), b.max(BigRational::zero())))
                .collect();
        }
        Ok(())
    }

    /// Claim 4: the `domain` of the certificate (module docs) covers every data point and
    /// its split tree proves the layer dead on every leaf. Returns the leaves.
    pub fn domain(
        &self,
        domain: &Value,
        xs: &[Vec<BigRational>],
        meter: &mut Meter,
    ) -> Result<usize, CheckError> {
        let a = number(field(domain, "lo")?, "domain.lo")?;
        let b = number(field(domain, "hi")?, "domain.hi")?;
        ensure(Claim::DomainBox, a <= b, || {
            format!("domain: lo {a} > hi {b}")
        })?;
        for (m, x) in xs.iter().enumerate() {
            ensure(
                Claim::DomainCoversData,
                x.iter().all(|v| &a <= v && v <= &b),
                || format!("data point {m} lies outside the box [{a}, {b}]"),
            )?;
        }
        let region: Vec<Iv> = vec![(a, b); self.widths[0]];
        let mut leaves = 0;
        // explicit stack: (sub-box, tree)
        let mut stack = vec![(region, field(domain, "split")?)];
        while let Some((region, tree)) = stack.pop() {
            if tree.is_null() {
                leaves += 1;
                let shown = || {
                    format!(
                        "input sub-box {}",
                        region
                            .iter()
                            .map(|(l, h)| format!("[{l}, {h}]"))
                            .collect::<Vec<_>>()
                            .join(" x ")
                    )
                };
                self.dead_over(region.clone(), meter, &shown)?;
                continue;
            }
            let dim = count(field(tree, "dim")?, "domain.split.dim")?;
            let at = number(field(tree, "at")?, "domain.split.at")?;
            ensure(
                Claim::DomainProof,
                dim < region.len() && region[dim].0 < at && at < region[dim].1,
                || format!("a split of side {dim} at {at} is not inside its sub-box"),
            )?;
            let (below, above) = (field(tree, "below")?, field(tree, "above")?);
            if !(below.is_null() || below.is_object()) || !(above.is_null() || above.is_object()) {
                return Err(unreadable("domain.split: expected null or a split object"));
            }
            let mut low = region.clone();
            low[dim].1 = at.clone();
            let mut high = region;
            high[dim].0 = at;
            stack.push((high, above));
            stack.push((low, below));
        }
        Ok(leaves)
    }
}
