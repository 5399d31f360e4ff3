//! A customer's inclusion proof and its verification.
//!
//! The proof carries the customer's salt, position and balances, and the sibling of every
//! node on the way from the leaf to the root. The verifier recomputes the leaf from the user
//! id the *customer* typed (never from the id written in the file), folds the path with
//! checked sums, and compares the result with the signed root hash and totals.

use crate::amount::Amount;
use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::hash::{leaf_hash, parse_hex32, user_commitment, Hash};
use crate::liabilities::validate_user_id;
use crate::outcome::Code;
use crate::tree::{fold_path, FoldError, Sibling};
use serde::{Deserialize, Serialize};

/// The format string of version 1 proofs.
pub const PROOF_FORMAT: &str = "por-proof-v1";
/// The largest proof file read; a height-64 proof with 500 assets is well below this.
pub const MAX_PROOF_BYTES: usize = 8 << 20;

/// A parsed, well-formed inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
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
    /// Siblings from the leaf level up.
    pub path: Vec<Sibling>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofJson {
    format: String,
    exchange: String,
    period: String,
    user_id: String,
    salt: String,
    position: u64,
    balances: Vec<String>,
    /// Each step is `[hash, sum_1, …, sum_k]`: an array rather than an object keeps a
    /// height-32 proof under 4 KiB.
    path: Vec<Vec<String>>,
}

/// Appends lower-case hex (a batch of a million proofs spends noticeable time here).
fn push_hex(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
}

fn parse_amounts(list: &[String], field: &str) -> Result<Vec<Amount>> {
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            Amount::parse_units(t)
                .map_err(|e| Error::input(format!("field {field}[{i}]: {e}, found {t:?}")))
        })
        .collect()
}

impl InclusionProof {
    /// Parses the JSON form; errors name `name` and the field.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<InclusionProof> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(Error::input(format!(
                "{name}: larger than {MAX_PROOF_BYTES} bytes"
            )));
        }
        let j: ProofJson = crate::input::parse_json(name, bytes, crate::input::FileKind::Proof)?;
        let ctx = |e: Error| e.context(name);
        if j.format != PROOF_FORMAT {
            return Err(Error::input(format!(
                "{name}, field format: expected {PROOF_FORMAT:?}, found {:?}",
                j.format
            )));
        }
        validate_user_id(&j.user_id)
            .map_err(|m| Error::input(format!("{name}, field user_id: {m}")))?;
        let salt = parse_hex32(&j.salt).ok_or_else(|| {
            Error::input(format!("{name}, field salt: expected 64 hex characters"))
        })?;
        let balances = parse_amounts(&j.balances, "balances").map_err(ctx)?;
        let mut path = Vec::with_capacity(j.path.len());
        for (l, step) in j.path.iter().enumerate() {
            let (hash, sums) = step.split_first().ok_or_else(|| {
                Error::input(format!(
                    "{name}, field path[{l}]: expected [hash, sum, ...], found an empty array"
                ))
            })?;
            let hash = Hash::from_hex(hash).ok_or_else(|| {
                Error::input(format!(
                    "{name}, field path[{l}][0]: expected a hash of 64 hex characters"
                ))
            })?;
            let sums = sums
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Amount::parse_units(t).map_err(|e| {
                        Error::input(format!(
                            "{name}, field path[{l}][{}]: {e}, found {t:?}",
                            i + 1
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            path.push(Sibling { hash, sums });
        }
        Ok(InclusionProof {
            exchange: j.exchange,
            period: j.period,
            user_id: j.user_id,
            salt,
            position: j.position,
            balances,
            path,
        })
    }

    #[cfg(feature = "fs")]
    /// Reads a proof file (bounded).
    pub fn read(path: &std::path::Path) -> Result<InclusionProof> {
        let bytes = crate::input::read_bounded(
            path,
            MAX_PROOF_BYTES as u64,
            crate::input::FileKind::Proof,
        )?;
        InclusionProof::from_json(&path.display().to_string(), &bytes)
    }

    /// Serialises to JSON with one field and one path step per line: small enough to mail,
    /// still readable by a person checking their own balances.
    pub fn to_json(&self) -> String {
        self.write_json("\n")
    }

    /// The JSON form on one line (for JSON-lines files), ending in a newline.
    pub fn to_json_line(&self) -> String {
        let mut s = self.write_json("");
        s.push('\n');
        s
    }

    fn write_json(&self, nl: &str) -> String {
        use std::fmt::Write as _;
        let quoted = |t: &str| serde_json::to_string(t).unwrap_or_default();
        let mut s = String::with_capacity(300 + self.path.len() * (70 + 25 * self.balances.len()));
        let _ = write!(
            s,
            "{{{nl}\"format\":\"{PROOF_FORMAT}\",{nl}\"exchange\":{},{nl}\"period\":{},{nl}\
             \"user_id\":{},{nl}\"salt\":\"",
            quoted(&self.exchange),
            quoted(&self.period),
            quoted(&self.user_id),
        );
        push_hex(&mut s, &self.salt);
        let _ = write!(
            s,
            "\",{nl}\"position\":{},{nl}\"balances\":[",
            self.position
        );
        for (i, b) in self.balances.iter().enumerate() {
            let _ = write!(s, "{}\"{}\"", if i > 0 { "," } else { "" }, b.0);
        }
        let _ = write!(s, "],{nl}\"path\":[{nl}");
        for (i, step) in self.path.iter().enumerate() {
            if i > 0 {
                let _ = write!(s, ",{nl}");
            }
            s.push_str("[\"");
            push_hex(&mut s, &step.hash.0);
            s.push('"');
            for a in &step.sums {
                let _ = write!(s, ",\"{}\"", a.0);
            }
            s.push(']');
        }
        let _ = write!(s, "{nl}]}}{nl}");
        s
    }

    /// Size of the proof's hashed content in bytes: what a binary encoding would need
    /// (position, salt, balances, and each sibling's hash and sums).
    pub fn payload_size(&self) -> usize {
        8 + 32
            + 16 * self.balances.len()
            + self
                .path
                .iter()
                .map(|s| 32 + 16 * s.sums.len())
                .sum::<usize>()
    }
}

/// How two different user ids are nearly the same, in words, when they are.
fn near_miss(proof_id: &str, typed: &str) -> Option<&'static str> {
    use unicode_normalization::UnicodeNormalization;
    let nfc = |s: &str| s.nfc().collect::<String>();
    if proof_id.trim() == typed.trim() {
        Some("surrounding whitespace")
    } else if nfc(proof_id) == nfc(typed) {
        Some("Unicode form (the same letters encoded differently)")
    } else if proof_id.to_lowercase() == typed.to_lowercase() {
        Some("upper and lower case")
    } else if nfc(proof_id.trim()).to_lowercase() == nfc(typed.trim()).to_lowercase() {
        Some("case, whitespace or Unicode form")
    } else {
        None
    }
}

/// What a successful inclusion check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    /// The customer's balances, in attestation asset order.
    pub balances: Vec<Amount>,
    /// The number of levels checked.
    pub levels: usize,
    /// Whether the tree hides its sums (commitments and range proofs were checked).
    pub hidden: bool,
}

