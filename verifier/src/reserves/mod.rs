//! The reserves section: which on-chain addresses the exchange controls and what they hold.
//!
//! Each entry names an asset of the attestation, a chain, a snapshot height, an address, the
//! balance claimed there (for Bitcoin, the UTXOs that make it up; for an ERC-20 asset, the token
//! contract) and the signatures that prove control. Every signature is over the challenge of
//! its chain and height (`challenge`), which binds the exchange, the period and the liabilities
//! root, so a signature made for another month, exchange or tree fails.
//!
//! The checks come in two kinds, and every report says which were done:
//! - offline ([`verify_offline`]): signatures, duplicates, UTXOs adding up to the claim;
//! - on chain ([`crate::chain`]): the balances at the snapshot height, from the user's own node.

pub mod bitcoin;
pub mod ethereum;

use crate::amount::Amount;
use crate::asset::Asset;
use crate::encode::{put_bytes, put_str, put_u32, put_u64};
use crate::error::{Error, Result};
use crate::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// The format string of reserves files and sections.
pub const RESERVES_FORMAT: &str = "por-reserves-v1";
/// The first line of every challenge message.
pub const CHALLENGE_HEADER: &str = "Proof of reserves challenge v1";

/// A chain a reserve is held on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Bitcoin on the given network.
    Bitcoin(::bitcoin::Network),
    /// An Ethereum-compatible chain with its EIP-155 chain id (1 = Ethereum mainnet).
    Ethereum(u64),
}

impl Chain {
    /// Parses `bitcoin`, `bitcoin-testnet`, `bitcoin-testnet4`, `bitcoin-signet`,
    /// `bitcoin-regtest`, `ethereum`, or `ethereum-<chain id>`.
    pub fn parse(text: &str) -> Result<Chain> {
        use ::bitcoin::Network as N;
        let c = match text {
            "bitcoin" => Chain::Bitcoin(N::Bitcoin),
            "bitcoin-testnet" => Chain::Bitcoin(N::Testnet),
            "bitcoin-testnet4" => Chain::Bitcoin(N::Testnet4),
            "bitcoin-signet" => Chain::Bitcoin(N::Signet),
            "bitcoin-regtest" => Chain::Bitcoin(N::Regtest),
            "ethereum" => Chain::Ethereum(1),
            _ => match text.strip_prefix("ethereum-").and_then(|id| id.parse::<u64>().ok()) {
                Some(id) if id > 1 => Chain::Ethereum(id),
                _ => {
                    return Err(Error::input(format!(
                        "chain {text:?}: expected bitcoin, bitcoin-testnet, bitcoin-testnet4, bitcoin-signet, \
                         bitcoin-regtest, ethereum, or ethereum-<chain id>"
                    )))
                }
            },
        };
        Ok(c)
    }

    /// The family name used on the command line (`bitcoin` or `ethereum`).
    pub fn family(&self) -> &'static str {
        match self {
            Chain::Bitcoin(_) => "bitcoin",
            Chain::Ethereum(_) => "ethereum",
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ::bitcoin::Network as N;
        match self {
            Chain::Bitcoin(N::Bitcoin) => f.write_str("bitcoin"),
            Chain::Bitcoin(N::Testnet) => f.write_str("bitcoin-testnet"),
            Chain::Bitcoin(N::Testnet4) => f.write_str("bitcoin-testnet4"),
            Chain::Bitcoin(N::Signet) => f.write_str("bitcoin-signet"),
            Chain::Bitcoin(_) => f.write_str("bitcoin-regtest"),
            Chain::Ethereum(1) => f.write_str("ethereum"),
            Chain::Ethereum(id) => write!(f, "ethereum-{id}"),
        }
    }
}

/// The exact text each reserve address must sign for `chain` at `height`.
pub fn challenge(exchange: &str, period: &str, chain: &Chain, height: u64, root: &Hash) -> String {
    format!(
        "{CHALLENGE_HEADER}\nExchange: {exchange}\nPeriod: {period}\nChain: {chain}\nSnapshot height: {height}\nLiabilities root: {root}"
    )
}

/// One unspent output that makes up a Bitcoin reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// The transaction id.
    pub txid: ::bitcoin::Txid,
    /// The output index.
    pub vout: u32,
    /// The value claimed, in satoshi.
    pub value: Amount,
}

