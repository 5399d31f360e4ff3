//! The stored tree: `DIR/private/tree.bin`, written at build time, from which a proof is a few
//! positioned reads instead of a rebuild (layout: spec/audit.md, "Stored tree").
//!
//! Storing every node would cost `n · (h − log2 n)` nodes, hundreds of GB at 100M customers.
//! The levels below the log2 of the number of customers are almost empty (a node there is
//! nearly always alone in its subtree), so only the **dense upper levels** are stored, from a
//! *cut level* `c` up to the root, every slot of each (padding slots too: a node is found by
//! its index, no search). Below the cut, a proof recomputes the subtree of its leaf from the
//! few leaves under it (about 4 to 8 by the choice of `c`), found by binary search in the leaf
//! records, which are sorted by position. A user id is found through an index sorted by the
//! first 8 bytes of the SHA-256 of the id.
//!
//! The file is treated as untrusted input: its size must be exactly what its header implies,
//! every record is checked as it is read, the recomputed subtree must equal the stored node at
//! the cut, and every proof is checked against the signed attestation before it is returned.
//! Any disagreement is a corrupt stored tree (exit 2), never a wrong proof.
//!
//! Reads are positioned (`pread`), not memory-mapped: a file truncated under a mapping kills
//! the process with a bus error, and the crate forbids `unsafe`. Proofs are answered from
//! `&self`, so one opened tree serves many threads.
//!
//! ```no_run
//! use por_prover::stored::StoredTree;
//! # fn main() -> por_verifier::error::Result<()> {
//! let tree = StoredTree::open(std::path::Path::new("build/2026-10"))?;
//! match tree.proof("alice")? {
//!     Some(proof) => println!("{}", proof.to_json()),
//!     None => eprintln!("not a customer of this month"),
//! }
//! # Ok(())
//! # }
//! ```

use por_verifier::amount::Amount;
use por_verifier::attestation::Attestation;
use por_verifier::error::{Error, Result};
use por_verifier::hash::{padding_hash, Hash};
use por_verifier::hidden::HiddenProof;
use por_verifier::hidden_tree::{Opening, Openings};
use por_verifier::liabilities::MAX_USER_ID_LEN;
use por_verifier::proof::InclusionProof;
use por_verifier::proof::Proof;
use por_verifier::state::{private_path, PrivateState, ATTESTATION_FILE};
use por_verifier::tree::{
    build_between_with, build_levels, fold_path, fold_path_with, BuildContent, LeafRow, Level,
    Sibling, Sums, TreeParams,
};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Name of the stored tree inside the private directory.
pub const TREE_FILE: &str = "tree.bin";
/// The file's first 8 bytes.
pub const MAGIC: [u8; 8] = *b"PORTREE\0";
/// The layout version of a transparent tree: a node record holds `k` sums.
pub const VERSION: u32 = 1;
/// The layout version of a hidden-sums tree: a node record holds `k` openings (value and
/// blinding; commitments are recomputed from them when a proof is made).
pub const VERSION_HIDDEN: u32 = 2;
/// Bytes before the first leaf record.
pub const HEADER_BYTES: u64 = 64;
/// How many levels below `ceil(log2 n)` the cut lies: between 1 and 2 leaves expected under
/// a node at the cut, and fewer than `2n` dense nodes. Measured (1M customers x 8 assets,
/// `proofs` for 100,000 of them): shift 1 takes 3.5 s with a 373 MB tree.bin, shift 2 4.3 s
/// with 289 MB; the lone leaves' chains below the cut, hashed for every proof, are the
/// difference.
pub const DENSE_SHIFT: u8 = 1;
/// At most this many leaves under one node at the cut are read for a proof.
const MAX_SUBTREE_LEAVES: u64 = 1 << 16;
/// Bytes per asset of a hidden-sums node record: `u128 value ‖ blinding (32)`.
pub(crate) const HIDDEN_UNIT: u64 = 48;
/// At most this many dense slots in all (2^40 nodes would be terabytes).
const MAX_DENSE_SLOTS: u128 = 1 << 40;

/// The cut level for `n` leaves in a tree of `height`, shifted `shift` levels below the log2 of
/// `n` ([`DENSE_SHIFT`] is the default; the benchmark compares others).
pub fn cut_level(height: u8, n: u64, shift: u8) -> u8 {
    let log = 64 - n.max(1).saturating_sub(1).leading_zeros();
    let log = if n <= 1 { 0 } else { log };
    (i64::from(height) - i64::from(log) + i64::from(shift)).clamp(0, i64::from(height)) as u8
}

/// Where each part of the file lies (every number checked against the file's size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Bytes per asset in a node record: 16 (a sum) or 48 (a value and a blinding).
    pub(crate) unit: u64,
    pub(crate) height: u8,
    pub(crate) cut: u8,
    pub(crate) assets: usize,
    pub(crate) leaves: u64,
    pub(crate) id_bytes: u64,
    pub(crate) root: Hash,
}

