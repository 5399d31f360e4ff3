//! BitMEX's liabilities tree (BitMEX/proof-of-reserves-liabilities), spec/published.md
//! "BitMEX".
//!
//! The file lists the whole tree breadth first after a `block_height:N` line, one
//! `hash,satoshis` line per node. A parent is `SHA256(left ‖ u64le(left sats) ‖ right ‖
//! u64le(right sats))`: each child's value is bound, not only their sum. A leaf is
//! `HMAC-SHA256(key, u64le(sats) ‖ u64le(leaf index))`, the key the customer's per-proof nonce,
//! or `SHA256(account nonce ‖ u64le(height) ‖ u64le(account))` from the lifetime nonce. A
//! balance is split over several leaves; the customer's balance is the sum of the leaves their
//! key opens. Every node is recomputed here, not only the customer's paths.

use super::decimal::Decimal;
use super::{Checked, FormatError, Given, Input, Weakness};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Checks a BitMEX tree listing for the account and nonce given.
pub fn check(f: Input<'_>, given: &Given) -> Result<Checked, FormatError> {
    let account: u64 = given
        .user_id
        .as_deref()
        .ok_or_else(|| FormatError("BitMEX: give your account number with --user-id and the nonce BitMEX shows you with --nonce".into()))?
        .trim()
        .parse()
        .map_err(|_| FormatError("--user-id: a BitMEX account number is digits only".into()))?;
    let nonce_hex = given.nonce.as_deref().ok_or_else(|| {
        FormatError("BitMEX: give the nonce BitMEX shows you with --nonce (64 hex digits)".into())
    })?;
    let nonce: [u8; 32] = hex::decode(nonce_hex.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| FormatError("--nonce: expected 64 hex digits".into()))?;
    let mut lines = f
        .text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines
        .next()
        .ok_or_else(|| FormatError(format!("{}: the file is empty", f.name)))?;
    let height: u64 = head
        .trim()
        .strip_prefix("block_height:")
        .and_then(|h| h.trim().parse().ok())
        .ok_or_else(|| {
            FormatError(format!(
                "{}: line 1 should be block_height:N, as BitMEX's files start",
                f.name
            ))
        })?;
    let mut nodes: Vec<([u8; 32], u64, usize)> = Vec::new();
    for (n, l) in lines {
        let (h, v) = l.trim().split_once(',').ok_or_else(|| {
            FormatError(format!(
                "{}: line {}: expected hash,satoshis",
                f.name,
                n + 1
            ))
        })?;
        let h: [u8; 32] = hex::decode(h)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                FormatError(format!(
                    "{}: line {}: the hash should be 64 hex digits",
                    f.name,
                    n + 1
                ))
            })?;
        let v: u64 = v.parse().map_err(|_| {
            FormatError(format!(
                "{}: line {}: the value should be whole satoshis (digits only)",
                f.name,
                n + 1
            ))
        })?;
        nodes.push((h, v, n + 1));
    }
    // A full binary tree has 2^(d+1) - 1 nodes.
    let count = nodes.len();
    if count == 0 || !(count + 1).is_power_of_two() {
        return Err(FormatError(format!(
            "{}: {count} nodes; a full binary tree, as BitMEX lists it, has 1, 3, 7, 15, ... (2^k - 1)",
            f.name
        )));
    }
    let first_leaf = count / 2;
    let mut out = Checked {
        profile: "bitmex".into(),
        ..Checked::default()
    };
    out.ids.push(("block_height".into(), height.to_string()));

    let mut bad = 0usize;
    for k in 0..first_leaf {
        let (l, r) = (&nodes[2 * k + 1], &nodes[2 * k + 2]);
        let mut h = Sha256::new();
        h.update(l.0);
        h.update(l.1.to_le_bytes());
        h.update(r.0);
        h.update(r.1.to_le_bytes());
        let want: [u8; 32] = h.finalize().into();
        let sum = l.1.checked_add(r.1);
        if want != nodes[k].0 || sum != Some(nodes[k].1) {
            bad += 1;
            if bad <= 5 {
                out.fail(format!(
                    "{}: line {}: the node does not recompute from its children (lines {} and {})",
                    f.name, nodes[k].2, l.2, r.2
                ));
            }
        }
    }
    if bad > 5 {
        out.fail(format!("{} more nodes do not recompute", bad - 5));
    }
    if bad == 0 {
        out.held.push(format!(
            "every one of the tree's {first_leaf} internal nodes recomputes from its children, each child's value bound"
        ));
    }
    let sub = {
        let mut h = Sha256::new();
        h.update(nonce);
        h.update(height.to_le_bytes());
        h.update(account.to_le_bytes());
        let d: [u8; 32] = h.finalize().into();
        d
    };
    let opens = |key: &[u8; 32], i: usize, v: u64, want: &[u8; 32]| {
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
            return false;
        };
        m.update(&v.to_le_bytes());
        m.update(&(i as u64).to_le_bytes());
        m.verify_slice(want).is_ok()
    };
    let mut mine = Vec::new();
    let mut bound = true;
    // The key made from the account first: only it binds the leaves to the account number.
    for (key, from_account) in [(sub, true), (nonce, false)] {
        for (i, (h, v, _)) in nodes[first_leaf..].iter().enumerate() {
            if opens(&key, i, *v, h) {
                mine.push((i, *v));
            }
        }
        if !mine.is_empty() {
            bound = from_account;
            break;
        }
    }
    let mut total: u64 = 0;
    for (_, v) in &mine {
        total = total
            .checked_add(*v)
            .ok_or_else(|| FormatError(format!("{}: your leaves' sum overflows", f.name)))?;
    }
    if mine.is_empty() {
        out.fail(format!(
            "no leaf of this tree opens with account {account} and this nonce: either the nonce or the account number is not the one BitMEX gave you for this file, or your balance is not in the tree"
        ));
    } else {
        out.held.push(format!(
            "{} leaves of the tree are yours (leaf {}), holding {total} satoshis",
            mine.len(),
            mine.iter()
                .map(|(i, v)| format!("{i}: {v}"))
                .collect::<Vec<_>>()
                .join(", leaf ")
        ));
    }
    if bound {
        out.ids.push(("account".into(), account.to_string()));
    } else {
        out.ids.push((
            "account".into(),
            format!("{account} (not bound: the leaves opened with the nonce itself)"),
        ));
        out.weak(
            Weakness::AccountNotBound,
            "the nonce you gave opened the leaves as BitMEX's per-proof key, which your account number does not enter",
        );
    }
    let btc = |sats: u64| Decimal::new(i128::from(sats), 8).unwrap_or(Decimal::ZERO);
    out.balances = vec![("BTC".into(), btc(total))];
    out.root = hex::encode(nodes[0].0);
    out.totals = vec![("BTC".into(), btc(nodes[0].1))];
    out.weak(Weakness::OneAssetOnly, "BTC only, in whole satoshis");
    Ok(out)
}
