//! The hidden-sums mode on the exchange's side (spec/hidden.md): the committed tree is built
//! from `leaves.csv` by the auditor's own code ([`por_verifier::audit::tree_from_leaves`] with
//! the opened content), and a customer's proof carries their leaf's opening, each sibling's
//! commitments and the range proofs of the siblings' values.
//!
//! Proofs are made by rebuilding the tree with the requested customers' paths collected on
//! the way (one pass over `leaves.csv` for any number of customers); the range proofs, the
//! expensive part, are then made in parallel, one customer per core. The stored tree
//! (`tree.bin`) keeps sums in the clear and is not written in this mode.

use por_hidden::encoding::scalar_bytes;
use por_hidden::generators::Generators;
use por_hidden::node::blinding;
use por_hidden::path;
use por_verifier::asset::Asset;
use por_verifier::attestation::{bit_size_for, Attestation, HiddenSums};
use por_verifier::audit::{tree_from_leaves, Recomputed};
use por_verifier::error::{Error, Result};
use por_verifier::hidden::HiddenProof;
use por_verifier::hidden_tree::{Opening, Openings};
use por_verifier::liabilities::{LiabilitiesReader, Negatives};
use por_verifier::state::{leaf_prefix, private_path, PrivateState, LEAVES_FILE};
use por_verifier::tree::{Sibling, TreeParams};
use por_verifier::Amount;
use rayon::prelude::*;
use std::collections::HashMap;
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

/// The hidden-sums proofs of `users`, in the order given; an unknown user is an error. Each is
/// verified against the attestation before it is returned.
pub fn make_proofs(dir: &Path, att: &Attestation, users: &[String]) -> Result<Vec<HiddenProof>> {
    let hs = att
        .hidden
        .as_ref()
        .ok_or_else(|| Error::input("the attestation is not of the hidden-sums mode"))?;
    let state = PrivateState::read(dir)?;
    let key = state.blinding_key()?;
    let params = state.tree_params()?;
    let leaves_path = private_path(dir, LEAVES_FILE);
    let rows = find_rows(&leaves_path, users)?;
    let mut targets = Vec::with_capacity(users.len());
    for u in users {
        let (pos, _, _) = rows.get(u.as_str()).ok_or_else(|| {
            Error::input(format!(
                "user {u:?} is not in the tree of {}",
                dir.display()
            ))
        })?;
        targets.push(*pos);
    }
    let built = build_tree(
        &leaves_path,
        &att.assets,
        &params,
        key,
        state.customers,
        &targets,
    )?;
    if built.root != att.root_hash {
        return Err(Error::failed(format!(
            "{}: the committed tree rebuilt from it has root {}, not the signed {}",
            leaves_path.display(),
            built.root,
            att.root_hash
        )));
    }
    let h = usize::from(params.height);
    let gens = Generators::at_least(path::generators_needed(&hs.bit_sizes, h));
    users
        .par_iter()
        .zip(built.paths)
        .map(|(u, siblings)| {
            let (pos, salt, balances) = &rows[u.as_str()];
            let proof = prove_one(&gens, att, hs, u, *pos, *salt, balances, key, &siblings)?;
            por_verifier::hidden::verify_hidden_inclusion(att, &proof, u).map_err(|e| {
                Error::failed(format!(
                    "internal error: the proof made for {u:?} does not verify: {}",
                    e.message()
                ))
            })?;
            Ok(proof)
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn prove_one(
    gens: &Generators,
    att: &Attestation,
    hs: &HiddenSums,
    user: &str,
    position: u64,
    salt: [u8; 32],
    balances: &[Amount],
    key: [u8; 32],
    siblings: &[Sibling<Opening>],
) -> Result<HiddenProof> {
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
    Ok(HiddenProof {
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
    })
}

type Row = (u64, [u8; 32], Vec<Amount>);

/// The leaves of `users` (position, salt, balances), by one pass over `leaves.csv`.
fn find_rows(path: &Path, users: &[String]) -> Result<HashMap<String, Row>> {
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| Error::input(format!("{name}: cannot open: {e}")))?;
    let mut r = LiabilitiesReader::with_prefix(
        &name,
        std::io::BufReader::with_capacity(1 << 20, file),
        Negatives::Reject,
        &["position", "salt"],
    )?;
    let wanted: std::collections::HashSet<&str> = users.iter().map(String::as_str).collect();
    let mut out = HashMap::new();
    let mut prefix = Vec::new();
    let mut prev = None;
    while let Some(row) = r.next_row_with_prefix(&mut prefix)? {
        let (pos, salt) = leaf_prefix(&name, row.line, &prefix, prev)?;
        prev = Some(pos);
        if wanted.contains(row.user_id.as_str()) {
            out.insert(row.user_id, (pos, salt, row.balances));
        }
    }
    Ok(out)
}
