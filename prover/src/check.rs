//! `por-prove check`: the monthly export validated without signing anything.
//!
//! At millions of rows, a build that stops at the first bad row costs a full rerun per fix. The
//! check reads the whole export once, as `build` would, and reports every bad row (the first
//! [`LISTED`] in full, the rest counted), duplicate ids, the totals per asset, the bindings the
//! build would sign and the assets it would refuse as unbound. It needs no key and writes
//! nothing.

use crate::build::{bindings_for, check_expected_assets};
use por_verifier::amount::Amount;
use por_verifier::asset::Asset;
use por_verifier::binding::Binding;
use por_verifier::error::{Error, Result};
use por_verifier::liabilities::{LiabilitiesReader, Negatives, Totals};
use por_verifier::registry::Registry;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// How many bad rows are listed in full; the rest are counted.
pub const LISTED: usize = 20;

/// What `check` is given.
pub struct CheckConfig<'a> {
    /// The export.
    pub liabilities: &'a Path,
    /// Negative balance policy, as in `build`.
    pub negatives: Negatives,
    /// The assets the export must list, in order.
    pub expected_assets: Option<&'a [Asset]>,
    /// The bindings `build` would be given.
    pub bindings: Option<&'a [Binding]>,
    /// The registry confirming them.
    pub registry: &'a Registry,
    /// Whether unbound assets are allowed, as in `build`.
    pub allow_unbound: bool,
    /// The tree height `build` would use.
    pub height: u8,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct ExportCheck {
    /// The assets of the header.
    pub assets: Vec<Asset>,
    /// Good customer rows.
    pub customers: u64,
    /// Rows whose negative balances would be clamped.
    pub clamped: u64,
    /// The totals of the good rows.
    pub totals: Vec<Amount>,
    /// Every problem, the first [`LISTED`] in full.
    pub problems: Vec<String>,
    /// How many problems in all (bad rows, duplicates, bindings, height).
    pub problem_count: u64,
    /// The bindings `build` would sign.
    pub bindings: Vec<Binding>,
    /// The assets left unbound.
    pub unbound: Vec<String>,
}

impl ExportCheck {
    fn problem(&mut self, p: String) {
        self.problem_count += 1;
        if self.problems.len() < LISTED {
            self.problems.push(p);
        }
    }

    /// Whether `build` would accept the export.
    pub fn passed(&self) -> bool {
        self.problem_count == 0
    }
}

/// Reads the whole export and reports every problem. `Err` only when the file cannot be read
/// or its header is unusable: then no row can be checked.
pub fn check_export(cfg: &CheckConfig<'_>) -> Result<ExportCheck> {
    let name = cfg.liabilities.display().to_string();
    let file = std::fs::File::open(cfg.liabilities)
        .map_err(|e| Error::input(format!("{name}: cannot open: {e}")))?;
    let mut reader = LiabilitiesReader::new(
        &name,
        std::io::BufReader::with_capacity(1 << 20, file),
        cfg.negatives,
    )?;
    let mut out = ExportCheck {
        assets: reader.assets().to_vec(),
        ..ExportCheck::default()
    };
    if let Some(expected) = cfg.expected_assets {
        if let Err(e) = check_expected_assets(&name, &out.assets, expected) {
            out.problem(e.message().to_string());
        }
    }
    let mut totals = Totals::new(out.assets.len());
    // Ids by a 16-byte hash (about 40 bytes an entry with the map's overhead, so 40 MB at a
    // million customers) rather than by the id itself.
    let mut seen: HashMap<[u8; 16], u64> = HashMap::new();
    let mut last_line = 0u64;
    loop {
        match reader.next_row() {
            Ok(None) => break,
            Ok(Some(row)) => {
                last_line = row.line;
                let key: [u8; 16] = Sha256::digest(row.user_id.as_bytes())[..16]
                    .try_into()
                    .expect("16 of 32 bytes");
                if let Some(first) = seen.insert(key, row.line) {
                    out.problem(format!(
                        "{name} line {}, field user_id: duplicate user id {:?} (first at line {first})",
                        row.line, row.user_id
                    ));
                    continue;
                }
                if let Err(e) = totals.add(&name, &row, &out.assets) {
                    out.problem(e.message().to_string());
                    continue;
                }
                out.customers += 1;
                out.clamped += u64::from(row.clamped);
            }
            Err(e) => {
                out.problem(e.message().to_string());
                // A read error does not move past its line: stop rather than loop on it.
                if reader.line() == last_line {
                    break;
                }
                last_line = reader.line();
            }
        }
    }
    out.totals = totals.sums().to_vec();
    if out.customers == 0 && out.problem_count == 0 {
        out.problem(format!("{name}: no customer rows after the header"));
    }
    if cfg.height < 64 && out.customers > 1u64 << cfg.height {
        out.problem(format!(
            "{} customers do not fit a tree of height {} (at most {})",
            out.customers,
            cfg.height,
            1u64 << cfg.height
        ));
    }
    match bindings_for(cfg.bindings, cfg.registry, &out.assets) {
        Ok((b, u)) => {
            out.bindings = b;
            out.unbound = u;
        }
        Err(e) => out.problem(e.message().to_string()),
    }
    if !out.unbound.is_empty() && !cfg.allow_unbound {
        let u = out.unbound.join(", ");
        out.problem(format!(
            "no binding for {u}: build refuses to sign it (give --bindings FILE, or --allow-unbound)"
        ));
    }
    Ok(out)
}
