//! # por-verifier
//!
//! The auditable core of the proof-of-reserves toolkit: the formats, the hashing and every
//! check. A customer can read this crate to know exactly what `por-verify` establishes.
//!
//! The protocol, one module per step:
//! - [`amount`], [`asset`]: amounts as 128-bit base units, parsed and summed with checks;
//! - [`liabilities`]: the exchange's export, `user_id,SYMBOL:DECIMALS,...`;
//! - [`hash`]: the byte encodings and domain-separated SHA-256 hashes of the tree;
//! - [`tree`]: the sparse Merkle sum tree of fixed height, and folding a path;
//! - [`encode`]: the byte encodings and section framing of every signed message;
//! - [`attestation`]: what the exchange signs once per period, and its digest;
//! - [`binding`], [`chains`], [`registry`]: where each asset's reserves may be held, and the
//!   registry the user trusts to confirm it;
//! - [`proof`]: a customer's inclusion proof and its verification;
//! - [`state`], [`audit`]: the private data and the auditor's full recomputation;
//! - [`reserves`]: the signed reserves statement and its offline checks;
//! - [`chain`]: the checks against the user's own nodes;
//! - [`verdict`]: the solvency verdict and its exit codes;
//! - [`history`]: the public log of every signed statement, the monthly chain, anchors;
//! - [`published`]: other exchanges' published proof files, checked by their own rules;
//! - [`custody`]: how the reserves are held (multisig, single key, other; declared labels);
//! - [`input`], [`time`], [`text`]: bounded reads, timestamps, text fields.
//!
//! `spec/` in the repository is the normative description; its test vectors are checked
//! against this crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod chain;
pub mod cleanup;
pub mod cli_docs;
pub mod custody;
pub mod hidden_tree;
pub mod published;
pub mod published_reserves;
pub mod report;
pub mod reserves;
pub mod state;
pub mod store;
pub mod tree;
pub mod verdict;

pub use por_core::{
    amount, asset, attestation, binding, chains, customer, encode, error, evm, hash, hidden,
    history, identity, input, liabilities, memory, outcome, outpoint, proof, registry, safe,
    solana, text, time, tron,
};

pub use amount::Amount;
pub use asset::Asset;
pub use attestation::Attestation;
pub use error::{Error, ErrorKind, Result};
pub use hash::Hash;
pub use proof::InclusionProof;
