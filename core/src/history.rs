//! One history for everyone: the exchange's public log of every attestation and reserves
//! statement it has signed, and the checks that tie each month to the one before.
//!
//! Each attestation signs (section 3, [`HistoryLink`]) the digest of the previous period's
//! attestation and the size and root of the **log** over every *earlier* signed statement. The
//! log is a plain Merkle tree built with `rs_merkle`: leaves are tagged hashes of
//! `(kind, digest)` ([`log_leaf`]); an inner node is `H(str("por-log-node-v1") ‖ left ‖ right)`;
//! a node without a sibling is promoted unchanged (rs_merkle's rule); the empty log's root is 32
//! zero bytes. The whole history is a few entries a month, so a verifier recomputes every root
//! rather than trusting consistency proofs (spec/history.md).

use crate::attestation::Attestation;
use crate::encode::put_str;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::reserves::ReservesStatement;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The format of `history.json`.
pub const HISTORY_FORMAT: &str = "por-history-v1";
/// The largest history file read.
pub const MAX_HISTORY_BYTES: u64 = 16 << 20;
/// The most entries a history may list (a few a month: centuries of history).
pub const MAX_HISTORY_ENTRIES: usize = 100_000;
/// Domain tag of log leaves.
pub const TAG_LOG_LEAF: &str = "por-log-leaf-v1";
/// Domain tag of log inner nodes.
pub const TAG_LOG_NODE: &str = "por-log-node-v1";
/// Kind string that opens a key rotation statement.
pub const ROTATION_KIND: &str = "por-key-rotation-v1";

/// What a log leaf records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A liabilities attestation.
    Attestation,
    /// A reserves statement.
    Reserves,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Attestation => 1,
            Kind::Reserves => 2,
        }
    }
}

/// `H(str("por-log-leaf-v1") ‖ u8(kind) ‖ digest)`, kind 1 for an attestation, 2 for a reserves
/// statement.
pub fn log_leaf(kind: Kind, digest: &Hash) -> [u8; 32] {
    let mut m = Vec::with_capacity(4 + TAG_LOG_LEAF.len() + 33);
    put_str(&mut m, TAG_LOG_LEAF);
    m.push(kind.byte());
    m.extend_from_slice(&digest.0);
    Sha256::digest(&m).into()
}

/// rs_merkle's hasher for inner nodes: it hashes `left ‖ right`, to which this adds the tag.
#[derive(Clone)]
struct LogHasher;

impl rs_merkle::Hasher for LogHasher {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        let mut m = Vec::with_capacity(4 + TAG_LOG_NODE.len() + data.len());
        put_str(&mut m, TAG_LOG_NODE);
        m.extend_from_slice(data);
        Sha256::digest(&m).into()
    }
}

/// The root of a log over these leaves (32 zero bytes when empty).
pub fn log_root(leaves: &[[u8; 32]]) -> Hash {
    Hash(
        rs_merkle::MerkleTree::<LogHasher>::from_leaves(leaves)
            .root()
            .unwrap_or([0; 32]),
    )
}

/// What an attestation signs about the history before it (section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLink {
    /// The digest of the previous period's attestation; `None` for the first.
    pub previous: Option<Hash>,
    /// Entries in the log before this attestation.
    pub log_size: u64,
    /// The log's root over those entries.
    pub log_root: Hash,
    /// First attestation only: the Bitcoin outpoint `TXID:VOUT` the first anchor spends.
    pub anchor: Option<String>,
}

/// The JSON form of [`HistoryLink`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryLinkJson {
    previous: Option<String>,
    log_size: u64,
    log_root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anchor: Option<String>,
}

impl HistoryLink {
    /// The link of an exchange's first attestation.
    pub fn first(anchor: Option<String>) -> HistoryLink {
        HistoryLink {
            previous: None,
            log_size: 0,
            log_root: Hash([0; 32]),
            anchor,
        }
    }

