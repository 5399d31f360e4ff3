//! The asset registry: what the *user* trusts about chains, coins and token contracts.
//!
//! The exchange's bindings say where each asset's reserves are; the registry says whether that
//! place really holds that asset. It is built in for mainnet Bitcoin, Ethereum and the large
//! stablecoins, and the user extends it with their own files: token lists in the Uniswap
//! token-list JSON format (EVM tokens: `chainId`, `address`, `symbol`, `decimals`), and
//! registry files of this project's format (`por-registry-v1`, spec/reserves.md "Registry")
//! for native coins of other chains, Bitcoin test networks, pegged tokens and fiat.
//!
//! A binding counts when the registry has an entry for its chain and contract with the same
//! symbol and decimals, issued by the asset's issuer or native to the chain. A *pegged* token
//! (issued by an exchange against its own custody, such as Binance-Peg USDT on BNB Smart Chain)
//! never counts as reserves of the underlying asset. A test network or an entry from the user's
//! files counts, and is labelled so ([`Trust`]).

use crate::binding::CheckedBinding;
use crate::chains::{canonical_evm_address, Chain, Location};
use crate::error::{Error, Result};
use serde::Deserialize;

/// How a registry entry's asset comes to be on its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuance {
    /// The chain's own coin (BTC on Bitcoin, ETH on Ethereum).
    Native,
    /// A token issued by the asset's canonical issuer (Tether's USDT on Ethereum, Circle's USDC
    /// on Base). Written `canonical` (or `token`, the first name) in registry files.
    Token,
    /// A token an exchange issues against its own custody (Binance-Peg tokens): never reserves
    /// of the underlying.
    Pegged,
    /// A token a bridge issues against the asset locked on another chain (USDC.e): it counts
    /// only through the user's own registry, labelled BRIDGED, since it is as good as the bridge.
    Bridged,
    /// A fiat currency, held off chain.
    Fiat,
}

impl Issuance {
    fn parse(s: &str) -> Option<Issuance> {
        Some(match s {
            "native" => Issuance::Native,
            "canonical" | "token" => Issuance::Token,
            "pegged" => Issuance::Pegged,
            "bridged" => Issuance::Bridged,
            "fiat" => Issuance::Fiat,
            _ => return None,
        })
    }

    /// The name used in registry files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Issuance::Native => "native",
            Issuance::Token => "canonical",
            Issuance::Pegged => "pegged",
            Issuance::Bridged => "bridged",
            Issuance::Fiat => "fiat",
        }
    }
}

/// Exchange-issued pegged tokens of BNB Smart Chain, vendored with their source and date in the
/// file's header: `address, symbol, decimals, name[, underlying=SYMBOL]`, tab-separated.
const BSC_PEGGED_TSV: &str = include_str!("../data/bsc-pegged-tokens.tsv");

/// One registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// Where the asset is.
    pub location: Location,
    /// The token contract (lower case), for EVM tokens.
    pub token: Option<String>,
    /// The asset's symbol.
    pub symbol: String,
    /// Decimals of its unit there.
    pub decimals: u8,
    /// How it is issued.
    pub issuance: Issuance,
    /// `None` for the built-in registry, else the user's file it came from.
    pub source: Option<String>,
    /// Whether it came from a token list (`--token-list`), whose entries confirm less than a
    /// registry file the user wrote ([`Registry::confirm`]).
    pub from_token_list: bool,
}

/// How far a confirmed binding is trusted; shown beside every amount it backs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Confirmed by the built-in registry (mainnets and canonical contracts).
    BuiltIn,
    /// Confirmed only by the user's own file: USER-SUPPLIED BINDING.
    UserSupplied(String),
    /// A test network the user's own file names: TEST NETWORK.
    TestNetwork(String),
    /// A bridged token the user's own registry names: BRIDGED TOKEN.
    Bridged(String),
    /// Fiat held off chain: confirmed as fiat, but no chain can prove it.
    OffChain,
}

