//! TRON and Solana, signatures first (issue 19): the public vectors, `por-verify signature`,
//! and reserves on both chains, which are signature-checked and UNVERIFIED (exit 3), never
//! counted, because no node answers their balances at a past height.

use ed25519_dalek::{Signer, SigningKey};
use por_e2e::chain_vectors as vectors;
use por_e2e::signers::EthKey;
use por_e2e::{challenge_of, path_str, write_json, Exchange};
use por_verifier::reserves::{solana, tron};
use por_verifier::solana::{offchain_envelope, SolanaKey};
use por_verifier::tron::{message_hash_v2, TronAddress};
use serde_json::{json, Value};
use std::path::Path;

/// A row's message as the bytes that were signed: hex rows decoded, text rows as UTF-8.
fn message_bytes(row: &Value) -> Vec<u8> {
    let m = row["message"].as_str().unwrap_or("");
    let enc = row["message_encoding"].as_str().unwrap_or("utf8");
    if enc.starts_with("hex") {
        hex::decode(m.trim_start_matches("0x")).expect("hex message")
    } else if row["kind"] == "signmessage_v1" {
        // V1 takes a hex string and signs its bytes.
        hex::decode(m.trim_start_matches("0x")).expect("hex message")
    } else {
        m.as_bytes().to_vec()
    }
}

