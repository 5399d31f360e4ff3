//! The hidden-sums tree's node content (the tree mode that will use it is issue 7's next
//! step): per asset a commitment `C = v·G + r·H` where the transparent tree has a sum.
//!
//! - **Blindings** come from a secret key of one attestation through a PRF, so proofs can be
//!   made again and the auditor can recompute them: `r = SHA-512(TAG_BLIND ‖ key ‖ u8(level) ‖
//!   u64be(index) ‖ u16be(asset))` read little-endian and reduced modulo the group order (512
//!   bits reduced: bias below 2^-256). Leaves (level 0) and padding nodes (any level) draw
//!   theirs; an inner node's blinding is the sum of its children's, as its commitment is the
//!   sum of theirs. A new key each month: blindings reused on an unchanged balance would link a
//!   customer's commitments from month to month.
//! - **Leaf hash** `H(TAG_HLEAF ‖ user_commitment ‖ C_1 ‖ … ‖ C_k)`: it binds the salted user
//!   commitment and the leaf's commitments, never balances in the clear (a balance in a hash
//!   could be found by trying amounts).
//! - **Node hash** `H(TAG_HNODE ‖ left.hash ‖ left.C_1..k ‖ right.hash ‖ right.C_1..k)`: both
//!   children's commitments separately, not only their sum (the fix to Maxwell's scheme: a
//!   prover cannot show one split of a sum to one customer and another split to another).
//! - **Padding node** at `(level, index)`: the transparent tree's secret padding hash, and
//!   commitments to zero with PRF blindings, so it looks like any other node.
//!
//! Points enter hashes as their 32-byte encodings; tags are 16 bytes, the ASCII name padded
//! with zeros, as in the transparent tree.

use crate::encoding::point_bytes;
use crate::generators::Generators;
use crate::{Point, Scalar};
use ark_bn254::G1Projective;
use ark_ec::CurveGroup;
use ark_ff::PrimeField;
use sha2::{Digest, Sha256, Sha512};

const fn tag(text: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < text.len() {
        out[i] = text[i];
        i += 1;
    }
    out
}

/// Tag of the blinding PRF.
pub const TAG_BLIND: [u8; 16] = tag(b"por/v1/blind");
/// Tag of a hidden-sums leaf.
pub const TAG_HLEAF: [u8; 16] = tag(b"por/v1/hleaf");
/// Tag of a hidden-sums inner node.
pub const TAG_HNODE: [u8; 16] = tag(b"por/v1/hnode");

/// The blinding of node `(level, index)` for asset number `asset` (leaves and padding nodes).
pub fn blinding(key: &[u8; 32], level: u8, index: u64, asset: u16) -> Scalar {
    let mut h = Sha512::new();
    h.update(TAG_BLIND);
    h.update(key);
    h.update([level]);
    h.update(index.to_be_bytes());
    h.update(asset.to_be_bytes());
    Scalar::from_le_bytes_mod_order(&h.finalize())
}

/// A node of the hidden-sums tree as a customer sees it: its hash and its commitments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenNode {
    /// The node's hash.
    pub hash: [u8; 32],
    /// One commitment per asset.
    pub commitments: Vec<Point>,
}

/// A node with the openings only the exchange (and its auditor) knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNode {
    /// What customers see.
    pub node: HiddenNode,
    /// The committed values, one per asset.
    pub values: Vec<u128>,
    /// The blindings, one per asset.
    pub blindings: Vec<Scalar>,
}

/// `H(TAG_HLEAF ‖ user_commitment ‖ C_1 ‖ … ‖ C_k)`.
pub fn leaf_hash(user_commitment: &[u8; 32], commitments: &[Point]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG_HLEAF);
    h.update(user_commitment);
    for c in commitments {
        h.update(point_bytes(c));
    }
    h.finalize().into()
}

/// `H(TAG_HNODE ‖ left.hash ‖ left's commitments ‖ right.hash ‖ right's commitments)`.
pub fn node_hash(left: &HiddenNode, right: &HiddenNode) -> [u8; 32] {
    node_hash_parts(
        &left.hash,
        &left.commitments,
        &right.hash,
        &right.commitments,
    )
}

/// [`node_hash`] from the children's hashes and commitments.
pub fn node_hash_parts(
    left: &[u8; 32],
    left_commitments: &[Point],
    right: &[u8; 32],
    right_commitments: &[Point],
) -> [u8; 32] {
    node_hash_encoded(
        left,
        left_commitments.iter().map(point_bytes),
        right,
        right_commitments.iter().map(point_bytes),
    )
}

/// [`node_hash`] from the children's hashes and encoded commitments.
pub fn node_hash_encoded(
    left: &[u8; 32],
    left_commitments: impl Iterator<Item = [u8; 32]>,
    right: &[u8; 32],
    right_commitments: impl Iterator<Item = [u8; 32]>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG_HNODE);
    h.update(left);
    for c in left_commitments {
        h.update(c);
    }
    h.update(right);
    for c in right_commitments {
        h.update(c);
    }
    h.finalize().into()
}

/// A customer's leaf at `position`, its blindings from `key`.
pub fn leaf(
    gens: &Generators,
    key: &[u8; 32],
    position: u64,
    user_commitment: &[u8; 32],
    balances: &[u128],
) -> OpenedNode {
    let blindings: Vec<Scalar> = (0..balances.len())
        .map(|a| blinding(key, 0, position, a as u16))
        .collect();
    let commitments = commit_all(gens, balances, &blindings);
    OpenedNode {
        node: HiddenNode {
            hash: leaf_hash(user_commitment, &commitments),
            commitments,
        },
        values: balances.to_vec(),
        blindings,
    }
}

