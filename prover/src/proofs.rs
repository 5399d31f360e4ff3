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
