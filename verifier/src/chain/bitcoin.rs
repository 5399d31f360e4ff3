//! Bitcoin reserves against a Bitcoin Core node (`-txindex=1 -txospenderindex=1`).
//!
//! For each listed UTXO: the transaction exists and is in the main chain at or below the
//! snapshot height; the output has the listed value and pays the listed address; and it was
//! unspent at the snapshot height (unspent now, or spent in a later block).

use super::{Rpc, RpcError, Snapshot, BITCOIN_SETTLED_DEPTH};
use crate::error::{Error, Result};
use crate::reserves::holding::BitcoinHolding;
use bitcoin::{Network, Transaction};
use serde_json::{json, Value};

/// The transaction of a verbose `getrawtransaction` answer, checked to be the one asked for:
/// a node that answers with something else cannot be used.
fn decode_tx(answer: &Value, txid: &str) -> Result<Transaction> {
    let raw = answer.get("hex").and_then(Value::as_str).unwrap_or("");
    let tx: Transaction = hex::decode(raw)
        .ok()
        .and_then(|b| bitcoin::consensus::deserialize(&b).ok())
        .ok_or_else(|| {
            Error::input(format!(
                "bitcoin node: getrawtransaction {txid}: unreadable transaction"
            ))
        })?;
    if tx.compute_txid().to_string() != txid {
        return Err(Error::input(format!(
            "bitcoin node: getrawtransaction {txid} returned another transaction"
        )));
    }
    Ok(tx)
}

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

    /// The node's URL without credentials.
    pub fn shown(&self) -> &str {
        self.rpc.shown()
    }

    fn require_height(&self, height: u64) -> Result<()> {
        if self.height < height {
            return Err(Error::input(format!(
                "bitcoin node at {}: at height {}, below the snapshot height {height}; let it sync first",
                self.rpc.shown(),
                self.height,
            )));
        }
        Ok(())
    }

    /// The tip's height and block time.
    pub fn tip(&self) -> Result<(u64, i64)> {
        Ok((self.height, self.block_time(self.height)?))
    }

    /// The time of the main-chain block at `height`.
    fn block_time(&self, height: u64) -> Result<i64> {
        let hash = self.rpc.must("getblockhash", json!([height]))?;
        let header = self.rpc.must("getblockheader", json!([hash, true]))?;
        header.get("time").and_then(Value::as_i64).ok_or_else(|| {
            Error::input(format!(
                "bitcoin node at {}: getblockheader: no time",
                self.rpc.shown()
            ))
        })
    }

    /// The snapshot block: its time, and whether it is buried under at least
    /// [`BITCOIN_SETTLED_DEPTH`] blocks (counting itself).
    pub fn snapshot(&self, height: u64) -> Result<Snapshot> {
        self.require_height(height)?;
        let time = self.block_time(height)?;
        let depth = self.height - height + 1;
        let settled = if depth >= BITCOIN_SETTLED_DEPTH {
            Ok(format!("buried under {depth} blocks"))
        } else {
            Err(format!(
                "the snapshot block {height} has {depth} confirmation(s); at least {BITCOIN_SETTLED_DEPTH} are needed \
                 before its balances are settled: check again later"
            ))
        };
        Ok(Snapshot {
            height,
            block_time: time,
            settled,
        })
    }

    /// Checks one holding at `height`. `Ok(Err(reason))` is a failed check; `Err` is a node
    /// problem.
    pub fn check(
        &self,
        b: &BitcoinHolding,
        height: u64,
    ) -> Result<std::result::Result<String, String>> {
        self.require_height(height)?;
        if b.network != self.network {
            return Err(Error::input(format!(
                "bitcoin node at {}: it serves {}, not the network of this entry",
                self.rpc.shown(),
                core_chain_name(self.network)
            )));
        }
        let spk = b.address.script_pubkey();
        for u in &b.utxos {
            let op = u.outpoint.to_string();
            let txid = u.outpoint.txid;
            let vout = u.outpoint.vout;
            let tx = match self
                .rpc
                .call("getrawtransaction", json!([txid.to_string(), true]))
            {
                Ok(v) => v,
                Err(RpcError::Rpc { code: -5, .. }) => {
                    return Ok(Err(format!("UTXO {op}: no such transaction on chain")))
                }
                Err(e) => return Err(self.rpc.fatal("getrawtransaction", e)),
            };
            let decoded = decode_tx(&tx, &txid.to_string())?;
            let Some(out) = decoded.output.get(vout as usize) else {
                return Ok(Err(format!(
                    "UTXO {op}: the transaction has only {} outputs",
                    decoded.output.len()
                )));
            };
            if out.script_pubkey != spk {
                return Ok(Err(format!("UTXO {op} does not pay {}", b.address)));
            }
            if out.value.to_sat() != u.value {
                return Ok(Err(format!(
                    "UTXO {op}: the chain says {} sat, the exchange claims {} sat",
                    out.value.to_sat(),
                    u.value
                )));
            }
            let created = match tx.get("blockhash").and_then(Value::as_str) {
                Some(bh) => self.block_height(bh)?,
                None => None,
            };
            match created {
                None => return Ok(Err(format!("UTXO {op} is not confirmed in the main chain"))),
                Some(h) if h > height => {
                    return Ok(Err(format!(
                        "UTXO {op} was created at height {h}, after the snapshot height {height}"
                    )))
                }
                Some(_) => {}
            }
            let spent = self.rpc.must(
                "gettxspendingprevout",
                json!([[{"txid": txid.to_string(), "vout": vout}]]),
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
                        if h <= height {
                            return Ok(Err(format!(
                                "UTXO {op} was spent at height {h}, at or before the snapshot height {height}"
                            )));
                        }
                    }
                }
            }
        }
        Ok(Ok(format!(
            "{} UTXO(s) exist, pay this address, confirmed at or below height {height} and unspent at it (node at height {})",
            b.utxos.len(),
            self.height
        )))
    }
}

