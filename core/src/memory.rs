//! The customer's memory, as data: every attestation verified, per exchange, with the
//! exchange's identity (its key and its history's genesis) pinned on first use. The format of
//! the command line's `store.json` (spec/history.md, "The customer's store"), parsed and written
//! here without any I/O, so that `por-verify` and the browser page remember the same things in
//! the same bytes and a store moves between them as one file.
//!
//! What the memory decides is in [`crate::identity`]; `por-verifier::store` adds the files, the
//! lock and the attestation copies.

use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::outpoint::Outpoint;
use serde::{Deserialize, Serialize};

/// The format of `store.json`.
pub const STORE_FORMAT: &str = "por-store-v2";
/// The largest store read.
pub const MAX_STORE_BYTES: u64 = 64 << 20;

/// Hex text of 32 bytes in the store's JSON, parsed once when read.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let t = String::deserialize(d)?;
        crate::hash::parse_hex32(&t)
            .ok_or_else(|| serde::de::Error::custom(format!("{t:?}: expected 64 hex characters")))
    }

    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(&hex::encode(v)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| {
                    crate::hash::parse_hex32(&t).ok_or_else(|| {
                        serde::de::Error::custom(format!("{t:?}: expected 64 hex characters"))
                    })
                })
                .transpose()
        }
    }

    pub mod list {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(hex::encode))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|t| {
                    crate::hash::parse_hex32(t).ok_or_else(|| {
                        serde::de::Error::custom(format!("{t:?}: expected 64 hex characters"))
                    })
                })
                .collect()
        }
    }
}

/// The genesis as pinned: not yet known, known to be none (an unanchored history), or an
/// outpoint. JSON: `null`, `"none"`, or `"TXID:VOUT"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenesisPin {
    /// Not pinned yet.
    #[default]
    Unknown,
    /// Pinned: the history is anchored nowhere.
    Pinned(Option<Outpoint>),
}

impl Serialize for GenesisPin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            GenesisPin::Unknown => s.serialize_none(),
            GenesisPin::Pinned(None) => s.serialize_str("none"),
            GenesisPin::Pinned(Some(o)) => s.serialize_str(&o.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for GenesisPin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(d)?.as_deref() {
            None => GenesisPin::Unknown,
            Some("none") => GenesisPin::Pinned(None),
            Some(t) => {
                GenesisPin::Pinned(Some(Outpoint::parse(t).map_err(serde::de::Error::custom)?))
            }
        })
    }
}

/// One attestation seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    /// Its period.
    pub period: String,
    /// Its digest.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
    /// The digest of the attestation it signs as the one before it.
    #[serde(with = "hex32::opt")]
    pub previous: Option<[u8; 32]>,
    /// The log size it signs.
    pub log_size: u64,
    /// The key that signed it.
    #[serde(with = "hex32")]
    pub public_key: [u8; 32],
}

/// A key rotation seen: the old key handing the exchange to a new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationSeen {
    /// The key that signed it.
    #[serde(with = "hex32")]
    pub old_key: [u8; 32],
    /// The key it hands over to.
    #[serde(with = "hex32")]
    pub new_key: [u8; 32],
    /// The period from which.
    pub period: String,
}

/// An exchange the customer has verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// The exchange's name, as in its attestations.
    pub exchange: String,
    /// The key pinned.
    #[serde(with = "hex32")]
    pub key: [u8; 32],
    /// When it was pinned (UTC).
    pub pinned_at: String,
    /// How: "first use", "rotation signed by the old key", or "re-pinned by the user".
    pub how: String,
    /// The history's genesis.
    #[serde(default)]
    pub genesis: GenesisPin,
    /// Every key this exchange was verified under, in order (the pinned one last).
    #[serde(with = "hex32::list")]
    pub keys: Vec<[u8; 32]>,
    /// Keys the user re-pinned by hand.
    #[serde(with = "hex32::list")]
    pub manual_keys: Vec<[u8; 32]>,
    /// Every key rotation followed.
    pub rotations: Vec<RotationSeen>,
    /// Every attestation verified.
    pub seen: Vec<Seen>,
}

/// The whole memory: one entry per exchange verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    format: String,
    /// Every exchange, in the order first verified.
    pub exchanges: Vec<Pinned>,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory::new()
    }
}

impl Memory {
    /// An empty memory.
    pub fn new() -> Memory {
        Memory {
            format: STORE_FORMAT.into(),
            exchanges: Vec::new(),
        }
    }

