//! Other exchanges' published proofs, checked independently (spec/published.md).
//!
//! Millions of customers can download a proof-of-reserves file from their exchange today, in
//! that exchange's own format, checked by that exchange's own tool, and most of those tools
//! print a verdict and exit 0 when the check fails. This module reads those files as they are,
//! recomputes everything they allow, and says what each format cannot show.
//!
//! The shape, one step per module:
//! - [`json`], [`decimal`]: the files' JSON with key order and number text kept, and signed
//!   decimals with their scale (both matter to what the exchanges hash);
//! - [`sumtree`]: one SHA-256 sum-path engine, configured per exchange by a [`sumtree::Profile`];
//! - [`okx`], [`bybit`], [`mexc`], [`bitget`], [`bitmex`]: each reads its files into the engine's
//!   input and checks what is particular to it (its leaf, its root entry, its tree listing);
//! - [`poseidon`], [`zk`]: Poseidon over BN254 as Gate's and Binance's forks define it, and their
//!   depth-28 trees.
//!
//! A customer's file carries the root the exchange chose to show that customer: a path that
//! folds proves only that the customer is in *some* tree. So a pass needs the root the exchange
//! (or its auditor) published for everyone, given by the customer; without it the outcome is
//! "not checked" (exit 3), whatever else held.

pub mod bitget;
pub mod bitmex;
pub mod bybit;
pub mod decimal;
pub mod json;
pub mod mexc;
pub mod okx;
pub mod poseidon;
pub mod sumtree;
pub mod zk;

use decimal::Decimal;
use std::fmt;

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// OKX Merkle v1: a customer's path with its root entry.
    OkxV1,
    /// OKX Merkle v2: the customer's file (sub-leaves) and the whole tree listing.
    OkxMerkleV2,
    /// Bybit's customer path, in one of its rounds' asset layouts.
    Bybit,
    /// MEXC's customer path (128-bit hashes, no nonce).
    Mexc,
    /// Bitget's customer path (64-bit hashes), either serialisation.
    Bitget,
    /// BitMEX's whole liabilities tree listing, with the customer's account number and nonce.
    Bitmex,
    /// Gate.io's customer file (Poseidon over BN254, blocks of 12).
    Gate,
    /// Binance's customer file (Poseidon over BN254, blocks of 16).
    Binance,
}

