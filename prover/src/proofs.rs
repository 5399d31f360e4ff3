//! Handing out inclusion proofs from the stored tree (stored.rs): one proof is a few reads,
//! and a batch streams its users through the tree in parallel with bounded memory.

use crate::stored::StoredTree;
use por_verifier::error::{Error, Result};
use por_verifier::proof::{InclusionProof, Proof};
use rayon::prelude::*;
use std::path::Path;

/// The proofs of `users`, in the order given; an unknown user is an error. Every proof is
/// checked against the published attestation before it is returned, so the exchange never
/// hands out a proof that fails.
pub fn make_proofs(dir: &Path, users: &[String]) -> Result<Vec<InclusionProof>> {
    let tree = StoredTree::open(dir)?;
    users
        .iter()
        .map(|u| {
            tree.proof(u)?.ok_or_else(|| {
                Error::input(format!(
                    "user {u:?} is not in the tree of {}",
                    dir.display()
                ))
            })
        })
        .collect()
}

/// Where a batch's proofs go: a chunk at a time, as (user id, text) in request order.
pub type Sink<'a> = dyn for<'s> FnMut(Vec<(&'s str, String)>) -> Result<()> + Send + 'a;

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

/// Makes the proofs of many users, `chunk` users at a time in parallel, handing each proof to
/// `sink` (a chunk at a time, as user ids and the texts `render` made) in request order. Memory is one chunk of proofs plus one bit per customer, whatever
/// the number of users; an invalid, unknown or repeated id is skipped and reported, never
/// fatal.
pub fn batch_proofs(
    dir: &Path,
    users: &[String],
    chunk: usize,
    progress: &crate::progress::Progress,
    render: &(dyn Fn(&Proof) -> String + Sync),
    sink: &mut Sink<'_>,
) -> Result<BatchSummary> {
    type Answers = Vec<Result<Option<(u64, String)>>>;
    let tree = StoredTree::open_with_cache(dir, crate::stored::LARGE_CACHE)?;
    let bar = progress.proofs(users.len() as u64);
    let mut out = Emitter {
        summary: BatchSummary::default(),
        served: vec![0u64; (tree.customers() as usize).div_ceil(64)],
        done: 0,
        bar: &bar,
        sink,
    };
    let make = |part: &[String]| -> Answers {
        part.par_iter()
            .map(|u| {
                if por_verifier::liabilities::validate_user_id(u).is_err() {
                    return Ok(None);
                }
                Ok(tree.any_proof(u)?.map(|(row, p)| (row, render(&p))))
            })
            .collect()
    };
    // Proofs of one chunk are made in parallel while the previous chunk is written, so the
    // cores do not wait for the disk; everything is handed out in request order.
    let mut pending: Option<(&[String], Answers)> = None;
    for part in users.chunks(chunk.max(1)) {
        let (answers, written) = rayon::join(
            || make(part),
            || match pending.take() {
                Some((p, a)) => out.emit(p, a),
                None => Ok(()),
            },
        );
        written?;
        pending = Some((part, answers));
    }
    if let Some((p, a)) = pending {
        out.emit(p, a)?;
    }
    bar.finish();
    Ok(out.summary)
}

/// Hands a batch's answers out in order, skipping and recording what cannot be served.
struct Emitter<'a> {
    summary: BatchSummary,
    /// One bit per leaf: a repeated id finds its row already served.
    served: Vec<u64>,
    done: u64,
    bar: &'a crate::progress::Bar,
    sink: &'a mut Sink<'a>,
}

impl Emitter<'_> {
    fn emit(&mut self, part: &[String], answers: Vec<Result<Option<(u64, String)>>>) -> Result<()> {
        let mut ready = Vec::with_capacity(part.len());
        for (u, answer) in part.iter().zip(answers) {
            self.done += 1;
            self.bar.set(self.done);
            if let Err(why) = por_verifier::liabilities::validate_user_id(u) {
                self.summary.skipped.push(Skipped::Invalid(u.clone(), why));
                continue;
            }
            match answer? {
                None => self.summary.skipped.push(Skipped::Unknown(u.clone())),
                Some((row, text)) => {
                    let (w, b) = ((row / 64) as usize, row % 64);
                    if self.served[w] >> b & 1 == 1 {
                        self.summary.skipped.push(Skipped::Duplicate(u.clone()));
                        continue;
                    }
                    self.served[w] |= 1 << b;
                    ready.push((u.as_str(), text));
                }
            }
        }
        self.summary.written += ready.len() as u64;
        (self.sink)(ready)
    }
}

/// The file a user's proof is written to inside a batch directory: named by the HMAC-SHA-256
/// of the id under `key`, a random key made for the batch and never written, spread over 256
/// subdirectories. Hex is safe on every filesystem whatever the id holds, and distinct where
/// case-insensitive filesystems would merge `Alice` and `alice`; the key means a listing of the
/// folder does not reveal ids (the plain SHA-256 of a guessable id did, by hashing guesses):
/// the batch's index.jsonl, readable by its owner only, is the one map from ids to files.
pub fn proof_file_name(key: &[u8; 32], user_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(user_id.as_bytes());
    let h = hex::encode(mac.finalize().into_bytes());
    format!("{}/{h}.json", &h[..2])
}
