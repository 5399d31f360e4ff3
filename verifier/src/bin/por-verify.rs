//! `por-verify`: the customer's and the auditor's command line. A thin layer over the
//! `por_verifier` library; it works offline.

use clap::{Parser, Subcommand};
use por_verifier::attestation::{parse_public_key, Attestation};
use por_verifier::audit::audit;
use por_verifier::error::{read_file, Result};
use por_verifier::proof::{verify_inclusion, InclusionProof};
use por_verifier::report::{amount_json, amount_lines, Report};
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
            json,
        } => {
            let mut rep = Report::default();
            let outcome = cmd_proof(&mut rep, &attestation, &proof, &exchange_key, &user_id);
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
    Ok("VERIFIED: your balances are included in the liabilities the exchange signed.".into())
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
