//! `por-prove`: the exchange's command line. A thin layer over the `por_prover` library.

use clap::{Parser, Subcommand};
use por_prover::build::{build, BuildConfig, DEFAULT_HEIGHT};
use por_prover::files::write_atomic;
use por_prover::keys::{keygen, read_key};
use por_prover::progress::Progress;
use por_prover::proofs::make_proofs;
use por_verifier::error::{Error, Result};
use por_verifier::liabilities::Negatives;
use std::path::PathBuf;
use std::process::ExitCode;

macro_rules! say {
    ($($t:tt)*) => { por_verifier::report::say(&format!($($t)*)) };
}
macro_rules! say_raw {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = std::io::stdout().lock().write_all(format!($($t)*).as_bytes());
    }};
}

/// Proof of reserves, exchange side: build and sign the monthly attestation, issue proofs.
///
/// Exit codes: 0 success, 1 a check failed, 2 bad input or usage.
#[derive(Parser)]
#[command(name = "por-prove", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate the ed25519 attestation key; prints the public key (64 hex characters).
    Keygen {
        /// Where to write the secret key (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file.
    Pubkey {
        /// The secret key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Build the liabilities tree and the signed attestation.
    Build {
        /// The liabilities export: user_id,SYMBOL:DECIMALS,...
        #[arg(long)]
        liabilities: PathBuf,
        /// The attestation key written by `keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The exchange's name.
        #[arg(long)]
        exchange: String,
        /// The period, YYYY-MM.
        #[arg(long)]
        period: String,
        /// Snapshot time, UTC YYYY-MM-DDTHH:MM:SSZ (default: now).
        #[arg(long)]
        snapshot_time: Option<String>,
        /// Tree height (at least log2 of the number of customers).
        #[arg(long, default_value_t = DEFAULT_HEIGHT)]
        height: u8,
        /// Count negative balances as zero (and report how many rows were clamped).
        #[arg(long)]
        negative_as_zero: bool,
        /// Output directory: DIR/attestation.json is public, DIR/private/ is not.
        #[arg(long)]
        out: PathBuf,
        /// Replace DIR if it exists.
        #[arg(long)]
        force: bool,
        /// The assets the export must have, in order (e.g. BTC:8,ETH:18); guards against a
        /// mis-exported column.
        #[arg(long)]
        assets: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print one customer's inclusion proof (JSON) on stdout.
    Proof {
        /// The directory written by `build`.
        #[arg(long)]
        from: PathBuf,
        /// The customer's user id.
        #[arg(long)]
        user: String,
        /// Write the proof to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the proofs of many customers (one file each) in a single tree pass.
    Proofs {
        /// The directory written by `build`.
        #[arg(long)]
        from: PathBuf,
        /// A file with one user id per line.
        #[arg(long)]
        users: PathBuf,
        /// Directory to write USER_ID.json files into (must not exist).
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// On-chain reserves: the challenge to sign, and adding signed reserves to an attestation.
    #[command(subcommand)]
    Reserves(ReservesCmd),
    /// Write deterministic synthetic liabilities (for examples and benchmarks).
    ExampleData {
        /// Number of customers.
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        /// Number of assets.
        #[arg(long, default_value_t = 5)]
        assets: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output CSV.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReservesCmd {
    /// Print the exact message every reserve address on CHAIN must sign for this attestation.
    Challenge {
        /// The attestation (DIR/attestation.json).
        #[arg(long)]
        attestation: PathBuf,
        /// bitcoin, bitcoin-testnet, bitcoin-signet, bitcoin-regtest, ethereum, ethereum-<chain id>.
        #[arg(long)]
        chain: String,
        /// The snapshot block height.
        #[arg(long)]
        height: u64,
        /// Write the message (exact bytes, no final newline) to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check every reserve signature and add the reserves to DIR/attestation.json, re-signed.
    Add {
        /// The directory written by `build`.
        #[arg(long)]
        out: PathBuf,
        /// The reserves file (JSON, format por-reserves-v1).
        #[arg(long)]
        reserves: PathBuf,
        /// The attestation key that signed DIR/attestation.json.
        #[arg(long)]
        key: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            por_verifier::report::say_err(&format!("por-prove: error: {e}"));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Keygen { out } => {
            let key = keygen(&out)?;
            say!("{}", hex::encode(key.verifying_key().to_bytes()));
        }
        Cmd::Pubkey { key } => say!(
            "{}",
            hex::encode(read_key(&key)?.verifying_key().to_bytes())
        ),
        Cmd::Build {
            liabilities,
            key,
            exchange,
            period,
            snapshot_time,
            height,
            negative_as_zero,
            out,
            force,
            assets,
            json,
        } => {
            let key = read_key(&key)?;
            let expected_assets = assets
                .as_deref()
                .map(por_prover::build::parse_asset_list)
                .transpose()?;
            let negatives = if negative_as_zero {
                Negatives::Clamp
            } else {
                Negatives::Reject
            };
            let cfg = BuildConfig {
                liabilities,
                exchange,
                period,
                snapshot_time,
                height,
                negatives,
                out,
                force,
                expected_assets,
            };
            let s = build(&cfg, &key, &Progress::stderr())?;
            let att = &s.attestation;
            if json {
                let totals: Vec<_> = att
                    .assets
                    .iter()
                    .zip(&att.liabilities)
                    .map(|(a, l)| serde_json::json!({"symbol": a.symbol, "units": l.to_string(), "amount": l.to_decimal(a.decimals)}))
                    .collect();
                let v = serde_json::json!({
                    "attestation": s.attestation_path, "customers": s.customers, "clamped_rows": s.clamped_rows,
                    "root_hash": att.root_hash.to_hex(), "tree_height": att.tree_height, "liabilities": totals,
                    "public_key": hex::encode(att.public_key),
                });
                say!("{v:#}");
            } else {
                say!(
                    "Built the liabilities tree of {} for {}",
                    att.exchange,
                    att.period
                );
                say!("  customers:     {}", s.customers);
                if s.clamped_rows > 0 {
                    say!(
                        "  clamped rows:  {} (negative balances counted as zero)",
                        s.clamped_rows
                    );
                }
                say!("  tree height:   {}", att.tree_height);
                say!("  root hash:     {}", att.root_hash);
                say!("  signed by:     {}", hex::encode(att.public_key));
                say!("  liabilities:");
                for (a, l) in att.assets.iter().zip(&att.liabilities) {
                    say!("    {:<8} {:>40}", a.symbol, l.to_decimal(a.decimals));
                }
                say!("Public:  {}", s.attestation_path.display());
                say!(
                    "Private: {} (keep secret)",
                    cfg.out.join("private").display()
                );
            }
        }
        Cmd::Proof { from, user, out } => {
            let proof = make_proofs(&from, std::slice::from_ref(&user))?.remove(0);
            match out {
                Some(path) => write_atomic(&path, proof.to_json().as_bytes())?,
                None => say_raw!("{}", proof.to_json()),
            }
        }
        Cmd::Proofs {
            from,
            users,
            out_dir,
        } => {
            let text = std::fs::read_to_string(&users)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", users.display())))?;
            let ids: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            for id in &ids {
                // The id becomes a file name: refuse anything that could leave the directory.
                if id.contains('/') || id.contains('\\') || id.starts_with('.') {
                    return Err(Error::input(format!(
                        "{}: user id {id:?} cannot be a file name",
                        users.display()
                    )));
                }
            }
            let proofs = make_proofs(&from, &ids)?;
            let stage = por_prover::files::StagingDir::new(&out_dir, false)?;
            for p in &proofs {
                let path = stage.path().join(format!("{}.json", p.user_id));
                std::fs::write(&path, p.to_json())
                    .map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))?;
            }
            stage.commit()?;
            say!("wrote {} proofs to {}", proofs.len(), out_dir.display());
        }
        Cmd::Reserves(ReservesCmd::Challenge {
            attestation,
            chain,
            height,
            out,
        }) => {
            let att = por_verifier::Attestation::read(&attestation)?;
            let chain =
                por_verifier::reserves::Chain::parse(&chain).map_err(|e| e.context("--chain"))?;
            let msg = por_verifier::reserves::challenge(
                &att.exchange,
                &att.period,
                &chain,
                height,
                &att.root_hash,
            );
            match out {
                Some(path) => write_atomic(&path, msg.as_bytes())?,
                None => say!("{msg}"),
            }
        }
        Cmd::Reserves(ReservesCmd::Add { out, reserves, key }) => {
            let key = read_key(&key)?;
            let att = por_prover::reserves::add_reserves(&out, &reserves, &key)?;
            let n = att.reserves.as_ref().map_or(0, |r| r.entries.len());
            say!(
                "added {n} reserve entries, every signature checked; re-signed {}",
                out.join("attestation.json").display()
            );
        }
        Cmd::ExampleData {
            users,
            assets,
            seed,
            out,
        } => {
            if assets == 0 {
                return Err(Error::input("--assets: expected at least 1"));
            }
            let mut buf = Vec::new();
            por_prover::synth::write_liabilities(&mut buf, users, assets, seed)
                .map_err(|e| Error::input(format!("cannot generate: {e}")))?;
            write_atomic(&out, &buf)?;
        }
    }
    Ok(())
}
