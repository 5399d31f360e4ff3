//! Gate.io's and Binance's customer files: Poseidon trees over BN254 of depth 28
//! (spec/published.md, "Gate.io and Binance"), one engine with a parameter set per exchange.
//!
//! Both hash a leaf over the account's id, its totals and a commitment to its per-asset
//! amounts, packed three 64-bit values to a field element; a node is `H(left, right)`, the
//! side given by the bits of the account's leaf index. The tree's nodes carry no sums: that
//! the accounts add up to the published totals is shown only by the exchange's zero-knowledge
//! batch proofs, whose verifying keys are not published with these files.
//!
//! Gate hashes in blocks of 12 (gatechain/gnark-crypto v0.7.1); its commitment covers the
//! round's asset count N, which is not in the file. Binance hashes in blocks of 16
//! (bnb-chain/gnark-crypto); its commitment covers a tier of slots (50, 350 or 500), chosen by
//! the number of assets listed.

use super::decimal::Decimal;
use super::json::Json;
use super::poseidon::{from_be32, from_decimal, hash, pack, to_hex};
use super::{field, parse_json, string, Checked, FormatError, Given, Input, Weakness};
use ark_bn254::Fr;
use base64::Engine as _;

/// The trees' depth.
pub const DEPTH: usize = 28;

/// Gate's asset counts of the rounds this tool knows, newest first (its verifier's constants).
pub const GATE_ASSET_COUNTS: &[usize] = &[350, 800, 205, 174];

/// Binance's tier sets of the rounds this tool knows, newest first.
pub const BINANCE_TIERS: &[&[usize]] = &[&[50, 500], &[50, 350]];

fn hex32(f: Input<'_>, at: &str, obj: &Json, key: &str) -> Result<Fr, FormatError> {
    let s = string(f, at, obj, key)?;
    let b: [u8; 32] = hex::decode(s.trim_start_matches("0x"))
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| FormatError(format!("{}: {at}.{key} should be 64 hex digits", f.name)))?;
    from_be32(&b).ok_or_else(|| {
        FormatError(format!(
            "{}: {at}.{key} is not below BN254's scalar field modulus: no tree holds it",
            f.name
        ))
    })
}

fn big(f: Input<'_>, obj: &Json, key: &str) -> Result<(Fr, String), FormatError> {
    let text = match field(f, "the file", obj, key)? {
        Json::Num(n) | Json::Str(n) => n.clone(),
        other => {
            return Err(FormatError(format!(
                "{}: {key} should be a whole number, found {}",
                f.name,
                other.kind()
            )))
        }
    };
    let x = from_decimal(&text).ok_or_else(|| {
        FormatError(format!(
            "{}: {key} = {text}: expected a non-negative whole number below BN254's modulus",
            f.name
        ))
    })?;
    Ok((x, text))
}

fn u64_of(f: Input<'_>, at: &str, obj: &Json, key: &str) -> Result<u64, FormatError> {
    field(f, at, obj, key)?.as_u64().ok_or_else(|| {
        FormatError(format!(
            "{}: {at}.{key} should be a whole number below 2^64",
            f.name
        ))
    })
}

fn index(f: Input<'_>, obj: &Json, key: &str) -> Result<u64, FormatError> {
    let i = u64_of(f, "the file", obj, key)?;
    if i >> DEPTH != 0 {
        return Err(FormatError(format!(
            "{}: {key} = {i}: a tree of depth {DEPTH} has no such leaf",
            f.name
        )));
    }
    Ok(i)
}

fn path(f: Input<'_>, obj: &Json, key: &str) -> Result<Vec<Fr>, FormatError> {
    let list = field(f, "the file", obj, key)?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: {key} should be a list", f.name)))?;
    if list.len() != DEPTH {
        return Err(FormatError(format!(
            "{}: {key} has {} entries; a path of this tree has {DEPTH}",
            f.name,
            list.len()
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let b: [u8; 32] = e
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    FormatError(format!(
                        "{}: {key}[{i}] should be 32 bytes in base64",
                        f.name
                    ))
                })?;
            from_be32(&b).ok_or_else(|| {
                FormatError(format!(
                    "{}: {key}[{i}] is not below BN254's scalar field modulus: no tree holds it",
                    f.name
                ))
            })
        })
        .collect()
}

