//! How the reserves are held: the custody report per asset.
//!
//! From what the verifier already checks, each counted reserve entry is classed by the control
//! the chain itself shows (spec/reserves.md, "Custody"):
//! - **multisig** `m-of-n`: a Bitcoin address whose script was given, hashes to the address, and
//!   is `OP_m <keys> OP_n OP_CHECKMULTISIG`;
//! - **single key**: P2PKH, P2WPKH, P2SH-P2WPKH, an Ethereum externally owned account, and a
//!   1-of-n script (any one of its keys spends alone);
//! - **other**: anything whose control the chain does not show, notably a Taproot key path,
//!   which can hide a multisig (MuSig2, FROST) as well as a single key, and a script hash whose
//!   script was not given.
//!
//! The exchange may label each entry `cold` or `hot` and name its custodian; those labels are
//! signed with the statement, shown as **declared**, and never presented as verified. The
//! report also counts the distinct keys behind an asset's reserves and names a key that signs
//! for more than one address, or that alone controls half or more of an asset: concentration in
//! few keys is what thieves target.

use crate::amount::Amount;
use crate::reserves::holding::{Entry, Holding};
use ::bitcoin::hashes::{hash160, Hash as _};
use ::bitcoin::AddressType;

/// What controls a holding, as far as the chain shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Control {
    /// An m-of-n multisig script.
    Multisig {
        /// Signatures required.
        m: usize,
        /// Keys in the script.
        n: usize,
    },
    /// One key.
    SingleKey,
    /// Something the chain does not show: why.
    Other(&'static str),
}

/// The words for a Taproot key path.
pub const TAPROOT: &str =
    "Taproot key path: may hide a multisig or a single key; the chain cannot show which";
/// The words for a multisig script that lists one key more than once.
pub const REPEATED_KEYS: &str =
    "multisig script that repeats a key: fewer distinct signers than it claims";
/// The words for a Safe with an enabled module.
pub const SAFE_MODULE: &str =
    "Safe with an enabled module: the module can move funds without the owners' signatures";
/// The words for a Safe with an owner that has code.
pub const SAFE_CODED_OWNER: &str =
    "Safe with an owner that is a contract or a delegated account: it approves by its own rules, not by one key";
/// The words for a holding on a chain with no snapshot check (the Bitcoin forks, TRON, Solana).
pub const NOT_READ: &str = "not read on chain: never counted, so never in the custody report";
/// The words for a Safe whose owners were not read.
pub const SAFE_UNREAD: &str = "Safe whose owners and threshold were not read on chain";
/// The words for a script hash without its script.
pub const NO_SCRIPT: &str = "script hash whose script was not given";

impl Control {
    /// `2-of-3 multisig`, `single key`, or the reason.
    pub fn words(&self) -> String {
        match self {
            Control::Multisig { m, n } => format!("{m}-of-{n} multisig"),
            Control::SingleKey => "single key".into(),
            Control::Other(why) => format!("other ({why})"),
        }
    }
}

/// The declared storage of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Keys offline.
    Cold,
    /// Keys online.
    Hot,
}

impl Storage {
    /// Parses `cold` or `hot`.
    pub fn parse(s: &str) -> Option<Storage> {
        match s {
            "cold" => Some(Storage::Cold),
            "hot" => Some(Storage::Hot),
            _ => None,
        }
    }
}

/// A key's identity: the HASH160 of its compressed serialization (so one secp256k1 key is one
/// identity across Bitcoin address forms and Ethereum), or the x-only output key of Taproot.
fn key_id(pubkey: &::bitcoin::secp256k1::PublicKey) -> String {
    format!("key {}", hash160::Hash::hash(&pubkey.serialize()))
}

/// A key's name in the custody table (`key` and the HASH160 of its compressed form).
pub fn key_name(pubkey: &::bitcoin::secp256k1::PublicKey) -> String {
    key_id(pubkey)
}

