//! Bitcoin proofs of control: BIP-322 (simple and full), legacy `signmessage` / BIP-137
//! compact signatures, and m-of-n multisig.
//!
//! BIP-322 is verified by the `bip322` crate. Legacy compact signatures are verified here over
//! rust-bitcoin's signed-message hash and libsecp256k1 key recovery, because rust-bitcoin's
//! own check covers P2PKH only.
//!
//! Policy for legacy signatures of segwit addresses (`spec/reserves.md`): headers 35-38 must
//! be a P2SH-P2WPKH address and 39-42 a P2WPKH address of the recovered key (BIP-137); headers
//! 27-34 prove a P2PKH address, and are also accepted for the P2SH-P2WPKH or P2WPKH address of
//! the recovered key, as Electrum and Trezor sign them. The header only says which address
//! form to derive; in every case the address must be derived from the key that signed, so the
//! lenient reading proves control exactly as well as the strict one.

use crate::error::{Error, Result};
use bitcoin::hashes::Hash as _;
use bitcoin::script::Instruction;
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::{Address, Network, PublicKey, ScriptBuf};
use std::str::FromStr;

/// Parses an address and checks it belongs to `network`.
pub fn parse_address(text: &str, network: Network) -> Result<Address> {
    let unchecked = Address::from_str(text).map_err(|e| {
        Error::input(format!(
            "address {text:?}: not a valid Bitcoin address ({e})"
        ))
    })?;
    unchecked.require_network(network).map_err(|_| {
        Error::input(format!(
            "address {text:?}: not an address of Bitcoin {network}"
        ))
    })
}

/// Decodes a compact signature given in base64 (as `signmessage` prints it) or in hex.
fn decode_compact(sig: &str) -> Option<[u8; 65]> {
    use base64::Engine as _;
    let bytes = if sig.len() == 130 && sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(sig).ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(sig).ok()?
    };
    bytes.try_into().ok()
}

/// Whether `sig` looks like a legacy compact signature (65 bytes, header 27-42).
fn is_compact(sig: &str) -> bool {
    decode_compact(sig).is_some_and(|b| (27..=42).contains(&b[0]))
}

/// Recovers the key of a compact signature over the Bitcoin signed-message hash of `message`.
/// Returns the key in the form the header says (compressed or not) and the header.
pub fn recover_compact(message: &str, sig: &str) -> Result<(PublicKey, u8)> {
    recover_compact_digest(
        bitcoin::sign_message::signed_msg_hash(message).to_byte_array(),
        sig,
    )
}

/// Recovers the key of a compact signature over a signed-message digest (Bitcoin's, or a fork's
/// with its own magic: [`super::forks`]).
pub fn recover_compact_digest(digest: [u8; 32], sig: &str) -> Result<(PublicKey, u8)> {
    let bytes = decode_compact(sig).ok_or_else(|| {
        Error::input("signature: expected 65 bytes in base64 or hex (a compact signature)")
    })?;
    let header = bytes[0];
    if !(27..=42).contains(&header) {
        return Err(Error::input(format!(
            "signature: header byte {header} is not 27 to 42"
        )));
    }
    let recid = RecoveryId::from_i32(i32::from((header - 27) & 3))
        .map_err(|_| Error::input("signature: bad recovery id"))?;
    let rsig = RecoverableSignature::from_compact(&bytes[1..], recid)
        .map_err(|_| Error::input("signature: r and s are not a valid ECDSA signature"))?;
    let msg = Message::from_digest(digest);
    let key = Secp256k1::verification_only()
        .recover_ecdsa(&msg, &rsig)
        .map_err(|_| {
            Error::failed("signature: no public key can be recovered from it for this message")
        })?;
    // Headers 27-30 sign with an uncompressed key; every other range with a compressed one.
    let compressed = header >= 31;
    Ok((
        PublicKey {
            inner: key,
            compressed,
        },
        header,
    ))
}

