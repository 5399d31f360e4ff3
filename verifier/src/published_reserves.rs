//! OKX's published reserve files (`por-verify published --format okx-reserves`), spec/published.md
//! "OKX reserve files".
//!
//! Each row names a coin, a network, a snapshot height, an address, an amount, a message and
//! one or two signatures (and a redeem script, a public key or contract-wallet owners). Every
//! signature is checked the way OKX's wallets make it (its EVM signatures are EIP-191 over the
//! Keccak-256 of the text, not over the text); multisig scripts must hash to the address and
//! hold m distinct signers (OKX's own tool needs any two, even one key twice). Rows of chains
//! this tool cannot check are listed as such. Balances are not read on chain here, and the
//! file carries no liabilities: the outcome is never a pass of solvency.

use crate::error::{Error, Result};
use crate::reserves::bitcoin::{enough_signers, multisig_of, recover_compact_digest};
use crate::reserves::ethereum::{address_of, recover_digest};
use bitcoin::hashes::Hash as _;
use bitcoin::ScriptBuf;
use por_core::published::decimal::Decimal;
use sha3::{Digest, Keccak256};

/// The header OKX's own wallets sign beneath for chains without a standard of their own.
const OKX_HEADER: &[u8] = b"OKX Signed Message:\n";

/// One line of the totals section: the name as written (`ETH(ALL)`, `USDT-TRC20`), the
/// snapshot height as written, the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    /// The coin (and network) as written.
    pub name: String,
    /// The snapshot height, as written (`-` over all networks).
    pub height: String,
    /// The amount.
    pub amount: Decimal,
}

/// One row of the file.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// OKX's coin code (`USDT-ERC20`, `BTC`).
    pub coin: String,
    /// The network (`ETH`, `TRON`, `BTC`).
    pub network: String,
    /// The snapshot height, as written.
    pub height: String,
    /// The reserve address.
    pub address: String,
    /// The amount, when the layout has one.
    pub amount: Option<Decimal>,
    /// The message signed.
    pub message: String,
    /// The signatures given (one or two).
    pub sigs: Vec<String>,
    /// The redeem or witness script, or the public key.
    pub key: String,
    /// Contract-wallet owners (or an Aptos authentication key).
    pub owners: Vec<String>,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowResult {
    /// The signature(s) prove control under OKX's scheme; the words say which.
    Held(String),
    /// A signature does not prove control of the address.
    Failed(String),
    /// This tool does not check the row's chain.
    NotChecked(String),
}

/// A row's balance, read on the customer's node at the row's snapshot height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// Not read; the words say why.
    NotRead(String),
    /// The node shows the amount the file claims.
    Holds(String),
    /// The node shows another amount.
    Differs(String),
}

/// The file read and every row checked.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The rows, each with its signature's result and its balance.
    pub rows: Vec<(Row, RowResult, Balance)>,
    /// The totals section.
    pub totals: Vec<Total>,
    /// Sums of the rows per unit (`USDT` from `USDT-ERC20`), in the order first seen.
    pub sums: Vec<(String, Decimal)>,
    /// Sums of the rows proven by signature (and, where read, on chain), per unit.
    pub proven: Vec<(String, Decimal)>,
    /// Findings about the file as a whole (totals, repeated rows, heights, messages).
    pub file_failures: Vec<String>,

    /// Whether some row names contract-wallet owners.
    pub owners_from_file: bool,
    /// The messages signed, distinct.
    pub messages: Vec<String>,
}

/// Whether a text is one of OKX's reserve files (either layout).
pub fn is_okx_reserves(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    first.starts_with("coin,snapshot height,amount")
        || first.starts_with("digitalasset,network,address,signedmessage")
}

/// Splits on commas outside `[...]`.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in line.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c)
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn absent(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.eq_ignore_ascii_case("null")
}

