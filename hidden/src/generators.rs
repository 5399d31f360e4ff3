//! Nothing-up-my-sleeve generators: every point is hashed to the curve, so nobody knows a
//! discrete-logarithm relation between any two of them (which would let a prover open a
//! commitment to two values).
//!
//! Try-and-increment with a domain tag: for the point named `label` with index `i`, for
//! `ctr = 0, 1, …`: `x = SHA-512(DOMAIN ‖ u32be(len label) ‖ label ‖ u64be(i) ‖ u32be(ctr))`
//! read big-endian and reduced modulo the base field's prime `p` (512 bits reduced: bias below
//! 2^-256); the first `x` for which `x³ + 3` is a square gives the point `(x, y)` with `y` the
//! smaller of the two roots (as integers in `[0, p)`). BN254's G1 has cofactor 1, so the point
//! is in the group. About two tries per point, each a square root: the generators are made
//! once per process and kept.

use crate::Point;
use ark_ff::PrimeField;
use sha2::{Digest, Sha512};
use std::sync::OnceLock;

/// The domain tag of every generator.
pub const DOMAIN: &[u8] = b"por-hidden/generators/v1";
/// The most values one range proof can hold, times their bit size: 128 values of 128 bits (a
/// height-32 path of 4 assets in one proof).
pub const CAPACITY: usize = 128 * 128;

/// Hashes `(label, index)` to a point of G1.
pub fn hash_to_point(label: &[u8], index: u64) -> Point {
    for ctr in 0u32.. {
        let mut h = Sha512::new();
        h.update(DOMAIN);
        h.update((label.len() as u32).to_be_bytes());
        h.update(label);
        h.update(index.to_be_bytes());
        h.update(ctr.to_be_bytes());
        let x = ark_bn254::Fq::from_be_bytes_mod_order(&h.finalize());
        if let Some(p) = Point::get_point_from_x_unchecked(x, false) {
            return p;
        }
    }
    unreachable!("half of all x coordinates give a point")
}

/// The generators of commitments and range proofs.
#[derive(Debug, Clone)]
pub struct Generators {
    /// `G`: the value's base in `C = v·G + r·H`.
    pub g: Point,
    /// `H`: the blinding's base.
    pub h: Point,
    /// `G_0 … G_{CAPACITY-1}`: the bit vectors' bases.
    pub gs: Vec<Point>,
    /// `H_0 … H_{CAPACITY-1}`.
    pub hs: Vec<Point>,
}

impl Generators {
    /// Computes the generators (labels `G`, `H`, `G_vec`, `H_vec`).
    pub fn compute(capacity: usize) -> Generators {
        Generators {
            g: hash_to_point(b"G", 0),
            h: hash_to_point(b"H", 0),
            gs: (0..capacity as u64)
                .map(|i| hash_to_point(b"G_vec", i))
                .collect(),
            hs: (0..capacity as u64)
                .map(|i| hash_to_point(b"H_vec", i))
                .collect(),
        }
    }

    /// The process-wide generators, all [`CAPACITY`] of each vector, computed on first use.
    pub fn get() -> &'static Generators {
        static GENS: OnceLock<Generators> = OnceLock::new();
        GENS.get_or_init(|| Generators::compute(CAPACITY))
    }

    /// The process-wide generators with at least `n` of each vector (`n` at most
    /// [`CAPACITY`]), computed on first use and kept; a customer's check of one path needs a
    /// fraction of them, so it pays for that fraction only.
    pub fn at_least(n: usize) -> std::sync::Arc<Generators> {
        use std::sync::{Arc, Mutex};
        static GENS: Mutex<Option<Arc<Generators>>> = Mutex::new(None);
        let mut slot = GENS.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(g) if g.gs.len() >= n.min(CAPACITY) => Arc::clone(g),
            _ => {
                let want = n.min(CAPACITY).next_power_of_two();
                let g = Arc::new(match slot.as_ref() {
                    // Grow what was made: the points are the same whatever the capacity.
                    Some(old) => {
                        let mut g = (**old).clone();
                        let from = g.gs.len() as u64;
                        g.gs.extend((from..want as u64).map(|i| hash_to_point(b"G_vec", i)));
                        g.hs.extend((from..want as u64).map(|i| hash_to_point(b"H_vec", i)));
                        g
                    }
                    None => Generators::compute(want),
                });
                *slot = Some(Arc::clone(&g));
                g
            }
        }
    }

    /// `v·G + r·H`.
    pub fn commit(&self, v: crate::Scalar, r: crate::Scalar) -> Point {
        use ark_ec::CurveGroup;
        (ark_bn254::G1Projective::from(self.g) * v + ark_bn254::G1Projective::from(self.h) * r)
            .into_affine()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;
    use ark_ff::PrimeField;

    #[test]
    fn generators_are_distinct_points_of_the_group() {
        let g = Generators::compute(16);
        let mut all = vec![g.g, g.h];
        all.extend(&g.gs);
        all.extend(&g.hs);
        for p in &all {
            assert!(p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve());
            assert!(!p.is_zero());
        }
        let set: std::collections::HashSet<_> =
            all.iter().map(crate::encoding::point_bytes).collect();
        assert_eq!(set.len(), all.len());
        // Grown on demand, the same points.
        let small = Generators::at_least(4);
        let more = Generators::at_least(16);
        assert_eq!(small.gs[..], more.gs[..4]);
        assert_eq!(more.gs, g.gs);
        assert_eq!(more.hs, g.hs);
        // Deterministic, and y is the smaller root, as spec/hidden.md says.
        assert_eq!(hash_to_point(b"G", 0), g.g);
        for p in &all {
            let (_, y) = p.xy().unwrap();
            assert!(y.into_bigint() < (-y).into_bigint());
        }
    }
}
