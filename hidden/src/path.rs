//! The range proofs of one customer's path: every sibling's committed value, per asset, lies in
//! `[0, 2^n)` with the asset's signed bit size `n`.
//!
//! Assets that share a bit size share an aggregated proof, up to the generators' capacity
//! ([`groups`]): fewer proofs are smaller (each costs a fixed 9 words plus 2 per doubling of its
//! values), and a group's padding to a power of two is the only waste. Each group's transcript
//! starts with the label `por-hidden path v1` and absorbs the exchange, the period, the signed
//! root, the customer's position and the group's number before the range proof's own
//! transcript (which absorbs every commitment): a proof made for another path, another month
//! or another group does not verify here.

use crate::generators::{Generators, CAPACITY};
use crate::range::{self, RangeProof, ToVerify};
use crate::{Point, ProofError};
use merlin::Transcript;

/// The assets of one aggregated range proof: their common bit size and their indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The bit size.
    pub bits: usize,
    /// Asset indices, increasing.
    pub assets: Vec<usize>,
}

/// How many assets of `bits` bits fit one proof over a path of `height` siblings.
pub fn group_capacity(bits: usize, height: usize) -> usize {
    let bits = bits.max(1);
    let mut g = 1usize;
    while bits * ((g + 1) * height).next_power_of_two() <= CAPACITY {
        g += 1;
    }
    g
}

/// The proofs of a path: bit sizes ascending, each size's assets in order, split into groups of
/// at most [`group_capacity`].
pub fn groups(bit_sizes: &[u8], height: usize) -> Vec<Group> {
    let mut out = Vec::new();
    let mut sizes: Vec<u8> = bit_sizes.to_vec();
    sizes.sort_unstable();
    sizes.dedup();
    for bits in sizes {
        let assets: Vec<usize> = (0..bit_sizes.len())
            .filter(|&a| bit_sizes[a] == bits)
            .collect();
        let cap = group_capacity(usize::from(bits), height.max(1));
        for chunk in assets.chunks(cap) {
            out.push(Group {
                bits: usize::from(bits),
                assets: chunk.to_vec(),
            });
        }
    }
    out
}

/// What a path's proofs are bound to.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The exchange's name.
    pub exchange: &'a str,
    /// The period.
    pub period: &'a str,
    /// The signed root hash.
    pub root: [u8; 32],
    /// The customer's leaf position.
    pub position: u64,
}

impl Context<'_> {
    fn transcript(&self, group: usize) -> Transcript {
        let mut t = Transcript::new(b"por-hidden path v1");
        t.append_message(b"exchange", self.exchange.as_bytes());
        t.append_message(b"period", self.period.as_bytes());
        t.append_message(b"root", &self.root);
        t.append_u64(b"position", self.position);
        t.append_u64(b"group", group as u64);
        t
    }
}

/// The commitments of one group in proof order: asset by asset, each asset's siblings from the
/// leaf level up. `siblings[l][a]` is sibling `l`'s commitment of asset `a`.
fn group_commitments<T: Clone>(siblings: &[Vec<T>], group: &Group) -> Vec<T> {
    let mut out = Vec::with_capacity(group.assets.len() * siblings.len());
    for &a in &group.assets {
        for s in siblings {
            out.push(s[a].clone());
        }
    }
    out
}

/// Proves a path: `values[l][a]` and `blindings[l][a]` open sibling `l`'s commitment of asset
/// `a`. Values out of their asset's range cannot be proven.
#[cfg(feature = "prover")]
pub fn prove(
    gens: &Generators,
    ctx: &Context<'_>,
    bit_sizes: &[u8],
    values: &[Vec<u128>],
    blindings: &[Vec<crate::Scalar>],
) -> Result<Vec<RangeProof>, ProofError> {
    groups(bit_sizes, values.len())
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let v = group_commitments(values, g);
            let b = group_commitments(blindings, g);
            range::prove(gens, &mut ctx.transcript(i), &v, &b, g.bits).map(|(p, _)| p)
        })
        .collect()
}

/// How many range proofs a path of `height` siblings has for these bit sizes.
pub fn proof_count(bit_sizes: &[u8], height: usize) -> usize {
    groups(bit_sizes, height).len()
}

/// The generators a path's proofs need (to warm a cache before timing, or to size one).
pub fn generators_needed(bit_sizes: &[u8], height: usize) -> usize {
    groups(bit_sizes, height)
        .iter()
        .map(|g| g.bits * (g.assets.len() * height.max(1)).next_power_of_two())
        .max()
        .unwrap_or(0)
}

/// Verifies a path's proofs (one batch): `siblings[l][a]` is sibling `l`'s commitment of
/// asset `a`.
pub fn verify(
    gens: &Generators,
    ctx: &Context<'_>,
    bit_sizes: &[u8],
    siblings: &[Vec<Point>],
    proofs: &[RangeProof],
) -> Result<(), ProofError> {
    if let Some(b) = bit_sizes
        .iter()
        .find(|b| !crate::range::BIT_SIZES.contains(&usize::from(**b)))
    {
        return Err(ProofError(format!(
            "a bit size of {b}: range proofs are for 8, 16, 32, 64 or 128 bits"
        )));
    }
    let gs = groups(bit_sizes, siblings.len());
    if proofs.len() != gs.len() {
        return Err(ProofError(format!(
            "expected {} range proofs (one per group of assets of one bit size), found {}",
            gs.len(),
            proofs.len()
        )));
    }
    if siblings.iter().any(|s| s.len() != bit_sizes.len()) {
        return Err(ProofError(
            "a sibling has the wrong number of commitments".into(),
        ));
    }
    let commitments: Vec<Vec<Point>> = gs.iter().map(|g| group_commitments(siblings, g)).collect();
    let items: Vec<ToVerify<'_>> = gs
        .iter()
        .enumerate()
        .map(|(i, g)| ToVerify {
            proof: &proofs[i],
            commitments: &commitments[i],
            n: g.bits,
            transcript: ctx.transcript(i),
        })
        .collect();
    range::verify_batch(gens, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_bit_sizes_and_capacity() {
        let g = groups(&[64, 128, 64, 64], 32);
        assert_eq!(
            g,
            vec![
                Group {
                    bits: 64,
                    assets: vec![0, 2, 3]
                },
                Group {
                    bits: 128,
                    assets: vec![1]
                }
            ]
        );
        assert_eq!(group_capacity(128, 32), 4);
        assert_eq!(group_capacity(128, 64), 2);
        assert_eq!(group_capacity(8, 64), 32);
        assert_eq!(groups(&[128; 9], 32).len(), 3);
        assert!(generators_needed(&[128; 9], 64) <= CAPACITY);
    }
}
