//! Reserves checked against real chain nodes: a regtest Bitcoin Core (`bitcoind`) and a local
//! Ethereum node (`anvil`), both on 127.0.0.1 and stopped at the end of each test. The exchange
//! is the adversary; the user's own node answers honestly.

use bitcoin::Network;
use por_e2e::nodes::{Anvil, Bitcoind, CountingRelay};
use por_e2e::signers::{BtcKey, EthKey};
use por_e2e::{path_str, write_json, write_registry, Exchange, Run};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Runtime code of a minimal token: `decimals()` returns `dd`; any other call returns storage
/// slot `calldata[4..36]` (so `balanceOf(a)` reads slot `a`).
fn token_code(decimals: u8) -> String {
    format!("0x60003560e01c63313ce56714601b57600435546000526020 6000f35b60{decimals:02x}6000526020 6000f3").replace(' ', "")
}

/// An exchange on test chains: its bindings and the user's registry that names those chains.
struct TestExchange {
    ex: Exchange,
    registry: PathBuf,
}

impl TestExchange {
    fn build(csv: &str, bindings: &[Value], registry: &[Value]) -> TestExchange {
        let (now, _) = por_e2e::now_and_period();
        Self::build_at(csv, &now, bindings, registry)
    }

    /// The same with the snapshot time `time` (its period is the month of `time`).
    fn build_at(csv: &str, time: &str, bindings: &[Value], registry: &[Value]) -> TestExchange {
        let tmp = tempfile::tempdir().unwrap();
        let reg = write_registry(tmp.path(), "registry.json", registry);
        let b = tmp.path().join("bindings.json");
        write_json(&b, &json!({"bindings": bindings}));
        let ex = Exchange::build_at(
            csv,
            time,
            &["--bindings", path_str(&b), "--registry", path_str(&reg)],
        );
        let registry = ex.path("registry.json");
        std::fs::copy(&reg, &registry).unwrap();
        TestExchange { ex, registry }
    }

    fn add(&self, entries: &[Value]) -> PathBuf {
        self.ex
            .add_reserves_with(entries, &["--registry", path_str(&self.registry)])
            .expect(0);
        self.ex.reserves()
    }

    fn verify(&self, reserves: &std::path::Path, extra: &[&str]) -> Run {
        let mut args = vec!["--registry", path_str(&self.registry)];
        args.extend_from_slice(extra);
        self.ex.verify_reserves(reserves, &args)
    }
}

fn regtest_btc() -> TestExchange {
    TestExchange::build(
        "user_id,BTC:8\na,1\nb,2\n",
        &[json!({"asset": "BTC", "chain": "bitcoin-regtest", "decimals": 8})],
        &[
            json!({"chain": "bitcoin-regtest", "symbol": "BTC", "decimals": 8, "issuance": "native"}),
        ],
    )
}

/// The regtest history the Bitcoin checks run against:
/// height 1: coinbase `c1` pays A1 50 BTC; heights 2-101: blocks to a miner;
/// height 102: `t1` spends c1 and pays A2 49.999 BTC; heights 103-111: more blocks.
struct BtcChain {
    node: Bitcoind,
    a1: BtcKey,
    a2: BtcKey,
    c1: String,
    t1: String,
}

fn btc_chain() -> Option<BtcChain> {
    let node = Bitcoind::start()?;
    let a1 = BtcKey::from_seed(31, Network::Regtest);
    let a2 = BtcKey::from_seed(32, Network::Regtest);
    let miner = BtcKey::from_seed(33, Network::Regtest).p2wpkh().to_string();
    let b1 = node.mine(1, &a1.p2wpkh().to_string());
    let c1 = node.coinbase(&b1[0]);
    node.mine(100, &miner);
    let spk = a1.p2wpkh().script_pubkey().to_hex_string();
    let t1 = node.spend(&c1, 0, &spk, 50.0, &a1.wif(), &a2.p2wpkh().to_string());
    node.mine(10, &miner);
    Some(BtcChain {
        node,
        a1,
        a2,
        c1,
        t1,
    })
}

fn btc_entry(t: &TestExchange, key: &BtcKey, outpoint: &str, sat: u64, height: u64) -> Value {
    let msg = t.ex.challenge("bitcoin-regtest", height);
    let addr = key.p2wpkh();
    json!({
        "asset": "BTC", "chain": "bitcoin-regtest", "height": height, "address": addr.to_string(),
        "balance": sat.to_string(), "utxos": [{"outpoint": outpoint, "value": sat.to_string()}],
        "signatures": [key.sign_bip322(&addr, &msg)],
    })
}

