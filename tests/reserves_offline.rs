//! Reserves without a chain: the signatures, double counting, solvency per asset, and bad
//! input, through `por-prove reserves` and `por-verify reserves` / `proof`.

use bitcoin::Network;
use por_e2e::signers::{multisig_script, BtcKey, EthKey};
use por_e2e::{path_str, read_json, Exchange};
use por_prover::build::sign;
use por_prover::keys::read_key;
use por_verifier::reserves::Reserves;
use por_verifier::Attestation;
use serde_json::{json, Value};

const CSV: &str = "user_id,BTC:8,ETH:18,USDT:6,USDC:6\na,1,10,1000,500\nb,2,5,2000,0\n";
const TOKEN_USDT: &str = "0xdac17f958d2ee523a2206206994597c13d831ec7";
const TOKEN_USDC: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";

fn txid(n: u8) -> String {
    hex::encode([n; 32])
}

fn btc_entry(ex: &Exchange, key: &BtcKey, value: &str, utxos: &[(u8, &str)], height: u64) -> Value {
    let msg = ex.challenge("bitcoin", height);
    let addr = key.p2wpkh();
    json!({
        "asset": "BTC", "chain": "bitcoin", "height": height, "address": addr.to_string(), "balance": value,
        "utxos": utxos.iter().map(|(t, v)| json!({"outpoint": format!("{}:0", txid(*t)), "value": v})).collect::<Vec<_>>(),
        "signatures": [key.sign_bip322(&addr, &msg)],
    })
}

fn eth_entry(
    ex: &Exchange,
    key: &EthKey,
    asset: &str,
    token: Option<&str>,
    balance: &str,
) -> Value {
    let msg = ex.challenge("ethereum", 21_000_000);
    let mut e = json!({
        "asset": asset, "chain": "ethereum", "height": 21_000_000, "address": key.address(), "balance": balance,
        "signatures": [key.personal_sign(msg.as_bytes())],
    });
    if let Some(t) = token {
        e["token"] = json!(t);
    }
    e
}

/// Reserves that cover every asset.
fn good_entries(ex: &Exchange) -> Vec<Value> {
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let e = EthKey::from_seed(2);
    vec![
        btc_entry(ex, &k, "3.5", &[(1, "3"), (2, "0.5")], 870_000),
        eth_entry(ex, &e, "ETH", None, "20"),
        eth_entry(ex, &e, "USDT", Some(TOKEN_USDT), "3000"),
        eth_entry(ex, &e, "USDC", Some(TOKEN_USDC), "600"),
    ]
}

