//! `-` for standard input: a customer can pipe the proof the exchange sent
//! (`curl … | por-verify proof --proof - …`), and a second `-` in one command is refused by
//! name rather than read as an empty file.

use por_e2e::{bin, path_str, Exchange};
use std::io::Write;
use std::process::{Command, Stdio};

fn with_stdin(name: &str, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let store = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin(name))
        .args(args)
        .env("POR_VERIFY_STORE", store.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // A command that refuses early may close its input before reading it all.
    let _ = child.stdin.take().expect("stdin").write_all(input);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_proof_and_an_attestation_from_standard_input() {
    let ex = Exchange::build("user_id,BTC:8\nalice,5\nbob,7\n", &[]);
    let (att, proof) = (ex.attestation(), ex.proof("alice"));
    let proof_bytes = std::fs::read(&proof).unwrap();
    let args = |att: &str, proof: &str| {
        vec![
            "proof".to_string(),
            "--attestation".into(),
            att.into(),
            "--proof".into(),
            proof.into(),
            "--exchange-key".into(),
            ex.pubkey.clone(),
            "--user-id".into(),
            "alice".into(),
        ]
    };
    let a = args(path_str(&att), "-");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = with_stdin("por-verify", &a, &proof_bytes);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("VERIFIED"), "{out}");

    let a = args("-", path_str(&proof));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = with_stdin("por-verify", &a, &std::fs::read(&att).unwrap());
    assert_eq!(code, 0, "{out}{err}");

    // A tampered proof through standard input is still evidence (exit 1), not a read error.
    let tampered = String::from_utf8(proof_bytes.clone())
        .unwrap()
        .replacen("\"5", "\"4", 1);
    let a = args(path_str(&att), "-");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, _) = with_stdin("por-verify", &a, tampered.as_bytes());
    assert_ne!(code, 0);

    // Both from one standard input: the second is refused by name (exit 2).
    let a = args("-", "-");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = with_stdin("por-verify", &a, &std::fs::read(&att).unwrap());
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("standard input was already read"), "{err}");
}

#[test]
fn an_endless_standard_input_is_refused_not_read_whole() {
    let ex = Exchange::build("user_id,BTC:8\nalice,5\n", &[]);
    let att = ex.attestation();
    let a = [
        "proof",
        "--attestation",
        path_str(&att),
        "--proof",
        "-",
        "--exchange-key",
        &ex.pubkey,
        "--user-id",
        "alice",
    ];
    let (code, _, err) = with_stdin("por-verify", &a, &vec![b' '; 20 << 20]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("standard input: larger than"), "{err}");
}

#[test]
fn a_signing_key_from_standard_input() {
    // As from a secret manager: `vault read … | por-prove pubkey --key -`.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("exchange.key");
    let public = por_e2e::keygen(&key);
    let secret = std::fs::read(&key).unwrap();
    let (code, out, err) = with_stdin("por-prove", &["pubkey", "--key", "-"], &secret);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), public);
    let secret_text = String::from_utf8_lossy(&secret);
    assert!(!out.contains(secret_text.trim()) && !err.contains(secret_text.trim()));
}
