//! A reserve entry parsed into the types of its chain family.
//!
//! The signed entry is strings ([`super::RawEntry`]); here each becomes a [`Holding`] of its
//! family (Bitcoin: address, UTXOs, script; EVM: address, native coin or token). Every check
//! that depends on the family matches on [`Holding`] without a catch-all arm, so adding a chain
//! family does not compile until its signature and on-chain checks exist.

use super::statement::RawEntry;
use crate::amount::Amount;
use crate::chains::{BitcoinNet, Chain};
use crate::reserves::ethereum::EthAddress;
use ::bitcoin::{Address, Network, OutPoint, ScriptBuf};

/// One UTXO of a Bitcoin holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// The outpoint.
    pub outpoint: OutPoint,
    /// Its value in satoshi.
    pub value: u64,
}

/// A Bitcoin holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitcoinHolding {
    /// The network.
    pub network: Network,
    /// The address, checked for the network.
    pub address: Address,
    /// The UTXOs claimed (at least one).
    pub utxos: Vec<Utxo>,
    /// The multisig redeem or witness script.
    pub script: Option<ScriptBuf>,
}

/// An EVM holding: the chain's coin or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmHolding {
    /// The EIP-155 chain id.
    pub chain_id: u64,
    /// The externally owned account, or the Safe.
    pub address: EthAddress,
    /// The token contract; `None` for the native coin.
    pub token: Option<EthAddress>,
    /// The Safe release the entry says `address` is; `None` for an externally owned account.
    pub safe: Option<por_core::safe::SafeVersion>,
}

/// A TRON holding: TRX or a TRC-20 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TronHolding {
    /// The account.
    pub address: por_core::tron::TronAddress,
    /// The TRC-20 contract; `None` for TRX.
    pub token: Option<por_core::tron::TronAddress>,
}

/// A Solana holding: SOL or an SPL token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaHolding {
    /// The account (the key that signs).
    pub address: por_core::solana::SolanaKey,
    /// The SPL token's mint; `None` for SOL.
    pub mint: Option<por_core::solana::SolanaKey>,
}

/// A holding on a Bitcoin fork: the output script its address pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkHolding {
    /// The fork.
    pub fork: por_core::chains::Fork,
    /// The address as written (for messages and the signature check).
    pub address: String,
    /// The output script it pays (one holding whatever the address's spelling).
    pub script: ScriptBuf,
}

/// A holding of one chain family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holding {
    /// On a Bitcoin network.
    Bitcoin(BitcoinHolding),
    /// On an EVM chain.
    Evm(EvmHolding),
    /// On TRON (signature-checked only: UNVERIFIED).
    Tron(TronHolding),
    /// On Solana (signature-checked only: UNVERIFIED).
    Solana(SolanaHolding),
    /// On a Bitcoin fork (signature-checked only: UNVERIFIED).
    Fork(ForkHolding),
}

/// A reserve entry with its fields parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The chain.
    pub chain: Chain,
    /// The snapshot height.
    pub height: u64,
    /// The balance claimed, in the chain's base units.
    pub balance: Amount,
    /// What is held, by family.
    pub holding: Holding,
    /// Declared storage (a claim, never verified).
    pub storage: Option<crate::custody::Storage>,
    /// Declared custodian (a claim, never verified).
    pub custodian: Option<String>,
}

/// rust-bitcoin's network of a Bitcoin network.
pub fn network(n: BitcoinNet) -> Network {
    match n {
        BitcoinNet::Main => Network::Bitcoin,
        BitcoinNet::Testnet => Network::Testnet,
        BitcoinNet::Testnet4 => Network::Testnet4,
        BitcoinNet::Signet => Network::Signet,
        BitcoinNet::Regtest => Network::Regtest,
    }
}

fn units(text: &str, what: &str) -> Result<Amount, String> {
    Amount::parse_units(text).map_err(|e| format!("{what}: {e}, found {text:?}"))
}

