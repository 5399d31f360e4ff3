//! The verdict's last forgeries (issue 17), tried as a dishonest exchange would: it signs its
//! own attestations and statements; the user's nodes (anvil with several chain ids) answer
//! honestly. Each test names the case it shows caught, beside an honest control that passes.

use por_e2e::nodes::Anvil;
use por_e2e::signers::EthKey;
use por_e2e::{challenge_of, path_str, write_json, write_registry, Exchange, Run};
use por_verifier::binding::Binding;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Runtime code of a minimal token: `decimals()` returns `dd`; any other call returns storage
/// slot `calldata[4..36]` (so `balanceOf(a)` reads slot `a`).
fn token_code(decimals: u8) -> String {
    format!("0x60003560e01c63313ce56714601b57600435546000526020 6000f35b60{decimals:02x}6000526020 6000f3").replace(' ', "")
}

/// A token face of the native coin (as on Celo): `balanceOf(a)` answers `a`'s native balance
/// (the BALANCE opcode where the plain token reads storage).
fn native_face_code(decimals: u8) -> String {
    format!("0x60003560e01c63313ce56714601b57600435316000526020 6000f35b60{decimals:02x}6000526020 6000f3").replace(' ', "")
}

/// A legacy entry point forwarding every call to `main` (STATICCALL with the same calldata,
/// returning its 32-byte answer): the same balances under a second address.
fn forwarder_code(main: &str) -> String {
    format!(
        "0x3660006000376020600036600073{}5afa5060206000f3",
        main.trim_start_matches("0x")
    )
}

const USDC_UNITS: u128 = 1_000_000_000_000; // 1,000,000 USDC of 6 decimals
const T0: &str = "0x0000000000000000000000000000000000005dc0";

fn set_token_balance(node: &Anvil, token: &str, holder: &str, units: u128) {
    let slot = format!("0x{:0>64}", holder.trim_start_matches("0x"));
    node.call(
        "anvil_setStorageAt",
        json!([token, slot, format!("0x{units:064x}")]),
    );
}

fn binding(asset: &str, chain: &str, token: Option<&str>, decimals: u8) -> Binding {
    Binding {
        asset: asset.into(),
        chain: chain.into(),
        token: token.map(String::from),
        decimals,
    }
}

/// An exchange whose month owes 1.5M USDC, with its snapshot time `t` (unix seconds).
fn usdc_exchange() -> (Exchange, i64) {
    let ex = Exchange::build_now("user_id,USDC:6\na,1000000\nb,500000\n", &[]);
    let att = por_verifier::Attestation::read(&ex.attestation()).unwrap();
    let t = por_verifier::time::unix_seconds(&att.snapshot_time).unwrap();
    (ex, t)
}

/// One entry of `key` for `asset` on `chain` at `height`, signed over the forged attestation's
/// challenge.
fn entry(
    att: &Path,
    key: &EthKey,
    asset: &str,
    chain: &str,
    height: u64,
    token: Option<&str>,
    units: u128,
) -> Value {
    let sig = key.personal_sign(challenge_of(att, chain, height).as_bytes());
    let mut e = json!({"asset": asset, "chain": chain, "height": height, "address": key.address(),
                       "balance": units.to_string(), "signatures": [sig]});
    if let Some(t) = token {
        e["token"] = json!(t);
    }
    e
}

fn token_list(dir: &Path, tokens: &[(u64, &str, &str, u8)]) -> PathBuf {
    let p = dir.join(format!("list-{}.json", tokens.len()));
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|(id, addr, sym, d)| json!({"chainId": id, "address": addr, "symbol": sym, "decimals": d, "name": sym}))
        .collect();
    write_json(
        &p,
        &json!({"name": "A list", "version": {"major": 1}, "tokens": tokens}),
    );
    p
}

