//! The history anchored on Bitcoin: each month's anchor transaction spends the previous
//! anchor's output and commits the log root in OP_RETURN, on a real regtest `bitcoind`. Two
//! customers each kept on their own consistent history are told apart by the chain: a fork of
//! one anchor chain, a second chain from another genesis, a history anchored after the fact,
//! an anchor not yet buried; and an honest history whose chain an ordinary payment broke is
//! recovered by a restart.

use bitcoin::Network;
use por_e2e::months::Months;
use por_e2e::nodes::Bitcoind;
use por_e2e::signers::BtcKey;
use por_e2e::{path_str, run, Run};
use serde_json::{json, Value};
use std::path::Path;

const CSV: &str = "user_id,BTC:8\nalice,1\nbob,2\n";
/// The honest tests' month times: 2026-10-15T12:00:00Z and 2026-11-15T12:00:00Z.
const OCT: i64 = 1_792_065_600;
const NOV: i64 = OCT + 31 * 86_400;
const DAY: i64 = 86_400;

/// The anchor key's wallet and a miner address.
fn wallet() -> (BtcKey, String) {
    (
        BtcKey::from_seed(90, Network::Regtest),
        BtcKey::from_seed(99, Network::Regtest).p2wpkh().to_string(),
    )
}

/// A node whose clock is at `time`, with `outpoints` mature coinbase outputs paying the anchor
/// key (the geneses and restarts the tests use).
fn node_at(time: i64, outpoints: usize) -> Option<(Bitcoind, Vec<String>)> {
    let node = Bitcoind::start()?;
    node.set_time(time);
    let (ak, miner) = wallet();
    let blocks = node.mine(outpoints as u64, &ak.p2wpkh().to_string());
    node.mine(100, &miner);
    let outs = blocks
        .iter()
        .map(|b| format!("{}:0", node.coinbase(b)))
        .collect();
    Some((node, outs))
}

/// Builds this month's anchor with `por-prove anchor`, signs it with the anchor key as the
/// exchange's wallet would, broadcasts it and mines `depth` blocks on it. Returns the new
/// anchor outpoint.
fn anchor(node: &Bitcoind, history: &Path, spend: &str, value: u64, depth: u64) -> String {
    let (ak, miner) = wallet();
    let v = value.to_string();
    let addr = ak.p2wpkh().to_string();
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
                       "scriptPubKey": ak.p2wpkh().script_pubkey().to_hex_string(), "amount": value as f64 / 1e8}]);
    let signed = node.call(
        "signrawtransactionwithkey",
        json!([a["unsigned_tx"], [ak.wif()], prev]),
    );
    assert_eq!(signed["complete"], true, "{signed}");
    let txid = node
        .call("sendrawtransaction", json!([signed["hex"]]))
        .as_str()
        .unwrap()
        .to_string();
    if depth > 0 {
        node.mine(depth, &miner);
    }
    format!("{txid}:0")
}

fn url(node: &Bitcoind) -> String {
    format!("bitcoin-regtest={}", node.url)
}

fn says(r: &Run, what: &str) {
    assert!(
        r.stdout.contains(what),
        "expected {what:?} in:\n{}",
        r.stdout
    );
}

const COIN: u64 = 5_000_000_000;

#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn the_anchored_history_is_the_only_history() {
    let Some((node, outs)) = node_at(OCT + DAY, 1) else {
        return;
    };
    let genesis = outs[0].clone();
    let url = url(&node);
    let m = Months::new();
    m.build_in("2026-10", "2026-10", CSV, &m.key, &["--anchor", &genesis])
        .expect(0);
    let oct = m.path("history-oct.json");
    std::fs::copy(m.history(), &oct).unwrap();
    // Before the first anchor is mined: the attestation is not anchored (exit 1).
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(1);
    says(
        &r,
        "the attestation of 2026-10 (entry 0) is not anchored on chain",
    );
    // One confirmation: a reorg could still replace the anchor, so nothing is settled (exit 3).
    let a1 = anchor(&node, &m.history(), &genesis, COIN, 1);
    let r = m
        .verify_history(&m.history(), &["--node", &url])
        .expect_code("anchor.pending");
    says(&r, "with 1 confirmation(s) of the 6 needed");
    node.mine(5, &wallet().1);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(0);
    says(&r, "HISTORY VERIFIED");
    says(&r, "commits your history's first 1 entries");

    node.set_time(NOV + DAY);
    m.build("2026-11", CSV).expect(0);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(1);
    says(&r, "the attestation of 2026-11 (entry 1) is not anchored");
    anchor(&node, &m.history(), &a1, COIN - 1000, 6);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(0);
    says(&r, "commits your history's first 2 entries");
    // A customer with a node follows the anchors in `proof --history` too.
    let store = m.path("alice-store");
    let r = m.customer(
        &store,
        "2026-11",
        "alice",
        Some(&m.pubkey),
        &["--history", path_str(&m.history()), "--node", &url],
    );
    let r = r.expect(0);
    says(&r, "the attestation of 2026-11 (entry 1) is anchored by");
    says(&r, &format!("genesis {genesis}: pinned on first use"));

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
    let r = m
        .verify_history(&bob_history, &["--node", &url])
        .expect_code("history.fork");
    says(&r, "FORK: anchor");
    says(&r, "anchored another history");
    // Without a node the fork cannot be seen, and the verdict says the anchor was not checked.
    let r = m.verify_history(&bob_history, &[]).expect(3);
    says(&r, "was not checked");
    // Comparing the two histories names where they part.
    let r = m
        .verify_history(&bob_history, &["--compare", path_str(&m.history())])
        .expect(1);
    says(
        &r,
        "diverges from this history at entry 1 (2026-11 attestation)",
    );
}

