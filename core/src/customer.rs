//! The whole customer check, as one function: the attestation's signature by the key the
//! customer trusts, then the inclusion proof (spec/proof.md). The command line and the browser
//! page say the same words because both take them from here.

use crate::amount::Amount;
use crate::asset::Asset;
use crate::attestation::{parse_public_key, Attestation};
use crate::error::Result;
use crate::history::fingerprint;
use crate::proof::{verify_proof, Inclusion, Proof};

/// What a passing customer check established, in words and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The exchange.
    pub exchange: String,
    /// The period.
    pub period: String,
    /// The signed snapshot time.
    pub snapshot_time: String,
    /// The attestation's fingerprint, to compare with the exchange's and mirrors'.
    pub fingerprint: String,
    /// Each check made, in order.
    pub checks: Vec<String>,
    /// The customer's balances: (symbol, amount in the asset's unit).
    pub balances: Vec<(String, String)>,
    /// The signed totals: (symbol, amount).
    pub liabilities: Vec<(String, String)>,
    /// What this check does not establish, for the customer to know.
    pub not_checked: Vec<String>,
    /// The verdict line.
    pub summary: String,
}

/// The line for a valid attestation signature; `how` says how the key is trusted.
pub fn signature_line(att: &Attestation, how: &str) -> String {
    format!(
        "{}: attestation signature valid, by {} ({how})",
        att.period,
        hex::encode(att.public_key)
    )
}

/// The fingerprint line.
pub fn fingerprint_line(att: &Attestation) -> String {
    format!(
        "{}: attestation fingerprint {} (compare it with the one the exchange and independent mirrors publish)",
        att.period,
        fingerprint(&att.digest())
    )
}

/// The line for a verified inclusion.
pub fn inclusion_line(att: &Attestation, inc: &Inclusion) -> String {
    if inc.hidden {
        return format!(
            "{}: your leaf commits to your user id, salt and balances; {} levels of hidden sums, every \
             sibling's committed sum proven to lie between zero and its signed bound; the root and its \
             opening to the totals are the signed ones",
            att.period, inc.levels
        );
    }
    format!(
        "{}: your leaf commits to your user id, salt and balances; {} levels, every parent's sums exactly its \
         children's; the root and totals are the signed ones",
        att.period, inc.levels
    )
}

/// The verdict line when inclusion is verified and reserves were not part of the check.
pub const VERIFIED_NO_RESERVES: &str =
    "VERIFIED: your balances are included in the liabilities the exchange signed. Reserves were not checked.";

/// What this check cannot establish on its own.
pub fn limits() -> Vec<String> {
    vec![
        "reserves: whether the exchange holds assets covering these liabilities needs its reserves statement and \
         a node for each chain (por-verify reserves)"
            .into(),
        "other customers' balances, debts outside this tree, and anything after the snapshot time".into(),
    ]
}

fn amounts(assets: &[Asset], values: &[Amount]) -> Vec<(String, String)> {
    assets
        .iter()
        .zip(values)
        .map(|(a, v)| (a.symbol.clone(), v.to_decimal(a.decimals)))
        .collect()
}

/// Checks `proof` for `user_id` against `attestation`, signed by `key_hex` (64 hex). A format
/// error is [`crate::ErrorKind::BadInput`], a failed check [`crate::ErrorKind::Failed`].
pub fn check(attestation: &[u8], proof: &[u8], user_id: &str, key_hex: &str) -> Result<Checked> {
    check_with_history(attestation, proof, user_id, key_hex, None)
}

/// The line for a published history that lists the attestation where its signed log says.
pub fn history_line(att: &Attestation) -> String {
    format!(
        "history: lists this attestation where its signed log says ({} earlier entries)",
        att.history.log_size
    )
}

/// [`check`], and with the exchange's published `history.json`, that it lists this
/// attestation at the place its signed log says (spec/history.md). Without a memory of earlier
/// runs, this cannot tell whether the history dropped an attestation seen before: the
/// command line's store does that.
pub fn check_with_history(
    attestation: &[u8],
    proof: &[u8],
    user_id: &str,
    key_hex: &str,
    history: Option<&[u8]>,
) -> Result<Checked> {
    let key = parse_public_key(key_hex)?;
    let att = Attestation::from_json("attestation", attestation)?;
    let proof = Proof::from_json("proof", proof)?;
    att.verify_signature(&key)?;
    let inc = verify_proof(&att, &proof, user_id)?;
    let mut checks = vec![
        signature_line(&att, "the key you gave"),
        fingerprint_line(&att),
        inclusion_line(&att, &inc),
    ];
    if let Some(h) = history {
        let h = crate::history::History::from_json("history", h)?;
        if let Err(bad) = crate::history::check_for_customer(&h, &att, &[]) {
            let code = bad
                .first()
                .map_or(crate::outcome::Code::NotListed, |f| f.code);
            return Err(crate::error::Error::coded(
                code,
                format!(
                    "your balances are included, BUT {}",
                    crate::outcome::joined(&bad)
                ),
            ));
        }
        checks.push(history_line(&att));
    }
    Ok(Checked {
        exchange: att.exchange.clone(),
        period: att.period.clone(),
        snapshot_time: att.snapshot_time.clone(),
        fingerprint: fingerprint(&att.digest()),
        checks,
        balances: amounts(&att.assets, &inc.balances),
        liabilities: amounts(&att.assets, &att.liabilities),
        not_checked: limits(),
        summary: VERIFIED_NO_RESERVES.into(),
    })
}
