//! Ethereum addresses: `0x` + 40 hex digits, EIP-55 checksummed when written in mixed case.
//! Parsing needs only Keccak-256 (`sha3`), so the customer's core check can read token
//! contracts and accounts without any C library.

use crate::error::{Error, Result};
use sha3::{Digest, Keccak256};

/// A 20-byte Ethereum address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthAddress(pub [u8; 20]);

impl EthAddress {
    /// Parses `0x` + 40 hex digits. Mixed case must be a valid EIP-55 checksum: a typo in a
    /// checksummed address is an error, not a different address.
    pub fn parse(text: &str) -> Result<EthAddress> {
        let bad = || {
            Error::input(format!(
                "address {text:?}: expected 0x followed by 40 hex digits"
            ))
        };
        let h = text.strip_prefix("0x").ok_or_else(bad)?;
        if h.len() != 40 {
            return Err(bad());
        }
        let mut b = [0u8; 20];
        hex::decode_to_slice(h, &mut b).map_err(|_| bad())?;
        let addr = EthAddress(b);
        let mixed =
            h.bytes().any(|c| c.is_ascii_lowercase()) && h.bytes().any(|c| c.is_ascii_uppercase());
        if mixed && addr.checksummed() != text {
            return Err(Error::input(format!(
                "address {text:?}: the EIP-55 checksum (mixed case) is wrong"
            )));
        }
        Ok(addr)
    }

    /// The EIP-55 checksummed form.
    pub fn checksummed(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = Keccak256::digest(lower.as_bytes());
        let mut out = String::from("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }
}

impl std::fmt::Display for EthAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.checksummed())
    }
}

/// EIP-191 version 0x45 (`personal_sign`):
/// `keccak256("\x19Ethereum Signed Message:\n" ‖ decimal(len) ‖ message)`.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    length_prefixed_keccak(b"\x19Ethereum Signed Message:\n", message)
}

/// `keccak256(prefix ‖ decimal(len(message)) ‖ message)`: the shape of EIP-191 version 0x45 and
/// of TRON's TIP-191, which differ only in the prefix.
pub fn length_prefixed_keccak(prefix: &[u8], message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(prefix);
    h.update(message.len().to_string().as_bytes());
    h.update(message);
    h.finalize().into()
}
