//! Reserves checked against real chain nodes: a regtest Bitcoin Core (`bitcoind`) and a local
//! Ethereum node (`anvil`), both on 127.0.0.1 and stopped at the end of each test.

use bitcoin::Network;
use por_e2e::nodes::{Anvil, Bitcoind};
use por_e2e::signers::{BtcKey, EthKey};
use por_e2e::{Exchange, Run};
use serde_json::{json, Value};

const CSV: &str = "user_id,BTC:8,ETH:18,USDT:6\na,1,2,1000\nb,2,3,2000\n";

/// The regtest history the Bitcoin checks run against:
/// height 1: coinbase `c1` pays A1 50 BTC; heights 2-101: blocks to a miner;
/// height 102: `t1` spends c1 and pays A2 49.999 BTC; heights 103-107: more blocks.
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
    node.mine(6, &miner);
    Some(BtcChain {
        node,
        a1,
        a2,
        c1,
        t1,
    })
}

/// An exchange whose BTC reserves are one UTXO at `key`'s address at `height`.
fn btc_exchange(key: &BtcKey, outpoint: &str, value: &str, height: u64) -> Exchange {
    let ex = Exchange::build(CSV, &[]);
    let msg = ex.challenge("bitcoin-regtest", height);
    let addr = key.p2wpkh();
    let entry = json!({
        "asset": "BTC", "chain": "bitcoin-regtest", "height": height, "address": addr.to_string(),
        "balance": value, "utxos": [{"outpoint": outpoint, "value": value}],
        "signatures": [key.sign_bip322(&addr, &msg)],
    });
    ex.add_reserves(&[entry]).expect(0);
    ex
}

fn check_btc(ex: &Exchange, url: &str) -> Run {
    ex.verify_reserves(&ex.attestation(), &["--bitcoin-rpc", url])
}

