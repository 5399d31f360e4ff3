//! `por-prove publish`: exactly the public files of a month, checked first, in one rename.

use por_e2e::{build_month, keygen, path_str, run};
use std::path::Path;

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walk(dir) {
        out.push(e.strip_prefix(dir).unwrap().display().to_string());
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn only_public_checked_files_are_published() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let key = d.join("k");
    let pubkey = keygen(&key);
    let csv = d.join("l.csv");
    std::fs::write(&csv, "user_id,BTC:8\nalice,1\nbob,2\n").unwrap();
    let hist = d.join("history.json");
    for (p, time) in [
        ("2026-10", "2026-10-31T12:00:00Z"),
        ("2026-11", "2026-11-30T12:00:00Z"),
    ] {
        build_month(
            &csv,
            &key,
            "Pub Exchange",
            p,
            &d.join(p),
            &["--snapshot-time", time, "--history", path_str(&hist)],
        )
        .expect(0);
    }
    let pub_dir = d.join("www");
    for p in ["2026-10", "2026-11"] {
        let r = run(
            "por-prove",
            &[
                "publish",
                "--from",
                path_str(&d.join(p)),
                "--to",
                path_str(&pub_dir),
                "--history",
                path_str(&hist),
            ],
        )
        .expect(0);
        assert!(r.stdout.contains("fingerprint"), "{}", r.stdout);
    }
    assert_eq!(
        files_under(&pub_dir),
        [
            "2026-10/attestation.json",
            "2026-11/attestation.json",
            "history.json"
        ]
    );
    // What customers and mirrors read is complete: every document the history lists is found
    // (the only thing unchecked is that this test history has no genesis).
    let r = run(
        "por-verify",
        &[
            "history",
            "--history",
            path_str(&pub_dir.join("history.json")),
            "--exchange-key",
            &pubkey,
            "--no-store",
        ],
    )
    .expect_code("check.incomplete");
    assert!(!r.stdout.contains("not published beside"), "{}", r.stdout);
    // A month already published is not replaced without --force.
    let nov = d.join("2026-11");
    let again = [
        "publish",
        "--from",
        path_str(&nov),
        "--to",
        path_str(&pub_dir),
    ];
    run("por-prove", &again).expect(2);
    let mut forced = again.to_vec();
    forced.push("--force");
    run("por-prove", &forced).expect(0);

    // An attestation altered after signing is refused, and nothing of it appears.
    let broken = d.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let text = std::fs::read_to_string(d.join("2026-11/attestation.json")).unwrap();
    let text = text.replace("\"period\": \"2026-11\"", "\"period\": \"2026-12\"");
    let text = text.replace("\"period\":\"2026-11\"", "\"period\":\"2026-12\"");
    std::fs::write(broken.join("attestation.json"), text).unwrap();
    let r = run(
        "por-prove",
        &[
            "publish",
            "--from",
            path_str(&broken),
            "--to",
            path_str(&pub_dir),
        ],
    )
    .expect(1);
    assert!(r.stderr.contains("signature"), "{}", r.stderr);
    assert!(!pub_dir.join("2026-12").exists());

    // A month the history does not list: customers would see it missing, so it is refused.
    build_month(
        &csv,
        &key,
        "Pub Exchange",
        "2026-12",
        &d.join("2026-12"),
        &["--snapshot-time", "2026-12-31T12:00:00Z"],
    )
    .expect(0);
    let r = run(
        "por-prove",
        &[
            "publish",
            "--from",
            path_str(&d.join("2026-12")),
            "--to",
            path_str(&pub_dir),
            "--history",
            path_str(&hist),
        ],
    )
    .expect(1);
    assert!(
        r.stderr.contains("not in the published history"),
        "{}",
        r.stderr
    );
    assert!(!pub_dir.join("2026-12").exists());
}
