//! Helpers for the end-to-end tests and the example: run the real `por-prove` and
//! `por-verify` binaries and set up an exchange's monthly output.
//!
//! The binaries are built by `cargo test` (the prover and verifier crates have integration
//! tests of their own, which makes cargo build their binaries); they sit next to the test
//! executable's `deps/` directory.

pub mod months;
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
        // POR_SHOW_OUTPUT=1 with --nocapture prints what each command showed its user.
        if std::env::var_os("POR_SHOW_OUTPUT").is_some() {
            eprintln!("--- exit {}\n{}{}", self.code, self.stdout, self.stderr);
        }
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the run's outcome code (spec/outcomes.md) and the exit status it fixes: from
    /// the `code` field of `--json` output (or a finding's, or a passed check's), else from the
    /// `[code] What this means` line the
    /// text output prints under a failure.
    #[track_caller]
    pub fn expect_code(self, name: &str) -> Run {
        let code = por_verifier::outcome::Code::ALL
            .iter()
            .find(|c| c.as_str() == name)
            .unwrap_or_else(|| panic!("{name} is not a code of spec/outcomes.md"));
        let r = self.expect(code.exit_code());
        let found = match serde_json::from_str::<serde_json::Value>(&r.stdout) {
            Ok(v) => {
                v["code"] == name
                    || ["findings", "checks"].iter().any(|k| {
                        v[*k].as_array().is_some_and(|f| {
                            f.iter().any(|f| {
                                f["code"] == name && (*k == "findings" || f["passed"] == true)
                            })
                        })
                    })
            }
            Err(_) => r.all().contains(&format!("[{name}] What this means")),
        };
        assert!(found, "expected code {name}:\n{}", r.all());
        r
    }

    /// Both streams together, for looking for a message.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `por-prove` or `por-verify` with `args` and no standard input. Each run gets an empty
/// store of its own (`POR_VERIFY_STORE`), so tests never touch the user's store nor each
/// other's; a test of the store itself passes `--store DIR`, which wins.
pub fn run<S: AsRef<std::ffi::OsStr>>(name: &str, args: &[S]) -> Run {
    let store = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin(name))
        .args(args)
        .env("POR_VERIFY_STORE", store.path())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `por-prove keygen` into `path`; returns the public key (hex).
