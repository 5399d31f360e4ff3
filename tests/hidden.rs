//! Hidden sums end to end, and the attacks of issue 7 tried as a dishonest exchange would: it
//! builds with the real prover, then edits proofs and re-signs attestations with its own key;
//! customers run the real `por-verify`.

use ark_bn254::G1Projective;
use ark_ec::{AffineRepr, CurveGroup};
use por_e2e::{read_json, Exchange, Run};
use por_hidden::encoding::point_bytes;
use por_hidden::generators::Generators;
use por_hidden::{path as hpath, Point, Scalar};
use por_verifier::hidden::{leaf_of, Commitments, HiddenProof};
use por_verifier::hidden_tree::Opening;
use por_verifier::state::PrivateState;
use por_verifier::tree::{fold_path_with, Sibling};
use por_verifier::{Amount, Attestation, Hash};
use std::path::{Path, PathBuf};

/// Balances no other number in a proof could equal by chance.
const CSV: &str = "user_id,BTC:8,ETH:18\n\
alice,1.23456781,2.000000000000000017\n\
bob,3.17171717,0.5\n\
carol,0.25252525,7.777777777777777777\n\
dave,9.87654321,0\n\
erin,0.00000777,11.111111111111111111\n\
frank,4.44444443,3.333333333333333333\n";

fn exchange() -> Exchange {
    Exchange::build(CSV, &["--hidden-sums", "--height", "6"])
}

fn read_proof(p: &Path) -> HiddenProof {
    HiddenProof::from_json("proof", &std::fs::read(p).unwrap()).unwrap()
}

fn write_proof(ex: &Exchange, name: &str, proof: &HiddenProof) -> PathBuf {
    let p = ex.path(name);
    std::fs::write(&p, proof.to_json()).unwrap();
    p
}

fn g_times(x: u128) -> G1Projective {
    G1Projective::from(Generators::at_least(1).g) * Scalar::from(x)
}

fn shift(p: &Point, by: G1Projective) -> Point {
    (G1Projective::from(*p) + by).into_affine()
}

/// The root hash and commitments a proof folds to.
fn fold(proof: &HiddenProof) -> (Hash, Vec<Point>) {
    let gens = Generators::at_least(1);
    let (leaf, cs) = leaf_of(
        &gens,
        &proof.user_id,
        &proof.salt,
        &proof.balances,
        &proof.blindings,
    );
    fold_path_with(&Commitments, leaf, &cs, proof.position, &proof.path).unwrap()
}

/// The openings of a customer's siblings, as the exchange (who holds the blinding key) knows them.
fn sibling_openings(ex: &Exchange, position: u64) -> Vec<Sibling<Opening>> {
    let state = PrivateState::read(&ex.out).unwrap();
    let att = Attestation::read(&ex.attestation()).unwrap();
    let built = por_prover::hidden::build_tree(
        &ex.out.join("private").join("leaves.csv"),
        &att.assets,
        &state.tree_params().unwrap(),
        state.blinding_key().unwrap(),
        state.customers,
        &[position],
    )
    .unwrap();
    built.paths.into_iter().next().unwrap()
}

/// Range proofs a dishonest exchange makes for `proof`'s path with the values it chooses,
/// bound to `att` (its root and names).
fn prove_with(
    att: &Attestation,
    proof: &HiddenProof,
    values: &[Vec<u128>],
    blindings: &[Vec<Scalar>],
) -> Vec<por_hidden::range::RangeProof> {
    let gens = Generators::get();
    let ctx = hpath::Context {
        exchange: &att.exchange,
        period: &att.period,
        root: att.root_hash.0,
        position: proof.position,
    };
    let bits = &att.hidden.as_ref().unwrap().bit_sizes;
    hpath::prove(gens, &ctx, bits, values, blindings).unwrap()
}

/// The customer's check of an edited proof against the exchange's own attestation.
fn verify_edited(ex: &Exchange, name: &str, proof: &HiddenProof, user: &str) -> Run {
    ex.verify(&ex.attestation(), &write_proof(ex, name, proof), user)
}