/// An exchange whose BTC reserves are one UTXO at `key`'s address at `height`, as it would
/// sign them (no prover checks): the verifier must catch every lie on its own.
fn btc_claim(key: &BtcKey, outpoint: &str, sat: u64, height: u64) -> (TestExchange, PathBuf) {
    let t = regtest_btc();
    let entry = btc_entry(&t, key, outpoint, sat, height);
    let stmt = t.ex.forge_reserves(&[entry]);
    (t, stmt)
}

fn check_btc((t, stmt): &(TestExchange, PathBuf), url: &str) -> Run {
    t.verify(stmt, &["--node", &format!("bitcoin-regtest={url}")])
}

#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn bitcoin_reserves_on_a_real_node() {
    let Some(c) = btc_chain() else { return };
    let url = c.node.url.clone();
    let c1 = format!("{}:0", c.c1);
    let t1 = format!("{}:0", c.t1);

    // c1 at height 101: confirmed at 1, spent only at 102. Verified on chain: solvent.
    let ok = btc_claim(&c.a1, &c1, 5_000_000_000, 101);
    let r = check_btc(&ok, &url).expect(0);
    assert!(
        r.stdout
            .contains("SOLVENT: reserves verified on chain cover"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("on chain: 1 UTXO(s) exist") && r.stdout.contains("unspent at it"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("COVERED, verified on chain [TEST NETWORK"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("bitcoin-regtest node at http://127.0.0.1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("snapshot on bitcoin-regtest: block 101 was mined at"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("buried under 11 blocks"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("u:p@"),
        "credentials must not be printed"
    );
    let j =
        ok.0.verify(
            &ok.1,
            &["--node", &format!("bitcoin-regtest={url}"), "--json"],
        )
        .expect(0);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["result"], "pass");
    assert_eq!(v["reserves"]["solvency"][0]["status"], "covered");
    assert_eq!(
        v["reserves"]["reserve_entries"][0]["on_chain"]["state"],
        "verified"
    );
    assert_eq!(v["reserves"]["snapshots"][0]["settled"], true);
    // The customer's proof check uses the node too.
    let reg = ok.0.registry.clone();
    let node_arg = format!("bitcoin-regtest={url}");
    let r =
        ok.0.ex
            .verify_with(
                &ok.0.ex.attestation(),
                &ok.0.ex.proof("a"),
                "a",
                &[
                    "--reserves",
                    path_str(&ok.1),
                    "--registry",
                    path_str(&reg),
                    "--node",
                    &node_arg,
                ],
            )
            .expect(0);
    assert!(
        r.stdout.contains("your balances are included") && r.stdout.contains("SOLVENT"),
        "{}",
        r.stdout
    );

    // A UTXO spent before the snapshot height.
    let r = check_btc(&btc_claim(&c.a1, &c1, 5_000_000_000, 105), &url).expect(1);
    assert!(
        r.stdout
            .contains("was spent at height 102, at or before the snapshot height 105"),
        "{}",
        r.stdout
    );
    // A UTXO created after the snapshot height.
    let r = check_btc(&btc_claim(&c.a2, &t1, 4_999_900_000, 101), &url).expect(1);
    assert!(
        r.stdout
            .contains("created at height 102, after the snapshot height 101"),
        "{}",
        r.stdout
    );
    // A claimed balance above what the chain says.
    let r = check_btc(&btc_claim(&c.a2, &t1, 4_999_900_001, 105), &url)
        .expect_code("reserves.balance_mismatch");
    assert!(
        r.stdout
            .contains("the chain says 4999900000 sat, the exchange claims 4999900001 sat"),
        "{}",
        r.stdout
    );
    // A UTXO that pays another address.
    let r = check_btc(&btc_claim(&c.a1, &t1, 4_999_900_000, 105), &url).expect(1);
    assert!(r.stdout.contains("does not pay"), "{}", r.stdout);
    // A UTXO that does not exist.
    let fake = format!("{}:0", "ab".repeat(32));
    let r = check_btc(&btc_claim(&c.a2, &fake, 100_000_000, 105), &url).expect(1);
    assert!(
        r.stdout.contains("no such transaction on chain"),
        "{}",
        r.stdout
    );

    // A snapshot block not yet buried under 6 blocks: not settled, check again later (exit 3).
    let r = check_btc(&btc_claim(&c.a2, &t1, 4_999_900_000, 109), &url)
        .expect_code("reserves.not_checked");
    assert!(
        r.stdout.contains("has 3 confirmation(s); at least 6") && r.stdout.contains("UNVERIFIED"),
        "{}",
        r.stdout
    );

    // Without a node for the chain: exit 3, never a pass.
    let r = ok.0.verify(&ok.1, &[]).expect(3);
    assert!(
        r.stdout.contains("no node for bitcoin-regtest"),
        "{}",
        r.stdout
    );

    // A snapshot height above the node's tip: while the tip is still within the window the
    // node may just be behind (exit 3); once its tip is past the window, no block at that
    // height can be the snapshot, and the exchange's claim fails (exit 1).
    let r = check_btc(&btc_claim(&c.a2, &t1, 4_999_900_000, 1000), &url).expect(3);
    assert!(
        r.stdout
            .contains("the node is at height 111, below the snapshot height 1000: let it sync"),
        "{}",
        r.stdout
    );
    let stale = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        por_verifier::time::format_utc(secs - 7 * 3600)
    };
    let t = TestExchange::build_at(
        "user_id,BTC:8\na,1\n",
        &stale,
        &[json!({"asset": "BTC", "chain": "bitcoin-regtest", "decimals": 8})],
        &[
            json!({"chain": "bitcoin-regtest", "symbol": "BTC", "decimals": 8, "issuance": "native"}),
        ],
    );
    let stmt =
        t.ex.forge_reserves(&[btc_entry(&t, &c.a2, &t1, 4_999_900_000, 1000)]);
    let r = t
        .verify(&stmt, &["--node", &format!("bitcoin-regtest={url}")])
        .expect(1);
    assert!(
        r.stdout.contains("is above the node's tip 111")
            && r.stdout.contains("can be the snapshot"),
        "{}",
        r.stdout
    );
    // The node cannot answer: exit 2 with a clear message, never a silent pass.
    let closed = format!("http://u:p@127.0.0.1:{}", closed_port());
    let r = check_btc(&ok, &closed).expect(2);
    assert!(r.stderr.contains("unreachable"), "{}", r.stderr);
    let wrong_pw = url.replace("u:p@", "u:s3cretpw@");
    let r = check_btc(&ok, &wrong_pw).expect(2);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("s3cretpw"),
        "the password must not be printed: {}",
        r.stderr
    );
    // A mainnet node given for regtest entries is refused (one URL per chain).
    let r =
        ok.0.verify(&ok.1, &["--node", &format!("bitcoin={url}")])
            .expect(3);
    assert!(
        r.stdout.contains("no node for bitcoin-regtest"),
        "{}",
        r.stdout
    );
}

