//! Safe multisig proofs of control: the owners' signatures over the Safe's own message hash.
//!
//! Offline, each signature is an owner's ECDSA signature over
//! [`por_core::safe::message_hash`] of the challenge, recovered as `Safe.checkSignatures`
//! does for the two kinds an owner's key makes: `v` 27 or 28 over the hash itself (an EIP-712
//! signature, what Safe{Wallet} asks a hardware wallet for), `v` 31 or 32 over the EIP-191
//! hash of it (`eth_sign`, `v` raised by 4 to say so). The Safe's other kinds (`v` 0, a
//! contract owner; `v` 1, a hash approved on chain) are refused: they prove nothing offline.
//! Which keys are the owners, and how many must sign, is read on chain at the snapshot block
//! ([`crate::chain::ethereum::EthereumNode::safe_control`]); without a node a Safe entry's
//! control is not established, and it is not counted.

use crate::reserves::ethereum::EthAddress;
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1};
use por_core::safe::{challenge_message, message_hash, SafeVersion};
use sha3::{Digest, Keccak256};

/// An owner's signature, recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSignature {
    /// The address that signed.
    pub owner: EthAddress,
    /// Its key (for the custody table's key count).
    pub key: PublicKey,
}

/// The most owner signatures one entry may carry: far above any Safe's threshold in use, and a
/// bound on the recoveries a statement can make a customer's machine do.
pub const MAX_OWNER_SIGNATURES: usize = 64;

fn address_of(key: &PublicKey) -> EthAddress {
    let d = Keccak256::digest(&key.serialize_uncompressed()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[12..]);
    EthAddress(a)
}

/// Recovers the owner behind one signature over the Safe message hash `hash`.
pub fn recover_owner(hash: &[u8; 32], sig: &str) -> Result<OwnerSignature, String> {
    let bad = || "expected 0x followed by 130 hex digits (r, s, v)".to_string();
    let h = sig.strip_prefix("0x").ok_or_else(bad)?;
    if h.len() != 130 {
        return Err(bad());
    }
    let mut b = [0u8; 65];
    hex::decode_to_slice(h, &mut b).map_err(|_| bad())?;
    let (digest, v) = match b[64] {
        27 | 28 => (*hash, b[64] - 27),
        31 | 32 => {
            let mut k = Keccak256::new();
            k.update(b"\x19Ethereum Signed Message:\n32");
            k.update(hash);
            (k.finalize().into(), b[64] - 31)
        }
        0 => return Err("v is 0: a contract owner's signature, which cannot be checked offline; only owners' own keys count".into()),
        1 => return Err("v is 1: a hash approved on chain, not a signature; only owners' own signatures count".into()),
        other => return Err(format!("v is {other}, expected 27 or 28 (EIP-712) or 31 or 32 (eth_sign)")),
    };
    let recid = RecoveryId::from_i32(i32::from(v)).map_err(|_| bad())?;
    let rsig = RecoverableSignature::from_compact(&b[..64], recid)
        .map_err(|_| "r and s are not a valid ECDSA signature".to_string())?;
    let key = Secp256k1::verification_only()
        .recover_ecdsa(&Message::from_digest(digest), &rsig)
        .map_err(|_| {
            "no public key can be recovered from it for this Safe's message".to_string()
        })?;
    Ok(OwnerSignature {
        owner: address_of(&key),
        key,
    })
}

