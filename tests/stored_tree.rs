//! The stored tree (private/tree.bin): proofs read from it equal proofs from a full rebuild,
//! at every shape of tree; a damaged, truncated, foreign or missing stored tree is bad input
//! (exit 2), never a panic or a wrong proof; killed builds' leftovers are removed and named.

use por_e2e::{build_month, path_str, run, Exchange};
use por_prover::stored::StoredTree;
use por_verifier::proof::{verify_inclusion, InclusionProof};
use por_verifier::state::{private_path, read_leaves, PrivateState, LEAVES_FILE};
use por_verifier::tree::build;
use por_verifier::Attestation;
use std::path::Path;

fn csv(n: usize, ids: impl Fn(usize) -> String) -> String {
    let mut s = String::from("user_id,BTC:8,ETH:18\n");
    for i in 0..n {
        s.push_str(&format!(
            "{},{}.{:08},{}\n",
            ids(i),
            i % 5,
            i * 13,
            i * 7 + 1
        ));
    }
    s
}

/// Every customer's proof from the stored tree equals the one a full rebuild gives.
fn check_all_proofs_match_a_rebuild(dir: &Path) {
    let att = Attestation::read(&dir.join("attestation.json")).unwrap();
    let state = PrivateState::read(dir).unwrap();
    let leaves = read_leaves(&private_path(dir, LEAVES_FILE), &att.assets).unwrap();
    let k = att.assets.len();
    let targets = leaves.level.index.clone();
    let sums = leaves.level.sums.clone();
    let built = build(
        &state.tree_params().unwrap(),
        leaves.level,
        &targets,
        &|_| {},
    )
    .unwrap();
    assert_eq!(built.root, att.root_hash);
    let tree = StoredTree::open(dir).unwrap();
    for (i, path) in built.paths.into_iter().enumerate() {
        let expected = InclusionProof {
            exchange: att.exchange.clone(),
            period: att.period.clone(),
            user_id: leaves.user_ids[i].clone(),
            salt: leaves.salts[i],
            position: targets[i],
            balances: sums[i * k..(i + 1) * k].to_vec(),
            path,
        };
        let got = tree
            .proof(&leaves.user_ids[i])
            .unwrap()
            .expect("a customer");
        assert_eq!(got, expected, "user {}", leaves.user_ids[i]);
        verify_inclusion(&att, &got, &leaves.user_ids[i]).unwrap();
    }
    assert_eq!(tree.proof("not-a-customer").unwrap(), None);
}

#[test]
fn proofs_from_the_stored_tree_equal_a_rebuild_at_every_shape() {
    // 300 customers at height 32 (sparse: most of the path recomputed below the cut), at
    // height 9 (nearly full: cut at the leaves), one customer (cut at the root), and ids that
    // share nothing but need care (slashes, percent signs, Unicode).
    for (n, height) in [(300usize, "32"), (300, "9"), (1, "32"), (2, "1")] {
        let ex = Exchange::build(&csv(n, |i| format!("c{i}")), &["--height", height]);
        check_all_proofs_match_a_rebuild(&ex.out);
    }
    let ex = Exchange::build(
        &csv(40, |i| format!("ü/{i}%20 ?x{}", "y".repeat(i * 6))),
        &[],
    );
    check_all_proofs_match_a_rebuild(&ex.out);
}