/// Case 4: a snapshot height from years ago. Coins that were unspent at an old height but spent
/// long before the signed snapshot time: the block time gives the lie away.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_stale_snapshot_height_is_caught() {
    let Some(node) = Bitcoind::start() else {
        return;
    };
    let a = BtcKey::from_seed(51, Network::Regtest);
    let b = BtcKey::from_seed(52, Network::Regtest);
    let miner = BtcKey::from_seed(53, Network::Regtest).p2wpkh().to_string();
    let y2023 = 1_672_531_200i64; // 2023-01-01
    node.call("setmocktime", json!([y2023]));
    let blocks = node.mine(1, &a.p2wpkh().to_string());
    let c = node.coinbase(&blocks[0]);
    node.mine(100, &miner);
    node.call("setmocktime", json!([y2023 + 150 * 86_400]));
    let spk = a.p2wpkh().script_pubkey().to_hex_string();
    node.spend(&c, 0, &spk, 50.0, &a.wif(), &b.p2wpkh().to_string());
    node.mine(1, &miner); // height 102, in 2023: the coins are gone
    node.call("setmocktime", json!([0]));
    node.mine(10, &miner); // heights 103-112, now

    let claim = btc_claim(&a, &format!("{c}:0"), 5_000_000_000, 101);
    let r = check_btc(&claim, &node.url).expect(1);
    assert!(
        r.stdout
            .contains("the snapshot block 101 on bitcoin-regtest was mined at 2023-01-01"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("outside the 6 h 0 min window"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("NOT PROVEN"), "{}", r.stdout);
    // The UTXO itself checks out at that height: only the time catches it.
    let url = format!("bitcoin-regtest={}", node.url);
    let r = claim
        .0
        .verify(
            &claim.1,
            &["--node", &url, "--snapshot-window-hours", "100000"],
        )
        .expect(0);
    assert!(r.stdout.contains("SOLVENT"), "{}", r.stdout);
}

/// A minimal ERC-20 on anvil: `decimals()` and `balanceOf` from storage.
fn deploy_token(node: &Anvil, token: &str, decimals: u8, holder: &str, units: u128) {
    node.call("anvil_setCode", json!([token, token_code(decimals)]));
    let slot = format!("0x{:0>64}", holder.trim_start_matches("0x"));
    node.call(
        "anvil_setStorageAt",
        json!([token, slot, format!("0x{units:064x}")]),
    );
}

fn wei(eth: u128) -> String {
    format!("0x{:x}", eth * 1_000_000_000_000_000_000)
}

#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn ethereum_reserves_on_a_real_node() {
    let Some(node) = Anvil::start() else { return };
    let key = EthKey::from_seed(41);
    let addr = key.address();
    let token = "0x00000000000000000000000000000000000a11ce";
    let odd = "0x00000000000000000000000000000000000b0b00";
    node.call("anvil_setBalance", json!([addr, wei(10)]));
    deploy_token(&node, token, 6, &addr, 5_000_000_000);
    deploy_token(&node, odd, 18, &addr, 5_000_000_000);
    node.call("anvil_mine", json!(["0x1"])); // block 1: 10 ETH, 5000 USDT
                                             // A real transfer (anvil mines it as block 2), so block 1's state stays as it was.
    node.call("anvil_impersonateAccount", json!([addr]));
    node.call("eth_sendTransaction", json!([{"from": addr, "to": "0x000000000000000000000000000000000000dead", "value": wei(9)}]));
    // anvil edits the latest block's state in place: mine block 3 first, so block 2 keeps the
    // transfer, then blocks 3-6 hold 10 ETH again; finalized: 4.
    node.call("anvil_mine", json!(["0x1"]));
    node.call("anvil_setBalance", json!([addr, wei(10)]));
    node.call("anvil_mine", json!(["0x3"]));

    let t = TestExchange::build(
        "user_id,ETH:18,USDT:6\na,2,1000\nb,3,2000\n",
        &[
            json!({"asset": "ETH", "chain": "ethereum-31337", "decimals": 18}),
            json!({"asset": "USDT", "chain": "ethereum-31337", "token": token, "decimals": 6}),
            json!({"asset": "USDT", "chain": "ethereum-31337", "token": odd, "decimals": 6}),
        ],
        &[
            json!({"chain": "ethereum-31337", "symbol": "ETH", "decimals": 18, "issuance": "native"}),
            json!({"chain": "ethereum-31337", "token": token, "symbol": "USDT", "decimals": 6, "issuance": "token"}),
            json!({"chain": "ethereum-31337", "token": odd, "symbol": "USDT", "decimals": 6, "issuance": "token"}),
        ],
    );
    let claim = |eth: u128, usdt: u128, height: u64, tok: &str| {
        let msg = t.ex.challenge("ethereum-31337", height);
        let sig = key.personal_sign(msg.as_bytes());
        let e = |asset: &str, bal: String, tok: Option<&str>| {
            let mut v = json!({"asset": asset, "chain": "ethereum-31337", "height": height, "address": addr, "balance": bal,
                               "signatures": [sig]});
            if let Some(tk) = tok {
                v["token"] = json!(tk);
            }
            v
        };
        t.ex.forge_reserves(&[
            e("ETH", (eth * 1_000_000_000_000_000_000).to_string(), None),
            e("USDT", usdt.to_string(), Some(tok)),
        ])
    };
    let node_arg = format!("ethereum-31337={}", node.url);
    let check = |stmt: &PathBuf| t.verify(stmt, &["--node", &node_arg]);

    // At block 1 the claims hold: ETH and USDT verified on chain, decimals() checked.
    let r = check(&claim(10, 5_000_000_000, 1, token)).expect(0);
    assert!(
        r.stdout.contains("eth_getBalance at block 1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("eth_call balanceOf at block 1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("at or below the finalized block 4"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("COVERED, verified on chain [TEST NETWORK"),
        "{}",
        r.stdout
    );
    // At block 2 the ETH has moved out: the claim is above what the chain says.
    let r = check(&claim(10, 5_000_000_000, 2, token)).expect(1);
    assert!(
        r.stdout.contains("[FAIL] ETH") && r.stdout.contains("at block 2"),
        "{}",
        r.stdout
    );
    // A token claim above the token balance.
    let r = check(&claim(1, 6_000_000_000, 1, token)).expect(1);
    assert!(r.stdout.contains("[FAIL] USDT"), "{}", r.stdout);
    // A token whose decimals() is not the unit the registry says.
    let r = check(&claim(10, 5_000_000_000, 1, odd)).expect(1);
    assert!(
        r.stdout
            .contains("decimals() is 18 at block 1, but the registry says 6"),
        "{}",
        r.stdout
    );
    // A snapshot block above the finalized block: not settled (exit 3).
    let r = check(&claim(10, 5_000_000_000, 6, token)).expect(3);
    assert!(
        r.stdout.contains("above the node's finalized block 4"),
        "{}",
        r.stdout
    );
    // A snapshot block the node has not reached (its tip is recent): not checked yet, exit 3.
    let r = check(&claim(10, 5_000_000_000, 500, token)).expect(3);
    assert!(
        r.stdout
            .contains("below the snapshot height 500: let it sync"),
        "{}",
        r.stdout
    );
}

/// Case 3 on a node that answers as Ethereum mainnet would: the real USDT contract address
/// counts through the built-in registry; a contract of the exchange's own never does, even
/// when the chain shows funds there.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn canonical_token_contracts_on_a_mainnet_node() {
    let Some(node) = Anvil::start_with(1) else {
        return;
    };
    let key = EthKey::from_seed(43);
    let addr = key.address();
    let usdt = "0xdac17f958d2ee523a2206206994597c13d831ec7";
    let own = "0x00000000000000000000000000000000000a11ce";
    deploy_token(&node, usdt, 6, &addr, 1_500_000_000);
    deploy_token(&node, own, 6, &addr, 1_500_000_000);
    node.call("anvil_mine", json!(["0x4"]));

    let ex = Exchange::build_now("user_id,USDT:6\na,3000\n", &[]);
    let msg = ex.challenge("ethereum", 1);
    let entry = |tok: &str, units: &str| {
        json!({"asset": "USDT", "chain": "ethereum", "height": 1, "address": addr, "token": tok, "balance": units,
               "signatures": [key.personal_sign(msg.as_bytes())]})
    };
    let url = node.url.clone();
    // Honest: 1500 USDT at the real contract, short of 3000 owed.
    ex.add_reserves(&[entry(usdt, "1500000000")]).expect(0);
    let r = ex
        .verify_reserves(&ex.reserves(), &["--ethereum-rpc", &url])
        .expect(1);
    assert!(r.stdout.contains("binding USDT on ethereum (token 0xdac17f958d2ee523a2206206994597c13d831ec7, 6 decimals): confirmed by built-in registry"), "{}", r.stdout);
    assert!(
        r.stdout.contains("50.00%") && r.stdout.contains("SHORT"),
        "{}",
        r.stdout
    );
    // The other half "backed" by a contract of the exchange's own: signed, on chain, refused.
    let att = ex.forge_attestation(|a| {
        a.bindings.push(por_verifier::binding::Binding {
            asset: "USDT".into(),
            chain: "ethereum".into(),
            token: Some(own.into()),
            decimals: 6,
        })
    });
    let amsg = por_e2e::challenge_of(&att, "ethereum", 1);
    let e2 = |tok: &str| {
        json!({"asset": "USDT", "chain": "ethereum", "height": 1, "address": addr, "token": tok, "balance": "1500000000",
               "signatures": [key.personal_sign(amsg.as_bytes())]})
    };
    let stmt = ex.forge_reserves_for(&att, &[e2(usdt), e2(own)]);
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--ethereum-rpc", &url])
        .expect(1);
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
    // A node given for another chain is not used for this one: the claims stay unchecked.
    let r = ex
        .verify_reserves(
            &ex.reserves(),
            &["--node", &format!("ethereum-31337={url}")],
        )
        .expect(1);
    assert!(
        r.stdout.contains("ethereum NOT CHECKED: no node given"),
        "{}",
        r.stdout
    );

    // Honest and covered: 3000 USDT at the real contract, checked through the built-in registry.
    let full = Exchange::build_now(
        "user_id,USDT:6
a,1500
",
        &[],
    );
    let fmsg = full.challenge("ethereum", 1);
    let fe = json!({"asset": "USDT", "chain": "ethereum", "height": 1, "address": addr, "token": usdt, "balance": "1500000000",
                    "signatures": [key.personal_sign(fmsg.as_bytes())]});
    full.add_reserves(&[fe]).expect(0);
    let r = full
        .verify_reserves(&full.reserves(), &["--ethereum-rpc", &url])
        .expect(0);
    assert!(
        r.stdout.contains("SOLVENT") && r.stdout.contains("COVERED, verified on chain"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("TEST NETWORK") && !r.stdout.contains("USER-SUPPLIED"),
        "{}",
        r.stdout
    );
}

/// Both chains at once, solvent for every asset; with one node missing, exit 3 naming it.
#[test]
#[cfg_attr(
    any(no_bitcoind, no_anvil),
    ignore = "needs bitcoind and anvil: set POR_BITCOIND_DIR and POR_ANVIL (see .ci/run)"
)]
fn solvent_on_both_chains() {
    let Some(c) = btc_chain() else { return };
    let Some(node) = Anvil::start() else { return };
    let key = EthKey::from_seed(42);
    let token = "0x00000000000000000000000000000000000b0b00";
    node.call(
        "anvil_setBalance",
        json!([key.address(), "0x4563918244f40000"]),
    ); // 5 ETH
    deploy_token(&node, token, 6, &key.address(), 3_000_000_000);
    node.call("anvil_mine", json!(["0x4"]));

    let t = TestExchange::build(
        "user_id,BTC:8,ETH:18,USDT:6\na,1,2,1000\nb,2,3,2000\n",
        &[
            json!({"asset": "BTC", "chain": "bitcoin-regtest", "decimals": 8}),
            json!({"asset": "ETH", "chain": "ethereum-31337", "decimals": 18}),
            json!({"asset": "USDT", "chain": "ethereum-31337", "token": token, "decimals": 6}),
        ],
        &[
            json!({"chain": "bitcoin-regtest", "symbol": "BTC", "decimals": 8, "issuance": "native"}),
            json!({"chain": "ethereum-31337", "symbol": "ETH", "decimals": 18, "issuance": "native"}),
            json!({"chain": "ethereum-31337", "token": token, "symbol": "USDT", "decimals": 6, "issuance": "token"}),
        ],
    );
    let emsg = t.ex.challenge("ethereum-31337", 1);
    let esig = key.personal_sign(emsg.as_bytes());
    let entries = [
        btc_entry(&t, &c.a2, &format!("{}:0", c.t1), 4_999_900_000, 105),
        json!({"asset": "ETH", "chain": "ethereum-31337", "height": 1, "address": key.address(), "balance": "5000000000000000000", "signatures": [esig]}),
        json!({"asset": "USDT", "chain": "ethereum-31337", "height": 1, "address": key.address(), "balance": "3000000000",
               "token": token, "signatures": [esig]}),
    ];
    let stmt = t.add(&entries);
    let b = format!("bitcoin-regtest={}", c.node.url);
    let e = format!("ethereum-31337={}", node.url);
    let r = t.verify(&stmt, &["--node", &b, "--node", &e]).expect(0);
    assert!(
        r.stdout
            .contains("SOLVENT: reserves verified on chain cover"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("COVERED, verified on chain").count(),
        3,
        "{}",
        r.stdout
    );
    // One node missing: exit 3, and the words say which chain.
    let r = t.verify(&stmt, &["--node", &b]).expect(3);
    assert!(
        r.stdout.contains("no node for ethereum-31337"),
        "{}",
        r.stdout
    );
    // --offline: signatures only, said so.
    let r = t.verify(&stmt, &["--offline"]).expect(0);
    assert!(
        r.stdout.contains("CLAIMED, NOT CHECKED ON CHAIN") && !r.stdout.contains("SOLVENT"),
        "{}",
        r.stdout
    );
    let _ = &c.a1;
}

/// Without -txospenderindex a confirmed spend would look unspent: the verifier refuses the node.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn node_without_the_spender_index_is_refused() {
    let Some(node) = Bitcoind::start_with(&["-txindex=1"]) else {
        return;
    };
    let key = BtcKey::from_seed(34, Network::Regtest);
    let blocks = node.mine(1, &key.p2wpkh().to_string());
    let c = node.coinbase(&blocks[0]);
    let claim = btc_claim(&key, &format!("{c}:0"), 5_000_000_000, 1);
    let r = check_btc(&claim, &node.url).expect(2);
    assert!(
        r.stderr
            .contains("txospenderindex is missing or not synced"),
        "{}",
        r.stderr
    );
}