impl Layout {
    pub(crate) fn leaf_bytes(&self) -> u64 {
        8 + 32 + 8 + 4 + 16 * self.assets as u64
    }
    pub(crate) fn node_bytes(&self) -> u64 {
        32 + self.unit * self.assets as u64
    }
    pub(crate) fn hidden(&self) -> bool {
        self.unit == HIDDEN_UNIT
    }
    pub(crate) fn leaves_at(&self) -> u64 {
        HEADER_BYTES
    }
    pub(crate) fn index_at(&self) -> u64 {
        self.leaves_at() + self.leaves * self.leaf_bytes()
    }
    pub(crate) fn ids_at(&self) -> u64 {
        self.index_at() + self.leaves * 16
    }
    pub(crate) fn levels_at(&self) -> u64 {
        self.ids_at() + self.id_bytes
    }
    /// Offset of dense level `l` (cut ≤ l ≤ height).
    pub(crate) fn level_at(&self, l: u8) -> u64 {
        let before: u64 = (self.cut..l).map(|j| 1u64 << (self.height - j)).sum();
        self.levels_at() + before * self.node_bytes()
    }
    /// The file size this layout implies; `None` if it cannot exist.
    pub(crate) fn total(&self) -> Option<u64> {
        // A header is read before it is checked against the attestation: a height of 200 must
        // be refused, not shift past 128 bits.
        if self.cut > self.height || u32::from(self.height - self.cut) > 40 {
            return None;
        }
        let slots: u128 = (self.cut..=self.height)
            .map(|j| 1u128 << (self.height - j))
            .sum();
        if slots > MAX_DENSE_SLOTS {
            return None;
        }
        let size = u128::from(HEADER_BYTES)
            + u128::from(self.leaves) * u128::from(self.leaf_bytes() + 16)
            + u128::from(self.id_bytes)
            + slots * u128::from(self.node_bytes());
        u64::try_from(size).ok()
    }
    pub(crate) fn header(&self) -> [u8; HEADER_BYTES as usize] {
        let mut h = [0u8; HEADER_BYTES as usize];
        h[0..8].copy_from_slice(&MAGIC);
        let version = if self.hidden() {
            VERSION_HIDDEN
        } else {
            VERSION
        };
        h[8..12].copy_from_slice(&version.to_le_bytes());
        h[12] = self.height;
        h[13] = self.cut;
        h[14..16].copy_from_slice(&(self.assets as u16).to_le_bytes());
        h[16..24].copy_from_slice(&self.leaves.to_le_bytes());
        h[24..32].copy_from_slice(&self.id_bytes.to_le_bytes());
        h[32..64].copy_from_slice(&self.root.0);
        h
    }
}

/// The layout a header describes, with its version; `None` for a version this code does not
/// know. Nothing else is checked here.
pub(crate) fn parse_header(h: &[u8]) -> Option<Layout> {
    if h.len() < HEADER_BYTES as usize || h[0..8] != MAGIC {
        return None;
    }
    let unit = match u32::from_le_bytes([h[8], h[9], h[10], h[11]]) {
        VERSION => 16,
        VERSION_HIDDEN => HIDDEN_UNIT,
        _ => return None,
    };
    Some(Layout {
        unit,
        height: h[12],
        cut: h[13],
        assets: usize::from(u16::from_le_bytes([h[14], h[15]])),
        leaves: u64_at(h, 16),
        id_bytes: u64_at(h, 24),
        root: hash_at(h, 32),
    })
}

/// The 32-byte digest at `at`; the caller has checked the record's length (as for
/// [`u64_at`]), so there is no fallback value to mistake for a digest.
pub(crate) fn hash_at(b: &[u8], at: usize) -> Hash {
    let mut a = [0u8; 32];
    a.copy_from_slice(&b[at..at + 32]);
    Hash(a)
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

pub(crate) fn amounts(b: &[u8]) -> Vec<Amount> {
    b.chunks_exact(16)
        .map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(c);
            Amount(u128::from_le_bytes(a))
        })
        .collect()
}

/// The first 8 bytes of SHA-256(id), the key of the id index.
pub(crate) fn id_key(user_id: &str) -> u64 {
    let d = Sha256::digest(user_id.as_bytes());
    let mut a = [0u8; 8];
    a.copy_from_slice(&d[..8]);
    u64::from_be_bytes(a)
}

/// `count` node records of `nb` bytes for slots `first ..`, each filled by `fill(index, slot)`
/// in parallel (the stored tree's writers of both modes lay levels out with this).
pub(crate) fn fill_slots(
    first: u64,
    count: u64,
    nb: usize,
    fill: impl Fn(u64, &mut [u8]) + Sync,
) -> Vec<u8> {
    use rayon::prelude::*;
    let mut out = vec![0u8; count as usize * nb];
    out.par_chunks_mut(nb)
        .enumerate()
        .for_each(|(i, slot)| fill(first + i as u64, slot));
    out
}

/// Slots `first .. first + count` of level `l` as stored: the level's nodes where it has them,
/// padding nodes elsewhere.
pub(crate) fn dense_slots(
    padding_key: &[u8; 32],
    k: usize,
    lvl: &Level,
    l: u8,
    first: u64,
    count: u64,
) -> Vec<u8> {
    fill_slots(first, count, 32 + 16 * k, |idx, slot| {
        match lvl.index.binary_search(&idx) {
            Ok(j) => {
                slot[..32].copy_from_slice(&lvl.hash[j].0);
                for (a, s) in lvl.sums[j * k..(j + 1) * k].iter().enumerate() {
                    slot[32 + 16 * a..48 + 16 * a].copy_from_slice(&s.0.to_le_bytes());
                }
            }
            Err(_) => slot[..32].copy_from_slice(&padding_hash(padding_key, l, idx).0),
        }
    })
}

/// Writes a stored tree. Feed it the leaves (in position order), then every level of the
/// build through [`TreeWriter::level`], then [`TreeWriter::finish`] with the root.
pub struct TreeWriter {
    out: BufWriter<File>,
    path: PathBuf,
    layout: Layout,
    padding_key: [u8; 32],
    next_level: u8,
}

/// One leaf as stored.
pub struct LeafRecord<'a> {
    /// Its position.
    pub position: u64,
    /// The customer's salt.
    pub salt: &'a [u8; 32],
    /// The customer's id.
    pub user_id: &'a str,
    /// The balances, one per asset.
    pub balances: &'a [Amount],
}

