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

/// A customer check against the customer's memory ([`check_remembered`]).
#[derive(Debug)]
pub struct RememberedRun {
    /// The verdict, as [`check_with_history`] gives it, with the memory's failures
    /// (EQUIVOCATION, KEY CHANGED, FORK) as errors carrying their codes.
    pub result: Result<Checked>,
    /// Another attestation remembered for this period: its digest, for the evidence.
    pub earlier: Option<[u8; 32]>,
    /// Whether the attestation is new to the memory (worth keeping a copy of, as evidence).
    pub new: bool,
}

/// The check `por-verify proof` makes with a store, for a caller that holds the store's
/// [`Memory`](crate::memory::Memory) itself (the browser page): the key is the one pinned, else
/// `key_hex` (empty when none is given), handovers are followed as the command line follows
/// them, and the month is compared with every month remembered. `memory` is changed only when
/// the check passes, as a failed `por-verify` run commits nothing. `now` is the caller's clock
/// (Unix seconds).
pub fn check_remembered(
    attestation: &[u8],
    proof: &[u8],
    user_id: &str,
    key_hex: &str,
    history: Option<&[u8]>,
    memory: &mut crate::memory::Memory,
    now: i64,
) -> RememberedRun {
    let (mut earlier, mut new) = (None, false);
    let result = remembered(
        attestation,
        proof,
        user_id,
        key_hex,
        history,
        memory,
        now,
        &mut earlier,
        &mut new,
    );
    RememberedRun {
        result,
        earlier,
        new,
    }
}