    /// Appends section 3: `opt32(previous) ‖ u64be(log_size) ‖ log_root ‖ opt(anchor)`, where
    /// `opt32` is `u8(0)`, or `u8(1) ‖ 32 bytes`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match &self.previous {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                out.extend_from_slice(&p.0);
            }
        }
        out.extend_from_slice(&self.log_size.to_be_bytes());
        out.extend_from_slice(&self.log_root.0);
        crate::encode::put_opt_str(out, self.anchor.as_deref());
    }

    /// The JSON form.
    pub fn to_json(&self) -> HistoryLinkJson {
        HistoryLinkJson {
            previous: self.previous.map(|h| h.to_hex()),
            log_size: self.log_size,
            log_root: self.log_root.to_hex(),
            anchor: self.anchor.clone(),
        }
    }

    /// Parses the JSON form; `field` names the place for errors.
    pub fn from_json(j: HistoryLinkJson, field: &str) -> Result<HistoryLink> {
        let hex32 = |t: &str, f: &str| {
            Hash::from_hex(t)
                .ok_or_else(|| Error::input(format!("{field}.{f}: expected 64 hex characters")))
        };
        Ok(HistoryLink {
            previous: j
                .previous
                .as_deref()
                .map(|p| hex32(p, "previous"))
                .transpose()?,
            log_size: j.log_size,
            log_root: hex32(&j.log_root, "log_root")?,
            anchor: j.anchor,
        })
    }
}

/// A key rotation: the old key's signature handing the exchange's name to the new key (section 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    /// The old public key.
    pub old_key: [u8; 32],
    /// ed25519 by the old key over [`rotation_message`].
    pub signature: [u8; 64],
}

/// The JSON form of [`KeyRotation`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotationJson {
    old_key: String,
    signature: String,
}

/// `str("por-key-rotation-v1") ‖ str(exchange) ‖ str(period) ‖ new_key`.
pub fn rotation_message(exchange: &str, period: &str, new_key: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::new();
    put_str(&mut m, ROTATION_KIND);
    put_str(&mut m, exchange);
    put_str(&mut m, period);
    m.extend_from_slice(new_key);
    m
}

impl KeyRotation {
    /// Appends section 4: `old_key ‖ signature` (96 bytes).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.old_key);
        out.extend_from_slice(&self.signature);
    }

    /// Checks that `old` signed the handover of `att`'s exchange to `att`'s key.
    pub fn verify(&self, att: &Attestation, old: &[u8; 32]) -> std::result::Result<(), String> {
        if &self.old_key != old {
            return Err(format!(
                "the key rotation is signed by {}, not by the key before ({})",
                hex::encode(self.old_key),
                hex::encode(old)
            ));
        }
        let vk = VerifyingKey::from_bytes(old)
            .map_err(|_| "key rotation: the old key is not a valid key")?;
        vk.verify_strict(
            &rotation_message(&att.exchange, &att.period, &att.public_key),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| "the key rotation's signature by the old key is not valid".to_string())
    }

    /// The JSON form.
    pub fn to_json(&self) -> KeyRotationJson {
        KeyRotationJson {
            old_key: hex::encode(self.old_key),
            signature: hex::encode(self.signature),
        }
    }

    /// Parses the JSON form.
    pub fn from_json(j: KeyRotationJson, field: &str) -> Result<KeyRotation> {
        let old_key = crate::hash::parse_hex32(&j.old_key)
            .ok_or_else(|| Error::input(format!("{field}.old_key: expected 64 hex characters")))?;
        let mut signature = [0u8; 64];
        if j.signature.len() != 128 || hex::decode_to_slice(&j.signature, &mut signature).is_err() {
            return Err(Error::input(format!(
                "{field}.signature: expected 128 hex characters"
            )));
        }
        Ok(KeyRotation { old_key, signature })
    }
}

/// One entry of `history.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// Attestation or reserves statement.
    pub kind: Kind,
    /// Its period.
    pub period: String,
    /// Reserves statements: the sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u32>,
    /// The digest of its signed bytes.
    pub digest: String,
    /// The key that signed it.
    pub public_key: String,
    /// The log's size after this entry.
    pub log_size: u64,
    /// The log's root after this entry.
    pub log_root: String,
    /// Where the signed file is published, relative to `history.json` (a hint, not signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The published history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Always [`HISTORY_FORMAT`].
    pub format: String,
    /// The exchange.
    pub exchange: String,
    /// Every signed statement, in order.
    pub entries: Vec<HistoryEntry>,
}

