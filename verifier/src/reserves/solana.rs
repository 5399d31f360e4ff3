//! Solana proofs of control: an ed25519 signature by the address's key (ed25519-dalek,
//! `verify_strict`, as the exchange's own signatures are checked).
//!
//! Wallets sign the challenge's bytes as they are (`signMessage`: Phantom, Solflare, the wallet
//! standard), or inside the off-chain message envelope (`solana sign-offchain-message`); both
//! are accepted. An SPL token's balance is held in a token account whose owner is this key,
//! and which may have a delegate; neither is read (Solana's RPC keeps current state only), so
//! the holding is UNVERIFIED (spec/reserves.md, "TRON and Solana").

use crate::error::{Error, Result};
use ed25519_dalek::{Signature, VerifyingKey};
use por_core::solana::{offchain_envelope, SolanaKey};

/// The signature's 64 bytes: base58 (as wallets return it) or 128 hex digits (with or
/// without `0x`).
fn signature_bytes(sig: &str) -> Result<[u8; 64]> {
    let bad = || Error::input("signature: expected 64 bytes in base58 or 128 hex digits");
    let h = sig.strip_prefix("0x").unwrap_or(sig);
    let bytes = if h.len() == 128 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(h).map_err(|_| bad())?
    } else if sig.len() <= 88 {
        // 64 bytes are at most 88 base58 characters; decoding is quadratic, so bound it first.
        bitcoin::base58::decode(sig).map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    bytes.as_slice().try_into().map_err(|_| bad())
}

/// Verifies that `address` signed `message`; `Ok` names the form it signed. An address or
/// signature that does not decode is bad input; one that decodes and does not verify is a
/// failed check.
pub fn verify(address: &str, message: &[u8], sig: &str) -> Result<String> {
    let key = SolanaKey::parse(address).map_err(|m| Error::input(format!("address: {m}")))?;
    let s = Signature::from_bytes(&signature_bytes(sig)?);
    // An off-curve address (a program-derived one) has no key: nothing signs for it.
    let vk = VerifyingKey::from_bytes(key.bytes()).map_err(|_| {
        Error::failed(format!(
            "{address} is not an ed25519 public key (a program-derived address): no key signs for it"
        ))
    })?;
    if vk.verify_strict(message, &s).is_ok() {
        return Ok("ed25519 signMessage".into());
    }
    if let Some(env) = offchain_envelope(message) {
        if vk.verify_strict(&env, &s).is_ok() {
            return Ok("ed25519 off-chain message (sign-offchain-message)".into());
        }
    }
    Err(Error::failed(format!(
        "the signature is not {address}'s over this message, neither as the bytes themselves nor in the off-chain message envelope"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn both_forms_and_no_other_key() {
        let sk = SigningKey::from_bytes(&[5; 32]);
        let addr = SolanaKey::from_bytes(sk.verifying_key().to_bytes()).to_string();
        let msg = b"Proof of reserves challenge v2\nChain: solana";
        let plain = sk.sign(msg);
        let env = sk.sign(&offchain_envelope(msg).unwrap());
        assert_eq!(
            verify(&addr, msg, &hex::encode(plain.to_bytes())).unwrap(),
            "ed25519 signMessage"
        );
        assert!(
            verify(&addr, msg, &bitcoin::base58::encode(&env.to_bytes()))
                .unwrap()
                .contains("off-chain")
        );
        let other =
            SolanaKey::from_bytes(SigningKey::from_bytes(&[6; 32]).verifying_key().to_bytes());
        assert!(verify(&other.to_string(), msg, &hex::encode(plain.to_bytes())).is_err());
        assert!(verify(&addr, b"another", &hex::encode(plain.to_bytes())).is_err());
        assert!(verify(&addr, msg, "00").is_err());
    }
}
