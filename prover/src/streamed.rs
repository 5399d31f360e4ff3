//! The build's tree, out of core: memory bounded by a budget whatever the number of customers,
//! apart from the set of taken positions.
//!
//! 1. **Rows to buckets.** Each row of the export gets its position (the first free candidate,
//!    as `state::PositionAssigner` assigns them, so the auditor's replay agrees) and its salt,
//!    and is appended to one of `B` bucket files by the top `log2 B` bits of its position: a
//!    bucket is a slice of the position space, that is, a subtree. `B` is a power of two chosen
//!    so that one bucket fits the memory budget.
//! 2. **Slices.** Bucket by bucket, in position order: sorted in memory, hashed in parallel,
//!    written to `leaves.csv` and to the stored tree (leaf records, ids and the slice's part of
//!    the dense levels, each at its known offset), and built up to the slice's top.
//! 3. **Join.** The `B` slice tops are built up to the root, writing the top dense levels.
//! 4. **Index.** The id index, spilled to `B` files by key, is sorted file by file.
//!
//! Taken positions: a hash set while few, a bitset of `2^h` bits once that is smaller (512 MiB
//! at height 32); above height 32 always the hash set, about 30 bytes per customer.
//! A repeated user id is found without a set of ids: its second row's candidates run into the
//! position its first row took, so every candidate found taken is remembered (position and id
//! hash, `n²/2^(h+1)` of them) and compared with the leaf there when its bucket is sorted.

use crate::progress::Progress;
use crate::stored::{amounts, dense_slots, u64_at, write_all_at, Layout, HEADER_BYTES};
use por_verifier::amount::Amount;
use por_verifier::asset::Asset;
use por_verifier::error::{Error, Result};
use por_verifier::hash::{leaf_hash, padding_hash, user_commitment, Hash};
use por_verifier::liabilities::Row;
use por_verifier::tree::{build_between, Level, TreeParams};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Default memory budget for the leaves of one slice.
pub const DEFAULT_BUDGET: u64 = 1 << 30;
/// Bytes of memory a slice needs per byte of export (records, two tree levels, hashes).
const MEMORY_PER_EXPORT_BYTE: u64 = 6;
/// At most this many buckets: each has a file open (and a write buffer) during the first
/// pass, which must stay below the usual limit of 1024 open files.
const MAX_BUCKETS: u64 = 512;

/// A candidate position found taken: compared later with the leaf that took it.
#[derive(Clone, Copy)]
struct Collision {
    position: u64,
    id_hash: [u8; 16],
    line: u64,
}

fn id_hash(id: &str) -> [u8; 16] {
    let d = Sha256::digest(id.as_bytes());
    let mut h = [0u8; 16];
    h.copy_from_slice(&d[..16]);
    h
}

/// What the build produced.
#[derive(Debug, Clone)]
pub struct StreamedTree {
    /// The root hash.
    pub root: Hash,
    /// The totals per asset.
    pub root_sums: Vec<Amount>,
    /// Number of customers.
    pub customers: u64,
    /// Number of slices the position space was cut into.
    pub buckets: u64,
}

/// Builds the tree from rows pushed one by one; see the module notes.
pub struct StreamedBuilder {
    name: String,
    spill: PathBuf,
    height: u8,
    assets: Vec<Asset>,
    log_b: u8,
    assigner: por_verifier::state::PositionAssigner,
    collisions: Vec<Collision>,
    writers: Vec<BufWriter<File>>,
    counts: Vec<u64>,
    id_bytes: Vec<u64>,
    n: u64,
}

impl StreamedBuilder {
    /// Starts a build whose spill files go to `spill` (a private directory, created here and
    /// removed by [`StreamedBuilder::finish`]). `size_hint` is the export's size in bytes; with
    /// `budget`, it sets the number of slices.
    pub fn new(
        name: &str,
        spill: &Path,
        height: u8,
        assets: &[Asset],
        seed: [u8; 32],
        budget: u64,
        size_hint: u64,
    ) -> Result<StreamedBuilder> {
        let want = (size_hint.saturating_mul(MEMORY_PER_EXPORT_BYTE)).div_ceil(budget.max(1));
        let mut log_b = 0u8;
        while (1u64 << log_b) < want.min(MAX_BUCKETS) && log_b < height {
            log_b += 1;
        }
        std::fs::create_dir_all(spill)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", spill.display())))?;
        let b = 1usize << log_b;
        let buf = if b > 64 { 64 << 10 } else { 1 << 20 };
        let mut writers = Vec::with_capacity(b);
        for i in 0..b {
            let p = spill.join(format!("b{i:05}"));
            let f = File::create(&p)
                .map_err(|e| Error::input(format!("{}: cannot create: {e}", p.display())))?;
            writers.push(BufWriter::with_capacity(buf, f));
        }
        Ok(StreamedBuilder {
            name: name.to_string(),
            spill: spill.to_path_buf(),
            height,
            assets: assets.to_vec(),
            log_b,
            assigner: por_verifier::state::PositionAssigner::new(seed, height),
            collisions: Vec::new(),
            writers,
            counts: vec![0; b],
            id_bytes: vec![0; b],
            n: 0,
        })
    }

