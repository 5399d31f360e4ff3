//! Reserves without a chain: signatures, bindings, double counting, solvency per asset, exit
//! codes, and hostile statements signed directly with the exchange's key, through
//! `por-prove reserves` and `por-verify reserves` / `proof`.

use bitcoin::Network;
use por_e2e::signers::{multisig_script, BtcKey, EthKey};
use por_e2e::{path_str, read_json, write_registry, Exchange};
use por_verifier::binding::Binding;
use por_verifier::Attestation;
use serde_json::{json, Value};

const CSV: &str = "user_id,BTC:8,ETH:18,USDT:6,USDC:6\na,1,10,1000,500\nb,2,5,2000,0\n";
const TOKEN_USDT: &str = "0xdac17f958d2ee523a2206206994597c13d831ec7";
const TOKEN_USDC: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const ETH: u128 = 1_000_000_000_000_000_000;

fn txid(n: u8) -> String {
    hex::encode([n; 32])
}

fn btc_entry(ex: &Exchange, key: &BtcKey, sat: u64, utxos: &[(u8, u64)], height: u64) -> Value {
    let msg = ex.challenge("bitcoin", height);
    let addr = key.p2wpkh();
    json!({
        "asset": "BTC", "chain": "bitcoin", "height": height, "address": addr.to_string(), "balance": sat.to_string(),
        "utxos": utxos.iter().map(|(t, v)| json!({"outpoint": format!("{}:0", txid(*t)), "value": v.to_string()})).collect::<Vec<_>>(),
        "signatures": [key.sign_bip322(&addr, &msg)],
    })
}

fn eth_entry(ex: &Exchange, key: &EthKey, asset: &str, token: Option<&str>, units: u128) -> Value {
    evm_entry(ex, "ethereum", key, asset, token, units)
}

fn evm_entry(
    ex: &Exchange,
    chain: &str,
    key: &EthKey,
    asset: &str,
    token: Option<&str>,
    units: u128,
) -> Value {
    let msg = ex.challenge(chain, 21_000_000);
    let mut e = json!({
        "asset": asset, "chain": chain, "height": 21_000_000, "address": key.address(), "balance": units.to_string(),
        "signatures": [key.personal_sign(msg.as_bytes())],
    });
    if let Some(t) = token {
        e["token"] = json!(t);
    }
    e
}

/// Reserves that cover every asset (liabilities: 3 BTC, 15 ETH, 3000 USDT, 500 USDC).
fn good_entries(ex: &Exchange) -> Vec<Value> {
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let e = EthKey::from_seed(2);
    vec![
        btc_entry(
            ex,
            &k,
            350_000_000,
            &[(1, 300_000_000), (2, 50_000_000)],
            870_000,
        ),
        eth_entry(ex, &e, "ETH", None, 20 * ETH),
        eth_entry(ex, &e, "USDT", Some(TOKEN_USDT), 3_000_000_000),
        eth_entry(ex, &e, "USDC", Some(TOKEN_USDC), 600_000_000),
    ]
}

fn binding(asset: &str, chain: &str, token: Option<&str>, decimals: u8) -> Binding {
    Binding {
        asset: asset.into(),
        chain: chain.into(),
        token: token.map(String::from),
        decimals,
    }
}