/// A reserve address with its claim and proof of control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveEntry {
    /// The asset's symbol (one of the attestation's assets).
    pub asset: String,
    /// The chain.
    pub chain: Chain,
    /// The snapshot block height.
    pub height: u64,
    /// The address as given.
    pub address: String,
    /// The ERC-20 token contract, for token assets on Ethereum.
    pub token: Option<String>,
    /// The balance claimed at the snapshot height, in base units.
    pub balance: Amount,
    /// For Bitcoin: the UTXOs making up the balance.
    pub utxos: Vec<Utxo>,
    /// For Bitcoin multisig: the redeem or witness script.
    pub script: Option<Vec<u8>>,
    /// The signatures proving control (one, or one per cosigner of a multisig).
    pub signatures: Vec<String>,
}

impl ReserveEntry {
    /// What makes two entries count the same funds: chain, address and token.
    fn holding_key(&self) -> String {
        // The canonical form, so one address spelled two ways (bech32 case, EIP-55 case) is
        // still one holding; base58 addresses are case-sensitive and kept as they are.
        let addr = match self.chain {
            Chain::Bitcoin(net) => bitcoin::parse_address(&self.address, net)
                .map_or_else(|_| self.address.clone(), |a| a.to_string()),
            Chain::Ethereum(_) => self.address.to_ascii_lowercase(),
        };
        let token = self.token.as_deref().unwrap_or("").to_ascii_lowercase();
        format!("{}|{addr}|{token}", self.chain)
    }

    /// A short label for messages: `BTC bc1q… on bitcoin`.
    pub fn label(&self) -> String {
        match &self.token {
            Some(t) => format!(
                "{} {} (token {t}) on {}",
                self.asset, self.address, self.chain
            ),
            None => format!("{} {} on {}", self.asset, self.address, self.chain),
        }
    }
}

