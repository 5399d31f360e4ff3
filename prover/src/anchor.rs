//! The monthly anchor transaction: one chain of single-use Bitcoin outputs, each spending the
//! one before and committing the history's log root in an `OP_RETURN` output. A chain of
//! single-use outputs cannot fork without a double spend, so everyone with a node sees one
//! history (spec/history.md, "Anchors").

use bitcoin::absolute::LockTime;
use bitcoin::script::PushBytesBuf;
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount as Sats, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};
use por_verifier::chains::Chain;
use por_verifier::error::{Error, Result};
use por_verifier::history::{anchor_payload, History};
use serde::Serialize;
use std::path::Path;

/// What `anchor` prints.
#[derive(Debug, Serialize)]
pub struct Anchor {
    /// The log size anchored.
    pub log_size: u64,
    /// The log root anchored.
    pub log_root: String,
    /// The `OP_RETURN` payload, hex.
    pub payload: String,
    /// The unsigned transaction, hex (for `signrawtransactionwithkey` and the like).
    pub unsigned_tx: String,
    /// The same as a PSBT (base64) with the spent output filled in, for hardware wallets.
    pub psbt: String,
}

/// Builds the anchor transaction for the latest state of `history`.
pub fn build_anchor(
    history: &Path,
    spend: &str,
    value: u64,
    address: &str,
    fee: u64,
    chain: &str,
) -> Result<Anchor> {
    let h = History::read(history)?;
    let n = h.entries.len();
    if n == 0 {
        return Err(Error::input(format!(
            "{}: nothing to anchor yet",
            history.display()
        )));
    }
    let root = h.root_at(n);
    let network = match Chain::parse(chain).map_err(|m| Error::input(format!("--chain: {m}")))? {
        Chain::Bitcoin(net) => por_verifier::reserves::holding::network(net),
        Chain::Evm(_) | Chain::Tron | Chain::Solana | Chain::BitcoinFork(_) => {
            return Err(Error::input("--chain: anchors are on Bitcoin"))
        }
    };
    let prev: OutPoint = spend
        .parse()
        .map_err(|_| Error::input(format!("--spend {spend:?}: expected TXID:VOUT")))?;
    let to: Address = address
        .parse::<Address<bitcoin::address::NetworkUnchecked>>()
        .map_err(|e| Error::input(format!("--address: {e}")))?
        .require_network(network)
        .map_err(|_| Error::input(format!("--address: not an address of {chain}")))?;
    let keep = value
        .checked_sub(fee)
        .filter(|v| *v >= 546)
        .ok_or_else(|| {
            Error::input("--value minus --fee must leave at least 546 sat for the next anchor")
        })?;
    let payload = anchor_payload(n as u64, &root);
    let data = PushBytesBuf::try_from(payload.clone())
        .map_err(|_| Error::input("anchor payload too long"))?;
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: prev,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![
            TxOut {
                value: Sats::from_sat(keep),
                script_pubkey: to.script_pubkey(),
            },
            TxOut {
                value: Sats::ZERO,
                script_pubkey: ScriptBuf::new_op_return(data),
            },
        ],
    };
    let mut psbt = bitcoin::Psbt::from_unsigned_tx(tx.clone())
        .map_err(|e| Error::input(format!("psbt: {e}")))?;
    psbt.inputs[0].witness_utxo = Some(TxOut {
        value: Sats::from_sat(value),
        script_pubkey: to.script_pubkey(),
    });
    Ok(Anchor {
        log_size: n as u64,
        log_root: root.to_hex(),
        payload: hex::encode(&payload),
        unsigned_tx: bitcoin::consensus::encode::serialize_hex(&tx),
        psbt: psbt.to_string(),
    })
}