impl Holding {
    /// What makes two entries count the same funds: the chain, the address in its canonical
    /// form (bech32 and EIP-55 case folded; base58 kept, being case-sensitive), and the token.
    pub fn key(&self) -> String {
        match self {
            Holding::Bitcoin(b) => format!("bitcoin:{:?}:{}", b.network, b.address),
            Holding::Evm(e) => format!(
                "evm:{}:{}:{}",
                e.chain_id,
                hex::encode(e.address.0),
                e.token.map(|t| hex::encode(t.0)).unwrap_or_default()
            ),
            Holding::Tron(t) => format!(
                "tron:{}:{}",
                t.address,
                t.token.map(|c| c.to_string()).unwrap_or_default()
            ),
            Holding::Solana(s) => format!(
                "solana:{}:{}",
                s.address,
                s.mint.map(|m| m.to_string()).unwrap_or_default()
            ),
            Holding::Fork(f) => format!("{}:{}", f.fork.name(), f.script.to_hex_string()),
        }
    }

    /// The account behind the holding, whatever its face: a Bitcoin address, or an EVM address
    /// on its chain without the token. A native coin, its token face and a token's second entry
    /// point can all read one balance of one account; it counts once per asset.
    pub fn account(&self) -> String {
        match self {
            Holding::Bitcoin(b) => format!("bitcoin:{:?}:{}", b.network, b.address),
            Holding::Evm(e) => format!("evm:{}:{}", e.chain_id, hex::encode(e.address.0)),
            Holding::Tron(t) => format!("tron:{}", t.address),
            Holding::Solana(s) => format!("solana:{}", s.address),
            Holding::Fork(f) => format!("{}:{}", f.fork.name(), f.script.to_hex_string()),
        }
    }

    /// The token contract in lower case, as bindings name it.
    pub fn token(&self) -> Option<String> {
        match self {
            Holding::Bitcoin(_) => None,
            Holding::Evm(e) => e.token.map(|t| format!("0x{}", hex::encode(t.0))),
            Holding::Tron(t) => t.token.map(|c| c.to_string()),
            Holding::Solana(s) => s.mint.map(|m| m.to_string()),
            Holding::Fork(_) => None,
        }
    }
}