/// A proof of either mode, as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Sums in the clear.
    Transparent(InclusionProof),
    /// Hidden sums.
    Hidden(crate::hidden::HiddenProof),
}

#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

impl Proof {
    /// Parses either format, told apart by the `format` field.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Proof> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(Error::input(format!(
                "{name}: larger than {MAX_PROOF_BYTES} bytes"
            )));
        }
        let f: FormatOnly = crate::input::parse_json(name, bytes, crate::input::FileKind::Proof)?;
        if f.format == crate::hidden::HIDDEN_PROOF_FORMAT {
            crate::hidden::HiddenProof::from_json(name, bytes).map(Proof::Hidden)
        } else {
            InclusionProof::from_json(name, bytes).map(Proof::Transparent)
        }
    }

    #[cfg(feature = "fs")]
    /// Reads a proof file of either format (bounded).
    pub fn read(path: &std::path::Path) -> Result<Proof> {
        let bytes = crate::input::read_bounded(
            path,
            MAX_PROOF_BYTES as u64,
            crate::input::FileKind::Proof,
        )?;
        Proof::from_json(&path.display().to_string(), &bytes)
    }

    /// The JSON form, one field and one path step per line.
    pub fn to_json(&self) -> String {
        match self {
            Proof::Transparent(p) => p.to_json(),
            Proof::Hidden(p) => p.to_json(),
        }
    }

    /// The JSON form on one line, ending in a newline (for JSON-lines files).
    pub fn to_json_line(&self) -> String {
        match self {
            Proof::Transparent(p) => p.to_json_line(),
            Proof::Hidden(p) => p.to_json_line(),
        }
    }

    /// The id written in the proof.
    pub fn user_id(&self) -> &str {
        match self {
            Proof::Transparent(p) => &p.user_id,
            Proof::Hidden(p) => &p.user_id,
        }
    }
}

/// Checks a proof of either mode; the mode must be the one the attestation signs.
pub fn verify_proof(att: &Attestation, proof: &Proof, user_id: &str) -> Result<Inclusion> {
    match proof {
        Proof::Transparent(p) => verify_inclusion(att, p, user_id),
        Proof::Hidden(p) => crate::hidden::verify_hidden_inclusion(att, p, user_id),
    }
}

/// The parts of a proof that are checked the same way in both modes.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// The id in the proof.
    pub user_id: &'a str,
    /// The exchange in the proof.
    pub exchange: &'a str,
    /// The period in the proof.
    pub period: &'a str,
    /// The number of balances.
    pub balances: usize,
    /// The number of path steps.
    pub path: usize,
    /// The leaf position.
    pub position: u64,
}

