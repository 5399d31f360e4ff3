//! Every attack the core issue names: each test builds the malicious artefact, runs the real
//! `por-verify`, and checks that it exits 1 with the reason.

use por_e2e::{path_str, read_json, write_json, Exchange};
use por_prover::build::sign;
use por_prover::keys::read_key;
use por_verifier::hash::{leaf_hash, node_hash, user_commitment, Hash};
use por_verifier::tree::Sibling;
use por_verifier::{Amount, Asset, Attestation, InclusionProof};
use serde_json::json;

fn csv() -> String {
    let mut s = String::from("user_id,BTC:8,USDT:6\n");
    for i in 0..16u32 {
        s.push_str(&format!("c{i},{}.5,{}\n", i + 1, 1000 * (i + 1)));
    }
    s
}

/// Writes a modified copy of `user`'s proof and verifies it as `as_user`.
fn tampered(
    ex: &Exchange,
    user: &str,
    as_user: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> por_e2e::Run {
    let mut p = read_json(&ex.proof(user));
    edit(&mut p);
    let path = ex.path("tampered.json");
    write_json(&path, &p);
    ex.verify(&ex.attestation(), &path, as_user)
}

/// The first level whose sibling has a non-zero sum (an occupied subtree).
fn occupied_level(p: &serde_json::Value) -> usize {
    p["path"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s[1] != "0")
        .expect("an occupied sibling")
}

// 1. A sibling's sums altered (the Maxwell flaw), and a parent whose sums are not its children's.

#[test]
fn altered_sibling_sums_are_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let r = tampered(&ex, "c3", "c3", |p| {
        let l = occupied_level(p);
        p["path"][l][1] = json!("1");
    })
    .expect(1);
    assert!(
        r.stdout.contains("NOT VERIFIED") && r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
}

/// A malicious exchange that assembles its tree by hand and signs whatever root and total it
/// likes with its real key; customers then run the real verifier on proofs it hands out.
struct Handmade {
    tmp: tempfile::TempDir,
    pk: String,
    att_path: std::path::PathBuf,
    exchange: &'static str,
}

impl Handmade {
    fn sign(exchange: &'static str, height: u8, root: Hash, total: u128) -> Handmade {
        let tmp = tempfile::tempdir().unwrap();
        let key_path = tmp.path().join("k");
        let pk = por_e2e::run("por-prove", &["keygen", "--out", path_str(&key_path)])
            .expect(0)
            .stdout
            .trim()
            .to_string();
        let mut att = Attestation {
            exchange: exchange.into(),
            period: "2026-11".into(),
            snapshot_time: "2026-11-30T00:00:00Z".into(),
            assets: vec![Asset {
                symbol: "BTC".into(),
                decimals: 8,
            }],
            tree_height: height,
            root_hash: root,
            liabilities: vec![Amount(total)],
            bindings: Vec::new(),
            history: por_verifier::history::HistoryLink::first(None),
            rotation: None,
            hidden: None,
            public_key: [0; 32],
            signature: [0; 64],
        };
        sign(&mut att, &read_key(&key_path).unwrap()).unwrap();
        let att_path = tmp.path().join("attestation.json");
        std::fs::write(&att_path, att.to_json()).unwrap();
        Handmade {
            tmp,
            pk,
            att_path,
            exchange,
        }
    }

    /// `user` (salt `[salt; 32]`, 10 units at `position`) verifies the proof with `path`.
    fn verify(&self, user: &str, salt: u8, position: u64, path: Vec<Sibling>) -> por_e2e::Run {
        let proof = InclusionProof {
            exchange: self.exchange.into(),
            period: "2026-11".into(),
            user_id: user.into(),
            salt: [salt; 32],
            position,
            balances: vec![Amount(10)],
            path,
        };
        let p = self.tmp.path().join(format!("{user}.json"));
        std::fs::write(&p, proof.to_json()).unwrap();
        por_e2e::run(
            "por-verify",
            &[
                "proof",
                "--attestation",
                path_str(&self.att_path),
                "--proof",
                path_str(&p),
                "--exchange-key",
                &self.pk,
                "--user-id",
                user,
            ],
        )
    }
}

fn leaf10(user: &str, salt: u8) -> Hash {
    leaf_hash(&user_commitment(user, &[salt; 32]), &[Amount(10)])
}

fn sib(hash: Hash, sum: u128) -> Sibling {
    Sibling {
        hash,
        sums: vec![Amount(sum)],
    }
}

/// Maxwell's scheme hashed only a parent's total, so a prover could tell each of two customers
/// that the other's subtree holds nothing. Here the prover signs a root that claims bob's
/// subtree sums to 0: alice's check passes (her balance is there), but bob's fails whatever
/// sums the prover puts next to alice's hash, because each child's sums are hashed separately.
#[test]
fn maxwell_flaw_is_closed() {
    let (la, lb) = (leaf10("alice", 1), leaf10("bob", 2));
    let root = node_hash(&la, &[Amount(10)], &lb, &[Amount(0)]);
    let ex = Handmade::sign("Maxwell", 1, root, 10); // the true total is 20
    ex.verify("alice", 1, 0, vec![sib(lb, 0)]).expect(0);
    for claimed in [0u128, 10] {
        let r = ex
            .verify("bob", 2, 1, vec![sib(la, claimed)])
            .expect_code("proof.root_mismatch");
        assert!(
            r.stdout.contains("not the root the exchange signed"),
            "{}",
            r.stdout
        );
    }
}

/// A parent whose sums are less than its children's: the customers below it catch it.
#[test]
fn parent_sums_not_equal_to_childrens_sums_are_caught() {
    let ten = [Amount(10)];
    let l: Vec<Hash> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, u)| leaf10(u, i as u8))
        .collect();
    let n0 = node_hash(&l[0], &ten, &l[1], &ten);
    let n1 = node_hash(&l[2], &ten, &l[3], &ten);
    // The prover says n0 holds 5 instead of 20, and signs a total of 25 instead of 40.
    let root = node_hash(&n0, &[Amount(5)], &n1, &[Amount(20)]);
    let ex = Handmade::sign("Lowball", 2, root, 25);
    // c is outside the lying node: consistent for c.
    ex.verify("c", 2, 2, vec![sib(l[3], 10), sib(n0, 5)])
        .expect(0);
    // a is below it: a recomputes n0's sums as 20 and the root no longer matches.
    let r = ex
        .verify("a", 0, 0, vec![sib(l[1], 10), sib(n1, 20)])
        .expect_code("proof.root_mismatch");
    assert!(
        r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
    // Nor can the prover make up for it by shrinking b's sums in a's proof: b's sums are hashed.
    ex.verify("a", 0, 0, vec![sib(l[1], 0), sib(n1, 20)])
        .expect(1);
}

