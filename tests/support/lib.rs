//! Helpers for the end-to-end tests and the example: run the real `por-prove` and
//! `por-verify` binaries and set up an exchange's monthly output.
//!
//! The binaries are built by `cargo test` (the prover and verifier crates have integration
//! tests of their own, which makes cargo build their binaries); they sit next to the test
//! executable's `deps/` directory.

pub mod nodes;
pub mod signers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The path of one of the workspace's binaries, in the profile the tests were built with.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; run `cargo test` from the workspace root",
        path.display()
    );
    path
}

/// The outcome of one command.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output if it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Both streams together, for looking for a message.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `por-prove` or `por-verify` with `args` and no standard input.
pub fn run<S: AsRef<std::ffi::OsStr>>(name: &str, args: &[S]) -> Run {
    let out = Command::new(bin(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `por-prove build` for one month, with extra arguments.
pub fn build_month(
    liabilities: &Path,
    key: &Path,
    exchange: &str,
    period: &str,
    out: &Path,
    extra: &[&str],
) -> Run {
    let mut args = vec![
        "build",
        "--liabilities",
        path_str(liabilities),
        "--key",
        path_str(key),
        "--exchange",
        exchange,
        "--period",
        period,
        "--out",
        path_str(out),
    ];
    args.extend_from_slice(extra);
    run("por-prove", &args)
}

/// An exchange with a key and a built month, in a temporary directory.
pub struct Exchange {
    /// The temporary directory holding everything.
    pub tmp: tempfile::TempDir,
    /// The secret key file.
    pub key: PathBuf,
    /// The public key, hex.
    pub pubkey: String,
    /// The build's output directory.
    pub out: PathBuf,
    /// The liabilities file the month was built from.
    pub liabilities: PathBuf,
}

impl Exchange {
    /// Writes `csv`, generates a key and builds with the given extra build arguments.
    pub fn build(csv: &str, extra: &[&str]) -> Exchange {
        let tmp = tempfile::tempdir().expect("tempdir");
        let key = tmp.path().join("exchange.key");
        let pubkey = run("por-prove", &["keygen", "--out", path_str(&key)])
            .expect(0)
            .stdout
            .trim()
            .to_string();
        let liabilities = tmp.path().join("liabilities.csv");
        std::fs::write(&liabilities, csv).expect("write csv");
        let out = tmp.path().join("out");
        let mut args = vec!["--snapshot-time", "2026-11-30T23:59:59Z"];
        args.extend_from_slice(extra);
        build_month(&liabilities, &key, "Test Exchange", "2026-11", &out, &args).expect(0);
        Exchange {
            tmp,
            key,
            pubkey,
            out,
            liabilities,
        }
    }

    /// Runs `build` again on this exchange's export and key, into `out`, with extra arguments.
    pub fn rebuild(&self, out: &Path, extra: &[&str]) -> Run {
        build_month(&self.liabilities, &self.key, "X", "2026-11", out, extra)
    }

    /// The public attestation's path.
    pub fn attestation(&self) -> PathBuf {
        self.out.join("attestation.json")
    }

    /// Writes `user`'s proof to a file and returns its path.
    pub fn proof(&self, user: &str) -> PathBuf {
        let r = run(
            "por-prove",
            &["proof", "--from", path_str(&self.out), "--user", user],
        )
        .expect(0);
        let p = self.tmp.path().join(format!("proof-{user}.json"));
        std::fs::write(&p, r.stdout).expect("write proof");
        p
    }

    /// Runs `por-verify proof` on an attestation and proof file for `user`.
    pub fn verify(&self, attestation: &Path, proof: &Path, user: &str) -> Run {
        run(
            "por-verify",
            &[
                "proof",
                "--attestation",
                path_str(attestation),
                "--proof",
                path_str(proof),
                "--exchange-key",
                &self.pubkey,
                "--user-id",
                user,
            ],
        )
    }

    /// Runs `por-verify audit` with extra arguments.
    pub fn audit(&self, attestation: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "audit",
            "--attestation",
            path_str(attestation),
            "--data",
            path_str(&self.out),
            "--exchange-key",
            &self.pubkey,
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// A path as `&str` (test paths are always UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Reads a JSON file.
pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
}

/// Writes a JSON value as a file.
pub fn write_json(p: &Path, v: &serde_json::Value) {
    std::fs::write(p, serde_json::to_vec_pretty(v).expect("serialise")).expect("write");
}

impl Exchange {
    /// The challenge for `chain` and `height`, as `por-prove reserves challenge` writes it.
    pub fn challenge(&self, chain: &str, height: u64) -> String {
        let out = self.path(&format!("challenge-{chain}-{height}.txt"));
        let h = height.to_string();
        run(
            "por-prove",
            &[
                "reserves",
                "challenge",
                "--attestation",
                path_str(&self.attestation()),
                "--chain",
                chain,
                "--height",
                &h,
                "--out",
                path_str(&out),
            ],
        )
        .expect(0);
        std::fs::read_to_string(out).expect("challenge file")
    }

    /// Writes a reserves file with `entries` and runs `por-prove reserves add`.
    pub fn add_reserves(&self, entries: &[serde_json::Value]) -> Run {
        let file = self.path("reserves.json");
        write_json(
            &file,
            &serde_json::json!({"format": "por-reserves-v1", "entries": entries}),
        );
        run(
            "por-prove",
            &[
                "reserves",
                "add",
                "--out",
                path_str(&self.out),
                "--reserves",
                path_str(&file),
                "--key",
                path_str(&self.key),
            ],
        )
    }

    /// Runs `por-verify reserves` with extra arguments.
    pub fn verify_reserves(&self, attestation: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "reserves",
            "--attestation",
            path_str(attestation),
            "--exchange-key",
            &self.pubkey,
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }
}
