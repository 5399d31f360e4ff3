//! Progress of `por-prove build` when stderr is not a terminal (cron, CI): timestamped lines,
//! JSON lines, or nothing.

use por_e2e::{keygen, path_str, run};

fn build(extra: &[&str]) -> por_e2e::Run {
    let t = tempfile::tempdir().unwrap();
    let csv = t.path().join("l.csv");
    let mut text = String::from("user_id,BTC:8\n");
    for i in 0..200 {
        text.push_str(&format!("u{i},1\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let key = t.path().join("k");
    keygen(&key);
    let out = t.path().join("m");
    let mut args = vec![
        "build",
        "--liabilities",
        path_str(&csv),
        "--key",
        path_str(&key),
        "--exchange",
        "X",
        "--period",
        "2026-11",
        "--snapshot-time",
        "2026-11-30T00:00:00Z",
        "--out",
        path_str(&out),
    ];
    args.extend_from_slice(extra);
    run("por-prove", &args).expect(0)
}

/// Not a terminal: one line when each phase starts and ends, each with its UTC time.
#[test]
fn unattended_builds_log_each_phase_with_its_time() {
    let r = build(&[]);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("por-prove: reading liabilities: started")),
        "{}",
        r.stderr
    );
    let done = lines
        .iter()
        .find(|l| l.contains("reading liabilities: done, 200 rows"))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    // 2026-12-03T23:20:01.940Z: a UTC time to the millisecond starts every line.
    for l in &lines {
        let t = l.split(' ').next().unwrap();
        assert!(
            t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{l}"
        );
    }
    assert!(done.contains(" in "), "{done}");
    assert!(
        lines.iter().any(|l| l.contains("building tree: done")),
        "{}",
        r.stderr
    );
}

/// `--progress json`: every stderr line is an event a log pipeline can read.
#[test]
fn progress_as_json_lines() {
    let r = build(&["--progress", "json"]);
    let events: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events
        .iter()
        .any(|e| e["phase"] == "reading liabilities" && e["event"] == "done" && e["done"] == 200));
    assert!(events.iter().all(|e| e["time"].is_string()));
}

/// `--progress none`: nothing on stderr.
#[test]
fn no_progress_when_asked() {
    let r = build(&["--progress", "none"]);
    assert_eq!(r.stderr, "");
}
