//! `por-verify published`: other exchanges' proof files (spec/published.md), through the real
//! binary. Every sample that exchanges publish verifies with its root; one changed balance, one
//! changed sibling and another root each fail (exit 1); a cut or foreign file is exit 2; without
//! the root published for everyone the run is UNVERIFIED (exit 3). A dishonest exchange's own
//! file (made here, not by any tool of ours) with a negative sibling is caught.

use por_e2e::{path_str, run, Run};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const OKX_V1_ROOT: &str = "ac6b39d2a0aa8112bd1aadff5e7d4b5c2b91cd54d595262ba4367f5d2db4160d";
const OKX_V2_ROOT: &str = "9e98ebde32ef22ded88a5fb2d5e53d76ed57cb9c6b2c966f250721defe6ab041";
const MEXC_ROOT: &str = "35d01ffef2beec3ff0166c03f3d9b0cc";
const BYBIT_ROOT: &str = "c91d5de0554f97244e4d9f8056fad70fa0cb2cdb23c290ec597a042645dcbc03";
const BITGET_ROOT: &str = "ffedeaf82363b23c";
const BITMEX_ROOT: &str = "85b0a83970a74a6ad0ee5d4bec5d3afe0048d18b8342e31e2d3a45e0f17879c7";
const BITMEX_NONCE_2: &str = "b88860add96111d84d38a500266df715158f91375d9aaa98aa58356f9a872412";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/published")
        .join(name)
}

fn verify(files: &[&Path], extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["published".into()];
    args.extend(files.iter().map(|p| path_str(p).to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--json".into());
    run("por-verify", &args)
}

/// A copy of a sample with `from` replaced by `to` once (the text must contain `from`).
fn changed(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(sample(name)).unwrap();
    assert!(text.contains(from), "{name} has no {from}");
    let out = dir.join(name.replace('/', "-"));
    std::fs::write(&out, text.replacen(from, to, 1)).unwrap();
    out
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.all()))
}

fn weaknesses(r: &Run) -> Vec<String> {
    json(r)["weaknesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

/// The samples are ../shared/vectors/published's, byte for byte (where that is present).
#[test]
fn samples_are_the_shared_ones() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/published");
    if !shared.exists() {
        eprintln!("../shared/vectors/published not present; comparing nothing");
        return;
    }
    for f in [
        "okx/merkle_proof_file.json",
        "okx/user_info_file.json",
        "okx/full-liabilities-merkle-tree.txt",
        "mexc/merkle_proof.json",
        "bybit/40_v5.json",
        "bybit/Asset40V5.enum",
        "bitget/merkle-proof-6863e2d.json",
        "bitmex/liabilities-proof-readme-before-bdb5f06.csv",
        "gate/user_config-readme.json",
        "binance/user_config.json",
        "okx/okx_por_example.csv",
        "okx/test.csv",
        "poseidon/bnb-chain-gnark-crypto-chain16.json",
        "poseidon/gatechain-gnark-crypto-v0.7.1-chain12.json",
    ] {
        assert_eq!(
            std::fs::read(sample(f)).unwrap(),
            std::fs::read(shared.join(f)).unwrap(),
            "{f} differs from ../shared/vectors/published"
        );
    }
}

struct Case {
    files: Vec<&'static str>,
    root: &'static str,
    extra: Vec<&'static str>,
    /// A balance of the customer's own, and a change of it.
    own: (&'static str, &'static str),
    /// A sibling's (or another node's) balance, and a change of it.
    sibling: (&'static str, &'static str),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            files: vec!["okx/merkle_proof_file.json"],
            root: OKX_V1_ROOT,
            extra: vec![],
            own: ("\"BTC\":\"1.000069\"", "\"BTC\":\"1.000070\""),
            sibling: ("\"BTC\":\"0.00092851\"", "\"BTC\":\"0.00092852\""),
        },
        Case {
            files: vec![
                "okx/user_info_file.json",
                "okx/full-liabilities-merkle-tree.txt",
            ],
            root: OKX_V2_ROOT,
            extra: vec![],
            own: ("\"BTC\": \"0.0000487\"", "\"BTC\": \"0.0000488\""),
            // An internal node of the listing: OKX's own tool never recomputes these.
            sibling: (
                "5,{\"BTC\":\"0\",\"ETH\":\"0\",\"USDT\":\"0.00047828\"}",
                "5,{\"BTC\":\"0\",\"ETH\":\"0\",\"USDT\":\"0.00047829\"}",
            ),
        },
        Case {
            files: vec!["mexc/merkle_proof.json"],
            root: MEXC_ROOT,
            extra: vec![],
            own: ("\"ETH\": \"195462.73\"", "\"ETH\": \"195462.74\""),
            sibling: ("\"BTC\": \"1523108.27\"", "\"BTC\": \"1523108.28\""),
        },
        Case {
            files: vec!["bybit/40_v5.json"],
            root: BYBIT_ROOT,
            extra: vec![],
            own: ("\"BTC\": \"6.69365260\"", "\"BTC\": \"6.69365261\""),
            sibling: ("\"BTC\": \"3.97382405\"", "\"BTC\": \"3.97382406\""),
        },
        Case {
            files: vec!["bitget/merkle-proof-6863e2d.json"],
            root: BITGET_ROOT,
            extra: vec![],
            own: ("\"USDT\": 7681.73476302", "\"USDT\": 7681.73476303"),
            sibling: ("\"BTC\": 1000000.0001998", "\"BTC\": 1000000.0001999"),
        },
        Case {
            files: vec!["gate/user_config-readme.json"],
            root: GATE_ROOT,
            extra: vec![],
            own: (
                "{\"Index\":48,\"Equity\":280,",
                "{\"Index\":48,\"Equity\":281,",
            ),
            sibling: (
                "EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVo=",
                "EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVk=",
            ),
        },
        Case {
            files: vec!["bitmex/liabilities-proof-readme-before-bdb5f06.csv"],
            root: BITMEX_ROOT,
            extra: vec!["--user-id", "2", "--nonce", BITMEX_NONCE_2],
            // Account 2's leaf 3 (1,294 sat), and the node above accounts 1's leaf 1.
            own: (
                "003c7fc49a6a476894dd6edfca066d5e3fe01cc63906214134fb6e2ee06a7d83,1294",
                "003c7fc49a6a476894dd6edfca066d5e3fe01cc63906214134fb6e2ee06a7d83,1295",
            ),
            sibling: (
                "acb9b9fb9ae63ae09927dac870fa203d0113dade58f20a9855193b121d3ed035,667",
                "acb9b9fb9ae63ae09927dac870fa203d0113dade58f20a9855193b121d3ed035,668",
            ),
        },
    ]
}

