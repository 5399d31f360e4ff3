//! Ethereum proofs of control: EIP-191 `personal_sign` signatures of externally owned accounts.
//!
//! The key is recovered with libsecp256k1 (through rust-bitcoin's `secp256k1`, already in the
//! tree) and hashed with Keccak-256 from `sha3`.

use crate::error::{Error, Result};
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, Secp256k1};
pub use por_core::evm::EthAddress;
use sha3::{Digest, Keccak256};

pub use por_core::evm::personal_message_hash;

/// The address that produced `sig` (0x + 130 hex: r ‖ s ‖ v, v in {0, 1, 27, 28}) over
/// `message` under EIP-191 version 0x45.
pub fn recover_personal(message: &[u8], sig: &str) -> Result<EthAddress> {
    Ok(address_of(&recover_personal_key(message, sig)?))
}

/// The Ethereum address of a secp256k1 key: the last 20 bytes of the Keccak-256 of its
/// uncompressed form without the 0x04 prefix.
pub fn address_of(key: &bitcoin::secp256k1::PublicKey) -> EthAddress {
    let uncompressed = key.serialize_uncompressed();
    let digest = Keccak256::digest(&uncompressed[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[12..]);
    EthAddress(a)
}

/// The secp256k1 key that produced `sig` over `message` (see [`recover_personal`]).
pub fn recover_personal_key(message: &[u8], sig: &str) -> Result<bitcoin::secp256k1::PublicKey> {
    recover_digest(personal_message_hash(message), sig)
}

/// The secp256k1 key that produced `sig` (0x + 130 hex: r ‖ s ‖ v, v in {0, 1, 27, 28}, the
/// `0x` optional) over a 32-byte digest: how Ethereum and TRON wallets write signatures. One
/// that does not decode is bad input; one from which no key recovers is a failed check.
pub fn recover_digest(digest: [u8; 32], sig: &str) -> Result<bitcoin::secp256k1::PublicKey> {
    let bad = || Error::input("signature: expected 0x followed by 130 hex digits (r, s, v)");
    let h = sig.strip_prefix("0x").unwrap_or(sig);
    if h.len() != 130 {
        return Err(bad());
    }
    let mut b = [0u8; 65];
    hex::decode_to_slice(h, &mut b).map_err(|_| bad())?;
    let v = match b[64] {
        27 | 28 => b[64] - 27,
        0 | 1 => b[64],
        other => {
            return Err(Error::input(format!(
                "signature: v is {other}, expected 27 or 28 (or 0 or 1)"
            )))
        }
    };
    let recid = RecoveryId::from_i32(i32::from(v)).map_err(|_| bad())?;
    let rsig = RecoverableSignature::from_compact(&b[..64], recid)
        .map_err(|_| Error::input("signature: r and s are not a valid ECDSA signature"))?;
    let msg = Message::from_digest(digest);
    let key = Secp256k1::verification_only()
        .recover_ecdsa(&msg, &rsig)
        .map_err(|_| {
            Error::failed("signature: no public key can be recovered from it for this message")
        })?;
    Ok(key)
}

/// Verifies that `address` signed `message` with `personal_sign`.
pub fn verify(address: &str, message: &[u8], sig: &str) -> Result<String> {
    let want = EthAddress::parse(address)?;
    let got = recover_personal(message, sig)?;
    if got != want {
        return Err(Error::failed(format!(
            "the signature was made by {got}, not by {want}"
        )));
    }
    Ok("EIP-191 personal_sign signature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum() {
        let a = EthAddress::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
        assert_eq!(
            a.checksummed(),
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        );
        assert!(EthAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").is_err());
        assert!(EthAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").is_ok());
    }
}