/// The padding node at `(level, index)` for `assets` assets, with the transparent tree's
/// secret padding hash `pad_hash` of that place.
pub fn padding(
    gens: &Generators,
    key: &[u8; 32],
    pad_hash: [u8; 32],
    level: u8,
    index: u64,
    assets: usize,
) -> OpenedNode {
    let blindings: Vec<Scalar> = (0..assets)
        .map(|a| blinding(key, level, index, a as u16))
        .collect();
    let values = vec![0u128; assets];
    let commitments = commit_all(gens, &values, &blindings);
    OpenedNode {
        node: HiddenNode {
            hash: pad_hash,
            commitments,
        },
        values,
        blindings,
    }
}

/// The parent of two opened nodes: commitments, values and blindings add up. `None` if a
/// value would exceed 128 bits.
pub fn parent(left: &OpenedNode, right: &OpenedNode) -> Option<OpenedNode> {
    let values = left
        .values
        .iter()
        .zip(&right.values)
        .map(|(a, b)| a.checked_add(*b))
        .collect::<Option<Vec<u128>>>()?;
    Some(OpenedNode {
        node: HiddenNode {
            hash: node_hash(&left.node, &right.node),
            commitments: add_points(&left.node.commitments, &right.node.commitments),
        },
        values,
        blindings: left
            .blindings
            .iter()
            .zip(&right.blindings)
            .map(|(a, b)| *a + b)
            .collect(),
    })
}

/// What a customer computes going up: the parent of two nodes it sees.
pub fn fold(left: &HiddenNode, right: &HiddenNode) -> HiddenNode {
    HiddenNode {
        hash: node_hash(left, right),
        commitments: add_points(&left.commitments, &right.commitments),
    }
}

/// Whether `commitments` open to `values` with `blindings` (the root against the signed
/// totals and blinding sums; a leaf against the customer's balances).
pub fn opens(
    gens: &Generators,
    commitments: &[Point],
    values: &[u128],
    blindings: &[Scalar],
) -> bool {
    commitments.len() == values.len()
        && values.len() == blindings.len()
        && commit_all(gens, values, blindings) == commitments
}

fn commit_all(gens: &Generators, values: &[u128], blindings: &[Scalar]) -> Vec<Point> {
    let points: Vec<G1Projective> = values
        .iter()
        .zip(blindings)
        .map(|(v, r)| {
            G1Projective::from(gens.g) * Scalar::from(*v) + G1Projective::from(gens.h) * r
        })
        .collect();
    G1Projective::normalize_batch(&points)
}

fn add_points(a: &[Point], b: &[Point]) -> Vec<Point> {
    let sums: Vec<G1Projective> = a.iter().zip(b).map(|(x, y)| *x + *y).collect();
    G1Projective::normalize_batch(&sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gens() -> std::sync::Arc<Generators> {
        Generators::at_least(1)
    }

    #[test]
    fn parents_commit_to_the_sums_of_their_children() {
        let g = gens();
        let key = [7u8; 32];
        let a = leaf(&g, &key, 4, &[1; 32], &[100, u128::MAX / 4]);
        let b = padding(&g, &key, [9; 32], 0, 5, 2);
        let p = parent(&a, &b).unwrap();
        assert_eq!(p.values, vec![100, u128::MAX / 4]);
        assert!(opens(&g, &p.node.commitments, &p.values, &p.blindings));
        assert_eq!(fold(&a.node, &b.node), p.node);
        // The padding node commits to zero, with a blinding nobody else knows.
        assert!(opens(&g, &b.node.commitments, &[0, 0], &b.blindings));
        assert!(!opens(
            &g,
            &b.node.commitments,
            &[0, 0],
            &[Scalar::from(0u64); 2]
        ));
        // Overflow past 128 bits is refused.
        let big = leaf(&g, &key, 6, &[1; 32], &[u128::MAX, 0]);
        assert!(parent(&big, &a).is_none());
    }

    #[test]
    fn blindings_depend_on_every_input() {
        let k = [1u8; 32];
        let base = blinding(&k, 0, 10, 0);
        assert_ne!(base, blinding(&[2; 32], 0, 10, 0));
        assert_ne!(base, blinding(&k, 1, 10, 0));
        assert_ne!(base, blinding(&k, 0, 11, 0));
        assert_ne!(base, blinding(&k, 0, 10, 1));
        assert_eq!(base, blinding(&k, 0, 10, 0));
    }

    #[test]
    fn the_node_hash_binds_each_childs_commitments() {
        // The Maxwell trick: move value between the two children, same total. The parent's
        // commitment is the same; its hash is not.
        let g = gens();
        let key = [3u8; 32];
        let l = leaf(&g, &key, 0, &[1; 32], &[70]);
        let r = leaf(&g, &key, 1, &[2; 32], &[30]);
        let p = parent(&l, &r).unwrap();
        let shift = G1Projective::from(g.g) * Scalar::from(20u64);
        let l2 = HiddenNode {
            hash: l.node.hash,
            commitments: vec![(G1Projective::from(l.node.commitments[0]) - shift).into_affine()],
        };
        let r2 = HiddenNode {
            hash: r.node.hash,
            commitments: vec![(G1Projective::from(r.node.commitments[0]) + shift).into_affine()],
        };
        let p2 = fold(&l2, &r2);
        assert_eq!(p2.commitments, p.node.commitments);
        assert_ne!(p2.hash, p.node.hash);
        // A leaf's hash changes with its commitments too.
        assert_ne!(leaf_hash(&[1; 32], &l2.commitments), l.node.hash);
    }
}
