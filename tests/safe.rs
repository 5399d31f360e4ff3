//! Safe multisig wallets as reserves (issue 19), against the real Safe contracts on anvil.
//!
//! The contracts are the Safe team's own builds from npm (tests/support/safe-contracts.sh:
//! `@gnosis.pm/safe-contracts` 1.1.1 and 1.3.0, `@safe-global/safe-contracts` 1.4.1). Each
//! singleton is put at its mainnet address on a node that answers as Ethereum mainnet (chain
//! id 1), each wallet is the release's own proxy code set up through the Safe's own `setup`,
//! and the owners sign with real keys. The exchange signs its statements itself (a dishonest
//! one would not use our prover); the tests show what the verifier refuses and that the real
//! Safe agrees with what it accepts.

use por_e2e::nodes::Anvil;
use por_e2e::signers::EthKey;
use por_e2e::{challenge_of, run, Exchange, Run};
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};
use std::path::{Path, PathBuf};

/// Where tests/support/safe-contracts.sh put the packages; `None` (skip) outside CI.
fn contracts() -> Option<PathBuf> {
    let dir = match std::env::var_os("POR_SAFE_CONTRACTS") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .expect("HOME")
            .join("por-tools/safe-contracts"),
    };
    if dir.join("complete").exists() {
        return Some(dir);
    }
    let required = std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var_os("POR_REQUIRE_NODES").is_some();
    assert!(
        !required,
        "the Safe contracts are not installed: run tests/support/safe-contracts.sh"
    );
    eprintln!("SKIPPED: the Safe contracts are not installed (tests/support/safe-contracts.sh)");
    None
}

