//! The independent checker of deadrelu's non-convergence certificates.
//!
//! Small and separate on purpose: it depends on no code of `deadrelu`, only on number
//! (`num-*`), JSON (`serde_json`) and hash (`sha2`) crates. It parses every exact number
//! itself ([`number`]), recomputes the digest over its own canonical serialization
//! ([`canon`]), re-derives the signs of the dead layer with its own filtered forward pass
//! ([`filter`], f64 with a proven error bound, exact fallback in [`exact`]), and replays
//! box proofs with its own interval bounds and vertex enumeration ([`boxproof`],
//! [`polytope`]). Every claim it verifies is a [`Claim`]; a false one is reported by name.
//! The trusted base is stated in the crate's README.

pub mod boxlp;
pub mod boxproof;
pub mod canon;
mod certificate;
pub mod checkpoint;
pub mod exact;
pub mod filter;
pub mod limits;
pub mod number;
pub mod polytope;
mod read;

pub use boxproof::{check_alive_witness, check_box_proof};
pub use certificate::{Checked, check_certificate, check_certificate_value};
pub use checkpoint::{CheckedCheckpoint, check_checkpoint_certificate};
pub use limits::Limit;
pub use num_rational::BigRational;

/// The format name every certificate carries.
pub const FORMAT: &str = "deadrelu-certificate";
/// The format version the writer produces (see the README for the differences).
pub const VERSION: u64 = 2;
/// The versions this checker reads.
pub const READS: [u64; 2] = [1, 2];

/// One claim of a certificate, each verified on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `claim` is "non-convergence".
    Kind,
    /// `arch`: `L >= 2`, every width >= 1, the parameter count fits.
    Arch,
    /// `data`: at least one point, as many targets as inputs, each fits `arch`.
    Data,
    /// `theta0` has one entry per parameter.
    Theta0,
    /// `dead_layer` names a hidden layer.
    DeadLayerIndex,
    /// Every pre-activation of `dead_layer` is `<= 0` at every data point.
    DeadOnData,
    /// (version 1) the listed pre-activations are those of a forward pass.
    Preactivations,
    /// `constant_value` is the output of the network with the dead layer's output 0.
    ConstantValue,
    /// `risk_theta0` is the exact risk of `theta0` on the data.
    RiskTheta0,
    /// `best_constant_risk` is `V`, the risk of the mean of the targets.
    BestConstantRisk,
    /// `frozen_coordinates` is the number of parameters of layers `1..k` and `W_{k+1}`.
    FrozenCoordinates,
    /// `witness.theta` has one entry per parameter.
    WitnessTheta,
    /// `witness.risk` is the exact risk of `witness.theta`.
    WitnessRisk,
    /// The witness risk is below `V`.
    WitnessBelowV,
    /// `domain.box` is a non-empty interval `[A, B]`.
    DomainBox,
    /// `domain.layer` is `dead_layer`.
    DomainLayer,
    /// Every data point lies in the box.
    DomainCoversData,
    /// The proof shows the layer dead on the whole box.
    DomainProof,
    /// An `alive` witness lies in the box with a positive pre-activation.
    AliveWitness,
    /// `digest` is the SHA-256 of the canonical certificate without it.
    Digest,
    /// (`dead-forever`) the box contains the re-derived reachable interval of every
    /// coordinate of layers `1..layer`.
    ReachableBox,
    /// (`dead-forever`) `layer` is dead on the data for every parameter of the box.
    DeadOverBox,
}

