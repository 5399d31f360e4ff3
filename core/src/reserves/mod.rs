//! The reserves statement as signed, and the challenge every reserve address signs. Typed
//! checks (addresses, signatures, the chain) live in the verifier crate.

pub mod bindings;
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