/// Whether the key of a compact signature with this header controls the output script `spk`
/// under the lenient policy (spec/reserves.md, "Proof of control"): headers 27-34 the key's
/// P2PKH, P2SH-P2WPKH or P2WPKH; 35-38 its P2SH-P2WPKH; 39-42 its P2WPKH.
pub fn legacy_controls(spk: &ScriptBuf, key: &PublicKey, header: u8) -> bool {
    let p2pkh = ScriptBuf::new_p2pkh(&key.pubkey_hash());
    let wpkh = p2wpkh(key);
    let sh_wpkh = ScriptBuf::new_p2sh(&wpkh.script_hash());
    match header {
        27..=34 => *spk == p2pkh || *spk == wpkh || *spk == sh_wpkh,
        35..=38 => *spk == sh_wpkh,
        _ => *spk == wpkh,
    }
}

fn p2wpkh(key: &PublicKey) -> ScriptBuf {
    let compressed = PublicKey {
        inner: key.inner,
        compressed: true,
    };
    ScriptBuf::new_p2wpkh(&compressed.wpubkey_hash().expect("compressed key"))
}

/// Verifies a legacy compact signature for `address` under the lenient policy above.
pub fn verify_legacy(address: &Address, message: &str, sig: &str) -> Result<String> {
    let (key, header) = recover_compact(message, sig)?;
    if legacy_controls(&address.script_pubkey(), &key, header) {
        Ok(format!("legacy signed message (BIP-137 header {header})"))
    } else {
        Err(Error::failed(format!(
            "the signature was made by key {key}, which does not control {address} (header {header})"
        )))
    }
}

fn bip322_error(e: bip322::Error) -> Error {
    use bip322::Error as E;
    match e {
        E::AddressParse { .. }
        | E::SignatureDecode { .. }
        | E::TransactionConsensusDecode { .. }
        | E::WitnessMalformed { .. }
        | E::SignatureVariantMismatch { .. } => Error::input(format!("signature: {e}")),
        other => Error::failed(format!(
            "the BIP-322 signature is not valid for this address and message: {other}"
        )),
    }
}

fn bip322_result(
    r: std::result::Result<bip322::Verification, bip322::Error>,
    what: &str,
) -> Result<String> {
    match r.map_err(bip322_error)? {
        bip322::Verification::Valid { .. } => Ok(what.to_string()),
        bip322::Verification::Inconclusive => Err(Error::failed(
            "the BIP-322 signature uses a script this verifier cannot interpret; it proves nothing here",
        )),
    }
}

/// Verifies a BIP-322 signature (`smp`/`ful` prefix, or none, meaning simple).
pub fn verify_bip322(address: &Address, message: &str, sig: &str) -> Result<String> {
    let a = address.to_string();
    if sig.starts_with("ful") {
        return bip322_result(
            bip322::verify_full_encoded(&a, message, sig),
            "BIP-322 full signature",
        );
    }
    if sig.starts_with("pof") {
        return Err(Error::input("signature: BIP-322 proof-of-funds signatures are not accepted; sign the challenge with the simple or full variant"));
    }
    bip322_result(
        bip322::verify_simple_encoded(&a, message, sig),
        "BIP-322 simple signature",
    )
}

/// Verifies one signature of a single-key address: a legacy compact signature or BIP-322.
pub fn verify_single(address: &Address, message: &str, sig: &str) -> Result<String> {
    if is_compact(sig) {
        verify_legacy(address, message, sig)
    } else {
        verify_bip322(address, message, sig)
    }
}

/// An m-of-n `OP_CHECKMULTISIG` script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multisig {
    /// Signatures required.
    pub required: usize,
    /// The keys, in script order.
    pub keys: Vec<PublicKey>,
}

