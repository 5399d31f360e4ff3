//! Bitcoin reserves against a Bitcoin Core node (`-txindex=1 -txospenderindex=1`).
//!
//! For each listed UTXO: the transaction exists and is in the main chain at or below the
//! snapshot height; the output has the listed value and pays the listed address; and it was
//! unspent at the snapshot height (unspent now, or spent in a later block).

use super::{Rpc, RpcError};
use crate::error::{Error, Result};
use crate::reserves::{bitcoin::parse_address, ReserveEntry};
use bitcoin::{Network, Transaction};
use serde_json::{json, Value};

/// A checked connection to a Bitcoin Core node.
pub struct BitcoinNode {
    rpc: Rpc,
    network: Network,
    height: u64,
}

fn core_chain_name(n: Network) -> &'static str {
    match n {
        Network::Bitcoin => "main",
        Network::Testnet => "test",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        _ => "regtest",
    }
}

impl BitcoinNode {
    /// Connects and checks the node: its network, that it has the indexes the checks need,
    /// and (later, per entry) that it has reached the snapshot height.
    pub fn connect(url: &str, network: Network) -> Result<BitcoinNode> {
        let rpc = Rpc::new("bitcoin node", url)?;
        let info = rpc.must("getblockchaininfo", json!([]))?;
        let chain = info.get("chain").and_then(Value::as_str).unwrap_or("?");
        if chain != core_chain_name(network) {
            return Err(Error::input(format!(
                "bitcoin node at {}: it is on chain {chain:?}, but the reserves are on {:?}",
                rpc.shown(),
                core_chain_name(network)
            )));
        }
        let height = info.get("blocks").and_then(Value::as_u64).unwrap_or(0);
        let idx = rpc.must("getindexinfo", json!([]))?;
        for name in ["txindex", "txospenderindex"] {
            let synced = idx
                .get(name)
                .and_then(|i| i.get("synced"))
                .and_then(Value::as_bool)
                == Some(true);
            if !synced {
                return Err(Error::input(format!(
                    "bitcoin node at {}: {name} is missing or not synced; run bitcoind with -txindex=1 \
                     -txospenderindex=1 so that spent and historical outputs can be checked",
                    rpc.shown()
                )));
            }
        }
        Ok(BitcoinNode {
            rpc,
            network,
            height,
        })
    }

    /// The node's current height.
    pub fn height(&self) -> u64 {
        self.height
    }

    fn block_height(&self, blockhash: &str) -> Result<Option<u64>> {
        let h = self.rpc.must("getblockheader", json!([blockhash, true]))?;
        // confirmations -1: the block is not in the main chain (reorged out).
        if h.get("confirmations").and_then(Value::as_i64).unwrap_or(-1) < 0 {
            return Ok(None);
        }
        Ok(h.get("height").and_then(Value::as_u64))
    }

    /// Checks one entry. `Ok(Err(reason))` is a failed check; `Err` is a node problem.
    pub fn check(&self, e: &ReserveEntry) -> Result<std::result::Result<String, String>> {
        if self.height < e.height {
            return Err(Error::input(format!(
                "bitcoin node at {}: at height {}, below the snapshot height {}; let it sync first",
                self.rpc.shown(),
                self.height,
                e.height
            )));
        }
        let address = parse_address(&e.address, self.network)?;
        let spk = address.script_pubkey();
        for u in &e.utxos {
            let op = format!("{}:{}", u.txid, u.vout);
            let tx = match self
                .rpc
                .call("getrawtransaction", json!([u.txid.to_string(), true]))
            {
                Ok(v) => v,
                Err(RpcError::Rpc { code: -5, .. }) => {
                    return Ok(Err(format!("UTXO {op}: no such transaction on chain")))
                }
                Err(e) => return Err(self.rpc.fatal("getrawtransaction", e)),
            };
            let raw = tx.get("hex").and_then(Value::as_str).unwrap_or("");
            let decoded: Transaction = hex::decode(raw)
                .ok()
                .and_then(|b| bitcoin::consensus::deserialize(&b).ok())
                .ok_or_else(|| {
                    Error::input(format!(
                        "bitcoin node: getrawtransaction {}: unreadable transaction",
                        u.txid
                    ))
                })?;
            if decoded.compute_txid() != u.txid {
                return Err(Error::input(format!(
                    "bitcoin node: getrawtransaction {} returned another transaction",
                    u.txid
                )));
            }
            let Some(out) = decoded.output.get(u.vout as usize) else {
                return Ok(Err(format!(
                    "UTXO {op}: the transaction has only {} outputs",
                    decoded.output.len()
                )));
            };
            if out.script_pubkey != spk {
                return Ok(Err(format!("UTXO {op} does not pay {}", e.address)));
            }
            if u128::from(out.value.to_sat()) != u.value.0 {
                return Ok(Err(format!(
                    "UTXO {op}: the chain says {} sat, the exchange claims {} sat",
                    out.value.to_sat(),
                    u.value.0
                )));
            }
            let created = match tx.get("blockhash").and_then(Value::as_str) {
                Some(bh) => self.block_height(bh)?,
                None => None,
            };
            match created {
                None => return Ok(Err(format!("UTXO {op} is not confirmed in the main chain"))),
                Some(h) if h > e.height => {
                    return Ok(Err(format!(
                        "UTXO {op} was created at height {h}, after the snapshot height {}",
                        e.height
                    )))
                }
                Some(_) => {}
            }
            let spent = self.rpc.must(
                "gettxspendingprevout",
                json!([[{"txid": u.txid.to_string(), "vout": u.vout}]]),
            )?;
            let spender = spent
                .get(0)
                .and_then(|s| s.get("spendingtxid"))
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(sp) = spender {
                let stx = self.rpc.must("getrawtransaction", json!([sp, true]))?;
                if let Some(bh) = stx.get("blockhash").and_then(Value::as_str) {
                    if let Some(h) = self.block_height(bh)? {
                        if h <= e.height {
                            return Ok(Err(format!(
                                "UTXO {op} was spent at height {h}, at or before the snapshot height {}",
                                e.height
                            )));
                        }
                    }
                }
            }
        }
        Ok(Ok(format!(
            "{} UTXO(s) exist, pay this address, confirmed at or below height {} and unspent at it (node at height {})",
            e.utxos.len(),
            e.height,
            self.height
        )))
    }
}
