//! The exchange's private state: everything needed to hand out proofs and to audit.
//!
//! `por-prove build --out DIR` writes `DIR/attestation.json` (public) and `DIR/private/`:
//! - `state.json`: the secrets (position seed, padding key) and the tree's shape;
//! - `leaves.csv`: `position,salt,user_id,SYMBOL:DECIMALS,...`, one leaf per customer, sorted
//!   by position, balances in the asset's unit as in the export;
//! - `liabilities.csv`: the export the tree was built from, as the auditor's default ledger.
//!
//! The auditor reads this format, so it lives in the verifier.

use crate::amount::Amount;
use crate::asset::Asset;
use crate::error::{read_file, Error, Result};
use crate::hash::{leaf_hash, parse_hex32, position_candidate, user_commitment, Hash};
use crate::liabilities::{LiabilitiesReader, Negatives};
use crate::tree::Level;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The format string of the state file.
pub const STATE_FORMAT: &str = "por-private-state-v1";
/// Subdirectory of the output directory holding private files.
pub const PRIVATE_DIR: &str = "private";
/// Name of the public attestation inside the output directory.
pub const ATTESTATION_FILE: &str = "attestation.json";
/// Name of the secrets file.
pub const STATE_FILE: &str = "state.json";
/// Name of the leaves file.
pub const LEAVES_FILE: &str = "leaves.csv";
/// Name of the copy of the liabilities export.
pub const LEDGER_FILE: &str = "liabilities.csv";

/// The secrets and shape of one attestation's tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PrivateState {
    /// Always `STATE_FORMAT`.
    pub format: String,
    /// The exchange.
    pub exchange: String,
    /// The period.
    pub period: String,
    /// The assets, in tree order.
    pub assets: Vec<Asset>,
    /// The tree height.
    pub tree_height: u8,
    /// Hex: the seed from which positions are derived.
    pub position_seed: String,
    /// Hex: the key from which padding hashes are derived.
    pub padding_key: String,
    /// Number of customers in the tree.
    pub customers: u64,
    /// Rows whose negative balances were clamped to zero.
    pub clamped_rows: u64,
    /// Hex SHA-256 of the liabilities export the tree was built from.
    pub liabilities_sha256: String,
    /// Hex: the key from which the hidden-sums blindings are derived (that mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blinding_key: Option<String>,
}

impl PrivateState {
    /// The hidden-sums blinding key; an error when the state has none.
    pub fn blinding_key(&self) -> Result<[u8; 32]> {
        self.blinding_key
            .as_deref()
            .and_then(parse_hex32)
            .ok_or_else(|| {
                Error::input(
                    "the private state has no valid blinding_key, which a hidden-sums attestation needs",
                )
            })
    }

    /// Reads `DIR/private/state.json`.
    pub fn read(dir: &Path) -> Result<PrivateState> {
        let path = private_path(dir, STATE_FILE);
        let bytes = read_file(&path)?;
        let s: PrivateState = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(format!("{}: not a valid state file: {e}", path.display()))
        })?;
        if s.format != STATE_FORMAT {
            return Err(Error::input(format!(
                "{}, field format: expected {STATE_FORMAT:?}",
                path.display()
            )));
        }
        s.padding_key()?;
        s.position_seed()?;
        Ok(s)
    }

    /// The padding key as bytes.
    pub fn padding_key(&self) -> Result<[u8; 32]> {
        parse_hex32(&self.padding_key).ok_or_else(|| {
            Error::input("state.json, field padding_key: expected 64 hex characters")
        })
    }

    /// The tree's shape and padding key, as needed to rebuild it.
    pub fn tree_params(&self) -> Result<crate::tree::TreeParams> {
        Ok(crate::tree::TreeParams {
            height: self.tree_height,
            assets: self.assets.len(),
            padding_key: self.padding_key()?,
        })
    }

    /// The position seed as bytes.
    pub fn position_seed(&self) -> Result<[u8; 32]> {
        parse_hex32(&self.position_seed).ok_or_else(|| {
            Error::input("state.json, field position_seed: expected 64 hex characters")
        })
    }
}

/// `DIR/private/NAME`.
pub fn private_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(PRIVATE_DIR).join(name)
}

/// The leaves of a tree as stored in `leaves.csv`, with their hashes computed.
pub struct Leaves {
    /// The leaf level, ready to build the tree from.
    pub level: Level,
    /// User ids, parallel to the level.
    pub user_ids: Vec<String>,
    /// Salts, parallel to the level.
    pub salts: Vec<[u8; 32]>,
    /// Line numbers in the file, parallel to the level.
    pub lines: Vec<u64>,
}

/// Leaf index by user id (takes the ids alone, so it works after the level is moved out).
pub fn index_users(user_ids: &[String]) -> HashMap<&str, usize> {
    user_ids
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect()
}

/// The leaf level from positions, commitments and flat balances (hashed in parallel).
pub fn leaf_level(index: Vec<u64>, commitments: &[Hash], sums: Vec<Amount>, k: usize) -> Level {
    let hash = commitments
        .par_iter()
        .enumerate()
        .map(|(i, c)| leaf_hash(c, &sums[i * k..(i + 1) * k]))
        .collect();
    Level { index, hash, sums }
}

