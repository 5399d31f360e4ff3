//! The exchange's ed25519 attestation key in a file: 64 hex characters, mode 0600, or the same
//! text encrypted under a passphrase in the age format (scrypt), so that a copied disk or
//! backup does not give the key away.
//!
//! An encrypted file is an ordinary ASCII-armored age file: `age -d FILE` (or rage) gives back
//! the plain key file, so a backup stays readable without this tool.

use crate::files::write_new_private;
use age::secrecy::{ExposeSecret, SecretString};
use ed25519_dalek::SigningKey;
use por_verifier::error::{read_file, Error, Result};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

/// The environment variable an encrypted key file's passphrase may come from (for cron).
pub const PASSPHRASE_ENV: &str = "POR_KEY_PASSPHRASE";
/// The environment variable a PKCS#11 token's PIN may come from (for cron).
pub const PIN_ENV: &str = "POR_PKCS11_PIN";

/// A passphrase or PIN: wiped from memory when dropped, and never printed (no `Display`, and
/// `Debug` shows nothing).
pub struct Secret(SecretString);

impl Secret {
    /// The secret's text, for handing to the crate that needs it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where a secret comes from: a file named on the command line, else an environment variable,
/// else a prompt on the terminal. Never the command line itself, which other users can read.
#[derive(Debug, Clone)]
pub struct SecretSource {
    /// What the secret is, for messages ("passphrase", "PIN").
    pub what: &'static str,
    /// The command-line flag that names the file.
    pub flag: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// The file, if the flag was given.
    pub file: Option<PathBuf>,
}

impl SecretSource {
    /// The passphrase of an encrypted key file.
    pub fn passphrase(file: Option<PathBuf>) -> SecretSource {
        SecretSource {
            what: "passphrase",
            flag: "--passphrase-file",
            env: PASSPHRASE_ENV,
            file,
        }
    }

    /// The PIN of a PKCS#11 token.
    pub fn pin(file: Option<PathBuf>) -> SecretSource {
        SecretSource {
            what: "PIN",
            flag: "--pin-file",
            env: PIN_ENV,
            file,
        }
    }

    /// The secret, or why there is none. `prompt` is shown on a terminal only.
    pub fn get(&self, prompt: &str) -> Result<Secret> {
        self.get_checked(prompt, false)
    }

    /// As [`Self::get`], but a prompted secret is asked twice (for a new one: a typo would lock
    /// the key away for good).
    pub fn get_new(&self, prompt: &str) -> Result<Secret> {
        self.get_checked(prompt, true)
    }

    fn get_checked(&self, prompt: &str, twice: bool) -> Result<Secret> {
        let text = if let Some(path) = &self.file {
            let mut bytes = read_file(path)?;
            let text = String::from_utf8(std::mem::take(&mut bytes)).map_err(|e| {
                let mut b = e.into_bytes();
                b.zeroize();
                Error::input(format!(
                    "{}: the {} is not UTF-8 text",
                    path.display(),
                    self.what
                ))
            })?;
            // One closing line break is the file's, not the secret's.
            let mut text = text;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            if text.is_empty() {
                return Err(Error::input(format!(
                    "{}: empty; expected the {}",
                    path.display(),
                    self.what
                )));
            }
            text
        } else if let Some(v) = std::env::var_os(self.env).filter(|v| !v.is_empty()) {
            v.into_string().map_err(|_| {
                Error::input(format!("{}: the {} is not UTF-8 text", self.env, self.what))
            })?
        } else if std::io::stdin().is_terminal() {
            let first = rpassword::prompt_password(prompt).map_err(|e| {
                Error::input(format!(
                    "cannot read the {} from the terminal: {e}",
                    self.what
                ))
            })?;
            if twice {
                let mut again = rpassword::prompt_password("Again: ").map_err(|e| {
                    Error::input(format!(
                        "cannot read the {} from the terminal: {e}",
                        self.what
                    ))
                })?;
                let same = again == first;
                again.zeroize();
                if !same {
                    let mut first = first;
                    first.zeroize();
                    return Err(Error::input(format!("the two {}s differ", self.what)));
                }
            }
            if first.is_empty() {
                return Err(Error::input(format!("an empty {} is refused", self.what)));
            }
            first
        } else {
            return Err(Error::input(format!(
                "{}: no {} given: give {} FILE or set {} (no terminal to ask on)",
                prompt.trim_end().trim_end_matches(':'),
                self.what,
                self.flag,
                self.env
            )));
        };
        Ok(Secret(SecretString::from(text)))
    }
}

/// Generates a key from the operating system's randomness and writes it to `path`, which
/// must not exist yet (a key is never silently replaced).
pub fn keygen(path: &Path) -> Result<SigningKey> {
    let (key, mut text) = new_key()?;
    let written = write_new_private(path, text.as_bytes());
    text.zeroize();
    written?;
    Ok(key)
}

/// As [`keygen`], but the file is the key encrypted under a passphrase (age, scrypt), still
/// mode 0600: the disk then holds nothing that signs without the passphrase.
pub fn keygen_encrypted(path: &Path, passphrase: &Secret) -> Result<SigningKey> {
    if path.exists() {
        return Err(Error::input(format!(
            "{}: already exists; refusing to overwrite a key",
            path.display()
        )));
    }
    let (key, mut text) = new_key()?;
    let sealed = encrypt(text.as_bytes(), passphrase);
    text.zeroize();
    write_new_private(path, &sealed?)?;
    Ok(key)
}

fn new_key() -> Result<(SigningKey, String)> {
    let mut seed = [0u8; 32];
    crate::random::fill(&mut seed)?;
    let key = SigningKey::from_bytes(&seed);
    let text = format!("{}\n", hex::encode(seed));
    seed.zeroize();
    Ok((key, text))
}

fn encrypt(plain: &[u8], passphrase: &Secret) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::input(format!("cannot encrypt the key: {e}"));
    let enc = age::Encryptor::with_user_passphrase(passphrase.0.clone());
    let armor = age::armor::ArmoredWriter::wrap_output(Vec::new(), age::armor::Format::AsciiArmor)
        .map_err(fail)?;
    let mut w = enc.wrap_output(armor).map_err(fail)?;
    w.write_all(plain).map_err(fail)?;
    w.finish().and_then(|a| a.finish()).map_err(fail)
}

