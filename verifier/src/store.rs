//! The customer's memory: every attestation `por-verify` has verified, per exchange, and the
//! exchange's key pinned on first use.
//!
//! Two different signed attestations for one period are proof of misbehaviour on their own
//! (equivocation): the store keeps a copy of each attestation it verified, so that when the
//! exchange shows this customer another one for a period already seen, both can be written out
//! as evidence anyone can check. The store is never reset silently: a corrupt store, or one
//! written by a newer version, stops the run (exit 2) and says where it is.

use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::history::fingerprint;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format of `store.json`.
pub const STORE_FORMAT: &str = "por-store-v1";
/// The environment variable that moves the store (the `--store` flag wins).
pub const STORE_ENV: &str = "POR_VERIFY_STORE";

/// One attestation seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    /// Its period.
    pub period: String,
    /// Its digest.
    pub digest: String,
}

/// An exchange the customer has verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// The exchange's name, as in its attestations.
    pub exchange: String,
    /// The key pinned (64 hex).
    pub key: String,
    /// When it was pinned (UTC).
    pub pinned_at: String,
    /// How: "first use", "rotation signed by the old key", or "re-pinned by the user".
    pub how: String,
    /// The first anchor outpoint, once seen.
    #[serde(default)]
    pub anchor: Option<String>,
    /// Every attestation verified.
    pub seen: Vec<Seen>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreJson {
    format: String,
    exchanges: Vec<Pinned>,
}

/// The store on disk.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    exchanges: Vec<Pinned>,
}

/// What the store says about a new attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeing {
    /// Never seen this period.
    New,
    /// Seen exactly this attestation before.
    Again,
    /// Another attestation for this period was verified before: equivocation. Holds the paths
    /// of both attestations written out as evidence.
    Equivocation {
        /// The earlier attestation's digest.
        earlier: String,
        /// Where both signed attestations were written.
        evidence: Vec<PathBuf>,
    },
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::time::format_utc(secs)
}