    /// Number of slices.
    pub fn buckets(&self) -> u64 {
        1 << self.log_b
    }

    /// Adds one customer (in export order) with its salt.
    pub fn push(&mut self, row: &Row, salt: &[u8; 32]) -> Result<()> {
        let (collisions, hash) = (&mut self.collisions, id_hash(&row.user_id));
        let p = self
            .assigner
            .assign_noting(&row.user_id, &mut |position| {
                collisions.push(Collision {
                    position,
                    id_hash: hash,
                    line: row.line,
                })
            })
            .map_err(|e| e.context(&self.name))?;
        let b = self.bucket_of(p);
        let w = &mut self.writers[b];
        let id = row.user_id.as_bytes();
        let err = |e: std::io::Error| Error::input(format!("spill file: cannot write: {e}"));
        w.write_all(&p.to_le_bytes()).map_err(err)?;
        w.write_all(salt).map_err(err)?;
        w.write_all(&row.line.to_le_bytes()).map_err(err)?;
        w.write_all(&(id.len() as u32).to_le_bytes()).map_err(err)?;
        w.write_all(id).map_err(err)?;
        for a in &row.balances {
            w.write_all(&a.0.to_le_bytes()).map_err(err)?;
        }
        self.counts[b] += 1;
        self.id_bytes[b] += id.len() as u64;
        self.n += 1;
        Ok(())
    }

    fn bucket_of(&self, position: u64) -> usize {
        if self.log_b == 0 {
            0
        } else {
            (position >> (self.height - self.log_b)) as usize
        }
    }

