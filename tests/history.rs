//! One history for everyone: chained monthly attestations, the public log, the customer's
//! store (key pinning, equivocation evidence), and the attacks the history must catch, through
//! the real binaries. The anchor chain on Bitcoin is in tests/history_chain.rs.

use por_e2e::months::Months;
use por_e2e::{path_str, read_json, run, write_json};
use por_verifier::history::History;
use por_verifier::Attestation;
use serde_json::json;
use std::path::PathBuf;

const CSV: &str = "user_id,BTC:8\nalice,1\nbob,2\n";

#[test]
fn months_are_chained_in_a_verifiable_history() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    m.empty_reserves("2026-10").expect(0);
    m.build("2026-11", "user_id,BTC:8\nalice,1.5\nbob,2\n")
        .expect(0);
    let h = History::read(&m.history()).unwrap();
    assert_eq!(h.entries.len(), 3);
    let a1 = Attestation::read(&m.attestation("2026-10")).unwrap();
    let a2 = Attestation::read(&m.attestation("2026-11")).unwrap();
    assert_eq!(a1.history.previous, None);
    assert_eq!(a2.history.previous, Some(a1.digest()));
    assert_eq!(
        a2.history.log_size, 2,
        "the log before it: the first attestation and its reserves"
    );
    assert_eq!(a2.history.log_root, h.root_at(2));
    // Every check passes; with no anchor named, the result says what could not be checked.
    let r = m
        .verify_history(&m.history(), &[])
        .expect_code("check.incomplete");
    assert!(
        r.stdout.contains(
            "[ok] entry 0 (attestation 2026-10): signed, links to the attestation before it"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("[ok] entry 1 (reserves 2026-10): signed, cites the period's attestation"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("[ok] entry 2 (attestation 2026-11)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&por_verifier::history::fingerprint(&a2.digest())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("the history names no genesis"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("[FAIL]"), "{}", r.stdout);
    // The prover refuses a second attestation for an attested period, and says what
    // customers would see.
    let r = m.build_in("again", "2026-11", CSV, &m.key, &[]).expect(2);
    assert!(
        r.stderr.contains("already holds the signed attestation")
            && r.stderr.contains("[history.equivocation]"),
        "{}",
        r.stderr
    );
    // Nor can it go back before the last attested period.
    let r = m.build_in("back", "2026-10", CSV, &m.key, &[]).expect(2);
    assert!(r.stderr.contains("periods go forward only"), "{}", r.stderr);
    assert_eq!(History::read(&m.history()).unwrap().entries.len(), 3);
}

/// A wrong export caught before publishing: `--force` re-signs the month in place, the
/// history drops the replaced attestation and the reserves statement that signed it, links to
/// the month before, and verifies; the operator is told what customers who saw the first
/// version would see.
#[test]
fn an_unpublished_month_can_be_rebuilt_with_force() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    m.empty_reserves("2026-10").expect(0);
    m.build("2026-11", CSV).expect(0);
    m.empty_reserves("2026-11").expect(0);
    let first = Attestation::read(&m.attestation("2026-11")).unwrap();
    assert_eq!(History::read(&m.history()).unwrap().entries.len(), 4);
    let fixed = "user_id,BTC:8\nalice,1\nbob,2.5\n";
    let before = std::fs::read(m.history()).unwrap();
    m.build_in("2026-11", "2026-11", fixed, &m.key, &[])
        .expect(2);
    assert_eq!(
        std::fs::read(m.history()).unwrap(),
        before,
        "refused: nothing changed"
    );
    let r = m
        .build_in("2026-11", "2026-11", fixed, &m.key, &["--force"])
        .expect(0);
    assert!(
        r.stderr.contains("warning: replaced under --force")
            && r.stderr.contains(&first.digest().to_hex())
            && r.stderr.contains("[history.equivocation]"),
        "{}",
        r.stderr
    );
    let h = History::read(&m.history()).unwrap();
    let a1 = Attestation::read(&m.attestation("2026-10")).unwrap();
    let second = Attestation::read(&m.attestation("2026-11")).unwrap();
    assert_ne!(second.digest(), first.digest());
    assert_eq!(h.entries.len(), 3, "2026-10, its reserves, the new 2026-11");
    assert_eq!(h.entries[2].digest, second.digest());
    assert_eq!(second.history.previous, Some(a1.digest()));
    assert_eq!(second.history.log_size, 2);
    let r = m
        .verify_history(&m.history(), &[])
        .expect_code("check.incomplete");
    assert!(!r.stdout.contains("[FAIL]"), "{}", r.stdout);
}

/// Two attestations for one period, shown to one customer over two runs: EQUIVOCATION, with
/// both signed attestations written out as evidence anyone can check.
#[test]
fn the_customer_catches_two_attestations_for_one_period() {
    let m = Months::new();
    m.build("2026-11", CSV).expect(0);
    let store = m.path("alice-store");
    let r = m
        .customer(&store, "2026-11", "alice", Some(&m.pubkey), &[])
        .expect(0);
    assert!(r.stdout.contains("pinned on first use"), "{}", r.stdout);
    assert!(r.stdout.contains("attestation fingerprint"), "{}", r.stdout);
    // Another tree for the same month (bob left out), signed with the same key, outside the
    // published history: a dishonest exchange shows it to alice later.
    let other = m.tmp.path().join("split");
    por_e2e::build_month(
        &m.path("2026-11.csv"),
        &m.key,
        "Chain Exchange",
        "2026-11",
        &other,
        &["--snapshot-time", "2026-11-15T12:00:00Z"],
    )
    .expect(0);
    std::fs::write(m.path("split.csv"), "user_id,BTC:8\nalice,1\n").unwrap();
    let split = m.path("split2");
    por_e2e::build_month(
        &m.path("split.csv"),
        &m.key,
        "Chain Exchange",
        "2026-11",
        &split,
        &["--snapshot-time", "2026-11-15T12:00:00Z"],
    )
    .expect(0);
    let r = m
        .customer(&store, "split2", "alice", None, &[])
        .expect_code("history.equivocation");
    assert!(
        r.stdout
            .contains("EQUIVOCATION: you verified another attestation for 2026-11 before"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("your balances are included"),
        "{}",
        r.stdout
    );
    let evidence: Vec<PathBuf> = std::fs::read_dir(store.join("evidence"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    let key = por_verifier::attestation::parse_public_key(&m.pubkey).unwrap();
    let atts: Vec<Attestation> = evidence
        .iter()
        .map(|p| Attestation::read(p).unwrap())
        .collect();
    for a in &atts {
        a.verify_signature(&key)
            .expect("evidence verifies with the exchange's key");
        assert_eq!(a.period, "2026-11");
    }
    assert_ne!(atts[0].digest(), atts[1].digest());
}

/// Trust on first use: the key is pinned; another key is refused unless the old key signed the
/// handover; a lost key is re-pinned only by an explicit, loud command.
#[test]
fn the_key_is_pinned_and_rotated_only_with_the_old_keys_signature() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", None, &[]).expect(2); // first use needs the key
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    let r = m.customer(&store, "2026-10", "alice", None, &[]).expect(0);
    assert!(
        r.stdout.contains("the key pinned for \"Chain Exchange\""),
        "{}",
        r.stdout
    );

    // A new key without a handover: the prover refuses; a dishonest exchange signs anyway.
    let new_key = m.path("new.key");
    let new_pub = run("por-prove", &["keygen", "--out", path_str(&new_key)])
        .expect(0)
        .stdout
        .trim()
        .to_string();
    let r = m
        .build_in("2026-11", "2026-11", CSV, &new_key, &[])
        .expect(2);
    assert!(r.stderr.contains("needs --rotation"), "{}", r.stderr);
    let rogue = m.path("rogue");
    por_e2e::build_month(
        &m.path("2026-11.csv"),
        &new_key,
        "Chain Exchange",
        "2026-11",
        &rogue,
        &["--snapshot-time", "2026-11-15T12:00:00Z"],
    )
    .expect(0);
    let r = m
        .customer(&store, "rogue", "alice", Some(&new_pub), &[])
        .expect_code("key.changed");
    assert!(
        r.stdout.contains("KEY CHANGED") && r.stdout.contains("por-verify pin"),
        "{}",
        r.stdout
    );
    let r = m
        .customer(&store, "rogue", "alice", None, &[])
        .expect_code("key.changed");
    assert!(r.stdout.contains("KEY CHANGED"), "{}", r.stdout);

    // A handover for another month is refused by the prover.
    let wrong = m.rotation(&new_key, "2026-12");
    let r = m
        .build_in(
            "2026-11",
            "2026-11",
            CSV,
            &new_key,
            &["--rotation", path_str(&wrong)],
        )
        .expect(2);
    assert!(
        r.stderr.contains("--rotation: not a handover"),
        "{}",
        r.stderr
    );
    // With the old key's handover, the new key is accepted and re-pinned.
    let rot = m.rotation(&new_key, "2026-11");
    m.build_in(
        "2026-11",
        "2026-11",
        CSV,
        &new_key,
        &["--rotation", path_str(&rot)],
    )
    .expect(0);
    let r = m.customer(&store, "2026-11", "alice", None, &[]).expect(0);
    assert!(
        r.stdout
            .contains("a NEW KEY, handed over by the pinned key"),
        "{}",
        r.stdout
    );
    let r = m
        .customer(&store, "2026-11", "alice", Some(&new_pub), &[])
        .expect(0);
    assert!(r.stdout.contains("the key pinned for"), "{}", r.stdout);
    // The history records the rotation, and verifies with the new key.
    let r = m.verify_history_as(&m.history(), &new_pub, &[]).expect(3);
    assert!(r.stdout.contains("key rotated from"), "{}", r.stdout);

    // Re-pinning by hand shows both keys and changes nothing without --confirm.
    let r = run(
        "por-verify",
        &[
            "pin",
            "--exchange",
            "Chain Exchange",
            "--key",
            &m.pubkey,
            "--store",
            path_str(&store),
        ],
    )
    .expect(2);
    assert!(
        r.stdout.contains("WARNING") && r.stdout.contains(&new_pub) && r.stdout.contains(&m.pubkey),
        "{}",
        r.stdout
    );
    run(
        "por-verify",
        &[
            "pin",
            "--exchange",
            "Chain Exchange",
            "--key",
            &m.pubkey,
            "--store",
            path_str(&store),
            "--confirm",
        ],
    )
    .expect(0);
    m.customer(&store, "2026-10", "alice", None, &[]).expect(0);
}

/// A history that drops, reorders or rewrites a month, a log root that does not match its
/// digests, and an attestation whose previous digest points elsewhere: each is caught.
#[test]
fn rewritten_histories_are_caught() {
    let m = Months::new();
    for p in ["2026-09", "2026-10", "2026-11"] {
        m.build(p, CSV).expect(0);
    }
    m.verify_history(&m.history(), &[]).expect(3);
    let h = History::read(&m.history()).unwrap();
    // Recomputes the listed log as a dishonest exchange would, so only the signed links tell.
    let republish = |entries: Vec<por_verifier::history::HistoryEntry>, name: &str| {
        let mut out = History::new(&h.exchange, h.genesis);
        for e in entries {
            out.push(&e);
        }
        let p = m.path(name);
        std::fs::write(&p, out.to_json()).unwrap();
        p
    };
    let dropped = republish(
        vec![h.entries[0].clone(), h.entries[2].clone()],
        "dropped.json",
    );
    let r = m.verify_history(&dropped, &["--allow-gaps"]).expect(1);
    assert!(
        r.stdout.contains("it links to previous attestation")
            || r.stdout.contains("it signs the log as size"),
        "{}",
        r.stdout
    );
    let reordered = republish(
        vec![
            h.entries[1].clone(),
            h.entries[0].clone(),
            h.entries[2].clone(),
        ],
        "reordered.json",
    );
    let r = m
        .verify_history(&reordered, &[])
        .expect_code("history.invalid");
    assert!(r.stdout.contains("out of order"), "{}", r.stdout);
    // A listed root that does not match the digests.
    let mut bad_root = read_json(&m.history());
    bad_root["entries"][1]["log_root"] = json!("00".repeat(32));
    write_json(&m.path("badroot.json"), &bad_root);
    let r = m.verify_history(&m.path("badroot.json"), &[]).expect(1);
    assert!(
        r.stdout.contains("but the listed digests give"),
        "{}",
        r.stdout
    );
    // A rewritten month: another attestation for 2026-10 in its place.
    let alt = m.path("alt");
    por_e2e::build_month(
        &m.path("2026-10.csv"),
        &m.key,
        "Chain Exchange",
        "2026-10",
        &alt,
        &["--snapshot-time", "2026-10-20T12:00:00Z"],
    )
    .expect(0);
    let mut rewritten = h.entries.clone();
    rewritten[1].digest = Attestation::read(&alt.join("attestation.json"))
        .unwrap()
        .digest();
    let p = republish(rewritten, "rewritten.json");
    let r = m
        .verify_history(&p, &["--attestations", path_str(m.tmp.path())])
        .expect(1);
    assert!(r.stdout.contains("[FAIL]"), "{}", r.stdout);
    // An attestation whose previous digest points elsewhere, signed by the exchange.
    let key = {
        let t = std::fs::read_to_string(&m.key).unwrap();
        ed25519_dalek::SigningKey::from_bytes(&por_verifier::hash::parse_hex32(t.trim()).unwrap())
    };
    let mut a3 = Attestation::read(&m.attestation("2026-11")).unwrap();
    a3.history.previous = Some(por_verifier::hash::Hash([7; 32]));
    use ed25519_dalek::Signer;
    a3.signature = key.sign(&a3.signing_message()).to_bytes();
    std::fs::write(m.attestation("2026-11"), a3.to_json()).unwrap();
    let mut entries = h.entries.clone();
    entries[2].digest = a3.digest();
    let p = republish(entries, "pointed.json");
    let r = m.verify_history(&p, &[]).expect(1);
    assert!(
        r.stdout.contains("it links to previous attestation 0707"),
        "{}",
        r.stdout
    );
    // A month whose snapshot is not later than the month before.
    let mut a3 = Attestation::read(&m.attestation("2026-11")).unwrap();
    a3.history.previous = Some(
        Attestation::read(&m.attestation("2026-10"))
            .unwrap()
            .digest(),
    );
    a3.snapshot_time = "2026-10-01T00:00:00Z".into();
    a3.signature = key.sign(&a3.signing_message()).to_bytes();
    std::fs::write(m.attestation("2026-11"), a3.to_json()).unwrap();
    let mut entries = h.entries.clone();
    entries[2].digest = a3.digest();
    let p = republish(entries, "earlier.json");
    let r = m.verify_history(&p, &[]).expect(1);
    assert!(
        r.stdout
            .contains("is not later than the previous attestation's"),
        "{}",
        r.stdout
    );
}

/// A skipped month fails unless the user allows gaps, and is named either way.
#[test]
fn gaps_are_named() {
    let m = Months::new();
    m.build("2026-08", CSV).expect(0);
    m.build("2026-11", CSV).expect(0);
    let r = m.verify_history(&m.history(), &[]).expect(1);
    assert!(
        r.stdout
            .contains("no attestation between 2026-08 and 2026-11")
            && r.stdout.contains("--allow-gaps"),
        "{}",
        r.stdout
    );
    let r = m.verify_history(&m.history(), &["--allow-gaps"]).expect(3);
    assert!(
        r.stdout
            .contains("no attestation between 2026-08 and 2026-11"),
        "{}",
        r.stdout
    );
}

/// The customer's store and the published history: a history that drops a month the customer
/// verified is equivocation; histories from elsewhere are compared entry by entry.
#[test]
fn histories_that_drop_a_seen_month_or_diverge_are_caught() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let seen_history = m.path("history-oct.json");
    std::fs::copy(m.history(), &seen_history).unwrap();
    m.build("2026-11", CSV).expect(0);
    let store = m.path("store");
    m.customer(
        &store,
        "2026-10",
        "alice",
        Some(&m.pubkey),
        &["--history", path_str(&seen_history)],
    )
    .expect(0);
    let r = m
        .customer(
            &store,
            "2026-11",
            "alice",
            None,
            &["--history", path_str(&m.history())],
        )
        .expect(0);
    assert!(
        r.stdout
            .contains("lists this attestation where its signed log says"),
        "{}",
        r.stdout
    );
    // The exchange republishes a history without October for this customer.
    let h = History::read(&m.history()).unwrap();
    let mut without = History::new(&h.exchange, h.genesis);
    without.push(&h.entries[1]);
    let p = m.path("without.json");
    std::fs::write(&p, without.to_json()).unwrap();
    let r = m
        .customer(
            &store,
            "2026-11",
            "alice",
            None,
            &["--history", path_str(&p)],
        )
        .expect_code("history.equivocation");
    assert!(
        r.stdout
            .contains("EQUIVOCATION: the history drops the attestation for 2026-10"),
        "{}",
        r.stdout
    );
    // Comparing with a mirror's copy names the first divergence.
    let r = m
        .verify_history(&m.history(), &["--compare", path_str(&p)])
        .expect(1);
    assert!(
        r.stdout.contains("diverges from this history at entry 0"),
        "{}",
        r.stdout
    );
    let r = m
        .verify_history(&m.history(), &["--compare", path_str(&seen_history)])
        .expect(3);
    assert!(
        r.stdout
            .contains("the same history (1 entries there, 2 here"),
        "{}",
        r.stdout
    );
}

/// A corrupt store, or one from a newer version, stops the run and is never reset.
#[test]
fn a_broken_store_is_never_reset() {
    let m = Months::new();
    m.build("2026-11", CSV).expect(0);
    let store = m.path("store");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("store.json"), "{half").unwrap();
    let r = m
        .customer(&store, "2026-11", "alice", Some(&m.pubkey), &[])
        .expect(2);
    assert!(r.stderr.contains("never reset silently"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(store.join("store.json")).unwrap(),
        "{half"
    );
    std::fs::write(
        store.join("store.json"),
        r#"{"format": "por-store-v3", "exchanges": []}"#,
    )
    .unwrap();
    let r = m
        .customer(&store, "2026-11", "alice", Some(&m.pubkey), &[])
        .expect(2);
    assert!(r.stderr.contains("another version"), "{}", r.stderr);
}

/// Several months at once: the customer's balances month by month, each verified.
#[test]
fn balances_month_by_month() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    m.build("2026-11", "user_id,BTC:8\nalice,1.25\nbob,2\n")
        .expect(0);
    let (a1, a2) = (m.attestation("2026-10"), m.attestation("2026-11"));
    let (p1, p2) = (m.proof("2026-10", "alice"), m.proof("2026-11", "alice"));
    let r = run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&a1),
            "--proof",
            path_str(&p1),
            "--attestation",
            path_str(&a2),
            "--proof",
            path_str(&p2),
            "--user-id",
            "alice",
            "--exchange-key",
            &m.pubkey,
            "--no-store",
        ],
    )
    .expect(0);
    assert!(
        r.stdout
            .contains("Your balances month by month, each verified:"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("2026-10")
            && r.stdout.contains("1.00000000")
            && r.stdout.contains("1.25000000"),
        "{}",
        r.stdout
    );
    // A proof of another month's tree in the pair is a mix-up of files (exit 2), not a pass.
    run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&a1),
            "--proof",
            path_str(&p2),
            "--user-id",
            "alice",
            "--exchange-key",
            &m.pubkey,
            "--no-store",
        ],
    )
    .expect_code("proof.other_attestation");
}