fn closed_port() -> u16 {
    // Bind and drop: nothing listens there afterwards.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How the reserves are held: a reserve split across a 2-of-3 P2WSH, a P2SH 3-of-5, a P2WPKH
/// and a Taproot address, each funded by a coinbase of 50 BTC on regtest.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn custody_report_on_a_real_node() {
    let Some(node) = Bitcoind::start() else {
        return;
    };
    let net = Network::Regtest;
    let k: Vec<BtcKey> = (60..70).map(|s| BtcKey::from_seed(s, net)).collect();
    let ms23 = por_e2e::signers::multisig_script(2, &[&k[0], &k[1], &k[2]]);
    let ms35 = por_e2e::signers::multisig_script(3, &[&k[3], &k[4], &k[5], &k[6], &k[7]]);
    let p2wsh = bitcoin::Address::p2wsh(&ms23, net);
    let p2sh = bitcoin::Address::p2sh(&ms35, net).unwrap();
    let single = k[8].p2wpkh();
    let taproot = k[9].p2tr();
    let miner = BtcKey::from_seed(70, net).p2wpkh().to_string();
    let mut coinbases = Vec::new();
    for a in [&p2wsh, &p2sh, &single, &taproot] {
        let b = node.mine(1, &a.to_string());
        coinbases.push(format!("{}:0", node.coinbase(&b[0])));
    }
    node.mine(10, &miner); // heights 5-14; snapshot at 4 is buried under 11 blocks

    let t = regtest_btc();
    let msg = t.ex.challenge("bitcoin-regtest", 4);
    let sat = "5000000000";
    let entry = |addr: &bitcoin::Address,
                 op: &str,
                 script: Option<String>,
                 sigs: Vec<String>,
                 storage: &str| {
        let mut e = json!({"asset": "BTC", "chain": "bitcoin-regtest", "height": 4, "address": addr.to_string(),
                           "balance": sat, "utxos": [{"outpoint": op, "value": sat}], "signatures": sigs,
                           "storage": storage, "custodian": "Test Exchange"});
        if let Some(s) = script {
            e["script"] = json!(s);
        }
        e
    };
    let entries = [
        entry(
            &p2wsh,
            &coinbases[0],
            Some(ms23.to_hex_string()),
            vec![k[0].sign_compact(&msg, 31), k[2].sign_compact(&msg, 31)],
            "cold",
        ),
        entry(
            &p2sh,
            &coinbases[1],
            Some(ms35.to_hex_string()),
            vec![
                k[3].sign_compact(&msg, 31),
                k[5].sign_compact(&msg, 31),
                k[7].sign_compact(&msg, 31),
            ],
            "cold",
        ),
        entry(
            &single,
            &coinbases[2],
            None,
            vec![k[8].sign_bip322(&single, &msg)],
            "cold",
        ),
        entry(
            &taproot,
            &coinbases[3],
            None,
            vec![k[9].sign_bip322(&taproot, &msg)],
            "hot",
        ),
    ];
    let stmt = t.add(&entries);
    let url = format!("bitcoin-regtest={}", node.url);
    let r = t.verify(&stmt, &["--node", &url]).expect(0);
    let out = &r.stdout;
    assert!(
        out.contains("multisig:   100.00000000 (50.00%): 2-of-3 50.00000000, 3-of-5 50.00000000"),
        "{out}"
    );
    assert!(out.contains("single key: 50.00000000 (25.00%)"), "{out}");
    assert!(
        out.contains("other:      50.00000000 (25.00%): Taproot key path"),
        "{out}"
    );
    // A declared-cold single key is shown as declared cold, and still as single key.
    assert!(out.contains("DECLARED by the exchange (not verified): cold 150.00000000 (75.00%), hot 50.00000000 (25.00%)"), "{out}");
    assert!(out.contains("keys: 10 distinct"), "{out}");
    let j = t.verify(&stmt, &["--node", &url, "--json"]).expect(0);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["reserves"]["custody"][0]["multisig_share"], "50.00%");
    assert_eq!(v["reserves"]["custody"][0]["declared_cold_share"], "75.00%");

    // Each threshold passes on its boundary and fails just above it.
    t.verify(&stmt, &["--node", &url, "--min-multisig-share", "0.5"])
        .expect(0);
    let r = t
        .verify(&stmt, &["--node", &url, "--min-multisig-share", "0.500001"])
        .expect_code("reserves.custody_short");
    assert!(r.stdout.contains("BTC: 50.00% of the counted reserves are under a multisig, below --min-multisig-share 0.500001"), "{}", r.stdout);
    t.verify(
        &stmt,
        &["--node", &url, "--min-declared-cold-share", "0.75"],
    )
    .expect(0);
    let r = t
        .verify(
            &stmt,
            &["--node", &url, "--min-declared-cold-share", "0.76"],
        )
        .expect(1);
    assert!(
        r.stdout
            .contains("declared cold, below --min-declared-cold-share 0.76 (76%)"),
        "{}",
        r.stdout
    );
    t.verify(&stmt, &["--node", &url, "--min-multisig-share", "1.5"])
        .expect(2);

    // Labels are signed: a label the exchange did not sign makes the statement fail.
    let mut edited: Value = por_e2e::read_json(&stmt);
    edited["entries"][3]["storage"] = json!("cold");
    let p = t.ex.path("relabelled.json");
    write_json(&p, &edited);
    let r = t.verify(&p, &["--node", &url]).expect(1);
    assert!(r.stdout.contains("signature is not valid"), "{}", r.stdout);
    // A label that is not cold or hot fails its entry.
    let mut bad = entries.to_vec();
    bad[2]["storage"] = json!("frozen");
    let r = t
        .verify(&t.ex.forge_reserves(&bad), &["--node", &url])
        .expect(1);
    assert!(
        r.stdout.contains("field storage: expected cold or hot"),
        "{}",
        r.stdout
    );
}

