//! `por-verify published`: another exchange's proof file, checked by its own rules, with the
//! root compared against the one the customer gives and the format's weaknesses listed
//! (spec/published.md). The rules live in `por_core::published`, so the browser page runs the
//! same checks.

use crate::error::{Error, Result};
use crate::outcome::{Code, Finding};
use crate::report::Report;
use por_core::published::{check, parse_root, verdict, Checked, Format, Given, Input};
use serde_json::json;
use std::path::PathBuf;

/// The largest file read: OKX's whole-tree listing of a real round is hundreds of megabytes.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// What the command was given, checked.
pub struct Request {
    /// The files.
    pub files: Vec<PathBuf>,
    /// The format, if named.
    pub format: Option<Format>,
    /// `--format okx-reserves`: OKX's reserve file (addresses and signatures).
    pub okx_reserves: bool,
    /// The root published for everyone, lower-case hex without `0x`.
    pub root: Option<String>,
    /// Account number, nonce and layout.
    pub given: Given,
    /// EVM nodes for OKX's reserve files: chain id and URL.
    pub nodes: Vec<(u64, String)>,
}

/// The command's flags, as typed (`por-verify published --help`).
#[derive(Debug, Default, clap::Args)]
pub struct Flags {
    /// The file(s) the exchange gave you: one proof file, or for OKX v2 your
    /// user_info_file.json and the whole tree file.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// okx-v1, okx-merkle-v2, bybit, mexc, bitget, bitmex, gate, binance or okx-reserves
    /// (default: told from the file).
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,
    /// The root the exchange (or its auditor) publishes for everyone for this round. Without
    /// it the result is UNVERIFIED (exit 3): your file could come from a tree of your own.
    #[arg(long, value_name = "HEX")]
    pub root: Option<String>,
    /// BitMEX: your account number.
    #[arg(long, value_name = "ID")]
    pub user_id: Option<String>,
    /// BitMEX: the nonce BitMEX shows you (per proof, or your account's lifetime nonce).
    #[arg(long, value_name = "HEX")]
    pub nonce: Option<String>,
    /// Bybit: the round's asset layout, when it is not one this tool knows (lines NAME SCALE
    /// ROUNDING ENABLED, as Bybit's AssetXX enum lists them).
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,
    /// Gate.io: the round's asset count (Binance: its tier of asset slots), when it is not one
    /// this tool knows; it is not in the customer's file.
    #[arg(long, value_name = "N")]
    pub asset_count: Option<usize>,
    /// OKX reserve files: your own EVM node, CHAIN=URL (ethereum=URL, ethereum-42161=URL, ...),
    /// to read native balances at the rows' snapshot heights (repeatable).
    #[arg(long = "node", value_name = "CHAIN=URL")]
    pub nodes: Vec<String>,
}

impl Request {
    /// Turns the flags into checked values.
    pub fn new(flags: Flags) -> Result<Request> {
        let Flags {
            files,
            format,
            root,
            user_id,
            nonce,
            layout,
            asset_count,
            nodes,
        } = flags;
        let (format, root) = (format.as_deref(), root.as_deref());
        let mut evm = Vec::new();
        for n in &nodes {
            let (c, url) = n
                .split_once('=')
                .ok_or_else(|| Error::input("--node: expected CHAIN=URL"))?;
            match por_core::chains::Chain::parse(c).map_err(|m| Error::input(format!("--node: {m}")))? {
                por_core::chains::Chain::Evm(id) => evm.push((id, url.to_string())),
                other => {
                    return Err(Error::input(format!(
                        "--node {other}: OKX's files list addresses, not outputs, so only EVM nodes (native balances) are read here"
                    )))
                }
            }
        }
        let okx_reserves = format == Some("okx-reserves");
        let format = format
            .filter(|f| *f != "okx-reserves")
            .map(|f| {
                Format::parse(f)
                    .map_err(|m| Error::input(m.replace("bitmex", "bitmex, okx-reserves")))
            })
            .transpose()?;
        let root = root
            .map(|r| parse_root(r).map_err(Error::input))
            .transpose()?;
        let layout = layout
            .map(|p| {
                let text = read_text(&p)?;
                let name = p
                    .file_stem()
                    .map_or("layout".into(), |s| s.to_string_lossy().into_owned());
                por_core::published::bybit::Layout::parse(&name, &text)
                    .map_err(|m| Error::input(format!("--layout {}: {m}", p.display())))
            })
            .transpose()?;
        if files.is_empty() {
            return Err(Error::input("give the proof file the exchange gave you"));
        }
        Ok(Request {
            files,
            format,
            okx_reserves,
            root,
            given: Given {
                user_id,
                nonce,
                layout,
                asset_count,
            },
            nodes: evm,
        })
    }
}