impl History {
    /// An empty history.
    pub fn new(exchange: &str) -> History {
        History {
            format: HISTORY_FORMAT.into(),
            exchange: exchange.into(),
            entries: Vec::new(),
        }
    }

    #[cfg(feature = "fs")]
    /// Reads and parses `history.json` (bounded).
    pub fn read(path: &std::path::Path) -> Result<History> {
        let bytes = crate::input::read_bounded(
            path,
            MAX_HISTORY_BYTES,
            crate::input::FileKind::Other("history file"),
        )?;
        History::from_json(&path.display().to_string(), &bytes)
    }

    /// Parses and checks the form of `history.json`; errors name `name` and the field.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<History> {
        let mut h: History =
            crate::input::parse_json(name, bytes, crate::input::FileKind::Other("history file"))?;
        // Hex is read in either case; compared as text below, so written back in lower case.
        for e in &mut h.entries {
            e.digest.make_ascii_lowercase();
            e.log_root.make_ascii_lowercase();
            e.public_key.make_ascii_lowercase();
        }
        if h.format != HISTORY_FORMAT {
            return Err(Error::input(format!(
                "{name}, field format: expected {HISTORY_FORMAT:?}, found {:?}",
                h.format
            )));
        }
        if h.entries.len() > MAX_HISTORY_ENTRIES {
            return Err(Error::input(format!(
                "{name}: {} entries, more than the {MAX_HISTORY_ENTRIES} a history can hold",
                h.entries.len()
            )));
        }
        for (i, e) in h.entries.iter().enumerate() {
            let bad = |f: &str| {
                Error::input(format!(
                    "{name}, entries[{i}].{f}: expected 64 hex characters"
                ))
            };
            Hash::from_hex(&e.digest).ok_or_else(|| bad("digest"))?;
            Hash::from_hex(&e.log_root).ok_or_else(|| bad("log_root"))?;
            crate::hash::parse_hex32(&e.public_key).ok_or_else(|| bad("public_key"))?;
            crate::text::validate_period(&e.period)
                .map_err(|x| x.context(format!("{name}, entries[{i}].period")))?;
        }
        Ok(h)
    }

    /// The published JSON.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The leaves of the first `n` entries.
    pub fn leaves(&self, n: usize) -> Vec<[u8; 32]> {
        self.entries
            .iter()
            .take(n)
            .map(|e| log_leaf(e.kind, &Hash::from_hex(&e.digest).unwrap_or(Hash([0; 32]))))
            .collect()
    }

    /// The log's root over the first `n` entries.
    pub fn root_at(&self, n: usize) -> Hash {
        log_root(&self.leaves(n))
    }

    /// The root over every prefix of the log (index `k`: the first `k` entries), in one pass.
    /// rs_merkle pairs nodes level by level and promotes an unpaired one, which makes the root
    /// of `n` leaves the right-to-left fold of the perfect subtrees of `n`'s binary
    /// decomposition; keeping those peaks makes every prefix root O(log n) instead of
    /// rebuilding the tree each time (a test checks the two agree).
    pub fn prefix_roots(&self) -> Vec<Hash> {
        use rs_merkle::Hasher as _;
        let mut out = Vec::with_capacity(self.entries.len() + 1);
        out.push(Hash([0; 32]));
        let mut peaks: Vec<(u32, [u8; 32])> = Vec::new();
        for leaf in self.leaves(self.entries.len()) {
            let mut node = (0u32, leaf);
            while let Some(&(height, left)) = peaks.last() {
                if height != node.0 {
                    break;
                }
                peaks.pop();
                node = (height + 1, LogHasher::hash(&[left, node.1].concat()));
            }
            peaks.push(node);
            let mut acc = node.1;
            for &(_, p) in peaks.iter().rev().skip(1) {
                acc = LogHasher::hash(&[p, acc].concat());
            }
            out.push(Hash(acc));
        }
        out
    }

    /// The link a new attestation signs: the last attestation's digest and the whole log so far;
    /// `anchor` only for an exchange's first attestation.
    pub fn link(&self, anchor: Option<String>) -> HistoryLink {
        let previous = self
            .entries
            .iter()
            .rev()
            .find(|e| e.kind == Kind::Attestation)
            .and_then(|e| Hash::from_hex(&e.digest));
        HistoryLink {
            anchor: if previous.is_none() { anchor } else { None },
            previous,
            log_size: self.entries.len() as u64,
            log_root: self.root_at(self.entries.len()),
        }
    }

    /// Appends an entry, computing the log after it.
    pub fn append(
        &mut self,
        kind: Kind,
        period: &str,
        sequence: Option<u32>,
        digest: &Hash,
        key: &[u8; 32],
        file: Option<String>,
    ) {
        let n = self.entries.len() + 1;
        self.entries.push(HistoryEntry {
            kind,
            period: period.into(),
            sequence,
            digest: digest.to_hex(),
            public_key: hex::encode(key),
            log_size: n as u64,
            log_root: String::new(),
            file,
        });
        let root = self.root_at(n);
        if let Some(last) = self.entries.last_mut() {
            last.log_root = root.to_hex();
        }
    }

    /// The index of the first entry where `self` and `other` differ, if any (a history that is a
    /// prefix of the other does not diverge).
    pub fn first_divergence(&self, other: &History) -> Option<usize> {
        self.entries
            .iter()
            .zip(&other.entries)
            .position(|(a, b)| a.kind != b.kind || a.digest != b.digest || a.period != b.period)
    }
}

