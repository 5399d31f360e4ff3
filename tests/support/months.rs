//! An exchange publishing month after month into one directory with its `history.json`.

use crate::{path_str, run, write_json, Run};
use serde_json::json;
use std::path::{Path, PathBuf};

/// An exchange publishing month after month into one directory with its history.json.
pub struct Months {
    /// The directory of everything published (and the keys).
    pub tmp: tempfile::TempDir,
    /// The exchange's key file.
    pub key: PathBuf,
    /// Its public key, hex.
    pub pubkey: String,
}

impl Default for Months {
    fn default() -> Self {
        Months::new()
    }
}

impl Months {
    /// A new exchange with a fresh key.
    pub fn new() -> Months {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("exchange.key");
        let pubkey = crate::keygen(&key);
        Months { tmp, key, pubkey }
    }

    /// A path in the published directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// The published `history.json`.
    pub fn history(&self) -> PathBuf {
        self.path("history.json")
    }

    /// Builds `period` from `csv` with `key` and the history, into `DIR/dir`.
    pub fn build_in(&self, dir: &str, period: &str, csv: &str, key: &Path, extra: &[&str]) -> Run {
        let l = self.path(&format!("{dir}.csv"));
        std::fs::write(&l, csv).unwrap();
        let out = self.path(dir);
        let time = format!("{period}-15T12:00:00Z");
        let history = self.history();
        let mut args = vec![
            "build",
            "--liabilities",
            path_str(&l),
            "--key",
            path_str(key),
            "--exchange",
            "Chain Exchange",
            "--period",
            period,
            "--out",
            path_str(&out),
            "--snapshot-time",
            &time,
            "--history",
            path_str(&history),
        ];
        args.extend_from_slice(extra);
        run("por-prove", &args)
    }

    /// Builds `period` into `DIR/period` with the exchange's key.
    pub fn build(&self, period: &str, csv: &str) -> Run {
        self.build_in(period, period, csv, &self.key, &[])
    }

    /// The attestation of the month built into `DIR/dir`.
    pub fn attestation(&self, dir: &str) -> PathBuf {
        self.path(dir).join("attestation.json")
    }

    /// Writes `user`'s proof of the month in `DIR/dir` and returns its path.
    pub fn proof(&self, dir: &str, user: &str) -> PathBuf {
        let p = self.path(&format!("proof-{dir}-{user}.json"));
        run(
            "por-prove",
            &[
                "proof",
                "--from",
                path_str(&self.path(dir)),
                "--user",
                user,
                "--out",
                path_str(&p),
            ],
        )
        .expect(0);
        p
    }

    /// Signs an empty reserves statement for the month in `DIR/dir`, into the history.
    pub fn empty_reserves(&self, dir: &str) -> Run {
        let f = self.path("entries.json");
        write_json(&f, &json!({"entries": []}));
        run(
            "por-prove",
            &[
                "reserves",
                "add",
                "--out",
                path_str(&self.path(dir)),
                "--reserves",
                path_str(&f),
                "--key",
                path_str(&self.key),
                "--history",
                path_str(&self.history()),
            ],
        )
    }

    /// `por-verify history` with the exchange's key and no store.
    pub fn verify_history(&self, history: &Path, extra: &[&str]) -> Run {
        self.verify_history_as(history, &self.pubkey, extra)
    }

    /// `por-verify history` with another key.
    pub fn verify_history_as(&self, history: &Path, key: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "history",
            "--history",
            path_str(history),
            "--exchange-key",
            key,
            "--no-store",
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }

    /// `por-verify proof` as a customer with a store of their own.
    pub fn customer(
        &self,
        store: &Path,
        dir: &str,
        user: &str,
        key: Option<&str>,
        extra: &[&str],
    ) -> Run {
        let att = self.attestation(dir);
        let proof = self.proof(dir, user);
        let mut args = vec![
            "proof",
            "--attestation",
            path_str(&att),
            "--proof",
            path_str(&proof),
            "--user-id",
            user,
            "--store",
            path_str(store),
        ];
        if let Some(k) = key {
            args.extend_from_slice(&["--exchange-key", k]);
        }
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }

    /// Writes the handover of the exchange from its key to `new_key` for `period`
    /// (`por-prove rotate-key`) and returns the file.
    pub fn rotation(&self, new_key: &Path, period: &str) -> PathBuf {
        let out = self.path(&format!("rotation-{period}.json"));
        run(
            "por-prove",
            &[
                "rotate-key",
                "--old-key",
                path_str(&self.key),
                "--new-key",
                path_str(new_key),
                "--exchange",
                "Chain Exchange",
                "--period",
                period,
                "--out",
                path_str(&out),
            ],
        )
        .expect(0);
        out
    }
}
