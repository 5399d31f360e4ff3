//! `por-verify`: the customer's and the auditor's command line. It only turns flags into
//! checked values, calls the `por_verifier` library, and maps its outcome to an exit code.

use clap::{Parser, Subcommand};
use por_verifier::attestation::{parse_public_key, Attestation};
use por_verifier::audit::audit_with_budget;
use por_verifier::chains::Chain;
use por_verifier::custody::Threshold;
use por_verifier::customer;
use por_verifier::error::{read_file, Error, Result};
use por_verifier::history::{
    check_anchors, check_for_customer, check_history, check_statement, fingerprint, AnchorPolicy,
    ChainFollowed, Documents, History, Kind, Trust,
};
use por_verifier::identity::{check_genesis, identify, HOW_MANUAL};
use por_verifier::outcome::{joined, Code, Finding};
use por_verifier::outpoint::Outpoint;
use por_verifier::proof::{verify_proof, Proof};
use por_verifier::registry::Registry;
use por_verifier::report::{amount_json, amount_lines, Report};
use por_verifier::reserves::bitcoin::verify as verify_bitcoin;
use por_verifier::reserves::ethereum::verify as verify_ethereum;
use por_verifier::reserves::ReservesStatement;
use por_verifier::store::{now_secs, Store};
use por_verifier::verdict::{evaluate, Options, Outcome, Verdict, DEFAULT_WINDOW_SECS};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Proof of reserves, verifier side: check your inclusion proof, the exchange's reserves, or
/// audit the whole tree.
///
/// Exit codes (the same for every command):
///   0  everything the command was asked to check is verified;
///   1  evidence against the exchange: a check failed (the data is well-formed but wrong);
///   2  bad input or usage: a file that cannot be read or decoded, a node that cannot answer;
///   3  UNVERIFIED: nothing failed, but not everything needed could be checked (no node for a
///      chain the reserves use, a snapshot block not yet settled, assets held off chain).
#[derive(Parser)]
#[command(name = "por-verify", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Your local store of verified attestations and pinned keys.
#[derive(clap::Args)]
struct StoreArgs {
    /// The store directory (default: $POR_VERIFY_STORE, else your platform's data directory).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Do not read or write the store (no key pinning, no equivocation memory).
    #[arg(long, conflicts_with = "store")]
    no_store: bool,
    /// Where equivocation evidence is written (default: STORE/evidence).
    #[arg(long, value_name = "DIR")]
    evidence_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn open(&self) -> Result<Option<Store>> {
        if self.no_store {
            return Ok(None);
        }
        let dir = match &self.store {
            Some(d) => d.clone(),
            None => Store::default_dir().ok_or_else(|| {
                Error::input("no data directory on this system: give --store DIR or --no-store")
            })?,
        };
        Store::open(&dir).map(Some)
    }

    fn evidence(&self, store: &Store) -> PathBuf {
        self.evidence_dir
            .clone()
            .unwrap_or_else(|| store.dir().join("evidence"))
    }
}

/// Who the exchange is to you: its key and its history's genesis, and how anchors are judged.
#[derive(clap::Args)]
struct IdentityArgs {
    /// The exchange's public key (64 hex characters), from a source you trust. Needed the
    /// first time; then it is pinned in your store (trust on first use).
    #[arg(long, value_name = "HEX")]
    exchange_key: Option<String>,
    /// The exchange's genesis: the Bitcoin outpoint TXID:VOUT its history's first anchor
    /// spends, as the exchange publishes it beside its key. Without it, the genesis is pinned on
    /// first use and printed for you to compare.
    #[arg(long, value_name = "TXID:VOUT")]
    genesis: Option<String>,
    /// How long after a month's snapshot time its first anchor may be mined (your setting, not
    /// the exchange's), in days.
    #[arg(long, value_name = "DAYS", default_value_t = por_verifier::history::ANCHOR_WINDOW_DAYS)]
    anchor_window_days: u32,
}

impl IdentityArgs {
    fn key(&self) -> Result<Option<[u8; 32]>> {
        self.exchange_key
            .as_deref()
            .map(|k| parse_public_key(k).map(|k| k.to_bytes()))
            .transpose()
    }

    fn genesis(&self) -> Result<Option<Outpoint>> {
        self.genesis
            .as_deref()
            .map(|g| Outpoint::parse(g).map_err(|m| Error::input(format!("--genesis {m}"))))
            .transpose()
    }

    fn policy(&self) -> AnchorPolicy {
        AnchorPolicy {
            window_secs: i64::from(self.anchor_window_days) * 86_400,
            ..AnchorPolicy::default()
        }
    }
}

