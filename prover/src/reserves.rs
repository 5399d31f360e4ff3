//! Signing a reserves statement for a built attestation.
//!
//! The statement cites the attestation by digest, so the attestation itself is never re-signed:
//! a period has one liabilities attestation, and any number of reserves statements (numbered;
//! each is kept as `reserves-NNNN.json`, and `reserves.json` is the latest).

use crate::files::write_atomic;
use crate::signer::ExchangeSigner;
use por_verifier::attestation::Attestation;
use por_verifier::error::{Error, Result};
use por_verifier::history::Kind;
use por_verifier::input::{parse_json, read_bounded, FileKind};
use por_verifier::registry::Registry;
use por_verifier::reserves::statement::{EntriesFile, MAX_RESERVES_BYTES};
use por_verifier::reserves::ReservesStatement;
use por_verifier::state::ATTESTATION_FILE;
use por_verifier::verdict::{evaluate, AssetState, Options};
use std::path::{Path, PathBuf};

/// The latest statement's file name in a build directory.
pub const RESERVES_FILE: &str = "reserves.json";

/// What `add_reserves` did.
pub struct Added {
    /// The signed statement.
    pub statement: ReservesStatement,
    /// Where it was written (numbered file).
    pub path: PathBuf,
    /// Assets the signed claims do not cover (the statement is still written: it is the truth).
    pub short: Vec<String>,
}

fn next_sequence(dir: &Path) -> Result<u32> {
    let mut max = 0u32;
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", dir.display())))?;
    for entry in rd.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("reserves-")
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|n| n.parse::<u32>().ok())
        {
            max = max.max(n);
        }
    }
    max.checked_add(1)
        .ok_or_else(|| Error::input("too many reserves statements"))
}

/// Reads the entries in `entries_file`, checks every one offline against `DIR/attestation.json`
/// and `registry` (signatures over this attestation's challenges, bindings, no funds counted
/// twice, UTXOs adding up), then signs and writes the next statement. On any failure nothing is
/// written.
pub fn add_reserves(
    dir: &Path,
    entries_file: &Path,
    key: &dyn ExchangeSigner,
    registry: Registry,
    history: Option<&Path>,
) -> Result<Added> {
    let path = dir.join(ATTESTATION_FILE);
    let att = Attestation::read(&path)?;
    let public = key.public_key();
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .map_err(|_| Error::input("the signer's public key is not a valid ed25519 key"))?;
    if att.public_key != public {
        return Err(Error::input(format!(
            "{}: signed by {}, not by this key ({}); use the key that built it",
            path.display(),
            hex::encode(att.public_key),
            hex::encode(public)
        )));
    }
    att.verify_signature(&verifying)?;
    let bytes = read_bounded(
        entries_file,
        MAX_RESERVES_BYTES,
        FileKind::Other("reserves entries file"),
    )?;
    let input: EntriesFile = parse_json(
        &entries_file.display().to_string(),
        &bytes,
        FileKind::Other("reserves entries file ({\"entries\": [...]})"),
    )?;
    let mut stmt = ReservesStatement {
        exchange: att.exchange.clone(),
        period: att.period.clone(),
        attestation: att.digest(),
        sequence: next_sequence(dir)?,
        entries: input.entries,
        public_key: public,
        signature: [0; 64],
    };
    stmt.signature = key.sign(&stmt.signing_message())?.to_bytes();
    let opts = Options {
        registry,
        offline: true,
        ..Options::default()
    };
    let v = evaluate(&att, &stmt, &verifying, &opts)?;
    let failures = v.failures();
    if !failures.is_empty() {
        return Err(Error::failed(format!(
            "{}: {} check(s) failed, nothing was written:\n  {}",
            entries_file.display(),
            failures.len(),
            failures
                .iter()
                .map(|f| format!("[{}] {}", f.code, f.message))
                .collect::<Vec<_>>()
                .join("\n  ")
        )));
    }
    let short = v
        .assets
        .iter()
        .filter(|a| a.state == AssetState::Short)
        .map(|a| a.asset.symbol.clone())
        .collect();
    let out = dir.join(format!("reserves-{:04}.json", stmt.sequence));
    let history = match history {
        None => None,
        Some(hp) => {
            let h = crate::build::read_or_new_history(hp, &att.exchange)?;
            let last = h.entries.iter().rev().find(|e| e.kind == Kind::Attestation);
            if last.map(|e| e.digest) != Some(att.digest()) {
                return Err(Error::input(format!(
                    "{}: its last attestation is not {}: add reserves to the month the history ends with",
                    hp.display(),
                    path.display()
                )));
            }
            Some((hp, h))
        }
    };
    if out.exists() {
        return Err(Error::input(format!("{}: already exists", out.display())));
    }
    write_atomic(&out, stmt.to_json().as_bytes())?;
    write_atomic(&dir.join(RESERVES_FILE), stmt.to_json().as_bytes())?;
    if let Some((hp, mut h)) = history {
        let digest =
            por_verifier::hash::Hash(por_verifier::encode::digest(&stmt.signing_message()));
        let file = crate::build::relative_to(hp, &out);
        let e = h.append(Kind::Reserves, &att.period, &digest, &stmt.public_key);
        e.sequence = Some(stmt.sequence);
        e.file = file;
        write_atomic(hp, h.to_json().as_bytes())?;
    }
    Ok(Added {
        statement: stmt,
        path: out,
        short,
    })
}
