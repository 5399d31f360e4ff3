//! `por-prove build`: liabilities export in, signed attestation and private state out.

use crate::files::{set_private, StagingDir};
use crate::progress::Progress;
use crate::random::{bytes32, SaltSource};
use crate::signer::ExchangeSigner;
use crate::stored::{cut_level, DENSE_SHIFT, TREE_FILE};
use crate::streamed::{StreamedBuilder, StreamedTree};
use por_verifier::amount::Amount;
use por_verifier::asset::Asset;
use por_verifier::attestation::Attestation;
use por_verifier::binding::Binding;
use por_verifier::error::{Error, Result};
use por_verifier::hash::Hash;
use por_verifier::history::{History, HistoryLink, KeyRotation, Kind};
use por_verifier::liabilities::{LiabilitiesReader, Negatives, Totals};
use por_verifier::outpoint::Outpoint;
use por_verifier::registry::Registry;
use por_verifier::state::{
    PrivateState, ATTESTATION_FILE, LEAVES_FILE, LEDGER_FILE, PRIVATE_DIR, STATE_FORMAT,
};
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Default tree height: room for 4 billion customers, so the height reveals nothing.
pub const DEFAULT_HEIGHT: u8 = 32;

/// What `build` needs.
pub struct BuildConfig {
    /// Memory for the leaves of one slice of the tree, in bytes: a larger export is cut into
    /// more slices, built one after the other (streamed.rs).
    pub memory_budget: u64,
    /// Copy the export into `private/liabilities.csv` (the auditor's default ledger).
    pub ledger_copy: bool,
    /// The liabilities export.
    pub liabilities: PathBuf,
    /// The exchange's name as it appears in the attestation.
    pub exchange: String,
    /// The period, `YYYY-MM`.
    pub period: String,
    /// Snapshot time (UTC, `YYYY-MM-DDTHH:MM:SSZ`); now when `None`.
    pub snapshot_time: Option<String>,
    /// Tree height.
    pub height: u8,
    /// Negative balance policy.
    pub negatives: Negatives,
    /// Output directory (must not exist unless `force`).
    pub out: PathBuf,
    /// Replace an existing output directory.
    pub force: bool,
    /// The assets the export must list, in order; any other column is an unknown asset.
    pub expected_assets: Option<Vec<Asset>>,
    /// Where each asset's reserves may be held; `None` binds each asset the built-in registry
    /// knows to its mainnet place and leaves the others unbound.
    pub bindings: Option<Vec<Binding>>,
    /// Sign even when an asset has no binding (no reserves can ever count for it).
    pub allow_unbound: bool,
    /// The registry the bindings must be confirmed by (built-in and the exchange's own files).
    pub registry: Registry,
    /// The public `history.json` to chain this attestation to and append it to.
    pub history: Option<PathBuf>,
    /// For an exchange's first attestation: the Bitcoin outpoint its first anchor will spend
    /// (the history's genesis, signed in every later attestation too).
    pub anchor: Option<Outpoint>,
    /// After the anchor chain broke: the outpoint a new anchor chain starts from.
    pub restart: Option<Outpoint>,
    /// The previous key's handover to this key (`por-prove rotate-key`), when the key changed.
    pub rotation: Option<KeyRotation>,
    /// The old key is lost: sign with a new key without its handover. Every customer must then
    /// re-pin the new key by hand (`por-verify pin`), after checking the exchange's announcement.
    pub key_lost: bool,
    /// Build the hidden-sums tree (commitments and range proofs, spec/hidden.md) instead of
    /// sums in the clear.
    pub hidden_sums: bool,
}

/// Reads `history.json`, or starts an empty history when the file does not exist yet.
pub fn read_or_new_history(path: &Path, exchange: &str) -> Result<History> {
    if !path.exists() {
        return Ok(History::new(exchange, None));
    }
    let h = History::read(path)?;
    if h.exchange != exchange {
        return Err(Error::input(format!(
            "{}: the history of {:?}, not of {exchange:?}",
            path.display(),
            h.exchange
        )));
    }
    Ok(h)
}