/// Two anvil chains (ids 100001 and 100002) with one USDC contract each at `T0`, blocks mined
/// around the signed time `t`: chain A's snapshot block 1 at t−10 min, chain B's block 2 at
/// t+20 min, and blocks after t+1 h on both so the span's end is behind each tip. With `moved`
/// the million leaves A at t−5 min (block 2) and reaches B only in its snapshot block; else it
/// sits still on both chains.
fn two_chains(t: i64, holder: &str, moved: bool) -> Option<(Anvil, Anvil)> {
    let a = Anvil::start_at(100_001, Some(t - 86_400))?;
    let b = Anvil::start_at(100_002, Some(t - 86_400))?;
    for n in [&a, &b] {
        n.call("anvil_setCode", json!([T0, token_code(6)]));
    }
    set_token_balance(&a, T0, holder, USDC_UNITS);
    set_token_balance(&b, T0, holder, if moved { 0 } else { USDC_UNITS });
    assert_eq!(a.mine_at(t - 600), 1);
    assert_eq!(b.mine_at(t - 600), 1);
    // anvil edits the latest block's state in place: a block is mined first, then changed.
    assert_eq!(a.mine_at(t - 300), 2);
    assert_eq!(b.mine_at(t + 1_200), 2);
    if moved {
        set_token_balance(&a, T0, holder, 0);
        set_token_balance(&b, T0, holder, USDC_UNITS);
    }
    for (i, n) in [&a, &b].iter().enumerate() {
        for k in 0..3 {
            n.mine_at(t + 3_600 + 60 * k + i as i64);
        }
    }
    Some((a, b))
}

/// A signed month for the two chains, checked against both nodes with the user's token list
/// naming USDC on each (as README suggests for other chains).
fn two_chain_month(moved: bool) -> Option<Run> {
    let (ex, t) = usdc_exchange();
    let key = EthKey::from_seed(71);
    let (a, b) = two_chains(t, &key.address(), moved)?;
    let (ca, cb) = ("ethereum-100001", "ethereum-100002");
    let att = ex.forge_attestation(|x| {
        x.bindings = vec![
            binding("USDC", ca, Some(T0), 6),
            binding("USDC", cb, Some(T0), 6),
        ]
    });
    let stmt = ex.forge_reserves_for(
        &att,
        &[
            entry(&att, &key, "USDC", ca, 1, Some(T0), USDC_UNITS),
            entry(&att, &key, "USDC", cb, 2, Some(T0), USDC_UNITS),
        ],
    );
    let list = token_list(
        &ex.path(""),
        &[(100_001, T0, "USDC", 6), (100_002, T0, "USDC", 6)],
    );
    let (na, nb) = (format!("{ca}={}", a.url), format!("{cb}={}", b.url));
    Some(ex.verify_reserves_of(
        &att,
        &stmt,
        &[
            "--token-list",
            path_str(&list),
            "--node",
            &na,
            "--node",
            &nb,
        ],
    ))
}