impl TreeWriter {
    /// Creates `path` (which must not exist) and writes the leaf records, the id index and the
    /// ids. `leaves` yields the leaves in increasing position, twice over (it is called twice:
    /// once for the records, once for the ids), so nothing is held in memory but the index.
    pub fn create<'a, F, I>(
        path: &Path,
        params: &TreeParams,
        n: u64,
        cut: u8,
        leaves: F,
    ) -> Result<TreeWriter>
    where
        F: Fn() -> I,
        I: Iterator<Item = LeafRecord<'a>>,
    {
        let io = |e: std::io::Error| Error::input(format!("{}: cannot write: {e}", path.display()));
        let file = File::create(path)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", path.display())))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut layout = Layout {
            unit: 16,
            height: params.height,
            cut: cut.min(params.height),
            assets: params.assets,
            leaves: n,
            id_bytes: 0,
            root: Hash([0; 32]),
        };
        out.write_all(&layout.header()).map_err(io)?;
        let mut keys: Vec<(u64, u64)> = Vec::with_capacity(n as usize);
        let mut offset = 0u64;
        let mut count = 0u64;
        for leaf in leaves() {
            out.write_all(&leaf.position.to_le_bytes()).map_err(io)?;
            out.write_all(leaf.salt).map_err(io)?;
            out.write_all(&offset.to_le_bytes()).map_err(io)?;
            out.write_all(&(leaf.user_id.len() as u32).to_le_bytes())
                .map_err(io)?;
            for b in leaf.balances {
                out.write_all(&b.0.to_le_bytes()).map_err(io)?;
            }
            keys.push((id_key(leaf.user_id), count));
            offset += leaf.user_id.len() as u64;
            count += 1;
        }
        if count != n {
            return Err(Error::input(format!(
                "{}: {count} leaves given, {n} announced",
                path.display()
            )));
        }
        {
            use rayon::slice::ParallelSliceMut;
            keys.par_sort_unstable();
        }
        for (key, row) in &keys {
            out.write_all(&key.to_le_bytes()).map_err(io)?;
            out.write_all(&row.to_le_bytes()).map_err(io)?;
        }
        drop(keys);
        for leaf in leaves() {
            out.write_all(leaf.user_id.as_bytes()).map_err(io)?;
        }
        layout.id_bytes = offset;
        if layout.total().is_none() {
            return Err(Error::input(format!(
                "{}: a tree of height {} over {n} leaves cannot be stored",
                path.display(),
                params.height
            )));
        }
        Ok(TreeWriter {
            out,
            path: path.to_path_buf(),
            layout,
            padding_key: params.padding_key,
            next_level: layout.cut,
        })
    }

    /// Takes level `l` of the build (0 = leaves); levels from the cut up are stored densely.
    pub fn level(&mut self, l: u8, level: &Level) -> Result<()> {
        if l < self.layout.cut {
            return Ok(());
        }
        if l != self.next_level {
            return Err(Error::input(format!(
                "{}: level {l} given, {} expected",
                self.path.display(),
                self.next_level
            )));
        }
        let slots = 1u64 << (self.layout.height - l);
        let bytes = dense_slots(&self.padding_key, self.layout.assets, level, l, 0, slots);
        self.out
            .write_all(&bytes)
            .map_err(|e| Error::input(format!("{}: cannot write: {e}", self.path.display())))?;
        self.next_level = l.saturating_add(1);
        Ok(())
    }

    /// Writes the root into the header and flushes the file to disk.
    pub fn finish(mut self, root: Hash) -> Result<()> {
        let io =
            |e: std::io::Error| Error::input(format!("{}: cannot write: {e}", self.path.display()));
        if self.next_level != self.layout.height + 1 {
            return Err(Error::input(format!(
                "{}: the build stopped below the root",
                self.path.display()
            )));
        }
        self.layout.root = root;
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(&self.layout.header()).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)
    }
}