#[test]
fn every_sample_verifies_with_its_root_and_each_change_fails() {
    let dir = tempfile::tempdir().unwrap();
    for c in cases() {
        let files: Vec<PathBuf> = c.files.iter().map(|f| sample(f)).collect();
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let mut with_root = c.extra.clone();
        with_root.extend(["--root", c.root]);
        let ok = verify(&refs, &with_root).expect_code("published.verified");
        assert_eq!(json(&ok)["root"], c.root, "{:?}", c.files);
        assert!(weaknesses(&ok).contains(&"weakness.root_unsigned".to_string()));
        // The root in upper case and with 0x is the same root.
        let shouted = format!("0x{}", c.root.to_uppercase());
        let mut again = c.extra.clone();
        again.extend(["--root", shouted.as_str()]);
        verify(&refs, &again).expect_code("published.verified");
        // Without the root published for everyone: not a pass.
        verify(&refs, &c.extra).expect_code("published.root_not_compared");
        // Another root.
        let other = "0".repeat(c.root.len());
        let mut wrong = c.extra.clone();
        wrong.extend(["--root", other.as_str()]);
        verify(&refs, &wrong).expect_code("published.root_mismatch");
        // One of the customer's balances, one sibling's.
        for (from, to) in [c.own, c.sibling] {
            let name = if c.files.len() == 2 && from.starts_with('5') {
                c.files[1]
            } else {
                c.files[0]
            };
            let bad = changed(dir.path(), name, from, to);
            let mut set: Vec<PathBuf> = files.clone();
            let i = c.files.iter().position(|f| *f == name).unwrap();
            set[i] = bad;
            let refs: Vec<&Path> = set.iter().map(PathBuf::as_path).collect();
            let r = verify(&refs, &with_root).expect_code("published.check_failed");
            assert_eq!(json(&r)["evidence"], "only_to_you", "{name}: {from}");
        }
    }
}

#[test]
fn the_format_is_told_from_the_file_and_a_foreign_or_cut_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (f, name) in [
        ("okx/merkle_proof_file.json", "okx-v1"),
        ("mexc/merkle_proof.json", "mexc"),
        ("bybit/40_v5.json", "bybit"),
        ("bitget/merkle-proof-6863e2d.json", "bitget"),
        ("gate/user_config-readme.json", "gate"),
    ] {
        let r = verify(&[&sample(f)], &[]).expect(3);
        assert_eq!(json(&r)["format"], name);
        // Cut short, as a browser's interrupted download leaves it.
        let text = std::fs::read_to_string(sample(f)).unwrap();
        let cut = dir.path().join("cut.json");
        std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
        let r = verify(&[&cut], &["--format", name]).expect_code("input.invalid");
        assert!(r.all().contains("cut short"), "{}", r.all());
        // Another exchange's file under this format's name.
        let foreign = if name == "mexc" {
            "okx/merkle_proof_file.json"
        } else {
            "mexc/merkle_proof.json"
        };
        let r = verify(&[&sample(foreign)], &["--format", name]).expect_code("input.invalid");
        assert!(r.all().contains("has no"), "{}", r.all());
    }
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let r = verify(&[&junk], &[]).expect_code("input.invalid");
    assert!(r
        .all()
        .contains("not a proof file of a format this tool knows"));
    let r = verify(&[&junk], &["--format", "kraken"]).expect(2);
    assert!(r.all().contains("--format: expected one of"));
    // OKX v2's customer file alone: the tree is needed.
    let r = verify(&[&sample("okx/user_info_file.json")], &[]).expect(2);
    assert!(r.all().contains("whole tree file"), "{}", r.all());
}

/// Bitget's current sample (its repository at 0728a7f) carries negative sums on the path:
/// an exchange lowers its totals so. Bitget's tool says "Consistent"; this one fails it.
#[test]
fn negative_sums_in_bitgets_current_sample_fail() {
    let r = verify(&[&sample("bitget/merkle-proof-0728a7f.json")], &[])
        .expect_code("published.negative_sum");
    let v = json(&r);
    assert_eq!(v["profile"], "bitget/strings");
    let found = v["findings"].as_array().unwrap();
    assert!(found.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("-13103141.20252456")));
    assert!(weaknesses(&r).contains(&"weakness.truncated_hash".to_string()));
}

