//! The command-line contract of `por-verify` that scripts rely on: usage errors exit 2 with a
//! message naming the problem, and nothing panics on hostile arguments.

use std::process::Command;

fn por_verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_por-verify"))
        .args(args)
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(por_verify(&[]).0, 2);
    assert_eq!(por_verify(&["no-such-command"]).0, 2);
    assert_eq!(por_verify(&["proof", "--attestation", "a.json"]).0, 2);
}

#[test]
fn malformed_key_exits_2_and_names_it() {
    let (code, text) = por_verify(&[
        "proof",
        "--attestation",
        "a.json",
        "--proof",
        "p.json",
        "--exchange-key",
        "zz",
        "--user-id",
        "u",
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("exchange key"), "{text}");
}

#[test]
fn missing_file_exits_2_and_names_it() {
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let (code, text) = por_verify(&[
        "proof",
        "--attestation",
        "no-such.json",
        "--proof",
        "p.json",
        "--exchange-key",
        key,
        "--user-id",
        "u",
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("no-such.json"), "{text}");
}