#[test]
fn bitcoin_reserves_on_a_real_node() {
    let Some(c) = btc_chain() else { return };
    let url = c.node.url.clone();
    let c1 = format!("{}:0", c.c1);
    let t1 = format!("{}:0", c.t1);

    // c1 at height 101: confirmed at 1, spent only at 102. Verified on chain; only BTC is
    // attested, so ETH and USDT are short and the verdict is still "not proven".
    let ex = btc_exchange(&c.a1, &c1, "50", 101);
    let r = check_btc(&ex, &url).expect(1);
    assert!(
        r.stdout.contains("[ok] BTC") && r.stdout.contains("unspent at it"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("verified on chain"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("bitcoin-regtest node at http://127.0.0.1"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("u:p@"),
        "credentials must not be printed"
    );
    assert!(
        r.stdout.contains("do not cover liabilities for ETH, USDT"),
        "{}",
        r.stdout
    );
    let j = ex
        .verify_reserves(&ex.attestation(), &["--bitcoin-rpc", &url, "--json"])
        .expect(1);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["solvency"][0]["verified_on_chain"], true);
    assert_eq!(v["reserve_entries"][0]["on_chain"]["passed"], true);
    // The customer's proof check can use the node too.
    let r = por_e2e::run(
        "por-verify",
        &[
            "proof",
            "--attestation",
            por_e2e::path_str(&ex.attestation()),
            "--proof",
            por_e2e::path_str(&ex.proof("a")),
            "--exchange-key",
            &ex.pubkey,
            "--user-id",
            "a",
            "--bitcoin-rpc",
            &url,
        ],
    )
    .expect(1);
    assert!(
        r.stdout.contains("on chain:") && r.stdout.contains("your balances are included"),
        "{}",
        r.stdout
    );

    // A UTXO spent before the snapshot height.
    let r = check_btc(&btc_exchange(&c.a1, &c1, "50", 105), &url).expect(1);
    assert!(
        r.stdout
            .contains("was spent at height 102, at or before the snapshot height 105"),
        "{}",
        r.stdout
    );

    // A UTXO created after the snapshot height.
    let r = check_btc(&btc_exchange(&c.a2, &t1, "49.999", 101), &url).expect(1);
    assert!(
        r.stdout
            .contains("created at height 102, after the snapshot height 101"),
        "{}",
        r.stdout
    );

    // A claimed balance above what the chain says.
    let r = check_btc(&btc_exchange(&c.a2, &t1, "49.99900001", 105), &url).expect(1);
    assert!(
        r.stdout
            .contains("the chain says 4999900000 sat, the exchange claims 4999900001 sat"),
        "{}",
        r.stdout
    );

    // A UTXO that pays another address.
    let r = check_btc(&btc_exchange(&c.a1, &t1, "49.999", 105), &url).expect(1);
    assert!(r.stdout.contains("does not pay"), "{}", r.stdout);

    // A UTXO that does not exist.
    let fake = format!("{}:0", "ab".repeat(32));
    let r = check_btc(&btc_exchange(&c.a2, &fake, "1", 105), &url).expect(1);
    assert!(
        r.stdout.contains("no such transaction on chain"),
        "{}",
        r.stdout
    );

    // t1 at height 105 is fine.
    let ok = btc_exchange(&c.a2, &t1, "49.999", 105);
    let r = check_btc(&ok, &url).expect(1);
    assert!(
        r.stdout.contains("[ok] BTC") && !r.stdout.contains("[FAIL] BTC"),
        "{}",
        r.stdout
    );

    // The node cannot answer: exit 2 with a clear message, never a silent pass.
    let r = check_btc(&btc_exchange(&c.a2, &t1, "49.999", 1000), &url).expect(2);
    assert!(
        r.stderr
            .contains("at height 107, below the snapshot height 1000"),
        "{}",
        r.stderr
    );
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
}

fn closed_port() -> u16 {
    // Bind and drop: nothing listens there afterwards.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runtime code of a minimal token: `balanceOf(a)` (any call) returns storage slot `a`.
const TOKEN_CODE: &str = "0x6004355460005260206000f3";

#[test]
fn ethereum_reserves_on_a_real_node() {
    let Some(node) = Anvil::start() else { return };
    let key = EthKey::from_seed(41);
    let addr = key.address();
    let token = "0x00000000000000000000000000000000000a11ce";
    let slot = format!("0x{:0>64}", addr.trim_start_matches("0x"));
    let wei = |eth: u128| format!("0x{:x}", eth * 1_000_000_000_000_000_000);
    node.call("anvil_setBalance", json!([addr, wei(10)]));
    node.call("anvil_setCode", json!([token, TOKEN_CODE]));
    node.call(
        "anvil_setStorageAt",
        json!([token, slot, format!("0x{:064x}", 5_000_000_000u128)]),
    );
    node.call("anvil_mine", json!(["0x1"])); // block 1: 10 ETH, 5000 USDT
                                             // A real transfer (anvil mines it as block 2), so block 1's state stays as it was.
    node.call("anvil_impersonateAccount", json!([addr]));
    node.call("eth_sendTransaction", json!([{"from": addr, "to": "0x000000000000000000000000000000000000dead", "value": wei(9)}]));

    let build = |eth: &str, usdt: &str, height: u64, chain: &str| {
        let ex = Exchange::build(CSV, &[]);
        let msg = ex.challenge(chain, height);
        let sig = key.personal_sign(msg.as_bytes());
        let e = |asset: &str, bal: &str, tok: Option<&str>| {
            let mut v = json!({"asset": asset, "chain": chain, "height": height, "address": addr, "balance": bal,
                               "signatures": [sig]});
            if let Some(t) = tok {
                v["token"] = json!(t);
            }
            v
        };
        ex.add_reserves(&[e("ETH", eth, None), e("USDT", usdt, Some(token))])
            .expect(0);
        ex
    };
    let check =
        |ex: &Exchange| ex.verify_reserves(&ex.attestation(), &["--ethereum-rpc", &node.url]);

    // At block 1 the claims hold: ETH and USDT verified on chain (BTC has no reserves: short).
    let r = check(&build("10", "5000", 1, "ethereum-31337")).expect(1);
    assert!(
        r.stdout.contains("[ok] ETH") && r.stdout.contains("eth_getBalance at block 1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("[ok] USDT") && r.stdout.contains("eth_call balanceOf at block 1"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("[FAIL]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("do not cover liabilities for BTC"),
        "{}",
        r.stdout
    );

    // At block 2 the ETH has moved out: the claim is above what the chain says.
    let r = check(&build("10", "5000", 2, "ethereum-31337")).expect(1);
    assert!(
        r.stdout.contains("[FAIL] ETH") && r.stdout.contains("at block 2"),
        "{}",
        r.stdout
    );

    // A token claim above the token balance.
    let r = check(&build("1", "6000", 1, "ethereum-31337")).expect(1);
    assert!(r.stdout.contains("[FAIL] USDT"), "{}", r.stdout);

    // Node problems: below the snapshot block, and another chain id.
    let r = check(&build("1", "1", 500, "ethereum-31337")).expect(2);
    assert!(
        r.stderr.contains("below the snapshot block 500"),
        "{}",
        r.stderr
    );
    let r = check(&build("1", "1", 1, "ethereum")).expect(2);
    assert!(
        r.stderr
            .contains("chain id 31337, but the reserves are on chain id 1"),
        "{}",
        r.stderr
    );
}

/// Both chains at once, solvent for every asset.
#[test]
fn solvent_on_both_chains() {
    let Some(c) = btc_chain() else { return };
    let Some(node) = Anvil::start() else { return };
    let key = EthKey::from_seed(42);
    let token = "0x00000000000000000000000000000000000b0b00";
    node.call(
        "anvil_setBalance",
        json!([key.address(), "0x4563918244f40000"]),
    ); // 5 ETH
    node.call("anvil_setCode", json!([token, TOKEN_CODE]));
    let slot = format!("0x{:0>64}", key.address().trim_start_matches("0x"));
    node.call(
        "anvil_setStorageAt",
        json!([token, slot, format!("0x{:064x}", 3_000_000_000u128)]),
    );
    node.call("anvil_mine", json!(["0x1"]));

    let ex = Exchange::build(CSV, &[]);
    let bmsg = ex.challenge("bitcoin-regtest", 105);
    let emsg = ex.challenge("ethereum-31337", 1);
    let a2 = c.a2.p2wpkh();
    let esig = key.personal_sign(emsg.as_bytes());
    let entries = [
        json!({"asset": "BTC", "chain": "bitcoin-regtest", "height": 105, "address": a2.to_string(), "balance": "49.999",
               "utxos": [{"outpoint": format!("{}:0", c.t1), "value": "49.999"}], "signatures": [c.a2.sign_bip322(&a2, &bmsg)]}),
        json!({"asset": "ETH", "chain": "ethereum-31337", "height": 1, "address": key.address(), "balance": "5", "signatures": [esig]}),
        json!({"asset": "USDT", "chain": "ethereum-31337", "height": 1, "address": key.address(), "balance": "3000",
               "token": token, "signatures": [esig]}),
    ];
    ex.add_reserves(&entries).expect(0);
    let r = ex
        .verify_reserves(
            &ex.attestation(),
            &["--bitcoin-rpc", &c.node.url, "--ethereum-rpc", &node.url],
        )
        .expect(0);
    assert!(
        r.stdout
            .contains("SOLVENT: reserves verified on chain cover"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("%  verified on chain").count(),
        3,
        "{}",
        r.stdout
    );
    // Without nodes the same attestation passes on claims alone, and says so.
    let r = ex.verify_reserves(&ex.attestation(), &[]).expect(0);
    assert!(
        r.stdout
            .contains("claimed (signatures checked offline only)")
            && r.stdout.contains("against a chain: nothing")
    );
    let _ = &c.a1;
}

/// Without -txospenderindex a confirmed spend would look unspent: the verifier refuses the node.
#[test]
fn node_without_the_spender_index_is_refused() {
    let Some(node) = Bitcoind::start_with(&["-txindex=1"]) else {
        return;
    };
    let key = BtcKey::from_seed(34, Network::Regtest);
    let blocks = node.mine(1, &key.p2wpkh().to_string());
    let c = node.coinbase(&blocks[0]);
    let ex = btc_exchange(&key, &format!("{c}:0"), "50", 1);
    let r = check_btc(&ex, &node.url).expect(2);
    assert!(
        r.stderr
            .contains("txospenderindex is missing or not synced"),
        "{}",
        r.stderr
    );
}