/// Parses `OP_m <key>… OP_n OP_CHECKMULTISIG`.
pub fn parse_multisig(script: &bitcoin::Script) -> Option<Multisig> {
    use bitcoin::opcodes::all::OP_CHECKMULTISIG;
    let ins: Vec<Instruction> = script
        .instructions_minimal()
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let small = |i: &Instruction| match i {
        Instruction::Op(op) => {
            let c = op.to_u8();
            (0x51..=0x60).contains(&c).then(|| usize::from(c - 0x50))
        }
        _ => None,
    };
    if ins.len() < 4 || ins.last() != Some(&Instruction::Op(OP_CHECKMULTISIG)) {
        return None;
    }
    let m = small(&ins[0])?;
    let n = small(&ins[ins.len() - 2])?;
    let keys: Vec<PublicKey> = ins[1..ins.len() - 2]
        .iter()
        .map(|i| match i {
            Instruction::PushBytes(b) => PublicKey::from_slice(b.as_bytes()).ok(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (keys.len() == n && m >= 1 && m <= n).then_some(Multisig { required: m, keys })
}

/// The m-of-n multisig `script` whose P2WSH, P2SH or P2SH-P2WSH is `spk` (`shown` names the
/// address in messages).
pub fn multisig_of(spk: &ScriptBuf, shown: &str, script: &ScriptBuf) -> Result<Multisig> {
    let wsh = ScriptBuf::new_p2wsh(&script.wscript_hash());
    let forms = [
        wsh.clone(),
        ScriptBuf::new_p2sh(&script.script_hash()),
        ScriptBuf::new_p2sh(&wsh.script_hash()),
    ];
    if !forms.contains(spk) {
        return Err(Error::failed(format!(
            "the script does not hash to {shown}: it is not this address's redeem or witness script"
        )));
    }
    parse_multisig(script).ok_or_else(|| {
        Error::input(
            "script: expected an m-of-n multisig script (OP_m <keys> OP_n OP_CHECKMULTISIG)",
        )
    })
}

/// Whether the keys recovered from the signatures, in order, are at least m distinct keys of
/// the script: a key signing twice counts once.
pub fn enough_signers(ms: &Multisig, keys: &[PublicKey]) -> Result<String> {
    let mut signers: Vec<PublicKey> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let in_script = ms
            .keys
            .iter()
            .find(|k| k.inner == key.inner)
            .ok_or_else(|| {
                Error::failed(format!(
                    "signatures[{i}] was made by key {key}, which is not a key of the script"
                ))
            })?;
        if !signers.contains(in_script) {
            signers.push(*in_script);
        }
    }
    if signers.len() < ms.required {
        return Err(Error::failed(format!(
            "only {} distinct key(s) of the {}-of-{} script signed; {} are needed",
            signers.len(),
            ms.required,
            ms.keys.len(),
            ms.required
        )));
    }
    Ok(format!(
        "{} distinct keys of a {}-of-{} multisig signed",
        signers.len(),
        ms.required,
        ms.keys.len()
    ))
}

/// Verifies control of a multisig address whose redeem or witness script is `script`:
/// the address must be P2WSH, P2SH or P2SH-P2WSH of the script, and either one BIP-322
/// signature of the address (carrying m signatures) or compact signatures by at least m
/// distinct keys of the script must be given.
pub fn verify_multisig(
    address: &Address,
    message: &str,
    script: &[u8],
    sigs: &[String],
) -> Result<String> {
    let script = ScriptBuf::from_bytes(script.to_vec());
    let ms = multisig_of(&address.script_pubkey(), &address.to_string(), &script)?;
    if sigs.len() == 1 && !is_compact(&sigs[0]) {
        let what = verify_bip322(address, message, &sigs[0])?;
        return Ok(format!(
            "{what} of a {}-of-{} multisig",
            ms.required,
            ms.keys.len()
        ));
    }
    let mut keys = Vec::with_capacity(sigs.len());
    for (i, sig) in sigs.iter().enumerate() {
        let (key, _) =
            recover_compact(message, sig).map_err(|e| e.context(format!("signatures[{i}]")))?;
        keys.push(key);
    }
    enough_signers(&ms, &keys)
}

/// Verifies control of `address`: multisig when a script is given, else one signature.
pub fn verify(
    network: Network,
    address: &str,
    message: &str,
    sigs: &[String],
    script: Option<&[u8]>,
) -> Result<String> {
    let addr = parse_address(address, network)?;
    match script {
        Some(s) => verify_multisig(&addr, message, s, sigs),
        None => match sigs {
            [one] => verify_single(&addr, message, one),
            _ => Err(Error::input(format!(
                "expected exactly one signature for a single-key address, found {}",
                sigs.len()
            ))),
        },
    }
}
