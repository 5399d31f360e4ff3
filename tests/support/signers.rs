//! Test wallets: keys that sign reserve challenges the way real wallets do (Bitcoin Core's
//! `signmessage`, BIP-137 segwit headers, BIP-322, Ethereum `personal_sign`).

use bitcoin::hashes::Hash as _;
use bitcoin::key::{CompressedPublicKey, PrivateKey};
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::{Address, Network, PublicKey, ScriptBuf};

/// A Bitcoin key.
pub struct BtcKey {
    /// The private key.
    pub sk: PrivateKey,
    /// The network its addresses are for.
    pub network: Network,
}

impl BtcKey {
    /// A key from a seed byte (deterministic for tests).
    pub fn from_seed(seed: u8, network: Network) -> BtcKey {
        let mut b = [seed; 32];
        b[0] = 1;
        let sk = SecretKey::from_slice(&b).expect("valid key");
        BtcKey {
            sk: PrivateKey::new(sk, network),
            network,
        }
    }

    /// The compressed public key.
    pub fn public(&self) -> PublicKey {
        self.sk.public_key(&Secp256k1::new())
    }

    /// P2WPKH address.
    pub fn p2wpkh(&self) -> Address {
        Address::p2wpkh(&CompressedPublicKey(self.public().inner), self.network)
    }

    /// P2SH-P2WPKH address.
    pub fn p2sh_p2wpkh(&self) -> Address {
        Address::p2shwpkh(&CompressedPublicKey(self.public().inner), self.network)
    }

    /// P2PKH address.
    pub fn p2pkh(&self) -> Address {
        Address::p2pkh(self.public(), self.network)
    }

    /// P2TR (key path) address.
    pub fn p2tr(&self) -> Address {
        let secp = Secp256k1::new();
        let (xonly, _) = self.public().inner.x_only_public_key();
        Address::p2tr(&secp, xonly, None, self.network)
    }

    /// WIF.
    pub fn wif(&self) -> String {
        self.sk.to_wif()
    }

    /// A compact signed-message signature with the given header base (27 uncompressed P2PKH,
    /// 31 compressed P2PKH, 35 P2SH-P2WPKH, 39 P2WPKH), in base64.
    pub fn sign_compact(&self, message: &str, header_base: u8) -> String {
        self.sign_compact_digest(
            bitcoin::sign_message::signed_msg_hash(message).to_byte_array(),
            header_base,
        )
    }

    /// A compact signature over a signed-message digest (a Bitcoin fork's, with its magic).
    pub fn sign_compact_digest(&self, digest: [u8; 32], header_base: u8) -> String {
        use base64::Engine as _;
        let secp = Secp256k1::new();
        let msg = Message::from_digest(digest);
        let sig = secp.sign_ecdsa_recoverable(&msg, &self.sk.inner);
        let (recid, compact) = sig.serialize_compact();
        let mut out = vec![header_base + recid.to_i32() as u8];
        out.extend_from_slice(&compact);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// A BIP-322 simple signature of `address` (which this key controls alone).
    pub fn sign_bip322(&self, address: &Address, message: &str) -> String {
        bip322::sign_simple_encoded(&address.to_string(), message, &[self.wif()], None)
            .expect("bip322 sign")
    }
}

/// An m-of-n multisig witness script over the keys.
pub fn multisig_script(m: usize, keys: &[&BtcKey]) -> ScriptBuf {
    let mut b = bitcoin::script::Builder::new().push_int(m as i64);
    for k in keys {
        b = b.push_key(&k.public());
    }
    b.push_int(keys.len() as i64)
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script()
}

/// An Ethereum key.
pub struct EthKey {
    /// The secret key.
    pub sk: SecretKey,
}

impl EthKey {
    /// A key from a seed byte.
    pub fn from_seed(seed: u8) -> EthKey {
        let mut b = [seed; 32];
        b[0] = 2;
        EthKey {
            sk: SecretKey::from_slice(&b).expect("valid key"),
        }
    }

    /// The key's address, 0x + 40 lower-case hex.
    pub fn address(&self) -> String {
        use sha3::Digest;
        let pk = self
            .sk
            .public_key(&Secp256k1::new())
            .serialize_uncompressed();
        let d = sha3::Keccak256::digest(&pk[1..]);
        format!("0x{}", hex::encode(&d[12..]))
    }

    /// The private key as 0x-hex (for nodes that want it).
    pub fn secret_hex(&self) -> String {
        format!("0x{}", hex::encode(self.sk.secret_bytes()))
    }

    /// Signs a 32-byte digest as is: 0x + r ‖ s ‖ v, v = `base` + the recovery id (27 for
    /// an EIP-712 signature of a Safe owner, 31 for Safe's `eth_sign` kind).
    pub fn sign_digest(&self, digest: [u8; 32], base: u8) -> String {
        let msg = Message::from_digest(digest);
        let sig = Secp256k1::new().sign_ecdsa_recoverable(&msg, &self.sk);
        let (recid, compact) = sig.serialize_compact();
        let mut out = compact.to_vec();
        out.push(base + recid.to_i32() as u8);
        format!("0x{}", hex::encode(out))
    }

    /// `personal_sign(message)`: 0x + r ‖ s ‖ v (v = 27 or 28).
    pub fn personal_sign(&self, message: &[u8]) -> String {
        use sha3::Digest;
        let mut h = sha3::Keccak256::new();
        h.update(format!("\x19Ethereum Signed Message:\n{}", message.len()).as_bytes());
        h.update(message);
        let msg = Message::from_digest(h.finalize().into());
        let sig = Secp256k1::new().sign_ecdsa_recoverable(&msg, &self.sk);
        let (recid, compact) = sig.serialize_compact();
        let mut out = compact.to_vec();
        out.push(27 + recid.to_i32() as u8);
        format!("0x{}", hex::encode(out))
    }
}

/// A BIP-322 simple signature of a multisig address by `keys`, carrying the witness script.
pub fn sign_bip322_multisig(
    address: &Address,
    message: &str,
    keys: &[&BtcKey],
    script: &ScriptBuf,
) -> String {
    let wifs: Vec<String> = keys.iter().map(|k| k.wif()).collect();
    bip322::sign_simple_encoded(
        &address.to_string(),
        message,
        &wifs,
        Some(&script.to_hex_string()),
    )
    .expect("bip322 multisig sign")
}
