//! The hidden-sums mode, the customer's side (spec/hidden.md): the proof format and its check.
//!
//! Every node carries, per asset, a Pedersen commitment on BN254 G1 instead of a sum. The proof
//! opens only the customer's own leaf (balances and blindings) and carries each sibling's hash
//! and commitments, with aggregated range proofs that every sibling's committed value lies in
//! `[0, 2^n)` for its asset's signed bit size `n`. The check:
//!
//! 1. the attestation signs this mode (section 5), with a bit size and a root blinding per asset;
//! 2. the leaf is recomputed from the id the customer typed, the salt, the balances and the
//!    blindings (so a leaf opening that is not the customer's balances changes the root);
//! 3. the path folds to the signed root hash, adding commitments level by level;
//! 4. the root's commitments open to the signed totals with the signed root blindings;
//! 5. the range proofs hold for every sibling. With the leaf's values known and every other
//!    value in `[0, 2^n)`, `n ≤ 128` and at most 64 siblings, the committed sum cannot wrap the
//!    group order (about 2^254), so the signed total is the true integer sum: no sibling can
//!    hide a negative balance that cancels other customers' money.

use crate::amount::Amount;
use crate::attestation::{Attestation, HiddenSums};
use crate::error::{Error, Result};
use crate::hash::{parse_hex32, user_commitment, Hash};
use crate::outcome::Code;
use crate::tree::{fold_path_with, NodeContent, Sibling};
use por_hidden::encoding::{decode_point, decode_scalar, point_bytes, scalar_bytes};
use por_hidden::generators::Generators;
use por_hidden::node::{leaf_hash, node_hash_parts, opens};
use por_hidden::range::RangeProof;
use por_hidden::{path, Point, Scalar};
use serde::{Deserialize, Serialize};

pub use por_hidden::{FormatError, ProofError};

/// The format string of hidden-sums proofs.
pub const HIDDEN_PROOF_FORMAT: &str = "por-proof-hidden-v1";

/// The hidden-sums node content as a customer sees it: one commitment per asset; a parent's
/// commitment is the sum of its children's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Commitments;

impl NodeContent for Commitments {
    type Unit = Point;
    fn node_hash(&self, left: &Hash, lc: &[Point], right: &Hash, rc: &[Point]) -> Hash {
        Hash(node_hash_parts(&left.0, lc, &right.0, rc))
    }
    fn merge(&self, acc: &mut [Point], other: &[Point]) -> std::result::Result<(), usize> {
        for (a, b) in acc.iter_mut().zip(other) {
            *a = (*a + *b).into();
        }
        Ok(())
    }
}

/// A parsed, well-formed hidden-sums proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenProof {
    /// The exchange the proof is for.
    pub exchange: String,
    /// The period the proof is for.
    pub period: String,
    /// The customer's id.
    pub user_id: String,
    /// The customer's secret salt.
    pub salt: [u8; 32],
    /// The leaf's position.
    pub position: u64,
    /// The customer's balances in base units, in attestation asset order.
    pub balances: Vec<Amount>,
    /// The leaf's blindings, one per asset.
    pub blindings: Vec<Scalar>,
    /// Siblings from the leaf level up: hash and one commitment per asset.
    pub path: Vec<Sibling<Point>>,
    /// The range proofs, one per group of assets (`por_hidden::path::groups`).
    pub range_proofs: Vec<RangeProof>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HiddenProofJson {
    format: String,
    exchange: String,
    period: String,
    user_id: String,
    salt: String,
    position: u64,
    balances: Vec<String>,
    blindings: Vec<String>,
    /// Each step is `[hash, commitment_1, …, commitment_k]`, all hex.
    path: Vec<Vec<String>>,
    range_proofs: Vec<String>,
}

fn hex32(text: &str, what: impl Fn() -> String) -> Result<[u8; 32]> {
    parse_hex32(text).ok_or_else(|| Error::input(format!("{}: expected 64 hex characters", what())))
}

fn format_err(e: FormatError) -> Error {
    Error::input(e.0)
}