/// The signed documents a history lists, found by digest.
#[derive(Debug, Default)]
pub struct Documents {
    /// Attestations by digest.
    pub attestations: HashMap<Hash, Attestation>,
    /// Reserves statements by digest of their signed bytes.
    pub reserves: HashMap<Hash, ReservesStatement>,
}

impl Documents {
    #[cfg(feature = "fs")]
    /// Loads every `attestation.json` and `reserves-*.json` below `dir` (two levels deep: the
    /// layout `por-prove` writes, `DIR/PERIOD/...`). Files that do not parse are skipped: the
    /// check then names the digest whose document is missing.
    pub fn load(dir: &std::path::Path) -> Documents {
        let mut docs = Documents::default();
        let mut visit = |p: &std::path::Path| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if name == "attestation.json" {
                if let Ok(a) = Attestation::read(p) {
                    docs.attestations.insert(a.digest(), a);
                }
            } else if name.starts_with("reserves-") && name.ends_with(".json") {
                if let Ok(r) = ReservesStatement::read(p) {
                    docs.reserves
                        .insert(Hash(crate::encode::digest(&r.signing_message())), r);
                }
            }
        };
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                for inner in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                    visit(&inner.path());
                }
            } else {
                visit(&p);
            }
        }
        docs
    }
}

/// What checking a history established.
#[derive(Debug, Default)]
pub struct HistoryReport {
    /// Checks that passed.
    pub passed: Vec<String>,
    /// Failures: evidence against the exchange.
    pub failures: Vec<String>,
    /// Things that could not be checked (a document not published).
    pub unchecked: Vec<String>,
    /// Skipped months, named.
    pub gaps: Vec<String>,
    /// The key the history ends with (after any rotation).
    pub last_key: Option<[u8; 32]>,
}

fn next_period(p: &str) -> Option<String> {
    let (_, end) = crate::time::period_bounds(p)?;
    Some(crate::time::format_utc(end)[..7].to_string())
}

