//! Adding the reserves section to a built attestation.

use crate::build::sign;
use crate::files::write_atomic;
use ed25519_dalek::SigningKey;
use por_verifier::attestation::Attestation;
use por_verifier::error::{Error, Result};
use por_verifier::reserves::{first_malformed, verify_offline, Reserves};
use por_verifier::state::ATTESTATION_FILE;
use std::path::Path;

/// Reads `reserves_file`, checks every entry offline (signatures over this attestation's
/// challenges, no funds counted twice, UTXOs adding up), then adds the section to
/// `DIR/attestation.json` and re-signs it. On any failure the attestation is left as it was.
pub fn add_reserves(dir: &Path, reserves_file: &Path, key: &SigningKey) -> Result<Attestation> {
    let path = dir.join(ATTESTATION_FILE);
    let mut att = Attestation::read(&path)?;
    if att.public_key != key.verifying_key().to_bytes() {
        return Err(Error::input(format!(
            "{}: signed by {}, not by this key ({}); use the key that built it",
            path.display(),
            hex::encode(att.public_key),
            hex::encode(key.verifying_key().to_bytes())
        )));
    }
    att.verify_signature(&key.verifying_key())?;
    let reserves = Reserves::read(reserves_file, &att.assets)?;
    let status = verify_offline(&att.exchange, &att.period, &att.root_hash, &reserves);
    if let Some(e) = first_malformed(&reserves, &status) {
        return Err(e.context(reserves_file.display()));
    }
    let failures: Vec<String> = reserves
        .entries
        .iter()
        .zip(&status)
        .enumerate()
        .filter_map(|(i, (e, s))| {
            s.offline
                .as_ref()
                .err()
                .map(|why| format!("entries[{i}] ({}): {why}", e.label()))
        })
        .collect();
    if !failures.is_empty() {
        return Err(Error::failed(format!(
            "{}: {} reserve entr{} failed, nothing was written:\n  {}",
            reserves_file.display(),
            failures.len(),
            if failures.len() == 1 { "y" } else { "ies" },
            failures.join("\n  ")
        )));
    }
    att.reserves = Some(reserves);
    sign(&mut att, key);
    write_atomic(&path, att.to_json().as_bytes())?;
    Ok(att)
}
