//! `por-prove`: the exchange's command line. A thin layer over the `por_prover` library.

use clap::{Parser, Subcommand};
use por_prover::build::{build, BuildConfig, DEFAULT_HEIGHT};
use por_prover::files::write_atomic;
use por_prover::progress::Progress;
use por_prover::proofs::make_proofs;
use por_prover::signer::{KeySource, Secrets};
use por_verifier::error::{Error, Result};
use por_verifier::liabilities::Negatives;
use por_verifier::state::ATTESTATION_FILE;
use por_verifier::Attestation;
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
    /// How long phases report progress on stderr: bars on a terminal, else timestamped lines
    /// (auto); or bar, log, json (one object per line) or none.
    #[arg(long, global = true, default_value = "auto", value_parser = por_prover::progress::Mode::parse)]
    progress: por_prover::progress::Mode,
    /// Seconds between progress lines (log and json).
    #[arg(long, global = true, default_value_t = 10, value_name = "SECS")]
    progress_every: u64,
}

// One value, parsed once per run: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Generate the ed25519 attestation key, in a file or inside a PKCS#11 token; prints the
    /// public key (64 hex characters).
    Keygen {
        /// Where to write the secret key (must not exist).
        #[arg(long, required_unless_present = "signer", conflicts_with = "signer")]
        out: Option<PathBuf>,
        /// Encrypt the file under a passphrase (age, scrypt): from --passphrase-file, else
        /// POR_KEY_PASSPHRASE, else asked twice on the terminal.
        #[arg(long, requires = "out")]
        encrypt: bool,
        /// Generate the key pair inside this PKCS#11 token instead, under the key label
        /// (refused if the label is taken): 'pkcs11:module=PATH;token=LABEL;key=LABEL'. The
        /// private key is sensitive and cannot be extracted.
        #[arg(long, value_name = "PKCS11_URI")]
        signer: Option<String>,
        #[command(flatten)]
        secrets: SecretArgs,
    },
    /// Print the public key of a key file or a token's key.
    Pubkey {
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        secrets: SecretArgs,
    },
    /// Build the liabilities tree and the signed attestation.
    Build {
        /// The liabilities export: user_id,SYMBOL:DECIMALS,...
        #[arg(long)]
        liabilities: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        secrets: SecretArgs,
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
        /// Replace DIR if it exists, even when it (or --history) holds a signed attestation of
        /// this period: only before it is published, or customers see EQUIVOCATION.
        #[arg(long)]
        force: bool,
        /// Do not copy the export into DIR/private/liabilities.csv (state.json keeps its
        /// SHA-256; the auditor then gives the export with --liabilities). For exports of
        /// many GB.
        #[arg(long)]
        no_ledger_copy: bool,
        /// The assets the export must have, in order (e.g. BTC:8,ETH:18); guards against a
        /// mis-exported column.
        #[arg(long)]
        assets: Option<String>,
        /// The public history.json to chain this month to (created on the first month) and
        /// append the new attestation to.
        #[arg(long)]
        history: Option<PathBuf>,
        /// First attestation only: the history's genesis, the Bitcoin outpoint TXID:VOUT the first
        /// anchor will spend. Every later attestation signs it too. Publish it beside your key:
        /// customers pin both and compare them with your page and mirrors.
        #[arg(long, value_name = "TXID:VOUT")]
        anchor: Option<String>,
        /// After the anchor chain broke (its last output spent by a transaction that commits
        /// nothing): the outpoint a new anchor chain starts from, signed in this attestation.
        #[arg(long, value_name = "TXID:VOUT")]
        restart_anchor: Option<String>,
        /// The old key's handover to this key (written by `rotate-key`), when the key changed.
        #[arg(long)]
        rotation: Option<PathBuf>,
        /// The last attestation's key is lost or stolen and cannot sign a handover: sign with
        /// this key anyway. Every customer sees KEY CHANGED and must re-pin by hand
        /// (`por-verify pin`) after checking your announcement; announce the new key first.
        #[arg(long, conflicts_with = "rotation")]
        key_lost: bool,
        /// Where each asset's reserves may be held (JSON: {"bindings": [{"asset", "chain",
        /// "token"?, "decimals"}]}); signed with the liabilities. Default: each asset the built-in
        /// registry knows, on its mainnet chain or contract.
        #[arg(long)]
        bindings: Option<PathBuf>,
        /// Sign even if an asset has no binding: no reserves can ever count for it, and every
        /// customer's reserves check fails for it. Without this flag such a build is refused.
        #[arg(long)]
        allow_unbound: bool,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Memory for one slice of the tree (bytes, or with K, M or G): a larger export is cut
        /// into more slices, spilled to disk under DIR/private and built one after the other.
        #[arg(long, default_value = "1G", value_parser = por_verifier::text::parse_size)]
        memory_budget: u64,
        /// Hide the sums: every node commits to its per-asset sums (Pedersen commitments on
        /// BN254) and a proof shows the customer's own balances only, with range proofs for
        /// the rest (spec/hidden.md). Proofs cost seconds each instead of microseconds.
        #[arg(long)]
        hidden_sums: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate a liabilities export as `build` would, signing and writing nothing: every bad
    /// row (the first 20 in full, the rest counted), duplicate ids, the totals, the bindings
    /// and unbound assets. Exit 0 when `build` would accept it, 2 otherwise.
    Check {
        /// The liabilities export (CSV: user_id,SYMBOL:DECIMALS,...).
        #[arg(long)]
        liabilities: PathBuf,
        /// Count negative balances as zero, as `build --negative-as-zero` would.
        #[arg(long)]
        negative_as_zero: bool,
        /// The assets the export must have, in order (e.g. BTC:8,ETH:18).
        #[arg(long)]
        assets: Option<String>,
        /// The bindings `build` would be given.
        #[arg(long)]
        bindings: Option<PathBuf>,
        /// Accept unbound assets, as `build --allow-unbound` would.
        #[arg(long)]
        allow_unbound: bool,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The tree height `build` would use.
        #[arg(long, default_value_t = DEFAULT_HEIGHT)]
        height: u8,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy exactly the public files of a month (attestation, reserves statements, history) to
    /// the folder you serve, after checking each as customers will: TO/history.json and
    /// TO/PERIOD/. Nothing of DIR/private is ever copied; the month appears in one rename.
    Publish {
        /// The month's output directory (of `build`).
        #[arg(long)]
        from: PathBuf,
        /// The publishing folder.
        #[arg(long)]
        to: PathBuf,
        /// The public history.json to publish beside the months.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Replace the month if it was published before (a later reserves statement).
        #[arg(long)]
        force: bool,
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
    /// Answer GET /proof/{user_id} over HTTP from the stored tree, for the exchange's backend
    /// (which authenticates its customers: this service does not). Prints "listening on
    /// http://ADDR" when ready; stops on Ctrl-C or SIGTERM. User ids are never logged.
    Serve {
        /// The directory written by `build`.
        #[arg(long)]
        from: PathBuf,
        /// Address and port to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Proofs made at once at most; further requests wait.
        #[arg(long, default_value_t = 64)]
        max_concurrent: usize,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Open connections at most; more wait to be accepted (keep below the file-descriptor
        /// limit, `ulimit -n`).
        #[arg(long, default_value_t = 512)]
        max_connections: usize,
        /// Seconds a client has to send a request's headers; an idle connection is closed then.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        header_timeout_secs: u64,
        /// Log one line per request on stderr: method, route, status, time (never the id).
        #[arg(long)]
        access_log: bool,
        /// Serve Prometheus metrics (GET /metrics: requests, latencies, proofs, errors) on this
        /// address, apart from the proofs (e.g. 127.0.0.1:9100).
        #[arg(long)]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Write the stored tree (private/tree.bin) anew from private/leaves.csv: for a build
    /// directory written by an older por-prove, or whose stored tree is damaged.
    StoreTree {
        /// The directory written by `build`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Write the proofs of many customers: one file each (named by a keyed hash of the id, with
    /// an index; owner-only), or one JSON-lines file. Unknown, invalid or repeated ids are skipped and
    /// listed (exit 1 if any); memory stays bounded by --chunk.
    Proofs {
        /// The directory written by `build`.
        #[arg(long)]
        from: PathBuf,
        /// A file with one user id per line (a byte-order mark and blank lines are ignored).
        #[arg(long)]
        users: PathBuf,
        /// Directory to write the proofs into (must not exist; made 0700, files 0600): XX/NAME.json,
        /// NAME a keyed hash of the id that a listing cannot reverse, and index.jsonl mapping ids to files.
        #[arg(long, required_unless_present = "jsonl", conflicts_with = "jsonl")]
        out_dir: Option<PathBuf>,
        /// Write every proof as one line of this file instead (must not exist).
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Users whose proofs are made in parallel before they are written (memory grows
        /// with it: about 4 KiB each).
        #[arg(long, default_value_t = 10_000)]
        chunk: usize,
    },
    /// On-chain reserves: the challenge to sign, and adding signed reserves to an attestation.
    #[command(subcommand)]
    Reserves(ReservesCmd),
    /// Hand the exchange's name to a new key: the old key signs the handover, which the first
    /// attestation under the new key carries (build --rotation).
    RotateKey {
        /// The old (current) key file.
        #[arg(
            long,
            required_unless_present = "old_signer",
            conflicts_with = "old_signer"
        )]
        old_key: Option<PathBuf>,
        /// The old key in a PKCS#11 token: 'pkcs11:module=PATH;token=LABEL;key=LABEL'.
        #[arg(long, value_name = "PKCS11_URI")]
        old_signer: Option<String>,
        /// The new key file (from keygen).
        #[arg(
            long,
            required_unless_present = "new_signer",
            conflicts_with = "new_signer"
        )]
        new_key: Option<PathBuf>,
        /// The new key in a PKCS#11 token (from keygen --signer).
        #[arg(long, value_name = "PKCS11_URI")]
        new_signer: Option<String>,
        /// The passphrase (encrypted key files) and PIN (tokens), for both keys.
        #[command(flatten)]
        secrets: SecretArgs,
        /// The exchange's name, as in its attestations.
        #[arg(long)]
        exchange: String,
        /// The first period the new key signs, YYYY-MM.
        #[arg(long)]
        period: String,
        /// Where to write the handover (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Build this month's anchor transaction: it spends the previous anchor output (the first
    /// time, the outpoint named in the first attestation) and commits the history's log root in
    /// an OP_RETURN output. Prints the unsigned transaction and a PSBT for the wallet to sign.
    Anchor {
        /// The public history.json (its latest log root is anchored).
        #[arg(long)]
        history: PathBuf,
        /// The output to spend, TXID:VOUT: the previous anchor's output 0.
        #[arg(long)]
        spend: String,
        /// Its value in satoshi.
        #[arg(long)]
        value: u64,
        /// The anchor address (it holds the previous output and receives the next one).
        #[arg(long)]
        address: String,
        /// The fee in satoshi.
        #[arg(long, default_value_t = 1_000)]
        fee: u64,
        /// bitcoin, bitcoin-testnet, bitcoin-testnet4, bitcoin-signet or bitcoin-regtest.
        #[arg(long, default_value = "bitcoin")]
        chain: String,
    },
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
    /// Print a completion script for your shell to standard output, e.g.
    /// `source <(por-prove completions bash)` or `por-prove completions zsh > ~/.zfunc/_por-prove`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: por_verifier::cli_docs::Shell,
    },
    /// Write one man page per command (por-prove.1, por-prove-SUB.1, …) into an existing directory.
    Manpages {
        /// The directory, e.g. /usr/local/share/man/man1.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Prints what `check` found, as text or JSON.
/// The export flags `build` and `check` share, as the values the work needs.
type ExportFlags = (
    por_verifier::registry::Registry,
    Option<Vec<por_verifier::binding::Binding>>,
    Option<Vec<por_verifier::asset::Asset>>,
    Negatives,
);

fn export_flags(
    registry: &RegistryArgs,
    bindings: Option<&std::path::Path>,
    assets: Option<&str>,
    negative_as_zero: bool,
) -> Result<ExportFlags> {
    Ok((
        registry.load()?,
        bindings.map(por_prover::build::read_bindings).transpose()?,
        assets
            .map(por_prover::build::parse_asset_list)
            .transpose()?,
        if negative_as_zero {
            Negatives::Clamp
        } else {
            Negatives::Reject
        },
    ))
}

/// Where a binding lets an asset's reserves be held, as `build` and `check` print it.
fn binding_line(b: &por_verifier::binding::Binding) -> String {
    if b.chain == por_verifier::chains::OFF_CHAIN {
        return format!("{:<8} off chain (fiat: no chain can prove it)", b.asset);
    }
    format!(
        "{:<8} on {}{} ({} decimals)",
        b.asset,
        b.chain,
        b.token
            .as_deref()
            .map(|t| format!(", token {t}"))
            .unwrap_or_default(),
        b.decimals
    )
}

fn report_check(path: &std::path::Path, c: &por_prover::check::ExportCheck, json: bool) {
    if json {
        let v = serde_json::json!({
            "schema_version": por_verifier::outcome::JSON_SCHEMA_VERSION,
            "result": if c.passed() { "pass" } else { "error" },
            "customers": c.customers, "clamped_rows": c.clamped,
            "totals": por_verifier::report::amount_json(&c.assets, &c.totals),
            "bindings": c.bindings,
            "unbound_assets": c.unbound,
            "problem_count": c.problem_count, "problems": c.problems,
        });
        por_verifier::report::say_json(&format!("{v:#}"));
        return;
    }
    say!(
        "Checked {} as build would (nothing signed, nothing written)",
        path.display()
    );
    say!("  customers:     {}", c.customers);
    if c.clamped > 0 {
        say!(
            "  clamped rows:  {} (negative balances counted as zero)",
            c.clamped
        );
    }
    say!("  totals of the good rows:");
    for l in por_verifier::report::amount_lines(&c.assets, &c.totals) {
        say!("    {l}");
    }
    say!("  reserves may be held:");
    for b in &c.bindings {
        say!("    {}", binding_line(b));
    }
    for u in &c.unbound {
        say!("    {u:<8} NOT BOUND");
    }
    if c.passed() {
        say!("VALID: build would accept this export.");
        return;
    }
    say!("Problems ({}):", c.problem_count);
    for p in &c.problems {
        say!("  {p}");
    }
    let more = c.problem_count - c.problems.len() as u64;
    if more > 0 {
        say!("  ... and {more} more");
    }
}

/// The exchange's signing key: a key file or a PKCS#11 token, exactly one.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct KeyArgs {
    /// The attestation key file written by `keygen` (an encrypted one is detected, and its
    /// passphrase asked for as --passphrase-file says).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The key in a PKCS#11 token (an HSM): 'pkcs11:module=PATH;token=LABEL;key=LABEL'; its
    /// PIN as --pin-file says.
    #[arg(long, value_name = "PKCS11_URI")]
    signer: Option<String>,
}

impl KeyArgs {
    fn source(&self) -> Result<KeySource> {
        KeySource::from_flags(self.key.clone(), self.signer.as_deref(), "--key/--signer")
    }
}

/// Where the passphrase and PIN come from: never the command line, which other users can read.
#[derive(clap::Args)]
struct SecretArgs {
    /// A file holding the passphrase of an encrypted key file (else POR_KEY_PASSPHRASE, else
    /// asked on the terminal).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// A file holding the PIN of the --signer token (else POR_PKCS11_PIN, else asked on the
    /// terminal).
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

impl SecretArgs {
    fn secrets(&self) -> Secrets {
        Secrets::new(self.passphrase_file.clone(), self.pin_file.clone())
    }
}

/// The registry the bindings are confirmed by, as the verifier's users will (built-in plus files).
#[derive(clap::Args)]
struct RegistryArgs {
    /// A registry file (por-registry-v1) for test networks, other chains, fiat (repeatable).
    #[arg(long, value_name = "FILE")]
    registry: Vec<PathBuf>,
    /// A token list in the Uniswap token-list format (repeatable).
    #[arg(long, value_name = "FILE")]
    token_list: Vec<PathBuf>,
}

impl RegistryArgs {
    fn load(&self) -> Result<por_verifier::registry::Registry> {
        por_verifier::registry::Registry::with_files(&self.registry, &self.token_list)
            .map(|(r, _)| r)
    }
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
        /// A Safe on an EVM chain: print instead the 32-byte hash its owners sign, 0x-hex (each
        /// owner's key signs it as is, v 27 or 28). Safe{Wallet} computes the same hash itself
        /// when the owners sign the message as text.
        #[arg(long, requires = "wallet")]
        safe: Option<String>,
        /// The Safe's release: safe-1.1.1, safe-1.3.0 or safe-1.4.1 (its implementation's).
        #[arg(long, requires = "safe")]
        wallet: Option<String>,
    },
    /// Check every reserve entry offline and write the next signed reserves statement
    /// (DIR/reserves-NNNN.json, and DIR/reserves.json as the latest).
    Add {
        /// The directory written by `build`.
        #[arg(long)]
        out: PathBuf,
        /// The entries (JSON: {"entries": [...]}, spec/reserves.md).
        #[arg(long)]
        reserves: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        secrets: SecretArgs,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The public history.json to append the statement to.
        #[arg(long)]
        history: Option<PathBuf>,
    },
}

/// Reads a key rotation file written by `rotate-key`.
fn read_rotation(path: &std::path::Path) -> Result<por_verifier::history::KeyRotation> {
    let bytes = por_verifier::input::read_bounded(
        path,
        1 << 16,
        por_verifier::input::FileKind::Other("key rotation file"),
    )?;
    let j: por_verifier::history::KeyRotationJson = por_verifier::input::parse_json(
        &path.display().to_string(),
        &bytes,
        por_verifier::input::FileKind::Other("key rotation file"),
    )?;
    por_verifier::history::KeyRotation::from_json(j, &path.display().to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = Progress::new(
        cli.progress,
        std::time::Duration::from_secs(cli.progress_every),
    );
    match run(cli.cmd, progress) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            por_verifier::report::say_err(&format!("por-prove: error: {e}"));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(cmd: Cmd, progress: Progress) -> Result<()> {
    match cmd {
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            por_verifier::cli_docs::completions(Cli::command(), shell, &mut std::io::stdout());
        }
        Cmd::Manpages { out } => {
            use clap::CommandFactory;
            for p in por_verifier::cli_docs::manpages(Cli::command(), &out)? {
                say!("{}", p.display());
            }
        }
        Cmd::Keygen {
            out,
            encrypt,
            signer,
            secrets,
        } => {
            let secrets = secrets.secrets();
            let public = match (out, signer) {
                (Some(out), None) if encrypt => {
                    let pass = secrets
                        .passphrase
                        .get_new(&format!("New passphrase for {}: ", out.display()))?;
                    por_prover::keys::keygen_encrypted(&out, &pass)?
                        .verifying_key()
                        .to_bytes()
                }
                (Some(out), None) => por_prover::keys::keygen(&out)?.verifying_key().to_bytes(),
                (None, Some(spec)) => por_prover::signer::Pkcs11Signer::generate(
                    &por_prover::signer::TokenSpec::parse(&spec)?,
                    &secrets.pin,
                )?,
                _ => {
                    return Err(Error::input(
                        "keygen: give --out FILE or --signer, not both",
                    ))
                }
            };
            say!("{}", hex::encode(public));
        }
        Cmd::Pubkey { key, secrets } => {
            let signer = key.source()?.open(&secrets.secrets())?;
            say!("{}", hex::encode(signer.public_key()))
        }
        Cmd::Build {
            liabilities,
            key,
            secrets,
            exchange,
            period,
            snapshot_time,
            height,
            negative_as_zero,
            out,
            force,
            no_ledger_copy,
            hidden_sums,
            assets,
            bindings,
            allow_unbound,
            registry,
            history,
            anchor,
            restart_anchor,
            rotation,
            key_lost,
            memory_budget,
            json,
        } => {
            let outpoint = |flag: &str, v: Option<String>| {
                v.as_deref()
                    .map(|t| {
                        por_verifier::outpoint::Outpoint::parse(t)
                            .map_err(|m| Error::input(format!("{flag} {m}")))
                    })
                    .transpose()
            };
            let anchor = outpoint("--anchor", anchor)?;
            let restart = outpoint("--restart-anchor", restart_anchor)?;
            let key = key.source()?;
            let (registry, bindings, expected_assets, negatives) = export_flags(
                &registry,
                bindings.as_deref(),
                assets.as_deref(),
                negative_as_zero,
            )?;
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
                bindings,
                allow_unbound,
                registry,
                history,
                anchor,
                restart,
                rotation: rotation.as_deref().map(read_rotation).transpose()?,
                key_lost,
                memory_budget,
                ledger_copy: !no_ledger_copy,
                hidden_sums,
            };
            // Opened last, once the flags are known good: a PIN or passphrase is asked for
            // only when there is something to sign.
            let signer = key.open(&secrets.secrets())?;
            let s = build(&cfg, signer.as_ref(), &progress)?;
            let att = &s.attestation;
            if let Some(w) = &s.replaced {
                // On stderr as well as in --json: the operator forced it and must see the cost.
                eprintln!("por-prove: warning: replaced under --force: {w}");
            }
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
                    "public_key": hex::encode(att.public_key), "attestation_digest": att.digest().to_hex(),
                    "bindings": att.bindings, "unbound_assets": s.unbound, "replaced_signed": s.replaced,
                });
                por_verifier::report::say_json(&format!("{v:#}"));
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
                say!("  digest:        {}", att.digest());
                say!(
                    "  fingerprint:   {}",
                    por_verifier::history::fingerprint(&att.digest())
                );
                match att.history.genesis {
                    Some(g) => say!(
                        "  genesis:       {g} (publish it beside your key: customers pin both and compare them with \
                         your page and mirrors)"
                    ),
                    None => say!(
                        "  genesis:       none: this history is anchored nowhere, so nothing on chain shows that every \
                         customer is given the same one (start the first month with --anchor TXID:VOUT)"
                    ),
                }
                say!("  reserves may be held:");
                for b in &att.bindings {
                    say!("    {}", binding_line(b));
                }
                for u in &s.unbound {
                    say!("    {u:<8} NOT BOUND: no reserves can count for it (give --bindings)");
                }
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
        Cmd::Check {
            liabilities,
            negative_as_zero,
            assets,
            bindings,
            allow_unbound,
            registry,
            height,
            json,
        } => {
            let (registry, bindings, expected, negatives) = export_flags(
                &registry,
                bindings.as_deref(),
                assets.as_deref(),
                negative_as_zero,
            )?;
            let c = por_prover::check::check_export(&por_prover::check::CheckConfig {
                liabilities: &liabilities,
                negatives,
                expected_assets: expected.as_deref(),
                bindings: bindings.as_deref(),
                registry: &registry,
                allow_unbound,
                height,
            })?;
            report_check(&liabilities, &c, json);
            if !c.passed() {
                return Err(Error::input(format!(
                    "{}: {} problem(s); build would refuse this export (nothing was signed or written)",
                    liabilities.display(),
                    c.problem_count
                )));
            }
        }
        Cmd::Publish {
            from,
            to,
            history,
            force,
        } => {
            let p = por_prover::publish::publish(&from, &to, history.as_deref(), force)?;
            say!(
                "Published {} (fingerprint {}), each file checked as customers will check it:",
                p.period,
                p.fingerprint
            );
            for (path, sha) in &p.files {
                say!("  {sha}  {}", path.display());
            }
        }
        Cmd::Proof { from, user, out } => {
            let att = Attestation::read(&from.join(ATTESTATION_FILE))?;
            let text = if att.hidden.is_some() {
                por_prover::hidden::make_proofs(&from, std::slice::from_ref(&user))?
                    .remove(0)
                    .to_json()
            } else {
                make_proofs(&from, std::slice::from_ref(&user))?
                    .remove(0)
                    .to_json()
            };
            match out {
                Some(path) => write_atomic(&path, text.as_bytes())?,
                None => say_raw!("{}", text),
            }
        }
        Cmd::Serve {
            from,
            listen,
            max_concurrent,
            threads,
            max_connections,
            header_timeout_secs,
            access_log,
            metrics_listen,
        } => {
            let tree = por_prover::stored::StoredTree::open_with_cache(
                &from,
                por_prover::stored::LARGE_CACHE,
            )?;
            let cfg = por_prover::serve::ServeConfig {
                listen,
                max_concurrent,
                threads: threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
                access_log,
                max_connections,
                header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                metrics_listen,
            };
            let customers = tree.customers();
            let c = por_prover::serve::serve(tree, &cfg, |addr| {
                say!("listening on http://{addr} ({customers} customers)");
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
            })?;
            use std::sync::atomic::Ordering::Relaxed;
            eprintln!(
                "{} por-prove serve: stopped; served {} proofs, {} unknown ids, {} bad requests, {} errors",
                por_prover::serve::stamp(),
                c.proofs.load(Relaxed),
                c.not_found.load(Relaxed),
                c.bad.load(Relaxed),
                c.errors.load(Relaxed)
            );
        }
        Cmd::StoreTree { from } => {
            por_prover::stored::store_tree(&from)?;
            say!(
                "wrote {}",
                from.join("private")
                    .join(por_prover::stored::TREE_FILE)
                    .display()
            );
        }
        Cmd::Proofs {
            from,
            users,
            out_dir,
            jsonl,
            chunk,
        } => {
            let text = std::fs::read_to_string(&users)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", users.display())))?;
            let ids: Vec<String> = text
                .trim_start_matches('\u{feff}')
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(String::from)
                .collect();
            let (summary, place) = match (out_dir, jsonl) {
                (Some(dir), _) => {
                    use std::io::Write as _;
                    let stage = por_prover::files::StagingDir::new(&dir, false)?;
                    let root = stage.path().to_path_buf();
                    // Each proof shows a customer's balances: the folder is its owner's only.
                    por_prover::files::set_private(&root)?;
                    for b in 0..=255u8 {
                        let d = root.join(format!("{b:02x}"));
                        std::fs::create_dir(&d).map_err(|e| {
                            Error::input(format!("{}: cannot create: {e}", d.display()))
                        })?;
                        por_prover::files::set_private(&d)?;
                    }
                    let names_key = por_prover::random::bytes32()?;
                    let index_path = root.join("index.jsonl");
                    let mut open = std::fs::OpenOptions::new();
                    open.write(true).create_new(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::OpenOptionsExt;
                        open.mode(0o600);
                    }
                    let mut index =
                        std::io::BufWriter::new(open.open(&index_path).map_err(|e| {
                            Error::input(format!("{}: cannot create: {e}", index_path.display()))
                        })?);
                    let summary = por_prover::proofs::batch_proofs(
                        &from,
                        &ids,
                        chunk,
                        &progress,
                        &|p| p.to_json(),
                        &mut |ready| {
                            use rayon::prelude::*;
                            // Files are independent: written in parallel; the index in order.
                            ready.par_iter().try_for_each(|(user_id, text)| {
                                let name = por_prover::proofs::proof_file_name(&names_key, user_id);
                                por_prover::files::write_private(&root.join(name), text.as_bytes())
                            })?;
                            for (user_id, _) in &ready {
                                let name = por_prover::proofs::proof_file_name(&names_key, user_id);
                                writeln!(
                                    index,
                                    "{}",
                                    serde_json::json!({"user_id": user_id, "file": name})
                                )
                                .map_err(|e| {
                                    Error::input(format!("index.jsonl: cannot write: {e}"))
                                })?;
                            }
                            Ok(())
                        },
                    )?;
                    index
                        .flush()
                        .map_err(|e| Error::input(format!("index.jsonl: cannot write: {e}")))?;
                    drop(index);
                    stage.commit()?;
                    (
                        summary,
                        format!(
                            "{} (index {})",
                            dir.display(),
                            dir.join("index.jsonl").display()
                        ),
                    )
                }
                (None, Some(file)) => {
                    if file.exists() {
                        return Err(Error::input(format!("{}: already exists", file.display())));
                    }
                    use std::io::Write as _;
                    // Streamed to a file beside the target and renamed at the end: no partial
                    // output after an error, and no proof held in memory.
                    let tmp = por_prover::files::sibling_temp(&file);
                    let _on_signal = por_verifier::cleanup::Guard::new(&tmp);
                    let mut open = std::fs::OpenOptions::new();
                    open.write(true).create_new(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::OpenOptionsExt;
                        // Every line shows a customer's balances: the file is its owner's only.
                        open.mode(0o600);
                    }
                    let mut out = std::io::BufWriter::new(open.open(&tmp).map_err(|e| {
                        Error::input(format!("{}: cannot create: {e}", tmp.display()))
                    })?);
                    let result = por_prover::proofs::batch_proofs(
                        &from,
                        &ids,
                        chunk,
                        &progress,
                        &|p| p.to_json_line(),
                        &mut |ready| {
                            for (_, text) in ready {
                                out.write_all(text.as_bytes()).map_err(|e| {
                                    Error::input(format!("{}: cannot write: {e}", tmp.display()))
                                })?;
                            }
                            Ok(())
                        },
                    );
                    let flushed = out.flush();
                    drop(out);
                    let done = result.and_then(|s| {
                        flushed.map(|()| s).map_err(|e| {
                            Error::input(format!("{}: cannot write: {e}", tmp.display()))
                        })
                    });
                    let summary = match done {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = std::fs::remove_file(&tmp);
                            return Err(e);
                        }
                    };
                    std::fs::rename(&tmp, &file).map_err(|e| {
                        Error::input(format!("{}: cannot write: {e}", file.display()))
                    })?;
                    (summary, file.display().to_string())
                }
                (None, None) => return Err(Error::input("give --out-dir DIR or --jsonl FILE")),
            };
            say!("wrote {} proofs to {place}", summary.written);
            if !summary.skipped.is_empty() {
                say!("skipped {} requested user(s):", summary.skipped.len());
                for s in summary.skipped.iter().take(50) {
                    match s {
                        por_prover::proofs::Skipped::Invalid(u, why) => {
                            say!("  invalid id {u:?}: {why}")
                        }
                        por_prover::proofs::Skipped::Unknown(u) => {
                            say!("  not in this month's tree: {u:?}")
                        }
                        por_prover::proofs::Skipped::Duplicate(u) => {
                            say!("  asked twice (one proof written): {u:?}")
                        }
                    }
                }
                if summary.skipped.len() > 50 {
                    say!("  ... and {} more", summary.skipped.len() - 50);
                }
                return Err(Error::failed(format!(
                    "{} requested user(s) got no proof (listed above)",
                    summary.skipped.len()
                )));
            }
        }
        Cmd::Reserves(ReservesCmd::Challenge {
            attestation,
            chain,
            height,
            out,
            safe,
            wallet,
        }) => {
            let att = por_verifier::Attestation::read(&attestation)?;
            let chain = por_verifier::chains::Chain::parse(&chain)
                .map_err(|m| Error::input(format!("--chain: {m}")))?;
            let mut msg = por_verifier::reserves::challenge(
                &att.exchange,
                &att.period,
                &chain,
                height,
                &att.digest(),
            );
            if let (Some(safe), Some(wallet)) = (safe, wallet) {
                let version = por_verifier::safe::SafeVersion::parse(&wallet)
                    .map_err(|m| Error::input(format!("--wallet: {m}")))?;
                let por_verifier::chains::Chain::Evm(chain_id) = chain else {
                    return Err(Error::input(format!(
                        "--safe: {chain} is not an EVM chain; Safes live on EVM chains"
                    )));
                };
                let address = por_verifier::evm::EthAddress::parse(&safe)
                    .map_err(|e| Error::input(format!("--safe: {}", e.message())))?;
                let hash = por_verifier::safe::message_hash(
                    version,
                    chain_id,
                    &address,
                    &por_verifier::safe::challenge_message(msg.as_bytes()),
                );
                msg = format!("0x{}", hex::encode(hash));
            }
            match out {
                Some(path) => write_atomic(&path, msg.as_bytes())?,
                // The tool's own text, printed byte for byte as it is signed: escaping its line
                // breaks (as for exchange-signed strings) would have operators sign other bytes.
                // The closing line break goes to stderr, so a pipe or a file gets the exact bytes.
                None => {
                    say_raw!("{msg}");
                    use std::io::IsTerminal;
                    if std::io::stdout().is_terminal() {
                        eprintln!();
                    }
                }
            }
        }
        Cmd::Reserves(ReservesCmd::Add {
            out,
            reserves,
            key,
            secrets,
            registry,
            history,
        }) => {
            let registry = registry.load()?;
            let key = key.source()?.open(&secrets.secrets())?;
            let a = por_prover::reserves::add_reserves(
                &out,
                &reserves,
                key.as_ref(),
                registry,
                history.as_deref(),
            )?;
            say!(
                "signed reserves statement #{} with {} entries, every signature and binding checked: {}",
                a.statement.sequence,
                a.statement.entries.len(),
                a.path.display()
            );
            if !a.short.is_empty() {
                say!(
                    "note: the claims do not cover liabilities for {}: verifiers will report them SHORT",
                    a.short.join(", ")
                );
            }
        }
        Cmd::RotateKey {
            old_key,
            old_signer,
            new_key,
            new_signer,
            secrets,
            exchange,
            period,
            out,
        } => {
            por_verifier::text::validate_exchange(&exchange)
                .map_err(|e| e.context("--exchange"))?;
            por_verifier::text::validate_period(&period).map_err(|e| e.context("--period"))?;
            let secrets = secrets.secrets();
            let old =
                KeySource::from_flags(old_key, old_signer.as_deref(), "--old-key/--old-signer")?
                    .open(&secrets)?;
            let new =
                KeySource::from_flags(new_key, new_signer.as_deref(), "--new-key/--new-signer")?
                    .open(&secrets)?;
            let r =
                por_prover::signer::handover(old.as_ref(), new.public_key(), &exchange, &period)?;
            let text = serde_json::to_string_pretty(&r.to_json()).unwrap_or_default() + "\n";
            write_atomic(&out, text.as_bytes())?;
            say!(
                "the old key {} hands {exchange:?} to {} from {period}: {}",
                hex::encode(old.public_key()),
                hex::encode(new.public_key()),
                out.display()
            );
        }
        Cmd::Anchor {
            history,
            spend,
            value,
            address,
            fee,
            chain,
        } => {
            let a =
                por_prover::anchor::build_anchor(&history, &spend, value, &address, fee, &chain)?;
            por_verifier::report::say_json(&serde_json::to_string_pretty(&a).unwrap_or_default());
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
            // Streamed to a file beside the target (100M rows are about 12 GB), then renamed.
            let tmp = por_prover::files::sibling_temp(&out);
            let written = std::fs::File::create(&tmp).and_then(|f| {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                por_prover::synth::write_liabilities(&mut w, users, assets, seed)?;
                use std::io::Write as _;
                w.flush()?;
                drop(w);
                std::fs::rename(&tmp, &out)
            });
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::input(format!(
                    "{}: cannot write: {e}",
                    out.display()
                )));
            }
        }
    }
    Ok(())
}
