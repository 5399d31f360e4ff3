//! The reserves statement as signed: strings and integers only, so its signature can be checked
//! without any chain library. Parsing the strings into addresses and outpoints is
//! [`super::holding`]'s job, and a string that does not parse fails its entry (the exchange
//! signed it), never the whole file.

use crate::attestation::Attestation;
use crate::encode::{put_opt_str, put_str, put_u32, put_u64, Sections};
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::input::{parse_json, FileKind};
use crate::outcome::Code;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The format string of reserves statements and the kind string of their signed message.
/// Version 3 signs the public key (after the cited attestation's digest), as attestations do.
pub const RESERVES_FORMAT: &str = "por-reserves-v3";
/// Section type of the entries.
pub const SECTION_ENTRIES: u16 = 1;
/// Section type of the declared custody labels; present only when an entry has a label, so a
/// statement without labels keeps its bytes.
pub const SECTION_LABELS: u16 = 2;
/// Section type of the entries' wallet kinds; present only when an entry names one (a Safe),
/// so a statement of plain addresses keeps its bytes.
pub const SECTION_WALLETS: u16 = 3;
/// The largest reserves file read (an exchange may list many UTXOs).
pub const MAX_RESERVES_BYTES: u64 = 64 << 20;

/// One UTXO of a Bitcoin entry, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUtxo {
    /// `TXID:VOUT`.
    pub outpoint: String,
    /// The value in satoshi, a decimal integer.
    pub value: String,
}

/// One reserve entry, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    /// The asset's symbol.
    pub asset: String,
    /// A canonical chain name.
    pub chain: String,
    /// The snapshot block height.
    pub height: u64,
    /// The address.
    pub address: String,
    /// The token contract, for an EVM token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The balance claimed at `height`, in the chain's base units (satoshi, wei, token units).
    pub balance: String,
    /// Bitcoin: the outputs making up the balance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub utxos: Vec<RawUtxo>,
    /// Bitcoin multisig: the redeem or witness script in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The proofs of control.
    pub signatures: Vec<String>,
    /// Declared storage, `cold` or `hot` (signed in section 2; shown as declared, never verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Declared custodian: the exchange itself or a third party (signed in section 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custodian: Option<String>,
    /// The contract wallet at `address`, for an EVM entry that is not a plain key:
    /// `safe-1.1.1`, `safe-1.3.0` or `safe-1.4.1` (signed in section 3). Its signatures are
    /// then its owners' (spec/reserves.md, "Safe multisig wallets").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
}

impl RawEntry {
    /// Appends the signed encoding (spec/reserves.md, "Signed encoding").
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_str(out, &self.asset);
        put_str(out, &self.chain);
        put_u64(out, self.height);
        put_str(out, &self.address);
        put_opt_str(out, self.token.as_deref());
        put_str(out, &self.balance);
        put_u32(out, self.utxos.len() as u32);
        for u in &self.utxos {
            put_str(out, &u.outpoint);
            put_str(out, &u.value);
        }
        put_opt_str(out, self.script.as_deref());
        put_u32(out, self.signatures.len() as u32);
        for s in &self.signatures {
            put_str(out, s);
        }
    }

    /// A short label for messages: `BTC bc1q… on bitcoin`.
    pub fn label(&self) -> String {
        match &self.token {
            Some(t) => format!(
                "{} {} (token {t}) on {}",
                self.asset, self.address, self.chain
            ),
            None => format!("{} {} on {}", self.asset, self.address, self.chain),
        }
    }
}

/// A signed reserves statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservesStatement {
    /// The exchange's name (as in the attestation).
    pub exchange: String,
    /// The period (as in the attestation).
    pub period: String,
    /// The digest of the attestation this statement backs.
    pub attestation: Hash,
    /// 1 for the first statement of a period, one more for each correction.
    pub sequence: u32,
    /// The entries.
    pub entries: Vec<RawEntry>,
    /// The key that signed.
    pub public_key: [u8; 32],
    /// ed25519 over [`ReservesStatement::signing_message`].
    pub signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementJson {
    format: String,
    exchange: String,
    period: String,
    attestation: String,
    sequence: u32,
    entries: Vec<RawEntry>,
    public_key: String,
    signature: String,
}

/// The unsigned input of `por-prove reserves add`: just the entries.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesFile {
    /// The entries.
    pub entries: Vec<RawEntry>,
}

