//! `por-prove publish`: exactly the public files of a month, checked as customers will check
//! them, copied to the folder the exchange serves.
//!
//! A month's output directory mixes public files with `private/` (salts, seeds, the ledger).
//! Copying it by hand to a web server is how a private file gets published, or a stale or
//! broken one. `publish` copies only the files customers need, by name: `attestation.json`, the
//! numbered reserves statements and `reserves.json`, and the history; it checks each first with
//! the verifier's own functions (signature, citation, the statement's offline checks, the
//! history's listing), refuses a file that contains one of the month's secrets, and moves the
//! month into place in one rename, so a reader never sees half a month. A file that fails a
//! check is exit 1, as in the verifier; nothing is written then.
//!
//! Layout (the one `por-verify history` reads): `TO/history.json`, `TO/PERIOD/attestation.json`,
//! `TO/PERIOD/reserves-NNNN.json`, `TO/PERIOD/reserves.json`.

use crate::files::{write_atomic, StagingDir};
use por_verifier::attestation::Attestation;
use por_verifier::error::{Error, Result};
use por_verifier::history::{check_for_customer, check_statement, fingerprint, History};
use por_verifier::reserves::ReservesStatement;
use por_verifier::state::{PrivateState, ATTESTATION_FILE};
use por_verifier::verdict::{evaluate, Options};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What was published: each file with its SHA-256, and the attestation's fingerprint.
#[derive(Debug)]
pub struct Published {
    /// The files written, with their SHA-256.
    pub files: Vec<(PathBuf, String)>,
    /// The attestation's fingerprint.
    pub fingerprint: String,
    /// The period.
    pub period: String,
}

/// The numbered statements of a month, in order: `reserves-0001.json`, …
fn statements(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", dir.display())))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let numbered = name
            .strip_prefix("reserves-")
            .and_then(|n| n.strip_suffix(".json"))
            .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()));
        if numbered {
            let bytes = std::fs::read(e.path()).map_err(|err| {
                Error::input(format!("{}: cannot read: {err}", e.path().display()))
            })?;
            out.push((name, bytes));
        }
    }
    out.sort();
    Ok(out)
}

/// The month's secrets as they could appear in a file (hex, either case).
fn secrets(from: &Path) -> Vec<String> {
    let Ok(s) = PrivateState::read(from) else {
        return Vec::new();
    };
    let mut out = vec![s.position_seed, s.padding_key];
    out.extend(s.blinding_key);
    out.into_iter()
        .filter(|x| x.len() >= 32)
        .flat_map(|x| [x.to_lowercase(), x.to_uppercase()])
        .collect()
}

/// The first file whose bytes contain one of `secrets`.
fn holding_secret<'a>(files: &[(&'a str, &[u8])], secrets: &[String]) -> Option<&'a str> {
    files.iter().find_map(|(name, bytes)| {
        let text = String::from_utf8_lossy(bytes);
        secrets
            .iter()
            .any(|s| text.contains(s.as_str()))
            .then_some(*name)
    })
}