/// The refusal of a proof whose mode is not the one the attestation signs: `attestation_hidden`
/// says which mode the attestation signs.
pub fn wrong_mode(attestation_hidden: bool) -> Error {
    let (att, proof) = if attestation_hidden {
        ("hidden sums", "sums in the clear (por-proof-v1)")
    } else {
        ("sums in the clear", "hidden sums (por-proof-hidden-v1)")
    };
    Error::coded(
        Code::OtherAttestation,
        format!(
            "the attestation signs a tree of {att}, but this proof is for a tree of {proof}: it \
         cannot be checked against this attestation"
        ),
    )
}

/// Checks the id, exchange, period, widths and position of a proof against the attestation
/// and the id the customer typed.
pub fn check_header(att: &Attestation, p: Header<'_>, user_id: &str) -> Result<()> {
    if p.user_id != user_id {
        return Err(Error::coded(Code::OtherUser, match near_miss(p.user_id, user_id) {
            Some(how) => format!(
                "this proof is for user id {:?}, and you typed {user_id:?}: they differ only by {how}. The \
                 leaf commits to the exact id, so check how your id is written at the exchange and type it exactly",
                p.user_id
            ),
            None => format!(
                "this proof is for user id {:?}, not for {user_id:?}: it is someone else's proof",
                p.user_id
            ),
        }));
    }
    if p.exchange != att.exchange || p.period != att.period {
        return Err(Error::coded(
            Code::OtherAttestation,
            format!(
                "this proof is for {} {}, but the attestation is for {} {}",
                p.exchange, p.period, att.exchange, att.period
            ),
        ));
    }
    let k = att.assets.len();
    if p.balances != k {
        return Err(Error::coded(
            Code::InvalidPath,
            format!(
                "the proof has {} balances but the attestation lists {k} assets",
                p.balances
            ),
        ));
    }
    let h = att.tree_height as usize;
    if p.path != h {
        return Err(Error::coded(
            Code::InvalidPath,
            format!(
                "the proof's path has {} steps, but the tree has height {h}: expected exactly {h}",
                p.path
            ),
        ));
    }
    if h < 64 && p.position >> h != 0 {
        return Err(Error::coded(
            Code::InvalidPath,
            format!(
                "position {} does not exist in a tree of height {h}",
                p.position
            ),
        ));
    }
    Ok(())
}

/// Checks that `proof` puts `user_id`'s balances in the tree whose root `att` signed.
///
/// The attestation's signature must already have been checked by the caller.
pub fn verify_inclusion(
    att: &Attestation,
    proof: &InclusionProof,
    user_id: &str,
) -> Result<Inclusion> {
    if att.hidden.is_some() {
        return Err(wrong_mode(true));
    }
    check_header(
        att,
        Header {
            user_id: &proof.user_id,
            exchange: &proof.exchange,
            period: &proof.period,
            balances: proof.balances.len(),
            path: proof.path.len(),
            position: proof.position,
        },
        user_id,
    )?;
    let h = att.tree_height as usize;
    let leaf = leaf_hash(&user_commitment(user_id, &proof.salt), &proof.balances);
    let (root, sums) =
        fold_path(leaf, &proof.balances, proof.position, &proof.path).map_err(|e| match e {
            FoldError::Overflow { level, asset } => Error::coded(
                Code::InvalidPath,
                format!(
                    "the sums of {} overflow 128 bits at level {level}: the proof is forged",
                    att.assets[asset].symbol
                ),
            ),
            FoldError::SumsLength {
                level,
                found,
                expected,
            } => Error::coded(
                Code::InvalidPath,
                format!("path[{level}] has {found} sums, expected {expected} (one per asset)"),
            ),
        })?;
    if root != att.root_hash {
        return Err(Error::coded(
            Code::RootMismatch,
            format!(
            "the root computed from this proof ({root}) is not the root the exchange signed ({}): \
             these balances are not in the signed tree, or a sibling's hash or sums were altered",
            att.root_hash
        ),
        ));
    }
    for (i, (got, want)) in sums.iter().zip(&att.liabilities).enumerate() {
        if got != want {
            let a = &att.assets[i];
            return Err(Error::coded(
                Code::TotalsMismatch,
                format!(
                    "the tree's total for {} is {} but the exchange signed {}",
                    a.symbol,
                    got.to_decimal(a.decimals),
                    want.to_decimal(a.decimals)
                ),
            ));
        }
    }
    Ok(Inclusion {
        balances: proof.balances.clone(),
        levels: h,
        hidden: false,
    })
}

#[cfg(test)]
mod tests {
    use super::near_miss;

    #[test]
    fn near_misses_are_named() {
        assert_eq!(
            near_miss("alice", " alice "),
            Some("surrounding whitespace")
        );
        assert_eq!(near_miss("Alice", "alice"), Some("upper and lower case"));
        assert_eq!(
            near_miss("caf\u{e9}", "cafe\u{301}"),
            Some("Unicode form (the same letters encoded differently)")
        );
        assert_eq!(
            near_miss("Caf\u{e9}", " cafe\u{301}"),
            Some("case, whitespace or Unicode form")
        );
        assert_eq!(near_miss("alice", "bob"), None);
    }
}