/// One release's contracts: (singleton address, singleton code, proxy code, fallback handler).
struct Release {
    wallet: &'static str,
    singleton: &'static str,
    singleton_code: String,
    proxy_code: String,
    /// The CompatibilityFallbackHandler (1.3.0, 1.4.1): its address and code.
    handler: Option<(&'static str, String)>,
}

fn code(dir: &Path, path: &str) -> String {
    let p = dir.join(path);
    let j: Value = serde_json::from_slice(&std::fs::read(&p).expect("artifact")).expect("json");
    j["deployedBytecode"]
        .as_str()
        .expect("deployedBytecode")
        .to_string()
}

fn release(dir: &Path, wallet: &str) -> Release {
    match wallet {
        "safe-1.1.1" => Release {
            wallet: "safe-1.1.1",
            singleton: "0x34cfac646f301356faa8b21e94227e3583fe3f5f",
            singleton_code: code(dir, "1.1.1/package/build/contracts/GnosisSafe.json"),
            proxy_code: code(dir, "1.1.1/package/build/contracts/Proxy.json"),
            handler: None,
        },
        "safe-1.3.0" => Release {
            wallet: "safe-1.3.0",
            singleton: "0xd9db270c1b5e3bd161e8c8503c55ceabee709552",
            singleton_code: code(
                dir,
                "1.3.0/package/build/artifacts/contracts/GnosisSafe.sol/GnosisSafe.json",
            ),
            proxy_code: code(
                dir,
                "1.3.0/package/build/artifacts/contracts/proxies/GnosisSafeProxy.sol/GnosisSafeProxy.json",
            ),
            handler: Some((
                "0xf48f2b2d2a534e402487b3ee7c18c33aec0fe5e4",
                code(dir, "1.3.0/package/build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
            )),
        },
        _ => Release {
            wallet: "safe-1.4.1",
            singleton: "0x41675c099f32341bf84bfc5382af534df5c7461a",
            singleton_code: code(dir, "1.4.1/package/build/artifacts/contracts/Safe.sol/Safe.json"),
            proxy_code: code(
                dir,
                "1.4.1/package/build/artifacts/contracts/proxies/SafeProxy.sol/SafeProxy.json",
            ),
            handler: Some((
                "0xfd0732dc9e303f09fcef3a7388ad10a83459ec99",
                code(dir, "1.4.1/package/build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
            )),
        },
    }
}

fn word(hex_body: &str) -> String {
    format!("{:0>64}", hex_body.trim_start_matches("0x"))
}

/// Sends a transaction from anvil's first (unlocked) account and checks it succeeded.
fn send(node: &Anvil, to: &str, data: &str) {
    let from = node.call("eth_accounts", json!([]))[0].clone();
    let tx = node.call(
        "eth_sendTransaction",
        json!([{"from": from, "to": to, "data": data, "gas": "0x1000000"}]),
    );
    let mut receipt = Value::Null;
    for _ in 0..100 {
        receipt = node.call("eth_getTransactionReceipt", json!([tx]));
        if !receipt.is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        receipt["status"], "0x1",
        "transaction to {to} failed: {receipt}"
    );
}

fn eth_call(node: &Anvil, to: &str, data: &str) -> String {
    node.call("eth_call", json!([{"to": to, "data": data}, "latest"]))
        .as_str()
        .expect("hex")
        .to_string()
}

/// Puts the release's singleton (and handler) at their mainnet addresses, then a Safe at
/// `safe`: the release's proxy code, slot 0 naming the singleton, set up by the Safe's own
/// `setup(owners, threshold, 0, "", handler, 0, 0, 0)`; it holds `wei`.
fn deploy_safe(
    node: &Anvil,
    r: &Release,
    safe: &str,
    owners: &[&EthKey],
    threshold: usize,
    wei: u128,
) {
    node.call("anvil_setCode", json!([r.singleton, r.singleton_code]));
    if let Some((addr, code)) = &r.handler {
        node.call("anvil_setCode", json!([addr, code]));
    }
    node.call("anvil_setCode", json!([safe, r.proxy_code]));
    node.call(
        "anvil_setStorageAt",
        json!([safe, "0x0", format!("0x{}", word(r.singleton))]),
    );
    let n = owners.len();
    let mut data = String::from("0xb63e800d");
    data += &word(&format!("{:x}", 8 * 32)); // owners' offset
    data += &word(&format!("{threshold:x}"));
    data += &word("0"); // to
    data += &word(&format!("{:x}", 8 * 32 + 32 * (n + 1))); // data's offset
    data += &word(r.handler.as_ref().map(|(a, _)| *a).unwrap_or("0"));
    data += &word("0");
    data += &word("0");
    data += &word("0");
    data += &word(&format!("{n:x}"));
    for o in owners {
        data += &word(&o.address());
    }
    data += &word("0"); // empty data
    send(node, safe, &data);
    node.call("anvil_setBalance", json!([safe, format!("0x{wei:x}")]));
}

const ETH: u128 = 1_000_000_000_000_000_000;

/// The exchange owes 3 ETH; the month's snapshot is block 1 of a node that plays mainnet.
fn exchange() -> Exchange {
    Exchange::build_now("user_id,ETH:18\na,2\nb,1\n", &[])
}

/// The contracts, a node playing mainnet, the exchange, and owner keys from `seeds`; `None`
/// (skip) where the contracts or anvil are not installed outside CI.
fn start(seeds: std::ops::Range<u8>) -> Option<(PathBuf, Anvil, Exchange, Vec<EthKey>)> {
    let dir = contracts()?;
    let node = Anvil::start_with(1)?;
    Some((
        dir,
        node,
        exchange(),
        seeds.map(EthKey::from_seed).collect(),
    ))
}

/// The hash `por-prove reserves challenge --safe` prints for the owners to sign.
fn owners_hash(ex: &Exchange, safe: &str, wallet: &str, height: u64) -> [u8; 32] {
    let out = run(
        "por-prove",
        &[
            "reserves",
            "challenge",
            "--attestation",
            por_e2e::path_str(&ex.attestation()),
            "--chain",
            "ethereum",
            "--height",
            &height.to_string(),
            "--safe",
            safe,
            "--wallet",
            wallet,
        ],
    )
    .expect(0);
    let h = out.stdout.trim().trim_start_matches("0x");
    let mut b = [0u8; 32];
    hex::decode_to_slice(h, &mut b).expect("32-byte hash");
    b
}

/// `eth_sign`'s digest of a 32-byte hash (the Safe's `v` 31/32 kind).
fn eth_signed(hash: [u8; 32]) -> [u8; 32] {
    let mut k = Keccak256::new();
    k.update(b"\x19Ethereum Signed Message:\n32");
    k.update(hash);
    k.finalize().into()
}

/// The real Safe's answer to EIP-1271 `isValidSignature(bytes, bytes)` for the challenge
/// message and these signatures (sorted by owner, as `checkSignatures` wants them).
fn safe_accepts(
    node: &Anvil,
    safe: &str,
    ex: &Exchange,
    height: u64,
    mut sigs: Vec<(String, String)>,
) -> bool {
    sigs.sort();
    let joined: String = sigs
        .iter()
        .map(|(_, s)| s.trim_start_matches("0x").to_string())
        .collect();
    let msg = por_verifier::safe::challenge_message(
        challenge_of(&ex.attestation(), "ethereum", height).as_bytes(),
    );
    let sig_len = joined.len() / 2;
    let padded = |h: &str| format!("{h}{}", "0".repeat((64 - h.len() % 64) % 64));
    let mut data = String::from("0x20c13b0b");
    data += &word("40");
    data += &word(&format!("{:x}", 0x40 + 0x20 + 32));
    data += &word("20");
    data += &hex::encode(msg);
    data += &word(&format!("{sig_len:x}"));
    data += &padded(&joined);
    match node.call_result("eth_call", json!([{"to": safe, "data": data}, "latest"])) {
        Ok(v) => v.as_str().is_some_and(|r| r.starts_with("0x20c13b0b")),
        Err(_) => false,
    }
}

/// A Safe's ETH entry at `height` claiming `wei`.
fn entry_at(height: u64, safe: &str, wallet: &str, sigs: &[String], wei: u128) -> Value {
    json!({"asset": "ETH", "chain": "ethereum", "height": height, "address": safe, "wallet": wallet,
           "balance": wei.to_string(), "signatures": sigs})
}

/// The node's latest block.
fn block_number(node: &Anvil) -> u64 {
    let n = node.call("eth_blockNumber", json!([]));
    u64::from_str_radix(n.as_str().expect("quantity").trim_start_matches("0x"), 16)
        .expect("block number")
}

fn verify(ex: &Exchange, stmt: &std::path::Path, node: &Anvil, extra: &[&str]) -> Run {
    let mut args = vec!["--ethereum-rpc", node.url.as_str()];
    args.extend_from_slice(extra);
    ex.verify_reserves(stmt, &args)
}

fn safe_address(i: u8) -> String {
    format!("0x5afe{:0>36}", format!("{i:02x}"))
}

fn mine(node: &Anvil) {
    node.call("anvil_mine", json!(["0x4"]));
}

/// The honest case for every release: a 2-of-3 Safe of each holds 1 ETH, two owners sign (one
/// of each signature kind), `por-prove reserves add` accepts the entries, and the verifier
/// counts them as 2-of-3 multisigs, with the keys counted across all three. The real Safes
/// accept the same signatures through EIP-1271, and the hash the owners signed is the one
/// the Safe computes.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn an_honest_two_of_three_safe_of_each_release_counts_as_a_multisig() {
    let Some((dir, node, ex, owners)) = start(81..84) else {
        return;
    };
    let refs: Vec<&EthKey> = owners.iter().collect();
    let mut entries = Vec::new();
    let mut safes = Vec::new();
    for (i, wallet) in ["safe-1.1.1", "safe-1.3.0", "safe-1.4.1"]
        .iter()
        .enumerate()
    {
        let r = release(&dir, wallet);
        let safe = safe_address(i as u8 + 1);
        deploy_safe(&node, &r, &safe, &refs, 2, ETH);
        safes.push((safe, r));
    }
    mine(&node);
    // Every Safe's setup was mined in a block of its own: the snapshot is the latest block.
    let height = block_number(&node);
    mine(&node);
    for (safe, r) in &safes {
        let hash = owners_hash(&ex, safe, r.wallet, height);
        // The hash is the Safe's own: getMessageHash (1.1.1) or the handler's
        // getMessageHashForSafe (1.3.0, 1.4.1) of the challenge's EIP-191 hash.
        let msg = por_verifier::safe::challenge_message(
            challenge_of(&ex.attestation(), "ethereum", height).as_bytes(),
        );
        let theirs = match &r.handler {
            None => eth_call(
                &node,
                safe,
                &format!("0x0a1028c4{}{}{}", word("20"), word("20"), hex::encode(msg)),
            ),
            Some((handler, _)) => eth_call(
                &node,
                handler,
                &format!(
                    "0x6ac24784{}{}{}{}",
                    word(safe),
                    word("40"),
                    word("20"),
                    hex::encode(msg)
                ),
            ),
        };
        assert_eq!(theirs, format!("0x{}", hex::encode(hash)), "{}", r.wallet);
        let a = owners[0].sign_digest(hash, 27);
        let b = owners[2].sign_digest(eth_signed(hash), 31);
        assert!(
            safe_accepts(
                &node,
                safe,
                &ex,
                height,
                vec![
                    (owners[0].address(), a.clone()),
                    (owners[2].address(), b.clone())
                ]
            ),
            "the real Safe {} accepts the owners' signatures",
            r.wallet
        );
        entries.push(entry_at(height, safe, r.wallet, &[a, b], ETH));
    }
    ex.add_reserves(&entries).expect(0);
    let r = verify(&ex, &ex.reserves(), &node, &[]).expect(0);
    for v in ["1.1.1 (GnosisSafe)", "1.3.0 (GnosisSafe)", "1.4.1 (Safe)"] {
        assert!(
            r.stdout
                .contains(&format!("Safe {v}, 2-of-3 owners, 2 of them signed")),
            "{v}: {}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains("multisig:   3.000000000000000000 (100.00%): 2-of-3 3.000000000000000000"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no module enabled"), "{}", r.stdout);
    assert!(r.stdout.contains("SOLVENT"), "{}", r.stdout);
    let j = verify(&ex, &ex.reserves(), &node, &["--json"]).expect(0);
    let v: Value = serde_json::from_str(&j.stdout).expect("json");
    let e = &v["reserves"]["reserve_entries"][2];
    assert_eq!(e["safe"]["version"], "1.4.1", "{}", j.stdout);
    assert_eq!(e["safe"]["threshold"], 2);
    assert_eq!(e["safe"]["owners"].as_array().map(Vec::len), Some(3));
    assert_eq!(e["safe"]["signed_by"].as_array().map(Vec::len), Some(2));
    println!("{}", r.stdout);
}

/// The Bybit theft, 2025: the Safe's implementation (slot 0) swapped through a delegatecall
/// for a contract of the thief's. Owners' signatures still recover to the owners, and the
/// owners and threshold still read the same, but the wallet now does what its new code says:
/// the entry fails, with the address shown. So does an entry naming another release.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn a_safe_whose_implementation_was_swapped_is_refused() {
    let Some((dir, node, ex, owners)) = start(84..87) else {
        return;
    };
    let refs: Vec<&EthKey> = owners.iter().collect();
    let r = release(&dir, "safe-1.1.1");
    let safe = safe_address(9);
    deploy_safe(&node, &r, &safe, &refs, 2, 3 * ETH);
    // The thief's implementation: the Safe's own code at another address (so every read
    // answers as before), and slot 0 pointing to it.
    let thief = "0x00000000000000000000000000000000000b1b17";
    node.call("anvil_setCode", json!([thief, r.singleton_code]));
    node.call(
        "anvil_setStorageAt",
        json!([safe, "0x0", format!("0x{}", word(thief))]),
    );
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.1.1", 1);
    let sigs = vec![
        owners[0].sign_digest(hash, 27),
        owners[1].sign_digest(hash, 27),
    ];
    let e = entry_at(1, &safe, "safe-1.1.1", &sigs, 3 * ETH);
    let stmt = ex.forge_reserves(std::slice::from_ref(&e));
    let out = verify(&ex, &stmt, &node, &[]).expect(1);
    assert!(
        out.stdout.contains(&format!(
            "implementation at block 1 (storage slot 0) is {}",
            por_verifier::evm::EthAddress::parse(thief).unwrap()
        )) && out
            .stdout
            .contains("not a Safe singleton the verifier knows"),
        "{}",
        out.stdout
    );
    verify(&ex, &stmt, &node, &["--json"]).expect_code("reserves.control_invalid");

    // The same Safe's slot 0 back, but the entry says 1.4.1: refused, another release's domain.
    node.call(
        "anvil_setStorageAt",
        json!([safe, "0x0", format!("0x{}", word(r.singleton))]),
    );
    mine(&node);
    let stmt = ex.forge_reserves(&[json!({"asset": "ETH", "chain": "ethereum", "height": 6,
        "address": safe, "wallet": "safe-1.4.1", "balance": (3 * ETH).to_string(),
        "signatures": [owners[0].sign_digest(owners_hash(&ex, &safe, "safe-1.4.1", 6), 27),
                       owners[1].sign_digest(owners_hash(&ex, &safe, "safe-1.4.1", 6), 27)]})]);
    let out = verify(&ex, &stmt, &node, &[]).expect(1);
    assert!(
        out.stdout
            .contains("is GnosisSafe of Safe 1.1.1, but the entry says safe-1.4.1"),
        "{}",
        out.stdout
    );
}

/// The threshold is met only by distinct owners who are owners at the snapshot block: one
/// owner signing twice (in both kinds), one owner alone, and a key that is no owner all fail.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn the_threshold_needs_distinct_owners() {
    let Some((dir, node, ex, owners)) = start(87..90) else {
        return;
    };
    let stranger = EthKey::from_seed(90);
    let refs: Vec<&EthKey> = owners.iter().collect();
    let r = release(&dir, "safe-1.4.1");
    let safe = safe_address(10);
    deploy_safe(&node, &r, &safe, &refs, 2, 3 * ETH);
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.4.1", 1);
    let case = |sigs: Vec<String>| {
        let e = entry_at(1, &safe, "safe-1.4.1", &sigs, 3 * ETH);
        let stmt = ex.forge_reserves(&[e]);
        verify(&ex, &stmt, &node, &["--json"]).expect_code("reserves.control_invalid");
        verify(&ex, &stmt, &node, &[]).expect(1).stdout
    };
    // Twice the same owner: the real Safe refuses it too (owners must be strictly increasing).
    let twice = vec![
        owners[0].sign_digest(hash, 27),
        owners[0].sign_digest(eth_signed(hash), 31),
    ];
    assert!(!safe_accepts(
        &node,
        &safe,
        &ex,
        1,
        vec![
            ("a".into(), twice[0].clone()),
            ("b".into(), twice[1].clone())
        ]
    ));
    let out = case(twice);
    assert!(
        out.contains(&format!(
            "signatures 1 and 2 are both by {}",
            por_verifier::evm::EthAddress::parse(&owners[0].address()).unwrap()
        )),
        "{out}"
    );
    let out = case(vec![owners[1].sign_digest(hash, 27)]);
    assert!(
        out.contains("1 distinct owner signed for the Safe")
            && out.contains("it needs 2 of its 3 owners"),
        "{out}"
    );
    let out = case(vec![
        owners[1].sign_digest(hash, 27),
        stranger.sign_digest(hash, 27),
    ]);
    assert!(
        out.contains(&format!(
            "{} signed for the Safe",
            por_verifier::evm::EthAddress::parse(&stranger.address()).unwrap()
        )) && out.contains("is not one of its owners at block 1"),
        "{out}"
    );
    // The same Safe listed twice counts once (offline, before any node).
    let good = vec![
        owners[0].sign_digest(hash, 27),
        owners[1].sign_digest(hash, 27),
    ];
    let e = entry_at(1, &safe, "safe-1.4.1", &good, 3 * ETH);
    let stmt = ex.forge_reserves(&[e.clone(), e]);
    let out = verify(&ex, &stmt, &node, &[]).expect(1);
    assert!(
        out.stdout.contains("is already counted in entry #0"),
        "{}",
        out.stdout
    );
}