#[test]
fn a_damaged_stored_tree_is_bad_input_and_store_tree_repairs_it() {
    let ex = Exchange::build(&csv(200, |i| format!("c{i}")), &[]);
    let tree_bin = private_path(&ex.out, "tree.bin");
    let good = std::fs::read(&tree_bin).unwrap();
    let proof = |user: &str| {
        run(
            "por-prove",
            &["proof", "--from", path_str(&ex.out), "--user", user],
        )
    };
    let honest = proof("c7").expect(0).stdout;

    let damage = |bytes: &[u8], why: &str| {
        std::fs::write(&tree_bin, bytes).unwrap();
        let mut failed = 0;
        // Every customer either gets the honest proof or a clear exit 2: never a wrong proof.
        for user in ["c0", "c7", "c99", "c199"] {
            let r = proof(user);
            assert_ne!(r.code, 101, "{why}: panicked\n{}", r.stderr);
            if r.code == 2 {
                assert!(r.stderr.contains("tree.bin"), "{why}: {}", r.stderr);
                failed += 1;
            } else {
                r.expect(0);
            }
        }
        failed
    };
    // Truncated, extended, wrong magic, another version: refused at open, for everyone.
    assert_eq!(damage(&good[..good.len() - 1], "truncated"), 4);
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(damage(&longer, "extended"), 4);
    let mut magic = good.clone();
    magic[0] ^= 1;
    assert_eq!(damage(&magic, "magic"), 4);
    let mut version = good.clone();
    version[8] = 2;
    assert_eq!(damage(&version, "version"), 4);
    assert_eq!(damage(&good[..10], "header only"), 4);
    // One flipped byte anywhere: whoever's proof reads it gets exit 2, the others are served.
    // The header (root, counts, cut), a leaf record, the id index, an id, the dense levels.
    let mut hit = 0;
    for at in [
        13usize,
        20,
        40,
        64 + 3,
        64 + 60,
        good.len() / 2,
        good.len() - 40,
        good.len() - 1,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x40;
        hit += damage(&b, &format!("byte {at}"));
    }
    assert!(hit > 0);
    let r = {
        let mut b = good.clone();
        b[good.len() - 1] ^= 1; // the root's last sum byte
        std::fs::write(&tree_bin, &b).unwrap();
        proof("c7").expect(2)
    };
    assert!(r.stderr.contains("corrupt stored tree"), "{}", r.stderr);

    // A node of the lowest stored level changed (hash or sums): every dense node is checked
    // against its children when the tree is opened, so nobody gets a proof from it.
    let le = |at: usize| u64::from_le_bytes(good[at..at + 8].try_into().unwrap()) as usize;
    let (n, id_bytes, k) = (le(16), le(24), 2usize);
    let dense = 64 + n * (52 + 16 * k) + 16 * n + id_bytes;
    for at in [dense + 5, dense + 32 + 3, dense + (32 + 16 * k) * 3 + 40] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        std::fs::write(&tree_bin, &b).unwrap();
        let r = proof("c7");
        assert_eq!(
            r.code,
            2,
            "flip at {at}, dense from {dense}, file {}",
            good.len()
        );
        assert!(
            r.stderr.contains("not made of its two children"),
            "{}",
            r.stderr
        );
    }

    // Another month's stored tree in this directory: refused.
    let other = Exchange::build(&csv(200, |i| format!("c{i}")), &[]);
    std::fs::copy(private_path(&other.out, "tree.bin"), &tree_bin).unwrap();
    let r = proof("c7").expect(2);
    assert!(r.stderr.contains("another tree"), "{}", r.stderr);

    // Missing (a build by an older version): exit 2 naming the repair; the repair works.
    std::fs::remove_file(&tree_bin).unwrap();
    let r = proof("c7").expect(2);
    assert!(r.stderr.contains("store-tree"), "{}", r.stderr);
    run("por-prove", &["store-tree", "--from", path_str(&ex.out)]).expect(0);
    assert_eq!(std::fs::read(&tree_bin).unwrap(), good);
    assert_eq!(proof("c7").expect(0).stdout, honest);

    // Leaves that do not give the signed root: store-tree refuses and leaves nothing.
    let leaves = private_path(&ex.out, LEAVES_FILE);
    let text = std::fs::read_to_string(&leaves).unwrap();
    let edited = text.replacen(",c0,", ",c0x,", 1);
    assert_ne!(text, edited);
    std::fs::write(&leaves, edited).unwrap();
    std::fs::remove_file(&tree_bin).unwrap();
    run("por-prove", &["store-tree", "--from", path_str(&ex.out)]).expect(1);
    assert!(!tree_bin.exists());
    let leftovers: Vec<_> = std::fs::read_dir(private_path(&ex.out, ""))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_killed_builds_leftovers_are_removed_and_named() {
    let ex = Exchange::build(&csv(10, |i| format!("c{i}")), &[]);
    // What `kill -9` during a build leaves: a hidden staging directory with private state,
    // named after a process that no longer runs.
    let out2 = ex.path("out2");
    let stale = ex.path(".out2.tmp-4000000000");
    std::fs::create_dir_all(stale.join("private")).unwrap();
    std::fs::write(
        stale.join("private/state.json"),
        "{\"position_seed\":\"secret\"}",
    )
    .unwrap();
    let stale_file = ex.path(".out2.tmp-4000000001");
    std::fs::write(&stale_file, "partial").unwrap();
    let r = ex.rebuild(&out2, &[]).expect(0);
    assert!(!stale.exists() && !stale_file.exists());
    assert!(
        r.stderr.contains(".out2.tmp-4000000000") && r.stderr.contains("killed"),
        "{}",
        r.stderr
    );
    // Also when the build then stops with an error (the output holds this month, signed).
    std::fs::create_dir_all(stale.join("private")).unwrap();
    let r = ex.rebuild(&out2, &[]).expect(2);
    assert!(
        r.stderr.contains("already holds the signed attestation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(".out2.tmp-4000000000"), "{}", r.stderr);
    assert!(!stale.exists());
    // A staging directory of a build still running is left alone.
    let mine = ex.path(&format!(".out3.tmp-{}", std::process::id()));
    std::fs::create_dir_all(&mine).unwrap();
    ex.rebuild(&ex.path("out3"), &[]).expect(0);
    assert!(mine.exists());
}

/// Builds a tree with fixed secrets through the library, with a given memory budget; returns
/// the leaves file, the stored tree and the slice count.
fn streamed(
    rows: &[por_verifier::liabilities::Row],
    budget: u64,
    dir: &Path,
) -> (Vec<u8>, Vec<u8>, u64) {
    use por_prover::streamed::StreamedBuilder;
    let assets = vec![
        por_verifier::Asset::parse_column("BTC:8").unwrap(),
        por_verifier::Asset::parse_column("ETH:18").unwrap(),
    ];
    std::fs::create_dir_all(dir).unwrap();
    let mut b = StreamedBuilder::new(
        "export.csv",
        &dir.join(".spill"),
        32,
        &assets,
        [3; 32],
        budget,
        50 * rows.len() as u64,
    )
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        let mut salt = [0u8; 32];
        salt[..8].copy_from_slice(&(i as u64).to_le_bytes());
        b.push(r, &salt).unwrap();
    }
    let n = rows.len() as u64;
    let cut = por_prover::stored::cut_level(32, n, por_prover::stored::DENSE_SHIFT);
    let t = b
        .finish(
            [5; 32],
            &dir.join("leaves.csv"),
            &dir.join("tree.bin"),
            cut,
            &por_prover::progress::Progress::hidden(),
        )
        .unwrap();
    assert!(!dir.join(".spill").exists(), "spill files removed");
    (
        std::fs::read(dir.join("leaves.csv")).unwrap(),
        std::fs::read(dir.join("tree.bin")).unwrap(),
        t.buckets,
    )
}

#[test]
fn the_out_of_core_build_equals_the_in_memory_one() {
    let rows: Vec<_> = (0..3000u64)
        .map(|i| por_verifier::liabilities::Row {
            line: i + 2,
            user_id: format!("customer-{i}"),
            balances: vec![
                por_verifier::Amount(u128::from(i % 7) * 1000),
                por_verifier::Amount(u128::from(i) << 70),
            ],
            clamped: false,
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let (leaves_mem, tree_mem, one) = streamed(&rows, 1 << 30, &tmp.path().join("mem"));
    assert_eq!(one, 1);
    // A budget of a few KiB: the export is cut into many slices spilled to disk.
    let (leaves_disk, tree_disk, many) = streamed(&rows, 4096, &tmp.path().join("disk"));
    assert!(many >= 64, "{many} slices");
    assert!(leaves_mem == leaves_disk, "leaves.csv differ");
    assert!(tree_mem == tree_disk, "tree.bin differ");
}

#[test]
fn a_tiny_memory_budget_builds_a_tree_that_proves_audits_and_rebuilds_alike() {
    // Through the real binary: many slices; every proof verifies, the audit passes, and the
    // stored tree equals the one rebuilt in memory from leaves.csv by store-tree.
    let ex = Exchange::build(&csv(500, |i| format!("c{i}")), &["--memory-budget", "2K"]);
    check_all_proofs_match_a_rebuild(&ex.out);
    ex.audit(&ex.attestation(), &[]).expect(0);
    let tree_bin = private_path(&ex.out, "tree.bin");
    let streamed = std::fs::read(&tree_bin).unwrap();
    run("por-prove", &["store-tree", "--from", path_str(&ex.out)]).expect(0);
    assert!(std::fs::read(&tree_bin).unwrap() == streamed);
    assert!(!private_path(&ex.out, ".spill").exists());
    // A user id repeated (three times) is found across slices, naming the first repeat.
    let mut text = csv(300, |i| format!("c{i}"));
    text.push_str("c17,1,1\nc250,1,1\nc17,2,2\n");
    let dup_csv = ex.path("dup.csv");
    std::fs::write(&dup_csv, text).unwrap();
    let r = build_month(
        &dup_csv,
        &ex.key,
        "X",
        "2026-11",
        &ex.path("dup"),
        &["--memory-budget", "2K"],
    )
    .expect(2);
    assert!(
        r.stderr
            .contains("line 302, field user_id: duplicate user id \"c17\" (first at line 19)"),
        "{}",
        r.stderr
    );
    assert!(!ex.path("dup").exists());
}

#[test]
fn the_audit_out_of_core_finds_what_it_finds_in_memory() {
    let ex = Exchange::build(&csv(400, |i| format!("c{i}")), &[]);
    let spill = ex.path("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let tiny = ["--memory-budget", "2K", "--spill-dir", path_str(&spill)];
    // What a killed audit left: customer data in a spill directory of a process now gone.
    let stale = spill.join(".por-audit-4000000000-00ff");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("leaf-00000"), "c1 balances").unwrap();
    let r = ex.audit(&ex.attestation(), &tiny).expect(0);
    assert!(
        !stale.exists() && r.stdout.contains(".por-audit-4000000000-00ff"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("AUDIT PASSED") && r.stdout.contains("slices"),
        "{}",
        r.stdout
    );
    // A ledger that differs in every way the audit reports: 30 customers missing from the
    // tree, 25 balances changed, a leaf nobody owns; the findings are the same, in the same
    // order, whether the join runs in one bucket or in many.
    let mut ledger = String::from("user_id,BTC:8,ETH:18\n");
    for i in 0..400usize {
        if i % 13 == 5 {
            continue; // a leaf nobody in this ledger owns
        }
        let btc = if i % 16 == 3 { 99 } else { i % 5 };
        ledger.push_str(&format!("c{i},{btc}.{:08},{}\n", i * 13, i * 7 + 1));
    }
    for j in 0..30 {
        ledger.push_str(&format!("extra{j},1,1\n"));
    }
    let ledger_path = ex.path("ledger.csv");
    std::fs::write(&ledger_path, ledger).unwrap();
    let with = |extra: &[&str]| {
        let mut args = vec!["--liabilities", path_str(&ledger_path), "--json"];
        args.extend_from_slice(extra);
        let r = ex.audit(&ex.attestation(), &args).expect(1);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let one = with(&[]);
    let many = with(&tiny);
    assert_eq!(one["findings"], many["findings"]);
    assert_eq!(one["finding_counts"], many["finding_counts"]);
    let counts = one["finding_counts"].to_string();
    assert!(
        counts.contains("missing_customer")
            && counts.contains("balance_mismatch")
            && counts.contains("unknown_leaf"),
        "{counts}"
    );
    // Listed in ledger order, as a row-by-row audit would list them.
    let lines: Vec<u64> = one["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing_customer")
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            m.rsplit("line ")
                .next()
                .unwrap()
                .trim_end_matches(") is not in the tree")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(lines.len(), 20);
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
    // The spill directory is left empty.
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
}

#[test]
fn a_build_without_the_ledger_copy_is_audited_against_the_exchanges_export() {
    let ex = Exchange::build(&csv(50, |i| format!("c{i}")), &["--no-ledger-copy"]);
    assert!(!private_path(&ex.out, "liabilities.csv").exists());
    let r = ex.audit(&ex.attestation(), &[]).expect(2);
    assert!(
        r.stderr.contains("--no-ledger-copy") && r.stderr.contains("--liabilities"),
        "{}",
        r.stderr
    );
    let r = ex
        .audit(
            &ex.attestation(),
            &["--liabilities", path_str(&ex.liabilities), "--json"],
        )
        .expect(0);
    // The export's hash, as the state recorded it, is what the audit reports.
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let state = PrivateState::read(&ex.out).unwrap();
    assert_eq!(v["ledger_sha256"], state.liabilities_sha256.as_str());
}

#[test]
fn leaves_crowded_into_one_slice_fail_the_audit_instead_of_exhausting_it() {
    // A dishonest exchange's leaves.csv with positions of its own choosing, all under one
    // slice: the streamed audit would have to hold them all; it stops and says why (exit 1).
    let ex = Exchange::build(&csv(10, |i| format!("c{i}")), &[]);
    let mut text = String::from("position,salt,user_id,BTC:8,ETH:18\n");
    for i in 0..100_001u64 {
        text.push_str(&format!(
            "{i},{},x{i},0.00000000,0.000000000000000000\n",
            "ab".repeat(32)
        ));
    }
    std::fs::write(private_path(&ex.out, LEAVES_FILE), text).unwrap();
    let spill = ex.path("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let r = ex
        .audit(
            &ex.attestation(),
            &["--memory-budget", "2K", "--spill-dir", path_str(&spill)],
        )
        .expect(1);
    assert!(
        r.all().contains("not spread as the committed seed"),
        "{}",
        r.all()
    );
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "spill removed"
    );
}
