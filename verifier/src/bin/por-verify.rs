//! `por-verify`: the customer's and the auditor's command line. A thin layer over the
//! `por_verifier` library; it works offline.

use clap::{Parser, Subcommand};
use por_verifier::attestation::{parse_public_key, Attestation};
use por_verifier::audit::audit;
use por_verifier::error::{read_file, Error, Result};
use por_verifier::proof::{verify_inclusion, InclusionProof};
use por_verifier::report::{amount_json, amount_lines, Report};
use por_verifier::reserves::{
    check_reserves, first_malformed, verify_control, Chain, Reserves, ReservesOutcome,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Proof of reserves, verifier side: check your inclusion proof, or audit the whole tree.
///
/// Exit codes: 0 verified, 1 verification failed (the data is well-formed but wrong),
/// 2 bad input or usage.
#[derive(Parser)]
#[command(name = "por-verify", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Your own chain nodes, to check reserve balances at the snapshot height.
#[derive(clap::Args)]
struct Nodes {
    /// Bitcoin Core JSON-RPC, http://user:pass@host:port (needs -txindex=1 -txospenderindex=1).
    #[arg(long)]
    bitcoin_rpc: Option<String>,
    /// Ethereum JSON-RPC, http://host:port (an archive node for past blocks).
    #[arg(long)]
    ethereum_rpc: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check that your balances are in the tree the exchange signed.
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
        /// Your user id at the exchange.
        #[arg(long)]
        user_id: String,
        #[command(flatten)]
        nodes: Nodes,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the exchange's reserves: signatures offline, balances on chain with your nodes,
    /// and whether reserves cover liabilities asset by asset.
    Reserves {
        /// The published attestation.json.
        #[arg(long)]
        attestation: PathBuf,
        /// The exchange's public key (64 hex characters).
        #[arg(long)]
        exchange_key: String,
        #[command(flatten)]
        nodes: Nodes,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check one signature on its own (BIP-322, BIP-137, multisig, EIP-191).
    Signature {
        /// bitcoin, bitcoin-testnet, bitcoin-signet, bitcoin-regtest, or ethereum.
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
    let code = match cli.cmd {
        Cmd::Proof {
            attestation,
            proof,
            exchange_key,
            user_id,
            nodes,
            json,
        } => {
            let mut rep = Report::default();
            let outcome = cmd_proof(
                &mut rep,
                &attestation,
                &proof,
                &exchange_key,
                &user_id,
                &nodes,
            );
            rep.finish(outcome, json)
        }
        Cmd::Reserves {
            attestation,
            exchange_key,
            nodes,
            json,
        } => {
            let mut rep = Report::default();
            let outcome = cmd_reserves(&mut rep, &attestation, &exchange_key, &nodes);
            rep.finish(outcome, json)
        }
        Cmd::Signature {
            chain,
            address,
            message,
            message_file,
            signature,
            script,
            json,
        } => {
            let mut rep = Report::default();
            let outcome = cmd_signature(
                &mut rep,
                &chain,
                &address,
                message,
                message_file,
                &signature,
                script,
            );
            rep.finish(outcome, json)
        }
        Cmd::Audit {
            attestation,
            data,
            exchange_key,
            liabilities,
            json,
        } => {
            let mut rep = Report::default();
            let outcome = cmd_audit(
                &mut rep,
                &attestation,
                &data,
                &exchange_key,
                liabilities.as_deref(),
            );
            rep.finish(outcome, json)
        }
    };
    ExitCode::from(code as u8)
}

fn cmd_proof(
    rep: &mut Report,
    att_path: &Path,
    proof_path: &Path,
    key: &str,
    user_id: &str,
    nodes: &Nodes,
) -> Result<String> {
    let key = parse_public_key(key)?;
    let att = Attestation::read(att_path)?;
    let proof =
        InclusionProof::from_json(&proof_path.display().to_string(), &read_file(proof_path)?)?;
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
        "Your balances in the tree:",
        amount_lines(&att.assets, &inc.balances),
    );
    rep.section(
        format!(
            "Total customer liabilities signed by {} (snapshot {}):",
            att.exchange, att.snapshot_time
        ),
        amount_lines(&att.assets, &att.liabilities),
    );
    rep.set("balances", amount_json(&att.assets, &inc.balances));
    rep.set("liabilities", amount_json(&att.assets, &att.liabilities));
    let included = "your balances are included in the liabilities the exchange signed";
    let Some(reserves) = &att.reserves else {
        rep.section(
            "Reserves:",
            vec!["this attestation has no reserves section: the exchange has not proven any reserves".into()],
        );
        rep.set("reserves", json!(null));
        return Ok(format!("VERIFIED: {included} (no reserves are attested)."));
    };
    let outcome = check_reserves(
        &att,
        reserves,
        nodes.bitcoin_rpc.as_deref(),
        nodes.ethereum_rpc.as_deref(),
    )?;
    if let Some(e) = first_malformed(reserves, &outcome.status) {
        return Err(e.context(format!("{}, reserves", att_path.display())));
    }
    match reserves_report(rep, reserves, &outcome) {
        Ok(()) if outcome.solvency.iter().all(|s| s.verified_on_chain || s.reserves.0 == 0) => Ok(format!(
            "VERIFIED: {included}, and reserves verified on chain cover liabilities for every asset."
        )),
        Ok(()) => Ok(format!(
            "VERIFIED: {included}, and the attested reserves cover liabilities for every asset \
             as claimed (balances not checked against a chain)."
        )),
        Err(why) => {
            rep.fail_word = Some("PROBLEM");
            Err(Error::failed(format!("{included}, BUT {why}")))
        }
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

fn cmd_reserves(rep: &mut Report, att_path: &Path, key: &str, nodes: &Nodes) -> Result<String> {
    let key = parse_public_key(key)?;
    let att = Attestation::read(att_path)?;
    rep.title = format!("Reserves of {} for {}", att.exchange, att.period);
    rep.fail_word = Some("NOT PROVEN");
    rep.set("exchange", json!(att.exchange));
    rep.set("period", json!(att.period));
    att.verify_signature(&key)?;
    rep.ok(format!(
        "attestation signature: valid ed25519 signature by the key you gave ({})",
        hex::encode(att.public_key)
    ));
    let reserves = att.reserves.as_ref().ok_or_else(|| {
        Error::failed("the attestation has no reserves section: no reserves are proven")
    })?;
    let outcome = check_reserves(
        &att,
        reserves,
        nodes.bitcoin_rpc.as_deref(),
        nodes.ethereum_rpc.as_deref(),
    )?;
    if let Some(e) = first_malformed(reserves, &outcome.status) {
        return Err(e.context(format!("{}, reserves", att_path.display())));
    }
    reserves_report(rep, reserves, &outcome).map_err(Error::failed)?;
    if outcome
        .solvency
        .iter()
        .all(|s| s.verified_on_chain || s.reserves.0 == 0)
    {
        Ok(
            "SOLVENT: reserves verified on chain cover customer liabilities for every asset."
                .into(),
        )
    } else {
        Ok(
            "SOLVENT AS CLAIMED: the signed reserves cover customer liabilities for every asset, \
            but some balances were not checked against a chain (see above)."
                .into(),
        )
    }
}

/// Adds the reserves checks and the solvency table to the report; `Err` says what failed.
fn reserves_report(
    rep: &mut Report,
    reserves: &Reserves,
    outcome: &ReservesOutcome,
) -> std::result::Result<(), String> {
    let mut entries = Vec::new();
    for (e, s) in reserves.entries.iter().zip(&outcome.status) {
        match &s.offline {
            Ok(what) => rep.ok(format!(
                "{}: {what} over the challenge for height {} (offline)",
                e.label(),
                e.height
            )),
            Err(why) => rep
                .checks
                .push((false, format!("{}: {}", e.label(), why.message()))),
        }
        match &s.on_chain {
            Some(Ok(what)) => rep.ok(format!("{}: on chain: {what}", e.label())),
            Some(Err(why)) => rep
                .checks
                .push((false, format!("{}: on chain: {why}", e.label()))),
            None => {}
        }
        entries.push(json!({
            "asset": e.asset, "chain": e.chain.to_string(), "address": e.address, "token": e.token,
            "height": e.height, "balance_units": e.balance.to_string(),
            "offline": match &s.offline {
                Ok(w) => json!({"passed": true, "check": w}),
                Err(w) => json!({"passed": false, "reason": w.message()}),
            },
            "on_chain": match &s.on_chain {
                None => json!(null),
                Some(Ok(w)) => json!({"passed": true, "check": w}),
                Some(Err(w)) => json!({"passed": false, "reason": w}),
            },
        }));
    }
    let mut table = vec![format!(
        "{:<8} {:>34} {:>34} {:>10}  {}",
        "asset", "liabilities", "reserves", "coverage", "reserves are"
    )];
    let mut rows = Vec::new();
    for s in &outcome.solvency {
        let d = s.asset.decimals;
        let coverage = s
            .coverage_percent()
            .map_or("no debt".into(), |p| format!("{p:.2}%"));
        let how = if s.reserves.0 == 0 {
            "none proven"
        } else if s.verified_on_chain {
            "verified on chain"
        } else {
            "claimed (signatures checked offline only)"
        };
        table.push(format!(
            "{:<8} {:>34} {:>34} {:>10}  {}{}",
            s.asset.symbol,
            s.liabilities.to_decimal(d),
            s.reserves.to_decimal(d),
            coverage,
            how,
            if s.covered { "" } else { "  << SHORT" }
        ));
        rows.push(json!({
            "symbol": s.asset.symbol, "liabilities": s.liabilities.to_decimal(d), "reserves": s.reserves.to_decimal(d),
            "coverage_percent": s.coverage_percent(), "verified_on_chain": s.verified_on_chain, "covered": s.covered,
        }));
    }
    rep.section("Solvency per asset:", table);
    let mut how = vec![
        "offline: the exchange's signature, and each reserve address's signature over this \
                        period's challenge (exchange, period, chain, height, liabilities root)"
            .to_string(),
    ];
    if outcome.nodes.is_empty() {
        how.push(
            "against a chain: nothing; balances are as the exchange claims them \
                  (give --bitcoin-rpc / --ethereum-rpc to check them with your own node)"
                .into(),
        );
    } else {
        for n in &outcome.nodes {
            how.push(format!(
                "against a chain: balances at the snapshot height, from the {n}"
            ));
        }
    }
    rep.section("What was checked:", how);
    rep.set("reserve_entries", json!(entries));
    rep.set("solvency", json!(rows));
    rep.set("nodes", json!(outcome.nodes));
    let failed: Vec<&str> = reserves
        .entries
        .iter()
        .zip(&outcome.status)
        .filter(|(_, s)| !s.passed())
        .map(|(e, _)| e.asset.as_str())
        .collect();
    let short: Vec<&str> = outcome
        .solvency
        .iter()
        .filter(|s| !s.covered)
        .map(|s| s.asset.symbol.as_str())
        .collect();
    match (failed.is_empty(), short.is_empty()) {
        (true, true) => Ok(()),
        (true, false) => Err(format!(
            "reserves do not cover liabilities for {}",
            short.join(", ")
        )),
        (false, true) => Err(format!(
            "reserve checks failed for {} (listed above)",
            failed.join(", ")
        )),
        (false, false) => Err(format!(
            "reserve checks failed for {} and reserves do not cover liabilities for {}",
            failed.join(", "),
            short.join(", ")
        )),
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
    let chain = Chain::parse(chain)?;
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
    let what = verify_control(&chain, address, &message, sigs, script.as_deref())?;
    rep.ok(what.clone());
    rep.set("standard", json!(what));
    Ok(format!("VALID: {address} signed this message ({what})."))
}