/// Two Octobers, one per customer, both listed in one history (the period label is not in the
/// log's leaves): the customer's history check and the store's link check each catch it.
#[test]
fn two_octobers_in_one_history_are_caught() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let alice = m.path("alice");
    m.customer(
        &alice,
        "2026-10",
        "alice",
        Some(&m.pubkey),
        &["--history", path_str(&m.history())],
    )
    .expect(0);
    // The exchange relabels October as September in its history to get a second October signed.
    let mut h = read_json(&m.history());
    h["entries"][0]["period"] = json!("2026-09");
    write_json(&m.history(), &h);
    std::fs::write(m.path("oct-b.csv"), "user_id,BTC:8\nalice,1\n").unwrap();
    por_e2e::build_month(
        &m.path("oct-b.csv"),
        &m.key,
        "Chain Exchange",
        "2026-10",
        &m.path("oct-b"),
        &[
            "--snapshot-time",
            "2026-10-20T12:00:00Z",
            "--history",
            path_str(&m.history()),
        ],
    )
    .expect(0);
    let mut h = read_json(&m.history());
    h["entries"][0]["period"] = json!("2026-10");
    write_json(&m.history(), &h);
    m.build("2026-11", CSV).expect(0);
    let r = m
        .customer(
            &alice,
            "2026-11",
            "alice",
            None,
            &["--history", path_str(&m.history())],
        )
        .expect_code("history.equivocation");
    assert!(
        r.stdout
            .contains("EQUIVOCATION: the history lists two attestations for 2026-10"),
        "{}",
        r.stdout
    );
    // Without the history, the store still sees that November follows another October.
    let r = m.customer(&alice, "2026-11", "alice", None, &[]).expect(1);
    assert!(
        r.stdout.contains("but you verified") && r.stdout.contains("the exchange keeps two books"),
        "{}",
        r.stdout
    );
}

