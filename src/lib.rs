//! # deadrelu: why SGD, Adam and relatives fail to reach global minimizers of ReLU networks
//!
//! A ReLU network with a hidden layer whose neurons are all inactive on the data (every
//! pre-activation `<= 0`) computes a constant function there, and the generalized gradient
//! (backpropagation with `ReLU'(0) = 0`) is exactly zero for every parameter up to that
//! layer. Every optimizer of the SGD family (SGD, momentum, Nesterov, Adagrad, RMSProp,
//! Adam, Adamax, AMSGrad, Nadam, with zero initial state and no weight decay) then keeps
//! those parameters frozen forever: the network stays constant, its risk never drops below
//! the risk `V` of the best constant, while a better network exists. Under random
//! initialization this happens with probability tending to one as the width of the first
//! layer and the depth grow (Do, Hannibal, Jentzen 2024, arXiv 2410.10533).
//!
//! This crate checks the mechanism exactly (rational arithmetic, certified enclosures)
//! and statistically (`f64` Monte Carlo). The definitions it follows are those of
//! `MECHANISM.md`:
//!
//! ```text
//! theta = (W_1, B_1, ..., W_L, B_L)      row-major W_k (l_k x l_{k-1}), PyTorch order
//! z_1 = W_1 x + B_1,  a_k = ReLU(z_k),  z_{k+1} = W_{k+1} a_k + B_{k+1},  N(x) = z_L
//! R(theta) = (1/M) sum_m |N(x_m) - y_m|^2,   V = (1/M) sum_m |y_m - mean(y)|^2
//! ```
//!
//! ## Map of the modules
//! From the bottom up (each uses only those above it; ARCHITECTURE.md has the details):
//! - [`scalar`]: the Copy-free [`scalar::Scalar`] trait and its implementations (`f64`,
//!   `BigRational`, `rug::Rational` under feature `gmp`, certified [`scalar::Interval`]s
//!   and dyadic enclosures).
//! - [`prec`]: every tolerance and precision, named.
//! - [`limits`]: every size cap (digits, exponents, parameters, memory), checked before allocating.
//! - [`loss`]: the squared error, shared by the risk and the best constant.
//! - [`data`]: synthetic and CSV data sets, exact, and the best constant `V`.
//! - [`net`]: architecture, parameter layout, forward pass, risk, generalized gradient;
//!   [`net::init`]: seeded initialization schemes.
//! - [`io`]: theta as JSON, PyTorch safetensors import; `.nnet`, VNN-LIB and (feature
//!   `onnx`) ONNX export for external verifiers.
//! - [`activity`]: inactive neurons and dead layers on data, and on a whole box
//!   ([`activity::domain`], [`activity::phases`]).
//! - [`optim`]: SGD, momentum, Nesterov, Adagrad, RMSProp, Adadelta, Adam, Adamax,
//!   AMSGrad, Nadam in any scalar; [`optim::train`]: training runs (full batch or seeded
//!   mini-batches, `f64` or certified enclosures).
//! - [`audit`]: the exact mechanism audit of one run and its certificate; the
//!   independent checker is its own crate, [`deadrelu_check`] (`check/`), re-exported
//!   here.
//! - [`stats`]: `f64` Monte Carlo of born-dead networks (eight trials at once on SIMD
//!   lanes, with their ChaCha8 streams), exact first-layer probabilities and lower bounds,
//!   certified enclosures of them for the normal schemes and `rai`, Wilson intervals.
//! - `cli` (default feature `cli`): the `deadrelu` command line (INTERFACE.md); the
//!   library builds without it and without clap, indicatif, plotters and ONNX
//!   (`default-features = false`).

#![warn(missing_docs)]

pub mod activity;
pub mod audit;
pub mod cancel;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod io;
pub mod limits;
pub mod loss;
pub mod net;
pub mod optim;
pub mod prec;
pub mod scalar;
pub mod stats;
