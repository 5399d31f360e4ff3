//! Bitget's customer path (BitgetLimited/proof-of-reserves), spec/published.md "Bitget".
//!
//! Hashes are the first 16 hex digits (64 bits) of SHA-256 over text. A leaf is
//! `H(encryptUid,nonce,J(balances))`, a parent `H(left ‖ right,J(sums),level)` with the level
//! counted from the root (the root is 1). `J` is the balances' JSON as Bitget's Java writes it,
//! in one of two serialisations told apart by the file: numbers (the first years: Java's
//! `BigDecimal.toString`, keys in `java.util.HashMap` order) or strings (since: trailing zeros
//! stripped, keys in the file's order).

use super::decimal::Decimal;
use super::json::Json;
use super::sumtree::{Node, NumberText, Piece, Profile, Side, Step, SumPath, SumsText};
use super::{
    balances, field, parse_json, some_in_order, string, Checked, FormatError, Input, Weakness,
};

/// Java's `String.hashCode`: 31·h + c over UTF-16 code units, wrapping at 32 bits.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order a `java.util.HashMap` (capacity 16, load factor 0.75) iterates `keys` put in this
/// order: by bucket of the spread hash, then by insertion within a bucket.
pub fn java_hashmap_order(keys: &[String]) -> Vec<String> {
    let mut cap = 16usize;
    while keys.len() > cap * 3 / 4 {
        cap *= 2;
    }
    let bucket = |k: &str| {
        let h = java_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    };
    let mut v: Vec<(usize, usize, &String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (bucket(k), i, k))
        .collect();
    v.sort();
    v.into_iter().map(|(_, _, k)| k.clone()).collect()
}

fn leaf16(f: Input<'_>, at: &str, e: &Json) -> Result<String, FormatError> {
    let s = string(f, at, e, "merkelLeaf")?;
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FormatError(format!(
            "{}: {at}.merkelLeaf should be 16 hex digits",
            f.name
        )));
    }
    Ok(s.to_ascii_lowercase())
}

/// Whether the balances are JSON numbers (true) or strings (false); mixed is an error.
fn quoted_kind(f: Input<'_>, entries: &[&Json]) -> Result<bool, FormatError> {
    let mut kind = None;
    for e in entries {
        if let Some(kv) = e.get("balances").and_then(Json::as_obj) {
            for (k, v) in kv {
                let q = matches!(v, Json::Str(_));
                match kind {
                    None => kind = Some(q),
                    Some(x) if x != q => {
                        return Err(FormatError(format!(
                            "{}: balances are written both as numbers and as text (at {k}): neither of Bitget's serialisations",
                            f.name
                        )))
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(kind.unwrap_or(true))
}

/// Checks a Bitget customer file (`{"path": [...], "self": {...}}`).
pub fn check(f: Input<'_>) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let (me, path) = super::self_and_path(f, &j)?;
    let mut all: Vec<&Json> = path.iter().collect();
    all.push(me);
    let quoted = quoted_kind(f, &all)?;
    let bal = balances(f, "self.balances", field(f, "self", me, "balances")?)?;
    let names: Vec<String> = bal.iter().map(|(k, _, _)| k.clone()).collect();
    let assets = if quoted {
        names
    } else {
        java_hashmap_order(&names)
    };
    let prof = Profile {
        name: if quoted {
            "bitget/strings"
        } else {
            "bitget/numbers"
        }
        .into(),
        assets: assets.clone(),
        hex_digits: 16,
        pieces: vec![
            Piece::LeftHash,
            Piece::RightHash,
            Piece::Text(",".into()),
            Piece::Sums,
            Piece::Text(",".into()),
            Piece::Level,
        ],
        sums: SumsText::Json { quoted },
        places: None,
        number: if quoted {
            NumberText::Trimmed
        } else {
            NumberText::Java
        },
        zero_fill: Vec::new(),
        blank_sibling: false,
    };
    let mut out = Checked {
        profile: prof.name.clone(),
        ..Checked::default()
    };
    if let Some(id) = me.get("auditId").and_then(Json::as_str) {
        out.ids.push(("auditId".into(), id.to_string()));
    }
    let uid = string(f, "self", me, "encryptUid")?;
    let nonce = string(f, "self", me, "nonce")?;
    let hash = leaf16(f, "self", me)?;
    let sums_of =
        |at: &str, b: &[(String, String, Decimal)]| -> Result<Vec<Option<Decimal>>, FormatError> {
            let v = some_in_order(f, at, b, &assets)?;
            if v.iter().any(Option::is_none) {
                return Err(FormatError(format!(
                    "{}: {at} lacks some of the assets your balances name ({})",
                    f.name,
                    assets.join(", ")
                )));
            }
            Ok(v)
        };
    let leaf = Node {
        hash,
        sums: sums_of("self.balances", &bal)?,
    };
    let text = prof
        .write_sums(&leaf.sums)
        .ok_or_else(|| FormatError(format!("{}: self.balances cannot be written", f.name)))?;
    if prof.hash(&format!("{uid},{nonce},{text}")) != leaf.hash {
        out.fail(
            "your leaf does not hash to self.merkelLeaf: H(encryptUid,nonce,balances) differs",
        );
    } else {
        out.held.push(
            "your leaf hashes to self.merkelLeaf (encryptUid, nonce and your balances)".into(),
        );
    }
    let self_role = field(f, "self", me, "role")?.as_u64().unwrap_or(0);
    let mut steps = Vec::new();
    for (i, e) in path[..path.len() - 1].iter().enumerate() {
        let at = format!("path[{i}]");
        let role = field(f, &at, e, "role")?
            .as_u64()
            .filter(|r| *r <= 3)
            .ok_or_else(|| FormatError(format!("{}: {at}.role should be 0 to 3", f.name)))?;
        if i == 0 && role == self_role {
            out.fail(format!(
                "{at} (your sibling) has your own role {role}: both cannot be on one side"
            ));
        }
        let b = balances(f, &format!("{at}.balances"), field(f, &at, e, "balances")?)?;
        steps.push(Step {
            sibling: Node {
                hash: leaf16(f, &at, e)?,
                sums: sums_of(&format!("{at}.balances"), &b)?,
            },
            side: if role == 1 { Side::Left } else { Side::Right },
        });
    }
    let root_e = &path[path.len() - 1];
    let rb = balances(
        f,
        "the root's balances",
        field(f, "the root", root_e, "balances")?,
    )?;
    let root = Node {
        hash: leaf16(f, "the root", root_e)?,
        sums: sums_of("the root's balances", &rb)?,
    };
    if field(f, "the root", root_e, "level")?.as_u64() != Some(1) {
        out.fail("the root's level should be 1");
    }
    out.fold_path(
        &prof,
        &SumPath {
            leaf,
            steps,
            root: Some(root),
        },
        path.len(),
    );
    out.weak(
        Weakness::TruncatedHash,
        "64 bits: two subtrees with one hash cost about 2^32 SHA-256 computations to find, minutes on one computer, so a subtree can be swapped for another",
    );
    out.weak(
        Weakness::IdNotRecomputable,
        "your leaf holds an encryptUid whose making Bitget does not publish: you cannot recompute it from your account",
    );
    out.weak(
        Weakness::ChildSumsUnbound,
        "a parent's hash holds only the sums of its two children together",
    );
    out.weak(
        Weakness::NegativesAllowed,
        "Bitget's files carry negative sums (its current sample does) and its tool accepts them; this one fails them where it sees them",
    );
    Ok(out)
}
