//! Ctrl-C during a build removes the staging directory (salts, the spilled ledger) before the
//! process exits with 130, instead of leaving it until the next run.

use por_e2e::{bin, keygen, path_str, run};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.tmp-"))
        .collect()
}

#[test]
fn an_interrupted_build_leaves_no_private_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("liabilities.csv");
    run(
        "por-prove",
        &[
            "example-data",
            "--users",
            "300000",
            "--assets",
            "4",
            "--out",
            path_str(&csv),
        ],
    )
    .expect(0);
    let key = dir.path().join("exchange.key");
    keygen(&key);
    let out = dir.path().join("out");
    let mut child = Command::new(bin("por-prove"))
        .args([
            "build",
            "--liabilities",
            path_str(&csv),
            "--key",
            path_str(&key),
        ])
        .args([
            "--exchange",
            "X",
            "--period",
            "2026-11",
            "--out",
            path_str(&out),
        ])
        .args(["--snapshot-time", "2026-11-30T23:59:59Z"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once the stage holds private data.
    let start = Instant::now();
    let stage = loop {
        if let Some(n) = leftovers(dir.path()).first() {
            let p = dir.path().join(n).join("private");
            if p.exists() {
                break p;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no staging directory appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the build ended before it was interrupted"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: removed"), "{err}");
    assert!(!stage.exists(), "{} is still there", stage.display());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(!out.exists(), "no output after an interrupt");
}
