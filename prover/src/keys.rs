//! The exchange's ed25519 attestation key, stored as 64 hex characters in a 0600 file.

use crate::files::write_new_private;
use ed25519_dalek::SigningKey;
use por_verifier::error::{read_file, Error, Result};
use std::path::Path;

/// Generates a key from the operating system's randomness and writes it to `path`, which
/// must not exist yet (a key is never silently replaced).
pub fn keygen(path: &Path) -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    crate::random::fill(&mut seed)?;
    let key = SigningKey::from_bytes(&seed);
    write_new_private(path, format!("{}\n", hex::encode(seed)).as_bytes())?;
    Ok(key)
}

/// Reads a key written by `keygen`.
pub fn read_key(path: &Path) -> Result<SigningKey> {
    let bytes = read_file(path)?;
    let text = std::str::from_utf8(&bytes).unwrap_or("").trim();
    let seed = por_verifier::hash::parse_hex32(text).ok_or_else(|| {
        Error::input(format!(
            "{}: expected an ed25519 secret key as 64 hex characters",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}