pub fn keygen(path: &Path) -> String {
    run("por-prove", &["keygen", "--out", path_str(path)])
        .expect(0)
        .stdout
        .trim()
        .to_string()
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
        let mut args = vec!["--snapshot-time", "2026-11-30T23:59:59Z"];
        args.extend_from_slice(extra);
        Exchange::build_period(csv, "2026-11", &args)
    }

    /// Writes `csv`, generates a key and builds the current month with the snapshot time now
    /// (for checks against a real node, whose blocks are mined now), with extra arguments.
    pub fn build_now(csv: &str, extra: &[&str]) -> Exchange {
        let (now, _) = now_and_period();
        Exchange::build_at(csv, &now, extra)
    }

    /// Builds with the snapshot time `time` (UTC, as attestations write it), in its month.
    pub fn build_at(csv: &str, time: &str, extra: &[&str]) -> Exchange {
        let mut args = vec!["--snapshot-time", time];
        args.extend_from_slice(extra);
        Exchange::build_period(csv, &time[..7], &args)
    }

    /// Writes `csv`, generates a key and builds `period` with the given build arguments.
    pub fn build_period(csv: &str, period: &str, args: &[&str]) -> Exchange {
        let tmp = tempfile::tempdir().expect("tempdir");
        let key = tmp.path().join("exchange.key");
        let pubkey = keygen(&key);
        let liabilities = tmp.path().join("liabilities.csv");
        std::fs::write(&liabilities, csv).expect("write csv");
        let out = tmp.path().join("out");
        build_month(&liabilities, &key, "Test Exchange", period, &out, args).expect(0);
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
        let mut args = vec!["--snapshot-time", "2026-11-30T23:59:59Z"];
        args.extend_from_slice(extra);
        build_month(&self.liabilities, &self.key, "X", "2026-11", out, &args)
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

    /// Writes `entries` as a reserves entries file and runs `por-prove reserves add` with extra
    /// arguments (a registry, say).
    pub fn add_reserves_with(&self, entries: &[serde_json::Value], extra: &[&str]) -> Run {
        let file = self.path("entries.json");
        write_json(&file, &serde_json::json!({"entries": entries}));
        let mut args = vec![
            "reserves",
            "add",
            "--out",
            path_str(&self.out),
            "--reserves",
            path_str(&file),
            "--key",
            path_str(&self.key),
        ];
        args.extend_from_slice(extra);
        run("por-prove", &args)
    }

    /// `add_reserves_with` without extra arguments.
    pub fn add_reserves(&self, entries: &[serde_json::Value]) -> Run {
        self.add_reserves_with(entries, &[])
    }

    /// The latest reserves statement `reserves add` wrote.
    pub fn reserves(&self) -> PathBuf {
        self.out.join("reserves.json")
    }

    /// The exchange's signing key, for tests that sign as a dishonest exchange would.
    pub fn signing_key(&self) -> ed25519_dalek::SigningKey {
        let text = std::fs::read_to_string(&self.key).expect("key file");
        let seed = por_verifier::hash::parse_hex32(text.trim()).expect("key hex");
        ed25519_dalek::SigningKey::from_bytes(&seed)
    }

    /// Signs a reserves statement with `entries` for `attestation` directly with the exchange's
    /// key, without any of `por-prove`'s checks, and writes it: what a dishonest exchange
    /// publishes.
    pub fn forge_reserves_for(&self, attestation: &Path, entries: &[serde_json::Value]) -> PathBuf {
        use ed25519_dalek::Signer;
        let att = por_verifier::Attestation::read(attestation).expect("attestation");
        let key = self.signing_key();
        let mut stmt = por_verifier::reserves::ReservesStatement {
            exchange: att.exchange.clone(),
            period: att.period.clone(),
            attestation: att.digest(),
            sequence: 1,
            entries: serde_json::from_value(serde_json::Value::Array(entries.to_vec()))
                .expect("entries"),
            public_key: key.verifying_key().to_bytes(),
            signature: [0; 64],
        };
        stmt.signature = key.sign(&stmt.signing_message()).to_bytes();
        let n = std::fs::read_dir(self.tmp.path())
            .map(|d| d.count())
            .unwrap_or(0);
        let path = self.path(&format!("forged-reserves-{n}.json"));
        std::fs::write(&path, stmt.to_json()).expect("write");
        path
    }

    /// `forge_reserves_for` this exchange's attestation.
    pub fn forge_reserves(&self, entries: &[serde_json::Value]) -> PathBuf {
        self.forge_reserves_for(&self.attestation(), entries)
    }

    /// Edits the attestation and re-signs it with the exchange's key (no checks), writing it
    /// beside the original: a dishonest exchange's attestation.
    pub fn forge_attestation(&self, edit: impl Fn(&mut por_verifier::Attestation)) -> PathBuf {
        use ed25519_dalek::Signer;
        let mut att = por_verifier::Attestation::read(&self.attestation()).expect("attestation");
        edit(&mut att);
        let key = self.signing_key();
        att.public_key = key.verifying_key().to_bytes();
        att.signature = key.sign(&att.signing_message()).to_bytes();
        let n = std::fs::read_dir(self.tmp.path())
            .map(|d| d.count())
            .unwrap_or(0);
        let path = self.path(&format!("forged-attestation-{n}.json"));
        std::fs::write(&path, att.to_json()).expect("write");
        path
    }

    /// Runs `por-verify reserves` on an attestation and statement, with extra arguments.
    pub fn verify_reserves_of(&self, attestation: &Path, reserves: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "reserves",
            "--attestation",
            path_str(attestation),
            "--reserves",
            path_str(reserves),
            "--exchange-key",
            &self.pubkey,
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }

    /// `por-verify reserves` on this exchange's attestation and the given statement.
    pub fn verify_reserves(&self, reserves: &Path, extra: &[&str]) -> Run {
        self.verify_reserves_of(&self.attestation(), reserves, extra)
    }

    /// Runs `por-verify proof` for `user` with extra arguments (`--reserves`, nodes…).
    pub fn verify_with(&self, attestation: &Path, proof: &Path, user: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "proof",
            "--attestation",
            path_str(attestation),
            "--proof",
            path_str(proof),
            "--exchange-key",
            &self.pubkey,
            "--user-id",
            user,
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    }
}

/// The rows of a public vector file of tests/vectors/chains (copied from ../shared/vectors).
pub fn chain_vectors(name: &str) -> Vec<serde_json::Value> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/chains")
        .join(name);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).expect("vectors")).expect("json");
    v.as_array().expect("a list").clone()
}

/// `por-verify signature --chain CHAIN --address A --message M --signature S`.
pub fn check_signature(chain: &str, address: &str, message: &str, signature: &str) -> Run {
    run(
        "por-verify",
        &[
            "signature",
            "--chain",
            chain,
            "--address",
            address,
            "--message",
            message,
            "--signature",
            signature,
        ],
    )
}

/// The challenge every reserve address on `chain` signs at `height` for the attestation at
/// `attestation` (which may be one the test forged).
pub fn challenge_of(attestation: &Path, chain: &str, height: u64) -> String {
    let a = por_verifier::Attestation::read(attestation).expect("attestation");
    let chain = por_verifier::chains::Chain::parse(chain).expect("chain");
    por_verifier::reserves::challenge(&a.exchange, &a.period, &chain, height, &a.digest())
}

/// The current time as the attestation writes it, and its period: tests against a real node
/// need a snapshot time near the node's block times.
pub fn now_and_period() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let t = por_verifier::time::format_utc(secs);
    let period = t[..7].to_string();
    (t, period)
}

/// Writes a registry file (`por-registry-v1`) with `entries` and returns its path.
pub fn write_registry(dir: &Path, name: &str, entries: &[serde_json::Value]) -> PathBuf {
    let p = dir.join(name);
    write_json(
        &p,
        &serde_json::json!({"format": "por-registry-v1", "entries": entries}),
    );
    p
}
