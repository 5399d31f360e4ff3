//! OKX's Merkle proofs, v1 (a customer's path) and v2 (the customer's sub-leaves and the whole
//! tree), as okx/proof-of-reserves defines them (spec/published.md, "OKX").
//!
//! Both hash ASCII text with SHA-256 and write hashes as 64 lower-case hex digits; a parent is
//! `sha256(left ‖ right ‖ ΣBTC ‖ ΣETH ‖ ΣUSDT ‖ height)`, each sum cut to 8 places and written
//! without trailing zeros, the height the parent's own (leaves are 1). OKX's own v2 tool never
//! recomputes an internal node; this one recomputes every node of the listing.

use super::decimal::Decimal;
use super::json::Json;
use super::sumtree::{Node, NumberText, Profile, Side, Step, SumPath};
use super::{
    balances, field, hex_field, in_order, parse_json, string, Checked, FormatError, Input, Weakness,
};

/// The profile of OKX's sum trees over `assets` (BTC, ETH, USDT in every published round).
pub fn profile(assets: Vec<String>) -> Profile {
    Profile::concatenated("okx".into(), assets, 8, NumberText::Trimmed)
}

/// Equal in value (a missing value as zero).
fn eq(a: Option<Decimal>, b: Option<Decimal>) -> bool {
    let z = Decimal::ZERO;
    a.unwrap_or(z).cmp_value(b.unwrap_or(z)) == std::cmp::Ordering::Equal
}

