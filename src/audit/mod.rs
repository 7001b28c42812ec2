//! The mechanism audit (MECHANISM.md, "The four facts"), its certificate and the
//! independent checker.
//!
//! - [`mechanism`]: finds the dead layer, proves the realization constant, lists the
//!   frozen coordinates, runs optimizers in exact (enclosure) arithmetic as a cross-check,
//!   constructs a witness `theta*` with exact risk `< V`, and gives a verdict.
//! - [`certificate`]: the versioned JSON certificate.
//! - the checker is its own crate, [`deadrelu_check`] (no code of this crate, a stated
//!   trusted base); its entry points are re-exported here.

pub mod certificate;
pub mod checkpoint;
pub mod checkpoint_box;
pub mod coq;
pub mod crosscheck;
pub mod mechanism;
pub mod witness;

pub use certificate::Certificate;
pub use coq::coq_certificate;
pub use deadrelu_check::{
    CheckError, Checked, CheckedCheckpoint, Claim, Limit, check_alive_witness, check_box_proof,
    check_certificate, check_certificate_value, check_checkpoint_certificate,
};
pub use mechanism::{AuditError, AuditOptions, AuditReport, Verdict, audit, constructive_witness};
