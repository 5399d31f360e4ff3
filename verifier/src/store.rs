//! The customer's memory: every attestation `por-verify` has verified, per exchange, with the
//! exchange's identity (its key and its history's genesis) pinned on first use.
//!
//! Two different signed attestations for one period are proof of misbehaviour on their own
//! (equivocation): the store keeps a copy of each attestation it verified, so that when the
//! exchange shows this customer another one for a period already seen, both can be written out
//! as evidence anyone can check. The store is never reset silently: a corrupt store, or one
//! written by another version, stops the run (exit 2) and says where it is.
//!
//! A run is a transaction. [`Store::open`] takes an exclusive lock on `STORE/lock` (released
//! when the store is dropped), so runs at once on one store wait for each other instead of
//! overwriting each other's records; every change is made in memory, and [`Store::commit`]
//! writes it at the end, each file to a temporary name unique to the run and renamed over the
//! old one. A run that fails commits nothing: no pin moves, no month is remembered.

use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::history::fingerprint;
use crate::outpoint::Outpoint;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format of `store.json`.
pub const STORE_FORMAT: &str = "por-store-v2";
/// The environment variable that moves the store (the `--store` flag wins).
pub const STORE_ENV: &str = "POR_VERIFY_STORE";
/// The largest store read.
pub const MAX_STORE_BYTES: u64 = 64 << 20;

/// Hex text of 32 bytes in the store's JSON, parsed once when read.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let t = String::deserialize(d)?;
        crate::hash::parse_hex32(&t)
            .ok_or_else(|| serde::de::Error::custom(format!("{t:?}: expected 64 hex characters")))
    }

    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(&hex::encode(v)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| {
                    crate::hash::parse_hex32(&t).ok_or_else(|| {
                        serde::de::Error::custom(format!("{t:?}: expected 64 hex characters"))
                    })
                })
                .transpose()
        }
    }

    pub mod list {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(hex::encode))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|t| {
                    crate::hash::parse_hex32(t).ok_or_else(|| {
                        serde::de::Error::custom(format!("{t:?}: expected 64 hex characters"))
                    })
                })
                .collect()
        }
    }
}

/// The genesis as pinned: not yet known, known to be none (an unanchored history), or an
/// outpoint. JSON: `null`, `"none"`, or `"TXID:VOUT"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenesisPin {
    /// Not pinned yet.
    #[default]
    Unknown,
    /// Pinned: the history is anchored nowhere.
    Pinned(Option<Outpoint>),
}

impl Serialize for GenesisPin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            GenesisPin::Unknown => s.serialize_none(),
            GenesisPin::Pinned(None) => s.serialize_str("none"),
            GenesisPin::Pinned(Some(o)) => s.serialize_str(&o.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for GenesisPin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(d)?.as_deref() {
            None => GenesisPin::Unknown,
            Some("none") => GenesisPin::Pinned(None),
            Some(t) => {
                GenesisPin::Pinned(Some(Outpoint::parse(t).map_err(serde::de::Error::custom)?))
            }
        })
    }
}

/// One attestation seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    /// Its period.
    pub period: String,
    /// Its digest.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
    /// The digest of the attestation it signs as the one before it.
    #[serde(with = "hex32::opt")]
    pub previous: Option<[u8; 32]>,
    /// The log size it signs.
    pub log_size: u64,
    /// The key that signed it.
    #[serde(with = "hex32")]
    pub public_key: [u8; 32],
}

/// A key rotation seen: the old key handing the exchange to a new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationSeen {
    /// The key that signed it.
    #[serde(with = "hex32")]
    pub old_key: [u8; 32],
    /// The key it hands over to.
    #[serde(with = "hex32")]
    pub new_key: [u8; 32],
    /// The period from which.
    pub period: String,
}

/// An exchange the customer has verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// The exchange's name, as in its attestations.
    pub exchange: String,
    /// The key pinned.
    #[serde(with = "hex32")]
    pub key: [u8; 32],
    /// When it was pinned (UTC).
    pub pinned_at: String,
    /// How: "first use", "rotation signed by the old key", or "re-pinned by the user".
    pub how: String,
    /// The history's genesis.
    #[serde(default)]
    pub genesis: GenesisPin,
    /// Every key this exchange was verified under, in order (the pinned one last).
    #[serde(with = "hex32::list")]
    pub keys: Vec<[u8; 32]>,
    /// Keys the user re-pinned by hand.
    #[serde(with = "hex32::list")]
    pub manual_keys: Vec<[u8; 32]>,
    /// Every key rotation followed.
    pub rotations: Vec<RotationSeen>,
    /// Every attestation verified.
    pub seen: Vec<Seen>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreJson {
    format: String,
    exchanges: Vec<Pinned>,
}

