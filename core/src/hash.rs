//! The tree's byte encodings and hashes. This module owns them; `spec/tree.md` describes them.
//!
//! Every hash input starts with a 16-byte domain tag (ASCII, zero-padded). The tags have equal
//! length and differ, so no encoding of one kind can be read as another: a leaf can never pose
//! as an inner node or a padding node, and a format change means new tags.

use crate::amount::Amount;
use sha2::{Digest, Sha256};
use std::fmt;

/// Version of the tree format; it is part of every tag.
pub const TREE_VERSION: u8 = 1;

const fn tag(text: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < text.len() {
        out[i] = text[i];
        i += 1;
    }
    out
}

/// Tag of the user commitment `H(user_id, salt)`.
pub const TAG_USER: [u8; 16] = tag(b"por/v1/user");
/// Tag of a leaf.
pub const TAG_LEAF: [u8; 16] = tag(b"por/v1/leaf");
/// Tag of an inner node.
pub const TAG_NODE: [u8; 16] = tag(b"por/v1/node");
/// Tag of a padding node (an empty subtree).
pub const TAG_PAD: [u8; 16] = tag(b"por/v1/pad");
/// Tag of the position derivation.
pub const TAG_POSITION: [u8; 16] = tag(b"por/v1/position");

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Lower-case hex, the only text form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 hex characters.
    pub fn from_hex(text: &str) -> Option<Hash> {
        parse_hex32(text).map(Hash)
    }
}

/// Parses exactly 128 hex characters into a 64-byte signature.
pub fn parse_signature(text: &str) -> Option<[u8; 64]> {
    let mut sig = [0u8; 64];
    (text.len() == 128 && hex::decode_to_slice(text, &mut sig).is_ok()).then_some(sig)
}

/// Parses the `public_key` and `signature` fields of a signed JSON document, naming them in
/// errors through `field`.
pub fn parse_key_and_signature(
    key: &str,
    sig: &str,
    field: impl Fn(&str) -> String,
) -> crate::error::Result<([u8; 32], [u8; 64])> {
    let k = parse_hex32(key).ok_or_else(|| {
        crate::error::Error::input(format!(
            "{}: expected 64 hex characters",
            field("public_key")
        ))
    })?;
    let s = parse_signature(sig).ok_or_else(|| {
        crate::error::Error::input(format!(
            "{}: expected 128 hex characters",
            field("signature")
        ))
    })?;
    Ok((k, s))
}

/// Parses exactly 64 hex characters into 32 bytes.
pub fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

fn finish(h: Sha256) -> Hash {
    Hash(h.finalize().into())
}

fn update_sums(h: &mut Sha256, sums: &[Amount]) {
    for s in sums {
        h.update(s.to_be_bytes());
    }
}

/// `H(TAG_USER ‖ u32be(len) ‖ user_id ‖ salt)`: hides the user id behind a per-customer salt.
pub fn user_commitment(user_id: &str, salt: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update(TAG_USER);
    h.update((user_id.len() as u32).to_be_bytes());
    h.update(user_id.as_bytes());
    h.update(salt);
    finish(h)
}

/// `H(TAG_LEAF ‖ user_commitment ‖ balances)`.
pub fn leaf_hash(user_commitment: &Hash, balances: &[Amount]) -> Hash {
    let mut h = Sha256::new();
    h.update(TAG_LEAF);
    h.update(user_commitment.0);
    update_sums(&mut h, balances);
    finish(h)
}

/// `H(TAG_NODE ‖ left.hash ‖ left.sums ‖ right.hash ‖ right.sums)`.
///
/// Both children's sums are hashed separately (not only their total), which closes the flaw of
/// Maxwell's original scheme: a prover cannot show one child's sums to one customer and other
/// sums to another.
pub fn node_hash(left: &Hash, left_sums: &[Amount], right: &Hash, right_sums: &[Amount]) -> Hash {
    // The tree's hot spot: the message is laid out once and hashed in one call (up to 30
    // assets on the stack), rather than fed in 19 or more small pieces.
    let len = 16 + 64 + 16 * (left_sums.len() + right_sums.len());
    let mut stack = [0u8; 16 + 64 + 16 * 60];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    buf[..16].copy_from_slice(&TAG_NODE);
    let mut at = 16;
    for (hash, sums) in [(left, left_sums), (right, right_sums)] {
        buf[at..at + 32].copy_from_slice(&hash.0);
        at += 32;
        for s in sums {
            buf[at..at + 16].copy_from_slice(&s.to_be_bytes());
            at += 16;
        }
    }
    Hash(Sha256::digest(buf).into())
}

/// `H(TAG_PAD ‖ padding_key ‖ u8(level) ‖ u64be(index))`: the hash of an empty subtree.
///
/// Derived from a secret so that empty subtrees look like any other node to customers, and
/// the proof reveals neither the number of customers nor where they sit.
pub fn padding_hash(padding_key: &[u8; 32], level: u8, index: u64) -> Hash {
    let mut h = Sha256::new();
    h.update(TAG_PAD);
    h.update(padding_key);
    h.update([level]);
    h.update(index.to_be_bytes());
    finish(h)
}

/// Candidate position number `attempt` for a user: the first 8 bytes of
/// `H(TAG_POSITION ‖ seed ‖ u32be(len) ‖ user_id ‖ u32be(attempt))`, read big-endian and
/// shifted right to `height` bits.
pub fn position_candidate(seed: &[u8; 32], user_id: &str, attempt: u32, height: u8) -> u64 {
    let mut h = Sha256::new();
    h.update(TAG_POSITION);
    h.update(seed);
    h.update((user_id.len() as u32).to_be_bytes());
    h.update(user_id.as_bytes());
    h.update(attempt.to_be_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    let x = u64::from_be_bytes(first);
    if height >= 64 {
        x
    } else {
        x >> (64 - u32::from(height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct_and_versioned() {
        let tags = [TAG_USER, TAG_LEAF, TAG_NODE, TAG_PAD, TAG_POSITION];
        for (i, a) in tags.iter().enumerate() {
            assert!(a.starts_with(b"por/v1/"));
            for b in &tags[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn node_hash_binds_each_childs_sums() {
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        // Same totals, different split between the children: different hashes.
        let h1 = node_hash(&a, &[Amount(10)], &b, &[Amount(0)]);
        let h2 = node_hash(&a, &[Amount(0)], &b, &[Amount(10)]);
        assert_ne!(h1, h2);
    }
}