/// What a second signature over one period does to customers, for the refusal and for the
/// warning when forced.
fn resign_words(place: &str, exchange: &str, period: &str, digest: &Hash) -> String {
    format!(
        "{place}: already holds the signed attestation of {exchange:?} for {period} (digest {}). Signing \
         {period} again makes a second, different attestation for it: every customer who checked the first \
         and then sees this one (in their store or in history.json) gets EQUIVOCATION [history.equivocation], \
         evidence that the exchange showed two views of one month.",
        digest.to_hex()
    )
}

const RESIGN_ADVICE: &str =
    "If the first was never published, pass --force to replace it; once published, \
     correct it with a new reserves statement or in the next period's attestation.";

/// An attestation of this exchange and period already at the output directory: refused, or
/// with `force` the words for the warning.
fn check_out_dir(cfg: &BuildConfig) -> Result<Option<String>> {
    let file = cfg.out.join(ATTESTATION_FILE);
    let Ok(old) = Attestation::read(&file) else {
        return Ok(None);
    };
    if old.exchange != cfg.exchange || old.period != cfg.period {
        return Ok(None);
    }
    let what = resign_words(
        &file.display().to_string(),
        &cfg.exchange,
        &cfg.period,
        &old.digest(),
    );
    if !cfg.force {
        return Err(Error::input(format!("{what} {RESIGN_ADVICE}")));
    }
    Ok(Some(what))
}

/// The history link of a new attestation, refusing what verifiers would reject: a period
/// already attested or earlier than the last, and a key change without the old key's handover.
fn link_history(
    cfg: &BuildConfig,
    key: &dyn ExchangeSigner,
    snapshot_time: &str,
    replaced: &mut Option<String>,
) -> Result<Option<(History, HistoryLink)>> {
    let Some(path) = &cfg.history else {
        if cfg.restart.is_some() {
            return Err(Error::input(
                "--restart-anchor continues a history: give --history",
            ));
        }
        return Ok(None);
    };
    let mut h = read_or_new_history(path, &cfg.exchange)?;
    let last_at = h.entries.iter().rposition(|e| e.kind == Kind::Attestation);
    if let Some(i) = last_at {
        let last = &h.entries[i];
        if last.period > cfg.period {
            return Err(Error::input(format!(
                "{}: {} is already attested, after {}: periods go forward only; a correction of {} is a \
                 corrected reserves statement or the next period's attestation",
                path.display(),
                last.period,
                cfg.period,
                cfg.period
            )));
        }
        if last.period == cfg.period {
            let what = resign_words(
                &path.display().to_string(),
                &cfg.exchange,
                &cfg.period,
                &last.digest,
            );
            if !cfg.force {
                return Err(Error::input(format!("{what} {RESIGN_ADVICE}")));
            }
            // Forced: this month's attestation and what followed it (its reserves statements,
            // which sign its digest) leave the history, which then links to the month before.
            *replaced = Some(what);
            h.entries.truncate(i);
        }
    }
    let last = h.entries.iter().rev().find(|e| e.kind == Kind::Attestation);
    if let Some(last) = last {
        if cfg.anchor.is_some() {
            return Err(Error::input(
                "--anchor names the history's genesis, which only the first attestation sets (later ones sign it \
                 too); after a broken anchor chain, give --restart-anchor",
            ));
        }
        // The previous attestation, where the history's hint finds it: its snapshot must be
        // earlier (verifiers check it against the signed attestations).
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Some(prev) = last
            .file
            .as_ref()
            .and_then(|f| Attestation::read(&base.join(f)).ok())
        {
            let (a, b) = (
                por_verifier::time::unix_seconds(&prev.snapshot_time),
                por_verifier::time::unix_seconds(snapshot_time),
            );
            if let (Some(a), Some(b)) = (a, b) {
                if b <= a {
                    return Err(Error::input(format!(
                        "--snapshot-time must be later than the previous attestation's ({})",
                        prev.snapshot_time
                    )));
                }
            }
        }
        let last_key = last.public_key;
        let new_key = key.public_key();
        if last_key != new_key {
            let Some(rot) = &cfg.rotation else {
                if cfg.key_lost {
                    let link = h.link(cfg.restart);
                    return Ok(Some((h, link)));
                }
                return Err(Error::input(format!(
                    "{}: the last attestation was signed by {}; a new key needs --rotation signed by the old key \
                     (por-prove rotate-key), or --key-lost if that key is lost (every customer must then re-pin by \
                     hand)",
                    path.display(),
                    hex::encode(last.public_key)
                )));
            };
            let msg = por_verifier::history::rotation_message(&cfg.exchange, &cfg.period, &new_key);
            let valid = rot.old_key == last_key
                && ed25519_dalek::VerifyingKey::from_bytes(&last_key)
                    .and_then(|k| {
                        k.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&rot.signature))
                    })
                    .is_ok();
            if !valid {
                return Err(Error::input(format!(
                    "--rotation: not a handover of {:?} for {} from the last key {} to this key",
                    cfg.exchange,
                    cfg.period,
                    hex::encode(last.public_key)
                )));
            }
        }
    } else {
        if cfg.restart.is_some() {
            return Err(Error::input(
                "--restart-anchor starts a new anchor chain after a broken one; the first attestation names its \
                 genesis with --anchor",
            ));
        }
        h.genesis = cfg.anchor;
    }
    let link = h.link(cfg.restart);
    Ok(Some((h, link)))
}

