//! Where reserves can be held: chain names as they appear in the signed bytes.
//!
//! The names are plain strings in the signed statements; this module is the one place that
//! turns them into a [`Location`], and it accepts only the canonical spelling, so one chain
//! has exactly one name in the signed bytes (`ethereum`, never `ethereum-1` or
//! `ethereum-01`). It needs no chain library: the customer's core check uses it.

use std::fmt;

/// A Bitcoin network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BitcoinNet {
    /// Bitcoin mainnet.
    Main,
    /// testnet3.
    Testnet,
    /// testnet4.
    Testnet4,
    /// signet.
    Signet,
    /// regtest (a private test chain).
    Regtest,
}

/// A chain of the Bitcoin family other than Bitcoin: its own address versions and message
/// magic (spec/reserves.md, "The Bitcoin family").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fork {
    /// Litecoin mainnet.
    Litecoin,
    /// Dogecoin mainnet.
    Dogecoin,
    /// Bitcoin Cash mainnet (CashAddr and legacy addresses).
    BitcoinCash,
    /// Monacoin mainnet.
    Monacoin,
}

impl Fork {
    /// Every fork, in the order of their names.
    pub const ALL: [Fork; 4] = [
        Fork::BitcoinCash,
        Fork::Dogecoin,
        Fork::Litecoin,
        Fork::Monacoin,
    ];

    /// The canonical chain name.
    pub fn name(&self) -> &'static str {
        match self {
            Fork::Litecoin => "litecoin",
            Fork::Dogecoin => "dogecoin",
            Fork::BitcoinCash => "bitcoin-cash",
            Fork::Monacoin => "monacoin",
        }
    }
}

/// A chain a reserve can be held and checked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    /// Bitcoin on one of its networks.
    Bitcoin(BitcoinNet),
    /// An EVM chain by its EIP-155 chain id (1 = Ethereum mainnet).
    Evm(u64),
    /// TRON mainnet. Its nodes answer balances at the current block only: holdings are
    /// signature-checked and UNVERIFIED (spec/reserves.md, "TRON and Solana").
    Tron,
    /// Solana mainnet-beta. The same holds as for TRON.
    Solana,
    /// A chain of the Bitcoin family other than Bitcoin. Its holdings are signature-checked and
    /// UNVERIFIED until a node check exists for it.
    BitcoinFork(Fork),
}

/// Where an asset's reserves are held, as a binding states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// On a chain, where a node can check balances.
    Chain(Chain),
    /// Off chain (fiat in a bank or trust): nothing this tool can check.
    OffChain,
}

/// The name of the off-chain location.
pub const OFF_CHAIN: &str = "off-chain";

/// EVM test networks, vendored from a maintained chain list with its source and commit in the
/// file's header: `chain id<TAB>name[<TAB>where it came from]`, sorted by id.
const EVM_TEST_NETWORKS_TSV: &str = include_str!("../data/evm-test-networks.tsv");

/// The name of an EVM test network the vendored list knows (Goerli, Sepolia, Holesky, Hoodi,
/// BSC testnet, Amoy, the Sepolia chains of the rollups, local development chains, ...).
pub fn evm_test_network(id: u64) -> Option<&'static str> {
    EVM_TEST_NETWORKS_TSV
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split('\t');
            let this: u64 = f.next()?.trim().parse().ok()?;
            (this == id).then(|| f.next().unwrap_or("").trim())
        })
}