// 2. The customer's own balance lowered in the proof.

#[test]
fn lowered_own_balance_is_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let r = tampered(&ex, "c5", "c5", |p| p["balances"][0] = json!("100"))
        .expect_code("proof.root_mismatch");
    assert!(
        r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
}

// 3. A proof for one customer presented for another customer id.

#[test]
fn someone_elses_proof_is_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let r = ex
        .verify(&ex.attestation(), &ex.proof("c1"), "c2")
        .expect_code("proof.other_user");
    assert!(r.stderr.contains("someone else's proof"), "{}", r.stderr);
    // Rewriting the id in the file does not help: the leaf commits to H(user_id, salt).
    let r = tampered(&ex, "c1", "c2", |p| p["user_id"] = json!("c2"))
        .expect_code("proof.root_mismatch");
    assert!(
        r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
}

// 4. A sibling sum near 2^128 so that the addition would wrap.

#[test]
fn wrapping_sibling_sum_is_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let near = (u128::MAX - 5).to_string();
    let r = tampered(&ex, "c2", "c2", |p| {
        let l = occupied_level(p);
        p["path"][l][1] = json!(near);
    })
    .expect_code("proof.invalid_path");
    assert!(r.stdout.contains("overflow 128 bits"), "{}", r.stdout);
    // One past the largest amount is not an amount at all: bad input, exit 2.
    let too_big = "340282366920938463463374607431768211456";
    let r = tampered(&ex, "c2", "c2", |p| p["path"][0][1] = json!(too_big)).expect(2);
    assert!(r.stderr.contains("path[0][1]"), "{}", r.stderr);
}

// 5. The root or a total edited after signing; an attestation signed by another key.

#[test]
fn edited_attestation_is_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let proof = ex.proof("c4");
    for (field, value) in [
        ("root_hash", json!("00".repeat(32))),
        ("liabilities", json!(["1", "1"])),
    ] {
        let mut a = read_json(&ex.attestation());
        a[field] = value;
        let path = ex.path("edited.json");
        write_json(&path, &a);
        let r = ex.verify(&path, &proof, "c4").expect(1);
        assert!(
            r.stdout.contains("signature is not valid"),
            "{field}: {}",
            r.stdout
        );
    }
}

