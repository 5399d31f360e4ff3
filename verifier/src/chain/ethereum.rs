//! EVM reserves against an Ethereum JSON-RPC node: `eth_getBalance` for the native coin and
//! `eth_call` of `balanceOf(address)` for tokens, both at the snapshot block, and the token's
//! `decimals()`, which must be the unit the binding and the registry say.

use super::{Rpc, Snapshot};
use crate::amount::Amount;
use crate::error::{Error, Result};
use crate::reserves::ethereum::EthAddress;
use crate::reserves::holding::EvmHolding;
use crate::reserves::safe::OwnerSignature;
use por_core::safe::{SafeVersion, GUARD_SLOT};
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};

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
/// `getOwners()`.
const GET_OWNERS_SELECTOR: &str = "0xa0e67e2b";
/// `getThreshold()`.
const GET_THRESHOLD_SELECTOR: &str = "0xe75235b8";
/// `getModulesPaginated(address,uint256)`.
const GET_MODULES_SELECTOR: &str = "0xcc2f8452";
/// The most owners or modules read from one Safe.
const MAX_SAFE_LIST: usize = 256;

/// What the chain says of a Safe at the snapshot block, once its control is established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeFacts {
    /// The release its implementation is.
    pub version: SafeVersion,
    /// The implementation's name in the release.
    pub singleton: &'static str,
    /// The owners.
    pub owners: Vec<EthAddress>,
    /// The owners with code at the snapshot block (contracts, EIP-7702 delegated accounts).
    pub coded_owners: Vec<EthAddress>,
    /// Signatures required.
    pub threshold: usize,
    /// The owners who signed the challenge, with their keys.
    pub signers: Vec<OwnerSignature>,
    /// Enabled modules: each can move the Safe's funds without the owners' signatures.
    pub modules: Vec<EthAddress>,
    /// More modules than were read.
    pub more_modules: bool,
    /// The transaction guard (1.3.0 and later), which can refuse but not make transactions.
    pub guard: Option<EthAddress>,
}