impl Chain {
    /// Parses a canonical chain name: `bitcoin`, `bitcoin-testnet`, `bitcoin-testnet4`,
    /// `bitcoin-signet`, `bitcoin-regtest`, `ethereum`, or `ethereum-<id>` with `<id>` a decimal
    /// of at least 2 without leading zeros.
    pub fn parse(text: &str) -> Result<Chain, String> {
        let c = match text {
            "bitcoin" => Chain::Bitcoin(BitcoinNet::Main),
            "bitcoin-testnet" => Chain::Bitcoin(BitcoinNet::Testnet),
            "bitcoin-testnet4" => Chain::Bitcoin(BitcoinNet::Testnet4),
            "bitcoin-signet" => Chain::Bitcoin(BitcoinNet::Signet),
            "bitcoin-regtest" => Chain::Bitcoin(BitcoinNet::Regtest),
            "ethereum" => Chain::Evm(1),
            "tron" => Chain::Tron,
            "solana" => Chain::Solana,
            "litecoin" => Chain::BitcoinFork(Fork::Litecoin),
            "dogecoin" => Chain::BitcoinFork(Fork::Dogecoin),
            "bitcoin-cash" => Chain::BitcoinFork(Fork::BitcoinCash),
            "monacoin" => Chain::BitcoinFork(Fork::Monacoin),
            _ => {
                let id = text.strip_prefix("ethereum-").and_then(|d| {
                    let canonical = !d.is_empty()
                        && d.bytes().all(|b| b.is_ascii_digit())
                        && !d.starts_with('0');
                    canonical.then(|| d.parse::<u64>().ok()).flatten()
                });
                match id {
                    Some(id) if id >= 2 => Chain::Evm(id),
                    Some(1) => return Err(format!("chain {text:?}: Ethereum mainnet is written \"ethereum\"")),
                    _ => {
                        return Err(format!(
                            "chain {text:?}: expected bitcoin, bitcoin-testnet, bitcoin-testnet4, bitcoin-signet, \
                             bitcoin-regtest, ethereum, ethereum-<chain id> (decimal, no leading zeros, at least 2), \
                             tron, solana, litecoin, dogecoin, bitcoin-cash or monacoin"
                        ))
                    }
                }
            }
        };
        Ok(c)
    }

    /// Whether this is a test network: a Bitcoin network other than mainnet, or an EVM chain id
    /// of the vendored list ([`evm_test_network`]). Coins there have no value; they count only
    /// when the user's own registry names them, and then as TEST NETWORK.
    pub fn is_test_network(&self) -> bool {
        match self {
            Chain::Bitcoin(n) => *n != BitcoinNet::Main,
            Chain::Evm(id) => evm_test_network(*id).is_some(),
            Chain::Tron | Chain::Solana | Chain::BitcoinFork(_) => false,
        }
    }

    /// Whether a node can answer this chain's balances at a past snapshot height here. TRON's
    /// JSON-RPC answers `latest` only and Solana's RPC keeps current state only, so their
    /// holdings stay UNVERIFIED until a check at a snapshot exists; the Bitcoin forks' nodes
    /// can, but their check is not built yet, so theirs do too.
    pub fn has_snapshot_node(&self) -> bool {
        matches!(self, Chain::Bitcoin(_) | Chain::Evm(_))
    }

    /// The family name: `bitcoin`, `ethereum`, `tron` or `solana`.
    pub fn family(&self) -> &'static str {
        match self {
            Chain::Bitcoin(_) => "bitcoin",
            Chain::Evm(_) => "ethereum",
            Chain::Tron => "tron",
            Chain::Solana => "solana",
            Chain::BitcoinFork(f) => f.name(),
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chain::Bitcoin(BitcoinNet::Main) => f.write_str("bitcoin"),
            Chain::Bitcoin(BitcoinNet::Testnet) => f.write_str("bitcoin-testnet"),
            Chain::Bitcoin(BitcoinNet::Testnet4) => f.write_str("bitcoin-testnet4"),
            Chain::Bitcoin(BitcoinNet::Signet) => f.write_str("bitcoin-signet"),
            Chain::Bitcoin(BitcoinNet::Regtest) => f.write_str("bitcoin-regtest"),
            Chain::Evm(1) => f.write_str("ethereum"),
            Chain::Evm(id) => write!(f, "ethereum-{id}"),
            Chain::Tron => f.write_str("tron"),
            Chain::Solana => f.write_str("solana"),
            Chain::BitcoinFork(k) => f.write_str(k.name()),
        }
    }
}