impl Trust {
    /// The words shown to users.
    pub fn words(&self) -> String {
        match self {
            Trust::BuiltIn => "built-in registry".into(),
            Trust::UserSupplied(f) => format!("USER-SUPPLIED BINDING ({f})"),
            Trust::TestNetwork(f) => format!("TEST NETWORK ({f})"),
            Trust::Bridged(f) => format!("BRIDGED TOKEN, as good as its bridge ({f})"),
            Trust::OffChain => "fiat, held off chain".into(),
        }
    }
}

/// The registry: built-in entries and the user's additions.
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<RegistryEntry>,
}

/// Canonical mainnet entries: (chain, token, symbol, decimals, issuance).
const BUILT_IN: &[(&str, Option<&str>, &str, u8, Issuance)] = &[
    ("bitcoin", None, "BTC", 8, Issuance::Native),
    ("ethereum", None, "ETH", 18, Issuance::Native),
    (
        "ethereum",
        Some("0xdac17f958d2ee523a2206206994597c13d831ec7"),
        "USDT",
        6,
        Issuance::Token,
    ),
    (
        "ethereum",
        Some("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"),
        "USDC",
        6,
        Issuance::Token,
    ),
    (
        "ethereum",
        Some("0x6b175474e89094c44da98b954eedeac495271d0f"),
        "DAI",
        18,
        Issuance::Token,
    ),
    (
        "ethereum",
        Some("0x2260fac5e5542a773aa44fbcfedf7c193bc2c599"),
        "WBTC",
        8,
        Issuance::Token,
    ),
    // TRON and Solana (issue 19): the coins and the issuers' own USDT and USDC contracts
    // (Tether and Circle publish them; the same addresses are in TronWeb, Solana token lists
    // and wallets' code). Holdings there are UNVERIFIED until a snapshot check exists.
    // The Bitcoin forks' coins (issue 19): signature-checked, UNVERIFIED until their node check.
    ("litecoin", None, "LTC", 8, Issuance::Native),
    ("dogecoin", None, "DOGE", 8, Issuance::Native),
    ("bitcoin-cash", None, "BCH", 8, Issuance::Native),
    ("monacoin", None, "MONA", 8, Issuance::Native),
    ("tron", None, "TRX", 6, Issuance::Native),
    (
        "tron",
        Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        "USDT",
        6,
        Issuance::Token,
    ),
    (
        "tron",
        Some("TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8"),
        "USDC",
        6,
        Issuance::Token,
    ),
    ("solana", None, "SOL", 9, Issuance::Native),
    (
        "solana",
        Some("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"),
        "USDT",
        6,
        Issuance::Token,
    ),
    (
        "solana",
        Some("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"),
        "USDC",
        6,
        Issuance::Token,
    ),
    // The pegged tokens of BNB Smart Chain come from BSC_PEGGED_TSV.
    ("ethereum-56", None, "BNB", 18, Issuance::Native),
    ("off-chain", None, "JPY", 0, Issuance::Fiat),
    ("off-chain", None, "USD", 2, Issuance::Fiat),
    ("off-chain", None, "EUR", 2, Issuance::Fiat),
];