/// Checks a whole history: the log roots recomputed, one attestation per period in order, each
/// attestation linking to the one before and signing the log before it, every statement signed
/// by the key of its time (a key change only through a rotation signed by the old key), and
/// reserves statements citing an attestation of their period. `key` is the key the user trusts;
/// the history must start with it or rotate to it.
pub fn check_history(
    h: &History,
    key: &[u8; 32],
    docs: &Documents,
    allow_gaps: bool,
) -> HistoryReport {
    let mut r = HistoryReport::default();
    let mut periods: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_attestation: Option<(usize, String, Hash)> = None;
    let mut last_snapshot: Option<(String, i64)> = None;
    let roots = h.prefix_roots();
    let mut current_key: Option<[u8; 32]> = None;
    for (i, e) in h.entries.iter().enumerate() {
        let at = format!("entry {i} ({:?} {})", e.kind, e.period).to_lowercase();
        let root = roots[i + 1];
        if e.log_size != (i + 1) as u64 || Hash::from_hex(&e.log_root) != Some(root) {
            r.failures.push(format!(
                "{at}: the log after it is listed as size {} root {}, but the listed digests give size {} root {root}",
                e.log_size,
                e.log_root,
                i + 1
            ));
        }
        let digest = Hash::from_hex(&e.digest).unwrap_or(Hash([0; 32]));
        let entry_key = crate::hash::parse_hex32(&e.public_key).unwrap_or([0; 32]);
        match e.kind {
            Kind::Attestation => {
                if let Some(first) = periods.get(&e.period) {
                    r.failures.push(format!(
                        "{at}: a second attestation for {} (the first is entry {first}): two signed attestations \
                         for one period are equivocation",
                        e.period
                    ));
                }
                if let Some((_, prev_period, _)) = &last_attestation {
                    if e.period <= *prev_period {
                        if e.period < *prev_period {
                            r.failures.push(format!(
                                "{at}: period {} comes after {prev_period}: out of order",
                                e.period
                            ));
                        }
                    } else if next_period(prev_period).as_deref() != Some(e.period.as_str()) {
                        r.gaps.push(format!(
                            "no attestation between {prev_period} and {}",
                            e.period
                        ));
                    }
                }
                periods.entry(e.period.clone()).or_insert(i);
                match docs.attestations.get(&digest) {
                    None => r.unchecked.push(format!("{at}: the attestation with digest {digest} is not published beside the history")),
                    Some(a) => {
                        let mut ok = true;
                        if a.period != e.period || a.exchange != h.exchange || a.public_key != entry_key {
                            r.failures.push(format!("{at}: the listed period, exchange or key differ from the signed attestation's"));
                            ok = false;
                        }
                        if a.verify_signature(&VerifyingKey::from_bytes(&a.public_key).unwrap_or_else(|_| dummy_key())).is_err() {
                            r.failures.push(format!("{at}: its signature is not valid"));
                            ok = false;
                        }
                        let want_prev = last_attestation.as_ref().map(|(_, _, d)| *d);
                        if a.history.previous != want_prev {
                            let show = |h: Option<Hash>| h.map_or("none".to_string(), |h| h.to_hex());
                            r.failures.push(format!(
                                "{at}: it links to previous attestation {}, but the history's previous attestation is {}",
                                show(a.history.previous),
                                show(want_prev)
                            ));
                            ok = false;
                        }
                        let before = roots[i];
                        if a.history.log_size != i as u64 || a.history.log_root != before {
                            r.failures.push(format!(
                                "{at}: it signs the log as size {} root {}, but the history before it is size {i} root {before}",
                                a.history.log_size, a.history.log_root
                            ));
                            ok = false;
                        }
                        // Keys: the first attestation fixes the key; a change needs the old key's rotation.
                        match current_key {
                            Some(k) if k != a.public_key => match &a.rotation {
                                Some(rot) => match rot.verify(a, &k) {
                                    Ok(()) => r.passed.push(format!(
                                        "{at}: key rotated from {} to {}, signed by the old key",
                                        hex::encode(k),
                                        hex::encode(a.public_key)
                                    )),
                                    Err(why) => {
                                        r.failures.push(format!("{at}: {why}"));
                                        ok = false;
                                    }
                                },
                                None => {
                                    r.failures.push(format!(
                                        "{at}: signed by {}, but the previous attestation by {}, with no rotation signed by the old key",
                                        hex::encode(a.public_key),
                                        hex::encode(k)
                                    ));
                                    ok = false;
                                }
                            },
                            _ => {}
                        }
                        if let Err(why) = a.snapshot_in_period() {
                            r.failures.push(format!("{at}: {why}"));
                            ok = false;
                        }
                        let t = crate::time::unix_seconds(&a.snapshot_time).unwrap_or(i64::MIN);
                        if let Some((prev, pt)) = &last_snapshot {
                            if t <= *pt {
                                r.failures.push(format!(
                                    "{at}: its snapshot time {} is not later than the previous attestation's ({prev})",
                                    a.snapshot_time
                                ));
                                ok = false;
                            }
                        }
                        last_snapshot = Some((a.snapshot_time.clone(), t));
                        current_key = Some(a.public_key);
                        if ok {
                            r.passed.push(format!("{at}: signed, links to the attestation before it, signs the log before it"));
                        }
                    }
                }
                if current_key.is_none() {
                    current_key = Some(entry_key);
                }
                last_attestation = Some((i, e.period.clone(), digest));
            }
            Kind::Reserves => {
                let Some((_, period, att_digest)) = &last_attestation else {
                    r.failures
                        .push(format!("{at}: a reserves statement before any attestation"));
                    continue;
                };
                if &e.period != period {
                    r.failures.push(format!(
                        "{at}: a reserves statement for {} after the attestation of {period}",
                        e.period
                    ));
                }
                match docs.reserves.get(&digest) {
                    None => r.unchecked.push(format!("{at}: the reserves statement with digest {digest} is not published beside the history")),
                    Some(s) => {
                        let signer = VerifyingKey::from_bytes(&s.public_key).unwrap_or_else(|_| dummy_key());
                        let signed = signer.verify_strict(&s.signing_message(), &Signature::from_bytes(&s.signature)).is_ok();
                        if !signed || s.public_key != entry_key || Some(s.public_key) != current_key {
                            r.failures.push(format!("{at}: not validly signed by the exchange's key of its time"));
                        } else if s.attestation != *att_digest {
                            r.failures.push(format!("{at}: it cites attestation {}, not the period's attestation {att_digest}", s.attestation));
                        } else {
                            r.passed.push(format!("{at}: signed, cites the period's attestation"));
                        }
                    }
                }
            }
        }
    }
    match h.entries.iter().find(|e| e.kind == Kind::Attestation) {
        None => r.failures.push("the history lists no attestation".into()),
        Some(first) => {
            let first_key = crate::hash::parse_hex32(&first.public_key).unwrap_or([0; 32]);
            if current_key != Some(*key) && first_key != *key {
                r.failures.push(format!(
                    "the history is signed by {}, not by the key you trust ({})",
                    current_key.map(hex::encode).unwrap_or_default(),
                    hex::encode(key)
                ));
            }
        }
    }
    if !allow_gaps {
        for g in &r.gaps {
            r.failures.push(format!(
                "a skipped month: {g} (give --allow-gaps if the exchange announced it)"
            ));
        }
    }
    r.last_key = current_key;
    r
}

