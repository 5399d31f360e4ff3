//! The auditor's full recomputation: from the exchange's private data back to the signed root.
//!
//! The audit answers three questions, each with its evidence:
//! 1. Is the signed root the root of the tree in the private data? (recompute every hash)
//! 2. Is every customer of the ledger in that tree exactly once, with the ledger's balances,
//!    and nobody else? (join the ledger with the leaves)
//! 3. Are the signed totals the ledger's totals, and were positions drawn from the seed?

use crate::amount::Amount;
use crate::asset::Asset;
use crate::attestation::Attestation;
use crate::attestation::{bit_size_for, HiddenSums};
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::hidden_tree::{Opening, Openings};
use crate::liabilities::{LiabilitiesReader, Negatives, Totals};
use crate::state::{
    leaf_prefix, private_path, PositionAssigner, PrivateState, LEAVES_FILE, LEDGER_FILE,
};
use crate::tree::{
    build_between_with, root_of, BuildContent, LeafRow, Level, Sibling, Sums, TreeParams,
};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

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
}

/// Default memory budget of the audit: one slice of the tree, one bucket of the join.
pub const DEFAULT_BUDGET: u64 = 1 << 30;
/// Bytes of memory per byte of input in one slice or bucket.
const MEMORY_PER_INPUT_BYTE: u64 = 6;
/// At most this many slices and buckets (one file each is open at a time: below the usual
/// limit of 1024 open files).
const MAX_BUCKETS: u64 = 512;

/// Runs the audit. `ledger` defaults to `DIR/private/liabilities.csv`.
pub fn audit(
    att: &Attestation,
    key: &VerifyingKey,
    dir: &Path,
    ledger: Option<&Path>,
) -> Result<AuditReport> {
    audit_with_budget(att, key, dir, ledger, DEFAULT_BUDGET, &std::env::temp_dir())
}

