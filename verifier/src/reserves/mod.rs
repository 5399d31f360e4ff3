//! Reserves: the exchange's signed statement of which on-chain addresses it controls and what
//! they hold, and the checks on it.
//!
//! The statement is separate from the attestation and cites it by digest, so the liabilities
//! are signed once per period while reserves can be added or corrected later (each statement has
//! a sequence number; every one is kept). Each entry names an asset, a chain, a snapshot height,
//! an address, the balance claimed there in the chain's base units (for Bitcoin, the UTXOs that
//! make it up; for an EVM token, the contract), and the signatures that prove control over the
//! [`challenge`] of its chain and height, which binds the exchange, the period and the
//! attestation digest.
//!
//! One module per step:
//! - [`statement`]: the signed data as strings and integers, its encoding and signature (no
//!   chain library: the customer's core check verifies it);
//! - [`holding`]: an entry parsed into the types of its chain family;
//! - [`bitcoin`], [`ethereum`], [`safe`], [`tron`], [`solana`]: proofs of control;
//! - [`offline`]: the checks that need no node (signatures, bindings, duplicates, sums);
//! - [`crate::chain`]: the checks against the user's own nodes;
//! - [`crate::verdict`]: the solvency verdict, asset by asset.

pub mod bitcoin;
pub mod ethereum;
pub mod forks;
pub mod holding;
pub mod offline;
pub mod safe;
pub mod solana;
pub mod tron;

pub use por_core::reserves::*;
