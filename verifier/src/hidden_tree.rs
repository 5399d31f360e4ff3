//! The hidden-sums tree as the exchange and its auditor build it (spec/hidden.md): every node
//! carries, per asset, its value, its blinding and its commitment `v·G + r·H`.
//!
//! The same tree code as the transparent mode ([`crate::tree`]) builds it through
//! [`BuildContent`]: a parent's opening is the sum of its children's, and padding nodes commit
//! to zero with blindings from the attestation's secret blinding key. Commitments are made with
//! fixed-base tables for `G` and `H` (one table lookup and addition per window of the scalar)
//! and normalised in one batch per chunk of a level, so each costs one field inversion's share.

use crate::hash::{user_commitment, Hash};
use crate::tree::{BuildContent, Level, NodeContent};
use ark_bn254::{G1Affine, G1Projective};
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, Zero};
use por_hidden::encoding::point_bytes;
use por_hidden::generators::Generators;
use por_hidden::node::{blinding, leaf_hash, node_hash_encoded};
use por_hidden::Scalar;
use rayon::prelude::*;

/// One asset's content of a node, opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The committed value.
    pub value: u128,
    /// The blinding.
    pub blinding: Scalar,
    /// The commitment `value·G + blinding·H` (normalised once its level is finished).
    pub point: G1Projective,
}

impl Opening {
    /// The commitment as an affine point.
    pub fn affine(&self) -> G1Affine {
        affine(&self.point)
    }
}

fn affine(p: &G1Projective) -> G1Affine {
    if p.z.is_one() {
        G1Affine::new_unchecked(p.x, p.y)
    } else if p.z.is_zero() {
        G1Affine::zero()
    } else {
        p.into_affine()
    }
}

/// The hidden-sums content with its openings: what the prover and the auditor build.
pub struct Openings {
    key: [u8; 32],
    g: BatchMulPreprocessing<G1Projective>,
    h: BatchMulPreprocessing<G1Projective>,
}

impl Openings {
    /// The content of one attestation's tree, blindings drawn from `key`.
    pub fn new(key: [u8; 32]) -> Openings {
        let gens = Generators::at_least(1);
        // Windows sized for batches of thousands of scalars: about 24 additions a commitment.
        Openings {
            key,
            g: BatchMulPreprocessing::with_num_scalars_and_scalar_size(gens.g.into(), 1 << 16, 128),
            h: BatchMulPreprocessing::new(gens.h.into(), 1 << 16),
        }
    }

    /// The blinding key.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// Openings of `(value, blinding)` pairs, their commitments made in one batch.
    pub fn open(&self, pairs: &[(u128, Scalar)]) -> Vec<Opening> {
        let values: Vec<u128> = pairs.iter().map(|p| p.0).collect();
        let blinds: Vec<Scalar> = pairs.iter().map(|p| p.1).collect();
        let points = self.commit(&values, &blinds);
        pairs
            .iter()
            .zip(points)
            .map(|(&(value, blinding), point)| Opening {
                value,
                blinding,
                point,
            })
            .collect()
    }

    /// `values[i]·G + blindings[i]·H`, normalised.
    fn commit(&self, values: &[u128], blindings: &[Scalar]) -> Vec<G1Projective> {
        let vs: Vec<Scalar> = values.iter().map(|v| Scalar::from(*v)).collect();
        let (gv, hr) = (self.g.batch_mul(&vs), self.h.batch_mul(blindings));
        let sums: Vec<G1Projective> = gv.iter().zip(&hr).map(|(a, b)| *a + b).collect();
        G1Projective::normalize_batch(&sums)
            .into_iter()
            .map(G1Projective::from)
            .collect()
    }

    /// The leaf level of `rows` (position, salt, user id, balances), sorted by position.
    pub fn leaves(&self, rows: &[crate::tree::LeafRow], assets: usize) -> Level<Opening> {
        let parts: Vec<(Vec<Hash>, Vec<Opening>)> = rows
            .par_chunks(4096)
            .map(|chunk| {
                let mut values = Vec::with_capacity(chunk.len() * assets);
                let mut blinds = Vec::with_capacity(chunk.len() * assets);
                for (pos, _, _, bal) in chunk {
                    for (a, b) in bal.iter().enumerate() {
                        values.push(b.0);
                        blinds.push(blinding(&self.key, 0, *pos, a as u16));
                    }
                }
                let points = self.commit(&values, &blinds);
                let units: Vec<Opening> = values
                    .iter()
                    .zip(&blinds)
                    .zip(&points)
                    .map(|((v, r), p)| Opening {
                        value: *v,
                        blinding: *r,
                        point: *p,
                    })
                    .collect();
                let hashes = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (_, salt, id, _))| {
                        let cs: Vec<G1Affine> = units[i * assets..(i + 1) * assets]
                            .iter()
                            .map(Opening::affine)
                            .collect();
                        Hash(leaf_hash(&user_commitment(id, salt).0, &cs))
                    })
                    .collect();
                (hashes, units)
            })
            .collect();
        let mut level = Level::with_capacity(rows.len(), assets);
        level.index = rows.iter().map(|r| r.0).collect();
        for (h, u) in parts {
            level.hash.extend(h);
            level.sums.extend(u);
        }
        level
    }
}