#[test]
fn tron_vectors() {
    let mut checked = 0;
    for row in vectors("tron.json") {
        let kind = row["kind"].as_str().unwrap();
        let valid = row["expect"] == "valid";
        match kind {
            "address" => {
                let a = row["address"].as_str().unwrap();
                let parsed = TronAddress::parse(a);
                assert_eq!(parsed.is_ok(), valid, "{a}: {parsed:?}");
                if let (Ok(p), Some(h)) = (parsed, row["address_hex"].as_str()) {
                    assert_eq!(p.to_hex(), h.to_ascii_lowercase());
                }
            }
            // The hex form names the same account, but a signed entry spells an address one
            // way only (base58check): each hex row's base58 form is its address.
            "address_hex" => {
                let h = row["address"].as_str().unwrap();
                assert!(TronAddress::parse(h).is_err(), "{h}");
                if let Some(b) = row["address_base58"].as_str() {
                    assert_eq!(TronAddress::parse(b).unwrap().to_hex(), h);
                }
            }
            "signmessage_v2" | "signmessage_v1" => {
                let (a, sig) = (
                    row["address"].as_str().unwrap(),
                    row["signature"].as_str().unwrap(),
                );
                let got = tron::verify(a, &message_bytes(&row), sig);
                // The negative row that checks a V1 signature under V2 hashing: the verifier
                // takes both versions, and says which one it got.
                let v1_under_v2 = !valid
                    && kind == "signmessage_v2"
                    && row["note"].as_str().unwrap_or("").contains("V1 signature");
                if v1_under_v2 {
                    assert_eq!(got.as_deref(), Ok("TronWeb V1 signature (header 32)"));
                } else {
                    assert_eq!(got.is_ok(), valid, "{kind} {a} {}: {got:?}", row["note"]);
                }
            }
            // TronWeb V1 with useTronHeader=false is Ethereum's personal_sign of 32 bytes: not
            // a TRON message, and not accepted as one.
            "signmessage_v1_eth_header" => {
                let (a, sig) = (
                    row["address"].as_str().unwrap(),
                    row["signature"].as_str().unwrap(),
                );
                assert!(tron::verify(a, &message_bytes(&row), sig).is_err());
            }
            other => panic!("a kind this test does not know: {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 19);
}

#[test]
fn solana_vectors() {
    let mut checked = 0;
    for row in vectors("solana.json") {
        let kind = row["kind"].as_str().unwrap();
        let valid = row["expect"] == "valid";
        let msg = message_bytes(&row);
        match kind {
            // The envelope our verifier builds is the SDK's, byte for byte.
            "offchain_envelope_sdk_v0" => {
                assert_eq!(
                    hex::encode(offchain_envelope(&msg).unwrap()),
                    row["serialized_hex"].as_str().unwrap()
                );
            }
            // The later envelope layouts (the proposal's v0 with an application domain and
            // signers, and v1) are not what wallets sign today: not accepted.
            "offchain_envelope_spec_v0" | "offchain_envelope_spec_v1" => {
                assert_ne!(
                    hex::encode(offchain_envelope(&msg).unwrap()),
                    row["serialized_hex"].as_str().unwrap()
                );
            }
            "offchain_signature_sdk_v0" | "plain_signmessage" => {
                let (a, sig) = (
                    row["address"].as_str().unwrap(),
                    row["signature"].as_str().unwrap(),
                );
                let signed = row["signed_bytes_hex"]
                    .as_str()
                    .map(|h| hex::decode(h).unwrap())
                    .unwrap_or_else(|| msg.clone());
                let got = solana::verify(a, &msg, sig);
                // The verifier accepts a signature of the message or of its envelope: a
                // negative row that only swaps those two forms is valid under that policy.
                let swap_only = !valid
                    && (signed == msg || offchain_envelope(&msg).as_deref() == Some(&signed[..]))
                    && row["message_encoding"] != "hex-decoded to 32 bytes";
                if swap_only {
                    assert!(got.is_ok(), "{kind} {}: {got:?}", row["note"]);
                } else {
                    assert_eq!(got.is_ok(), valid, "{kind} {}: {got:?}", row["note"]);
                }
            }
            other => panic!("a kind this test does not know: {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

/// `por-verify signature` on both chains: a real TronWeb and a real Phantom signature verify
/// (exit 0), a signature by another key fails (exit 1), an address that does not decode is
/// the user's mistake (exit 2).
#[test]
fn por_verify_signature_on_tron_and_solana() {
    let sig = por_e2e::check_signature;
    let tron_row = &vectors("tron.json")[0];
    let (a, m, s) = (
        tron_row["address"].as_str().unwrap(),
        tron_row["message"].as_str().unwrap(),
        tron_row["signature"].as_str().unwrap(),
    );
    let r = sig("tron", a, m, s).expect(0);
    assert!(r.stdout.contains("TIP-191 signMessageV2"), "{}", r.stdout);
    sig("tron", a, "hello world!", s).expect(1);
    sig("tron", "TYPG8VeuoVAh2hP7Vfw6ww7vK98nvXXXUs", m, s).expect(2);
    let phantom = vectors("solana.json")
        .into_iter()
        .find(|r| r["note"] == "Real Phantom wallet signMessage output")
        .expect("the Phantom row");
    let (a, m, s) = (
        phantom["address"].as_str().unwrap(),
        phantom["message"].as_str().unwrap(),
        phantom["signature"].as_str().unwrap(),
    );
    sig("solana", a, m, s).expect(0);
    sig("solana", a, &format!("{m} "), s).expect(1);
    sig("solana", "0OIl", m, s).expect(2);
}

fn tron_address(k: &EthKey) -> String {
    let pk = k.sk.public_key(&bitcoin::secp256k1::Secp256k1::new());
    TronAddress::of_uncompressed_key(&pk.serialize_uncompressed()).to_string()
}

fn solana_address(k: &SigningKey) -> String {
    SolanaKey::from_bytes(k.verifying_key().to_bytes()).to_string()
}

const TRON_USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const SOLANA_USDT: &str = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";

/// An exchange owing 3,000 USDT that binds USDT to TRON and Solana (`build --bindings`), as an
/// operator would, and adds one holding on each with `por-prove reserves add`.
fn exchange_on_tron_and_solana() -> (Exchange, EthKey, SigningKey) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bindings = dir.path().join("bindings.json");
    write_json(
        &bindings,
        &json!({"bindings": [
            {"asset": "USDT", "chain": "tron", "token": TRON_USDT, "decimals": 6},
            {"asset": "USDT", "chain": "solana", "token": SOLANA_USDT, "decimals": 6},
        ]}),
    );
    let ex = Exchange::build(
        "user_id,USDT:6\na,2000\nb,1000\n",
        &["--bindings", path_str(&bindings)],
    );
    (
        ex,
        EthKey::from_seed(120),
        SigningKey::from_bytes(&[121; 32]),
    )
}

fn tron_entry(att: &Path, key: &EthKey, units: &str) -> Value {
    let msg = challenge_of(att, "tron", 70_000_000);
    json!({"asset": "USDT", "chain": "tron", "height": 70_000_000, "address": tron_address(key),
           "token": TRON_USDT, "balance": units,
           "signatures": [key.sign_digest(message_hash_v2(msg.as_bytes()), 27)]})
}

fn solana_entry(att: &Path, key: &SigningKey, units: &str) -> Value {
    let msg = challenge_of(att, "solana", 300_000_000);
    json!({"asset": "USDT", "chain": "solana", "height": 300_000_000, "address": solana_address(key),
           "token": SOLANA_USDT, "balance": units,
           "signatures": [bitcoin::base58::encode(&key.sign(msg.as_bytes()).to_bytes())]})
}

/// Honest holdings on both chains: signatures valid, balances UNVERIFIED (exit 3), nothing
/// counted, with nodes or offline; a node given for either chain is refused (exit 2).
#[test]
fn tron_and_solana_holdings_are_signature_checked_and_unverified() {
    let (ex, tk, sk) = exchange_on_tron_and_solana();
    let att = ex.attestation();
    ex.add_reserves(&[
        tron_entry(&att, &tk, "2000000000"),
        solana_entry(&att, &sk, "1000000000"),
    ])
    .expect(0);
    // A custody threshold does not see them either: none of the 3,000 claimed is declared
    // cold, yet nothing counted means no share to fall short (and no claim to pad one).
    let out = ex
        .verify_reserves(
            &ex.reserves(),
            &["--json", "--min-declared-cold-share", "0.5"],
        )
        .expect_code("reserves.not_checked");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        v["reserves"]["custody"][0]["counted"], "0.000000",
        "{}",
        out.stdout
    );
    let entries = v["reserves"]["reserve_entries"].as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["offline"]["passed"] == true),
        "{}",
        out.stdout
    );
    assert!(
        entries[0]["offline"]["check"] == "TIP-191 signMessageV2"
            && entries[1]["offline"]["check"] == "ed25519 signMessage",
        "{}",
        out.stdout
    );
    let text = ex.verify_reserves(&ex.reserves(), &[]).expect(3).stdout;
    assert!(
        text.contains("tron balances cannot be checked at the snapshot height yet")
            && text.contains("solana balances cannot be checked at the snapshot height yet")
            && !text.contains("COVERED"),
        "{text}"
    );
    // Offline mode does not call them claimed-and-covered either.
    let out = ex
        .verify_reserves(&ex.reserves(), &["--offline", "--json"])
        .expect_code("reserves.not_checked");
    assert!(!out.stdout.contains("SIGNATURES VALID"), "{}", out.stdout);
    for chain in ["tron", "solana"] {
        let r = ex
            .verify_reserves(
                &ex.reserves(),
                &["--node", &format!("{chain}=http://127.0.0.1:9")],
            )
            .expect(2);
        assert!(
            r.stderr.contains(&format!(
                "--node {chain}: no check of {chain} balances at a snapshot height exists yet"
            )),
            "{}",
            r.stderr
        );
    }
    println!("{text}");
}

/// A dishonest exchange's entries on both chains, signed by itself: a signature by another key
/// (exit 1), the address in another form (TRON's hex form: the entry fails, named), and one
/// holding listed twice (counted once).
#[test]
fn forged_tron_and_solana_entries_fail() {
    let (ex, tk, sk) = exchange_on_tron_and_solana();
    let att = ex.attestation();
    let mut other_key = tron_entry(&att, &EthKey::from_seed(122), "2000000000");
    other_key["address"] = json!(tron_address(&tk));
    let mut other_sol = solana_entry(&att, &SigningKey::from_bytes(&[123; 32]), "1000000000");
    other_sol["address"] = json!(solana_address(&sk));
    let stmt = ex.forge_reserves(&[other_key, other_sol]);
    let r = ex.verify_reserves(&stmt, &[]).expect(1);
    assert!(
        r.stdout.contains(&format!("not by {}", tron_address(&tk)))
            && r.stdout.contains(&format!(
                "is not {}'s over this message",
                solana_address(&sk)
            )),
        "{}",
        r.stdout
    );
    ex.verify_reserves(&stmt, &["--json"])
        .expect_code("reserves.control_invalid");

    let mut hex_form = tron_entry(&att, &tk, "2000000000");
    let hex_addr = TronAddress::parse(&tron_address(&tk)).unwrap().to_hex();
    hex_form["address"] = json!(hex_addr);
    let stmt = ex.forge_reserves(&[hex_form]);
    let r = ex.verify_reserves(&stmt, &[]).expect(1);
    assert!(
        r.stdout.contains("field address") && r.stdout.contains("not a TRON address"),
        "{}",
        r.stdout
    );

    let twice = tron_entry(&att, &tk, "2000000000");
    let stmt = ex.forge_reserves(&[twice.clone(), twice]);
    let r = ex.verify_reserves(&stmt, &[]).expect(1);
    assert!(
        r.stdout.contains("is already counted in entry #0"),
        "{}",
        r.stdout
    );
}