impl Claim {
    /// The claim's name (the certificate field it is about, or a short phrase).
    pub fn name(self) -> &'static str {
        match self {
            Claim::Kind => "claim",
            Claim::Arch => "arch",
            Claim::Data => "data",
            Claim::Theta0 => "theta0",
            Claim::DeadLayerIndex => "dead_layer",
            Claim::DeadOnData => "dead_layer is dead on the data",
            Claim::Preactivations => "preactivations",
            Claim::ConstantValue => "constant_value",
            Claim::RiskTheta0 => "risk_theta0",
            Claim::BestConstantRisk => "best_constant_risk",
            Claim::FrozenCoordinates => "frozen_coordinates",
            Claim::WitnessTheta => "witness.theta",
            Claim::WitnessRisk => "witness.risk",
            Claim::WitnessBelowV => "witness risk < V",
            Claim::DomainBox => "domain.box",
            Claim::DomainLayer => "domain.layer",
            Claim::DomainCoversData => "domain: data in the box",
            Claim::DomainProof => "domain.proof",
            Claim::AliveWitness => "alive witness",
            Claim::Digest => "digest",
            Claim::ReachableBox => "box contains the reachable set",
            Claim::DeadOverBox => "layer dead over the box",
        }
    }
}

impl std::fmt::Display for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a certificate was rejected. The `String`s are the checker's own words (which field,
/// what it expected, what it found): verdicts and descriptions, never another error turned
/// into text; the one foreign error, `serde_json`'s, is kept whole in
/// [`CheckError::NotJson`] as the [`std::error::Error::source`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// The document is not JSON (or has a key twice) (exit 2).
    NotJson(JsonError),
    /// The file is not a certificate this checker reads: which field and what is wrong
    /// with it (exit 2).
    Unreadable(String),
    /// The input exceeds a named resource limit (exit 2).
    TooLarge {
        /// The limit.
        limit: Limit,
        /// What exceeded it.
        detail: String,
    },
    /// A claim is false (exit 1).
    ClaimFails {
        /// The claim.
        claim: Claim,
        /// What was found.
        detail: String,
    },
}

/// `serde_json`'s error for a document that is not JSON, shared so that [`CheckError`]
/// stays `Clone`; two are equal when they say the same (message, line and column).
#[derive(Debug, Clone)]
pub struct JsonError(pub std::sync::Arc<serde_json::Error>);

impl PartialEq for JsonError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for JsonError {}

impl From<serde_json::Error> for CheckError {
    fn from(e: serde_json::Error) -> Self {
        CheckError::NotJson(JsonError(std::sync::Arc::new(e)))
    }
}

impl CheckError {
    /// The exit code of the command line: 1 for a false claim, 2 for bad input.
    pub fn exit_code(&self) -> i32 {
        match self {
            CheckError::ClaimFails { .. } => 1,
            _ => 2,
        }
    }

    /// The failing claim, if that is the reason.
    pub fn claim(&self) -> Option<Claim> {
        match self {
            CheckError::ClaimFails { claim, .. } => Some(*claim),
            _ => None,
        }
    }
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::NotJson(e) => write!(f, "unreadable certificate: not JSON: {}", e.0),
            CheckError::Unreadable(what) => write!(f, "unreadable certificate: {what}"),
            CheckError::TooLarge { limit, detail } => {
                write!(f, "limit {} exceeded: {detail}", limit.describe())
            }
            CheckError::ClaimFails { claim, detail } => {
                write!(f, "claim {:?} fails: {detail}", claim.name())
            }
        }
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckError::NotJson(e) => Some(&*e.0),
            _ => None,
        }
    }
}

pub(crate) fn unreadable(what: impl Into<String>) -> CheckError {
    CheckError::Unreadable(what.into())
}

pub(crate) fn fails(claim: Claim, detail: impl Into<String>) -> CheckError {
    CheckError::ClaimFails {
        claim,
        detail: detail.into(),
    }
}

/// `Ok(())` if `holds`, else the claim fails with `detail()`. Every claim check of the
/// checker is one call of this function (the mutation run disables them one at a time).
pub(crate) fn ensure(
    claim: Claim,
    holds: bool,
    detail: impl FnOnce() -> String,
) -> Result<(), CheckError> {
    if holds {
        Ok(())
    } else {
        Err(fails(claim, detail()))
    }
}
