//! Handing out inclusion proofs from the private state, without storing the tree: the tree is
//! rebuilt from the leaves and the paths of the requested customers are collected on the way.

use por_verifier::attestation::Attestation;
use por_verifier::error::{Error, Result};
use por_verifier::proof::{verify_inclusion, InclusionProof};
use por_verifier::state::{
    index_users, private_path, read_leaves, PrivateState, ATTESTATION_FILE, LEAVES_FILE,
};
use por_verifier::tree::build;
use std::path::Path;

/// The proofs of `users`, in the order given. Every proof is checked against the published
/// attestation before it is returned, so the exchange never hands out a proof that fails.
pub fn make_proofs(dir: &Path, users: &[String]) -> Result<Vec<InclusionProof>> {
    let att = Attestation::read(&dir.join(ATTESTATION_FILE))?;
    let state = PrivateState::read(dir)?;
    let leaves = read_leaves(&private_path(dir, LEAVES_FILE), &att.assets)?;
    let k = att.assets.len();
    let by_user = index_users(&leaves.user_ids);
    let mut rows = Vec::with_capacity(users.len());
    for u in users {
        let i = *by_user.get(u.as_str()).ok_or_else(|| {
            Error::input(format!(
                "user {u:?} is not in the tree of {}",
                dir.display()
            ))
        })?;
        rows.push(i);
    }
    let targets: Vec<u64> = rows.iter().map(|&i| leaves.level.index[i]).collect();
    let balances: Vec<_> = rows
        .iter()
        .map(|&i| leaves.level.sums[i * k..(i + 1) * k].to_vec())
        .collect();
    let params = state.tree_params()?;
    let built = build(&params, leaves.level, &targets, &|_| {})?;
    if built.root != att.root_hash {
        return Err(Error::failed(format!(
            "{}: the private state does not produce the published root; was it modified?",
            dir.display()
        )));
    }
    let mut out = Vec::with_capacity(users.len());
    for ((path, &i), (bal, &pos)) in built
        .paths
        .into_iter()
        .zip(&rows)
        .zip(balances.into_iter().zip(&targets))
    {
        let proof = InclusionProof {
            exchange: att.exchange.clone(),
            period: att.period.clone(),
            user_id: leaves.user_ids[i].clone(),
            salt: leaves.salts[i],
            position: pos,
            balances: bal,
            path,
        };
        verify_inclusion(&att, &proof, &proof.user_id)?;
        out.push(proof);
    }
    Ok(out)
}

/// Why a requested user got no proof in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Not a valid user id (empty, too long, control characters…).
    Invalid(String, String),
    /// Valid, but not in this month's tree.
    Unknown(String),
    /// Asked for more than once (the first request is served).
    Duplicate(String),
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchSummary {
    /// Proofs written.
    pub written: u64,
    /// Users skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Makes the proofs of many users, `chunk` users per pass over the tree, handing each proof to
/// `sink` in request order. Memory is one tree level plus one chunk's paths, whatever the
/// number of users; an invalid, unknown or repeated id is skipped and reported, never fatal.
pub fn batch_proofs(
    dir: &Path,
    users: &[String],
    chunk: usize,
    progress: &crate::progress::Progress,
    sink: &mut dyn FnMut(InclusionProof) -> Result<()>,
) -> Result<BatchSummary> {
    let att = Attestation::read(&dir.join(ATTESTATION_FILE))?;
    let state = PrivateState::read(dir)?;
    let leaves_path = private_path(dir, LEAVES_FILE);
    let k = att.assets.len();
    let mut summary = BatchSummary::default();
    // Resolve every request to a row of the leaves file first.
    let rows: Vec<usize> = {
        let leaves = read_leaves(&leaves_path, &att.assets)?;
        let by_user = index_users(&leaves.user_ids);
        let mut seen = std::collections::HashSet::new();
        let mut rows = Vec::new();
        for u in users {
            if let Err(why) = por_verifier::liabilities::validate_user_id(u) {
                summary.skipped.push(Skipped::Invalid(u.clone(), why));
            } else if !seen.insert(u.as_str()) {
                summary.skipped.push(Skipped::Duplicate(u.clone()));
            } else {
                match by_user.get(u.as_str()) {
                    Some(&i) => rows.push(i),
                    None => summary.skipped.push(Skipped::Unknown(u.clone())),
                }
            }
        }
        rows
    };
    let bar = progress.proofs(rows.len() as u64);
    let params = state.tree_params()?;
    for part in rows.chunks(chunk.max(1)) {
        // Each pass reads the leaves again rather than keeping a second copy in memory.
        let leaves = read_leaves(&leaves_path, &att.assets)?;
        let targets: Vec<u64> = part.iter().map(|&i| leaves.level.index[i]).collect();
        let balances: Vec<_> = part
            .iter()
            .map(|&i| leaves.level.sums[i * k..(i + 1) * k].to_vec())
            .collect();
        let ids: Vec<(String, [u8; 32])> = part
            .iter()
            .map(|&i| (leaves.user_ids[i].clone(), leaves.salts[i]))
            .collect();
        let built = build(&params, leaves.level, &targets, &|_| {})?;
        if built.root != att.root_hash {
            return Err(Error::failed(format!(
                "{}: the private state does not produce the published root; was it modified?",
                dir.display()
            )));
        }
        for (((path, (user_id, salt)), bal), &pos) in
            built.paths.into_iter().zip(ids).zip(balances).zip(&targets)
        {
            let proof = InclusionProof {
                exchange: att.exchange.clone(),
                period: att.period.clone(),
                user_id,
                salt,
                position: pos,
                balances: bal,
                path,
            };
            verify_inclusion(&att, &proof, &proof.user_id)?;
            sink(proof)?;
            summary.written += 1;
            bar.set(summary.written);
        }
    }
    bar.finish();
    Ok(summary)
}

/// The file a user's proof is written to inside a batch directory: named by the SHA-256 of the
/// id (safe on every filesystem, whatever the id holds, and distinct where case-insensitive
/// filesystems would merge `Alice` and `alice`), spread over 256 subdirectories.
pub fn proof_file_name(user_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(user_id.as_bytes()));
    format!("{}/{h}.json", &h[..2])
}