fn read_text(p: &std::path::Path) -> Result<String> {
    let bytes = crate::input::read_bounded(
        p,
        MAX_FILE_BYTES,
        crate::input::FileKind::Other("proof file"),
    )?;
    String::from_utf8(bytes).map_err(|_| {
        Error::input(format!(
            "{}: not text (UTF-8): is this the file the exchange gave you?",
            p.display()
        ))
    })
}

/// Runs the check and fills the report; the result is the verdict line or the outcome.
pub fn run(rep: &mut Report, req: &Request) -> Result<String> {
    let mut texts = Vec::with_capacity(req.files.len());
    for p in &req.files {
        texts.push((p.display().to_string(), read_text(p)?));
    }
    if req.okx_reserves
        || (req.format.is_none()
            && texts
                .iter()
                .all(|(_, t)| crate::published_reserves::is_okx_reserves(t)))
    {
        return run_reserves(rep, &texts, &req.nodes);
    }
    let inputs: Vec<Input<'_>> = texts
        .iter()
        .map(|(n, t)| Input { name: n, text: t })
        .collect();
    rep.title = "Checking a proof file another exchange published".into();
    let c = check(&inputs, req.format, &req.given).map_err(|e| Error::input(e.0))?;
    describe(rep, &c, req.root.as_deref());
    let format = c.format.map_or("?", Format::name);
    let exchange = c.format.map_or("the exchange", Format::exchange);
    rep.title = format!("Checking {exchange}'s proof file ({format})");
    let v = verdict(&c, req.root.as_deref());
    match v.code.exit_code() {
        0 => {
            rep.ok(v.code, "the root your file folds to is the root you gave");
            Ok(format!("VERIFIED: {}", v.message))
        }
        // The failures are in the report already, each under its code.
        _ if !c.failures.is_empty() => Err(crate::error::Error::coded(v.code, v.message)),
        _ => {
            rep.fail(Finding::new(v.code, v.message));
            Err(rep.error(""))
        }
    }
}

