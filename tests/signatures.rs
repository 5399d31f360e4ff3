//! Every supported signature standard against the public vectors (tests/vectors, copied from
//! ../shared/vectors) and against signatures these tests make; and `por-verify signature`.

use bitcoin::Network;
use por_e2e::run;
use por_e2e::signers::{multisig_script, sign_bip322_multisig, BtcKey, EthKey};
use por_verifier::reserves::{bitcoin as btc, ethereum as eth};
use por_verifier::ErrorKind;
use serde_json::Value;
use std::path::Path;

fn vectors(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The committed copy must equal the shared one, when the shared folder is there.
#[test]
fn vector_copies_match_shared() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    if !shared.exists() {
        eprintln!("../shared/vectors not present; comparing nothing");
        return;
    }
    for f in [
        "bip137.json",
        "eip191.json",
        "bip322/basic-test-vectors.json",
        "bip322/bip322-text-vectors.json",
        "chains/tron.json",
        "chains/solana.json",
        "chains/litecoin.json",
        "chains/dogecoin.json",
        "chains/bitcoin-cash.json",
        "chains/monacoin.json",
    ] {
        let ours = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vectors")
                .join(f),
        )
        .unwrap();
        assert_eq!(
            ours,
            std::fs::read(shared.join(f)).unwrap(),
            "{f} differs from ../shared/vectors"
        );
    }
}