fn h(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A dishonest exchange's own OKX v1 file: a sibling of -5 BTC cancels the customer's 5 BTC,
/// so the root's total is 0. Every hash is right under OKX's rules (computed here from them,
/// not by this toolkit), so only the sign gives it away.
#[test]
fn a_dishonest_exchanges_negative_sibling_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let nonce = "11".repeat(32);
    let leaf = h(&format!(
        "{nonce}{{\"BTC\":\"5\",\"ETH\":\"0\",\"USDT\":\"0\"}}"
    ));
    let sib = "22".repeat(32);
    let root = h(&format!("{leaf}{sib}0002"));
    let file = serde_json::json!({
        "self": {"auditId": "1", "balances": {"BTC": "5", "ETH": "0", "USDT": "0"}, "type": 1,
                 "nonce": nonce, "hash": leaf, "height": 1},
        "path": [
            {"auditId": "1", "balances": {"BTC": "-5", "ETH": "0", "USDT": "0"}, "type": 2, "hash": sib, "height": 1},
            {"auditId": "1", "balances": {"BTC": "0", "ETH": "0", "USDT": "0"}, "type": 3, "hash": root, "height": 2},
        ]
    });
    let p = dir.path().join("forged.json");
    std::fs::write(&p, file.to_string()).unwrap();
    let r = verify(&[&p], &["--root", &root]).expect_code("published.negative_sum");
    assert!(r.all().contains("negative BTC sum (-5)"), "{}", r.all());
    // The same file without the minus sign folds to another root: the hashes were right.
    let honest = dir.path().join("honest.json");
    std::fs::write(&honest, file.to_string().replace("\"-5\"", "\"5\"")).unwrap();
    verify(&[&honest], &["--root", &root]).expect_code("published.check_failed");
}

/// The weaknesses each format has, by stable code: BitMEX binds each child's value, the
/// others only the sum; Bitget and MEXC truncate; OKX's file shows a neighbour's nonce.
#[test]
fn each_format_names_its_weaknesses() {
    let w = |files: &[&str], extra: &[&str]| {
        let p: Vec<PathBuf> = files.iter().map(|f| sample(f)).collect();
        let refs: Vec<&Path> = p.iter().map(PathBuf::as_path).collect();
        weaknesses(&verify(&refs, extra))
    };
    let okx = w(&["okx/merkle_proof_file.json"], &[]);
    for c in [
        "weakness.child_sums_unbound",
        "weakness.sibling_nonce_shown",
        "weakness.ambiguous_sums",
    ] {
        assert!(okx.contains(&c.to_string()), "{c}");
    }
    let bitmex = w(
        &["bitmex/liabilities-proof-readme-before-bdb5f06.csv"],
        &["--user-id", "2", "--nonce", BITMEX_NONCE_2],
    );
    assert!(!bitmex.contains(&"weakness.child_sums_unbound".to_string()));
    assert!(bitmex.contains(&"weakness.one_asset_only".to_string()));
    assert!(w(&["mexc/merkle_proof.json"], &[]).contains(&"weakness.no_nonce".to_string()));
    assert!(
        w(&["bybit/40_v5.json"], &[]).contains(&"weakness.round_parameters_missing".to_string())
    );
}

/// BitMEX: the account number and nonce open the customer's leaves; the lifetime nonce of
/// accounts 1 and 4 gives their README balances; a wrong nonce opens nothing (exit 1), and a
/// missing one is a usage error.
#[test]
fn bitmex_accounts_open_their_leaves() {
    let f = sample("bitmex/liabilities-proof-readme-before-bdb5f06.csv");
    for (acct, nonce, btc) in [
        (
            "1",
            "4b014f71332f674b47ccec77ac055c7f6e94f7968afe15b9ffb63b9c392ee97a",
            "0.00001",
        ),
        ("2", BITMEX_NONCE_2, "0.00003"),
        (
            "4",
            "b4fb0f6cb39e1b47e159996d54121309d92fed531a4f55b7a30772cb5f21cf8a",
            "40",
        ),
    ] {
        let r = verify(
            &[&f],
            &["--user-id", acct, "--nonce", nonce, "--root", BITMEX_ROOT],
        )
        .expect_code("published.verified");
        assert_eq!(json(&r)["balances"]["BTC"], btc);
        assert_eq!(json(&r)["totals"]["BTC"], "40.00004");
    }
    verify(
        &[&f],
        &[
            "--user-id",
            "2",
            "--nonce",
            &"ab".repeat(32),
            "--root",
            BITMEX_ROOT,
        ],
    )
    .expect_code("published.check_failed");
    let r = verify(&[&f], &["--user-id", "2"]).expect(2);
    assert!(r.all().contains("--nonce"));
}

