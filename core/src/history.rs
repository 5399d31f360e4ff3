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
use crate::outcome::{Code, Finding};
use crate::outpoint::{put_opt_outpoint, Outpoint};
use crate::reserves::ReservesStatement;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The format of `history.json`.
pub const HISTORY_FORMAT: &str = "por-history-v2";
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
    /// The history's genesis: the Bitcoin outpoint its first anchor spends. The same in every
    /// attestation of one history, so that any month tells a customer which history it is of
    /// (with the key, what a customer pins and compares with mirrors).
    pub genesis: Option<Outpoint>,
    /// A new chain start after the anchor chain broke (its last output spent by a transaction
    /// that commits nothing): verifiers follow it as they follow the genesis.
    pub restart: Option<Outpoint>,
}

/// The JSON form of [`HistoryLink`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryLinkJson {
    previous: Option<String>,
    log_size: u64,
    log_root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    genesis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restart: Option<String>,
}

impl HistoryLink {
    /// The link of an exchange's first attestation.
    pub fn first(genesis: Option<Outpoint>) -> HistoryLink {
        HistoryLink {
            previous: None,
            log_size: 0,
            log_root: Hash([0; 32]),
            genesis,
            restart: None,
        }
    }

    /// Appends section 3: `opt32(previous) ‖ u64be(log_size) ‖ log_root ‖ optop(genesis) ‖
    /// optop(restart)`, where `opt32` is `u8(0)`, or `u8(1) ‖ 32 bytes`, and `optop` is `u8(0)`,
    /// or `u8(1) ‖ txid ‖ u32be(vout)`.
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
        put_opt_outpoint(out, self.genesis.as_ref());
        put_opt_outpoint(out, self.restart.as_ref());
    }

    /// The JSON form.
    pub fn to_json(&self) -> HistoryLinkJson {
        HistoryLinkJson {
            previous: self.previous.map(|h| h.to_hex()),
            log_size: self.log_size,
            log_root: self.log_root.to_hex(),
            genesis: self.genesis.map(|o| o.to_string()),
            restart: self.restart.map(|o| o.to_string()),
        }
    }

    /// Parses the JSON form; `field` names the place for errors.
    pub fn from_json(j: HistoryLinkJson, field: &str) -> Result<HistoryLink> {
        let hex32 = |t: &str, f: &str| {
            Hash::from_hex(t)
                .ok_or_else(|| Error::input(format!("{field}.{f}: expected 64 hex characters")))
        };
        let outpoint = |t: &Option<String>, f: &str| {
            t.as_deref()
                .map(|t| Outpoint::parse(t).map_err(|m| Error::input(format!("{field}.{f}: {m}"))))
                .transpose()
        };
        Ok(HistoryLink {
            previous: j
                .previous
                .as_deref()
                .map(|p| hex32(p, "previous"))
                .transpose()?,
            log_size: j.log_size,
            log_root: hex32(&j.log_root, "log_root")?,
            genesis: outpoint(&j.genesis, "genesis")?,
            restart: outpoint(&j.restart, "restart")?,
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
        self.verify_for(&att.exchange, &att.period, &att.public_key, old)
    }

    /// Checks that `old` signed the handover of `exchange` to `new_key` from `period`.
    pub fn verify_for(
        &self,
        exchange: &str,
        period: &str,
        new_key: &[u8; 32],
        old: &[u8; 32],
    ) -> std::result::Result<(), String> {
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
            &rotation_message(exchange, period, new_key),
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

/// One entry of `history.json`, parsed: digests and keys as bytes, checked once when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Attestation or reserves statement.
    pub kind: Kind,
    /// Its period.
    pub period: String,
    /// Reserves statements: the sequence number.
    pub sequence: Option<u32>,
    /// The digest of its signed bytes.
    pub digest: Hash,
    /// The key that signed it.
    pub public_key: [u8; 32],
    /// The log's size after this entry.
    pub log_size: u64,
    /// The log's root after this entry.
    pub log_root: Hash,
    /// Attestations signed by a new key: the rotation the attestation signs in section 4, copied
    /// so that a customer who skipped that month can follow the handover (it is signed by the
    /// old key; `por-verify history` also checks it against the attestation).
    pub key_rotation: Option<KeyRotation>,
    /// Attestations that start a new anchor chain: the outpoint they sign as `restart`.
    pub restart: Option<Outpoint>,
    /// Where the signed file is published, relative to `history.json` (a hint, not signed).
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryEntryJson {
    kind: Kind,
    period: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sequence: Option<u32>,
    digest: String,
    public_key: String,
    log_size: u64,
    log_root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_rotation: Option<KeyRotationJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restart: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryJson {
    format: String,
    exchange: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    genesis: Option<String>,
    entries: Vec<HistoryEntryJson>,
}

/// The published history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The exchange.
    pub exchange: String,
    /// The genesis its attestations sign (a hint: checked against them).
    pub genesis: Option<Outpoint>,
    /// Every signed statement, in order.
    pub entries: Vec<HistoryEntry>,
}

impl History {
    /// An empty history.
    pub fn new(exchange: &str, genesis: Option<Outpoint>) -> History {
        History {
            exchange: exchange.into(),
            genesis,
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
        let h: HistoryJson =
            crate::input::parse_json(name, bytes, crate::input::FileKind::Other("history file"))?;
        if h.format != HISTORY_FORMAT {
            return Err(Error::input(format!(
                "{name}, field format: expected {HISTORY_FORMAT:?}, found {:?}",
                h.format
            )));
        }
        crate::text::validate_exchange(&h.exchange)
            .map_err(|e| e.context(format!("{name}, field exchange")))?;
        if h.entries.len() > MAX_HISTORY_ENTRIES {
            return Err(Error::input(format!(
                "{name}: {} entries, more than the {MAX_HISTORY_ENTRIES} a history can hold",
                h.entries.len()
            )));
        }
        let genesis = h
            .genesis
            .as_deref()
            .map(|g| {
                Outpoint::parse(g).map_err(|m| Error::input(format!("{name}, field genesis: {m}")))
            })
            .transpose()?;
        let mut entries = Vec::with_capacity(h.entries.len());
        for (i, e) in h.entries.into_iter().enumerate() {
            let at = |f: &str| format!("{name}, entries[{i}].{f}");
            let hex32 = |t: &str, f: &str| {
                crate::hash::parse_hex32(t)
                    .ok_or_else(|| Error::input(format!("{}: expected 64 hex characters", at(f))))
            };
            crate::text::validate_period(&e.period).map_err(|x| x.context(at("period")))?;
            entries.push(HistoryEntry {
                kind: e.kind,
                period: e.period,
                sequence: e.sequence,
                digest: Hash(hex32(&e.digest, "digest")?),
                public_key: hex32(&e.public_key, "public_key")?,
                log_size: e.log_size,
                log_root: Hash(hex32(&e.log_root, "log_root")?),
                key_rotation: e
                    .key_rotation
                    .map(|r| KeyRotation::from_json(r, &at("key_rotation")))
                    .transpose()?,
                restart: e
                    .restart
                    .as_deref()
                    .map(|r| {
                        Outpoint::parse(r)
                            .map_err(|m| Error::input(format!("{}: {m}", at("restart"))))
                    })
                    .transpose()?,
                file: e.file,
            });
        }
        Ok(History {
            exchange: h.exchange,
            genesis,
            entries,
        })
    }

    /// The published JSON.
    pub fn to_json(&self) -> String {
        let j = HistoryJson {
            format: HISTORY_FORMAT.into(),
            exchange: self.exchange.clone(),
            genesis: self.genesis.map(|g| g.to_string()),
            entries: self
                .entries
                .iter()
                .map(|e| HistoryEntryJson {
                    kind: e.kind,
                    period: e.period.clone(),
                    sequence: e.sequence,
                    digest: e.digest.to_hex(),
                    public_key: hex::encode(e.public_key),
                    log_size: e.log_size,
                    log_root: e.log_root.to_hex(),
                    key_rotation: e.key_rotation.as_ref().map(KeyRotation::to_json),
                    restart: e.restart.map(|r| r.to_string()),
                    file: e.file.clone(),
                })
                .collect(),
        };
        let mut s = serde_json::to_string_pretty(&j).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The leaves of the first `n` entries.
    pub fn leaves(&self, n: usize) -> Vec<[u8; 32]> {
        self.entries
            .iter()
            .take(n)
            .map(|e| log_leaf(e.kind, &e.digest))
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

    /// The link a new attestation signs: the last attestation's digest, the whole log so far,
    /// the history's genesis, and a restart when one is given.
    pub fn link(&self, restart: Option<Outpoint>) -> HistoryLink {
        let previous = self
            .entries
            .iter()
            .rev()
            .find(|e| e.kind == Kind::Attestation)
            .map(|e| e.digest);
        HistoryLink {
            previous,
            log_size: self.entries.len() as u64,
            log_root: self.root_at(self.entries.len()),
            genesis: self.genesis,
            restart,
        }
    }

    /// Appends an entry, computing the log after it.
    pub fn append(
        &mut self,
        kind: Kind,
        period: &str,
        digest: &Hash,
        key: &[u8; 32],
    ) -> &mut HistoryEntry {
        let n = self.entries.len() + 1;
        self.entries.push(HistoryEntry {
            kind,
            period: period.into(),
            sequence: None,
            digest: *digest,
            public_key: *key,
            log_size: n as u64,
            log_root: Hash([0; 32]),
            key_rotation: None,
            restart: None,
            file: None,
        });
        let root = self.root_at(n);
        let last = self.entries.len() - 1;
        self.entries[last].log_root = root;
        &mut self.entries[last]
    }

    /// Appends a copy of an entry (of this or another history), its log size and root computed
    /// anew for this log.
    pub fn push(&mut self, e: &HistoryEntry) {
        let new = self.append(e.kind, &e.period, &e.digest, &e.public_key);
        new.sequence = e.sequence;
        new.key_rotation = e.key_rotation.clone();
        new.restart = e.restart;
        new.file = e.file.clone();
    }

    /// The index of the first entry where `self` and `other` differ, if any (a history that is a
    /// prefix of the other does not diverge). The signer is compared too: a copy re-signed by
    /// another key is another history.
    pub fn first_divergence(&self, other: &History) -> Option<usize> {
        self.entries.iter().zip(&other.entries).position(|(a, b)| {
            a.kind != b.kind
                || a.digest != b.digest
                || a.period != b.period
                || a.public_key != b.public_key
        })
    }

    /// The chain starts a history names: its genesis, then each restart its entries list, in
    /// order (each with the index of the entry naming it; the genesis with none).
    pub fn starts(&self) -> Vec<(Option<usize>, Outpoint)> {
        let mut out: Vec<(Option<usize>, Outpoint)> =
            self.genesis.map(|g| (None, g)).into_iter().collect();
        for (i, e) in self.entries.iter().enumerate() {
            if let Some(r) = e.restart {
                if !out.iter().any(|(_, o)| *o == r) {
                    out.push((Some(i), r));
                }
            }
        }
        out
    }

    /// The latest reserves statement the log lists for `period`: its index and entry. A
    /// statement's period is that of the attestation entry before it (what the statement cites,
    /// and what the log's order fixes), never its entry's unsigned `period` label alone: a
    /// relabelled later statement must not make an older one "the latest".
    pub fn latest_statement(&self, period: &str) -> Option<(usize, &HistoryEntry)> {
        let mut current: Option<&str> = None;
        let mut latest = None;
        for (i, e) in self.entries.iter().enumerate() {
            match e.kind {
                Kind::Attestation => current = Some(e.period.as_str()),
                Kind::Reserves if current == Some(period) || e.period == period => {
                    latest = Some((i, e))
                }
                Kind::Reserves => {}
            }
        }
        latest
    }
}

/// Whether a reserves statement is the one to use: the latest the log lists for its period.
/// Returns the entry's index, or why not (a failure, exit 1: an older or unlisted statement
/// may show reserves that were since corrected, or reserves other customers are not shown).
pub fn check_statement(
    h: &History,
    period: &str,
    digest: &Hash,
    sequence: u32,
) -> std::result::Result<usize, Finding> {
    let listed = h
        .entries
        .iter()
        .position(|e| e.kind == Kind::Reserves && e.digest == *digest);
    let latest = h.latest_statement(period);
    match (listed, latest) {
        (Some(i), Some((j, _))) if i == j => Ok(i),
        (Some(_), Some((_, e))) => Err(crate::finding!(Code::StatementSuperseded,
            "reserves statement #{sequence} is superseded: the history lists #{} as the latest statement for {period}; \
             ask for that one",
            e.sequence.map_or("?".to_string(), |s| s.to_string())
        )),
        (_, latest) => Err(crate::finding!(Code::NotListed,
            "reserves statement #{sequence} is not in the published history{}: other customers are not shown it",
            latest.map_or(format!(", which lists no statement for {period}"), |(_, e)| format!(
                " (it lists #{} as the latest for {period})",
                e.sequence.map_or("?".to_string(), |s| s.to_string())
            ))
        )),
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

/// The keys a user trusts for an exchange, and how.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Keys trusted: the one given or pinned, and any the user's store saw it rotate through.
    pub keys: Vec<[u8; 32]>,
    /// Keys the user re-pinned by hand (`por-verify pin --confirm`): an unsigned key change to
    /// one is accepted at the first entry it signs, and nowhere else.
    pub manual: Vec<[u8; 32]>,
}

/// A key handover as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The entry of the first attestation the new key signed.
    pub entry: usize,
    /// Its period.
    pub period: String,
    /// The key before.
    pub old_key: [u8; 32],
    /// The key after.
    pub new_key: [u8; 32],
    /// Signed by the old key (false: accepted because the user re-pinned `new_key` by hand).
    pub signed: bool,
}

/// What checking a history established.
#[derive(Debug, Default)]
pub struct HistoryReport {
    /// Checks that passed.
    pub passed: Vec<String>,
    /// Failures: evidence against the exchange.
    pub failures: Vec<Finding>,
    /// Things that could not be checked (a document not published).
    pub unchecked: Vec<String>,
    /// Skipped months, named.
    pub gaps: Vec<String>,
    /// The key the history ends with (after any rotation).
    pub last_key: Option<[u8; 32]>,
    /// Every key that signed an attestation, in order of first use.
    pub keys: Vec<[u8; 32]>,
    /// Every key change, in order.
    pub handovers: Vec<Handover>,
    /// The genesis the attestations sign.
    pub genesis: Option<Outpoint>,
    /// Snapshot times (Unix seconds) of the attestations whose documents were found, by entry.
    pub snapshot_times: BTreeMap<usize, i64>,
}

fn next_period(p: &str) -> Option<String> {
    let (_, end) = crate::time::period_bounds(p)?;
    Some(crate::time::format_utc(end)[..7].to_string())
}

/// How far in the future a snapshot time may lie (clocks differ; a month cannot be signed
/// ahead of time).
pub const MAX_FUTURE_SECS: i64 = 2 * 3600;

/// Whether an attestation's snapshot time is in the future beyond clock skew (a failure: an
/// exchange that signs months ahead can show them later as it pleases).
pub fn future_snapshot(att: &Attestation, now: i64) -> Option<Finding> {
    let t = crate::time::unix_seconds(&att.snapshot_time)?;
    (t > now.saturating_add(MAX_FUTURE_SECS)).then(|| {
        crate::finding!(Code::FutureSnapshot,
            "the attestation for {} has snapshot time {}, later than now ({}) plus 2 hours: an attestation signed \
             ahead of time (check your clock too)",
            att.period,
            att.snapshot_time,
            crate::time::format_utc(now)
        )
    })
}

/// The rotations a history lists whose signature by their old key is valid, checked against
/// the history's exchange and each entry's period and key: `(entry, old key, new key)`. A
/// listed rotation that does not verify is left out (the check of the whole history names it).
pub fn listed_rotations(h: &History) -> Vec<(usize, [u8; 32], [u8; 32])> {
    h.entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Kind::Attestation)
        .filter_map(|(i, e)| {
            let r = e.key_rotation.as_ref()?;
            r.verify_for(&h.exchange, &e.period, &e.public_key, &r.old_key)
                .ok()
                .map(|_| (i, r.old_key, e.public_key))
        })
        .collect()
}

/// Checks a whole history: the log roots recomputed, one attestation per period in order, each
/// attestation linking to the one before and signing the log before it, every statement signed
/// by the key of its time (a key change only through a rotation signed by the old key, or at
/// the first entry of a key the user re-pinned by hand), one rotation per old key, one genesis,
/// and reserves statements citing an attestation of their period. The history must pass through
/// a key of `trust`.
pub fn check_history(
    h: &History,
    trust: &Trust,
    docs: &Documents,
    allow_gaps: bool,
    now: i64,
) -> HistoryReport {
    let mut r = HistoryReport::default();
    let mut periods: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_attestation: Option<(usize, String, Hash)> = None;
    let mut last_snapshot: Option<(String, i64)> = None;
    let roots = h.prefix_roots();
    let mut current_key: Option<[u8; 32]> = None;
    let mut genesis: Option<(usize, Option<Outpoint>)> = None;
    let mut rotated_from: BTreeMap<[u8; 32], (usize, [u8; 32])> = BTreeMap::new();
    let mut manual_used: Vec<[u8; 32]> = Vec::new();
    for (i, e) in h.entries.iter().enumerate() {
        let at = format!("entry {i} ({:?} {})", e.kind, e.period).to_lowercase();
        let root = roots[i + 1];
        if e.log_size != (i + 1) as u64 || e.log_root != root {
            r.failures.push(crate::finding!(Code::HistoryInvalid,
                "{at}: the log after it is listed as size {} root {}, but the listed digests give size {} root {root}",
                e.log_size,
                e.log_root,
                i + 1
            ));
        }
        let digest = e.digest;
        let entry_key = e.public_key;
        match e.kind {
            Kind::Attestation => {
                if let Some(first) = periods.get(&e.period) {
                    r.failures.push(crate::finding!(Code::Equivocation,
                        "{at}: a second attestation for {} (the first is entry {first}): two signed attestations \
                         for one period are equivocation",
                        e.period
                    ));
                }
                if let Some((_, prev_period, _)) = &last_attestation {
                    if e.period <= *prev_period {
                        if e.period < *prev_period {
                            r.failures.push(crate::finding!(
                                Code::HistoryInvalid,
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
                let doc = docs.attestations.get(&digest);
                // The rotation: the signed one when the document is here, else the listed copy.
                let rotation = match doc {
                    Some(a) => {
                        if a.rotation != e.key_rotation
                            && (a.rotation.is_some() || e.key_rotation.is_some())
                        {
                            r.failures.push(crate::finding!(Code::HistoryInvalid,
                                "{at}: the key rotation listed differs from the one the attestation signs"
                            ));
                        }
                        a.rotation.clone()
                    }
                    None => e.key_rotation.clone(),
                };
                // Keys: the first attestation fixes the key; a change needs the old key's rotation,
                // or is the first entry of a key the user re-pinned by hand.
                let key_ok = match current_key {
                    Some(k) if k != entry_key => {
                        let signed = rotation
                            .as_ref()
                            .map(|rot| rot.verify_for(&h.exchange, &e.period, &entry_key, &k));
                        match signed {
                            Some(Ok(())) => {
                                if let Some((first, to)) = rotated_from.get(&k) {
                                    if *to != entry_key {
                                        r.failures.push(crate::finding!(Code::Equivocation,
                                            "{at}: EQUIVOCATION: key {} signed two rotations, to {} (entry {first}) and to {}",
                                            hex::encode(k),
                                            hex::encode(to),
                                            hex::encode(entry_key)
                                        ));
                                    }
                                }
                                rotated_from.insert(k, (i, entry_key));
                                r.handovers.push(Handover {
                                    entry: i,
                                    period: e.period.clone(),
                                    old_key: k,
                                    new_key: entry_key,
                                    signed: true,
                                });
                                r.passed.push(format!(
                                    "{at}: key rotated from {} to {}, signed by the old key",
                                    hex::encode(k),
                                    hex::encode(entry_key)
                                ));
                                true
                            }
                            _ if trust.manual.contains(&entry_key)
                                && !manual_used.contains(&entry_key) =>
                            {
                                manual_used.push(entry_key);
                                r.handovers.push(Handover {
                                    entry: i,
                                    period: e.period.clone(),
                                    old_key: k,
                                    new_key: entry_key,
                                    signed: false,
                                });
                                r.passed.push(format!(
                                    "{at}: key changed from {} to {} without the old key's signature, accepted because \
                                     you re-pinned {} by hand",
                                    hex::encode(k),
                                    hex::encode(entry_key),
                                    hex::encode(entry_key)
                                ));
                                true
                            }
                            Some(Err(why)) => {
                                r.failures
                                    .push(crate::finding!(Code::HistoryInvalid, "{at}: {why}"));
                                false
                            }
                            None => {
                                r.failures.push(crate::finding!(Code::HistoryInvalid,
                                    "{at}: signed by {}, but the previous attestation by {}, with no rotation signed by the old key",
                                    hex::encode(entry_key),
                                    hex::encode(k)
                                ));
                                false
                            }
                        }
                    }
                    _ => true,
                };
                if current_key != Some(entry_key) && !r.keys.contains(&entry_key) {
                    r.keys.push(entry_key);
                }
                if let Some(rot) = &rotation {
                    // A rotation in an attestation whose key did not change is signed but ignored;
                    // one by a key that rotated elsewhere is still a second rotation.
                    if current_key == Some(entry_key) {
                        if let Some((first, to)) = rotated_from.get(&rot.old_key) {
                            if *to != entry_key
                                && rot
                                    .verify_for(&h.exchange, &e.period, &entry_key, &rot.old_key)
                                    .is_ok()
                            {
                                r.failures.push(crate::finding!(Code::Equivocation,
                                    "{at}: EQUIVOCATION: key {} signed two rotations, to {} (entry {first}) and to {}",
                                    hex::encode(rot.old_key),
                                    hex::encode(to),
                                    hex::encode(entry_key)
                                ));
                            }
                        }
                    }
                }
                current_key = Some(entry_key);
                match doc {
                    None => r.unchecked.push(format!(
                        "{at}: the attestation with digest {digest} is not published beside the history"
                    )),
                    Some(a) => {
                        let mut ok = key_ok;
                        if a.period != e.period || a.exchange != h.exchange || a.public_key != entry_key {
                            r.failures.push(crate::finding!(Code::HistoryInvalid,
                                "{at}: the listed period, exchange or key differ from the signed attestation's"
                            ));
                            ok = false;
                        }
                        if a.verify_signature(&VerifyingKey::from_bytes(&a.public_key).unwrap_or_else(|_| dummy_key())).is_err() {
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: its signature is not valid"));
                            ok = false;
                        }
                        let want_prev = last_attestation.as_ref().map(|(_, _, d)| *d);
                        if a.history.previous != want_prev {
                            let show = |h: Option<Hash>| h.map_or("none".to_string(), |h| h.to_hex());
                            r.failures.push(crate::finding!(Code::HistoryInvalid,
                                "{at}: it links to previous attestation {}, but the history's previous attestation is {}",
                                show(a.history.previous),
                                show(want_prev)
                            ));
                            ok = false;
                        }
                        let before = roots[i];
                        if a.history.log_size != i as u64 || a.history.log_root != before {
                            r.failures.push(crate::finding!(Code::HistoryInvalid,
                                "{at}: it signs the log as size {} root {}, but the history before it is size {i} root {before}",
                                a.history.log_size, a.history.log_root
                            ));
                            ok = false;
                        }
                        match &genesis {
                            None => genesis = Some((i, a.history.genesis)),
                            Some((first, g)) if *g != a.history.genesis => {
                                r.failures.push(crate::finding!(Code::Fork,
                                    "{at}: FORK: it signs genesis {}, but the attestation of entry {first} signs {}: \
                                     two histories",
                                    show_outpoint(a.history.genesis),
                                    show_outpoint(*g)
                                ));
                                ok = false;
                            }
                            Some(_) => {}
                        }
                        if a.history.restart != e.restart {
                            r.failures.push(crate::finding!(Code::HistoryInvalid,
                                "{at}: the restart outpoint listed ({}) is not the one the attestation signs ({})",
                                show_outpoint(e.restart),
                                show_outpoint(a.history.restart)
                            ));
                            ok = false;
                        }
                        if let Err(why) = a.snapshot_in_period() {
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: {why}"));
                            ok = false;
                        }
                        if let Some(why) = future_snapshot(a, now) {
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: {why}"));
                            ok = false;
                        }
                        let t = crate::time::unix_seconds(&a.snapshot_time).unwrap_or(i64::MIN);
                        if let Some((prev, pt)) = &last_snapshot {
                            if t <= *pt {
                                r.failures.push(crate::finding!(Code::HistoryInvalid,
                                    "{at}: its snapshot time {} is not later than the previous attestation's ({prev})",
                                    a.snapshot_time
                                ));
                                ok = false;
                            }
                        }
                        last_snapshot = Some((a.snapshot_time.clone(), t));
                        r.snapshot_times.insert(i, t);
                        if ok {
                            r.passed.push(format!(
                                "{at}: signed, links to the attestation before it, signs the log before it"
                            ));
                        }
                    }
                }
                last_attestation = Some((i, e.period.clone(), digest));
            }
            Kind::Reserves => {
                let Some((_, period, att_digest)) = &last_attestation else {
                    r.failures.push(crate::finding!(
                        Code::HistoryInvalid,
                        "{at}: a reserves statement before any attestation"
                    ));
                    continue;
                };
                if &e.period != period {
                    r.failures.push(crate::finding!(
                        Code::HistoryInvalid,
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
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: not validly signed by the exchange's key of its time"));
                        } else if s.attestation != *att_digest {
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: it cites attestation {}, not the period's attestation {att_digest}", s.attestation));
                        } else if Some(s.sequence) != e.sequence {
                            r.failures.push(crate::finding!(Code::HistoryInvalid, "{at}: it is statement #{}, listed as #{}", s.sequence, e.sequence.map_or("?".into(), |q| q.to_string())));
                        } else {
                            r.passed.push(format!("{at}: signed, cites the period's attestation"));
                        }
                    }
                }
            }
        }
    }
    r.genesis = genesis.and_then(|(_, g)| g);
    if let Some((first, g)) = &genesis {
        if *g != h.genesis {
            r.failures.push(crate::finding!(
                Code::HistoryInvalid,
                "the history names genesis {}, but its attestations sign {} (entry {first})",
                show_outpoint(h.genesis),
                show_outpoint(*g)
            ));
        }
    }
    if h.entries.iter().all(|e| e.kind != Kind::Attestation) {
        r.failures.push(Finding::new(
            Code::HistoryInvalid,
            "the history lists no attestation",
        ));
    } else if !r.keys.iter().any(|k| trust.keys.contains(k)) {
        r.failures.push(crate::finding!(
            Code::HistoryInvalid,
            "the history is signed by {}, none of them the key you trust ({})",
            r.keys
                .iter()
                .map(hex::encode)
                .collect::<Vec<_>>()
                .join(", "),
            trust
                .keys
                .iter()
                .map(hex::encode)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !allow_gaps {
        for g in &r.gaps {
            r.failures.push(crate::finding!(
                Code::HistoryInvalid,
                "a skipped month: {g} (give --allow-gaps if the exchange announced it)"
            ));
        }
    }
    r.last_key = current_key;
    r
}

fn show_outpoint(o: Option<Outpoint>) -> String {
    o.map_or("none".to_string(), |o| o.to_string())
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
    /// Its block's confirmations (1 for the tip).
    pub confirmations: u64,
    /// Its block's median time past (Unix seconds): the time no miner can set back.
    pub median_time: i64,
    /// The log size and root it commits, if it carries one readable `OP_RETURN` commitment.
    pub commitment: Option<(u64, Hash)>,
}

/// Where following one anchor chain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorEnd {
    /// The last anchor output is unspent: the chain ends here.
    Unspent,
    /// The last anchor output is spent by a transaction not yet in a block.
    Pending(String),
    /// The last anchor output is spent by a confirmed transaction that commits nothing (it is
    /// the last of `anchors`): the chain is broken there.
    Broken(String),
}

/// One anchor chain as followed on the user's node.
#[derive(Debug, Clone)]
pub struct ChainFollowed {
    /// Where it starts: the genesis or a restart.
    pub start: Outpoint,
    /// The anchors found, in order.
    pub anchors: Vec<AnchorSeen>,
    /// Where it ended.
    pub end: AnchorEnd,
}

/// The verifier's rules for anchors: its own settings, never the exchange's.
#[derive(Debug, Clone, Copy)]
pub struct AnchorPolicy {
    /// Confirmations the first anchor committing a statement needs (below: pending, exit 3).
    pub min_depth: u64,
    /// How long after an attestation's snapshot time its first anchor may be mined (by its
    /// block's median time past); later is a failure, so a history cannot be anchored after the
    /// fact.
    pub window_secs: i64,
}

/// The depth anchors need by default: as reserves' snapshot blocks (spec/reserves.md).
pub const ANCHOR_MIN_DEPTH: u64 = 6;
/// The default anchor window, in days.
pub const ANCHOR_WINDOW_DAYS: u32 = 14;

impl Default for AnchorPolicy {
    fn default() -> Self {
        AnchorPolicy {
            min_depth: ANCHOR_MIN_DEPTH,
            window_secs: i64::from(ANCHOR_WINDOW_DAYS) * 86_400,
        }
    }
}

/// What the anchor chains established.
#[derive(Debug, Default)]
pub struct AnchorReport {
    /// Checks that passed.
    pub passed: Vec<String>,
    /// Failures (FORK, too late, broken, missing).
    pub failures: Vec<Finding>,
    /// Not yet decided (not deep enough, in the mempool): exit 3.
    pub pending: Vec<String>,
    /// The largest log size committed by an anchor buried at least `min_depth` blocks.
    pub settled_size: u64,
}

/// Checks the anchor chains against a history: every anchor of every chain commits a log
/// state of this history (a different root at an anchored size is a FORK: another history was
/// anchored), sizes grow along each chain, a chain breaks only where a later restart follows,
/// and each entry in `required` (attestations, with their snapshot times when known) is
/// committed by a first anchor buried `min_depth` blocks whose median time past is at most the
/// snapshot time plus the window.
pub fn check_anchors(
    h: &History,
    chains: &[ChainFollowed],
    required: &[(usize, Option<i64>)],
    policy: &AnchorPolicy,
) -> AnchorReport {
    let mut r = AnchorReport::default();
    let roots = h.prefix_roots();
    // Every anchor that commits this history's state, across chains: (height, size, anchor).
    let mut good: Vec<(u64, u64, &AnchorSeen)> = Vec::new();
    for (c, chain) in chains.iter().enumerate() {
        let mut last = 0u64;
        for a in &chain.anchors {
            let Some((size, root)) = a.commitment else {
                continue;
            };
            if size <= last {
                r.failures.push(crate::finding!(Code::AnchorInvalid,
                    "anchor {} commits log size {size}, not more than the anchor before it on its chain ({last})",
                    a.txid
                ));
            }
            last = last.max(size);
            if size as usize > h.entries.len() {
                r.failures.push(crate::finding!(Code::AnchorInvalid,
                    "anchor {} (block {}) commits log size {size}, but your history has only {} entries: it is \
                     missing entries the exchange anchored",
                    a.txid,
                    a.height,
                    h.entries.len()
                ));
            } else if roots[size as usize] != root {
                r.failures.push(crate::finding!(Code::Fork,
                    "FORK: anchor {} (block {}) commits log root {root} at size {size}, but your history's root \
                     there is {}: the exchange anchored another history than the one you were given",
                    a.txid, a.height, roots[size as usize]
                ));
            } else {
                r.passed.push(format!(
                    "anchor {} (block {}, {} confirmations) commits your history's first {size} entries",
                    a.txid, a.height, a.confirmations
                ));
                good.push((a.height, size, a));
                if a.confirmations >= policy.min_depth {
                    r.settled_size = r.settled_size.max(size);
                }
            }
        }
        if let AnchorEnd::Broken(tx) = &chain.end {
            if c + 1 < chains.len() {
                r.passed.push(format!(
                    "the anchor chain from {} was broken by transaction {tx} (it commits nothing); a later attestation \
                     signs a new start, {}, which was followed",
                    chain.start,
                    chains[c + 1].start
                ));
            } else {
                r.failures.push(crate::finding!(Code::AnchorInvalid,
                    "the anchor chain from {} is broken: transaction {tx} spends the last anchor output and commits \
                     nothing, and no later attestation signs a new start",
                    chain.start
                ));
            }
        }
    }
    good.sort_by_key(|(height, size, _)| (*height, *size));
    let pending_tx = chains.iter().find_map(|c| match &c.end {
        AnchorEnd::Pending(tx) => Some(tx.clone()),
        _ => None,
    });
    for &(i, snapshot) in required {
        let e = &h.entries[i];
        let what = format!(
            "the {} of {} (entry {i})",
            if e.kind == Kind::Attestation {
                "attestation"
            } else {
                "reserves statement"
            },
            e.period
        );
        match good.iter().find(|(_, size, _)| *size > i as u64) {
            None => match &pending_tx {
                Some(tx) => r.pending.push(format!(
                    "{what} is not anchored yet: transaction {tx} spends the last anchor but is not in a block; check \
                     again later"
                )),
                // A statement may follow the month's anchor: until the next one commits it, two
                // customers could be shown different statements, so it is not settled (exit 3).
                None if e.kind == Kind::Reserves => r.pending.push(format!(
                    "{what} is not committed by any anchor yet: until one is mined, another customer could be shown \
                     another statement; check again after the exchange's next anchor"
                )),
                None => r.failures.push(crate::finding!(Code::AnchorInvalid, "{what} is not anchored on chain")),
            },
            Some((_, _, a)) => {
                let late = snapshot.filter(|t| a.median_time > t.saturating_add(policy.window_secs));
                if let Some(t) = late {
                    r.failures.push(crate::finding!(Code::AnchorInvalid,
                        "{what} was first anchored too late: anchor {} is in block {} of median time {}, more than {} \
                         after the snapshot time {}; a history anchored after the fact proves nothing about what \
                         customers were shown then",
                        a.txid,
                        a.height,
                        crate::time::format_utc(a.median_time),
                        crate::time::human_duration(policy.window_secs),
                        crate::time::format_utc(t)
                    ));
                } else if a.confirmations < policy.min_depth {
                    r.pending.push(format!(
                        "{what} is anchored by {} in block {}, but with {} confirmation(s) of the {} needed: a reorg \
                         could still replace it; check again later",
                        a.txid, a.height, a.confirmations, policy.min_depth
                    ));
                } else {
                    r.passed.push(format!(
                        "{what} is anchored by {} (block {}, {} confirmations){}",
                        a.txid,
                        a.height,
                        a.confirmations,
                        if snapshot.is_some() { ", in time" } else { "" }
                    ));
                }
            }
        }
    }
    r
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
/// the history is of this exchange and genesis, lists it at the place whose log it signs, and
/// still lists every attestation of this exchange the customer verified before (`seen`: period
/// and digest). Returns failures; a history that drops an attestation seen before is
/// equivocation. On success, the attestation's entry index.
pub fn check_for_customer(
    h: &History,
    att: &Attestation,
    seen: &[(String, Hash)],
) -> std::result::Result<usize, Vec<Finding>> {
    let roots = h.prefix_roots();
    let mut periods: HashMap<&str, &Hash> = HashMap::new();
    let mut twice = Vec::new();
    for e in h.entries.iter().filter(|e| e.kind == Kind::Attestation) {
        if let Some(first) = periods.insert(e.period.as_str(), &e.digest) {
            twice.push(crate::finding!(
                Code::Equivocation,
                "EQUIVOCATION: the history lists two attestations for {} ({first} and {})",
                e.period,
                e.digest
            ));
        }
    }
    let mut bad = Vec::new();
    if h.exchange != att.exchange {
        bad.push(crate::finding!(
            Code::NotListed,
            "the history is of {:?}, not of {:?}",
            h.exchange,
            att.exchange
        ));
    }
    if h.genesis != att.history.genesis {
        bad.push(crate::finding!(
            Code::Fork,
            "FORK: the history starts at genesis {}, but the attestation signs {}: another history",
            show_outpoint(h.genesis),
            show_outpoint(att.history.genesis)
        ));
    }
    let digest = att.digest();
    let index = h
        .entries
        .iter()
        .position(|e| e.kind == Kind::Attestation && e.digest == digest);
    match index {
        None => bad.push(crate::finding!(Code::NotListed,
            "this attestation ({}) is not in the published history: the exchange shows you an attestation \
             others do not see",
            fingerprint(&digest)
        )),
        Some(i) => {
            if att.history.log_size != i as u64 || att.history.log_root != roots[i] {
                bad.push(crate::finding!(Code::NotListed,
                    "the attestation signs the log as size {} root {}, but in the published history it follows \
                     {i} entries with root {}",
                    att.history.log_size, att.history.log_root, roots[i]
                ));
            }
        }
    }
    for (i, e) in h.entries.iter().enumerate() {
        if e.log_size != (i + 1) as u64 || e.log_root != roots[i + 1] {
            bad.push(crate::finding!(
                Code::NotListed,
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
            bad.push(crate::finding!(Code::Equivocation,
                "EQUIVOCATION: the history drops the attestation for {period} you verified before ({d}){other}"
            ));
        }
    }
    bad.extend(twice);
    match index {
        Some(i) if bad.is_empty() => Ok(i),
        _ => Err(bad),
    }
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
        let mut h = History::new("Ex", None);
        for i in 0..70u8 {
            let kind = if i % 3 == 1 {
                Kind::Reserves
            } else {
                Kind::Attestation
            };
            h.append(kind, "2026-11", &Hash([i; 32]), &[9; 32]);
        }
        let roots = h.prefix_roots();
        for (n, r) in roots.iter().enumerate() {
            assert_eq!(*r, h.root_at(n), "prefix of {n}");
        }
    }

    #[test]
    fn history_appends_and_diverges() {
        let mut h = History::new("Ex", None);
        h.append(Kind::Attestation, "2026-10", &Hash([1; 32]), &[9; 32]);
        h.append(Kind::Reserves, "2026-10", &Hash([2; 32]), &[9; 32])
            .sequence = Some(1);
        assert_eq!(h.entries[1].log_size, 2);
        assert_eq!(h.entries[1].log_root, h.root_at(2));
        let link = h.link(None);
        assert_eq!(link.previous, Some(Hash([1; 32])));
        assert_eq!(link.log_size, 2);
        let mut other = h.clone();
        assert_eq!(h.first_divergence(&other), None);
        other.entries[1].digest = Hash([3; 32]);
        assert_eq!(h.first_divergence(&other), Some(1));
        // The same digests under another signer are another history.
        let mut resigned = h.clone();
        resigned.entries[0].public_key = [8; 32];
        assert_eq!(h.first_divergence(&resigned), Some(0));
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

    fn anchored(
        h: &History,
        size: u64,
        height: u64,
        confirmations: u64,
        median_time: i64,
    ) -> AnchorSeen {
        AnchorSeen {
            txid: format!("tx{height}"),
            height,
            confirmations,
            median_time,
            commitment: Some((size, h.root_at(size as usize))),
        }
    }

    fn chain(anchors: Vec<AnchorSeen>, end: AnchorEnd) -> ChainFollowed {
        ChainFollowed {
            start: Outpoint::parse(&format!("{}:0", "11".repeat(32))).unwrap(),
            anchors,
            end,
        }
    }

    #[test]
    fn anchors_count_only_deep_and_in_time() {
        let mut h = History::new("Ex", None);
        h.append(Kind::Attestation, "2026-10", &Hash([1; 32]), &[9; 32]);
        h.append(Kind::Reserves, "2026-10", &Hash([2; 32]), &[9; 32]);
        let p = AnchorPolicy::default();
        let snap = 1_000_000;
        let req = [(0, Some(snap))];
        let ok = check_anchors(
            &h,
            &[chain(
                vec![anchored(&h, 1, 10, 6, snap + 86_400)],
                AnchorEnd::Unspent,
            )],
            &req,
            &p,
        );
        assert!(ok.failures.is_empty() && ok.pending.is_empty(), "{ok:?}");
        assert_eq!(ok.settled_size, 1);
        let shallow = check_anchors(
            &h,
            &[chain(
                vec![anchored(&h, 1, 10, 5, snap)],
                AnchorEnd::Unspent,
            )],
            &req,
            &p,
        );
        assert!(
            shallow.failures.is_empty() && shallow.pending.len() == 1,
            "{shallow:?}"
        );
        let late = check_anchors(
            &h,
            &[chain(
                vec![anchored(&h, 1, 10, 6, snap + 15 * 86_400)],
                AnchorEnd::Unspent,
            )],
            &req,
            &p,
        );
        assert_eq!(late.failures[0].code, Code::AnchorInvalid, "{late:?}");
        assert!(late.failures[0].message.contains("too late"), "{late:?}");
        // Another root at an anchored size is another history.
        let mut fork = anchored(&h, 1, 10, 6, snap);
        fork.commitment = Some((1, Hash([7; 32])));
        let forked = check_anchors(&h, &[chain(vec![fork], AnchorEnd::Unspent)], &req, &p);
        assert!(
            forked.failures.iter().any(|f| f.code == Code::Fork),
            "{forked:?}"
        );
        // A statement no anchor commits yet is pending, not a failure; the month is anchored.
        let stmt = check_anchors(
            &h,
            &[chain(
                vec![anchored(&h, 1, 10, 6, snap)],
                AnchorEnd::Unspent,
            )],
            &[(0, Some(snap)), (1, None)],
            &p,
        );
        assert!(
            stmt.failures.is_empty() && stmt.pending.len() == 1,
            "{stmt:?}"
        );
        // A broken chain fails unless a later start follows it.
        let mut broken = anchored(&h, 1, 11, 6, snap);
        broken.commitment = None;
        let first = chain(
            vec![anchored(&h, 1, 10, 6, snap), broken],
            AnchorEnd::Broken("tx11".into()),
        );
        let alone = check_anchors(&h, std::slice::from_ref(&first), &req, &p);
        assert!(
            alone
                .failures
                .iter()
                .any(|f| f.code == Code::AnchorInvalid && f.message.contains("is broken")),
            "{alone:?}"
        );
        let restarted = check_anchors(
            &h,
            &[
                first,
                chain(vec![anchored(&h, 2, 12, 6, snap)], AnchorEnd::Unspent),
            ],
            &req,
            &p,
        );
        assert!(restarted.failures.is_empty(), "{restarted:?}");
        assert_eq!(restarted.settled_size, 2);
    }

    #[test]
    fn the_latest_listed_statement_is_the_one() {
        let mut h = History::new("Ex", None);
        h.append(Kind::Attestation, "2026-10", &Hash([1; 32]), &[9; 32]);
        h.append(Kind::Reserves, "2026-10", &Hash([2; 32]), &[9; 32])
            .sequence = Some(1);
        h.append(Kind::Reserves, "2026-10", &Hash([3; 32]), &[9; 32])
            .sequence = Some(2);
        assert_eq!(check_statement(&h, "2026-10", &Hash([3; 32]), 2), Ok(2));
        assert!(
            check_statement(&h, "2026-10", &Hash([2; 32]), 1)
                .unwrap_err()
                .code
                == Code::StatementSuperseded
        );
        assert!(
            check_statement(&h, "2026-10", &Hash([4; 32]), 7)
                .unwrap_err()
                .code
                == Code::NotListed
        );
    }
}
