//! Ethereum reserves against an Ethereum JSON-RPC node: `eth_getBalance` for ETH and
//! `eth_call` of `balanceOf(address)` for ERC-20 tokens, both at the snapshot block.

use super::Rpc;
use crate::amount::Amount;
use crate::error::{Error, Result};
use crate::reserves::ethereum::EthAddress;
use crate::reserves::ReserveEntry;
use serde_json::{json, Value};

/// A checked connection to an Ethereum node.
pub struct EthereumNode {
    rpc: Rpc,
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
            .ok_or_else(|| Error::input("ethereum node: eth_blockNumber: not a quantity"))?
            as u64;
        Ok(EthereumNode { rpc, height })
    }

    /// Checks one entry's balance at its snapshot block.
    pub fn check(&self, e: &ReserveEntry) -> Result<std::result::Result<String, String>> {
        if self.height < e.height {
            return Err(Error::input(format!(
                "ethereum node at {}: at block {}, below the snapshot block {}; let it sync first",
                self.rpc.shown(),
                self.height,
                e.height
            )));
        }
        let addr = EthAddress::parse(&e.address)?;
        let block = format!("0x{:x}", e.height);
        let (method, result) = match &e.token {
            None => (
                "eth_getBalance",
                self.rpc.must(
                    "eth_getBalance",
                    json!([format!("0x{}", hex::encode(addr.0)), block]),
                )?,
            ),
            Some(token) => {
                let token = EthAddress::parse(token)?;
                let data = format!("0x70a08231{:0>64}", hex::encode(addr.0));
                let call = json!({"to": format!("0x{}", hex::encode(token.0)), "data": data});
                (
                    "eth_call balanceOf",
                    self.rpc.must("eth_call", json!([call, block]))?,
                )
            }
        };
        if result.as_str() == Some("0x") {
            return Ok(Err(format!(
                "{method}: the token contract returned nothing at block {}: not an ERC-20 there",
                e.height
            )));
        }
        let on_chain = parse_quantity(&result).ok_or_else(|| {
            Error::input(format!("ethereum node: {method}: not a quantity: {result}"))
        })?;
        if on_chain < e.balance.0 {
            return Ok(Err(format!(
                "the exchange claims {} base units but the chain says {} at block {}",
                e.balance,
                Amount(on_chain),
                e.height
            )));
        }
        Ok(Ok(format!(
            "{method} at block {} is {} base units, at least the claim (node at block {})",
            e.height, on_chain, self.height
        )))
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
