//! One history for everyone, tried as a dishonest exchange would: it holds the key, signs what
//! it likes, and chooses which files each customer downloads. Each test feeds the real
//! `por-verify` what such an exchange would sign itself (no node here: tests/history_chain.rs
//! has the anchors), and the honest paths that must not raise false alarms.

use por_e2e::months::Months;
use por_e2e::{path_str, read_json, run, write_json, Run};
use por_prover::build::sign;
use por_prover::keys::read_key;
use por_verifier::history::{fingerprint, History};
use por_verifier::reserves::ReservesStatement;
use por_verifier::Attestation;
use std::path::{Path, PathBuf};

const CSV: &str = "user_id,BTC:8\nalice,1\nbob,2\n";
/// A month whose reserves an empty statement covers (nothing owed), for the statement rules.
const NOTHING_OWED: &str = "user_id,USD:2\nalice,0\nbob,0\n";

fn says(r: &Run, what: &str) {
    assert!(
        r.stdout.contains(what) || r.stderr.contains(what),
        "expected {what:?} in:\n{}\n{}",
        r.stdout,
        r.stderr
    );
}

fn never_says(r: &Run, what: &str) {
    assert!(
        !r.stdout.contains(what),
        "did not expect {what:?} in:\n{}",
        r.stdout
    );
}

/// `por-verify proof` of an attestation file and a proof file, with a store.
fn prove(att: &Path, proof: &Path, user: &str, store: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "proof",
        "--attestation",
        path_str(att),
        "--proof",
        path_str(proof),
        "--user-id",
        user,
        "--store",
        path_str(store),
    ];
    args.extend_from_slice(extra);
    run("por-verify", &args)
}

/// Re-signs `att` with the key in `key_file` after `edit`, as the exchange can; returns the path.
fn resign(
    m: &Months,
    att: &Path,
    key_file: &Path,
    name: &str,
    edit: impl Fn(&mut Attestation),
) -> PathBuf {
    let mut a = Attestation::read(att).unwrap();
    edit(&mut a);
    sign(&mut a, &read_key(key_file).unwrap()).unwrap();
    let p = m.path(name);
    std::fs::write(&p, a.to_json()).unwrap();
    p
}

fn store_json(store: &Path) -> serde_json::Value {
    read_json(&store.join("store.json"))
}

/// Case 2: a look-alike name (an invisible character, another normal form) is bad input in
/// every command that reads a name, not a second exchange.
#[test]
fn look_alike_names_are_bad_input() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    for (bad, code) in [
        ("Chain Exchange\u{200b}", "U+200B"),
        ("Chain Exchange\u{2028}", "U+2028"),
        ("Cafe\u{301}", "normal form"),
    ] {
        let mut h = read_json(&m.history());
        h["exchange"] = bad.into();
        let p = m.path("lookalike-history.json");
        write_json(&p, &h);
        let r = m.verify_history(&p, &[]).expect(2);
        says(&r, code);
        let att = resign(
            &m,
            &m.attestation("2026-10"),
            &m.key,
            "lookalike.json",
            |a| a.exchange = bad.into(),
        );
        let store = m.path("store-lookalike");
        let r = prove(
            &att,
            &m.proof("2026-10", "alice"),
            "alice",
            &store,
            &["--exchange-key", &m.pubkey],
        )
        .expect(2);
        says(&r, code);
    }
    let r = run(
        "por-verify",
        &[
            "pin",
            "--exchange",
            "Chain Exchange\u{200b}",
            "--key",
            &m.pubkey,
            "--confirm",
            "--store",
            path_str(&m.path("s")),
        ],
    )
    .expect(2);
    says(&r, "U+200B");
}

/// Case 3: the signer is in the signed bytes. A copy re-signed by another key has another
/// digest and fingerprint, is never "the key that signed it when you verified it before", and
/// a history of re-signed copies diverges from the real one at its first entry.
#[test]
fn a_copy_signed_by_another_key_never_looks_alike() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let k5 = m.path("k5.key");
    let k5_pub = por_e2e::keygen(&k5);
    let copy = resign(&m, &m.attestation("2026-10"), &k5, "copy.json", |_| {});
    let (real, fake) = (
        Attestation::read(&m.attestation("2026-10")).unwrap(),
        Attestation::read(&copy).unwrap(),
    );
    assert_ne!(real.digest(), fake.digest());
    assert_ne!(fingerprint(&real.digest()), fingerprint(&fake.digest()));
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    let r = prove(
        &copy,
        &m.proof("2026-10", "alice"),
        "alice",
        &store,
        &["--exchange-key", &k5_pub],
    )
    .expect_code("key.changed");
    says(&r, "KEY CHANGED");
    never_says(&r, "when you verified it before");
    // The history of re-signed copies.
    let h = History::read(&m.history()).unwrap();
    let mut other = History::new(&h.exchange, h.genesis);
    let mut e = h.entries[0].clone();
    e.digest = fake.digest();
    e.public_key = fake.public_key;
    other.push(&e);
    let p = m.path("resigned-history.json");
    std::fs::write(&p, other.to_json()).unwrap();
    let r = m
        .verify_history(&m.history(), &["--compare", path_str(&p)])
        .expect(1);
    says(&r, "diverges from this history at entry 0");
}

