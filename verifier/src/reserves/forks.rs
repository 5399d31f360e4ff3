//! The Bitcoin family beyond Bitcoin: Litecoin, Dogecoin, Bitcoin Cash and Monacoin addresses
//! and their signed messages (spec/reserves.md, "The Bitcoin family").
//!
//! Each fork signs messages as Bitcoin Core does (a compact signature over
//! `sha256d(varint(len(magic)) ‖ magic ‖ varint(len(message)) ‖ message)`) with its own magic,
//! as its reference wallet writes it; Bitcoin Cash wallets (Electron Cash, Trezor) keep
//! Bitcoin's. An address is turned into the output script it pays, so the header policy is
//! Bitcoin's own ([`super::bitcoin::legacy_controls`]) and the legacy and CashAddr forms of one
//! Bitcoin Cash address are one holding.

use crate::error::{Error, Result};
use bitcoin::consensus::Encodable as _;
use bitcoin::hashes::{hash160, sha256d, Hash as _};
use bitcoin::ScriptBuf;
use por_core::chains::Fork;

/// What distinguishes a fork's addresses and messages.
struct Params {
    p2pkh: u8,
    p2sh: &'static [u8],
    hrp: Option<&'static str>,
    cashaddr: Option<&'static str>,
    /// The magic as its wallets serialise it, length byte first.
    magic: &'static [u8],
}

fn params(f: Fork) -> Params {
    match f {
        // Litecoin Core and Electrum-LTC; P2SH's old version 5 (`3…`) is still paid.
        Fork::Litecoin => Params {
            p2pkh: 0x30,
            p2sh: &[0x32, 0x05],
            hrp: Some("ltc"),
            cashaddr: None,
            magic: b"\x19Litecoin Signed Message:\n",
        },
        Fork::Dogecoin => Params {
            p2pkh: 0x1e,
            p2sh: &[0x16],
            hrp: None,
            cashaddr: None,
            magic: b"\x19Dogecoin Signed Message:\n",
        },
        Fork::BitcoinCash => Params {
            p2pkh: 0x00,
            p2sh: &[0x05],
            hrp: None,
            cashaddr: Some("bitcoincash"),
            magic: b"\x18Bitcoin Signed Message:\n",
        },
        // Monacoin Core's MESSAGE_MAGIC with its length byte (0x19), as Electrum-MONA writes it.
        Fork::Monacoin => Params {
            p2pkh: 50,
            p2sh: &[55, 0x05],
            hrp: Some("mona"),
            cashaddr: None,
            magic: b"\x19Monacoin Signed Message:\n",
        },
    }
}

/// The digest a fork's wallet signs for `message`.
pub fn message_hash(f: Fork, message: &[u8]) -> [u8; 32] {
    let mut m = params(f).magic.to_vec();
    // Writing to a Vec cannot fail.
    let _ = bitcoin::consensus::encode::VarInt(message.len() as u64).consensus_encode(&mut m);
    m.extend_from_slice(message);
    sha256d::Hash::hash(&m).to_byte_array()
}

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn polymod(values: &[u8]) -> u64 {
    const GEN: [u64; 5] = [
        0x98_f2bc_8e61,
        0x79_b76d_99e2,
        0xf3_3e5f_b3c4,
        0xae_2eab_e2a8,
        0x1e_4f43_e470,
    ];
    let mut c: u64 = 1;
    for &d in values {
        let c0 = (c >> 35) as u8;
        c = ((c & 0x07_ffff_ffff) << 5) ^ u64::from(d);
        for (i, g) in GEN.iter().enumerate() {
            if c0 & (1 << i) != 0 {
                c ^= g;
            }
        }
    }
    c ^ 1
}