impl Store {
    /// The default place: `$POR_VERIFY_STORE`, else the platform's data directory.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os(STORE_ENV) {
            return Some(PathBuf::from(d));
        }
        dirs::data_dir().map(|d| d.join("por-verify"))
    }

    /// Opens (or, when absent, starts) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        let file = dir.join("store.json");
        if !file.exists() {
            return Ok(Store {
                dir: dir.to_path_buf(),
                exchanges: Vec::new(),
            });
        }
        let bytes =
            crate::input::read_bounded(&file, 64 << 20, crate::input::FileKind::Other("store"))?;
        let corrupt = |why: String| {
            Error::input(format!(
                "{}: the store of verified attestations is unreadable ({why}); it is never reset silently: move it \
                 away to start a new one, or give --store DIR",
                file.display()
            ))
        };
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != STORE_FORMAT {
            return Err(if format.starts_with("por-store-") {
                Error::input(format!(
                    "{}: written by a newer version of por-verify ({format}); update por-verify",
                    file.display()
                ))
            } else {
                corrupt(format!("format {format:?}"))
            });
        }
        let j: StoreJson = serde_json::from_value(v).map_err(|e| corrupt(e.to_string()))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            exchanges: j.exchanges,
        })
    }

    /// Where the store lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pinned entry of an exchange.
    pub fn pinned(&self, exchange: &str) -> Option<&Pinned> {
        self.exchanges.iter().find(|p| p.exchange == exchange)
    }

    /// The exchange a key is pinned for, if any.
    pub fn pinned_by_key(&self, key: &[u8; 32]) -> Option<&str> {
        let key = hex::encode(key);
        self.exchanges
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.exchange.as_str())
    }

    /// Pins `key` for `exchange` (replacing any earlier pin), saying how.
    pub fn pin(&mut self, exchange: &str, key: &[u8; 32], how: &str) {
        let key = hex::encode(key);
        match self.exchanges.iter_mut().find(|p| p.exchange == exchange) {
            Some(p) => {
                p.key = key;
                p.pinned_at = now();
                p.how = how.into();
            }
            None => self.exchanges.push(Pinned {
                exchange: exchange.into(),
                key,
                pinned_at: now(),
                how: how.into(),
                anchor: None,
                seen: Vec::new(),
            }),
        }
    }

    /// Records the first anchor outpoint of an exchange, once.
    pub fn pin_anchor(&mut self, exchange: &str, anchor: &str) -> std::result::Result<(), String> {
        let Some(p) = self.exchanges.iter_mut().find(|p| p.exchange == exchange) else {
            return Ok(());
        };
        match &p.anchor {
            Some(a) if a != anchor => Err(format!(
                "the first anchor of {exchange} was {a} when you first saw it, now {anchor}: another history"
            )),
            _ => {
                p.anchor = Some(anchor.into());
                Ok(())
            }
        }
    }

    /// Everything seen of an exchange.
    pub fn seen(&self, exchange: &str) -> Vec<Seen> {
        self.pinned(exchange)
            .map(|p| p.seen.clone())
            .unwrap_or_default()
    }

    fn copy_path(&self, digest: &str) -> PathBuf {
        self.dir.join("attestations").join(format!("{digest}.json"))
    }

    /// Looks at a verified attestation: new, seen, or a second one for a period (equivocation,
    /// with both written to the evidence directory). Records it when new.
    pub fn see(&mut self, att: &Attestation, evidence_dir: &Path) -> Result<Seeing> {
        let digest = att.digest().to_hex();
        let earlier = self
            .pinned(&att.exchange)
            .and_then(|p| p.seen.iter().find(|s| s.period == att.period))
            .cloned();
        match earlier {
            Some(s) if s.digest == digest => Ok(Seeing::Again),
            Some(s) => {
                std::fs::create_dir_all(evidence_dir).map_err(|e| {
                    Error::input(format!("{}: cannot create: {e}", evidence_dir.display()))
                })?;
                let fp = |d: &str| fingerprint(&Hash::from_hex(d).unwrap_or(Hash([0; 32])));
                let old_copy = std::fs::read(self.copy_path(&s.digest)).map_err(|e| {
                    Error::input(format!(
                        "{}: the copy of the attestation seen before is missing ({e})",
                        self.copy_path(&s.digest).display()
                    ))
                })?;
                let a = evidence_dir.join(format!(
                    "{}-{}-{}.json",
                    att.period,
                    "seen-before",
                    fp(&s.digest)
                ));
                let b = evidence_dir.join(format!(
                    "{}-{}-{}.json",
                    att.period,
                    "shown-now",
                    fp(&digest)
                ));
                write(&a, &old_copy)?;
                write(&b, att.to_json().as_bytes())?;
                Ok(Seeing::Equivocation {
                    earlier: s.digest,
                    evidence: vec![a, b],
                })
            }
            None => {
                write(&self.copy_path(&digest), att.to_json().as_bytes())?;
                if let Some(p) = self
                    .exchanges
                    .iter_mut()
                    .find(|p| p.exchange == att.exchange)
                {
                    p.seen.push(Seen {
                        period: att.period.clone(),
                        digest,
                    });
                }
                Ok(Seeing::New)
            }
        }
    }

    /// Writes the store (atomically).
    pub fn save(&self) -> Result<()> {
        let j = StoreJson {
            format: STORE_FORMAT.into(),
            exchanges: self.exchanges.clone(),
        };
        let text = serde_json::to_string_pretty(&j).unwrap_or_default() + "\n";
        write(&self.dir.join("store.json"), text.as_bytes())
    }
}

/// Writes a file atomically, creating its directory.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", d.display())))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::input(format!("{}: cannot write: {e}", path.display()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_and_newer_stores_are_refused_not_reset() {
        let d = std::env::temp_dir().join(format!("por-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("store.json"), "{not json").unwrap();
        assert!(Store::open(&d)
            .unwrap_err()
            .message()
            .contains("never reset silently"));
        std::fs::write(
            d.join("store.json"),
            r#"{"format": "por-store-v9", "exchanges": []}"#,
        )
        .unwrap();
        assert!(Store::open(&d)
            .unwrap_err()
            .message()
            .contains("newer version"));
        std::fs::write(
            d.join("store.json"),
            r#"{"format": "por-store-v1", "exchanges": []}"#,
        )
        .unwrap();
        let mut s = Store::open(&d).unwrap();
        s.pin("Ex", &[1; 32], "first use");
        assert_eq!(s.pin_anchor("Ex", "a:0"), Ok(()));
        assert!(s.pin_anchor("Ex", "b:0").is_err());
        s.save().unwrap();
        assert_eq!(
            Store::open(&d).unwrap().pinned("Ex").unwrap().key,
            hex::encode([1; 32])
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