/// Checks and publishes the month in `from` to `to`, with `history` when given. `replace`
/// allows replacing a month already published (a later reserves statement).
pub fn publish(from: &Path, to: &Path, history: Option<&Path>, replace: bool) -> Result<Published> {
    let att_path = from.join(ATTESTATION_FILE);
    let att_bytes = std::fs::read(&att_path)
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", att_path.display())))?;
    let att = Attestation::read(&att_path)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&att.public_key).map_err(|_| {
        Error::input(format!(
            "{}: public_key is not an ed25519 key",
            att_path.display()
        ))
    })?;
    att.verify_signature(&key)
        .map_err(|e| e.context(att_path.display()))?;
    att.snapshot_in_period()
        .map_err(|why| Error::input(format!("{}: {why}", att_path.display())))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![(ATTESTATION_FILE.into(), att_bytes)];
    let numbered = statements(from)?;
    let mut latest: Option<ReservesStatement> = None;
    for (name, bytes) in &numbered {
        let path = from.join(name);
        let stmt = ReservesStatement::read(&path)?;
        stmt.verify(&att, &key)
            .map_err(|e| e.context(path.display()))?;
        let v = evaluate(
            &att,
            &stmt,
            &key,
            &Options {
                offline: true,
                ..Options::default()
            },
        )?;
        let failed = v.failures();
        if let Some(f) = failed.first() {
            return Err(Error::failed(format!(
                "{}: {} check(s) fail offline, first [{}] {}; nothing was published",
                path.display(),
                failed.len(),
                f.code,
                f.message
            )));
        }
        files.push((name.clone(), bytes.clone()));
        latest = Some(stmt);
    }
    if let Some(last) = &latest {
        let path = from.join("reserves.json");
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
        let current = ReservesStatement::read(&path)?;
        if current.signing_message() != last.signing_message() {
            return Err(Error::input(format!(
                "{}: is statement #{}, but the latest numbered statement is #{}; nothing was published",
                path.display(),
                current.sequence,
                last.sequence
            )));
        }
        files.push(("reserves.json".into(), bytes));
    }
    let history_bytes = match history {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", p.display())))?;
            let h = History::read(p)?;
            if let Err(bad) = check_for_customer(&h, &att, &[]) {
                return Err(Error::failed(format!(
                    "{}: customers would see: {}; nothing was published",
                    p.display(),
                    por_verifier::outcome::joined(&bad)
                )));
            }
            if let Some(s) = &latest {
                let d = por_verifier::Hash(por_verifier::encode::digest(&s.signing_message()));
                check_statement(&h, &att.period, &d, s.sequence).map_err(|f| {
                    Error::failed(format!(
                        "{}: customers would see [{}] {}; nothing was published",
                        p.display(),
                        f.code,
                        f.message
                    ))
                })?;
            }
            Some(bytes)
        }
    };
    let secrets = secrets(from);
    let all: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain(history_bytes.iter().map(|b| ("history.json", b.as_slice())))
        .collect();
    if let Some(name) = holding_secret(&all, &secrets) {
        return Err(Error::input(format!(
            "{name}: contains a secret of {} (a seed or key of the private state); nothing was published",
            from.join("private").display()
        )));
    }
    std::fs::create_dir_all(to)
        .map_err(|e| Error::input(format!("{}: cannot create: {e}", to.display())))?;
    let month = to.join(&att.period);
    let stage = StagingDir::new(&month, replace)?;
    let mut written = Vec::new();
    for (name, bytes) in &files {
        std::fs::write(stage.path().join(name), bytes).map_err(|e| {
            Error::input(format!(
                "{}: cannot write: {e}",
                stage.path().join(name).display()
            ))
        })?;
        written.push((month.join(name), hex::encode(Sha256::digest(bytes))));
    }
    stage.commit()?;
    if let Some(bytes) = &history_bytes {
        let p = to.join("history.json");
        write_atomic(&p, bytes)?;
        written.push((p, hex::encode(Sha256::digest(bytes))));
    }
    Ok(Published {
        files: written,
        fingerprint: fingerprint(&att.digest()),
        period: att.period.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::holding_secret;

    #[test]
    fn a_file_holding_a_secret_is_named() {
        let seed = "ab".repeat(32);
        let secrets = vec![seed.clone(), seed.to_uppercase()];
        let clean: &[u8] = b"{\"format\":\"por-attestation-v2\"}";
        let leaky = format!("{{\"custodian\":\"{}\"}}", seed.to_uppercase());
        let files = [
            ("attestation.json", clean),
            ("reserves-0001.json", leaky.as_bytes()),
        ];
        assert_eq!(holding_secret(&files, &secrets), Some("reserves-0001.json"));
        assert_eq!(holding_secret(&files[..1], &secrets), None);
    }
}