fn dummy_key() -> VerifyingKey {
    // Never verifies anything: the identity point is refused by verify_strict.
    VerifyingKey::from_bytes(&[0; 32])
        .unwrap_or_else(|_| VerifyingKey::from_bytes(&[1; 32]).expect("a valid point"))
}

/// A fingerprint to read aloud and compare: the first 128 bits of the digest, in eight groups of
/// four hex digits.
pub fn fingerprint(digest: &Hash) -> String {
    let h = digest.to_hex();
    (0..8)
        .map(|i| &h[i * 4..i * 4 + 4])
        .collect::<Vec<_>>()
        .join("-")
}

/// One anchor transaction found on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorSeen {
    /// The anchor transaction.
    pub txid: String,
    /// Its block height.
    pub height: u64,
    /// The log size and root it commits, if it carries one readable `OP_RETURN` commitment.
    pub commitment: Option<(u64, Hash)>,
}

/// Where following the anchor chain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorEnd {
    /// The last anchor output is unspent: the chain ends here.
    Unspent,
    /// The last anchor output is spent by a transaction not yet in a block.
    Pending(String),
}

/// Checks the anchor chain against a history: every anchor commits a log state of this
/// history (a different root at an anchored size is a fork: another history was anchored), the
/// anchored sizes grow, and every attestation is covered by an anchor. Returns (passed, failed,
/// pending): an attestation whose anchor still waits in the mempool is pending, not failed.
pub fn check_anchors(
    h: &History,
    anchors: &[AnchorSeen],
    end: &AnchorEnd,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    let roots = h.prefix_roots();
    let mut last = 0u64;
    for a in anchors {
        match a.commitment {
            None => bad.push(format!(
                "anchor {} (block {}) carries no history commitment: the anchor chain is broken there",
                a.txid, a.height
            )),
            Some((size, root)) => {
                if size <= last {
                    bad.push(format!("anchor {} commits log size {size}, not more than the anchor before ({last})", a.txid));
                }
                last = last.max(size);
                if size as usize > h.entries.len() {
                    bad.push(format!(
                        "anchor {} (block {}) commits log size {size}, but your history has only {} entries: it is \
                         missing entries the exchange anchored",
                        a.txid,
                        a.height,
                        h.entries.len()
                    ));
                } else if roots[size as usize] != root {
                    bad.push(format!(
                        "FORK: anchor {} (block {}) commits log root {root} at size {size}, but your history's root \
                         there is {}: the exchange anchored another history than the one you were given",
                        a.txid,
                        a.height,
                        roots[size as usize]
                    ));
                } else {
                    ok.push(format!("anchor {} (block {}) commits your history's first {size} entries", a.txid, a.height));
                }
            }
        }
    }
    let mut pending = Vec::new();
    for (i, e) in h.entries.iter().enumerate() {
        if e.kind == Kind::Attestation && last < (i + 1) as u64 {
            match end {
                // A spend of the last anchor waits in the mempool: not yet anchored, not a lie.
                AnchorEnd::Pending(tx) => pending.push(format!(
                    "the attestation of {} (entry {i}) is not anchored yet: transaction {tx} spends the last anchor \
                     but is not in a block; check again later",
                    e.period
                )),
                AnchorEnd::Unspent => bad.push(format!(
                    "the attestation of {} (entry {i}) is not anchored on chain",
                    e.period
                )),
            }
        }
    }
    (ok, bad, pending)
}

