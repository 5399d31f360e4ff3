//! The hidden-sums mode on the exchange's side (spec/hidden.md): the committed tree is built
//! from `leaves.csv` by the auditor's own code ([`por_verifier::audit::tree_from_leaves`] with
//! the opened content), and a customer's proof carries their leaf's opening, each sibling's
//! commitments and the range proofs of the siblings' values.
//!
//! The build stores the committed tree (`tree.bin`, layout version 2: each dense node's hash,
//! values and blindings), so a proof reads its path as in the transparent mode, recomputes the
//! commitments of its siblings, and then makes the range proofs, the expensive part.

use por_hidden::encoding::scalar_bytes;
use por_hidden::generators::Generators;
use por_hidden::node::blinding;
use por_hidden::path;
use por_verifier::asset::Asset;
use por_verifier::attestation::{bit_size_for, Attestation, HiddenSums};
use por_verifier::audit::{tree_from_leaves, Recomputed};
use por_verifier::error::{Error, Result};
use por_verifier::hash::padding_hash;
use por_verifier::hidden::HiddenProof;
use por_verifier::hidden_tree::{Opening, Openings};
use por_verifier::state::LEAVES_FILE;
use por_verifier::tree::{Level, Sibling, TreeParams};
use por_verifier::Amount;
use rayon::prelude::*;
use std::path::Path;

/// Slices of about this many leaves: the opened content is about 150 bytes per asset and leaf.
const SLICE_LEAVES: u64 = 1 << 16;

/// How many slices of the position space a build of `n` leaves at height `h` uses.
pub fn slice_bits(n: u64, h: u8) -> u8 {
    let mut b = 0u8;
    while (n >> b) > SLICE_LEAVES && b < h.saturating_sub(1) {
        b += 1;
    }
    b
}

/// Builds the committed tree over `leaves.csv`, collecting the paths of `targets`.
pub fn build_tree(
    leaves: &Path,
    assets: &[Asset],
    params: &TreeParams,
    key: [u8; 32],
    customers: u64,
    targets: &[u64],
) -> Result<Recomputed<Opening>> {
    tree_from_leaves(
        leaves,
        assets,
        params,
        &Openings::new(key),
        slice_bits(customers, params.height),
        u64::MAX,
        targets,
        &mut |_| Ok(()),
        &mut |_, _, _, _| Ok(()),
    )
}

/// The signed hidden-sums section for a built root: bit sizes from the totals, the root's
/// blindings.
pub fn section(root: &[Opening]) -> HiddenSums {
    HiddenSums {
        bit_sizes: root.iter().map(|o| bit_size_for(Amount(o.value))).collect(),
        root_blindings: root.iter().map(|o| scalar_bytes(&o.blinding)).collect(),
    }
}

/// The hidden-sums proofs of `users`, in the order given, from the stored tree; an unknown
/// user is an error. Each is checked against the attestation before it is returned.
pub fn make_proofs(dir: &Path, users: &[String]) -> Result<Vec<HiddenProof>> {
    let tree = crate::stored::StoredTree::open(dir)?;
    users
        .par_iter()
        .map(|u| {
            tree.hidden_proof_with_row(u)?
                .map(|(_, p)| p)
                .ok_or_else(|| {
                    Error::input(format!(
                        "user {u:?} is not in the tree of {}",
                        dir.display()
                    ))
                })
        })
        .collect()
}

/// A customer's hidden-sums proof from the openings of their path's siblings: the range proofs
/// are made here (fresh randomness), then the proof is checked against the attestation.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prove_one(
    att: &Attestation,
    hs: &HiddenSums,
    user: &str,
    position: u64,
    salt: [u8; 32],
    balances: &[Amount],
    key: [u8; 32],
    siblings: &[Sibling<Opening>],
) -> Result<HiddenProof> {
    let gens = Generators::at_least(path::generators_needed(&hs.bit_sizes, siblings.len()));
    let gens = &*gens;
    let values: Vec<Vec<u128>> = siblings
        .iter()
        .map(|s| s.sums.iter().map(|o| o.value).collect())
        .collect();
    let blinds: Vec<Vec<_>> = siblings
        .iter()
        .map(|s| s.sums.iter().map(|o| o.blinding).collect())
        .collect();
    let ctx = path::Context {
        exchange: &att.exchange,
        period: &att.period,
        root: att.root_hash.0,
        position,
    };
    let range_proofs = path::prove(gens, &ctx, &hs.bit_sizes, &values, &blinds)
        .map_err(|e| Error::failed(format!("cannot prove the path of {user:?}: {}", e.0)))?;
    let proof = HiddenProof {
        exchange: att.exchange.clone(),
        period: att.period.clone(),
        user_id: user.to_string(),
        salt,
        position,
        balances: balances.to_vec(),
        blindings: (0..balances.len())
            .map(|a| blinding(&key, 0, position, a as u16))
            .collect(),
        path: siblings
            .iter()
            .map(|s| Sibling {
                hash: s.hash,
                sums: s.sums.iter().map(Opening::affine).collect(),
            })
            .collect(),
        range_proofs,
    };
    por_verifier::hidden::verify_hidden_inclusion(att, &proof, user).map_err(|e| {
        Error::failed(format!(
            "internal error: the proof made for {user:?} does not verify: {}",
            e.message()
        ))
    })?;
    Ok(proof)
}