/// The format of a bindings file: `{"bindings": [{"asset", "chain", "token"?, "decimals"}]}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingsFile {
    bindings: Vec<Binding>,
}

/// Reads a bindings file.
pub fn read_bindings(path: &Path) -> Result<Vec<Binding>> {
    let bytes = por_verifier::input::read_bounded(
        path,
        4 << 20,
        por_verifier::input::FileKind::Other("bindings file"),
    )?;
    let f: BindingsFile = por_verifier::input::parse_json(
        &path.display().to_string(),
        &bytes,
        por_verifier::input::FileKind::Other("bindings file"),
    )?;
    Ok(f.bindings)
}

/// The bindings to sign: the given ones, each confirmed by the registry, or the registry's
/// defaults. Returns them with the symbols left unbound.
fn choose_bindings(cfg: &BuildConfig, assets: &[Asset]) -> Result<(Vec<Binding>, Vec<String>)> {
    bindings_for(cfg.bindings.as_deref(), &cfg.registry, assets)
}

/// [`choose_bindings`] from its parts, for `build` and `check` alike.
pub fn bindings_for(
    given: Option<&[Binding]>,
    registry: &Registry,
    assets: &[Asset],
) -> Result<(Vec<Binding>, Vec<String>)> {
    let bindings = match given {
        Some(b) => b.to_vec(),
        None => assets
            .iter()
            .filter_map(|a| registry.default_binding(&a.symbol))
            .collect(),
    };
    for (i, b) in bindings.iter().enumerate() {
        let c = b
            .check(assets)
            .map_err(|m| Error::input(format!("bindings[{i}]: {m}")))?;
        registry
            .confirm(&c)
            .map_err(|m| Error::input(format!("bindings[{i}] ({}): {m}", c.label())))?;
    }
    let unbound = assets
        .iter()
        .filter(|a| !bindings.iter().any(|b| b.asset == a.symbol))
        .map(|a| a.symbol.clone())
        .collect();
    Ok((bindings, unbound))
}

