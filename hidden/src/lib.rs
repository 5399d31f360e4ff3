//! # por-hidden
//!
//! Hidden sums for the proof-of-reserves tree: Pedersen commitments `C = v·G + r·H` on the
//! BN254 G1 group, and aggregated Bulletproofs range proofs (Bünz, Bootle, Boneh, Poelstra,
//! Wuille and Maxwell, IEEE S&P 2018) that committed values lie in `[0, 2^n)`.
//!
//! One module per step of the protocol: [`generators`] (nothing-up-my-sleeve points),
//! [`transcript`] (Fiat-Shamir with merlin), [`inner_product`] (the logarithmic argument),
//! [`range`] (the aggregated range proof built on it), [`encoding`] (bytes in and out).
//! A malformed encoding is a [`FormatError`] (the tools' exit 2); a well-formed proof that
//! does not verify is a [`ProofError`] (exit 1).
//!
//! Security level, said plainly: discrete logarithms in BN254's G1 reduce through the pairing
//! to a degree-12 extension field where the best known attacks (the special number field
//! sieve after Kim and Barbulescu) cost about 2^100 to 2^110 operations, below the 128 bits of
//! Ristretto (curve25519). BN254 is the project's chosen stack (arkworks). The range proof code
//! was written from the paper for this project and has not been audited.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod encoding;
pub mod generators;
pub mod inner_product;
pub mod node;
pub mod path;
pub mod range;
pub mod transcript;

pub use ark_bn254::{Fr as Scalar, G1Affine as Point};

/// Bytes that cannot be decoded into a proof: the tools' exit 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

/// A well-formed proof that does not verify: the tools' exit 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}
impl std::error::Error for ProofError {}