    /// Runs the slices, the join and the index: writes `leaves` (leaves.csv) and `tree`
    /// (tree.bin), removes the spill directory, and returns the root.
    pub fn finish(
        mut self,
        padding_key: [u8; 32],
        leaves: &Path,
        tree: &Path,
        cut: u8,
        progress: &Progress,
    ) -> Result<StreamedTree> {
        for (i, w) in self.writers.drain(..).enumerate() {
            let f = w.into_inner().map_err(|e| {
                Error::input(format!("spill file {i}: cannot write: {}", e.error()))
            })?;
            drop(f);
        }
        self.collisions.par_sort_unstable_by_key(|c| c.position);
        let k = self.assets.len();
        let params = TreeParams {
            height: self.height,
            assets: k,
            padding_key,
        };
        let layout = Layout {
            unit: 16,
            height: self.height,
            cut: cut.min(self.height),
            assets: k,
            leaves: self.n,
            id_bytes: self.id_bytes.iter().sum(),
            root: Hash([0; 32]),
        };
        let total = layout.total().ok_or_else(|| {
            Error::input(format!(
                "a tree of height {} over {} leaves cannot be stored",
                self.height, self.n
            ))
        })?;
        let terr =
            |e: std::io::Error| Error::input(format!("{}: cannot write: {e}", tree.display()));
        let out = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(tree)
            .map_err(terr)?;
        out.set_len(total).map_err(terr)?;
        let lerr =
            |e: std::io::Error| Error::input(format!("{}: cannot write: {e}", leaves.display()));
        let mut csv = BufWriter::with_capacity(1 << 20, File::create(leaves).map_err(lerr)?);
        write!(csv, "position,salt,user_id").map_err(lerr)?;
        for a in &self.assets {
            write!(csv, ",{}:{}", a.symbol, a.decimals).map_err(lerr)?;
        }
        writeln!(csv).map_err(lerr)?;

        let b_count = 1usize << self.log_b;
        let top_level = self.height - self.log_b;
        let mut index_files = Vec::with_capacity(b_count);
        for i in 0..b_count {
            let p = self.spill.join(format!("i{i:05}"));
            let f = File::create(&p)
                .map_err(|e| Error::input(format!("{}: cannot create: {e}", p.display())))?;
            index_files.push(BufWriter::with_capacity(64 << 10, f));
        }
        let mut index_counts = vec![0u64; b_count];
        let mut tops = Level::with_capacity(b_count, k);
        let mut duplicates: Vec<(u64, u64, String)> = Vec::new();
        let (mut row, mut id_at) = (0u64, 0u64);
        let bar = progress.slices(b_count as u64);
        for b in 0..b_count {
            let path = self.spill.join(format!("b{b:05}"));
            let data = std::fs::read(&path)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
            let _ = std::fs::remove_file(&path);
            let recs = parse_bucket(&data, k, self.counts[b])?;
            drop_duplicates_check(&self.collisions, &recs, &data, &mut duplicates);
            let level = slice_leaves(&recs, &data, k);
            // Leaf records and ids at their offsets, rows of leaves.csv, index entries: made
            // in parallel pieces, written in order.
            let lb = layout.leaf_bytes() as usize;
            let mut id_offsets = Vec::with_capacity(recs.len());
            let mut acc = id_at;
            for r in &recs {
                id_offsets.push(acc);
                acc += r.id.len() as u64;
            }
            let assets = &self.assets;
            let log_b = self.log_b;
            let pieces: Vec<Piece> = recs
                .par_chunks(4096)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut p = Piece::default();
                    for (i, r) in chunk.iter().enumerate() {
                        let j = c * 4096 + i;
                        let id = &data[r.id.clone()];
                        p.records.extend_from_slice(&r.position.to_le_bytes());
                        p.records.extend_from_slice(&data[r.salt..r.salt + 32]);
                        p.records.extend_from_slice(&id_offsets[j].to_le_bytes());
                        p.records
                            .extend_from_slice(&(id.len() as u32).to_le_bytes());
                        p.records
                            .extend_from_slice(&data[r.balances..r.balances + 16 * k]);
                        p.ids.extend_from_slice(id);
                        let id = std::str::from_utf8(id).unwrap_or_default();
                        let _ = write!(p.csv, "{},", r.position);
                        push_hex(&mut p.csv, &data[r.salt..r.salt + 32]);
                        p.csv.push(b',');
                        p.csv.extend_from_slice(id.as_bytes());
                        for (a, asset) in assets.iter().enumerate() {
                            let _ = write!(
                                p.csv,
                                ",{}",
                                level.sums[j * k + a].to_decimal(asset.decimals)
                            );
                        }
                        p.csv.push(b'\n');
                        let key = crate::stored::id_key(id);
                        let ib = if log_b == 0 {
                            0
                        } else {
                            (key >> (64 - u32::from(log_b))) as usize
                        };
                        p.index.push((ib, key, row + j as u64));
                    }
                    p
                })
                .collect();
            let mut at = layout.leaves_at() + row * layout.leaf_bytes();
            let mut ids_at = layout.ids_at() + id_at;
            for p in pieces {
                csv.write_all(&p.csv).map_err(lerr)?;
                write_all_at(&out, &p.records, at).map_err(terr)?;
                at += p.records.len() as u64;
                write_all_at(&out, &p.ids, ids_at).map_err(terr)?;
                ids_at += p.ids.len() as u64;
                for (ib, key, r) in p.index {
                    let w = &mut index_files[ib];
                    w.write_all(&key.to_le_bytes())
                        .and_then(|_| w.write_all(&r.to_le_bytes()))
                        .map_err(|e| Error::input(format!("spill file: cannot write: {e}")))?;
                    index_counts[ib] += 1;
                }
            }
            debug_assert_eq!(
                at,
                layout.leaves_at() + (row + recs.len() as u64) * lb as u64
            );
            row += recs.len() as u64;
            id_at = acc;
            drop(recs);
            drop(data);
            // The slice's subtree; its part of the dense levels below the slice's top.
            let slice = b as u64;
            let part = build_between(&params, level, 0, top_level, &[], &mut |l, lvl| {
                if l >= layout.cut && l < top_level {
                    let first = slice << (top_level - l);
                    let bytes = dense_slots(&padding_key, k, lvl, l, first, 1 << (top_level - l));
                    write_all_at(
                        &out,
                        &bytes,
                        layout.level_at(l) + first * layout.node_bytes(),
                    )
                    .map_err(terr)?;
                }
                Ok(())
            })?;
            if part.top.len() == 1 {
                tops.index.push(slice);
                tops.hash.push(part.top.hash[0]);
                tops.sums.extend_from_slice(&part.top.sums);
            }
            bar.set(b as u64 + 1);
        }
        bar.finish();
        if let Some((line, first, id)) = duplicates.into_iter().min() {
            return Err(Error::input(format!(
                "{} line {line}, field user_id: duplicate user id {id:?} (first at line {first})",
                self.name
            )));
        }
        csv.flush().map_err(lerr)?;
        // Join the slices' tops up to the root.
        let joined = build_between(&params, tops, top_level, self.height, &[], &mut |l, lvl| {
            if l >= layout.cut {
                let bytes = dense_slots(&padding_key, k, lvl, l, 0, 1 << (self.height - l));
                write_all_at(&out, &bytes, layout.level_at(l)).map_err(terr)?;
            }
            Ok(())
        })?;
        let (root, root_sums) = match joined.top.len() {
            1 => (joined.top.hash[0], joined.top.sums),
            _ => (
                padding_hash(&padding_key, self.height, 0),
                vec![Amount::ZERO; k],
            ),
        };
        // The id index, one spill file at a time.
        let mut at = layout.index_at();
        for (i, w) in index_files.into_iter().enumerate() {
            drop(w.into_inner().map_err(|e| {
                Error::input(format!("index spill {i}: cannot write: {}", e.error()))
            })?);
            let p = self.spill.join(format!("i{i:05}"));
            let data = std::fs::read(&p)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", p.display())))?;
            let _ = std::fs::remove_file(&p);
            let mut entries: Vec<(u64, u64)> = data
                .chunks_exact(16)
                .map(|c| (u64_at(c, 0), u64_at(c, 8)))
                .collect();
            entries.par_sort_unstable();
            let mut bytes = Vec::with_capacity(data.len());
            for (key, r) in &entries {
                bytes.extend_from_slice(&key.to_le_bytes());
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            write_all_at(&out, &bytes, at).map_err(terr)?;
            at += index_counts[i] * 16;
        }
        let mut final_layout = layout;
        final_layout.root = root;
        write_all_at(&out, &final_layout.header(), 0).map_err(terr)?;
        debug_assert_eq!(HEADER_BYTES, layout.leaves_at());
        out.sync_all().map_err(terr)?;
        let _ = std::fs::remove_dir_all(&self.spill);
        Ok(StreamedTree {
            root,
            root_sums,
            customers: self.n,
            buckets: b_count as u64,
        })
    }
}