/// Recovers every signature's owner for `challenge` at `safe` on chain `chain_id`; an owner
/// who appears twice is refused (a Safe counts each owner once, so a second signature of one
/// key would stand in for an owner who did not sign).
pub fn owner_signatures(
    version: SafeVersion,
    chain_id: u64,
    safe: &EthAddress,
    challenge: &str,
    signatures: &[String],
) -> Result<Vec<OwnerSignature>, String> {
    // Safe{Wallet} exports the owners' signatures as one string, 65 bytes each in a row (the
    // form `checkSignatures` takes); a list of single signatures is the same.
    let mut parts: Vec<String> = Vec::new();
    for s in signatures {
        let joined = s
            .strip_prefix("0x")
            .filter(|b| b.len() > 130 && b.len() % 130 == 0 && b.is_ascii());
        if let Some(body) = joined {
            for i in 0..body.len() / 130 {
                if parts.len() > MAX_OWNER_SIGNATURES {
                    break;
                }
                parts.push(format!("0x{}", &body[i * 130..(i + 1) * 130]));
            }
        } else {
            parts.push(s.clone());
        }
        if parts.len() > MAX_OWNER_SIGNATURES {
            return Err(format!(
                "more than the {MAX_OWNER_SIGNATURES} owner signatures an entry may carry"
            ));
        }
    }
    let signatures = &parts;
    let hash = message_hash(
        version,
        chain_id,
        safe,
        &challenge_message(challenge.as_bytes()),
    );
    let mut out: Vec<OwnerSignature> = Vec::with_capacity(signatures.len());
    for (i, s) in signatures.iter().enumerate() {
        let o = recover_owner(&hash, s).map_err(|e| format!("signature {}: {e}", i + 1))?;
        if let Some(j) = out.iter().position(|p| p.owner == o.owner) {
            return Err(format!(
                "signatures {} and {} are both by {}: one owner counts once, so the Safe's threshold is not met by distinct owners",
                j + 1,
                i + 1,
                o.owner
            ));
        }
        out.push(o);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::SecretKey;

    fn sign(sk: &SecretKey, digest: [u8; 32], add: u8) -> String {
        let sig = Secp256k1::new().sign_ecdsa_recoverable(&Message::from_digest(digest), sk);
        let (recid, compact) = sig.serialize_compact();
        let mut out = compact.to_vec();
        out.push(add + recid.to_i32() as u8);
        format!("0x{}", hex::encode(out))
    }

    #[test]
    fn both_owner_signature_kinds_recover_and_a_repeat_is_refused() {
        let sk = SecretKey::from_slice(&[3; 32]).unwrap();
        let safe = EthAddress([9; 20]);
        let v = SafeVersion::V1_4_1;
        let hash = message_hash(v, 1, &safe, &challenge_message(b"challenge"));
        let direct = sign(&sk, hash, 27);
        let mut k = Keccak256::new();
        k.update(b"\x19Ethereum Signed Message:\n32");
        k.update(hash);
        let eth_sign = sign(&sk, k.finalize().into(), 31);
        let a = owner_signatures(v, 1, &safe, "challenge", std::slice::from_ref(&direct)).unwrap();
        let b =
            owner_signatures(v, 1, &safe, "challenge", std::slice::from_ref(&eth_sign)).unwrap();
        assert_eq!(a[0].owner, b[0].owner);
        // The same owner twice, in either kind.
        let twice = owner_signatures(v, 1, &safe, "challenge", &[direct.clone(), eth_sign]);
        assert!(twice.unwrap_err().contains("both by"));
        // Another chain or another version: another hash, so another (wrong) signer.
        let other = owner_signatures(v, 5, &safe, "challenge", std::slice::from_ref(&direct));
        assert_ne!(other.unwrap()[0].owner, a[0].owner);
        // Contract and approved-hash kinds are refused by name.
        let mut c = direct.clone();
        c.replace_range(130.., "00");
        assert!(owner_signatures(v, 1, &safe, "challenge", &[c])
            .unwrap_err()
            .contains("contract owner"));
        let many = vec![direct.clone(); MAX_OWNER_SIGNATURES + 1];
        assert!(owner_signatures(v, 1, &safe, "challenge", &many).is_err());
        // Two owners' signatures in one string, as Safe{Wallet} exports them.
        let sk2 = SecretKey::from_slice(&[4; 32]).unwrap();
        let second = sign(&sk2, hash, 27);
        let joined = format!("{direct}{}", &second[2..]);
        let both = owner_signatures(v, 1, &safe, "challenge", &[joined]).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].owner, a[0].owner);
    }
}
