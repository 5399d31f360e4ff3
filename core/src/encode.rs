//! Primitive byte encodings shared by the signed messages, and the section framing of the
//! version 2 signed statements (see `spec/attestation.md`, "Framing").
//!
//! Every signed message is `str(kind) ‖ header fields ‖ u32be(n) ‖ n sections`, each section
//! `u16be(type) ‖ u32be(len) ‖ body`, types strictly increasing. The kind string is
//! length-prefixed, so no message of one kind is a prefix of a message of another, and a later
//! format adds a section type without changing how the others are read.

use sha2::{Digest, Sha256};

/// Appends `u32be(len) ‖ bytes`.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// Appends `u32be(len) ‖ bytes`.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Lengths are bounded far below 4 GiB by the file size limits before anything is encoded.
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Appends `u8(0)` for `None`, `u8(1) ‖ str(s)` for `Some(s)`: absent and empty stay distinct.
pub fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

/// Appends a big-endian u16.
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u32.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u64.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Builds the section list of a signed message: `u32be(n) ‖ (u16be(type) ‖ u32be(len) ‖ body)*`.
#[derive(Debug, Default)]
pub struct Sections {
    sections: Vec<(u16, Vec<u8>)>,
}

impl Sections {
    /// Adds a section. Types must be added in strictly increasing order; the formats in this
    /// crate do, and a debug build checks it.
    pub fn add(&mut self, kind: u16, body: Vec<u8>) {
        debug_assert!(self.sections.last().is_none_or(|(k, _)| *k < kind));
        self.sections.push((kind, body));
    }

    /// Appends the framed sections to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.sections.len() as u32);
        for (kind, body) in &self.sections {
            put_u16(out, *kind);
            put_bytes(out, body);
        }
    }
}

/// Splits framed sections back into `(type, body)` pairs, checking the framing: exact lengths,
/// strictly increasing types, nothing after the last section. Used by the spec vector tests and
/// by anyone reading a signed message.
pub fn read_sections(bytes: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Option<&[u8]> {
        if rest.len() < n {
            return None;
        }
        let (a, b) = rest.split_at(n);
        rest = b;
        Some(a)
    };
    let n = u32::from_be_bytes(take(4)?.try_into().ok()?);
    let mut out: Vec<(u16, &[u8])> = Vec::new();
    for _ in 0..n {
        let kind = u16::from_be_bytes(take(2)?.try_into().ok()?);
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
        let body = take(len)?;
        if out.last().is_some_and(|(k, _)| *k >= kind) {
            return None;
        }
        out.push((kind, body));
    }
    rest.is_empty().then_some(out)
}

/// SHA-256 of a signed message: the digest by which other statements cite it.
pub fn digest(message: &[u8]) -> [u8; 32] {
    Sha256::digest(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip_and_reject_bad_framing() {
        let mut s = Sections::default();
        s.add(1, b"abc".to_vec());
        s.add(7, vec![]);
        let mut out = Vec::new();
        s.write(&mut out);
        assert_eq!(
            out,
            [0, 0, 0, 2, 0, 1, 0, 0, 0, 3, b'a', b'b', b'c', 0, 7, 0, 0, 0, 0]
        );
        let back = read_sections(&out).unwrap();
        assert_eq!(back, vec![(1, &b"abc"[..]), (7, &b""[..])]);
        // Trailing bytes, a truncated body, repeated or decreasing types.
        let mut long = out.clone();
        long.push(0);
        assert!(read_sections(&long).is_none());
        assert!(read_sections(&out[..out.len() - 1]).is_none());
        let dup = [0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(read_sections(&dup).is_none());
    }

    #[test]
    fn optional_strings_keep_absent_and_empty_apart() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        put_opt_str(&mut a, None);
        put_opt_str(&mut b, Some(""));
        assert_eq!(a, [0]);
        assert_eq!(b, [1, 0, 0, 0, 0]);
    }
}