/// Case 1: the same million on two chains, moved between their snapshot blocks, counts at most
/// once: each holding counts at its least balance over the span.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn coins_moved_between_chains_during_the_snapshot_count_once() {
    let Some(r) = two_chain_month(true) else {
        return;
    };
    let r = r.expect(1);
    assert!(r.stdout.contains("Snapshot span"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("every holding counted at its least balance over the span")
            && r.stdout
                .contains("ethereum-100001 blocks 1..2 (snapshot 1)")
            && r.stdout
                .contains("ethereum-100002 blocks 1..2 (snapshot 2)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("counted 0 of the 1000000000000 claimed")
            && r.stdout.contains(
                "0 base units at block 2 of ethereum-100001, its last block at the span's end"
            )
            && r.stdout.contains(
                "0 base units at block 1 of ethereum-100002, its last block at the span's start"
            ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("SHORT")
            && !r.stdout.contains("SOLVENT")
            && !r.stdout.contains("2000000"),
        "{}",
        r.stdout
    );
    // What the customer sees (`cargo test --test verdict_forgeries -- --nocapture`).
    println!("{}", r.stdout);
}

/// The honest control of case 1: a million still on each chain across the span counts in full.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn an_honest_two_chain_month_counts_both_holdings() {
    let Some(r) = two_chain_month(false) else {
        return;
    };
    let r = r.expect(0);
    assert!(
        r.stdout.contains("USDC: ") && r.stdout.contains("(30 min)"),
        "the span is shown: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("counted 0 of"), "{}", r.stdout);
    assert!(
        r.stdout.contains("2000000.000000")
            && r.stdout
                .contains("COVERED, verified on chain [USER-SUPPLIED"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("SOLVENT"), "{}", r.stdout);
    println!("{}", r.stdout);
}

/// Case 2: a native coin and its token face (a contract whose balanceOf answers the native
/// balance) are one account: the second face is reported and not added.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn a_native_coin_and_its_token_face_count_once() {
    let (ex, _) = usdc_exchange();
    let Some(node) = Anvil::start_with(100_003) else {
        return;
    };
    let key = EthKey::from_seed(72);
    let face = "0x00000000000000000000000000000000000ce10f";
    node.call("anvil_setCode", json!([face, native_face_code(6)]));
    // 1,000,000 of a 6-decimal native coin, read through both faces.
    node.call(
        "anvil_setBalance",
        json!([key.address(), format!("0x{USDC_UNITS:x}")]),
    );
    node.call("anvil_mine", json!(["0x4"]));
    let chain = "ethereum-100003";
    let att = ex.forge_attestation(|x| {
        x.bindings = vec![
            binding("USDC", chain, None, 6),
            binding("USDC", chain, Some(face), 6),
        ]
    });
    let stmt = ex.forge_reserves_for(
        &att,
        &[
            entry(&att, &key, "USDC", chain, 1, None, USDC_UNITS),
            entry(&att, &key, "USDC", chain, 1, Some(face), USDC_UNITS),
        ],
    );
    let reg = write_registry(
        &ex.path(""),
        "celo-like.json",
        &[
            json!({"chain": chain, "symbol": "USDC", "decimals": 6, "issuance": "native"}),
            json!({"chain": chain, "token": face, "symbol": "USDC", "decimals": 6, "issuance": "canonical"}),
        ],
    );
    let n = format!("{chain}={}", node.url);
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--registry", path_str(&reg), "--node", &n])
        .expect(1);
    assert!(
        r.stdout.contains("the same account as entry #0") && r.stdout.contains("NOT ADDED"),
        "{}",
        r.stdout
    );
    // Both faces were checked on chain, one counted: 1M of 1.5M owed.
    assert!(r.stdout.matches("eth_").count() >= 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("SHORT") && r.stdout.contains("66.67%"),
        "{}",
        r.stdout
    );
    let j = ex
        .verify_reserves_of(
            &att,
            &stmt,
            &["--registry", path_str(&reg), "--node", &n, "--json"],
        )
        .expect(1);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(
        v["reserves"]["reserve_entries"][1]["not_added_same_account_as"],
        0
    );
}

/// Case 3: one token with two entry points (a legacy address forwarding every call). From a
/// token list neither counts (two contracts for one symbol on one chain); through the user's
/// registry both are confirmed, and the second face of the account is not added.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn one_token_with_two_entry_points_counts_once() {
    let (ex, _) = usdc_exchange();
    let Some(node) = Anvil::start_with(100_004) else {
        return;
    };
    let key = EthKey::from_seed(73);
    let legacy = "0x0000000000000000000000000000000000001e9a";
    node.call("anvil_setCode", json!([T0, token_code(6)]));
    node.call("anvil_setCode", json!([legacy, forwarder_code(T0)]));
    set_token_balance(&node, T0, &key.address(), USDC_UNITS);
    node.call("anvil_mine", json!(["0x4"]));
    let chain = "ethereum-100004";
    let att = ex.forge_attestation(|x| {
        x.bindings = vec![
            binding("USDC", chain, Some(T0), 6),
            binding("USDC", chain, Some(legacy), 6),
        ]
    });
    let stmt = ex.forge_reserves_for(
        &att,
        &[
            entry(&att, &key, "USDC", chain, 1, Some(T0), USDC_UNITS),
            entry(&att, &key, "USDC", chain, 1, Some(legacy), USDC_UNITS),
        ],
    );
    let n = format!("{chain}={}", node.url);
    let list = token_list(
        &ex.path(""),
        &[(100_004, T0, "USDC", 6), (100_004, legacy, "USDC", 6)],
    );
    let r = ex
        .verify_reserves_of(
            &att,
            &stmt,
            &["--token-list", path_str(&list), "--node", &n],
        )
        .expect(1);
    assert!(
        r.stdout
            .contains("the token lists name two contracts for USDC on ethereum-100004"),
        "{}",
        r.stdout
    );
    let reg = write_registry(
        &ex.path(""),
        "both.json",
        &[
            json!({"chain": chain, "token": T0, "symbol": "USDC", "decimals": 6, "issuance": "canonical"}),
            json!({"chain": chain, "token": legacy, "symbol": "USDC", "decimals": 6, "issuance": "canonical"}),
        ],
    );
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--registry", path_str(&reg), "--node", &n])
        .expect(1);
    assert!(
        r.stdout
            .contains("eth_call balanceOf at block 1 is 1000000000000")
            && r.stdout.contains("the same account as entry #0")
            && r.stdout.contains("SHORT"),
        "{}",
        r.stdout
    );
}

/// Case 4: an exchange-pegged token named by a token list never counts: Binance-Peg DAI is in
/// the vendored table, and no list confirms anything on a chain where pegged tokens circulate.
#[test]
fn pegged_tokens_from_token_lists_never_count() {
    let ex = Exchange::build("user_id,DAI:18\na,100\n", &[]);
    let peg_dai = "0x1af3f329e8be154074d8769d1ffa4ee058b1dbc3";
    let other = "0x00000000000000000000000000000000000d0a1d";
    let key = EthKey::from_seed(74);
    for token in [peg_dai, other] {
        let att = ex.forge_attestation(|x| {
            x.bindings = vec![binding("DAI", "ethereum-56", Some(token), 18)]
        });
        let stmt = ex.forge_reserves_for(
            &att,
            &[entry(
                &att,
                &key,
                "DAI",
                "ethereum-56",
                40_000_000,
                Some(token),
                200 * 10u128.pow(18),
            )],
        );
        let list = token_list(&ex.path(""), &[(56, token, "DAI", 18)]);
        for extra in [&["--offline"][..], &[][..]] {
            let mut args = vec!["--token-list", path_str(&list)];
            args.extend_from_slice(extra);
            let r = ex
                .verify_reserves_of(&att, &stmt, &args)
                .expect_code("reserves.binding_unconfirmed");
            let why = if token == peg_dai {
                "is a pegged token, issued by an exchange against its own custody"
            } else {
                "carries tokens pegged by an exchange"
            };
            assert!(r.stdout.contains(why), "{token}: {}", r.stdout);
            assert!(r.stdout.contains("SHORT"), "{}", r.stdout);
        }
    }
    // A token list cannot place a second contract for a symbol the table has on a chain.
    let att =
        ex.forge_attestation(|x| x.bindings = vec![binding("DAI", "ethereum", Some(other), 18)]);
    let stmt = ex.forge_reserves_for(&att, &[]);
    let list = token_list(&ex.path(""), &[(1, other, "DAI", 18)]);
    let r = ex
        .verify_reserves_of(&att, &stmt, &["--offline", "--token-list", path_str(&list)])
        .expect_code("reserves.binding_unconfirmed");
    assert!(
        r.stdout.contains("the built-in registry already places DAI on ethereum at 0x6b175474e89094c44da98b954eedeac495271d0f"),
        "{}",
        r.stdout
    );
}

/// Case 5: Goerli (and every chain of the vendored test-network list) counts only through the
/// user's registry and only as TEST NETWORK; an unknown chain id reads USER-SUPPLIED in the
/// verdict line.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn test_networks_are_known_as_such() {
    let ex = Exchange::build("user_id,USDC:6\na,100\n", &[]);
    let key = EthKey::from_seed(75);
    let tok = "0x00000000000000000000000000000000000600e1";
    for (id, chain) in [
        (5u64, "ethereum-5"),
        (80_002, "ethereum-80002"),
        (84_532, "ethereum-84532"),
    ] {
        let att = ex.forge_attestation(|x| x.bindings = vec![binding("USDC", chain, Some(tok), 6)]);
        let stmt = ex.forge_reserves_for(
            &att,
            &[entry(&att, &key, "USDC", chain, 9, Some(tok), 200_000_000)],
        );
        let list = token_list(&ex.path(""), &[(id, tok, "USDC", 6)]);
        let r = ex
            .verify_reserves_of(&att, &stmt, &["--offline", "--token-list", path_str(&list)])
            .expect(1);
        assert!(
            r.stdout
                .contains(&format!("{chain} is a test network: a token list")),
            "{}",
            r.stdout
        );
        let reg = write_registry(
            &ex.path(""),
            &format!("testnet-{id}.json"),
            &[
                json!({"chain": chain, "token": tok, "symbol": "USDC", "decimals": 6, "issuance": "canonical"}),
            ],
        );
        let r = ex
            .verify_reserves_of(&att, &stmt, &["--offline", "--registry", path_str(&reg)])
            .expect(0);
        assert!(r.stdout.contains("[TEST NETWORK"), "{}", r.stdout);
    }
    // An unknown chain id through the user's registry: USER-SUPPLIED, on the verdict line too.
    let chain = "ethereum-100005";
    let Some(node) = Anvil::start_with(100_005) else {
        return;
    };
    node.call("anvil_setCode", json!([tok, token_code(6)]));
    set_token_balance(&node, tok, &key.address(), 200_000_000);
    node.call("anvil_mine", json!(["0x4"]));
    let att = ex.forge_attestation(|x| x.bindings = vec![binding("USDC", chain, Some(tok), 6)]);
    let stmt = ex.forge_reserves_for(
        &att,
        &[entry(&att, &key, "USDC", chain, 1, Some(tok), 200_000_000)],
    );
    let reg = write_registry(
        &ex.path(""),
        "unknown.json",
        &[
            json!({"chain": chain, "token": tok, "symbol": "USDC", "decimals": 6, "issuance": "canonical"}),
        ],
    );
    let n = format!("{chain}={}", node.url);
    let r = ex
        .verify_reserves_of(
            &att,
            &stmt,
            &[
                "--registry",
                path_str(&reg),
                "--node",
                &n,
                "--snapshot-window-hours",
                "100000",
            ],
        )
        .expect(0);
    let last = r.stdout.lines().last().unwrap_or("");
    assert!(
        last.contains("SOLVENT") && last.contains("USER-SUPPLIED BINDING"),
        "{}",
        r.stdout
    );
}

/// A node URL that is not http:// or https:// is bad input, even for a chain the statement does
/// not use; the challenge prints byte for byte as it is signed.
#[test]
fn node_urls_and_the_printed_challenge() {
    let ex = Exchange::build("user_id,USDC:6\na,100\n", &[]);
    let stmt = ex.forge_reserves(&[]);
    for url in ["ftp://127.0.0.1:1", "127.0.0.1:8545", "file:///etc/passwd"] {
        let n = format!("ethereum-10={url}");
        let r = ex.verify_reserves(&stmt, &["--node", &n]).expect(2);
        assert!(
            r.stderr.contains("ethereum-10") && r.stderr.contains("http"),
            "{}",
            r.stderr
        );
    }
    let printed = por_e2e::run(
        "por-prove",
        &[
            "reserves",
            "challenge",
            "--attestation",
            path_str(&ex.attestation()),
            "--chain",
            "ethereum",
            "--height",
            "21000000",
        ],
    )
    .expect(0);
    assert_eq!(printed.stdout, ex.challenge("ethereum", 21_000_000));
    assert!(printed.stdout.contains("\nPeriod: 2026-11\n") && !printed.stdout.contains("\\n"));
}