/// A Bybit round's layout given as a file: the bundled one gives the same result, and a
/// layout that lacks an asset the file names is refused.
#[test]
fn bybit_layout_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = sample("bybit/40_v5.json");
    let lay = sample("bybit/Asset40V5.enum");
    verify(&[&f], &["--layout", path_str(&lay), "--root", BYBIT_ROOT])
        .expect_code("published.verified");
    let text = std::fs::read_to_string(&lay).unwrap();
    let short = dir.path().join("Short.enum");
    std::fs::write(&short, text.replace("ETH 8 DOWN true\n", "")).unwrap();
    let r = verify(&[&f], &["--layout", path_str(&short)]).expect(2);
    assert!(r.all().contains("ETH"), "{}", r.all());
}

/// Forged OKX v2 files a dishonest exchange could hand out, each passing a careless checker:
/// a customer's 200,000,000 USDT matched to a leaf of 10^-30 USDT (equal only if values are
/// compared after an overflowing rescale); a root line listing 7 USDT over a tree that adds up to
/// 3,000,000,100; one sub-leaf listed twice in the customer's file (counted twice for them, once
/// in the tree). Every hash in them is right under OKX's rules.
#[test]
fn forged_okx_v2_files_fail() {
    for p in ["cmp", "root", "dup"] {
        let user = sample(&format!("forged/{p}_user.json"));
        let tree = sample(&format!("forged/{p}_tree.txt"));
        let root = std::fs::read_to_string(&tree).unwrap()[..64].to_string();
        verify(&[&user, &tree], &["--root", &root]).expect_code("published.check_failed");
    }
}

/// BitMEX's per-proof nonce opens the leaves whatever account number is typed: the run says
/// the account is not bound.
#[test]
fn bitmex_per_proof_nonce_does_not_bind_the_account() {
    let f = sample("bitmex/liabilities-proof-readme-before-bdb5f06.csv");
    let mut h = Sha256::new();
    h.update(hex::decode(BITMEX_NONCE_2).unwrap());
    h.update(100u64.to_le_bytes());
    h.update(2u64.to_le_bytes());
    let per_proof = hex::encode(h.finalize());
    let r = verify(
        &[&f],
        &[
            "--user-id",
            "999",
            "--nonce",
            &per_proof,
            "--root",
            BITMEX_ROOT,
        ],
    )
    .expect_code("published.verified");
    assert!(weaknesses(&r).contains(&"weakness.account_not_bound".to_string()));
    assert!(json(&r)["ids"]["account"]
        .as_str()
        .unwrap()
        .contains("not bound"));
    // With the account's lifetime nonce the account is bound.
    let r = verify(
        &[&f],
        &[
            "--user-id",
            "2",
            "--nonce",
            BITMEX_NONCE_2,
            "--root",
            BITMEX_ROOT,
        ],
    );
    assert!(!weaknesses(&r).contains(&"weakness.account_not_bound".to_string()));
}

fn rows_with(r: &Run, status: &str) -> usize {
    json(r)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == status)
        .count()
}

/// OKX's reserve files: the audit sample's EVM, BTC 2-of-3 P2WSH, DOGE 2-of-3 P2SH, OKC and
/// TRON rows prove control under OKX's schemes; StarkNet, DOT, ADA and EOS rows are listed as
/// not checked; the file carries no liabilities, so the run is never a pass (exit 3).
#[test]
fn okx_reserve_files_are_checked_row_by_row_and_never_pass() {
    let r = verify(&[&sample("okx/test.csv")], &[]).expect_code("published.reserves_not_checked");
    // TRON's row is signed by its key, but an owner permission can name other keys: like the
    // StarkNet, DOT, ADA and EOS rows, it is listed as not checked.
    assert_eq!(rows_with(&r, "held"), 4, "{}", r.stdout);
    assert_eq!(rows_with(&r, "not_checked"), 5);
    assert!(!r.all().contains("SOLVENT"));
    let w = weaknesses(&r);
    assert!(w.contains(&"weakness.no_liabilities".to_string()));
    assert!(w.contains(&"weakness.constant_message".to_string()));
    // The monthly example: its EVM rows (OKX signs the text's Keccak-256, so plain EIP-191
    // fails) and its contract wallet's two owners hold; its totals are not its rows' sum.
    let r =
        verify(&[&sample("okx/okx_por_example.csv")], &[]).expect_code("published.check_failed");
    assert_eq!(rows_with(&r, "held"), 2, "{}", r.stdout);
    // The contract wallet's owners signed, but who owns the contract is not read on chain.
    assert_eq!(json(&r)["rows"][2]["status"], "not_checked");
    assert!(r.all().contains("ETH rows add up to 0.356881257500858402"));
    assert!(weaknesses(&r).contains(&"weakness.owners_from_file".to_string()));
    assert_eq!(json(&r)["sums"]["ETH"], "0.356881257500858402");
}

