//! Assets: a symbol and the number of decimals of its unit.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The most decimals an asset may have; 10^36 still leaves room for sums in 128 bits.
pub const MAX_DECIMALS: u8 = 36;
/// The longest symbol accepted.
pub const MAX_SYMBOL_LEN: usize = 32;

/// One asset of the attestation, in the order of the liabilities header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Ticker symbol, e.g. "BTC".
    pub symbol: String,
    /// Digits after the point in the asset's unit (8 for BTC, 18 for ETH).
    pub decimals: u8,
}

impl Asset {
    /// Checks the symbol and decimals rules of the spec.
    pub fn validate(&self) -> Result<()> {
        let s = &self.symbol;
        if s.is_empty() || s.len() > MAX_SYMBOL_LEN {
            return Err(Error::input(format!(
                "asset symbol {s:?}: expected 1 to {MAX_SYMBOL_LEN} characters"
            )));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(Error::input(format!(
                "asset symbol {s:?}: expected only ASCII letters, digits, '.', '_' or '-'"
            )));
        }
        if self.decimals > MAX_DECIMALS {
            return Err(Error::input(format!(
                "asset {s}: expected at most {MAX_DECIMALS} decimals, found {}",
                self.decimals
            )));
        }
        Ok(())
    }

    /// Parses a header column `SYMBOL:DECIMALS`.
    pub fn parse_column(text: &str) -> Result<Asset> {
        let (symbol, dec) = text.split_once(':').ok_or_else(|| {
            Error::input(format!(
                "column {text:?}: expected SYMBOL:DECIMALS, e.g. BTC:8"
            ))
        })?;
        let decimals =
            if dec.is_empty() || dec.len() > 2 || !dec.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                dec.parse::<u8>().ok()
            };
        let decimals = decimals.ok_or_else(|| {
            Error::input(format!(
                "column {text:?}: decimals must be a number from 0 to {MAX_DECIMALS}"
            ))
        })?;
        let asset = Asset {
            symbol: symbol.to_string(),
            decimals,
        };
        asset.validate()?;
        Ok(asset)
    }
}

/// Checks a whole asset list: each asset valid, no symbol twice, at least one asset.
pub fn validate_assets(assets: &[Asset]) -> Result<()> {
    if assets.is_empty() {
        return Err(Error::input("expected at least one asset"));
    }
    let mut seen = std::collections::HashSet::new();
    for a in assets {
        a.validate()?;
        if !seen.insert(a.symbol.as_str()) {
            return Err(Error::input(format!("asset {} is listed twice", a.symbol)));
        }
    }
    Ok(())
}
