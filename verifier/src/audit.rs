//! The auditor's full recomputation: from the exchange's private data back to the signed root.
//!
//! The audit answers three questions, each with its evidence:
//! 1. Is the signed root the root of the tree in the private data? (recompute every hash)
//! 2. Is every customer of the ledger in that tree exactly once, with the ledger's balances,
//!    and nobody else? (join the ledger with the leaves)
//! 3. Are the signed totals the ledger's totals, and were positions drawn from the seed?

use crate::amount::Amount;
use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::liabilities::{LiabilitiesReader, Negatives, Totals};
use crate::state::{
    index_users, private_path, read_leaves, PositionAssigner, PrivateState, LEAVES_FILE,
    LEDGER_FILE,
};
use crate::tree::build;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// How many findings of one kind are listed in full; the rest are counted.
pub const LISTED_PER_KIND: usize = 20;

/// A discrepancy the audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable machine-readable kind, e.g. `missing_customer`.
    pub kind: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

/// The outcome of an audit.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The checks that were run, in order, with what they covered.
    pub checks: Vec<String>,
    /// Everything found wrong (empty when the audit passes).
    pub findings: Vec<Finding>,
    /// Findings per kind, including those not listed.
    pub counts: Vec<(&'static str, u64)>,
    /// Customers (leaves) in the tree.
    pub leaves: u64,
    /// Customers (rows) in the ledger.
    pub ledger_rows: u64,
    /// Totals recomputed from the tree data.
    pub tree_totals: Vec<Amount>,
    /// Totals of the ledger.
    pub ledger_totals: Vec<Amount>,
    /// SHA-256 of the ledger file.
    pub ledger_sha256: Hash,
}

impl AuditReport {
    /// Whether nothing was found wrong.
    pub fn passed(&self) -> bool {
        self.counts.iter().all(|(_, n)| *n == 0)
    }

    fn add(&mut self, kind: &'static str, message: String) {
        let entry = match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some(e) => e,
            None => {
                self.counts.push((kind, 0));
                self.counts.last_mut().expect("just pushed")
            }
        };
        entry.1 += 1;
        if entry.1 as usize <= LISTED_PER_KIND {
            self.findings.push(Finding { kind, message });
        }
    }
}