#[test]
fn attestation_signed_by_another_key_is_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let other = ex.path("other.key");
    por_e2e::run("por-prove", &["keygen", "--out", path_str(&other)]).expect(0);
    let other = read_key(&other).unwrap();
    let mut att = Attestation::read(&ex.attestation()).unwrap();
    sign(&mut att, &other).unwrap();
    let path = ex.path("resigned.json");
    std::fs::write(&path, att.to_json()).unwrap();
    let r = ex
        .verify(&path, &ex.proof("c4"), "c4")
        .expect_code("attestation.wrong_key");
    assert!(
        r.stdout.contains("not by the exchange key you gave"),
        "{}",
        r.stdout
    );
    // The other key's signature under the real key's name.
    let mut a = read_json(&path);
    a["public_key"] = json!(ex.pubkey);
    write_json(&path, &a);
    let r = ex
        .verify(&path, &ex.proof("c4"), "c4")
        .expect_code("attestation.signature_invalid");
    assert!(r.stdout.contains("signature is not valid"), "{}", r.stdout);
}

// 6. A path that is too short, too long, or in the wrong order.

#[test]
fn malformed_paths_are_caught() {
    let ex = Exchange::build(&csv(), &[]);
    let r = tampered(&ex, "c6", "c6", |p| {
        p["path"].as_array_mut().unwrap().pop();
    })
    .expect(1);
    assert!(
        r.stdout.contains("has 31 steps") && r.stdout.contains("expected exactly 32"),
        "{}",
        r.stdout
    );
    let r = tampered(&ex, "c6", "c6", |p| {
        let first = p["path"][0].clone();
        p["path"].as_array_mut().unwrap().push(first);
    })
    .expect(1);
    assert!(r.stdout.contains("has 33 steps"), "{}", r.stdout);
    let r = tampered(&ex, "c6", "c6", |p| {
        p["path"].as_array_mut().unwrap().swap(0, 1)
    })
    .expect_code("proof.root_mismatch");
    assert!(
        r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
    let r = tampered(&ex, "c6", "c6", |p| {
        p["path"].as_array_mut().unwrap().reverse()
    })
    .expect_code("proof.root_mismatch");
    assert!(
        r.stdout.contains("not the root the exchange signed"),
        "{}",
        r.stdout
    );
    // A position on the other side of a node is a different path, too.
    let r = tampered(&ex, "c6", "c6", |p| {
        let pos = p["position"].as_u64().unwrap();
        p["position"] = json!(pos ^ 1);
    })
    .expect(1);
    assert!(r.stdout.contains("not the root"), "{}", r.stdout);
}

#[test]
fn hostile_proof_files_exit_2_without_panicking() {
    let ex = Exchange::build(&csv(), &[]);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"hello".to_vec()),
        ("binary", vec![0xff, 0xfe, 0x00, 0x80]),
        ("deep nesting", "[".repeat(100_000).into_bytes()),
        (
            "wrong types",
            br#"{"format":"por-proof-v1","exchange":1}"#.to_vec(),
        ),
        ("unknown field", {
            let mut p = read_json(&ex.proof("c1"));
            p["extra"] = json!(1);
            serde_json::to_vec(&p).unwrap()
        }),
        ("short salt", {
            let mut p = read_json(&ex.proof("c1"));
            p["salt"] = json!("abcd");
            serde_json::to_vec(&p).unwrap()
        }),
        ("negative sum", {
            let mut p = read_json(&ex.proof("c1"));
            p["path"][3][2] = json!("-5");
            serde_json::to_vec(&p).unwrap()
        }),
        ("huge position", {
            let mut p = read_json(&ex.proof("c1"));
            p["position"] = json!(u64::MAX);
            serde_json::to_vec(&p).unwrap()
        }),
    ];
    for (what, bytes) in bad {
        let path = ex.path("bad.json");
        std::fs::write(&path, bytes).unwrap();
        let r = ex.verify(&ex.attestation(), &path, "c1");
        assert!(
            r.code == 2 || (what == "huge position" && r.code == 1),
            "{what}: {}",
            r.all()
        );
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
        assert!(
            r.all().contains("bad.json") || r.code == 1,
            "{what}: must name the file: {}",
            r.all()
        );
    }
}

// 7. For the auditor: a customer left out, a balance lowered, a duplicate leaf, wrong totals.

