//! `deadrelu estimate` and `deadrelu merge`.

mod emit;
mod merge;
mod options;
mod result;
mod run;
mod table;

pub use merge::{MergeArgs, run_merge};
pub use options::EstimateArgs;
pub use run::run_estimate;