#[test]
fn reserves_added_and_verified_offline() {
    let ex = Exchange::build(CSV, &[]);
    let r = ex.add_reserves(&good_entries(&ex)).expect(0);
    assert!(r.stdout.contains("added 4 reserve entries"), "{}", r.stdout);
    let att = read_json(&ex.attestation());
    assert_eq!(att["reserves"]["entries"].as_array().unwrap().len(), 4);
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(0);
    assert!(
        r.stdout.contains("SOLVENT AS CLAIMED") && r.stdout.contains("not checked against a chain"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("BIP-322 simple signature over the challenge for height 870000 (offline)"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("claimed (signatures checked offline only)"));
    assert!(r.stdout.contains("against a chain: nothing"));
    assert!(r.stdout.contains("116.67%"), "BTC 3.5 over 3: {}", r.stdout);
    let j = ex.verify_reserves(&ex.attestation(), &["--json"]).expect(0);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["solvency"][1]["symbol"], "ETH");
    assert_eq!(v["solvency"][1]["covered"], true);
    assert_eq!(v["solvency"][1]["verified_on_chain"], false);
    // A customer's proof now also reports solvency, and says what was checked offline.
    let r = ex.verify(&ex.attestation(), &ex.proof("a"), "a").expect(0);
    assert!(
        r.stdout.contains("Solvency per asset:") && r.stdout.contains("What was checked:"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("cover liabilities for every asset"),
        "{}",
        r.stdout
    );
}

#[test]
fn challenge_binds_exchange_period_chain_height_and_root() {
    let ex = Exchange::build(CSV, &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let root = read_json(&ex.attestation())["root_hash"]
        .as_str()
        .unwrap()
        .to_string();
    for part in [
        "Test Exchange",
        "2026-11",
        "bitcoin",
        "870000",
        root.as_str(),
    ] {
        assert!(msg.contains(part), "{part} missing from {msg}");
    }
    assert!(!msg.ends_with('\n'));
}

/// 1. Replay: a signature over last month's challenge, another exchange's, or another root.
#[test]
fn replayed_signatures_are_rejected() {
    let ex = Exchange::build(CSV, &[]);
    let last_month = Exchange::build(CSV, &[]); // same exchange name, another tree
    let other_period = {
        let t = tempfile::tempdir().unwrap();
        let csv = t.path().join("l.csv");
        std::fs::write(&csv, CSV).unwrap();
        let out = t.path().join("o");
        por_e2e::build_month(&csv, &ex.key, "Test Exchange", "2026-10", &out, &[]).expect(0);
        (t, out)
    };
    let other_exchange = {
        let t = tempfile::tempdir().unwrap();
        let csv = t.path().join("l.csv");
        std::fs::write(&csv, CSV).unwrap();
        let out = t.path().join("o");
        por_e2e::build_month(&csv, &ex.key, "Other Exchange", "2026-11", &out, &[]).expect(0);
        (t, out)
    };
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let challenge_of = |att: &std::path::Path| {
        let a = Attestation::read(att).unwrap();
        por_verifier::reserves::challenge(
            &a.exchange,
            &a.period,
            &por_verifier::reserves::Chain::parse("bitcoin").unwrap(),
            870_000,
            &a.root_hash,
        )
    };
    let cases = [
        ("another tree", last_month.challenge("bitcoin", 870_000)),
        (
            "last month",
            challenge_of(&other_period.1.join("attestation.json")),
        ),
        (
            "another exchange",
            challenge_of(&other_exchange.1.join("attestation.json")),
        ),
        ("another height", ex.challenge("bitcoin", 869_999)),
    ];
    let before = std::fs::read(ex.attestation()).unwrap();
    for (what, msg) in cases {
        let mut entries = good_entries(&ex);
        entries[0]["signatures"] = json!([k.sign_bip322(&k.p2wpkh(), &msg)]);
        let r = ex.add_reserves(&entries).expect(1);
        assert!(
            r.stderr.contains("nothing was written") && r.stderr.contains("entries[0]"),
            "{what}: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read(ex.attestation()).unwrap(),
            before,
            "{what}: attestation must be unchanged"
        );
        // An attestation the exchange signed anyway is caught by the verifier.
        let path = forge(&ex, &entries);
        let r = ex.verify_reserves(&path, &[]).expect(1);
        assert!(
            r.stdout.contains("[FAIL] BTC") && r.stdout.contains("NOT PROVEN"),
            "{what}: {}",
            r.stdout
        );
    }
}

/// Puts `entries` in the attestation without `reserves add`'s checks, signed by the exchange.
fn forge(ex: &Exchange, entries: &[Value]) -> std::path::PathBuf {
    let mut att = Attestation::read(&ex.attestation()).unwrap();
    let reserves = Reserves::from_json_value(
        json!({"format": "por-reserves-v1", "entries": entries}),
        &att.assets,
    )
    .unwrap();
    att.reserves = Some(reserves);
    sign(&mut att, &read_key(&ex.key).unwrap());
    let path = ex.path("forged.json");
    std::fs::write(&path, att.to_json()).unwrap();
    path
}

/// 2. A key that does not control the address; multisig short of m, or a wrong script.
#[test]
fn signatures_by_the_wrong_keys_are_rejected() {
    let ex = Exchange::build(CSV, &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let mut entries = good_entries(&ex);
    let intruder = BtcKey::from_seed(9, Network::Bitcoin);
    entries[0]["signatures"] = json!([intruder.sign_compact(&msg, 39)]);
    let r = ex.add_reserves(&entries).expect(1);
    assert!(r.stderr.contains("does not control"), "{}", r.stderr);
    let r = ex.verify_reserves(&forge(&ex, &entries), &[]).expect(1);
    assert!(r.stdout.contains("does not control"), "{}", r.stdout);

    let mut entries = good_entries(&ex);
    let emsg = ex.challenge("ethereum", 21_000_000);
    entries[1]["signatures"] = json!([EthKey::from_seed(3).personal_sign(emsg.as_bytes())]);
    let r = ex.verify_reserves(&forge(&ex, &entries), &[]).expect(1);
    assert!(r.stdout.contains("not by 0x"), "{}", r.stdout);

    let keys: Vec<BtcKey> = (20..23)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&keys[0], &keys[1], &keys[2]]);
    let addr = bitcoin::Address::p2wsh(&script, Network::Bitcoin).to_string();
    let ms = |sigs: Vec<String>, script_hex: String| {
        json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": addr, "balance": "1",
               "utxos": [{"outpoint": format!("{}:1", txid(7)), "value": "1"}], "script": script_hex, "signatures": sigs})
    };
    let mut entries = good_entries(&ex);
    entries.push(ms(
        vec![
            keys[0].sign_compact(&msg, 31),
            keys[2].sign_compact(&msg, 31),
        ],
        script.to_hex_string(),
    ));
    ex.add_reserves(&entries).expect(0);
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(0);
    assert!(
        r.stdout
            .contains("2 distinct keys of a 2-of-3 multisig signed"),
        "{}",
        r.stdout
    );
    entries.pop();
    entries.push(ms(
        vec![
            keys[0].sign_compact(&msg, 31),
            keys[0].sign_compact(&msg, 31),
        ],
        script.to_hex_string(),
    ));
    let r = ex.verify_reserves(&forge(&ex, &entries), &[]).expect(1);
    assert!(
        r.stdout
            .contains("only 1 distinct key(s) of the 2-of-3 script signed"),
        "{}",
        r.stdout
    );
    entries.pop();
    let other = multisig_script(2, &[&keys[0], &keys[1]]);
    entries.push(ms(
        vec![
            keys[0].sign_compact(&msg, 31),
            keys[1].sign_compact(&msg, 31),
        ],
        other.to_hex_string(),
    ));
    let r = ex.verify_reserves(&forge(&ex, &entries), &[]).expect(1);
    assert!(r.stdout.contains("does not hash to"), "{}", r.stdout);
}