/// Slots `first .. first + count` of level `l` of the committed tree as stored: per slot the
/// hash and, per asset, `u128 value ‖ blinding`; padding slots hold the padding hash, zero and
/// the padding node's blinding.
fn hidden_slots(
    padding_key: &[u8; 32],
    key: &[u8; 32],
    k: usize,
    lvl: &Level<Opening>,
    l: u8,
    first: u64,
    count: u64,
) -> Vec<u8> {
    let put = |slot: &mut [u8], a: usize, value: u128, blind: &por_hidden::Scalar| {
        let at = 32 + 48 * a;
        slot[at..at + 16].copy_from_slice(&value.to_le_bytes());
        slot[at + 16..at + 48].copy_from_slice(&scalar_bytes(blind));
    };
    crate::stored::fill_slots(first, count, 32 + 48 * k, |idx, slot| {
        match lvl.index.binary_search(&idx) {
            Ok(j) => {
                slot[..32].copy_from_slice(&lvl.hash[j].0);
                for (a, o) in lvl.sums[j * k..(j + 1) * k].iter().enumerate() {
                    put(slot, a, o.value, &o.blinding);
                }
            }
            Err(_) => {
                slot[..32].copy_from_slice(&padding_hash(padding_key, l, idx).0);
                for a in 0..k {
                    put(slot, a, 0, &blinding(key, l, idx, a as u16));
                }
            }
        }
    })
}

/// Builds the committed tree over `private/leaves.csv` and stores it as `private/tree.bin`
/// (layout version 2, spec/audit.md), replacing the transparent stored tree the streamed build
/// wrote: its leaf records, id index and ids are kept, its dense levels replaced by the
/// committed tree's. The file is written beside and renamed into place.
pub fn build_and_store(
    private: &Path,
    assets: &[Asset],
    params: &TreeParams,
    key: [u8; 32],
    customers: u64,
) -> Result<Recomputed<Opening>> {
    use crate::stored::{parse_header, write_all_at, HEADER_BYTES, HIDDEN_UNIT, TREE_FILE};
    let target = private.join(TREE_FILE);
    let io = |p: &Path, e: std::io::Error| Error::input(format!("{}: {e}", p.display()));
    let mut src = std::fs::File::open(&target).map_err(|e| io(&target, e))?;
    let mut head = [0u8; HEADER_BYTES as usize];
    std::io::Read::read_exact(&mut src, &mut head).map_err(|e| io(&target, e))?;
    let mut layout = parse_header(&head)
        .ok_or_else(|| Error::input(format!("{}: not a stored tree", target.display())))?;
    layout.unit = HIDDEN_UNIT;
    let total = layout
        .total()
        .ok_or_else(|| Error::input(format!("{}: the tree cannot be stored", target.display())))?;
    let tmp = crate::files::sibling_temp(&target);
    let mut write = || -> Result<Recomputed<Opening>> {
        let mut out = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        std::io::Seek::seek(&mut src, std::io::SeekFrom::Start(0)).map_err(|e| io(&target, e))?;
        // Header (rewritten below), leaf records, id index and ids: as the streamed build wrote.
        let prefix = layout.levels_at();
        let copied = std::io::copy(&mut std::io::Read::take(&mut src, prefix), &mut out)
            .map_err(|e| io(&tmp, e))?;
        if copied != prefix {
            return Err(Error::input(format!(
                "{}: shorter than its header",
                target.display()
            )));
        }
        out.set_len(total).map_err(|e| io(&tmp, e))?;
        let k = params.assets;
        let nb = layout.node_bytes();
        let (cut, pk) = (layout.cut, params.padding_key);
        let built = tree_from_leaves(
            &private.join(LEAVES_FILE),
            assets,
            params,
            &Openings::new(key),
            slice_bits(customers, params.height),
            u64::MAX,
            &[],
            &mut |_| Ok(()),
            &mut |l, first, count, lvl| {
                if l < cut {
                    return Ok(());
                }
                let bytes = hidden_slots(&pk, &key, k, lvl, l, first, count);
                write_all_at(&out, &bytes, layout.level_at(l) + first * nb).map_err(|e| io(&tmp, e))
            },
        )?;
        layout.root = built.root;
        write_all_at(&out, &layout.header(), 0).map_err(|e| io(&tmp, e))?;
        out.sync_all().map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;
        Ok(built)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