/// Case 4: with a history, only the latest statement it lists for the month counts; an older
/// one or one it does not list is a failure naming both numbers. Without a history, the
/// statement checked is named with a warning that a later one may exist.
#[test]
fn only_the_latest_listed_statement_counts() {
    let m = Months::new();
    m.build("2026-10", NOTHING_OWED).expect(0);
    m.empty_reserves("2026-10").expect(0);
    m.empty_reserves("2026-10").expect(0);
    let dir = m.path("2026-10");
    let (s1, s2) = (
        dir.join("reserves-0001.json"),
        dir.join("reserves-0002.json"),
    );
    let hist = m.history();
    let customer = |st: &Path, extra: &[&str]| {
        let store = m.path(&format!("store-{}", rand_name()));
        let mut args = vec!["--reserves", path_str(st)];
        args.extend_from_slice(extra);
        m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &args)
    };
    let r =
        customer(&s1, &["--history", path_str(&hist)]).expect_code("reserves.statement_superseded");
    says(
        &r,
        "reserves statement #1 is superseded: the history lists #2",
    );
    customer(&s2, &["--history", path_str(&hist)]).expect(0);
    let r = customer(&s2, &[]).expect(0);
    says(
        &r,
        "statement #2 was checked; the exchange may have published a later one",
    );
    // A statement the exchange signed but never listed.
    let mut s7 = ReservesStatement::read(&s2).unwrap();
    s7.sequence = 7;
    let key = read_key(&m.key).unwrap();
    use ed25519_dalek::Signer;
    s7.signature = key.sign(&s7.signing_message()).to_bytes();
    let p7 = m.path("reserves-0007.json");
    std::fs::write(&p7, s7.to_json()).unwrap();
    let r = customer(&p7, &["--history", path_str(&hist)]).expect_code("history.not_listed");
    says(&r, "reserves statement #7 is not in the published history");
    says(&r, "#2 as the latest");
    // `reserves` follows the same rule.
    let reserves = |st: &Path| {
        run(
            "por-verify",
            &[
                "reserves",
                "--attestation",
                path_str(&m.attestation("2026-10")),
                "--reserves",
                path_str(st),
                "--exchange-key",
                &m.pubkey,
                "--no-store",
                "--history",
                path_str(&hist),
                "--offline",
            ],
        )
    };
    says(
        &reserves(&s1).expect_code("reserves.statement_superseded"),
        "superseded",
    );
    says(&reserves(&p7).expect(1), "not in the published history");
    reserves(&s2).expect(0);
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Case 5: a customer who verified the real October and is then shown a forged September (in a
/// later run, or in the same run after October) is told the months do not link.
#[test]
fn months_link_in_either_order() {
    let m = Months::new();
    m.build("2026-09", CSV).expect(0);
    m.build("2026-10", CSV).expect(0);
    let forged = resign(
        &m,
        &m.attestation("2026-09"),
        &m.key,
        "forged-sep.json",
        |a| a.snapshot_time = "2026-09-16T12:00:00Z".into(),
    );
    let sep_proof = m.proof("2026-09", "alice");
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    let r = prove(&forged, &sep_proof, "alice", &store, &[]).expect_code("history.equivocation");
    says(
        &r,
        "EQUIVOCATION: the attestation for 2026-10 you verified before follows",
    );
    // The real September links.
    m.customer(&store, "2026-09", "alice", None, &[]).expect(0);
    // In one run: October, then the forged September.
    let fresh = m.path("fresh");
    let oct = m.attestation("2026-10");
    let oct_proof = m.proof("2026-10", "alice");
    let r = run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&oct),
            "--proof",
            path_str(&oct_proof),
            "--attestation",
            path_str(&forged),
            "--proof",
            path_str(&sep_proof),
            "--user-id",
            "alice",
            "--exchange-key",
            &m.pubkey,
            "--store",
            path_str(&fresh),
        ],
    )
    .expect_code("history.equivocation");
    says(&r, "EQUIVOCATION");
    says(&r, "nothing of this run was remembered");
    assert!(
        !fresh.join("store.json").exists(),
        "a failed run remembers nothing"
    );
}