/// Runs the audit with memory bounded by `budget` whatever the number of customers, apart
/// from the set of positions replayed (a bitset of `2^h` bits at most, 512 MiB at height
/// 32): the tree is recomputed slice by slice of the position space as `leaves.csv` streams
/// by (it is sorted by position), and the ledger is joined with the leaves bucket by bucket
/// of user-id hashes, spilled under `spill_dir` (a private directory made and removed here).
/// Findings are listed in file order, as if found row by row.
pub fn audit_with_budget(
    att: &Attestation,
    key: &VerifyingKey,
    dir: &Path,
    ledger: Option<&Path>,
    budget: u64,
    spill_dir: &Path,
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
    let k = att.assets.len();
    let h = att.tree_height;
    let leaves_path = private_path(dir, LEAVES_FILE);
    let default_ledger = private_path(dir, LEDGER_FILE);
    let ledger_path = ledger.unwrap_or(&default_ledger);
    // A pipe has no size: then as many slices as allowed.
    let size = |p: &Path| match std::fs::metadata(p) {
        Ok(m) if m.is_file() => m.len(),
        _ => u64::MAX / 16,
    };
    let want = size(&leaves_path)
        .saturating_add(size(ledger_path))
        .saturating_mul(MEMORY_PER_INPUT_BYTE)
        .div_ceil(budget.max(1));
    let mut log_b = 0u8;
    while (1u64 << log_b) < want.min(MAX_BUCKETS) && log_b < h {
        log_b += 1;
    }
    let (spill, stale) = Spill::new(spill_dir, 1 << log_b)?;
    for gone in stale {
        rep.checks.push(format!(
            "removed {}: customer data spilled by an audit that was killed",
            gone.display()
        ));
    }
    let mut found = Found::default();

    // 1. The tree from the leaves, slice by slice, against the signed root; every leaf also
    //    goes to its bucket of the join.
    let mut leaf_side = spill.writers("leaf")?;
    let params = state.tree_params()?;
    // Positions drawn from the seed spread evenly: a slice holding many times its share (and
    // more than memory should hold) is positions not drawn from the seed, not bad luck.
    let slice_cap = (size(&leaves_path) / 64 / (1u64 << log_b))
        .saturating_mul(8)
        .max(100_000);
    let mut put = |rec: &SpillRecord| spill.put(&mut leaf_side, rec);
    let built = match &att.hidden {
        None => tree_from_leaves(
            &leaves_path,
            &att.assets,
            &params,
            &Sums,
            log_b,
            slice_cap,
            &[],
            &mut put,
            &mut |_, _, _, _| Ok(()),
        )?,
        Some(hs) => {
            let key = state.blinding_key()?;
            let hidden = tree_from_leaves(
                &leaves_path,
                &att.assets,
                &params,
                &Openings::new(key),
                log_b,
                slice_cap,
                &[],
                &mut put,
                &mut |_, _, _, _| Ok(()),
            )?;
            check_root_opening(&mut found, att, hs, &hidden.root_units)?;
            Recomputed {
                root: hidden.root,
                root_units: hidden.root_units.iter().map(|o| Amount(o.value)).collect(),
                node_hashes: hidden.node_hashes,
                leaves: hidden.leaves,
                paths: Vec::new(),
            }
        }
    };
    spill.close(leaf_side)?;
    rep.leaves = built.leaves;
    rep.tree_totals = built.root_units.clone();
    if built.root != att.root_hash {
        found.add(
            0,
            "root_mismatch",
            (0, 0),
            format!(
                "the root recomputed from {} is {}, but the signed root is {}",
                leaves_path.display(),
                built.root,
                att.root_hash
            ),
        );
    }
    for (i, a) in att.assets.iter().enumerate() {
        if built.root_units[i] != att.liabilities[i] {
            found.add(
                1,
                "tree_total_mismatch",
                (i as u64, 0),
                format!(
                    "{}: the tree data adds up to {}, but the attestation signs {}",
                    a.symbol,
                    built.root_units[i].to_decimal(a.decimals),
                    att.liabilities[i].to_decimal(a.decimals)
                ),
            );
        }
    }
    rep.checks.push(format!(
        "tree recomputed from {} leaves at height {} ({} node hashes{})",
        rep.leaves,
        h,
        built.node_hashes,
        if log_b > 0 {
            format!(", in {} slices", 1u64 << log_b)
        } else {
            String::new()
        }
    ));

    // 2. The ledger in its order: totals, and each row's position replayed from the seed.
    let name = ledger_path.display().to_string();
    if ledger.is_none() && !ledger_path.exists() {
        return Err(Error::input(format!(
            "{name}: not kept by this build (built with --no-ledger-copy): give the exchange's \
             export with --liabilities (its SHA-256 is liabilities_sha256 in state.json)"
        )));
    }
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
    let mut assigner = PositionAssigner::new(state.position_seed()?, h);
    let mut ledger_side = spill.writers("ledger")?;
    while let Some(row) = reader.next_row()? {
        rep.ledger_rows += 1;
        totals.add(&name, &row, &att.assets)?;
        // More rows than positions: the assigner says so (bad input).
        let position = assigner.assign(&row.user_id)?;
        spill.put(
            &mut ledger_side,
            &SpillRecord {
                line: row.line,
                position,
                user_id: row.user_id,
                balances: row.balances,
            },
        )?;
    }
    spill.close(ledger_side)?;
    drop(assigner);
    rep.ledger_sha256 = Hash(reader.into_inner().into_inner().hasher.finalize().into());

    // 3. The join, bucket by bucket.
    let mut misplaced = 0u64;
    let mut ledger_dup: Option<(u64, u64, String)> = None;
    let mut leaf_dup: Option<(u64, u64, String)> = None;
    for b in 0..spill.buckets {
        let leaves = spill.read("leaf", b, k)?;
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(leaves.len());
        for (i, l) in leaves.iter().enumerate() {
            if let Some(&first) = by_id.get(l.user_id.as_str()) {
                let d = (l.line, leaves[first].line, l.user_id.clone());
                if leaf_dup.as_ref().is_none_or(|x| d.0 < x.0) {
                    leaf_dup = Some(d);
                }
            } else {
                by_id.insert(&l.user_id, i);
            }
        }
        let rows = spill.read("ledger", b, k)?;
        let mut seen = vec![false; leaves.len()];
        let mut lines: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
        for row in &rows {
            if let Some(first) = lines.insert(&row.user_id, row.line) {
                let d = (row.line, first.min(row.line), row.user_id.clone());
                if ledger_dup.as_ref().is_none_or(|x| d.0 < x.0) {
                    ledger_dup = Some(d);
                }
            }
            match by_id.get(row.user_id.as_str()) {
                None => found.add(
                    2,
                    "missing_customer",
                    (row.line, 0),
                    format!(
                        "customer {:?} ({name} line {}) is not in the tree",
                        row.user_id, row.line
                    ),
                ),
                Some(&i) => {
                    seen[i] = true;
                    let in_tree = &leaves[i].balances;
                    for (a, asset) in att.assets.iter().enumerate() {
                        if in_tree[a] != row.balances[a] {
                            let how = if in_tree[a] < row.balances[a] {
                                "lowered"
                            } else {
                                "raised"
                            };
                            found.add(
                                2,
                                "balance_mismatch",
                                (row.line, a as u64),
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
                    if leaves[i].position != row.position {
                        misplaced += 1;
                    }
                }
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if !s {
                found.add(
                    3,
                    "unknown_leaf",
                    (leaves[i].line, 0),
                    format!(
                        "the tree has a leaf for {:?} ({} line {}) that is not in the ledger",
                        leaves[i].user_id,
                        leaves_path.display(),
                        leaves[i].line
                    ),
                );
            }
        }
    }
    drop(spill);
    if let Some((line, first, user)) = leaf_dup {
        return Err(Error::failed(format!(
            "{} line {line}: duplicate leaf: user {user:?} already has a leaf at line {first}",
            leaves_path.display()
        )));
    }
    if let Some((line, first, user)) = ledger_dup {
        return Err(Error::input(format!(
            "{name} line {line}: user {user:?} already appears at line {first}"
        )));
    }
    rep.checks.push(format!(
        "ledger {name}: {} customers joined with the tree's leaves",
        rep.ledger_rows
    ));
    rep.ledger_totals = totals.sums().to_vec();
    for (i, a) in att.assets.iter().enumerate() {
        if rep.ledger_totals[i] != att.liabilities[i] {
            found.add(
                4,
                "ledger_total_mismatch",
                (i as u64, 0),
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
        found.add(
            5,
            "positions_not_from_seed",
            (0, 0),
            format!("{misplaced} customers are not at the positions the committed seed assigns in ledger order"),
        );
    }
    rep.checks
        .push("positions replayed from the position seed in ledger order".into());
    found.into_report(&mut rep);
    Ok(rep)
}

/// Findings gathered out of order (bucket by bucket), reported as if found in file order:
/// per kind, its count and the `LISTED_PER_KIND` first by (phase, line, column).
#[derive(Default)]
struct Found {
    kinds: Vec<FoundKind>,
}

struct FoundKind {
    kind: &'static str,
    first: (u8, u64, u64),
    count: u64,
    listed: std::collections::BinaryHeap<((u64, u64), String)>,
}

impl Found {
    fn add(&mut self, phase: u8, kind: &'static str, at: (u64, u64), message: String) {
        let key = (phase, at.0, at.1);
        let entry = match self.kinds.iter().position(|k| k.kind == kind) {
            Some(i) => &mut self.kinds[i],
            None => {
                self.kinds.push(FoundKind {
                    kind,
                    first: key,
                    count: 0,
                    listed: Default::default(),
                });
                self.kinds.last_mut().expect("just pushed")
            }
        };
        entry.count += 1;
        entry.first = entry.first.min(key);
        entry.listed.push((at, message));
        if entry.listed.len() > LISTED_PER_KIND {
            entry.listed.pop();
        }
    }

    fn into_report(mut self, rep: &mut AuditReport) {
        self.kinds.sort_by_key(|k| k.first);
        for k in self.kinds {
            rep.counts.push((k.kind, k.count));
            for (_, message) in k.listed.into_sorted_vec() {
                rep.findings.push(Finding {
                    kind: k.kind,
                    message,
                });
            }
        }
    }
}

/// A leaf or ledger row as spilled for the join.
pub struct SpillRecord {
    /// The line it was read from.
    pub line: u64,
    /// The leaf position (ledger rows: the replayed one).
    pub position: u64,
    /// The customer's id.
    pub user_id: String,
    /// The balances.
    pub balances: Vec<Amount>,
}

/// The join's spill files: one per bucket of user-id hashes and side, in a private directory
/// removed when dropped.
struct Spill {
    dir: PathBuf,
    buckets: u64,
    key: [u8; 32],
    // The spilled ledger is removed on Ctrl-C too, not only by the drop.
    _on_signal: crate::cleanup::Guard,
}

impl Spill {
    /// A new spill directory under `base`; also removes (and returns) the directories that
    /// audits killed before they could remove their own left there.
    fn new(base: &Path, buckets: u64) -> Result<(Spill, Vec<PathBuf>)> {
        let mut stale = Vec::new();
        if let Ok(entries) = std::fs::read_dir(base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(rest) = name.strip_prefix(".por-audit-") else {
                    continue;
                };
                let pid = rest.split('-').next().unwrap_or("");
                let alive = pid == std::process::id().to_string()
                    || (Path::new("/proc").is_dir() && Path::new("/proc").join(pid).exists());
                if !pid.is_empty() && !alive && std::fs::remove_dir_all(e.path()).is_ok() {
                    stale.push(e.path());
                }
            }
        }
        let mut nonce = [0u8; 8];
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        nonce.copy_from_slice(&Sha256::digest(format!("{t}/{}", std::process::id()))[..8]);
        let dir = base.join(format!(
            ".por-audit-{}-{}",
            std::process::id(),
            hex::encode(nonce)
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        let on_signal = crate::cleanup::Guard::new(&dir);
        b.create(&dir)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", dir.display())))?;
        let key: [u8; 32] = Sha256::digest(format!("bucket key/{t}/{}", std::process::id())).into();
        Ok((
            Spill {
                dir,
                buckets,
                key,
                _on_signal: on_signal,
            },
            stale,
        ))
    }

    fn path(&self, side: &str, b: u64) -> PathBuf {
        self.dir.join(format!("{side}-{b:05}"))
    }

    fn writers(&self, side: &str) -> Result<Vec<BufWriter<std::fs::File>>> {
        (0..self.buckets)
            .map(|b| {
                let p = self.path(side, b);
                std::fs::File::create(&p)
                    .map(|f| BufWriter::with_capacity(64 << 10, f))
                    .map_err(|e| Error::input(format!("{}: cannot create: {e}", p.display())))
            })
            .collect()
    }

    fn bucket_of(&self, user_id: &str) -> usize {
        // Keyed with this audit's own key: the exchange, which chose the ids before, cannot
        // pick ids that crowd into one bucket.
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(user_id.as_bytes());
        let d = h.finalize();
        let x = u64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]));
        (x % self.buckets) as usize
    }

    fn put(&self, w: &mut [BufWriter<std::fs::File>], r: &SpillRecord) -> Result<()> {
        let out = &mut w[self.bucket_of(&r.user_id)];
        let io = |e: std::io::Error| Error::input(format!("audit spill: cannot write: {e}"));
        out.write_all(&r.line.to_le_bytes()).map_err(io)?;
        out.write_all(&r.position.to_le_bytes()).map_err(io)?;
        out.write_all(&(r.user_id.len() as u32).to_le_bytes())
            .map_err(io)?;
        out.write_all(r.user_id.as_bytes()).map_err(io)?;
        for a in &r.balances {
            out.write_all(&a.0.to_le_bytes()).map_err(io)?;
        }
        Ok(())
    }

    fn close(&self, w: Vec<BufWriter<std::fs::File>>) -> Result<()> {
        for mut f in w {
            f.flush()
                .map_err(|e| Error::input(format!("audit spill: cannot write: {e}")))?;
        }
        Ok(())
    }

    fn read(&self, side: &str, b: u64, k: usize) -> Result<Vec<SpillRecord>> {
        let p = self.path(side, b);
        let data = std::fs::read(&p)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", p.display())))?;
        let _ = std::fs::remove_file(&p);
        let bad = || Error::input(format!("{}: damaged while the audit ran", p.display()));
        let mut out = Vec::new();
        let mut at = 0;
        let le = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        while at < data.len() {
            let head = data.get(at..at + 20).ok_or_else(bad)?;
            let len = u32::from_le_bytes(head[16..20].try_into().unwrap_or([0; 4])) as usize;
            let id = data.get(at + 20..at + 20 + len).ok_or_else(bad)?;
            let bal = data
                .get(at + 20 + len..at + 20 + len + 16 * k)
                .ok_or_else(bad)?;
            out.push(SpillRecord {
                line: le(&head[..8]),
                position: le(&head[8..16]),
                user_id: String::from_utf8(id.to_vec()).map_err(|_| bad())?,
                balances: bal
                    .chunks_exact(16)
                    .map(|c| Amount(u128::from_le_bytes(c.try_into().unwrap_or([0; 16]))))
                    .collect(),
            });
            at += 20 + len + 16 * k;
        }
        Ok(out)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The tree recomputed from `leaves.csv`.
pub struct Recomputed<U = Amount> {
    /// The root hash.
    pub root: Hash,
    /// The root's content (the totals, or their openings).
    pub root_units: Vec<U>,
    /// Node hashes computed.
    pub node_hashes: u64,
    /// Leaves read.
    pub leaves: u64,
    /// The paths of the targets, in the order asked.
    pub paths: Vec<Vec<Sibling<U>>>,
}

/// What [`tree_from_leaves`] hands each part of a level to: `(level, first, count, nodes)`,
/// the nodes (indices within the level) of slots `first .. first + count`. Every slot of every
/// level is covered exactly once, in increasing order within a level; a part with no node is
/// empty (padding).
pub type LevelParts<'a, U> = dyn FnMut(u8, u64, u64, &Level<U>) -> Result<()> + 'a;

/// Reads `leaves.csv` once, in position order, building the tree slice by slice of the
/// position space (`2^log_b` slices) and handing every leaf to `each` and every level, part
/// by part, to `parts`. Collects the paths of `targets` (leaf positions). The prover builds
/// (and stores) a hidden-sums tree with this too, so the auditor's recomputation and the
/// exchange's build are one code path.
#[allow(clippy::too_many_arguments)]
pub fn tree_from_leaves<C: BuildContent>(
    path: &Path,
    assets: &[Asset],
    params: &TreeParams,
    content: &C,
    log_b: u8,
    slice_cap: u64,
    targets: &[u64],
    each: &mut dyn FnMut(&SpillRecord) -> Result<()>,
    parts: &mut LevelParts<'_, C::Unit>,
) -> Result<Recomputed<C::Unit>> {
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
    let h = params.height;
    let k = params.assets;
    let top_level = h - log_b;
    let slice_of = |pos: u64| if log_b == 0 { 0 } else { pos >> top_level };
    let mut lower: Vec<Vec<Sibling<C::Unit>>> = vec![Vec::new(); targets.len()];
    let mut tops: Level<C::Unit> = Level::with_capacity(1 << log_b, k);
    let mut hashes = 0u64;
    let mut slice: Vec<LeafRow> = Vec::new();
    let mut current: Option<u64> = None;
    // Slot range of slice `s` at level `l` (below `top_level`).
    let range = |s: u64, l: u8| (s << (top_level - l), 1u64 << (top_level - l));
    let gaps = |parts: &mut LevelParts<'_, C::Unit>, from: u64, to: u64| -> Result<()> {
        let empty = Level::default();
        for g in from..to {
            for l in 0..top_level {
                let (first, count) = range(g, l);
                parts(l, first, count, &empty)?;
            }
        }
        Ok(())
    };
    let mut flush = |slice: &mut Vec<LeafRow>,
                     s: u64,
                     tops: &mut Level<C::Unit>,
                     hashes: &mut u64,
                     parts: &mut LevelParts<'_, C::Unit>|
     -> Result<()> {
        let level = content.leaf_level(slice, k);
        slice.clear();
        let mine: Vec<usize> = (0..targets.len())
            .filter(|&t| slice_of(targets[t]) == s)
            .collect();
        let at: Vec<u64> = mine.iter().map(|&t| targets[t]).collect();
        let mut visit = |l: u8, lv: &Level<C::Unit>| -> Result<()> {
            if l < top_level {
                let (first, count) = range(s, l);
                parts(l, first, count, lv)?;
            }
            Ok(())
        };
        let part = build_between_with(params, content, level, 0, top_level, &at, &mut visit)?;
        for (t, p) in mine.into_iter().zip(part.paths) {
            lower[t] = p;
        }
        *hashes += part.node_hashes;
        if part.top.len() == 1 {
            tops.index.push(s);
            tops.hash.push(part.top.hash[0]);
            tops.sums.extend_from_slice(&part.top.sums);
        }
        Ok(())
    };
    let mut next_slice = 0u64;
    let mut prefix = Vec::new();
    let mut prev: Option<u64> = None;
    let mut n = 0u64;
    while let Some(row) = r.next_row_with_prefix(&mut prefix)? {
        let (pos, salt) = leaf_prefix(&name, row.line, &prefix, prev)?;
        if h < 64 && pos >> h != 0 {
            return Err(Error::input(format!(
                "leaf position {pos} does not fit a tree of height {h}"
            )));
        }
        prev = Some(pos);
        n += 1;
        let s = slice_of(pos);
        if let Some(c) = current.filter(|&c| c != s) {
            gaps(parts, next_slice, c)?;
            flush(&mut slice, c, &mut tops, &mut hashes, parts)?;
            next_slice = c + 1;
        }
        current = Some(s);
        each(&SpillRecord {
            line: row.line,
            position: pos,
            user_id: row.user_id.clone(),
            balances: row.balances.clone(),
        })?;
        if slice.len() as u64 >= slice_cap {
            return Err(Error::failed(format!(
                "{name} line {}: more than {slice_cap} leaves in one slice of the position space \
                 (of {} slices): positions are not spread as the committed seed spreads them",
                row.line,
                1u64 << log_b
            )));
        }
        slice.push((pos, salt, row.user_id, row.balances));
    }
    if let Some(c) = current {
        gaps(parts, next_slice, c)?;
        flush(&mut slice, c, &mut tops, &mut hashes, parts)?;
        next_slice = c + 1;
    }
    gaps(parts, next_slice, 1u64 << log_b)?;
    let upper_targets: Vec<u64> = targets.iter().map(|&t| slice_of(t)).collect();
    let joined = build_between_with(
        params,
        content,
        tops,
        top_level,
        h,
        &upper_targets,
        &mut |l, lv| parts(l, 0, 1u64 << (h - l), lv),
    )?;
    hashes += joined.node_hashes;
    let paths = lower
        .into_iter()
        .zip(joined.paths)
        .map(|(mut lo, up)| {
            lo.extend(up);
            lo
        })
        .collect();
    let (root, root_units) = root_of(params, content, joined.top);
    Ok(Recomputed {
        root,
        root_units,
        node_hashes: hashes,
        leaves: n,
        paths,
    })
}

/// The hidden-sums root against the attestation: its blindings are the signed ones, and each
/// asset's bit size bounds the signed total (so every node of an honest tree fits its range).
fn check_root_opening(
    found: &mut Found,
    att: &Attestation,
    hs: &HiddenSums,
    root: &[Opening],
) -> Result<()> {
    let signed = crate::hidden::root_blindings(hs)?;
    for (i, a) in att.assets.iter().enumerate() {
        if root[i].blinding != signed[i] {
            found.add(
                0,
                "root_opening_mismatch",
                (i as u64, 0),
                format!(
                    "{}: the root's blinding recomputed with the private blinding key is not the signed one",
                    a.symbol
                ),
            );
        }
        let need = bit_size_for(att.liabilities[i]);
        if hs.bit_sizes[i] < need {
            found.add(
                0,
                "bit_size_too_small",
                (i as u64, 0),
                format!(
                    "{}: the signed bit size {} cannot hold the signed total (it needs {need}): honest \
                     proofs cannot be made for large siblings",
                    a.symbol, hs.bit_sizes[i]
                ),
            );
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `tree_from_leaves` hands every slot of every level exactly once, in order, with the
    /// nodes of a one-piece build, and gives its root, whatever the number of slices.
    #[test]
    fn level_parts_tile_every_level() {
        let dir = std::env::temp_dir().join(format!("por-audit-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("leaves.csv");
        let positions = [1u64, 2, 3, 40, 41, 77, 128, 200, 255];
        let mut csv = String::from("position,salt,user_id,BTC:8\n");
        for p in positions {
            csv.push_str(&format!(
                "{p},{},u{p},0.{p:08}\n",
                hex::encode([p as u8; 32])
            ));
        }
        std::fs::write(&path, csv).unwrap();
        let assets = vec![Asset {
            symbol: "BTC".into(),
            decimals: 8,
        }];
        let params = TreeParams {
            height: 8,
            assets: 1,
            padding_key: [3; 32],
        };
        let rows: Vec<LeafRow> = positions
            .iter()
            .map(|&p| {
                (
                    p,
                    [p as u8; 32],
                    format!("u{p}"),
                    vec![Amount(u128::from(p))],
                )
            })
            .collect();
        let mut whole: Vec<Level> = Vec::new();
        let one = build_between_with(
            &params,
            &Sums,
            Sums.leaf_level(&rows, 1),
            0,
            8,
            &[],
            &mut |_, lv| {
                whole.push(lv.clone());
                Ok(())
            },
        )
        .unwrap();
        for log_b in [0u8, 1, 3, 5] {
            let mut next = [0u64; 9];
            let got = tree_from_leaves(
                &path,
                &assets,
                &params,
                &Sums,
                log_b,
                u64::MAX,
                &[],
                &mut |_| Ok(()),
                &mut |l, first, count, lv| {
                    let l = usize::from(l);
                    assert_eq!(first, next[l], "level {l} out of order (log_b {log_b})");
                    next[l] = first + count;
                    let expect: Vec<u64> = whole[l]
                        .index
                        .iter()
                        .copied()
                        .filter(|i| (first..first + count).contains(i))
                        .collect();
                    assert_eq!(lv.index, expect, "level {l} (log_b {log_b})");
                    Ok(())
                },
            )
            .unwrap();
            for (l, n) in next.iter().enumerate() {
                assert_eq!(*n, 1u64 << (8 - l), "level {l} covered (log_b {log_b})");
            }
            assert_eq!(got.root, one.top.hash[0]);
            assert_eq!(got.root_units, one.top.sums);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