/// Runs the audit. `ledger` defaults to `DIR/private/liabilities.csv`.
pub fn audit(
    att: &Attestation,
    key: &VerifyingKey,
    dir: &Path,
    ledger: Option<&Path>,
) -> Result<AuditReport> {
    att.verify_signature(key)?;
    let mut rep = AuditReport {
        checks: vec![format!(
            "attestation signature: valid ed25519 signature by {}",
            hex::encode(att.public_key)
        )],
        findings: vec![],
        counts: vec![],
        leaves: 0,
        ledger_rows: 0,
        tree_totals: vec![],
        ledger_totals: vec![],
        ledger_sha256: Hash::default(),
    };
    let state = PrivateState::read(dir)?;
    if state.exchange != att.exchange
        || state.period != att.period
        || state.assets != att.assets
        || state.tree_height != att.tree_height
    {
        return Err(Error::failed(format!(
            "{}: the private state is for {} {} ({} assets, height {}), not for this attestation",
            private_path(dir, "state.json").display(),
            state.exchange,
            state.period,
            state.assets.len(),
            state.tree_height
        )));
    }

    // 1. The tree from the leaves, against the signed root.
    let leaves_path = private_path(dir, LEAVES_FILE);
    let leaves = read_leaves(&leaves_path, &att.assets)?;
    rep.leaves = leaves.user_ids.len() as u64;
    let k = att.assets.len();
    let params = state.tree_params()?;
    // Keep only what the ledger join needs; the leaf hashes are freed once the level above
    // them is built (cheaper at peak than lending the whole level to the build).
    let tree_leaf_sums = leaves.level.sums.clone();
    let positions = leaves.level.index.clone();
    let built = build(&params, leaves.level, &[], &|_| {})?;
    rep.tree_totals = built.root_sums.clone();
    if built.root != att.root_hash {
        rep.add(
            "root_mismatch",
            format!(
                "the root recomputed from {} is {}, but the signed root is {}",
                leaves_path.display(),
                built.root,
                att.root_hash
            ),
        );
    }
    for (i, a) in att.assets.iter().enumerate() {
        if built.root_sums[i] != att.liabilities[i] {
            rep.add(
                "tree_total_mismatch",
                format!(
                    "{}: the tree data adds up to {}, but the attestation signs {}",
                    a.symbol,
                    built.root_sums[i].to_decimal(a.decimals),
                    att.liabilities[i].to_decimal(a.decimals)
                ),
            );
        }
    }
    rep.checks.push(format!(
        "tree recomputed from {} leaves at height {} ({} node hashes)",
        rep.leaves, att.tree_height, built.node_hashes
    ));

    // 2. The ledger joined with the leaves.
    let default_ledger = private_path(dir, LEDGER_FILE);
    let ledger_path = ledger.unwrap_or(&default_ledger);
    let by_user = index_users(&leaves.user_ids);
    let mut seen = vec![false; leaves.user_ids.len()];
    let name = ledger_path.display().to_string();
    let file = std::fs::File::open(ledger_path)
        .map_err(|e| Error::input(format!("{name}: cannot open: {e}")))?;
    let hashing = HashingReader {
        inner: file,
        hasher: Sha256::new(),
    };
    let mut reader = LiabilitiesReader::new(
        &name,
        std::io::BufReader::with_capacity(1 << 20, hashing),
        Negatives::Clamp,
    )?;
    if reader.assets() != att.assets.as_slice() {
        return Err(Error::failed(format!(
            "{name}: the ledger's assets differ from the attestation's"
        )));
    }
    let mut totals = Totals::new(k);
    let mut assigner = PositionAssigner::new(state.position_seed()?, att.tree_height);
    let mut ledger_lines: HashMap<String, u64> = HashMap::new();
    let mut misplaced = 0u64;
    while let Some(row) = reader.next_row()? {
        rep.ledger_rows += 1;
        totals.add(&name, &row, &att.assets)?;
        if let Some(first) = ledger_lines.insert(row.user_id.clone(), row.line) {
            return Err(Error::input(format!(
                "{name} line {}: user {:?} already appears at line {first}",
                row.line, row.user_id
            )));
        }
        let expected_pos = assigner.assign(&row.user_id)?;
        match by_user.get(row.user_id.as_str()) {
            None => rep.add(
                "missing_customer",
                format!(
                    "customer {:?} ({name} line {}) is not in the tree",
                    row.user_id, row.line
                ),
            ),
            Some(&i) => {
                seen[i] = true;
                let in_tree = &tree_leaf_sums[i * k..(i + 1) * k];
                for (a, asset) in att.assets.iter().enumerate() {
                    if in_tree[a] != row.balances[a] {
                        let how = if in_tree[a] < row.balances[a] {
                            "lowered"
                        } else {
                            "raised"
                        };
                        rep.add(
                            "balance_mismatch",
                            format!(
                                "customer {:?}: {} {how} in the tree: {} in the tree, {} in the ledger (line {})",
                                row.user_id,
                                asset.symbol,
                                in_tree[a].to_decimal(asset.decimals),
                                row.balances[a].to_decimal(asset.decimals),
                                row.line
                            ),
                        );
                    }
                }
                if positions[i] != expected_pos {
                    misplaced += 1;
                }
            }
        }
    }
    for (i, s) in seen.iter().enumerate() {
        if !s {
            rep.add(
                "unknown_leaf",
                format!(
                    "the tree has a leaf for {:?} ({} line {}) that is not in the ledger",
                    leaves.user_ids[i],
                    leaves_path.display(),
                    leaves.lines[i]
                ),
            );
        }
    }
    rep.checks.push(format!(
        "ledger {name}: {} customers joined with the tree's leaves",
        rep.ledger_rows
    ));
    rep.ledger_totals = totals.sums().to_vec();
    for (i, a) in att.assets.iter().enumerate() {
        if rep.ledger_totals[i] != att.liabilities[i] {
            rep.add(
                "ledger_total_mismatch",
                format!(
                    "{}: the ledger adds up to {}, but the attestation signs {}",
                    a.symbol,
                    rep.ledger_totals[i].to_decimal(a.decimals),
                    att.liabilities[i].to_decimal(a.decimals)
                ),
            );
        }
    }
    if misplaced > 0 {
        rep.add(
            "positions_not_from_seed",
            format!("{misplaced} customers are not at the positions the committed seed assigns in ledger order"),
        );
    }
    rep.checks
        .push("positions replayed from the position seed in ledger order".into());
    // The reader has reached the end, so the hasher has seen every byte of the ledger.
    rep.ledger_sha256 = Hash(reader.into_inner().into_inner().hasher.finalize().into());
    Ok(rep)
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
