//! Bounded work for the customer: a reserves statement of the largest size the verifier reads
//! (64 MiB), checked by the real `por-verify reserves`, offline and against a regtest Bitcoin
//! Core node (run: `cargo bench -p por-verifier --bench reserves_scale`).
//!
//! - offline: as many EVM entries as fit (one address and one `personal_sign` signature each,
//!   every one recovered), with 80,000 distinct declared custodian names;
//! - regtest (when `POR_BITCOIND_DIR` names a directory with `bitcoind`): one address holding
//!   as many real outputs as fit, 2,000 per transaction, so every transaction is listed 2,000
//!   times and every output's spend is asked.
//!
//! `POR_BENCH_MIB` (default 64) sets the statement size; `POR_BENCH_PART=offline` or `regtest` runs
//! one half. Targets (issue 17, 2 cores): offline
//! under 60 s, against the node under 10 min.

use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use ed25519_dalek::{Signer, SigningKey};
use por_verifier::amount::Amount;
use por_verifier::asset::Asset;
use por_verifier::attestation::Attestation;
use por_verifier::binding::Binding;
use por_verifier::chains::Chain;
use por_verifier::hash::Hash;
use por_verifier::reserves::{challenge, RawEntry, RawUtxo, ReservesStatement};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_por-verify");

fn target_bytes() -> usize {
    std::env::var("POR_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(64)
        << 20
}

fn attestation(
    key: &SigningKey,
    asset: &str,
    decimals: u8,
    chain: &str,
    time: &str,
) -> Attestation {
    let mut a = Attestation {
        exchange: "Bench Exchange".into(),
        period: time[..7].into(),
        snapshot_time: time.into(),
        assets: vec![Asset {
            symbol: asset.into(),
            decimals,
        }],
        tree_height: 4,
        root_hash: Hash([1; 32]),
        liabilities: vec![Amount(1)],
        bindings: vec![Binding {
            asset: asset.into(),
            chain: chain.into(),
            token: None,
            decimals,
        }],
        history: por_verifier::history::HistoryLink::first(None),
        rotation: None,
        hidden: None,
        public_key: key.verifying_key().to_bytes(),
        signature: [0; 64],
    };
    a.signature = key.sign(&a.signing_message()).to_bytes();
    a
}

fn write_statement(
    dir: &Path,
    key: &SigningKey,
    att: &Attestation,
    entries: Vec<RawEntry>,
) -> PathBuf {
    let mut s = ReservesStatement {
        exchange: att.exchange.clone(),
        period: att.period.clone(),
        attestation: att.digest(),
        sequence: 1,
        entries,
        public_key: key.verifying_key().to_bytes(),
        signature: [0; 64],
    };
    s.signature = key.sign(&s.signing_message()).to_bytes();
    let p = dir.join("reserves.json");
    std::fs::write(&p, s.to_json()).unwrap();
    std::fs::write(dir.join("attestation.json"), att.to_json()).unwrap();
    p
}

fn registry(dir: &Path, chain: &str, symbol: &str, decimals: u8) -> PathBuf {
    let p = dir.join("registry.json");
    let r = json!({"format": "por-registry-v1", "entries": [
        {"chain": chain, "symbol": symbol, "decimals": decimals, "issuance": "native"}]});
    std::fs::write(&p, r.to_string()).unwrap();
    p
}

/// Runs `por-verify reserves` on the files in `dir`; prints and returns the wall time.
fn verify(dir: &Path, key: &SigningKey, extra: &[&str]) -> (Duration, i32, String) {
    let start = Instant::now();
    let out = Command::new(BIN)
        .arg("reserves")
        .arg("--attestation")
        .arg(dir.join("attestation.json"))
        .arg("--reserves")
        .arg(dir.join("reserves.json"))
        .arg("--exchange-key")
        .arg(hex::encode(key.verifying_key().to_bytes()))
        .arg("--no-store")
        .arg("--registry")
        .arg(dir.join("registry.json"))
        .args(extra)
        .output()
        .expect("run por-verify");
    let took = start.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (took, out.status.code().unwrap_or(-1), text)
}

fn eth_address(sk: &SecretKey, secp: &Secp256k1<bitcoin::secp256k1::All>) -> String {
    use sha3::Digest;
    let pk = sk.public_key(secp).serialize_uncompressed();
    format!(
        "0x{}",
        hex::encode(&sha3::Keccak256::digest(&pk[1..])[12..])
    )
}

fn personal_sign(sk: &SecretKey, msg: &str, secp: &Secp256k1<bitcoin::secp256k1::All>) -> String {
    use sha3::Digest;
    let mut h = sha3::Keccak256::new();
    h.update(format!("\x19Ethereum Signed Message:\n{}", msg.len()).as_bytes());
    h.update(msg.as_bytes());
    let sig = secp.sign_ecdsa_recoverable(&Message::from_digest(h.finalize().into()), sk);
    let (id, compact) = sig.serialize_compact();
    let mut b = compact.to_vec();
    b.push(27 + id.to_i32() as u8);
    format!("0x{}", hex::encode(b))
}

fn offline() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[9; 32]);
    let chain = "ethereum-31337";
    let att = attestation(&key, "ETH", 18, chain, "2026-11-30T12:00:00Z");
    let msg = challenge(
        &att.exchange,
        &att.period,
        &Chain::parse(chain).unwrap(),
        1,
        &att.digest(),
    );
    let secp = Secp256k1::new();
    let mut entries = Vec::new();
    let (mut bytes, budget) = (0usize, target_bytes());
    let start = Instant::now();
    while bytes < budget {
        let i = entries.len() as u64 + 1;
        let mut b = [0u8; 32];
        b[24..].copy_from_slice(&i.to_be_bytes());
        b[0] = 1;
        let sk = SecretKey::from_slice(&b).unwrap();
        let e = RawEntry {
            asset: "ETH".into(),
            chain: chain.into(),
            height: 1,
            address: eth_address(&sk, &secp),
            token: None,
            balance: "1000000000000000000".into(),
            utxos: Vec::new(),
            script: None,
            signatures: vec![personal_sign(&sk, &msg, &secp)],
            storage: Some("cold".into()),
            custodian: Some(format!("Custodian {}", i % 80_000)),
            wallet: None,
        };
        // Its share of the JSON: the fields, their names and quotes.
        bytes += 250
            + e.address.len()
            + e.signatures[0].len()
            + e.custodian.as_ref().map_or(0, String::len);
        entries.push(e);
    }
    let n = entries.len();
    let path = write_statement(dir.path(), &key, &att, entries);
    registry(dir.path(), chain, "ETH", 18);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "offline: {n} EVM entries, 80,000 custodian names, statement {:.1} MiB (made in {:.1} s)",
        size as f64 / (1 << 20) as f64,
        start.elapsed().as_secs_f64()
    );
    let (took, code, out) = verify(dir.path(), &key, &["--offline"]);
    assert_eq!(
        code,
        0,
        "{}",
        out.lines().rev().take(12).collect::<Vec<_>>().join("\n")
    );
    println!(
        "offline: por-verify reserves --offline: {:.1} s, exit {code} (target: under 60 s)",
        took.as_secs_f64()
    );
}

