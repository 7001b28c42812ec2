//! Reading and writing networks: theta as JSON ([`weights`]), PyTorch safetensors import
//! ([`safetensors`]), and export for external verifiers (ONNX, `.nnet`, VNN-LIB:
//! [`export`]).

pub mod export;
pub mod safetensors;
pub mod weights;
