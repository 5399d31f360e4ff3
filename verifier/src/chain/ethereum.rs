//! EVM reserves against an Ethereum JSON-RPC node: `eth_getBalance` for the native coin and
//! `eth_call` of `balanceOf(address)` for tokens, both at the snapshot block, and the token's
//! `decimals()`, which must be the unit the binding and the registry say.

use super::{Rpc, Snapshot};
use crate::amount::Amount;
use crate::error::{Error, Result};
use crate::reserves::holding::EvmHolding;
use serde_json::{json, Value};

/// A checked connection to an Ethereum node.
pub struct EthereumNode {
    rpc: Rpc,
    chain_id: u64,
    height: u64,
}

/// Parses a JSON-RPC quantity or 32-byte word; values above 2^128 saturate (they exceed any
/// claim an attestation can hold).
fn parse_quantity(v: &Value) -> Option<u128> {
    let h = v.as_str()?.strip_prefix("0x")?;
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let h = h.trim_start_matches('0');
    if h.len() > 32 {
        return Some(u128::MAX);
    }
    if h.is_empty() {
        return Some(0);
    }
    u128::from_str_radix(h, 16).ok()
}

/// Whether a JSON-RPC error is the contract reverting (EIP-1474 code 3, or the message), as
/// opposed to a node that cannot answer (a pruned state, a timeout): only a revert is the
/// contract's doing.
fn is_revert(code: i64, message: &str) -> bool {
    code == 3 || message.to_ascii_lowercase().contains("revert")
}

/// `decimals()`.
const DECIMALS_SELECTOR: &str = "0x313ce567";
/// `balanceOf(address)`.
const BALANCE_OF_SELECTOR: &str = "0x70a08231";

impl EthereumNode {
    /// Connects and checks the chain id.
    pub fn connect(url: &str, chain_id: u64) -> Result<EthereumNode> {
        let rpc = Rpc::new("ethereum node", url)?;
        let id = parse_quantity(&rpc.must("eth_chainId", json!([]))?)
            .ok_or_else(|| Error::input("ethereum node: eth_chainId: not a quantity"))?;
        if id != u128::from(chain_id) {
            return Err(Error::input(format!(
                "ethereum node at {}: chain id {id}, but the reserves are on chain id {chain_id}",
                rpc.shown()
            )));
        }
        let height = parse_quantity(&rpc.must("eth_blockNumber", json!([]))?)
            .and_then(|h| u64::try_from(h).ok())
            .ok_or_else(|| Error::input("ethereum node: eth_blockNumber: not a quantity"))?;
        Ok(EthereumNode {
            rpc,
            chain_id,
            height,
        })
    }

    /// The node's current block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The node's URL without credentials.
    pub fn shown(&self) -> &str {
        self.rpc.shown()
    }

    fn require_height(&self, height: u64) -> Result<()> {
        if self.height < height {
            return Err(Error::input(format!(
                "ethereum node at {}: at block {}, below the snapshot block {height}; let it sync first",
                self.rpc.shown(),
                self.height,
            )));
        }
        Ok(())
    }

    fn block_field(&self, tag: Value, field: &str) -> Result<Option<u128>> {
        let b = self.rpc.must("eth_getBlockByNumber", json!([tag, false]))?;
        if b.is_null() {
            return Ok(None);
        }
        Ok(Some(
            parse_quantity(b.get(field).unwrap_or(&Value::Null)).ok_or_else(|| {
                Error::input(format!(
                    "ethereum node at {}: eth_getBlockByNumber: no {field}",
                    self.rpc.shown()
                ))
            })?,
        ))
    }

    /// The tip's height and block time.
    pub fn tip(&self) -> Result<(u64, i64)> {
        Ok((self.height, self.block_time(self.height)?))
    }

    /// The timestamp of the block at `height`.
    fn block_time(&self, height: u64) -> Result<i64> {
        self.block_field(json!(format!("0x{height:x}")), "timestamp")?
            .and_then(|t| i64::try_from(t).ok())
            .ok_or_else(|| {
                Error::input(format!(
                    "ethereum node at {}: no block {height}",
                    self.rpc.shown()
                ))
            })
    }

    /// The snapshot block: its time, and whether it is at or below the node's finalized block.
    pub fn snapshot(&self, height: u64) -> Result<Snapshot> {
        self.require_height(height)?;
        let time = self.block_time(height)?;
        let finalized = self.block_field(json!("finalized"), "number")?;
        let settled = match finalized {
            Some(f) if f >= u128::from(height) => Ok(format!("at or below the finalized block {f}")),
            Some(f) => Err(format!(
                "the snapshot block {height} is above the node's finalized block {f}: it could still be \
                 reorganised away; check again later"
            )),
            None => Err("the node reports no finalized block: the snapshot block is not settled".into()),
        };
        Ok(Snapshot {
            height,
            block_time: time,
            settled,
        })
    }