use crate::history::{AnchorEnd, AnchorSeen, ChainFollowed};
use crate::outpoint::Outpoint;

/// The most anchors followed on one chain (a century of monthly anchors, and then some).
const MAX_ANCHORS: usize = 10_000;

impl BitcoinNode {
    /// A block's height, confirmations and median time past; `None` when the block is not in
    /// the main chain (reorged out).
    fn block_place(&self, blockhash: &str) -> Result<Option<(u64, u64, i64)>> {
        let h = self.rpc.must("getblockheader", json!([blockhash, true]))?;
        let confirmations = h.get("confirmations").and_then(Value::as_i64).unwrap_or(-1);
        if confirmations < 1 {
            return Ok(None);
        }
        let (Some(height), Some(mtp)) = (
            h.get("height").and_then(Value::as_u64),
            h.get("mediantime").and_then(Value::as_i64),
        ) else {
            return Err(Error::input(format!(
                "bitcoin node at {}: getblockheader {blockhash} gave no height or mediantime",
                self.rpc.shown()
            )));
        };
        Ok(Some((height, confirmations as u64, mtp)))
    }

    /// Follows the chain of anchor transactions from `start`: each spends output 0 of the one
    /// before (the first spends `start`) and carries one `OP_RETURN` commitment. Only confirmed
    /// spends in the main chain count. A confirmed spend that commits nothing ends the chain
    /// (broken there): what follows it is no anchor.
    pub fn follow_anchors(&self, start: Outpoint) -> Result<ChainFollowed> {
        let mut out = Vec::new();
        let mut at = (start.txid_hex(), start.vout());
        let end = loop {
            if out.len() >= MAX_ANCHORS {
                return Err(Error::input(format!(
                    "bitcoin node at {}: more than {MAX_ANCHORS} anchors from {start}",
                    self.rpc.shown()
                )));
            }
            let spent = self.rpc.must(
                "gettxspendingprevout",
                json!([[{"txid": at.0, "vout": at.1}]]),
            )?;
            let Some(spender) = spent
                .get(0)
                .and_then(|s| s.get("spendingtxid"))
                .and_then(Value::as_str)
                .map(String::from)
            else {
                break AnchorEnd::Unspent;
            };
            let tx = self.rpc.must("getrawtransaction", json!([spender, true]))?;
            let place = match tx.get("blockhash").and_then(Value::as_str) {
                Some(bh) => self.block_place(bh)?,
                None => None,
            };
            let Some((height, confirmations, median_time)) = place else {
                break AnchorEnd::Pending(spender);
            };
            let decoded = decode_tx(&tx, &spender)?;
            let returns: Vec<&bitcoin::TxOut> = decoded
                .output
                .iter()
                .filter(|o| o.script_pubkey.is_op_return())
                .collect();
            let commitment = match returns.as_slice() {
                [one] => one
                    .script_pubkey
                    .instructions()
                    .nth(1)
                    .and_then(|i| i.ok())
                    .and_then(|i| i.push_bytes().map(|b| b.as_bytes().to_vec()))
                    .and_then(|p| crate::history::parse_anchor_payload(&p)),
                _ => None,
            };
            out.push(AnchorSeen {
                txid: spender.clone(),
                height,
                confirmations,
                median_time,
                commitment,
            });
            if commitment.is_none() {
                break AnchorEnd::Broken(spender);
            }
            if decoded
                .output
                .first()
                .is_none_or(|o| o.script_pubkey.is_op_return())
            {
                // No output 0 to continue from: the chain ends.
                break AnchorEnd::Unspent;
            }
            at = (decoded.compute_txid().to_string(), 0);
        };
        Ok(ChainFollowed {
            start,
            anchors: out,
            end,
        })
    }
}
