//! The solvency verdict: do reserves cover liabilities, asset by asset, and how do we know?
//!
//! [`evaluate`] runs every check on a reserves statement against its attestation: the
//! statement's signature and the attestation it cites, the signed snapshot time against the
//! period, each binding against the user's registry, each entry offline, and with the user's own
//! nodes each chain's snapshot block (time and settlement) and each balance. Its [`Verdict`] has
//! one of three outcomes, the exit codes of spec/README.md:
//! - [`Outcome::Pass`] (0): everything needed was checked and holds;
//! - [`Outcome::Fail`] (1): evidence against the exchange: a check failed or an asset is short;
//! - [`Outcome::Unverified`] (3): nothing failed, but something needed was not checked (no
//!   node for a chain, a snapshot not yet settled, fiat held off chain).
//!
//! With `offline`, balances are not checked at all and the verdict speaks of signatures only.

use crate::amount::Amount;
use crate::asset::Asset;
use crate::attestation::Attestation;
use crate::chain::{BlockAt, Node, Snapshot};
use crate::chains::{Chain, Location};
use crate::custody::{classify, percent, Control, Storage, Threshold};
use crate::error::Result;
use crate::outcome::{Code, Finding};
use crate::registry::{Registry, Trust};
use crate::reserves::offline::{check_bindings, check_entries, BindingCheck};
use crate::reserves::ReservesStatement;
use crate::time::{format_utc, human_duration, unix_seconds};
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Default freshness window: block times may be up to 2 hours off, and a snapshot taken over a
/// few hours is still one snapshot.
pub const DEFAULT_WINDOW_SECS: i64 = 6 * 3600;

/// What the user gives the verdict: their registry, their nodes, and how strict to be.
#[derive(Debug, Clone)]
pub struct Options {
    /// The registry the user trusts.
    pub registry: Registry,
    /// One node URL per chain.
    pub nodes: BTreeMap<Chain, String>,
    /// Check signatures only; balances are not checked (and the words say so).
    pub offline: bool,
    /// How far a snapshot block's time may lie from the signed snapshot time.
    pub window_secs: i64,
    /// The least share of each asset's counted reserves that must be under a multisig.
    pub min_multisig_share: Option<Threshold>,
    /// The least share of each asset's counted reserves that must be declared cold.
    pub min_declared_cold_share: Option<Threshold>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            registry: Registry::built_in(),
            nodes: BTreeMap::new(),
            offline: false,
            window_secs: DEFAULT_WINDOW_SECS,
            min_multisig_share: None,
            min_declared_cold_share: None,
        }
    }
}

/// The three outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything needed was checked and holds (exit 0).
    Pass,
    /// A check failed (exit 1).
    Fail,
    /// Nothing failed, but not everything needed could be checked (exit 3).
    Unverified,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Unverified => 3,
        }
    }
}

/// What happened to one entry against a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnChain {
    /// The entry failed offline; nothing was asked of a node.
    Skipped,
    /// `--offline`: not asked.
    NotAsked,
    /// No node was given for its chain.
    NoNode,
    /// The snapshot block is not settled yet.
    Unsettled(String),
    /// The node confirms the claim.
    Verified(String),
    /// The node contradicts the claim, or the snapshot is not fresh.
    Failed(String),
}

/// One entry's line.
#[derive(Debug, Clone)]
pub struct EntryLine {
    /// `BTC bc1q… on bitcoin`.
    pub label: String,
    /// The offline result: the proof of control, or why it failed.
    pub offline: std::result::Result<String, String>,
    /// The on-chain result.
    pub on_chain: OnChain,
    /// The claim in the asset's unit, when it passed offline.
    pub amount: Option<Amount>,
    /// How far its binding is trusted.
    pub trust: Option<Trust>,
    /// The entry (index) whose account this one reads again through another face: not added.
    pub second_face_of: Option<usize>,
    /// Under the snapshot span rule, the least balance over the span when it is below the
    /// claim (in the asset's unit), with the words saying where it was found.
    pub span_least: Option<(Amount, String)>,
    /// A Safe's owners, threshold and modules at the snapshot block, once its control passed.
    pub safe: Option<crate::chain::ethereum::SafeFacts>,
    /// Its on-chain failure is of control (a Safe's), not of the balance.
    pub control_failed: bool,
}

impl EntryLine {
    /// What it adds to its asset: the claim, or its least balance over the snapshot span.
    fn counted(&self) -> Option<Amount> {
        match &self.span_least {
            Some((v, _)) => Some(*v),
            None => self.amount,
        }
    }
}

/// The snapshot span of an asset bound on two or more chains: every holding of it counts at
/// its least balance over the span, so coins moved between chains while each chain's snapshot
/// was taken count at most once (spec/reserves.md, "The snapshot span").
#[derive(Debug, Clone)]
pub struct AssetSpan {
    /// The asset.
    pub asset: Asset,
    /// The earliest snapshot block time of the asset's chains.
    pub from: i64,
    /// The latest.
    pub to: i64,
    /// The asset's chains with a node.
    pub chains: Vec<SpanChain>,
}

/// One chain of an asset's snapshot span.
#[derive(Debug, Clone)]
pub struct SpanChain {
    /// The chain.
    pub chain: Chain,
    /// Its snapshot height.
    pub height: u64,
    /// `B_c(t0)`: its last block stamped at or before the span's start (`None` when it has
    /// none yet, or none that early, and its holdings were not counted).
    pub from_block: Option<u64>,
    /// `B_c(t1)`, the same at the span's end.
    pub to_block: Option<u64>,
}

impl EntryLine {
    fn failed(&self) -> bool {
        self.offline.is_err() || matches!(self.on_chain, OnChain::Failed(_))
    }

    /// Whether its amount is added to its asset's reserves.
    fn counts(&self) -> bool {
        !self.failed() && self.second_face_of.is_none()
    }
}

/// One chain's snapshot, as the user's node saw it.
#[derive(Debug, Clone)]
pub struct ChainLine {
    /// The chain.
    pub chain: Chain,
    /// The snapshot height the entries use.
    pub height: u64,
    /// The node, described.
    pub node: Option<String>,
    /// What the node said about the snapshot block.
    pub snapshot: Option<Snapshot>,
    /// The freshness check: `Ok` with the words, or why the snapshot is stale.
    pub fresh: Option<std::result::Result<String, String>>,
}