/// One parallel piece of a slice's output.
#[derive(Default)]
struct Piece {
    csv: Vec<u8>,
    records: Vec<u8>,
    ids: Vec<u8>,
    index: Vec<(usize, u64, u64)>,
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

/// One spilled row, as offsets into its bucket's bytes.
struct Rec {
    position: u64,
    salt: usize,
    line: u64,
    id: std::ops::Range<usize>,
    balances: usize,
}

/// Parses a bucket file (written by this build, read back) and sorts it by position.
fn parse_bucket(data: &[u8], k: usize, count: u64) -> Result<Vec<Rec>> {
    let mut recs = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    let bad = || Error::input("spill file: damaged while the build ran");
    while at < data.len() {
        let fixed = data.get(at..at + 52).ok_or_else(bad)?;
        let len = u32::from_le_bytes([fixed[48], fixed[49], fixed[50], fixed[51]]) as usize;
        let id = at + 52..at + 52 + len;
        let balances = id.end;
        if data.len() < balances + 16 * k {
            return Err(bad());
        }
        recs.push(Rec {
            position: u64_at(fixed, 0),
            salt: at + 8,
            line: u64_at(fixed, 40),
            id,
            balances,
        });
        at = balances + 16 * k;
    }
    if recs.len() as u64 != count {
        return Err(bad());
    }
    recs.par_sort_unstable_by_key(|r| r.position);
    Ok(recs)
}

/// Records each collision in this bucket whose position holds the same id: a repeated user.
fn drop_duplicates_check(
    collisions: &[Collision],
    recs: &[Rec],
    data: &[u8],
    out: &mut Vec<(u64, u64, String)>,
) {
    let (Some(first), Some(last)) = (recs.first(), recs.last()) else {
        return;
    };
    let lo = collisions.partition_point(|c| c.position < first.position);
    let hi = collisions.partition_point(|c| c.position <= last.position);
    for c in &collisions[lo..hi] {
        if let Ok(i) = recs.binary_search_by_key(&c.position, |r| r.position) {
            let id = std::str::from_utf8(&data[recs[i].id.clone()]).unwrap_or_default();
            if id_hash(id) == c.id_hash {
                out.push((c.line, recs[i].line, id.to_string()));
            }
        }
    }
}

/// The slice's leaf level, hashed in parallel.
fn slice_leaves(recs: &[Rec], data: &[u8], k: usize) -> Level {
    let hash = recs
        .par_iter()
        .map(|r| {
            let id = std::str::from_utf8(&data[r.id.clone()]).unwrap_or_default();
            let mut salt = [0u8; 32];
            salt.copy_from_slice(&data[r.salt..r.salt + 32]);
            leaf_hash(
                &user_commitment(id, &salt),
                &amounts(&data[r.balances..r.balances + 16 * k]),
            )
        })
        .collect();
    let mut sums = Vec::with_capacity(recs.len() * k);
    for r in recs {
        sums.extend(amounts(&data[r.balances..r.balances + 16 * k]));
    }
    Level {
        index: recs.iter().map(|r| r.position).collect(),
        hash,
        sums,
    }
}
