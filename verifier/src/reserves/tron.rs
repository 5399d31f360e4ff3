//! TRON proofs of control: a TronWeb signed message by the address's key.
//!
//! The signature is `r ‖ s ‖ v` (v 27/28, or 0/1), written as Ethereum's, over the TIP-191 hash of the challenge
//! (`signMessageV2`), or over the older V1 hash (`trx.sign`, the header fixed at 32); the key is
//! recovered with libsecp256k1 (rust-bitcoin's `secp256k1`) and must give the entry's address.
//! A key that signs for an address may no longer control it: a TRON account's owner permission
//! can name other keys. That permission is not read (no node answers it at a past height), so
//! the holding is UNVERIFIED (spec/reserves.md, "TRON and Solana").

use super::ethereum::recover_digest;
use crate::error::{Error, Result};
use bitcoin::secp256k1::PublicKey;
use por_core::tron::{message_hash_v1, message_hash_v2, TronAddress};

/// The key that signed `message` for `address`, and which of the two hashes it signed.
pub fn signer(
    address: &TronAddress,
    message: &[u8],
    sig: &str,
) -> Result<(PublicKey, &'static str)> {
    let mut seen = Vec::new();
    for (hash, what) in [
        (message_hash_v2(message), "TIP-191 signMessageV2"),
        (message_hash_v1(message), "TronWeb V1 signature (header 32)"),
    ] {
        let key = recover_digest(hash, sig)?;
        let got = TronAddress::of_uncompressed_key(&key.serialize_uncompressed());
        if got == *address {
            return Ok((key, what));
        }
        seen.push(got.to_string());
    }
    Err(Error::failed(format!(
        "the signature was made by {} (TIP-191) or {} (V1), not by {address}",
        seen[0], seen[1]
    )))
}

/// Verifies that `address` (base58) signed `message`; `Ok` names the standard. An address or
/// signature that does not decode is bad input; one that decodes and does not prove control is
/// a failed check.
pub fn verify(address: &str, message: &[u8], sig: &str) -> Result<String> {
    let a = TronAddress::parse(address).map_err(|m| Error::input(format!("address: {m}")))?;
    signer(&a, message, sig).map(|(_, what)| what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};

    fn sign(sk: &SecretKey, hash: [u8; 32]) -> String {
        let sig = Secp256k1::new().sign_ecdsa_recoverable(&Message::from_digest(hash), sk);
        let (recid, compact) = sig.serialize_compact();
        let mut out = compact.to_vec();
        out.push(27 + recid.to_i32() as u8);
        format!("0x{}", hex::encode(out))
    }

    #[test]
    fn both_tronweb_hashes_and_no_other_address() {
        let sk = SecretKey::from_slice(&[7; 32]).unwrap();
        let pk = sk.public_key(&Secp256k1::new());
        let addr = TronAddress::of_uncompressed_key(&pk.serialize_uncompressed());
        let msg = b"Proof of reserves challenge v2";
        let v2 = sign(&sk, message_hash_v2(msg));
        let v1 = sign(&sk, message_hash_v1(msg));
        assert_eq!(
            verify(&addr.to_string(), msg, &v2).unwrap(),
            "TIP-191 signMessageV2"
        );
        assert!(verify(&addr.to_string(), msg, &v1).unwrap().contains("V1"));
        let other = TronAddress::of_uncompressed_key(
            &SecretKey::from_slice(&[8; 32])
                .unwrap()
                .public_key(&Secp256k1::new())
                .serialize_uncompressed(),
        );
        let e = verify(&other.to_string(), msg, &v2).unwrap_err();
        assert!(
            e.message().contains(&addr.to_string()) && e.message().contains("not by"),
            "{e:?}"
        );
        assert_eq!(e.kind(), crate::ErrorKind::Failed);
        // The hex form of the address is not an address of a signed entry.
        assert!(verify(&addr.to_hex(), msg, &v2).is_err());
        assert_eq!(
            verify(&addr.to_string(), msg, "0x00").unwrap_err().kind(),
            crate::ErrorKind::BadInput
        );
    }
}