/// What `build` reports.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    /// The signed attestation.
    pub attestation: Attestation,
    /// Customers in the tree.
    pub customers: u64,
    /// Rows with a negative balance clamped to zero.
    pub clamped_rows: u64,
    /// Where the attestation was written.
    pub attestation_path: PathBuf,
    /// Assets with no binding: no reserves can count for them.
    pub unbound: Vec<String>,
    /// Forced over a signed attestation of the same period (at the output or in the history):
    /// what customers who saw it will see.
    pub replaced: Option<String>,
}

/// Signs an attestation in place with the exchange's key (a key file or a token: signing can
/// fail, and then the attestation is left unsigned).
pub fn sign(att: &mut Attestation, key: &dyn ExchangeSigner) -> Result<()> {
    att.public_key = key.public_key();
    att.signature = key.sign(&att.signing_message())?.to_bytes();
    Ok(())
}

/// Runs the build. On any error nothing is left at `cfg.out`.
pub fn build(
    cfg: &BuildConfig,
    key: &dyn ExchangeSigner,
    progress: &Progress,
) -> Result<BuildSummary> {
    por_verifier::text::validate_exchange(&cfg.exchange).map_err(|e| e.context("--exchange"))?;
    por_verifier::text::validate_period(&cfg.period).map_err(|e| e.context("--period"))?;
    let snapshot_time = match &cfg.snapshot_time {
        Some(t) => t.clone(),
        None => humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    por_verifier::text::validate_timestamp(&snapshot_time)
        .map_err(|e| e.context("--snapshot-time"))?;
    let in_period = |t: &str| {
        let (start, end) = por_verifier::time::period_bounds(&cfg.period)?;
        let t = por_verifier::time::unix_seconds(t)?;
        Some(t >= start && t < end + por_verifier::attestation::SNAPSHOT_GRACE_SECS)
    };
    if in_period(&snapshot_time) != Some(true) {
        return Err(Error::input(format!(
            "--snapshot-time {snapshot_time}: expected a time in the period {} or the 7 days after it \
             (verifiers reject any other)",
            cfg.period
        )));
    }
    if cfg.height == 0 || cfg.height > por_verifier::tree::MAX_HEIGHT {
        return Err(Error::input(format!(
            "--height {}: expected 1 to 64",
            cfg.height
        )));
    }
    let mut replaced = None;
    let history = link_history(cfg, key, &snapshot_time, &mut replaced)?;
    crate::files::clear_leftovers(&cfg.out);
    if let Some(w) = check_out_dir(cfg)? {
        replaced.get_or_insert(w);
    }
    let stage = StagingDir::new(&cfg.out, cfg.force)?;
    let private = stage.path().join(PRIVATE_DIR);
    std::fs::create_dir(&private)
        .map_err(|e| Error::input(format!("{}: cannot create: {e}", private.display())))?;
    set_private(&private)?;

    let position_seed = bytes32()?;
    let padding_key = bytes32()?;
    let (assets, tree, totals, clamped, ledger_sha) =
        read_export(cfg, &private, position_seed, padding_key, progress)?;
    let n = tree.customers;
    let (bindings, unbound) = choose_bindings(cfg, &assets)?;
    // An unbound asset is owed to customers and can never be covered: every customer's
    // reserves check then says so. Signing that is a decision, not a default.
    if !unbound.is_empty() && !cfg.allow_unbound {
        return Err(Error::input(format!(
            "no binding for {}: no reserves can ever count for {}, so every customer's reserves check would \
             fail for it. Give --bindings FILE naming where each asset is held (chain, token contract, decimals), \
             or --allow-unbound to sign anyway; nothing was signed",
            unbound.join(", "),
            if unbound.len() == 1 { "it" } else { "them" }
        )));
    }
    if tree.root_sums != totals {
        // The tree and the running totals are computed independently; they must agree.
        return Err(Error::failed(
            "internal error: tree totals differ from the export's totals",
        ));
    }
    let mut built = tree;
    let mut hidden = None;
    let mut blinding_key = None;
    if cfg.hidden_sums {
        let key = bytes32()?;
        let params = por_verifier::tree::TreeParams {
            height: cfg.height,
            assets: assets.len(),
            padding_key,
        };
        let committed = crate::hidden::build_and_store(&private, &assets, &params, key, n)?;
        let values: Vec<Amount> = committed
            .root_units
            .iter()
            .map(|o| Amount(o.value))
            .collect();
        if values != built.root_sums {
            return Err(Error::failed(
                "internal error: the committed tree's totals differ from the export's totals",
            ));
        }
        built.root = committed.root;
        hidden = Some(crate::hidden::section(&committed.root_units));
        blinding_key = Some(hex::encode(key));
    }

    let mut att = Attestation {
        exchange: cfg.exchange.clone(),
        period: cfg.period.clone(),
        snapshot_time,
        assets: assets.clone(),
        tree_height: cfg.height,
        root_hash: built.root,
        liabilities: built.root_sums,
        bindings,
        history: history
            .as_ref()
            .map_or_else(|| HistoryLink::first(cfg.anchor), |(_, l)| l.clone()),
        rotation: cfg.rotation.clone(),
        hidden,
        public_key: [0; 32],
        signature: [0; 64],
    };
    sign(&mut att, key)?;
    let state = PrivateState {
        format: STATE_FORMAT.to_string(),
        exchange: cfg.exchange.clone(),
        period: cfg.period.clone(),
        assets,
        tree_height: cfg.height,
        position_seed: hex::encode(position_seed),
        padding_key: hex::encode(padding_key),
        customers: n,
        clamped_rows: clamped,
        liabilities_sha256: ledger_sha.to_hex(),
        blinding_key,
    };
    let state_json = serde_json::to_string_pretty(&state).unwrap_or_default();
    write_file(
        &private.join(por_verifier::state::STATE_FILE),
        state_json.as_bytes(),
    )?;
    write_file(
        &stage.path().join(ATTESTATION_FILE),
        att.to_json().as_bytes(),
    )?;
    stage.commit()?;
    if let (Some((mut h, _)), Some(path)) = (history, &cfg.history) {
        let file = relative_to(path, &cfg.out.join(ATTESTATION_FILE));
        let e = h.append(
            Kind::Attestation,
            &att.period,
            &att.digest(),
            &att.public_key,
        );
        e.file = file;
        e.key_rotation = att.rotation.clone();
        e.restart = att.history.restart;
        crate::files::write_atomic(path, h.to_json().as_bytes())?;
    }
    Ok(BuildSummary {
        attestation: att,
        customers: n,
        clamped_rows: clamped,
        attestation_path: cfg.out.join(ATTESTATION_FILE),
        unbound,
        replaced,
    })
}

/// `file` as a path relative to the directory of `history`, when it lies below it (the layout
/// the history's readers expect); `None` otherwise, so that no local path is published.
pub fn relative_to(history: &Path, file: &Path) -> Option<String> {
    let base = history
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let abs = |p: &Path| std::fs::canonicalize(p).ok();
    let (b, f) = (abs(base)?, abs(file)?);
    f.strip_prefix(&b)
        .ok()
        .map(|r| r.to_string_lossy().into_owned())
}

type Export = (Vec<Asset>, StreamedTree, Vec<Amount>, u64, Hash);

/// Streams the export once: validates every row, assigns positions and salts, and copies the
/// bytes to the private ledger copy while hashing them; then builds the tree out of core.
fn read_export(
    cfg: &BuildConfig,
    private: &Path,
    seed: [u8; 32],
    padding_key: [u8; 32],
    progress: &Progress,
) -> Result<Export> {
    let name = cfg.liabilities.display().to_string();
    let copy_to = private.join(LEDGER_FILE);
    let file = std::fs::File::open(&cfg.liabilities)
        .map_err(|e| Error::input(format!("{name}: cannot open: {e}")))?;
    // A pipe has no size: then as many slices as allowed, whatever comes through it.
    let size_hint = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => u64::MAX,
    };
    let copy: Box<dyn Write> = if cfg.ledger_copy {
        let f = std::fs::File::create(&copy_to)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", copy_to.display())))?;
        Box::new(BufWriter::with_capacity(1 << 20, f))
    } else {
        Box::new(std::io::sink())
    };
    let tee = Tee {
        inner: file,
        copy,
        hasher: Sha256::new(),
    };
    let mut reader = LiabilitiesReader::new(
        &name,
        std::io::BufReader::with_capacity(1 << 20, tee),
        cfg.negatives,
    )?;
    let assets = reader.assets().to_vec();
    if let Some(expected) = &cfg.expected_assets {
        check_expected_assets(&name, &assets, expected)?;
    }
    let k = assets.len();
    let mut totals = Totals::new(k);
    let mut builder = StreamedBuilder::new(
        &name,
        &private.join(".spill"),
        cfg.height,
        &assets,
        seed,
        cfg.memory_budget,
        size_hint,
    )?;
    let mut salts = SaltSource::new();
    let mut clamped = 0u64;
    let mut count = 0u64;
    let rows = progress.rows();
    while let Some(row) = reader.next_row()? {
        totals.add(&name, &row, &assets)?;
        clamped += u64::from(row.clamped);
        builder.push(&row, &salts.next_salt()?)?;
        count += 1;
        if count.is_multiple_of(65536) {
            rows.set(count);
        }
    }
    rows.set(count);
    rows.finish();
    let mut tee = reader.into_inner().into_inner();
    tee.copy
        .flush()
        .map_err(|e| Error::input(format!("{}: cannot write: {e}", copy_to.display())))?;
    let sha = Hash(tee.hasher.finalize().into());
    if count == 0 {
        return Err(Error::input(format!(
            "{name}: no customer rows after the header"
        )));
    }
    let cut = cut_level(cfg.height, count, DENSE_SHIFT);
    let tree = builder.finish(
        padding_key,
        &private.join(LEAVES_FILE),
        &private.join(TREE_FILE),
        cut,
        progress,
    )?;
    Ok((assets, tree, totals.sums().to_vec(), clamped, sha))
}

