//! The attestation: what the exchange signs once per period about its liabilities.
//!
//! The signature covers a canonical byte encoding ([`Attestation::signing_message`]), never
//! re-serialised JSON, so two implementations agree on the signed bytes whatever their JSON
//! libraries do. The message is a header (kind, exchange, period, snapshot time) and typed,
//! length-prefixed sections ([`crate::encode::Sections`]): 1 the liabilities (assets, tree
//! height, root, totals), 2 the asset bindings. Reserves are a separate statement that cites
//! this one by [`Attestation::digest`] (spec/reserves.md), so an attestation is signed exactly
//! once per period. `spec/attestation.md` defines the encoding.

use crate::amount::Amount;
use crate::asset::{validate_assets, Asset};
use crate::binding::{encode_bindings, Binding};
use crate::encode::{digest, put_str, put_u32, Sections};
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::history::{HistoryLink, HistoryLinkJson, KeyRotation, KeyRotationJson};
use crate::input::{parse_json, FileKind};
use crate::outcome::Code;
use crate::text::{validate_exchange, validate_period, validate_timestamp};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The format string of version 3 attestations; also the kind string that opens the signed
/// message. Version 3 signs the public key itself (after the header's strings), so the digest,
/// the fingerprint and every log leaf name the signer: two copies of one attestation signed by
/// different keys never look alike.
pub const ATTESTATION_FORMAT: &str = "por-attestation-v3";
/// Section type of the liabilities.
pub const SECTION_LIABILITIES: u16 = 1;
/// Section type of the asset bindings.
pub const SECTION_BINDINGS: u16 = 2;
/// Section type of the history link (spec/history.md).
pub const SECTION_HISTORY: u16 = 3;
/// Section type of a key rotation signed by the previous key; present only when the key changes.
pub const SECTION_ROTATION: u16 = 4;
/// Section type of the hidden-sums opening of the root; present only in that mode.
pub const SECTION_HIDDEN: u16 = 5;
/// The bit sizes a hidden-sums range proof may use (spec/hidden.md).
pub const HIDDEN_BIT_SIZES: [u8; 5] = [8, 16, 32, 64, 128];
/// The largest attestation file read.
pub const MAX_ATTESTATION_BYTES: u64 = 4 << 20;
/// How long after its period's end a snapshot may be taken (spec/reserves.md, "Freshness").
pub const SNAPSHOT_GRACE_SECS: i64 = 7 * 86_400;

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
    /// Where each asset's reserves may be held, as signed (checked by the reserves verdict).
    pub bindings: Vec<Binding>,
    /// The link to the previous attestation and the history log before this one.
    pub history: HistoryLink,
    /// A handover from the previous key, when the key changes.
    pub rotation: Option<KeyRotation>,
    /// The tree's mode: `None` for sums in the clear, or the hidden-sums opening of the root.
    /// Signed (section 5), so no verifier can be told the wrong mode.
    pub hidden: Option<HiddenSums>,
    /// The public key that signed.
    pub public_key: [u8; 32],
    /// The ed25519 signature over `signing_message()`.
    pub signature: [u8; 64],
}

/// The hidden-sums mode's signed parameters: per asset, the bit size of the siblings' range
/// proofs and the root's blinding (the root's commitments open to the signed totals with
/// these; spec/hidden.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenSums {
    /// Per asset, one of [`HIDDEN_BIT_SIZES`].
    pub bit_sizes: Vec<u8>,
    /// Per asset, the root's blinding: a scalar of BN254's group order, 32 bytes little-endian
    /// (checked canonical when a proof is verified).
    pub root_blindings: Vec<[u8; 32]>,
}

