//! The sparse Merkle sum tree of fixed height, built level by level over flat arrays.
//!
//! Only occupied nodes are stored: a level is three parallel arrays (index, hash, sums), sorted
//! by index. A node whose sibling is absent pairs with a padding node (zero sums, hash from the
//! secret padding key). Building the next level reads only the current one, so the peak memory
//! is two levels, about `2 · n · (40 + 16·k)` bytes for `n` customers and `k` assets.
//!
//! Work is split into chunks whose boundaries never separate two siblings, and chunks are
//! hashed in parallel (rayon). Inclusion paths for chosen leaves are collected during the same
//! pass, which is how the prover hands out proofs without storing the tree.

use crate::amount::Amount;
use crate::error::{Error, Result};
use crate::hash::{padding_hash, Hash};
use rayon::prelude::*;

pub use por_core::tree::{
    fold_path, fold_path_with, FoldError, NodeContent, Sibling, Sums, MAX_HEIGHT,
};

/// What a build hands every completed level to.
pub type Visit<'a, U> = dyn FnMut(u8, &Level<U>) -> Result<()> + 'a;

/// One customer's leaf as the builders read it: position, salt, user id, balances.
pub type LeafRow = (u64, [u8; 32], String, Vec<Amount>);

/// What building a tree needs of a node content beyond [`NodeContent`]: the content of padding
/// nodes, and a last pass over each new level's contents (the hidden-sums content normalises
/// its points there in one batch).
pub trait BuildContent: NodeContent<Unit: Send + Sync> + Sync {
    /// Whether every padding node has the same content (then it is made once per chunk, not
    /// once per padding node).
    const UNIFORM_PADDING: bool = false;
    /// The contents of the padding nodes at `indices` of `level`, `assets` units each.
    fn paddings(&self, level: u8, indices: &[u64], assets: usize) -> Vec<Self::Unit>;
    /// Called on each chunk of a new level's contents once they are all merged.
    fn finish(&self, _units: &mut [Self::Unit]) {}
    /// The leaf level of `rows`, sorted by position, `assets` balances each.
    fn leaf_level(&self, rows: &[LeafRow], assets: usize) -> Level<Self::Unit>;
}

impl BuildContent for Sums {
    const UNIFORM_PADDING: bool = true;
    fn leaf_level(&self, rows: &[LeafRow], assets: usize) -> Level {
        let mut level = Level::with_capacity(rows.len(), assets);
        level.index = rows.iter().map(|r| r.0).collect();
        level.hash = rows
            .par_iter()
            .map(|(_, salt, id, bal)| {
                crate::hash::leaf_hash(&crate::hash::user_commitment(id, salt), bal)
            })
            .collect();
        level.sums = rows.iter().flat_map(|r| r.3.iter().copied()).collect();
        level
    }
    fn paddings(&self, _level: u8, indices: &[u64], assets: usize) -> Vec<Amount> {
        vec![Amount::ZERO; indices.len() * assets]
    }
}

/// One level of the tree: the occupied nodes, sorted by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level<U = Amount> {
    /// Node indices within the level, strictly increasing.
    pub index: Vec<u64>,
    /// Node hashes, parallel to `index`.
    pub hash: Vec<Hash>,
    /// Node contents (sums, or commitments), `assets` per node, parallel to `index`.
    pub sums: Vec<U>,
}

impl<U> Default for Level<U> {
    fn default() -> Self {
        Level {
            index: Vec::new(),
            hash: Vec::new(),
            sums: Vec::new(),
        }
    }
}

