//! The exact risk of a sparse network (the witness has a handful of non-zero weights).

use crate::activity::filtered::ExactSum;
use crate::data::Dataset;
use crate::net::Network;
use crate::scalar::BigRational;
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use rayon::prelude::*;

/// A neuron's bias and its non-zero weights `(input, weight)`.
type SparseNeuron = (BigRational, Vec<(usize, BigRational)>);

/// The exact risk of `net` on `data` by a forward pass over its non-zero weights and
/// biases only (the witness has a handful), summed as integers where values are dyadic.
pub fn sparse_risk(net: &Network<BigRational>, data: &Dataset<BigRational>) -> BigRational {
    let arch = net.arch();
    let p = net.params();
    // per layer, per neuron: (bias, [(input, weight)]) over the non-zero entries
    let layers: Vec<Vec<SparseNeuron>> = (1..=arch.depth())
        .map(|k| {
            (0..arch.width(k))
                .map(|j| {
                    let terms = (0..arch.width(k - 1))
                        .filter_map(|i| {
                            let w = &p[arch.weight_index(k, j, i)];
                            (!w.is_zero()).then(|| (i, w.clone()))
                        })
                        .collect();
                    (p[arch.bias_index(k, j)].clone(), terms)
                })
                .collect()
        })
        .collect();
    let depth = arch.depth();
    let total = (0..data.len())
        .into_par_iter()
        .fold(ExactSum::default, |mut acc, r| {
            let mut a: Vec<BigRational> = data.x(r).to_vec();
            for (l, layer) in layers.iter().enumerate() {
                a = layer
                    .iter()
                    .map(|(b, terms)| {
                        let z = terms
                            .iter()
                            .filter(|(i, _)| !a[*i].is_zero())
                            .fold(b.clone(), |s, (i, w)| s + w * &a[*i]);
                        if l + 1 < depth && !z.is_positive() {
                            BigRational::zero()
                        } else {
                            z
                        }
                    })
                    .collect();
            }
            for (v, y) in a.iter().zip(data.y(r)) {
                acc.add_square(&(v - y));
            }
            acc
        })
        .reduce(ExactSum::default, |mut a, b| {
            a.merge(b);
            a
        });
    total.value() / BigRational::from_integer(BigInt::from(data.len()))
}