/// Folds a leaf up its path: bit i of the index 0 puts the node on the left.
fn fold(leaf: Fr, index: u64, siblings: &[Fr], block: usize) -> Fr {
    let mut node = leaf;
    for (i, s) in siblings.iter().enumerate() {
        node = if (index >> i) & 1 == 0 {
            hash(&[node, *s], block)
        } else {
            hash(&[*s, node], block)
        };
    }
    node
}

/// Gate's commitment to an account's equity and debt in each of `n` assets.
pub fn gate_commitment(assets: &[(usize, u64, u64)], n: usize) -> Fr {
    let mut flat = vec![0u64; 2 * n];
    for &(i, e, d) in assets {
        flat[2 * i] = e;
        flat[2 * i + 1] = d;
    }
    let elements = (2 * n).div_ceil(3);
    flat.resize(3 * elements, 0);
    let packed: Vec<Fr> = flat.chunks(3).map(|c| pack(c[0], c[1], c[2])).collect();
    hash(&packed, 12)
}

/// Gate's leaf.
pub fn gate_leaf(id: Fr, equity: Fr, debt: Fr, commitment: Fr) -> Fr {
    hash(&[id, equity, debt, commitment], 12)
}

/// Checks a Gate.io customer file (`user_config.json`).
pub fn check_gate(f: Input<'_>, given: &Given) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let idx = index(f, &j, "Arrangement")?;
    let id = hex32(f, "the file", &j, "UniqueIdentification")?;
    let (equity, equity_text) = big(f, &j, "TotalAssetEquity")?;
    let (debt, debt_text) = big(f, &j, "TotalAssetDebt")?;
    let root = hex32(f, "the file", &j, "TreeRootHash")?;
    let siblings = path(f, &j, "MerkleProofEncode")?;
    let details = field(f, "the file", &j, "AssetDetails")?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: AssetDetails should be a list", f.name)))?;
    let mut assets = Vec::with_capacity(details.len());
    for (i, d) in details.iter().enumerate() {
        let at = format!("AssetDetails[{i}]");
        let index = u64_of(f, &at, d, "Index")?;
        let index = usize::try_from(index)
            .ok()
            .filter(|i| *i < 65_536)
            .ok_or_else(|| FormatError(format!("{}: {at}.Index should be below 65,536", f.name)))?;
        if assets.iter().any(|(x, _, _)| *x == index) {
            return Err(FormatError(format!(
                "{}: {at}.Index {index} is listed twice",
                f.name
            )));
        }
        assets.push((
            index,
            u64_of(f, &at, d, "Equity")?,
            u64_of(f, &at, d, "Debt")?,
        ));
    }
    let highest = assets.iter().map(|(i, _, _)| *i + 1).max().unwrap_or(0);
    let counts: Vec<usize> = match given.asset_count {
        Some(n) if !(1..=65_536).contains(&n) => {
            return Err(FormatError(format!(
                "--asset-count {n}: a round has 1 to 65,536 assets"
            )))
        }
        Some(n) => vec![n],
        None => GATE_ASSET_COUNTS.to_vec(),
    };
    let mut out = Checked {
        profile: "gate".into(),
        ..Checked::default()
    };
    out.ids.push(("leaf index".into(), idx.to_string()));
    let mut folded = None;
    for &n in &counts {
        if n < highest || n > 65_536 {
            continue;
        }
        let leaf = gate_leaf(id, equity, debt, gate_commitment(&assets, n));
        let r = fold(leaf, idx, &siblings, 12);
        if folded.is_none() || r == root {
            folded = Some((n, r));
        }
        if r == root {
            break;
        }
    }
    let Some((n, r)) = folded else {
        return Err(FormatError(format!(
            "{}: asset index {} is beyond the asset count{}; give the round's with --asset-count",
            f.name,
            highest - 1,
            match given.asset_count {
                Some(n) => format!(" given ({n})"),
                None => format!(
                    "s this tool knows ({})",
                    counts
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        )));
    };
    out.root = to_hex(r);
    if r == root {
        out.held.push(format!(
            "your leaf (id, totals and {n} assets' equity and debt) folds through the file's {DEPTH} siblings to its TreeRootHash"
        ));
    } else {
        out.fail(format!(
            "your leaf folds to root {}, not to the file's TreeRootHash {} (with {})",
            out.root,
            to_hex(root),
            if given.asset_count.is_some() {
                format!("{n} assets, as given")
            } else {
                format!(
                    "each asset count this tool knows: {}; give the round's with --asset-count",
                    counts
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    totals(
        &mut out,
        &[("total equity", &equity_text), ("total debt", &debt_text)],
    );
    for (i, e, d) in &assets {
        out.balances.push((
            format!("asset #{i} equity"),
            Decimal::new(i128::from(*e), 0).unwrap_or(Decimal::ZERO),
        ));
        out.balances.push((
            format!("asset #{i} debt"),
            Decimal::new(i128::from(*d), 0).unwrap_or(Decimal::ZERO),
        ));
    }
    if given.asset_count.is_none() && r == root {
        out.weak(
            Weakness::RoundParametersMissing,
            format!(
                "the round's asset count is not in the file; it folds with {n} (and with any count of the same ⌈2N/3⌉ packed elements)"
            ),
        );
    }
    zk_weaknesses(&mut out, "Gate", "UniqueIdentification");
    Ok(out)
}

/// The account's totals as the file writes them: among the balances when they fit a decimal of
/// 128 bits, else among the names the file gives (they are field elements, up to 2^254).
fn totals(out: &mut Checked, values: &[(&str, &str)]) {
    for (name, text) in values {
        match Decimal::parse(text) {
            Ok(d) => out.balances.push((name.to_string(), d)),
            Err(_) => out.ids.push((name.to_string(), text.to_string())),
        }
    }
}

fn zk_weaknesses(out: &mut Checked, exchange: &str, id: &str) {
    out.weak(
        Weakness::BatchProofsUnchecked,
        format!("{exchange} publishes no verifying key with these files; the tree's nodes carry no sums"),
    );
    out.weak(
        Weakness::IdNotRecomputable,
        format!("your {id} is made by {exchange} from your account in a way it does not publish"),
    );
}

/// Binance's slots: `[index, equity, debt, loan, margin, portfolio margin]` for a tier of `t`.
fn binance_slots(assets: &[[u64; 6]], t: usize) -> Vec<[u64; 6]> {
    let budget = t - assets.len();
    let (mut used, mut cur) = (0usize, 0u64);
    let mut out = Vec::with_capacity(t);
    for a in assets {
        if used < budget {
            let mut j = cur;
            while j < a[0] && used < budget {
                out.push([j, 0, 0, 0, 0, 0]);
                used += 1;
                j += 1;
            }
        }
        out.push(*a);
        cur = a[0] + 1;
    }
    while out.len() < t {
        out.push([cur, 0, 0, 0, 0, 0]);
        cur += 1;
    }
    out
}

/// Binance's commitment to an account's assets, for a tier of `t` slots.
pub fn binance_commitment(assets: &[[u64; 6]], t: usize) -> Fr {
    let packed: Vec<Fr> = binance_slots(assets, t)
        .iter()
        .flat_map(|s| [pack(s[0], s[1], s[2]), pack(s[3], s[4], s[5])])
        .collect();
    hash(&packed, 16)
}

/// Binance's leaf.
pub fn binance_leaf(id: Fr, equity: Fr, debt: Fr, collateral: Fr, commitment: Fr) -> Fr {
    hash(&[id, equity, debt, collateral, commitment], 16)
}

/// Checks a Binance customer file (`user_config.json`).
pub fn check_binance(f: Input<'_>, given: &Given) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let idx = index(f, &j, "AccountIndex")?;
    let id = hex32(f, "the file", &j, "AccountIdHash")?;
    let (equity, equity_text) = big(f, &j, "TotalEquity")?;
    let (debt, debt_text) = big(f, &j, "TotalDebt")?;
    let (collateral, collateral_text) = big(f, &j, "TotalCollateral")?;
    let root = hex32(f, "the file", &j, "Root")?;
    let siblings = path(f, &j, "Proof")?;
    let list = field(f, "the file", &j, "Assets")?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: Assets should be a list", f.name)))?;
    let mut assets: Vec<[u64; 6]> = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let at = format!("Assets[{i}]");
        let mut v = [0u64; 6];
        for (k, key) in [
            "Index",
            "Equity",
            "Debt",
            "Loan",
            "Margin",
            "PortfolioMargin",
        ]
        .iter()
        .enumerate()
        {
            v[k] = u64_of(f, &at, a, key)?;
        }
        if v[0] >= 65_536 {
            return Err(FormatError(format!(
                "{}: {at}.Index should be below 65,536",
                f.name
            )));
        }
        // Binance's padding takes the assets in ascending order of index.
        if assets.last().is_some_and(|p| p[0] >= v[0]) {
            return Err(FormatError(format!(
                "{}: {at}.Index {} after {}: Binance lists assets in ascending order, once each",
                f.name,
                v[0],
                assets.last().map_or(0, |p| p[0])
            )));
        }
        assets.push(v);
    }
    let tiers: Vec<usize> = match given.asset_count {
        Some(t) if !(1..=65_536).contains(&t) => {
            return Err(FormatError(format!(
                "--asset-count {t}: a tier has 1 to 65,536 slots"
            )))
        }
        Some(t) => vec![t],
        None => {
            let mut t: Vec<usize> = BINANCE_TIERS
                .iter()
                .filter_map(|set| set.iter().copied().find(|t| *t >= assets.len()))
                .collect();
            t.dedup();
            t
        }
    };
    let mut out = Checked {
        profile: "binance".into(),
        ..Checked::default()
    };
    out.ids.push(("leaf index".into(), idx.to_string()));
    let mut folded = None;
    for &t in tiers
        .iter()
        .filter(|t| **t >= assets.len() && **t <= 65_536)
    {
        let leaf = binance_leaf(id, equity, debt, collateral, binance_commitment(&assets, t));
        let r = fold(leaf, idx, &siblings, 16);
        if folded.is_none() || r == root {
            folded = Some((t, r));
        }
        if r == root {
            break;
        }
    }
    let Some((t, r)) = folded else {
        return Err(FormatError(format!(
            "{}: {} assets, more than every tier given or known",
            f.name,
            assets.len()
        )));
    };
    out.root = to_hex(r);
    if r == root {
        out.held.push(format!(
            "your leaf (id, totals, collateral and a tier of {t} asset slots) folds through the file's {DEPTH} siblings to its Root"
        ));
    } else {
        out.fail(format!(
            "your leaf folds to root {}, not to the file's Root {} (tier of {t} slots; Poseidon in blocks of 16, as bnb-chain/gnark-crypto defines it). These rules are read from Binance's code, but no Binance file has yet been seen to fold under them (Binance's own sample does not): keep the file, and compare with other customers' findings before you conclude",
            out.root,
            to_hex(root)
        ));
    }
    totals(
        &mut out,
        &[
            ("total equity", &equity_text),
            ("total debt", &debt_text),
            ("total collateral", &collateral_text),
        ],
    );
    for a in &assets {
        for (k, name) in [
            "equity",
            "debt",
            "loan collateral",
            "margin collateral",
            "portfolio margin collateral",
        ]
        .iter()
        .enumerate()
        {
            out.balances.push((
                format!("asset #{} {name}", a[0]),
                Decimal::new(i128::from(a[k + 1]), 0).unwrap_or(Decimal::ZERO),
            ));
        }
    }
    if given.asset_count.is_none() && r == root {
        out.weak(
            Weakness::RoundParametersMissing,
            format!("the round's tiers are not in the file; it folds with a tier of {t} slots"),
        );
    }
    zk_weaknesses(&mut out, "Binance", "AccountIdHash");
    Ok(out)
}