impl Format {
    /// Every format, in `--format`'s order.
    pub const ALL: &'static [Format] = &[
        Format::OkxV1,
        Format::OkxMerkleV2,
        Format::Bybit,
        Format::Mexc,
        Format::Bitget,
        Format::Bitmex,
        Format::Gate,
        Format::Binance,
    ];

    /// The `--format` name.
    pub fn name(self) -> &'static str {
        match self {
            Format::OkxV1 => "okx-v1",
            Format::OkxMerkleV2 => "okx-merkle-v2",
            Format::Bybit => "bybit",
            Format::Mexc => "mexc",
            Format::Bitget => "bitget",
            Format::Bitmex => "bitmex",
            Format::Gate => "gate",
            Format::Binance => "binance",
        }
    }

    /// The exchange's name, for the customer.
    pub fn exchange(self) -> &'static str {
        match self {
            Format::OkxV1 | Format::OkxMerkleV2 => "OKX",
            Format::Bybit => "Bybit",
            Format::Mexc => "MEXC",
            Format::Bitget => "Bitget",
            Format::Bitmex => "BitMEX",
            Format::Gate => "Gate.io",
            Format::Binance => "Binance",
        }
    }

    /// Reads a `--format` name.
    pub fn parse(name: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "--format: expected one of {}, found \"{name}\"",
                    known.join(", ")
                )
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a format cannot show, or shows badly: each with a stable code (spec/published.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weakness {
    /// The root is signed and anchored nowhere.
    RootUnsigned,
    /// The customer cannot recompute their own leaf's id.
    IdNotRecomputable,
    /// Hashes cut to fewer bits.
    TruncatedHash,
    /// A parent binds only its children's total.
    ChildSumsUnbound,
    /// Sums written with nothing between assets: digits can move from one asset to another.
    AmbiguousSums,
    /// Nothing in the format forbids negative balances.
    NegativesAllowed,
    /// No secret in the leaf.
    NoNonce,
    /// The file shows another customer's secret.
    SiblingNonceShown,
    /// The round's parameters are not in the customer's file.
    RoundParametersMissing,
    /// Only one asset (BTC) is in the tree.
    OneAssetOnly,
    /// Amounts cut to a fixed number of places as they are added.
    SumsRounded,
    /// The leaves open with a key that does not involve the account.
    AccountNotBound,
    /// A reserve file's message is the same every round.
    ConstantMessage,
    /// Contract-wallet owners are taken from the file.
    OwnersFromFile,
    /// A reserve file carries no liabilities.
    NoLiabilities,
    /// The zero-knowledge batch proofs are not checked.
    BatchProofsUnchecked,
}

impl Weakness {
    /// Every weakness, in the spec's order.
    pub const ALL: &'static [Weakness] = &[
        Weakness::RootUnsigned,
        Weakness::IdNotRecomputable,
        Weakness::TruncatedHash,
        Weakness::ChildSumsUnbound,
        Weakness::AmbiguousSums,
        Weakness::NegativesAllowed,
        Weakness::NoNonce,
        Weakness::SiblingNonceShown,
        Weakness::RoundParametersMissing,
        Weakness::OneAssetOnly,
        Weakness::SumsRounded,
        Weakness::AccountNotBound,
        Weakness::ConstantMessage,
        Weakness::OwnersFromFile,
        Weakness::NoLiabilities,
        Weakness::BatchProofsUnchecked,
    ];

    /// The stable code, as in `--json`.
    pub fn code(self) -> &'static str {
        match self {
            Weakness::RootUnsigned => "weakness.root_unsigned",
            Weakness::IdNotRecomputable => "weakness.id_not_recomputable",
            Weakness::TruncatedHash => "weakness.truncated_hash",
            Weakness::ChildSumsUnbound => "weakness.child_sums_unbound",
            Weakness::AmbiguousSums => "weakness.ambiguous_sums",
            Weakness::NegativesAllowed => "weakness.negatives_allowed",
            Weakness::NoNonce => "weakness.no_nonce",
            Weakness::SiblingNonceShown => "weakness.sibling_nonce_shown",
            Weakness::RoundParametersMissing => "weakness.round_parameters_missing",
            Weakness::OneAssetOnly => "weakness.one_asset_only",
            Weakness::SumsRounded => "weakness.sums_rounded",
            Weakness::AccountNotBound => "weakness.account_not_bound",
            Weakness::ConstantMessage => "weakness.constant_message",
            Weakness::OwnersFromFile => "weakness.owners_from_file",
            Weakness::NoLiabilities => "weakness.no_liabilities",
            Weakness::BatchProofsUnchecked => "weakness.batch_proofs_unchecked",
        }
    }

    /// What it means for the customer, in general (the check adds the particulars).
    pub fn meaning(self) -> &'static str {
        match self {
            Weakness::RootUnsigned => {
                "the root is signed and anchored nowhere: the exchange could show each customer a tree of their own, so compare the root with the one it publishes for everyone (--root)"
            }
            Weakness::IdNotRecomputable => {
                "you cannot recompute your own leaf's id from what you know: the exchange tells you which leaf is yours"
            }
            Weakness::TruncatedHash => {
                "hashes are cut short, so two different subtrees with one hash can be searched for far more cheaply than for full SHA-256"
            }
            Weakness::ChildSumsUnbound => {
                "a parent binds only the total of its two children, not each child's balances: two customers can each be shown the other's balance as zero and both proofs pass (Maxwell's flaw)"
            }
            Weakness::AmbiguousSums => {
                "the sums are hashed with nothing between assets, so a sibling's balances can be rewritten (digits moved from one asset to the next) without changing its hash"
            }
            Weakness::NegativesAllowed => {
                "the format does not forbid negative balances; a negative entry elsewhere in the tree lowers the totals and is visible only on the paths that pass it"
            }
            Weakness::NoNonce => {
                "the leaves carry no secret: anyone who knows or guesses an account id and its balances can confirm them in the tree"
            }
            Weakness::SiblingNonceShown => {
                "your file shows the secret of the customer next to you, so you can confirm their balances (their privacy is not protected from you, nor yours from them)"
            }
            Weakness::RoundParametersMissing => {
                "parameters of the round are not in your file and were taken from this tool's table"
            }
            Weakness::OneAssetOnly => {
                "the tree covers one asset only: nothing here is a proof for any other asset"
            }
            Weakness::SumsRounded => {
                "sums are cut to a fixed number of places as they are added: amounts below that can vanish from the totals"
            }
            Weakness::ConstantMessage => {
                "the message is fixed text the exchange chose, not a challenge of this round: unless it names the round, a signature can be replayed from an earlier one, so it proves a key once signed it, not that it controls the address now"
            }
            Weakness::OwnersFromFile => {
                "contract-wallet owners are taken from the file: who controls a contract wallet must be read on chain, and nothing here ties the owners to the contract"
            }
            Weakness::BatchProofsUnchecked => {
                "the tree's nodes carry no sums: that every account is non-negative and the accounts add up to the published totals rests on the exchange's zero-knowledge batch proofs, which are not checked here"
            }
            Weakness::NoLiabilities => {
                "the file carries no liabilities: it cannot show that the reserves cover what the exchange owes"
            }
            Weakness::AccountNotBound => {
                "your leaves open with a key that does not involve your account number: the exchange could give another customer the same key and leaves, and both proofs pass while the tree counts them once"
            }
        }
    }
}