impl Location {
    /// Parses a chain name or `off-chain`.
    pub fn parse(text: &str) -> Result<Location, String> {
        if text == OFF_CHAIN {
            return Ok(Location::OffChain);
        }
        Chain::parse(text).map(Location::Chain)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Chain(c) => c.fmt(f),
            Location::OffChain => f.write_str(OFF_CHAIN),
        }
    }
}

/// Parses a token's identifier on `chain` into its canonical form, as bindings and registries
/// name it: an EVM contract in lower case (mixed case must be a valid EIP-55 checksum); a
/// TRC-20 contract as its base58check address (`T…`, version 0x41); an SPL token's mint as its
/// base58 public key (32 bytes). Base58 is case-sensitive, so those are kept as written.
pub fn canonical_token(chain: &Chain, text: &str) -> Result<String, String> {
    match chain {
        Chain::Evm(_) => {
            crate::evm::EthAddress::parse(text).map_err(|e| e.message().to_string())?;
            canonical_evm_address(text).ok_or_else(|| format!("{text:?}: not an EVM address"))
        }
        Chain::Tron => crate::tron::TronAddress::parse(text).map(|a| a.to_string()),
        Chain::Solana => crate::solana::SolanaKey::parse(text).map(|k| k.to_string()),
        Chain::Bitcoin(_) | Chain::BitcoinFork(_) => Err(format!("{chain} has no token contracts")),
    }
}

/// Parses an EVM address `0x` + 40 hex into its canonical lower-case form. Mixed case must be a
/// valid EIP-55 checksum, which the typed check verifies; here only the shape is checked.
pub fn canonical_evm_address(text: &str) -> Option<String> {
    let h = text.strip_prefix("0x")?;
    (h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("0x{}", h.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_only() {
        for name in [
            "bitcoin",
            "bitcoin-testnet",
            "bitcoin-testnet4",
            "bitcoin-signet",
            "bitcoin-regtest",
            "ethereum",
            "ethereum-56",
            "ethereum-31337",
            "tron",
            "solana",
            "litecoin",
            "dogecoin",
            "bitcoin-cash",
            "monacoin",
        ] {
            assert_eq!(Chain::parse(name).unwrap().to_string(), name);
        }
        for bad in [
            "ethereum-1",
            "ethereum-0",
            "ethereum-056",
            "ethereum-",
            "ethereum-+5",
            "Bitcoin",
            "bitcoin-mainnet",
            " bitcoin",
            "ethereum-99999999999999999999999",
        ] {
            assert!(Chain::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Location::parse("off-chain"), Ok(Location::OffChain));
    }

    #[test]
    fn test_networks() {
        assert!(!Chain::parse("bitcoin").unwrap().is_test_network());
        assert!(Chain::parse("bitcoin-regtest").unwrap().is_test_network());
        assert!(Chain::parse("ethereum-11155111").unwrap().is_test_network());
        assert!(!Chain::parse("ethereum-56").unwrap().is_test_network());
        // The vendored list: the test networks, and no mainnet among them.
        for id in [
            5, 97, 17_000, 80_001, 80_002, 84_532, 421_614, 560_048, 11_155_111, 11_155_420, 31_337,
        ] {
            assert!(Chain::Evm(id).is_test_network(), "{id}");
        }
        for id in [
            1, 10, 56, 100, 137, 250, 324, 8_453, 42_161, 42_220, 43_114, 59_144,
        ] {
            assert!(!Chain::Evm(id).is_test_network(), "{id}");
        }
        let ids: Vec<u64> = EVM_TEST_NETWORKS_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                l.split('\t')
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .expect("a chain id on every line")
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(ids.len() >= 30, "{} test networks", ids.len());
    }

    #[test]
    fn evm_addresses() {
        assert_eq!(
            canonical_evm_address("0xdAC17F958D2ee523a2206206994597C13D831ec7").as_deref(),
            Some("0xdac17f958d2ee523a2206206994597c13d831ec7")
        );
        assert!(canonical_evm_address("dac17f958d2ee523a2206206994597c13d831ec7").is_none());
        assert!(canonical_evm_address("0x1234").is_none());
    }
}