/// Decodes a CashAddr string `prefix:payload` (the prefix as given, or `default_prefix` when
/// absent): the version byte and the hash. Mixed case is refused; the checksum covers the
/// prefix. Inputs longer than 200 characters are refused before any work.
pub fn cashaddr_decode(text: &str, default_prefix: &str) -> Result<(String, u8, Vec<u8>)> {
    let (prefix, body) = cashaddr_checked(text, default_prefix)?;
    cashaddr_bytes(text, prefix, body)
}

/// Checks a CashAddr string's case, alphabet and checksum; returns the prefix and the 5-bit
/// groups before the checksum.
pub fn cashaddr_checked(text: &str, default_prefix: &str) -> Result<(String, Vec<u8>)> {
    let bad = |why: &str| {
        Error::input(format!(
            "{:?}: not a CashAddr address: {why}",
            por_core::text::excerpt(text)
        ))
    };
    if text.len() > 200 {
        return Err(bad("too long"));
    }
    let lower = text.to_ascii_lowercase();
    if lower != text && text.to_ascii_uppercase() != text {
        return Err(bad("mixed upper and lower case"));
    }
    let (prefix, payload) = match lower.rsplit_once(':') {
        Some((p, d)) => (p.to_string(), d.to_string()),
        None => (default_prefix.to_string(), lower.clone()),
    };
    let mut data = Vec::with_capacity(payload.len());
    for c in payload.bytes() {
        let v = CHARSET
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| bad("a character outside its alphabet"))?;
        data.push(v as u8);
    }
    if data.len() < 8 {
        return Err(bad("too short"));
    }
    let mut check: Vec<u8> = prefix.bytes().map(|b| b & 0x1f).collect();
    check.push(0);
    check.extend_from_slice(&data);
    if polymod(&check) != 0 {
        return Err(bad("the checksum is wrong"));
    }
    data.truncate(data.len() - 8);
    Ok((prefix, data))
}

fn cashaddr_bytes(text: &str, prefix: String, body: Vec<u8>) -> Result<(String, u8, Vec<u8>)> {
    let bad = |why: &str| {
        Error::input(format!(
            "{:?}: not a CashAddr address: {why}",
            por_core::text::excerpt(text)
        ))
    };
    // 5-bit groups to bytes, the padding zero.
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for &v in &body {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 {
        return Err(bad("its padding is not zero"));
    }
    let Some((&version, hash)) = out.split_first() else {
        return Err(bad("no version byte"));
    };
    let size = match version & 7 {
        0 => 20,
        1 => 24,
        2 => 28,
        3 => 32,
        4 => 40,
        5 => 48,
        6 => 56,
        _ => 64,
    };
    if hash.len() != size {
        return Err(bad("its hash is not of the size its version byte says"));
    }
    Ok((prefix, version, hash.to_vec()))
}

/// A fork address as the output script it pays: P2PKH, P2SH, or P2WPKH (Litecoin, Monacoin).
/// Only these can sign a message with one key; other forms fail with a reason.
pub fn parse_address(f: Fork, text: &str) -> Result<ScriptBuf> {
    let p = params(f);
    let bad = |why: String| {
        Error::input(format!(
            "{:?}: not a {} address: {why}",
            por_core::text::excerpt(text),
            f.name()
        ))
    };
    if let Some(prefix) = p.cashaddr {
        let looks_cash = text.contains(':') || text.starts_with(['q', 'p', 'Q', 'P']);
        if looks_cash {
            let (pre, version, hash) = cashaddr_decode(text, prefix)?;
            if pre != prefix {
                return Err(bad(format!("the prefix is {pre:?}, not {prefix:?}")));
            }
            let h: [u8; 20] = hash
                .as_slice()
                .try_into()
                .map_err(|_| bad("not a 160-bit hash".into()))?;
            return match version >> 3 {
                0 => Ok(ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(
                    h,
                ))),
                1 => Ok(ScriptBuf::new_p2sh(&bitcoin::ScriptHash::from_byte_array(
                    h,
                ))),
                t => Err(bad(format!("type {t} is neither P2PKH nor P2SH"))),
            };
        }
    }
    if let Some(hrp) = p.hrp {
        let l = text.to_ascii_lowercase();
        if l.starts_with(&format!("{hrp}1")) {
            if text.len() > 90 {
                return Err(bad("too long".into()));
            }
            let (got, version, program) =
                bitcoin::bech32::segwit::decode(text).map_err(|e| bad(format!("bech32: {e}")))?;
            if got.as_str() != hrp {
                return Err(bad(format!("its prefix is {got}, not {hrp}")));
            }
            return match (version.to_u8(), program.len()) {
                (0, 20) => {
                    let mut h = [0u8; 20];
                    h.copy_from_slice(&program);
                    Ok(ScriptBuf::new_p2wpkh(
                        &bitcoin::WPubkeyHash::from_byte_array(h),
                    ))
                }
                _ => Err(bad(
                    "only P2WPKH among segwit addresses can sign a message with one key".into(),
                )),
            };
        }
    }
    if text.len() > 40 {
        return Err(bad("too long".into()));
    }
    let b = bitcoin::base58::decode_check(text).map_err(|_| bad("base58check".into()))?;
    let (version, hash) = b.split_first().ok_or_else(|| bad("empty".into()))?;
    let h: [u8; 20] = hash
        .try_into()
        .map_err(|_| bad("not a 20-byte hash".into()))?;
    if *version == p.p2pkh {
        Ok(ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(
            h,
        )))
    } else if p.p2sh.contains(version) {
        Ok(ScriptBuf::new_p2sh(&bitcoin::ScriptHash::from_byte_array(
            h,
        )))
    } else {
        Err(bad(format!(
            "version byte {version} is not this chain's (another network or another coin)"
        )))
    }
}

