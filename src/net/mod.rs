//! Fully connected ReLU networks: architecture, parameter layout, realization, risk and
//! the generalized gradient (MECHANISM.md, "Networks" and "Generalized gradient").
//!
//! Layout of `theta`, layer by layer for `k = 1..L`: the weight matrix `W_k`
//! (`l_k x l_{k-1}`, row-major: row `j` holds the incoming weights of neuron `j`), then the
//! bias vector `B_k`. This is the order of a PyTorch `nn.Sequential` of `nn.Linear`
//! layers' `state_dict`.
//!
//! ```text
//! z_1(x) = W_1 x + B_1,  a_k = ReLU(z_k),  z_{k+1} = W_{k+1} a_k + B_{k+1},  N(x) = z_L(x)
//! R(theta) = (1/M) sum_m |N(x_m) - y_m|^2
//! ```

pub mod batch;
pub mod batch_exact;
pub mod init;

use crate::data::Dataset;
use crate::limits;
use crate::loss::squared_error;
use crate::scalar::Scalar;

/// Errors of the network module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// Fewer than two layers (`L < 2`): there is no hidden layer.
    #[error("architecture needs at least 3 widths l_0,l_1,l_2 (L >= 2), got {len}")]
    TooShallow {
        /// Number of widths given.
        len: usize,
    },
    /// A width of zero.
    #[error("width l_{index} is 0; every width must be >= 1")]
    ZeroWidth {
        /// 0-based index into `l_0..l_L`.
        index: usize,
    },
    /// The parameter vector has the wrong length.
    #[error("architecture {arch} has {expected} parameters, got {got}")]
    ParamCount {
        /// The architecture as `1,3,1`.
        arch: String,
        /// `D` of the architecture.
        expected: usize,
        /// Length offered.
        got: usize,
    },
    /// The data do not fit the architecture.
    #[error("data have {got} {what} per point but the architecture expects {expected}")]
    DataShape {
        /// `"inputs"` or `"outputs"`.
        what: &'static str,
        /// What the architecture expects.
        expected: usize,
        /// What the data have.
        got: usize,
    },
    /// The architecture is too large (parameter count overflows or exceeds
    /// [`crate::limits::MAX_PARAMS`], or more than [`crate::limits::MAX_DEPTH`] layers).
    #[error("architecture too large: {0}")]
    TooLarge(#[from] crate::limits::LimitError),
    /// A batch index out of range, or an empty batch.
    #[error("bad batch: {reason}")]
    Batch {
        /// What is wrong.
        reason: String,
    },
    /// A parameter has no value in the target type of [`Network::convert`].
    #[error("parameter {index}: {source}")]
    Convert {
        /// 0-based index into `theta`.
        index: usize,
        /// The cause.
        #[source]
        source: crate::scalar::ScalarError,
    },
}

/// An architecture `l = (l_0, ..., l_L)`, validated: `L >= 2`, all widths `>= 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<usize>", into = "Vec<usize>")]
pub struct Arch {
    widths: Vec<usize>,
    /// `offsets[k - 1]` is the index in `theta` of `W_k`'s first entry; the last entry
    /// is `D` (computed once: the forward pass asks per layer, and depths reach
    /// [`limits::MAX_DEPTH`]).
    offsets: Vec<usize>,
}

impl TryFrom<Vec<usize>> for Arch {
    type Error = NetError;
    fn try_from(widths: Vec<usize>) -> Result<Self, NetError> {
        Arch::new(widths)
    }
}