/// What a dishonest exchange could put in a reserve file: a changed EVM signature; one key of a
/// 2-of-3 script signing twice (OKX's own tool accepts it: it needs two signatures, not two
/// keys); a redeem script that is not the address's. Each fails its row (exit 1).
#[test]
fn forged_okx_reserve_rows_fail() {
    let dir = tempfile::tempdir().unwrap();
    let btc_sig1 =
        "ICCxeipsfRZUurcUKGkXzA9p3WVrDeNzdAg1yojDRrCBGY/2fRe6Sg9F0tgQ6a4THqIJoCSIlmyxay6QQ6FSfcY=";
    let btc_sig2 =
        "H3CfdwwB+klW7yPNpHeuQhpzxdmXEWczUSp4UziFimaLCdzg9bpw/KP+TwawJlOhD5EZS++Y1A9EU4pkps5VWRE=";
    for (from, to, says) in [
        ("0x63e1ecb04bf6", "0x63e1ecb04bf7", "line 2"),
        (
            btc_sig2,
            btc_sig1,
            "1 distinct key(s) of the 2-of-3 script signed; 2 are needed",
        ),
        ("5221020b65f1fd63", "5221020b65f1fd64", "line 7"),
    ] {
        let bad = changed(dir.path(), "okx/test.csv", from, to);
        let r = verify(&[&bad], &[]).expect_code("published.check_failed");
        assert!(r.all().contains(says), "{says}: {}", r.all());
    }
    // A cut file is bad input.
    let text = std::fs::read_to_string(sample("okx/okx_por_example.csv")).unwrap();
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, text.lines().take(14).collect::<Vec<_>>().join("\n")).unwrap();
    let r = verify(&[&cut], &["--format", "okx-reserves"]).expect_code("input.invalid");
    assert!(r.all().contains("no address section"), "{}", r.all());
    // Another exchange's file named as a reserve file.
    let r = verify(
        &[&sample("mexc/merkle_proof.json")],
        &["--format", "okx-reserves"],
    )
    .expect_code("input.invalid");
    assert!(r.all().contains("line"), "{}", r.all());
}

/// A CompactSize length, then the bytes (as OKX's wallets frame a message).
fn varstr(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b.len() as u8);
    out.extend_from_slice(b);
}

/// Rows of every scheme the README names, signed here as OKX's wallets sign (Solana and Aptos
/// ed25519 under OKX's header, Litecoin P2PKH and Bitcoin P2WPKH signed messages), hold; the
/// same rows under another key fail.
#[test]
fn okx_reserve_rows_of_each_scheme() {
    use base64::Engine as _;
    use bitcoin::hashes::{sha256d, Hash as _};
    use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
    use ed25519_dalek::{Signer, SigningKey};
    let msg = "I am an OKX address";
    let mut framed = Vec::new();
    varstr(&mut framed, b"OKX Signed Message:\n");
    varstr(&mut framed, msg.as_bytes());
    let ed = SigningKey::from_bytes(&[7u8; 32]);
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let pubkey = ed.verifying_key().to_bytes();
    let sol = bitcoin::base58::encode(&pubkey);
    let ed_sig = hex::encode(ed.sign(&framed).to_bytes());
    let other_sig = hex::encode(other.sign(&framed).to_bytes());
    let mut h = sha3::Sha3_256::default();
    sha3::Digest::update(&mut h, pubkey);
    sha3::Digest::update(&mut h, [0u8]);
    let aptos = format!("0x{}", hex::encode(sha3::Digest::finalize(h)));
    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[9u8; 32]).unwrap();
    let pk = bitcoin::CompressedPublicKey(sk.public_key(&secp));
    let compact = |magic: &[u8], sk: &SecretKey| {
        let mut m = Vec::new();
        varstr(&mut m, magic);
        varstr(&mut m, msg.as_bytes());
        let d = sha256d::Hash::hash(&m).to_byte_array();
        let (recid, rs) = secp
            .sign_ecdsa_recoverable(&Message::from_digest(d), sk)
            .serialize_compact();
        let mut b = vec![27 + 4 + recid.to_i32() as u8];
        b.extend_from_slice(&rs);
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let mut ltc_payload = vec![0x30u8];
    ltc_payload.extend_from_slice(pk.pubkey_hash().as_byte_array());
    let ltc = bitcoin::base58::encode_check(&ltc_payload);
    let btc = bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Bitcoin).to_string();
    let wrong = SecretKey::from_slice(&[10u8; 32]).unwrap();
    let head =
        "digitalAsset,network,address,signedMessage,signedMessage2,message,publicKey,owner1,owner2";
    let rows = |sol_sig: &str, ltc_sig: &str| {
        format!(
            "{head}\nSOL,SOL,{sol},{sol_sig},null,{msg},,,\nAPT,APTOS,{aptos},{sol_sig},null,{msg},{},,\nLTC,LTC,{ltc},{ltc_sig},null,{msg},,,\nBTC,BTC,{btc},{},null,{msg},,,\n",
            hex::encode(pubkey),
            compact(b"Bitcoin Signed Message:\n", &sk)
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        rows(&ed_sig, &compact(b"Litecoin Signed Message:\n", &sk)),
    )
    .unwrap();
    let r = verify(&[&good], &[]).expect_code("published.reserves_not_checked");
    // Bitcoin-family keys prove control; Solana and Aptos keys prove they signed, but token
    // delegates and key rotation are read only on chain.
    assert_eq!(rows_with(&r, "held"), 2, "{}", r.stdout);
    assert_eq!(rows_with(&r, "not_checked"), 2, "{}", r.stdout);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        rows(&other_sig, &compact(b"Litecoin Signed Message:\n", &wrong)),
    )
    .unwrap();
    let r = verify(&[&bad], &[]).expect_code("published.check_failed");
    assert_eq!(rows_with(&r, "failed"), 3, "{}", r.stdout);
}

