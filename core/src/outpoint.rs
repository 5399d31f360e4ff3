//! A Bitcoin outpoint as the history signs it: where an anchor chain starts.
//!
//! Parsed once, strictly, and kept as bytes, so no later check re-reads a string (and no
//! malformed one reaches a node): `TXID:VOUT` with the txid in 64 hex digits (either case, as
//! block explorers show it) and `VOUT` decimal without a leading zero, below 2^32.

mod checked {
    /// `TXID:VOUT`, checked. The txid is kept in the order it is written (the order explorers
    /// and `bitcoin-cli` show), which is also the order it is signed in (spec/history.md).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Outpoint {
        txid: [u8; 32],
        vout: u32,
    }

    impl Outpoint {
        /// The only constructor: parses `TXID:VOUT`.
        pub fn parse(text: &str) -> Result<Outpoint, String> {
            let bad = || {
                format!("{text:?}: expected TXID:VOUT (64 hex digits, a colon, an output number)")
            };
            let (t, v) = text.split_once(':').ok_or_else(bad)?;
            let txid = crate::hash::parse_hex32(t).ok_or_else(bad)?;
            if v.is_empty()
                || !v.bytes().all(|b| b.is_ascii_digit())
                || (v.len() > 1 && v.starts_with('0'))
            {
                return Err(bad());
            }
            let vout = v.parse::<u32>().map_err(|_| bad())?;
            Ok(Outpoint { txid, vout })
        }

        /// The txid, in the written order.
        pub fn txid(&self) -> &[u8; 32] {
            &self.txid
        }

        /// The output number.
        pub fn vout(&self) -> u32 {
            self.vout
        }
    }
}

pub use checked::Outpoint;

impl Outpoint {
    /// Appends the signed form: the txid's 32 bytes as written, then `u32be(vout)`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.txid());
        out.extend_from_slice(&self.vout().to_be_bytes());
    }

    /// The txid as lower-case hex.
    pub fn txid_hex(&self) -> String {
        hex::encode(self.txid())
    }
}

impl std::fmt::Display for Outpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.txid_hex(), self.vout())
    }
}

/// Appends `u8(0)` for none, `u8(1) ‖ outpoint` for one.
pub fn put_opt_outpoint(out: &mut Vec<u8>, o: Option<&Outpoint>) {
    match o {
        None => out.push(0),
        Some(o) => {
            out.push(1);
            o.encode(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parse_and_round_trip() {
        let t = format!("{}:7", "Ab".repeat(32));
        let o = Outpoint::parse(&t).unwrap();
        assert_eq!(o.to_string(), format!("{}:7", "ab".repeat(32)));
        assert_eq!(o.vout(), 7);
        let mut b = Vec::new();
        o.encode(&mut b);
        assert_eq!(b.len(), 36);
        assert_eq!(&b[32..], &[0, 0, 0, 7]);
        for bad in [
            "".to_string(),
            "ab:0".into(),
            format!("{}:", "ab".repeat(32)),
            format!("{}:01", "ab".repeat(32)),
            format!("{}:4294967296", "ab".repeat(32)),
            format!("{}:-1", "ab".repeat(32)),
            format!("{}:0 ", "ab".repeat(32)),
            format!("{}0", "ab".repeat(32)),
        ] {
            assert!(Outpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