/// Verifies that `address` signed `message` on fork `f`; `Ok` names the standard.
pub fn verify(f: Fork, address: &str, message: &str, sig: &str) -> Result<String> {
    let spk = parse_address(f, address)?;
    let (key, header) =
        super::bitcoin::recover_compact_digest(message_hash(f, message.as_bytes()), sig)?;
    if super::bitcoin::legacy_controls(&spk, &key, header) {
        Ok(format!("{} signed message (header {header})", f.name()))
    } else {
        let h = hash160::Hash::hash(&key.inner.serialize());
        Err(Error::failed(format!(
            "the signature was made by key {h}, which does not control {address} on {} (header {header})",
            f.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_magic_as_each_wallet_writes_it() {
        // Monacoin's correct hash (../shared/vectors/chains/monacoin.json).
        assert_eq!(
            hex::encode(message_hash(Fork::Monacoin, b"wakiyama tamami chan")),
            "cda506d2080d1fe1a8c8f7c823010af27227e38be9ec388f7cdba1cb4c4b28c5"
        );
        // Bitcoin Cash signs with Bitcoin's magic.
        assert_eq!(
            message_hash(Fork::BitcoinCash, b"m"),
            bitcoin::sign_message::signed_msg_hash("m").to_byte_array()
        );
    }

    #[test]
    fn addresses() {
        // A Bitcoin address is not a Litecoin one, nor a Litecoin one a Dogecoin one.
        assert!(parse_address(Fork::Litecoin, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").is_err());
        assert!(parse_address(Fork::Dogecoin, "LPvBisC3rGmpGa3E3NeQk3PHQN4VS237y2").is_err());
        assert!(parse_address(Fork::Litecoin, "LPvBisC3rGmpGa3E3NeQk3PHQN4VS237y2").is_ok());
        // One Bitcoin Cash hash, two spellings, one script.
        let a = parse_address(
            Fork::BitcoinCash,
            "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        )
        .unwrap();
        let b = parse_address(Fork::BitcoinCash, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu").unwrap();
        assert_eq!(a, b);
        assert!(parse_address(
            Fork::BitcoinCash,
            "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvY22gdx6a"
        )
        .is_err());
        assert!(parse_address(Fork::BitcoinCash, &"q".repeat(5000)).is_err());
    }
}
