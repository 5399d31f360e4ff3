//! TRON addresses and signed messages (spec/reserves.md, "TRON and Solana").
//!
//! An address is base58check(0x41 ‖ the last 20 bytes of keccak256 of the uncompressed public
//! key), written `T…`; its hex form is `41` + 40 hex. Base58check is rust-bitcoin's
//! `base58ck`, the same code that reads Bitcoin's base58 addresses.

use sha3::{Digest, Keccak256};
use std::fmt;

/// The version byte of every TRON mainnet address.
pub const ADDRESS_VERSION: u8 = 0x41;

mod checked {
    /// A TRON address: the 20 bytes after the 0x41 version byte. The field is private so that
    /// every value went through [`TronAddress::parse`] or [`TronAddress::from_key_hash`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct TronAddress([u8; 20]);

    impl TronAddress {
        /// The address of these 20 bytes (the tail of a key's keccak256).
        pub fn from_key_hash(bytes: [u8; 20]) -> TronAddress {
            TronAddress(bytes)
        }

        /// The 20 bytes.
        pub fn bytes(&self) -> &[u8; 20] {
            &self.0
        }
    }
}
pub use checked::TronAddress;

impl TronAddress {
    /// Parses the base58check form (`T…`, 34 characters). The hex form is not accepted in a
    /// signed entry: one address has one spelling in the signed bytes.
    pub fn parse(text: &str) -> Result<TronAddress, String> {
        // Base58 decoding takes time quadratic in the length: bound it first.
        if text.len() != 34 {
            return Err(format!(
                "{:?}: not a TRON address (base58check, T followed by 33 characters)",
                crate::text::excerpt(text)
            ));
        }
        let b = base58ck::decode_check(text).map_err(|_| {
            format!("{text:?}: not a TRON address (base58check, T followed by 33 characters)")
        })?;
        match b.as_slice() {
            [ADDRESS_VERSION, rest @ ..] if rest.len() == 20 => {
                let mut a = [0u8; 20];
                a.copy_from_slice(rest);
                Ok(TronAddress::from_key_hash(a))
            }
            _ => Err(format!(
                "{text:?}: not a TRON mainnet address (expected version byte 0x41 and 20 bytes)"
            )),
        }
    }

    /// The address of an uncompressed secp256k1 public key (65 bytes, `04` first).
    pub fn of_uncompressed_key(key: &[u8; 65]) -> TronAddress {
        let d = Keccak256::digest(&key[1..]);
        let mut a = [0u8; 20];
        a.copy_from_slice(&d[12..]);
        TronAddress::from_key_hash(a)
    }

    /// The hex form, `41` + 40 lower-case hex.
    pub fn to_hex(&self) -> String {
        format!("41{}", hex::encode(self.bytes()))
    }
}

impl fmt::Display for TronAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; 21];
        b[0] = ADDRESS_VERSION;
        b[1..].copy_from_slice(self.bytes());
        f.write_str(&base58ck::encode_check(&b))
    }
}

/// TIP-191 as TronWeb's `signMessageV2` signs a message:
/// `keccak256("\x19TRON Signed Message:\n" ‖ decimal(len) ‖ message)`.
pub fn message_hash_v2(message: &[u8]) -> [u8; 32] {
    crate::evm::length_prefixed_keccak(b"\x19TRON Signed Message:\n", message)
}

/// TronWeb's older `trx.sign(hex)` (V1): the header always says 32, whatever the length:
/// `keccak256("\x19TRON Signed Message:\n32" ‖ message)`. Equal to V2 for 32-byte messages.
pub fn message_hash_v1(message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(b"\x19TRON Signed Message:\n32");
    h.update(message);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_the_public_vectors() {
        // ../shared/vectors/chains/tron.json: TronWeb's test key 1 and isAddress cases.
        let a = TronAddress::parse("TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC").unwrap();
        assert_eq!(a.to_hex(), "417e5f4552091a69125d5dfcb7b8c2659029395bdf");
        assert_eq!(a.to_string(), "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC");
        for bad in [
            "TYPG8VeuoVAh2hP7Vfw6ww7vK98nvXXXUs",
            "TYPG8VeuoVAh2hP7Vfw6ww7vK98nvXXXUG89",
            "aYPG8VeuoVAh2hP7Vfw6ww7vK98nvXXXUG",
            "417e5f4552091a69125d5dfcb7b8c2659029395bdf",
            // A Bitcoin address: valid base58check, another version byte.
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        ] {
            assert!(TronAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(TronAddress::parse("TYPG8VeuoVAh2hP7Vfw6ww7vK98nvXXXUG").is_ok());
    }

    #[test]
    fn the_two_message_hashes() {
        assert_eq!(
            hex::encode(message_hash_v2(b"hello world")),
            "cf02daeb2bea196ed5692322a66ed50080ce74ff8cb711199f1b04f3c13bc10d"
        );
        let m = hex::decode("e66f4c8f323229131006ad3e4a2ca65dfdf339f0").unwrap();
        assert_eq!(
            hex::encode(message_hash_v1(&m)),
            "67ae7815ae47c17d7933564eb20996ea769fe7bdca05f35e657815bb9283bf96"
        );
        assert_eq!(
            hex::encode(message_hash_v2(&m)),
            "b4e220df6f091230d7b3fcb4fb718cb5eca0e09069afbd797a250a9ad71b03eb"
        );
    }
}