/// How to check reserves: your nodes, your registry, how strict.
#[derive(clap::Args)]
struct ReservesArgs {
    /// Your node for one chain, CHAIN=URL (repeat per chain): e.g. bitcoin=http://user:pass@127.0.0.1:8332,
    /// ethereum=https://..., bitcoin-regtest=..., ethereum-56=... Bitcoin Core needs
    /// -txindex=1 -txospenderindex=1; an EVM node must answer state queries at the snapshot block.
    #[arg(long = "node", value_name = "CHAIN=URL")]
    nodes: Vec<String>,
    /// Shorthand for --node bitcoin=URL (Bitcoin mainnet).
    #[arg(long, value_name = "URL")]
    bitcoin_rpc: Option<String>,
    /// Shorthand for --node ethereum=URL (Ethereum mainnet).
    #[arg(long, value_name = "URL")]
    ethereum_rpc: Option<String>,
    /// Your own registry file (por-registry-v1): test networks, other chains, fiat (repeatable).
    #[arg(long, value_name = "FILE")]
    registry: Vec<PathBuf>,
    /// A token list in the Uniswap token-list format (repeatable).
    #[arg(long, value_name = "FILE")]
    token_list: Vec<PathBuf>,
    /// Check signatures only, without nodes; the verdict then says balances were not checked.
    #[arg(long, conflicts_with_all = ["nodes", "bitcoin_rpc", "ethereum_rpc"])]
    offline: bool,
    /// How far a snapshot block's time may lie from the signed snapshot time, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = (DEFAULT_WINDOW_SECS / 3600) as u32)]
    snapshot_window_hours: u32,
    /// Fail (exit 1) unless at least this share of each asset's counted reserves is held under
    /// a multisig the chain shows, e.g. 0.9.
    #[arg(long, value_name = "SHARE")]
    min_multisig_share: Option<String>,
    /// Fail (exit 1) unless at least this share of each asset's counted reserves is declared
    /// cold by the exchange, e.g. 0.95 (a declared label, not verified).
    #[arg(long, value_name = "SHARE")]
    min_declared_cold_share: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check that your balances are in the tree the exchange signed (and, with --reserves and
    /// your nodes, that reserves cover liabilities).
    Proof {
        /// The exchange's published attestation.json. Repeat, each with its --proof, to see
        /// your balances month by month.
        #[arg(long, required = true)]
        attestation: Vec<PathBuf>,
        /// Your inclusion proof (JSON), as the exchange gave it to you; one per --attestation.
        #[arg(long, required = true)]
        proof: Vec<PathBuf>,
        #[command(flatten)]
        identity: IdentityArgs,
        /// Your user id at the exchange, exactly as the exchange writes it.
        #[arg(long)]
        user_id: String,
        /// The exchange's reserves statement for this attestation (reserves.json).
        #[arg(long)]
        reserves: Option<PathBuf>,
        /// The exchange's published history.json: checks that it lists this attestation and
        /// every one you verified before, and the reserves statement is the latest it lists; with
        /// your Bitcoin node (--node bitcoin=URL), that the month is anchored on chain in time.
        #[arg(long)]
        history: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        how: ReservesArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the exchange's published history: every month signed, linked to the one before,
    /// the log roots consistent, nothing removed or rewritten, and (with a Bitcoin node) the
    /// same history anchored on chain.
    History {
        /// The published history.json.
        #[arg(long)]
        history: PathBuf,
        #[command(flatten)]
        identity: IdentityArgs,
        /// Where the signed attestations and reserves statements are (default: beside the history).
        #[arg(long)]
        attestations: Option<PathBuf>,
        /// Accept skipped months (each is still named).
        #[arg(long)]
        allow_gaps: bool,
        /// Histories obtained elsewhere (mirrors, other customers): the first divergence is named.
        #[arg(long, value_name = "OTHER_HISTORY")]
        compare: Vec<PathBuf>,
        /// Your Bitcoin node, CHAIN=URL (bitcoin=..., bitcoin-regtest=...), to follow the anchors.
        #[arg(long = "node", value_name = "CHAIN=URL")]
        nodes: Vec<String>,
        /// Shorthand for --node bitcoin=URL.
        #[arg(long, value_name = "URL")]
        bitcoin_rpc: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-pin an exchange's key by hand, when its old key is lost or stolen and no rotation
    /// signed by it exists. Shows both keys; changes nothing without --confirm.
    Pin {
        /// The exchange's name, as in its attestations.
        #[arg(long)]
        exchange: String,
        /// The new key (64 hex), from a source you trust.
        #[arg(long)]
        key: String,
        /// Really replace the pinned key.
        #[arg(long)]
        confirm: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check the exchange's reserves: signatures, bindings, and with your nodes the balances
    /// and the snapshot's time; then whether reserves cover liabilities asset by asset.
    Reserves {
        /// The published attestation.json.
        #[arg(long)]
        attestation: PathBuf,
        /// The published reserves statement (reserves.json).
        #[arg(long)]
        reserves: PathBuf,
        #[command(flatten)]
        identity: IdentityArgs,
        /// The exchange's published history.json: the statement must be the latest it lists for
        /// the month (and, with your Bitcoin node, committed by an anchor).
        #[arg(long)]
        history: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        how: ReservesArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check one signature on its own (BIP-322, BIP-137, multisig, EIP-191).
    Signature {
        /// bitcoin, bitcoin-testnet, bitcoin-testnet4, bitcoin-signet, bitcoin-regtest, ethereum,
        /// or ethereum-<chain id>.
        #[arg(long)]
        chain: String,
        /// The address that should have signed.
        #[arg(long)]
        address: String,
        /// The message that was signed.
        #[arg(
            long,
            conflicts_with = "message_file",
            required_unless_present = "message_file"
        )]
        message: Option<String>,
        /// Read the message from a file (exact bytes, e.g. a multi-line challenge).
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// The signature; repeat for each cosigner of a multisig.
        #[arg(long, required = true)]
        signature: Vec<String>,
        /// For a multisig address: its redeem or witness script, in hex.
        #[arg(long)]
        script: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a proof file another exchange published (OKX, Bybit, MEXC, Bitget, BitMEX,
    /// Gate.io, Binance, and OKX's reserve files) by that exchange's own rules, compare its
    /// root with the one published for everyone, and say what the format cannot show.
    Published {
        #[command(flatten)]
        flags: por_verifier::published::Flags,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute the whole tree from the exchange's private data and compare with the books.
    Audit {
        /// The published attestation.json.
        #[arg(long)]
        attestation: PathBuf,
        /// The directory written by `por-prove build` (its private/ part is read).
        #[arg(long)]
        data: PathBuf,
        /// The exchange's public key (64 hex characters).
        #[arg(long)]
        exchange_key: String,
        /// The ledger to check the tree against (default: DATA/private/liabilities.csv).
        #[arg(long)]
        liabilities: Option<PathBuf>,
        /// Memory for one slice of the tree and one bucket of the ledger join (bytes, or with
        /// K, M or G): larger inputs are cut into more, spilled to --spill-dir.
        #[arg(long, default_value = "1G", value_parser = por_verifier::text::parse_size)]
        memory_budget: u64,
        /// Where the join spills its buckets (a private directory is made and removed there;
        /// default: the system's temporary directory).
        #[arg(long)]
        spill_dir: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a completion script for your shell to standard output, e.g.
    /// `source <(por-verify completions bash)` or `por-verify completions zsh > ~/.zfunc/_por-verify`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: por_verifier::cli_docs::Shell,
    },
    /// Write one man page per command (por-verify.1, por-verify-SUB.1, …) into an existing directory.
    Manpages {
        /// The directory, e.g. /usr/local/share/man/man1.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut rep = Report::default();
    let (outcome, json) = match cli.cmd {
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            por_verifier::cli_docs::completions(Cli::command(), shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Cmd::Manpages { out } => {
            use clap::CommandFactory;
            return match por_verifier::cli_docs::manpages(Cli::command(), &out) {
                Ok(pages) => {
                    for p in pages {
                        println!("{}", p.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    por_verifier::report::say_err(&format!("por-verify: error: {e}"));
                    ExitCode::from(e.exit_code() as u8)
                }
            };
        }
        Cmd::Proof {
            attestation,
            proof,
            identity,
            user_id,
            reserves,
            history,
            store,
            how,
            json,
        } => (
            cmd_proof(
                &mut rep,
                &ProofArgs {
                    attestations: &attestation,
                    proofs: &proof,
                    identity: &identity,
                    user_id: &user_id,
                    reserves: reserves.as_deref(),
                    history: history.as_deref(),
                    store: &store,
                },
                &how,
            ),
            json,
        ),
        Cmd::History {
            history,
            identity,
            attestations,
            allow_gaps,
            compare,
            nodes,
            bitcoin_rpc,
            store,
            json,
        } => (
            cmd_history(
                &mut rep,
                &history,
                &identity,
                attestations.as_deref(),
                allow_gaps,
                &compare,
                &nodes,
                bitcoin_rpc.as_deref(),
                &store,
            ),
            json,
        ),
        Cmd::Pin {
            exchange,
            key,
            confirm,
            store,
        } => (cmd_pin(&mut rep, &exchange, &key, confirm, &store), false),
        Cmd::Reserves {
            attestation,
            reserves,
            identity,
            history,
            store,
            how,
            json,
        } => (
            cmd_reserves(
                &mut rep,
                &attestation,
                &reserves,
                &identity,
                history.as_deref(),
                &store,
                &how,
            ),
            json,
        ),
        Cmd::Signature {
            chain,
            address,
            message,
            message_file,
            signature,
            script,
            json,
        } => (
            cmd_signature(
                &mut rep,
                &chain,
                &address,
                message,
                message_file,
                &signature,
                script,
            ),
            json,
        ),
        Cmd::Published { flags, json } => (
            por_verifier::published::Request::new(flags)
                .and_then(|req| por_verifier::published::run(&mut rep, &req)),
            json,
        ),
        Cmd::Audit {
            attestation,
            data,
            exchange_key,
            liabilities,
            memory_budget,
            spill_dir,
            json,
        } => (
            cmd_audit(
                &mut rep,
                &attestation,
                &data,
                &exchange_key,
                liabilities.as_deref(),
                (memory_budget, spill_dir.unwrap_or_else(std::env::temp_dir)),
            ),
            json,
        ),
    };
    ExitCode::from(rep.finish(outcome, json) as u8)
}

/// Turns the reserves flags into checked values: one URL per chain, the user's registry.
fn options(how: &ReservesArgs) -> Result<Options> {
    let mut nodes = BTreeMap::new();
    let mut add = |chain: Chain, url: &str, flag: &str| -> Result<()> {
        if !chain.has_snapshot_node() {
            return Err(por_verifier::chain::no_snapshot_node(chain, flag));
        }
        // Every URL is checked here, also for a chain the statement does not use: a mistyped
        // flag is the user's to fix, not a node silently never asked.
        por_verifier::chain::Rpc::new("node", url)
            .map_err(|e| e.context(format!("{flag} {chain}")))?;
        if nodes.insert(chain, url.to_string()).is_some() {
            return Err(Error::input(format!(
                "{flag}: a second node for {chain}; give one per chain"
            )));
        }
        Ok(())
    };
    for n in &how.nodes {
        let (chain, url) = n.split_once('=').ok_or_else(|| {
            Error::input(format!(
                "--node {:?}: expected CHAIN=URL",
                por_verifier::reserves::redact_url(n)
            ))
        })?;
        let chain = Chain::parse(chain).map_err(|m| Error::input(format!("--node: {m}")))?;
        add(chain, url, "--node")?;
    }
    if let Some(u) = &how.bitcoin_rpc {
        add(
            Chain::parse("bitcoin").map_err(Error::input)?,
            u,
            "--bitcoin-rpc",
        )?;
    }
    if let Some(u) = &how.ethereum_rpc {
        add(Chain::Evm(1), u, "--ethereum-rpc")?;
    }
    let (registry, _) = Registry::with_files(&how.registry, &how.token_list)?;
    let share = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| Threshold::parse(t).map_err(|m| Error::input(format!("{flag} {m}"))))
            .transpose()
    };
    Ok(Options {
        registry,
        nodes,
        offline: how.offline,
        window_secs: i64::from(how.snapshot_window_hours) * 3600,
        min_multisig_share: share("--min-multisig-share", &how.min_multisig_share)?,
        min_declared_cold_share: share("--min-declared-cold-share", &how.min_declared_cold_share)?,
    })
}

/// The code of the first finding of exit status `exit` (1 or 3), else the generic one: the
/// code a run's verdict carries.
fn first_code(rep: &Report, exit: i32) -> Code {
    rep.findings
        .iter()
        .map(|f| f.code)
        .find(|c| c.exit_code() == exit)
        .unwrap_or(if exit == 3 {
            Code::NotChecked
        } else {
            Code::Failed
        })
}

/// Adds the reserves verdict to the report.
fn report_verdict(rep: &mut Report, v: &Verdict) {
    if v.offline {
        rep.pass_word = Some("signatures_only");
    }
    for p in v.passes() {
        rep.ok(Code::ReservesHold, p);
    }
    for f in v.findings() {
        rep.fail(f);
    }
    let spans = v.span_lines();
    if !spans.is_empty() {
        rep.section(
            "Snapshot span (an asset on several chains counts what stayed put while the chains' snapshots were taken):",
            spans,
        );
    }
    rep.section("Solvency per asset:", v.table());
    let custody = v.custody_lines();
    if !custody.is_empty() {
        rep.section(
            "Custody per asset (control as the chain shows it; labels as the exchange declares them):",
            custody,
        );
    }
    rep.section("What was checked:", v.how());
    rep.set("reserves", v.to_json());
}

/// The user's Bitcoin node for anchors: the first Bitcoin-family node of those given.
fn anchor_node<'a>(
    nodes: impl IntoIterator<Item = (&'a Chain, &'a String)>,
) -> Result<Option<por_verifier::chain::bitcoin::BitcoinNode>> {
    let Some((net, url)) = nodes.into_iter().find_map(|(c, u)| match c {
        Chain::Bitcoin(n) => Some((*n, u.clone())),
        Chain::Evm(_) | Chain::Tron | Chain::Solana | Chain::BitcoinFork(_) => None,
    }) else {
        return Ok(None);
    };
    por_verifier::chain::bitcoin::BitcoinNode::connect(
        &url,
        por_verifier::reserves::holding::network(net),
    )
    .map(Some)
}

/// Follows every anchor chain a history names (its genesis and each restart), in order.
fn follow_chains(
    node: &por_verifier::chain::bitcoin::BitcoinNode,
    h: &History,
) -> Result<Vec<ChainFollowed>> {
    h.starts()
        .into_iter()
        .map(|(_, start)| node.follow_anchors(start))
        .collect()
}

/// Ends a run: commits the store when nothing failed, and says whether the run was remembered.
fn settle_store(rep: &mut Report, store: Option<&mut Store>, failed: bool) {
    let Some(s) = store else { return };
    if failed {
        rep.section(
            "Your store:",
            vec![format!(
                "nothing of this run was remembered ({}): a run that fails changes no pinned key and records no month",
                s.dir().display()
            )],
        );
        return;
    }
    match s.commit() {
        Ok(()) => rep.ok(
            Code::Remembered,
            format!("remembered in your store ({})", s.dir().display()),
        ),
        Err(e) => rep.section(
            "Your store:",
            vec![format!(
                "NOT REMEMBERED: {}; later runs will not know this run's months or keys",
                e.message()
            )],
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_reserves(
    rep: &mut Report,
    att_path: &Path,
    res_path: &Path,
    identity: &IdentityArgs,
    history: Option<&Path>,
    store_args: &StoreArgs,
    how: &ReservesArgs,
) -> Result<String> {
    let given = identity.key()?;
    let given_genesis = identity.genesis()?;
    let opts = options(how)?;
    let mut store = store_args.open()?;
    let att = Attestation::read(att_path)?;
    let stmt = ReservesStatement::read(res_path)?;
    let history = history.map(History::read).transpose()?;
    rep.title = format!(
        "Reserves of {} for {} (statement #{})",
        att.exchange, att.period, stmt.sequence
    );
    rep.fail_word = Some("NOT PROVEN");
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    rep.set("statement", json!(stmt.sequence));
    let id = identify(
        &att,
        given,
        given_genesis,
        store.as_ref().map(Store::memory),
        history.as_ref(),
        now_secs(),
    )?;
    rep.ok(
        Code::SignatureValid,
        format!(
            "attestation signature: valid ed25519 signature by {} ({})",
            hex::encode(att.public_key),
            id.choice.words
        ),
    );
    let key = id.key;
    let mut problems = id.failures.clone();
    let mut pending = Vec::new();
    if let Some(w) = &id.genesis {
        rep.ok(Code::HistoryHolds, w.clone());
    }
    let stmt_digest = por_verifier::Hash(por_verifier::encode::digest(&stmt.signing_message()));
    statement_in_history(
        rep,
        history.as_ref(),
        &att,
        &stmt,
        &stmt_digest,
        &opts,
        identity,
        &mut problems,
        &mut pending,
    )?;
    if let Some(s) = store.as_mut() {
        s.stage(&att, &id.choice);
    }
    // The identity's and the history's failures come first: they decide the run's code.
    for p in &problems {
        rep.fail(p.clone());
    }
    let v = evaluate(&att, &stmt, &key, &opts)?;
    report_verdict(rep, &v);
    let failed = !problems.is_empty() || v.outcome == Outcome::Fail;
    settle_store(rep, store.as_mut(), failed);
    if !problems.is_empty() {
        return Err(Error::coded(problems[0].code, joined(&problems)));
    }
    match v.outcome {
        Outcome::Pass if pending.is_empty() => Ok(v.summary()),
        Outcome::Fail => Err(Error::coded(first_code(rep, 1), v.summary())),
        _ => {
            rep.section("Not checked:", pending.clone());
            for p in &pending {
                rep.fail(Finding::new(Code::AnchorPending, p.clone()));
            }
            Err(Error::coded(
                first_code(rep, 3),
                [v.summary()]
                    .into_iter()
                    .chain(pending)
                    .collect::<Vec<_>>()
                    .join("; "),
            ))
        }
    }
}

/// The statement rule: with a history, the statement must be the latest it lists for the month
/// (and, with a Bitcoin node, committed by an anchor buried deep enough, else pending); without
/// one, the report names the statement checked and says a later one may exist.
#[allow(clippy::too_many_arguments)]
fn statement_in_history(
    rep: &mut Report,
    history: Option<&History>,
    att: &Attestation,
    stmt: &ReservesStatement,
    digest: &por_verifier::Hash,
    opts: &Options,
    identity: &IdentityArgs,
    problems: &mut Vec<Finding>,
    pending: &mut Vec<String>,
) -> Result<()> {
    let Some(h) = history else {
        rep.section(
            "Reserves statement:",
            vec![format!(
                "statement #{} was checked; the exchange may have published a later one for {} (a correction): give \
                 its history (--history history.json) to check that this is the latest",
                stmt.sequence, att.period
            )],
        );
        return Ok(());
    };
    match check_statement(h, &att.period, digest, stmt.sequence) {
        Err(f) => problems.push(f),
        Ok(j) => {
            rep.ok(
                Code::ReservesHold,
                format!(
                    "reserves statement #{}: the latest the history lists for {} (entry {j})",
                    stmt.sequence, att.period
                ),
            );
            match anchor_node(&opts.nodes)? {
                None => rep.section(
                    "Anchors:",
                    vec!["not checked: give your Bitcoin node (--node bitcoin=URL) to check that the statement is \
                          anchored on chain"
                        .into()],
                ),
                Some(node) => {
                    let chains = follow_chains(&node, h)?;
                    let a = check_anchors(h, &chains, &[(j, None)], &identity.policy());
                    problems.extend(a.failures);
                    pending.extend(a.pending);
                }
            }
        }
    }
    Ok(())
}

/// The inputs of `por-verify proof`.
struct ProofArgs<'a> {
    attestations: &'a [PathBuf],
    proofs: &'a [PathBuf],
    identity: &'a IdentityArgs,
    user_id: &'a str,
    reserves: Option<&'a Path>,
    history: Option<&'a Path>,
    store: &'a StoreArgs,
}

fn cmd_proof(rep: &mut Report, a: &ProofArgs, how: &ReservesArgs) -> Result<String> {
    if a.attestations.len() != a.proofs.len() {
        return Err(Error::input(format!(
            "give one --proof per --attestation ({} attestations, {} proofs)",
            a.attestations.len(),
            a.proofs.len()
        )));
    }
    if a.attestations.len() > 1 && (a.reserves.is_some() || a.history.is_some()) {
        return Err(Error::input(
            "--reserves and --history check one month: give them with a single --attestation",
        ));
    }
    let mut given_key = a.identity.key()?;
    let given_genesis = a.identity.genesis()?;
    let opts = options(how)?;
    let mut store = a.store.open()?;
    let user_id = a.user_id;
    let mut months = Vec::new();
    for (att_path, proof_path) in a.attestations.iter().zip(a.proofs) {
        let att = Attestation::read(att_path)?;
        let proof = Proof::read(proof_path)?;
        months.push((att, proof));
    }
    let stmt = a.reserves.map(ReservesStatement::read).transpose()?;
    let history = a.history.map(History::read).transpose()?;
    let (att0, _) = &months[months.len() - 1];
    rep.set("exchange", json!(att0.exchange));
    rep.set("period", json!(att0.period));
    rep.set("user_id", json!(user_id));
    rep.title = format!(
        "Checking the inclusion proof of user {user_id:?} against {}'s attestation for {}",
        att0.exchange,
        months
            .iter()
            .map(|(a, _)| a.period.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let now = now_secs();
    let mut problems: Vec<Finding> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut by_month = Vec::new();
    let mut last_key = None;
    let mut history_index = None;
    for (att, proof) in &months {
        let id = identify(
            att,
            given_key,
            given_genesis,
            store.as_ref().map(Store::memory),
            history.as_ref(),
            now,
        )?;
        let key = id.key;
        rep.ok(
            Code::SignatureValid,
            customer::signature_line(att, &id.choice.words),
        );
        rep.ok(Code::Fingerprint, customer::fingerprint_line(att));
        let inc = verify_proof(att, proof, user_id)?;
        rep.ok(Code::Included, customer::inclusion_line(att, &inc));
        if let Some(w) = &id.genesis {
            rep.ok(Code::HistoryHolds, w.clone());
        }
        problems.extend(id.failures.iter().cloned());
        if let Some(s) = store.as_mut() {
            let recalled = por_verifier::identity::recall(s.memory(), att);
            if let Some(earlier) = recalled.earlier {
                let evidence = match s.write_evidence(&earlier, att, &a.store.evidence(s)) {
                    Ok(paths) => format!(
                        "Evidence: {}",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(e) => format!(
                        "The evidence could not be written ({}); keep both files yourself",
                        e.message()
                    ),
                };
                problems.push(por_verifier::identity::equivocation(
                    att, &earlier, &evidence,
                ));
            }
            problems.extend(recalled.findings);
            if let Some(h) = &history {
                match check_for_customer(h, att, &recalled.seen) {
                    Ok(i) => {
                        history_index = Some(i);
                        rep.ok(
                            Code::HistoryHolds,
                            format!(
                                "history: lists this attestation where its signed log says, and every attestation \
                                 of {} you verified before ({})",
                                att.exchange,
                                recalled.seen.len()
                            ),
                        );
                    }
                    Err(bad) => problems.extend(bad),
                }
            }
            s.stage(att, &id.choice);
            s.record_seen(att);
        } else if let Some(h) = &history {
            match check_for_customer(h, att, &[]) {
                Ok(i) => history_index = Some(i),
                Err(bad) => problems.extend(bad),
            }
        }
        by_month.push((att.period.clone(), inc.balances.clone()));
        last_key = Some(key);
        // Months are checked in the order given: a handover in a later month is from this key.
        if store.is_none() {
            given_key = Some(id.choice.key);
        }
    }
    let (att, _) = &months[months.len() - 1];
    // The month's anchors, with the customer's own Bitcoin node: as `history` follows them.
    let mut required: Vec<(usize, Option<i64>)> = Vec::new();
    if let (Some(_), Some(i)) = (&history, history_index) {
        required.push((i, por_verifier::time::unix_seconds(&att.snapshot_time)));
    }
    if let (Some(stmt), true) = (&stmt, problems.is_empty()) {
        let d = por_verifier::Hash(por_verifier::encode::digest(&stmt.signing_message()));
        match &history {
            Some(h) => match check_statement(h, &att.period, &d, stmt.sequence) {
                Ok(j) => {
                    rep.ok(
                        Code::ReservesHold,
                        format!(
                            "reserves statement #{}: the latest the history lists for {} (entry {j})",
                            stmt.sequence, att.period
                        ),
                    );
                    required.push((j, None));
                }
                Err(f) => problems.push(f),
            },
            None => rep.section(
                "Reserves statement:",
                vec![format!(
                    "statement #{} was checked; the exchange may have published a later one for {}: give its history \
                     (--history history.json) to check that this is the latest",
                    stmt.sequence, att.period
                )],
            ),
        }
    }
    if let (Some(h), false) = (&history, required.is_empty()) {
        match anchor_node(&opts.nodes)? {
            None => rep.section(
                "Anchors:",
                vec!["not checked on chain: with your Bitcoin node (--node bitcoin=URL), this run also checks that the \
                      month is anchored in time, so that every customer is shown this one history"
                    .into()],
            ),
            Some(node) => {
                let chains = follow_chains(&node, h)?;
                let r = check_anchors(h, &chains, &required, &a.identity.policy());
                for p in r.passed {
                    rep.ok(Code::HistoryHolds, p);
                }
                problems.extend(r.failures);
                pending.extend(r.pending);
            }
        }
    }
    let balances = &by_month[by_month.len() - 1].1;
    if months.len() > 1 {
        let mut lines = vec![format!(
            "{:<8} {}",
            "period",
            att.assets
                .iter()
                .map(|x| format!("{:>24}", x.symbol))
                .collect::<String>()
        )];
        for ((period, b), (m, _)) in by_month.iter().zip(&months) {
            lines.push(format!(
                "{period:<8} {}",
                m.assets
                    .iter()
                    .zip(b)
                    .map(|(x, v)| format!("{:>24}", v.to_decimal(x.decimals)))
                    .collect::<String>()
            ));
        }
        rep.section("Your balances month by month, each verified:", lines);
    }
    rep.section(
        "Your balances in the tree (compare them with your account at the snapshot time):",
        amount_lines(&att.assets, balances),
    );
    rep.section(
        format!(
            "Total customer liabilities signed by {} (snapshot {}):",
            att.exchange, att.snapshot_time
        ),
        amount_lines(&att.assets, &att.liabilities),
    );
    rep.set("inclusion", json!("verified"));
    rep.set("fingerprint", json!(fingerprint(&att.digest())));
    rep.set("genesis", json!(att.history.genesis.map(|g| g.to_string())));
    rep.set("balances", amount_json(&att.assets, balances));
    rep.set(
        "months",
        json!(months
            .iter()
            .zip(&by_month)
            .map(|((m, _), (p, b))| json!({"period": p, "fingerprint": fingerprint(&m.digest()), "balances": amount_json(&m.assets, b)}))
            .collect::<Vec<_>>()),
    );
    rep.set("liabilities", amount_json(&att.assets, &att.liabilities));
    let included = "your balances are included in the liabilities the exchange signed";
    if !problems.is_empty() {
        for p in &problems {
            rep.fail(p.clone());
        }
        settle_store(rep, store.as_mut(), true);
        rep.fail_word = Some("PROBLEM");
        return Err(rep.error(&format!("{included}, BUT ")));
    }
    let Some(stmt) = stmt else {
        settle_store(rep, store.as_mut(), false);
        rep.section(
            "Reserves:",
            vec![
                "NOT CHECKED in this run. To check that reserves cover liabilities, get the exchange's \
                 reserves statement and run again with --reserves reserves.json and your own node for each chain \
                 (--node CHAIN=URL), or run `por-verify reserves`."
                    .into(),
            ],
        );
        rep.set("reserves", json!(null));
        if !pending.is_empty() {
            rep.section("Not checked yet:", pending.clone());
            for p in &pending {
                rep.fail(Finding::new(Code::AnchorPending, p.clone()));
            }
            return Err(Error::coded(
                Code::AnchorPending,
                format!("{included}, but {}", pending.join("; ")),
            ));
        }
        return Ok(customer::VERIFIED_NO_RESERVES.into());
    };
    let key = last_key.ok_or_else(|| Error::input("no attestation given"))?;
    // Without a node for a chain the reserves are UNVERIFIED (exit 3), as in `reserves`; only
    // --offline asks for signatures alone, and then nothing is called covered.
    let v = evaluate(att, &stmt, &key, &opts)?;
    report_verdict(rep, &v);
    settle_store(rep, store.as_mut(), v.outcome == Outcome::Fail);
    if !pending.is_empty() {
        rep.section("Not checked yet:", pending.clone());
        for p in &pending {
            rep.fail(Finding::new(Code::AnchorPending, p.clone()));
        }
    }
    match v.outcome {
        Outcome::Fail => {
            rep.fail_word = Some("PROBLEM");
            Err(Error::coded(
                first_code(rep, 1),
                format!("{included}, BUT the reserves fail: {}", v.summary()),
            ))
        }
        _ if !pending.is_empty() => Err(Error::coded(first_code(rep, 3), format!(
            "{included}, but not everything is settled: {}",
            pending.join("; ")
        ))),
        Outcome::Pass if v.offline => Ok(format!(
            "VERIFIED: {included}. Reserves: {}. To check balances on chain, run again with your node for \
             each chain (--node CHAIN=URL).",
            v.summary()
        )),
        Outcome::Pass => Ok(format!("VERIFIED: {included}, and {}.", v.summary())),
        Outcome::Unverified => Err(Error::coded(first_code(rep, 3), format!(
            "{included}, but the reserves are not fully checked: {}",
            v.summary()
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_history(
    rep: &mut Report,
    path: &Path,
    identity: &IdentityArgs,
    docs_dir: Option<&Path>,
    allow_gaps: bool,
    compare: &[PathBuf],
    nodes: &[String],
    bitcoin_rpc: Option<&str>,
    store_args: &StoreArgs,
) -> Result<String> {
    let h = History::read(path)?;
    let given = identity.key()?;
    let given_genesis = identity.genesis()?;
    let mut node_urls: Vec<(Chain, String)> = Vec::new();
    for n in nodes {
        let (c, u) = n
            .split_once('=')
            .ok_or_else(|| Error::input("--node: expected CHAIN=URL"))?;
        node_urls.push((Chain::parse(c).map_err(Error::input)?, u.to_string()));
    }
    if let Some(u) = bitcoin_rpc {
        node_urls.push((
            Chain::parse("bitcoin").map_err(Error::input)?,
            u.to_string(),
        ));
    }
    let others = compare
        .iter()
        .map(|o| History::read(o).map(|h| (o, h)))
        .collect::<Result<Vec<_>>>()?;
    let mut store = store_args.open()?;
    rep.title = format!("History of {} ({} entries)", h.exchange, h.entries.len());
    rep.fail_word = Some("HISTORY FAILED");
    rep.set("exchange", json!(h.exchange));
    let pinned = store.as_ref().and_then(|s| s.pinned(&h.exchange)).cloned();
    let trusted = match (given, &pinned) {
        (Some(k), _) => k,
        (None, Some(p)) => p.key,
        (None, None) => {
            return Err(Error::coded(
                Code::NoKey,
                format!(
                    "no key is pinned for {:?}: give --exchange-key HEX",
                    h.exchange
                ),
            ))
        }
    };
    let mut failures = Vec::new();
    if let Some(other) = store
        .as_ref()
        .and_then(|s| s.memory().other_name_of(&trusted, &h.exchange))
    {
        failures.push(por_core::finding!(
            Code::KeyOtherName,
            "the key you trust is pinned for the exchange {other:?}, but this history calls the exchange {:?}: one \
             key, one name",
            h.exchange
        ));
    }
    let mut trust = Trust {
        keys: vec![trusted],
        manual: Vec::new(),
    };
    if let Some(p) = &pinned {
        trust.keys.extend(p.keys.iter().copied());
        trust.manual = p.manual_keys.clone();
    }
    let dir = docs_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    let docs = Documents::load(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &dir
    });
    let r = check_history(&h, &trust, &docs, allow_gaps, now_secs());
    for p in &r.passed {
        rep.ok(Code::HistoryHolds, p.clone());
    }
    failures.extend(r.failures.clone());
    let mut unchecked: Vec<Finding> = r
        .unchecked
        .iter()
        .map(|u| Finding::new(Code::NotChecked, u.clone()))
        .collect();
    match check_genesis(
        h.genesis,
        given_genesis,
        pinned.as_ref().map(|p| p.genesis).unwrap_or_default(),
        store.is_some(),
    ) {
        Ok(w) => rep.ok(Code::HistoryHolds, w),
        Err(f) => failures.push(f),
    }
    // Handovers the store followed before must be the ones this history lists.
    if let Some(p) = &pinned {
        for ho in r.handovers.iter().filter(|x| x.signed) {
            if let Some(k) = p
                .rotations
                .iter()
                .find(|k| k.old_key == ho.old_key && k.new_key != ho.new_key)
            {
                failures.push(por_core::finding!(
                    Code::Equivocation,
                    "EQUIVOCATION: key {} handed the exchange to {} for {} (as you followed before), but this history \
                     hands it to {} for {}",
                    hex::encode(ho.old_key),
                    hex::encode(k.new_key),
                    k.period,
                    hex::encode(ho.new_key),
                    ho.period
                ));
            }
        }
    }
    let fps: Vec<String> = h
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Attestation)
        .map(|e| {
            format!(
                "{}  {}  signed by {}",
                e.period,
                fingerprint(&e.digest),
                hex::encode(e.public_key)
            )
        })
        .collect();
    rep.section(
        "Attestation fingerprints (compare with the exchange's and mirrors'):",
        fps,
    );
    rep.set("genesis", json!(h.genesis.map(|g| g.to_string())));
    for g in &r.gaps {
        rep.section("Skipped months:", vec![g.clone()]);
    }
    for (other, o) in &others {
        match h.first_divergence(o) {
            Some(i) => failures.push(por_core::finding!(
                Code::Equivocation,
                "{} diverges from this history at entry {i} ({} {}): {} signed by {} here, {} signed by {} there",
                other.display(),
                h.entries[i].period,
                format!("{:?}", h.entries[i].kind).to_lowercase(),
                h.entries[i].digest,
                hex::encode(h.entries[i].public_key),
                o.entries[i].digest,
                hex::encode(o.entries[i].public_key)
            )),
            None if o.genesis != h.genesis => failures.push(por_core::finding!(
                Code::Fork,
                "{} starts at another genesis ({}) than this history ({}): another history",
                other.display(),
                o.genesis.map_or("none".into(), |g| g.to_string()),
                h.genesis.map_or("none".into(), |g| g.to_string())
            )),
            None => rep.ok(Code::HistoryHolds, format!(
                "{}: the same history ({} entries there, {} here; the shorter is a prefix of the longer)",
                other.display(),
                o.entries.len(),
                h.entries.len()
            )),
        }
    }
    // Every attestation this customer verified before must be in the history they are shown:
    // a separate history (even one anchored on a chain of its own) leaves them out.
    if let Some(s) = store.as_ref() {
        for seen in s.seen(&h.exchange) {
            let listed = h
                .entries
                .iter()
                .any(|e| e.kind == Kind::Attestation && e.digest.0 == seen.digest);
            if !listed {
                failures.push(por_core::finding!(
                    Code::Equivocation,
                    "EQUIVOCATION: this history does not list the attestation for {} you verified before ({})",
                    seen.period,
                    por_verifier::Hash(seen.digest)
                ));
            }
        }
    }
    let required: Vec<(usize, Option<i64>)> = h
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Kind::Attestation)
        .map(|(i, _)| (i, r.snapshot_times.get(&i).copied()))
        .collect();
    match (h.genesis, anchor_node(node_urls.iter().map(|(c, u)| (c, u)))?) {
        (None, _) => unchecked.push(Finding::new(
            Code::NotChecked,
            "the history names no genesis (its attestations sign none): nothing on chain ties every customer to this \
             one history",
        )),
        (Some(g), None) => unchecked.push(por_core::finding!(
            Code::NotChecked,
            "the anchor chain from {g} was not checked: give your Bitcoin node (--bitcoin-rpc URL or --node CHAIN=URL)"
        )),
        (Some(_), Some(node)) => {
            let chains = follow_chains(&node, &h)?;
            let a = check_anchors(&h, &chains, &required, &identity.policy());
            for o in a.passed {
                rep.ok(Code::HistoryHolds, o);
            }
            rep.section(
                "Anchor chains followed (compare their starts with the exchange's page and mirrors):",
                chains
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        format!(
                            "{} {}: {} anchor(s)",
                            if i == 0 { "genesis" } else { "restart" },
                            c.start,
                            c.anchors.iter().filter(|x| x.commitment.is_some()).count()
                        )
                    })
                    .collect(),
            );
            failures.extend(a.failures);
            unchecked.extend(
                a.pending
                    .into_iter()
                    .map(|p| Finding::new(Code::AnchorPending, p)),
            );
            rep.set("anchors", json!(chains.iter().map(|c| c.anchors.len()).sum::<usize>()));
        }
    }
    // What a later run must agree with: the key, the genesis, every attestation verified.
    if let Some(s) = store.as_mut() {
        if let Some(last) = r.last_key {
            if pinned.is_none() {
                s.pin(&h.exchange, &trusted, por_verifier::identity::HOW_FIRST_USE);
            }
            for ho in &r.handovers {
                if ho.signed {
                    s.record_rotation(
                        &h.exchange,
                        por_verifier::store::RotationSeen {
                            old_key: ho.old_key,
                            new_key: ho.new_key,
                            period: ho.period.clone(),
                        },
                    );
                }
            }
            if last != trusted && r.handovers.iter().any(|x| x.new_key == last) {
                s.pin(&h.exchange, &last, por_verifier::identity::HOW_ROTATION);
            }
            s.memory_mut().pin_genesis(&h.exchange, h.genesis);
            for e in h.entries.iter().filter(|e| e.kind == Kind::Attestation) {
                if let Some(a) = docs.attestations.get(&e.digest) {
                    s.record_seen(a);
                }
            }
        }
    }
    let words = |fs: &[Finding]| fs.iter().map(|f| f.message.clone()).collect::<Vec<_>>();
    rep.set("failures", json!(words(&failures)));
    rep.set("unchecked", json!(words(&unchecked)));
    for f in &failures {
        rep.fail(f.clone());
    }
    settle_store(rep, store.as_mut(), !failures.is_empty());
    if !failures.is_empty() {
        return Err(Error::coded(
            failures[0].code,
            format!(
                "{} problem(s) in the history (listed above)",
                failures.len()
            ),
        ));
    }
    if !unchecked.is_empty() {
        rep.section("Not checked:", words(&unchecked));
        for u in &unchecked {
            rep.fail(u.clone());
        }
        return Err(Error::coded(
            first_code(rep, 3),
            format!(
                "the history is consistent, but not everything could be checked: {}",
                joined(&unchecked)
            ),
        ));
    }
    Ok(format!(
        "HISTORY VERIFIED: {} entries, every month signed and linked, the log consistent, and anchored on chain in \
         time from genesis {}.",
        h.entries.len(),
        h.genesis.map_or("none".into(), |g| g.to_string())
    ))
}

fn cmd_pin(
    rep: &mut Report,
    exchange: &str,
    key: &str,
    confirm: bool,
    store_args: &StoreArgs,
) -> Result<String> {
    let new = parse_public_key(key)?;
    por_verifier::text::validate_exchange(exchange).map_err(|e| e.context("--exchange"))?;
    let mut store = store_args
        .open()?
        .ok_or_else(|| Error::input("pin needs a store (not --no-store)"))?;
    rep.title = format!("Re-pinning the key of {exchange:?}");
    let old = store
        .pinned(exchange)
        .map(|p| (hex::encode(p.key), p.pinned_at.clone()));
    let warning = format!(
        "WARNING: this replaces the key you trust for {exchange:?}.\n  pinned now: {}\n  new key:    {}\n  \
         Do this only if the exchange announced the new key through a channel you trust AND its old key is lost or \
         stolen (otherwise the old key signs a handover and no re-pin is needed). A thief with the exchange's website \
         could announce a key of their own. The history's change to the new key is then accepted at the first \
         attestation the new key signed, and nowhere else.",
        old.as_ref().map_or("(none)".to_string(), |(k, t)| format!("{k} (since {t})")),
        hex::encode(new.to_bytes())
    );
    rep.section("", warning.lines().map(String::from).collect());
    if !confirm {
        return Err(Error::input(
            "nothing changed: add --confirm to replace the pinned key",
        ));
    }
    store.pin(exchange, &new.to_bytes(), HOW_MANUAL);
    store.commit()?;
    Ok(format!(
        "PINNED: {exchange:?} is now trusted with key {}.",
        hex::encode(new.to_bytes())
    ))
}

fn cmd_audit(
    rep: &mut Report,
    att_path: &Path,
    data: &Path,
    key: &str,
    ledger: Option<&Path>,
    (budget, spill): (u64, PathBuf),
) -> Result<String> {
    let key = parse_public_key(key)?;
    let att = Attestation::read(att_path)?;
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    rep.title = format!("Audit of {}'s attestation for {}", att.exchange, att.period);
    rep.fail_word = Some("AUDIT FAILED");
    let a = audit_with_budget(&att, &key, data, ledger, budget, &spill)?;
    for c in &a.checks {
        rep.ok(Code::Passed, c.clone());
    }
    rep.set("leaves", json!(a.leaves));
    rep.set("ledger_rows", json!(a.ledger_rows));
    rep.set("ledger_sha256", json!(a.ledger_sha256.to_hex()));
    rep.set(
        "signed_liabilities",
        amount_json(&att.assets, &att.liabilities),
    );
    rep.set("tree_totals", amount_json(&att.assets, &a.tree_totals));
    rep.set("ledger_totals", amount_json(&att.assets, &a.ledger_totals));
    for f in &a.findings {
        let mut found = Finding::new(Code::AuditMismatch, f.message.clone());
        found.kind = Some(f.kind.to_string());
        // Listed in their own section, by kind, rather than as checks.
        rep.findings.push(found);
    }
    rep.set(
        "finding_counts",
        json!(a
            .counts
            .iter()
            .map(|(k, n)| json!({"kind": k, "count": n}))
            .collect::<Vec<_>>()),
    );
    let mut totals = vec![format!("{:<8} {:>42} {:>42}", "asset", "signed", "ledger")];
    for (i, asset) in att.assets.iter().enumerate() {
        totals.push(format!(
            "{:<8} {:>42} {:>42}",
            asset.symbol,
            att.liabilities[i].to_decimal(asset.decimals),
            a.ledger_totals[i].to_decimal(asset.decimals)
        ));
    }
    rep.section("Liabilities per asset:", totals);
    rep.section(
        "Ledger:",
        vec![format!(
            "{} customers, sha256 {}",
            a.ledger_rows, a.ledger_sha256
        )],
    );
    if a.passed() {
        Ok(format!(
            "AUDIT PASSED: the signed tree holds exactly the {} customers of the ledger with their balances.",
            a.ledger_rows
        ))
    } else {
        let total: u64 = a.counts.iter().map(|(_, n)| n).sum();
        let mut lines: Vec<String> = a
            .findings
            .iter()
            .map(|f| format!("[{}] {}", f.kind, f.message))
            .collect();
        for (k, n) in &a.counts {
            if *n as usize > por_verifier::audit::LISTED_PER_KIND {
                lines.push(format!(
                    "... and {} more {k}",
                    *n as usize - por_verifier::audit::LISTED_PER_KIND
                ));
            }
        }
        rep.section(format!("Findings ({total}):"), lines);
        Err(Error::coded(
            Code::AuditMismatch,
            format!("{total} findings (listed above)"),
        ))
    }
}

fn cmd_signature(
    rep: &mut Report,
    chain: &str,
    address: &str,
    message: Option<String>,
    message_file: Option<PathBuf>,
    sigs: &[String],
    script: Option<String>,
) -> Result<String> {
    let chain = Chain::parse(chain).map_err(Error::input)?;
    let message = match (message, message_file) {
        (Some(m), _) => m,
        (None, Some(p)) => String::from_utf8(read_file(&p)?)
            .map_err(|_| Error::input(format!("{}: the message is not UTF-8 text", p.display())))?,
        (None, None) => return Err(Error::input("give --message or --message-file")),
    };
    let script = script
        .map(|s| hex::decode(s.trim()).map_err(|_| Error::input("--script: expected hex")))
        .transpose()?;
    rep.title = format!("Checking a signature by {address} on {chain}");
    rep.set("chain", json!(chain.to_string()));
    rep.set("address", json!(address));
    let what = match chain {
        Chain::Bitcoin(n) => verify_bitcoin(
            por_verifier::reserves::holding::network(n),
            address,
            &message,
            sigs,
            script.as_deref(),
        )?,
        Chain::Evm(_) => match sigs {
            [one] => verify_ethereum(address, message.as_bytes(), one)?,
            _ => {
                return Err(Error::input(format!(
                    "expected exactly one signature for an Ethereum address, found {}",
                    sigs.len()
                )))
            }
        },
        Chain::BitcoinFork(f) => {
            let [one] = sigs else {
                return Err(Error::input(format!(
                    "expected exactly one signature for a {chain} address, found {}",
                    sigs.len()
                )));
            };
            por_verifier::reserves::forks::verify(f, address, &message, one)?
        }
        Chain::Tron | Chain::Solana => {
            let [one] = sigs else {
                return Err(Error::input(format!(
                    "expected exactly one signature for a {chain} address, found {}",
                    sigs.len()
                )));
            };
            // The checks say which errors are the input's (exit 2) and which a failed proof
            // (exit 1).
            if chain == Chain::Tron {
                por_verifier::reserves::tron::verify(address, message.as_bytes(), one)?
            } else {
                por_verifier::reserves::solana::verify(address, message.as_bytes(), one)?
            }
        }
    };
    rep.ok(Code::Passed, what.clone());
    rep.set("standard", json!(what));
    Ok(format!("VALID: {address} signed this message ({what})."))
}