/// Case 6: twenty runs at once on one store, five times over, lose no record and never exit 2.
#[test]
fn concurrent_runs_on_one_store_lose_nothing() {
    let m = Months::new();
    let periods: Vec<String> = (0..20)
        .map(|i| {
            let m = 2025 * 12 + 3 + i; // April 2025 to November 2026
            format!("{}-{:02}", m / 12, m % 12 + 1)
        })
        .collect();
    for p in &periods {
        m.build(p, CSV).expect(0);
    }
    let proofs: Vec<PathBuf> = periods.iter().map(|p| m.proof(p, "alice")).collect();
    let bin = por_e2e::bin("por-verify");
    for round in 0..5 {
        let store = m.path(&format!("store-{round}"));
        let children: Vec<_> = periods
            .iter()
            .zip(&proofs)
            .map(|(p, proof)| {
                std::process::Command::new(&bin)
                    .args(["proof", "--attestation"])
                    .arg(m.attestation(p))
                    .arg("--proof")
                    .arg(proof)
                    .args(["--user-id", "alice", "--exchange-key", &m.pubkey, "--store"])
                    .arg(&store)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let s = store_json(&store);
        let seen = s["exchanges"][0]["seen"].as_array().unwrap();
        assert_eq!(seen.len(), 20, "round {round}: every month remembered");
        for p in &periods {
            assert!(
                seen.iter().any(|x| x["period"] == p.as_str()),
                "round {round}: {p}"
            );
        }
    }
}

/// Case 6: a run that fails remembers nothing; an attestation refused as EQUIVOCATION moves no
/// pin through its rotation section; an attestation dated in the future is refused.
#[test]
fn a_failed_run_changes_nothing_in_the_store() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    let before = store_json(&store);
    // Another October, signed by a new key with a valid handover from the pinned key.
    let k2 = m.path("k2.key");
    let k2_pub = por_e2e::keygen(&k2);
    let rot = m.rotation(&k2, "2026-10");
    let rot: por_verifier::history::KeyRotationJson =
        serde_json::from_slice(&std::fs::read(&rot).unwrap()).unwrap();
    let rot = por_verifier::history::KeyRotation::from_json(rot, "rotation").unwrap();
    let other = resign(&m, &m.attestation("2026-10"), &k2, "other-oct.json", |a| {
        a.snapshot_time = "2026-10-16T12:00:00Z".into();
        a.rotation = Some(rot.clone());
    });
    let r = prove(&other, &m.proof("2026-10", "alice"), "alice", &store, &[])
        .expect_code("history.equivocation");
    says(&r, "EQUIVOCATION");
    says(&r, "nothing of this run was remembered");
    assert_eq!(
        store_json(&store),
        before,
        "the pin did not move to {k2_pub}"
    );
    // A month dated in the future: signed ahead, to be shown later as the exchange pleases.
    let future = m.path("future");
    por_e2e::build_month(
        &m.path("2026-10.csv"),
        &m.key,
        "Chain Exchange",
        "2099-01",
        &future,
        &["--snapshot-time", "2099-01-15T12:00:00Z"],
    )
    .expect(0);
    let p = m.path("future-proof.json");
    run(
        "por-prove",
        &[
            "proof",
            "--from",
            path_str(&future),
            "--user",
            "alice",
            "--out",
            path_str(&p),
        ],
    )
    .expect(0);
    let r = prove(&future.join("attestation.json"), &p, "alice", &store, &[]).expect(1);
    says(&r, "later than now");
    assert_eq!(store_json(&store), before);
}

/// Case 6: a store that cannot be written still gives the verdict: EQUIVOCATION stays exit 1,
/// saying the evidence could not be written; an honest run says it was not remembered.
#[test]
fn a_read_only_store_still_gives_the_verdict() {
    let m = Months::new();
    m.build("2026-10", CSV).expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-10", "alice", Some(&m.pubkey), &[])
        .expect(0);
    // The tests run as root, for whom permissions do not stop a write: a directory where the
    // lock file and the evidence directory should be makes both unwritable all the same.
    std::fs::remove_file(store.join("lock")).unwrap();
    std::fs::create_dir(store.join("lock")).unwrap();
    let blocked = m.path("evidence-is-a-file");
    std::fs::write(&blocked, "").unwrap();
    let other = resign(
        &m,
        &m.attestation("2026-10"),
        &m.key,
        "other-oct.json",
        |a| a.snapshot_time = "2026-10-16T12:00:00Z".into(),
    );
    let r = prove(
        &other,
        &m.proof("2026-10", "alice"),
        "alice",
        &store,
        &["--evidence-dir", path_str(&blocked)],
    )
    .expect_code("history.equivocation");
    says(&r, "EQUIVOCATION");
    says(&r, "The evidence could not be written");
    let r = m.customer(&store, "2026-10", "alice", None, &[]).expect(0);
    says(&r, "NOT REMEMBERED");
}

/// Case 8: the key rotates in a month the customer skipped; with the history, the handover it
/// lists is followed (without it, KEY CHANGED says to give the history). A customer who trusts
/// a middle key of K1 → K6 → K7 is not refused by `history`.
#[test]
fn rotations_are_followed_across_skipped_months_and_from_any_key() {
    let m = Months::new();
    m.build("2026-08", CSV).expect(0);
    let k6 = m.path("k6.key");
    let k6_pub = por_e2e::keygen(&k6);
    let rot = m.rotation(&k6, "2026-09");
    m.build_in(
        "2026-09",
        "2026-09",
        CSV,
        &k6,
        &["--rotation", path_str(&rot)],
    )
    .expect(0);
    m.build_in("2026-10", "2026-10", CSV, &k6, &[]).expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-08", "alice", Some(&m.pubkey), &[])
        .expect(0);
    let r = m
        .customer(&store, "2026-10", "alice", None, &[])
        .expect_code("key.changed");
    says(&r, "KEY CHANGED");
    says(&r, "give the exchange's history (--history history.json)");
    let r = m
        .customer(
            &store,
            "2026-10",
            "alice",
            None,
            &["--history", path_str(&m.history())],
        )
        .expect(0);
    says(
        &r,
        "a NEW KEY, handed over by the pinned key through 1 rotation(s) the history lists",
    );
    eprintln!("--- a rotation across a skipped month:\n{}", r.stdout);
    assert_eq!(store_json(&store)["exchanges"][0]["key"], k6_pub.as_str());
    // K6 → K7 in November... in the same history; a customer trusting K6 checks the whole.
    let k7 = m.path("k7.key");
    por_e2e::keygen(&k7);
    let rot7 = {
        let out = m.path("rot7.json");
        run(
            "por-prove",
            &[
                "rotate-key",
                "--old-key",
                path_str(&k6),
                "--new-key",
                path_str(&k7),
                "--exchange",
                "Chain Exchange",
                "--period",
                "2026-11",
                "--out",
                path_str(&out),
            ],
        )
        .expect(0);
        out
    };
    m.build_in(
        "2026-11",
        "2026-11",
        CSV,
        &k7,
        &["--rotation", path_str(&rot7)],
    )
    .expect(0);
    let r = m.verify_history_as(&m.history(), &k6_pub, &[]).expect(3);
    never_says(&r, "[FAIL]");
    says(&r, "key rotated from");
}

/// Case 8: the old key is lost; the exchange signs with a new key without a handover and the
/// customer re-pins by hand. `proof --history` and `history` then pass; the unsigned change is
/// accepted at the first entry of the re-pinned key only, so a later one still fails.
#[test]
fn a_key_repinned_by_hand_is_accepted_from_its_first_entry() {
    let m = Months::new();
    m.build("2026-08", CSV).expect(0);
    let k2 = m.path("k2.key");
    let k2_pub = por_e2e::keygen(&k2);
    m.build_in("2026-09", "2026-09", CSV, &k2, &[]).expect(2);
    m.build_in("2026-09", "2026-09", CSV, &k2, &["--key-lost"])
        .expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-08", "alice", Some(&m.pubkey), &[])
        .expect(0);
    says(
        &m.customer(&store, "2026-09", "alice", None, &[]).expect(1),
        "KEY CHANGED",
    );
    run(
        "por-verify",
        &[
            "pin",
            "--exchange",
            "Chain Exchange",
            "--key",
            &k2_pub,
            "--confirm",
            "--store",
            path_str(&store),
        ],
    )
    .expect(0);
    m.customer(
        &store,
        "2026-09",
        "alice",
        None,
        &["--history", path_str(&m.history())],
    )
    .expect(0);
    let published = m.history();
    let history = |extra: &[&str]| {
        let mut args = vec![
            "history",
            "--history",
            path_str(&published),
            "--store",
            path_str(&store),
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    };
    let r = history(&[]).expect(3);
    says(&r, "accepted because you re-pinned");
    never_says(&r, "[FAIL]");
    // A second unsigned change (to K3) is not covered by the re-pin of K2.
    let k3 = m.path("k3.key");
    por_e2e::keygen(&k3);
    m.build_in("2026-10", "2026-10", CSV, &k3, &["--key-lost"])
        .expect(0);
    says(
        &history(&[]).expect(1),
        "with no rotation signed by the old key",
    );
}

/// One key signing two different handovers is EQUIVOCATION: a customer who followed K1 → K2
/// is shown a history in which K1 hands the exchange to K3.
#[test]
fn one_key_signing_two_rotations_is_equivocation() {
    let m = Months::new();
    m.build("2026-08", CSV).expect(0);
    let aug_history = m.path("aug-history.json");
    std::fs::copy(m.history(), &aug_history).unwrap();
    let k2 = m.path("k2.key");
    por_e2e::keygen(&k2);
    let rot2 = m.rotation(&k2, "2026-09");
    m.build_in(
        "2026-09",
        "2026-09",
        CSV,
        &k2,
        &["--rotation", path_str(&rot2)],
    )
    .expect(0);
    let store = m.path("store");
    m.customer(&store, "2026-08", "alice", Some(&m.pubkey), &[])
        .expect(0);
    m.customer(&store, "2026-09", "alice", None, &[]).expect(0);
    // The other history: the same August, then K1 hands over to K3.
    let k3 = m.path("k3.key");
    por_e2e::keygen(&k3);
    let rot3 = m.rotation(&k3, "2026-09");
    let other_dir = m.path("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    std::fs::copy(&aug_history, other_dir.join("history.json")).unwrap();
    std::fs::create_dir_all(other_dir.join("2026-08")).unwrap();
    std::fs::copy(
        m.attestation("2026-08"),
        other_dir.join("2026-08/attestation.json"),
    )
    .unwrap();
    por_e2e::build_month(
        &m.path("2026-09.csv"),
        &k3,
        "Chain Exchange",
        "2026-09",
        &other_dir.join("2026-09"),
        &[
            "--snapshot-time",
            "2026-09-16T12:00:00Z",
            "--history",
            path_str(&other_dir.join("history.json")),
            "--rotation",
            path_str(&rot3),
        ],
    )
    .expect(0);
    let r = run(
        "por-verify",
        &[
            "history",
            "--history",
            path_str(&other_dir.join("history.json")),
            "--store",
            path_str(&store),
        ],
    )
    .expect_code("history.equivocation");
    says(&r, "EQUIVOCATION: key");
    says(&r, "handed the exchange to");
}

/// Case 1 without a node: a customer who only runs `history` now pins the key and remembers
/// what it verified, so a rewrite shown later is caught.
#[test]
fn history_remembers_what_it_verified() {
    let m = Months::new();
    m.build("2026-09", CSV).expect(0);
    m.build("2026-10", CSV).expect(0);
    let store = m.path("store");
    let history = |h: &Path, extra: &[&str]| {
        let mut args = vec![
            "history",
            "--history",
            path_str(h),
            "--store",
            path_str(&store),
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    };
    history(&m.history(), &["--exchange-key", &m.pubkey]).expect(3);
    assert_eq!(
        store_json(&store)["exchanges"][0]["seen"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The rewrite: another September and October, chained and signed by the same key.
    let other = m.path("rewrite");
    std::fs::create_dir_all(&other).unwrap();
    for (p, t) in [
        ("2026-09", "2026-09-16T12:00:00Z"),
        ("2026-10", "2026-10-16T12:00:00Z"),
    ] {
        por_e2e::build_month(
            &m.path(&format!("{p}.csv")),
            &m.key,
            "Chain Exchange",
            p,
            &other.join(p),
            &[
                "--snapshot-time",
                t,
                "--history",
                path_str(&other.join("history.json")),
            ],
        )
        .expect(0);
    }
    let r = history(&other.join("history.json"), &[]).expect_code("history.equivocation");
    says(
        &r,
        "EQUIVOCATION: this history does not list the attestation for 2026-09 you verified before",
    );
}