/// A 1-of-n Safe is a single key: any one owner moves it. It counts, but not as a multisig,
/// so a customer's `--min-multisig-share` sees it for what it is.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn a_one_of_n_safe_is_a_single_key() {
    let Some((dir, node, ex, owners)) = start(91..94) else {
        return;
    };
    let refs: Vec<&EthKey> = owners.iter().collect();
    let r = release(&dir, "safe-1.3.0");
    let safe = safe_address(11);
    deploy_safe(&node, &r, &safe, &refs, 1, 3 * ETH);
    // Owner 0, who does not sign for the Safe, also holds 1 ETH in its own account.
    node.call(
        "anvil_setBalance",
        json!([owners[0].address(), format!("0x{ETH:x}")]),
    );
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.3.0", 1);
    let e = entry_at(
        1,
        &safe,
        "safe-1.3.0",
        &[owners[2].sign_digest(hash, 27)],
        3 * ETH,
    );
    let own = json!({"asset": "ETH", "chain": "ethereum", "height": 1, "address": owners[0].address(),
        "balance": ETH.to_string(),
        "signatures": [owners[0].personal_sign(challenge_of(&ex.attestation(), "ethereum", 1).as_bytes())]});
    let stmt = ex.forge_reserves(&[e, own]);
    let out = verify(&ex, &stmt, &node, &[]).expect(0);
    // One key, one name: owner 0's key, recovered from its own account's signature, names it
    // as an owner of the Safe too, so the table sees it behind both addresses.
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("signs for 2 addresses"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.trim_start().starts_with("key ")
            && line.contains(&safe)
            && line.contains(&owners[0].address()),
        "{line}"
    );
    assert!(
        out.stdout
            .contains("Safe 1.3.0 (GnosisSafe), 1-of-3 owners"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("single key: 4.000000000000000000 (100.00%)")
            && out
                .stdout
                .contains("multisig:   0.000000000000000000 (0.00%)"),
        "{}",
        out.stdout
    );
    verify(
        &ex,
        &stmt,
        &node,
        &["--min-multisig-share", "0.5", "--json"],
    )
    .expect_code("reserves.custody_short");
}

