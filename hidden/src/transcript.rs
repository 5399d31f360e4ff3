//! Fiat-Shamir: every public input and every prover message goes into a merlin transcript
//! before the challenge that follows it (leaving one out is the "Frozen Heart" flaw, which lets
//! a prover forge proofs). Challenges are 64 bytes reduced modulo the group order (bias below
//! 2^-250). Labels are listed in spec/hidden.md.

use crate::encoding::{point_bytes, scalar_bytes};
use crate::{Point, ProofError, Scalar};
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use merlin::Transcript;

/// The operations the protocol performs on a transcript.
pub trait TranscriptProtocol {
    /// Appends a point.
    fn append_point(&mut self, label: &'static [u8], p: &Point);
    /// Appends a prover's point, refusing the identity (a zero message would let parts of the
    /// protocol be skipped).
    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        p: &Point,
    ) -> Result<(), ProofError>;
    /// Appends a scalar.
    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar);
    /// Draws a challenge.
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
}

impl TranscriptProtocol for Transcript {
    fn append_point(&mut self, label: &'static [u8], p: &Point) {
        self.append_message(label, &point_bytes(p));
    }

    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        p: &Point,
    ) -> Result<(), ProofError> {
        if p.is_zero() {
            return Err(ProofError(format!(
                "the proof's {} is the identity point",
                String::from_utf8_lossy(label)
            )));
        }
        self.append_point(label, p);
        Ok(())
    }

    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar) {
        self.append_message(label, &scalar_bytes(s));
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut buf = [0u8; 64];
        self.challenge_bytes(label, &mut buf);
        Scalar::from_le_bytes_mod_order(&buf)
    }
}
