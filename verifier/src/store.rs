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
pub use por_core::memory::{
    GenesisPin, Memory, Pinned, RotationSeen, Seen, MAX_STORE_BYTES, STORE_FORMAT,
};
use std::path::{Path, PathBuf};

/// The environment variable that moves the store (the `--store` flag wins).
pub const STORE_ENV: &str = "POR_VERIFY_STORE";

/// The store, locked for this run.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    memory: Memory,
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
            memory: Memory::new(),
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
        store.memory = Memory::from_json(&file.display().to_string(), &bytes)?;
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

    /// What the store remembers.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// What the store remembers, to change in this run (written at commit).
    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.memory
    }

    /// The pinned entry of an exchange.
    pub fn pinned(&self, exchange: &str) -> Option<&Pinned> {
        self.memory.pinned(exchange)
    }

    /// Pins `key` for `exchange` (replacing any earlier pin), saying how, at the clock's time.
    pub fn pin(&mut self, exchange: &str, key: &[u8; 32], how: &str) {
        self.memory.pin(exchange, key, how, &now());
    }

    /// Records a rotation followed (once).
    pub fn record_rotation(&mut self, exchange: &str, r: RotationSeen) {
        self.memory.record_rotation(exchange, r)
    }

    /// Everything seen of an exchange.
    pub fn seen(&self, exchange: &str) -> &[Seen] {
        self.memory.seen(exchange)
    }

    fn copy_path(&self, digest: &[u8; 32]) -> PathBuf {
        self.dir
            .join("attestations")
            .join(format!("{}.json", hex::encode(digest)))
    }

    /// Records a verified attestation (and its copy, written at commit); nothing when seen.
    pub fn record_seen(&mut self, att: &Attestation) {
        if self.memory.record_seen(att) {
            self.copies.push((att.digest().0, att.to_json()));
        }
    }

    /// Stages what a verified attestation establishes ([`por_core::identity::stage`]).
    pub fn stage(&mut self, att: &Attestation, choice: &crate::identity::KeyChoice) {
        crate::identity::stage(&mut self.memory, att, choice, &now());
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
        write(
            &self.dir.join("store.json"),
            self.memory.to_json().as_bytes(),
        )
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
        s.memory_mut().pin_genesis("Ex", None);
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