/// How an asset stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetState {
    /// Nothing is owed.
    NoDebt,
    /// Reserves verified on chain cover the liabilities.
    Covered,
    /// `--offline`: the signed claims add up to the liabilities, but no balance was checked, so
    /// nothing is said of cover.
    CoveredAsClaimed,
    /// The claims would cover, but some of them could not be checked: why.
    Unverified(String),
    /// Fiat held off chain: no chain can prove it.
    OffChain,
    /// Even the claims that passed do not cover the liabilities.
    Short,
}

/// One asset's line of the solvency table.
#[derive(Debug, Clone)]
pub struct AssetLine {
    /// The asset.
    pub asset: Asset,
    /// Total customer liabilities.
    pub liabilities: Amount,
    /// Reserves verified on chain, in the asset's unit.
    pub verified: Amount,
    /// Reserves claimed by entries that passed every check done.
    pub claimed: Amount,
    /// The verdict for the asset.
    pub state: AssetState,
    /// Trust labels of the bindings its counted reserves use (TEST NETWORK…).
    pub labels: Vec<String>,
}

/// How one asset's counted reserves are held.
#[derive(Debug, Clone)]
pub struct AssetCustody {
    /// The asset.
    pub asset: Asset,
    /// The reserves counted (those that passed every check done), in the asset's unit.
    pub counted: Amount,
    /// Amounts per kind of control the chain shows.
    pub by_control: Vec<(Control, Amount)>,
    /// Declared cold.
    pub cold: Amount,
    /// Declared hot.
    pub hot: Amount,
    /// Declared custodians and what each holds.
    pub custodians: Vec<(String, Amount)>,
    /// Distinct keys behind the counted reserves.
    pub keys: usize,
    /// Keys that sign for more than one address, with those addresses.
    pub shared_keys: Vec<(String, Vec<String>)>,
    /// Single keys that alone control half or more of the asset, with the amount and an
    /// address of theirs.
    pub dominant_keys: Vec<(String, Amount, String)>,
}

impl AssetCustody {
    /// The multisig total.
    pub fn multisig(&self) -> Amount {
        self.by_control
            .iter()
            .filter(|(c, _)| matches!(c, Control::Multisig { .. }))
            .fold(Amount::ZERO, |a, (_, v)| sum(a, *v))
    }
}

/// Everything [`evaluate`] established.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Failures that concern the whole statement (signature, citation, snapshot time).
    pub problems: Vec<String>,
    /// Each signed binding.
    pub bindings: Vec<BindingCheck>,
    /// Each entry.
    pub entries: Vec<EntryLine>,
    /// Each chain used.
    pub chains: Vec<ChainLine>,
    /// The snapshot span of each asset bound on two or more chains whose nodes answered.
    pub spans: Vec<AssetSpan>,
    /// Each asset.
    pub assets: Vec<AssetLine>,
    /// How each asset's counted reserves are held.
    pub custody: Vec<AssetCustody>,
    /// Custody thresholds the user set that an asset does not meet.
    pub custody_failures: Vec<String>,
    /// Whether balances were deliberately not checked.
    pub offline: bool,
    /// The outcome.
    pub outcome: Outcome,
}

fn sum(a: Amount, b: Amount) -> Amount {
    // Saturating: a reserves total beyond 2^128 base units covers any liability.
    a.checked_add(b).unwrap_or(Amount(u128::MAX))
}

