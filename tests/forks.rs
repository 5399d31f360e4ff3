//! The Bitcoin family beyond Bitcoin, signatures first (issue 19): every public vector of
//! Litecoin, Dogecoin, Bitcoin Cash and Monacoin, `por-verify signature` on each, and a
//! month's holdings there, signature-checked and UNVERIFIED (exit 3), never counted.

use por_e2e::chain_vectors as vectors;
use por_e2e::{path_str, write_json, Exchange};
use por_verifier::chains::Fork;
use por_verifier::reserves::forks;
use serde_json::json;

/// A test-network address (Litecoin's `m`/`n`/`tltc1` rows): the chains here are mainnets.
fn test_network(a: &str) -> bool {
    a.starts_with(['m', 'n']) || a.starts_with("tltc1")
}

fn check_signmessages(fork: Fork, file: &str) -> usize {
    let mut n = 0;
    for row in vectors(file) {
        match row["kind"].as_str().unwrap() {
            "signmessage" => {
                let (a, m, s) = (
                    row["address"].as_str().unwrap(),
                    row["message"].as_str().unwrap(),
                    row["signature"].as_str().unwrap(),
                );
                let got = forks::verify(fork, a, m, s);
                if test_network(a) {
                    let e = got.unwrap_err();
                    assert!(e.message().contains("not a litecoin address"), "{a}: {e:?}");
                } else if let Some(lenient) = row["expect_by_policy"]["lenient"].as_str() {
                    // The lenient policy of Bitcoin (headers 31-34 prove the key's P2WPKH).
                    assert_eq!(got.is_ok(), lenient.starts_with("valid"), "{a}: {got:?}");
                } else {
                    let valid = row["expect"] == "valid";
                    assert_eq!(got.is_ok(), valid, "{a} {}: {got:?}", row["note"]);
                }
            }
            "magic_hash" => {
                let m = row["message"].as_str().unwrap();
                let h = hex::encode(forks::message_hash(fork, m.as_bytes()));
                assert_eq!(
                    h == row["magic_hash"].as_str().unwrap(),
                    row["expect"] == "valid",
                    "{}",
                    row["note"]
                );
            }
            _ => continue,
        }
        n += 1;
    }
    n
}

#[test]
fn litecoin_dogecoin_and_monacoin_vectors() {
    assert_eq!(check_signmessages(Fork::Litecoin, "litecoin.json"), 10);
    assert_eq!(check_signmessages(Fork::Dogecoin, "dogecoin.json"), 8);
    assert_eq!(check_signmessages(Fork::Monacoin, "monacoin.json"), 10);
}

#[test]
fn bitcoin_cash_vectors() {
    assert_eq!(
        check_signmessages(Fork::BitcoinCash, "bitcoin-cash.json"),
        15
    );
    let mut n = 0;
    for row in vectors("bitcoin-cash.json") {
        let a = row["address"].as_str().unwrap_or("");
        let valid = row["expect"] == "valid";
        match row["kind"].as_str().unwrap() {
            // The spec's checksum vectors, under their own prefixes.
            "cashaddr_checksum" | "cashaddr_undefined_type" => {
                assert_eq!(
                    forks::cashaddr_checked(a, "bitcoincash").is_ok(),
                    valid,
                    "{a}"
                );
                // No such address pays anything a signature could prove.
                assert!(forks::parse_address(Fork::BitcoinCash, a).is_err(), "{a}");
            }
            "cashaddr_translation" => {
                let legacy = row["legacy"].as_str().unwrap();
                assert_eq!(
                    forks::parse_address(Fork::BitcoinCash, a).unwrap(),
                    forks::parse_address(Fork::BitcoinCash, legacy).unwrap(),
                    "{a} {legacy}"
                );
            }
            "cashaddr_encoding" => {
                let (_, version, hash) = forks::cashaddr_decode(a, "bitcoincash").unwrap();
                assert_eq!(hex::encode(&hash), row["hash_hex"].as_str().unwrap());
                assert_eq!(u64::from(version >> 3), row["type_bits"].as_u64().unwrap());
                // Only 160-bit P2PKH and P2SH hashes are addresses a key signs for.
                let usable = row["hash_size_bytes"] == 20
                    && row["type_bits"].as_u64() < Some(2)
                    && a.starts_with("bitcoincash:");
                assert_eq!(
                    forks::parse_address(Fork::BitcoinCash, a).is_ok(),
                    usable,
                    "{a}"
                );
            }
            "cashaddr_case" => {
                assert!(forks::parse_address(Fork::BitcoinCash, a).is_err());
                assert!(forks::parse_address(Fork::BitcoinCash, &a.to_ascii_uppercase()).is_ok());
            }
            _ => continue,
        }
        n += 1;
    }
    assert_eq!(n, 43);
}