/// `por-verify history` with the customer's store refuses a history that leaves out what the
/// customer verified, and a renamed exchange cannot escape the store's memory.
#[test]
fn the_store_ties_the_history_and_the_name_to_what_was_verified() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    // A separate history of the same exchange, without the October alice verified.
    let other = m.path("other-history.json");
    por_e2e::build_month(
        &m.path("2026-10.csv"),
        &m.key,
        "Chain Exchange",
        "2026-10",
        &m.path("other"),
        &[
            "--snapshot-time",
            "2026-10-16T12:00:00Z",
            "--history",
            path_str(&other),
        ],
    )
    .expect(0);
    let r = run(
        "por-verify",
        &[
            "history",
            "--history",
            path_str(&other),
            "--store",
            path_str(&store),
        ],
    )
    .expect_code("history.equivocation");
    assert!(
        r.stdout.contains(
            "EQUIVOCATION: this history does not list the attestation for 2026-10 you verified"
        ),
        "{}",
        r.stdout
    );
    // The same key under another name (an invisible look-alike is bad input: tests/split_views.rs).
    std::fs::write(m.path("zw.csv"), CSV).unwrap();
    por_e2e::build_month(
        &m.path("zw.csv"),
        &m.key,
        "Chain Exchange.",
        "2026-10",
        &m.path("zw"),
        &["--snapshot-time", "2026-10-15T12:00:00Z"],
    )
    .expect(0);
    let proof = m.proof("zw", "alice");
    let r = run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&m.attestation("zw")),
            "--proof",
            path_str(&proof),
            "--user-id",
            "alice",
            "--exchange-key",
            &m.pubkey,
            "--store",
            path_str(&store),
        ],
    )
    .expect_code("key.other_name");
    assert!(
        r.stdout
            .contains("this key is pinned for the exchange \"Chain Exchange\""),
        "{}",
        r.stdout
    );
}