/// The smallest allowed bit size whose range holds `total` (every node's value is at most the
/// total, so an honest tree's siblings fit).
pub fn bit_size_for(total: Amount) -> u8 {
    HIDDEN_BIT_SIZES
        .into_iter()
        .find(|&n| n == 128 || total.0 >> n == 0)
        .unwrap_or(128)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HiddenSumsJson {
    bit_sizes: Vec<u8>,
    root_blindings: Vec<String>,
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
    bindings: Vec<Binding>,
    history: HistoryLinkJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_rotation: Option<KeyRotationJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hidden_sums: Option<HiddenSumsJson>,
    public_key: String,
    signature: String,
}

impl Attestation {
    /// The canonical bytes the exchange signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = Vec::new();
        put_str(&mut m, ATTESTATION_FORMAT);
        put_str(&mut m, &self.exchange);
        put_str(&mut m, &self.period);
        put_str(&mut m, &self.snapshot_time);
        m.extend_from_slice(&self.public_key);
        let mut sections = Sections::default();
        let mut l = Vec::new();
        put_u32(&mut l, self.assets.len() as u32);
        for a in &self.assets {
            put_str(&mut l, &a.symbol);
            l.push(a.decimals);
        }
        l.push(self.tree_height);
        l.extend_from_slice(&self.root_hash.0);
        for t in &self.liabilities {
            l.extend_from_slice(&t.to_be_bytes());
        }
        sections.add(SECTION_LIABILITIES, l);
        let mut b = Vec::new();
        encode_bindings(&self.bindings, &mut b);
        sections.add(SECTION_BINDINGS, b);
        let mut h = Vec::new();
        self.history.encode(&mut h);
        sections.add(SECTION_HISTORY, h);
        if let Some(r) = &self.rotation {
            let mut body = Vec::new();
            r.encode(&mut body);
            sections.add(SECTION_ROTATION, body);
        }
        if let Some(hs) = &self.hidden {
            let mut body = Vec::new();
            // The pairs written are the pairs counted (the parser refuses unequal lengths).
            let pairs = hs.bit_sizes.len().min(hs.root_blindings.len());
            put_u32(&mut body, pairs as u32);
            for (bits, blinding) in hs.bit_sizes.iter().zip(&hs.root_blindings) {
                body.push(*bits);
                body.extend_from_slice(blinding);
            }
            sections.add(SECTION_HIDDEN, body);
        }
        sections.write(&mut m);
        m
    }

    /// SHA-256 of the signing message: how reserves statements and challenges cite this
    /// attestation.
    pub fn digest(&self) -> Hash {
        Hash(digest(&self.signing_message()))
    }

    /// Checks the signature with `verify_strict` against the key the user trusts.
    pub fn verify_signature(&self, trusted: &VerifyingKey) -> Result<()> {
        if self.public_key != trusted.to_bytes() {
            return Err(Error::coded(Code::WrongKey, format!(
                "the attestation says it was signed by key {}, not by the exchange key you gave ({})",
                hex::encode(self.public_key),
                hex::encode(trusted.to_bytes())
            )));
        }
        let sig = Signature::from_bytes(&self.signature);
        trusted.verify_strict(&self.signing_message(), &sig).map_err(|_| {
            Error::coded(Code::SignatureInvalid,
                "the attestation's signature is not valid for its content: it was altered after signing, \
                 or signed by another key",
            )
        })
    }

    /// Whether the signed snapshot time lies in the attested period or the 7 days after it:
    /// otherwise an old snapshot could be passed off with a back-dated time.
    pub fn snapshot_in_period(&self) -> std::result::Result<(), String> {
        let (start, end) = crate::time::period_bounds(&self.period)
            .ok_or_else(|| format!("period {:?} is not a month", self.period))?;
        let t = crate::time::unix_seconds(&self.snapshot_time)
            .ok_or_else(|| format!("snapshot time {:?} is not a date", self.snapshot_time))?;
        if t < start || t >= end + SNAPSHOT_GRACE_SECS {
            return Err(format!(
                "the snapshot time {} is outside the period {} and the 7 days after it",
                self.snapshot_time, self.period
            ));
        }
        Ok(())
    }

    /// Parses and validates the JSON form; errors name `name` and the field.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Attestation> {
        if bytes.len() as u64 > MAX_ATTESTATION_BYTES {
            return Err(Error::input(format!(
                "{name}: larger than {MAX_ATTESTATION_BYTES} bytes"
            )));
        }
        let j: AttestationJson = parse_json(name, bytes, FileKind::Attestation)?;
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
        if crate::time::unix_seconds(&j.snapshot_time).is_none() {
            return Err(Error::input(format!(
                "{}: {:?} is not a date of the calendar",
                field("snapshot_time"),
                j.snapshot_time
            )));
        }
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
        let (public_key, signature) =
            crate::hash::parse_key_and_signature(&j.public_key, &j.signature, field)?;
        let history = HistoryLink::from_json(j.history, &field("history"))?;
        let rotation = j
            .key_rotation
            .map(|r| KeyRotation::from_json(r, &field("key_rotation")))
            .transpose()?;
        let hidden = j
            .hidden_sums
            .map(|h| parse_hidden(h, j.assets.len(), &field("hidden_sums")))
            .transpose()?;
        // Bindings are kept as signed; whether they are valid and confirmed is a verdict on the
        // reserves (exit 1), not a reason to refuse the customer's inclusion check.
        Ok(Attestation {
            exchange: j.exchange,
            period: j.period,
            snapshot_time: j.snapshot_time,
            assets: j.assets,
            tree_height: j.tree_height,
            root_hash,
            liabilities,
            bindings: j.bindings,
            history,
            rotation,
            hidden,
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
            bindings: self.bindings.clone(),
            history: self.history.to_json(),
            key_rotation: self.rotation.as_ref().map(KeyRotation::to_json),
            hidden_sums: self.hidden.as_ref().map(|h| HiddenSumsJson {
                bit_sizes: h.bit_sizes.clone(),
                root_blindings: h.root_blindings.iter().map(hex::encode).collect(),
            }),
            public_key: hex::encode(self.public_key),
            signature: hex::encode(self.signature),
        };
        let mut s = serde_json::to_string_pretty(&j).unwrap_or_default();
        s.push('\n');
        s
    }

    #[cfg(feature = "fs")]
    /// Reads an attestation file (bounded).
    pub fn read(path: &std::path::Path) -> Result<Attestation> {
        let bytes = crate::input::read_bounded(path, MAX_ATTESTATION_BYTES, FileKind::Attestation)?;
        Attestation::from_json(&path.display().to_string(), &bytes)
    }
}

