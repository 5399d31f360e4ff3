//! # por-prover
//!
//! The exchange's side of the proof-of-reserves toolkit: turn a liabilities export into a
//! signed attestation and a private state, and hand customers their inclusion proofs. Every
//! format and hash comes from `por-verifier`; this crate adds secrets, signing and I/O.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod anchor;
pub mod build;
pub mod check;
pub mod files;
pub mod hidden;
pub mod keys;
pub mod progress;
pub mod proofs;
pub mod publish;
pub mod random;
pub mod reserves;
pub mod serve;
pub mod signer;
pub mod stored;
pub mod streamed;
pub mod synth;