/// The `OP_RETURN` payload of an anchor: `"POR" ‖ u8(1) ‖ u64be(log_size) ‖ log_root` (44 bytes).
pub fn anchor_payload(log_size: u64, root: &Hash) -> Vec<u8> {
    let mut p = b"POR\x01".to_vec();
    p.extend_from_slice(&log_size.to_be_bytes());
    p.extend_from_slice(&root.0);
    p
}

/// Parses an anchor payload.
pub fn parse_anchor_payload(p: &[u8]) -> Option<(u64, Hash)> {
    if p.len() != 44 || &p[..4] != b"POR\x01" {
        return None;
    }
    let size = u64::from_be_bytes(p[4..12].try_into().ok()?);
    let root = Hash(p[12..44].try_into().ok()?);
    Some((size, root))
}

/// What a customer's run checks of the published history around the attestation it verified:
/// the history lists it, at the place whose log it signs, and still lists every attestation of
/// this exchange the customer verified before (`seen`: period and digest). Returns failures;
/// a history that drops an attestation seen before is equivocation.
pub fn check_for_customer(
    h: &History,
    att: &Attestation,
    seen: &[(String, String)],
) -> Vec<String> {
    let roots = h.prefix_roots();
    let mut periods: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut twice = Vec::new();
    for e in h.entries.iter().filter(|e| e.kind == Kind::Attestation) {
        if let Some(first) = periods.insert(e.period.as_str(), e.digest.as_str()) {
            twice.push(format!(
                "EQUIVOCATION: the history lists two attestations for {} ({first} and {})",
                e.period, e.digest
            ));
        }
    }
    let mut bad = Vec::new();
    if h.exchange != att.exchange {
        bad.push(format!(
            "the history is of {:?}, not of {:?}",
            h.exchange, att.exchange
        ));
    }
    let digest = att.digest().to_hex();
    match h.entries.iter().position(|e| e.kind == Kind::Attestation && e.digest == digest) {
        None => bad.push(format!(
            "this attestation ({}) is not in the published history: the exchange shows you an attestation \
             others do not see",
            fingerprint(&att.digest())
        )),
        Some(i) => {
            if att.history.log_size != i as u64 || att.history.log_root != roots[i] {
                bad.push(format!(
                    "the attestation signs the log as size {} root {}, but in the published history it follows \
                     {i} entries with root {}",
                    att.history.log_size,
                    att.history.log_root,
                    roots[i]
                ));
            }
        }
    }
    for (i, e) in h.entries.iter().enumerate() {
        if e.log_size != (i + 1) as u64 || Hash::from_hex(&e.log_root) != Some(roots[i + 1]) {
            bad.push(format!(
                "history entry {i}: its log root does not match the digests listed before it"
            ));
        }
    }
    for (period, d) in seen {
        let listed = h
            .entries
            .iter()
            .any(|e| e.kind == Kind::Attestation && &e.digest == d);
        if !listed {
            let other = h
                .entries
                .iter()
                .find(|e| e.kind == Kind::Attestation && &e.period == period)
                .map(|e| format!(", and lists {} for that period instead", e.digest))
                .unwrap_or_default();
            bad.push(format!(
                "EQUIVOCATION: the history drops the attestation for {period} you verified before ({d}){other}"
            ));
        }
    }
    bad.extend(twice);
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_roots_promote_odd_nodes_and_tag_everything() {
        let a = log_leaf(Kind::Attestation, &Hash([1; 32]));
        let b = log_leaf(Kind::Reserves, &Hash([1; 32]));
        assert_ne!(a, b, "the kind is in the leaf");
        assert_eq!(log_root(&[]), Hash([0; 32]));
        assert_eq!(log_root(&[a]), Hash(a));
        let ab = <LogHasher as rs_merkle::Hasher>::hash(&[a, b].concat());
        assert_eq!(log_root(&[a, b]), Hash(ab));
        let c = log_leaf(Kind::Attestation, &Hash([2; 32]));
        // Three leaves: c has no sibling and is promoted unchanged.
        assert_eq!(
            log_root(&[a, b, c]),
            Hash(<LogHasher as rs_merkle::Hasher>::hash(&[ab, c].concat()))
        );
    }

    #[test]
    fn prefix_roots_agree_with_rs_merkle() {
        let mut h = History::new("Ex");
        for i in 0..70u8 {
            let kind = if i % 3 == 1 {
                Kind::Reserves
            } else {
                Kind::Attestation
            };
            h.append(kind, "2026-11", None, &Hash([i; 32]), &[9; 32], None);
        }
        let roots = h.prefix_roots();
        for (n, r) in roots.iter().enumerate() {
            assert_eq!(*r, h.root_at(n), "prefix of {n}");
        }
    }

    #[test]
    fn history_appends_and_diverges() {
        let mut h = History::new("Ex");
        h.append(
            Kind::Attestation,
            "2026-10",
            None,
            &Hash([1; 32]),
            &[9; 32],
            None,
        );
        h.append(
            Kind::Reserves,
            "2026-10",
            Some(1),
            &Hash([2; 32]),
            &[9; 32],
            None,
        );
        assert_eq!(h.entries[1].log_size, 2);
        assert_eq!(Hash::from_hex(&h.entries[1].log_root), Some(h.root_at(2)));
        let link = h.link(None);
        assert_eq!(link.previous, Some(Hash([1; 32])));
        assert_eq!(link.log_size, 2);
        let mut other = h.clone();
        assert_eq!(h.first_divergence(&other), None);
        other.entries[1].digest = Hash([3; 32]).to_hex();
        assert_eq!(h.first_divergence(&other), Some(1));
    }

    #[test]
    fn fingerprints_and_payloads() {
        assert_eq!(
            fingerprint(&Hash([0xab; 32])),
            "abab-abab-abab-abab-abab-abab-abab-abab"
        );
        let p = anchor_payload(7, &Hash([5; 32]));
        assert_eq!(p.len(), 44);
        assert_eq!(parse_anchor_payload(&p), Some((7, Hash([5; 32]))));
        assert_eq!(parse_anchor_payload(&p[..43]), None);
    }
}