fn parse_hidden(j: HiddenSumsJson, k: usize, field: &str) -> Result<HiddenSums> {
    if j.bit_sizes.len() != k || j.root_blindings.len() != k {
        return Err(Error::input(format!(
            "{field}: expected {k} bit sizes and {k} root blindings (one per asset), found {} and {}",
            j.bit_sizes.len(),
            j.root_blindings.len()
        )));
    }
    if let Some((i, b)) = j
        .bit_sizes
        .iter()
        .enumerate()
        .find(|(_, b)| !HIDDEN_BIT_SIZES.contains(b))
    {
        return Err(Error::input(format!(
            "{field}.bit_sizes[{i}]: expected one of 8, 16, 32, 64, 128, found {b}"
        )));
    }
    let root_blindings = j
        .root_blindings
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let what = format!("{field}.root_blindings[{i}]");
            let bytes = crate::hash::parse_hex32(t)
                .ok_or_else(|| Error::input(format!("{what}: expected 64 hex characters")))?;
            por_hidden::encoding::decode_scalar(&bytes, &what).map_err(|e| Error::input(e.0))?;
            Ok(bytes)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(HiddenSums {
        bit_sizes: j.bit_sizes,
        root_blindings,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::read_sections;

    fn att() -> Attestation {
        Attestation {
            exchange: "Ex".into(),
            period: "2026-11".into(),
            snapshot_time: "2026-11-30T12:00:00Z".into(),
            assets: vec![Asset {
                symbol: "BTC".into(),
                decimals: 8,
            }],
            tree_height: 4,
            root_hash: Hash([7; 32]),
            liabilities: vec![Amount(5)],
            bindings: vec![Binding {
                asset: "BTC".into(),
                chain: "bitcoin".into(),
                token: None,
                decimals: 8,
            }],
            history: HistoryLink::first(None),
            rotation: None,
            hidden: None,
            public_key: [0; 32],
            signature: [0; 64],
        }
    }

    #[test]
    fn message_is_a_header_and_sections() {
        let a = att();
        let m = a.signing_message();
        let header_len = 4 + 18 + 4 + 2 + 4 + 7 + 4 + 20 + 32;
        assert_eq!(&m[4..22], b"por-attestation-v3");
        let sections = read_sections(&m[header_len..]).unwrap();
        assert_eq!(sections.len(), 3);
        assert_eq!(sections[0].0, SECTION_LIABILITIES);
        assert_eq!(sections[1].0, SECTION_BINDINGS);
        assert_eq!(sections[2].0, SECTION_HISTORY);
        assert_eq!(
            sections[2].1,
            [&[0u8][..], &[0; 8], &[0; 32], &[0], &[0]].concat()
        );
        // 4 + str("BTC") + u8 + u8(height) + root + u128
        assert_eq!(sections[0].1.len(), 4 + 7 + 1 + 1 + 32 + 16);
    }

    #[test]
    fn snapshot_window() {
        let mut a = att();
        assert!(a.snapshot_in_period().is_ok());
        a.snapshot_time = "2026-12-07T23:59:59Z".into();
        assert!(a.snapshot_in_period().is_ok());
        a.snapshot_time = "2026-12-08T00:00:00Z".into();
        assert!(a.snapshot_in_period().is_err());
        a.snapshot_time = "2026-10-31T23:59:59Z".into();
        assert!(a.snapshot_in_period().is_err());
    }

    #[test]
    fn json_round_trip_and_digest_changes_with_bindings() {
        let a = att();
        let back = Attestation::from_json("a.json", a.to_json().as_bytes()).unwrap();
        assert_eq!(back, a);
        let mut b = a.clone();
        b.bindings[0].decimals = 2;
        assert_ne!(a.digest(), b.digest());
        // The signer is in the digest: the same content re-signed by another key differs.
        let mut c = a.clone();
        c.public_key = [1; 32];
        assert_ne!(a.digest(), c.digest());
    }
}