/// Case 1 of the dishonest exchange: alice's history anchors from X, bob's from Y, both signed
/// by the same key. Each passes on its own; the genesis a customer pins (or is given) tells them
/// apart, in `proof` and in `history`.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_second_anchor_chain_from_another_genesis_is_a_fork() {
    let Some((node, outs)) = node_at(OCT + DAY, 2) else {
        return;
    };
    let (x, y) = (outs[0].clone(), outs[1].clone());
    let url = url(&node);
    let m = Months::new();
    // Alice's history in the published directory, bob's in a directory of its own.
    m.build_in("2026-10", "2026-10", CSV, &m.key, &["--anchor", &x])
        .expect(0);
    anchor(&node, &m.history(), &x, COIN, 6);
    let bob_dir = m.path("bob");
    std::fs::create_dir_all(&bob_dir).unwrap();
    let bob_history = bob_dir.join("history.json");
    std::fs::write(
        m.path("bob.csv"),
        "user_id,BTC:8\nalice,1\nbob,2\ncarol,3\n",
    )
    .unwrap();
    por_e2e::build_month(
        &m.path("bob.csv"),
        &m.key,
        "Chain Exchange",
        "2026-10",
        &bob_dir.join("2026-10"),
        &[
            "--snapshot-time",
            "2026-10-15T12:00:00Z",
            "--history",
            path_str(&bob_history),
            "--anchor",
            &y,
        ],
    )
    .expect(0);
    anchor(&node, &bob_history, &y, COIN, 6);
    // On its own, each history checks out on chain.
    m.verify_history(&m.history(), &["--node", &url]).expect(0);
    m.verify_history(&bob_history, &["--node", &url]).expect(0);

    // Alice pins the genesis on first use; shown bob's month later, it is another history.
    let store = m.path("alice-store");
    let r = m
        .customer(
            &store,
            "2026-10",
            "alice",
            Some(&m.pubkey),
            &["--history", path_str(&m.history()), "--node", &url],
        )
        .expect(0);
    says(&r, &format!("genesis {x}: pinned on first use"));
    eprintln!("--- alice, first run:\n{}", r.stdout);
    let bob_proof = m.path("bob-proof.json");
    run(
        "por-prove",
        &[
            "proof",
            "--from",
            path_str(&bob_dir.join("2026-10")),
            "--user",
            "alice",
            "--out",
            path_str(&bob_proof),
        ],
    )
    .expect(0);
    let r = run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            path_str(&bob_dir.join("2026-10/attestation.json")),
            "--proof",
            path_str(&bob_proof),
            "--user-id",
            "alice",
            "--store",
            path_str(&store),
            "--history",
            path_str(&bob_history),
            "--node",
            &url,
        ],
    )
    .expect_code("history.fork");
    says(&r, &format!("FORK: you pinned genesis {x}"));
    eprintln!("--- alice, shown the other history:\n{}", r.stdout);

    // A customer who only runs `history`: the first history pins the key and the genesis, so
    // the second one is refused.
    let carol = m.path("carol-store");
    let history_as = |h: &Path, extra: &[&str]| {
        let mut args = vec![
            "history",
            "--history",
            path_str(h),
            "--store",
            path_str(&carol),
            "--node",
            &url,
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    };
    history_as(&m.history(), &["--exchange-key", &m.pubkey]).expect(0);
    let r = history_as(&bob_history, &[]).expect_code("history.fork");
    says(&r, "FORK");
    // A customer given the genesis by the exchange's page refuses the other chain at once.
    let r = m
        .verify_history(&bob_history, &["--node", &url, "--genesis", &x])
        .expect(1);
    says(&r, &format!("not from the genesis you gave ({x})"));
    m.verify_history(&m.history(), &["--node", &url, "--genesis", &x])
        .expect(0);
}