/// `por-verify signature` on each fork: a valid vector exits 0, an altered message 1, an
/// address of another coin 2.
#[test]
fn por_verify_signature_on_each_fork() {
    for (chain, file) in [
        ("litecoin", "litecoin.json"),
        ("dogecoin", "dogecoin.json"),
        ("bitcoin-cash", "bitcoin-cash.json"),
        ("monacoin", "monacoin.json"),
    ] {
        let row = vectors(file)
            .into_iter()
            .find(|r| {
                r["kind"] == "signmessage"
                    && r["expect"] == "valid"
                    && !test_network(r["address"].as_str().unwrap())
            })
            .expect("a valid mainnet row");
        let (a, m, s) = (
            row["address"].as_str().unwrap(),
            row["message"].as_str().unwrap(),
            row["signature"].as_str().unwrap(),
        );
        let sig = |a: &str, m: &str| por_e2e::check_signature(chain, a, m, s);
        sig(a, m).expect(0);
        sig(a, &format!("{m}!")).expect(1);
        sig("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN20", m).expect(2);
    }
}

/// A month with LTC reserves: the signature is checked, the balance UNVERIFIED (exit 3) and
/// not counted; a signature by another key fails (exit 1); a Bitcoin Cash address written in
/// both forms is one holding.
#[test]
fn fork_holdings_are_signature_checked_and_unverified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bindings = dir.path().join("bindings.json");
    write_json(
        &bindings,
        &json!({"bindings": [
            {"asset": "LTC", "chain": "litecoin", "decimals": 8},
            {"asset": "BCH", "chain": "bitcoin-cash", "decimals": 8},
        ]}),
    );
    let ex = Exchange::build(
        "user_id,LTC:8,BCH:8\na,1,0\n",
        &["--bindings", path_str(&bindings)],
    );
    let att = ex.attestation();
    let key = por_e2e::signers::BtcKey::from_seed(130, bitcoin::Network::Bitcoin);
    let challenge = por_e2e::challenge_of(&att, "litecoin", 2_800_000);
    let h = forks::message_hash(Fork::Litecoin, challenge.as_bytes());
    let sig = key.sign_compact_digest(h, 31);
    let ltc_address = {
        use bitcoin::hashes::Hash as _;
        let hash = bitcoin::hashes::hash160::Hash::hash(&key.public().to_bytes());
        let mut b = vec![0x30];
        b.extend_from_slice(hash.as_ref());
        bitcoin::base58::encode_check(&b)
    };
    let entry = json!({"asset": "LTC", "chain": "litecoin", "height": 2_800_000, "address": ltc_address,
                       "balance": "100000000", "signatures": [sig]});
    let stmt = ex.forge_reserves(std::slice::from_ref(&entry));
    let out = ex.verify_reserves(&stmt, &[]).expect(3);
    assert!(
        out.stdout.contains("litecoin signed message (header 3")
            && out
                .stdout
                .contains("litecoin balances are not checked on chain yet"),
        "{}",
        out.stdout
    );
    let other = por_e2e::signers::BtcKey::from_seed(131, bitcoin::Network::Bitcoin);
    let mut forged = entry.clone();
    forged["signatures"] = json!([other.sign_compact_digest(h, 31)]);
    let stmt = ex.forge_reserves(&[forged]);
    ex.verify_reserves(&stmt, &["--json"])
        .expect_code("reserves.control_invalid");
    // Bitcoin Cash: the legacy and CashAddr spellings of one hash are one holding.
    let cash = vectors("bitcoin-cash.json")
        .into_iter()
        .find(|r| r["kind"] == "cashaddr_translation")
        .unwrap();
    let e = |a: &str| {
        json!({"asset": "BCH", "chain": "bitcoin-cash", "height": 900_000, "address": a,
               "balance": "100000000", "signatures": ["00"]})
    };
    let stmt = ex.forge_reserves(&[
        e(cash["address"].as_str().unwrap()),
        e(cash["legacy"].as_str().unwrap()),
    ]);
    let out = ex.verify_reserves(&stmt, &[]).expect(1);
    assert!(
        out.stdout.contains("is already counted in entry #0"),
        "{}",
        out.stdout
    );
}