/// Writes `DIR/private/tree.bin` anew from `leaves.csv` (for a build directory written before
/// trees were stored, or whose stored tree was damaged). The rebuilt tree must give the signed
/// root; the file is replaced atomically.
pub fn store_tree(dir: &Path) -> Result<()> {
    let att = Attestation::read(&dir.join(ATTESTATION_FILE))?;
    let state = PrivateState::read(dir)?;
    let leaves = por_verifier::state::read_leaves(
        &private_path(dir, por_verifier::state::LEAVES_FILE),
        &att.assets,
    )?;
    let params = state.tree_params()?;
    if params.height != att.tree_height {
        return Err(Error::input(format!(
            "{}: the private state's tree height differs from the attestation's",
            dir.display()
        )));
    }
    let n = leaves.user_ids.len() as u64;
    let k = params.assets;
    let target = private_path(dir, TREE_FILE);
    let tmp = crate::files::sibling_temp(&target);
    let write = || -> Result<()> {
        let level = &leaves.level;
        let mut store = TreeWriter::create(
            &tmp,
            &params,
            n,
            cut_level(params.height, n, DENSE_SHIFT),
            || {
                (0..n as usize).map(|i| LeafRecord {
                    position: level.index[i],
                    salt: &leaves.salts[i],
                    user_id: &leaves.user_ids[i],
                    balances: &level.sums[i * k..(i + 1) * k],
                })
            },
        )?;
        let built =
            por_verifier::tree::build_visiting(&params, level.clone(), &[], &mut |l, lv| {
                store.level(l, lv)
            })?;
        // A hidden-sums tree is stored from the transparent one's leaf records (below).
        if built.root != att.root_hash && att.hidden.is_none() {
            return Err(Error::failed(format!(
                "{}: the leaves do not give the signed root; was the private state modified?",
                dir.display()
            )));
        }
        store.finish(built.root)?;
        std::fs::rename(&tmp, &target)
            .map_err(|e| Error::input(format!("{}: cannot write: {e}", target.display())))?;
        if let Some(hs) = &att.hidden {
            let built = crate::hidden::build_and_store(
                &dir.join(por_verifier::state::PRIVATE_DIR),
                &att.assets,
                &params,
                state.blinding_key()?,
                n,
            )?;
            let blinds: Vec<_> = built.root_units.iter().map(|o| o.blinding).collect();
            if built.root != att.root_hash || blinds != por_verifier::hidden::root_blindings(hs)? {
                let _ = std::fs::remove_file(&target);
                return Err(Error::failed(format!(
                    "{}: the leaves do not give the signed root; was the private state modified?",
                    dir.display()
                )));
            }
        }
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A build directory opened once to answer proofs for any of its customers.
pub struct StoredTree {
    file: File,
    path: PathBuf,
    layout: Layout,
    params: TreeParams,
    att: Attestation,
    /// The dense levels from `cached_from` up to the root, read once at open.
    cache: Vec<u8>,
    cached_from: u8,
    /// Whether every dense level is in the cache and was checked, node by node, to hash up to
    /// the signed root: then a proof's part above the cut needs no fold of its own.
    dense_checked: bool,
    /// In the hidden-sums mode: the committed content, with the attestation's blinding key.
    openings: Option<Openings>,
}

/// Bytes of the upper levels [`StoredTree::open`] keeps in memory: one read, cheap enough for
/// a process that answers a single proof.
pub const SMALL_CACHE: u64 = 1 << 20;
/// What a long-running reader (the service, a batch) keeps: every dense level at a million
/// customers, the upper ones at 100 million.
pub const LARGE_CACHE: u64 = 256 << 20;

impl StoredTree {
    /// Opens the build directory `dir` (as written by `por-prove build`): its attestation, its
    /// private state and its stored tree, checking that they belong together.
    pub fn open(dir: &Path) -> Result<StoredTree> {
        StoredTree::open_with_cache(dir, SMALL_CACHE)
    }

    /// As [`StoredTree::open`], keeping up to `cache_bytes` of the upper levels in memory.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<StoredTree> {
        let att = Attestation::read(&dir.join(ATTESTATION_FILE))?;
        let state = PrivateState::read(dir)?;
        if state.exchange != att.exchange
            || state.period != att.period
            || state.assets != att.assets
            || state.tree_height != att.tree_height
        {
            return Err(Error::input(format!(
                "{}: the private state is for another attestation than {}",
                dir.display(),
                dir.join(ATTESTATION_FILE).display()
            )));
        }
        let path = private_path(dir, TREE_FILE);
        let file = File::open(&path).map_err(|e| {
            Error::input(format!(
                "{}: cannot open the stored tree: {e}{}",
                path.display(),
                if e.kind() == std::io::ErrorKind::NotFound {
                    " (a build by an older por-prove: run `por-prove store-tree --from DIR`)"
                } else {
                    ""
                }
            ))
        })?;
        let size = file
            .metadata()
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?
            .len();
        let mut tree = StoredTree {
            file,
            path,
            layout: Layout {
                unit: 16,
                height: 0,
                cut: 0,
                assets: 0,
                leaves: 0,
                id_bytes: 0,
                root: Hash([0; 32]),
            },
            params: state.tree_params()?,
            att,
            cache: Vec::new(),
            cached_from: 0,
            dense_checked: false,
            openings: None,
        };
        let mut h = [0u8; HEADER_BYTES as usize];
        if size < HEADER_BYTES {
            return Err(tree.corrupt(format!("{size} bytes, shorter than the header")));
        }
        tree.read_at(0, &mut h)?;
        if h[0..8] != MAGIC {
            return Err(tree.corrupt("not a stored tree (wrong magic bytes)".into()));
        }
        let version = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
        let unit = match version {
            VERSION if tree.att.hidden.is_none() => 16,
            VERSION_HIDDEN if tree.att.hidden.is_some() => HIDDEN_UNIT,
            VERSION | VERSION_HIDDEN => {
                return Err(tree.corrupt(format!(
                    "layout version {version} is not for the attestation's mode"
                )))
            }
            _ => {
                return Err(tree.corrupt(format!(
                    "layout version {version}; this por-prove reads versions {VERSION} and {VERSION_HIDDEN}"
                )))
            }
        };
        let layout = Layout {
            unit,
            height: h[12],
            cut: h[13],
            assets: usize::from(u16::from_le_bytes([h[14], h[15]])),
            leaves: u64_at(&h, 16),
            id_bytes: u64_at(&h, 24),
            root: hash_at(&h, 32),
        };
        if layout.height != tree.att.tree_height
            || layout.assets != tree.att.assets.len()
            || layout.root != tree.att.root_hash
            || layout.leaves != state.customers
        {
            return Err(tree.corrupt(format!(
                "it is for another tree (height {}, {} assets, {} leaves, root {}) than the \
                 attestation's (height {}, {} assets, {} customers, root {})",
                layout.height,
                layout.assets,
                layout.leaves,
                layout.root.to_hex(),
                tree.att.tree_height,
                tree.att.assets.len(),
                state.customers,
                tree.att.root_hash.to_hex()
            )));
        }
        if layout.cut > layout.height {
            return Err(tree.corrupt(format!("cut level {} above the root", layout.cut)));
        }
        match layout.total() {
            Some(t) if t == size => {}
            Some(t) => {
                return Err(tree.corrupt(format!(
                    "{size} bytes, where its header implies {t} (truncated or extended)"
                )))
            }
            None => return Err(tree.corrupt("its header describes an impossible size".into())),
        }
        tree.layout = layout;
        // The cached levels are the last part of the file: one read.
        let mut from = layout.height;
        while from > layout.cut
            && layout.total().unwrap_or(0) - layout.level_at(from - 1) <= cache_bytes
        {
            from -= 1;
        }
        let start = layout.level_at(from);
        let mut cache = vec![0u8; (size - start) as usize];
        tree.read_at(start, &mut cache)?;
        tree.cache = cache;
        tree.cached_from = from;
        if let Some(hs) = &tree.att.hidden {
            let root = tree.opened_node(layout.height, 0)?;
            let signed = por_verifier::hidden::root_blindings(hs)?;
            let values: Vec<Amount> = root.1.iter().map(|o| Amount(o.0)).collect();
            let blinds: Vec<_> = root.1.iter().map(|o| o.1).collect();
            if root.0 != tree.att.root_hash || values != tree.att.liabilities || blinds != signed {
                return Err(tree.corrupt(
                    "its root node is not the signed root, totals and root blindings".into(),
                ));
            }
            tree.openings = Some(Openings::new(state.blinding_key()?));
            // A hidden-sums node's hash needs its children's commitments: each proof's path is
            // folded to the signed root instead of checking every dense node at open.
            return Ok(tree);
        }
        let root = tree.node(layout.height, 0)?;
        if root.hash != tree.att.root_hash || root.sums != tree.att.liabilities {
            return Err(tree.corrupt("its root node is not the signed root and totals".into()));
        }
        if from == layout.cut {
            tree.check_dense()?;
            tree.dense_checked = true;
        }
        Ok(tree)
    }

    /// Checks every cached dense node against its two children (hash and sums), level by
    /// level: with the root checked against the attestation, every cached node is then the
    /// signed tree's. Costs one hash per node, once, in parallel.
    fn check_dense(&self) -> Result<()> {
        use rayon::prelude::*;
        let l = &self.layout;
        let nb = l.node_bytes() as usize;
        let base = l.level_at(self.cached_from);
        let level = |lv: u8| (l.level_at(lv) - base) as usize;
        for lv in self.cached_from..l.height {
            let (children, parents) = (level(lv), level(lv + 1));
            let count = 1usize << (l.height - lv - 1);
            let bad = (0..count).into_par_iter().find_any(|&j| {
                let node = |at: usize| {
                    let b = &self.cache[at..at + nb];
                    (hash_at(b, 0), amounts(&b[32..]))
                };
                let (lh, ls) = node(children + 2 * j * nb);
                let (rh, rs) = node(children + (2 * j + 1) * nb);
                let (ph, ps) = node(parents + j * nb);
                let key = &self.params.padding_key;
                let (j64, up) = (j as u64, lv + 1);
                // Two empty subtrees make an empty subtree: a padding node, not their hash.
                if lh == padding_hash(key, lv, 2 * j64) && rh == padding_hash(key, lv, 2 * j64 + 1)
                {
                    let nonzero = |v: &[Amount]| v.iter().any(|a| a.0 != 0);
                    return ph != padding_hash(key, up, j64)
                        || nonzero(&ps)
                        || nonzero(&ls)
                        || nonzero(&rs);
                }
                let mut sums = ls.clone();
                let hash = por_verifier::hash::node_hash(&lh, &ls, &rh, &rs);
                por_verifier::amount::add_sums(&mut sums, &rs).is_err() || hash != ph || sums != ps
            });
            if let Some(j) = bad {
                return Err(self.corrupt(format!(
                    "node {j} of level {} is not made of its two children",
                    lv + 1
                )));
            }
        }
        Ok(())
    }

    /// The attestation this tree was built for.
    pub fn attestation(&self) -> &Attestation {
        &self.att
    }

    /// Number of customers.
    pub fn customers(&self) -> u64 {
        self.layout.leaves
    }

    /// The proof of `user_id`, checked against the signed attestation; `None` if the user is
    /// not in this tree.
    pub fn proof(&self, user_id: &str) -> Result<Option<InclusionProof>> {
        Ok(self.proof_with_row(user_id)?.map(|(_, p)| p))
    }

    /// As [`StoredTree::proof`], with the leaf's row (distinct users have distinct rows).
    pub fn proof_with_row(&self, user_id: &str) -> Result<Option<(u64, InclusionProof)>> {
        if self.openings.is_some() {
            return Err(Error::input(
                "this tree hides its sums: its proofs are hidden-sums proofs (any_proof)",
            ));
        }
        let Some((row, mut rows, mine)) = self.subtree(user_id)? else {
            return Ok(None);
        };
        let l = &self.layout;
        let cut = l.cut;
        let leaf = &rows[mine];
        let position = leaf.0;
        let level = Sums.leaf_level(&rows, l.assets);
        let part = build_levels(&self.params, level, &[position], cut, &mut |_, _| Ok(()))
            .map_err(|e| self.corrupt(format!("below the cut: {}", e.message())))?;
        let top = position.checked_shr(u32::from(cut)).unwrap_or(0);
        let stored = self.node(cut, top)?;
        if part.top.len() != 1
            || part.top.index[0] != top
            || part.top.hash[0] != stored.hash
            || part.top.sums != stored.sums
        {
            return Err(self.corrupt(format!(
                "the leaves under node {top} of level {cut} do not give the stored node"
            )));
        }
        let mut path = part.paths.into_iter().next().unwrap_or_default();
        for lvl in cut..l.height {
            let idx = position.checked_shr(u32::from(lvl)).unwrap_or(0) ^ 1;
            path.push(self.node(lvl, idx)?);
        }
        // The part below the cut was just computed from the leaf records; the part above is
        // read. Folding the recomputed node at the cut through the read siblings to the signed
        // root and totals is what makes the whole proof verify (tests check every proof with
        // the verifier too); it costs half of a full verification.
        // When every dense node was checked at open, the stored node at the cut (equal to the
        // recomputed one, above) is the signed tree's, and so is the whole path.
        let upper = &path[usize::from(cut)..];
        if !self.dense_checked {
            match fold_path(part.top.hash[0], &part.top.sums, top, upper) {
                Ok((root, sums)) if root == self.att.root_hash && sums == self.att.liabilities => {}
                _ => {
                    return Err(self.corrupt(format!(
                        "the path of leaf record {row} does not lead to the signed root"
                    )))
                }
            }
        }
        let (position, salt, user_id, balances) = rows.swap_remove(mine);
        let proof = InclusionProof {
            exchange: self.att.exchange.clone(),
            period: self.att.period.clone(),
            user_id,
            salt,
            position,
            balances,
            path,
        };
        Ok(Some((row, proof)))
    }

    /// The proof of `user_id` in this tree's mode, with its row; `None` if the user is not in
    /// this tree. A hidden-sums proof costs its range proofs (seconds: spec/hidden.md).
    pub fn any_proof(&self, user_id: &str) -> Result<Option<(u64, Proof)>> {
        if self.openings.is_none() {
            return Ok(self
                .proof_with_row(user_id)?
                .map(|(r, p)| (r, Proof::Transparent(p))));
        }
        Ok(self
            .hidden_proof_with_row(user_id)?
            .map(|(r, p)| (r, Proof::Hidden(p))))
    }

    /// The hidden-sums proof of `user_id`, checked against the signed attestation.
    pub fn hidden_proof_with_row(&self, user_id: &str) -> Result<Option<(u64, HiddenProof)>> {
        let (Some(openings), Some(hs)) = (&self.openings, &self.att.hidden) else {
            return Err(Error::input(
                "this tree shows its sums: its proofs are transparent",
            ));
        };
        let Some((row, rows, mine)) = self.subtree(user_id)? else {
            return Ok(None);
        };
        let l = &self.layout;
        let (cut, k) = (l.cut, l.assets);
        let (position, salt, id, balances) = rows[mine].clone();
        let level = openings.leaf_level(&rows, k);
        let part = build_between_with(
            &self.params,
            openings,
            level,
            0,
            cut,
            &[position],
            &mut |_, _| Ok(()),
        )
        .map_err(|e| self.corrupt(format!("below the cut: {}", e.message())))?;
        let top = position.checked_shr(u32::from(cut)).unwrap_or(0);
        let (stored_hash, stored) = self.opened_node(cut, top)?;
        let same = part.top.len() == 1
            && part.top.index[0] == top
            && part.top.hash[0] == stored_hash
            && part
                .top
                .sums
                .iter()
                .zip(&stored)
                .all(|(o, s)| (o.value, o.blinding) == *s);
        if !same {
            return Err(self.corrupt(format!(
                "the leaves under node {top} of level {cut} do not give the stored node"
            )));
        }
        // The siblings above the cut: openings read, commitments made in one batch.
        let mut upper = Vec::with_capacity(usize::from(l.height - cut));
        for lvl in cut..l.height {
            let idx = position.checked_shr(u32::from(lvl)).unwrap_or(0) ^ 1;
            upper.push(self.opened_node(lvl, idx)?);
        }
        let flat: Vec<(u128, por_hidden::Scalar)> =
            upper.iter().flat_map(|(_, u)| u.iter().copied()).collect();
        let units = openings.open(&flat);
        let upper: Vec<Sibling<Opening>> = upper
            .iter()
            .zip(units.chunks(k.max(1)))
            .map(|((hash, _), u)| Sibling {
                hash: *hash,
                sums: u.to_vec(),
            })
            .collect();
        // Folded from the recomputed node at the cut through the read siblings: the signed
        // root, totals and root blindings, or the file is not this month's tree.
        let signed = por_verifier::hidden::root_blindings(hs)?;
        match fold_path_with(openings, part.top.hash[0], &part.top.sums, top, &upper) {
            Ok((root, units))
                if root == self.att.root_hash
                    && units.iter().map(|o| Amount(o.value)).eq(self
                        .att
                        .liabilities
                        .iter()
                        .copied())
                    && units.iter().map(|o| o.blinding).eq(signed.iter().copied()) => {}
            _ => {
                return Err(self.corrupt(format!(
                    "the path of leaf record {row} does not lead to the signed root"
                )))
            }
        }
        let mut path = part.paths.into_iter().next().unwrap_or_default();
        path.extend(upper);
        let proof = crate::hidden::prove_one(
            &self.att,
            hs,
            &id,
            position,
            salt,
            &balances,
            openings.key(),
            &path,
        )?;
        Ok(Some((row, proof)))
    }

    /// The row of `user_id`, the leaf records under the same node of the cut level (as
    /// position, salt, id, balances, in position order) and which of them is the user's.
    fn subtree(&self, user_id: &str) -> Result<Option<(u64, Vec<LeafRow>, usize)>> {
        let Some((row, leaf)) = self.find(user_id)? else {
            return Ok(None);
        };
        let l = &self.layout;
        let cut = l.cut;
        let lo: u128 = if cut >= 64 {
            0
        } else {
            u128::from(leaf.position >> cut) << cut
        };
        let hi = lo + (1u128 << cut);
        let lb = l.leaf_bytes() as usize;
        // The subtree's leaves are next to the customer's: one read of a window around it
        // usually holds them all; a binary search finds the bounds when it does not.
        const WINDOW: u64 = 32;
        let (wa, wb) = (row.saturating_sub(WINDOW), (row + WINDOW + 1).min(l.leaves));
        let mut bytes = vec![0u8; ((wb - wa) * l.leaf_bytes()) as usize];
        self.read_at(l.leaves_at() + wa * l.leaf_bytes(), &mut bytes)?;
        let pos_at = |i: u64| u128::from(u64_at(&bytes[(i - wa) as usize * lb..], 0));
        let mut first = wa + (wa..wb).take_while(|&i| pos_at(i) < lo).count() as u64;
        let mut end = first + (first..wb).take_while(|&i| pos_at(i) < hi).count() as u64;
        if (first == wa && wa > 0) || (end == wb && wb < l.leaves) {
            first = self.lower_bound(lo)?;
            end = self.lower_bound(hi)?;
        }
        if end <= first || end - first > MAX_SUBTREE_LEAVES || row < first || row >= end {
            return Err(self.corrupt(format!(
                "leaf records {first}..{end} do not hold a proper subtree for row {row}"
            )));
        }
        if first < wa || end > wb {
            bytes = vec![0u8; ((end - first) * l.leaf_bytes()) as usize];
            self.read_at(l.leaves_at() + first * l.leaf_bytes(), &mut bytes)?;
        } else {
            bytes = bytes[(first - wa) as usize * lb..(end - wa) as usize * lb].to_vec();
        }
        let records: Vec<&[u8]> = bytes.chunks_exact(lb).collect();
        // Their ids were written in row order: one read of the span they cover.
        let span = |r: &[u8]| {
            let off = u64_at(r, 40);
            let len = u64::from(u32::from_le_bytes([r[48], r[49], r[50], r[51]]));
            (off, off.saturating_add(len))
        };
        let (ids_lo, ids_hi) = records
            .iter()
            .map(|r| span(r))
            .fold((u64::MAX, 0), |(a, b), (x, y)| (a.min(x), b.max(y)));
        // The writer lays the ids out in row order: contiguous, each of at most 256 bytes. Any
        // other layout is refused, so no record can make a proof read (or allocate) more.
        let contiguous = records.windows(2).all(|w| span(w[0]).1 == span(w[1]).0);
        let short = records
            .iter()
            .all(|r| span(r).1 - span(r).0 <= MAX_USER_ID_LEN as u64);
        if ids_hi > l.id_bytes || !contiguous || !short {
            return Err(self.corrupt(format!(
                "leaf records {first}..{end}: their ids are not laid out as written"
            )));
        }
        let mut ids = vec![0u8; (ids_hi - ids_lo) as usize];
        self.read_at(l.ids_at() + ids_lo, &mut ids)?;
        // The proof is made of the bytes read here, not of the earlier read that found the
        // row: a file changed in between cannot mix two versions into one proof.
        let mut rows: Vec<LeafRow> = Vec::with_capacity(records.len());
        for (i, rec) in records.iter().enumerate() {
            let (a, b) = span(rec);
            let id = std::str::from_utf8(&ids[(a - ids_lo) as usize..(b - ids_lo) as usize])
                .map_err(|_| {
                    self.corrupt(format!(
                        "leaf record {}: its id is not UTF-8",
                        first + i as u64
                    ))
                })?;
            let mut salt = [0u8; 32];
            salt.copy_from_slice(&rec[8..40]);
            rows.push((u64_at(rec, 0), salt, id.to_string(), amounts(&rec[52..])));
        }
        let mine = (row - first) as usize;
        if rows[mine].2 != user_id || rows[mine].0 != leaf.position {
            return Err(self.corrupt(format!("leaf record {row} changed while it was read")));
        }
        Ok(Some((row, rows, mine)))
    }

    /// The leaf row of `user_id`, if any.
    ///
    /// The keys are uniform (hash prefixes), so the search interpolates: each step reads one
    /// block of entries where the key should be; about two reads at any size. Every fourth
    /// step bisects instead, so a file with skewed keys still costs only a logarithmic number.
    fn find(&self, user_id: &str) -> Result<Option<(u64, Leaf)>> {
        const BLOCK: u64 = 256;
        let key = id_key(user_id);
        let n = self.layout.leaves;
        let read = |a: u64, b: u64| -> Result<Vec<(u64, u64)>> {
            let mut buf = vec![0u8; ((b - a) * 16) as usize];
            self.read_at(self.layout.index_at() + a * 16, &mut buf)?;
            Ok(buf
                .chunks_exact(16)
                .map(|e| (u64_at(e, 0), u64_at(e, 8)))
                .collect())
        };
        // Invariant: entries before `lo` have keys below `key`, entries from `hi` on have keys
        // at least `key`; `klo`/`khi` bound the keys in between.
        let (mut lo, mut hi, mut klo, mut khi) = (0u64, n, 0u128, 1u128 << 64);
        let mut step = 0u32;
        let (first, block) = loop {
            if hi - lo <= BLOCK {
                break (lo, read(lo, hi)?);
            }
            step += 1;
            let guess = if step.is_multiple_of(4) || khi <= klo {
                lo + (hi - lo) / 2
            } else {
                let f = (u128::from(key).saturating_sub(klo)) * u128::from(hi - lo) / (khi - klo);
                lo + (f as u64).min(hi - lo - 1)
            };
            let a = guess.saturating_sub(BLOCK / 2).max(lo);
            let b = (a + BLOCK).min(hi);
            let got = read(a, b)?;
            let (f, l) = (got[0].0, got[got.len() - 1].0);
            if f >= key && a > lo {
                (hi, khi) = (a, u128::from(f));
            } else if l < key && b < hi {
                (lo, klo) = (b, u128::from(l));
            } else {
                break (a, got);
            }
        };
        let mut i = first + block.partition_point(|e| e.0 < key) as u64;
        let start = i;
        while i < n {
            // 64-bit prefixes of SHA-256 collide about once in 2^32 customers: a long run of
            // equal keys is a damaged index, not bad luck.
            if i - start >= 16 {
                return Err(self.corrupt(format!("the id index repeats a key at entry {i}")));
            }
            let (k, row) = match block.get((i - first) as usize) {
                Some(&e) => e,
                None => read(i, i + 1)?[0],
            };
            if k != key {
                break;
            }
            if row >= n {
                return Err(self.corrupt(format!("id index entry {i} names row {row}")));
            }
            let leaf = self.leaf(row)?;
            if leaf.user_id == user_id {
                return Ok(Some((row, leaf)));
            }
            i += 1;
        }
        Ok(None)
    }

    /// The first row whose position is at least `pos`.
    fn lower_bound(&self, pos: u128) -> Result<u64> {
        let (mut a, mut b) = (0u64, self.layout.leaves);
        while a < b {
            let mid = a + (b - a) / 2;
            let mut p = [0u8; 8];
            self.read_at(
                self.layout.leaves_at() + mid * self.layout.leaf_bytes(),
                &mut p,
            )?;
            if u128::from(u64::from_le_bytes(p)) < pos {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        Ok(a)
    }

    fn leaf(&self, row: u64) -> Result<Leaf> {
        let mut rec = vec![0u8; self.layout.leaf_bytes() as usize];
        self.read_at(
            self.layout.leaves_at() + row * self.layout.leaf_bytes(),
            &mut rec,
        )?;
        self.parse_leaf(row, &rec)
    }

    fn parse_leaf(&self, row: u64, rec: &[u8]) -> Result<Leaf> {
        let position = u64_at(rec, 0);
        let off = u64_at(rec, 40);
        let len = u64::from(u32::from_le_bytes([rec[48], rec[49], rec[50], rec[51]]));
        if off
            .checked_add(len)
            .is_none_or(|e| e > self.layout.id_bytes)
            || len > MAX_USER_ID_LEN as u64
        {
            return Err(self.corrupt(format!("leaf record {row}: its id lies outside the ids")));
        }
        let mut id = vec![0u8; len as usize];
        self.read_at(self.layout.ids_at() + off, &mut id)?;
        let user_id = String::from_utf8(id)
            .map_err(|_| self.corrupt(format!("leaf record {row}: its id is not UTF-8")))?;
        Ok(Leaf { position, user_id })
    }

    fn node(&self, l: u8, idx: u64) -> Result<Sibling> {
        let b = self.node_bytes(l, idx)?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[..32]);
        Ok(Sibling {
            hash: Hash(hash),
            sums: amounts(&b[32..]),
        })
    }

    /// A hidden-sums dense node: its hash and, per asset, its value and blinding.
    fn opened_node(&self, l: u8, idx: u64) -> Result<(Hash, Vec<(u128, por_hidden::Scalar)>)> {
        let b = self.node_bytes(l, idx)?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[..32]);
        let units = b[32..]
            .chunks_exact(HIDDEN_UNIT as usize)
            .map(|u| {
                let mut v = [0u8; 16];
                v.copy_from_slice(&u[..16]);
                let blind = por_hidden::encoding::decode_scalar(&u[16..], "blinding")
                    .map_err(|e| self.corrupt(format!("node {idx} of level {l}: {}", e.0)))?;
                Ok((u128::from_le_bytes(v), blind))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((Hash(hash), units))
    }

    fn node_bytes(&self, l: u8, idx: u64) -> Result<Vec<u8>> {
        let nb = self.layout.node_bytes();
        let at = self.layout.level_at(l) + idx * nb;
        let mut b = vec![0u8; nb as usize];
        if l >= self.cached_from {
            let from = (at - self.layout.level_at(self.cached_from)) as usize;
            b.copy_from_slice(&self.cache[from..from + nb as usize]);
        } else {
            self.read_at(at, &mut b)?;
        }
        Ok(b)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        read_exact_at(&self.file, buf, offset).map_err(|e| {
            self.corrupt(format!(
                "cannot read {} bytes at offset {offset}: {e}",
                buf.len()
            ))
        })
    }

    fn corrupt(&self, why: String) -> Error {
        Error::input(format!(
            "{}: corrupt stored tree: {why}",
            self.path.display()
        ))
    }
}

struct Leaf {
    position: u64,
    user_id: String,
}

#[cfg(unix)]
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The reader's own checks on bytes it must not trust: the header, the offsets a header
/// implies, and the sizes no file can have.
#[cfg(test)]
mod tests {
    use super::*;

    fn layout(unit: u64) -> Layout {
        Layout {
            unit,
            height: 20,
            cut: 10,
            assets: 3,
            leaves: 1_000,
            id_bytes: 9_000,
            root: Hash([7; 32]),
        }
    }

    #[test]
    fn a_header_reads_back_as_written() {
        for unit in [16, HIDDEN_UNIT] {
            let l = layout(unit);
            assert_eq!(parse_header(&l.header()), Some(l));
        }
    }

    #[test]
    fn headers_that_are_not_ours_are_refused() {
        let good = layout(16).header();
        assert_eq!(parse_header(&good[..63]), None, "short");
        assert_eq!(parse_header(&[]), None, "empty");
        let mut bad = good;
        bad[0] ^= 1;
        assert_eq!(parse_header(&bad), None, "wrong magic");
        for version in [0u32, 3, u32::MAX] {
            let mut bad = good;
            bad[8..12].copy_from_slice(&version.to_le_bytes());
            assert_eq!(parse_header(&bad), None, "version {version}");
        }
        // Longer input: the header is its first 64 bytes.
        let mut long = good.to_vec();
        long.extend_from_slice(&[0xff; 100]);
        assert_eq!(parse_header(&long), Some(layout(16)));
    }

    #[test]
    fn the_root_is_read_not_defaulted() {
        let mut h = layout(16).header();
        h[32..64].copy_from_slice(&[0xab; 32]);
        assert_eq!(parse_header(&h).map(|l| l.root), Some(Hash([0xab; 32])));
        assert_eq!(hash_at(&h, 32), Hash([0xab; 32]));
        assert_eq!(u64_at(&h, 16), 1_000);
    }

    #[test]
    fn offsets_follow_the_parts_in_order() {
        let l = layout(16);
        assert_eq!(l.leaves_at(), HEADER_BYTES);
        assert_eq!(l.index_at(), HEADER_BYTES + 1_000 * l.leaf_bytes());
        assert_eq!(l.ids_at(), l.index_at() + 1_000 * 16);
        assert_eq!(l.levels_at(), l.ids_at() + 9_000);
        assert_eq!(l.level_at(l.cut), l.levels_at());
        // Level cut holds 2^(height - cut) nodes.
        assert_eq!(
            l.level_at(l.cut + 1),
            l.levels_at() + (1 << 10) * l.node_bytes()
        );
        let dense: u64 = (10..=20).map(|j| 1u64 << (20 - j)).sum();
        assert_eq!(
            l.total(),
            Some(l.levels_at() + dense * l.node_bytes()),
            "the file ends after the root level"
        );
        assert_eq!(layout(HIDDEN_UNIT).node_bytes(), 32 + 48 * 3);
    }

    #[test]
    fn sizes_no_file_can_have_are_refused() {
        // A header claiming a dense part beyond 2^40 slots, or a size past u64, names no file.
        let mut l = layout(16);
        l.height = 255;
        l.cut = 0;
        assert_eq!(l.total(), None);
        let mut l = layout(16);
        l.leaves = u64::MAX;
        assert_eq!(l.total(), None);
    }

    #[test]
    fn the_cut_level_stays_in_the_tree() {
        assert_eq!(cut_level(32, 0, DENSE_SHIFT), 32);
        assert_eq!(cut_level(32, 1, DENSE_SHIFT), 32);
        assert_eq!(cut_level(32, 1 << 20, 1), 13);
        assert_eq!(cut_level(8, u64::MAX, 0), 0);
    }
}