/// A weakness found in a file, with its particulars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Which weakness.
    pub weakness: Weakness,
    /// The particulars (`64 bits: a collision costs about 2^32 hashes`).
    pub detail: String,
}

/// A check that failed: the file does not add up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whether it is a negative balance or sum (its own code).
    pub negative: bool,
    /// What failed, naming the file's field.
    pub message: String,
}

/// What the customer's file establishes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// The format read.
    pub format: Option<Format>,
    /// The profile (round layout) used.
    pub profile: String,
    /// Names the file gives the account and round (`auditId`, account number).
    pub ids: Vec<(String, String)>,
    /// The customer's balances as the tree holds them.
    pub balances: Vec<(String, Decimal)>,
    /// The root the path folds to.
    pub root: String,
    /// The totals it folds to.
    pub totals: Vec<(String, Decimal)>,
    /// What was checked and held, in order.
    pub held: Vec<String>,
    /// What failed.
    pub failures: Vec<Failure>,
    /// What the format cannot show.
    pub weaknesses: Vec<Found>,
}

impl Checked {
    fn weak(&mut self, w: Weakness, detail: impl Into<String>) {
        if !self.weaknesses.iter().any(|f| f.weakness == w) {
            self.weaknesses.push(Found {
                weakness: w,
                detail: detail.into(),
            });
        }
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.failures.push(Failure {
            negative: false,
            message: message.into(),
        });
    }

    /// Folds the customer's path of `levels` levels: what failed or held, the root, the totals
    /// and the customer's balances.
    fn fold_path(&mut self, prof: &sumtree::Profile, path: &sumtree::SumPath, levels: usize) {
        let folded = prof.fold(path);
        self.fold_failures(folded.failures);
        if self.failures.is_empty() {
            self.held.push(format!(
                "your path of {levels} levels folds to the root the file names, with its totals"
            ));
        }
        self.root = folded.root;
        self.totals = named(&prof.assets, &folded.totals);
        self.balances = named(&prof.assets, &path.leaf.sums);
    }

    fn fold_failures(&mut self, fs: Vec<sumtree::FoldFailure>) {
        for f in fs {
            self.failures.push(Failure {
                negative: matches!(f, sumtree::FoldFailure::Negative { .. }),
                message: f.to_string(),
            });
        }
    }
}

/// The outcome of a check: its code (spec/outcomes.md) and the words that name what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `published.verified`, `.root_not_compared`, `.root_mismatch`, `.negative_sum` or
    /// `.check_failed`.
    pub code: crate::outcome::Code,
    /// The verdict's words.
    pub message: String,
}

/// Decides the outcome: failures first; then the root the customer gave (lower-case hex, no
/// `0x`), which alone makes a pass; without it, "not compared".
pub fn verdict(c: &Checked, root: Option<&str>) -> Verdict {
    use crate::outcome::Code;
    let exchange = c.format.map_or("the exchange", Format::exchange);
    if let Some(first) = c.failures.first() {
        let code = if c.failures.iter().any(|f| f.negative) {
            Code::PublishedNegative
        } else {
            Code::PublishedCheckFailed
        };
        let all: Vec<&str> = std::iter::once(first.message.as_str())
            .chain(c.failures[1..].iter().map(|f| f.message.as_str()))
            .collect();
        return Verdict {
            code,
            message: format!(
                "{exchange}'s file does not add up under {exchange}'s own rules. The file is not signed, so this is your finding, not evidence others can check: {}",
                all.join("; ")
            ),
        };
    }
    match root {
        Some(r) if *r != c.root => Verdict {
            code: Code::PublishedRootMismatch,
            message: format!(
                "your file folds to root {}, not to the root you gave ({r})",
                c.root
            ),
        },
        Some(_) => Verdict {
            code: Code::PublishedVerified,
            message: format!(
                "your balances are in the {exchange} tree whose root you gave. Read what this format cannot show."
            ),
        },
        None => Verdict {
            code: Code::PublishedRootNotCompared,
            message: format!(
                "root not compared: your file folds to root {}, but without the root {exchange} publishes for everyone (--root) you could have been shown a tree of your own",
                c.root
            ),
        },
    }
}