// The out-parameters are set before a later check fails: the evidence of an equivocation is
// wanted exactly when the run fails.
#[allow(clippy::too_many_arguments)]
fn remembered(
    attestation: &[u8],
    proof: &[u8],
    user_id: &str,
    key_hex: &str,
    history: Option<&[u8]>,
    memory: &mut crate::memory::Memory,
    now: i64,
    earlier: &mut Option<[u8; 32]>,
    new: &mut bool,
) -> Result<Checked> {
    use crate::error::Error;
    use crate::identity;
    let given = match key_hex.trim() {
        "" => None,
        k => Some(parse_public_key(k)?.to_bytes()),
    };
    let att = Attestation::from_json("attestation", attestation)?;
    let proof = Proof::from_json("proof", proof)?;
    let history = history
        .map(|h| crate::history::History::from_json("history", h))
        .transpose()?;
    let id = identity::identify(&att, given, None, Some(memory), history.as_ref(), now)?;
    let inc = verify_proof(&att, &proof, user_id)?;
    let mut checks = vec![
        signature_line(&att, &id.choice.words),
        fingerprint_line(&att),
        inclusion_line(&att, &inc),
    ];
    let mut problems = id.failures.clone();
    let recalled = identity::recall(memory, &att);
    if let Some(e) = recalled.earlier {
        *earlier = Some(e);
        problems.push(identity::equivocation(
            &att,
            &e,
            "Evidence: keep both attestations (this page offers both for download).",
        ));
    }
    problems.extend(recalled.findings);
    if let Some(h) = &history {
        match crate::history::check_for_customer(h, &att, &recalled.seen) {
            Ok(_) => checks.push(history_line(&att)),
            Err(bad) => problems.extend(bad),
        }
    }
    if let Some(first) = problems.first() {
        return Err(Error::coded(
            first.code,
            format!(
                "your balances are included, BUT {}",
                crate::outcome::joined(&problems)
            ),
        ));
    }
    if let Some(w) = &id.genesis {
        checks.push(format!("{}: {w}", att.period));
    }
    let now_text = crate::time::format_utc(now);
    identity::stage(memory, &att, &id.choice, &now_text);
    *new = memory.record_seen(&att);
    checks.push(format!(
        "{}: remembered on this device: {} month(s) of {} verified here",
        att.period,
        memory.seen(&att.exchange).len(),
        att.exchange
    ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Memory;
    use crate::outcome::Code;
    use ed25519_dalek::{Signer, SigningKey};

    fn vectors() -> (String, String, SigningKey) {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/vectors/core.json")).unwrap();
        let seed = crate::hash::parse_hex32(v["attestation"]["signing_key_seed"].as_str().unwrap())
            .unwrap();
        (
            v["attestation"]["json"].to_string(),
            v["tree"]["proofs"][0].to_string(),
            SigningKey::from_bytes(&seed),
        )
    }

    /// The same month signed again with another snapshot time: the proof still folds to its
    /// root, so only the memory can tell the two apart.
    fn resigned(att: &str, key: &SigningKey, time: &str) -> String {
        let mut a = Attestation::from_json("a", att.as_bytes()).unwrap();
        a.snapshot_time = time.into();
        a.public_key = key.verifying_key().to_bytes();
        a.signature = key.sign(&a.signing_message()).to_bytes();
        a.to_json()
    }

    #[test]
    fn the_memory_pins_remembers_and_catches_a_second_view() {
        let (att, proof, key) = vectors();
        let hex_key = hex::encode(key.verifying_key().to_bytes());
        let now = 1_900_000_000;
        let mut m = Memory::new();
        // No key given and none pinned: exit 2, nothing remembered.
        let r = check_remembered(
            att.as_bytes(),
            proof.as_bytes(),
            "alice",
            "",
            None,
            &mut m,
            now,
        );
        assert_eq!(r.result.unwrap_err().code(), Code::NoKey);
        assert_eq!(m, Memory::new());
        // First use pins the key and remembers the month.
        let r = check_remembered(
            att.as_bytes(),
            proof.as_bytes(),
            "alice",
            &hex_key,
            None,
            &mut m,
            now,
        );
        let c = r.result.unwrap();
        assert!(r.new);
        assert!(
            c.checks[0].contains("pinned on first use"),
            "{:?}",
            c.checks
        );
        assert_eq!(m.exchanges.len(), 1);
        assert_eq!(m.exchanges[0].seen.len(), 1);
        // Again, without a key: the pinned one; nothing new.
        let r = check_remembered(
            att.as_bytes(),
            proof.as_bytes(),
            "alice",
            "",
            None,
            &mut m,
            now,
        );
        assert!(r.result.is_ok());
        assert!(!r.new);
        // The store's bytes survive a round trip, as the command line reads them.
        let text = m.to_json();
        assert_eq!(Memory::from_json("s", text.as_bytes()).unwrap(), m);
        // Another attestation for the same period, by the same key: EQUIVOCATION, with the
        // earlier digest for the evidence, and the memory unchanged.
        let first = Attestation::from_json("a", att.as_bytes())
            .unwrap()
            .digest()
            .0;
        let before = m.clone();
        let other = resigned(&att, &key, "2026-11-30T23:59:58Z");
        let r = check_remembered(
            other.as_bytes(),
            proof.as_bytes(),
            "alice",
            "",
            None,
            &mut m,
            now,
        );
        let e = r.result.unwrap_err();
        assert_eq!(e.code(), Code::Equivocation, "{}", e.message());
        assert_eq!(e.exit_code(), 1);
        assert_eq!(r.earlier, Some(first));
        assert_eq!(m, before);
        // Signed by another key with no handover: KEY CHANGED, naming the key that signed.
        let thief = SigningKey::from_bytes(&[9; 32]);
        let stolen = resigned(&att, &thief, "2026-11-30T23:59:58Z");
        let r = check_remembered(
            stolen.as_bytes(),
            proof.as_bytes(),
            "alice",
            "",
            None,
            &mut m,
            now,
        );
        let e = r.result.unwrap_err();
        assert_eq!(e.code(), Code::KeyChanged);
        assert!(e
            .message()
            .contains(&hex::encode(thief.verifying_key().to_bytes())));
        assert_eq!(m, before);
    }

    #[test]
    fn an_imported_store_is_refused_not_reset() {
        assert_eq!(
            Memory::from_json("s", b"{not json")
                .unwrap_err()
                .exit_code(),
            2
        );
        let other = Memory::from_json("s", br#"{"format": "por-store-v9", "exchanges": []}"#);
        assert!(other.unwrap_err().message().contains("another version"));
        let mut m = Memory::new();
        m.pin("Ex", &[1; 32], "first use", "2026-12-01T00:00:00Z");
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        let twice = v["exchanges"][0].clone();
        v["exchanges"].as_array_mut().unwrap().push(twice);
        let e = Memory::from_json("s", v.to_string().as_bytes()).unwrap_err();
        assert!(e.message().contains("listed twice"), "{}", e.message());
        let huge = vec![b' '; (crate::memory::MAX_STORE_BYTES + 1) as usize];
        assert_eq!(Memory::from_json("s", &huge).unwrap_err().exit_code(), 2);
    }
}
