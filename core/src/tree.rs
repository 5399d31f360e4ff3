//! Folding an inclusion path (spec/tree.md): the whole of what a customer's check computes
//! over the tree. Building trees is the prover's and auditor's business (`por-verifier`).
//!
//! The tree is generic over what a node carries per asset ([`NodeContent`]): sums in the clear
//! ([`Sums`], the transparent mode) or commitments to them (the hidden-sums mode,
//! `crate::hidden`). A content type gives the node hash and the merge rule (a parent's content
//! from its children's); the walk up the path is the same code for both.

use crate::amount::{add_sums, Amount};
use crate::hash::{node_hash, Hash};

/// The highest tree height supported (positions are `u64`).
pub const MAX_HEIGHT: u8 = 64;

/// What a node carries per asset, and how a parent is made from its two children.
pub trait NodeContent {
    /// The per-asset content of a node.
    type Unit: Clone;
    /// The parent's hash from both children's hashes and contents (both contents hashed
    /// separately, not only their merge: the fix to Maxwell's scheme).
    fn node_hash(
        &self,
        left: &Hash,
        left_units: &[Self::Unit],
        right: &Hash,
        right_units: &[Self::Unit],
    ) -> Hash;
    /// Merges `other` into `acc` (same length): the parent's content. On failure, the index of
    /// the asset that could not be merged (a sum past 128 bits).
    fn merge(&self, acc: &mut [Self::Unit], other: &[Self::Unit]) -> Result<(), usize>;
}

/// The transparent mode: every node shows its per-asset sums.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sums;

impl NodeContent for Sums {
    type Unit = Amount;
    fn node_hash(&self, left: &Hash, ls: &[Amount], right: &Hash, rs: &[Amount]) -> Hash {
        node_hash(left, ls, right, rs)
    }
    fn merge(&self, acc: &mut [Amount], other: &[Amount]) -> Result<(), usize> {
        add_sums(acc, other)
    }
}

/// One step of an inclusion path: the sibling's hash and per-asset content (its sums in the
/// transparent mode, its commitments in the hidden-sums mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sibling<U = Amount> {
    /// The sibling's hash.
    pub hash: Hash,
    /// The sibling's per-asset content.
    pub sums: Vec<U>,
}

/// Folds a leaf and its path up to the root, checking every sum. Returns the root hash and
/// sums. This is the whole of what a customer's verifier computes.
pub fn fold_path(
    leaf: Hash,
    leaf_sums: &[Amount],
    position: u64,
    path: &[Sibling],
) -> std::result::Result<(Hash, Vec<Amount>), FoldError> {
    fold_path_with(&Sums, leaf, leaf_sums, position, path)
}

/// [`fold_path`] for any node content.
pub fn fold_path_with<C: NodeContent>(
    content: &C,
    leaf: Hash,
    leaf_units: &[C::Unit],
    position: u64,
    path: &[Sibling<C::Unit>],
) -> std::result::Result<(Hash, Vec<C::Unit>), FoldError> {
    let mut hash = leaf;
    let mut units = leaf_units.to_vec();
    for (l, sib) in path.iter().enumerate() {
        if sib.sums.len() != units.len() {
            return Err(FoldError::SumsLength {
                level: l,
                found: sib.sums.len(),
                expected: units.len(),
            });
        }
        let is_right = l < 64 && (position >> l) & 1 == 1;
        hash = if is_right {
            content.node_hash(&sib.hash, &sib.sums, &hash, &units)
        } else {
            content.node_hash(&hash, &units, &sib.hash, &sib.sums)
        };
        content
            .merge(&mut units, &sib.sums)
            .map_err(|asset| FoldError::Overflow {
                level: l + 1,
                asset,
            })?;
    }
    Ok((hash, units))
}

/// Why a path could not be folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldError {
    /// A parent's sum would exceed 128 bits.
    Overflow {
        /// The level of the parent (1 = just above the leaves).
        level: usize,
        /// The asset's index.
        asset: usize,
    },
    /// A sibling has the wrong number of sums.
    SumsLength {
        /// The level of the sibling (0 = leaf level).
        level: usize,
        /// Sums found.
        found: usize,
        /// Sums expected.
        expected: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn a_path_folds_left_or_right_by_the_position_bits() {
        let leaf_sums = [Amount(5)];
        let leaf = leaf_hash(&Hash([1; 32]), &leaf_sums);
        let sib = Sibling {
            hash: Hash([2; 32]),
            sums: vec![Amount(7)],
        };
        let (at0, s0) = fold_path(leaf, &leaf_sums, 0, std::slice::from_ref(&sib)).unwrap();
        let (at1, s1) = fold_path(leaf, &leaf_sums, 1, std::slice::from_ref(&sib)).unwrap();
        assert_eq!(at0, node_hash(&leaf, &leaf_sums, &sib.hash, &sib.sums));
        assert_eq!(at1, node_hash(&sib.hash, &sib.sums, &leaf, &leaf_sums));
        assert_eq!((s0, s1), (vec![Amount(12)], vec![Amount(12)]));
    }

    #[test]
    fn overflow_and_wrong_widths_are_refused() {
        let leaf = Hash([1; 32]);
        let big = Sibling {
            hash: Hash([2; 32]),
            sums: vec![Amount(u128::MAX)],
        };
        assert_eq!(
            fold_path(leaf, &[Amount(1)], 0, &[big]),
            Err(FoldError::Overflow { level: 1, asset: 0 })
        );
        let wide = Sibling {
            hash: Hash([2; 32]),
            sums: vec![Amount(1), Amount(2)],
        };
        assert_eq!(
            fold_path(leaf, &[Amount(1)], 0, &[wide]),
            Err(FoldError::SumsLength {
                level: 0,
                found: 2,
                expected: 1
            })
        );
    }
}
