//! The signed bindings checked against the user's registry, without a node or any signature
//! but the exchange's: shared by `por-verify reserves` and the browser page.

use crate::attestation::Attestation;
use crate::binding::CheckedBinding;
use crate::chains::Location;
use crate::registry::{Registry, Trust};
use std::collections::HashMap;

/// One signed binding and whether it holds.
#[derive(Debug, Clone)]
pub struct BindingCheck {
    /// A label for messages (the binding as signed).
    pub label: String,
    /// The checked binding with its trust, or why it cannot count.
    pub result: Result<(CheckedBinding, Trust), String>,
}

/// Checks every binding of `att` against `registry`. A location and token bound twice (to one
/// asset or two) fails from the second time on: the same funds cannot back two lines.
pub fn check_bindings(att: &Attestation, registry: &Registry) -> Vec<BindingCheck> {
    // A place is a chain and token; off chain, each fiat asset is its own place.
    let mut seen: HashMap<(Location, Option<String>), usize> = HashMap::new();
    att.bindings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let label = match &b.token {
                Some(t) => format!(
                    "{} on {} (token {t}, {} decimals)",
                    b.asset, b.chain, b.decimals
                ),
                None => format!("{} on {} ({} decimals)", b.asset, b.chain, b.decimals),
            };
            let result = b.check(&att.assets).and_then(|c| {
                let place = match c.location {
                    Location::OffChain => (c.location, Some(c.symbol.clone())),
                    _ => (c.location, c.token.clone()),
                };
                if let Some(first) = seen.get(&place) {
                    return Err(format!(
                        "bindings[{i}] repeats the place of bindings[{first}]"
                    ));
                }
                seen.insert(place, i);
                let trust = registry.confirm(&c)?;
                Ok((c, trust))
            });
            BindingCheck { label, result }
        })
        .collect()
}

/// What a statement claims for one asset, as far as can be told without a node or the reserve
/// addresses' signatures: the sum of the balances its entries claim under a binding that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The asset's symbol.
    pub symbol: String,
    /// Its decimals in the attestation.
    pub decimals: u8,
    /// The signed liabilities.
    pub liabilities: crate::amount::Amount,
    /// The claimed reserves, in the asset's unit (rounded down per entry).
    pub claimed: crate::amount::Amount,
    /// Entries counted.
    pub entries: usize,
    /// Entries of this asset under no binding that holds, or whose balance does not parse:
    /// they cannot count.
    pub not_counted: usize,
}

/// Sums what `stmt` claims per asset of `att`, under the bindings in `checks` that hold
/// ([`check_bindings`]). Claims only: nothing here checks a proof of control or a balance, so
/// every caller must say so beside the figures.
pub fn claimed_by_asset(
    att: &Attestation,
    stmt: &crate::reserves::ReservesStatement,
    checks: &[BindingCheck],
) -> Vec<Claimed> {
    use crate::amount::Amount;
    let mut out: Vec<Claimed> = att
        .assets
        .iter()
        .zip(&att.liabilities)
        .map(|(a, l)| Claimed {
            symbol: a.symbol.clone(),
            decimals: a.decimals,
            liabilities: *l,
            claimed: Amount(0),
            entries: 0,
            not_counted: 0,
        })
        .collect();
    for e in &stmt.entries {
        let Some(i) = att.assets.iter().position(|a| a.symbol == e.asset) else {
            continue;
        };
        let holding = att.bindings.iter().zip(checks).find_map(|(b, c)| {
            let same_token = match (&b.token, &e.token) {
                (None, None) => true,
                // Base58 (TRON, Solana) is case-sensitive; EVM hex is not.
                (Some(x), Some(y)) if e.chain == "tron" || e.chain == "solana" => x == y,
                (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                _ => false,
            };
            (b.asset == e.asset && b.chain == e.chain && same_token)
                .then_some(c.result.as_ref().ok())
                .flatten()
        });
        let amount = holding.and_then(|(cb, _)| {
            let units = Amount::parse_units(&e.balance).ok()?;
            crate::binding::convert(units, cb.decimals, att.assets[i].decimals)
        });
        match amount.and_then(|a| out[i].claimed.checked_add(a)) {
            Some(sum) => {
                out[i].claimed = sum;
                out[i].entries += 1;
            }
            None => out[i].not_counted += 1,
        }
    }
    out
}