impl HiddenProof {
    /// Parses the JSON form; errors name `name` and the field. Points must be canonical
    /// encodings of points on the curve other than the identity, scalars canonical: otherwise
    /// bad input (exit 2).
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<HiddenProof> {
        if bytes.len() > crate::proof::MAX_PROOF_BYTES {
            return Err(Error::input(format!(
                "{name}: larger than {} bytes",
                crate::proof::MAX_PROOF_BYTES
            )));
        }
        let j: HiddenProofJson =
            crate::input::parse_json(name, bytes, crate::input::FileKind::Proof)?;
        if j.format != HIDDEN_PROOF_FORMAT {
            return Err(Error::input(format!(
                "{name}, field format: expected {HIDDEN_PROOF_FORMAT:?}, found {:?}",
                j.format
            )));
        }
        crate::liabilities::validate_user_id(&j.user_id)
            .map_err(|m| Error::input(format!("{name}, field user_id: {m}")))?;
        let salt = hex32(&j.salt, || format!("{name}, field salt"))?;
        let balances = j
            .balances
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Amount::parse_units(t).map_err(|e| {
                    Error::input(format!("{name}, field balances[{i}]: {e}, found {t:?}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let blindings = j
            .blindings
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let what = format!("{name}, field blindings[{i}]");
                decode_scalar(&hex32(t, || what.clone())?, &what).map_err(format_err)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut path_out = Vec::with_capacity(j.path.len());
        for (l, step) in j.path.iter().enumerate() {
            let (hash, points) = step.split_first().ok_or_else(|| {
                Error::input(format!(
                    "{name}, field path[{l}]: expected [hash, commitment, ...], found an empty array"
                ))
            })?;
            let hash = Hash(hex32(hash, || format!("{name}, field path[{l}][0]"))?);
            let sums = points
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let what = format!("{name}, field path[{l}][{}]", i + 1);
                    decode_point(&hex32(t, || what.clone())?, &what, false).map_err(format_err)
                })
                .collect::<Result<Vec<_>>>()?;
            path_out.push(Sibling { hash, sums });
        }
        let range_proofs = j
            .range_proofs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let what = format!("{name}, field range_proofs[{i}]");
                let bytes =
                    hex::decode(t).map_err(|_| Error::input(format!("{what}: expected hex")))?;
                RangeProof::from_bytes(&bytes).map_err(|e| Error::input(format!("{what}: {}", e.0)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HiddenProof {
            exchange: j.exchange,
            period: j.period,
            user_id: j.user_id,
            salt,
            position: j.position,
            balances,
            blindings,
            path: path_out,
            range_proofs,
        })
    }

    /// The JSON form on one line, ending in a newline (for JSON-lines files).
    pub fn to_json_line(&self) -> String {
        let mut s: String = self.to_json().split('\n').collect();
        s.push('\n');
        s
    }

    /// Serialises to JSON, one field and one path step per line.
    pub fn to_json(&self) -> String {
        let step = |s: &Sibling<Point>| {
            let mut v = vec![s.hash.to_hex()];
            v.extend(s.sums.iter().map(|p| hex::encode(point_bytes(p))));
            v
        };
        let j = HiddenProofJson {
            format: HIDDEN_PROOF_FORMAT.into(),
            exchange: self.exchange.clone(),
            period: self.period.clone(),
            user_id: self.user_id.clone(),
            salt: hex::encode(self.salt),
            position: self.position,
            balances: self.balances.iter().map(|b| b.0.to_string()).collect(),
            blindings: self
                .blindings
                .iter()
                .map(|b| hex::encode(scalar_bytes(b)))
                .collect(),
            path: self.path.iter().map(step).collect(),
            range_proofs: self
                .range_proofs
                .iter()
                .map(|p| hex::encode(p.to_bytes()))
                .collect(),
        };
        // One line per top-level field and per path step: readable, and diffs stay small.
        let line = |v: &serde_json::Value| serde_json::to_string(v).unwrap_or_default();
        let v = serde_json::to_value(&j).unwrap_or_default();
        let mut s = String::from("{\n");
        let keys = [
            "format",
            "exchange",
            "period",
            "user_id",
            "salt",
            "position",
            "balances",
            "blindings",
            "path",
            "range_proofs",
        ];
        for (i, k) in keys.iter().enumerate() {
            let val = &v[*k];
            s.push_str(&format!("{}:", line(&serde_json::Value::from(*k))));
            if *k == "path" {
                s.push_str("[\n");
                let steps = val.as_array().cloned().unwrap_or_default();
                for (n, st) in steps.iter().enumerate() {
                    s.push_str(&line(st));
                    s.push_str(if n + 1 < steps.len() { ",\n" } else { "\n" });
                }
                s.push(']');
            } else {
                s.push_str(&line(val));
            }
            s.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
        }
        s.push_str("}\n");
        s
    }

    /// Size of the proof's content in bytes as a binary encoding would hold it: position,
    /// salt, the leaf's balances and blindings, each sibling's hash and commitments, the range
    /// proofs.
    pub fn payload_size(&self) -> usize {
        8 + 32
            + 48 * self.balances.len()
            + self
                .path
                .iter()
                .map(|s| 32 + 32 * s.sums.len())
                .sum::<usize>()
            + self
                .range_proofs
                .iter()
                .map(|p| p.to_bytes().len())
                .sum::<usize>()
    }
}

/// The root blindings of the attestation, decoded (a non-canonical scalar is bad input).
pub fn root_blindings(hs: &HiddenSums) -> Result<Vec<Scalar>> {
    hs.root_blindings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            decode_scalar(
                b,
                &format!("attestation, field hidden_sums.root_blindings[{i}]"),
            )
            .map_err(format_err)
        })
        .collect()
}

/// The leaf of the customer's opening: its hash and commitments.
pub fn leaf_of(
    gens: &Generators,
    user_id: &str,
    salt: &[u8; 32],
    balances: &[Amount],
    blindings: &[Scalar],
) -> (Hash, Vec<Point>) {
    let commitments: Vec<Point> = balances
        .iter()
        .zip(blindings)
        .map(|(v, r)| gens.commit(Scalar::from(v.0), *r))
        .collect();
    let uc = user_commitment(user_id, salt);
    (Hash(leaf_hash(&uc.0, &commitments)), commitments)
}

/// Checks a hidden-sums proof for `user_id` against `att` (whose signature the caller checked).
pub fn verify_hidden_inclusion(
    att: &Attestation,
    proof: &HiddenProof,
    user_id: &str,
) -> Result<crate::proof::Inclusion> {
    let Some(hs) = &att.hidden else {
        return Err(crate::proof::wrong_mode(false));
    };
    crate::proof::check_header(
        att,
        crate::proof::Header {
            user_id: &proof.user_id,
            exchange: &proof.exchange,
            period: &proof.period,
            balances: proof.balances.len(),
            path: proof.path.len(),
            position: proof.position,
        },
        user_id,
    )?;
    let k = att.assets.len();
    if proof.blindings.len() != k {
        return Err(Error::coded(
            Code::InvalidPath,
            format!(
                "the proof has {} leaf blindings but the attestation lists {k} assets",
                proof.blindings.len()
            ),
        ));
    }
    let root_blind = root_blindings(hs)?;
    let h = proof.path.len();
    // Counts first: the generators are made only for a proof of the right shape.
    let expected = path::proof_count(&hs.bit_sizes, h);
    if proof.range_proofs.len() != expected {
        return Err(Error::coded(Code::InvalidPath, format!(
            "the proof has {} range proofs, expected {expected} (one per group of assets of one bit size)",
            proof.range_proofs.len()
        )));
    }
    if let Some(l) = proof.path.iter().position(|s| s.sums.len() != k) {
        return Err(Error::coded(
            Code::InvalidPath,
            format!(
                "path[{l}] has {} commitments, expected {k} (one per asset)",
                proof.path[l].sums.len()
            ),
        ));
    }
    let gens = Generators::at_least(path::generators_needed(&hs.bit_sizes, h));
    let (leaf, leaf_commitments) = leaf_of(
        &gens,
        user_id,
        &proof.salt,
        &proof.balances,
        &proof.blindings,
    );
    let (root, commitments) = fold_path_with(
        &Commitments,
        leaf,
        &leaf_commitments,
        proof.position,
        &proof.path,
    )
    .map_err(|e| match e {
        crate::tree::FoldError::SumsLength {
            level,
            found,
            expected,
        } => Error::coded(
            Code::InvalidPath,
            format!("path[{level}] has {found} commitments, expected {expected} (one per asset)"),
        ),
        // Adding commitments cannot overflow.
        crate::tree::FoldError::Overflow { level, .. } => Error::coded(
            Code::InvalidPath,
            format!("the path cannot be folded at level {level}"),
        ),
    })?;
    if root != att.root_hash {
        return Err(Error::coded(
            Code::RootMismatch,
            format!(
            "the root computed from this proof ({root}) is not the root the exchange signed ({}): \
             these balances (or blindings) are not in the signed tree, or a sibling's hash or \
             commitments were altered",
            att.root_hash
        ),
        ));
    }
    let totals: Vec<u128> = att.liabilities.iter().map(|a| a.0).collect();
    if !opens(&gens, &commitments, &totals, &root_blind) {
        return Err(Error::coded(Code::TotalsMismatch,
            "the root's commitments do not open to the signed totals with the signed root blindings: \
             the tree does not sum to the liabilities the exchange signed",
        ));
    }
    let siblings: Vec<Vec<Point>> = proof.path.iter().map(|s| s.sums.clone()).collect();
    let ctx = path::Context {
        exchange: &att.exchange,
        period: &att.period,
        root: att.root_hash.0,
        position: proof.position,
    };
    path::verify(&gens, &ctx, &hs.bit_sizes, &siblings, &proof.range_proofs).map_err(|e| {
        Error::coded(Code::InvalidPath, format!(
            "the range proofs do not show every sibling's hidden sum to be in range ({}): a sibling \
             may hide a negative balance",
            e.0
        ))
    })?;
    Ok(crate::proof::Inclusion {
        balances: proof.balances.clone(),
        levels: h,
        hidden: true,
    })
}
