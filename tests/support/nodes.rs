//! Real chain nodes for tests, on 127.0.0.1 only, stopped when dropped.
//!
//! `bitcoind` comes from `POR_BITCOIND_DIR` (a directory with `bitcoind`, as printed by
//! `../shared/tools/bitcoind.sh`) or the PATH; `anvil` from `POR_ANVIL` or the PATH. Without
//! them a test is skipped with a message, except in CI (`CI` set) or with
//! `POR_REQUIRE_NODES=1`, where a missing node fails the test.

use por_verifier::chain::Rpc;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find(env: &str, name: &str, in_dir: bool) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(env) {
        let p = PathBuf::from(v);
        let p = if in_dir { p.join(name) } else { p };
        if p.exists() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var_os("POR_REQUIRE_NODES").is_some()
}

fn missing(what: &str) -> Option<PathBuf> {
    assert!(
        !required(),
        "{what} not found: set POR_BITCOIND_DIR / POR_ANVIL (see .ci/run)"
    );
    eprintln!("SKIPPED: {what} not found (set POR_BITCOIND_DIR / POR_ANVIL, see .ci/run)");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A regtest Bitcoin Core node with -txindex and -txospenderindex.
pub struct Bitcoind {
    child: Child,
    _dir: tempfile::TempDir,
    /// The RPC URL with credentials.
    pub url: String,
    rpc: Rpc,
}

impl Bitcoind {
    /// Starts a node, or `None` (skip) when bitcoind is not available outside CI.
    pub fn start() -> Option<Bitcoind> {
        Self::start_with(&["-txindex=1", "-txospenderindex=1"])
    }

    /// Starts a node with these index options instead.
    pub fn start_with(index_args: &[&str]) -> Option<Bitcoind> {
        let bin = find("POR_BITCOIND_DIR", "bitcoind", true).or_else(|| missing("bitcoind"))?;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(bin)
            .args([
                "-regtest",
                &format!("-datadir={}", dir.path().display()),
                "-listen=0",
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
                &format!("-rpcport={port}"),
                "-rpcuser=u",
                "-rpcpassword=p",
                "-fallbackfee=0.0001",
                "-printtoconsole=0",
            ])
            .args(index_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bitcoind");
        let url = format!("http://u:p@127.0.0.1:{port}");
        let rpc = Rpc::new("bitcoin node", &url).expect("rpc");
        let node = Bitcoind {
            child,
            _dir: dir,
            url,
            rpc,
        };
        let start = Instant::now();
        while node.rpc.call("getblockchaininfo", json!([])).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "bitcoind did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(node)
    }

    /// Calls an RPC method, panicking on error.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.rpc
            .call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e:?}"))
    }

    /// Mines `n` blocks to `address`; returns the block hashes.
    pub fn mine(&self, n: u64, address: &str) -> Vec<String> {
        serde_json::from_value(self.call("generatetoaddress", json!([n, address]))).expect("hashes")
    }

    /// Sets the node's clock (regtest's `setmocktime`): blocks mined next carry this time, so a
    /// test can mine in the month it attests and later, as an exchange's anchors would be.
    pub fn set_time(&self, unix: i64) {
        self.call("setmocktime", json!([unix]));
    }

    /// The coinbase txid of a block.
    pub fn coinbase(&self, blockhash: &str) -> String {
        self.call("getblock", json!([blockhash]))["tx"][0]
            .as_str()
            .expect("txid")
            .to_string()
    }

    /// Spends output `vout` of `txid` (worth `amount` BTC, paying `spk_hex`) with `wif` to
    /// `to`, sending `amount - 0.001` BTC; returns the new txid.
    pub fn spend(
        &self,
        txid: &str,
        vout: u32,
        spk_hex: &str,
        amount: f64,
        wif: &str,
        to: &str,
    ) -> String {
        let out = json!({to: ((amount - 0.001) * 1e8).round() / 1e8});
        let raw = self.call(
            "createrawtransaction",
            json!([[{"txid": txid, "vout": vout}], out]),
        );
        let prev = json!([{"txid": txid, "vout": vout, "scriptPubKey": spk_hex, "amount": amount}]);
        let signed = self.call("signrawtransactionwithkey", json!([raw, [wif], prev]));
        assert_eq!(signed["complete"], true, "signing failed: {signed}");
        self.call("sendrawtransaction", json!([signed["hex"]]))
            .as_str()
            .expect("txid")
            .to_string()
    }
}

