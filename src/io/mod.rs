//! Reading and writing networks: theta as JSON ([`weights`]), PyTorch safetensors import
//! ([`safetensors`]), and export for external verifiers (`.nnet` and VNN-LIB: [`export`];
//! ONNX: `onnx`, feature `onnx`); and fast loading straight to `f64` ([`load`]: CSV
//! streamed and parsed in parallel ([`csv_f64`]), `.npy`/`.npz`/safetensors tensors
//! ([`tensors`]), weights by file extension: [`load_weights`]). JSON weights and shard files are read by
//! [`strict_json`], which refuses duplicated keys.

pub mod csv_f64;
pub mod dataset;
pub mod export;
pub mod load;
pub mod load_weights;
#[cfg(feature = "onnx")]
pub mod onnx;
#[cfg(feature = "onnx")]
pub mod onnx_import;
pub mod safetensors;
pub mod safetensors_order;
pub mod strict_json;
pub mod tensors;
pub mod weights;

pub use dataset::build_dataset;
pub use load::{DataF64, tensor_dataset_exact};
pub use load_weights::{LoadWeightsError, read_weights_exact, read_weights_f64};
