//! `por-prove check`: the monthly export validated in one pass, every bad row reported,
//! nothing signed or written.

use por_e2e::{path_str, run};

#[test]
fn every_bad_row_is_reported_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("user_id,BTC:8,ETH:18\n");
    for i in 0..100 {
        // 25 bad rows among 100: five rows of id u1 (the first counts, the real u1 and three
        // more are repeats), ten with a letter for a number, ten with a missing column.
        match i % 4 {
            0 if i < 20 => csv.push_str("u1,1,1\n"),
            0 if i < 60 => csv.push_str(&format!("u{i},x,1\n")),
            0 => csv.push_str(&format!("u{i},1\n")),
            _ => csv.push_str(&format!("u{i},1.5,2\n")),
        }
    }
    let path = dir.path().join("export.csv");
    std::fs::write(&path, &csv).unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    let r = run("por-prove", &["check", "--liabilities", path_str(&path)]).expect(2);
    assert!(r.stdout.contains("Problems (25):"), "{}", r.stdout);
    assert!(r.stdout.contains("... and 5 more"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("line 3, field user_id: duplicate user id \"u1\" (first at line 2)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("line 22, field BTC (u20)"),
        "{}",
        r.stdout
    );
    // The 75 good rows' totals: 74 of 1.5 and the first u1's 1.
    assert!(r.stdout.contains("customers:     75"), "{}", r.stdout);
    assert!(r.stdout.contains("112.00000000"), "{}", r.stdout);
    assert!(r.stderr.contains("25 problem(s)"), "{}", r.stderr);
    let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(before.len(), after.len(), "check writes nothing");
    let v: serde_json::Value = serde_json::from_str(
        &run(
            "por-prove",
            &["check", "--liabilities", path_str(&path), "--json"],
        )
        .expect(2)
        .stdout,
    )
    .unwrap();
    assert_eq!(v["problem_count"], 25);
    assert_eq!(v["problems"].as_array().unwrap().len(), 20);
    assert_eq!(v["customers"], 75);
}

#[test]
fn a_clean_export_is_valid_and_matches_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, "user_id,BTC:8,XYZ:2\na,1.5,1\nb,2,3\n").unwrap();
    // An unbound asset is a problem, as build would refuse it, unless allowed.
    let r = run("por-prove", &["check", "--liabilities", path_str(&path)]).expect(2);
    assert!(r.stdout.contains("no binding for XYZ"), "{}", r.stdout);
    let r = run(
        "por-prove",
        &[
            "check",
            "--liabilities",
            path_str(&path),
            "--allow-unbound",
            "--json",
        ],
    )
    .expect(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["result"], "pass");
    assert_eq!(v["unbound_assets"], serde_json::json!(["XYZ"]));
    let key = dir.path().join("k");
    por_e2e::keygen(&key);
    let b = run(
        "por-prove",
        &[
            "build",
            "--liabilities",
            path_str(&path),
            "--key",
            path_str(&key),
            "--exchange",
            "X",
            "--period",
            "2026-11",
            "--snapshot-time",
            "2026-11-30T00:00:00Z",
            "--out",
            path_str(&dir.path().join("m")),
            "--allow-unbound",
            "--json",
        ],
    )
    .expect(0);
    let built: serde_json::Value = serde_json::from_str(&b.stdout).unwrap();
    for i in 0..2 {
        assert_eq!(v["totals"][i]["units"], built["liabilities"][i]["units"]);
    }
    assert_eq!(built["customers"], v["customers"]);
}