    /// Checks one holding at `height`; `decimals` is the token unit the registry confirmed.
    /// `Ok(Err(reason))` is a failed check; `Err` is a node problem.
    pub fn check(
        &self,
        e: &EvmHolding,
        height: u64,
        claim: Amount,
        decimals: u8,
    ) -> Result<std::result::Result<String, String>> {
        let (method, on_chain) = match self.balance(e, height, decimals)? {
            Ok(x) => x,
            Err(why) => return Ok(Err(why)),
        };
        if on_chain < claim.0 {
            return Ok(Err(format!(
                "the exchange claims {claim} base units but the chain says {} at block {height}",
                Amount(on_chain)
            )));
        }
        Ok(Ok(format!(
            "{method} at block {height} is {on_chain} base units, at least the claim (node at block {})",
            self.height
        )))
    }

    /// The holding's balance at the end of block `height`, in base units.
    pub fn balance_at(
        &self,
        e: &EvmHolding,
        height: u64,
        decimals: u8,
    ) -> Result<std::result::Result<u128, String>> {
        Ok(self.balance(e, height, decimals)?.map(|(_, v)| v))
    }

    /// The time of the block at `height`, for the snapshot span's search.
    pub fn time_of(&self, height: u64) -> Result<i64> {
        self.block_time(height)
    }

    /// Reads a balance: the method used and the amount, `Ok(Err)` when the contract is not a
    /// token of the registry's unit there.
    fn balance(
        &self,
        e: &EvmHolding,
        height: u64,
        decimals: u8,
    ) -> Result<std::result::Result<(&'static str, u128), String>> {
        self.require_height(height)?;
        if e.chain_id != self.chain_id {
            return Err(Error::input(format!(
                "ethereum node at {}: chain id {}, not the chain of this entry",
                self.rpc.shown(),
                self.chain_id
            )));
        }
        let block = format!("0x{height:x}");
        let addr = format!("0x{}", hex::encode(e.address.0));
        let (method, result) = match &e.token {
            None => (
                "eth_getBalance",
                self.rpc.must("eth_getBalance", json!([addr, block]))?,
            ),
            Some(token) => {
                let to = format!("0x{}", hex::encode(token.0));
                let d = match self.rpc.call(
                    "eth_call",
                    json!([{"to": to, "data": DECIMALS_SELECTOR}, block]),
                ) {
                    Ok(v) => v,
                    // The node answered: the contract reverted. That is the contract's doing.
                    Err(super::RpcError::Rpc { code, message }) if is_revert(code, &message) => {
                        return Ok(Err(format!(
                            "token {to}: decimals() reverted at block {height}: {message}"
                        )))
                    }
                    Err(e) => return Err(self.rpc.fatal("eth_call", e)),
                };
                match parse_quantity(&d) {
                    Some(x) if x == u128::from(decimals) => {}
                    Some(x) => {
                        return Ok(Err(format!(
                            "token {to}: decimals() is {x} at block {height}, but the registry says {decimals}"
                        )))
                    }
                    None => {
                        return Ok(Err(format!(
                            "token {to}: decimals() returned nothing at block {height}: not an ERC-20 there"
                        )))
                    }
                }
                let data = format!("{BALANCE_OF_SELECTOR}{:0>64}", hex::encode(e.address.0));
                let r = match self
                    .rpc
                    .call("eth_call", json!([{"to": to, "data": data}, block]))
                {
                    Ok(v) => v,
                    Err(super::RpcError::Rpc { code, message }) if is_revert(code, &message) => {
                        return Ok(Err(format!(
                            "token {to}: balanceOf reverted at block {height}: {message}"
                        )))
                    }
                    Err(e) => return Err(self.rpc.fatal("eth_call", e)),
                };
                ("eth_call balanceOf", r)
            }
        };
        if result.as_str() == Some("0x") {
            return Ok(Err(format!(
                "{method}: the node returned nothing at block {height}: not an ERC-20 there"
            )));
        }
        let on_chain = parse_quantity(&result).ok_or_else(|| {
            Error::input(format!("ethereum node: {method}: not a quantity: {result}"))
        })?;
        Ok(Ok((method, on_chain)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&json!("0x0")), Some(0));
        assert_eq!(parse_quantity(&json!("0x10")), Some(16));
        assert_eq!(
            parse_quantity(&json!(format!("0x{}", "f".repeat(64)))),
            Some(u128::MAX)
        );
        assert_eq!(parse_quantity(&json!("0x")), None);
        assert_eq!(parse_quantity(&json!("12")), None);
    }
}
