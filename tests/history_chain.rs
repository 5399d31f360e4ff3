//! The history anchored on Bitcoin: each month's anchor transaction spends the previous
//! anchor's output and commits the log root in OP_RETURN, on a real regtest `bitcoind`. Two
//! customers each kept on their own consistent history are told apart by the chain.

use bitcoin::Network;
use por_e2e::months::Months;
use por_e2e::nodes::Bitcoind;
use por_e2e::signers::BtcKey;
use por_e2e::{path_str, run};
use serde_json::{json, Value};

const CSV: &str = "user_id,BTC:8\nalice,1\nbob,2\n";

/// Builds this month's anchor with `por-prove anchor`, signs it with the anchor key as the
/// exchange's wallet would, broadcasts it and mines it. Returns the new anchor outpoint's txid.
fn anchor(
    node: &Bitcoind,
    history: &std::path::Path,
    key: &BtcKey,
    spend: &str,
    value: u64,
) -> String {
    let v = value.to_string();
    let addr = key.p2wpkh().to_string();
    let r = run(
        "por-prove",
        &[
            "anchor",
            "--history",
            path_str(history),
            "--spend",
            spend,
            "--value",
            &v,
            "--address",
            &addr,
            "--fee",
            "1000",
            "--chain",
            "bitcoin-regtest",
        ],
    )
    .expect(0);
    let a: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        a["psbt"].as_str().unwrap().starts_with("cHNidP"),
        "a base64 PSBT: {a}"
    );
    let (txid, vout) = spend.split_once(':').unwrap();
    let prev = json!([{"txid": txid, "vout": vout.parse::<u32>().unwrap(),
                       "scriptPubKey": key.p2wpkh().script_pubkey().to_hex_string(), "amount": value as f64 / 1e8}]);
    let signed = node.call(
        "signrawtransactionwithkey",
        json!([a["unsigned_tx"], [key.wif()], prev]),
    );
    assert_eq!(signed["complete"], true, "{signed}");
    let txid = node
        .call("sendrawtransaction", json!([signed["hex"]]))
        .as_str()
        .unwrap()
        .to_string();
    node.mine(
        1,
        &BtcKey::from_seed(99, Network::Regtest).p2wpkh().to_string(),
    );
    txid
}

#[test]
fn the_anchored_history_is_the_only_history() {
    let Some(node) = Bitcoind::start() else {
        return;
    };
    let ak = BtcKey::from_seed(90, Network::Regtest);
    let blocks = node.mine(1, &ak.p2wpkh().to_string());
    let genesis = format!("{}:0", node.coinbase(&blocks[0]));
    node.mine(
        100,
        &BtcKey::from_seed(99, Network::Regtest).p2wpkh().to_string(),
    );
    let url = format!("bitcoin-regtest={}", node.url);

    let m = Months::new();
    m.build_in("2026-10", "2026-10", CSV, &m.key, &["--anchor", &genesis])
        .expect(0);
    let oct = m.path("history-oct.json");
    std::fs::copy(m.history(), &oct).unwrap();
    // Before the first anchor is mined: the attestation is not anchored (exit 1).
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(1);
    assert!(
        r.stdout
            .contains("the attestation of 2026-10 (entry 0) is not anchored on chain"),
        "{}",
        r.stdout
    );
    let a1 = anchor(&node, &m.history(), &ak, &genesis, 5_000_000_000);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(0);
    assert!(
        r.stdout.contains("HISTORY VERIFIED")
            && r.stdout.contains("commits your history's first 1 entries"),
        "{}",
        r.stdout
    );

    m.build("2026-11", CSV).expect(0);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(1);
    assert!(
        r.stdout
            .contains("the attestation of 2026-11 (entry 1) is not anchored"),
        "{}",
        r.stdout
    );
    anchor(&node, &m.history(), &ak, &format!("{a1}:0"), 4_999_999_000);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(0);
    assert!(
        r.stdout.contains("commits your history's first 2 entries"),
        "{}",
        r.stdout
    );

    // Bob is kept on his own consistent history: another November, chained to the same
    // October and signed by the same key. Everything in it checks out, except the chain.
    let bob_history = m.path("history-bob.json");
    std::fs::copy(&oct, &bob_history).unwrap();
    std::fs::write(m.path("bob.csv"), "user_id,BTC:8\nbob,2\n").unwrap();
    por_e2e::build_month(
        &m.path("bob.csv"),
        &m.key,
        "Chain Exchange",
        "2026-11",
        &m.path("bob-nov"),
        &[
            "--snapshot-time",
            "2026-11-15T12:00:00Z",
            "--history",
            path_str(&bob_history),
        ],
    )
    .expect(0);
    let r = m.verify_history(&bob_history, &["--node", &url]).expect(1);
    assert!(
        r.stdout.contains("FORK: anchor") && r.stdout.contains("anchored another history"),
        "{}",
        r.stdout
    );
    // Without a node the fork cannot be seen, and the verdict says the anchor was not checked.
    let r = m.verify_history(&bob_history, &[]).expect(3);
    assert!(
        r.stdout.contains("the anchor chain from") && r.stdout.contains("was not checked"),
        "{}",
        r.stdout
    );
    // Comparing the two histories names where they part.
    let r = m
        .verify_history(&bob_history, &["--compare", path_str(&m.history())])
        .expect(1);
    assert!(
        r.stdout
            .contains("diverges from this history at entry 1 (2026-11 attestation)"),
        "{}",
        r.stdout
    );
}