#[test]
fn reserves_added_and_verified_offline() {
    let ex = Exchange::build(CSV, &[]);
    let before = std::fs::read(ex.attestation()).unwrap();
    let r = ex.add_reserves(&good_entries(&ex)).expect(0);
    assert!(
        r.stdout
            .contains("signed reserves statement #1 with 4 entries"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read(ex.attestation()).unwrap(),
        before,
        "the attestation is signed once"
    );
    assert!(ex.out.join("reserves-0001.json").exists());
    let stmt = read_json(&ex.reserves());
    assert_eq!(stmt["entries"].as_array().unwrap().len(), 4);
    assert_eq!(
        stmt["attestation"],
        json!(Attestation::read(&ex.attestation())
            .unwrap()
            .digest()
            .to_hex())
    );

    // Without a node and without --offline: not everything could be checked, exit 3.
    let r = ex
        .verify_reserves(&ex.reserves(), &[])
        .expect_code("reserves.not_checked");
    assert!(
        r.stdout
            .contains("UNVERIFIED: not everything needed could be checked"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("no node for bitcoin (give --node bitcoin=URL)"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("SOLVENT") && !r.stdout.contains("verified on chain"),
        "{}",
        r.stdout
    );
    let j = ex.verify_reserves(&ex.reserves(), &["--json"]).expect(3);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["result"], "unverified");
    assert_eq!(v["reserves"]["solvency"][1]["status"], "unverified");

    // --offline: signatures only, exit 0, and the words say balances were not checked.
    let r = ex.verify_reserves(&ex.reserves(), &["--offline"]).expect(0);
    ex.verify_reserves(&ex.reserves(), &["--offline", "--json"])
        .expect_code("ok.signatures_only");
    assert!(
        r.stdout.contains("SIGNATURES VALID")
            && r.stdout.contains("CLAIMED, NOT CHECKED ON CHAIN")
            && r.stdout.contains("says nothing of solvency"),
        "{}",
        r.stdout
    );
    let j = ex
        .verify_reserves(&ex.reserves(), &["--offline", "--json"])
        .expect(0);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["result"], "signatures_only");
    assert_eq!(
        v["reserves"]["solvency"][1]["status"],
        "claimed_not_checked"
    );
    assert!(
        !j.stdout.contains("\"pass\"") && !j.stdout.contains("cover"),
        "{}",
        j.stdout
    );
    assert!(
        r.stdout
            .contains("BIP-322 simple signature over this period's challenge (offline)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("binding BTC on bitcoin (8 decimals): confirmed by built-in registry"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("116.67%"), "BTC 3.5 over 3: {}", r.stdout);
    assert!(
        r.stdout.contains("CLAIMED, NOT CHECKED ON CHAIN"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("cover"), "{}", r.stdout);

    // A customer's proof without a node: the same meaning as `reserves`, exit 3, never a pass.
    let r = ex
        .verify_with(
            &ex.attestation(),
            &ex.proof("a"),
            "a",
            &["--reserves", path_str(&ex.reserves())],
        )
        .expect_code("reserves.not_checked");
    assert!(
        r.stdout.contains("UNVERIFIED") && r.stdout.contains("no node for bitcoin"),
        "{}",
        r.stdout
    );
    let j = ex
        .verify_with(
            &ex.attestation(),
            &ex.proof("a"),
            "a",
            &["--reserves", path_str(&ex.reserves()), "--json"],
        )
        .expect(3);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["result"], "unverified");
    // With --offline: signatures only, said so, never called cover or pass.
    let r = ex
        .verify_with(
            &ex.attestation(),
            &ex.proof("a"),
            "a",
            &["--reserves", path_str(&ex.reserves()), "--offline"],
        )
        .expect(0);
    assert!(
        r.stdout.contains("VERIFIED: your balances are included"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("CLAIMED, NOT CHECKED ON CHAIN"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("run again with your node"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("SOLVENT"), "{}", r.stdout);
    // Without the statement, the proof says how to check reserves.
    let r = ex.verify(&ex.attestation(), &ex.proof("a"), "a").expect(0);
    assert!(
        r.stdout.contains("Reserves were not checked") && r.stdout.contains("--reserves"),
        "{}",
        r.stdout
    );

    // A correction is a second statement; both are kept.
    ex.add_reserves(&good_entries(&ex)).expect(0);
    assert!(
        ex.out.join("reserves-0001.json").exists() && ex.out.join("reserves-0002.json").exists()
    );
    assert_eq!(read_json(&ex.reserves())["sequence"], 2);
}

#[test]
fn challenge_binds_exchange_period_chain_height_and_attestation() {
    let ex = Exchange::build(CSV, &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let digest = Attestation::read(&ex.attestation())
        .unwrap()
        .digest()
        .to_hex();
    for part in [
        "Test Exchange",
        "2026-11",
        "bitcoin",
        "870000",
        digest.as_str(),
    ] {
        assert!(msg.contains(part), "{part} missing from {msg}");
    }
    assert!(!msg.ends_with('\n'));
}

/// Replay: a signature over last month's challenge, another exchange's, or another tree's.
#[test]
fn replayed_signatures_are_rejected() {
    let ex = Exchange::build(CSV, &[]);
    let last_month = Exchange::build(CSV, &[]); // same exchange name, another tree
    let other = |exchange: &str, period: &str, time: &str| {
        let t = tempfile::tempdir().unwrap();
        let csv = t.path().join("l.csv");
        std::fs::write(&csv, CSV).unwrap();
        let out = t.path().join("o");
        por_e2e::build_month(
            &csv,
            &ex.key,
            exchange,
            period,
            &out,
            &["--snapshot-time", time],
        )
        .expect(0);
        (t, out)
    };
    let other_period = other("Test Exchange", "2026-10", "2026-10-31T23:00:00Z");
    let other_exchange = other("Other Exchange", "2026-11", "2026-11-30T23:59:59Z");
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let challenge_of = |att: &std::path::Path| {
        let a = Attestation::read(att).unwrap();
        por_verifier::reserves::challenge(
            &a.exchange,
            &a.period,
            &por_verifier::chains::Chain::parse("bitcoin").unwrap(),
            870_000,
            &a.digest(),
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
    for (what, msg) in cases {
        let mut entries = good_entries(&ex);
        entries[0]["signatures"] = json!([k.sign_bip322(&k.p2wpkh(), &msg)]);
        let r = ex.add_reserves(&entries).expect(1);
        assert!(
            r.stderr.contains("nothing was written") && r.stderr.contains("BTC"),
            "{what}: {}",
            r.stderr
        );
        assert!(!ex.reserves().exists(), "{what}: nothing written");
        // A statement the exchange signed anyway is caught by the verifier.
        let r = ex
            .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
            .expect(1);
        assert!(
            r.stdout.contains("[FAIL] BTC") && r.stdout.contains("NOT PROVEN"),
            "{what}: {}",
            r.stdout
        );
    }
}

/// A key that does not control the address; multisig short of m, or a wrong script.
#[test]
fn signatures_by_the_wrong_keys_are_rejected() {
    let ex = Exchange::build(CSV, &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let mut entries = good_entries(&ex);
    let intruder = BtcKey::from_seed(9, Network::Bitcoin);
    entries[0]["signatures"] = json!([intruder.sign_compact(&msg, 39)]);
    let r = ex.add_reserves(&entries).expect(1);
    assert!(r.stderr.contains("does not control"), "{}", r.stderr);
    let r = ex
        .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
        .expect(1);
    assert!(r.stdout.contains("does not control"), "{}", r.stdout);

    let mut entries = good_entries(&ex);
    let emsg = ex.challenge("ethereum", 21_000_000);
    entries[1]["signatures"] = json!([EthKey::from_seed(3).personal_sign(emsg.as_bytes())]);
    let r = ex
        .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
        .expect(1);
    assert!(r.stdout.contains("not by 0x"), "{}", r.stdout);

    let keys: Vec<BtcKey> = (20..23)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&keys[0], &keys[1], &keys[2]]);
    let addr = bitcoin::Address::p2wsh(&script, Network::Bitcoin).to_string();
    let ms = |sigs: Vec<String>, script_hex: String| {
        json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": addr, "balance": "100000000",
               "utxos": [{"outpoint": format!("{}:1", txid(7)), "value": "100000000"}], "script": script_hex, "signatures": sigs})
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
    let r = ex.verify_reserves(&ex.reserves(), &["--offline"]).expect(0);
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
    let r = ex
        .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
        .expect(1);
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
    let r = ex
        .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
        .expect(1);
    assert!(r.stdout.contains("does not hash to"), "{}", r.stdout);
}

/// Case 1 of the verdict issue: one UTXO listed twice in one entry (7.25 BTC counted as 14.5),
/// and the same address or UTXO in two entries, or one token holding for two assets.
#[test]
fn double_counting_is_rejected() {
    let ex = Exchange::build("user_id,BTC:8\na,14.5\n", &[]);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let twice = btc_entry(
        &ex,
        &k,
        1_450_000_000,
        &[(1, 725_000_000), (1, 725_000_000)],
        870_000,
    );
    let r = ex.add_reserves(std::slice::from_ref(&twice)).expect(1);
    assert!(
        r.stderr.contains("is listed twice in this entry"),
        "{}",
        r.stderr
    );
    let r = ex
        .verify_reserves(&ex.forge_reserves(&[twice]), &["--offline"])
        .expect_code("reserves.balance_short");
    assert!(
        r.stdout.contains("is listed twice in this entry"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("SHORT") && r.stdout.contains("NOT PROVEN"),
        "{}",
        r.stdout
    );

    let ex = Exchange::build(CSV, &[]);
    let k2 = BtcKey::from_seed(4, Network::Bitcoin);
    let e = EthKey::from_seed(2);
    let mut same_address = good_entries(&ex);
    same_address.push(btc_entry(
        &ex,
        &k,
        100_000_000,
        &[(9, 100_000_000)],
        870_000,
    ));
    let r = ex
        .verify_reserves(&ex.forge_reserves(&same_address), &["--offline"])
        .expect(1);
    assert!(
        r.stdout.contains("already counted in entry #0"),
        "{}",
        r.stdout
    );

    let mut same_utxo = good_entries(&ex);
    same_utxo.push(btc_entry(
        &ex,
        &k2,
        300_000_000,
        &[(1, 300_000_000)],
        870_000,
    ));
    let r = ex.add_reserves(&same_utxo).expect(1);
    assert!(
        r.stderr.contains("UTXO") && r.stderr.contains("already counted in entry #0"),
        "{}",
        r.stderr
    );

    // One token holding claimed for two assets (USDT's contract listed again as USDC): the
    // USDC entry has no USDC binding for that contract.
    let mut across = good_entries(&ex);
    across[3] = eth_entry(&ex, &e, "USDC", Some(TOKEN_USDT), 600_000_000);
    let r = ex
        .verify_reserves(&ex.forge_reserves(&across), &["--offline"])
        .expect(1);
    assert!(
        r.stdout
            .contains("binds no reserves of USDC on ethereum with token"),
        "{}",
        r.stdout
    );
    // ETH and a token at one address are different funds: that is fine (good_entries does it).
}

/// An asset short of its liabilities fails, however well the others are covered.
#[test]
fn one_short_asset_fails_even_when_the_total_is_covered() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    entries[0] = btc_entry(&ex, &k, 100_000_000_000, &[(1, 100_000_000_000)], 870_000); // vastly more BTC
    entries[1] = eth_entry(&ex, &EthKey::from_seed(2), "ETH", None, 15 * ETH - 1); // 1 wei short
    let r = ex.add_reserves(&entries).expect(0);
    assert!(
        r.stdout.contains("do not cover liabilities for ETH"),
        "{}",
        r.stdout
    );
    let r = ex
        .verify_reserves(&ex.reserves(), &["--offline"])
        .expect_code("reserves.balance_short");
    assert!(
        r.stdout
            .contains("reserves do not cover liabilities for ETH"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("SHORT"));
    // The customer's own check says so too, without hiding the inclusion result.
    let r = ex
        .verify_with(
            &ex.attestation(),
            &ex.proof("b"),
            "b",
            &["--reserves", path_str(&ex.reserves())],
        )
        .expect(1);
    assert!(
        r.stdout.contains("your balances are included")
            && r.stdout.contains("do not cover liabilities for ETH"),
        "{}",
        r.stdout
    );
    // An asset with no reserves at all is short as well.
    let mut entries = good_entries(&ex);
    entries.remove(3);
    let r = ex
        .verify_reserves(&ex.forge_reserves(&entries), &["--offline"])
        .expect(1);
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
    entries[0]["balance"] = json!("400000000");
    let r = ex.add_reserves(&entries).expect(1);
    assert!(r.stderr.contains("UTXOs add up to"), "{}", r.stderr);
}

/// Case 6: entries the exchange signed that are malformed fail the reserves verdict (exit 1,
/// naming the entry and field) and never hide the customer's inclusion result; `por-prove`
/// refuses them.
#[test]
fn malformed_signed_entries_fail_the_verdict_not_the_customer() {
    let ex = Exchange::build(CSV, &[]);
    type Edit = Box<dyn Fn(&mut Vec<Value>)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "bad address",
            Box::new(|e| e[0]["address"] = json!("bc1qnot")),
            "field address",
        ),
        (
            "testnet address",
            Box::new(|e| e[0]["address"] = json!("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")),
            "field address",
        ),
        (
            "bad eth address",
            Box::new(|e| e[1]["address"] = json!("0x1234")),
            "field address",
        ),
        (
            "bad checksum",
            Box::new(|e| e[1]["address"] = json!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")),
            "EIP-55",
        ),
        (
            "decimal amount",
            Box::new(|e| e[1]["balance"] = json!("1.5")),
            "field balance",
        ),
        (
            "negative",
            Box::new(|e| e[2]["balance"] = json!("-5")),
            "field balance",
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
            Box::new(|e| e[0]["chain"] = json!("zcash")),
            "field chain",
        ),
        (
            "non-canonical chain",
            Box::new(|e| e[1]["chain"] = json!("ethereum-1")),
            "written \"ethereum\"",
        ),
        (
            "no utxos",
            Box::new(|e| e[0]["utxos"] = json!([])),
            "field utxos",
        ),
        (
            "no signatures",
            Box::new(|e| e[1]["signatures"] = json!([])),
            "field signatures",
        ),
    ];
    let proof = ex.proof("a");
    for (what, edit, expect) in cases {
        let mut entries = good_entries(&ex);
        edit(&mut entries);
        let r = ex.add_reserves(&entries);
        assert_eq!(r.code, 1, "{what}: {}", r.all());
        assert!(
            r.stderr.contains(expect) && r.stderr.contains("nothing was written"),
            "{what}: {}",
            r.stderr
        );
        assert!(!ex.reserves().exists(), "{what}: nothing written");
        let forged = ex.forge_reserves(&entries);
        let r = ex
            .verify_reserves(&forged, &["--offline"])
            .expect_code("reserves.control_invalid");
        assert!(
            r.stdout.contains(expect) && r.stdout.contains("[FAIL]"),
            "{what}: {}",
            r.stdout
        );
        let r = ex
            .verify_with(
                &ex.attestation(),
                &proof,
                "a",
                &["--reserves", path_str(&forged)],
            )
            .expect(1);
        assert!(
            r.stdout.contains("your balances are included")
                && r.stdout.contains("BUT the reserves fail"),
            "{what}: {}",
            r.stdout
        );
    }
}

/// Only a file that cannot be decoded at all is bad input (exit 2), named as what it is.
#[test]
fn undecodable_statements_exit_2() {
    let ex = Exchange::build(CSV, &[]);
    ex.add_reserves(&good_entries(&ex)).expect(0);
    let good = std::fs::read_to_string(ex.reserves()).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "not JSON",
            "{not json".into(),
            "not a reserves statement this tool can read",
        ),
        ("truncated", good[..good.len() / 2].into(), "truncated"),
        (
            "web page",
            "<!DOCTYPE html><html><body>Login</body></html>".into(),
            "HTML",
        ),
        (
            "unknown field",
            good.replacen("\"sequence\"", "\"note\": 1, \"sequence\"", 1),
            "unknown field",
        ),
        (
            "attestation instead",
            std::fs::read_to_string(ex.attestation()).unwrap(),
            "this is an attestation, not a reserves statement",
        ),
    ];
    for (what, text, expect) in cases {
        let p = ex.path("bad.json");
        std::fs::write(&p, text).unwrap();
        let r = ex.verify_reserves(&p, &[]).expect(2);
        assert!(
            r.stderr.contains(expect) && r.stderr.contains("bad.json"),
            "{what}: {}",
            r.stderr
        );
    }
    let r = ex
        .verify_reserves(std::path::Path::new("/dev/zero"), &[])
        .expect(2);
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
    // The entries file of `reserves add` too.
    std::fs::write(ex.path("entries.json"), "{not json").unwrap();
    let r = por_e2e::run(
        "por-prove",
        &[
            "reserves",
            "add",
            "--out",
            path_str(&ex.out),
            "--reserves",
            path_str(&ex.path("entries.json")),
            "--key",
            path_str(&ex.key),
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("entries.json"), "{}", r.stderr);
}

#[test]
fn statements_are_covered_by_the_exchange_signature_and_cite_one_attestation() {
    let ex = Exchange::build(CSV, &[]);
    ex.add_reserves(&good_entries(&ex)).expect(0);
    let mut a = read_json(&ex.reserves());
    a["entries"][1]["balance"] = json!("2000");
    let p = ex.path("edited.json");
    por_e2e::write_json(&p, &a);
    let r = ex.verify_reserves(&p, &["--offline"]).expect(1);
    assert!(r.stdout.contains("signature is not valid"), "{}", r.stdout);
    let r = ex
        .verify_with(
            &ex.attestation(),
            &ex.proof("a"),
            "a",
            &["--reserves", path_str(&p)],
        )
        .expect(1);
    assert!(
        r.stdout.contains("your balances are included")
            && r.stdout.contains("signature is not valid"),
        "{}",
        r.stdout
    );
    // The statement of another month's attestation does not back this one.
    let other = Exchange::build(CSV, &[]);
    let r = ex
        .verify_reserves(&other.forge_reserves(&good_entries(&other)), &["--offline"])
        .expect(1);
    assert!(r.stdout.contains("signed by key"), "{}", r.stdout);
    let forged = ex.forge_attestation(|a| a.snapshot_time = "2026-11-29T00:00:00Z".into());
    let r = ex
        .verify_reserves_of(&forged, &ex.reserves(), &["--offline"])
        .expect_code("reserves.statement_invalid");
    assert!(r.stdout.contains("backs attestation"), "{}", r.stdout);
}

/// Coins listed at one height and again, after moving, at another would count twice.
#[test]
fn one_snapshot_height_per_chain() {
    let ex = Exchange::build(CSV, &[]);
    let mut entries = good_entries(&ex);
    entries.push(btc_entry(
        &ex,
        &BtcKey::from_seed(4, Network::Bitcoin),
        100_000_000,
        &[(8, 100_000_000)],
        870_001,
    ));
    let r = ex.add_reserves(&entries).expect(1);
    assert!(
        r.stderr.contains("one chain has one snapshot height"),
        "{}",
        r.stderr
    );
}

/// Case 2: an asset backed on the wrong chain or in the wrong unit.
#[test]
fn wrong_chain_or_unit_is_caught() {
    let ex = Exchange::build("user_id,BTC:8\na,14.5\n", &[]);
    // BTC "backed" by wei on Ethereum: the exchange signs a binding of BTC to Ethereum's coin.
    let att = ex.forge_attestation(|a| a.bindings = vec![binding("BTC", "ethereum", None, 18)]);
    let e = EthKey::from_seed(2);
    let msg = por_e2e::challenge_of(&att, "ethereum", 21_000_000);
    let entry = json!({"asset": "BTC", "chain": "ethereum", "height": 21_000_000, "address": e.address(),
                       "balance": "1450000000", "signatures": [e.personal_sign(msg.as_bytes())]});
    let stmt = ex.forge_reserves_for(&att, std::slice::from_ref(&entry));
    let r = ex.verify_reserves_of(&att, &stmt, &["--offline"]).expect(1);
    assert!(
        r.stdout
            .contains("the registry says the native coin of ethereum is ETH, not BTC"),
        "{}",
        r.stdout
    );
    // Without a binding at all for that chain, the entry cannot count either.
    let r = ex
        .verify_reserves(&ex.forge_reserves(&[entry]), &["--offline"])
        .expect(1);
    assert!(
        r.stdout.contains("binds no reserves of BTC on ethereum"),
        "{}",
        r.stdout
    );

    // An attestation in hundredths of a bitcoin (BTC:2) whose binding claims the chain counts
    // hundredths too: satoshi would be read as hundredths.
    let ex2 = Exchange::build(
        "user_id,BTC:2\na,14.50\n",
        &[
            "--bindings",
            &write_bindings(&[json!({"asset": "BTC", "chain": "bitcoin", "decimals": 8})]),
        ],
    );
    let att = ex2.forge_attestation(|a| a.bindings = vec![binding("BTC", "bitcoin", None, 2)]);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let sat_entry = |att: &std::path::Path| {
        let msg = por_e2e::challenge_of(att, "bitcoin", 870_000);
        json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": k.p2wpkh().to_string(), "balance": "1450",
               "utxos": [{"outpoint": format!("{}:0", txid(1)), "value": "1450"}], "signatures": [k.sign_bip322(&k.p2wpkh(), &msg)]})
    };
    let stmt = ex2.forge_reserves_for(&att, &[sat_entry(&att)]);
    let r = ex2
        .verify_reserves_of(&att, &stmt, &["--offline"])
        .expect(1);
    assert!(
        r.stdout.contains("has 2 decimals, the registry says 8"),
        "{}",
        r.stdout
    );
    // With the true unit (8), 1450 sat are 0.0000145 BTC: nothing in hundredths, and SHORT.
    let stmt = ex2.forge_reserves(&[sat_entry(&ex2.attestation())]);
    let r = ex2.verify_reserves(&stmt, &["--offline"]).expect(1);
    assert!(
        r.stdout
            .contains("reserves do not cover liabilities for BTC"),
        "{}",
        r.stdout
    );
    // por-prove refuses the wrong unit at build time.
    let r = por_e2e::build_month(
        &ex2.liabilities,
        &ex2.key,
        "X",
        "2026-11",
        &ex2.path("o3"),
        &[
            "--snapshot-time",
            "2026-11-30T00:00:00Z",
            "--bindings",
            &write_bindings(&[json!({"asset": "BTC", "chain": "bitcoin", "decimals": 2})]),
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("the registry says 8"), "{}", r.stderr);
}

fn write_bindings(bindings: &[Value]) -> String {
    let dir = tempfile::tempdir().unwrap().keep();
    let p = dir.join("bindings.json");
    por_e2e::write_json(&p, &json!({"bindings": bindings}));
    p.to_str().unwrap().to_string()
}

/// Case 3: a token contract the exchange chose, and a pegged token, never count.
#[test]
fn token_contracts_must_be_in_the_users_registry() {
    let ex = Exchange::build("user_id,USDT:6\na,3000\n", &[]);
    let own = "0x00000000000000000000000000000000000a11ce";
    // Half of USDT backed by the real contract, half by one of the exchange's own.
    let att = ex.forge_attestation(|a| {
        a.bindings = vec![
            binding("USDT", "ethereum", Some(TOKEN_USDT), 6),
            binding("USDT", "ethereum", Some(own), 6),
        ]
    });
    let e = EthKey::from_seed(2);
    let msg = por_e2e::challenge_of(&att, "ethereum", 21_000_000);
    let entry = |token: &str| {
        json!({"asset": "USDT", "chain": "ethereum", "height": 21_000_000, "address": e.address(), "token": token,
               "balance": "1500000000", "signatures": [e.personal_sign(msg.as_bytes())]})
    };
    let stmt = ex.forge_reserves_for(&att, &[entry(TOKEN_USDT), entry(own)]);
    let r = ex.verify_reserves_of(&att, &stmt, &["--offline"]).expect(1);
    assert!(
        r.stdout.contains(&format!(
            "token contract {own} on ethereum is in no registry you trust"
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("reserves do not cover liabilities for USDT"),
        "{}",
        r.stdout
    );

    // An exchange-pegged USDT on BNB Smart Chain is not USDT reserves.
    let peg = "0x55d398326f99059ff775485246999027b3197955";
    let att =
        ex.forge_attestation(|a| a.bindings = vec![binding("USDT", "ethereum-56", Some(peg), 18)]);
    let r = ex
        .verify_reserves_of(&att, &ex.forge_reserves_for(&att, &[]), &["--offline"])
        .expect(1);
    assert!(
        r.stdout.contains("pegged token") && r.stdout.contains("never counts as reserves of USDT"),
        "{}",
        r.stdout
    );

    // A token list the user trusts makes a token count, labelled as theirs.
    let polygon = "0x00000000000000000000000000000000000000bb";
    let list = ex.path("tokens.json");
    por_e2e::write_json(
        &list,
        &json!({"name": "My list", "timestamp": "2026-11-01T00:00:00Z", "version": {"major": 1, "minor": 0, "patch": 0},
                "tokens": [{"chainId": 137, "address": polygon, "symbol": "USDT", "decimals": 6, "name": "Tether"}]}),
    );
    let att = ex.forge_attestation(|a| {
        a.bindings = vec![binding("USDT", "ethereum-137", Some(polygon), 6)]
    });
    let pmsg = por_e2e::challenge_of(&att, "ethereum-137", 1);
    let pentry = json!({"asset": "USDT", "chain": "ethereum-137", "height": 1, "address": e.address(), "token": polygon,
                        "balance": "3000000000", "signatures": [e.personal_sign(pmsg.as_bytes())]});
    let stmt = ex.forge_reserves_for(&att, &[pentry]);
    let r = ex.verify_reserves_of(&att, &stmt, &["--offline"]).expect(1);
    assert!(
        r.stdout.contains("is in no registry you trust"),
        "{}",
        r.stdout
    );
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--offline", "--token-list", path_str(&list)])
        .expect(0);
    assert!(r.stdout.contains("USER-SUPPLIED BINDING"), "{}", r.stdout);
    // Without --offline and without a node for chain 137: unverified, exit 3.
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--token-list", path_str(&list)])
        .expect(3);
    assert!(
        r.stdout.contains("no node for ethereum-137"),
        "{}",
        r.stdout
    );
}

/// Case 5 offline: a test network counts only when the user's own registry names it, and then
/// it is labelled; an attestation mixing mainnet and a test network fails the same way with or
/// without a node.
#[test]
fn test_networks_count_only_when_the_user_asks() {
    let ex = Exchange::build("user_id,BTC:8\na,1\n", &[]);
    let att = ex.forge_attestation(|a| {
        a.bindings = vec![
            binding("BTC", "bitcoin", None, 8),
            binding("BTC", "bitcoin-regtest", None, 8),
        ]
    });
    let k = BtcKey::from_seed(1, Network::Regtest);
    let msg = por_e2e::challenge_of(&att, "bitcoin-regtest", 200);
    let entry = json!({"asset": "BTC", "chain": "bitcoin-regtest", "height": 200, "address": k.p2wpkh().to_string(),
                       "balance": "100000000000000", "utxos": [{"outpoint": format!("{}:0", txid(3)), "value": "100000000000000"}],
                       "signatures": [k.sign_bip322(&k.p2wpkh(), &msg)]});
    let stmt = ex.forge_reserves_for(&att, &[entry]);
    for extra in [&["--offline"][..], &[][..]] {
        let r = ex.verify_reserves_of(&att, &stmt, extra).expect(1);
        assert!(
            r.stdout.contains("bitcoin-regtest is a test network"),
            "{}",
            r.stdout
        );
    }
    let reg = write_registry(
        ex.tmp.path(),
        "regtest.json",
        &[
            json!({"chain": "bitcoin-regtest", "symbol": "BTC", "decimals": 8, "issuance": "native"}),
        ],
    );
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--offline", "--registry", path_str(&reg)])
        .expect(0);
    assert!(r.stdout.contains("TEST NETWORK"), "{}", r.stdout);
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--registry", path_str(&reg)])
        .expect(3);
    assert!(
        r.stdout.contains("no node for bitcoin-regtest"),
        "{}",
        r.stdout
    );
}

/// Fiat stays in the tree, but its reserves are never "covered": named as not checked.
#[test]
fn fiat_held_off_chain_is_never_called_covered() {
    let ex = Exchange::build("user_id,BTC:8,JPY:0\na,1,500000\n", &[]);
    let att = Attestation::read(&ex.attestation()).unwrap();
    assert!(
        att.bindings
            .iter()
            .any(|b| b.asset == "JPY" && b.chain == "off-chain"),
        "JPY is bound off chain by default"
    );
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    let entries = [btc_entry(
        &ex,
        &k,
        100_000_000,
        &[(1, 100_000_000)],
        870_000,
    )];
    ex.add_reserves(&entries).expect(0);
    let r = ex.verify_reserves(&ex.reserves(), &["--offline"]).expect(0);
    assert!(
        r.stdout.contains("(JPY held off chain: not checked)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("NOT CHECKED by this tool: held off chain"),
        "{}",
        r.stdout
    );
    let r = ex.verify_reserves(&ex.reserves(), &[]).expect(3);
    assert!(
        r.stdout
            .contains("held off chain, no chain can prove it (JPY)"),
        "{}",
        r.stdout
    );
    // A crypto asset declared off chain (to escape every check) fails.
    let forged = ex.forge_attestation(|a| {
        a.bindings = vec![
            binding("BTC", "off-chain", None, 8),
            binding("JPY", "off-chain", None, 0),
        ]
    });
    let r = ex
        .verify_reserves_of(
            &forged,
            &ex.forge_reserves_for(&forged, &[]),
            &["--offline"],
        )
        .expect(1);
    assert!(
        r.stdout.contains("cannot be declared off chain"),
        "{}",
        r.stdout
    );
}

/// An asset the registry does not know is left unbound: `build` refuses to sign it unless
/// told to (`--allow-unbound`), and then nothing counts for it.
#[test]
fn unbound_assets_cannot_be_covered() {
    let ex = Exchange::build("user_id,BTC:8,XYZ:2\na,1,5\n", &["--allow-unbound"]);
    let r = ex.rebuild(&ex.path("o1"), &[]).expect(2);
    assert!(
        r.stderr.contains("no binding for XYZ")
            && r.stderr.contains("--allow-unbound")
            && r.stderr.contains("nothing was signed"),
        "{}",
        r.stderr
    );
    assert!(!ex.path("o1").exists(), "a refused build writes nothing");
    let r = ex.rebuild(&ex.path("o2"), &["--allow-unbound"]).expect(0);
    assert!(r.stdout.contains("XYZ      NOT BOUND"), "{}", r.stdout);
    let k = BtcKey::from_seed(1, Network::Bitcoin);
    ex.add_reserves(&[btc_entry(
        &ex,
        &k,
        100_000_000,
        &[(1, 100_000_000)],
        870_000,
    )])
    .expect(0);
    let r = ex
        .verify_reserves(&ex.reserves(), &["--offline"])
        .expect_code("reserves.balance_short");
    assert!(
        r.stdout
            .contains("reserves do not cover liabilities for XYZ"),
        "{}",
        r.stdout
    );
}

/// The exit codes are stated where users look.
#[test]
fn exit_codes_are_in_the_help() {
    let r = por_e2e::run("por-verify", &["--help"]).expect(0);
    for line in [
        "0  everything the command was asked to check is verified",
        "1  evidence against the exchange",
        "2  bad input",
        "3  UNVERIFIED",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
}

/// https:// node URLs are spoken with TLS (rustls, no system OpenSSL): against a port that does
/// not speak TLS, the handshake fails and the node cannot be used (exit 2), rather than the URL
/// being refused or sent in the clear.
#[test]
fn https_node_urls_are_spoken_with_tls() {
    let ex = Exchange::build(CSV, &[]);
    ex.add_reserves(&good_entries(&ex)).expect(0);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut first = [0u8; 3];
        let _ = s.read_exact(&mut first);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        first
    });
    let url = format!("bitcoin=https://user:secretpw@127.0.0.1:{port}/");
    let r = ex
        .verify_reserves(&ex.reserves(), &["--node", &url])
        .expect(2);
    assert!(
        r.stderr.contains("bitcoin node at https://127.0.0.1"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("secretpw"), "{}", r.stderr);
    // A TLS ClientHello starts with a handshake record: 0x16 0x03 0x01.
    assert_eq!(
        seen.join().unwrap(),
        [0x16, 0x03, 0x01],
        "the client must open with a TLS handshake"
    );
}

/// Key reuse: a cosigner of the cold multisig that also holds a hot address alone is named,
/// and so is a single key controlling half or more of an asset.
#[test]
fn custody_names_reused_and_dominant_keys() {
    let ex = Exchange::build("user_id,BTC:8\na,1\n", &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let keys: Vec<BtcKey> = (20..23)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&keys[0], &keys[1], &keys[2]]);
    let cold = bitcoin::Address::p2wsh(&script, Network::Bitcoin).to_string();
    let hot = keys[0].p2wpkh();
    let entries = [
        json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": cold, "balance": "100000000",
               "utxos": [{"outpoint": format!("{}:1", txid(7)), "value": "100000000"}], "script": script.to_hex_string(),
               "signatures": [keys[1].sign_compact(&msg, 31), keys[2].sign_compact(&msg, 31)], "storage": "cold"}),
        json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": hot.to_string(), "balance": "300000000",
               "utxos": [{"outpoint": format!("{}:0", txid(8)), "value": "300000000"}],
               "signatures": [keys[0].sign_bip322(&hot, &msg)], "storage": "hot"}),
    ];
    ex.add_reserves(&entries).expect(0);
    let r = ex.verify_reserves(&ex.reserves(), &["--offline"]).expect(0);
    let out = &r.stdout;
    assert!(out.contains("keys: 3 distinct"), "{out}");
    assert!(
        out.contains(&format!("signs for 2 addresses: {cold}, {hot}")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "(of {hot}) alone controls 3.00000000 (75.00%) of BTC"
        )),
        "{out}"
    );
    assert!(
        out.contains("multisig:   1.00000000 (25.00%): 2-of-3 1.00000000"),
        "{out}"
    );
    let r = ex
        .verify_reserves(
            &ex.reserves(),
            &["--offline", "--min-multisig-share", "0.9"],
        )
        .expect(1);
    assert!(
        r.stdout.contains("below --min-multisig-share 0.9 (90%)"),
        "{}",
        r.stdout
    );
}

/// Strings the exchange signed cannot rewrite the customer's screen: control characters and
/// line breaks in an entry are escaped, so a failing entry cannot erase its own [FAIL] line.
#[test]
fn signed_strings_cannot_forge_the_screen() {
    let ex = Exchange::build("user_id,BTC:8\na,1\n", &[]);
    let mut entry = btc_entry(
        &ex,
        &BtcKey::from_seed(1, Network::Bitcoin),
        100_000_000,
        &[(1, 100_000_000)],
        870_000,
    );
    entry["address"] =
        json!("bc1q\r\u{1b}[2K  [ok] all good\nSOLVENT: reserves verified on chain\u{1b}[8m");
    let r = ex
        .verify_reserves(&ex.forge_reserves(&[entry]), &["--offline"])
        .expect(1);
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\r'),
        "{:?}",
        r.stdout
    );
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("SOLVENT")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\\u{1b}[2K") && r.stdout.contains("[FAIL]"),
        "{}",
        r.stdout
    );

    // A signed custodian name with a right-to-left override, a first-strong isolate, a line
    // separator, a private-use and an unassigned code point: each printed escaped, never raw.
    let mut entry = btc_entry(
        &ex,
        &BtcKey::from_seed(1, Network::Bitcoin),
        100_000_000,
        &[(1, 100_000_000)],
        870_000,
    );
    let name = "Vault\u{202e}DLOC\u{2066}x\u{2028}SOLVENT\u{e000}\u{50000}";
    entry["custodian"] = json!(name);
    let mut second = entry.clone();
    second["address"] = json!(format!("bc1q{name}"));
    let r = ex
        .verify_reserves(&ex.forge_reserves(&[entry, second]), &["--offline"])
        .expect(1);
    for c in ['\u{202e}', '\u{2066}', '\u{2028}', '\u{e000}', '\u{50000}'] {
        assert!(
            !r.stdout.contains(c),
            "U+{:04X} printed raw: {}",
            c as u32,
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains("Vault\\u{202e}DLOC\\u{2066}x\\u{2028}SOLVENT\\u{e000}\\u{50000}"),
        "{}",
        r.stdout
    );
}

/// A 1-of-1 "multisig" is one key, and a script that repeats a key is not counted as multisig.
#[test]
fn single_key_scripts_are_not_multisig() {
    let ex = Exchange::build("user_id,BTC:8\na,1\n", &[]);
    let msg = ex.challenge("bitcoin", 870_000);
    let k = BtcKey::from_seed(30, Network::Bitcoin);
    let one = multisig_script(1, &[&k]);
    let addr = bitcoin::Address::p2wsh(&one, Network::Bitcoin).to_string();
    let entry = json!({"asset": "BTC", "chain": "bitcoin", "height": 870_000, "address": addr, "balance": "100000000",
                       "utxos": [{"outpoint": format!("{}:0", txid(5)), "value": "100000000"}], "script": one.to_hex_string(),
                       "signatures": [k.sign_compact(&msg, 31)]});
    let stmt = ex.forge_reserves(&[entry]);
    let r = ex
        .verify_reserves(&stmt, &["--offline", "--min-multisig-share", "1"])
        .expect(1);
    assert!(
        r.stdout.contains("single key: 1.00000000 (100.00%)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("alone controls 1.00000000 (100.00%) of BTC"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("below --min-multisig-share 1 (100%)"),
        "{}",
        r.stdout
    );
}