/// With the customer's own Ethereum node, a native ETH row's amount is read at its snapshot
/// height: the amount the node shows holds; a file claiming more fails (exit 1); without the
/// node the balance is "not read" and the run is UNVERIFIED.
#[test]
#[cfg_attr(no_anvil, ignore = "needs anvil: set POR_ANVIL (see .ci/run)")]
fn okx_reserve_balances_on_your_own_node() {
    use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
    use sha3::{Digest, Keccak256};
    let Some(node) = por_e2e::nodes::Anvil::start_with(1) else {
        return;
    };
    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[11u8; 32]).unwrap();
    let pubkey = sk.public_key(&secp).serialize_uncompressed();
    let addr = format!("0x{}", hex::encode(&Keccak256::digest(&pubkey[1..])[12..]));
    node.call(
        "anvil_setBalance",
        serde_json::json!([addr, format!("0x{:x}", 10u128 * 10u128.pow(18))]),
    );
    node.call("anvil_mine", serde_json::json!(["0x1"]));
    let height = u64::from_str_radix(
        node.call("eth_blockNumber", serde_json::json!([]))
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    node.call("anvil_mine", serde_json::json!(["0x3"]));
    let msg = "I am an OKX address";
    let mut pre = b"\x19Ethereum Signed Message:\n32".to_vec();
    pre.extend_from_slice(&Keccak256::digest(msg.as_bytes()));
    let digest: [u8; 32] = Keccak256::digest(&pre).into();
    let (recid, rs) = secp
        .sign_ecdsa_recoverable(&Message::from_digest(digest), &sk)
        .serialize_compact();
    let mut sig = rs.to_vec();
    sig.push(27 + recid.to_i32() as u8);
    let sig = format!("0x{}", hex::encode(sig));
    let file = |amount: &str| {
        format!(
            "coin,snapshot height,amount\nETH(ALL),-,{amount}\n\ncoin,Network,Snapshot Height,address,amount,message,signature1,signature2,redeem script/ public key, eoa1, eoa2\nETH,ETH,{height},{addr},{amount},{msg},{sig},,\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("good.csv"), dir.path().join("bad.csv"));
    std::fs::write(&good, file("10")).unwrap();
    std::fs::write(&bad, file("11")).unwrap();
    let at = format!("ethereum={}", node.url);
    let r = verify(&[&good], &["--node", &at]).expect_code("published.reserves_not_checked");
    assert_eq!(json(&r)["rows"][0]["balance"], "holds", "{}", r.stdout);
    let r = verify(&[&bad], &["--node", &at]).expect_code("published.check_failed");
    assert!(r.all().contains("your node shows 10 ETH"), "{}", r.all());
    let r = verify(&[&good], &[]).expect_code("published.reserves_not_checked");
    assert_eq!(json(&r)["rows"][0]["balance"], "not_read");
    // A node of another chain than the file's rows is refused before anything is read.
    verify(&[&good], &["--node", &format!("bitcoin={}", node.url)]).expect(2);
}

const GATE_ROOT: &str = "2da42ab6586ef6ad51b4bc8063ce92dcefb951572a26597346b7f78c1329ef0b";

/// Gate.io's README sample folds to its TreeRootHash with the round's 350 assets (taken from
/// this tool's table, and said so); one changed balance, one changed sibling, another asset
/// count or another root fail; a sibling outside the field or a short path is bad input.
#[test]
fn gate_sample_and_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let f = sample("gate/user_config-readme.json");
    let r = verify(&[&f], &["--root", GATE_ROOT]).expect_code("published.verified");
    assert_eq!(json(&r)["format"], "gate");
    let w = weaknesses(&r);
    assert!(w.contains(&"weakness.round_parameters_missing".to_string()));
    assert!(w.contains(&"weakness.batch_proofs_unchecked".to_string()));
    verify(&[&f], &[]).expect_code("published.root_not_compared");
    verify(&[&f], &["--root", GATE_ROOT, "--asset-count", "350"]).expect_code("published.verified");
    verify(&[&f], &["--root", GATE_ROOT, "--asset-count", "800"])
        .expect_code("published.check_failed");
    for (from, to) in [
        (
            "{\"Index\":48,\"Equity\":280,",
            "{\"Index\":48,\"Equity\":281,",
        ),
        (
            "EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVo=",
            "EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVk=",
        ),
        ("\"Arrangement\":7", "\"Arrangement\":6"),
    ] {
        let bad = changed(dir.path(), "gate/user_config-readme.json", from, to);
        verify(&[&bad], &["--root", GATE_ROOT]).expect_code("published.check_failed");
    }
    // An asset listed twice, an asset beyond the count given, a total outside the field, an
    // asset count of zero: bad input.
    for (from, to, extra, says) in [
        ("{\"Index\":53,", "{\"Index\":48,", vec![], "listed twice"),
        ("{\"Index\":285,", "{\"Index\":400,", vec!["--asset-count", "350"], "beyond the asset count given"),
        (
            "\"TotalAssetEquity\":445548224227483774000",
            "\"TotalAssetEquity\":21888242871839275222246405745257275088548364400416034343698204186575808495617",
            vec![],
            "below BN254's modulus",
        ),
        ("\"Arrangement\":7", "\"Arrangement\":7", vec!["--asset-count", "0"], "1 to 65,536"),
    ] {
        let bad = changed(dir.path(), "gate/user_config-readme.json", from, to);
        let r = verify(&[&bad], &extra).expect_code("input.invalid");
        assert!(r.all().contains(says), "{says}: {}", r.all());
    }
    // A sibling of 2^256 - 1: Gate's Go tool silently drops such a value from the hash.
    let bad = changed(
        dir.path(),
        "gate/user_config-readme.json",
        "EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVo=",
        "//////////////////////////////////////////8=",
    );
    let r = verify(&[&bad], &[]).expect_code("input.invalid");
    assert!(r.all().contains("modulus"), "{}", r.all());
    let bad = changed(
        dir.path(),
        "gate/user_config-readme.json",
        "\"EmvQ5Sh50gHD96PfN2/o49gT7xVuuX3P22KLVmpWyVo=\",",
        "",
    );
    let r = verify(&[&bad], &[]).expect_code("input.invalid");
    assert!(r.all().contains("has 27 entries"), "{}", r.all());
}

/// Binance's sample is stale (its path does not fold to its Root under the published rules):
/// a failure, not a crash. A Binance tree built here with the core's Poseidon (checked on the
/// fork's own vectors) verifies, and a changed amount or collateral fails.
#[test]
fn binance_sample_fails_and_a_tree_built_here_verifies() {
    use ark_ff::PrimeField;
    use base64::Engine as _;
    use por_core::published::poseidon::{hash, to_hex};
    use por_core::published::zk::{binance_commitment, binance_leaf};
    let r =
        verify(&[&sample("binance/user_config.json")], &[]).expect_code("published.check_failed");
    assert_eq!(json(&r)["format"], "binance");
    let fr = |n: u64| ark_bn254::Fr::from(n);
    let assets = [[0u64, 150, 20, 70, 0, 0], [7, 3000, 0, 0, 1500, 0]];
    let leaf = binance_leaf(
        fr(0x6d),
        fr(4650),
        fr(20),
        fr(1570),
        binance_commitment(&assets, 50),
    );
    let index = 5u64;
    let siblings: Vec<ark_bn254::Fr> = (0..28u64).map(|i| fr(1000 + i)).collect();
    let mut node = leaf;
    for (i, s) in siblings.iter().enumerate() {
        node = if (index >> i) & 1 == 0 {
            hash(&[node, *s], 16)
        } else {
            hash(&[*s, node], 16)
        };
    }
    let b64 = |x: &ark_bn254::Fr| {
        let mut b = [0u8; 32];
        let be = ark_ff::BigInteger::to_bytes_be(&x.into_bigint());
        b.copy_from_slice(&be);
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let root = to_hex(node);
    let file = |equity: u64, collateral: &str| {
        serde_json::json!({
            "AccountIndex": index,
            "AccountIdHash": format!("{:064x}", 0x6d),
            "TotalEquity": 4650u64, "TotalDebt": 20u64,
            "TotalCollateral": serde_json::Value::Number(collateral.parse().unwrap()),
            "Assets": [
                {"Index": 0, "Equity": equity, "Debt": 20, "Loan": 70, "Margin": 0, "PortfolioMargin": 0},
                {"Index": 7, "Equity": 3000, "Debt": 0, "Loan": 0, "Margin": 1500, "PortfolioMargin": 0}
            ],
            "Root": root,
            "Proof": siblings.iter().map(b64).collect::<Vec<_>>(),
        })
        .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, file(150, "1570")).unwrap();
    let r = verify(&[&good], &["--root", &root]).expect_code("published.verified");
    assert_eq!(json(&r)["root"], root);
    for (equity, collateral) in [(151, "1570"), (150, "1571")] {
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, file(equity, collateral)).unwrap();
        verify(&[&bad], &["--root", &root]).expect_code("published.check_failed");
    }
    // A changed sibling, another root, a cut file, another exchange's file.
    let text = file(150, "1570");
    let first = b64(&siblings[0]);
    let other = dir.path().join("other-sibling.json");
    std::fs::write(&other, text.replacen(&first, &b64(&fr(999)), 1)).unwrap();
    verify(&[&other], &["--root", &root]).expect_code("published.check_failed");
    verify(&[&good], &["--root", &"1".repeat(64)]).expect_code("published.root_mismatch");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let r = verify(&[&cut], &["--format", "binance"]).expect_code("input.invalid");
    assert!(r.all().contains("cut short"), "{}", r.all());
    let r = verify(
        &[&sample("gate/user_config-readme.json")],
        &["--format", "binance"],
    )
    .expect_code("input.invalid");
    assert!(r.all().contains("has no"), "{}", r.all());
    // Binance's padding takes the assets in ascending order.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["Assets"].as_array_mut().unwrap().reverse();
    let swapped = dir.path().join("swapped.json");
    std::fs::write(&swapped, v.to_string()).unwrap();
    let r = verify(&[&swapped], &[]).expect_code("input.invalid");
    assert!(r.all().contains("ascending order"), "{}", r.all());
}

/// A reserve file's own rules, each with a file a dishonest exchange could write: the same
/// holding listed twice, rows of one chain at two heights, a row signing another message than
/// the file's, a per-network total that is not its rows' sum; and the layouts: a `Type` column,
/// a negative or unreadable amount, a missing header.
#[test]
fn okx_reserve_file_rules() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("okx/okx_por_example.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = (lines[15], lines[16]);
    let usdt_other_message = std::fs::read_to_string(sample("okx/test.csv")).unwrap();
    let usdt = usdt_other_message.lines().nth(1).unwrap();
    let head = lines[14];
    let file = |total: &str, rows: &[String]| {
        format!(
            "coin,snapshot height,amount\nETH(ALL),-,{total}\n\n{head}\n{}\n",
            rows.join("\n")
        )
    };
    let run_file = |name: &str, body: String, extra: &[&str]| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        verify(&[&p], extra)
    };
    let honest = file("0.207920483175044365", &[a.to_string(), b.to_string()]);
    let r =
        run_file("honest.csv", honest.clone(), &[]).expect_code("published.reserves_not_checked");
    assert_eq!(rows_with(&r, "held"), 2);
    assert_eq!(json(&r)["proven_sums"]["ETH"], "0.207920483175044365");
    // The same address again, in capitals: the same funds would count twice.
    let twice = a.replace(
        "0x0cdcdb19a857c2ac24818ca4fdfe38cce071483e",
        "0x0CDCDB19A857C2AC24818CA4FDFE38CCE071483E",
    );
    let r = run_file(
        "twice.csv",
        file(
            "0.266880192024274693",
            &[a.to_string(), b.to_string(), twice],
        ),
        &[],
    )
    .expect_code("published.check_failed");
    assert!(r.all().contains("it would count twice"), "{}", r.all());
    // One chain, two heights.
    let later = b.replace("20914735", "20914736");
    let r = run_file(
        "heights.csv",
        file("0.207920483175044365", &[a.to_string(), later]),
        &[],
    )
    .expect_code("published.check_failed");
    assert!(
        r.all().contains("one snapshot has one height per chain"),
        "{}",
        r.all()
    );
    // A valid signature over another text (lifted from another publication).
    // test.csv's layout is digitalAsset,network,address,sig1,sig2,message,...; the monthly one
    // coin,Network,height,address,amount,message,sig1,sig2,...
    let f: Vec<&str> = usdt.split(',').collect();
    let lifted = format!("USDT-ERC20,ETH,20914735,{},1,{},{},,,,", f[2], f[5], f[3]);
    let r = run_file(
        "lifted.csv",
        file(
            "0.207920483175044365",
            &[a.to_string(), b.to_string(), lifted],
        ),
        &[],
    )
    .expect_code("published.check_failed");
    assert!(r.all().contains("not the file's message"), "{}", r.all());
    // A per-network total that its rows do not make.
    let r = run_file(
        "network-total.csv",
        honest.replacen(
            "ETH(ALL),-,0.207920483175044365",
            "ETH(ALL),-,0.207920483175044365\nETH,20914735,5",
            1,
        ),
        &[],
    )
    .expect_code("published.check_failed");
    assert!(
        r.all()
            .contains("its ETH rows add up to 0.207920483175044365"),
        "{}",
        r.all()
    );
    // OKX's newer layout: a Type column after the coin.
    let typed = format!(
        "coin,snapshot height,amount\nETH(ALL),-,0.207920483175044365\n\n{}\n{}\n{}\n",
        head.replacen("coin,", "coin,Type,", 1),
        a.replacen("ETH,", "ETH,Non Staking,", 1),
        b.replacen("ETH,", "ETH,Non Staking,", 1)
    );
    let r = run_file("typed.csv", typed, &[]).expect_code("published.reserves_not_checked");
    assert_eq!(rows_with(&r, "held"), 2, "{}", r.stdout);
    // A negative amount is a failure; an unreadable one and a missing header are bad input.
    let neg = a.replace("0.058959708849230328", "-0.058959708849230328");
    run_file("negative.csv", file("0.09", &[neg, b.to_string()]), &[]).expect(1);
    let junk = a.replace("0.058959708849230328", "0.05x");
    run_file("junk.csv", file("0.2", &[junk, b.to_string()]), &[]).expect_code("input.invalid");
    let no_head = honest.replacen(&format!("{head}\n"), "", 1);
    let r = run_file("no-header.csv", no_head, &[]).expect_code("input.invalid");
    assert!(r.all().contains("header"), "{}", r.all());
}