/// Runs every reserves check. `Err` only for a node that cannot be used (exit 2); every
/// failed check is in the verdict.
pub fn evaluate(
    att: &Attestation,
    stmt: &ReservesStatement,
    key: &VerifyingKey,
    opts: &Options,
) -> Result<Verdict> {
    let mut problems = Vec::new();
    if let Err(e) = stmt.verify(att, key) {
        // Nothing in an unsigned or misdirected statement can count.
        return Ok(Verdict {
            problems: vec![e.message().to_string()],
            bindings: Vec::new(),
            entries: Vec::new(),
            chains: Vec::new(),
            spans: Vec::new(),
            assets: Vec::new(),
            custody: Vec::new(),
            custody_failures: Vec::new(),
            offline: opts.offline,
            outcome: Outcome::Fail,
        });
    }
    if let Err(why) = att.snapshot_in_period() {
        problems.push(why);
    }
    let bindings = check_bindings(att, &opts.registry);
    let checks = check_entries(att, stmt, &bindings);
    let mut entries: Vec<EntryLine> = stmt
        .entries
        .iter()
        .zip(&checks)
        .map(|(raw, c)| EntryLine {
            label: raw.label(),
            offline: c.result.clone(),
            on_chain: if c.result.is_err() {
                OnChain::Skipped
            } else if opts.offline {
                OnChain::NotAsked
            } else {
                OnChain::NoNode
            },
            amount: c.amount,
            trust: c
                .binding
                .and_then(|b| bindings[b].result.as_ref().ok().map(|(_, t)| t.clone())),
            second_face_of: c.second_face_of,
            span_least: None,
            safe: None,
            control_failed: false,
        })
        .collect();

    let mut used: BTreeMap<Chain, u64> = BTreeMap::new();
    for c in checks.iter().filter(|c| c.result.is_ok()) {
        if let Some(e) = &c.entry {
            used.entry(e.chain).or_insert(e.height);
        }
    }
    let snapshot_secs = unix_seconds(&att.snapshot_time).unwrap_or(0);
    let mut chains = Vec::new();
    // The nodes stay connected for the snapshot span: (node, tip, tip time).
    let mut connected: BTreeMap<Chain, (Node, u64, i64)> = BTreeMap::new();
    for (&chain, &height) in &used {
        let mut line = ChainLine {
            chain,
            height,
            node: None,
            snapshot: None,
            fresh: None,
        };
        let url = match (opts.offline, opts.nodes.get(&chain)) {
            (false, Some(url)) => url,
            _ => {
                chains.push(line);
                continue;
            }
        };
        let node = Node::connect(chain, url)?;
        line.node = Some(node.describe(chain));
        // A height above the node's tip is the exchange's claim, not the node's fault: if the
        // tip is already past the freshness window, no block at that height can be fresh.
        let (tip, tip_time) = node.tip()?;
        if height > tip {
            let state = if tip_time > snapshot_secs + opts.window_secs {
                OnChain::Failed(format!(
                    "the snapshot height {height} is above the node's tip {tip}, whose block time {} is already past \
                     the signed snapshot time {} and its window: no block at height {height} can be the snapshot",
                    format_utc(tip_time),
                    att.snapshot_time
                ))
            } else {
                OnChain::Unsettled(format!(
                    "the node is at height {tip}, below the snapshot height {height}: let it sync, then check again"
                ))
            };
            for (line_e, c) in entries.iter_mut().zip(&checks) {
                if c.result.is_ok() && c.entry.as_ref().is_some_and(|e| e.chain == chain) {
                    line_e.on_chain = state.clone();
                }
            }
            chains.push(line);
            continue;
        }
        let snap = node.snapshot(height)?;
        let node_tip = (tip, tip_time);
        let off = snap.block_time - snapshot_secs;
        let fresh = if off.abs() <= opts.window_secs {
            Ok(format!(
                "block {height} was mined at {}, {} {} the signed snapshot time {} (window {})",
                format_utc(snap.block_time),
                human_duration(off),
                if off <= 0 { "before" } else { "after" },
                att.snapshot_time,
                human_duration(opts.window_secs)
            ))
        } else {
            Err(format!(
                "the snapshot block {height} on {chain} was mined at {}, {} {} the signed snapshot time {}: \
                 outside the {} window, so these balances are not the balances at the snapshot",
                format_utc(snap.block_time),
                human_duration(off),
                if off <= 0 { "before" } else { "after" },
                att.snapshot_time,
                human_duration(opts.window_secs)
            ))
        };
        for ((line_e, c), raw) in entries.iter_mut().zip(&checks).zip(&stmt.entries) {
            let (Some(e), Ok(_)) = (&c.entry, &c.result) else {
                continue;
            };
            if e.chain != chain {
                continue;
            }
            line_e.on_chain = if let Err(why) = &fresh {
                OnChain::Failed(why.clone())
            } else {
                let decimals = c
                    .binding
                    .and_then(|b| bindings[b].result.as_ref().ok().map(|(cb, _)| cb.decimals))
                    .unwrap_or(0);
                let control = match node.safe_control(e, att, &raw.signatures)? {
                    None => Ok(None),
                    Some(Ok(facts)) => Ok(Some(facts)),
                    Some(Err(why)) => Err(why),
                };
                match control {
                    Err(why) => {
                        line_e.control_failed = true;
                        OnChain::Failed(why)
                    }
                    Ok(facts) => {
                        let r = match node.check(e, decimals)? {
                            Err(why) => OnChain::Failed(why),
                            Ok(what) => {
                                let what = match &facts {
                                    Some(f) => format!("{}; {what}", f.words()),
                                    None => what,
                                };
                                match &snap.settled {
                                    Ok(_) => OnChain::Verified(what),
                                    Err(why) => OnChain::Unsettled(why.clone()),
                                }
                            }
                        };
                        line_e.safe = facts;
                        r
                    }
                }
            };
        }
        line.fresh = Some(fresh);
        line.snapshot = Some(snap);
        chains.push(line);
        connected.insert(chain, (node, node_tip.0, node_tip.1));
    }

    let by_asset = entries_by_asset(att.assets.len(), &checks);
    let spans = snapshot_spans(
        att,
        &by_asset,
        &checks,
        &bindings,
        &mut entries,
        &chains,
        &connected,
    )?;

    let mut assets = Vec::new();
    for (i, asset) in att.assets.iter().enumerate() {
        let liabilities = att.liabilities[i];
        let mut verified = Amount::ZERO;
        let mut claimed = Amount::ZERO;
        let mut unchecked: Vec<String> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        // Offline, a Safe's signatures show only that some keys signed: whether they are its
        // owners, and enough of them, needs a node. Such claims are not counted as claimed.
        let mut safe_offline = Amount::ZERO;
        for &k in &by_asset[i] {
            let (line, c) = (&entries[k], &checks[k]);
            if !line.counts() {
                continue;
            }
            let Some(v) = line.counted() else { continue };
            claimed = sum(claimed, v);
            // So are holdings on a chain no node can answer at a snapshot (TRON, Solana): a
            // key signed, but whether it still controls the account is unknown.
            let unprovable_offline = c.entry.as_ref().is_some_and(|e| {
                !e.chain.has_snapshot_node()
                    || matches!(&e.holding, crate::reserves::holding::Holding::Evm(h) if h.safe.is_some())
            });
            if unprovable_offline && matches!(line.on_chain, OnChain::NotAsked) {
                safe_offline = sum(safe_offline, v);
            }
            if let Some(t @ (Trust::TestNetwork(_) | Trust::UserSupplied(_) | Trust::Bridged(_))) =
                &line.trust
            {
                if !labels.contains(&t.words()) {
                    labels.push(t.words());
                }
            }
            match &line.on_chain {
                OnChain::Verified(_) => verified = sum(verified, v),
                OnChain::NoNode => {
                    if let Some(e) = &c.entry {
                        let why = if e.chain.has_snapshot_node() {
                            format!("no node for {} (give --node {}=URL)", e.chain, e.chain)
                        } else if matches!(e.chain, Chain::BitcoinFork(_)) {
                            format!(
                                "{} balances are not checked on chain yet (the check of its nodes is not built): signature-checked, not counted",
                                e.chain
                            )
                        } else {
                            format!(
                                "{} balances cannot be checked at the snapshot height yet (its nodes answer the current state only): signature-checked, not counted",
                                e.chain
                            )
                        };
                        if !unchecked.contains(&why) {
                            unchecked.push(why);
                        }
                    }
                }
                OnChain::Unsettled(why) => {
                    if !unchecked.contains(why) {
                        unchecked.push(why.clone());
                    }
                }
                OnChain::NotAsked | OnChain::Skipped | OnChain::Failed(_) => {}
            }
        }
        let off_chain = bindings.iter().any(|b| {
            b.result
                .as_ref()
                .is_ok_and(|(cb, _)| cb.asset == i && cb.location == Location::OffChain)
        });
        let state = if liabilities.0 == 0 {
            AssetState::NoDebt
        } else if verified >= liabilities {
            AssetState::Covered
        } else if claimed >= liabilities {
            if opts.offline && Amount(claimed.0.saturating_sub(safe_offline.0)) >= liabilities {
                AssetState::CoveredAsClaimed
            } else if opts.offline {
                AssetState::Unverified(
                    "a Safe's owners and threshold, or TRON and Solana balances, cannot be checked offline"
                        .into(),
                )
            } else {
                AssetState::Unverified(unchecked.join("; "))
            }
        } else if off_chain {
            AssetState::OffChain
        } else {
            AssetState::Short
        };
        assets.push(AssetLine {
            asset: asset.clone(),
            liabilities,
            verified,
            claimed,
            state,
            labels,
        });
    }

    let (custody, custody_failures) = custody_report(att, stmt, &checks, &entries, opts);
    let failed = !problems.is_empty()
        || !custody_failures.is_empty()
        || bindings.iter().any(|b| b.result.is_err())
        || entries.iter().any(EntryLine::failed)
        || assets.iter().any(|a| a.state == AssetState::Short);
    let unverified = assets.iter().any(|a| {
        matches!(a.state, AssetState::Unverified(_))
            || (a.state == AssetState::OffChain && !opts.offline)
    });
    let outcome = if failed {
        Outcome::Fail
    } else if unverified {
        Outcome::Unverified
    } else {
        Outcome::Pass
    };
    Ok(Verdict {
        problems,
        bindings,
        entries,
        chains,
        spans,
        assets,
        custody,
        custody_failures,
        offline: opts.offline,
        outcome,
    })
}

