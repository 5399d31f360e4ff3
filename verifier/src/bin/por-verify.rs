//! `por-verify`: the customer's and the auditor's command line. It only turns flags into
//! checked values, calls the `por_verifier` library, and maps its outcome to an exit code.

use clap::{Parser, Subcommand};
use por_verifier::attestation::{parse_public_key, Attestation};
use por_verifier::audit::audit;
use por_verifier::chains::Chain;
use por_verifier::custody::Threshold;
use por_verifier::error::{read_file, Error, Result};
use por_verifier::input::{read_bounded, FileKind};
use por_verifier::proof::{verify_inclusion, InclusionProof};
use por_verifier::registry::{Registry, MAX_REGISTRY_BYTES};
use por_verifier::report::{amount_json, amount_lines, Report};
use por_verifier::reserves::bitcoin::verify as verify_bitcoin;
use por_verifier::reserves::ethereum::verify as verify_ethereum;
use por_verifier::reserves::ReservesStatement;
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
        /// The exchange's published attestation.json.
        #[arg(long)]
        attestation: PathBuf,
        /// Your inclusion proof (JSON), as the exchange gave it to you.
        #[arg(long)]
        proof: PathBuf,
        /// The exchange's public key (64 hex characters), from a source you trust.
        #[arg(long)]
        exchange_key: String,
        /// Your user id at the exchange, exactly as the exchange writes it.
        #[arg(long)]
        user_id: String,
        /// The exchange's reserves statement for this attestation (reserves.json).
        #[arg(long)]
        reserves: Option<PathBuf>,
        #[command(flatten)]
        how: ReservesArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
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
        /// The exchange's public key (64 hex characters).
        #[arg(long)]
        exchange_key: String,
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
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut rep = Report::default();
    let (outcome, json) = match cli.cmd {
        Cmd::Proof {
            attestation,
            proof,
            exchange_key,
            user_id,
            reserves,
            how,
            json,
        } => (
            cmd_proof(
                &mut rep,
                &attestation,
                &proof,
                &exchange_key,
                &user_id,
                reserves.as_deref(),
                &how,
            ),
            json,
        ),
        Cmd::Reserves {
            attestation,
            reserves,
            exchange_key,
            how,
            json,
        } => (
            cmd_reserves(&mut rep, &attestation, &reserves, &exchange_key, &how),
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
        Cmd::Audit {
            attestation,
            data,
            exchange_key,
            liabilities,
            json,
        } => (
            cmd_audit(
                &mut rep,
                &attestation,
                &data,
                &exchange_key,
                liabilities.as_deref(),
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
    let mut registry = Registry::built_in();
    for p in &how.registry {
        let bytes = read_bounded(p, MAX_REGISTRY_BYTES, FileKind::Other("registry file"))?;
        registry.add_registry_file(&p.display().to_string(), &bytes)?;
    }
    for p in &how.token_list {
        let bytes = read_bounded(p, MAX_REGISTRY_BYTES, FileKind::Other("token list"))?;
        registry.add_token_list(&p.display().to_string(), &bytes)?;
    }
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

/// Adds the reserves verdict to the report.
fn report_verdict(rep: &mut Report, v: &Verdict) {
    for p in v.passes() {
        rep.ok(p);
    }
    for f in v.failures() {
        rep.checks.push((false, f));
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

fn cmd_reserves(
    rep: &mut Report,
    att_path: &Path,
    res_path: &Path,
    key: &str,
    how: &ReservesArgs,
) -> Result<String> {
    let key = parse_public_key(key)?;
    let opts = options(how)?;
    let att = Attestation::read(att_path)?;
    let stmt = ReservesStatement::read(res_path)?;
    rep.title = format!(
        "Reserves of {} for {} (statement #{})",
        att.exchange, att.period, stmt.sequence
    );
    rep.fail_word = Some("NOT PROVEN");
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    att.verify_signature(&key)?;
    rep.ok(format!(
        "attestation signature: valid ed25519 signature by the key you gave ({})",
        hex::encode(att.public_key)
    ));
    let v = evaluate(&att, &stmt, &key, &opts)?;
    report_verdict(rep, &v);
    match v.outcome {
        Outcome::Pass => Ok(v.summary()),
        Outcome::Fail => Err(Error::failed(v.summary())),
        Outcome::Unverified => Err(Error::unverified(v.summary())),
    }
}

fn cmd_proof(
    rep: &mut Report,
    att_path: &Path,
    proof_path: &Path,
    key: &str,
    user_id: &str,
    reserves: Option<&Path>,
    how: &ReservesArgs,
) -> Result<String> {
    let key = parse_public_key(key)?;
    let mut opts = options(how)?;
    let att = Attestation::read(att_path)?;
    let proof = InclusionProof::read(proof_path)?;
    let stmt = reserves.map(ReservesStatement::read).transpose()?;
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    rep.set("user_id", json!(user_id));
    rep.title = format!(
        "Checking the inclusion proof of user {user_id:?} against {}'s attestation for {}",
        att.exchange, att.period
    );
    att.verify_signature(&key)?;
    rep.ok(format!(
        "attestation signature: valid ed25519 signature by the key you gave ({})",
        hex::encode(att.public_key)
    ));
    let inc = verify_inclusion(&att, &proof, user_id)?;
    rep.ok(format!(
        "your leaf: commits to your user id {user_id:?}, your secret salt and your balances"
    ));
    rep.ok(format!(
        "path: {} levels; every parent's sums are exactly its children's sums, with no overflow",
        inc.levels
    ));
    rep.ok(format!(
        "root: equals the signed root hash {}",
        att.root_hash
    ));
    rep.ok("totals: the tree adds up to exactly the liabilities the exchange signed");
    rep.section(
        "Your balances in the tree (compare them with your account at the snapshot time):",
        amount_lines(&att.assets, &inc.balances),
    );
    rep.section(
        format!(
            "Total customer liabilities signed by {} (snapshot {}):",
            att.exchange, att.snapshot_time
        ),
        amount_lines(&att.assets, &att.liabilities),
    );
    rep.set("inclusion", json!("verified"));
    rep.set("balances", amount_json(&att.assets, &inc.balances));
    rep.set("liabilities", amount_json(&att.assets, &att.liabilities));
    let included = "your balances are included in the liabilities the exchange signed";
    let Some(stmt) = stmt else {
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
        return Ok(format!(
            "VERIFIED: {included}. Reserves were not checked (see above)."
        ));
    };
    // Without nodes the customer's run checks what it can offline and says so; it never calls
    // that solvency.
    if opts.nodes.is_empty() {
        opts.offline = true;
    }
    let v = evaluate(&att, &stmt, &key, &opts)?;
    report_verdict(rep, &v);
    match v.outcome {
        Outcome::Pass if v.offline => Ok(format!(
            "VERIFIED: {included}. Reserves: {}. To check balances on chain, run again with your node for \
             each chain (--node CHAIN=URL).",
            v.summary()
        )),
        Outcome::Pass => Ok(format!("VERIFIED: {included}, and {}.", v.summary())),
        Outcome::Fail => {
            rep.fail_word = Some("PROBLEM");
            Err(Error::failed(format!("{included}, BUT the reserves fail: {}", v.summary())))
        }
        Outcome::Unverified => Err(Error::unverified(format!(
            "{included}, but the reserves are not fully checked: {}",
            v.summary()
        ))),
    }
}

fn cmd_audit(
    rep: &mut Report,
    att_path: &Path,
    data: &Path,
    key: &str,
    ledger: Option<&Path>,
) -> Result<String> {
    let key = parse_public_key(key)?;
    let att = Attestation::read(att_path)?;
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    rep.title = format!("Audit of {}'s attestation for {}", att.exchange, att.period);
    rep.fail_word = Some("AUDIT FAILED");
    let a = audit(&att, &key, data, ledger)?;
    for c in &a.checks {
        rep.ok(c.clone());
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
    rep.set(
        "findings",
        json!(a
            .findings
            .iter()
            .map(|f| json!({"kind": f.kind, "message": f.message}))
            .collect::<Vec<_>>()),
    );
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
        Err(por_verifier::Error::failed(format!(
            "{total} findings (listed above)"
        )))
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
    };
    rep.ok(what.clone());
    rep.set("standard", json!(what));
    Ok(format!("VALID: {address} signed this message ({what})."))
}
