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
//! - [`bitcoin`], [`ethereum`]: proofs of control;
//! - [`offline`]: the checks that need no node (signatures, bindings, duplicates, sums);
//! - [`crate::chain`]: the checks against the user's own nodes;
//! - [`crate::verdict`]: the solvency verdict, asset by asset.

pub mod bitcoin;
pub mod ethereum;
pub mod holding;
pub mod offline;
pub mod statement;

use crate::chains::Chain;
use crate::hash::Hash;

pub use statement::{RawEntry, RawUtxo, ReservesStatement, RESERVES_FORMAT};

/// The first line of every challenge message.
pub const CHALLENGE_HEADER: &str = "Proof of reserves challenge v2";

/// The exact text each reserve address must sign for `chain` at `height`.
pub fn challenge(
    exchange: &str,
    period: &str,
    chain: &Chain,
    height: u64,
    attestation: &Hash,
) -> String {
    format!(
        "{CHALLENGE_HEADER}\nExchange: {exchange}\nPeriod: {period}\nChain: {chain}\nSnapshot height: {height}\nAttestation: {attestation}"
    )
}

/// A node URL without its credentials, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://{}", &url[..s], &url[a + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_text() {
        let c = challenge("Ex", "2026-11", &Chain::Evm(1), 7, &Hash([0xab; 32]));
        assert_eq!(
            c,
            format!(
                "Proof of reserves challenge v2\nExchange: Ex\nPeriod: 2026-11\nChain: ethereum\nSnapshot height: 7\nAttestation: {}",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(redact_url("http://u:p@h:1/x"), "http://h:1/x");
        assert_eq!(redact_url("https://h"), "https://h");
    }
}