fn amount(name: &str, line: usize, text: &str) -> Result<Decimal> {
    let t = text.trim();
    let d = Decimal::parse(t)
        .map_err(|e| Error::input(format!("{name}: line {line}: the amount \"{t}\": {e}")))?;
    if d.is_negative() {
        return Err(Error::failed(format!(
            "{name}: line {line}: a negative amount ({t}) in a reserve file"
        )));
    }
    Ok(d)
}

/// The unit a coin code sums into: `USDT-ERC20` → `USDT`, `ETH(ALL)` → `ETH`.
fn unit(coin: &str) -> String {
    let c = coin.trim().to_ascii_uppercase();
    let c = c.split('(').next().unwrap_or(&c).trim().to_string();
    c.split('-').next().unwrap_or(&c).trim().to_string()
}

/// A coin code as compared: upper case, without spaces (`eth (all)` is `ETH(ALL)`).
fn code(coin: &str) -> String {
    coin.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Reads the file (monthly layout or audit layout) into rows and totals.
pub fn read(name: &str, text: &str) -> Result<(Vec<Row>, Vec<Total>)> {
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .first()
        .map(|l| l.to_ascii_lowercase())
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut totals = Vec::new();
    if head.starts_with("digitalasset,") {
        for (i, l) in lines.iter().enumerate().skip(1) {
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<String> = fields(l)
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect();
            if f.len() < 7 {
                return Err(Error::input(format!(
                    "{name}: line {}: expected digitalAsset,network,address,signedMessage,signedMessage2,message,publicKey,owner1,owner2",
                    i + 1
                )));
            }
            let get = |k: usize| f.get(k).cloned().unwrap_or_default();
            rows.push(Row {
                line: i + 1,
                coin: get(0),
                network: get(1),
                address: get(2),
                sigs: [get(3), get(4)]
                    .into_iter()
                    .filter(|s| !absent(s))
                    .collect(),
                message: get(5),
                key: if absent(&get(6)) {
                    String::new()
                } else {
                    get(6)
                },
                owners: [get(7), get(8)]
                    .into_iter()
                    .filter(|s| !absent(s))
                    .collect(),
                ..Row::default()
            });
        }
        return Ok((rows, totals));
    }
    // The monthly layout: totals until an empty line, then the rows' header and the rows.
    let mut i = 1;
    while i < lines.len() && !lines[i].trim().is_empty() {
        let f = fields(lines[i]);
        if f.len() < 3 {
            return Err(Error::input(format!(
                "{name}: line {}: a total should be coin,snapshot height,amount",
                i + 1
            )));
        }
        if !f[0].is_ascii() || !f[1].is_ascii() {
            return Err(Error::input(format!(
                "{name}: line {}: a coin or height with characters other than ASCII",
                i + 1
            )));
        }
        totals.push(Total {
            name: f[0].trim().to_string(),
            height: f[1].trim().to_string(),
            amount: amount(name, i + 1, &f[2])?,
        });
        i += 1;
    }
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    let Some(header) = lines.get(i) else {
        return Err(Error::input(format!(
            "{name}: no address section after the totals (a header line coin,Network,Snapshot Height,address,...)"
        )));
    };
    let cols: Vec<String> = fields(header).iter().map(|c| code(c)).collect();
    if cols.first().map(String::as_str) != Some("COIN") || !cols.iter().any(|c| c == "ADDRESS") {
        return Err(Error::input(format!(
            "{name}: line {}: expected the address section's header (coin,Network,Snapshot Height,address,...), found \"{}\"",
            i + 1,
            header.chars().take(80).collect::<String>()
        )));
    }
    // A `Type` column right after `coin` shifts the others by one (OKX's newer files).
    let off = usize::from(cols.get(1).map(String::as_str) == Some("TYPE"));
    for (n, l) in lines.iter().enumerate().skip(i + 1) {
        if l.trim().is_empty() {
            continue;
        }
        let f: Vec<String> = fields(l.trim())
            .into_iter()
            .map(|s| s.trim().to_string())
            .collect();
        if f.len() < 8 + off {
            return Err(Error::input(format!(
                "{name}: line {}: fewer columns than the header names (coin, Network, Snapshot Height, address, amount, message, signature1, ...)",
                n + 1
            )));
        }
        if !f[0].is_ascii() || !f[1 + off].is_ascii() {
            return Err(Error::input(format!(
                "{name}: line {}: a coin or network with characters other than ASCII",
                n + 1
            )));
        }
        let get = |k: usize| {
            f.get(if k == 0 { 0 } else { k + off })
                .cloned()
                .unwrap_or_default()
        };
        rows.push(Row {
            line: n + 1,
            coin: get(0),
            network: get(1),
            height: get(2),
            address: get(3),
            amount: Some(amount(name, n + 1, &get(4))?),
            message: get(5),
            sigs: [get(6), get(7)]
                .into_iter()
                .filter(|s| !absent(s))
                .collect(),
            key: if absent(&get(8)) {
                String::new()
            } else {
                get(8)
            },
            owners: [get(9), get(10)]
                .into_iter()
                .filter(|s| !absent(s))
                .collect(),
        });
    }
    Ok((rows, totals))
}

/// `varstr(OKX's header) ‖ varstr(message)`, varstr a CompactSize length then the bytes: what
/// OKX's wallets sign for chains without a standard of their own.
fn okx_framed(message: &[u8]) -> Vec<u8> {
    use bitcoin::consensus::Encodable;
    let mut m = Vec::with_capacity(OKX_HEADER.len() + message.len() + 2);
    for part in [OKX_HEADER, message] {
        // Writing to a Vec cannot fail.
        let _ = bitcoin::consensus::encode::VarInt(part.len() as u64).consensus_encode(&mut m);
        m.extend_from_slice(part);
    }
    m
}

fn keccak(b: &[u8]) -> [u8; 32] {
    Keccak256::digest(b).into()
}

/// OKX's EVM digest: `personal_sign` of the 32-byte Keccak-256 of the text.
pub fn okx_evm_digest(message: &[u8]) -> [u8; 32] {
    por_core::evm::personal_message_hash(&keccak(message))
}

/// OKX's digest for OKC/OKT: Keccak-256 of `varstr(header) ‖ varstr(message)`.
fn okx_ecdsa_digest(message: &[u8]) -> [u8; 32] {
    keccak(&okx_framed(message))
}

/// Recovers an EVM signer; a high-S signature is refused, as OKX's tool refuses it (and as
/// Ethereum's rules since Homestead do).
fn evm_signer(digest: [u8; 32], sig: &str) -> Result<String> {
    let h = sig.trim().strip_prefix("0x").unwrap_or(sig.trim());
    let b = hex::decode(h).map_err(|_| Error::input("signature: expected hex"))?;
    if b.len() == 65 {
        let s = bitcoin::secp256k1::ecdsa::Signature::from_compact(&b[..64])
            .map_err(|_| Error::input("signature: r and s are not a valid signature"))?;
        let mut low = s;
        low.normalize_s();
        if low != s {
            return Err(Error::failed(
                "the signature's s is high, which OKX's and Ethereum's rules refuse",
            ));
        }
    }
    let key = recover_digest(digest, sig)?;
    Ok(format!("0x{}", hex::encode(address_of(&key).0)))
}

const EVM_NETWORKS: &[&str] = &[
    "ETH",
    "ETHEREUM",
    "ERC20",
    "ARBITRUM",
    "ARBITRUM ONE",
    "OPTIMISM",
    "POLYGON",
    "POLY",
    "MATIC",
    "AVAXC",
    "AVALANCHE C",
    "BSC",
    "BNB CHAIN",
    "BASE",
    "ZKSYNC",
    "ZKSYNC ERA",
    "LINEA",
    "XLAYER",
    "X LAYER",
    "SCROLL",
    "MANTLE",
    "ETC",
];

fn check_evm(r: &Row, digest: [u8; 32], label: &str) -> RowResult {
    let signer = |i: usize| evm_signer(digest, &r.sigs[i]);
    if r.sigs.is_empty() {
        return RowResult::Failed("no signature".into());
    }
    if por_core::evm::EthAddress::parse(&r.address.to_ascii_lowercase()).is_err() {
        return RowResult::Failed(format!("{} is not an EVM address", r.address));
    }
    let mut distinct: Vec<String> = r.owners.iter().map(|o| o.to_ascii_lowercase()).collect();
    distinct.dedup();
    if distinct.len() != r.owners.len() {
        return RowResult::Failed(
            "one owner is named twice: a multisig needs distinct owners".into(),
        );
    }
    // A contract wallet: each owner named signs (the file names them; nothing ties them to
    // the contract here).
    let owners: Vec<&String> = r.owners.iter().collect();
    let want: Vec<String> = if owners.is_empty() {
        vec![r.address.to_ascii_lowercase()]
    } else {
        owners.iter().map(|o| o.to_ascii_lowercase()).collect()
    };
    if want.len() > r.sigs.len() {
        return RowResult::Failed(format!(
            "{} owners named, {} signature(s) given",
            want.len(),
            r.sigs.len()
        ));
    }
    for (i, w) in want.iter().enumerate() {
        match signer(i) {
            Ok(a) if a == *w => {}
            Ok(a) => {
                return RowResult::Failed(format!(
                    "signature {} was made by {a}, not by {w}",
                    i + 1
                ))
            }
            Err(e) => return RowResult::Failed(format!("signature {}: {}", i + 1, e.message())),
        }
    }
    if owners.is_empty() {
        RowResult::Held(format!("{label}, by the address's key"))
    } else {
        // The file says who owns the contract; only the chain can say it, and nothing here
        // reads it (OKX's own tool does not either).
        RowResult::NotChecked(format!(
            "{label} by the {} owner(s) the file names, but whether they control the contract at the address is not read on chain",
            owners.len()
        ))
    }
}

/// The Bitcoin-family chains read here: `Some(None)` for Bitcoin, `Some(Some(fork))` for a
/// fork whose address rules and signed-message magic [`crate::reserves::forks`] holds.
fn utxo(network: &str) -> Option<Option<por_core::chains::Fork>> {
    use por_core::chains::Fork;
    match network {
        "BTC" | "BITCOIN" => Some(None),
        "DOGE" | "DOGECOIN" => Some(Some(Fork::Dogecoin)),
        "LTC" | "LITECOIN" => Some(Some(Fork::Litecoin)),
        _ => None,
    }
}

fn check_utxo(r: &Row, fork: Option<por_core::chains::Fork>) -> RowResult {
    let digest = match fork {
        None => bitcoin::sign_message::signed_msg_hash(&r.message).to_byte_array(),
        Some(f) => crate::reserves::forks::message_hash(f, r.message.as_bytes()),
    };
    let spk = match fork {
        None => crate::reserves::bitcoin::parse_address(&r.address, bitcoin::Network::Bitcoin)
            .map(|a| a.script_pubkey()),
        Some(f) => crate::reserves::forks::parse_address(f, &r.address),
    };
    let spk = match spk {
        Ok(s) => s,
        Err(e) => return RowResult::Failed(format!("address: {}", e.message())),
    };
    let mut keys = Vec::new();
    for (i, s) in r.sigs.iter().enumerate() {
        match recover_compact_digest(digest, s) {
            Ok((k, _)) => keys.push(k),
            Err(e) => return RowResult::Failed(format!("signature {}: {}", i + 1, e.message())),
        }
    }
    if r.key.is_empty() {
        // One key: its P2PKH or P2WPKH script must be the address's.
        let Some(k) = keys.first() else {
            return RowResult::Failed("no signature".into());
        };
        let forms = [
            ScriptBuf::new_p2pkh(&k.pubkey_hash()),
            k.wpubkey_hash()
                .map(|h| ScriptBuf::new_p2wpkh(&h))
                .unwrap_or_default(),
        ];
        return if forms.contains(&spk) {
            RowResult::Held("a signed message by the address's key".into())
        } else {
            RowResult::Failed(format!(
                "the signature was made by key {k}, whose address is not {}",
                r.address
            ))
        };
    }
    let Ok(script) = hex::decode(r.key.trim()) else {
        return RowResult::Failed("the redeem script is not hex".into());
    };
    let script = ScriptBuf::from_bytes(script);
    let ms = match multisig_of(&spk, &r.address, &script) {
        Ok(ms) => ms,
        Err(e) => return RowResult::Failed(e.message().to_string()),
    };
    // Scripts no one can spend (BIP-16's 520-byte limit; uncompressed keys under segwit, which
    // standard nodes refuse to relay) prove nothing about funds.
    let nested = ScriptBuf::new_p2sh(&ScriptBuf::new_p2wsh(&script.wscript_hash()).script_hash());
    let segwit = !spk.is_p2sh() || spk == nested;
    if !segwit && script.len() > 520 {
        return RowResult::Failed(format!(
            "the redeem script is {} bytes, above P2SH's 520: funds there cannot be spent",
            script.len()
        ));
    }
    if segwit && ms.keys.iter().any(|k| !k.compressed) {
        return RowResult::Failed(
            "an uncompressed key in a segwit script: standard nodes do not relay its spends".into(),
        );
    }
    match enough_signers(&ms, &keys) {
        Ok(what) => RowResult::Held(format!("{what} (the script hashes to the address)")),
        Err(e) => RowResult::Failed(e.message().to_string()),
    }
}

fn check_ed25519(r: &Row, network: &str) -> RowResult {
    use ed25519_dalek::{Signature, VerifyingKey};
    let key_hex = r.key.trim().strip_prefix("0x").unwrap_or(r.key.trim());
    let key: Option<[u8; 32]> = if key_hex.is_empty() && network == "SOL" {
        por_core::solana::SolanaKey::parse(&r.address)
            .ok()
            .map(|a| *a.bytes())
    } else {
        hex::decode(key_hex).ok().and_then(|v| v.try_into().ok())
    };
    let Some(key) = key else {
        return RowResult::Failed("the public key is not 32 bytes of hex".into());
    };
    let Ok(vk) = VerifyingKey::from_bytes(&key) else {
        return RowResult::Failed("the public key is not a valid ed25519 key".into());
    };
    let sig_hex = r
        .sigs
        .first()
        .map(|s| s.trim().trim_start_matches("0x"))
        .unwrap_or("");
    let Some(sig) = hex::decode(sig_hex)
        .ok()
        .and_then(|v| <[u8; 64]>::try_from(v).ok())
    else {
        return RowResult::Failed("the signature is not 64 bytes of hex".into());
    };
    let m = okx_framed(r.message.as_bytes());
    if vk.verify_strict(&m, &Signature::from_bytes(&sig)).is_err() {
        return RowResult::Failed("the ed25519 signature does not verify for the key given".into());
    }
    match network {
        "SOL" => {
            let ok = por_core::solana::SolanaKey::parse(&r.address).is_ok_and(|a| *a.bytes() == key);
            if ok {
                RowResult::NotChecked(
                    "an ed25519 signature by the address's key holds, but Solana token accounts can have delegates and other owners: only the chain shows who controls them".into(),
                )
            } else {
                RowResult::Failed("the key given is not the address's".into())
            }
        }
        "APTOS" => {
            let mut h = sha3::Sha3_256::new();
            h.update(key);
            h.update([0u8]);
            let auth = hex::encode(h.finalize());
            let norm = |s: &str| s.trim().trim_start_matches("0x").trim_start_matches('0').to_ascii_lowercase();
            let want = r.owners.first().map_or(r.address.as_str(), |o| o.as_str());
            if norm(&auth) == norm(&r.address) || norm(&auth) == norm(want) {
                // An Aptos account's key can be rotated: only the chain says which key
                // controls the address now.
                RowResult::NotChecked(format!(
                    "an ed25519 signature by the key whose authentication key is {} holds, but an Aptos account's key can be rotated: only the chain shows which key controls the address",
                    if norm(&auth) == norm(&r.address) { "the address" } else { "eoa1, not the address" }
                ))
            } else {
                RowResult::Failed("the key's authentication key is neither the address nor eoa1".into())
            }
        }
        _ => RowResult::NotChecked(format!(
            "the ed25519 signature holds for the key the file gives, but this tool does not derive {network} addresses from keys"
        )),
    }
}

/// Checks one row by its network's scheme.
pub fn check_row(r: &Row) -> RowResult {
    let net = r.network.trim().to_ascii_uppercase();
    if r.sigs.is_empty() {
        return RowResult::Failed("no signature".into());
    }
    if EVM_NETWORKS.contains(&net.as_str()) {
        return check_evm(
            r,
            okx_evm_digest(r.message.as_bytes()),
            "an EVM signature of the text's Keccak-256 (OKX's scheme)",
        );
    }
    match net.as_str() {
        "OKC" | "OKT" | "OKTC" => check_evm(
            r,
            okx_ecdsa_digest(r.message.as_bytes()),
            "an OKC signature under OKX's header",
        ),
        "TRON" | "TRX" | "TRC20" => {
            match crate::reserves::tron::verify(&r.address, r.message.as_bytes(), &r.sigs[0]) {
                // spec/reserves.md, "TRON and Solana": an account's owner permission can name
                // other keys, and no node answers it at a past height.
                Ok(what) => RowResult::NotChecked(format!(
                    "a TRON signature by the address's key ({what}) holds, but a TRON account's owner permission can name other keys: only the chain shows who controls it"
                )),
                Err(e) => RowResult::Failed(e.message().to_string()),
            }
        }
        "SOL" | "SOLANA" => check_ed25519(r, "SOL"),
        "APTOS" => check_ed25519(r, "APTOS"),
        "DOT" | "ADA" | "SUI" | "TON" | "XLM" | "NEAR" | "HBAR" | "ASSET-HUB" => {
            check_ed25519(r, &net)
        }
        n => match utxo(n) {
            Some(fork) => check_utxo(r, fork),
            None => RowResult::NotChecked(format!("this tool does not check {n} signatures")),
        },
    }
}

/// The chain id and native coin of the EVM networks whose native balances are read here.
fn evm_native(network: &str) -> Option<(u64, &'static str)> {
    Some(match network {
        "ETH" | "ETHEREUM" | "ERC20" => (1, "ETH"),
        "ARBITRUM" | "ARBITRUM ONE" => (42161, "ETH"),
        "OPTIMISM" => (10, "ETH"),
        "BASE" => (8453, "ETH"),
        "BSC" | "BNB CHAIN" => (56, "BNB"),
        "POLYGON" => (137, "POL"),
        "AVAXC" | "AVALANCHE C" => (43114, "AVAX"),
        _ => return None,
    })
}

/// A row's native balance at its snapshot height on the node of its chain, if one is given.
/// Once a node of the row's chain is given, anything that keeps the balance from being read
/// (no height, too many places, a node behind the height) fails the row: the run goes on.
fn balance(r: &Row, nodes: &[(u64, crate::chain::ethereum::EthereumNode)]) -> Balance {
    let net = code(&r.network);
    let Some((chain_id, native)) = evm_native(&net) else {
        return Balance::NotRead(format!("balances on {net} are not read by this tool"));
    };
    if unit(&r.coin) != native {
        return Balance::NotRead(format!(
            "{} is a token: its contract is not in the file, so its balance is not read",
            r.coin
        ));
    }
    let Some((_, node)) = nodes.iter().find(|(id, _)| *id == chain_id) else {
        return Balance::NotRead(format!(
            "no node given for chain id {chain_id} (--node ethereum-{chain_id}=URL)"
        ));
    };
    let Ok(height) = r.height.trim().parse::<u64>() else {
        return Balance::Differs(format!(
            "the row names no snapshot height (\"{}\"), so its balance cannot be read",
            r.height
        ));
    };
    let Some(amount) = r.amount else {
        return Balance::Differs("the row names no amount".into());
    };
    let Ok(address) = por_core::evm::EthAddress::parse(&r.address.to_ascii_lowercase()) else {
        return Balance::Differs("the address is not an EVM address".into());
    };
    let holding = crate::reserves::holding::EvmHolding {
        chain_id,
        address,
        token: None,
        safe: None,
    };
    let Ok(claimed) = amount.units(18) else {
        return Balance::Differs(format!(
            "the amount {amount} has more places than {native}'s 18"
        ));
    };
    match node.balance_at(&holding, height, 18) {
        Err(e) => Balance::Differs(format!(
            "your node cannot give the balance: {}",
            e.message()
        )),
        Ok(Err(why)) => Balance::Differs(why),
        Ok(Ok(v)) if i128::try_from(v).ok() == Some(claimed) => Balance::Holds(format!(
            "your node shows {amount} {native} at block {height}"
        )),
        Ok(Ok(v)) => Balance::Differs(format!(
            "your node shows {} {native} at block {height}, the file claims {amount}",
            Decimal::new(i128::try_from(v).unwrap_or(i128::MAX), 18)
                .map_or_else(|_| v.to_string(), |d| d.to_string())
        )),
    }
}

/// Reads and checks a whole file, reading native EVM balances on the nodes given (chain id,
/// URL).
pub fn check(name: &str, text: &str) -> Result<Checked> {
    check_with_nodes(name, text, &[])
}

/// [`check`], with nodes.
pub fn check_with_nodes(name: &str, text: &str, nodes: &[(u64, String)]) -> Result<Checked> {
    let mut connected = Vec::with_capacity(nodes.len());
    for (id, url) in nodes {
        connected.push((
            *id,
            crate::chain::ethereum::EthereumNode::connect(url, *id)?,
        ));
    }
    let (rows, totals) = read(name, text)?;
    if rows.is_empty() {
        return Err(Error::input(format!("{name}: no address rows")));
    }
    let mut out = Checked {
        totals,
        ..Checked::default()
    };
    let add = |sums: &mut Vec<(String, Decimal)>, u: &str, a: Decimal, line: usize| -> Result<()> {
        match sums.iter_mut().find(|(k, _)| k == u) {
            Some((_, s)) => {
                *s = s.checked_add(a).map_err(|_| {
                    Error::input(format!("{name}: line {line}: the {u} sum overflows"))
                })?
            }
            None => sums.push((u.to_string(), a)),
        }
        Ok(())
    };
    let mut seen: Vec<(String, String, String, usize)> = Vec::new();
    let mut heights: Vec<(String, String, usize)> = Vec::new();
    for r in rows {
        let mut res = check_row(&r);
        // One address, one network and one coin count once: the same funds listed twice (in
        // another case, under another name of the network) would count twice.
        let net = code(&r.network);
        let chain = evm_native(&net).map_or(net.clone(), |(id, _)| format!("evm-{id}"));
        let key = (chain, r.address.trim().to_ascii_lowercase(), unit(&r.coin));
        if let Some((_, _, _, first)) = seen
            .iter()
            .find(|(c, a, u, _)| (c, a, u) == (&key.0, &key.1, &key.2))
        {
            res = RowResult::Failed(format!(
                "the same {} holding as line {first}: it would count twice",
                key.2
            ));
        } else {
            seen.push((key.0, key.1, key.2, r.line));
        }
        // One snapshot height per network: rows of different heights can show the same coins
        // twice, moved from one address to another between the two blocks.
        if !r.height.is_empty() {
            match heights.iter().find(|(n, _, _)| *n == net) {
                Some((_, h, first)) if *h != r.height => out.file_failures.push(format!(
                    "line {}: {net} at height {}, but line {first} gives {h}: one snapshot has one height per chain",
                    r.line, r.height
                )),
                Some(_) => {}
                None => heights.push((net.clone(), r.height.clone(), r.line)),
            }
        }
        // One message for the whole file: a row signing another text may be a signature lifted
        // from someone else's publication.
        if let Some(first) = out.messages.first() {
            if *first != r.message && matches!(res, RowResult::Held(_)) {
                res = RowResult::Failed(format!(
                    "signs \"{}\", not the file's message \"{first}\"",
                    r.message
                ));
            }
        }
        let bal = match res {
            RowResult::Held(_) => balance(&r, &connected),
            _ => Balance::NotRead("its signature is not proven".into()),
        };
        if !r.owners.is_empty() {
            out.owners_from_file = true;
        }
        if !out.messages.contains(&r.message) {
            out.messages.push(r.message.clone());
        }
        if let Some(a) = r.amount {
            let u = unit(&r.coin);
            add(&mut out.sums, &u, a, r.line)?;
            if matches!(res, RowResult::Held(_)) && !matches!(bal, Balance::Differs(_)) {
                add(&mut out.proven, &u, a, r.line)?;
            }
        }
        out.rows.push((r, res, bal));
    }
    // Each total must be the sum of its rows: `X(ALL)` of every row of unit X, `X-NET` (or
    // `X`) of the rows of that very coin code.
    for t in &out.totals {
        let c = code(&t.name);
        let (what, got) = if let Some(u) = c.strip_suffix("(ALL)") {
            let u = unit(u);
            let got = out
                .sums
                .iter()
                .find(|(k, _)| *k == u)
                .map_or(Decimal::ZERO, |(_, s)| *s);
            (format!("its {u} rows"), got)
        } else {
            let mut got = Decimal::ZERO;
            for (r, _, _) in &out.rows {
                if code(&r.coin) == c {
                    got = got
                        .checked_add(r.amount.unwrap_or(Decimal::ZERO))
                        .map_err(|_| Error::input(format!("{name}: the {c} sum overflows")))?;
                }
            }
            if let Some((_, _, first)) = out
                .rows
                .iter()
                .find(|(r, _, _)| {
                    code(&r.coin) == c && !r.height.is_empty() && r.height != t.height
                })
                .map(|(r, _, _)| (&r.coin, &r.height, r.line))
            {
                out.file_failures.push(format!(
                    "the file's total {} is at height {}, but its row on line {first} is at another",
                    t.name, t.height
                ));
            }
            (format!("its {c} rows"), got)
        };
        if got.cmp_value(t.amount) != std::cmp::Ordering::Equal {
            out.file_failures.push(format!(
                "the file's total {} = {}, but {what} add up to {got}",
                t.name, t.amount
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OKX's EVM digest of its sample message (spec/published.md).
    #[test]
    fn okx_digests() {
        assert_eq!(
            hex::encode(okx_evm_digest(b"I am an OKX address")),
            "2c5ade6d905fda46ee20b58294772d2bdbee68c92ba5c54f38c325bae1326e2f"
        );
        assert_eq!(unit("USDT-ERC20"), "USDT");
        assert_eq!(unit("ETH(ALL)"), "ETH");
        assert_eq!(fields("a,[b,c],d"), vec!["a", "[b,c]", "d"]);
    }
}