/// Classifies one holding and names the keys behind it. `message` and `signatures` are the
/// entry's challenge and proofs of control, from which single keys are recovered where the
/// address alone does not show them.
/// A Safe is classified by what the chain said of it at the snapshot block (`safe`): its
/// threshold of owners, or a module that needs none of them.
pub fn classify(
    e: &Entry,
    message: &str,
    signatures: &[String],
    safe: Option<&crate::chain::ethereum::SafeFacts>,
) -> (Control, Vec<String>) {
    match &e.holding {
        Holding::Evm(h) if h.safe.is_some() => {
            let Some(f) = safe else {
                return (
                    Control::Other(SAFE_UNREAD),
                    vec![format!("safe {}", h.address)],
                );
            };
            // An owner who signed is known by key (one identity with the same key elsewhere);
            // one who did not, by address.
            let keys: Vec<String> = f
                .owners
                .iter()
                .map(|o| match f.signers.iter().find(|s| s.owner == *o) {
                    Some(s) => key_id(&s.key),
                    None => format!("account {o}"),
                })
                .collect();
            let control = if !f.modules.is_empty() {
                Control::Other(SAFE_MODULE)
            } else if !f.coded_owners.is_empty() {
                Control::Other(SAFE_CODED_OWNER)
            } else if f.threshold < 2 {
                // Any one owner moves a 1-of-n Safe: each is a single key.
                Control::SingleKey
            } else {
                Control::Multisig {
                    m: f.threshold,
                    n: f.owners.len(),
                }
            };
            (control, keys)
        }
        // Never counted (no snapshot check yet), so left out of the report by its caller.
        Holding::Fork(f) => (
            Control::Other(NOT_READ),
            vec![format!("{} {}", f.fork.name(), f.address)],
        ),
        Holding::Tron(t) => (
            Control::Other(NOT_READ),
            vec![format!("tron {}", t.address)],
        ),
        Holding::Solana(s) => (
            Control::Other(NOT_READ),
            vec![format!("ed25519 {}", s.address)],
        ),
        Holding::Evm(h) => {
            let key = signatures
                .first()
                .and_then(|s| {
                    crate::reserves::ethereum::recover_personal_key(message.as_bytes(), s).ok()
                })
                .map(|k| key_id(&k))
                .unwrap_or_else(|| format!("account {}", h.address));
            (Control::SingleKey, vec![key])
        }
        Holding::Bitcoin(b) => {
            if let Some(script) = &b.script {
                if let Some(ms) = crate::reserves::bitcoin::parse_multisig(script) {
                    let mut keys: Vec<String> = ms.keys.iter().map(|k| key_id(&k.inner)).collect();
                    let n = keys.len();
                    keys.sort();
                    keys.dedup();
                    if keys.len() != n {
                        return (Control::Other(REPEATED_KEYS), keys);
                    }
                    // One signature of any of its keys spends a 1-of-n: each key alone controls it.
                    if ms.required < 2 {
                        return (Control::SingleKey, keys);
                    }
                    return (Control::Multisig { m: ms.required, n }, keys);
                }
                return (
                    Control::Other(NO_SCRIPT),
                    vec![format!("script {}", b.address)],
                );
            }
            let recovered = || {
                signatures
                    .first()
                    .and_then(|s| crate::reserves::bitcoin::recover_compact(message, s).ok())
                    .map(|(k, _)| key_id(&k.inner))
            };
            match b.address.address_type() {
                Some(AddressType::P2pkh) => {
                    let id = recovered().unwrap_or_else(|| format!("key {}", b.address));
                    (Control::SingleKey, vec![id])
                }
                Some(AddressType::P2wpkh) => {
                    let program = b
                        .address
                        .witness_program()
                        .map(|p| hex::encode(p.program().as_bytes()));
                    (
                        Control::SingleKey,
                        vec![format!("key {}", program.unwrap_or_default())],
                    )
                }
                // A P2SH address proven without a script by a legacy or BIP-322 simple signature
                // is P2SH-P2WPKH: legacy signatures derive exactly that form, and BIP-322 simple
                // supports no other.
                Some(AddressType::P2sh) => match recovered() {
                    Some(id) => (Control::SingleKey, vec![id]),
                    // BIP-322 full may carry any script, a multisig among them.
                    None if signatures.iter().any(|s| s.starts_with("ful")) => (
                        Control::Other(NO_SCRIPT),
                        vec![format!("script {}", b.address)],
                    ),
                    None => (Control::SingleKey, vec![format!("p2sh {}", b.address)]),
                },
                Some(AddressType::P2tr) => {
                    let program = b
                        .address
                        .witness_program()
                        .map(|p| hex::encode(p.program().as_bytes()));
                    (
                        Control::Other(TAPROOT),
                        vec![format!("taproot {}", program.unwrap_or_default())],
                    )
                }
                Some(AddressType::P2wsh) | Some(_) | None => (
                    Control::Other(NO_SCRIPT),
                    vec![format!("script {}", b.address)],
                ),
            }
        }
    }
}