impl Drop for Bitcoind {
    fn drop(&mut self) {
        let _ = self.rpc.call("stop", json!([]));
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local Ethereum node (anvil).
pub struct Anvil {
    child: Child,
    /// The RPC URL.
    pub url: String,
    rpc: Rpc,
}

impl Anvil {
    /// Starts anvil (chain id 31337), or `None` (skip) when it is not available outside CI.
    pub fn start() -> Option<Anvil> {
        Self::start_with(31_337)
    }

    /// Starts anvil with a chain id (1 to play Ethereum mainnet, as the user's own node would
    /// answer). Its finalized block trails the latest by two blocks, so tests can tell settled
    /// snapshot blocks from unsettled ones.
    pub fn start_with(chain_id: u64) -> Option<Anvil> {
        Self::start_at(chain_id, None)
    }

    /// The same with the genesis block stamped at `genesis` (unix seconds), so a test can mine
    /// blocks at chosen times around a snapshot ([`Anvil::mine_at`]).
    pub fn start_at(chain_id: u64, genesis: Option<i64>) -> Option<Anvil> {
        let bin = find("POR_ANVIL", "anvil", false).or_else(|| missing("anvil"))?;
        let genesis: Vec<String> = genesis
            .map(|t| vec!["--timestamp".to_string(), t.to_string()])
            .unwrap_or_default();
        let port = free_port();
        let child = Command::new(bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--silent",
                "--chain-id",
                &chain_id.to_string(),
                "--slots-in-an-epoch",
                "1",
            ])
            .args(&genesis)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start anvil");
        let url = format!("http://127.0.0.1:{port}");
        let rpc = Rpc::new("ethereum node", &url).expect("rpc");
        let node = Anvil { child, url, rpc };
        let start = Instant::now();
        while node.rpc.call("eth_chainId", json!([])).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "anvil did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(node)
    }

    /// Calls an RPC method, panicking on error.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.rpc
            .call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e:?}"))
    }

    /// Calls an RPC method; an error (a revert, say) is the error's words.
    pub fn call_result(&self, method: &str, params: Value) -> Result<Value, String> {
        self.rpc.call(method, params).map_err(|e| format!("{e:?}"))
    }

    /// Mines one block stamped `time` (unix seconds); returns its number.
    pub fn mine_at(&self, time: i64) -> u64 {
        self.call("evm_setNextBlockTimestamp", json!([time]));
        self.call("evm_mine", json!([]));
        let n = self.call("eth_blockNumber", json!([]));
        u64::from_str_radix(n.as_str().expect("quantity").trim_start_matches("0x"), 16)
            .expect("block number")
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay in front of a node that keeps every byte the client sent, so a test can count
/// the RPC calls the verifier made (the work an exchange's statement makes a customer's node do).
pub struct CountingRelay {
    /// The node's URL with the relay's port instead of the node's.
    pub url: String,
    sent: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CountingRelay {
    /// Relays `url` (`http://user:pass@127.0.0.1:port`) through a new local port.
    pub fn start(url: &str) -> CountingRelay {
        use std::io::{Read, Write};
        use std::net::TcpStream;
        use std::sync::{Arc, Mutex};
        let (head, port) = url.rsplit_once(':').expect("url with a port");
        let target = format!("127.0.0.1:{port}");
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay port");
        let relay = format!("{head}:{}", listener.local_addr().expect("addr").port());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = TcpStream::connect(&target) else {
                    return;
                };
                let (mut c2, mut s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                });
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = client.read(&mut buf) {
                        if n == 0 || server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        log.lock().expect("log").extend_from_slice(&buf[..n]);
                    }
                    let _ = server.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        CountingRelay { url: relay, sent }
    }

    /// How many times `needle` (say `"getrawtransaction"`, with its quotes) appears in what the
    /// client sent so far.
    pub fn count(&self, needle: &str) -> usize {
        let sent = self.sent.lock().expect("log");
        let n = needle.as_bytes();
        sent.windows(n.len()).filter(|w| *w == n).count()
    }
}