/// Three months signed over a quarter and anchored today in one transaction: each month's
/// first anchor lies beyond the verifier's window after its snapshot time (exit 1). The window
/// is the verifier's setting, and a wider one accepts them.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_history_anchored_after_the_fact_is_refused() {
    let sep = OCT - 30 * DAY;
    let Some((node, outs)) = node_at(sep - 30 * DAY, 1) else {
        return;
    };
    let url = url(&node);
    let m = Months::new();
    m.build_in("2026-09", "2026-09", CSV, &m.key, &["--anchor", &outs[0]])
        .expect(0);
    m.build("2026-10", CSV).expect(0);
    m.build("2026-11", CSV).expect(0);
    node.set_time(NOV + 16 * DAY);
    node.mine(11, &wallet().1);
    anchor(&node, &m.history(), &outs[0], COIN, 6);
    let r = m
        .verify_history(&m.history(), &["--node", &url])
        .expect_code("anchor.invalid");
    for p in ["2026-09", "2026-10", "2026-11"] {
        says(&r, &format!("the attestation of {p} (entry"));
    }
    says(&r, "was first anchored too late");
    m.verify_history(
        &m.history(),
        &["--node", &url, "--anchor-window-days", "90"],
    )
    .expect(0);
}

/// An ordinary payment spends the anchor output: the chain is broken (exit 1) until a later
/// attestation signs a new start, which verifiers follow; the months stay anchored.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_broken_anchor_chain_is_recovered_by_a_restart() {
    let Some((node, outs)) = node_at(OCT + DAY, 2) else {
        return;
    };
    let (genesis, restart) = (outs[0].clone(), outs[1].clone());
    let url = url(&node);
    let m = Months::new();
    m.build_in("2026-10", "2026-10", CSV, &m.key, &["--anchor", &genesis])
        .expect(0);
    let a1 = anchor(&node, &m.history(), &genesis, COIN, 6);
    m.verify_history(&m.history(), &["--node", &url]).expect(0);
    // The wallet spends the anchor output in a payment.
    let (ak, miner) = wallet();
    let (txid, vout) = a1.split_once(':').unwrap();
    node.spend(
        txid,
        vout.parse().unwrap(),
        &ak.p2wpkh().script_pubkey().to_hex_string(),
        (COIN - 1000) as f64 / 1e8,
        &ak.wif(),
        &miner,
    );
    node.mine(6, &miner);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(1);
    says(&r, "is broken");
    // November signs a new start; its anchor chain continues from there.
    node.set_time(NOV + DAY);
    m.build_in(
        "2026-11",
        "2026-11",
        CSV,
        &m.key,
        &["--restart-anchor", &restart],
    )
    .expect(0);
    anchor(&node, &m.history(), &restart, COIN, 6);
    let r = m.verify_history(&m.history(), &["--node", &url]).expect(0);
    says(&r, "was broken by transaction");
    says(&r, "commits your history's first 2 entries");
    // The genesis stays the history's identity across the restart.
    let nov = por_verifier::Attestation::read(&m.attestation("2026-11")).unwrap();
    assert_eq!(
        nov.history.genesis.map(|g| g.to_string()),
        Some(genesis.clone())
    );
    assert_eq!(nov.history.restart.map(|g| g.to_string()), Some(restart));
}

/// A reserves statement signed after the month's anchor is not settled until an anchor commits
/// it: with a node, `reserves --history` says so (exit 3); after the next anchor it passes.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_statement_no_anchor_commits_yet_is_unverified() {
    let Some((node, outs)) = node_at(OCT + DAY, 1) else {
        return;
    };
    let url = url(&node);
    let m = Months::new();
    let csv = "user_id,USD:2\nalice,0\n";
    m.build_in("2026-10", "2026-10", csv, &m.key, &["--anchor", &outs[0]])
        .expect(0);
    let a1 = anchor(&node, &m.history(), &outs[0], COIN, 6);
    m.empty_reserves("2026-10").expect(0);
    let att = m.attestation("2026-10");
    let statement = m.path("2026-10").join("reserves-0001.json");
    let history = m.history();
    let reserves = |extra: &[&str]| {
        let mut args = vec![
            "reserves",
            "--attestation",
            path_str(&att),
            "--reserves",
            path_str(&statement),
            "--exchange-key",
            &m.pubkey,
            "--no-store",
            "--history",
            path_str(&history),
        ];
        args.extend_from_slice(extra);
        run("por-verify", &args)
    };
    let r = reserves(&["--node", &url]).expect(3);
    says(&r, "is not committed by any anchor yet");
    anchor(&node, &m.history(), &a1, COIN - 1000, 6);
    let r = reserves(&["--node", &url]).expect(0);
    says(&r, "reserves statement #1: the latest the history lists");
}