/// The reserves section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserves {
    /// The entries, in the order given.
    pub entries: Vec<ReserveEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UtxoJson {
    outpoint: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    asset: String,
    chain: String,
    height: u64,
    address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    balance: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    utxos: Vec<UtxoJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    signatures: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReservesJson {
    format: String,
    entries: Vec<EntryJson>,
}

fn parse_entry(i: usize, e: EntryJson, assets: &[Asset]) -> Result<ReserveEntry> {
    let at = |f: &str| format!("entries[{i}].{f}");
    let asset = assets.iter().find(|a| a.symbol == e.asset).ok_or_else(|| {
        Error::input(format!(
            "{}: {:?} is not an asset of the attestation",
            at("asset"),
            e.asset
        ))
    })?;
    let chain = Chain::parse(&e.chain).map_err(|x| x.context(at("chain")))?;
    let amount = |text: &str, field: String| {
        Amount::parse_decimal(text, asset.decimals)
            .map_err(|x| Error::input(format!("{field}: {x}, found {text:?}")))
    };
    let balance = amount(&e.balance, at("balance"))?;
    if e.signatures.is_empty() {
        return Err(Error::input(format!(
            "{}: expected at least one signature",
            at("signatures")
        )));
    }
    let mut utxos = Vec::new();
    let mut script = None;
    match chain {
        Chain::Bitcoin(net) => {
            bitcoin::parse_address(&e.address, net).map_err(|x| x.context(at("address")))?;
            if e.token.is_some() {
                return Err(Error::input(format!(
                    "{}: tokens exist only on Ethereum chains",
                    at("token")
                )));
            }
            if e.utxos.is_empty() {
                return Err(Error::input(format!(
                    "{}: a Bitcoin reserve lists the UTXOs (txid:vout and value) that make up its balance",
                    at("utxos")
                )));
            }
            for (j, u) in e.utxos.iter().enumerate() {
                let bad = || {
                    Error::input(format!(
                        "{}: expected TXID:VOUT",
                        at(&format!("utxos[{j}].outpoint"))
                    ))
                };
                let (txid, vout) = u.outpoint.split_once(':').ok_or_else(bad)?;
                let txid: ::bitcoin::Txid = txid.parse().map_err(|_| bad())?;
                let vout: u32 = vout.parse().map_err(|_| bad())?;
                let value = amount(&u.value, at(&format!("utxos[{j}].value")))?;
                utxos.push(Utxo { txid, vout, value });
            }
            if let Some(s) = &e.script {
                script = Some(
                    hex::decode(s)
                        .map_err(|_| Error::input(format!("{}: expected hex", at("script"))))?,
                );
            }
        }
        Chain::Ethereum(_) => {
            ethereum::EthAddress::parse(&e.address).map_err(|x| x.context(at("address")))?;
            if let Some(t) = &e.token {
                ethereum::EthAddress::parse(t).map_err(|x| x.context(at("token")))?;
            }
            if !e.utxos.is_empty() || e.script.is_some() {
                return Err(Error::input(format!(
                    "{}: UTXOs and scripts are for Bitcoin reserves",
                    at("utxos")
                )));
            }
        }
    }
    Ok(ReserveEntry {
        asset: e.asset,
        chain,
        height: e.height,
        address: e.address,
        token: e.token,
        balance,
        utxos,
        script,
        signatures: e.signatures,
    })
}

impl Reserves {
    /// Parses the JSON form against the attestation's assets; errors name the field.
    pub fn from_json_value(v: serde_json::Value, assets: &[Asset]) -> Result<Reserves> {
        let j: ReservesJson = serde_json::from_value(v)
            .map_err(|e| Error::input(format!("not a valid reserves section: {e}")))?;
        if j.format != RESERVES_FORMAT {
            return Err(Error::input(format!(
                "format: expected {RESERVES_FORMAT:?}, found {:?}",
                j.format
            )));
        }
        let entries = j
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| parse_entry(i, e, assets))
            .collect::<Result<_>>()?;
        Ok(Reserves { entries })
    }

    /// Reads a reserves file.
    pub fn read(path: &std::path::Path, assets: &[Asset]) -> Result<Reserves> {
        let bytes = crate::error::read_file(path)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::input(format!("{}: not valid JSON: {e}", path.display())))?;
        Reserves::from_json_value(v, assets).map_err(|e| e.context(path.display()))
    }

    /// The JSON form (amounts in the asset's unit, as in the liabilities export).
    pub fn to_json_value(&self, assets: &[Asset]) -> serde_json::Value {
        let dec = |sym: &str| {
            assets
                .iter()
                .find(|a| a.symbol == sym)
                .map_or(0, |a| a.decimals)
        };
        let entries = self
            .entries
            .iter()
            .map(|e| EntryJson {
                asset: e.asset.clone(),
                chain: e.chain.to_string(),
                height: e.height,
                address: e.address.clone(),
                token: e.token.clone(),
                balance: e.balance.to_decimal(dec(&e.asset)),
                utxos: e
                    .utxos
                    .iter()
                    .map(|u| UtxoJson {
                        outpoint: format!("{}:{}", u.txid, u.vout),
                        value: u.value.to_decimal(dec(&e.asset)),
                    })
                    .collect(),
                script: e.script.as_ref().map(hex::encode),
                signatures: e.signatures.clone(),
            })
            .collect();
        serde_json::to_value(ReservesJson {
            format: RESERVES_FORMAT.into(),
            entries,
        })
        .unwrap_or_default()
    }

    /// Appends the canonical encoding covered by the exchange's signature (spec/reserves.md).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, self.entries.len() as u32);
        for e in &self.entries {
            put_str(out, &e.asset);
            put_str(out, &e.chain.to_string());
            put_u64(out, e.height);
            put_str(out, &e.address);
            put_str(out, e.token.as_deref().unwrap_or(""));
            out.extend_from_slice(&e.balance.to_be_bytes());
            put_u32(out, e.utxos.len() as u32);
            for u in &e.utxos {
                put_str(out, &u.txid.to_string());
                put_u32(out, u.vout);
                out.extend_from_slice(&u.value.to_be_bytes());
            }
            put_bytes(out, e.script.as_deref().unwrap_or(&[]));
            put_u32(out, e.signatures.len() as u32);
            for s in &e.signatures {
                put_str(out, s);
            }
        }
    }
}

/// Verifies one signature set for an address on a chain, whatever the standard.
pub fn verify_control(
    chain: &Chain,
    address: &str,
    message: &str,
    sigs: &[String],
    script: Option<&[u8]>,
) -> Result<String> {
    match chain {
        Chain::Bitcoin(net) => bitcoin::verify(*net, address, message, sigs, script),
        Chain::Ethereum(_) => match sigs {
            [one] => ethereum::verify(address, message.as_bytes(), one),
            _ => Err(Error::input(format!(
                "expected exactly one signature for an Ethereum address, found {}",
                sigs.len()
            ))),
        },
    }
}