#[test]
fn bip137_vectors_under_the_lenient_policy() {
    let v = vectors("bip137.json");
    let mut checked = 0;
    for case in v["vectors"].as_array().unwrap() {
        let (addr, msg, sig) = (
            case["address"].as_str().unwrap(),
            case["message"].as_str().unwrap(),
            case["signature"].as_str().unwrap(),
        );
        let expected = match &case["local_result"]["lenient"] {
            Value::Bool(b) => *b,
            _ => continue,
        };
        let got = btc::parse_address(addr, Network::Bitcoin)
            .and_then(|a| btc::verify_single(&a, msg, sig));
        assert_eq!(
            got.is_ok(),
            expected,
            "{addr} {msg:?}: {} -> {got:?}",
            case["note"]
        );
        if let Err(e) = got {
            assert!(!e.message().is_empty());
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} vectors checked");
    for h in v["message_hash_vectors"].as_array().unwrap() {
        let digest = bitcoin::sign_message::signed_msg_hash(h["message"].as_str().unwrap());
        let raw = h
            .get("magic_hash_raw")
            .or(h.get("magic_hash"))
            .unwrap()
            .as_str()
            .unwrap();
        use bitcoin::hashes::Hash as _;
        assert_eq!(hex::encode(digest.to_byte_array()), raw);
    }
}

#[test]
fn bip322_vectors() {
    let v = vectors("bip322/basic-test-vectors.json");
    let mut valid = 0;
    for case in v["simple"].as_array().unwrap() {
        let addr = btc::parse_address(case["address"].as_str().unwrap(), Network::Bitcoin).unwrap();
        for sig in case["bip322_signatures"].as_array().unwrap() {
            let got = btc::verify_bip322(
                &addr,
                case["message"].as_str().unwrap(),
                sig.as_str().unwrap(),
            );
            assert!(got.is_ok(), "{}: {got:?}", case["type"]);
            valid += 1;
            // Without the smp prefix it is the same signature.
            if let Some(bare) = sig.as_str().unwrap().strip_prefix("smp") {
                assert!(btc::verify_bip322(&addr, case["message"].as_str().unwrap(), bare).is_ok());
            }
        }
    }
    assert!(valid >= 5);
    for case in v["error"].as_array().unwrap() {
        let got =
            btc::parse_address(case["address"].as_str().unwrap(), Network::Bitcoin).and_then(|a| {
                btc::verify_bip322(
                    &a,
                    case["message"].as_str().unwrap(),
                    case["signature"].as_str().unwrap(),
                )
            });
        assert!(got.is_err(), "{} must fail", case["description"]);
    }
    let t = vectors("bip322/bip322-text-vectors.json");
    for case in t["bip_text_vectors"].as_array().unwrap() {
        let addr = btc::parse_address(case["address"].as_str().unwrap(), Network::Bitcoin).unwrap();
        let got = btc::verify_bip322(
            &addr,
            case["message"].as_str().unwrap(),
            case["signature"].as_str().unwrap(),
        );
        assert_eq!(got.is_ok(), case["expected"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn eip191_vectors() {
    let v = vectors("eip191.json");
    for h in v["hash_vectors"].as_array().unwrap() {
        let got = eth::personal_message_hash(h["message"].as_str().unwrap().as_bytes());
        assert_eq!(
            format!("0x{}", hex::encode(got)),
            h["hash"].as_str().unwrap()
        );
    }
    let mut n = 0;
    for case in v["vectors"].as_array().unwrap() {
        let msg = case["message"].as_str().unwrap();
        let bytes = if case["message_encoding"] == "hex-bytes" {
            hex::decode(msg.trim_start_matches("0x")).unwrap()
        } else {
            msg.as_bytes().to_vec()
        };
        let got = eth::verify(
            case["address"].as_str().unwrap(),
            &bytes,
            case["signature"].as_str().unwrap(),
        );
        assert_eq!(
            got.is_ok(),
            case["local_result"].as_bool().unwrap(),
            "{}: {got:?}",
            case["note"]
        );
        n += 1;
    }
    assert!(n >= 5);
}

const MSG: &str = "Proof of reserves challenge v1\nExchange: T\nPeriod: 2026-11\nChain: bitcoin\nSnapshot height: 1\nLiabilities root: 00";

#[test]
fn our_bitcoin_signatures_every_address_type() {
    let k = BtcKey::from_seed(7, Network::Bitcoin);
    let other = BtcKey::from_seed(8, Network::Bitcoin);
    let sigs = [
        (k.p2pkh(), k.sign_compact(MSG, 31)),
        (k.p2wpkh(), k.sign_bip322(&k.p2wpkh(), MSG)),
        (k.p2sh_p2wpkh(), k.sign_compact(MSG, 35)),
        (k.p2wpkh(), k.sign_compact(MSG, 39)),
        (k.p2wpkh(), k.sign_compact(MSG, 31)), // Electrum/Trezor style: accepted by policy
        (k.p2tr(), k.sign_bip322(&k.p2tr(), MSG)),
        (k.p2sh_p2wpkh(), k.sign_bip322(&k.p2sh_p2wpkh(), MSG)),
    ];
    for (addr, sig) in &sigs {
        let got = btc::verify_single(addr, MSG, sig);
        assert!(got.is_ok(), "{addr}: {got:?}");
        // Another message fails.
        assert!(
            btc::verify_single(addr, "another month", sig).is_err(),
            "{addr}"
        );
        // Another key's address fails.
        let wrong = match addr.address_type() {
            Some(bitcoin::AddressType::P2pkh) => other.p2pkh(),
            Some(bitcoin::AddressType::P2sh) => other.p2sh_p2wpkh(),
            Some(bitcoin::AddressType::P2tr) => other.p2tr(),
            _ => other.p2wpkh(),
        };
        let e = btc::verify_single(&wrong, MSG, sig).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Failed, "{wrong}: {e}");
    }
    // A P2WPKH header for a P2SH address (and the reverse) is refused.
    assert!(btc::verify_single(&k.p2sh_p2wpkh(), MSG, &k.sign_compact(MSG, 39)).is_err());
    assert!(btc::verify_single(&k.p2wpkh(), MSG, &k.sign_compact(MSG, 35)).is_err());
}

#[test]
fn multisig_needs_m_distinct_keys_of_a_script_that_hashes_to_the_address() {
    let keys: Vec<BtcKey> = (20..23)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&keys[0], &keys[1], &keys[2]]);
    let p2wsh = bitcoin::Address::p2wsh(&script, Network::Bitcoin);
    let p2sh = bitcoin::Address::p2sh(&script, Network::Bitcoin).unwrap();
    let sig = |i: usize| keys[i].sign_compact(MSG, 31);
    for addr in [&p2wsh, &p2sh] {
        let ok = btc::verify_multisig(addr, MSG, script.as_bytes(), &[sig(0), sig(2)]);
        assert!(ok.is_ok(), "{addr}: {ok:?}");
        // One signer, or one signer twice, is not two.
        for bad in [vec![sig(0)], vec![sig(1), sig(1)]] {
            let e = btc::verify_multisig(addr, MSG, script.as_bytes(), &bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Failed);
            assert!(e.message().contains("only 1 distinct key"), "{e}");
        }
        // A key outside the script does not count.
        let outsider = BtcKey::from_seed(99, Network::Bitcoin).sign_compact(MSG, 31);
        let e =
            btc::verify_multisig(addr, MSG, script.as_bytes(), &[sig(0), outsider]).unwrap_err();
        assert!(e.message().contains("not a key of the script"), "{e}");
    }
    // A script that does not hash to the address.
    let other_script = multisig_script(1, &[&keys[0], &keys[1], &keys[2]]);
    let e =
        btc::verify_multisig(&p2wsh, MSG, other_script.as_bytes(), &[sig(0), sig(1)]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Failed);
    assert!(e.message().contains("does not hash to"), "{e}");
    // BIP-322 with the witness script and 2 of the 3 keys.
    let b322 = sign_bip322_multisig(&p2wsh, MSG, &[&keys[0], &keys[1]], &script);
    assert!(
        btc::verify_multisig(&p2wsh, MSG, script.as_bytes(), std::slice::from_ref(&b322)).is_ok()
    );
    assert!(btc::verify_multisig(&p2wsh, "another month", script.as_bytes(), &[b322]).is_err());
    // Fewer than m signatures inside a BIP-322 witness: drop one from a valid witness.
    let two = sign_bip322_multisig(&p2wsh, MSG, &[&keys[0], &keys[1]], &script);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64.decode(two.strip_prefix("smp").unwrap()).unwrap();
    let w: bitcoin::Witness = bitcoin::consensus::deserialize(&bytes).unwrap();
    let mut items: Vec<Vec<u8>> = w.to_vec();
    items.remove(2);
    let forged = format!(
        "smp{}",
        b64.encode(bitcoin::consensus::serialize(
            &bitcoin::Witness::from_slice(&items)
        ))
    );
    let e = btc::verify_multisig(&p2wsh, MSG, script.as_bytes(), &[forged]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Failed, "{e}");
}

#[test]
fn our_ethereum_signatures() {
    let k = EthKey::from_seed(5);
    let sig = k.personal_sign(MSG.as_bytes());
    assert!(eth::verify(&k.address(), MSG.as_bytes(), &sig).is_ok());
    let e = eth::verify(&EthKey::from_seed(6).address(), MSG.as_bytes(), &sig).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Failed);
    assert!(eth::verify(&k.address(), b"another month", &sig).is_err());
    // Malformed inputs are bad input, not failed checks.
    assert_eq!(
        eth::verify("0x1234", MSG.as_bytes(), &sig)
            .unwrap_err()
            .kind(),
        ErrorKind::BadInput
    );
    assert_eq!(
        eth::verify(&k.address(), MSG.as_bytes(), "0xzz")
            .unwrap_err()
            .kind(),
        ErrorKind::BadInput
    );
    assert!(eth::verify(&k.address(), MSG.as_bytes(), &sig).is_ok());
}

#[test]
fn malformed_bitcoin_inputs_are_bad_input() {
    let k = BtcKey::from_seed(7, Network::Bitcoin);
    let addr = k.p2wpkh().to_string();
    let sig = k.sign_compact(MSG, 39);
    for (a, s) in [
        ("bc1qnotanaddress", sig.as_str()),
        (addr.as_str(), "!!!not base64!!!"),
    ] {
        let e = btc::verify(Network::Bitcoin, a, MSG, &[s.to_string()], None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInput, "{a} {s}: {e}");
    }
    // A testnet address where mainnet is expected.
    let t = BtcKey::from_seed(7, Network::Testnet).p2wpkh().to_string();
    let e = btc::verify(Network::Bitcoin, &t, MSG, &[sig], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
}

#[test]
fn por_verify_signature_command() {
    let k = BtcKey::from_seed(7, Network::Bitcoin);
    let addr = k.p2wpkh().to_string();
    let ok = run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "bitcoin",
            "--address",
            &addr,
            "--message",
            MSG,
            "--signature",
            &k.sign_bip322(&k.p2wpkh(), MSG),
        ],
    )
    .expect(0);
    assert!(
        ok.stdout.contains("VALID") && ok.stdout.contains("BIP-322 simple"),
        "{}",
        ok.stdout
    );
    let r = run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "bitcoin",
            "--address",
            &addr,
            "--message",
            "other",
            "--signature",
            &k.sign_compact(MSG, 39),
        ],
    )
    .expect_code("check.failed");
    assert!(r.stdout.contains("does not control"), "{}", r.stdout);
    run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "bitcoin",
            "--address",
            "xyz",
            "--message",
            MSG,
            "--signature",
            "abc",
        ],
    )
    .expect(2);
    // Multisig on the command line: --script and one --signature per cosigner.
    let keys: Vec<BtcKey> = (20..23)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&keys[0], &keys[1], &keys[2]]);
    let ms = bitcoin::Address::p2wsh(&script, Network::Bitcoin).to_string();
    let hexs = script.to_hex_string();
    let (s0, s1) = (keys[0].sign_compact(MSG, 31), keys[1].sign_compact(MSG, 31));
    run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "bitcoin",
            "--address",
            &ms,
            "--message",
            MSG,
            "--signature",
            &s0,
            "--signature",
            &s1,
            "--script",
            &hexs,
        ],
    )
    .expect(0);
    run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "bitcoin",
            "--address",
            &ms,
            "--message",
            MSG,
            "--signature",
            &s0,
            "--script",
            &hexs,
        ],
    )
    .expect(1);
    let e = EthKey::from_seed(5);
    let j = run(
        "por-verify",
        &[
            "signature",
            "--chain",
            "ethereum",
            "--address",
            &e.address(),
            "--message",
            MSG,
            "--signature",
            &e.personal_sign(MSG.as_bytes()),
            "--json",
        ],
    )
    .expect(0);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["result"], "pass");
}

#[test]
fn bip322_full_signatures() {
    let k = BtcKey::from_seed(7, Network::Bitcoin);
    for addr in [k.p2wpkh(), k.p2tr()] {
        let full = bip322::sign_full_encoded(
            &addr.to_string(),
            MSG,
            &[k.wif()],
            None,
            bip322::LockParams::default(),
        )
        .expect("sign full");
        assert!(full.starts_with("ful"), "{full}");
        let got = btc::verify_single(&addr, MSG, &full);
        assert_eq!(
            got.as_deref().ok(),
            Some("BIP-322 full signature"),
            "{addr}: {got:?}"
        );
        assert!(btc::verify_single(&addr, "another month", &full).is_err());
        // Unprefixed full signatures are read as simple ones and do not verify.
        assert!(btc::verify_single(&addr, MSG, full.strip_prefix("ful").unwrap()).is_err());
    }
    // Proof-of-funds signatures prove funds, not this challenge: refused as input.
    let e = btc::verify_single(&k.p2wpkh(), MSG, "pofAAAA").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
}