/// A regtest node of its own, stopped at the end.
struct Node {
    child: std::process::Child,
    rpc: por_verifier::chain::Rpc,
    url: String,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(bin: &Path) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args([
                "-regtest",
                "-listen=0",
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
                "-rpcuser=u",
                "-rpcpassword=p",
                "-printtoconsole=0",
                "-txindex=1",
                "-txospenderindex=1",
                "-rpcthreads=4",
            ])
            .arg(format!("-datadir={}", dir.path().display()))
            .arg(format!("-rpcport={port}"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start bitcoind");
        let url = format!("http://u:p@127.0.0.1:{port}");
        let rpc = por_verifier::chain::Rpc::new("bitcoin node", &url).unwrap();
        let t = Instant::now();
        while rpc.call("getblockchaininfo", json!([])).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "bitcoind did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Node {
            child,
            rpc,
            url,
            _dir: dir,
        }
    }

    fn call(&self, m: &str, p: Value) -> Value {
        self.rpc.call(m, p).unwrap_or_else(|e| panic!("{m}: {e:?}"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.rpc.call("stop", json!([]));
        let _ = self.child.wait();
    }
}

fn regtest(bitcoind: &Path) {
    use bitcoin::sighash::{EcdsaSighashType, SighashCache};
    use bitcoin::{
        Amount as Sat, CompressedPublicKey, Network, OutPoint, Transaction, TxIn, TxOut, Witness,
    };
    const PER_TX: usize = 2_000;
    const VALUE: u64 = 1_000;
    let node = Node::start(bitcoind);
    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[3; 32]).unwrap();
    let pk = CompressedPublicKey(sk.public_key(&secp));
    let address = bitcoin::Address::p2wpkh(&pk, Network::Regtest);
    let spk = address.script_pubkey();
    // One UTXO line of the statement is about 141 bytes (pretty-printed JSON); 145 keeps the
    // statement under the size the verifier reads.
    let txs = target_bytes() / (145 * PER_TX);
    let start = Instant::now();
    let hashes: Vec<String> = serde_json::from_value(
        node.call("generatetoaddress", json!([txs + 100, address.to_string()])),
    )
    .unwrap();
    let mut outpoints = Vec::with_capacity(txs * PER_TX);
    for bh in hashes.iter().take(txs) {
        let block = node.call("getblock", json!([bh, 2]));
        let cb = &block["tx"][0];
        let value = Sat::from_btc(cb["vout"][0]["value"].as_f64().unwrap()).unwrap();
        let prev = OutPoint {
            txid: cb["txid"].as_str().unwrap().parse().unwrap(),
            vout: 0,
        };
        let mut tx = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: prev,
                ..Default::default()
            }],
            output: (0..PER_TX)
                .map(|_| TxOut {
                    value: Sat::from_sat(VALUE),
                    script_pubkey: spk.clone(),
                })
                .collect(),
        };
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(0, &spk, value, EcdsaSighashType::All)
            .unwrap();
        let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
        tx.input[0].witness = Witness::p2wpkh(
            &bitcoin::ecdsa::Signature {
                signature: sig,
                sighash_type: EcdsaSighashType::All,
            },
            &pk.0,
        );
        let hex = bitcoin::consensus::encode::serialize_hex(&tx);
        let txid = node.call("sendrawtransaction", json!([hex, 0]));
        let txid: bitcoin::Txid = txid.as_str().unwrap().parse().unwrap();
        outpoints.extend((0..PER_TX as u32).map(|vout| OutPoint { txid, vout }));
    }
    // Mine them (16 or so fill a block), then bury the snapshot block 6 deep.
    while node.call("getmempoolinfo", json!([]))["size"]
        .as_u64()
        .unwrap()
        > 0
    {
        node.call("generatetoaddress", json!([1, address.to_string()]));
    }
    let height = node.call("getblockcount", json!([])).as_u64().unwrap();
    node.call("generatetoaddress", json!([6, address.to_string()]));
    let tip = node.call(
        "getblockheader",
        json!([node.call("getbestblockhash", json!([])), true]),
    );
    let time = por_verifier::time::format_utc(tip["time"].as_i64().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[10; 32]);
    let chain = "bitcoin-regtest";
    let att = attestation(&key, "BTC", 8, chain, &time);
    let msg = challenge(
        &att.exchange,
        &att.period,
        &Chain::parse(chain).unwrap(),
        height,
        &att.digest(),
    );
    let wif = bitcoin::PrivateKey::new(sk, Network::Regtest).to_wif();
    let sig = bip322::sign_simple_encoded(&address.to_string(), &msg, &[wif], None).unwrap();
    let n = outpoints.len();
    let entry = RawEntry {
        asset: "BTC".into(),
        chain: chain.into(),
        height,
        address: address.to_string(),
        token: None,
        balance: (n as u64 * VALUE).to_string(),
        utxos: outpoints
            .iter()
            .map(|o| RawUtxo {
                outpoint: o.to_string(),
                value: VALUE.to_string(),
            })
            .collect(),
        script: None,
        signatures: vec![sig],
        storage: None,
        custodian: None,
        wallet: None,
    };
    let path = write_statement(dir.path(), &key, &att, vec![entry]);
    registry(dir.path(), chain, "BTC", 8);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "regtest: {n} outputs of {txs} transactions at one address, statement {:.1} MiB (chain made in {:.0} s)",
        size as f64 / (1 << 20) as f64,
        start.elapsed().as_secs_f64()
    );
    let node_arg = format!("{chain}={}", node.url);
    let (took, code, out) = verify(dir.path(), &key, &["--node", &node_arg]);
    assert_eq!(
        code,
        0,
        "{}",
        out.lines().rev().take(12).collect::<Vec<_>>().join("\n")
    );
    println!(
        "regtest: por-verify reserves --node {chain}=...: {:.1} s, exit {code} (target: under 600 s)",
        took.as_secs_f64()
    );
}

fn main() {
    // `POR_BENCH_PART=regtest` (or `offline`) runs one half only.
    let part = std::env::var("POR_BENCH_PART").unwrap_or_default();
    if part != "regtest" {
        offline();
    }
    if part == "offline" {
        return;
    }
    match std::env::var_os("POR_BITCOIND_DIR") {
        Some(d) if Path::new(&d).join("bitcoind").exists() => {
            regtest(&Path::new(&d).join("bitcoind"))
        }
        _ => println!(
            "regtest: SKIPPED (set POR_BITCOIND_DIR to a directory with bitcoind, see .ci/run)"
        ),
    }
}
