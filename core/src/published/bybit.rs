//! Bybit's customer path (bybit-exchange/merkle-proof), in one of its rounds' asset layouts
//! (spec/published.md, "Bybit").
//!
//! A leaf is `sha256(userHash ‖ amounts)`, the amounts as written in the round's asset order
//! with nothing between them; a parent is `sha256(left ‖ right ‖ sums ‖ height)`, each sum cut
//! to 8 places and written with exactly 8. The file does not name its layout: Bybit's tool
//! tries each it knows, newest first; this one picks the layout whose enabled assets are the
//! root's, from its table or from a layout file the customer gives.

use super::decimal::Decimal;
use super::json::Json;
use super::sumtree::{Node, NumberText, Profile, Side, Step, SumPath};
use super::{
    balances, field, hex_field, parse_json, some_in_order, Checked, FormatError, Input, Weakness,
};

/// One asset of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutAsset {
    /// Its name in the files.
    pub name: String,
    /// The places its sums keep.
    pub scale: u32,
    /// Whether it is summed (an asset retired from the round is not).
    pub enabled: bool,
}

/// A round's asset layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Its name (`Asset40V5`).
    pub name: String,
    /// The assets in hashing order.
    pub assets: Vec<LayoutAsset>,
}

/// The layouts this tool knows, newest first: Bybit's own enum files as data.
const KNOWN: &[(&str, &str)] = &[("Asset40V5", include_str!("layouts/bybit-Asset40V5.enum"))];

impl Layout {
    /// Reads a layout written as Bybit's enum lists it: `NAME SCALE ROUNDING ENABLED` per line.
    pub fn parse(name: &str, text: &str) -> Result<Layout, String> {
        let mut assets = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.is_empty() {
                continue;
            }
            let [n, scale, rounding, enabled] = w[..] else {
                return Err(format!(
                    "{name}: line {}: expected NAME SCALE ROUNDING ENABLED, such as \"BTC 8 DOWN true\"",
                    i + 1
                ));
            };
            let scale: u32 =
                scale.parse().ok().filter(|s| *s <= 18).ok_or_else(|| {
                    format!("{name}: line {}: the scale should be 0 to 18", i + 1)
                })?;
            if rounding != "DOWN" {
                return Err(format!(
                    "{name}: line {}: only DOWN rounding is known, found {rounding}",
                    i + 1
                ));
            }
            let enabled = match enabled {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(format!(
                        "{name}: line {}: ENABLED should be true or false",
                        i + 1
                    ))
                }
            };
            if assets.iter().any(|a: &LayoutAsset| a.name == n) {
                return Err(format!("{name}: line {}: {n} is listed twice", i + 1));
            }
            assets.push(LayoutAsset {
                name: n.to_string(),
                scale,
                enabled,
            });
        }
        if assets.is_empty() {
            return Err(format!("{name}: no assets"));
        }
        Ok(Layout {
            name: name.to_string(),
            assets,
        })
    }

    /// The layouts bundled with this tool, newest first.
    pub fn known() -> Vec<Layout> {
        KNOWN
            .iter()
            .filter_map(|(n, t)| Layout::parse(n, t).ok())
            .collect()
    }

    fn enabled(&self) -> Vec<String> {
        self.assets
            .iter()
            .filter(|a| a.enabled)
            .map(|a| a.name.clone())
            .collect()
    }

    fn profile(&self) -> Result<Profile, String> {
        let scales: Vec<u32> = self
            .assets
            .iter()
            .filter(|a| a.enabled)
            .map(|a| a.scale)
            .collect();
        let Some(&scale) = scales.first() else {
            return Err(format!("{}: no asset of the layout is enabled", self.name));
        };
        if scales.iter().any(|s| *s != scale) {
            return Err(format!(
                "{}: assets of different scales are not supported (every Bybit round has 8)",
                self.name
            ));
        }
        Ok(Profile::concatenated(
            format!("bybit/{}", self.name),
            self.enabled(),
            scale,
            NumberText::Fixed(scale),
        ))
    }
}

fn type_of(f: Input<'_>, at: &str, e: &Json) -> Result<u64, FormatError> {
    field(f, at, e, "type")?
        .as_u64()
        .filter(|t| (1..=4).contains(t))
        .ok_or_else(|| FormatError(format!("{}: {at}.type should be 1, 2, 3 or 4", f.name)))
}