/// Reads the root a customer types: hex, with or without `0x`, either case.
pub fn parse_root(text: &str) -> Result<String, String> {
    let r = text.trim();
    let r = r.strip_prefix("0x").unwrap_or(r);
    if r.is_empty() || r.len() > 128 || !r.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "--root: expected the root hash in hex, as the exchange publishes it, found \"{}\"",
            r.chars().take(80).collect::<String>()
        ));
    }
    Ok(r.to_ascii_lowercase())
}

/// A file that cannot be read as its format (exit 2), naming the file and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One input file: its name (for messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The name to print.
    pub name: &'a str,
    /// The file's text.
    pub text: &'a str,
}

/// What the customer gives beside the files.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// The account number (BitMEX).
    pub user_id: Option<String>,
    /// The customer's nonce (BitMEX), hex.
    pub nonce: Option<String>,
    /// The round's asset layout (Bybit), when not one of the bundled ones.
    pub layout: Option<bybit::Layout>,
    /// The round's asset count (Gate) or tier (Binance), when the customer knows it.
    pub asset_count: Option<usize>,
}

/// Guesses the format of one file from its shape, or `None`.
pub fn detect(text: &str) -> Option<Format> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("block_height:") {
        return Some(Format::Bitmex);
    }
    if okx::is_v2_tree_listing(trimmed) {
        return Some(Format::OkxMerkleV2);
    }
    let j = json::Json::parse(text).ok()?;
    if j.get("MerkleProofEncode").is_some() && j.get("Arrangement").is_some() {
        return Some(Format::Gate);
    }
    if j.get("AccountIdHash").is_some() && j.get("Proof").is_some() {
        return Some(Format::Binance);
    }
    if j.get("pathList").is_some() {
        return Some(Format::Mexc);
    }
    if j.get("nodes").is_some() && j.get("totalBalances").is_some() {
        return Some(Format::OkxMerkleV2);
    }
    let path = j.get("path")?.as_arr()?;
    let first = path.first()?;
    if first.get("merkelLeaf").is_some() || first.get("role").is_some() {
        return Some(Format::Bitget);
    }
    let me = j.get("self")?;
    if me.get("userHash").is_some() {
        return Some(Format::Bybit);
    }
    if me.get("balances").is_some() {
        return Some(Format::OkxV1);
    }
    None
}

