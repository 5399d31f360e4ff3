//! The attestation: what the exchange signs and publishes each period.
//!
//! The signature covers a canonical byte encoding (`signing_message`), never re-serialised
//! JSON, so two implementations agree on the signed bytes whatever their JSON libraries do.
//! `spec/attestation.md` defines the encoding.

use crate::amount::Amount;
use crate::asset::{validate_assets, Asset};
use crate::encode::{put_str, put_u32};
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::reserves::Reserves;
use crate::text::{validate_exchange, validate_period, validate_timestamp};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The format string of version 1 attestations.
pub const ATTESTATION_FORMAT: &str = "por-attestation-v1";
/// The first bytes of the signed message; distinct from any other signed object's prefix.
pub const SIGNING_PREFIX: &[u8] = b"por-attestation-v1\n";
/// The largest attestation file read (reserves sections can list many UTXOs).
pub const MAX_ATTESTATION_BYTES: usize = 64 << 20;

/// A parsed, well-formed attestation (its signature not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// The exchange's name.
    pub exchange: String,
    /// The period, `YYYY-MM`.
    pub period: String,
    /// When the liabilities snapshot was taken, UTC.
    pub snapshot_time: String,
    /// The assets, in tree order.
    pub assets: Vec<Asset>,
    /// The tree height.
    pub tree_height: u8,
    /// The liabilities tree's root hash.
    pub root_hash: Hash,
    /// The root sums: total liabilities per asset, in base units.
    pub liabilities: Vec<Amount>,
    /// The on-chain reserves, when the exchange has added them.
    pub reserves: Option<Reserves>,
    /// The public key that signed.
    pub public_key: [u8; 32],
    /// The ed25519 signature over `signing_message()`.
    pub signature: [u8; 64],
}

/// The JSON form. Unknown fields are rejected: nothing may appear in a published attestation
/// that the signature does not cover.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttestationJson {
    format: String,
    exchange: String,
    period: String,
    snapshot_time: String,
    assets: Vec<Asset>,
    tree_height: u8,
    root_hash: String,
    liabilities: Vec<String>,
    #[serde(default)]
    reserves: Option<serde_json::Value>,
    public_key: String,
    signature: String,
}