impl<U> Level<U> {
    /// An empty level with room for `n` nodes of `k` assets.
    pub fn with_capacity(n: usize, k: usize) -> Self {
        Level {
            index: Vec::with_capacity(n),
            hash: Vec::with_capacity(n),
            sums: Vec::with_capacity(n * k),
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the level has no node.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn append(&mut self, other: Level<U>) {
        self.index.extend(other.index);
        self.hash.extend(other.hash);
        self.sums.extend(other.sums);
    }
}

/// The shape of a tree: what is needed, beside the leaves, to compute it.
#[derive(Clone)]
pub struct TreeParams {
    /// Levels above the leaves; the tree has `2^height` leaf positions.
    pub height: u8,
    /// Number of assets per sum.
    pub assets: usize,
    /// Secret key from which padding hashes are derived.
    pub padding_key: [u8; 32],
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuiltTree<U = Amount> {
    /// The root hash.
    pub root: Hash,
    /// The root's content: total liabilities per asset (or their openings).
    pub root_sums: Vec<U>,
    /// For each requested target, in the order requested, its path from the leaf level up.
    pub paths: Vec<Vec<Sibling<U>>>,
    /// SHA-256 computations made for inner and padding nodes (for benchmarks).
    pub node_hashes: u64,
    /// How many of `node_hashes` were padding hashes (one-block-shorter inputs).
    pub padding_hashes: u64,
}

/// Checks that leaf positions are strictly increasing and fit the height. A repeated position
/// means two leaves claim one place: the tree is malformed, which is a failed check.
pub fn check_positions(index: &[u64], height: u8) -> Result<()> {
    if height == 0 || height > MAX_HEIGHT {
        return Err(Error::input(format!(
            "tree height {height}: expected 1 to {MAX_HEIGHT}"
        )));
    }
    let limit: u128 = 1u128 << height;
    for (i, w) in index.windows(2).enumerate() {
        if w[0] == w[1] {
            return Err(Error::failed(format!(
                "duplicate leaf: two leaves at position {}",
                w[0]
            )));
        }
        if w[0] > w[1] {
            return Err(Error::input(format!(
                "leaf {}: positions are not in increasing order",
                i + 1
            )));
        }
    }
    if let Some(&last) = index.last() {
        if u128::from(last) >= limit {
            return Err(Error::input(format!(
                "leaf position {last} does not fit a tree of height {height}"
            )));
        }
    }
    Ok(())
}

/// Builds the tree from its leaf level, collecting the inclusion paths of `targets` (leaf
/// positions). `on_level` is called after each level, for progress reporting.
pub fn build(
    params: &TreeParams,
    leaves: Level,
    targets: &[u64],
    on_level: &(dyn Fn(u8) + Sync),
) -> Result<BuiltTree> {
    build_visiting(params, leaves, targets, &mut |l, _| {
        if l > 0 {
            on_level(l);
        }
        Ok(())
    })
}

/// As [`build`], handing every level (0 = the leaves, up to the root) to `visit` once it is
/// complete: this is how the prover stores the upper levels without keeping them in memory.
pub fn build_visiting(
    params: &TreeParams,
    leaves: Level,
    targets: &[u64],
    visit: &mut dyn FnMut(u8, &Level) -> Result<()>,
) -> Result<BuiltTree> {
    build_visiting_with(params, &Sums, leaves, targets, visit)
}

/// [`build_visiting`] for any node content.
pub fn build_visiting_with<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    leaves: Level<C::Unit>,
    targets: &[u64],
    visit: &mut Visit<'_, C::Unit>,
) -> Result<BuiltTree<C::Unit>> {
    let part = build_between_with(params, content, leaves, 0, params.height, targets, visit)?;
    let (root, root_sums) = root_of(params, content, part.top);
    Ok(BuiltTree {
        root,
        root_sums,
        paths: part.paths,
        node_hashes: part.node_hashes,
        padding_hashes: part.padding_hashes,
    })
}

/// The root from the top level of a build: its one node, or (no customer at all) an empty
/// subtree of full height.
pub fn root_of<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    top: Level<C::Unit>,
) -> (Hash, Vec<C::Unit>) {
    match top.len() {
        1 => (top.hash[0], top.sums),
        _ => (
            padding_hash(&params.padding_key, params.height, 0),
            content.paddings(params.height, &[0], params.assets),
        ),
    }
}

/// The lower `levels` levels of a tree, built from some of its leaves.
#[derive(Debug, Clone)]
pub struct PartialBuild<U = Amount> {
    /// The occupied nodes of level `levels`.
    pub top: Level<U>,
    /// For each target, its siblings at levels `0..levels`.
    pub paths: Vec<Vec<Sibling<U>>>,
    /// Hashes computed (see [`BuiltTree::node_hashes`]).
    pub node_hashes: u64,
    /// Padding hashes among them.
    pub padding_hashes: u64,
}

/// Builds levels `1..=levels` above `leaves` (any subset of a tree's leaves, at their global
/// positions: a subtree of the stored tree is recomputed this way), collecting the lower part
/// of the paths of `targets`.
pub fn build_levels(
    params: &TreeParams,
    leaves: Level,
    targets: &[u64],
    levels: u8,
    visit: &mut dyn FnMut(u8, &Level) -> Result<()>,
) -> Result<PartialBuild> {
    build_between(params, leaves, 0, levels, targets, visit)
}

/// Builds levels `from + 1 ..= to` above the nodes `nodes` of level `from` (indices within
/// that level). Slices of the position space are built this way from their leaves (`from` 0)
/// and then joined from their tops. `visit` sees level `from` and every level built.
pub fn build_between(
    params: &TreeParams,
    nodes: Level,
    from: u8,
    to: u8,
    targets: &[u64],
    visit: &mut dyn FnMut(u8, &Level) -> Result<()>,
) -> Result<PartialBuild> {
    build_between_with(params, &Sums, nodes, from, to, targets, visit)
}

/// [`build_between`] for any node content.
pub fn build_between_with<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    nodes: Level<C::Unit>,
    from: u8,
    to: u8,
    targets: &[u64],
    visit: &mut Visit<'_, C::Unit>,
) -> Result<PartialBuild<C::Unit>> {
    let k = params.assets;
    let leaves = nodes;
    if leaves.sums.len() != leaves.len() * k || leaves.hash.len() != leaves.len() {
        return Err(Error::input("leaf arrays have inconsistent lengths"));
    }
    if from > to || to > params.height {
        return Err(Error::input(format!(
            "levels {from} to {to} asked of a tree of height {}",
            params.height
        )));
    }
    if from < params.height {
        check_positions(&leaves.index, params.height - from)?;
    } else if leaves.len() > 1 || leaves.index.iter().any(|&i| i != 0) {
        return Err(Error::input("the root level holds one node, at index 0"));
    }
    let levels = to;
    let mut paths: Vec<Vec<Sibling<C::Unit>>> = targets
        .iter()
        .map(|_| Vec::with_capacity(levels as usize))
        .collect();
    let mut cursor: Vec<u64> = targets.to_vec();
    for &t in targets {
        if leaves.index.binary_search(&t).is_err() {
            return Err(Error::input(format!("no leaf at position {t}")));
        }
    }
    let mut level = leaves;
    let (mut node_hashes, mut padding_hashes) = (0u64, 0u64);
    visit(from, &level)?;
    for l in from..levels {
        for (path, pos) in paths.iter_mut().zip(cursor.iter_mut()) {
            path.push(sibling_of(params, content, &level, l, *pos ^ 1));
            *pos >>= 1;
        }
        let (next, hashes, pads) = next_level(params, content, &level, l)?;
        node_hashes += hashes;
        padding_hashes += pads;
        level = next;
        visit(l + 1, &level)?;
    }
    Ok(PartialBuild {
        top: level,
        paths,
        node_hashes,
        padding_hashes,
    })
}