/// Applies the snapshot span rule to every asset whose counting entries are on two or more
/// chains with a fresh snapshot: each verified holding counts at the least of its claim and its
/// balances at `B_c(t0)` and `B_c(t1)`. The blocks found are in the returned spans.
fn snapshot_spans(
    att: &Attestation,
    by_asset: &[Vec<usize>],
    checks: &[crate::reserves::offline::EntryCheck],
    bindings: &[BindingCheck],
    entries: &mut [EntryLine],
    chains: &[ChainLine],
    connected: &BTreeMap<Chain, (Node, u64, i64)>,
) -> Result<Vec<AssetSpan>> {
    let times: BTreeMap<Chain, (u64, i64)> = chains
        .iter()
        .filter(|c| matches!(c.fresh, Some(Ok(_))))
        .filter_map(|c| {
            c.snapshot
                .as_ref()
                .map(|s| (c.chain, (c.height, s.block_time)))
        })
        .collect();
    // B_c(t) asked once per chain and moment.
    let mut found: BTreeMap<(Chain, i64), BlockAt> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, asset) in att.assets.iter().enumerate() {
        let mut on: std::collections::BTreeSet<Chain> = std::collections::BTreeSet::new();
        for &k in &by_asset[i] {
            if let (true, Some(e)) = (entries[k].counts(), &checks[k].entry) {
                on.insert(e.chain);
            }
        }
        if on.len() < 2 {
            continue;
        }
        let known: Vec<(Chain, u64, i64)> = on
            .iter()
            .filter_map(|c| times.get(c).map(|&(h, t)| (*c, h, t)))
            .collect();
        let (Some(t0), Some(t1)) = (
            known.iter().map(|k| k.2).min(),
            known.iter().map(|k| k.2).max(),
        ) else {
            continue;
        };
        let mut span = AssetSpan {
            asset: asset.clone(),
            from: t0,
            to: t1,
            chains: Vec::new(),
        };
        for &(chain, height, _) in &known {
            let Some((node, tip, tip_time)) = connected.get(&chain) else {
                continue;
            };
            let mut at = |t: i64| -> Result<BlockAt> {
                if let Some(b) = found.get(&(chain, t)) {
                    return Ok(*b);
                }
                let b = node.block_at(t, *tip, *tip_time)?;
                found.insert((chain, t), b);
                Ok(b)
            };
            let (b0, b1) = (at(t0)?, at(t1)?);
            let shown = |b: BlockAt| match b {
                BlockAt::At(h) => Some(h),
                _ => None,
            };
            span.chains.push(SpanChain {
                chain,
                height,
                from_block: shown(b0),
                to_block: shown(b1),
            });
            for &k in &by_asset[i] {
                let (Some(e), Some(b)) = (&checks[k].entry, checks[k].binding) else {
                    continue;
                };
                if e.chain != chain || !entries[k].counts() {
                    continue;
                }
                if !matches!(entries[k].on_chain, OnChain::Verified(_)) {
                    continue;
                }
                if b0 == BlockAt::NotYet || b1 == BlockAt::NotYet {
                    entries[k].on_chain = OnChain::Unsettled(format!(
                        "the {chain} node has no block stamped after the snapshot span's end {} yet, so the balance \
                         through the span is not known: check again later",
                        format_utc(t1)
                    ));
                    continue;
                }
                let Ok((cb, _)) = &bindings[b].result else {
                    continue;
                };
                let mut least = (e.balance.0, String::new());
                for (b, edge, t) in [(b0, "start", t0), (b1, "end", t1)] {
                    let (v, place) = match b {
                        BlockAt::At(h) => match node.balance_at(e, cb.decimals, h)? {
                            Ok(v) => (v, format!("block {h}")),
                            Err(why) => {
                                entries[k].on_chain = OnChain::Failed(format!(
                                    "at the snapshot span's {edge} (block {h}): {why}"
                                ));
                                break;
                            }
                        },
                        _ => (0, "no block yet".to_string()),
                    };
                    if v < least.0 {
                        least = (
                            v,
                            format!(
                                "{v} base units at {place} of {chain}, its last block at the span's {edge} {}",
                                format_utc(t)
                            ),
                        );
                    }
                }
                if !entries[k].counts() || least.0 >= e.balance.0 {
                    continue;
                }
                let v = crate::binding::convert(Amount(least.0), cb.decimals, asset.decimals)
                    .unwrap_or(Amount::ZERO);
                entries[k].span_least = Some((v, least.1));
            }
        }
        out.push(span);
    }
    Ok(out)
}

/// The entries of each asset, by index: one pass over the entries, not one per asset.
fn entries_by_asset(n: usize, checks: &[crate::reserves::offline::EntryCheck]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for (k, c) in checks.iter().enumerate() {
        if let Some(a) = c.asset {
            out[a].push(k);
        }
    }
    out
}