/// `{"BTC":"x","ETH":"y","USDT":"z"}`: the balances as OKX hashes them, values as written.
fn balances_json(bal: &[(String, String, Decimal)]) -> String {
    let body: Vec<String> = bal
        .iter()
        .map(|(k, t, _)| format!("\"{k}\":\"{t}\""))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn type_of(f: Input<'_>, at: &str, e: &Json) -> Result<u64, FormatError> {
    field(f, at, e, "type")?
        .as_u64()
        .ok_or_else(|| FormatError(format!("{}: {at}.type should be 1, 2, 3 or 4", f.name)))
}

fn common_weaknesses(out: &mut Checked) {
    out.weak(
        Weakness::ChildSumsUnbound,
        "a parent's hash holds ΣBTC, ΣETH, ΣUSDT of both children together",
    );
    out.weak(
        Weakness::AmbiguousSums,
        "\"1\",\"12\" and \"11\",\"2\" hash alike: nothing separates the assets' sums",
    );
    out.weak(
        Weakness::NegativesAllowed,
        "OKX's tool accepts negative amounts; this one fails them where it sees them",
    );
    out.weak(
        Weakness::SumsRounded,
        "every sum is cut to 8 places as it is added",
    );
}

/// Checks an OKX Merkle v1 customer file (`{"path": [...], "self": {...}}`).
pub fn check_v1(f: Input<'_>) -> Result<Checked, FormatError> {
    let j = parse_json(f)?;
    let (me, path) = super::self_and_path(f, &j)?;
    let mut out = Checked {
        profile: "okx-v1".into(),
        ..Checked::default()
    };
    let bal = balances(f, "self.balances", field(f, "self", me, "balances")?)?;
    let assets: Vec<String> = bal.iter().map(|(k, _, _)| k.clone()).collect();
    if assets.is_empty() {
        return Err(FormatError(format!("{}: self.balances is empty", f.name)));
    }
    let prof = profile(assets.clone());
    let nonce = hex_field(f, "self", me, "nonce", 64)?;
    let hash = hex_field(f, "self", me, "hash", 64)?.to_ascii_lowercase();
    if let Ok(id) = string(f, "self", me, "auditId") {
        out.ids.push(("auditId".into(), id.to_string()));
    }
    let self_type = type_of(f, "self", me)?;
    let leaf = prof.hash(&format!("{nonce}{}", balances_json(&bal)));
    if leaf != hash {
        out.fail(format!(
            "your leaf does not hash to self.hash: sha256(nonce ‖ balances) is {leaf}, the file says {hash}"
        ));
    } else {
        out.held
            .push("your leaf hashes to self.hash (your nonce and balances)".into());
    }
    let side_of_self = match self_type {
        1 => Side::Left,
        2 => Side::Right,
        t => {
            return Err(FormatError(format!(
                "{}: self.type should be 1 (left) or 2 (right), found {t}",
                f.name
            )))
        }
    };
    let mut steps = Vec::with_capacity(path.len() - 1);
    let mut padding: Vec<(usize, String)> = Vec::new();
    let last = path.len() - 1;
    for (i, e) in path.iter().enumerate() {
        let at = format!("path[{i}]");
        let t = type_of(f, &at, e)?;
        let h = hex_field(f, &at, e, "hash", 64)?.to_ascii_lowercase();
        let b = balances(f, &format!("{at}.balances"), field(f, &at, e, "balances")?)?;
        let sums = in_order(f, &format!("{at}.balances"), &b, &assets)?;
        if b.len() != assets.len() {
            return Err(FormatError(format!(
                "{}: {at}.balances names other assets than self.balances ({})",
                f.name,
                assets.join(", ")
            )));
        }
        let height = field(f, &at, e, "height")?.as_u64();
        let want = if i == last { path.len() } else { i + 1 } as u64;
        if height != Some(want) {
            out.fail(format!(
                "{at}.height should be {want} (its level in the path), found {}",
                height.map_or("none".into(), |h| h.to_string())
            ));
        }
        let node = Node { hash: h, sums };
        if i == last {
            if t != 3 {
                out.fail(format!(
                    "{at} is the last entry but not the root (type {t}, not 3)"
                ));
            }
            let path = SumPath {
                leaf: Node {
                    hash: hash.clone(),
                    sums: in_order(f, "self.balances", &bal, &assets)?,
                },
                steps: std::mem::take(&mut steps),
                root: Some(node),
            };
            let folded = prof.fold(&path);
            for (k, at) in &padding {
                let s = &path.steps[*k].sibling;
                if folded.entering.get(*k) != Some(&s.hash)
                    || s.sums.iter().flatten().any(|d| !d.is_zero())
                {
                    out.fail(format!(
                        "{at} is marked as padding but is not a copy of the node it pads with zero balances"
                    ));
                }
            }
            out.fold_failures(folded.failures.clone());
            out.root = folded.root;
            out.totals = super::named(&assets, &folded.totals);
            break;
        }
        let side = match (i, t) {
            (0, 1) | (0, 2) if t == self_type => {
                out.fail(format!(
                    "{at} (your sibling leaf) is on the same side as you (type {t})"
                ));
                if self_type == 1 { Side::Right } else { Side::Left }
            }
            (0, t) if t != 1 && t != 2 => {
                return Err(FormatError(format!(
                    "{}: {at}.type should be 1 or 2 for your sibling leaf, found {t}",
                    f.name
                )))
            }
            (0, _) if side_of_self == Side::Left => Side::Right,
            (0, _) => Side::Left,
            (_, 1) => Side::Left,
            (_, 2) | (_, 4) => Side::Right,
            (_, t) => {
                return Err(FormatError(format!(
                    "{}: {at}.type should be 1 (left), 2 (right) or 4 (padding) below the root, found {t}",
                    f.name
                )))
            }
        };
        if t == 4 {
            // A padding sibling copies the node it pads and adds nothing: checked once the
            // path is folded, against the node that entered this step.
            padding.push((steps.len(), at.clone()));
        }
        if i == 0 {
            if let Some(n) = e.get("nonce").and_then(Json::as_str) {
                let sib = prof.hash(&format!("{n}{}", balances_json(&b)));
                out.weak(
                    Weakness::SiblingNonceShown,
                    "path[0] carries the nonce of the customer beside you",
                );
                if sib != node.hash {
                    out.fail(format!(
                        "{at} (your sibling leaf) does not hash to its hash with the nonce it carries"
                    ));
                }
            }
        }
        steps.push(Step {
            sibling: node,
            side,
        });
    }
    out.balances = bal.into_iter().map(|(k, _, d)| (k, d)).collect();
    if out.failures.is_empty() {
        out.held.push(format!(
            "your path of {} levels folds to the root the file names, with its totals",
            path.len()
        ));
    }
    out.weak(
        Weakness::IdNotRecomputable,
        "the leaf holds no account id: the nonce OKX gave you is all that ties it to you",
    );
    common_weaknesses(&mut out);
    Ok(out)
}

/// Whether a text looks like OKX v2's whole-tree listing (`hash,height,{json}` lines).
pub fn is_v2_tree_listing(text: &str) -> bool {
    let line = text.lines().next().unwrap_or("");
    let mut it = line.splitn(3, ',');
    matches!(
        (it.next(), it.next(), it.next()),
        (Some(h), Some(n), Some(j))
            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                && j.starts_with('{')
    )
}

/// One line of the listing.
struct Line {
    hash: String,
    height: usize,
    sums: Vec<Option<Decimal>>,
    line: usize,
}

/// Checks OKX Merkle v2: the customer's file and the whole tree listing, in either order.
pub fn check_v2(files: &[Input<'_>]) -> Result<Checked, FormatError> {
    let (mut user, mut tree) = (None, None);
    for f in files {
        if is_v2_tree_listing(f.text) {
            if tree.replace(*f).is_some() {
                return Err(FormatError(format!(
                    "{}: a second tree listing; give one customer file and one tree file",
                    f.name
                )));
            }
        } else if user.replace(*f).is_some() {
            return Err(FormatError(format!(
                "{}: a second customer file; give one customer file and one tree file",
                f.name
            )));
        }
    }
    let user = user.ok_or_else(|| {
        FormatError("OKX v2 needs your customer file (user_info_file.json, from the Audits page) beside the tree".into())
    })?;
    let tree = tree.ok_or_else(|| {
        FormatError(format!(
            "{}: OKX v2 needs the whole tree file too (full-liabilities-merkle-tree.txt, from OKX's proof-of-reserves download page)",
            user.name
        ))
    })?;
    let j = parse_json(user)?;
    let mut out = Checked {
        profile: "okx-merkle-v2".into(),
        ..Checked::default()
    };
    let nonce = string(user, "the file", &j, "nonce")?;
    let hash = hex_field(user, "the file", &j, "hash", 64)?.to_ascii_lowercase();
    let total = balances(
        user,
        "totalBalances",
        field(user, "the file", &j, "totalBalances")?,
    )?;
    let assets: Vec<String> = total.iter().map(|(k, _, _)| k.clone()).collect();
    let prof = profile(assets.clone());
    if prof.hash(&format!("{nonce}{}", balances_json(&total))) != hash {
        out.fail("your hash is not sha256(nonce ‖ totalBalances) of your file");
    } else {
        out.held
            .push("your hash is sha256(nonce ‖ totalBalances)".into());
    }
    let nodes = field(user, "the file", &j, "nodes")?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: \"nodes\" should be a list", user.name)))?;
    if nodes.is_empty() {
        return Err(FormatError(format!("{}: \"nodes\" is empty", user.name)));
    }
    let mut subs = Vec::new();
    let mut sum: Option<Vec<Option<Decimal>>> = None;
    for (i, n) in nodes.iter().enumerate() {
        let at = format!("nodes[{i}]");
        let h = hex_field(user, &at, n, "hash", 64)?.to_ascii_lowercase();
        let b = balances(
            user,
            &format!("{at}.balances"),
            field(user, &at, n, "balances")?,
        )?;
        let v = in_order(user, &format!("{at}.balances"), &b, &assets)?;
        let text: String = assets
            .iter()
            .map(|a| {
                b.iter()
                    .find(|(k, _, _)| k == a)
                    .map_or("", |(_, t, _)| t.as_str())
            })
            .collect();
        if prof.hash(&format!("{hash}{text}")) != h {
            out.fail(format!("{at}.hash is not sha256(your hash ‖ its balances)"));
        }
        sum = Some(match sum {
            None => v.clone(),
            Some(s) => {
                let mut acc = Vec::with_capacity(s.len());
                for (a, b) in s.iter().zip(&v) {
                    let (a, b) = (a.unwrap_or(Decimal::ZERO), b.unwrap_or(Decimal::ZERO));
                    acc.push(Some(prof.add(a, b).ok_or_else(|| {
                        FormatError(format!("{}: {at}: the sums overflow", user.name))
                    })?));
                }
                acc
            }
        });
        subs.push((h, v));
    }
    let want = in_order(user, "totalBalances", &total, &assets)?;
    if let Some(s) = &sum {
        if s.iter().zip(&want).any(|(a, b)| !eq(*a, *b)) {
            out.fail("your sub-leaves do not add up to your totalBalances");
        }
    }
    // The listing: root first, then each level, top down.
    let mut lines = Vec::new();
    for (n, raw) in tree.text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let mut it = raw.splitn(3, ',');
        let (Some(h), Some(ht), Some(js)) = (it.next(), it.next(), it.next()) else {
            return Err(FormatError(format!(
                "{}: line {}: expected hash,height,{{balances}}",
                tree.name,
                n + 1
            )));
        };
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FormatError(format!(
                "{}: line {}: the hash should be 64 hex digits",
                tree.name,
                n + 1
            )));
        }
        let height: usize = ht
            .parse()
            .ok()
            .filter(|h| (1..=64).contains(h))
            .ok_or_else(|| {
                FormatError(format!(
                    "{}: line {}: the height should be a number from 1 to 64",
                    tree.name,
                    n + 1
                ))
            })?;
        let bj = Json::parse(js)
            .map_err(|e| FormatError(format!("{}: line {}: balances: {e}", tree.name, n + 1)))?;
        let at = format!("line {}", n + 1);
        let lf = Input {
            name: tree.name,
            text: tree.text,
        };
        let bal = balances(lf, &at, &bj)?;
        let sums = in_order(lf, &at, &bal, &assets)?;
        lines.push(Line {
            hash: h.to_ascii_lowercase(),
            height,
            sums,
            line: n + 1,
        });
    }
    let Some(root) = lines.first() else {
        return Err(FormatError(format!(
            "{}: the tree file is empty",
            tree.name
        )));
    };
    let top = root.height;
    // Levels, each listed right to left: reverse to left to right.
    let mut levels: Vec<Vec<&Line>> = vec![Vec::new(); top + 1];
    let mut prev = top;
    for l in &lines {
        if l.height > prev || l.height == 0 {
            return Err(FormatError(format!(
                "{}: line {}: height {} after height {prev}: the listing should go from the root down, one level after another",
                tree.name, l.line, l.height
            )));
        }
        prev = l.height;
        levels[l.height].push(l);
    }
    for lv in levels.iter_mut() {
        lv.reverse();
    }
    if levels[top].len() != 1 {
        return Err(FormatError(format!(
            "{}: {} nodes at the root's height {top}; a tree has one root",
            tree.name,
            levels[top].len()
        )));
    }
    let as_node = |l: &Line| Node {
        hash: l.hash.clone(),
        sums: l.sums.clone(),
    };
    let mut bad = 0usize;
    let same = |a: &Node, b: &Node| {
        a.hash == b.hash && a.sums.iter().zip(&b.sums).all(|(x, y)| eq(*x, *y))
    };
    let mut current: Vec<Node> = levels[1].iter().map(|l| as_node(l)).collect();
    for (h, listed) in levels.iter().enumerate().skip(1) {
        if h > 1 {
            // The level is what the one below makes, plus a padding node at its right end
            // when that is odd: a copy of its left neighbour at zero.
            if listed.len() == current.len() + 1 {
                let p = listed[listed.len() - 1];
                let ok = current.last().is_some_and(|n| {
                    n.hash == p.hash && p.sums.iter().flatten().all(|d| d.is_zero())
                });
                if !ok {
                    out.fail(format!(
                        "{}: line {}: the padding node at height {h} is not a copy of its neighbour at zero balances",
                        tree.name, p.line
                    ));
                }
                current.push(as_node(p));
            } else if listed.len() != current.len() {
                return Err(FormatError(format!(
                    "{}: {} nodes at height {h}, but the level below makes {}",
                    tree.name,
                    listed.len(),
                    current.len()
                )));
            }
            for (c, l) in current.iter().zip(listed.iter()) {
                if !same(c, &as_node(l)) {
                    bad += 1;
                    if bad <= 5 {
                        out.fail(format!(
                            "{}: line {}: the node at height {h} does not recompute from its two children",
                            tree.name, l.line
                        ));
                    }
                }
            }
        } else if listed.len() >= 2 {
            let (p, n) = (listed[listed.len() - 1], listed[listed.len() - 2]);
            if p.hash == n.hash && p.sums.iter().flatten().any(|d| !d.is_zero()) {
                out.fail(format!(
                    "{}: line {}: a leaf that copies its neighbour but is not at zero: its balances count twice",
                    tree.name, p.line
                ));
            }
        }
        if h == top {
            break;
        }
        if current.len() % 2 == 1 {
            return Err(FormatError(format!(
                "{}: {} nodes at height {h}: below the root, a padded level has an even number",
                tree.name,
                current.len()
            )));
        }
        let mut next = Vec::with_capacity(current.len() / 2);
        for pair in current.chunks(2) {
            let (l, r) = (&pair[0], &pair[1]);
            let parent = prof.parent(l, r, h + 1, top).map_err(|_| {
                FormatError(format!(
                    "{}: the sums overflow at height {}",
                    tree.name,
                    h + 1
                ))
            })?;
            next.push(parent);
        }
        current = next;
    }
    if bad > 5 {
        out.fail(format!("{} more nodes do not recompute", bad - 5));
    }
    let r = &levels[top][0];
    // Every leaf and node balance must be non-negative.
    for l in &lines {
        for (a, d) in assets.iter().zip(&l.sums) {
            let Some(d) = d else { continue };
            if d.is_negative() {
                out.failures.push(super::Failure {
                    negative: true,
                    message: format!(
                        "{}: line {}: a negative {a} balance ({}) lowers the totals",
                        tree.name,
                        l.line,
                        d.plain()
                    ),
                });
            }
        }
    }
    // A sub-leaf listed twice would count twice for the customer and once in the tree.
    let mut once = std::collections::HashSet::new();
    for (h, _) in &subs {
        if !once.insert(h.as_str()) {
            out.fail(format!(
                "your file lists sub-leaf {h} twice: it would count twice for you, once in the tree"
            ));
        }
    }
    // The customer's sub-leaves among the leaves.
    for (i, (h, v)) in subs.iter().enumerate() {
        let found = levels[1]
            .iter()
            .any(|l| l.hash == *h && l.sums.iter().zip(v).all(|(a, b)| eq(*a, *b)));
        if !found {
            out.fail(format!(
                "your sub-leaf nodes[{i}] ({h}) is not among the tree's leaves with its balances"
            ));
        }
    }
    if out.failures.is_empty() {
        out.held.push(format!(
            "every one of the tree's {} nodes recomputes from its children, and your {} sub-leaves are among its leaves",
            lines.len(),
            subs.len()
        ));
    }
    out.root = r.hash.clone();
    // The totals the tree adds up to, not the ones its root line lists.
    out.totals = super::named(
        &assets,
        &current.first().map_or(r.sums.clone(), |n| n.sums.clone()),
    );
    out.balances = total.into_iter().map(|(k, _, d)| (k, d)).collect();
    out.weak(
        Weakness::IdNotRecomputable,
        "the leaves hold no account id: the nonce OKX gave you is all that ties your sub-leaves to you",
    );
    common_weaknesses(&mut out);
    Ok(out)
}