fn sibling_of<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    level: &Level<C::Unit>,
    l: u8,
    index: u64,
) -> Sibling<C::Unit> {
    let k = params.assets;
    match level.index.binary_search(&index) {
        Ok(i) => Sibling {
            hash: level.hash[i],
            sums: level.sums[i * k..(i + 1) * k].to_vec(),
        },
        Err(_) => Sibling {
            hash: padding_hash(&params.padding_key, l, index),
            sums: content.paddings(l, &[index], k),
        },
    }
}

/// Splits `0..n` into ranges whose boundaries never fall between two siblings.
fn chunk_bounds(index: &[u64]) -> Vec<usize> {
    let n = index.len();
    let chunks = (n / 2048).clamp(1, rayon::current_num_threads() * 8);
    let mut bounds = vec![0];
    for j in 1..chunks {
        let mut b = j * n / chunks;
        if b > 0 && b < n && index[b] >> 1 == index[b - 1] >> 1 {
            b += 1;
        }
        if b > *bounds.last().unwrap_or(&0) && b < n {
            bounds.push(b);
        }
    }
    bounds.push(n);
    bounds
}

/// Computes level `l + 1` from level `l`; returns it, the number of hashes computed, and how
/// many of those were padding hashes.
fn next_level<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    cur: &Level<C::Unit>,
    l: u8,
) -> Result<(Level<C::Unit>, u64, u64)> {
    if cur.len() < 4096 {
        // A subtree recomputed for one proof: not worth handing to other threads.
        let (out, hashes) = hash_range(params, content, cur, l, 0, cur.len())?;
        let pads = hashes - out.len() as u64;
        return Ok((out, hashes, pads));
    }
    let bounds = chunk_bounds(&cur.index);
    let parts: Vec<Result<(Level<C::Unit>, u64)>> = bounds
        .par_windows(2)
        .map(|w| hash_range(params, content, cur, l, w[0], w[1]))
        .collect();
    let mut out = Level::with_capacity(cur.len() / 2 + 1, params.assets);
    let mut hashes = 0;
    for part in parts {
        let (lvl, h) = part?;
        out.append(lvl);
        hashes += h;
    }
    // Each parent costs one node hash; the rest are padding hashes.
    let pads = hashes - out.len() as u64;
    Ok((out, hashes, pads))
}