/// The two listings (BitMEX's tree, OKX v2's tree) cut short or swapped for another file are
/// bad input, in words a customer understands.
#[test]
fn cut_or_foreign_tree_listings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bitmex =
        std::fs::read_to_string(sample("bitmex/liabilities-proof-readme-before-bdb5f06.csv"))
            .unwrap();
    let cut = dir.path().join("bitmex-cut.csv");
    std::fs::write(&cut, bitmex.lines().take(10).collect::<Vec<_>>().join("\n")).unwrap();
    let given = ["--user-id", "2", "--nonce", BITMEX_NONCE_2];
    let r = verify(&[&cut], &given).expect_code("input.invalid");
    assert!(r.all().contains("a full binary tree"), "{}", r.all());
    let r = verify(
        &[&sample("mexc/merkle_proof.json")],
        &[
            "--format",
            "bitmex",
            "--user-id",
            "2",
            "--nonce",
            BITMEX_NONCE_2,
        ],
    )
    .expect_code("input.invalid");
    assert!(r.all().contains("block_height"), "{}", r.all());
    let tree = std::fs::read_to_string(sample("okx/full-liabilities-merkle-tree.txt")).unwrap();
    let cut = dir.path().join("okx-tree-cut.txt");
    std::fs::write(&cut, tree.lines().take(30).collect::<Vec<_>>().join("\n")).unwrap();
    let r = verify(&[&sample("okx/user_info_file.json"), &cut], &[]).expect_code("input.invalid");
    assert!(r.all().contains("nodes at height"), "{}", r.all());
}
