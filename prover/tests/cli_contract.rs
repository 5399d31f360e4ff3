//! The command-line contract of `por-prove`: keygen prints a 64-hex public key and never
//! overwrites a key; usage errors exit 2.

use std::process::Command;

fn por_prove(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_por-prove"))
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn keygen_prints_public_key_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    let k = key.to_str().unwrap();
    let (code, out, _) = por_prove(&["keygen", "--out", k]);
    assert_eq!(code, 0);
    let pk = out.trim();
    assert_eq!(pk.len(), 64);
    assert!(pk.bytes().all(|b| b.is_ascii_hexdigit()));
    let before = std::fs::read(&key).unwrap();
    let (code, _, err) = por_prove(&["keygen", "--out", k]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key must not change"
    );
    let (code, out, _) = por_prove(&["pubkey", "--key", k]);
    assert_eq!((code, out.trim()), (0, pk));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(por_prove(&[]).0, 2);
    assert_eq!(por_prove(&["build", "--out", "x"]).0, 2);
}
