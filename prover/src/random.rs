//! Secret randomness from the operating system.

use por_verifier::error::{Error, Result};

/// Fills `buf` from the OS random source.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::input(format!("the system random source failed: {e}")))
}

/// 32 random bytes.
pub fn bytes32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    fill(&mut b)?;
    Ok(b)
}

/// Hands out 32-byte salts, reading the OS source in blocks rather than once per customer.
pub struct SaltSource {
    buf: Vec<u8>,
    at: usize,
}

impl SaltSource {
    /// A new source.
    pub fn new() -> Self {
        SaltSource {
            buf: vec![0u8; 32 * 4096],
            at: usize::MAX,
        }
    }

    /// The next salt.
    pub fn next_salt(&mut self) -> Result<[u8; 32]> {
        if self.at >= self.buf.len() {
            fill(&mut self.buf)?;
            self.at = 0;
        }
        let mut s = [0u8; 32];
        s.copy_from_slice(&self.buf[self.at..self.at + 32]);
        self.at += 32;
        Ok(s)
    }
}

impl Default for SaltSource {
    fn default() -> Self {
        Self::new()
    }
}