impl Attestation {
    /// The canonical bytes the exchange signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = SIGNING_PREFIX.to_vec();
        put_str(&mut m, &self.exchange);
        put_str(&mut m, &self.period);
        put_str(&mut m, &self.snapshot_time);
        put_u32(&mut m, self.assets.len() as u32);
        for a in &self.assets {
            put_str(&mut m, &a.symbol);
            m.push(a.decimals);
        }
        m.push(self.tree_height);
        m.extend_from_slice(&self.root_hash.0);
        for l in &self.liabilities {
            m.extend_from_slice(&l.to_be_bytes());
        }
        match &self.reserves {
            None => m.push(0),
            Some(r) => {
                m.push(1);
                r.encode(&mut m);
            }
        }
        m
    }

    /// Checks the signature with `verify_strict` against the key the user trusts.
    pub fn verify_signature(&self, trusted: &VerifyingKey) -> Result<()> {
        if self.public_key != trusted.to_bytes() {
            return Err(Error::failed(format!(
                "the attestation says it was signed by key {}, not by the exchange key you gave ({})",
                hex::encode(self.public_key),
                hex::encode(trusted.to_bytes())
            )));
        }
        let sig = Signature::from_bytes(&self.signature);
        trusted.verify_strict(&self.signing_message(), &sig).map_err(|_| {
            Error::failed(
                "the attestation's signature is not valid for its content: it was altered after signing, \
                 or signed by another key",
            )
        })
    }

    /// Parses and validates the JSON form; errors name `name` and the field.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Attestation> {
        if bytes.len() > MAX_ATTESTATION_BYTES {
            return Err(Error::input(format!(
                "{name}: larger than {MAX_ATTESTATION_BYTES} bytes"
            )));
        }
        let j: AttestationJson = serde_json::from_slice(bytes)
            .map_err(|e| Error::input(format!("{name}: not a valid attestation: {e}")))?;
        let field = |f: &str| format!("{name}, field {f}");
        if j.format != ATTESTATION_FORMAT {
            return Err(Error::input(format!(
                "{}: expected {ATTESTATION_FORMAT:?}, found {:?}",
                field("format"),
                j.format
            )));
        }
        validate_exchange(&j.exchange).map_err(|e| e.context(field("exchange")))?;
        validate_period(&j.period).map_err(|e| e.context(field("period")))?;
        validate_timestamp(&j.snapshot_time).map_err(|e| e.context(field("snapshot_time")))?;
        validate_assets(&j.assets).map_err(|e| e.context(field("assets")))?;
        if j.tree_height == 0 || j.tree_height > crate::tree::MAX_HEIGHT {
            return Err(Error::input(format!(
                "{}: expected 1 to 64",
                field("tree_height")
            )));
        }
        let root_hash = Hash::from_hex(&j.root_hash).ok_or_else(|| {
            Error::input(format!(
                "{}: expected 64 hex characters",
                field("root_hash")
            ))
        })?;
        if j.liabilities.len() != j.assets.len() {
            return Err(Error::input(format!(
                "{}: expected {} amounts (one per asset), found {}",
                field("liabilities"),
                j.assets.len(),
                j.liabilities.len()
            )));
        }
        let liabilities = j
            .liabilities
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Amount::parse_units(t).map_err(|e| {
                    Error::input(format!(
                        "{}: {e}, found {t:?}",
                        field(&format!("liabilities[{i}]"))
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let public_key = crate::hash::parse_hex32(&j.public_key).ok_or_else(|| {
            Error::input(format!(
                "{}: expected 64 hex characters",
                field("public_key")
            ))
        })?;
        let mut signature = [0u8; 64];
        if j.signature.len() != 128 || hex::decode_to_slice(&j.signature, &mut signature).is_err() {
            return Err(Error::input(format!(
                "{}: expected 128 hex characters",
                field("signature")
            )));
        }
        let reserves = match j.reserves {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                Reserves::from_json_value(v, &j.assets)
                    .map_err(|e| e.context(field("reserves")))?,
            ),
        };
        Ok(Attestation {
            exchange: j.exchange,
            period: j.period,
            snapshot_time: j.snapshot_time,
            assets: j.assets,
            tree_height: j.tree_height,
            root_hash,
            liabilities,
            reserves,
            public_key,
            signature,
        })
    }

    /// Serialises to pretty JSON (the published form).
    pub fn to_json(&self) -> String {
        let j = AttestationJson {
            format: ATTESTATION_FORMAT.to_string(),
            exchange: self.exchange.clone(),
            period: self.period.clone(),
            snapshot_time: self.snapshot_time.clone(),
            assets: self.assets.clone(),
            tree_height: self.tree_height,
            root_hash: self.root_hash.to_hex(),
            liabilities: self.liabilities.iter().map(|a| a.to_string()).collect(),
            reserves: self
                .reserves
                .as_ref()
                .map(|r| r.to_json_value(&self.assets)),
            public_key: hex::encode(self.public_key),
            signature: hex::encode(self.signature),
        };
        let mut s = serde_json::to_string_pretty(&j).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads an attestation file.
    pub fn read(path: &std::path::Path) -> Result<Attestation> {
        let bytes = crate::error::read_file(path)?;
        Attestation::from_json(&path.display().to_string(), &bytes)
    }
}

/// Parses a 64-hex-character ed25519 public key given on the command line.
pub fn parse_public_key(hex_text: &str) -> Result<VerifyingKey> {
    let bytes = crate::hash::parse_hex32(hex_text.trim()).ok_or_else(|| {
        Error::input(format!(
            "exchange key {hex_text:?}: expected 64 hex characters (an ed25519 public key)"
        ))
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        Error::input(format!(
            "exchange key {hex_text}: not a valid ed25519 public key"
        ))
    })
}
