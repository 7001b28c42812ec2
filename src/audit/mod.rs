//! The mechanism audit (MECHANISM.md, "The four facts"), its certificate and the
//! independent checker.
//!
//! - [`mechanism`]: finds the dead layer, proves the realization constant, lists the
//!   frozen coordinates, runs optimizers in exact (enclosure) arithmetic as a cross-check,
//!   constructs a witness `theta*` with exact risk `< V`, and gives a verdict.
//! - [`certificate`]: the versioned JSON certificate.
//! - [`checker`]: re-verifies a certificate from the file alone through its own small
//!   code path (its own forward pass and risk, plain `BigRational`).

pub mod certificate;
pub mod checker;
pub mod mechanism;

pub use certificate::Certificate;
pub use checker::{CheckError, check_alive_witness, check_box_proof, check_certificate};
pub use mechanism::{AuditOptions, AuditReport, Verdict, audit, constructive_witness};