/// The store, locked for this run.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    exchanges: Vec<Pinned>,
    /// Attestation copies to write at commit: digest, JSON.
    copies: Vec<([u8; 32], String)>,
    /// Why the store cannot be written, when it cannot (it is still read).
    read_only: Option<String>,
    _lock: Option<std::fs::File>,
}

fn now() -> String {
    crate::time::format_utc(now_secs())
}

/// The clock, in Unix seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// The default place: `$POR_VERIFY_STORE`, else the platform's data directory.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os(STORE_ENV) {
            return Some(PathBuf::from(d));
        }
        dirs::data_dir().map(|d| d.join("por-verify"))
    }

    /// Opens (or, when absent, starts) the store in `dir`, waiting for the lock of any other
    /// run on it. A store that cannot be written is opened read-only ([`Store::read_only`]).
    pub fn open(dir: &Path) -> Result<Store> {
        let file = dir.join("store.json");
        let lock = std::fs::create_dir_all(dir)
            .and_then(|_| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(dir.join("lock"))
            })
            .and_then(|f| f.lock().map(|_| f));
        let (lock, read_only) = match lock {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(format!("{}: {e}", dir.display()))),
        };
        let mut store = Store {
            dir: dir.to_path_buf(),
            exchanges: Vec::new(),
            copies: Vec::new(),
            read_only,
            _lock: lock,
        };
        if !file.exists() {
            return Ok(store);
        }
        let bytes = crate::input::read_bounded(
            &file,
            MAX_STORE_BYTES,
            crate::input::FileKind::Other("store"),
        )?;
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
                    "{}: written by another version of por-verify ({format}, this one reads {STORE_FORMAT}); use \
                     that version, or move the store away to start a new one",
                    file.display()
                ))
            } else {
                corrupt(format!("format {format:?}"))
            });
        }
        let j: StoreJson = serde_json::from_value(v).map_err(|e| corrupt(e.to_string()))?;
        store.exchanges = j.exchanges;
        Ok(store)
    }

    /// Where the store lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why the store cannot be written, if it cannot.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// The pinned entry of an exchange.
    pub fn pinned(&self, exchange: &str) -> Option<&Pinned> {
        self.exchanges.iter().find(|p| p.exchange == exchange)
    }

    /// The exchange, other than `exchange`, under which a key was ever verified or pinned.
    pub fn other_name_of(&self, key: &[u8; 32], exchange: &str) -> Option<&str> {
        self.exchanges
            .iter()
            .find(|p| p.exchange != exchange && (p.key == *key || p.keys.contains(key)))
            .map(|p| p.exchange.as_str())
    }

    fn entry(&mut self, exchange: &str, key: &[u8; 32], how: &str) -> &mut Pinned {
        let i = match self.exchanges.iter().position(|p| p.exchange == exchange) {
            Some(i) => i,
            None => {
                self.exchanges.push(Pinned {
                    exchange: exchange.into(),
                    key: *key,
                    pinned_at: now(),
                    how: how.into(),
                    genesis: GenesisPin::Unknown,
                    keys: vec![*key],
                    manual_keys: Vec::new(),
                    rotations: Vec::new(),
                    seen: Vec::new(),
                });
                self.exchanges.len() - 1
            }
        };
        &mut self.exchanges[i]
    }

    /// Pins `key` for `exchange` (replacing any earlier pin), saying how.
    pub fn pin(&mut self, exchange: &str, key: &[u8; 32], how: &str) {
        let p = self.entry(exchange, key, how);
        if p.key != *key || p.how != how {
            p.key = *key;
            p.pinned_at = now();
            p.how = how.into();
        }
        if !p.keys.contains(key) {
            p.keys.push(*key);
        }
        if how == crate::identity::HOW_MANUAL && !p.manual_keys.contains(key) {
            p.manual_keys.push(*key);
        }
    }

    /// Pins the genesis of an exchange already in the store (first use).
    pub fn pin_genesis(&mut self, exchange: &str, genesis: Option<Outpoint>) {
        if let Some(p) = self.exchanges.iter_mut().find(|p| p.exchange == exchange) {
            if p.genesis == GenesisPin::Unknown {
                p.genesis = GenesisPin::Pinned(genesis);
            }
        }
    }

    /// Records a rotation followed (once).
    pub fn record_rotation(&mut self, exchange: &str, r: RotationSeen) {
        if let Some(p) = self.exchanges.iter_mut().find(|p| p.exchange == exchange) {
            if !p.rotations.contains(&r) {
                p.rotations.push(r);
            }
        }
    }

    /// Everything seen of an exchange.
    pub fn seen(&self, exchange: &str) -> &[Seen] {
        self.pinned(exchange).map_or(&[], |p| p.seen.as_slice())
    }

    fn copy_path(&self, digest: &[u8; 32]) -> PathBuf {
        self.dir
            .join("attestations")
            .join(format!("{}.json", hex::encode(digest)))
    }

    /// Records a verified attestation (and its copy, written at commit); nothing when seen.
    pub fn record_seen(&mut self, att: &Attestation) {
        let digest = att.digest().0;
        let seen = Seen {
            period: att.period.clone(),
            digest,
            previous: att.history.previous.map(|h| h.0),
            log_size: att.history.log_size,
            public_key: att.public_key,
        };
        let Some(p) = self
            .exchanges
            .iter_mut()
            .find(|p| p.exchange == att.exchange)
        else {
            return;
        };
        if p.seen.iter().any(|s| s.digest == digest) {
            return;
        }
        p.seen.push(seen);
        self.copies.push((digest, att.to_json()));
    }

    /// Writes both attestations of an equivocation to `evidence_dir`: the copy of the one seen
    /// before and the one shown now, named by period and fingerprint. Returns their paths.
    pub fn write_evidence(
        &self,
        earlier: &[u8; 32],
        now: &Attestation,
        evidence_dir: &Path,
    ) -> Result<Vec<PathBuf>> {
        let old_copy = match self.copies.iter().find(|(d, _)| d == earlier) {
            Some((_, j)) => j.clone().into_bytes(),
            None => std::fs::read(self.copy_path(earlier)).map_err(|e| {
                Error::input(format!(
                    "{}: the copy of the attestation seen before is missing ({e})",
                    self.copy_path(earlier).display()
                ))
            })?,
        };
        std::fs::create_dir_all(evidence_dir)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", evidence_dir.display())))?;
        let a = evidence_dir.join(format!(
            "{}-seen-before-{}.json",
            now.period,
            fingerprint(&Hash(*earlier))
        ));
        let b = evidence_dir.join(format!(
            "{}-shown-now-{}.json",
            now.period,
            fingerprint(&now.digest())
        ));
        write(&a, &old_copy)?;
        write(&b, now.to_json().as_bytes())?;
        Ok(vec![a, b])
    }

    /// Writes every change of this run: the attestation copies, then `store.json`, each
    /// atomically. Nothing is written by a run that does not commit.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(why) = &self.read_only {
            return Err(Error::input(format!("the store cannot be written ({why})")));
        }
        for (d, j) in std::mem::take(&mut self.copies) {
            write(&self.copy_path(&d), j.as_bytes())?;
        }
        let j = StoreJson {
            format: STORE_FORMAT.into(),
            exchanges: self.exchanges.clone(),
        };
        let text = serde_json::to_string_pretty(&j).unwrap_or_default() + "\n";
        write(&self.dir.join("store.json"), text.as_bytes())
    }
}

