//! Asset bindings: where the attestation says each asset's reserves may be held.
//!
//! A binding names an asset of the attestation, a location (a chain, or `off-chain` for fiat),
//! for an EVM token its contract, and the number of decimals of the asset's unit on that chain
//! (8 for satoshi, 18 for wei, 6 for USDT on Ethereum). The bindings are signed with the
//! liabilities (spec/attestation.md, section 2), so a reserve entry can count for an asset only
//! on a chain and contract the exchange committed to before proving reserves, and its amount is
//! converted from the chain's unit to the asset's unit exactly (rounding down).
//!
//! The signed form keeps the strings as given ([`Binding`]); [`Binding::check`] turns one into
//! a [`CheckedBinding`] or says why it is not valid. Whether the registry the *user* trusts
//! confirms it is [`crate::registry`]'s question.

use crate::amount::Amount;
use crate::asset::{Asset, MAX_DECIMALS};
use crate::chains::{Chain, Location};
use crate::encode::{put_opt_str, put_str, put_u32};
use serde::{Deserialize, Serialize};

/// One binding as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The asset's symbol.
    pub asset: String,
    /// A canonical chain name, or `off-chain`.
    pub chain: String,
    /// The token contract, for a token on an EVM chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Decimals of the asset's unit on that chain.
    pub decimals: u8,
}

/// A binding whose fields are valid and whose asset is in the attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBinding {
    /// Index of the asset in the attestation.
    pub asset: usize,
    /// The asset's symbol.
    pub symbol: String,
    /// Where the reserves are held.
    pub location: Location,
    /// The token contract in lower case, for EVM tokens.
    pub token: Option<String>,
    /// Decimals of the chain's unit.
    pub decimals: u8,
}

impl Binding {
    /// Appends the signed encoding: `str(asset) ‖ str(chain) ‖ opt(token) ‖ u8(decimals)`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_str(out, &self.asset);
        put_str(out, &self.chain);
        put_opt_str(out, self.token.as_deref());
        out.push(self.decimals);
    }

    /// Checks the fields: a known asset, a canonical location, a token only on EVM, TRON and
    /// Solana chains ([`crate::chains::canonical_token`]), decimals at most 36.
    pub fn check(&self, assets: &[Asset]) -> Result<CheckedBinding, String> {
        let asset = assets
            .iter()
            .position(|a| a.symbol == self.asset)
            .ok_or_else(|| format!("asset {:?} is not an asset of the attestation", self.asset))?;
        let location = Location::parse(&self.chain)?;
        let token = match (&location, &self.token) {
            (_, None) => None,
            (Location::Chain(c @ (Chain::Evm(_) | Chain::Tron | Chain::Solana)), Some(t)) => {
                Some(crate::chains::canonical_token(c, t).map_err(|e| format!("token: {e}"))?)
            }
            (l, Some(_)) => {
                return Err(format!(
                    "a token contract is only for EVM, TRON and Solana chains, not for {l}"
                ))
            }
        };
        if self.decimals > MAX_DECIMALS {
            return Err(format!(
                "decimals {}: expected at most {MAX_DECIMALS}",
                self.decimals
            ));
        }
        Ok(CheckedBinding {
            asset,
            symbol: self.asset.clone(),
            location,
            token,
            decimals: self.decimals,
        })
    }
}

/// The bindings section body: `u32be(n) ‖ n bindings`.
pub fn encode_bindings(bindings: &[Binding], out: &mut Vec<u8>) {
    put_u32(out, bindings.len() as u32);
    for b in bindings {
        b.encode(out);
    }
}

impl CheckedBinding {
    /// A label for messages: `USDT on ethereum (token 0xdac1…)`.
    pub fn label(&self) -> String {
        match &self.token {
            Some(t) => format!("{} on {} (token {t})", self.symbol, self.location),
            None => format!("{} on {}", self.symbol, self.location),
        }
    }
}

/// Converts `amount` in a chain's unit of `from` decimals to the asset's unit of `to` decimals,
/// rounding down (reserves never round up). `None` if the result exceeds 128 bits.
pub fn convert(amount: Amount, from: u8, to: u8) -> Option<Amount> {
    // Both are at most 36 decimals, and 10^36 < 2^128.
    if to >= from {
        let f = 10u128.checked_pow(u32::from(to - from))?;
        amount.0.checked_mul(f).map(Amount)
    } else {
        let f = 10u128.checked_pow(u32::from(from - to))?;
        Some(Amount(amount.0 / f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets() -> Vec<Asset> {
        vec![
            Asset {
                symbol: "BTC".into(),
                decimals: 8,
            },
            Asset {
                symbol: "USDT".into(),
                decimals: 6,
            },
        ]
    }

    fn b(asset: &str, chain: &str, token: Option<&str>, decimals: u8) -> Binding {
        Binding {
            asset: asset.into(),
            chain: chain.into(),
            token: token.map(String::from),
            decimals,
        }
    }

    #[test]
    fn checks() {
        let usdt = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
        let c = b("USDT", "ethereum", Some(usdt), 6)
            .check(&assets())
            .unwrap();
        assert_eq!(c.asset, 1);
        assert_eq!(c.token.as_deref(), Some(usdt.to_ascii_lowercase().as_str()));
        assert!(b("XRP", "bitcoin", None, 8).check(&assets()).is_err());
        assert!(b("BTC", "ethereum-1", None, 8).check(&assets()).is_err());
        assert!(b("BTC", "bitcoin", Some(usdt), 8).check(&assets()).is_err());
        // A checksum typo.
        let typo = "0xdAC17F958D2ee523a2206206994597C13D831eC7";
        assert!(b("USDT", "ethereum", Some(typo), 6)
            .check(&assets())
            .is_err());
        assert!(b("BTC", "bitcoin", None, 37).check(&assets()).is_err());
        assert!(b("BTC", "off-chain", None, 8).check(&assets()).is_ok());
    }

    #[test]
    fn conversion_rounds_down_and_checks_overflow() {
        // 18-decimal BSC USDT to a 6-decimal ledger unit.
        assert_eq!(
            convert(Amount(1_999_999_999_999_999_999), 18, 6),
            Some(Amount(1_999_999))
        );
        // Satoshi into a ledger that counts hundredths of a bitcoin: 1450 sat is nothing.
        assert_eq!(convert(Amount(1450), 8, 2), Some(Amount(0)));
        assert_eq!(convert(Amount(5), 6, 18), Some(Amount(5_000_000_000_000)));
        assert_eq!(convert(Amount(u128::MAX), 0, 36), None);
    }

    #[test]
    fn encoding() {
        let mut out = Vec::new();
        b("BTC", "bitcoin", None, 8).encode(&mut out);
        assert_eq!(
            out,
            [
                0, 0, 0, 3, b'B', b'T', b'C', 0, 0, 0, 7, b'b', b'i', b't', b'c', b'o', b'i', b'n',
                0, 8
            ]
        );
    }
}