/// 3. The same address or UTXO counted twice, within an asset or across assets.
#[test]
fn double_counting_is_rejected() {
    let ex = Exchange::build(CSV, &[]);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let k2 = BtcKey::from_seed(4, Network::Bitcoin);
    let e = EthKey::from_seed(2);

    let mut same_address = good_entries(&ex);
    same_address.push(btc_entry(&ex, &k, "1", &[(9, "1")], 870_000));
    let r = ex
        .verify_reserves(&forge(&ex, &same_address), &[])
        .expect(1);
    assert!(
        r.stdout.contains("already counted in entry #0"),
        "{}",
        r.stdout
    );

    let mut same_utxo = good_entries(&ex);
    same_utxo.push(btc_entry(&ex, &k2, "3", &[(1, "3")], 870_000));
    let r = ex.add_reserves(&same_utxo).expect(1);
    assert!(
        r.stderr.contains("UTXO") && r.stderr.contains("already counted in entry #0"),
        "{}",
        r.stderr
    );

    // One token holding claimed for two assets (USDT's contract listed again as USDC).
    let mut across = good_entries(&ex);
    across[3] = eth_entry(&ex, &e, "USDC", Some(TOKEN_USDT), "600");
    let r = ex.verify_reserves(&forge(&ex, &across), &[]).expect(1);
    assert!(
        r.stdout.contains("already counted in entry #2"),
        "{}",
        r.stdout
    );
    // ETH and a token at one address are different funds: that is fine (good_entries does it).
}

/// 5. An asset short of its liabilities fails, however well the others are covered.
#[test]
fn one_short_asset_fails_even_when_the_total_is_covered() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    entries[0] = btc_entry(&ex, &k, "1000", &[(1, "1000")], 870_000); // vastly more BTC
    entries[1] = eth_entry(
        &ex,
        &EthKey::from_seed(2),
        "ETH",
        None,
        "14.999999999999999999",
    ); // 1 wei short
    ex.add_reserves(&entries).expect(0);
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(1);
    assert!(
        r.stdout
            .contains("reserves do not cover liabilities for ETH"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("<< SHORT"));
    // The customer's own check says so too.
    let r = ex.verify(&ex.attestation(), &ex.proof("b"), "b").expect(1);
    assert!(
        r.stdout.contains("your balances are included")
            && r.stdout
                .contains("BUT reserves do not cover liabilities for ETH"),
        "{}",
        r.stdout
    );
    // An asset with no reserves at all is short as well.
    let mut entries = good_entries(&ex);
    entries.remove(3);
    ex.add_reserves(&entries).expect(0);
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(1);
    assert!(
        r.stdout.contains("do not cover liabilities for USDC"),
        "{}",
        r.stdout
    );
}

#[test]
fn claims_must_equal_their_utxos() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    entries[0]["balance"] = json!("4");
    let r = ex.add_reserves(&entries).expect(1);
    assert!(r.stderr.contains("UTXOs add up to"), "{}", r.stderr);
}

