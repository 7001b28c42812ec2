//! The exact data set of any `--data` spec: tensor files (`npy`, `npz`, `safetensors`)
//! are read here, every other spec is built by [`DataSpec::build`] (so `data` never
//! calls `io`).

use super::load::tensor_dataset_exact;
use crate::data::{DataError, DataSpec, Dataset, Target};
use crate::scalar::BigRational;

/// Builds the exact data set of `spec` for `inputs` and `outputs` per point: tensor specs
/// from their files, the others by [`DataSpec::build`].
///
/// # Errors
/// [`DataError`] naming the file and what does not fit, or the spec's own errors.
pub fn build_dataset(
    spec: &DataSpec,
    inputs: usize,
    outputs: usize,
    target: &Target,
    data_seed: u64,
) -> Result<Dataset<BigRational>, DataError> {
    match tensor_dataset_exact(spec, inputs, outputs, target)? {
        Some(data) => Ok(data),
        None => spec.build(inputs, outputs, target, data_seed),
    }
}