/// The exchange builds from a doctored export; the auditor checks against the true ledger.
fn doctored(edit: impl Fn(&str) -> String) -> (Exchange, std::path::PathBuf) {
    let truth = csv();
    let ex = Exchange::build(&edit(&truth), &[]);
    let ledger = ex.path("true-ledger.csv");
    std::fs::write(&ledger, truth).unwrap();
    (ex, ledger)
}

#[test]
fn audit_catches_a_customer_left_out() {
    let (ex, ledger) = doctored(|t| {
        t.lines()
            .filter(|l| !l.starts_with("c9,"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let r = ex
        .audit(&ex.attestation(), &["--liabilities", path_str(&ledger)])
        .expect(1);
    assert!(
        r.stdout.contains("customer \"c9\"") && r.stdout.contains("is not in the tree"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("AUDIT FAILED"));
    assert!(r.stdout.contains("ledger_total_mismatch"));
}

#[test]
fn audit_catches_a_lowered_balance() {
    let (ex, ledger) = doctored(|t| t.replace("c4,5.5,5000", "c4,0.5,5000"));
    let r = ex
        .audit(
            &ex.attestation(),
            &["--liabilities", path_str(&ledger), "--json"],
        )
        .expect(1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["result"], "fail");
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["kind"] == "balance_mismatch"
            && f["message"].as_str().unwrap().contains(
                "BTC lowered in the tree: 0.50000000 in the tree, 5.50000000 in the ledger"
            )),
        "{findings:?}"
    );
}

#[test]
fn audit_catches_a_duplicate_leaf() {
    let ex = Exchange::build(&csv(), &["--height", "8"]);
    // The exchange puts c3 in twice (say, to pad its customer count); the auditor reads the
    // leaves before recomputing anything, so no re-signing can hide it.
    let leaves_path = ex.out.join("private/leaves.csv");
    let text = std::fs::read_to_string(&leaves_path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let c3 = lines
        .iter()
        .find(|l| l.split(',').nth(2) == Some("c3"))
        .unwrap()
        .clone();
    let taken: Vec<u64> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let free = (0..256u64).find(|p| !taken.contains(p)).unwrap();
    let dup = format!("{free},{}", c3.split_once(',').unwrap().1);
    lines.push(dup);
    let mut rows = lines.split_off(1);
    rows.sort_by_key(|l| l.split(',').next().unwrap().parse::<u64>().unwrap());
    lines.extend(rows);
    std::fs::write(&leaves_path, lines.join("\n") + "\n").unwrap();
    let r = ex.audit(&ex.attestation(), &[]).expect(1);
    assert!(
        r.stdout.contains("duplicate leaf") && r.stdout.contains("\"c3\""),
        "{}",
        r.stdout
    );
    // Two leaves at one position are a duplicate leaf too.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let copy = lines[2].clone();
    lines.insert(2, copy);
    std::fs::write(&leaves_path, lines.join("\n") + "\n").unwrap();
    let r = ex.audit(&ex.attestation(), &[]).expect(1);
    assert!(r.stdout.contains("duplicate leaf"), "{}", r.stdout);
}

#[test]
fn audit_catches_totals_that_do_not_match_the_data() {
    let ex = Exchange::build(&csv(), &[]);
    let key = read_key(&ex.key).unwrap();
    let mut att = Attestation::read(&ex.attestation()).unwrap();
    att.liabilities[1] = Amount(att.liabilities[1].0 - 1_000_000);
    sign(&mut att, &key).unwrap();
    let path = ex.path("lowered.json");
    std::fs::write(&path, att.to_json()).unwrap();
    let r = ex.audit(&path, &[]).expect(1);
    assert!(
        r.stdout.contains(
            "USDT: the tree data adds up to 136000.000000, but the attestation signs 135999.000000"
        ),
        "{}",
        r.stdout
    );
    // And a customer's proof against that attestation fails too.
    let r = ex
        .verify(&path, &ex.proof("c1"), "c1")
        .expect_code("proof.totals_mismatch");
    assert!(
        r.stdout.contains("the tree's total for USDT"),
        "{}",
        r.stdout
    );
}

#[test]
fn audit_catches_a_tampered_leaf_file() {
    let ex = Exchange::build(&csv(), &[]);
    let leaves_path = ex.out.join("private/leaves.csv");
    let text = std::fs::read_to_string(&leaves_path)
        .unwrap()
        .replace(",5.50000000,", ",5.40000000,");
    std::fs::write(&leaves_path, text).unwrap();
    let r = ex.audit(&ex.attestation(), &[]).expect(1);
    assert!(
        r.stdout.contains("root_mismatch") && r.stdout.contains("balance_mismatch"),
        "{}",
        r.stdout
    );
}