/// Checks the files as `format` (or as detected), with what the customer gave.
pub fn check(
    files: &[Input<'_>],
    format: Option<Format>,
    given: &Given,
) -> Result<Checked, FormatError> {
    // A byte-order mark is what some Windows tools write first; it is not part of the file.
    let files: Vec<Input<'_>> = files
        .iter()
        .map(|f| Input {
            name: f.name,
            text: f.text.strip_prefix('\u{feff}').unwrap_or(f.text),
        })
        .collect();
    let files = &files[..];
    let format = match format {
        Some(f) => f,
        None => {
            let mut found = None;
            for f in files {
                let d = detect(f.text).ok_or_else(|| {
                    FormatError(format!(
                        "{}: not a proof file of a format this tool knows; if it is one, name it with --format ({})",
                        f.name,
                        Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
                match found {
                    None => found = Some(d),
                    Some(x) if x == d => {}
                    Some(x) => {
                        return Err(FormatError(format!(
                        "{}: a {d} file beside a {x} file: give the files of one exchange's round",
                        f.name
                    )))
                    }
                }
            }
            found.ok_or_else(|| FormatError("no file given".into()))?
        }
    };
    let mut out = match format {
        Format::OkxV1 => okx::check_v1(one(files, format)?)?,
        Format::OkxMerkleV2 => okx::check_v2(files)?,
        Format::Bybit => bybit::check(one(files, format)?, given.layout.as_ref())?,
        Format::Mexc => mexc::check(one(files, format)?)?,
        Format::Bitget => bitget::check(one(files, format)?)?,
        Format::Bitmex => bitmex::check(one(files, format)?, given)?,
        Format::Gate => zk::check_gate(one(files, format)?, given)?,
        Format::Binance => zk::check_binance(one(files, format)?, given)?,
    };
    out.format = Some(format);
    out.weak(
        Weakness::RootUnsigned,
        format!(
            "{} signs no root and anchors none; your file carries the root it chose to show you",
            format.exchange()
        ),
    );
    Ok(out)
}

fn one<'a>(files: &[Input<'a>], format: Format) -> Result<Input<'a>, FormatError> {
    match files {
        [f] => Ok(*f),
        _ => Err(FormatError(format!(
            "a {format} proof is one file; {} were given",
            files.len()
        ))),
    }
}

/// Reads a file's JSON, naming the file on error.
pub(crate) fn parse_json(f: Input<'_>) -> Result<json::Json, FormatError> {
    json::Json::parse(f.text).map_err(|e| {
        let lines = f.text.lines().count().max(1);
        let at_end = e.line >= lines
            && f.text.lines().last().map_or(0, |l| l.chars().count()) < e.column;
        if at_end || e.what.contains("end of the file") {
            FormatError(format!(
                "{}: the file stops before its JSON is complete ({e}): it was cut short; download or copy it again, whole",
                f.name
            ))
        } else {
            FormatError(format!("{}: not JSON, as the exchange's proof files are: {e}", f.name))
        }
    })
}

/// The field `key` of `obj`, or an error naming the file and the field.
pub(crate) fn field<'j>(
    f: Input<'_>,
    at: &str,
    obj: &'j json::Json,
    key: &str,
) -> Result<&'j json::Json, FormatError> {
    obj.get(key).ok_or_else(|| {
        FormatError(format!(
            "{}: {at} has no \"{key}\" field; is this the file the exchange gave you, complete?",
            f.name
        ))
    })
}

/// A customer file's `self` entry and its `path` (siblings, then the root): at least two.
pub(crate) fn self_and_path<'j>(
    f: Input<'_>,
    j: &'j json::Json,
) -> Result<(&'j json::Json, &'j [json::Json]), FormatError> {
    let me = field(f, "the file", j, "self")?;
    let path = field(f, "the file", j, "path")?
        .as_arr()
        .ok_or_else(|| FormatError(format!("{}: \"path\" should be a list", f.name)))?;
    if path.len() < 2 {
        return Err(FormatError(format!(
            "{}: \"path\" has {} entries; a path holds at least a sibling and the root",
            f.name,
            path.len()
        )));
    }
    Ok((me, path))
}

/// A string field.
pub(crate) fn string<'j>(
    f: Input<'_>,
    at: &str,
    obj: &'j json::Json,
    key: &str,
) -> Result<&'j str, FormatError> {
    let v = field(f, at, obj, key)?;
    v.as_str().ok_or_else(|| {
        FormatError(format!(
            "{}: {at}.{key} should be text, found {}",
            f.name,
            v.kind()
        ))
    })
}

/// A hex hash of exactly `digits` digits.
pub(crate) fn hex_field(
    f: Input<'_>,
    at: &str,
    obj: &json::Json,
    key: &str,
    digits: usize,
) -> Result<String, FormatError> {
    let s = string(f, at, obj, key)?;
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FormatError(format!(
            "{}: {at}.{key} should be {digits} hex digits, found \"{}\"",
            f.name,
            s.chars().take(80).collect::<String>()
        )));
    }
    Ok(s.to_string())
}