/// Honest data after a rotation: the month signed by the old key still verifies, and a run over
/// both months with the old key follows the handover.
#[test]
fn months_before_a_rotation_stay_verifiable() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let new_key = m.path("new.key");
    let new_pub = por_e2e::keygen(&new_key);
    let rot = m.rotation(&new_key, "2026-11");
    m.build_in(
        "2026-11",
        "2026-11",
        CSV,
        &new_key,
        &["--rotation", path_str(&rot)],
    )
    .expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    m.customer(&store, "2026-11", "alice", None, &[]).expect(0);
    let r = m.customer(&store, "2026-10", "alice", None, &[]).expect(0);
    assert!(
        r.stdout
            .contains("the key that signed it when you verified it before"),
        "{}",
        r.stdout
    );
    // First use with the old key on the month carrying its handover.
    m.customer(&m.path("fresh"), "2026-11", "alice", Some(&m.pubkey), &[])
        .expect(0);
    // Both months at once, no store, the old key given.
    let (p1, p2) = (m.proof("2026-10", "alice"), m.proof("2026-11", "alice"));
    run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&m.attestation("2026-10")),
            "--proof",
            path_str(&p1),
            "--attestation",
            path_str(&m.attestation("2026-11")),
            "--proof",
            path_str(&p2),
            "--user-id",
            "alice",
            "--exchange-key",
            &m.pubkey,
            "--no-store",
        ],
    )
    .expect(0);
    let _ = new_pub;
}