/// Any other contract fails, whatever it answers: one that says yes to every
/// `isValidSignature` call, with slot 0 even naming a real singleton; and an address with no
/// code at all.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn a_contract_answering_yes_is_not_a_safe() {
    let Some((dir, node, ex, keys)) = start(94..95) else {
        return;
    };
    let r = release(&dir, "safe-1.4.1");
    node.call("anvil_setCode", json!([r.singleton, r.singleton_code]));
    let yes = safe_address(12);
    // PUSH4 0x1626ba7e, PUSH1 224, SHL, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN: the EIP-1271
    // magic value for any call.
    node.call(
        "anvil_setCode",
        json!([yes, "0x631626ba7e60e01b60005260206000f3"]),
    );
    node.call(
        "anvil_setStorageAt",
        json!([yes, "0x0", format!("0x{}", word(r.singleton))]),
    );
    node.call("anvil_setBalance", json!([yes, format!("0x{:x}", 3 * ETH)]));
    let nothing = safe_address(13);
    node.call(
        "anvil_setBalance",
        json!([nothing, format!("0x{:x}", 3 * ETH)]),
    );
    mine(&node);
    let anyone = &keys[0];
    for (addr, words) in [
        (&yes, "is not a Safe proxy"),
        (&nothing, "has no code at block 1: it is not a Safe"),
    ] {
        let hash = owners_hash(&ex, addr, "safe-1.4.1", 1);
        let e = entry_at(
            1,
            addr,
            "safe-1.4.1",
            &[anyone.sign_digest(hash, 27)],
            3 * ETH,
        );
        let stmt = ex.forge_reserves(&[e]);
        let out = verify(&ex, &stmt, &node, &[]).expect(1);
        assert!(out.stdout.contains(words), "{}", out.stdout);
        assert!(
            out.stdout.contains(
                &por_verifier::evm::EthAddress::parse(addr)
                    .unwrap()
                    .to_string()
            ),
            "the address is shown: {}",
            out.stdout
        );
        verify(&ex, &stmt, &node, &["--json"]).expect_code("reserves.control_invalid");
    }
}

