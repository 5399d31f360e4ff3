//! The checks that need no node: bindings against the user's registry, each entry's fields,
//! binding, uniqueness, sums and proof of control.
//!
//! Every failure here is a failed check (the exchange signed what failed), reported per binding
//! or entry so that one bad entry never hides the others or the customer's inclusion result.

use super::challenge;
use super::holding::{Entry, Holding};
use super::statement::ReservesStatement;
use crate::amount::Amount;
use crate::attestation::Attestation;
use crate::binding::convert;
use crate::chains::{Chain, Location};
#[cfg(test)]
use crate::registry::Registry;
use std::collections::HashMap;

pub use por_core::reserves::bindings::{check_bindings, BindingCheck};

/// The offline outcome of one entry.
#[derive(Debug, Clone)]
pub struct EntryCheck {
    /// The parsed entry, when its fields parse.
    pub entry: Option<Entry>,
    /// Index of the binding it counts under, when one matches.
    pub binding: Option<usize>,
    /// The asset's index in the attestation, when known.
    pub asset: Option<usize>,
    /// `Ok` names the proof of control; `Err` why the entry fails.
    pub result: Result<String, String>,
    /// The claimed balance in the asset's unit (rounded down), for entries that passed.
    pub amount: Option<Amount>,
    /// The entry whose account this one reads again (the same address on the same chain for
    /// the same asset, through another face): it passed, but it is not added.
    pub second_face_of: Option<usize>,
}