/// Classifies every counted entry and checks the user's custody thresholds.
fn custody_report(
    att: &Attestation,
    stmt: &ReservesStatement,
    checks: &[crate::reserves::offline::EntryCheck],
    lines: &[EntryLine],
    opts: &Options,
) -> (Vec<AssetCustody>, Vec<String>) {
    let digest = att.digest();
    let by_asset = entries_by_asset(att.assets.len(), checks);
    let mut out = Vec::new();
    let mut failures = Vec::new();
    // A Safe owner who did not sign is known only by address; the same address's key,
    // recovered anywhere in the statement, gives it its key name, so one key is one name.
    // Only a Safe's non-signing owners need it, and the lookup recovers signatures again: a
    // statement of plain accounts (152,919 in the bench) skips it.
    let wanted: std::collections::HashSet<String> = lines
        .iter()
        .filter_map(|l| l.safe.as_ref())
        .flat_map(|f| f.owners.iter().map(|o| format!("account {o}")))
        .collect();
    let mut evm_keys: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for ((raw, check), line) in stmt.entries.iter().zip(checks).zip(lines) {
        let Some(e) = &check.entry else { continue };
        if wanted.is_empty() || check.result.is_err() {
            continue;
        }
        if let crate::reserves::holding::Holding::Evm(h) = &e.holding {
            if let Some(f) = &line.safe {
                for s in &f.signers {
                    evm_keys.insert(
                        format!("account {}", s.owner),
                        crate::custody::key_name(&s.key),
                    );
                }
            } else if h.safe.is_none() && wanted.contains(&format!("account {}", h.address)) {
                let msg = crate::reserves::challenge(
                    &att.exchange,
                    &att.period,
                    &e.chain,
                    e.height,
                    &digest,
                );
                let (_, ids) = classify(e, &msg, &raw.signatures, None);
                if let Some(id) = ids.first().filter(|id| id.starts_with("key ")) {
                    evm_keys.insert(format!("account {}", h.address), id.clone());
                }
            }
        }
    }
    for (i, asset) in att.assets.iter().enumerate() {
        let mut c = AssetCustody {
            asset: asset.clone(),
            counted: Amount::ZERO,
            by_control: Vec::new(),
            cold: Amount::ZERO,
            hot: Amount::ZERO,
            custodians: Vec::new(),
            keys: 0,
            shared_keys: Vec::new(),
            dominant_keys: Vec::new(),
        };
        // Per key: the addresses it signs for, and what it holds alone (at which address).
        // Every lookup is a map's, never a scan of a list: an exchange chooses how many
        // custodians, keys and addresses it signs, and a scan per entry made the report
        // quadratic (80,000 custodian names: 157 s).
        let mut keys: BTreeMap<String, (Vec<String>, Amount, String)> = BTreeMap::new();
        let mut key_addresses: std::collections::HashSet<(String, String)> =
            std::collections::HashSet::new();
        let mut custodian_at: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for &k in &by_asset[i] {
            let (raw, check, line) = (&stmt.entries[k], &checks[k], &lines[k]);
            let (Some(e), Some(v)) = (&check.entry, line.counted()) else {
                continue;
            };
            // TRON and Solana holdings are never counted, so no custody share or threshold
            // counts them either: unverifiable claims cannot dilute or pad the table.
            if !line.counts() || !e.chain.has_snapshot_node() {
                continue;
            }
            c.counted = sum(c.counted, v);
            let msg =
                crate::reserves::challenge(&att.exchange, &att.period, &e.chain, e.height, &digest);
            let (control, ids) = classify(e, &msg, &raw.signatures, line.safe.as_ref());
            let ids: Vec<String> = ids
                .into_iter()
                .map(|id| evm_keys.get(&id).cloned().unwrap_or(id))
                .collect();
            for id in &ids {
                let k = keys
                    .entry(id.clone())
                    .or_insert_with(|| (Vec::new(), Amount::ZERO, String::new()));
                if key_addresses.insert((id.clone(), raw.address.clone())) {
                    k.0.push(raw.address.clone());
                }
                if control == Control::SingleKey {
                    k.1 = sum(k.1, v);
                    k.2 = raw.address.clone();
                }
            }
            match c.by_control.iter_mut().find(|(k, _)| *k == control) {
                Some((_, total)) => *total = sum(*total, v),
                None => c.by_control.push((control, v)),
            }
            match e.storage {
                Some(Storage::Cold) => c.cold = sum(c.cold, v),
                Some(Storage::Hot) => c.hot = sum(c.hot, v),
                None => {}
            }
            if let Some(name) = &e.custodian {
                match custodian_at.get(name) {
                    Some(&at) => c.custodians[at].1 = sum(c.custodians[at].1, v),
                    None => {
                        custodian_at.insert(name.clone(), c.custodians.len());
                        c.custodians.push((name.clone(), v));
                    }
                }
            }
        }
        c.by_control.sort();
        c.keys = keys.len();
        for (id, (addresses, alone, alone_at)) in keys {
            if addresses.len() > 1 {
                c.shared_keys.push((id.clone(), addresses.clone()));
            }
            if c.counted.0 > 0 && alone.0 > 0 && alone.0 >= c.counted.0 - c.counted.0 / 2 {
                c.dominant_keys.push((id, alone, alone_at));
            }
        }
        if c.counted.0 > 0 {
            if let Some(t) = &opts.min_multisig_share {
                if !t.met(c.multisig(), c.counted) {
                    failures.push(format!(
                        "{}: {} of the counted reserves are under a multisig, below --min-multisig-share {} ({})",
                        asset.symbol,
                        percent(c.multisig(), c.counted),
                        t.text(),
                        t.percent()
                    ));
                }
            }
            if let Some(t) = &opts.min_declared_cold_share {
                if !t.met(c.cold, c.counted) {
                    failures.push(format!(
                        "{}: {} of the counted reserves are declared cold, below --min-declared-cold-share {} ({})",
                        asset.symbol,
                        percent(c.cold, c.counted),
                        t.text(),
                        t.percent()
                    ));
                }
            }
        }
        out.push(c);
    }
    (out, failures)
}

impl AssetLine {
    /// The words in the table's last column.
    pub fn words(&self) -> String {
        let base = match &self.state {
            AssetState::NoDebt => "nothing owed".to_string(),
            AssetState::Covered => "COVERED, verified on chain".into(),
            AssetState::CoveredAsClaimed => "CLAIMED, NOT CHECKED ON CHAIN (--offline)".into(),
            AssetState::Unverified(why) => format!("UNVERIFIED: {why}"),
            AssetState::OffChain => "NOT CHECKED by this tool: held off chain (fiat)".into(),
            AssetState::Short => "SHORT".into(),
        };
        if self.labels.is_empty() {
            base
        } else {
            format!("{base} [{}]", self.labels.join(", "))
        }
    }