/// A balances object: `(asset, text as written, value)` in the file's order. Values may be JSON
/// strings or numbers (`numbers` says which the format writes).
pub(crate) fn balances(
    f: Input<'_>,
    at: &str,
    v: &json::Json,
) -> Result<Vec<(String, String, Decimal)>, FormatError> {
    let kv = v.as_obj().ok_or_else(|| {
        FormatError(format!(
            "{}: {at} should be an object of balances, found {}",
            f.name,
            v.kind()
        ))
    })?;
    let mut out = Vec::with_capacity(kv.len());
    for (k, x) in kv {
        // Names are hashed as text beside quotes, commas and colons: a name holding one could
        // write another leaf's preimage.
        if k.is_empty()
            || k.len() > 32
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(FormatError(format!(
                "{}: {at} names an asset \"{}\": asset names are letters, digits, '_', '.' or '-', at most 32",
                f.name,
                k.chars().take(40).collect::<String>()
            )));
        }
        let text = match x {
            json::Json::Str(s) | json::Json::Num(s) => s.as_str(),
            other => {
                return Err(FormatError(format!(
                    "{}: {at}.{k} should be an amount, found {}",
                    f.name,
                    other.kind()
                )))
            }
        };
        let d = Decimal::parse(text)
            .map_err(|e| FormatError(format!("{}: {at}.{k} = \"{text}\": {e}", f.name)))?;
        out.push((k.clone(), text.to_string(), d));
    }
    Ok(out)
}

/// The values of `bal` in the order of `assets`; an asset missing is an error.
pub(crate) fn in_order(
    f: Input<'_>,
    at: &str,
    bal: &[(String, String, Decimal)],
    assets: &[String],
) -> Result<Vec<Option<Decimal>>, FormatError> {
    assets
        .iter()
        .map(|a| {
            bal.iter()
                .find(|(k, _, _)| k == a)
                .map(|(_, _, d)| Some(*d))
                .ok_or_else(|| FormatError(format!("{}: {at} has no {a} balance", f.name)))
        })
        .collect()
}

/// The values of `bal` in the order of `assets`, `None` where absent; a name not in `assets`
/// is an error.
pub(crate) fn some_in_order(
    f: Input<'_>,
    at: &str,
    bal: &[(String, String, Decimal)],
    assets: &[String],
) -> Result<Vec<Option<Decimal>>, FormatError> {
    if let Some((k, _, _)) = bal.iter().find(|(k, _, _)| !assets.contains(k)) {
        return Err(FormatError(format!(
            "{}: {at} names {k}, which this round's other entries do not",
            f.name
        )));
    }
    Ok(assets
        .iter()
        .map(|a| bal.iter().find(|(k, _, _)| k == a).map(|(_, _, d)| *d))
        .collect())
}

/// `(asset, value)` pairs of the assets present.
pub(crate) fn named(assets: &[String], sums: &[Option<Decimal>]) -> Vec<(String, Decimal)> {
    assets
        .iter()
        .zip(sums)
        .filter_map(|(a, d)| d.map(|d| (a.clone(), d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// spec/published.md's table of weaknesses is this table: every code with its meaning,
    /// in this order.
    #[test]
    fn the_spec_lists_every_weakness() {
        let spec = include_str!("../../../spec/published.md");
        let rows: Vec<&str> = spec
            .lines()
            .filter(|l| l.starts_with("| `weakness."))
            .collect();
        assert_eq!(rows.len(), Weakness::ALL.len());
        for (w, row) in Weakness::ALL.iter().zip(rows) {
            assert!(row.starts_with(&format!("| `{}` |", w.code())), "{row}");
            assert!(row.ends_with(&format!("| {} |", w.meaning())), "{row}");
        }
    }

    /// The worked preimages of spec/published.md.
    #[test]
    fn the_specs_worked_examples() {
        let mexc = |s: &str| {
            let mut h = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()));
            h.truncate(32);
            h
        };
        assert_eq!(
            mexc("PR-2025-01-22,1745297673,ETH:195462.73"),
            "8c288ee092d370002ff31d0f8f48eb5f"
        );
        assert_eq!(
            mexc("8c288ee092d370002ff31d0f8f48eb5f,,ETH:195462.73"),
            "b14c25fd8654714240b820bbfc70def9"
        );
        let names: Vec<String> = ["BTC", "ETH", "USDT"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(bitget::java_hashmap_order(&names), names);
        let shuffled: Vec<String> = ["USDT", "BTC", "ETH"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(bitget::java_hashmap_order(&shuffled), names);
    }

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(detect("block_height:100\n"), Some(Format::Bitmex));
        assert_eq!(
            detect(&format!("{},6,{{\"BTC\":\"0\"}}\n", "a".repeat(64))),
            Some(Format::OkxMerkleV2)
        );
        assert_eq!(detect("{\"pathList\": []}"), Some(Format::Mexc));
        assert_eq!(detect("{\"x\": 1}"), None);
        assert_eq!(detect("not json"), None);
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Ok(*f));
        }
    }
}