/// Checks each entry of the statement (whose signature the caller has verified).
pub fn check_entries(
    att: &Attestation,
    stmt: &ReservesStatement,
    bindings: &[BindingCheck],
) -> Vec<EntryCheck> {
    let digest = att.digest();
    // Indexes, so that the work grows with the entries, not entries times assets or bindings.
    let asset_index: HashMap<&str, usize> = att
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.symbol.as_str(), i))
        .collect();
    let mut holding_binding: HashMap<(usize, Location, Option<String>), usize> = HashMap::new();
    for (i, b) in bindings.iter().enumerate() {
        if let Ok((c, _)) = &b.result {
            holding_binding
                .entry((c.asset, c.location, c.token.clone()))
                .or_insert(i);
        }
    }
    let signed_places: std::collections::HashSet<(&str, &str, Option<String>)> = att
        .bindings
        .iter()
        .map(|b| {
            (
                b.asset.as_str(),
                b.chain.as_str(),
                // EVM contracts compare in any case; base58 (TRON, Solana) is case-sensitive.
                b.token.as_deref().map(|t| {
                    if b.chain == "tron" || b.chain == "solana" {
                        t.to_string()
                    } else {
                        t.to_ascii_lowercase()
                    }
                }),
            )
        })
        .collect();
    let mut holdings: HashMap<String, usize> = HashMap::new();
    let mut outpoints: HashMap<(Chain, ::bitcoin::OutPoint), usize> = HashMap::new();
    let mut heights: HashMap<Chain, (usize, u64)> = HashMap::new();
    // The first entry that passes for an (account, asset) counts; later faces do not add.
    let mut accounts: HashMap<(String, usize), usize> = HashMap::new();
    let mut out = Vec::with_capacity(stmt.entries.len());
    for (i, raw) in stmt.entries.iter().enumerate() {
        let mut check = EntryCheck {
            entry: None,
            binding: None,
            asset: asset_index.get(raw.asset.as_str()).copied(),
            result: Err(String::new()),
            amount: None,
            second_face_of: None,
        };
        let parsed = Entry::parse(raw);
        let result = (|| -> Result<String, String> {
            let e = parsed.as_ref().map_err(Clone::clone)?;
            let asset = check
                .asset
                .ok_or_else(|| format!("{} is not an asset of the attestation", raw.asset))?;
            let token = e.holding.token();
            let b = holding_binding
                .get(&(asset, Location::Chain(e.chain), token.clone()))
                .copied();
            let Some(b) = b else {
                let signed = signed_places.contains(&(
                    raw.asset.as_str(),
                    raw.chain.as_str(),
                    token.clone(),
                ));
                return Err(if signed {
                    format!(
                        "its binding ({} on {}) does not hold (see the bindings above)",
                        raw.asset, raw.chain
                    )
                } else {
                    format!(
                        "the attestation binds no reserves of {} on {}{}: the exchange did not commit to this place",
                        raw.asset,
                        raw.chain,
                        token.map(|t| format!(" with token {t}")).unwrap_or_default()
                    )
                });
            };
            check.binding = Some(b);
            if let Some(&(first, h)) = heights.get(&e.chain) {
                if h != e.height {
                    return Err(format!(
                        "snapshot height {} differs from height {h} of entry #{first} on {}: one chain has one \
                         snapshot height, or coins moved between two heights would count twice",
                        e.height, e.chain
                    ));
                }
            }
            if let Some(&first) = holdings.get(&e.holding.key()) {
                return Err(format!(
                    "{} is already counted in entry #{first}: the same funds cannot count twice",
                    raw.address
                ));
            }
            match &e.holding {
                Holding::Bitcoin(btc) => {
                    let mut here = std::collections::HashSet::new();
                    let mut sum: u128 = 0;
                    for u in &btc.utxos {
                        if let Some(&first) = outpoints.get(&(e.chain, u.outpoint)) {
                            return Err(format!(
                                "UTXO {} is already counted in entry #{first}",
                                u.outpoint
                            ));
                        }
                        if !here.insert(u.outpoint) {
                            return Err(format!(
                                "UTXO {} is listed twice in this entry",
                                u.outpoint
                            ));
                        }
                        sum += u128::from(u.value);
                    }
                    if sum != e.balance.0 {
                        return Err(format!(
                            "the claimed balance is {} sat but its UTXOs add up to {sum} sat",
                            e.balance
                        ));
                    }
                }
                Holding::Evm(_) | Holding::Tron(_) | Holding::Solana(_) | Holding::Fork(_) => {}
            }
            let msg = challenge(&att.exchange, &att.period, &e.chain, e.height, &digest);
            e.verify_control(&msg, &raw.signatures)
        })();
        // Even a failing entry claims these funds: a later entry with the same ones is a duplicate.
        if let Ok(e) = &parsed {
            holdings.entry(e.holding.key()).or_insert(i);
            heights.entry(e.chain).or_insert((i, e.height));
            if let Holding::Bitcoin(b) = &e.holding {
                for u in &b.utxos {
                    outpoints.entry((e.chain, u.outpoint)).or_insert(i);
                }
            }
        }
        check.result = result;
        if let (Ok(_), Ok(e), Some(b), Some(a)) =
            (&check.result, &parsed, check.binding, check.asset)
        {
            if let Ok((c, _)) = &bindings[b].result {
                match convert(e.balance, c.decimals, att.assets[a].decimals) {
                    Some(v) => check.amount = Some(v),
                    None => {
                        check.result =
                            Err("the balance exceeds 2^128 base units of the asset".into())
                    }
                }
            }
        }
        if let (Ok(_), Ok(e), Some(a)) = (&check.result, &parsed, check.asset) {
            match accounts.entry((e.holding.account(), a)) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    check.second_face_of = Some(*first.get())
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
            }
        }
        check.entry = parsed.ok();
        out.push(check);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::asset::Asset;
    use crate::binding::Binding;
    use crate::hash::Hash;
    use crate::reserves::{RawEntry, RawUtxo};

    pub(crate) fn attestation(bindings: Vec<Binding>) -> Attestation {
        Attestation {
            exchange: "Ex".into(),
            period: "2026-11".into(),
            snapshot_time: "2026-11-30T12:00:00Z".into(),
            assets: vec![
                Asset {
                    symbol: "BTC".into(),
                    decimals: 8,
                },
                Asset {
                    symbol: "JPY".into(),
                    decimals: 0,
                },
            ],
            tree_height: 4,
            root_hash: Hash([1; 32]),
            liabilities: vec![Amount(100), Amount(5)],
            bindings,
            history: crate::history::HistoryLink::first(None),
            rotation: None,
            hidden: None,
            public_key: [0; 32],
            signature: [0; 64],
        }
    }

    pub(crate) fn btc(chain: &str) -> Binding {
        Binding {
            asset: "BTC".into(),
            chain: chain.into(),
            token: None,
            decimals: 8,
        }
    }

    pub(crate) fn entry(utxos: &[(u8, &str)], height: u64) -> RawEntry {
        let total: u128 = utxos.iter().map(|(_, v)| v.parse::<u128>().unwrap()).sum();
        RawEntry {
            asset: "BTC".into(),
            chain: "bitcoin".into(),
            height,
            address: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4".into(),
            token: None,
            balance: total.to_string(),
            utxos: utxos
                .iter()
                .map(|(t, v)| RawUtxo {
                    outpoint: format!("{}:0", hex::encode([*t; 32])),
                    value: v.to_string(),
                })
                .collect(),
            script: None,
            signatures: vec!["not a signature".into()],
            storage: None,
            custodian: None,
            wallet: None,
        }
    }

    pub(crate) fn statement(att: &Attestation, entries: Vec<RawEntry>) -> ReservesStatement {
        ReservesStatement {
            exchange: att.exchange.clone(),
            period: att.period.clone(),
            attestation: att.digest(),
            sequence: 1,
            entries,
            public_key: [0; 32],
            signature: [0; 64],
        }
    }

    fn reasons(att: &Attestation, entries: Vec<RawEntry>) -> Vec<String> {
        let b = check_bindings(att, &Registry::built_in());
        check_entries(att, &statement(att, entries), &b)
            .into_iter()
            .map(|c| c.result.err().unwrap_or_default())
            .collect()
    }

    #[test]
    fn bindings_are_checked_once_per_place() {
        let att = attestation(vec![btc("bitcoin"), btc("bitcoin"), btc("bitcoin-regtest")]);
        let b = check_bindings(&att, &Registry::built_in());
        assert!(b[0].result.is_ok());
        assert!(b[1]
            .result
            .as_ref()
            .unwrap_err()
            .contains("repeats the place of bindings[0]"));
        assert!(b[2].result.as_ref().unwrap_err().contains("test network"));
    }

    #[test]
    fn every_outpoint_counts_once() {
        let att = attestation(vec![btc("bitcoin")]);
        // Twice within one entry, then again in a later entry: both caught before any signature.
        let r = reasons(
            &att,
            vec![
                entry(&[(1, "5"), (1, "5")], 7),
                entry(&[(2, "1"), (1, "5")], 7),
            ],
        );
        assert!(r[0].contains("listed twice in this entry"), "{r:?}");
        assert!(r[1].contains("already counted in entry #0"), "{r:?}");
    }

    #[test]
    fn heights_sums_and_bindings() {
        let att = attestation(vec![btc("bitcoin")]);
        let mut bad_sum = entry(&[(1, "5")], 7);
        bad_sum.balance = "6".into();
        let mut other_height = entry(&[(3, "5")], 8);
        other_height.address =
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3".into();
        let r = reasons(&att, vec![bad_sum, other_height]);
        assert!(r[0].contains("UTXOs add up to 5 sat"), "{r:?}");
        assert!(r[1].contains("one chain has one snapshot height"), "{r:?}");
        // An entry on a chain the attestation binds nothing to.
        let none = attestation(vec![]);
        let r = reasons(&none, vec![entry(&[(1, "5")], 7)]);
        assert!(
            r[0].contains("binds no reserves of BTC on bitcoin"),
            "{r:?}"
        );
        // A signature that is not one fails the entry, with no panic.
        let r = reasons(&att, vec![entry(&[(1, "5")], 7)]);
        assert!(!r[0].is_empty(), "{r:?}");
    }
}
