//! The exchange's key where exchanges keep it: in a PKCS#11 token (SoftHSM here, the same
//! API as a hardware HSM), or in a passphrase-encrypted key file. Through the real binaries:
//! the key is made inside the token and cannot be read out, months are signed by it and
//! customers verify them, a file key hands over to a token key, and wrong PINs, missing PINs,
//! a PIN on the command line and a taken label are refused with exit 2 and nothing written.
//!
//! SoftHSM comes from `POR_SOFTHSM_MODULE` or the Debian path; without it these tests are
//! ignored with the reason (build.rs), except in CI, where a missing SoftHSM fails them.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use por_e2e::months::Months;
use por_e2e::{bin, path_str, write_json, Run};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const PIN: &str = "80125577";
const CSV: &str = "user_id,BTC:8\nalice,5\nbob,7\n";

fn module() -> PathBuf {
    if let Some(m) = std::env::var_os("POR_SOFTHSM_MODULE") {
        return PathBuf::from(m);
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("SoftHSM not found: install softhsm2 or set POR_SOFTHSM_MODULE (see .ci/run)")
}

/// A SoftHSM with one fresh token labelled `por`, in a directory of its own.
struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
    module: PathBuf,
}

impl Token {
    fn new() -> Token {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let t = Token {
            dir,
            conf,
            module: module(),
        };
        let out = Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                "por",
                "--pin",
                PIN,
                "--so-pin",
                "11223344",
            ])
            .env("SOFTHSM2_CONF", &t.conf)
            .output()
            .expect("softhsm2-util (Debian package softhsm2)");
        assert!(out.status.success(), "{out:?}");
        t
    }

    fn uri(&self, key: &str) -> String {
        format!(
            "pkcs11:module={};token=por;key={key}",
            self.module.display()
        )
    }

    fn pin_file(&self, pin: &str) -> PathBuf {
        let p = self.dir.path().join(format!("pin-{pin}"));
        std::fs::write(&p, format!("{pin}\n")).unwrap();
        p
    }

    /// Runs a binary with this token's configuration and no PIN in the environment.
    fn run(&self, name: &str, args: &[&str]) -> Run {
        let store = tempfile::tempdir().unwrap();
        let out = Command::new(bin(name))
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .env("POR_VERIFY_STORE", store.path())
            .env_remove("POR_PKCS11_PIN")
            .env_remove("POR_KEY_PASSPHRASE")
            .env_remove("POR_PKCS11_MODULE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn keygen(&self, key: &str) -> String {
        let pin = self.pin_file(PIN);
        let uri = self.uri(key);
        let r = self
            .run(
                "por-prove",
                &["keygen", "--signer", &uri, "--pin-file", path_str(&pin)],
            )
            .expect(0);
        r.stdout.trim().to_string()
    }

    /// The attributes of the key's private half, read through the PKCS#11 API itself.
    fn private_key_attributes(&self, key: &str) -> (bool, bool, bool) {
        std::env::set_var("SOFTHSM2_CONF", &self.conf);
        let ctx = Pkcs11::new(&self.module).unwrap();
        let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
        let slot = ctx
            .get_slots_with_initialized_token()
            .unwrap()
            .into_iter()
            .find(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == "por")
            .unwrap();
        let s = ctx.open_ro_session(slot).unwrap();
        s.login(UserType::User, Some(&AuthPin::new(PIN.into())))
            .unwrap();
        let found = s
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(key.as_bytes().to_vec()),
            ])
            .unwrap();
        assert_eq!(found.len(), 1);
        let attrs = s
            .get_attributes(
                found[0],
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Token,
                ],
            )
            .unwrap();
        let mut v = (false, true, false);
        for a in attrs {
            match a {
                Attribute::Sensitive(b) => v.0 = b,
                Attribute::Extractable(b) => v.1 = b,
                Attribute::Token(b) => v.2 = b,
                _ => {}
            }
        }
        v
    }
}