fn failed_with(r: Run, words: &str) {
    let r = r.expect(1);
    assert!(
        r.all().contains(words),
        "expected {words:?} in:\n{}",
        r.all()
    );
}

#[test]
fn a_hidden_month_verifies_audits_and_shows_no_other_balance() {
    let ex = exchange();
    let att = read_json(&ex.attestation());
    let hs = &att["hidden_sums"];
    assert_eq!(hs["bit_sizes"].as_array().unwrap().len(), 2);
    for user in ["alice", "dave"] {
        let p = ex.proof(user);
        let r = ex.verify(&ex.attestation(), &p, user).expect(0);
        assert!(r.stdout.contains("hidden sums"), "{}", r.stdout);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("por-proof-hidden-v1"));
        // Every other customer's balances are absent, in base units and in decimals.
        for other in CSV.lines().skip(1).filter(|l| !l.starts_with(user)) {
            for field in other.split(',').skip(1) {
                let units = field.replace('.', "").trim_start_matches('0').to_string();
                if units.len() >= 6 {
                    assert!(!text.contains(&units), "{user}'s proof shows {units}");
                }
            }
        }
        // Siblings carry a hash and commitments only: every string of a step is 64 hex.
        let proof = read_json(&p);
        for step in proof["path"].as_array().unwrap() {
            for s in step.as_array().unwrap() {
                let s = s.as_str().unwrap();
                assert!(s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
        // The blinding key stays private.
        let key = PrivateState::read(&ex.out).unwrap().blinding_key.unwrap();
        assert!(!text.contains(&key));
        assert!(!std::fs::read_to_string(ex.attestation())
            .unwrap()
            .contains(&key));
    }
    let r = ex.audit(&ex.attestation(), &[]).expect(0);
    assert!(r.stdout.contains("AUDIT PASSED"), "{}", r.stdout);

    // The auditor catches a balance changed in the private leaves.
    let leaves = ex.out.join("private").join("leaves.csv");
    let text = std::fs::read_to_string(&leaves).unwrap();
    std::fs::write(&leaves, text.replace("1.23456781", "1.23456780")).unwrap();
    ex.audit(&ex.attestation(), &[])
        .expect_code("audit.mismatch");
}

#[test]
fn a_sibling_committing_to_a_negative_value_is_caught() {
    let ex = exchange();
    let mut proof = read_proof(&ex.proof("alice"));
    let openings = sibling_openings(&ex, proof.position);
    // The exchange makes the level-2 sibling commit to (its value − X), X larger than the value:
    // a negative balance that lowers the total it must back by X.
    let l = 2;
    let v = openings[l].sums[0].value;
    let x = v + 5_000_000;
    proof.path[l].sums[0] = shift(&proof.path[l].sums[0], -g_times(x));
    let (root, _) = fold(&proof);
    let att0 = Attestation::read(&ex.attestation()).unwrap();
    let forged = ex.forge_attestation(|a| {
        a.root_hash = root;
        a.liabilities[0] = Amount(a.liabilities[0].0 - x);
    });
    let att = Attestation::read(&forged).unwrap();
    // Its root opens to the lowered total: only the range proofs stand in the way.
    let (_, cs) = fold(&proof);
    let blind = por_verifier::hidden::root_blindings(att.hidden.as_ref().unwrap()).unwrap();
    let totals: Vec<u128> = att.liabilities.iter().map(|a| a.0).collect();
    assert!(por_hidden::node::opens(
        &Generators::at_least(1),
        &cs,
        &totals,
        &blind
    ));
    assert!(att.liabilities[0].0 < att0.liabilities[0].0);
    // The value it would have to prove in range is −X mod the group order: the prover refuses
    // it as a 128-bit value wrapped (2^128 − 5,000,000), and any proof for the true value is for
    // another commitment.
    let values: Vec<Vec<u128>> = openings
        .iter()
        .map(|s| s.sums.iter().map(|o| o.value).collect())
        .collect();
    let blinds: Vec<Vec<Scalar>> = openings
        .iter()
        .map(|s| s.sums.iter().map(|o| o.blinding).collect())
        .collect();
    let mut wrapped = values.clone();
    wrapped[l][0] = v.wrapping_sub(x);
    let bits = &att.hidden.as_ref().unwrap().bit_sizes;
    let ctx = hpath::Context {
        exchange: &att.exchange,
        period: &att.period,
        root: att.root_hash.0,
        position: proof.position,
    };
    if bits[0] < 128 {
        assert!(hpath::prove(Generators::get(), &ctx, bits, &wrapped, &blinds).is_err());
    }
    proof.range_proofs = prove_with(&att, &proof, &values, &blinds);
    let p = write_proof(&ex, "negative.json", &proof);
    failed_with(ex.verify(&forged, &p, "alice"), "range proofs");
}

#[test]
fn range_proofs_for_other_commitments_or_another_path_are_caught() {
    let ex = exchange();
    let alice = read_proof(&ex.proof("alice"));
    let bob = read_proof(&ex.proof("bob"));
    // Bob's range proofs replayed in Alice's proof.
    let mut replay = alice.clone();
    replay.range_proofs = bob.range_proofs.clone();
    failed_with(
        verify_edited(&ex, "replay.json", &replay, "alice"),
        "range proofs",
    );
    // A range proof left out.
    let mut fewer = alice.clone();
    fewer.range_proofs.pop();
    failed_with(
        verify_edited(&ex, "fewer.json", &fewer, "alice"),
        "range proofs, expected",
    );
    // The groups' proofs swapped.
    let mut swapped = alice.clone();
    swapped.range_proofs.reverse();
    if swapped.range_proofs != alice.range_proofs {
        failed_with(
            verify_edited(&ex, "swapped.json", &swapped, "alice"),
            "range proofs",
        );
    }
    // A proof that verifies for one commitment set does not verify for a changed one: a
    // sibling's commitment moved, and the attestation re-signed so hash and totals agree.
    let mut moved = alice.clone();
    moved.path[0].sums[1] = shift(&moved.path[0].sums[1], g_times(1));
    let (root, _) = fold(&moved);
    let forged = ex.forge_attestation(|a| {
        a.root_hash = root;
        a.liabilities[1] = Amount(a.liabilities[1].0 + 1);
    });
    failed_with(
        ex.verify(&forged, &write_proof(&ex, "moved.json", &moved), "alice"),
        "range proofs",
    );
}

#[test]
fn a_root_that_does_not_open_to_the_signed_totals_is_caught() {
    let ex = exchange();
    let p = ex.proof("carol");
    let fewer = ex.forge_attestation(|a| a.liabilities[0] = Amount(a.liabilities[0].0 - 1));
    failed_with(ex.verify(&fewer, &p, "carol"), "do not open");
    let other_blinding = ex.forge_attestation(|a| {
        let hs = a.hidden.as_mut().unwrap();
        hs.root_blindings[1] = [1; 32];
    });
    failed_with(ex.verify(&other_blinding, &p, "carol"), "do not open");
    // A root blinding at or above the group order is bad input in the attestation itself.
    let non_canonical = ex.forge_attestation(|a| {
        a.hidden.as_mut().unwrap().root_blindings[0] = [0xff; 32];
    });
    let r = ex.verify(&non_canonical, &p, "carol").expect(2);
    assert!(r.all().contains("root_blindings[0]"), "{}", r.all());
    // A bit size that is not one of 8, 16, 32, 64, 128 is bad input too.
    let odd_bits = ex.forge_attestation(|a| a.hidden.as_mut().unwrap().bit_sizes[0] = 7);
    let r = ex.verify(&odd_bits, &p, "carol").expect(2);
    assert!(r.all().contains("bit_sizes[0]"), "{}", r.all());
}

#[test]
fn the_auditor_flags_a_bit_size_too_small_for_its_total() {
    // BTC's total (about 19 BTC in satoshi) needs 32 bits: a signed 8 would leave honest
    // siblings unprovable.
    let ex = exchange();
    let small = ex.forge_attestation(|a| a.hidden.as_mut().unwrap().bit_sizes[0] = 8);
    let r = ex.audit(&small, &[]).expect(1);
    assert!(r.all().contains("bit_size_too_small"), "{}", r.all());
    ex.audit(&ex.attestation(), &[]).expect(0);
}

#[test]
fn a_leaf_opening_that_is_not_the_customers_balances_is_caught() {
    // The exchange's tree holds less for Erin than she has: the proof it hands her shows her
    // true balances, with the blindings of the smaller leaf.
    let smaller = CSV.replace("erin,0.00000777", "erin,0.00000001");
    let ex = Exchange::build(&smaller, &["--hidden-sums", "--height", "6"]);
    let mut proof = read_proof(&ex.proof("erin"));
    assert_eq!(proof.balances[0], Amount(1));
    proof.balances[0] = Amount(777);
    failed_with(
        verify_edited(&ex, "erin.json", &proof, "erin"),
        "not the root the exchange signed",
    );
}

#[test]
fn a_proof_of_the_other_mode_is_caught() {
    let hidden = exchange();
    let clear = Exchange::build(CSV, &["--height", "6"]);
    // A transparent proof against a hidden-sums attestation whose root it was given...
    let forged = hidden.forge_attestation(|a| {
        let t = Attestation::read(&clear.attestation()).unwrap();
        a.root_hash = t.root_hash;
    });
    let clear_proof = clear.proof("alice");
    std::fs::copy(&clear_proof, hidden.path("clear.json")).unwrap();
    // Not a pass, and no evidence either: the proof belongs to another kind of tree.
    hidden
        .verify(&forged, &hidden.path("clear.json"), "alice")
        .expect_code("proof.other_attestation");
    // ...and a hidden-sums proof against a transparent attestation with its root.
    let hidden_proof = hidden.proof("alice");
    let root = Attestation::read(&hidden.attestation()).unwrap().root_hash;
    let forged = clear.forge_attestation(|a| a.root_hash = root);
    std::fs::copy(&hidden_proof, clear.path("hidden.json")).unwrap();
    clear
        .verify(&forged, &clear.path("hidden.json"), "alice")
        .expect_code("proof.other_attestation");
}

#[test]
fn the_maxwell_trick_on_commitments_is_caught() {
    // Value moved from one sibling to another: the commitments still add up to the same root
    // commitment, but each node hash binds its children's commitments separately.
    let ex = exchange();
    let honest = read_proof(&ex.proof("frank"));
    let mut moved = honest.clone();
    moved.path[0].sums[0] = shift(&moved.path[0].sums[0], -g_times(1000));
    moved.path[3].sums[0] = shift(&moved.path[3].sums[0], g_times(1000));
    assert_eq!(fold(&moved).1, fold(&honest).1);
    assert_ne!(fold(&moved).0, fold(&honest).0);
    failed_with(
        verify_edited(&ex, "maxwell.json", &moved, "frank"),
        "not the root the exchange signed",
    );
}

#[test]
fn malformed_points_and_scalars_are_bad_input() {
    let ex = exchange();
    let p = ex.proof("bob");
    let text = std::fs::read_to_string(&p).unwrap();
    let proof = read_json(&p);
    let first = proof["path"][0][1].as_str().unwrap().to_string();
    let identity = hex::encode(point_bytes(&Point::zero()));
    // Not on the curve: x = 4 (4^3 + 3 = 67 is not a square modulo BN254's prime... checked
    // below by the decoder refusing it either way).
    let mut off = [0u8; 32];
    off[0] = 4;
    // Not canonical: x = p + 1 (above the field's modulus).
    let non_canonical = "48fd7cd8168c203c8dca7168916a81975d588181b64550b829a031e1724e6430";
    // A blinding at the group order or above.
    let big_scalar = "ff".repeat(32);
    let blinding = proof["blindings"][0].as_str().unwrap().to_string();
    let cases = [
        ("identity", text.replacen(&first, &identity, 1)),
        ("off-curve", text.replacen(&first, &hex::encode(off), 1)),
        ("non-canonical", text.replacen(&first, non_canonical, 1)),
        ("scalar", text.replacen(&blinding, &big_scalar, 1)),
        ("short point", text.replacen(&first, &first[..62], 1)),
    ];
    for (what, t) in cases {
        assert_ne!(t, text, "{what}: the edit changed nothing");
        let f = ex.path(&format!("{what}.json"));
        std::fs::write(&f, t).unwrap();
        let r = ex.verify(&ex.attestation(), &f, "bob").expect(2);
        assert!(
            r.all().contains("path[0][1]") || r.all().contains("blindings[0]"),
            "{what}: {}",
            r.all()
        );
    }
    // A range proof cut short.
    let rp = proof["range_proofs"][0].as_str().unwrap();
    let cut = text.replacen(rp, &rp[..rp.len() - 64], 1);
    let f = ex.path("cut.json");
    std::fs::write(&f, cut).unwrap();
    let r = ex.verify(&ex.attestation(), &f, "bob").expect(2);
    assert!(r.all().contains("range_proofs[0]"), "{}", r.all());
}

#[test]
fn hidden_proofs_come_from_the_stored_tree_which_is_checked() {
    let ex = exchange();
    let tree = ex.out.join("private").join("tree.bin");
    let bytes = std::fs::read(&tree).unwrap();
    assert_eq!(&bytes[8..12], &2u32.to_le_bytes(), "layout version 2");
    // Batch proofs, one JSON line each, all verifying.
    let users = ex.path("users.txt");
    std::fs::write(&users, "alice\nbob\nnobody\n").unwrap();
    let lines = ex.path("proofs.jsonl");
    por_e2e::run(
        "por-prove",
        &[
            "proofs",
            "--from",
            por_e2e::path_str(&ex.out),
            "--users",
            por_e2e::path_str(&users),
            "--jsonl",
            por_e2e::path_str(&lines),
        ],
    );
    let text = std::fs::read_to_string(&lines).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    for (line, user) in text.lines().zip(["alice", "bob"]) {
        let p = ex.path(&format!("line-{user}.json"));
        std::fs::write(&p, line).unwrap();
        ex.verify(&ex.attestation(), &p, user).expect(0);
    }
    // Every node of the cut level changed (one byte of each hash), then the root's last
    // blinding: each time the proof is refused as a corrupt stored tree.
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let (h, cut, k) = (bytes[12] as u32, bytes[13] as u32, bytes[14] as usize);
    let (n, ids) = (u64_at(16) as usize, u64_at(24) as usize);
    let levels_at = 64 + n * (52 + 16 * k + 16) + ids;
    let nb = 32 + 48 * k;
    let refused = |bad: &[u8]| {
        std::fs::write(&tree, bad).unwrap();
        let out = por_e2e::path_str(&ex.out);
        let r = por_e2e::run("por-prove", &["proof", "--from", out, "--user", "alice"]).expect(2);
        assert!(r.all().contains("corrupt stored tree"), "{}", r.all());
    };
    let mut bad = bytes.clone();
    for slot in 0..(1usize << (h - cut)) {
        bad[levels_at + slot * nb] ^= 1;
    }
    refused(&bad);
    let mut bad = bytes.clone();
    let at = bad.len() - 20;
    bad[at] ^= 1;
    refused(&bad);
    // store-tree writes it anew from leaves.csv and the state: the same bytes.
    std::fs::remove_file(&tree).unwrap();
    por_e2e::run(
        "por-prove",
        &["store-tree", "--from", por_e2e::path_str(&ex.out)],
    )
    .expect(0);
    assert!(std::fs::read(&tree).unwrap() == bytes);
    ex.verify(&ex.attestation(), &ex.proof("carol"), "carol")
        .expect(0);
}