/// Compares the header's assets with the list the operator expects, naming the first column
/// that differs.
pub fn check_expected_assets(name: &str, found: &[Asset], expected: &[Asset]) -> Result<()> {
    for (i, a) in found.iter().enumerate() {
        match expected.iter().position(|e| e.symbol == a.symbol) {
            None => {
                return Err(Error::input(format!(
                    "{name} line 1, column {}: unknown asset {} (expected one of: {})",
                    i + 2,
                    a.symbol,
                    expected
                        .iter()
                        .map(|e| e.symbol.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
            Some(j) if expected[j].decimals != a.decimals => {
                return Err(Error::input(format!(
                    "{name} line 1, column {}: asset {} has {} decimals, expected {}",
                    i + 2,
                    a.symbol,
                    a.decimals,
                    expected[j].decimals
                )))
            }
            Some(_) => {}
        }
    }
    if found.len() != expected.len() || found.iter().zip(expected).any(|(f, e)| f != e) {
        return Err(Error::input(format!(
            "{name} line 1: expected the assets {} in this order",
            expected
                .iter()
                .map(|e| format!("{}:{}", e.symbol, e.decimals))
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    Ok(())
}

/// Parses `--assets BTC:8,ETH:18`.
pub fn parse_asset_list(text: &str) -> Result<Vec<Asset>> {
    let assets = text
        .split(',')
        .map(|c| Asset::parse_column(c.trim()).map_err(|e| e.context("--assets")))
        .collect::<Result<Vec<_>>>()?;
    por_verifier::asset::validate_assets(&assets).map_err(|e| e.context("--assets"))?;
    Ok(assets)
}

struct Tee<W: Write> {
    inner: std::fs::File,
    copy: W,
    hasher: Sha256,
}

impl<W: Write> Read for Tee<W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))
}
