//! Reading and writing networks: theta as JSON ([`weights`]), PyTorch safetensors import
//! ([`safetensors`]), and export for external verifiers (`.nnet` and VNN-LIB: [`export`];
//! ONNX: `onnx`, feature `onnx`).

pub mod export;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod safetensors;
pub mod weights;