impl From<Arch> for Vec<usize> {
    fn from(arch: Arch) -> Self {
        arch.widths
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl Arch {
    /// Validates the widths `l_0..l_L`.
    ///
    /// # Errors
    /// [`NetError::TooShallow`] when fewer than 3 widths, [`NetError::ZeroWidth`] for a 0,
    /// [`NetError::TooLarge`] when the parameter count overflows `usize` or exceeds
    /// [`limits::MAX_PARAMS`], or the depth exceeds [`limits::MAX_DEPTH`].
    pub fn new(widths: Vec<usize>) -> Result<Self, NetError> {
        if widths.len() < 3 {
            return Err(NetError::TooShallow { len: widths.len() });
        }
        if let Some(index) = widths.iter().position(|&w| w == 0) {
            return Err(NetError::ZeroWidth { index });
        }
        limits::check_cap(
            "depth",
            (widths.len() - 1) as u128,
            limits::MAX_DEPTH as u128,
        )?;
        // the layer offsets, summed with checked arithmetic; the last is the count `D`
        let mut offsets = Vec::with_capacity(widths.len());
        offsets.push(0usize);
        for w in widths.windows(2) {
            let next = w[0]
                .checked_add(1)
                .and_then(|fan_in| fan_in.checked_mul(w[1]))
                .and_then(|layer| offsets[offsets.len() - 1].checked_add(layer))
                .ok_or_else(|| limits::LimitError::Overflow {
                    what: "the parameter count".to_string(),
                })?;
            offsets.push(next);
        }
        let params = offsets[offsets.len() - 1];
        limits::check_cap(
            "the parameter count",
            params as u128,
            limits::MAX_PARAMS as u128,
        )?;
        Ok(Self { widths, offsets })
    }
    /// The widths `l_0..l_L`.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }
    /// `L`, the number of affine layers.
    pub fn depth(&self) -> usize {
        self.widths.len() - 1
    }
    /// `l_0`.
    pub fn inputs(&self) -> usize {
        self.widths[0]
    }
    /// `l_L`.
    pub fn outputs(&self) -> usize {
        self.widths[self.depth()]
    }
    /// `l_k`.
    pub fn width(&self, k: usize) -> usize {
        self.widths[k]
    }
    /// The hidden layers `1..=L-1` (1-based).
    pub fn hidden_layers(&self) -> std::ops::RangeInclusive<usize> {
        1..=self.depth() - 1
    }
    /// `D = sum_k l_k (l_{k-1} + 1)`.
    pub fn num_params(&self) -> usize {
        self.offsets[self.depth()]
    }
    /// Index in `theta` of the first entry of `W_k` (1-based `k`).
    pub fn layer_offset(&self, k: usize) -> usize {
        assert!(
            (1..=self.depth()).contains(&k),
            "layer {k} out of 1..={}",
            self.depth()
        );
        self.offsets[k - 1]
    }
    /// Index of `W_k[j][i]` (1-based `k`, 0-based `j`, `i`).
    pub fn weight_index(&self, k: usize, j: usize, i: usize) -> usize {
        self.layer_offset(k) + j * self.widths[k - 1] + i
    }
    /// Index of `B_k[j]`.
    pub fn bias_index(&self, k: usize, j: usize) -> usize {
        self.layer_offset(k) + self.widths[k] * self.widths[k - 1] + j
    }
    /// The parameter range of layer `k` (its `W_k` and `B_k`).
    pub fn layer_range(&self, k: usize) -> std::ops::Range<usize> {
        let start = self.layer_offset(k);
        start..start + self.widths[k] * (self.widths[k - 1] + 1)
    }
    /// For each coordinate of `theta`: `(layer k, is_bias, neuron j, input i)` with `i = 0`
    /// for biases. Used to name coordinates in reports.
    pub fn describe(&self, index: usize) -> (usize, bool, usize, usize) {
        for k in 1..=self.depth() {
            let r = self.layer_range(k);
            if r.contains(&index) {
                let local = index - r.start;
                let nw = self.widths[k] * self.widths[k - 1];
                return if local < nw {
                    (
                        k,
                        false,
                        local / self.widths[k - 1],
                        local % self.widths[k - 1],
                    )
                } else {
                    (k, true, local - nw, 0)
                };
            }
        }
        panic!("parameter index {index} out of range {}", self.num_params());
    }
}

/// A network: an architecture and its parameters in the layout of MECHANISM.md.
#[derive(Debug, Clone)]
pub struct Network<S: Scalar> {
    arch: Arch,
    params: Vec<S>,
}

/// The values of one forward pass at one input: `pre[k-1] = z_k` for `k = 1..L`.
#[derive(Debug, Clone)]
pub struct ForwardPass<S: Scalar> {
    /// Pre-activations `z_1..z_L` (`z_L` is the output).
    pub pre: Vec<Vec<S>>,
}

impl<S: Scalar> ForwardPass<S> {
    /// The output `N(x) = z_L`.
    pub fn output(&self) -> &[S] {
        self.pre.last().expect("L >= 2")
    }
}

/// From a zero activation vector at some layer: the pre-activations of the layers after
/// it, and the summed output error.
type Tail<S> = (Vec<Vec<S>>, Vec<S>);

impl<S: Scalar> Network<S> {
    /// A network from parameters in the layout of MECHANISM.md.
    ///
    /// # Errors
    /// [`NetError::ParamCount`] if `params.len() != arch.num_params()`.
    pub fn new(arch: Arch, params: Vec<S>) -> Result<Self, NetError> {
        if params.len() != arch.num_params() {
            return Err(NetError::ParamCount {
                arch: arch.to_string(),
                expected: arch.num_params(),
                got: params.len(),
            });
        }
        Ok(Self { arch, params })
    }
    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }
    /// `theta`.
    pub fn params(&self) -> &[S] {
        &self.params
    }
    /// Consumes the network, giving `theta`.
    pub fn into_params(self) -> Vec<S> {
        self.params
    }
    /// Converts every parameter to another scalar type with [`crate::scalar::convert`]:
    /// through its exact value, never through `f64` for an exact target.
    ///
    /// # Errors
    /// [`NetError::Convert`] at the first parameter that has no value in `T` (a NaN, an
    /// infinity, or a non-point enclosure going to an exact type).
    pub fn convert<T: Scalar>(&self) -> Result<Network<T>, NetError> {
        let params = self
            .params
            .iter()
            .enumerate()
            .map(|(index, p)| {
                crate::scalar::convert(p).map_err(|source| NetError::Convert { index, source })
            })
            .collect::<Result<_, _>>()?;
        Ok(Network {
            arch: self.arch.clone(),
            params,
        })
    }

    /// The affine map of layer `k` applied to `input` (`W_k input + B_k`).
    pub fn affine(&self, k: usize, input: &[S]) -> Vec<S> {
        let (rows, cols) = (self.arch.widths[k], self.arch.widths[k - 1]);
        debug_assert_eq!(input.len(), cols);
        let off = self.arch.layer_offset(k);
        let w = &self.params[off..off + rows * cols];
        let b = &self.params[off + rows * cols..off + rows * (cols + 1)];
        (0..rows)
            .map(|j| {
                let row = &w[j * cols..(j + 1) * cols];
                row.iter().zip(input).fold(b[j].clone(), |acc, (wji, xi)| {
                    if wji.is_zero() || xi.is_zero() {
                        acc
                    } else {
                        acc.add_ref(&wji.mul_ref(xi))
                    }
                })
            })
            .collect()
    }

    /// Forward pass at `x`, keeping every pre-activation.
    pub fn forward(&self, x: &[S]) -> ForwardPass<S> {
        let mut pre = Vec::with_capacity(self.arch.depth());
        let mut z = self.affine(1, x);
        for k in 2..=self.arch.depth() {
            let a: Vec<S> = z.iter().map(S::relu).collect();
            pre.push(z);
            z = self.affine(k, &a);
        }
        pre.push(z);
        ForwardPass { pre }
    }

    /// The realization `N_theta(x)`.
    pub fn output(&self, x: &[S]) -> Vec<S> {
        self.forward(x).pre.pop().expect("L >= 2")
    }

    fn check_data(&self, data: &Dataset<S>) -> Result<(), NetError> {
        if data.inputs() != self.arch.inputs() {
            return Err(NetError::DataShape {
                what: "inputs",
                expected: self.arch.inputs(),
                got: data.inputs(),
            });
        }
        if data.outputs() != self.arch.outputs() {
            return Err(NetError::DataShape {
                what: "outputs",
                expected: self.arch.outputs(),
                got: data.outputs(),
            });
        }
        Ok(())
    }

    fn check_batch(
        &self,
        data: &Dataset<S>,
        batch: Option<&[usize]>,
    ) -> Result<Vec<usize>, NetError> {
        self.check_data(data)?;
        let batch: Vec<usize> = match batch {
            Some(b) => b.to_vec(),
            None => (0..data.len()).collect(),
        };
        if batch.is_empty() {
            return Err(NetError::Batch {
                reason: "empty batch (no data points)".into(),
            });
        }
        if let Some(&bad) = batch.iter().find(|&&m| m >= data.len()) {
            return Err(NetError::Batch {
                reason: format!("index {bad} >= {} data points", data.len()),
            });
        }
        Ok(batch)
    }

    /// The empirical risk over the whole data set (`batch = None`) or a mini-batch of
    /// indices (repetitions count), `(1/|batch|) sum |N(x_m) - y_m|^2`.
    ///
    /// # Errors
    /// [`NetError::DataShape`] if the data do not fit, [`NetError::Batch`] for an empty
    /// batch or an index out of range.
    pub fn risk(&self, data: &Dataset<S>, batch: Option<&[usize]>) -> Result<S, NetError> {
        let batch = self.check_batch(data, batch)?;
        let total = batch.iter().fold(S::zero(), |acc, &m| {
            let out = self.output(data.x(m));
            acc.add_ref(&squared_error(&out, data.y(m)))
        });
        Ok(total.div_ref(&S::from_int(batch.len() as i64)))
    }

    /// The risk and its generalized gradient (backpropagation with `ReLU'(0) = 0`) over the
    /// whole data (`batch = None`) or a mini-batch.
    ///
    /// ```text
    /// delta_L = (2/M) (z_L - y);  dR/dW_k = delta_k a_{k-1}^T;  dR/dB_k = delta_k
    /// delta_{k-1} = ReLU'(z_{k-1}) * (W_k^T delta_k)
    /// ```
    ///
    /// Points whose activation vector `a_j` is exactly zero at some hidden layer `j` (a
    /// layer inactive at that point) share everything above `j`: the forward pass of
    /// layers `j+1..L` is the same for all of them and their gradient below `j+1` is zero
    /// (fact 2 pointwise), so the tail is computed once with the summed output error. This
    /// is an identity, exact in rational arithmetic; it makes dead networks cheap.
    ///
    /// # Errors
    /// As [`Network::risk`].
    pub fn risk_and_gradient(
        &self,
        data: &Dataset<S>,
        batch: Option<&[usize]>,
    ) -> Result<(S, Vec<S>), NetError> {
        let batch = self.check_batch(data, batch)?;
        let depth = self.arch.depth();
        let count = S::from_int(batch.len() as i64);
        let two_over_m = S::from_int(2).div_ref(&count);
        let mut grad = vec![S::zero(); self.params.len()];
        let mut total = S::zero();
        // tails[j]: (pre-activations of layers j+1..L from a zero a_j, summed output error)
        let mut tails: Vec<Option<Tail<S>>> = vec![None; depth];
        for &m in &batch {
            let (x, y) = (data.x(m), data.y(m));
            let (pre, zero_layer) = self.forward_until_zero(x);
            match zero_layer {
                Some(j) => {
                    let (tail, error) = tails[j].get_or_insert_with(|| {
                        let zeros = vec![S::zero(); self.arch.widths[j]];
                        (
                            self.forward_from(j + 1, zeros),
                            vec![S::zero(); self.arch.outputs()],
                        )
                    });
                    let out = tail.last().expect("a tail has the output layer");
                    total = total.add_ref(&squared_error(out, y));
                    for ((e, o), t) in error.iter_mut().zip(out).zip(y) {
                        *e = e.add_ref(&two_over_m.mul_ref(&o.sub_ref(t)));
                    }
                }
                None => {
                    let out = pre.last().expect("L >= 2");
                    total = total.add_ref(&squared_error(out, y));
                    let delta = out
                        .iter()
                        .zip(y)
                        .map(|(o, t)| two_over_m.mul_ref(&o.sub_ref(t)))
                        .collect();
                    self.backprop(1, x, &pre, delta, &mut grad);
                }
            }
        }
        for (j, tail) in tails.into_iter().enumerate() {
            if let Some((pre, error)) = tail {
                let zeros = vec![S::zero(); self.arch.widths[j]];
                self.backprop(j + 1, &zeros, &pre, error, &mut grad);
            }
        }
        Ok((total.div_ref(&count), grad))
    }

    /// Forward pass that stops at the first hidden layer whose activation vector is
    /// exactly zero: returns the pre-activations computed (`z_1..z_j`, or all of them)
    /// and that layer `j`, if any.
    fn forward_until_zero(&self, x: &[S]) -> (Vec<Vec<S>>, Option<usize>) {
        let mut pre = Vec::with_capacity(self.arch.depth());
        let mut z = self.affine(1, x);
        for k in 1..self.arch.depth() {
            let a: Vec<S> = z.iter().map(S::relu).collect();
            pre.push(z);
            if a.iter().all(S::is_zero) {
                return (pre, Some(k));
            }
            z = self.affine(k + 1, &a);
        }
        pre.push(z);
        (pre, None)
    }

    /// Pre-activations of layers `first..=L` given the input `a_{first-1}`.
    fn forward_from(&self, first: usize, input: Vec<S>) -> Vec<Vec<S>> {
        let mut pre = Vec::with_capacity(self.arch.depth() + 1 - first);
        let mut z = self.affine(first, &input);
        for k in first + 1..=self.arch.depth() {
            let a: Vec<S> = z.iter().map(S::relu).collect();
            pre.push(z);
            z = self.affine(k, &a);
        }
        pre.push(z);
        pre
    }

    /// Backpropagates `delta` (at the output) through layers `L..first`, where `pre`
    /// holds `z_first..z_L` and `input` is `a_{first-1}`, adding into `grad`.
    fn backprop(
        &self,
        first: usize,
        input: &[S],
        pre: &[Vec<S>],
        mut delta: Vec<S>,
        grad: &mut [S],
    ) {
        let depth = self.arch.depth();
        let pre_of = |k: usize| &pre[k - first];
        for k in (first..=depth).rev() {
            let cols = self.arch.widths[k - 1];
            let layer_input: Vec<S> = if k == first {
                input.to_vec()
            } else {
                pre_of(k - 1).iter().map(S::relu).collect()
            };
            for (j, d) in delta.iter().enumerate() {
                if d.is_zero() {
                    continue;
                }
                for (i, a) in layer_input.iter().enumerate() {
                    if !a.is_zero() {
                        let idx = self.arch.weight_index(k, j, i);
                        grad[idx] = grad[idx].add_ref(&d.mul_ref(a));
                    }
                }
                let bidx = self.arch.bias_index(k, j);
                grad[bidx] = grad[bidx].add_ref(d);
            }
            if k == first || delta.iter().all(S::is_zero) {
                break;
            }
            delta = (0..cols)
                .map(|i| {
                    let gate = pre_of(k - 1)[i].relu_derivative();
                    if gate.is_zero() {
                        return S::zero();
                    }
                    let back = delta.iter().enumerate().fold(S::zero(), |acc, (j, d)| {
                        if d.is_zero() {
                            acc
                        } else {
                            acc.add_ref(&self.params[self.arch.weight_index(k, j, i)].mul_ref(d))
                        }
                    });
                    gate.mul_ref(&back)
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_validation() {
        assert_eq!(Arch::new(vec![1, 2]), Err(NetError::TooShallow { len: 2 }));
        assert_eq!(
            Arch::new(vec![1, 0, 1]),
            Err(NetError::ZeroWidth { index: 1 })
        );
        for too_large in [
            vec![1, usize::MAX, 1],
            vec![2, 4611686018427387904, 1],
            vec![1, 1_000_000_000, 1],
            vec![usize::MAX, usize::MAX, usize::MAX],
        ] {
            assert!(
                matches!(Arch::new(too_large.clone()), Err(NetError::TooLarge(_))),
                "{too_large:?}"
            );
        }
        assert!(Arch::new(vec![1, (crate::limits::MAX_PARAMS - 1) / 3, 1]).is_ok());
        let a = Arch::new(vec![2, 3, 1]).unwrap();
        assert_eq!(a.num_params(), 3 * 3 + 4);
        assert_eq!(a.weight_index(1, 2, 1), 5);
        assert_eq!(a.bias_index(1, 2), 8);
        assert_eq!(a.weight_index(2, 0, 2), 11);
        assert_eq!(a.bias_index(2, 0), 12);
        assert_eq!(a.describe(12), (2, true, 0, 0));
        assert_eq!(a.describe(5), (1, false, 2, 1));
        let e = Network::<f64>::new(a, vec![0.0; 3]).unwrap_err();
        assert!(matches!(
            e,
            NetError::ParamCount {
                expected: 13,
                got: 3,
                ..
            }
        ));
    }
}
