//! The spec's test vectors (spec/vectors/core.json) are what this code computes.
//!
//! Each hash's preimage is assembled here byte by byte from the spec's description, not with
//! the library's encoder, and hashed with plain SHA-256; the library must agree. Then the
//! whole vector file is compared with the committed one. To regenerate it after a deliberate
//! format change: `POR_BLESS=1 cargo test --test spec_vectors -- --test-threads=1`.

use ed25519_dalek::{Signer, SigningKey};
use por_prover::build::sign;
use por_verifier::binding::{convert, Binding};
use por_verifier::chains::Chain;
use por_verifier::hash::Hash;
use por_verifier::hash::{
    leaf_hash, node_hash, padding_hash, position_candidate, user_commitment, TAG_LEAF, TAG_NODE,
    TAG_PAD, TAG_POSITION, TAG_USER,
};
use por_verifier::proof::verify_inclusion;
use por_verifier::registry::Registry;
use por_verifier::reserves::ReservesStatement;
use por_verifier::state::{leaf_level, PositionAssigner};
use por_verifier::tree::{build, TreeParams};
use por_verifier::verdict::{evaluate, Options};
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
    let binding = |asset: &str, chain: &str, token: Option<&str>, decimals: u8| Binding {
        asset: asset.into(),
        chain: chain.into(),
        token: token.map(String::from),
        decimals,
    };
    let mut att = Attestation {
        exchange: "Vector Exchange".into(),
        period: "2026-11".into(),
        snapshot_time: "2026-11-30T23:59:59Z".into(),
        assets: assets.clone(),
        tree_height: 3,
        root_hash: built.root,
        liabilities: built.root_sums.clone(),
        bindings: vec![
            binding("BTC", "bitcoin", None, 8),
            binding("ETH", "ethereum", None, 18),
        ],
        history: por_verifier::history::HistoryLink::first(None),
        rotation: None,
        hidden: None,
        public_key: [0; 32],
        signature: [0; 64],
    };
    sign(&mut att, &key).unwrap();
    att.verify_signature(&key.verifying_key()).unwrap();
    let put = |m: &mut Vec<u8>, s: &str| {
        m.extend((s.len() as u32).to_be_bytes());
        m.extend(s.as_bytes());
    };
    let mut msg = Vec::new();
    for s in [
        "por-attestation-v3",
        "Vector Exchange",
        "2026-11",
        "2026-11-30T23:59:59Z",
    ] {
        put(&mut msg, s);
    }
    msg.extend(key.verifying_key().to_bytes()); // the signer, in the signed bytes
    msg.extend(3u32.to_be_bytes()); // three sections
    let mut liab = Vec::new();
    liab.extend(2u32.to_be_bytes());
    for (s, d) in [("BTC", 8u8), ("ETH", 18)] {
        put(&mut liab, s);
        liab.push(d);
    }
    liab.push(3);
    liab.extend(built.root.0);
    liab.extend(u128s(&[built.root_sums[0].0, built.root_sums[1].0]));
    msg.extend(1u16.to_be_bytes());
    msg.extend((liab.len() as u32).to_be_bytes());
    msg.extend(&liab);
    let mut bind = Vec::new();
    bind.extend(2u32.to_be_bytes());
    for (a, c, d) in [("BTC", "bitcoin", 8u8), ("ETH", "ethereum", 18)] {
        put(&mut bind, a);
        put(&mut bind, c);
        bind.push(0); // no token
        bind.push(d);
    }
    msg.extend(2u16.to_be_bytes());
    msg.extend((bind.len() as u32).to_be_bytes());
    msg.extend(&bind);
    // Section 3, the history link of a first attestation without an anchor: no previous
    // attestation, an empty log (size 0, root of 32 zero bytes), no genesis, no restart.
    let link = [&[0u8][..], &0u64.to_be_bytes(), &[0u8; 32], &[0u8], &[0u8]].concat();
    msg.extend(3u16.to_be_bytes());
    msg.extend((link.len() as u32).to_be_bytes());
    msg.extend(&link);
    assert_eq!(att.signing_message(), msg);
    let digest = Hash(sha(&msg));
    assert_eq!(att.digest(), digest);

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

    // Reserves: the challenges and a signed statement citing the attestation.
    let chain = Chain::parse("bitcoin").unwrap();
    let challenge =
        por_verifier::reserves::challenge(&att.exchange, &att.period, &chain, 870_000, &digest);
    assert_eq!(
        challenge,
        format!(
            "Proof of reserves challenge v2\nExchange: Vector Exchange\nPeriod: 2026-11\nChain: bitcoin\nSnapshot height: 870000\nAttestation: {digest}"
        )
    );
    let btc_key = por_e2e::signers::BtcKey::from_seed(0x66, bitcoin::Network::Bitcoin);
    let eth_key = por_e2e::signers::EthKey::from_seed(0x77);
    let eth_challenge = por_verifier::reserves::challenge(
        &att.exchange,
        &att.period,
        &Chain::Evm(1),
        21_000_000,
        &digest,
    );
    let txid = "11".repeat(32);
    let entries_json = json!([
        {"asset": "BTC", "chain": "bitcoin", "height": 870000, "address": btc_key.p2wpkh().to_string(),
         "balance": "200000000", "utxos": [{"outpoint": format!("{txid}:1"), "value": "200000000"}],
         "signatures": [btc_key.sign_compact(&challenge, 39)]},
        {"asset": "ETH", "chain": "ethereum", "height": 21000000, "address": eth_key.address(),
         "balance": "3000000000000000000", "signatures": [eth_key.personal_sign(eth_challenge.as_bytes())]},
    ]);
    let mut stmt = ReservesStatement {
        exchange: att.exchange.clone(),
        period: att.period.clone(),
        attestation: digest,
        sequence: 1,
        entries: serde_json::from_value(entries_json.clone()).unwrap(),
        public_key: key.verifying_key().to_bytes(),
        signature: [0; 64],
    };
    stmt.signature = key.sign(&stmt.signing_message()).to_bytes();
    let mut rmsg = Vec::new();
    for s in ["por-reserves-v3", "Vector Exchange", "2026-11"] {
        put(&mut rmsg, s);
    }
    rmsg.extend(digest.0);
    rmsg.extend(key.verifying_key().to_bytes()); // the signer
    rmsg.extend(1u32.to_be_bytes()); // sequence
    rmsg.extend(1u32.to_be_bytes()); // one section
    let mut body = Vec::new();
    body.extend(2u32.to_be_bytes());
    let e0 = &entries_json[0];
    put(&mut body, "BTC");
    put(&mut body, "bitcoin");
    body.extend(870_000u64.to_be_bytes());
    put(&mut body, e0["address"].as_str().unwrap());
    body.push(0); // no token
    put(&mut body, "200000000");
    body.extend(1u32.to_be_bytes());
    put(&mut body, &format!("{txid}:1"));
    put(&mut body, "200000000");
    body.push(0); // no script
    body.extend(1u32.to_be_bytes());
    put(&mut body, e0["signatures"][0].as_str().unwrap());
    let e1 = &entries_json[1];
    put(&mut body, "ETH");
    put(&mut body, "ethereum");
    body.extend(21_000_000u64.to_be_bytes());
    put(&mut body, e1["address"].as_str().unwrap());
    body.push(0);
    put(&mut body, "3000000000000000000");
    body.extend(0u32.to_be_bytes());
    body.push(0);
    body.extend(1u32.to_be_bytes());
    put(&mut body, e1["signatures"][0].as_str().unwrap());
    rmsg.extend(1u16.to_be_bytes());
    rmsg.extend((body.len() as u32).to_be_bytes());
    rmsg.extend(&body);
    assert_eq!(stmt.signing_message(), rmsg);
    let v = evaluate(
        &att,
        &stmt,
        &key.verifying_key(),
        &Options {
            offline: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(v.failures().is_empty(), "{:?}", v.failures());

    // The same statement with declared custody labels: section 2 follows section 1.
    let mut labelled = stmt.clone();
    labelled.entries[0].storage = Some("cold".into());
    labelled.entries[0].custodian = Some("Vector Custody".into());
    labelled.entries[1].storage = Some("hot".into());
    labelled.signature = key.sign(&labelled.signing_message()).to_bytes();
    let mut lmsg = rmsg.clone();
    let sections_at = 4 + 15 + 4 + 15 + 4 + 7 + 32 + 32 + 4;
    lmsg[sections_at..sections_at + 4].copy_from_slice(&2u32.to_be_bytes());
    let mut labels = Vec::new();
    labels.extend(2u32.to_be_bytes());
    labels.push(1);
    put(&mut labels, "cold");
    labels.push(1);
    put(&mut labels, "Vector Custody");
    labels.push(1);
    put(&mut labels, "hot");
    labels.push(0);
    lmsg.extend(2u16.to_be_bytes());
    lmsg.extend((labels.len() as u32).to_be_bytes());
    lmsg.extend(&labels);
    assert_eq!(labelled.signing_message(), lmsg);

    // A Safe: the hash its owners sign for the Ethereum challenge, per release, and a statement
    // with a Safe entry (section 3, the wallets, after section 1).
    let safe_addr =
        por_verifier::evm::EthAddress::parse("0x5afe000000000000000000000000000000000001").unwrap();
    let safe_message = por_verifier::safe::challenge_message(eth_challenge.as_bytes());
    let safe_hashes: Vec<Value> = por_verifier::safe::SafeVersion::ALL
        .iter()
        .map(|&v| {
            json!({
                "wallet": v.wallet(),
                "chain_id": 1,
                "safe": safe_addr.to_string(),
                "domain_separator": hex::encode(por_verifier::safe::domain_separator(v, 1, &safe_addr)),
                "message_hash": hex::encode(por_verifier::safe::message_hash(v, 1, &safe_addr, &safe_message)),
            })
        })
        .collect();
    let owner_keys = [
        por_e2e::signers::EthKey::from_seed(0x61),
        por_e2e::signers::EthKey::from_seed(0x62),
    ];
    let h141 = por_verifier::safe::message_hash(
        por_verifier::safe::SafeVersion::V1_4_1,
        1,
        &safe_addr,
        &safe_message,
    );
    let eth_signed_h141: [u8; 32] = {
        use sha3::Digest;
        let mut k = sha3::Keccak256::new();
        k.update(b"\x19Ethereum Signed Message:\n32");
        k.update(h141);
        k.finalize().into()
    };
    let owner_sigs = vec![
        owner_keys[0].sign_digest(h141, 27),
        owner_keys[1].sign_digest(eth_signed_h141, 31),
    ];
    let recovered = por_verifier::reserves::safe::owner_signatures(
        por_verifier::safe::SafeVersion::V1_4_1,
        1,
        &safe_addr,
        &eth_challenge,
        &owner_sigs,
    )
    .unwrap();
    for (r, k) in recovered.iter().zip(&owner_keys) {
        assert_eq!(format!("0x{}", hex::encode(r.owner.0)), k.address());
    }
    let mut with_safe = stmt.clone();
    with_safe.entries.push(por_verifier::reserves::RawEntry {
        asset: "ETH".into(),
        chain: "ethereum".into(),
        height: 21_000_000,
        address: safe_addr.to_string(),
        token: None,
        balance: "1000000000000000000".into(),
        utxos: Vec::new(),
        script: None,
        signatures: owner_sigs.clone(),
        storage: None,
        custodian: None,
        wallet: Some("safe-1.4.1".into()),
    });
    with_safe.signature = key.sign(&with_safe.signing_message()).to_bytes();
    // Section 3 follows section 1; the wallets list has one opt() per entry.
    let smsg = with_safe.signing_message();
    let mut wallets = Vec::new();
    wallets.extend(3u32.to_be_bytes());
    wallets.push(0);
    wallets.push(0);
    wallets.push(1);
    put(&mut wallets, "safe-1.4.1");
    assert!(smsg.ends_with(&wallets));
    let tail = smsg.len() - wallets.len();
    assert_eq!(&smsg[tail - 6..tail - 4], &3u16.to_be_bytes());
    assert_eq!(&smsg[tail - 4..tail], &(wallets.len() as u32).to_be_bytes());
    let sections_at = 4 + 15 + 4 + 15 + 4 + 7 + 32 + 32 + 4;
    assert_eq!(&smsg[sections_at..sections_at + 4], &2u32.to_be_bytes());

    // TRON and Solana: the challenges, a TIP-191 signature by a seeded key, and a Solana key's
    // signatures over the challenge and over its off-chain envelope.
    let tron_challenge = por_verifier::reserves::challenge(
        &att.exchange,
        &att.period,
        &Chain::Tron,
        70_000_000,
        &digest,
    );
    let sol_challenge = por_verifier::reserves::challenge(
        &att.exchange,
        &att.period,
        &Chain::Solana,
        300_000_000,
        &digest,
    );
    let tron_key = por_e2e::signers::EthKey::from_seed(0x71);
    let tron_address = por_verifier::tron::TronAddress::of_uncompressed_key(
        &tron_key
            .sk
            .public_key(&bitcoin::secp256k1::Secp256k1::new())
            .serialize_uncompressed(),
    );
    let tron_hash = por_verifier::tron::message_hash_v2(tron_challenge.as_bytes());
    let tron_sig = tron_key.sign_digest(tron_hash, 27);
    assert_eq!(
        por_verifier::reserves::tron::verify(
            &tron_address.to_string(),
            tron_challenge.as_bytes(),
            &tron_sig
        ),
        Ok("TIP-191 signMessageV2".to_string())
    );
    let sol_key = SigningKey::from_bytes(&[0x72; 32]);
    let sol_address =
        por_verifier::solana::SolanaKey::from_bytes(sol_key.verifying_key().to_bytes());
    let sol_envelope = por_verifier::solana::offchain_envelope(sol_challenge.as_bytes()).unwrap();
    let sol_plain = hex::encode(sol_key.sign(sol_challenge.as_bytes()).to_bytes());
    let sol_offchain = hex::encode(sol_key.sign(&sol_envelope).to_bytes());
    for sig in [&sol_plain, &sol_offchain] {
        assert!(por_verifier::reserves::solana::verify(
            &sol_address.to_string(),
            sol_challenge.as_bytes(),
            sig
        )
        .is_ok());
    }

    // The Bitcoin forks: each fork's challenge, its message hash, and a seeded key's compact
    // signature for its P2PKH address.
    let fork_key = por_e2e::signers::BtcKey::from_seed(0x73, bitcoin::Network::Bitcoin);
    let forks_json: Vec<Value> = por_verifier::chains::Fork::ALL
        .iter()
        .map(|&f| {
            let ch = por_verifier::reserves::challenge(
                &att.exchange,
                &att.period,
                &Chain::BitcoinFork(f),
                1_000_000,
                &digest,
            );
            let h = por_verifier::reserves::forks::message_hash(f, ch.as_bytes());
            let sig = fork_key.sign_compact_digest(h, 31);
            let version = match f {
                por_verifier::chains::Fork::Litecoin => 0x30,
                por_verifier::chains::Fork::Dogecoin => 0x1e,
                por_verifier::chains::Fork::BitcoinCash => 0x00,
                por_verifier::chains::Fork::Monacoin => 50,
            };
            let mut b = vec![version];
            b.extend_from_slice(fork_key.public().pubkey_hash().as_ref());
            let address = bitcoin::base58::encode_check(&b);
            assert!(por_verifier::reserves::forks::verify(f, &address, &ch, &sig).is_ok());
            json!({"chain": f.name(), "challenge_1000000": ch, "message_hash": hex::encode(h),
                   "p2pkh_address": address, "signature": sig})
        })
        .collect();

    // Custody classes, one holding of each kind.
    let ck: Vec<por_e2e::signers::BtcKey> = (0x80..0x83)
        .map(|s| por_e2e::signers::BtcKey::from_seed(s, bitcoin::Network::Bitcoin))
        .collect();
    let ms = por_e2e::signers::multisig_script(2, &[&ck[0], &ck[1], &ck[2]]);
    let holdings = [
        (btc_key.p2wpkh().to_string(), None),
        (btc_key.p2sh_p2wpkh().to_string(), None),
        (btc_key.p2pkh().to_string(), None),
        (btc_key.p2tr().to_string(), None),
        (
            bitcoin::Address::p2wsh(&ms, bitcoin::Network::Bitcoin).to_string(),
            Some(ms.to_hex_string()),
        ),
        (
            bitcoin::Address::p2wsh(&ms, bitcoin::Network::Bitcoin).to_string(),
            None,
        ),
    ];
    let mut custody: Vec<Value> = holdings
        .iter()
        .map(|(address, script)| {
            let raw = por_verifier::reserves::RawEntry {
                asset: "BTC".into(),
                chain: "bitcoin".into(),
                height: 870_000,
                address: address.clone(),
                token: None,
                balance: "1".into(),
                utxos: vec![por_verifier::reserves::RawUtxo {
                    outpoint: format!("{txid}:0"),
                    value: "1".into(),
                }],
                script: script.clone(),
                signatures: vec![btc_key.sign_compact(&challenge, 31)],
                storage: None,
                custodian: None,
                wallet: None,
            };
            let e = por_verifier::reserves::holding::Entry::parse(&raw).unwrap();
            let (control, keys) =
                por_verifier::custody::classify(&e, &challenge, &raw.signatures, None);
            json!({"address": address, "script": script, "control": control.words(), "keys": keys})
        })
        .collect();
    let eth_raw: por_verifier::reserves::RawEntry =
        serde_json::from_value(entries_json[1].clone()).unwrap();
    let eth_entry = por_verifier::reserves::holding::Entry::parse(&eth_raw).unwrap();
    let (control, keys) =
        por_verifier::custody::classify(&eth_entry, &eth_challenge, &eth_raw.signatures, None);
    custody.push(json!({"address": eth_raw.address, "chain": "ethereum", "control": control.words(), "keys": keys}));
    assert_eq!(custody[0]["control"], "single key");
    assert_eq!(
        custody[0]["keys"], custody[1]["keys"],
        "one key in two address forms is one key"
    );
    assert_eq!(custody[4]["control"], "2-of-3 multisig");

    // History: the log over three statements, byte by byte; a second month's link; a key
    // rotation; an anchor payload and its OP_RETURN script.
    let tagged = |tag: &str, kind: u8, d: &[u8; 32]| {
        let mut m = Vec::new();
        put(&mut m, tag);
        m.push(kind);
        m.extend(d);
        sha(&m)
    };
    let node = |l: &[u8; 32], r: &[u8; 32]| {
        let mut m = Vec::new();
        put(&mut m, "por-log-node-v1");
        m.extend(l);
        m.extend(r);
        sha(&m)
    };
    let stmt_digest = sha(&stmt.signing_message());
    let later = [0x42u8; 32];
    let log_leaves = [
        tagged("por-log-leaf-v1", 1, &digest.0),
        tagged("por-log-leaf-v1", 2, &stmt_digest),
        tagged("por-log-leaf-v1", 1, &later),
    ];
    // A history with a genesis: every attestation of it signs the outpoint (txid as written,
    // then u32be(vout)).
    let genesis_text = format!("{}:1", "77".repeat(32));
    let genesis = por_verifier::outpoint::Outpoint::parse(&genesis_text).unwrap();
    let mut h = por_verifier::history::History::new("Vector Exchange", Some(genesis));
    let vk = key.verifying_key().to_bytes();
    h.append(
        por_verifier::history::Kind::Attestation,
        "2026-11",
        &digest,
        &vk,
    );
    h.append(
        por_verifier::history::Kind::Reserves,
        "2026-11",
        &Hash(stmt_digest),
        &vk,
    )
    .sequence = Some(1);
    h.append(
        por_verifier::history::Kind::Attestation,
        "2026-12",
        &Hash(later),
        &vk,
    );
    assert_eq!(
        h.root_at(1),
        Hash(log_leaves[0]),
        "one leaf is its own root"
    );
    assert_eq!(h.root_at(2), Hash(node(&log_leaves[0], &log_leaves[1])));
    // Three leaves: the third has no sibling and is promoted unchanged.
    assert_eq!(
        h.root_at(3),
        Hash(node(&node(&log_leaves[0], &log_leaves[1]), &log_leaves[2]))
    );
    let link = h.link(None);
    let mut link_bytes = Vec::new();
    link.encode(&mut link_bytes);
    let want_link = [
        &[1u8][..],
        &later,
        &3u64.to_be_bytes(),
        &h.root_at(3).0,
        &[1u8],
        &[0x77u8; 32],
        &1u32.to_be_bytes(),
        &[0u8],
    ]
    .concat();
    assert_eq!(link_bytes, want_link);
    let rot_key = SigningKey::from_bytes(&[0x66; 32]);
    let mut rot_msg = Vec::new();
    put(&mut rot_msg, "por-key-rotation-v1");
    put(&mut rot_msg, "Vector Exchange");
    put(&mut rot_msg, "2027-01");
    rot_msg.extend(rot_key.verifying_key().to_bytes());
    assert_eq!(
        por_verifier::history::rotation_message(
            "Vector Exchange",
            "2027-01",
            &rot_key.verifying_key().to_bytes()
        ),
        rot_msg
    );
    let rotation_sig = key.sign(&rot_msg).to_bytes();
    let payload = por_verifier::history::anchor_payload(3, &h.root_at(3));
    assert_eq!(
        payload,
        [&b"POR\x01"[..], &3u64.to_be_bytes(), &h.root_at(3).0].concat()
    );
    let op_return = bitcoin::ScriptBuf::new_op_return(
        <&bitcoin::script::PushBytes>::try_from(payload.as_slice()).unwrap(),
    );
    assert_eq!(&op_return.as_bytes()[..2], &[0x6a, 44]);

    let registry: Vec<Value> = Registry::built_in()
        .entries()
        .iter()
        .map(|e| json!({"chain": e.location.to_string(), "token": e.token, "symbol": e.symbol, "decimals": e.decimals,
                        "issuance": e.issuance.name()}))
        .collect();
    let conversions: Vec<Value> = [
        (1_999_999_999_999_999_999u128, 18u8, 6u8),
        (1450, 8, 2),
        (5, 6, 18),
        (123_456_789, 8, 8),
    ]
    .iter()
    .map(|&(v, from, to)| {
        json!({"amount": v.to_string(), "chain_decimals": from, "asset_decimals": to,
                                      "result": convert(Amount(v), from, to).unwrap().to_string()})
    })
    .collect();
    let chains_ok = [
        "bitcoin",
        "bitcoin-testnet",
        "bitcoin-testnet4",
        "bitcoin-signet",
        "bitcoin-regtest",
        "ethereum",
        "ethereum-56",
        "tron",
        "solana",
        "off-chain",
    ];
    let chains_bad = [
        "ethereum-1",
        "ethereum-0",
        "ethereum-056",
        "Bitcoin",
        "ethereum-",
        "ethereum-18446744073709551616",
    ];
    for c in chains_ok {
        assert!(por_verifier::chains::Location::parse(c).is_ok(), "{c}");
    }
    for c in chains_bad {
        assert!(por_verifier::chains::Location::parse(c).is_err(), "{c}");
    }

    json!({
        "description": "Test vectors for spec/ (tree version 1, attestation and reserves version 2). Generated by tests/spec_vectors.rs and checked by it.",
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
            "digest": digest.to_hex(),
            "json": serde_json::from_str::<Value>(&att.to_json()).unwrap(),
        },
        "reserves": {
            "challenge_bitcoin_870000": challenge,
            "challenge_ethereum_21000000": eth_challenge,
            "signing_message": hex::encode(&rmsg),
            "statement_json": serde_json::from_str::<Value>(&stmt.to_json()).unwrap(),
            "labelled_signing_message": hex::encode(&lmsg),
            "labelled_statement_json": serde_json::from_str::<Value>(&labelled.to_json()).unwrap(),
        },
        "bitcoin_forks": {
            "key_seed": hex::encode(fork_key.sk.inner.secret_bytes()),
            "chains": forks_json,
        },
        "tron_solana": {
            "challenge_tron_70000000": tron_challenge,
            "challenge_solana_300000000": sol_challenge,
            "tron_key_seed": hex::encode(tron_key.sk.secret_bytes()),
            "tron_address": tron_address.to_string(),
            "tron_address_hex": tron_address.to_hex(),
            "tron_message_hash_v2": hex::encode(tron_hash),
            "tron_signature": tron_sig,
            "solana_key_seed": hex::encode([0x72u8; 32]),
            "solana_address": sol_address.to_string(),
            "solana_offchain_envelope": hex::encode(&sol_envelope),
            "solana_signature_plain": sol_plain,
            "solana_signature_offchain": sol_offchain,
        },
        "safe": {
            "challenge_message": hex::encode(safe_message),
            "message_hashes": safe_hashes,
            "owner_key_seeds": owner_keys.iter().map(|k| hex::encode(k.sk.secret_bytes())).collect::<Vec<_>>(),
            "owners": owner_keys.iter().map(|k| k.address()).collect::<Vec<_>>(),
            "owner_signatures_1_4_1": owner_sigs,
            "signing_message": hex::encode(&smsg),
            "statement_json": serde_json::from_str::<Value>(&with_safe.to_json()).unwrap(),
        },
        "custody": custody,
        "history": {
            "log_leaves": log_leaves.iter().map(hex::encode).collect::<Vec<_>>(),
            "roots": (0..=3).map(|n| h.root_at(n).to_hex()).collect::<Vec<_>>(),
            "history_json": serde_json::from_str::<Value>(&h.to_json()).unwrap(),
            "genesis": genesis_text,
            "next_link_section": hex::encode(&link_bytes),
            "rotation": {"old_key_seed": hex::encode([0x55u8; 32]), "new_key_seed": hex::encode([0x66u8; 32]),
                         "message": hex::encode(&rot_msg), "signature": hex::encode(rotation_sig)},
            "anchor_payload": hex::encode(&payload),
            "anchor_script": op_return.to_hex_string(),
            "fingerprint_of_attestation": por_verifier::history::fingerprint(&digest),
        },
        "chains": {"valid": chains_ok, "invalid": chains_bad},
        "unit_conversions": conversions,
        "registry_built_in": registry,
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
    assert_eq!(
        att.digest().to_hex(),
        v["attestation"]["digest"].as_str().unwrap()
    );
    let stmt = ReservesStatement::from_json(
        "vector",
        v["reserves"]["statement_json"].to_string().as_bytes(),
    )
    .unwrap();
    stmt.verify(&att, &SigningKey::from_bytes(&seed).verifying_key())
        .unwrap();
    assert_eq!(
        hex::encode(stmt.signing_message()),
        v["reserves"]["signing_message"].as_str().unwrap()
    );
}

/// spec/vectors/hidden.json (spec/hidden.md): the generators, a commitment, one leaf, one
/// padding node and their parent, each hash assembled here byte by byte from the spec; a range
/// proof; and spec/vectors/hidden-proof.json: a whole hidden-sums month (attestation, key, one
/// customer's proof). Range proofs draw fresh randomness, so their bytes are checked by
/// verifying, against the stored commitments and against changed ones. To regenerate after a
/// deliberate change: `POR_BLESS=1 cargo test --test spec_vectors hidden`.
mod hidden {
    use super::{sha, tag};
    use ed25519_dalek::SigningKey;
    use merlin::Transcript;
    use por_hidden::encoding::{decode_point, point_bytes, scalar_bytes};
    use por_hidden::generators::{hash_to_point, Generators, DOMAIN};
    use por_hidden::range::{prove, verify, RangeProof};
    use por_hidden::Scalar;
    use por_verifier::hidden::HiddenProof;
    use por_verifier::hidden_tree::{Opening, Openings};
    use por_verifier::proof::{verify_proof, Proof};
    use por_verifier::tree::{build_visiting_with, LeafRow, TreeParams};
    use por_verifier::{Amount, Asset, Attestation};
    use serde_json::{json, Value};
    use sha2::{Digest, Sha512};

    fn hex(b: &[u8]) -> String {
        hex::encode(b)
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors")
    }

    /// `blinding(K, level, index, a)` from the spec: SHA-512, little-endian, modulo r.
    fn blinding(key: &[u8; 32], level: u8, index: u64, asset: u16) -> Scalar {
        use ark_ff::PrimeField;
        let mut m = tag("por/v1/blind");
        m.extend_from_slice(key);
        m.push(level);
        m.extend_from_slice(&index.to_be_bytes());
        m.extend_from_slice(&asset.to_be_bytes());
        Scalar::from_le_bytes_mod_order(&Sha512::digest(&m))
    }

    fn computed() -> Value {
        let gens = Generators::get();
        let first = |label: &[u8]| -> Vec<String> {
            (0..4)
                .map(|i| hex(&point_bytes(&hash_to_point(label, i))))
                .collect()
        };
        let commit = |v: u128, r: Scalar| point_bytes(&gens.commit(Scalar::from(v), r));
        let key = [0x11u8; 32];
        let uc = [0x22u8; 32];
        let pad_hash = [0x33u8; 32];
        let balances = [150_000_000u128, 2];
        let leaf_blind: Vec<Scalar> = (0..2).map(|a| blinding(&key, 0, 6, a)).collect();
        let pad_blind: Vec<Scalar> = (0..2).map(|a| blinding(&key, 0, 7, a)).collect();
        let leaf_c: Vec<[u8; 32]> = (0..2).map(|a| commit(balances[a], leaf_blind[a])).collect();
        let pad_c: Vec<[u8; 32]> = (0..2).map(|a| commit(0, pad_blind[a])).collect();
        let mut m = tag("por/v1/hleaf");
        m.extend_from_slice(&uc);
        leaf_c.iter().for_each(|c| m.extend_from_slice(c));
        let leaf_hash = sha(&m);
        let mut m = tag("por/v1/hnode");
        m.extend_from_slice(&leaf_hash);
        leaf_c.iter().for_each(|c| m.extend_from_slice(c));
        m.extend_from_slice(&pad_hash);
        pad_c.iter().for_each(|c| m.extend_from_slice(c));
        let parent_hash = sha(&m);
        let parent_blind: Vec<Scalar> = (0..2).map(|a| leaf_blind[a] + pad_blind[a]).collect();
        let parent_c: Vec<[u8; 32]> = (0..2)
            .map(|a| commit(balances[a], parent_blind[a]))
            .collect();
        let node = |hash: &[u8; 32], cs: &[[u8; 32]], bs: &[Scalar]| {
            json!({
                "hash": hex(hash),
                "commitments": cs.iter().map(|c| hex(c)).collect::<Vec<_>>(),
                "blindings": bs.iter().map(|b| hex(&scalar_bytes(b))).collect::<Vec<_>>(),
            })
        };
        // The library agrees with the bytes assembled here.
        let lib = por_hidden::node::leaf(gens, &key, 6, &uc, &balances);
        assert_eq!(lib.node.hash, leaf_hash);
        let lib_pad = por_hidden::node::padding(gens, &key, pad_hash, 0, 7, 2);
        let lib_parent = por_hidden::node::parent(&lib, &lib_pad).unwrap();
        assert_eq!(lib_parent.node.hash, parent_hash);
        json!({
            "domain": String::from_utf8_lossy(DOMAIN),
            "G": hex(&point_bytes(&gens.g)),
            "H": hex(&point_bytes(&gens.h)),
            "G_vec[0..4]": first(b"G_vec"),
            "H_vec[0..4]": first(b"H_vec"),
            "commitment": {
                "value": "150000000", "blinding": hex(&scalar_bytes(&Scalar::from(42u64))),
                "C": hex(&commit(150_000_000, Scalar::from(42u64))),
            },
            "tree": {
                "blinding_key": hex(&key),
                "leaf": {"position": 6, "user_commitment": hex(&uc), "balances": ["150000000", "2"],
                         "node": node(&leaf_hash, &leaf_c, &leaf_blind)},
                "padding": {"level": 0, "index": 7, "padding_hash": hex(&pad_hash),
                            "node": node(&pad_hash, &pad_c, &pad_blind)},
                "parent": node(&parent_hash, &parent_c, &parent_blind),
            },
        })
    }

    #[test]
    fn hidden_vectors_match_spec() {
        let path = dir().join("hidden.json");
        let gens = Generators::get();
        let computed = computed();
        let mut stored: Value = if std::env::var_os("POR_BLESS").is_some() {
            let mut t = Transcript::new(b"por-hidden/vectors");
            let blinds = [1u64, 2, 3].map(Scalar::from);
            let (p, c) = prove(gens, &mut t, &[5, 1 << 40, 0], &blinds, 64).unwrap();
            let mut all = computed.clone();
            all["range_proof"] = json!({
                "transcript_label": "por-hidden/vectors", "n": 64,
                "commitments": c.iter().map(|x| hex(&point_bytes(x))).collect::<Vec<_>>(),
                "proof": hex(&p.to_bytes()),
            });
            std::fs::write(&path, serde_json::to_string_pretty(&all).unwrap() + "\n").unwrap();
            all
        } else {
            serde_json::from_slice(&std::fs::read(&path).expect("spec/vectors/hidden.json"))
                .unwrap()
        };
        let rp = stored
            .as_object_mut()
            .unwrap()
            .remove("range_proof")
            .expect("range_proof");
        assert_eq!(stored, computed, "spec/vectors/hidden.json differs");
        let commitments: Vec<_> = rp["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| decode_point(&unhex(c.as_str().unwrap()), "V", false).unwrap())
            .collect();
        let proof = RangeProof::from_bytes(&unhex(rp["proof"].as_str().unwrap())).unwrap();
        let t = || Transcript::new(b"por-hidden/vectors");
        verify(gens, &mut t(), &proof, &commitments, 64).unwrap();
        let mut other = commitments.clone();
        other.swap(0, 1);
        assert!(verify(gens, &mut t(), &proof, &other, 64).is_err());
    }

    /// The whole month of spec/vectors/hidden-proof.json, from its stated secrets.
    fn month() -> (
        Attestation,
        Vec<LeafRow>,
        Vec<Vec<por_verifier::tree::Sibling<Opening>>>,
    ) {
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
        let rows: Vec<LeafRow> = [
            (3u64, "alice", 150_000_000u128, 2u128),
            (6, "bob", 7, 0),
            (9, "carol", 0, 1),
        ]
        .iter()
        .map(|&(p, id, b, e)| (p, [p as u8; 32], id.to_string(), vec![Amount(b), Amount(e)]))
        .collect();
        let content = Openings::new([0x44; 32]);
        let params = TreeParams {
            height: 4,
            assets: 2,
            padding_key: [0x55; 32],
        };
        let targets: Vec<u64> = rows.iter().map(|r| r.0).collect();
        let built = build_visiting_with(
            &params,
            &content,
            content.leaves(&rows, 2),
            &targets,
            &mut |_, _| Ok(()),
        )
        .unwrap();
        let mut att = Attestation {
            exchange: "Vector Exchange".into(),
            period: "2026-11".into(),
            snapshot_time: "2026-11-30T12:00:00Z".into(),
            assets,
            tree_height: 4,
            root_hash: built.root,
            liabilities: built.root_sums.iter().map(|o| Amount(o.value)).collect(),
            bindings: Vec::new(),
            history: por_verifier::history::HistoryLink::first(None),
            rotation: None,
            hidden: Some(por_prover::hidden::section(&built.root_sums)),
            public_key: [0; 32],
            signature: [0; 64],
        };
        por_prover::build::sign(&mut att, &SigningKey::from_bytes(&[0x66; 32])).unwrap();
        (att, rows, built.paths)
    }

    #[test]
    fn the_whole_proof_vector_verifies() {
        let path = dir().join("hidden-proof.json");
        let (att, rows, paths) = month();
        if std::env::var_os("POR_BLESS").is_some() {
            let (pos, salt, id, bal) = rows[0].clone();
            let sib = &paths[0];
            let values: Vec<Vec<u128>> = sib
                .iter()
                .map(|s| s.sums.iter().map(|o| o.value).collect())
                .collect();
            let blinds: Vec<Vec<Scalar>> = sib
                .iter()
                .map(|s| s.sums.iter().map(|o| o.blinding).collect())
                .collect();
            let ctx = por_hidden::path::Context {
                exchange: &att.exchange,
                period: &att.period,
                root: att.root_hash.0,
                position: pos,
            };
            let bits = &att.hidden.as_ref().unwrap().bit_sizes;
            let proof = HiddenProof {
                exchange: att.exchange.clone(),
                period: att.period.clone(),
                user_id: id,
                salt,
                position: pos,
                balances: bal,
                blindings: (0..2).map(|a| blinding(&[0x44; 32], 0, pos, a)).collect(),
                path: sib
                    .iter()
                    .map(|s| por_verifier::tree::Sibling {
                        hash: s.hash,
                        sums: s.sums.iter().map(Opening::affine).collect(),
                    })
                    .collect(),
                range_proofs: por_hidden::path::prove(
                    Generators::get(),
                    &ctx,
                    bits,
                    &values,
                    &blinds,
                )
                .unwrap(),
            };
            let v = json!({
                "secrets": {"blinding_key": hex(&[0x44; 32]), "padding_key": hex(&[0x55; 32]),
                            "signing_key_seed": hex(&[0x66; 32]), "salts": "32 bytes, each the position"},
                "leaves": rows.iter().map(|r| json!({"position": r.0, "user_id": r.2,
                    "balances": r.3.iter().map(|a| a.to_string()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                "public_key": hex(&att.public_key),
                "attestation": serde_json::from_str::<Value>(&att.to_json()).unwrap(),
                "signing_message": hex(&att.signing_message()),
                "proof": serde_json::from_str::<Value>(&proof.to_json()).unwrap(),
            });
            std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        }
        let v: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("spec/vectors/hidden-proof.json"))
                .unwrap();
        // The attestation is deterministic: recomputed from the stated secrets, byte for byte.
        assert_eq!(
            v["attestation"],
            serde_json::from_str::<Value>(&att.to_json()).unwrap()
        );
        assert_eq!(v["signing_message"], json!(hex(&att.signing_message())));
        let stored =
            Attestation::from_json("vector", v["attestation"].to_string().as_bytes()).unwrap();
        stored
            .verify_signature(&SigningKey::from_bytes(&[0x66; 32]).verifying_key())
            .unwrap();
        let text = v["proof"].to_string();
        let proof = Proof::from_json("vector", text.as_bytes()).unwrap();
        let inc = verify_proof(&stored, &proof, "alice").unwrap();
        assert!(inc.hidden);
        // Everything in the proof but the range proofs is deterministic too.
        let Proof::Hidden(p) = &proof else {
            panic!("a hidden-sums proof")
        };
        assert_eq!(p.path.len(), 4);
        for (l, s) in p.path.iter().enumerate() {
            assert_eq!(s.hash, paths[0][l].hash);
            let expect: Vec<_> = paths[0][l].sums.iter().map(Opening::affine).collect();
            assert_eq!(s.sums, expect);
        }
        // One changed byte of any commitment, or another user id, fails.
        let mut other = p.clone();
        other.path[2].sums[1] = p.path[1].sums[1];
        assert!(verify_proof(&stored, &Proof::Hidden(other), "alice").is_err());
        assert!(verify_proof(&stored, &proof, "bob").is_err());
    }
}