#[test]
fn bad_reserves_input_exits_2_naming_the_field() {
    let ex = Exchange::build(CSV, &[]);
    let before = std::fs::read(ex.attestation()).unwrap();
    type Edit = Box<dyn Fn(&mut Vec<Value>)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "bad address",
            Box::new(|e| e[0]["address"] = json!("bc1qnot")),
            "entries[0].address",
        ),
        (
            "testnet address",
            Box::new(|e| e[0]["address"] = json!("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")),
            "entries[0].address",
        ),
        (
            "bad eth address",
            Box::new(|e| e[1]["address"] = json!("0x1234")),
            "entries[1].address",
        ),
        (
            "bad checksum",
            Box::new(|e| e[1]["address"] = json!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")),
            "EIP-55",
        ),
        (
            "bad amount",
            Box::new(|e| e[1]["balance"] = json!("1e5")),
            "entries[1].balance",
        ),
        (
            "too many decimals",
            Box::new(|e| e[0]["balance"] = json!("0.123456789")),
            "at most 8 decimals",
        ),
        (
            "negative",
            Box::new(|e| e[2]["balance"] = json!("-5")),
            "entries[2].balance",
        ),
        (
            "bad outpoint",
            Box::new(|e| e[0]["utxos"][0]["outpoint"] = json!("abc")),
            "outpoint",
        ),
        (
            "bad signature",
            Box::new(|e| e[1]["signatures"] = json!(["0xnothex"])),
            "signature",
        ),
        (
            "unknown asset",
            Box::new(|e| e[0]["asset"] = json!("DOGE")),
            "not an asset of the attestation",
        ),
        (
            "unknown chain",
            Box::new(|e| e[0]["chain"] = json!("litecoin")),
            "entries[0].chain",
        ),
        (
            "unknown field",
            Box::new(|e| e[0]["note"] = json!("x")),
            "unknown field",
        ),
        (
            "no utxos",
            Box::new(|e| e[0]["utxos"] = json!([])),
            "entries[0].utxos",
        ),
    ];
    for (what, edit, expect) in cases {
        let mut entries = good_entries(&ex);
        edit(&mut entries);
        let r = ex.add_reserves(&entries);
        assert_eq!(r.code, 2, "{what}: {}", r.all());
        assert!(
            r.stderr.contains(expect),
            "{what}: expected {expect:?} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("reserves.json"),
            "{what}: must name the file: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read(ex.attestation()).unwrap(),
            before,
            "{what}: nothing written"
        );
    }
    std::fs::write(ex.path("reserves.json"), "{not json").unwrap();
    let r = por_e2e::run(
        "por-prove",
        &[
            "reserves",
            "add",
            "--out",
            path_str(&ex.out),
            "--reserves",
            path_str(&ex.path("reserves.json")),
            "--key",
            path_str(&ex.key),
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("not valid JSON"), "{}", r.stderr);
}

#[test]
fn reserves_are_covered_by_the_exchange_signature() {
    let ex = Exchange::build(CSV, &[]);
    ex.add_reserves(&good_entries(&ex)).expect(0);
    let mut a = read_json(&ex.attestation());
    a["reserves"]["entries"][1]["balance"] = json!("2000");
    let p = ex.path("edited.json");
    por_e2e::write_json(&p, &a);
    let r = ex.verify_reserves(&p, &[]).expect(1);
    assert!(r.stdout.contains("signature is not valid"), "{}", r.stdout);
    let r = ex.verify(&p, &ex.proof("a"), "a").expect(1);
    assert!(r.stdout.contains("signature is not valid"), "{}", r.stdout);
}

#[test]
fn no_reserves_section_is_said_plainly() {
    let ex = Exchange::build(CSV, &[]);
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(1);
    assert!(r.stdout.contains("no reserves section"), "{}", r.stdout);
    let r = ex.verify(&ex.attestation(), &ex.proof("a"), "a").expect(0);
    assert!(
        r.stdout.contains("no reserves are attested"),
        "{}",
        r.stdout
    );
}

#[test]
fn malformed_signature_inside_a_signed_attestation_exits_2() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    entries[1]["signatures"] = json!(["0x1234"]);
    let path = forge(&ex, &entries);
    let r = ex.verify_reserves(&path, &[]).expect(2);
    assert!(
        r.stderr.contains("entries[1]") && r.stderr.contains("signature"),
        "{}",
        r.stderr
    );
    ex.verify(&path, &ex.proof("a"), "a").expect(2);
}

/// Coins listed at one height and again, after moving, at another would count twice.
#[test]
fn one_snapshot_height_per_chain() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    entries.push(btc_entry(
        &ex,
        &BtcKey::from_seed(4, Network::Bitcoin),
        "1",
        &[(8, "1")],
        870_001,
    ));
    let r = ex.add_reserves(&entries).expect(1);
    assert!(
        r.stderr.contains("one chain has one snapshot height"),
        "{}",
        r.stderr
    );
}