fn describe(rep: &mut Report, c: &Checked, root: Option<&str>) {
    for h in &c.held {
        rep.ok(Code::Passed, h.clone());
    }
    for f in &c.failures {
        rep.fail(Finding::new(
            if f.negative {
                Code::PublishedNegative
            } else {
                Code::PublishedCheckFailed
            },
            f.message.clone(),
        ));
    }
    let mut ids = Vec::new();
    for (k, v) in &c.ids {
        ids.push(format!("{k}: {v}"));
    }
    if !ids.is_empty() {
        rep.section("The file names", ids);
    }
    let show = |v: &[(String, por_core::published::decimal::Decimal)]| -> Vec<String> {
        v.iter().map(|(a, d)| format!("{a} {}", d)).collect()
    };
    if !c.balances.is_empty() {
        rep.section("Your balances, as the tree holds them", show(&c.balances));
    }
    let mut top = vec![format!("root {}", c.root)];
    if let Some(r) = root {
        top.push(format!("root you gave {r}"));
    }
    top.extend(show(&c.totals).into_iter().map(|l| format!("total {l}")));
    rep.section("What your file folds to", top);
    rep.section(
        "What this format cannot show",
        c.weaknesses
            .iter()
            .map(|w| {
                format!(
                    "[{}] {} ({})",
                    w.weakness.code(),
                    w.weakness.meaning(),
                    w.detail
                )
            })
            .collect(),
    );
    let amounts = |v: &[(String, por_core::published::decimal::Decimal)]| {
        serde_json::Value::Object(
            v.iter()
                .map(|(a, d)| (a.clone(), json!(d.to_string())))
                .collect(),
        )
    };
    rep.set("format", json!(c.format.map(Format::name)));
    rep.set("profile", json!(c.profile));
    rep.set(
        "ids",
        serde_json::Value::Object(c.ids.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
    );
    rep.set("balances", amounts(&c.balances));
    rep.set("root", json!(c.root));
    rep.set("root_given", json!(root));
    rep.set("totals", amounts(&c.totals));
    rep.set(
        "weaknesses",
        json!(c
            .weaknesses
            .iter()
            .map(|w| json!({"code": w.weakness.code(), "meaning": w.weakness.meaning(), "detail": w.detail}))
            .collect::<Vec<_>>()),
    );
}

/// OKX's reserve files: every row's signature by its network's scheme, sums per coin, the
/// file's own totals compared; never a pass (no liabilities, no balance read on chain).
fn run_reserves(
    rep: &mut Report,
    texts: &[(String, String)],
    nodes: &[(u64, String)],
) -> Result<String> {
    use crate::published_reserves::{check_with_nodes, Balance, RowResult};
    use por_core::published::Weakness;
    let [(name, text)] = texts else {
        return Err(Error::input("give one OKX reserve file at a time"));
    };
    rep.title = format!("Checking OKX's reserve file {name} (okx-reserves)");
    let c = check_with_nodes(name, text, nodes)?;
    let (mut held, mut failed, mut unchecked) = (0usize, 0usize, Vec::new());
    let (mut on_chain, mut not_read) = (0usize, 0usize);
    for (r, res, bal) in &c.rows {
        let at = format!("line {}: {} on {} {}", r.line, r.coin, r.network, r.address);
        match res {
            RowResult::Held(w) => {
                held += 1;
                rep.ok(Code::Passed, format!("{at}: {w}"));
            }
            RowResult::Failed(w) => {
                failed += 1;
                rep.fail(Finding::new(
                    Code::PublishedCheckFailed,
                    format!("{at}: {w}"),
                ));
            }
            RowResult::NotChecked(w) => unchecked.push(format!("{at}: {w}")),
        }
        match bal {
            Balance::Holds(w) => {
                on_chain += 1;
                rep.ok(Code::Passed, format!("{at}: {w}"));
            }
            Balance::Differs(w) => {
                failed += 1;
                rep.fail(Finding::new(
                    Code::PublishedCheckFailed,
                    format!("{at}: {w}"),
                ));
            }
            Balance::NotRead(_) => not_read += 1,
        }
    }
    for m in &c.file_failures {
        rep.fail(Finding::new(Code::PublishedCheckFailed, m.clone()));
    }
    if !unchecked.is_empty() {
        rep.section(
            "Rows this tool cannot check (the exchange's word only)",
            unchecked.clone(),
        );
    }
    if !c.sums.is_empty() {
        rep.section(
            "The rows add up to (every row, as OKX's tool sums them)",
            c.sums.iter().map(|(u, d)| format!("{u} {d}")).collect(),
        );
        rep.section(
            "Of which proven by signature (the rest is the exchange's word only)",
            c.proven.iter().map(|(u, d)| format!("{u} {d}")).collect(),
        );
    }
    if !c.totals.is_empty() {
        rep.section(
            "The file's own totals",
            c.totals
                .iter()
                .map(|t| format!("{} {} (snapshot height {})", t.name, t.amount, t.height))
                .collect(),
        );
    }
    let mut weak = vec![(
        Weakness::NoLiabilities,
        "this file lists reserves only: compare it with the liabilities OKX publishes for the same round".to_string(),
    )];
    weak.push((
        Weakness::ConstantMessage,
        format!(
            "every row signs {}",
            c.messages
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    if c.owners_from_file {
        weak.push((
            Weakness::OwnersFromFile,
            "rows with eoa1/eoa2 are checked against the owners the file names".to_string(),
        ));
    }
    rep.section(
        "What this format cannot show",
        weak.iter()
            .map(|(w, d)| format!("[{}] {} ({d})", w.code(), w.meaning()))
            .collect(),
    );
    rep.set("format", json!("okx-reserves"));
    rep.set(
        "rows",
        json!(c
            .rows
            .iter()
            .map(|(r, res, bal)| {
                let (status, words) = match res {
                    RowResult::Held(w) => ("held", w),
                    RowResult::Failed(w) => ("failed", w),
                    RowResult::NotChecked(w) => ("not_checked", w),
                };
                let (balance, balance_words) = match bal {
                    Balance::Holds(w) => ("holds", w),
                    Balance::Differs(w) => ("differs", w),
                    Balance::NotRead(w) => ("not_read", w),
                };
                json!({"line": r.line, "coin": r.coin, "network": r.network, "address": r.address,
                   "height": r.height, "amount": r.amount.map(|a| a.to_string()), "status": status,
                   "check": words, "balance": balance, "balance_check": balance_words})
            })
            .collect::<Vec<_>>()),
    );
    rep.set(
        "proven_sums",
        serde_json::Value::Object(
            c.proven
                .iter()
                .map(|(u, d)| (u.clone(), json!(d.to_string())))
                .collect(),
        ),
    );
    rep.set(
        "sums",
        serde_json::Value::Object(
            c.sums
                .iter()
                .map(|(u, d)| (u.clone(), json!(d.to_string())))
                .collect(),
        ),
    );
    rep.set(
        "weaknesses",
        json!(weak
            .iter()
            .map(|(w, d)| json!({"code": w.code(), "meaning": w.meaning(), "detail": d}))
            .collect::<Vec<_>>()),
    );
    if failed > 0 || !c.file_failures.is_empty() {
        return Err(rep.error(
            "OKX's reserve file does not hold under OKX's own rules. The file is not signed, so this is your finding: ",
        ));
    }
    let f = Finding::new(
        Code::PublishedReservesNotChecked,
        format!(
            "{held} row(s) proven by signature, {} not checked by this tool; {on_chain} balance(s) read on your node, {not_read} not read; this file carries no liabilities: it cannot show solvency",
            unchecked.len()
        ),
    );
    rep.fail(f);
    Err(rep.error(""))
}