/// Checks a Bybit customer file, in `layout` when given, else in the bundled layout whose
/// enabled assets the root names.
pub fn check(f: Input<'_>, layout: Option<&Layout>) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let (me, path) = super::self_and_path(f, &j)?;
    let root_e = &path[path.len() - 1];
    let root_bal = balances(
        f,
        &format!("path[{}].balance", path.len() - 1),
        field(f, "the root", root_e, "balance")?,
    )?;
    let mut root_names: Vec<&str> = root_bal.iter().map(|(k, _, _)| k.as_str()).collect();
    root_names.sort_unstable();
    let known = Layout::known();
    let (lay, from_table) = match layout {
        Some(l) => (l.clone(), false),
        None => (
            known
                .iter()
                .find(|l| {
                    let mut e = l.enabled();
                    e.sort_unstable();
                    e == root_names
                })
                .cloned()
                .ok_or_else(|| {
                    FormatError(format!(
                        "{}: the root names {} assets, and no Bybit layout this tool knows ({}) has exactly those; give the round's layout with --layout FILE (lines NAME SCALE ROUNDING ENABLED, as Bybit's AssetXX enum)",
                        f.name,
                        root_names.len(),
                        known.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?,
            true,
        ),
    };
    let prof = lay.profile().map_err(FormatError)?;
    let assets = prof.assets.clone();
    let mut out = Checked {
        profile: prof.name.clone(),
        ..Checked::default()
    };
    if let Some(id) = me.get("auditId").and_then(Json::as_str) {
        out.ids.push(("auditId".into(), id.to_string()));
    }
    let user_hash = hex_field(f, "self", me, "userHash", 64)?;
    let hash = hex_field(f, "self", me, "hash", 64)?.to_ascii_lowercase();
    let bal = balances(f, "self.balance", field(f, "self", me, "balance")?)?;
    for (k, _, _) in &bal {
        if !lay.assets.iter().any(|a| a.name == *k) {
            return Err(FormatError(format!(
                "{}: self.balance names {k}, which layout {} does not have",
                f.name, lay.name
            )));
        }
    }
    // Every asset the leaf names enters its hash, enabled or not, in the layout's order.
    let text: String = lay
        .assets
        .iter()
        .filter_map(|a| {
            bal.iter()
                .find(|(k, _, _)| *k == a.name)
                .map(|(_, t, _)| t.as_str())
        })
        .collect();
    if prof.hash(&format!("{user_hash}{text}")) != hash {
        out.fail("your leaf does not hash to self.hash: sha256(userHash ‖ your amounts) differs");
    } else {
        out.held
            .push("your leaf hashes to self.hash (userHash and your amounts)".into());
    }
    // Assets retired from the round enter the leaf's hash but no sum: their sign is checked
    // here, since the fold never sees them.
    for (k, t, d) in &bal {
        if d.is_negative() && !assets.contains(k) {
            out.failures.push(super::Failure {
                negative: true,
                message: format!("your own {k} balance is negative ({t})"),
            });
        }
    }
    let self_type = type_of(f, "self", me)?;
    let sums_of =
        |at: &str, b: &[(String, String, Decimal)]| -> Result<Vec<Option<Decimal>>, FormatError> {
            if let Some((k, _, _)) = b
                .iter()
                .find(|(k, _, _)| !lay.assets.iter().any(|a| a.name == *k))
            {
                return Err(FormatError(format!(
                    "{}: {at} names {k}, which layout {} does not have",
                    f.name, lay.name
                )));
            }
            let only: Vec<(String, String, Decimal)> = b
                .iter()
                .filter(|(k, _, _)| assets.contains(k))
                .cloned()
                .collect();
            let v = some_in_order(f, at, &only, &assets)?;
            if v.iter().any(Option::is_none) {
                return Err(FormatError(format!(
                    "{}: {at} lacks some of the round's {} assets",
                    f.name,
                    assets.len()
                )));
            }
            Ok(v)
        };
    let leaf = Node {
        hash,
        sums: sums_of("self.balance", &bal)?,
    };
    let mut steps = Vec::new();
    for (i, e) in path[..path.len() - 1].iter().enumerate() {
        let at = format!("path[{i}]");
        let t = type_of(f, &at, e)?;
        let b = balances(f, &format!("{at}.balance"), field(f, &at, e, "balance")?)?;
        let side = if i == 0 {
            if t == self_type {
                out.fail(format!(
                    "{at} (your sibling) is on the same side as you (type {t})"
                ));
            }
            if self_type == 1 {
                Side::Right
            } else {
                Side::Left
            }
        } else if t == 1 {
            Side::Left
        } else {
            Side::Right
        };
        steps.push(Step {
            sibling: Node {
                hash: hex_field(f, &at, e, "hash", 64)?,
                sums: sums_of(&format!("{at}.balance"), &b)?,
            },
            side,
        });
    }
    let root = Node {
        hash: hex_field(f, "the root", root_e, "hash", 64)?,
        sums: sums_of("the root's balance", &root_bal)?,
    };
    if field(f, "the root", root_e, "height")?.as_u64() != Some(path.len() as u64) {
        out.fail(format!(
            "the root's height should be {} (the path's length)",
            path.len()
        ));
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
    if from_table {
        out.weak(
            Weakness::RoundParametersMissing,
            format!(
                "the file does not name its asset layout; {} (from this tool's table) is the one whose assets its root names",
                lay.name
            ),
        );
    }
    out.weak(
        Weakness::IdNotRecomputable,
        "your leaf holds a userHash whose making Bybit does not publish: you cannot recompute it from your account",
    );
    out.weak(
        Weakness::ChildSumsUnbound,
        "a parent's hash holds only the sums of its two children together",
    );
    out.weak(
        Weakness::NegativesAllowed,
        "Bybit's tool accepts negative amounts; this one fails them where it sees them",
    );
    out.weak(
        Weakness::SumsRounded,
        "sums are cut to 8 places as they are added",
    );
    out.weak(
        Weakness::NoNonce,
        "the nonce in the file is not hashed: only the userHash hides the account",
    );
    Ok(out)
}