/// A share threshold given by the user, a decimal from 0 to 1 (at most 6 decimals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    num: u64,
    den: u64,
    text: String,
}

impl Threshold {
    /// Parses `0.9`, `0.95`, `1`, `0`.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let bad =
            || format!("{text:?}: expected a share from 0 to 1 with at most 6 decimals, e.g. 0.9");
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty()
            || frac.len() > 6
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if text.ends_with('.') {
            return Err(bad());
        }
        let den = 10u64.pow(frac.len() as u32);
        let num = int
            .parse::<u64>()
            .ok()
            .and_then(|i| i.checked_mul(den))
            .and_then(|i| {
                i.checked_add(if frac.is_empty() {
                    0
                } else {
                    frac.parse::<u64>().ok()?
                })
            })
            .ok_or_else(bad)?;
        if num > den {
            return Err(bad());
        }
        Ok(Threshold {
            num,
            den,
            text: text.to_string(),
        })
    }

    /// Whether `part / total` reaches the threshold, exactly (no floating point). Nothing held
    /// reaches only a threshold of 0.
    pub fn met(&self, part: Amount, total: Amount) -> bool {
        if total.0 == 0 {
            return self.num == 0;
        }
        mul(part.0, self.den) >= mul(total.0, self.num)
    }

    /// The threshold as a percentage, for messages.
    pub fn percent(&self) -> String {
        format!("{}%", (self.num as f64) * 100.0 / (self.den as f64))
    }

    /// As the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// `a * b` exactly, as (high, low) 128-bit words.
fn mul(a: u128, b: u64) -> (u128, u128) {
    let b = u128::from(b);
    let lo = (a & u128::from(u64::MAX)) * b;
    let hi = (a >> 64) * b;
    // a*b = hi * 2^64 + lo; carry the upper half of hi into the high word.
    let (low, carry) = lo.overflowing_add(hi << 64);
    ((hi >> 64) + u128::from(carry), low)
}

/// A share in percent for display.
pub fn percent(part: Amount, total: Amount) -> String {
    if total.0 == 0 {
        return "-".into();
    }
    format!("{:.2}%", part.0 as f64 * 100.0 / total.0 as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact_on_the_boundary() {
        let t = Threshold::parse("0.9").unwrap();
        assert!(t.met(Amount(9), Amount(10)));
        assert!(!t.met(Amount(899_999_999), Amount(1_000_000_000)));
        // Exact at 128-bit amounts: (2^128-1) * 0.5 rounded up meets 0.5, one less does not.
        let half = Threshold::parse("0.5").unwrap();
        let total = Amount(u128::MAX);
        assert!(half.met(Amount(u128::MAX / 2 + 1), total));
        assert!(!half.met(Amount(u128::MAX / 2), total));
        assert!(Threshold::parse("1").unwrap().met(Amount(3), Amount(3)));
        assert!(!Threshold::parse("0.1").unwrap().met(Amount(0), Amount(0)));
        assert!(Threshold::parse("0").unwrap().met(Amount(0), Amount(0)));
        for bad in ["1.1", "-0.5", ".5", "0.", "0.1234567", "abc", "", "2"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wide_multiplication() {
        assert_eq!(mul(u128::MAX, 1), (0, u128::MAX));
        assert_eq!(mul(u128::MAX, 2), (1, u128::MAX - 1));
        assert_eq!(mul(1 << 100, 1 << 40), (1 << 12, 0));
    }
}