    /// Counted reserves over liabilities in percent (`None` when nothing is owed).
    pub fn coverage_percent(&self) -> Option<f64> {
        let counted = if self.state == AssetState::Covered {
            self.verified
        } else {
            self.claimed
        };
        (self.liabilities.0 > 0).then(|| counted.0 as f64 * 100.0 / self.liabilities.0 as f64)
    }
}

impl Verdict {
    /// The failed checks, one finding each, for the report. The code follows from where the
    /// failure sits: the statement itself, custody, a binding, an entry offline (its proof of
    /// control) or on chain (its balance or snapshot).
    pub fn failures(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .problems
            .iter()
            .map(|p| Finding::new(Code::StatementInvalid, p.clone()))
            .collect();
        out.extend(
            self.custody_failures
                .iter()
                .map(|p| Finding::new(Code::CustodyShort, p.clone())),
        );
        for b in &self.bindings {
            if let Err(why) = &b.result {
                out.push(por_core::finding!(
                    Code::BindingUnconfirmed,
                    "binding {}: {why}",
                    b.label
                ));
            }
        }
        for e in &self.entries {
            match (&e.offline, &e.on_chain) {
                (Err(why), _) => out.push(por_core::finding!(
                    Code::ControlInvalid,
                    "{}: {why}",
                    e.label
                )),
                (Ok(_), OnChain::Failed(why)) if e.control_failed => out.push(por_core::finding!(
                    Code::ControlInvalid,
                    "{}: on chain: {why}",
                    e.label
                )),
                (Ok(_), OnChain::Failed(why)) => out.push(por_core::finding!(
                    Code::BalanceMismatch,
                    "{}: on chain: {why}",
                    e.label
                )),
                _ => {}
            }
        }
        out
    }

