//! The spec's test vectors (spec/vectors/core.json) are what this code computes.
//!
//! Each hash's preimage is assembled here byte by byte from the spec's description, not with
//! the library's encoder, and hashed with plain SHA-256; the library must agree. Then the
//! whole vector file is compared with the committed one. To regenerate it after a deliberate
//! format change: `POR_BLESS=1 cargo test --test spec_vectors -- --test-threads=1`.

use ed25519_dalek::SigningKey;
use por_prover::build::sign;
use por_verifier::hash::{
    leaf_hash, node_hash, padding_hash, position_candidate, user_commitment, TAG_LEAF, TAG_NODE,
    TAG_PAD, TAG_POSITION, TAG_USER,
};
use por_verifier::proof::verify_inclusion;
use por_verifier::state::{leaf_level, PositionAssigner};
use por_verifier::tree::{build, TreeParams};
use por_verifier::{Amount, Asset, Attestation, InclusionProof};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn tag(s: &str) -> Vec<u8> {
    let mut t = s.as_bytes().to_vec();
    t.resize(16, 0);
    t
}

fn u128s(v: &[u128]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn amounts(v: &[u128]) -> Vec<Amount> {
    v.iter().map(|&x| Amount(x)).collect()
}

fn vectors() -> Value {
    assert_eq!(TAG_USER.to_vec(), tag("por/v1/user"));
    assert_eq!(TAG_LEAF.to_vec(), tag("por/v1/leaf"));
    assert_eq!(TAG_NODE.to_vec(), tag("por/v1/node"));
    assert_eq!(TAG_PAD.to_vec(), tag("por/v1/pad"));
    assert_eq!(TAG_POSITION.to_vec(), tag("por/v1/position"));

    let amount_cases: Vec<Value> = [("1.5", 8), ("0.00000001", 8), ("42", 0), ("1.000000000000000001", 18), ("0", 6)]
        .iter()
        .map(|&(t, d)| json!({"text": t, "decimals": d, "units": Amount::parse_decimal(t, d).unwrap().to_string()}))
        .collect();
    let amount_errors: Vec<Value> = [("-1", 8), ("1.123456789", 8), ("1e5", 8), (".5", 8), ("", 8), ("340282366920938463463374607431768211456", 0)]
        .iter()
        .map(|&(t, d)| json!({"text": t, "decimals": d, "error": Amount::parse_decimal(t, d).unwrap_err().to_string()}))
        .collect();

    // user commitment
    let salt = [0x11u8; 32];
    let mut pre = tag("por/v1/user");
    pre.extend(5u32.to_be_bytes());
    pre.extend(b"alice");
    pre.extend(salt);
    let uc = user_commitment("alice", &salt);
    assert_eq!(uc.0, sha(&pre));
    let user_v = json!({"user_id": "alice", "salt": hex::encode(salt), "preimage": hex::encode(&pre), "hash": uc.to_hex()});

    // leaf
    let bal = [150_000_000u128, 2_000_000_000_000_000_000];
    let mut pre = tag("por/v1/leaf");
    pre.extend(uc.0);
    pre.extend(u128s(&bal));
    let lh = leaf_hash(&uc, &amounts(&bal));
    assert_eq!(lh.0, sha(&pre));
    let leaf_v = json!({"user_commitment": uc.to_hex(), "balances": bal.map(|b| b.to_string()), "preimage": hex::encode(&pre), "hash": lh.to_hex()});

    // inner node
    let (r, rs) = (por_verifier::Hash([0x22; 32]), [7u128, 0]);
    let mut pre = tag("por/v1/node");
    pre.extend(lh.0);
    pre.extend(u128s(&bal));
    pre.extend(r.0);
    pre.extend(u128s(&rs));
    let nh = node_hash(&lh, &amounts(&bal), &r, &amounts(&rs));
    assert_eq!(nh.0, sha(&pre));
    let node_v = json!({"left_hash": lh.to_hex(), "left_sums": bal.map(|b| b.to_string()), "right_hash": r.to_hex(),
        "right_sums": rs.map(|b| b.to_string()), "preimage": hex::encode(&pre), "hash": nh.to_hex(),
        "sums": [(bal[0] + rs[0]).to_string(), (bal[1] + rs[1]).to_string()]});

    // padding
    let pk = [0x33u8; 32];
    let mut pre = tag("por/v1/pad");
    pre.extend(pk);
    pre.push(3);
    pre.extend(5u64.to_be_bytes());
    let ph = padding_hash(&pk, 3, 5);
    assert_eq!(ph.0, sha(&pre));
    let pad_v = json!({"padding_key": hex::encode(pk), "level": 3, "index": 5, "preimage": hex::encode(&pre), "hash": ph.to_hex()});

    // position candidate
    let seed = [0x44u8; 32];
    let mut pre = tag("por/v1/position");
    pre.extend(seed);
    pre.extend(5u32.to_be_bytes());
    pre.extend(b"alice");
    pre.extend(2u32.to_be_bytes());
    let d = sha(&pre);
    let x = u64::from_be_bytes(d[..8].try_into().unwrap());
    assert_eq!(position_candidate(&seed, "alice", 2, 20), x >> 44);
    let pos_v = json!({"seed": hex::encode(seed), "user_id": "alice", "attempt": 2, "height": 20,
        "preimage": hex::encode(&pre), "digest": hex::encode(d), "position": x >> 44});

    // A whole tree: height 3 (8 places), 5 customers, 2 assets.
    let assets = vec![
        Asset {
            symbol: "BTC".into(),
            decimals: 8,
        },
        Asset {
            symbol: "ETH".into(),
            decimals: 18,
        },
    ];
    let customers: Vec<(&str, [u128; 2])> = vec![
        ("alice", [150_000_000, 2_000_000_000_000_000_000]),
        ("bob", [1, 0]),
        ("carol", [0, 0]),
        ("dave", [2_100_000_000_000_000, 1]),
        ("erin", [50_000_000, 123_456_789_000_000_000]),
    ];
    let mut assigner = PositionAssigner::new(seed, 3);
    let mut rows: Vec<(u64, &str, [u8; 32], [u128; 2])> = customers
        .iter()
        .enumerate()
        .map(|(i, (u, b))| (assigner.assign(u).unwrap(), *u, [i as u8 + 0xa0; 32], *b))
        .collect();
    rows.sort_by_key(|r| r.0);
    let commitments: Vec<_> = rows.iter().map(|r| user_commitment(r.1, &r.2)).collect();
    let sums: Vec<Amount> = rows.iter().flat_map(|r| amounts(&r.3)).collect();
    let level = leaf_level(rows.iter().map(|r| r.0).collect(), &commitments, sums, 2);
    let params = TreeParams {
        height: 3,
        assets: 2,
        padding_key: pk,
    };
    let targets: Vec<u64> = rows.iter().map(|r| r.0).collect();
    let built = build(&params, level, &targets, &|_| {}).unwrap();

    let key = SigningKey::from_bytes(&[0x55; 32]);
    let mut att = Attestation {
        exchange: "Vector Exchange".into(),
        period: "2026-11".into(),
        snapshot_time: "2026-11-30T23:59:59Z".into(),
        assets: assets.clone(),
        tree_height: 3,
        root_hash: built.root,
        liabilities: built.root_sums.clone(),
        reserves: None,
        public_key: [0; 32],
        signature: [0; 64],
    };
    sign(&mut att, &key);
    att.verify_signature(&key.verifying_key()).unwrap();
    let mut msg = b"por-attestation-v1\n".to_vec();
    for s in ["Vector Exchange", "2026-11", "2026-11-30T23:59:59Z"] {
        msg.extend((s.len() as u32).to_be_bytes());
        msg.extend(s.as_bytes());
    }
    msg.extend(2u32.to_be_bytes());
    for (s, d) in [("BTC", 8u8), ("ETH", 18)] {
        msg.extend((s.len() as u32).to_be_bytes());
        msg.extend(s.as_bytes());
        msg.push(d);
    }
    msg.push(3);
    msg.extend(built.root.0);
    msg.extend(u128s(&[built.root_sums[0].0, built.root_sums[1].0]));
    msg.push(0);
    assert_eq!(att.signing_message(), msg);

    let proofs: Vec<Value> = rows
        .iter()
        .zip(&built.paths)
        .map(|(r, path)| {
            let p = InclusionProof {
                exchange: att.exchange.clone(),
                period: att.period.clone(),
                user_id: r.1.into(),
                salt: r.2,
                position: r.0,
                balances: amounts(&r.3),
                path: path.clone(),
            };
            verify_inclusion(&att, &p, r.1).unwrap();
            serde_json::from_str(&p.to_json()).unwrap()
        })
        .collect();
    let leaves: Vec<Value> = rows
        .iter()
        .zip(&commitments)
        .map(|(r, c)| json!({"position": r.0, "user_id": r.1, "salt": hex::encode(r.2), "balances": r.3.map(|b| b.to_string()), "user_commitment": c.to_hex()}))
        .collect();

    // Reserves: a challenge and an attestation with a reserves section.
    let chain = por_verifier::reserves::Chain::parse("bitcoin").unwrap();
    let challenge = por_verifier::reserves::challenge(
        &att.exchange,
        &att.period,
        &chain,
        870_000,
        &att.root_hash,
    );
    assert_eq!(
        challenge,
        format!(
            "Proof of reserves challenge v1\nExchange: Vector Exchange\nPeriod: 2026-11\nChain: bitcoin\nSnapshot height: 870000\nLiabilities root: {}",
            att.root_hash
        )
    );
    let btc_key = por_e2e::signers::BtcKey::from_seed(0x66, bitcoin::Network::Bitcoin);
    let eth_key = por_e2e::signers::EthKey::from_seed(0x77);
    let eth_challenge = por_verifier::reserves::challenge(
        &att.exchange,
        &att.period,
        &por_verifier::reserves::Chain::Ethereum(1),
        21_000_000,
        &att.root_hash,
    );
    let txid = "11".repeat(32);
    let reserves_json = json!({"format": "por-reserves-v1", "entries": [
        {"asset": "BTC", "chain": "bitcoin", "height": 870000, "address": btc_key.p2wpkh().to_string(),
         "balance": "2.00000000", "utxos": [{"outpoint": format!("{txid}:1"), "value": "2.00000000"}],
         "signatures": [btc_key.sign_compact(&challenge, 39)]},
        {"asset": "ETH", "chain": "ethereum", "height": 21000000, "address": eth_key.address(),
         "balance": "3.000000000000000000", "signatures": [eth_key.personal_sign(eth_challenge.as_bytes())]},
    ]});
    let mut with_reserves = att.clone();
    with_reserves.reserves = Some(
        por_verifier::reserves::Reserves::from_json_value(reserves_json.clone(), &assets).unwrap(),
    );
    sign(&mut with_reserves, &key);
    let mut rmsg = msg[..msg.len() - 1].to_vec();
    rmsg.push(1);
    rmsg.extend(2u32.to_be_bytes());
    let put = |m: &mut Vec<u8>, s: &str| {
        m.extend((s.len() as u32).to_be_bytes());
        m.extend(s.as_bytes());
    };
    let e0 = &reserves_json["entries"][0];
    for f in ["BTC", "bitcoin"] {
        put(&mut rmsg, f);
    }
    rmsg.extend(870_000u64.to_be_bytes());
    put(&mut rmsg, e0["address"].as_str().unwrap());
    put(&mut rmsg, "");
    rmsg.extend(200_000_000u128.to_be_bytes());
    rmsg.extend(1u32.to_be_bytes());
    put(&mut rmsg, &txid);
    rmsg.extend(1u32.to_be_bytes());
    rmsg.extend(200_000_000u128.to_be_bytes());
    rmsg.extend(0u32.to_be_bytes());
    rmsg.extend(1u32.to_be_bytes());
    put(&mut rmsg, e0["signatures"][0].as_str().unwrap());
    let e1 = &reserves_json["entries"][1];
    for f in ["ETH", "ethereum"] {
        put(&mut rmsg, f);
    }
    rmsg.extend(21_000_000u64.to_be_bytes());
    put(&mut rmsg, e1["address"].as_str().unwrap());
    put(&mut rmsg, "");
    rmsg.extend(3_000_000_000_000_000_000u128.to_be_bytes());
    rmsg.extend(0u32.to_be_bytes());
    rmsg.extend(0u32.to_be_bytes());
    rmsg.extend(1u32.to_be_bytes());
    put(&mut rmsg, e1["signatures"][0].as_str().unwrap());
    assert_eq!(with_reserves.signing_message(), rmsg);
    let status = por_verifier::reserves::verify_offline(
        &with_reserves.exchange,
        &with_reserves.period,
        &with_reserves.root_hash,
        with_reserves.reserves.as_ref().unwrap(),
    );
    assert!(status.iter().all(|s| s.offline.is_ok()), "{status:?}");

    json!({
        "description": "Test vectors for spec/ (format version 1). Generated by tests/spec_vectors.rs and checked by it.",
        "amounts": {"valid": amount_cases, "invalid": amount_errors},
        "user_commitment": user_v,
        "leaf": leaf_v,
        "node": node_v,
        "padding": pad_v,
        "position_candidate": pos_v,
        "tree": {
            "height": 3,
            "assets": assets,
            "padding_key": hex::encode(pk),
            "position_seed": hex::encode(seed),
            "customers_in_export_order": customers.iter().map(|c| c.0).collect::<Vec<_>>(),
            "leaves": leaves,
            "root_hash": built.root.to_hex(),
            "root_sums": built.root_sums.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "proofs": proofs,
        },
        "attestation": {
            "signing_key_seed": hex::encode([0x55u8; 32]),
            "signing_message": hex::encode(&msg),
            "json": serde_json::from_str::<Value>(&att.to_json()).unwrap(),
        },
        "reserves": {
            "challenge_bitcoin_870000": challenge,
            "challenge_ethereum_21000000": eth_challenge,
            "signing_message": hex::encode(&rmsg),
            "attestation_json": serde_json::from_str::<Value>(&with_reserves.to_json()).unwrap(),
        },
    })
}

#[test]
fn spec_vectors_match_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors/core.json");
    let computed = vectors();
    let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
    if std::env::var_os("POR_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let stored: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("spec/vectors/core.json"))
            .expect("valid JSON");
    assert_eq!(
        stored, computed,
        "spec/vectors/core.json differs from the code; see this file's header"
    );
}

/// The committed attestation vector verifies with the committed key, and a proof from it
/// verifies: a second implementation can start from these files alone.
#[test]
fn stored_vectors_verify() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors/core.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let att =
        Attestation::from_json("vector", v["attestation"]["json"].to_string().as_bytes()).unwrap();
    let seed: [u8; 32] = hex::decode(v["attestation"]["signing_key_seed"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    att.verify_signature(&SigningKey::from_bytes(&seed).verifying_key())
        .unwrap();
    for p in v["tree"]["proofs"].as_array().unwrap() {
        let proof = InclusionProof::from_json("vector", p.to_string().as_bytes()).unwrap();
        verify_inclusion(&att, &proof, &proof.user_id).unwrap();
    }
    let with_reserves = Attestation::from_json(
        "vector",
        v["reserves"]["attestation_json"].to_string().as_bytes(),
    )
    .unwrap();
    with_reserves
        .verify_signature(&SigningKey::from_bytes(&seed).verifying_key())
        .unwrap();
    assert_eq!(
        hex::encode(with_reserves.signing_message()),
        v["reserves"]["signing_message"].as_str().unwrap()
    );
}
