//! Poseidon over BN254's scalar field as the gnark-crypto forks of Gate.io and Binance define
//! it (spec/published.md, "Poseidon").
//!
//! The permutation is circomlib's (S-box x^5, 8 full rounds, the partial rounds of each
//! width, its round constants and MDS matrix). The forks differ from circomlib in the sponge:
//! the output is `state[1]`, not `state[0]`, and more inputs than a block (12 for Gate's fork,
//! 16 for Binance's) are chained block by block through `state[0]`, the last block permuted at
//! its own width. Their published vectors (tests/vectors/published/poseidon/) are checked by
//! the tests below, as is circomlib's own `Poseidon([1, 2])`.
//!
//! The constants for widths up to 13 are light-poseidon's (the circomlib tables). Binance's
//! blocks of 16 need widths 14 to 17, which no maintained crate of this arkworks version
//! carries: they are generated here by the procedure of the Poseidon paper (eprint 2019/458,
//! appendix F: the Grain LFSR, rejection sampling of round constants, a Cauchy MDS matrix),
//! the procedure circomlib's tables come from. A test checks that this generator gives
//! light-poseidon's tables for every width up to 13, so the two sources agree where both exist.

use ark_bn254::Fr;
use ark_ff::{BigInteger, BigInteger256, Field, PrimeField, Zero};
use std::sync::OnceLock;

/// Full rounds (half before the partial rounds, half after).
const FULL_ROUNDS: usize = 8;

/// Partial rounds by width t = 2..=17 (circomlib's table).
const PARTIAL_ROUNDS: [usize; 16] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// The widest permutation: 16 inputs and the capacity element.
pub const MAX_WIDTH: usize = 17;

/// One width's constants.
struct Params {
    /// Round constants, `ark[round * t + i]`.
    ark: Vec<Fr>,
    /// The MDS matrix, applied as `new[i] = Σ_j mds[i][j] · state[j]`.
    mds: Vec<Vec<Fr>>,
    /// Partial rounds.
    partial: usize,
}

fn params(t: usize) -> &'static Params {
    static ALL: [OnceLock<Params>; MAX_WIDTH + 1] = [const { OnceLock::new() }; MAX_WIDTH + 1];
    ALL[t].get_or_init(|| {
        let from_crate = u8::try_from(t).ok().and_then(|w| {
            light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(w).ok()
        });
        match from_crate {
            Some(p) => Params {
                ark: p.ark,
                mds: p.mds,
                partial: p.partial_rounds,
            },
            None => grain(t),
        }
    })
}

/// The Grain LFSR of the Poseidon paper, seeded with the field, S-box and round numbers.
struct Grain {
    bits: [u8; 80],
    at: usize,
}

impl Grain {
    fn new(t: usize, partial: usize) -> Grain {
        let mut bits = [1u8; 80];
        let mut k = 0;
        // field = 1 (a prime field), S-box = 0 (x^α), field size 254 bits, t, RF, RP; then
        // 30 ones (already there).
        for (value, width) in [
            (1usize, 2usize),
            (0, 4),
            (254, 12),
            (t, 12),
            (FULL_ROUNDS, 10),
            (partial, 10),
        ] {
            for i in (0..width).rev() {
                bits[k] = ((value >> i) & 1) as u8;
                k += 1;
            }
        }
        let mut g = Grain { bits, at: 0 };
        for _ in 0..160 {
            g.step();
        }
        g
    }

    fn step(&mut self) -> u8 {
        let b = |o: usize| self.bits[(self.at + o) % 80];
        let new = b(62) ^ b(51) ^ b(38) ^ b(23) ^ b(13) ^ b(0);
        self.bits[self.at] = new;
        self.at = (self.at + 1) % 80;
        new
    }

    /// The self-shrinking output: of each pair, the second bit when the first is 1.
    fn bit(&mut self) -> bool {
        loop {
            let keep = self.step();
            let value = self.step();
            if keep == 1 {
                return value == 1;
            }
        }
    }

    /// 254 output bits, most significant first.
    fn integer(&mut self) -> BigInteger256 {
        let bits: Vec<bool> = (0..254).map(|_| self.bit()).collect();
        BigInteger256::from_bits_be(&bits)
    }
}

/// Generates one width's constants as circomlib's tables were generated.
fn grain(t: usize) -> Params {
    let partial = PARTIAL_ROUNDS[t - 2];
    let mut g = Grain::new(t, partial);
    let mut ark = Vec::with_capacity((FULL_ROUNDS + partial) * t);
    while ark.len() < (FULL_ROUNDS + partial) * t {
        // Values of the field only: a draw of r or more is drawn again.
        if let Some(x) = Fr::from_bigint(g.integer()) {
            ark.push(x);
        }
    }
    loop {
        let v: Vec<Fr> = (0..2 * t)
            .map(|_| Fr::from_be_bytes_mod_order(&g.integer().to_bytes_be()))
            .collect();
        let (x, y) = v.split_at(t);
        let distinct = (0..v.len()).all(|i| (i + 1..v.len()).all(|j| v[i] != v[j]));
        let mds: Option<Vec<Vec<Fr>>> = x
            .iter()
            .map(|xi| y.iter().map(|yj| (*xi + yj).inverse()).collect())
            .collect();
        if let (true, Some(mds)) = (distinct, mds) {
            return Params { ark, mds, partial };
        }
    }
}

fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// The permutation of width `state.len()` (2 to 17).
fn permute(state: &mut [Fr]) {
    let t = state.len();
    let p = params(t);
    let mut next = vec![Fr::zero(); t];
    for r in 0..FULL_ROUNDS + p.partial {
        for (i, x) in state.iter_mut().enumerate() {
            *x += p.ark[r * t + i];
        }
        if r < FULL_ROUNDS / 2 || r >= FULL_ROUNDS / 2 + p.partial {
            for x in state.iter_mut() {
                *x = pow5(*x);
            }
        } else {
            state[0] = pow5(state[0]);
        }
        for (i, n) in next.iter_mut().enumerate() {
            *n = p.mds[i].iter().zip(state.iter()).map(|(m, s)| *m * s).sum();
        }
        state.copy_from_slice(&next);
    }
}

/// The forks' hash of `inputs` (at least one) in blocks of `block` (12 or 16).
pub fn hash(inputs: &[Fr], block: usize) -> Fr {
    debug_assert!((1..MAX_WIDTH).contains(&block));
    if inputs.is_empty() {
        // Both forks panic here; no caller hashes nothing.
        return Fr::zero();
    }
    let mut state = vec![Fr::zero(); block + 1];
    let mut at = 0;
    while inputs.len() - at > block {
        state[1..].copy_from_slice(&inputs[at..at + block]);
        permute(&mut state);
        at += block;
    }
    let mut last = Vec::with_capacity(inputs.len() - at + 1);
    last.push(state[0]);
    last.extend_from_slice(&inputs[at..]);
    permute(&mut last);
    last[1]
}

/// A 32-byte big-endian value as a field element, `None` when it is not below the modulus
/// (the forks' `Write` silently drops such a value; a verifier must refuse it).
pub fn from_be32(b: &[u8; 32]) -> Option<Fr> {
    let mut limbs = [0u64; 4];
    for (i, chunk) in b.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        limbs[3 - i] = u64::from_be_bytes(w);
    }
    Fr::from_bigint(BigInteger256::new(limbs))
}

/// A non-negative decimal integer (any length) as a field element, `None` when it is not one
/// or not below the modulus.
pub fn from_decimal(text: &str) -> Option<Fr> {
    if text.is_empty() || text.len() > 80 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut limbs = [0u64; 4];
    for d in text.bytes() {
        let mut carry = u128::from(d - b'0');
        for l in limbs.iter_mut() {
            let v = u128::from(*l) * 10 + carry;
            *l = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    Fr::from_bigint(BigInteger256::new(limbs))
}

/// The element `a·2^128 + b·2^64 + c` of three 64-bit values (how both exchanges pack amounts).
pub fn pack(a: u64, b: u64, c: u64) -> Fr {
    // Below 2^192 < r: always a field element.
    Fr::from_bigint(BigInteger256::new([c, b, a, 0])).unwrap_or_default()
}

/// A field element as 32 bytes, big-endian, in hex.
pub fn to_hex(x: Fr) -> String {
    hex::encode(x.into_bigint().to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(file: &str) -> Vec<(Vec<Fr>, String)> {
        let path = format!(
            "{}/../tests/vectors/published/poseidon/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .filter(|x| x["inputs"].is_array())
            .map(|x| {
                let inputs = x["inputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| from_decimal(i.as_str().unwrap()).unwrap())
                    .collect();
                (inputs, x["output"].as_str().unwrap().to_string())
            })
            .collect()
    }

    fn decimal(x: Fr) -> String {
        x.into_bigint().to_string()
    }

    /// Every vector of the two forks' own tests: Binance's (blocks of 16, widths up to 17,
    /// the generated constants) and Gate's (blocks of 12).
    #[test]
    fn the_forks_vectors() {
        let bnb = vectors("bnb-chain-gnark-crypto-chain16.json");
        assert_eq!(bnb.len(), 8);
        for (inputs, out) in bnb {
            assert_eq!(decimal(hash(&inputs, 16)), out, "{} inputs", inputs.len());
        }
        let gate = vectors("gatechain-gnark-crypto-v0.7.1-chain12.json");
        assert_eq!(gate.len(), 5);
        for (inputs, out) in gate {
            assert_eq!(decimal(hash(&inputs, 12)), out, "{} inputs", inputs.len());
        }
    }

    /// circomlib's own Poseidon([1, 2]) (state[0] of the same permutation).
    #[test]
    fn circomlibs_output_is_state_zero() {
        let mut s = [Fr::zero(), Fr::from(1u64), Fr::from(2u64)];
        permute(&mut s);
        assert_eq!(
            to_hex(s[0]),
            "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
    }

    /// The generator gives light-poseidon's tables wherever the crate has them.
    #[test]
    fn the_generator_gives_the_crates_tables() {
        for t in 2..=13u8 {
            let ours = grain(usize::from(t));
            let theirs =
                light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(t).unwrap();
            assert_eq!(ours.partial, theirs.partial_rounds, "t = {t}");
            assert!(ours.ark == theirs.ark, "round constants, t = {t}");
            assert!(ours.mds == theirs.mds, "MDS, t = {t}");
        }
    }

    #[test]
    fn values_outside_the_field_are_refused() {
        let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        assert!(from_decimal(r).is_none());
        assert!(from_decimal(
            "21888242871839275222246405745257275088548364400416034343698204186575808495616"
        )
        .is_some());
        assert!(from_decimal("-1").is_none());
        assert!(from_be32(&[0xff; 32]).is_none());
        assert_eq!(pack(1, 0, 0), Fr::from(2u64).pow([128u64]));
    }
}