fn build_args<'a>(m: &'a Months, dir: &'a str, extra: &[&'a str]) -> Vec<String> {
    let l = m.path(&format!("{dir}.csv"));
    std::fs::write(&l, CSV).unwrap();
    let mut a: Vec<String> = [
        "build",
        "--liabilities",
        path_str(&l),
        "--exchange",
        "Chain Exchange",
        "--period",
        dir,
        "--out",
        path_str(&m.path(dir)),
        "--snapshot-time",
        &format!("{dir}-15T12:00:00Z"),
        "--history",
        path_str(&m.history()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The monthly job with its key in a token: generated inside it (sensitive, not extractable),
/// handed over to from the old key file, months signed through it, and a customer's store
/// following the handover to the token's key.
#[test]
#[cfg_attr(
    no_softhsm,
    ignore = "needs SoftHSM: apt install softhsm2 (see .ci/run)"
)]
fn a_key_in_a_token_signs_the_months_customers_verify() {
    let t = Token::new();
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let hsm_pub = t.keygen("attest");
    assert_eq!(hsm_pub.len(), 64, "{hsm_pub}");
    assert_eq!(
        t.private_key_attributes("attest"),
        (true, false, true),
        "the private key must be sensitive, not extractable, and stored on the token"
    );
    let uri = t.uri("attest");
    let pin = t.pin_file(PIN);
    let r = t
        .run(
            "por-prove",
            &["pubkey", "--signer", &uri, "--pin-file", path_str(&pin)],
        )
        .expect(0);
    assert_eq!(r.stdout.trim(), hsm_pub);

    // The old key file hands over to the token's key.
    let rot = m.path("rotation.json");
    t.run(
        "por-prove",
        &[
            "rotate-key",
            "--old-key",
            path_str(&m.key),
            "--new-signer",
            &uri,
            "--pin-file",
            path_str(&pin),
            "--exchange",
            "Chain Exchange",
            "--period",
            "2026-11",
            "--out",
            path_str(&rot),
        ],
    )
    .expect(0);
    let args = build_args(
        &m,
        "2026-11",
        &[
            "--signer",
            &uri,
            "--pin-file",
            path_str(&pin),
            "--rotation",
            path_str(&rot),
        ],
    );
    t.run("por-prove", &strs(&args)).expect(0);
    let att: serde_json::Value =
        serde_json::from_slice(&std::fs::read(m.attestation("2026-11")).unwrap()).unwrap();
    assert_eq!(att["public_key"], hsm_pub.as_str());

    // The token also signs the month's reserves statement.
    let entries = m.path("entries.json");
    write_json(&entries, &json!({"entries": []}));
    t.run(
        "por-prove",
        &[
            "reserves",
            "add",
            "--out",
            path_str(&m.path("2026-11")),
            "--reserves",
            path_str(&entries),
            "--signer",
            &uri,
            "--pin-file",
            path_str(&pin),
            "--history",
            path_str(&m.history()),
        ],
    )
    .expect(0);

    // A customer who pinned the old key follows the handover; the history verifies.
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    m.customer(&store, "2026-11", "alice", None, &[]).expect(0);
    m.customer(&m.path("fresh"), "2026-11", "alice", Some(&hsm_pub), &[])
        .expect(0);
    // (Exit 3 only because this history names no genesis anchor: nothing failed.)
    let r = m
        .verify_history(&m.history(), &[])
        .expect_code("check.incomplete");
    assert!(
        r.stdout
            .contains(&format!("key rotated from {} to {hsm_pub}", m.pubkey)),
        "{}",
        r.stdout
    );

    // Nothing the job published holds the PIN.
    for f in [
        "2026-11/attestation.json",
        "history.json",
        "2026-11/reserves.json",
    ] {
        let text = std::fs::read_to_string(m.path(f)).unwrap();
        assert!(!text.contains(PIN), "{f} holds the PIN");
    }
}

/// A wrong PIN, no PIN (cron, no terminal), a PIN in the URI, an unknown token or key and a
/// taken label: each refused with exit 2, a message naming what to fix, and no output.
#[test]
#[cfg_attr(
    no_softhsm,
    ignore = "needs SoftHSM: apt install softhsm2 (see .ci/run)"
)]
fn token_mistakes_are_refused_before_anything_is_written() {
    let t = Token::new();
    let m = Months::new();
    let first = t.keygen("attest");
    let uri = t.uri("attest");

    let wrong = t.pin_file("00000000");
    let args = build_args(
        &m,
        "2026-11",
        &["--signer", &uri, "--pin-file", path_str(&wrong)],
    );
    let r = t.run("por-prove", &strs(&args)).expect(2);
    assert!(r.stderr.contains("wrong PIN"), "{}", r.stderr);
    assert!(
        !r.all().contains("00000000"),
        "the PIN was echoed: {}",
        r.all()
    );
    assert!(!m.path("2026-11").exists(), "output left after a wrong PIN");

    let args = build_args(&m, "2026-11", &["--signer", &uri]);
    let r = t.run("por-prove", &strs(&args)).expect(2);
    assert!(
        r.stderr.contains("--pin-file") && r.stderr.contains("POR_PKCS11_PIN"),
        "{}",
        r.stderr
    );
    assert!(!m.path("2026-11").exists());

    let with_pin = format!("{uri};pin-value={PIN}");
    let args = build_args(&m, "2026-11", &["--signer", &with_pin]);
    let r = t.run("por-prove", &strs(&args)).expect(2);
    assert!(
        r.stderr.contains("does not belong on the command line"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(PIN), "{}", r.all());

    let pin = t.pin_file(PIN);
    let other_token = uri.replace("token=por", "token=nope");
    let r = t
        .run(
            "por-prove",
            &[
                "pubkey",
                "--signer",
                &other_token,
                "--pin-file",
                path_str(&pin),
            ],
        )
        .expect(2);
    assert!(
        r.stderr.contains("no token labelled \"nope\"") && r.stderr.contains("\"por\""),
        "{}",
        r.stderr
    );
    let r = t
        .run(
            "por-prove",
            &[
                "pubkey",
                "--signer",
                &t.uri("other"),
                "--pin-file",
                path_str(&pin),
            ],
        )
        .expect(2);
    assert!(
        r.stderr.contains("no private key with this label"),
        "{}",
        r.stderr
    );

    // A label in use is never replaced: the first key still signs.
    let r = t
        .run(
            "por-prove",
            &["keygen", "--signer", &uri, "--pin-file", path_str(&pin)],
        )
        .expect(2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let r = t
        .run(
            "por-prove",
            &["pubkey", "--signer", &uri, "--pin-file", path_str(&pin)],
        )
        .expect(0);
    assert_eq!(r.stdout.trim(), first);
}

/// A key file encrypted under a passphrase: the disk holds no key, the build signs with the
/// passphrase from a file, and a wrong or missing passphrase is refused with nothing written.
#[test]
fn an_encrypted_key_file_signs_only_with_its_passphrase() {
    let t = tempfile::tempdir().unwrap();
    let key = t.path().join("exchange.key.age");
    let pass = t.path().join("passphrase");
    std::fs::write(&pass, "a long passphrase for the monthly job\n").unwrap();
    let r = run_plain(&[
        "keygen",
        "--out",
        path_str(&key),
        "--encrypt",
        "--passphrase-file",
        path_str(&pass),
    ])
    .expect(0);
    let public = r.stdout.trim().to_string();
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(
        text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "not an armored age file: {text}"
    );
    assert!(!text.contains("passphrase"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // An ordinary age file: the age library alone opens it and finds the plain key file.
    let d = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(text.as_bytes())).unwrap();
    let id = age::scrypt::Identity::new("a long passphrase for the monthly job".to_string().into());
    let mut plain = String::new();
    std::io::Read::read_to_string(
        &mut d
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .unwrap(),
        &mut plain,
    )
    .unwrap();
    let seed: [u8; 32] = hex::decode(plain.trim()).unwrap().try_into().unwrap();
    let from_age = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    assert_eq!(hex::encode(from_age.to_bytes()), public);

    let csv = t.path().join("l.csv");
    std::fs::write(&csv, CSV).unwrap();
    let out = t.path().join("out");
    let build = |extra: &[&str]| {
        let mut a = vec![
            "build",
            "--liabilities",
            path_str(&csv),
            "--key",
            path_str(&key),
            "--exchange",
            "Test Exchange",
            "--period",
            "2026-11",
            "--snapshot-time",
            "2026-11-30T23:59:59Z",
            "--out",
            path_str(&out),
        ];
        a.extend_from_slice(extra);
        run_plain(&a)
    };
    let r = build(&[]).expect(2);
    assert!(
        r.stderr.contains("--passphrase-file") && r.stderr.contains("POR_KEY_PASSPHRASE"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    let wrong = t.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let r = build(&["--passphrase-file", path_str(&wrong)]).expect(2);
    assert!(r.stderr.contains("wrong passphrase"), "{}", r.stderr);
    assert!(!r.all().contains("not it"), "{}", r.all());
    assert!(!out.exists());

    build(&["--passphrase-file", path_str(&pass)]).expect(0);
    let att: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("attestation.json")).unwrap()).unwrap();
    assert_eq!(att["public_key"], public.as_str());
    let r = run_plain(&[
        "pubkey",
        "--key",
        path_str(&key),
        "--passphrase-file",
        path_str(&pass),
    ])
    .expect(0);
    assert_eq!(r.stdout.trim(), public);
}

fn run_plain(args: &[&str]) -> Run {
    let out = Command::new(bin("por-prove"))
        .args(args)
        .env_remove("POR_KEY_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