impl ReservesStatement {
    /// The canonical bytes the exchange signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = Vec::new();
        put_str(&mut m, RESERVES_FORMAT);
        put_str(&mut m, &self.exchange);
        put_str(&mut m, &self.period);
        m.extend_from_slice(&self.attestation.0);
        m.extend_from_slice(&self.public_key);
        put_u32(&mut m, self.sequence);
        let mut body = Vec::new();
        put_u32(&mut body, self.entries.len() as u32);
        for e in &self.entries {
            e.encode(&mut body);
        }
        let mut s = Sections::default();
        s.add(SECTION_ENTRIES, body);
        if self
            .entries
            .iter()
            .any(|e| e.storage.is_some() || e.custodian.is_some())
        {
            let mut labels = Vec::new();
            put_u32(&mut labels, self.entries.len() as u32);
            for e in &self.entries {
                put_opt_str(&mut labels, e.storage.as_deref());
                put_opt_str(&mut labels, e.custodian.as_deref());
            }
            s.add(SECTION_LABELS, labels);
        }
        if self.entries.iter().any(|e| e.wallet.is_some()) {
            let mut wallets = Vec::new();
            put_u32(&mut wallets, self.entries.len() as u32);
            for e in &self.entries {
                put_opt_str(&mut wallets, e.wallet.as_deref());
            }
            s.add(SECTION_WALLETS, wallets);
        }
        s.write(&mut m);
        m
    }

    /// Checks that the statement is signed by the trusted key and backs exactly `att`.
    pub fn verify(&self, att: &Attestation, trusted: &VerifyingKey) -> Result<()> {
        if self.public_key != trusted.to_bytes() {
            return Err(Error::coded(Code::StatementInvalid, format!(
                "the reserves statement says it was signed by key {}, not by the exchange key you gave ({})",
                hex::encode(self.public_key),
                hex::encode(trusted.to_bytes())
            )));
        }
        trusted
            .verify_strict(&self.signing_message(), &Signature::from_bytes(&self.signature))
            .map_err(|_| {
                Error::coded(Code::StatementInvalid,
                    "the reserves statement's signature is not valid for its content: it was altered after signing",
                )
            })?;
        if self.exchange != att.exchange
            || self.period != att.period
            || self.attestation != att.digest()
        {
            return Err(Error::coded(Code::StatementInvalid, format!(
                "this reserves statement backs attestation {} ({} {}), not the attestation given ({}, {} {})",
                self.attestation,
                self.exchange,
                self.period,
                att.digest(),
                att.exchange,
                att.period
            )));
        }
        Ok(())
    }

    /// Parses the JSON form; only a file that cannot be decoded is an error here.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<ReservesStatement> {
        let j: StatementJson = parse_json(name, bytes, FileKind::Reserves)?;
        let field = |f: &str| format!("{name}, field {f}");
        if j.format != RESERVES_FORMAT {
            return Err(Error::input(format!(
                "{}: expected {RESERVES_FORMAT:?}, found {:?}",
                field("format"),
                j.format
            )));
        }
        let attestation = Hash::from_hex(&j.attestation).ok_or_else(|| {
            Error::input(format!(
                "{}: expected 64 hex characters",
                field("attestation")
            ))
        })?;
        let (public_key, signature) =
            crate::hash::parse_key_and_signature(&j.public_key, &j.signature, field)?;
        Ok(ReservesStatement {
            exchange: j.exchange,
            period: j.period,
            attestation,
            sequence: j.sequence,
            entries: j.entries,
            public_key,
            signature,
        })
    }

    #[cfg(feature = "fs")]
    /// Reads a statement file (bounded).
    pub fn read(path: &std::path::Path) -> Result<ReservesStatement> {
        let bytes = crate::input::read_bounded(path, MAX_RESERVES_BYTES, FileKind::Reserves)?;
        ReservesStatement::from_json(&path.display().to_string(), &bytes)
    }

    /// The published JSON.
    pub fn to_json(&self) -> String {
        let j = StatementJson {
            format: RESERVES_FORMAT.into(),
            exchange: self.exchange.clone(),
            period: self.period.clone(),
            attestation: self.attestation.to_hex(),
            sequence: self.sequence,
            entries: self.entries.clone(),
            public_key: hex::encode(self.public_key),
            signature: hex::encode(self.signature),
        };
        let mut s = serde_json::to_string_pretty(&j).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> RawEntry {
        RawEntry {
            asset: "BTC".into(),
            chain: "bitcoin".into(),
            height: 5,
            address: "bc1q".into(),
            token: None,
            balance: "10".into(),
            utxos: vec![RawUtxo {
                outpoint: "ab:0".into(),
                value: "10".into(),
            }],
            script: None,
            signatures: vec!["sig".into()],
            storage: None,
            custodian: None,
            wallet: None,
        }
    }

    #[test]
    fn every_field_is_in_the_signed_bytes() {
        let base = ReservesStatement {
            exchange: "Ex".into(),
            period: "2026-11".into(),
            attestation: Hash([1; 32]),
            sequence: 1,
            entries: vec![entry()],
            public_key: [0; 32],
            signature: [0; 64],
        };
        let m = base.signing_message();
        let mut edits: Vec<ReservesStatement> = Vec::new();
        for f in 0..12 {
            let mut s = base.clone();
            let e = &mut s.entries[0];
            match f {
                0 => s.sequence = 2,
                1 => s.attestation = Hash([2; 32]),
                2 => e.height = 6,
                3 => e.token = Some(String::new()),
                4 => e.utxos.push(e.utxos[0].clone()),
                5 => e.script = Some(String::new()),
                6 => e.balance = "010".into(),
                7 => e.storage = Some("cold".into()),
                8 => e.custodian = Some(String::new()),
                9 => s.public_key = [1; 32],
                10 => e.wallet = Some("safe-1.4.1".into()),
                _ => e.signatures.clear(),
            }
            edits.push(s);
        }
        for s in edits {
            assert_ne!(s.signing_message(), m);
        }
    }

    #[test]
    fn json_round_trip() {
        let s = ReservesStatement {
            exchange: "Ex".into(),
            period: "2026-11".into(),
            attestation: Hash([1; 32]),
            sequence: 3,
            entries: vec![entry()],
            public_key: [0; 32],
            signature: [0; 64],
        };
        assert_eq!(
            ReservesStatement::from_json("r", s.to_json().as_bytes()).unwrap(),
            s
        );
    }
}
