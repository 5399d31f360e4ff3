//! Solana addresses and signed messages (spec/reserves.md, "TRON and Solana").
//!
//! An address is an ed25519 public key in base58 (32 bytes). Wallets sign a message in one of
//! two ways: the bytes as they are (`signMessage` of Phantom, Solflare and the wallet
//! standard), or inside the off-chain message envelope of `solana sign-offchain-message`
//! (version 0 of the Solana SDK): `"\xffsolana offchain" ‖ u8(0) ‖ u8(format) ‖ u16le(len) ‖
//! message`, the format 0 for printable ASCII, 1 for other UTF-8 up to 1212 bytes.

use std::fmt;

/// The longest message the SDK's envelope (version 0) carries.
pub const MAX_OFFCHAIN_MESSAGE: usize = 65_515;

/// The signing domain of an off-chain message.
pub const OFFCHAIN_DOMAIN: &[u8; 16] = b"\xffsolana offchain";

mod checked {
    /// A Solana public key (an address, or a token mint). The field is private so that every
    /// value went through [`SolanaKey::parse`] or [`SolanaKey::from_bytes`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SolanaKey([u8; 32]);

    impl SolanaKey {
        /// A key from its 32 bytes.
        pub fn from_bytes(bytes: [u8; 32]) -> SolanaKey {
            SolanaKey(bytes)
        }

        /// The 32 bytes.
        pub fn bytes(&self) -> &[u8; 32] {
            &self.0
        }
    }
}
pub use checked::SolanaKey;

impl SolanaKey {
    /// Parses base58 of exactly 32 bytes, in its canonical spelling (the one base58 gives back,
    /// so a leading `1` too many is not the same key written twice).
    pub fn parse(text: &str) -> Result<SolanaKey, String> {
        // 32 bytes are 32 to 44 base58 characters; decoding is quadratic, so bound it first.
        if !(32..=44).contains(&text.len()) {
            return Err(format!(
                "{:?}: not a Solana address (base58 of 32 bytes: 32 to 44 characters)",
                crate::text::excerpt(text)
            ));
        }
        let b = base58ck::decode(text)
            .map_err(|_| format!("{text:?}: not a Solana address (base58)"))?;
        let k: [u8; 32] = b.as_slice().try_into().map_err(|_| {
            format!(
                "{text:?}: not a Solana address (expected 32 bytes in base58, found {})",
                b.len()
            )
        })?;
        let key = SolanaKey::from_bytes(k);
        if key.to_string() != text {
            return Err(format!(
                "{text:?}: not the canonical base58 of its 32 bytes"
            ));
        }
        Ok(key)
    }
}

impl fmt::Display for SolanaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base58ck::encode(self.bytes()))
    }
}

/// The off-chain message envelope (SDK version 0) of `message`: format 0 for printable ASCII
/// up to 1212 bytes, 1 for other UTF-8 up to 1212 bytes, 2 above; `None` when the message is
/// longer than the envelope allows ([`MAX_OFFCHAIN_MESSAGE`]).
pub fn offchain_envelope(message: &[u8]) -> Option<Vec<u8>> {
    if message.len() > MAX_OFFCHAIN_MESSAGE {
        return None;
    }
    let printable = message.iter().all(|b| (0x20..=0x7e).contains(b));
    let format = match (printable, message.len() <= 1212) {
        (true, true) => 0,
        (false, true) => 1,
        (_, false) => 2,
    };
    let len = u16::try_from(message.len()).ok()?;
    let mut out = Vec::with_capacity(20 + message.len());
    out.extend_from_slice(OFFCHAIN_DOMAIN);
    out.push(0);
    out.push(format);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(message);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_the_envelope() {
        // RFC 8032 test 1's public key as an address (../shared/vectors/chains/solana.json).
        let k = SolanaKey::parse("FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z").unwrap();
        assert_eq!(
            hex::encode(k.bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert!(SolanaKey::parse("1FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z").is_err());
        assert!(SolanaKey::parse(&"1".repeat(31)).is_err());
        assert!(SolanaKey::parse(&"1".repeat(32)).is_ok());
        assert!(SolanaKey::parse("0OIl").is_err());
        // The SDK's serialisation of "Test Message" (format 0, printable ASCII).
        assert_eq!(
            hex::encode(offchain_envelope(b"Test Message").unwrap()),
            "ff736f6c616e61206f6666636861696e00000c0054657374204d657373616765"
        );
        // A line break is not printable ASCII: format 1.
        assert_eq!(offchain_envelope(b"a\nb").unwrap()[17], 1);
    }
}