    /// Parses `store.json`. `place` names it in errors (a path, or "the imported store"). A
    /// corrupt store or one of another version is refused (exit 2), never reset: a reset would
    /// forget the months that make a second view detectable.
    pub fn from_json(place: &str, bytes: &[u8]) -> Result<Memory> {
        if bytes.len() as u64 > MAX_STORE_BYTES {
            return Err(Error::input(format!(
                "{place}: larger than {MAX_STORE_BYTES} bytes: not a store of verified attestations"
            )));
        }
        let corrupt = |why: String| {
            Error::input(format!(
                "{place}: the store of verified attestations is unreadable ({why}); it is never reset silently: {}",
                if cfg!(feature = "fs") {
                    "move it away to start a new one, or give --store DIR"
                } else {
                    "load a memory you saved instead, or start a new one knowingly by clearing this site's data \
                     (it forgets every month you verified)"
                }
            ))
        };
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != STORE_FORMAT {
            return Err(if format.starts_with("por-store-") {
                Error::input(format!(
                    "{place}: written by another version of por-verify ({format}, this one reads {STORE_FORMAT}); use \
                     that version, or move the store away to start a new one"
                ))
            } else {
                corrupt(format!("format {format:?}"))
            });
        }
        let m: Memory = serde_json::from_value(v).map_err(|e| corrupt(e.to_string()))?;
        let mut names: Vec<&str> = m.exchanges.iter().map(|p| p.exchange.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(corrupt(format!("the exchange {:?} is listed twice", w[0])));
        }
        Ok(m)
    }

    /// `store.json`'s text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The pinned entry of an exchange.
    pub fn pinned(&self, exchange: &str) -> Option<&Pinned> {
        self.exchanges.iter().find(|p| p.exchange == exchange)
    }

    /// The exchange, other than `exchange`, under which a key was ever verified or pinned.
    pub fn other_name_of(&self, key: &[u8; 32], exchange: &str) -> Option<&str> {
        self.exchanges
            .iter()
            .find(|p| p.exchange != exchange && (p.key == *key || p.keys.contains(key)))
            .map(|p| p.exchange.as_str())
    }

    /// Pins `key` for `exchange` (replacing any earlier pin), saying how; `now` is the UTC
    /// time written beside it (the caller's clock: this crate has none).
    pub fn pin(&mut self, exchange: &str, key: &[u8; 32], how: &str, now: &str) {
        let i = match self.exchanges.iter().position(|p| p.exchange == exchange) {
            Some(i) => i,
            None => {
                self.exchanges.push(Pinned {
                    exchange: exchange.into(),
                    key: *key,
                    pinned_at: now.into(),
                    how: how.into(),
                    genesis: GenesisPin::Unknown,
                    keys: vec![*key],
                    manual_keys: Vec::new(),
                    rotations: Vec::new(),
                    seen: Vec::new(),
                });
                self.exchanges.len() - 1
            }
        };
        let p = &mut self.exchanges[i];
        if p.key != *key || p.how != how {
            p.key = *key;
            p.pinned_at = now.into();
            p.how = how.into();
        }
        if !p.keys.contains(key) {
            p.keys.push(*key);
        }
        if how == crate::identity::HOW_MANUAL && !p.manual_keys.contains(key) {
            p.manual_keys.push(*key);
        }
    }

    /// Pins the genesis of an exchange already in the memory (first use).
    pub fn pin_genesis(&mut self, exchange: &str, genesis: Option<Outpoint>) {
        if let Some(p) = self.exchanges.iter_mut().find(|p| p.exchange == exchange) {
            if p.genesis == GenesisPin::Unknown {
                p.genesis = GenesisPin::Pinned(genesis);
            }
        }
    }

    /// Records a rotation followed (once).
    pub fn record_rotation(&mut self, exchange: &str, r: RotationSeen) {
        if let Some(p) = self.exchanges.iter_mut().find(|p| p.exchange == exchange) {
            if !p.rotations.contains(&r) {
                p.rotations.push(r);
            }
        }
    }

    /// Everything seen of an exchange.
    pub fn seen(&self, exchange: &str) -> &[Seen] {
        self.pinned(exchange).map_or(&[], |p| p.seen.as_slice())
    }

    /// Records a verified attestation of a pinned exchange; true when it is new (its copy is
    /// then worth keeping, as evidence should another one for its period appear).
    pub fn record_seen(&mut self, att: &Attestation) -> bool {
        let digest = att.digest().0;
        let Some(p) = self
            .exchanges
            .iter_mut()
            .find(|p| p.exchange == att.exchange)
        else {
            return false;
        };
        if p.seen.iter().any(|s| s.digest == digest) {
            return false;
        }
        p.seen.push(Seen {
            period: att.period.clone(),
            digest,
            previous: att.history.previous.map(|h| h.0),
            log_size: att.history.log_size,
            public_key: att.public_key,
        });
        true
    }
}
