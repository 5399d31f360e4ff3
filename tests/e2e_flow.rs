//! The monthly flow through the real binaries, and every kind of bad input to `build`.

use por_e2e::{build_month, path_str, read_json, run, Exchange};
use por_verifier::Attestation;

/// A small export: 20 customers, 3 assets, some zero balances, one 18-decimal amount.
fn csv() -> String {
    let mut s = String::from("user_id,BTC:8,ETH:18,USDT:6\n");
    for i in 0..20u32 {
        s.push_str(&format!(
            "user-{i},{}.{:08},{},{}.5\n",
            i % 3,
            i * 7,
            if i % 4 == 0 {
                "0"
            } else {
                "1.000000000000000001"
            },
            i * 100
        ));
    }
    s
}

#[test]
fn build_proof_verify_audit() {
    let ex = Exchange::build(&csv(), &[]);
    let att = read_json(&ex.attestation());
    assert_eq!(att["format"], "por-attestation-v3");
    assert_eq!(att["tree_height"], 32);
    assert_eq!(att["public_key"], ex.pubkey.as_str());
    // BTC total: sum of (i%3) + i*7e-8 over 20 customers.
    let btc: u128 = (0..20u128).map(|i| (i % 3) * 100_000_000 + i * 7).sum();
    assert_eq!(att["liabilities"][0], btc.to_string());

    for user in ["user-0", "user-7", "user-19"] {
        let proof = ex.proof(user);
        let r = ex.verify(&ex.attestation(), &proof, user).expect(0);
        assert!(
            r.stdout.contains("VERIFIED: your balances are included"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("attestation signature valid"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("32 levels"));
    }
    // user-7 holds 1.00000049 BTC, 1.000000000000000001 ETH and 700.5 USDT.
    let r = ex
        .verify(&ex.attestation(), &ex.proof("user-7"), "user-7")
        .expect(0);
    assert!(r.stdout.contains("1.00000049"), "{}", r.stdout);
    assert!(r.stdout.contains("1.000000000000000001"));
    assert!(r.stdout.contains("700.500000"));

    let mut args: Vec<String> = ["proof", "--attestation"].map(String::from).to_vec();
    args.push(path_str(&ex.attestation()).into());
    args.extend([
        "--proof".into(),
        path_str(&ex.proof("user-3")).into(),
        "--exchange-key".into(),
        ex.pubkey.clone(),
    ]);
    args.extend(["--user-id".into(), "user-3".into(), "--json".into()]);
    let r = run("por-verify", &args).expect(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("--json prints JSON");
    assert_eq!(v["result"], "pass");
    assert_eq!(v["balances"][2]["amount"], "300.500000");

    let r = ex.audit(&ex.attestation(), &[]).expect(0);
    assert!(r.stdout.contains("AUDIT PASSED"), "{}", r.stdout);
    assert!(r.stdout.contains("20 customers"));
    let r = ex.audit(&ex.attestation(), &["--json"]).expect(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["result"], "pass");
    assert_eq!(v["leaves"], 20);
}

#[test]
fn batch_proofs_match_single_proofs() {
    let ex = Exchange::build(&csv(), &["--height", "8"]);
    let users = ex.path("users.txt");
    std::fs::write(&users, "user-1\nuser-2\n\nuser-12\n").unwrap();
    let dir = ex.path("proofs");
    run(
        "por-prove",
        &[
            "proofs",
            "--from",
            path_str(&ex.out),
            "--users",
            path_str(&users),
            "--out-dir",
            path_str(&dir),
        ],
    )
    .expect(0);
    let index: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("index.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(index.len(), 3);
    for (u, entry) in ["user-1", "user-2", "user-12"].iter().zip(&index) {
        assert_eq!(entry["user_id"], *u);
        let file = dir.join(entry["file"].as_str().unwrap());
        let batch = std::fs::read_to_string(&file).unwrap();
        assert_eq!(batch, std::fs::read_to_string(ex.proof(u)).unwrap());
        ex.verify(&ex.attestation(), &file, u).expect(0);
    }
}

/// A batch for awkward ids: one bad, unknown or repeated id is reported and skipped (exit 1,
/// every other proof written); ids with '/', '%', spaces or differing only by case get safe,
/// distinct files; one JSON-lines file on request; a byte-order mark is ignored.
#[test]
fn batch_proofs_skip_bad_users_and_name_files_safely() {
    let ex = Exchange::build(
        "user_id,BTC:8\nAlice,1\nalice,2\na/b?c%20 d,3\n",
        &["--height", "8"],
    );
    let users = ex.path("users.txt");
    std::fs::write(
        &users,
        "\u{feff}Alice\nalice\na/b?c%20 d\nnobody\nAlice\n \n",
    )
    .unwrap();
    let dir = ex.path("proofs");
    let r = run(
        "por-prove",
        &[
            "proofs",
            "--from",
            path_str(&ex.out),
            "--users",
            path_str(&users),
            "--out-dir",
            path_str(&dir),
            "--chunk",
            "1",
        ],
    )
    .expect(1);
    assert!(r.stdout.contains("wrote 3 proofs"), "{}", r.stdout);
    assert!(
        r.stdout.contains("not in this month's tree: \"nobody\"")
            && r.stdout.contains("asked twice"),
        "{}",
        r.stdout
    );
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let files: Vec<String> = index
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["file"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(files.len(), 3);
    let lower: std::collections::HashSet<String> = files.iter().map(|f| f.to_lowercase()).collect();
    assert_eq!(
        lower.len(),
        3,
        "distinct even on case-insensitive filesystems: {files:?}"
    );
    for f in &files {
        assert!(
            f.len() == 2 + 1 + 64 + 5
                && f.bytes().all(|b| b.is_ascii_hexdigit()
                    || b == b'/'
                    || b == b'.'
                    || b == b'j'
                    || b == b's'
                    || b == b'o'
                    || b == b'n'),
            "{f}"
        );
    }
    ex.verify(&ex.attestation(), &dir.join(&files[2]), "a/b?c%20 d")
        .expect(0);
    // Names a listing cannot reverse: not the plain SHA-256 of a guessable id.
    for id in ["Alice", "alice", "a/b?c%20 d"] {
        use sha2::Digest;
        let plain = hex::encode(sha2::Sha256::digest(id.as_bytes()));
        assert!(files.iter().all(|f| !f.contains(&plain)), "{id}: {files:?}");
    }
    // The folder, its subfolders, the index and every proof are the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(&files[0][..2])), 0o700);
        assert_eq!(mode(&dir.join("index.jsonl")), 0o600);
        for f in &files {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    }
    let jsonl = ex.path("all.jsonl");
    run(
        "por-prove",
        &[
            "proofs",
            "--from",
            path_str(&ex.out),
            "--users",
            path_str(&users),
            "--jsonl",
            path_str(&jsonl),
        ],
    )
    .expect(1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&jsonl).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the JSON-lines file shows every balance: owner only"
        );
    }
    let lines: Vec<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 3);
    let one = ex.path("one.json");
    std::fs::write(&one, &lines[1]).unwrap();
    ex.verify(&ex.attestation(), &one, "alice").expect(0);
}

#[test]
fn proofs_have_the_same_length_for_everyone() {
    let ex = Exchange::build(&csv(), &[]);
    let lens: Vec<usize> = ["user-0", "user-5", "user-13"]
        .iter()
        .map(|u| read_json(&ex.proof(u))["path"].as_array().unwrap().len())
        .collect();
    assert_eq!(lens, vec![32, 32, 32]);
}

#[test]
fn build_draws_no_bar_on_stderr_without_a_terminal() {
    let ex = Exchange::build(&csv(), &[]);
    let out = ex.path("again");
    let r = ex.rebuild(&out, &[]).expect(0);
    // Under cron or a pipe: plain timestamped lines (tests/progress.rs), never a bar's escape
    // sequences or carriage returns.
    assert!(
        !r.stderr.contains('\r') && !r.stderr.contains('\u{1b}'),
        "no progress bar when stderr is not a terminal: {:?}",
        r.stderr
    );
    assert!(
        r.stderr.lines().all(|l| l.contains(" por-prove: ")),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("customers:     20"));
}

/// A fresh key and export, to run `por-prove build` on directly.
struct RawBuild {
    tmp: tempfile::TempDir,
    key: std::path::PathBuf,
    csv: std::path::PathBuf,
    out: std::path::PathBuf,
}

impl RawBuild {
    fn new(text: &str) -> RawBuild {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("k");
        run("por-prove", &["keygen", "--out", path_str(&key)]).expect(0);
        let csv = tmp.path().join("liabilities.csv");
        std::fs::write(&csv, text).unwrap();
        let out = tmp.path().join("out");
        RawBuild { tmp, key, csv, out }
    }

    fn build(&self, extra: &[&str]) -> por_e2e::Run {
        let mut args = vec!["--snapshot-time", "2026-11-30T12:00:00Z"];
        args.extend_from_slice(extra);
        por_e2e::build_month(&self.csv, &self.key, "X", "2026-11", &self.out, &args)
    }
}

#[test]
fn negative_balances_are_rejected_unless_clamped() {
    let b = RawBuild::new("user_id,BTC:8\na,1\nb,-2\nc,-0.5\n");
    let r = b.build(&[]).expect(2);
    assert!(
        r.stderr.contains("line 3, field BTC") && r.stderr.contains("negative"),
        "{}",
        r.stderr
    );
    assert!(!b.out.exists());
    let r = b.build(&["--negative-as-zero"]).expect(0);
    assert!(r.stdout.contains("clamped rows:  2"), "{}", r.stdout);
    assert_eq!(
        read_json(&b.out.join("attestation.json"))["liabilities"][0],
        "100000000"
    );
}

/// Each bad export: exit 2, a message naming the file and where, and no output at all.
#[test]
fn bad_exports_exit_2_name_the_place_and_write_nothing() {
    let max = u128::MAX.to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "non-number",
            "user_id,BTC:8\na,1\nb,12x\n".into(),
            "line 3, field BTC",
        ),
        (
            "too many decimals",
            "user_id,BTC:8\na,0.123456789\n".into(),
            "at most 8 decimals",
        ),
        ("negative", "user_id,BTC:8\na,-1\n".into(), "negative"),
        (
            "duplicate user",
            "user_id,BTC:8\na,1\nb,2\na,3\n".into(),
            "line 4, field user_id: duplicate user id",
        ),
        (
            "empty user",
            "user_id,BTC:8\n,1\n".into(),
            "line 2, field user_id",
        ),
        (
            "too many columns",
            "user_id,BTC:8\na,1,2\n".into(),
            "line 2: expected 2 columns, found 3",
        ),
        (
            "too few columns",
            "user_id,BTC:8,ETH:18\na,1\n".into(),
            "line 2: expected 3 columns, found 2",
        ),
        (
            "repeated asset",
            "user_id,BTC:8,BTC:8\n".into(),
            "appears twice",
        ),
        (
            "asset without decimals",
            "user_id,BTC\n".into(),
            "SYMBOL:DECIMALS",
        ),
        (
            "bad header",
            "id,BTC:8\na,1\n".into(),
            "line 1: expected the header user_id",
        ),
        (
            "overflowing total",
            format!("user_id,WEI:0\na,{max}\nb,1\n"),
            "line 3, field WEI: the total of WEI overflows",
        ),
        ("empty file", String::new(), "empty"),
        ("header only", "user_id,BTC:8\n".into(), "no customer rows"),
        (
            "control character",
            "user_id,BTC:8\n\u{0}a,1\n".into(),
            "control character",
        ),
    ];
    for (what, text, expect) in cases {
        let b = RawBuild::new(&text);
        let r = b.build(&[]);
        assert_eq!(r.code, 2, "{what}: {}", r.all());
        assert!(
            r.stderr.contains("liabilities.csv"),
            "{what}: message must name the file: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(expect),
            "{what}: expected {expect:?} in {}",
            r.stderr
        );
        let left: Vec<_> = std::fs::read_dir(b.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left.len(),
            2,
            "{what}: only the key and the CSV may remain, found {left:?}"
        );
    }
    // Bytes that are not UTF-8.
    let b = RawBuild::new("");
    std::fs::write(&b.csv, b"user_id,BTC:8\na\xff,1\n").unwrap();
    let r = b.build(&[]).expect(2);
    assert!(
        r.stderr.contains("line 2: the line is not valid UTF-8"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_asset_against_the_expected_list() {
    for (header, expect) in [
        ("user_id,BTC:8,DOGE:8", "unknown asset DOGE"),
        ("user_id,BTC:8,ETH:8", "ETH has 8 decimals, expected 18"),
    ] {
        let b = RawBuild::new(&format!("{header}\na,1,1\n"));
        let r = b.build(&["--assets", "BTC:8,ETH:18"]).expect(2);
        assert!(r.stderr.contains(expect), "{}", r.stderr);
        assert!(!b.out.exists());
    }
}

#[test]
fn height_too_small_for_the_customers() {
    let b = RawBuild::new("user_id,BTC:8\na,1\nb,1\nc,1\n");
    let r = b.build(&["--height", "1"]).expect(2);
    assert!(r.stderr.contains("at most 2 customers"), "{}", r.stderr);
    // A nearly full tree (3 customers in 4 places) works.
    b.build(&["--height", "2"]).expect(0);
}

#[test]
fn secrets_never_reach_public_outputs() {
    let ex = Exchange::build(&csv(), &[]);
    let public = std::fs::read_to_string(ex.attestation()).unwrap();
    let state = read_json(&ex.out.join("private/state.json"));
    let key_text = std::fs::read_to_string(&ex.key).unwrap();
    let mut secrets = vec![
        state["position_seed"].as_str().unwrap().to_string(),
        state["padding_key"].as_str().unwrap().to_string(),
        key_text.trim().to_string(),
    ];
    let leaves = std::fs::read_to_string(ex.out.join("private/leaves.csv")).unwrap();
    for line in leaves.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        secrets.push(cols[1].to_string()); // salt
        secrets.push(format!("\"{}\"", cols[2])); // user id as a JSON string
    }
    for s in &secrets {
        assert!(!public.contains(s.as_str()), "attestation.json leaks {s}");
    }
    // Private balances: no single customer's balance in base units is published.
    let proof = read_json(&ex.proof("user-7"));
    for b in proof["balances"].as_array().unwrap() {
        let units = b.as_str().unwrap();
        if units.len() > 3 {
            assert!(
                !public.contains(&format!("\"{units}\"")),
                "attestation.json shows a customer's balance"
            );
        }
    }
    // A proof carries its own salt, but never the tree's secrets or another customer's data.
    let proof_text = std::fs::read_to_string(ex.proof("user-7")).unwrap();
    for s in &secrets[..3] {
        assert!(
            !proof_text.contains(s.as_str()),
            "proof leaks a tree secret"
        );
    }
    assert!(!proof_text.contains("user-8"));
    // The build's summary does not print secrets either.
    let r = ex.rebuild(&ex.path("o2"), &["--json"]).expect(0);
    let state2 = read_json(&ex.path("o2/private/state.json"));
    assert!(!r.stdout.contains(state2["padding_key"].as_str().unwrap()));
    assert!(!r.stdout.contains(state2["position_seed"].as_str().unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ex.out.join("private"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private/ must not be readable by others");
    }
}

#[test]
fn existing_output_is_not_replaced_without_force() {
    let ex = Exchange::build(&csv(), &[]);
    let before = std::fs::read(ex.attestation()).unwrap();
    let old = Attestation::read(&ex.attestation()).unwrap();
    let (period, time) = (old.period, old.snapshot_time);
    // Another exchange's name into the same directory: an ordinary "already exists".
    let r = ex.rebuild(&ex.out, &[]).expect(2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    // The same exchange and period re-signed: refused with what customers would see, or
    // warned under --force (stderr and --json).
    let again = |extra: &[&str]| {
        let mut args = vec!["--snapshot-time", time.as_str()];
        args.extend_from_slice(extra);
        build_month(
            &ex.liabilities,
            &ex.key,
            "Test Exchange",
            &period,
            &ex.out,
            &args,
        )
    };
    let r = again(&[]).expect(2);
    assert!(
        r.stderr.contains("already holds the signed attestation")
            && r.stderr.contains("[history.equivocation]"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(ex.attestation()).unwrap(), before);
    let r = again(&["--force", "--json"]).expect(0);
    assert!(
        r.stderr.contains("warning: replaced under --force"),
        "{}",
        r.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["replaced_signed"]
        .as_str()
        .unwrap()
        .contains("EQUIVOCATION"));
    assert_ne!(std::fs::read(ex.attestation()).unwrap(), before);
}

/// A customer's mistakes are named in words they understand: an id typed with other case,
/// spaces or Unicode form (`proof.other_user`, exit 2: no evidence against anyone), and a proof file that is a web page, a truncated download,
/// or the attestation (exit 2). An endless file ends at once.
#[test]
fn customer_mistakes_are_named() {
    let ex = Exchange::build("user_id,BTC:8\nAlice,1\ncaf\u{e9},2\n", &[]);
    let proof = ex.proof("Alice");
    let r = ex
        .verify(&ex.attestation(), &proof, "alice")
        .expect_code("proof.other_user");
    assert!(
        r.stderr
            .contains("they differ only by upper and lower case"),
        "{}",
        r.stderr
    );
    let r = ex
        .verify(&ex.attestation(), &proof, " Alice ")
        .expect_code("proof.other_user");
    assert!(
        r.stderr
            .contains("they differ only by surrounding whitespace"),
        "{}",
        r.stderr
    );
    let r = ex
        .verify(&ex.attestation(), &ex.proof("caf\u{e9}"), "cafe\u{301}")
        .expect_code("proof.other_user");
    assert!(
        r.stderr.contains("they differ only by Unicode form"),
        "{}",
        r.stderr
    );
    let r = ex
        .verify(&ex.attestation(), &proof, "bob")
        .expect_code("proof.other_user");
    assert!(
        r.stderr.contains("it is someone else's proof"),
        "{}",
        r.stderr
    );

    let good = std::fs::read_to_string(&proof).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "web page",
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>".into(),
            "HTML",
        ),
        (
            "truncated",
            good[..good.len() / 3].into(),
            "truncated or interrupted download",
        ),
        ("empty", String::new(), "the file is empty"),
        (
            "attestation",
            std::fs::read_to_string(ex.attestation()).unwrap(),
            "this is an attestation, not an inclusion proof: give it as --attestation",
        ),
    ];
    for (what, text, expect) in cases {
        let p = ex.path("p.json");
        std::fs::write(&p, text).unwrap();
        let r = ex.verify(&ex.attestation(), &p, "Alice").expect(2);
        assert!(
            r.stderr.contains(expect) && r.stderr.contains("p.json"),
            "{what}: {}",
            r.stderr
        );
    }
    // The proof given as the attestation, the reverse mistake.
    let r = ex.verify(&proof, &proof, "Alice").expect(2);
    assert!(
        r.stderr
            .contains("this is an inclusion proof, not an attestation: give it as --proof"),
        "{}",
        r.stderr
    );
    // An endless file is refused after its size limit, not read whole.
    let r = ex
        .verify(
            &ex.attestation(),
            std::path::Path::new("/dev/zero"),
            "Alice",
        )
        .expect(2);
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
    let r = ex
        .verify(std::path::Path::new("/dev/zero"), &proof, "Alice")
        .expect(2);
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
}
