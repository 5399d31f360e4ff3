//! MEXC's customer path (mexcmerkle/mexc-proof-of-reserves), spec/published.md "MEXC".
//!
//! Hashes are the first 32 hex digits (128 bits) of SHA-256 over text. A leaf is
//! `H(proofId,accountId,NAME:amount,...)`, names sorted, amounts as written, no nonce; a
//! parent is `H(left,right,NAME:sum,...)`, sums exact and written without trailing zeros. A
//! node with no sibling (the last of an odd row) is hashed with an empty text in its place and
//! carries its own sums; a parent with a real right child holds BTC, USDT, ETH and USDC at zero
//! at least, as MEXC's code fills them.

use super::json::Json;
use super::sumtree::{Node, NumberText, Piece, Profile, Side, Step, SumPath, SumsText};
use super::{
    balances, field, parse_json, some_in_order, string, Checked, FormatError, Input, Weakness,
};

fn hash32(f: Input<'_>, at: &str, e: &Json) -> Result<String, FormatError> {
    let s = string(f, at, e, "hash")?;
    if !(s.is_empty() || s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(FormatError(format!(
            "{}: {at}.hash should be 32 hex digits (or empty where a node has no sibling)",
            f.name
        )));
    }
    Ok(s.to_ascii_lowercase())
}

/// Checks a MEXC customer file (`{"pathList": [...], "self": {...}}`).
pub fn check(f: Input<'_>) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let me = field(f, "the file", &j, "self")?;
    let list = field(f, "the file", &j, "pathList")?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: \"pathList\" should be a list", f.name)))?;
    let Some(root_e) = list.last() else {
        return Err(FormatError(format!("{}: \"pathList\" is empty", f.name)));
    };
    let depth = field(f, "the root", root_e, "level")?
        .as_u64()
        .filter(|d| (1..=64).contains(d))
        .ok_or_else(|| FormatError(format!("{}: the root's level should be 1 to 64", f.name)))?
        as usize;
    // Every name any entry uses, sorted: the order MEXC writes sums in.
    let mut assets: Vec<String> = vec!["BTC".into(), "ETH".into(), "USDC".into(), "USDT".into()];
    let mut entries = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let at = format!("pathList[{i}]");
        let level = field(f, &at, e, "level")?
            .as_u64()
            .ok_or_else(|| FormatError(format!("{}: {at}.level should be a number", f.name)))?
            as usize;
        let b = balances(f, &format!("{at}.balances"), field(f, &at, e, "balances")?)?;
        for (k, _, _) in &b {
            if !assets.contains(k) {
                assets.push(k.clone());
            }
        }
        if i + 1 < list.len() {
            if level >= depth {
                return Err(FormatError(format!(
                    "{}: {at}.level is {level}, at or above the root's {depth}",
                    f.name
                )));
            }
            if entries.iter().any(|(l, _, _, _)| *l == level) {
                return Err(FormatError(format!(
                    "{}: two entries of pathList at level {level}",
                    f.name
                )));
            }
        }
        let t = field(f, &at, e, "type")?.as_u64().unwrap_or(0);
        entries.push((level, t, hash32(f, &at, e)?, b));
    }
    let bal = balances(f, "self.balances", field(f, "self", me, "balances")?)?;
    for (k, _, _) in &bal {
        if !assets.contains(k) {
            assets.push(k.clone());
        }
    }
    assets.sort_by(|x, y| x.encode_utf16().cmp(y.encode_utf16()));
    let prof = Profile {
        name: "mexc".into(),
        assets: assets.clone(),
        hex_digits: 32,
        pieces: vec![
            Piece::LeftHash,
            Piece::Text(",".into()),
            Piece::RightHash,
            Piece::Text(",".into()),
            Piece::Sums,
        ],
        sums: SumsText::SortedPairs,
        places: None,
        number: NumberText::Trimmed,
        zero_fill: vec!["BTC".into(), "USDT".into(), "ETH".into(), "USDC".into()],
        blank_sibling: true,
    };
    let mut out = Checked {
        profile: "mexc".into(),
        ..Checked::default()
    };
    let proof_id = string(f, "self", me, "proofId")?;
    let account = string(f, "self", me, "accountId")?;
    out.ids.push(("proofId".into(), proof_id.to_string()));
    out.ids.push(("accountId".into(), account.to_string()));
    let hash = hash32(f, "self", me)?;
    let mut sorted: Vec<&(String, String, _)> = bal.iter().collect();
    sorted.sort_by(|x, y| x.0.encode_utf16().cmp(y.0.encode_utf16()));
    let pairs: Vec<String> = sorted.iter().map(|(k, t, _)| format!("{k}:{t}")).collect();
    if prof.hash(&format!("{proof_id},{account},{}", pairs.join(","))) != hash {
        out.fail(
            "your leaf does not hash to self.hash: H(proofId,accountId,your balances) differs",
        );
    } else {
        out.held.push(format!(
            "your leaf hashes to self.hash (proof {proof_id}, account {account} and your balances)"
        ));
    }
    let self_type = field(f, "self", me, "type")?.as_u64().unwrap_or(1);
    let leaf = Node {
        hash,
        sums: some_in_order(f, "self.balances", &bal, &assets)?,
    };
    let blank = Node {
        hash: String::new(),
        sums: vec![None; assets.len()],
    };
    let mut steps = Vec::with_capacity(depth);
    for i in 0..depth {
        let step = match entries[..entries.len() - 1]
            .iter()
            .find(|(l, _, _, _)| *l == i)
        {
            None => Step {
                sibling: blank.clone(),
                side: Side::Right,
            },
            Some((_, t, h, _))
                if h.is_empty() && (i > 0 && *t == 1 || i == 0 && self_type != 1) =>
            {
                return Err(FormatError(format!(
                    "{}: an empty sibling on the left at level {i}: MEXC's trees leave only the last node of a row without a sibling, on the right",
                    f.name
                )));
            }
            Some((_, t, h, b)) => {
                let side = match (i, t) {
                    (0, _) if self_type == 1 => Side::Right,
                    (0, _) => Side::Left,
                    (_, 1) => Side::Left,
                    _ => Side::Right,
                };
                Step {
                    sibling: Node {
                        hash: h.clone(),
                        sums: some_in_order(f, &format!("pathList level {i}"), b, &assets)?,
                    },
                    side,
                }
            }
        };
        steps.push(step);
    }
    let (_, _, root_hash, root_bal) = &entries[entries.len() - 1];
    out.fold_path(
        &prof,
        &SumPath {
            leaf,
            steps,
            root: Some(Node {
                hash: root_hash.clone(),
                sums: some_in_order(f, "the root's balances", root_bal, &assets)?,
            }),
        },
        depth,
    );
    out.weak(
        Weakness::TruncatedHash,
        "128 bits: two subtrees with one hash cost about 2^64 SHA-256 computations to find, within reach of a large mining operation",
    );
    out.weak(
        Weakness::NoNonce,
        "the leaf is your proof id, account id and balances only: anyone who knows your account id can test guesses of your balances",
    );
    out.weak(
        Weakness::ChildSumsUnbound,
        "a parent's hash holds only the sums of its two children together",
    );
    out.weak(
        Weakness::NegativesAllowed,
        "MEXC's tool accepts negative amounts; this one fails them where it sees them",
    );
    Ok(out)
}