/// The outcome of the checks on one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStatus {
    /// Offline: the signature check, duplicates and sums. `Err` holds the reason; its kind
    /// tells a malformed entry (bad input) from a failed check.
    pub offline: Result<String>,
    /// On chain: `None` when not checked against a node.
    pub on_chain: Option<std::result::Result<String, String>>,
}

impl EntryStatus {
    /// Whether every check that was done passed.
    pub fn passed(&self) -> bool {
        self.offline.is_ok() && !matches!(self.on_chain, Some(Err(_)))
    }
}

/// The first malformed entry (bad signature encoding and the like), as a bad-input error
/// naming the entry: such an entry is not evidence either way, and exits 2.
pub fn first_malformed(reserves: &Reserves, status: &[EntryStatus]) -> Option<Error> {
    reserves
        .entries
        .iter()
        .zip(status)
        .enumerate()
        .find_map(|(i, (e, s))| match &s.offline {
            Err(err) if err.kind() == crate::error::ErrorKind::BadInput => Some(Error::input(
                format!("entries[{i}] ({}): {}", e.label(), err.message()),
            )),
            _ => None,
        })
}

/// Runs the offline checks of every entry: the signature over the entry's challenge, no
/// address or UTXO counted twice, one snapshot height per chain, and a Bitcoin claim equal to
/// its UTXOs' sum.
pub fn verify_offline(
    exchange: &str,
    period: &str,
    root: &Hash,
    reserves: &Reserves,
) -> Vec<EntryStatus> {
    let mut holdings: HashMap<String, usize> = HashMap::new();
    let mut outpoints: HashMap<(::bitcoin::Txid, u32), usize> = HashMap::new();
    let mut heights: HashMap<Chain, (usize, u64)> = HashMap::new();
    let mut out = Vec::with_capacity(reserves.entries.len());
    for (i, e) in reserves.entries.iter().enumerate() {
        let check = || -> Result<String> {
            if let Some(&(first, h)) = heights.get(&e.chain) {
                if h != e.height {
                    return Err(Error::failed(format!(
                        "snapshot height {} differs from height {h} of entry #{first} on {}: one chain has one \
                         snapshot height, or coins moved between two heights would count twice",
                        e.height, e.chain
                    )));
                }
            }
            if let Some(&first) = holdings.get(&e.holding_key()) {
                return Err(Error::failed(format!(
                    "{} is already counted in entry #{first}: the same funds cannot count twice",
                    e.address
                )));
            }
            for u in &e.utxos {
                if let Some(&first) = outpoints.get(&(u.txid, u.vout)) {
                    return Err(Error::failed(format!(
                        "UTXO {}:{} is already counted in entry #{first}",
                        u.txid, u.vout
                    )));
                }
            }
            if matches!(e.chain, Chain::Bitcoin(_)) {
                let mut sum = Amount::ZERO;
                for u in &e.utxos {
                    sum = sum
                        .checked_add(u.value)
                        .ok_or_else(|| Error::failed("the UTXO values overflow"))?;
                }
                if sum != e.balance {
                    return Err(Error::failed(format!(
                        "the claimed balance is {} base units but its UTXOs add up to {}",
                        e.balance, sum
                    )));
                }
            }
            let msg = challenge(exchange, period, &e.chain, e.height, root);
            verify_control(
                &e.chain,
                &e.address,
                &msg,
                &e.signatures,
                e.script.as_deref(),
            )
        };
        let result = check();
        // Even a failing entry claims these funds: a later entry with the same ones is a duplicate.
        holdings.entry(e.holding_key()).or_insert(i);
        heights.entry(e.chain).or_insert((i, e.height));
        for u in &e.utxos {
            outpoints.entry((u.txid, u.vout)).or_insert(i);
        }
        out.push(EntryStatus {
            offline: result,
            on_chain: None,
        });
    }
    out
}

