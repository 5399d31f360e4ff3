//! # por-core
//!
//! What a customer's check needs, and nothing else: amounts, hashing, folding an inclusion
//! path, the attestation, proof, reserves statement and history log formats with their signed
//! bytes. No network, no threads, no command line, no C code; files only with the `fs`
//! feature. It builds for `wasm32-unknown-unknown`, where the browser verifier runs it, and
//! `por-verifier` (the command line, the auditor, the chain checks) and `por-prover` build on it.
//!
//! One module per step, each implementing a chapter of `spec/`:
//! - [`amount`], [`asset`], [`liabilities`], [`text`]: amounts and the liabilities export
//!   (spec/liabilities.md);
//! - [`hash`], [`tree`]: the domain-separated hashes and folding a path (spec/tree.md);
//! - [`encode`], [`attestation`]: the signed message and its sections (spec/attestation.md);
//! - [`proof`], [`customer`]: a customer's inclusion proof and the whole customer check
//!   (spec/proof.md);
//! - [`binding`], [`chains`], [`registry`], [`evm`], [`reserves`]: where reserves may be held
//!   and the reserves statement as signed (spec/reserves.md);
//! - [`history`]: the public log, the monthly links, key rotation, anchors (spec/history.md);
//! - [`memory`], [`identity`]: the customer's store of what was verified, and the policy that
//!   decides against it (key pinning and rotation, the genesis, equivocation);
//! - [`input`], [`time`], [`error`], [`outcome`]: hostile input read with care, UTC times, the
//!   kinds of failure and the stable outcome codes (spec/outcomes.md).
//!
//! The whole customer check, on the spec's own vectors:
//!
//! ```
//! let v: serde_json::Value = serde_json::from_str(include_str!("../../spec/vectors/core.json")).unwrap();
//! let attestation = v["attestation"]["json"].to_string();
//! let proof = v["tree"]["proofs"][0].to_string();
//! let seed: [u8; 32] = hex::decode(v["attestation"]["signing_key_seed"].as_str().unwrap())
//!     .unwrap().try_into().unwrap();
//! let key = hex::encode(ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes());
//! let done = por_core::customer::check(attestation.as_bytes(), proof.as_bytes(), "alice", &key).unwrap();
//! assert!(done.summary.starts_with("VERIFIED"));
//! // Someone else's id is a mix-up of files (exit 2 in the CLI), not evidence:
//! let e = por_core::customer::check(attestation.as_bytes(), proof.as_bytes(), "bob", &key).unwrap_err();
//! assert_eq!(e.code(), por_core::outcome::Code::OtherUser);
//! assert_eq!(e.exit_code(), 2);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod amount;
pub mod asset;
pub mod attestation;
pub mod binding;
pub mod chains;
pub mod customer;
pub mod encode;
pub mod error;
pub mod evm;
pub mod hash;
pub mod hidden;
pub mod history;
pub mod identity;
pub mod input;
pub mod liabilities;
pub mod memory;
pub mod outcome;
pub mod outpoint;
pub mod proof;
pub mod published;
pub mod registry;
pub mod reserves;
pub mod safe;
pub mod solana;
pub mod text;
pub mod time;
pub mod tree;
pub mod tron;

pub use amount::Amount;
pub use asset::Asset;
pub use attestation::Attestation;
pub use error::{Error, ErrorKind, Result};
pub use hash::Hash;
pub use proof::InclusionProof;