impl Entry {
    /// Parses a signed entry. `Err` says which field is wrong; the entry then fails.
    pub fn parse(raw: &RawEntry) -> Result<Entry, String> {
        let chain = Chain::parse(&raw.chain).map_err(|e| format!("field chain: {e}"))?;
        let balance = units(&raw.balance, "field balance")?;
        if raw.signatures.is_empty() {
            return Err("field signatures: expected at least one signature".into());
        }
        let holding = match chain {
            Chain::Bitcoin(net) => {
                let network = network(net);
                if raw.token.is_some() {
                    return Err("field token: Bitcoin has no token contracts".into());
                }
                if raw.wallet.is_some() {
                    return Err(
                        "field wallet: names a contract wallet, and Bitcoin has none (a multisig gives its script)"
                            .into(),
                    );
                }
                if raw.utxos.is_empty() {
                    return Err(
                        "field utxos: a Bitcoin entry lists the UTXOs that make up its balance"
                            .into(),
                    );
                }
                let address = super::bitcoin::parse_address(&raw.address, network)
                    .map_err(|e| format!("field address: {}", e.message()))?;
                let mut utxos = Vec::with_capacity(raw.utxos.len());
                for (j, u) in raw.utxos.iter().enumerate() {
                    let bad = || {
                        format!(
                            "field utxos[{j}].outpoint: expected TXID:VOUT, found {:?}",
                            u.outpoint
                        )
                    };
                    let (txid, vout) = u.outpoint.split_once(':').ok_or_else(bad)?;
                    // Canonical form only: 64 lower-case hex and a decimal without leading zeros.
                    let canonical = txid.len() == 64
                        && txid
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                        && !vout.is_empty()
                        && vout.bytes().all(|b| b.is_ascii_digit())
                        && (vout == "0" || !vout.starts_with('0'));
                    if !canonical {
                        return Err(bad());
                    }
                    let outpoint = OutPoint {
                        txid: txid.parse().map_err(|_| bad())?,
                        vout: vout.parse().map_err(|_| bad())?,
                    };
                    let value = units(&u.value, &format!("field utxos[{j}].value"))?;
                    let value = u64::try_from(value.0).map_err(|_| {
                        format!("field utxos[{j}].value: more than 2^64 - 1 satoshi")
                    })?;
                    utxos.push(Utxo { outpoint, value });
                }
                let script = match &raw.script {
                    None => None,
                    Some(s) => Some(ScriptBuf::from_bytes(
                        hex::decode(s).map_err(|_| "field script: expected hex".to_string())?,
                    )),
                };
                Holding::Bitcoin(BitcoinHolding {
                    network,
                    address,
                    utxos,
                    script,
                })
            }
            Chain::Evm(chain_id) => {
                if !raw.utxos.is_empty() || raw.script.is_some() {
                    return Err("fields utxos and script are for Bitcoin entries".into());
                }
                let safe = match &raw.wallet {
                    None => None,
                    Some(w) => Some(
                        por_core::safe::SafeVersion::parse(w)
                            .map_err(|e| format!("field wallet: {e}"))?,
                    ),
                };
                if safe.is_none() && raw.signatures.len() != 1 {
                    return Err(format!(
                        "field signatures: expected exactly one signature for an Ethereum address, found {}",
                        raw.signatures.len()
                    ));
                }
                let address = EthAddress::parse(&raw.address)
                    .map_err(|e| format!("field address: {}", e.message()))?;
                let token = match &raw.token {
                    None => None,
                    Some(t) => Some(
                        EthAddress::parse(t)
                            .map_err(|e| format!("field token: {}", e.message()))?,
                    ),
                };
                Holding::Evm(EvmHolding {
                    chain_id,
                    address,
                    token,
                    safe,
                })
            }
            Chain::BitcoinFork(fork) => {
                if raw.token.is_some()
                    || raw.wallet.is_some()
                    || raw.script.is_some()
                    || !raw.utxos.is_empty()
                {
                    return Err(format!(
                        "fields token, wallet, script and utxos are not for {chain} entries: its holdings are checked by signature only"
                    ));
                }
                if raw.signatures.len() != 1 {
                    return Err(format!(
                        "field signatures: expected exactly one signature for a {chain} address, found {}",
                        raw.signatures.len()
                    ));
                }
                let script = super::forks::parse_address(fork, &raw.address)
                    .map_err(|e| format!("field address: {}", e.message()))?;
                Holding::Fork(ForkHolding {
                    fork,
                    address: raw.address.clone(),
                    script,
                })
            }
            Chain::Tron | Chain::Solana => {
                if !raw.utxos.is_empty() || raw.script.is_some() || raw.wallet.is_some() {
                    return Err(format!(
                        "fields utxos, script and wallet are not for {} entries",
                        chain
                    ));
                }
                if raw.signatures.len() != 1 {
                    return Err(format!(
                        "field signatures: expected exactly one signature for a {chain} address, found {}",
                        raw.signatures.len()
                    ));
                }
                if chain == Chain::Tron {
                    let parse = |t: &str, f: &str| {
                        por_core::tron::TronAddress::parse(t).map_err(|e| format!("field {f}: {e}"))
                    };
                    Holding::Tron(TronHolding {
                        address: parse(&raw.address, "address")?,
                        token: raw
                            .token
                            .as_deref()
                            .map(|t| parse(t, "token"))
                            .transpose()?,
                    })
                } else {
                    let parse = |t: &str, f: &str| {
                        por_core::solana::SolanaKey::parse(t).map_err(|e| format!("field {f}: {e}"))
                    };
                    Holding::Solana(SolanaHolding {
                        address: parse(&raw.address, "address")?,
                        mint: raw
                            .token
                            .as_deref()
                            .map(|t| parse(t, "token"))
                            .transpose()?,
                    })
                }
            }
        };
        let storage = match &raw.storage {
            None => None,
            Some(s) => Some(
                crate::custody::Storage::parse(s)
                    .ok_or_else(|| format!("field storage: expected cold or hot, found {s:?}"))?,
            ),
        };
        if let Some(c) = &raw.custodian {
            crate::text::validate_exchange(c)
                .map_err(|e| format!("field custodian: {}", e.message()))?;
        }
        Ok(Entry {
            chain,
            height: raw.height,
            balance,
            holding,
            storage,
            custodian: raw.custodian.clone(),
        })
    }