impl NodeContent for Openings {
    type Unit = Opening;
    fn node_hash(&self, left: &Hash, lu: &[Opening], right: &Hash, ru: &[Opening]) -> Hash {
        let enc = |o: &Opening| point_bytes(&o.affine());
        Hash(node_hash_encoded(
            &left.0,
            lu.iter().map(enc),
            &right.0,
            ru.iter().map(enc),
        ))
    }
    fn merge(&self, acc: &mut [Opening], other: &[Opening]) -> Result<(), usize> {
        for (i, (a, b)) in acc.iter_mut().zip(other).enumerate() {
            a.value = a.value.checked_add(b.value).ok_or(i)?;
            a.blinding += b.blinding;
            a.point += &b.affine();
        }
        Ok(())
    }
}

impl BuildContent for Openings {
    fn paddings(&self, level: u8, indices: &[u64], assets: usize) -> Vec<Opening> {
        let blinds: Vec<Scalar> = indices
            .iter()
            .flat_map(|&i| (0..assets).map(move |a| blinding(&self.key, level, i, a as u16)))
            .collect();
        let points = self.h.batch_mul(&blinds);
        blinds
            .iter()
            .zip(points)
            .map(|(r, p)| Opening {
                value: 0,
                blinding: *r,
                point: p.into(),
            })
            .collect()
    }
    fn leaf_level(&self, rows: &[crate::tree::LeafRow], assets: usize) -> Level<Opening> {
        self.leaves(rows, assets)
    }
    fn finish(&self, units: &mut [Opening]) {
        let points: Vec<G1Projective> = units.iter().map(|u| u.point).collect();
        for (u, p) in units.iter_mut().zip(G1Projective::normalize_batch(&points)) {
            u.point = p.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::hidden::Commitments;
    use crate::tree::{build_visiting_with, fold_path_with, Sibling, TreeParams};

    #[test]
    fn a_hidden_tree_folds_for_its_customers_and_opens_to_its_totals() {
        let content = Openings::new([5; 32]);
        let rows: Vec<crate::tree::LeafRow> = [0u64, 1, 5, 6, 13]
            .iter()
            .map(|&p| {
                (
                    p,
                    [p as u8; 32],
                    format!("u{p}"),
                    vec![Amount(p as u128 * 10), Amount(7)],
                )
            })
            .collect();
        let params = TreeParams {
            height: 4,
            assets: 2,
            padding_key: [9; 32],
        };
        let leaves = content.leaves(&rows, 2);
        let targets: Vec<u64> = rows.iter().map(|r| r.0).collect();
        let built =
            build_visiting_with(&params, &content, leaves.clone(), &targets, &mut |_, _| {
                Ok(())
            })
            .unwrap();
        let totals: Vec<u128> = built.root_sums.iter().map(|o| o.value).collect();
        assert_eq!(totals, vec![250, 35]);
        let gens = Generators::at_least(1);
        let root_points: Vec<G1Affine> = built.root_sums.iter().map(Opening::affine).collect();
        let blinds: Vec<Scalar> = built.root_sums.iter().map(|o| o.blinding).collect();
        assert!(por_hidden::node::opens(
            &gens,
            &root_points,
            &totals,
            &blinds
        ));
        for (i, row) in rows.iter().enumerate() {
            let path: Vec<Sibling<G1Affine>> = built.paths[i]
                .iter()
                .map(|s| Sibling {
                    hash: s.hash,
                    sums: s.sums.iter().map(Opening::affine).collect(),
                })
                .collect();
            let leaf: Vec<G1Affine> = leaves.sums[i * 2..i * 2 + 2]
                .iter()
                .map(Opening::affine)
                .collect();
            let (root, points) =
                fold_path_with(&Commitments, leaves.hash[i], &leaf, row.0, &path).unwrap();
            assert_eq!(root, built.root);
            assert_eq!(points, root_points);
        }
    }
}