/// The largest registry or token-list file read.
pub const MAX_REGISTRY_BYTES: u64 = 16 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFileJson {
    format: String,
    entries: Vec<RegistryEntryJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryEntryJson {
    chain: String,
    #[serde(default)]
    token: Option<String>,
    symbol: String,
    decimals: u8,
    issuance: String,
    /// Free text for people (where the entry comes from); not used.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// The fields of the Uniswap token-list format this tool reads; the others are ignored.
#[derive(Deserialize)]
struct TokenListJson {
    tokens: Vec<TokenJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenJson {
    chain_id: u64,
    address: String,
    symbol: String,
    decimals: u8,
}

/// The format string of the project's registry files.
pub const REGISTRY_FORMAT: &str = "por-registry-v1";

impl Default for Registry {
    fn default() -> Self {
        Registry::built_in()
    }
}

impl Registry {
    /// The built-in registry.
    pub fn built_in() -> Registry {
        let mut entries: Vec<RegistryEntry> = BUILT_IN
            .iter()
            .map(|(chain, token, symbol, decimals, issuance)| RegistryEntry {
                // The table is checked by a unit test: every name parses.
                location: Location::parse(chain).unwrap_or(Location::OffChain),
                token: token.map(String::from),
                symbol: symbol.to_string(),
                decimals: *decimals,
                issuance: *issuance,
                source: None,
                from_token_list: false,
            })
            .collect();
        entries.extend(pegged_bsc().map(|(token, symbol, decimals)| RegistryEntry {
            location: Location::Chain(Chain::Evm(56)),
            token: Some(token.to_string()),
            symbol: symbol.to_string(),
            decimals,
            issuance: Issuance::Pegged,
            source: None,
            from_token_list: false,
        }));
        Registry { entries }
    }

    #[cfg(feature = "fs")]
    /// The built-in registry extended by the user's registry files and token lists, read with
    /// the usual size bound; returns it with the number of token-list entries skipped.
    pub fn with_files(
        registries: &[std::path::PathBuf],
        token_lists: &[std::path::PathBuf],
    ) -> Result<(Registry, usize)> {
        use crate::input::{read_bounded, FileKind};
        let mut r = Registry::built_in();
        for p in registries {
            let bytes = read_bounded(p, MAX_REGISTRY_BYTES, FileKind::Other("registry file"))?;
            r.add_registry_file(&p.display().to_string(), &bytes)?;
        }
        let mut skipped = 0;
        for p in token_lists {
            let bytes = read_bounded(p, MAX_REGISTRY_BYTES, FileKind::Other("token list"))?;
            skipped += r.add_token_list(&p.display().to_string(), &bytes)?;
        }
        Ok((r, skipped))
    }

    /// Every entry.
    pub fn entries(&self) -> &[RegistryEntry] {
        &self.entries
    }

    fn find(&self, location: &Location, token: Option<&str>) -> Option<&RegistryEntry> {
        self.entries
            .iter()
            .find(|e| e.location == *location && e.token.as_deref() == token)
    }

    /// Adds a user entry; an entry that contradicts one already there is an error.
    fn add(&mut self, e: RegistryEntry, at: &str) -> Result<()> {
        let existing = if e.location == Location::OffChain {
            self.entries
                .iter()
                .find(|x| x.location == Location::OffChain && x.symbol == e.symbol)
        } else {
            self.find(&e.location, e.token.as_deref())
        };
        match existing {
            Some(x)
                if x.symbol == e.symbol && x.decimals == e.decimals && x.issuance == e.issuance =>
            {
                Ok(())
            }
            Some(x) => Err(Error::input(format!(
                "{at}: contradicts the {} entry for {}{}: {} with {} decimals ({:?})",
                x.source.as_deref().unwrap_or("built-in"),
                x.location,
                x.token
                    .as_deref()
                    .map(|t| format!(" token {t}"))
                    .unwrap_or_default(),
                x.symbol,
                x.decimals,
                x.issuance
            ))),
            None => {
                self.entries.push(e);
                Ok(())
            }
        }
    }

    /// Adds the entries of a registry file (`por-registry-v1`).
    pub fn add_registry_file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let j: RegistryFileJson =
            crate::input::parse_json(name, bytes, crate::input::FileKind::Other("registry file"))?;
        if j.format != REGISTRY_FORMAT {
            return Err(Error::input(format!(
                "{name}, field format: expected {REGISTRY_FORMAT:?}, found {:?}",
                j.format
            )));
        }
        for (i, e) in j.entries.into_iter().enumerate() {
            let at = format!("{name}, entries[{i}]");
            let location = Location::parse(&e.chain)
                .map_err(|m| Error::input(format!("{at}, field chain: {m}")))?;
            let issuance = Issuance::parse(&e.issuance).ok_or_else(|| {
                Error::input(format!(
                    "{at}, field issuance: expected native, canonical (or token), pegged, bridged or fiat, found {:?}",
                    e.issuance
                ))
            })?;
            let token = match (&e.token, location) {
                (None, _) => None,
                (Some(t), Location::Chain(c)) => Some(
                    crate::chains::canonical_token(&c, t)
                        .map_err(|m| Error::input(format!("{at}, field token: {m}")))?,
                ),
                (Some(_), Location::OffChain) => {
                    return Err(Error::input(format!(
                        "{at}, field token: fiat held off chain has no token"
                    )))
                }
            };
            let shape_ok = matches!(
                (location, issuance, &token),
                (Location::OffChain, Issuance::Fiat, None)
                    | (Location::Chain(_), Issuance::Native, None)
                    | (
                        Location::Chain(Chain::Evm(_) | Chain::Tron | Chain::Solana),
                        Issuance::Token | Issuance::Pegged | Issuance::Bridged,
                        Some(_)
                    )
            );
            if !shape_ok {
                return Err(Error::input(format!(
                    "{at}: expected a native coin (no token) on a chain, a token or pegged token (with a token \
                     contract) on an EVM, TRON or Solana chain, or fiat off-chain"
                )));
            }
            crate::asset::Asset {
                symbol: e.symbol.clone(),
                decimals: e.decimals,
            }
            .validate()
            .map_err(|x| x.context(&at))?;
            self.add(
                RegistryEntry {
                    location,
                    token,
                    symbol: e.symbol,
                    decimals: e.decimals,
                    issuance,
                    source: Some(name.to_string()),
                    from_token_list: false,
                },
                &at,
            )?;
        }
        Ok(())
    }

    /// Adds the tokens of a Uniswap-format token list. A token whose symbol or decimals this
    /// tool's assets cannot have is skipped (no attestation can name it), and so is one that
    /// contradicts an entry already there: a list cannot turn a pegged token into the real one.
    /// Returns how many tokens were skipped.
    pub fn add_token_list(&mut self, name: &str, bytes: &[u8]) -> Result<usize> {
        let j: TokenListJson =
            crate::input::parse_json(name, bytes, crate::input::FileKind::Other("token list"))?;
        let mut skipped = 0;
        for (i, t) in j.tokens.into_iter().enumerate() {
            let at = format!("{name}, tokens[{i}]");
            if t.chain_id == 0 {
                return Err(Error::input(format!(
                    "{at}, field chainId: 0 is not a chain"
                )));
            }
            crate::evm::EthAddress::parse(&t.address)
                .map_err(|x| x.context(format!("{at}, field address")))?;
            let token = canonical_evm_address(&t.address);
            let usable = crate::asset::Asset {
                symbol: t.symbol.clone(),
                decimals: t.decimals,
            }
            .validate()
            .is_ok();
            let entry = RegistryEntry {
                location: Location::Chain(Chain::Evm(t.chain_id)),
                token,
                symbol: t.symbol,
                decimals: t.decimals,
                issuance: Issuance::Token,
                source: Some(name.to_string()),
                from_token_list: true,
            };
            if !usable || self.add(entry, &at).is_err() {
                skipped += 1;
            }
        }
        Ok(skipped)
    }

    /// Whether the registry confirms `b`: `Ok` with how far it is trusted, or `Err` with the
    /// reason the binding cannot count (a failed check: the exchange signed it).
    pub fn confirm(&self, b: &CheckedBinding) -> std::result::Result<Trust, String> {
        let Location::Chain(chain) = b.location else {
            if let Some(x) = self
                .entries
                .iter()
                .find(|x| x.symbol == b.symbol && x.location != Location::OffChain)
            {
                return Err(format!(
                    "{} is held on {} according to the {} registry: it cannot be declared off chain, where nothing \
                     can be checked",
                    b.symbol,
                    x.location,
                    x.source.as_deref().unwrap_or("built-in")
                ));
            }
            return match self
                .entries
                .iter()
                .find(|x| x.symbol == b.symbol && x.issuance == Issuance::Fiat)
            {
                Some(_) => Ok(Trust::OffChain),
                None => Err(format!(
                    "{} is not a fiat currency the registry knows: only fiat may be bound off chain",
                    b.symbol
                )),
            };
        };
        let Some(x) = self.find(&b.location, b.token.as_deref()) else {
            return Err(match (&b.token, chain.is_test_network()) {
                (_, true) => format!(
                    "{chain} is a test network: coins there count only when your own registry names them (--registry)"
                ),
                (Some(t), false) => format!(
                    "token contract {t} on {chain} is in no registry you trust (built-in, --registry, --token-list): \
                     the exchange chose it, so it cannot count as {}",
                    b.symbol
                ),
                (None, false) => format!(
                    "the registry knows no native coin of {chain}; name it in your own registry (--registry) to count it"
                ),
            });
        };
        let what = match &x.token {
            Some(t) => format!("token {t} on {chain}"),
            None => format!("the native coin of {chain}"),
        };
        if x.symbol != b.symbol {
            return Err(format!(
                "the registry says {what} is {}, not {}",
                x.symbol, b.symbol
            ));
        }
        if x.decimals != b.decimals {
            return Err(format!(
                "the binding says {what} has {} decimals, the registry says {}: amounts would be read in the wrong unit",
                b.decimals, x.decimals
            ));
        }
        match x.issuance {
            Issuance::Pegged => Err(format!(
                "{what} is a pegged token, issued by an exchange against its own custody: it never counts as \
                 reserves of {}",
                b.symbol
            )),
            Issuance::Fiat => Err(format!("{what} is fiat, not on a chain")),
            Issuance::Bridged => match &x.source {
                Some(f) if !x.from_token_list => Ok(Trust::Bridged(f.clone())),
                _ => Err(format!(
                    "{what} is a bridged token: it counts as {} only when your own registry names it (--registry)",
                    b.symbol
                )),
            },
            Issuance::Native | Issuance::Token => {
                if x.from_token_list {
                    self.token_list_may_confirm(x, chain)?;
                }
                Ok(match &x.source {
                    None => Trust::BuiltIn,
                    Some(f) if chain.is_test_network() => Trust::TestNetwork(f.clone()),
                    Some(f) => Trust::UserSupplied(f.clone()),
                })
            }
        }
    }

    /// What a token list cannot confirm: a list is a third party's, fetched rather than written
    /// by the user, so it never overrides what the built-in table knows of a chain. `x` is the
    /// list's entry for the binding's contract.
    fn token_list_may_confirm(
        &self,
        x: &RegistryEntry,
        chain: Chain,
    ) -> std::result::Result<(), String> {
        let fix = "only your own registry (--registry) can confirm it";
        let source = x.source.as_deref().unwrap_or("a token list");
        if chain.is_test_network() {
            return Err(format!(
                "{chain} is a test network: a token list ({source}) cannot make its coins count; {fix}, and then                  they count as TEST NETWORK"
            ));
        }
        let table = || {
            self.entries
                .iter()
                .filter(|e| e.source.is_none() && e.location == x.location)
        };
        if table().any(|e| e.issuance == Issuance::Pegged) {
            return Err(format!(
                "{chain} carries tokens pegged by an exchange, which token lists name like the real ones: the entry                  of {source} for {} cannot count; {fix}",
                x.symbol
            ));
        }
        if let Some(e) = table().find(|e| e.symbol == x.symbol) {
            return Err(format!(
                "the built-in registry already places {} on {chain}{}: another contract from {source} cannot count                  as {}; {fix}",
                x.symbol,
                e.token.as_deref().map(|t| format!(" at {t}")).unwrap_or_else(|| " as its native coin".into()),
                x.symbol
            ));
        }
        if let Some(other) = self.entries.iter().find(|e| {
            e.from_token_list
                && e.location == x.location
                && e.symbol == x.symbol
                && e.token != x.token
        }) {
            return Err(format!(
                "the token lists name two contracts for {} on {chain} ({} and {}): a second entry point or a                  look-alike, so neither counts from a list; {fix}",
                x.symbol,
                x.token.as_deref().unwrap_or("-"),
                other.token.as_deref().unwrap_or("-")
            ));
        }
        Ok(())
    }

    /// The binding the built-in registry gives a symbol when the exchange names none: its one
    /// mainnet native coin, issuer's token or fiat entry, if there is exactly one. Chains whose
    /// holdings cannot be checked at a snapshot (TRON, Solana) are never a default: the
    /// exchange binds an asset there by name, knowing its customers will see it UNVERIFIED.
    pub fn default_binding(&self, symbol: &str) -> Option<crate::binding::Binding> {
        let mut found = self.entries.iter().filter(|x| {
            x.source.is_none()
                && x.symbol == symbol
                && x.issuance != Issuance::Pegged
                && !matches!(x.location, Location::Chain(c) if !c.has_snapshot_node())
        });
        let x = found.next()?;
        if found.next().is_some() {
            return None;
        }
        Some(crate::binding::Binding {
            asset: symbol.to_string(),
            chain: x.location.to_string(),
            token: x.token.clone(),
            decimals: x.decimals,
        })
    }
}

/// The vendored pegged tokens: (contract, symbol of the underlying asset, decimals). Lines that
/// do not parse are skipped here and refused by a unit test, so the table cannot silently shrink.
fn pegged_bsc() -> impl Iterator<Item = (&'static str, &'static str, u8)> {
    BSC_PEGGED_TSV.lines().filter_map(parse_pegged_line)
}

fn parse_pegged_line(line: &'static str) -> Option<(&'static str, &'static str, u8)> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let f: Vec<&str> = line.split('\t').collect();
    let (token, symbol, decimals) = (*f.first()?, *f.get(1)?, f.get(2)?.parse().ok()?);
    let valid = token.len() == 42
        && token.starts_with("0x")
        && token[2..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let underlying = f.iter().find_map(|x| x.strip_prefix("underlying="));
    valid.then_some((token, underlying.unwrap_or(symbol), decimals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::Asset;
    use crate::binding::Binding;

    fn assets() -> Vec<Asset> {
        ["BTC:8", "ETH:18", "USDT:6", "JPY:0"]
            .iter()
            .map(|c| Asset::parse_column(c).unwrap())
            .collect()
    }

    fn confirm(
        r: &Registry,
        asset: &str,
        chain: &str,
        token: Option<&str>,
        d: u8,
    ) -> std::result::Result<Trust, String> {
        let b = Binding {
            asset: asset.into(),
            chain: chain.into(),
            token: token.map(String::from),
            decimals: d,
        }
        .check(&assets())?;
        r.confirm(&b)
    }

    const USDT: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

    #[test]
    fn built_in_table_parses() {
        for (chain, ..) in BUILT_IN {
            assert!(Location::parse(chain).is_ok(), "{chain}");
        }
        assert!(Registry::built_in().entries().iter().all(|e| {
            let Location::Chain(c) = e.location else {
                return e.token.is_none();
            };
            e.token
                .as_deref()
                .is_none_or(|t| crate::chains::canonical_token(&c, t).as_deref() == Ok(t))
        }));
    }

    #[test]
    fn built_in_confirms_mainnet_and_refuses_the_rest() {
        let r = Registry::built_in();
        assert_eq!(confirm(&r, "BTC", "bitcoin", None, 8), Ok(Trust::BuiltIn));
        assert_eq!(
            confirm(&r, "USDT", "ethereum", Some(USDT), 6),
            Ok(Trust::BuiltIn)
        );
        // Wrong chain, wrong unit, the exchange's own contract, a pegged token, a test network.
        assert!(confirm(&r, "BTC", "ethereum", None, 18)
            .unwrap_err()
            .contains("is ETH, not BTC"));
        assert!(confirm(&r, "BTC", "bitcoin", None, 2)
            .unwrap_err()
            .contains("registry says 8"));
        let own = "0x00000000000000000000000000000000000a11ce";
        assert!(confirm(&r, "USDT", "ethereum", Some(own), 6)
            .unwrap_err()
            .contains("the exchange chose it"));
        let peg = "0x55d398326f99059ff775485246999027b3197955";
        assert!(confirm(&r, "USDT", "ethereum-56", Some(peg), 18)
            .unwrap_err()
            .contains("pegged"));
        assert!(confirm(&r, "BTC", "bitcoin-regtest", None, 8)
            .unwrap_err()
            .contains("test network"));
        // Off chain: fiat only, never a crypto asset.
        assert_eq!(
            confirm(&r, "JPY", "off-chain", None, 0),
            Ok(Trust::OffChain)
        );
        assert!(confirm(&r, "BTC", "off-chain", None, 8)
            .unwrap_err()
            .contains("cannot be declared off chain"));
    }

    #[test]
    fn user_files_extend_and_are_labelled() {
        let mut r = Registry::built_in();
        let reg = br#"{"format": "por-registry-v1", "entries": [
            {"chain": "bitcoin-regtest", "symbol": "BTC", "decimals": 8, "issuance": "native"},
            {"chain": "ethereum-31337", "token": "0x00000000000000000000000000000000000000aa", "symbol": "USDT", "decimals": 6, "issuance": "pegged"}]}"#;
        r.add_registry_file("my.json", reg).unwrap();
        let list = br#"{"name": "L", "version": {"major": 1}, "tokens": [
            {"chainId": 137, "address": "0x00000000000000000000000000000000000000bb", "symbol": "USDT", "decimals": 6, "name": "Tether"}]}"#;
        r.add_token_list("list.json", list).unwrap();
        assert_eq!(
            confirm(&r, "BTC", "bitcoin-regtest", None, 8),
            Ok(Trust::TestNetwork("my.json".into()))
        );
        assert_eq!(
            confirm(
                &r,
                "USDT",
                "ethereum-137",
                Some("0x00000000000000000000000000000000000000bb"),
                6
            ),
            Ok(Trust::UserSupplied("list.json".into()))
        );
        assert!(confirm(
            &r,
            "USDT",
            "ethereum-31337",
            Some("0x00000000000000000000000000000000000000aa"),
            6
        )
        .is_err());
        // Contradicting the built-in entries is refused.
        let bad = br#"{"format": "por-registry-v1", "entries": [{"chain": "bitcoin", "symbol": "XBT", "decimals": 8, "issuance": "native"}]}"#;
        assert!(r
            .add_registry_file("bad.json", bad)
            .unwrap_err()
            .message()
            .contains("contradicts"));
        let shape = br#"{"format": "por-registry-v1", "entries": [{"chain": "bitcoin", "token": "0x00000000000000000000000000000000000000bb", "symbol": "X", "decimals": 8, "issuance": "token"}]}"#;
        assert!(r.add_registry_file("shape.json", shape).is_err());
    }

    #[test]
    fn token_lists_confirm_less_than_the_users_registry() {
        let assets: Vec<Asset> = ["USDT:6", "USDC:6", "DAI:18"]
            .iter()
            .map(|c| Asset::parse_column(c).unwrap())
            .collect();
        let check = |r: &Registry, asset: &str, chain: &str, token: &str, d: u8| {
            let b = Binding {
                asset: asset.into(),
                chain: chain.into(),
                token: Some(token.into()),
                decimals: d,
            }
            .check(&assets)
            .unwrap();
            r.confirm(&b)
        };
        let (a, b) = (
            "0x00000000000000000000000000000000000000a1",
            "0x00000000000000000000000000000000000000b2",
        );
        let list = format!(
            r#"{{"tokens": [
            {{"chainId": 8453, "address": "{a}", "symbol": "USDC", "decimals": 6}},
            {{"chainId": 42161, "address": "{a}", "symbol": "USDC", "decimals": 6}},
            {{"chainId": 42161, "address": "{b}", "symbol": "USDC", "decimals": 6}},
            {{"chainId": 56, "address": "{a}", "symbol": "DAI", "decimals": 18}},
            {{"chainId": 5, "address": "{a}", "symbol": "USDT", "decimals": 6}},
            {{"chainId": 1, "address": "{a}", "symbol": "DAI", "decimals": 18}},
            {{"chainId": 56, "address": "0x1af3f329e8be154074d8769d1ffa4ee058b1dbc3", "symbol": "DAI", "decimals": 18}}]}}"#
        );
        let mut r = Registry::built_in();
        // The list's claim that Binance-Peg DAI is DAI contradicts the table: skipped.
        assert_eq!(r.add_token_list("list.json", list.as_bytes()).unwrap(), 1);
        assert_eq!(
            check(&r, "USDC", "ethereum-8453", a, 6),
            Ok(Trust::UserSupplied("list.json".into()))
        );
        let two = check(&r, "USDC", "ethereum-42161", b, 6).unwrap_err();
        assert!(
            two.contains("two contracts for USDC on ethereum-42161"),
            "{two}"
        );
        let peg = check(&r, "DAI", "ethereum-56", a, 18).unwrap_err();
        assert!(peg.contains("pegged by an exchange"), "{peg}");
        let test = check(&r, "USDT", "ethereum-5", a, 6).unwrap_err();
        assert!(test.contains("is a test network"), "{test}");
        let placed = check(&r, "DAI", "ethereum", a, 18).unwrap_err();
        assert!(
            placed.contains("already places DAI on ethereum"),
            "{placed}"
        );
        let vendored = check(
            &r,
            "DAI",
            "ethereum-56",
            "0x1af3f329e8be154074d8769d1ffa4ee058b1dbc3",
            18,
        );
        assert!(vendored.unwrap_err().contains("pegged token"));
        // The user's own registry confirms what no list can: trusted as written.
        let reg = format!(
            r#"{{"format": "por-registry-v1", "entries": [
            {{"chain": "ethereum-5", "token": "{b}", "symbol": "USDT", "decimals": 6, "issuance": "canonical"}},
            {{"chain": "ethereum-10", "token": "{b}", "symbol": "USDC", "decimals": 6, "issuance": "bridged"}}]}}"#
        );
        r.add_registry_file("mine.json", reg.as_bytes()).unwrap();
        assert_eq!(
            check(&r, "USDT", "ethereum-5", b, 6),
            Ok(Trust::TestNetwork("mine.json".into()))
        );
        assert_eq!(
            check(&r, "USDC", "ethereum-10", b, 6),
            Ok(Trust::Bridged("mine.json".into()))
        );
    }

    #[test]
    fn the_vendored_pegged_table() {
        let lines: Vec<&str> = BSC_PEGGED_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        assert!(
            lines.iter().all(|l| parse_pegged_line(l).is_some()),
            "every line parses"
        );
        let pegged: Vec<(&str, &str, u8)> = pegged_bsc().collect();
        assert_eq!(pegged.len(), lines.len());
        for (token, symbol) in [
            ("0x55d398326f99059ff775485246999027b3197955", "USDT"),
            ("0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", "USDC"),
            ("0x2170ed0880ac9a755fd29b2688956bd959f933f8", "ETH"),
            ("0x1af3f329e8be154074d8769d1ffa4ee058b1dbc3", "DAI"),
        ] {
            assert!(
                pegged.iter().any(|(t, s, _)| *t == token && *s == symbol),
                "{symbol} {token}"
            );
        }
    }

    #[test]
    fn defaults() {
        let r = Registry::built_in();
        assert_eq!(r.default_binding("USDT").unwrap().chain, "ethereum");
        assert!(r.default_binding("XYZ").is_none());
        assert_eq!(r.default_binding("JPY").unwrap().chain, "off-chain");
        // USDT is also on TRON and Solana, which are never a default; TRX has no other home.
        assert_eq!(r.default_binding("USDC").unwrap().chain, "ethereum");
        assert!(r.default_binding("TRX").is_none());
    }
}
