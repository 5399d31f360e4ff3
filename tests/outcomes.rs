//! The outcome codes of spec/outcomes.md through the real `por-verify`: the `--json` shape a
//! program relies on, the words a customer reads under a failure, and one test per code.

use por_e2e::{path_str, read_json, run, write_json, Exchange};
use por_verifier::outcome::{Code, Evidence};
use serde_json::Value;

const CSV: &str = "user_id,BTC:8\nalice,1.5\nbob,2\ncarol,0.25\n";

fn json(r: &por_e2e::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", r.all()))
}

/// A passing run's JSON: the schema version, the code `ok`, and a code on every check.
#[test]
fn a_pass_carries_the_schema_version_and_a_code_per_check() {
    let ex = Exchange::build(CSV, &[]);
    let r = ex
        .verify_with(&ex.attestation(), &ex.proof("alice"), "alice", &["--json"])
        .expect_code("ok");
    let v = json(&r);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["result"], "pass");
    assert_eq!(v["evidence"], "no");
    assert_eq!(v["findings"], serde_json::json!([]));
    let codes: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for want in [
        "attestation.signature_valid",
        "attestation.fingerprint",
        "proof.included",
        "history.holds",
        "store.remembered",
    ] {
        assert!(codes.contains(&want), "{want} in {codes:?}");
    }
}

/// A tampered proof: exit 1, `proof.root_mismatch`, evidence only to the customer, and the
/// words for what to do, in the terminal and in JSON.
#[test]
fn a_tampered_proof_tells_the_customer_what_it_means_and_what_to_do() {
    let ex = Exchange::build(CSV, &[]);
    let mut p = read_json(&ex.proof("alice"));
    p["balances"][0] = Value::String("100".into());
    let forged = ex.path("tampered.json");
    write_json(&forged, &p);
    let r = ex
        .verify(&ex.attestation(), &forged, "alice")
        .expect_code("proof.root_mismatch");
    let c = Code::RootMismatch;
    assert!(
        r.stdout.contains(c.meaning()) && r.stdout.contains(c.next_step()),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(Evidence::OnlyToYou.words()),
        "{}",
        r.stdout
    );
    let v = json(
        &ex.verify_with(&ex.attestation(), &forged, "alice", &["--json"])
            .expect(1),
    );
    assert_eq!(v["code"], "proof.root_mismatch");
    assert_eq!(v["evidence"], "only_to_you");
    assert_eq!(v["next_step"], c.next_step());
    assert_eq!(v["findings"][0]["code"], "proof.root_mismatch");
    assert_eq!(v["findings"][0]["meaning"], c.meaning());
}

/// Mixed-up files are exit 2 with their own codes, in JSON as in the terminal.
#[test]
fn mixed_up_files_are_exit_2_and_say_so() {
    let ex = Exchange::build(CSV, &[]);
    let v = json(
        &ex.verify_with(&ex.attestation(), &ex.proof("bob"), "alice", &["--json"])
            .expect_code("proof.other_user"),
    );
    assert_eq!(v["result"], "error");
    assert_eq!(v["evidence"], "no");
    // Last month's proof against this month's attestation.
    let dec = Exchange::build_period(CSV, "2026-12", &["--snapshot-time", "2026-12-31T00:00:00Z"]);
    let r = run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&dec.attestation()),
            "--proof",
            path_str(&ex.proof("alice")),
            "--exchange-key",
            &dec.pubkey,
            "--user-id",
            "alice",
        ],
    )
    .expect_code("proof.other_attestation");
    assert!(
        r.stderr.contains(Code::OtherAttestation.next_step()),
        "{}",
        r.stderr
    );
    // A file that is not a proof at all.
    let junk = ex.path("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    ex.verify_with(&ex.attestation(), &junk, "alice", &["--json"])
        .expect_code("input.invalid");
}

/// No key pinned and none given: exit 2, `input.no_key`.
#[test]
fn no_key_is_its_own_code() {
    let ex = Exchange::build(CSV, &[]);
    run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&ex.attestation()),
            "--proof",
            path_str(&ex.proof("alice")),
            "--user-id",
            "alice",
            "--json",
        ],
    )
    .expect_code("input.no_key");
}

/// An attestation the exchange dated ahead of the clock (signed with its own key).
#[test]
fn a_snapshot_in_the_future_is_its_own_code() {
    let ex = Exchange::build_now(CSV, &[]);
    let att = por_verifier::Attestation::read(&ex.attestation()).unwrap();
    let (_, end) = por_verifier::time::period_bounds(&att.period).unwrap();
    // Six days after the period: allowed by the period rule, but later than now plus 2 hours.
    let ahead = por_verifier::time::format_utc(end + 6 * 86_400);
    let forged = ex.forge_attestation(|a| a.snapshot_time = ahead.clone());
    ex.verify_with(&forged, &ex.proof("alice"), "alice", &["--json"])
        .expect_code("history.future_snapshot");
}

/// Every code of spec/outcomes.md that is not a pass is asserted by some test through the
/// real binaries (`expect_code("…")`); the passes are asserted above as check codes.
#[test]
fn every_code_has_a_test() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut text = String::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") {
            text.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.exit_code() != 0 || matches!(c, Code::Ok | Code::OkSignaturesOnly))
        .map(|c| c.as_str())
        .filter(|n| !text.contains(&format!("expect_code(\"{n}\")")))
        .collect();
    assert!(missing.is_empty(), "codes without a test: {missing:?}");
}