/// Reads `leaves.csv`, checking its header against `assets`. Rows out of position order are
/// bad input; two rows at one position or for one user are duplicate leaves (a failed check).
pub fn read_leaves(path: &Path, assets: &[Asset]) -> Result<Leaves> {
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| Error::input(format!("{name}: cannot open: {e}")))?;
    let mut r = LiabilitiesReader::with_prefix(
        &name,
        std::io::BufReader::with_capacity(1 << 20, file),
        Negatives::Reject,
        &["position", "salt"],
    )?;
    if r.assets() != assets {
        return Err(Error::failed(format!(
            "{name}: the header's assets differ from the attestation's"
        )));
    }
    let k = assets.len();
    let (mut index, mut commitments, mut sums) = (Vec::new(), Vec::new(), Vec::new());
    let (mut user_ids, mut salts, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut prefix = Vec::new();
    while let Some(row) = r.next_row_with_prefix(&mut prefix)? {
        let (pos, salt) = leaf_prefix(&name, row.line, &prefix, index.last().copied())?;
        if let Some(first) = seen.insert(row.user_id.clone(), row.line) {
            return Err(Error::failed(format!(
                "{name} line {}: duplicate leaf: user {:?} already has a leaf at line {first}",
                row.line, row.user_id
            )));
        }
        index.push(pos);
        commitments.push(user_commitment(&row.user_id, &salt));
        sums.extend_from_slice(&row.balances);
        user_ids.push(row.user_id);
        salts.push(salt);
        lines.push(row.line);
    }
    let level = leaf_level(index, &commitments, sums, k);
    Ok(Leaves {
        level,
        user_ids,
        salts,
        lines,
    })
}

/// The `position` and `salt` fields of a `leaves.csv` row at `line`, checked against the
/// previous row's position: out of order is bad input, the same position a duplicate leaf.
pub fn leaf_prefix(
    name: &str,
    line: u64,
    prefix: &[String],
    prev: Option<u64>,
) -> Result<(u64, [u8; 32])> {
    let pos = parse_position(&prefix[0]).ok_or_else(|| {
        Error::input(format!(
            "{name} line {line}, field position: expected an integer"
        ))
    })?;
    let salt = parse_hex32(&prefix[1]).ok_or_else(|| {
        Error::input(format!(
            "{name} line {line}, field salt: expected 64 hex characters"
        ))
    })?;
    if let Some(prev) = prev {
        if pos == prev {
            return Err(Error::failed(format!(
                "{name} line {line}: duplicate leaf: position {pos} is used twice"
            )));
        }
        if pos < prev {
            return Err(Error::input(format!(
                "{name} line {line}: positions must be increasing"
            )));
        }
    }
    Ok((pos, salt))
}

/// A leaf position as `leaves.csv` writes it: decimal, no leading zeros, below 2^64.
fn parse_position(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Assigns positions to users in the given order: each takes the first candidate
/// (`hash::position_candidate`, attempts 0, 1, …) not taken by an earlier user.
///
/// Deterministic from the seed and the order, so an auditor can replay it; random-looking to
/// anyone without the seed.
pub struct PositionAssigner {
    seed: [u8; 32],
    height: u8,
    taken: Taken,
    count: u64,
    capacity: u128,
}

/// The positions taken so far: a hash set while few, a bitset of `2^h` bits once that is
/// smaller (at most 512 MiB, at height 32); above height 32 always the hash set.
enum Taken {
    Set(HashSet<u64>),
    Bits(Vec<u64>),
}

impl Taken {
    /// Inserts `p`; false if it was taken.
    fn insert(&mut self, p: u64, height: u8) -> bool {
        if let Taken::Set(set) = self {
            // A hash set costs about 20 bytes an entry.
            if height <= 32 && (set.len() as u128) * 160 > 1u128 << height {
                let mut bits = vec![0u64; ((1u64 << height) / 64).max(1) as usize];
                for &q in set.iter() {
                    bits[(q / 64) as usize] |= 1 << (q % 64);
                }
                *self = Taken::Bits(bits);
            }
        }
        match self {
            Taken::Set(set) => set.insert(p),
            Taken::Bits(b) => {
                let (w, m) = ((p / 64) as usize, 1u64 << (p % 64));
                let fresh = b[w] & m == 0;
                b[w] |= m;
                fresh
            }
        }
    }
}

impl PositionAssigner {
    /// A new assigner for a tree of `height`.
    pub fn new(seed: [u8; 32], height: u8) -> Self {
        PositionAssigner {
            seed,
            height,
            taken: Taken::Set(HashSet::new()),
            count: 0,
            capacity: 1u128 << height.min(64),
        }
    }

    /// The next user's position; fails when the tree is full.
    pub fn assign(&mut self, user_id: &str) -> Result<u64> {
        self.assign_noting(user_id, &mut |_| {})
    }

    /// As [`PositionAssigner::assign`], calling `taken` with each candidate found taken (how
    /// the streamed build finds a repeated user id without a set of ids).
    pub fn assign_noting(&mut self, user_id: &str, taken: &mut dyn FnMut(u64)) -> Result<u64> {
        if u128::from(self.count) >= self.capacity {
            return Err(Error::input(format!(
                "a tree of height {} holds at most {} customers; choose a larger --height",
                self.height, self.capacity
            )));
        }
        for attempt in 0..=u32::MAX {
            let p = position_candidate(&self.seed, user_id, attempt, self.height);
            if self.taken.insert(p, self.height) {
                self.count += 1;
                return Ok(p);
            }
            taken(p);
        }
        Err(Error::input("no free position found"))
    }
}