/// Whether node `i` of `cur` is a left child whose sibling is the next node (within `..end`).
fn paired<U>(cur: &Level<U>, i: usize, end: usize) -> bool {
    let idx = cur.index[i];
    idx & 1 == 0 && i + 1 < end && cur.index[i + 1] == idx + 1
}

fn hash_range<C: BuildContent>(
    params: &TreeParams,
    content: &C,
    cur: &Level<C::Unit>,
    l: u8,
    start: usize,
    end: usize,
) -> Result<(Level<C::Unit>, u64)> {
    let k = params.assets;
    // The padding siblings this range needs, made in one batch (or once, when all are alike).
    let mut lone = Vec::new();
    if C::UNIFORM_PADDING {
        lone.push(0);
    } else {
        let mut i = start;
        while i < end {
            let idx = cur.index[i];
            if paired(cur, i, end) {
                i += 2;
            } else {
                lone.push(idx ^ 1);
                i += 1;
            }
        }
    }
    let pads = content.paddings(l, &lone, k);
    let mut next_pad = 0usize;
    let mut out = Level::with_capacity((end - start) / 2 + 1, k);
    let mut hashes = 0u64;
    let mut i = start;
    while i < end {
        let idx = cur.index[i];
        let sums_i = &cur.sums[i * k..(i + 1) * k];
        let start_len = out.sums.len();
        let other = if paired(cur, i, end) {
            let sums_r = &cur.sums[(i + 1) * k..(i + 2) * k];
            out.hash
                .push(content.node_hash(&cur.hash[i], sums_i, &cur.hash[i + 1], sums_r));
            hashes += 1;
            i += 2;
            sums_r
        } else {
            let pad = padding_hash(&params.padding_key, l, idx ^ 1);
            let zeros = &pads[next_pad * k..(next_pad + 1) * k];
            if !C::UNIFORM_PADDING {
                next_pad += 1;
            }
            let h = if idx & 1 == 0 {
                content.node_hash(&cur.hash[i], sums_i, &pad, zeros)
            } else {
                content.node_hash(&pad, zeros, &cur.hash[i], sums_i)
            };
            out.hash.push(h);
            hashes += 2;
            i += 1;
            zeros
        };
        out.sums.extend_from_slice(sums_i);
        content
            .merge(&mut out.sums[start_len..], other)
            .map_err(|a| {
                Error::failed(format!(
                    "sums overflow at level {} in asset #{}",
                    l + 1,
                    a + 1
                ))
            })?;
        out.index.push(idx >> 1);
    }
    content.finish(&mut out.sums);
    Ok((out, hashes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::add_sums;
    use crate::hash::{leaf_hash, node_hash};

    fn params(height: u8) -> TreeParams {
        TreeParams {
            height,
            assets: 2,
            padding_key: [7; 32],
        }
    }

    fn leaves(positions: &[u64]) -> Level {
        let mut lvl = Level::with_capacity(positions.len(), 2);
        for &p in positions {
            let sums = [Amount(p as u128 + 1), Amount(2)];
            lvl.index.push(p);
            lvl.hash.push(leaf_hash(&Hash([p as u8; 32]), &sums));
            lvl.sums.extend(sums);
        }
        lvl
    }

    /// A naive recursive build over the full tree, to check the level-by-level one against.
    fn naive(p: &TreeParams, lv: &Level, level: u8, index: u64) -> (Hash, Vec<Amount>) {
        if level == 0 {
            return match lv.index.binary_search(&index) {
                Ok(i) => (lv.hash[i], lv.sums[i * 2..i * 2 + 2].to_vec()),
                Err(_) => (padding_hash(&p.padding_key, 0, index), vec![Amount(0); 2]),
            };
        }
        let lo = index << level;
        let hi = (index + 1) << level;
        if !lv.index.iter().any(|&x| x >= lo && x < hi) {
            return (
                padding_hash(&p.padding_key, level, index),
                vec![Amount(0); 2],
            );
        }
        let (lh, ls) = naive(p, lv, level - 1, index * 2);
        let (rh, rs) = naive(p, lv, level - 1, index * 2 + 1);
        let mut s = ls.clone();
        add_sums(&mut s, &rs).unwrap();
        (node_hash(&lh, &ls, &rh, &rs), s)
    }

    #[test]
    fn matches_naive_build_and_paths_fold_to_root() {
        let p = params(5);
        let positions = [0u64, 1, 2, 7, 8, 9, 15, 16, 30, 31];
        let built = build(&p, leaves(&positions), &positions, &|_| {}).unwrap();
        let (root, sums) = naive(&p, &leaves(&positions), 5, 0);
        assert_eq!(built.root, root);
        assert_eq!(built.root_sums, sums);
        let lv = leaves(&positions);
        for (i, &pos) in positions.iter().enumerate() {
            let path = &built.paths[i];
            assert_eq!(path.len(), 5);
            let (h, s) = fold_path(lv.hash[i], &lv.sums[i * 2..i * 2 + 2], pos, path).unwrap();
            assert_eq!((h, s), (root, sums.clone()));
        }
    }

    #[test]
    fn large_random_build_matches_sequential_chunking() {
        // Enough leaves to split into many chunks; chunk seams must not change the root.
        let mut positions: Vec<u64> = (0..20_000u64)
            .map(|i| (i * 2654435761) % (1 << 20))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let p = params(20);
        let a = build(&p, leaves(&positions), &[], &|_| {}).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool
            .install(|| build(&p, leaves(&positions), &[], &|_| {}))
            .unwrap();
        assert_eq!(a.root, b.root);
        assert_eq!(
            a.root_sums[0].0,
            positions.iter().map(|&x| x as u128 + 1).sum::<u128>()
        );
    }

    #[test]
    fn rejects_duplicates_and_overflow() {
        let e = build(&params(3), leaves(&[1, 1]), &[], &|_| {}).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let mut lv = leaves(&[0, 1]);
        lv.sums[0] = Amount(u128::MAX);
        let e = build(&params(3), lv, &[], &|_| {}).unwrap_err();
        assert!(e.message().contains("overflow"));
        assert!(build(&params(2), leaves(&[4]), &[], &|_| {}).is_err());
    }
}