/// A module can move a Safe's funds without its owners: an enabled one is named, and the
/// holding is not shown as a multisig. Without a node, a Safe's control is not established:
/// exit 3, not counted.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn an_enabled_module_is_named_and_no_node_is_not_checked() {
    let Some((dir, node, ex, owners)) = start(95..97) else {
        return;
    };
    let refs: Vec<&EthKey> = owners.iter().collect();
    let r = release(&dir, "safe-1.4.1");
    let safe = safe_address(14);
    deploy_safe(&node, &r, &safe, &refs, 2, 3 * ETH);
    // modules (slot 1): SENTINEL -> module -> SENTINEL, as enableModule leaves them.
    let module = "0x000000000000000000000000000000000000d0d0";
    let slot = |key: &str| {
        let mut k = Keccak256::new();
        k.update(hex::decode(word(key)).unwrap());
        k.update(hex::decode(word("1")).unwrap());
        format!("0x{}", hex::encode(k.finalize()))
    };
    node.call(
        "anvil_setStorageAt",
        json!([safe, slot("1"), format!("0x{}", word(module))]),
    );
    node.call(
        "anvil_setStorageAt",
        json!([safe, slot(module), format!("0x{}", word("1"))]),
    );
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.4.1", 1);
    let e = entry_at(
        1,
        &safe,
        "safe-1.4.1",
        &[
            owners[0].sign_digest(hash, 27),
            owners[1].sign_digest(hash, 27),
        ],
        3 * ETH,
    );
    let stmt = ex.forge_reserves(&[e]);
    let out = verify(&ex, &stmt, &node, &[]).expect(0);
    assert!(
        out.stdout.contains(&format!(
            "MODULES ENABLED (each can move funds without the owners): {}",
            por_verifier::evm::EthAddress::parse(module).unwrap()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Safe with an enabled module")
            && out
                .stdout
                .contains("multisig:   0.000000000000000000 (0.00%)"),
        "{}",
        out.stdout
    );
    let out = ex
        .verify_reserves(&stmt, &["--json"])
        .expect_code("reserves.not_checked");
    assert!(
        out.stdout.contains("no node for ethereum"),
        "{}",
        out.stdout
    );
}

/// Storage the Safe's code did not write: a proxy never set up (its owner list is empty and
/// getOwners fails) and an owner count that is not the list's both fail the entry (exit 1,
/// not a node error); an owner that is a contract makes the Safe no multisig of keys; and in
/// offline mode a Safe's claim is not counted as claimed (exit 3).
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
#[cfg_attr(
    no_safe_contracts,
    ignore = "needs the Safe contracts: tests/support/safe-contracts.sh"
)]
fn storage_the_safe_did_not_write_and_contract_owners() {
    let Some((dir, node, ex, owners)) = start(97..99) else {
        return;
    };
    let refs: Vec<&EthKey> = owners.iter().collect();
    for wallet in ["safe-1.1.1", "safe-1.4.1"] {
        let r = release(&dir, wallet);
        let bare = safe_address(15);
        node.call("anvil_setCode", json!([r.singleton, r.singleton_code]));
        node.call("anvil_setCode", json!([bare, r.proxy_code]));
        node.call(
            "anvil_setStorageAt",
            json!([bare, "0x0", format!("0x{}", word(r.singleton))]),
        );
        node.call(
            "anvil_setBalance",
            json!([bare, format!("0x{:x}", 3 * ETH)]),
        );
        mine(&node);
        let h = block_number(&node);
        mine(&node);
        let hash = owners_hash(&ex, &bare, wallet, h);
        let e = entry_at(
            h,
            &bare,
            wallet,
            &[owners[0].sign_digest(hash, 27)],
            3 * ETH,
        );
        let stmt = ex.forge_reserves(&[e]);
        let out = verify(&ex, &stmt, &node, &[]).expect(1);
        assert!(
            out.stdout.contains("getOwners() failed at block"),
            "{wallet}: {}",
            out.stdout
        );
        verify(&ex, &stmt, &node, &["--json"]).expect_code("reserves.control_invalid");
    }

    let r = release(&dir, "safe-1.4.1");
    let safe = safe_address(16);
    deploy_safe(&node, &r, &safe, &refs, 2, 3 * ETH);
    // Owner 1 becomes a contract (as an EIP-7702 delegation or a contract owner would be).
    node.call("anvil_setCode", json!([owners[1].address(), "0x00"]));
    mine(&node);
    let h = block_number(&node);
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.4.1", h);
    let sigs = [
        owners[0].sign_digest(hash, 27),
        owners[1].sign_digest(hash, 27),
    ];
    let e = entry_at(h, &safe, "safe-1.4.1", &sigs, 3 * ETH);
    let stmt = ex.forge_reserves(std::slice::from_ref(&e));
    let out = verify(&ex, &stmt, &node, &[]).expect(0);
    assert!(
        out.stdout.contains("OWNERS WITH CODE")
            && out
                .stdout
                .contains("Safe with an owner that is a contract or a delegated account")
            && out
                .stdout
                .contains("multisig:   0.000000000000000000 (0.00%)"),
        "{}",
        out.stdout
    );
    // Offline: some keys signed, but whether they are the owners needs a node.
    let out = ex
        .verify_reserves(&stmt, &["--offline", "--json"])
        .expect_code("reserves.not_checked");
    assert!(
        out.stdout.contains(
            "a Safe's owners and threshold, or TRON and Solana balances, cannot be checked offline"
        ),
        "{}",
        out.stdout
    );
    // An owner count (slot 3) that is not the list's: getOwners() pads its list with zeros.
    node.call(
        "anvil_setStorageAt",
        json!([safe, "0x3", format!("0x{}", word("5"))]),
    );
    mine(&node);
    let h2 = block_number(&node);
    mine(&node);
    let hash = owners_hash(&ex, &safe, "safe-1.4.1", h2);
    let sigs = [
        owners[0].sign_digest(hash, 27),
        owners[1].sign_digest(hash, 27),
    ];
    let e = entry_at(h2, &safe, "safe-1.4.1", &sigs, 3 * ETH);
    let stmt = ex.forge_reserves(&[e]);
    let out = verify(&ex, &stmt, &node, &[]).expect(1);
    assert!(
        out.stdout
            .contains("its storage was written around the Safe's code"),
        "{}",
        out.stdout
    );
}