/// Writes a file atomically, creating its directory: a temporary name unique to this process
/// and call, then a rename over the old file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", d.display())))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
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
    fn corrupt_and_other_stores_are_refused_not_reset() {
        let t = tempfile_dir("refused");
        std::fs::write(t.join("store.json"), "{not json").unwrap();
        assert!(Store::open(&t)
            .unwrap_err()
            .message()
            .contains("never reset silently"));
        std::fs::write(
            t.join("store.json"),
            r#"{"format": "por-store-v9", "exchanges": []}"#,
        )
        .unwrap();
        assert!(Store::open(&t)
            .unwrap_err()
            .message()
            .contains("another version"));
        std::fs::write(
            t.join("store.json"),
            r#"{"format": "por-store-v2", "exchanges": []}"#,
        )
        .unwrap();
        let mut s = Store::open(&t).unwrap();
        s.pin("Ex", &[1; 32], "first use");
        s.pin_genesis("Ex", None);
        s.commit().unwrap();
        drop(s);
        let s = Store::open(&t).unwrap();
        let p = s.pinned("Ex").unwrap();
        assert_eq!(p.key, [1; 32]);
        assert_eq!(p.genesis, GenesisPin::Pinned(None));
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn nothing_is_written_without_a_commit() {
        let t = tempfile_dir("nocommit");
        {
            let mut s = Store::open(&t).unwrap();
            s.pin("Ex", &[1; 32], "first use");
        }
        assert!(Store::open(&t).unwrap().pinned("Ex").is_none());
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn the_lock_serialises_runs() {
        let t = tempfile_dir("lock");
        let first = Store::open(&t).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let d = t.clone();
        let h = std::thread::spawn(move || {
            let _second = Store::open(&d).unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "the second run waits"
        );
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        h.join().unwrap();
        let _ = std::fs::remove_dir_all(&t);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("por-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