/// Issue 17: outputs of one transaction listed by many entries cost the customer's node one
/// `getrawtransaction` per run, not one per output; each entry's spends are asked in one call.
#[test]
#[cfg_attr(
    no_bitcoind,
    ignore = "needs bitcoind: set POR_BITCOIND_DIR (see .ci/run)"
)]
fn a_transaction_listed_many_times_is_fetched_once() {
    let Some(c) = btc_chain() else { return };
    let keys: Vec<BtcKey> = (40..60)
        .map(|s| BtcKey::from_seed(s, Network::Regtest))
        .collect();
    // t1 (height 102) pays a2 49.999 BTC: spend it to 20 addresses in one transaction.
    let spk2 = c.a2.p2wpkh().script_pubkey().to_hex_string();
    let outs: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| (k.p2wpkh().to_string(), json!(2.4999)))
        .collect();
    let raw = c.node.call(
        "createrawtransaction",
        json!([[{"txid": c.t1, "vout": 0}], outs]),
    );
    let prev = json!([{"txid": c.t1, "vout": 0, "scriptPubKey": spk2, "amount": 49.999}]);
    let signed = c.node.call(
        "signrawtransactionwithkey",
        json!([raw, [c.a2.wif()], prev]),
    );
    assert_eq!(signed["complete"], true, "{signed}");
    let tx = c.node.call("sendrawtransaction", json!([signed["hex"]]));
    let tx = tx.as_str().expect("txid").to_string();
    let miner = BtcKey::from_seed(33, Network::Regtest).p2wpkh().to_string();
    c.node.mine(1, &miner);
    let height = c
        .node
        .call("getblockcount", json!([]))
        .as_u64()
        .expect("height");
    c.node.mine(6, &miner);

    let t = regtest_btc();
    let decoded = c.node.call("getrawtransaction", json!([tx, true]));
    let vout_of = |k: &BtcKey| -> usize {
        let (d, a) = (&decoded, k.p2wpkh().to_string());
        d["vout"]
            .as_array()
            .expect("vout")
            .iter()
            .position(|o| o["scriptPubKey"]["address"] == a.as_str())
            .expect("output")
    };
    let entries: Vec<Value> = keys
        .iter()
        .map(|k| btc_entry(&t, k, &format!("{tx}:{}", vout_of(k)), 249_990_000, height))
        .collect();
    let stmt = t.ex.forge_reserves(&entries);
    let relay = CountingRelay::start(&c.node.url);
    let r = t
        .verify(
            &stmt,
            &["--node", &format!("bitcoin-regtest={}", relay.url)],
        )
        .expect(0);
    assert!(
        r.stdout
            .contains("SOLVENT: reserves verified on chain cover"),
        "{}",
        r.stdout
    );
    assert_eq!(
        relay.count("\"getrawtransaction\""),
        1,
        "one fetch of the shared transaction"
    );
    assert_eq!(
        relay.count("\"gettxspendingprevout\""),
        keys.len(),
        "one spend call per entry (its outputs together), none asked twice"
    );
}