/// Whether `bytes` are an age file (armored or binary) rather than a plain key.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &bytes[i..]);
    start.starts_with(b"age-encryption.org/")
        || start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Reads a plain key written by `keygen` (tests and small setups; an encrypted file is
/// refused here, see [`read_key_file`]).
pub fn read_key(path: &Path) -> Result<SigningKey> {
    let mut bytes = read_file(path)?;
    if is_encrypted(&bytes) {
        return Err(Error::input(format!(
            "{}: an encrypted key file; its passphrase is needed",
            path.display()
        )));
    }
    let key = parse_plain(path, &bytes);
    bytes.zeroize();
    key
}

/// Reads a key file, plain or encrypted: an encrypted one is opened with the passphrase from
/// `passphrase`, which is asked for only then.
pub fn read_key_file(path: &Path, passphrase: &SecretSource) -> Result<SigningKey> {
    let mut bytes = read_file(path)?;
    if !is_encrypted(&bytes) {
        let key = parse_plain(path, &bytes);
        bytes.zeroize();
        return key;
    }
    let secret = passphrase.get(&format!("Passphrase for {}: ", path.display()))?;
    let mut plain = decrypt(path, &bytes, &secret)?;
    let key = parse_plain(path, &plain);
    plain.zeroize();
    key
}

fn decrypt(path: &Path, sealed: &[u8], passphrase: &Secret) -> Result<Vec<u8>> {
    let name = path.display();
    let not_age = |e: age::DecryptError| {
        Error::input(format!("{name}: not a readable encrypted key file: {e}"))
    };
    let d =
        age::Decryptor::new_buffered(age::armor::ArmoredReader::new(sealed)).map_err(not_age)?;
    if !d.is_scrypt() {
        return Err(Error::input(format!(
            "{name}: an age file encrypted to a recipient key, not to a passphrase"
        )));
    }
    let identity = age::scrypt::Identity::new(passphrase.0.clone());
    let mut r = d
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => Error::input(format!(
                "{name}: wrong passphrase (the key was not decrypted)"
            )),
            age::DecryptError::ExcessiveWork { required, target } => Error::input(format!(
                "{name}: its scrypt work factor 2^{required} is far above this machine's \
                 (2^{target}); refusing to spend that long"
            )),
            other => not_age(other),
        })?;
    let mut plain = Vec::new();
    if let Err(e) = r.read_to_end(&mut plain) {
        plain.zeroize();
        return Err(Error::input(format!("{name}: cannot decrypt: {e}")));
    }
    Ok(plain)
}

fn parse_plain(path: &Path, bytes: &[u8]) -> Result<SigningKey> {
    let text = std::str::from_utf8(bytes).unwrap_or("").trim();
    let mut seed = por_verifier::hash::parse_hex32(text).ok_or_else(|| {
        Error::input(format!(
            "{}: expected an ed25519 secret key as 64 hex characters",
            path.display()
        ))
    })?;
    let key = SigningKey::from_bytes(&seed);
    seed.zeroize();
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret(SecretString::from(s.to_string()))
    }

    #[test]
    fn encrypted_key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.age");
        let key = keygen_encrypted(&p, &secret("correct horse")).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(is_encrypted(&bytes));
        let seed = hex::encode(key.to_bytes());
        assert!(!String::from_utf8_lossy(&bytes).contains(&seed));
        let pass = dir.path().join("pass");
        std::fs::write(&pass, "correct horse\n").unwrap();
        let back = read_key_file(&p, &SecretSource::passphrase(Some(pass.clone()))).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        std::fs::write(&pass, "wrong horse\n").unwrap();
        let e = read_key_file(&p, &SecretSource::passphrase(Some(pass))).unwrap_err();
        assert!(e.to_string().contains("wrong passphrase"), "{e}");
        assert!(!e.to_string().contains("horse"), "{e}");
        assert!(read_key(&p).is_err());
        assert!(keygen_encrypted(&p, &secret("x")).is_err());
    }

    #[test]
    fn secrets_from_files_lose_one_line_break_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s");
        for (content, want) in [("a b\r\n", "a b"), ("x\n\n", "x\n"), ("y", "y")] {
            std::fs::write(&f, content).unwrap();
            let s = SecretSource::pin(Some(f.clone())).get("PIN: ").unwrap();
            assert_eq!(s.expose(), want);
            assert_eq!(format!("{s:?}"), "Secret(..)");
        }
        std::fs::write(&f, "\n").unwrap();
        assert!(SecretSource::pin(Some(f)).get("PIN: ").is_err());
    }
}