    /// Every finding of the verdict: the failed checks, then each asset SHORT, then each asset
    /// not fully checked (exit 3).
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = self.failures();
        for a in &self.assets {
            let (sym, d) = (&a.asset.symbol, a.asset.decimals);
            match &a.state {
                AssetState::Short => out.push(por_core::finding!(
                    Code::BalanceShort,
                    "{sym}: reserves counted {} against liabilities of {}",
                    if self.offline { a.claimed } else { a.verified }.to_decimal(d),
                    a.liabilities.to_decimal(d)
                )),
                AssetState::Unverified(why) => {
                    out.push(por_core::finding!(Code::ReservesNotChecked, "{sym}: {why}"))
                }
                AssetState::OffChain => out.push(por_core::finding!(
                    Code::ReservesNotChecked,
                    "{sym}: held off chain, no chain can prove it"
                )),
                _ => {}
            }
        }
        out
    }

    /// The checks that passed, one line each.
    pub fn passes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for b in &self.bindings {
            if let Ok((_, t)) = &b.result {
                out.push(format!("binding {}: confirmed by {}", b.label, t.words()));
            }
        }
        for e in &self.entries {
            if let Ok(what) = &e.offline {
                out.push(format!(
                    "{}: {what} over this period's challenge (offline)",
                    e.label
                ));
            }
            if let OnChain::Verified(what) = &e.on_chain {
                out.push(format!("{}: on chain: {what}", e.label));
            }
            if let (Some(first), false) = (e.second_face_of, e.failed()) {
                out.push(format!(
                    "{}: the same account as entry #{first} (one address on one chain, another face of the same \
                     asset): checked, NOT ADDED, so one balance counts once",
                    e.label
                ));
            }
        }
        for c in &self.chains {
            if let Some(Ok(w)) = &c.fresh {
                let settled = c.snapshot.as_ref().map(|s| match &s.settled {
                    Ok(w) => format!("; {w}"),
                    Err(_) => "; NOT YET SETTLED".into(),
                });
                out.push(format!(
                    "snapshot on {}: {w}{}",
                    c.chain,
                    settled.unwrap_or_default()
                ));
            }
        }
        out
    }

    /// The snapshot span of each asset held on two or more chains, and the holdings it cut.
    pub fn span_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sp in &self.spans {
            let blocks: Vec<String> = sp
                .chains
                .iter()
                .map(|c| {
                    format!(
                        "{} blocks {}..{} (snapshot {})",
                        c.chain,
                        c.from_block.map_or("-".into(), |x| x.to_string()),
                        c.to_block.map_or("-".into(), |x| x.to_string()),
                        c.height
                    )
                })
                .collect();
            out.push(format!(
                "{}: {} to {} ({}): every holding counted at its least balance over the span: {}",
                sp.asset.symbol,
                format_utc(sp.from),
                format_utc(sp.to),
                human_duration(sp.to - sp.from),
                blocks.join(", ")
            ));
        }
        for e in &self.entries {
            if let (Some((v, why)), Some(claim)) = (&e.span_least, e.amount) {
                out.push(format!(
                    "  {}: counted {v} of the {claim} claimed (asset base units): {why}",
                    e.label
                ));
            }
        }
        out
    }

    /// The solvency table.
    pub fn table(&self) -> Vec<String> {
        let mut t = vec![format!(
            "{:<8} {:>30} {:>30} {:>9}  {}",
            "asset", "liabilities", "reserves", "ratio", "status"
        )];
        for a in &self.assets {
            let d = a.asset.decimals;
            let counted = if a.state == AssetState::Covered {
                a.verified
            } else {
                a.claimed
            };
            t.push(format!(
                "{:<8} {:>30} {:>30} {:>9}  {}",
                a.asset.symbol,
                a.liabilities.to_decimal(d),
                counted.to_decimal(d),
                a.coverage_percent()
                    .map_or("-".into(), |p| format!("{p:.2}%")),
                a.words()
            ));
        }
        t
    }

    /// The custody report: control the chain shows, then what the exchange declares.
    pub fn custody_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.custody.iter().filter(|c| c.counted.0 > 0) {
            let d = c.asset.decimals;
            let amt = |a: Amount| format!("{} ({})", a.to_decimal(d), percent(a, c.counted));
            out.push(format!(
                "{}: {} counted",
                c.asset.symbol,
                c.counted.to_decimal(d)
            ));
            let ms: Vec<String> = c
                .by_control
                .iter()
                .filter(|(k, _)| matches!(k, Control::Multisig { .. }))
                .map(|(k, v)| {
                    format!(
                        "{} {}",
                        k.words().trim_end_matches(" multisig"),
                        v.to_decimal(d)
                    )
                })
                .collect();
            out.push(format!(
                "  multisig:   {}{}",
                amt(c.multisig()),
                if ms.is_empty() {
                    String::new()
                } else {
                    format!(": {}", ms.join(", "))
                }
            ));
            for (k, v) in &c.by_control {
                match k {
                    Control::SingleKey => out.push(format!("  single key: {}", amt(*v))),
                    Control::Other(why) => out.push(format!("  other:      {}: {why}", amt(*v))),
                    Control::Multisig { .. } => {}
                }
            }
            let unlabelled = Amount(c.counted.0.saturating_sub(c.cold.0).saturating_sub(c.hot.0));
            out.push(format!(
                "  DECLARED by the exchange (not verified): cold {}, hot {}, no label {}",
                amt(c.cold),
                amt(c.hot),
                amt(unlabelled)
            ));
            if !c.custodians.is_empty() {
                let list: Vec<String> = c
                    .custodians
                    .iter()
                    .map(|(n, v)| format!("{n} {}", amt(*v)))
                    .collect();
                out.push(format!("  DECLARED custodians: {}", list.join(", ")));
            }
            out.push(format!("  keys: {} distinct behind these reserves", c.keys));
            for (id, addresses) in &c.shared_keys {
                out.push(format!(
                    "  {id} signs for {} addresses: {}",
                    addresses.len(),
                    addresses.join(", ")
                ));
            }
            for (id, v, address) in &c.dominant_keys {
                out.push(format!(
                    "  {id} (of {address}) alone controls {} of {}",
                    amt(*v),
                    c.asset.symbol
                ));
            }
        }
        out
    }

    /// What was checked and how, in words.
    pub fn how(&self) -> Vec<String> {
        let mut how = vec![
            "offline: the exchange's signatures, the asset bindings against your registry, and each reserve \
             address's signature over this period's challenge (exchange, period, chain, height, attestation digest)"
                .to_string(),
        ];
        if self.offline {
            how.push("against a chain: NOTHING (--offline): balances, snapshot times and settlement were not checked".into());
        }
        for c in &self.chains {
            match &c.node {
                Some(n) => how.push(format!(
                    "against a chain: {} at height {}, from the {n}",
                    c.chain, c.height
                )),
                None if !self.offline && !c.chain.has_snapshot_node() => how.push(format!(
                    "against a chain: {} NOT CHECKED: no check at a snapshot height exists for it yet",
                    c.chain
                )),
                None if !self.offline => how.push(format!(
                    "against a chain: {} NOT CHECKED: no node given (--node {}=URL)",
                    c.chain, c.chain
                )),
                None => {}
            }
        }
        how
    }

    /// The one-line summary: why it passed, failed, or could not be decided.
    pub fn summary(&self) -> String {
        match self.outcome {
            Outcome::Fail => {
                let f = self.failures();
                let short: Vec<&str> = self
                    .assets
                    .iter()
                    .filter(|a| a.state == AssetState::Short)
                    .map(|a| a.asset.symbol.as_str())
                    .collect();
                let mut parts = Vec::new();
                if !f.is_empty() {
                    parts.push(format!("{} check(s) failed (listed above)", f.len()));
                }
                if !short.is_empty() {
                    parts.push(format!(
                        "reserves do not cover liabilities for {}",
                        short.join(", ")
                    ));
                }
                parts.join("; ")
            }
            Outcome::Unverified => {
                // One line per reason, naming the assets it holds back.
                let mut why: Vec<(String, Vec<&str>)> = Vec::new();
                for a in &self.assets {
                    let reason = match &a.state {
                        AssetState::Unverified(w) => w.clone(),
                        AssetState::OffChain => "held off chain, no chain can prove it".into(),
                        _ => continue,
                    };
                    match why.iter_mut().find(|(r, _)| *r == reason) {
                        Some((_, assets)) => assets.push(&a.asset.symbol),
                        None => why.push((reason, vec![&a.asset.symbol])),
                    }
                }
                let parts: Vec<String> = why
                    .iter()
                    .map(|(r, assets)| format!("{} ({})", r, assets.join(", ")))
                    .collect();
                format!(
                    "not everything needed could be checked: {}",
                    parts.join("; ")
                )
            }
            Outcome::Pass if self.offline => {
                let off: Vec<&str> = self
                    .assets
                    .iter()
                    .filter(|a| a.state == AssetState::OffChain)
                    .map(|a| a.asset.symbol.as_str())
                    .collect();
                format!(
                    "SIGNATURES VALID: every reserve address signed this period's challenge{}; balances are CLAIMED, \
                     NOT CHECKED ON CHAIN (--offline): this says nothing of solvency",
                    if off.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} held off chain: not checked)", off.join(", "))
                    }
                )
            }
            Outcome::Pass => {
                let mut labels: Vec<&String> = self.assets.iter().flat_map(|a| &a.labels).collect();
                labels.sort();
                labels.dedup();
                if labels.is_empty() {
                    "SOLVENT: reserves verified on chain cover customer liabilities for every asset"
                        .into()
                } else {
                    format!(
                        "SOLVENT: reserves verified on chain cover customer liabilities for every asset, some of them \
                         counted only through your own registry: {}",
                        labels.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    )
                }
            }
        }
    }

    /// The machine-readable form.
    pub fn to_json(&self) -> Value {
        let on_chain = |o: &OnChain| match o {
            OnChain::Skipped => json!({"state": "skipped"}),
            OnChain::NotAsked => json!({"state": "not_checked", "reason": "--offline"}),
            OnChain::NoNode => json!({"state": "not_checked", "reason": "no node for this chain"}),
            OnChain::Unsettled(w) => json!({"state": "not_settled", "reason": w}),
            OnChain::Verified(w) => json!({"state": "verified", "check": w}),
            OnChain::Failed(w) => json!({"state": "failed", "reason": w}),
        };
        json!({
            "outcome": match self.outcome {
                Outcome::Pass if self.offline => "signatures_only",
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                Outcome::Unverified => "unverified",
            },
            "offline": self.offline,
            "problems": self.problems,
            "bindings": self.bindings.iter().map(|b| match &b.result {
                Ok((_, t)) => json!({"binding": b.label, "passed": true, "trust": t.words()}),
                Err(w) => json!({"binding": b.label, "passed": false, "reason": w}),
            }).collect::<Vec<_>>(),
            "reserve_entries": self.entries.iter().map(|e| json!({
                "entry": e.label,
                "offline": match &e.offline { Ok(w) => json!({"passed": true, "check": w}), Err(w) => json!({"passed": false, "reason": w}) },
                "on_chain": on_chain(&e.on_chain),
                "trust": e.trust.as_ref().map(Trust::words),
                "not_added_same_account_as": e.second_face_of,
                "counted_over_span": e.span_least.as_ref().map(|(v, why)| json!({"units": v.to_string(), "why": why})),
                "safe": e.safe.as_ref().map(|f| json!({
                    "version": f.version.number(),
                    "singleton": f.singleton,
                    "threshold": f.threshold,
                    "owners": f.owners.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
                    "signed_by": f.signers.iter().map(|o| o.owner.to_string()).collect::<Vec<_>>(),
                    "modules": f.modules.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
                    "more_modules": f.more_modules,
                    "guard": f.guard.map(|g| g.to_string()),
                })),
            })).collect::<Vec<_>>(),
            "snapshots": self.chains.iter().map(|c| json!({
                "chain": c.chain.to_string(), "height": c.height, "node": c.node,
                "block_time": c.snapshot.as_ref().map(|s| format_utc(s.block_time)),
                "settled": c.snapshot.as_ref().map(|s| s.settled.is_ok()),
                "fresh": c.fresh.as_ref().map(|f| f.is_ok()),
            })).collect::<Vec<_>>(),
            "snapshot_spans": self.spans.iter().map(|sp| json!({
                "symbol": sp.asset.symbol, "from": format_utc(sp.from), "to": format_utc(sp.to),
                "chains": sp.chains.iter().map(|c| json!({
                    "chain": c.chain.to_string(), "snapshot_height": c.height,
                    "from_block": c.from_block, "to_block": c.to_block,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "custody_failures": self.custody_failures,
            "custody": self.custody.iter().map(|c| {
                let d = c.asset.decimals;
                json!({
                    "symbol": c.asset.symbol, "counted": c.counted.to_decimal(d),
                    "multisig": c.multisig().to_decimal(d), "multisig_share": percent(c.multisig(), c.counted),
                    "by_control": c.by_control.iter().map(|(k, v)| json!({"control": k.words(), "amount": v.to_decimal(d),
                        "share": percent(*v, c.counted)})).collect::<Vec<_>>(),
                    "declared_cold": c.cold.to_decimal(d), "declared_cold_share": percent(c.cold, c.counted),
                    "declared_hot": c.hot.to_decimal(d), "declared_hot_share": percent(c.hot, c.counted),
                    "declared_custodians": c.custodians.iter().map(|(n, v)| json!({"custodian": n, "amount": v.to_decimal(d)})).collect::<Vec<_>>(),
                    "distinct_keys": c.keys,
                    "shared_keys": c.shared_keys.iter().map(|(k, a)| json!({"key": k, "addresses": a})).collect::<Vec<_>>(),
                    "dominant_keys": c.dominant_keys.iter().map(|(k, v, a)| json!({"key": k, "amount": v.to_decimal(d), "address": a})).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
            "solvency": self.assets.iter().map(|a| {
                let d = a.asset.decimals;
                json!({
                    "symbol": a.asset.symbol, "liabilities": a.liabilities.to_decimal(d),
                    "verified_on_chain": a.verified.to_decimal(d), "claimed": a.claimed.to_decimal(d),
                    // Only reserves checked on chain are a coverage; anything else is a claim.
                    (if a.state == AssetState::Covered { "coverage_percent" } else { "claimed_percent" }): a.coverage_percent(),
                    "status": match &a.state {
                        AssetState::NoDebt => "no_debt", AssetState::Covered => "covered",
                        AssetState::CoveredAsClaimed => "claimed_not_checked", AssetState::Unverified(_) => "unverified",
                        AssetState::OffChain => "off_chain", AssetState::Short => "short",
                    },
                    "labels": a.labels,
                })
            }).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::Binding;
    use crate::reserves::offline::tests::{attestation, btc, statement};
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(att: &mut Attestation, key: &SigningKey) -> ReservesStatement {
        att.public_key = key.verifying_key().to_bytes();
        att.signature = key.sign(&att.signing_message()).to_bytes();
        let mut s = statement(att, vec![]);
        s.public_key = key.verifying_key().to_bytes();
        s.signature = key.sign(&s.signing_message()).to_bytes();
        s
    }

    fn jpy() -> Binding {
        Binding {
            asset: "JPY".into(),
            chain: "off-chain".into(),
            token: None,
            decimals: 0,
        }
    }

    #[test]
    fn outcomes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let offline = Options {
            offline: true,
            ..Options::default()
        };
        // No reserves for BTC: short, whatever else.
        let mut att = attestation(vec![btc("bitcoin"), jpy()]);
        let s = signed(&mut att, &key);
        let v = evaluate(&att, &s, &key.verifying_key(), &offline).unwrap();
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.assets[0].state, AssetState::Short);
        assert_eq!(v.assets[1].state, AssetState::OffChain);
        // Nothing owed in BTC: only the fiat line is left; offline that passes, with the words.
        let mut att = attestation(vec![btc("bitcoin"), jpy()]);
        att.liabilities[0] = Amount(0);
        let s = signed(&mut att, &key);
        let v = evaluate(&att, &s, &key.verifying_key(), &offline).unwrap();
        assert_eq!(v.outcome, Outcome::Pass);
        assert!(v.summary().contains("JPY held off chain"));
        assert!(!v.summary().contains("cover"));
        let v = evaluate(&att, &s, &key.verifying_key(), &Options::default()).unwrap();
        assert_eq!(v.outcome, Outcome::Unverified);
        assert_eq!(v.outcome.exit_code(), 3);
        // A snapshot time outside the period is a failure of the whole statement.
        let mut late = att.clone();
        late.snapshot_time = "2027-01-01T00:00:00Z".into();
        let s = signed(&mut late, &key);
        let v = evaluate(&late, &s, &key.verifying_key(), &offline).unwrap();
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.problems[0].contains("outside the period"));
        // Another key's statement counts for nothing.
        let other = SigningKey::from_bytes(&[8; 32]);
        let v = evaluate(&late, &s, &other.verifying_key(), &offline).unwrap();
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.entries.is_empty() && v.assets.is_empty());
    }
}