impl SafeFacts {
    /// `Safe 1.4.1 (Safe), 2-of-3: 2 owners signed; modules: none; guard: none`.
    pub fn words(&self) -> String {
        let list = |v: &[EthAddress]| {
            v.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let modules = if self.modules.is_empty() {
            "no module enabled".to_string()
        } else {
            format!(
                "MODULES ENABLED (each can move funds without the owners): {}{}",
                list(&self.modules),
                if self.more_modules { " and more" } else { "" }
            )
        };
        let coded = if self.coded_owners.is_empty() {
            String::new()
        } else {
            format!(
                "; OWNERS WITH CODE (contracts or delegated accounts, which approve by their own rules): {}",
                list(&self.coded_owners)
            )
        };
        format!(
            "Safe {} ({}), {}-of-{} owners, {} of them signed ({}){coded}; {modules}; guard: {}",
            self.version.number(),
            self.singleton,
            self.threshold,
            self.owners.len(),
            self.signers.len(),
            self.signers
                .iter()
                .map(|s| s.owner.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            self.guard
                .map(|g| g.to_string())
                .unwrap_or_else(|| "none".into())
        )
    }
}

/// A 32-byte ABI word read as an address: its upper 12 bytes must be zero.
fn word_address(w: &[u8]) -> Option<EthAddress> {
    if w.len() != 32 || w[..12].iter().any(|&b| b != 0) {
        return None;
    }
    let mut a = [0u8; 20];
    a.copy_from_slice(&w[12..]);
    Some(EthAddress(a))
}

/// A 32-byte ABI word as a length or offset that fits in `usize`.
fn word_usize(w: &[u8]) -> Option<usize> {
    if w.len() != 32 || w[..24].iter().any(|&b| b != 0) {
        return None;
    }
    usize::try_from(u64::from_be_bytes(w[24..].try_into().ok()?)).ok()
}

/// The `address[]` whose offset is in the head word at `head`, bounded by [`MAX_SAFE_LIST`].
fn abi_address_array(data: &[u8], head: usize) -> Option<Vec<EthAddress>> {
    let at = word_usize(data.get(head..head.checked_add(32)?)?)?;
    let len = word_usize(data.get(at..at.checked_add(32)?)?)?;
    if len > MAX_SAFE_LIST {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let from = at.checked_add(32)?.checked_add(i.checked_mul(32)?)?;
        out.push(word_address(data.get(from..from.checked_add(32)?)?)?);
    }
    Some(out)
}

fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    hex::decode(v.as_str()?.strip_prefix("0x")?).ok()
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

    /// Establishes control of a Safe at `height` (spec/reserves.md, "Safe multisig wallets"):
    /// the code at the address is a Safe proxy, its implementation (slot 0) is a singleton of
    /// the table whose code is the released code and whose release is the one the entry
    /// names, and at least the threshold of distinct owners signed. `Ok(Err(reason))` is a
    /// failed check (the address is shown); `Err` a node problem.
    pub fn safe_control(
        &self,
        e: &EvmHolding,
        version: SafeVersion,
        height: u64,
        signers: Vec<OwnerSignature>,
    ) -> Result<std::result::Result<SafeFacts, String>> {
        self.require_height(height)?;
        let block = format!("0x{height:x}");
        let safe = format!("0x{}", hex::encode(e.address.0));
        let shown = e.address.to_string();
        let code_hash = |addr: &str| -> Result<Option<[u8; 32]>> {
            let code = self.rpc.must("eth_getCode", json!([addr, block]))?;
            let b = bytes_of(&code).ok_or_else(|| {
                Error::input(format!(
                    "ethereum node at {}: eth_getCode: not hex: {code}",
                    self.rpc.shown()
                ))
            })?;
            Ok(if b.is_empty() {
                None
            } else {
                Some(Keccak256::digest(&b).into())
            })
        };
        let Some(proxy) = code_hash(&safe)? else {
            return Ok(Err(format!(
                "{shown} has no code at block {height}: it is not a Safe (a Safe is a contract)"
            )));
        };
        if !SafeVersion::ALL
            .iter()
            .any(|v| v.proxy_code_hash() == proxy)
        {
            return Ok(Err(format!(
                "the code at {shown} at block {height} is not a Safe proxy (code hash 0x{}): a contract that \
                 answers isValidSignature with yes proves nothing, so only Safe proxies count",
                hex::encode(proxy)
            )));
        }
        let slot0 = self
            .rpc
            .must("eth_getStorageAt", json!([safe, "0x0", block]))?;
        let implementation = bytes_of(&slot0)
            .filter(|b| b.len() == 32)
            .and_then(|b| word_address(&b));
        let Some(implementation) = implementation else {
            return Ok(Err(format!(
                "the Safe {shown}'s storage slot 0 at block {height} is {slot0}, not an implementation address"
            )));
        };
        let Some((found, singleton)) = SafeVersion::singleton_at(&implementation) else {
            return Ok(Err(format!(
                "the Safe {shown}'s implementation at block {height} (storage slot 0) is {implementation}, which is \
                 not a Safe singleton the verifier knows: a replaced implementation (as in the Bybit theft of 2025) \
                 decides alone what the wallet does, whoever its owners are"
            )));
        };
        if found != version {
            return Ok(Err(format!(
                "the Safe {shown}'s implementation at block {height} is {} of Safe {}, but the entry says {}: \
                 its owners signed another release's message",
                singleton.name,
                found.number(),
                version.wallet()
            )));
        }
        let singleton_addr = format!("0x{}", hex::encode(singleton.address.0));
        if code_hash(&singleton_addr)? != Some(singleton.code_hash) {
            return Ok(Err(format!(
                "the code at {} (Safe {} {}) at block {height} is not the released code of that singleton",
                singleton.address,
                version.number(),
                singleton.name
            )));
        }
        let call = |data: String, what: &str| -> Result<std::result::Result<Vec<u8>, String>> {
            match self
                .rpc
                .call("eth_call", json!([{"to": safe, "data": data}, block]))
            {
                Ok(v) => bytes_of(&v).map(Ok).ok_or_else(|| {
                    Error::input(format!("ethereum node: eth_call {what}: not hex: {v}"))
                }),
                // The node answered with an error about the call: after the code and slot 0
                // answered at this block, that is the contract's doing (a revert, or an invalid
                // opcode of an old compiler on storage the exchange left inconsistent), so it
                // fails the entry rather than the run.
                Err(super::RpcError::Rpc { code, message }) => Ok(Err(format!(
                    "the Safe {shown}: {what} failed at block {height} (error {code}: {message})"
                ))),
                Err(e) => Err(self.rpc.fatal("eth_call", e)),
            }
        };
        let owners = match call(GET_OWNERS_SELECTOR.into(), "getOwners()")? {
            Err(why) => return Ok(Err(why)),
            Ok(b) => match abi_address_array(&b, 0) {
                Some(o) if !o.is_empty() => o,
                _ => {
                    return Ok(Err(format!(
                        "the Safe {shown}: getOwners() at block {height} is not a list of owners"
                    )))
                }
            },
        };
        // A list a Safe's own code keeps has no zero, no sentinel (0x1) and no repeat, and as
        // many owners as its count (slot 3; slot 4 is the threshold): anything else is storage
        // written around the Safe's code, which then decides nothing of what the list says.
        let mut seen = std::collections::HashSet::new();
        for o in &owners {
            let low = o.0[..19].iter().all(|&b| b == 0) && o.0[19] <= 1;
            if low || !seen.insert(*o) {
                return Ok(Err(format!(
                    "the Safe {shown}: its owners at block {height} list {o} (a zero, sentinel or repeated owner): \
                     its storage was written around the Safe's code"
                )));
            }
        }
        let slot = |n: u8| -> Result<Option<usize>> {
            let v = self
                .rpc
                .must("eth_getStorageAt", json!([safe, format!("0x{n:x}"), block]))?;
            Ok(bytes_of(&v)
                .filter(|b| b.len() == 32)
                .and_then(|b| word_usize(&b)))
        };
        if slot(3)? != Some(owners.len()) {
            return Ok(Err(format!(
                "the Safe {shown}: its owner count (storage slot 3) at block {height} is not the {} owners getOwners() lists: \
                 its storage was written around the Safe's code",
                owners.len()
            )));
        }
        let threshold_slot = slot(4)?;
        let threshold = match call(GET_THRESHOLD_SELECTOR.into(), "getThreshold()")? {
            Err(why) => return Ok(Err(why)),
            Ok(b) => match word_usize(&b) {
                Some(t) if t >= 1 && t <= owners.len() && threshold_slot == Some(t) => t,
                _ => {
                    return Ok(Err(format!(
                        "the Safe {shown}: getThreshold() at block {height} is not a threshold between 1 and its {} owners, the one its storage (slot 4) holds",
                        owners.len()
                    )))
                }
            },
        };
        for s in &signers {
            if !owners.contains(&s.owner) {
                return Ok(Err(format!(
                    "{} signed for the Safe {shown} but is not one of its owners at block {height} ({})",
                    s.owner,
                    owners
                        .iter()
                        .map(|o| o.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if signers.len() < threshold {
            return Ok(Err(format!(
                "{} distinct owner{} signed for the Safe {shown}, but at block {height} it needs {threshold} of its {} owners",
                signers.len(),
                if signers.len() == 1 { "" } else { "s" },
                owners.len()
            )));
        }
        // Modules: read from the sentinel 0x1, one page of the most we list.
        let data = format!("{GET_MODULES_SELECTOR}{:0>64}{:064x}", "1", MAX_SAFE_LIST);
        let (modules, more_modules) = match call(data, "getModulesPaginated")? {
            Err(why) => return Ok(Err(why)),
            Ok(b) => {
                let list = abi_address_array(&b, 0);
                let next = b.get(32..64).and_then(word_address);
                match (list, next) {
                    (Some(l), Some(n)) => {
                        let sentinel_or_zero = n.0[..19].iter().all(|&x| x == 0) && n.0[19] <= 1;
                        (l, !sentinel_or_zero)
                    }
                    _ => {
                        return Ok(Err(format!(
                            "the Safe {shown}: getModulesPaginated at block {height} is not a list of modules"
                        )))
                    }
                }
            }
        };
        let guard = if version.has_guard() {
            let g = self.rpc.must(
                "eth_getStorageAt",
                json!([safe, format!("0x{}", hex::encode(GUARD_SLOT)), block]),
            )?;
            match bytes_of(&g)
                .filter(|b| b.len() == 32)
                .and_then(|b| word_address(&b))
            {
                Some(a) if a.0 == [0; 20] => None,
                Some(a) => Some(a),
                None => {
                    return Ok(Err(format!(
                        "the Safe {shown}'s guard slot at block {height} is {g}, not an address"
                    )))
                }
            }
        } else {
            None
        };
        // An owner with code (a contract, or an account delegated under EIP-7702) approves by
        // its own rules (a contract signature, `approveHash` through its code), not by one
        // key's signature: the Safe is then no multisig of keys.
        let mut coded_owners = Vec::new();
        for o in &owners {
            if code_hash(&format!("0x{}", hex::encode(o.0)))?.is_some() {
                coded_owners.push(*o);
            }
        }
        Ok(Ok(SafeFacts {
            version,
            singleton: singleton.name,
            coded_owners,
            owners,
            threshold,
            signers,
            modules,
            more_modules,
            guard,
        }))
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
