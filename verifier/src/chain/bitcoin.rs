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
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

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
    txs: RefCell<HashMap<bitcoin::Txid, Rc<TxFacts>>>,
    heights: RefCell<HashMap<String, Option<u64>>>,
    spends: RefCell<HashMap<bitcoin::OutPoint, Option<u64>>>,
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
            txs: RefCell::default(),
            heights: RefCell::default(),
            spends: RefCell::default(),
        })
    }

    /// The node's current height.
    pub fn height(&self) -> u64 {
        self.height
    }

    fn block_height(&self, blockhash: &str) -> Result<Option<u64>> {
        if let Some(h) = self.heights.borrow().get(blockhash) {
            return Ok(*h);
        }
        let h = self.rpc.must("getblockheader", json!([blockhash, true]))?;
        // confirmations -1: the block is not in the main chain (reorged out).
        let height = if h.get("confirmations").and_then(Value::as_i64).unwrap_or(-1) < 0 {
            None
        } else {
            h.get("height").and_then(Value::as_u64)
        };
        self.heights
            .borrow_mut()
            .insert(blockhash.to_string(), height);
        Ok(height)
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

    /// A transaction's outputs and the height of its main-chain block, fetched once per run:
    /// a statement may list thousands of outputs of one transaction, and refetching it for each
    /// cost 86 ms an output (3,000 outputs: 259 s) before this cache.
    fn tx_facts(&self, txid: &bitcoin::Txid) -> Result<Option<Rc<TxFacts>>> {
        if let Some(f) = self.txs.borrow().get(txid) {
            return Ok(Some(f.clone()));
        }
        let tx = match self
            .rpc
            .call("getrawtransaction", json!([txid.to_string(), true]))
        {
            Ok(v) => v,
            Err(RpcError::Rpc { code: -5, .. }) => return Ok(None),
            Err(e) => return Err(self.rpc.fatal("getrawtransaction", e)),
        };
        let decoded = decode_tx(&tx, &txid.to_string())?;
        let height = match tx.get("blockhash").and_then(Value::as_str) {
            Some(bh) => self.block_height(bh)?,
            None => None,
        };
        let facts = Rc::new(TxFacts {
            outputs: decoded
                .output
                .into_iter()
                .map(|o| (o.script_pubkey, o.value.to_sat()))
                .collect(),
            height,
        });
        self.txs.borrow_mut().insert(*txid, facts.clone());
        Ok(Some(facts))
    }

    /// Where each listed UTXO was created and spent, checked against the chain (it exists,
    /// pays the address, has the listed value, is confirmed). `Ok(Err(reason))` is a failed
    /// check. Spends are asked for in batches of [`SPEND_BATCH`] outpoints.
    fn utxo_facts(
        &self,
        b: &BitcoinHolding,
    ) -> Result<std::result::Result<Vec<UtxoFacts>, String>> {
        let spk = b.address.script_pubkey();
        let mut out = Vec::with_capacity(b.utxos.len());
        for u in &b.utxos {
            let op = u.outpoint;
            let Some(tx) = self.tx_facts(&op.txid)? else {
                return Ok(Err(format!("UTXO {op}: no such transaction on chain")));
            };
            let Some((script, value)) = tx.outputs.get(op.vout as usize) else {
                return Ok(Err(format!(
                    "UTXO {op}: the transaction has only {} outputs",
                    tx.outputs.len()
                )));
            };
            if *script != spk {
                return Ok(Err(format!("UTXO {op} does not pay {}", b.address)));
            }
            if *value != u.value {
                return Ok(Err(format!(
                    "UTXO {op}: the chain says {value} sat, the exchange claims {} sat",
                    u.value
                )));
            }
            let Some(created) = tx.height else {
                return Ok(Err(format!("UTXO {op} is not confirmed in the main chain")));
            };
            out.push(UtxoFacts {
                value: u.value,
                created,
                spent: None,
            });
        }
        // Spends are asked once per outpoint and run (the span rule reads a holding again).
        let unknown: Vec<usize> = {
            let spends = self.spends.borrow();
            (0..out.len())
                .filter(|&i| !spends.contains_key(&b.utxos[i].outpoint))
                .collect()
        };
        for chunk in unknown.chunks(SPEND_BATCH) {
            let asked: Vec<Value> = chunk
                .iter()
                .map(|&i| {
                    let op = b.utxos[i].outpoint;
                    json!({"txid": op.txid.to_string(), "vout": op.vout})
                })
                .collect();
            let spent = self.rpc.must("gettxspendingprevout", json!([asked]))?;
            let answers = spent
                .as_array()
                .filter(|a| a.len() == chunk.len())
                .ok_or_else(|| {
                    Error::input(format!(
                        "bitcoin node at {}: gettxspendingprevout answered {} outpoints for {} asked",
                        self.rpc.shown(),
                        spent.as_array().map_or(0, Vec::len),
                        chunk.len()
                    ))
                })?;
            for (&i, a) in chunk.iter().zip(answers) {
                let at = match a.get("spendingtxid").and_then(Value::as_str) {
                    None => None,
                    Some(sp) => {
                        let sp: bitcoin::Txid = sp.parse().map_err(|_| {
                            Error::input(format!(
                                "bitcoin node at {}: gettxspendingprevout: not a txid: {sp:?}",
                                self.rpc.shown()
                            ))
                        })?;
                        // A spender only in the mempool has not spent the output in any block.
                        self.tx_facts(&sp)?.and_then(|t| t.height)
                    }
                };
                self.spends.borrow_mut().insert(b.utxos[i].outpoint, at);
            }
        }
        let spends = self.spends.borrow();
        for (u, f) in b.utxos.iter().zip(out.iter_mut()) {
            f.spent = spends.get(&u.outpoint).copied().flatten();
        }
        Ok(Ok(out))
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
        let facts = match self.utxo_facts(b)? {
            Ok(f) => f,
            Err(why) => return Ok(Err(why)),
        };
        for (u, f) in b.utxos.iter().zip(&facts) {
            let op = u.outpoint;
            if f.created > height {
                return Ok(Err(format!(
                    "UTXO {op} was created at height {}, after the snapshot height {height}",
                    f.created
                )));
            }
            if let Some(h) = f.spent.filter(|h| *h <= height) {
                return Ok(Err(format!(
                    "UTXO {op} was spent at height {h}, at or before the snapshot height {height}"
                )));
            }
        }
        Ok(Ok(format!(
            "{} UTXO(s) exist, pay this address, confirmed at or below height {height} and unspent at it (node at height {})",
            b.utxos.len(),
            self.height
        )))
    }

    /// The listed UTXOs' value held at the end of block `height`: those created at or below
    /// it and not spent at or below it. Facts come from the run's cache.
    pub fn balance_at(
        &self,
        b: &BitcoinHolding,
        height: u64,
    ) -> Result<std::result::Result<u128, String>> {
        Ok(self.utxo_facts(b)?.map(|facts| {
            facts
                .iter()
                .filter(|f| f.created <= height && f.spent.is_none_or(|s| s > height))
                .map(|f| u128::from(f.value))
                .sum()
        }))
    }

    /// The time of the block at `height`, for the snapshot span's search.
    pub fn time_of(&self, height: u64) -> Result<i64> {
        self.block_time(height)
    }
}

/// How many outpoints one `gettxspendingprevout` call asks for.
const SPEND_BATCH: usize = 500;

/// A transaction as the checks need it.
struct TxFacts {
    outputs: Vec<(bitcoin::ScriptBuf, u64)>,
    height: Option<u64>,
}

/// Where a listed UTXO was created and spent.
struct UtxoFacts {
    value: u64,
    created: u64,
    spent: Option<u64>,
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