    /// Verifies the proofs of control over `message`; `Ok` names the standard.
    pub fn verify_control(&self, message: &str, signatures: &[String]) -> Result<String, String> {
        let r = match &self.holding {
            Holding::Bitcoin(b) => match (&b.script, signatures) {
                (Some(s), sigs) => {
                    super::bitcoin::verify_multisig(&b.address, message, s.as_bytes(), sigs)
                }
                (None, [one]) => super::bitcoin::verify_single(&b.address, message, one),
                (None, sigs) => {
                    return Err(format!(
                        "expected exactly one signature for a single-key address, found {}",
                        sigs.len()
                    ))
                }
            },
            Holding::Evm(e) => match (e.safe, signatures) {
                (Some(v), sigs) => {
                    let owners =
                        super::safe::owner_signatures(v, e.chain_id, &e.address, message, sigs)?;
                    // Whether these keys are the owners, and enough of them, only the chain
                    // at the snapshot block says (the on-chain line).
                    return Ok(format!(
                        "Safe {} SafeMessage (EIP-712) signatures of {} distinct key{}",
                        v.number(),
                        owners.len(),
                        if owners.len() == 1 { "" } else { "s" }
                    ));
                }
                (None, [one]) => {
                    super::ethereum::verify(&e.address.to_string(), message.as_bytes(), one)
                }
                (None, _) => return Err("expected exactly one signature".into()),
            },
            Holding::Fork(f) => match signatures {
                [one] => super::forks::verify(f.fork, &f.address, message, one),
                _ => return Err("expected exactly one signature".into()),
            },
            Holding::Tron(t) => match signatures {
                [one] => super::tron::verify(&t.address.to_string(), message.as_bytes(), one),
                _ => return Err("expected exactly one signature".into()),
            },
            Holding::Solana(s) => match signatures {
                [one] => super::solana::verify(&s.address.to_string(), message.as_bytes(), one),
                _ => return Err("expected exactly one signature".into()),
            },
        };
        r.map_err(|e| e.message().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reserves::RawUtxo;

    fn raw(chain: &str, address: &str) -> RawEntry {
        RawEntry {
            asset: "BTC".into(),
            chain: chain.into(),
            height: 1,
            address: address.into(),
            token: None,
            balance: "5".into(),
            utxos: vec![RawUtxo {
                outpoint: format!("{}:0", "ab".repeat(32)),
                value: "5".into(),
            }],
            script: None,
            signatures: vec!["x".into()],
            storage: None,
            custodian: None,
            wallet: None,
        }
    }

    const REGTEST: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    #[test]
    fn bitcoin_entries() {
        let e = Entry::parse(&raw("bitcoin-regtest", REGTEST)).unwrap();
        assert!(matches!(e.holding, Holding::Bitcoin(_)));
        // A mainnet address on regtest, a token on Bitcoin, no UTXOs, a non-canonical outpoint.
        assert!(Entry::parse(&raw("bitcoin", REGTEST))
            .unwrap_err()
            .contains("field address"));
        let mut r = raw("bitcoin-regtest", REGTEST);
        r.token = Some("0x00".into());
        assert!(Entry::parse(&r).is_err());
        let mut r = raw("bitcoin-regtest", REGTEST);
        r.utxos.clear();
        assert!(Entry::parse(&r).unwrap_err().contains("utxos"));
        for op in ["AB:0", "ab:00", "ab:-1", "ab"] {
            let mut r = raw("bitcoin-regtest", REGTEST);
            r.utxos[0].outpoint = op
                .replace("ab", &"ab".repeat(32))
                .replace("AB", &"AB".repeat(32));
            assert!(Entry::parse(&r).is_err(), "{op}");
        }
        let mut r = raw("bitcoin-regtest", REGTEST);
        r.utxos[0].value = "21000000000000000000".into();
        assert!(Entry::parse(&r)
            .unwrap_err()
            .contains("more than 2^64 - 1 satoshi"));
    }

    #[test]
    fn evm_entries_and_keys() {
        let mut r = raw("ethereum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        assert!(Entry::parse(&r)
            .unwrap_err()
            .contains("for Bitcoin entries"));
        r.utxos.clear();
        let a = Entry::parse(&r).unwrap();
        r.address = r.address.to_ascii_lowercase();
        let b = Entry::parse(&r).unwrap();
        assert_eq!(a.holding.key(), b.holding.key());
        r.chain = "ethereum-01".into();
        assert!(Entry::parse(&r).is_err());
    }
}
