//! Folding an inclusion path (spec/tree.md): the whole of what a customer's check computes
//! over the tree. Building trees is the prover's and auditor's business (`por-verifier`).

use crate::amount::{add_sums, Amount};
use crate::hash::{node_hash, Hash};

/// The highest tree height supported (positions are `u64`).
pub const MAX_HEIGHT: u8 = 64;

/// One step of an inclusion path: the sibling's hash and sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sibling {
    /// The sibling's hash.
    pub hash: Hash,
    /// The sibling's per-asset sums.
    pub sums: Vec<Amount>,
}

/// Folds a leaf and its path up to the root, checking every sum. Returns the root hash and
/// sums. This is the whole of what a customer's verifier computes.
pub fn fold_path(
    leaf: Hash,
    leaf_sums: &[Amount],
    position: u64,
    path: &[Sibling],
) -> std::result::Result<(Hash, Vec<Amount>), FoldError> {
    let mut hash = leaf;
    let mut sums = leaf_sums.to_vec();
    for (l, sib) in path.iter().enumerate() {
        if sib.sums.len() != sums.len() {
            return Err(FoldError::SumsLength {
                level: l,
                found: sib.sums.len(),
                expected: sums.len(),
            });
        }
        let is_right = l < 64 && (position >> l) & 1 == 1;
        hash = if is_right {
            node_hash(&sib.hash, &sib.sums, &hash, &sums)
        } else {
            node_hash(&hash, &sums, &sib.hash, &sib.sums)
        };
        add_sums(&mut sums, &sib.sums).map_err(|asset| FoldError::Overflow {
            level: l + 1,
            asset,
        })?;
    }
    Ok((hash, sums))
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