/// One asset's line of the solvency table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSolvency {
    /// The asset.
    pub asset: Asset,
    /// Total customer liabilities (the tree's root sum).
    pub liabilities: Amount,
    /// Reserves that passed every check done.
    pub reserves: Amount,
    /// Whether every counted entry of this asset was checked against a chain.
    pub verified_on_chain: bool,
    /// Whether reserves cover liabilities.
    pub covered: bool,
}

impl AssetSolvency {
    /// Reserves over liabilities in percent, for display (`None` when nothing is owed).
    pub fn coverage_percent(&self) -> Option<f64> {
        (self.liabilities.0 > 0).then(|| self.reserves.0 as f64 * 100.0 / self.liabilities.0 as f64)
    }
}

/// The per-asset table: only entries that passed every check done count as reserves.
pub fn solvency(
    assets: &[Asset],
    liabilities: &[Amount],
    reserves: &Reserves,
    status: &[EntryStatus],
) -> Vec<AssetSolvency> {
    assets
        .iter()
        .zip(liabilities)
        .map(|(a, l)| {
            let mut total = Amount::ZERO;
            let mut all_on_chain = true;
            let mut any = false;
            for (e, s) in reserves.entries.iter().zip(status) {
                if e.asset == a.symbol && s.passed() {
                    // Saturating: a reserves total beyond 2^128 base units covers any liability.
                    total = total.checked_add(e.balance).unwrap_or(Amount(u128::MAX));
                    all_on_chain &= s.on_chain.is_some();
                    any = true;
                }
            }
            AssetSolvency {
                asset: a.clone(),
                liabilities: *l,
                reserves: total,
                verified_on_chain: any && all_on_chain,
                covered: total >= *l,
            }
        })
        .collect()
}

/// Everything the reserves checks established.
#[derive(Debug, Clone)]
pub struct ReservesOutcome {
    /// Per entry, in order.
    pub status: Vec<EntryStatus>,
    /// Per asset of the attestation.
    pub solvency: Vec<AssetSolvency>,
    /// The nodes consulted, as `chain at URL (height N)`.
    pub nodes: Vec<String>,
}

impl ReservesOutcome {
    /// Whether every entry passed every check done and every asset is covered.
    pub fn passed(&self) -> bool {
        self.status.iter().all(EntryStatus::passed) && self.solvency.iter().all(|s| s.covered)
    }
}

/// Runs the offline checks, then the on-chain checks for the chains a node URL is given for.
/// A node problem is an error (exit 2); failed checks are in the outcome.
pub fn check_reserves(
    att: &crate::attestation::Attestation,
    reserves: &Reserves,
    bitcoin_rpc: Option<&str>,
    ethereum_rpc: Option<&str>,
) -> Result<ReservesOutcome> {
    use crate::chain::{bitcoin::BitcoinNode, ethereum::EthereumNode};
    let mut status = verify_offline(&att.exchange, &att.period, &att.root_hash, reserves);
    let mut nodes = Vec::new();
    let mut btc: HashMap<::bitcoin::Network, BitcoinNode> = HashMap::new();
    let mut eth: HashMap<u64, EthereumNode> = HashMap::new();
    for (e, s) in reserves.entries.iter().zip(status.iter_mut()) {
        if s.offline.is_err() {
            continue;
        }
        let result = match (e.chain, bitcoin_rpc, ethereum_rpc) {
            (Chain::Bitcoin(net), Some(url), _) => {
                let node = match btc.entry(net) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let node = BitcoinNode::connect(url, net)?;
                        let shown = redact_url(url);
                        nodes.push(format!(
                            "{} node at {shown} (height {})",
                            e.chain,
                            node.height()
                        ));
                        v.insert(node)
                    }
                };
                Some(node.check(e)?)
            }
            (Chain::Ethereum(id), _, Some(url)) => {
                let node = match eth.entry(id) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let node = EthereumNode::connect(url, id)?;
                        nodes.push(format!("{} node at {}", e.chain, redact_url(url)));
                        v.insert(node)
                    }
                };
                Some(node.check(e)?)
            }
            _ => None,
        };
        s.on_chain = result;
    }
    let solvency = solvency(&att.assets, &att.liabilities, reserves, &status);
    Ok(ReservesOutcome {
        status,
        solvency,
        nodes,
    })
}

/// A node URL without its credentials, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://{}", &url[..s], &url[a + 1..]),
        _ => url.to_string(),
    }
}
