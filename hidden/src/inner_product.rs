//! The inner-product argument (the paper's Protocol 2, with the point `Q` bound by a
//! challenge): a prover who knows vectors `a`, `b` of length `N` (a power of two) shows that
//! `P = <a, G> + <b, H'> + <a, b>·Q` in `2·log2 N` points and two scalars, where
//! `H'_i = f_i·H_i` for public factors `f_i` (the range proof's `y^-i`).
//!
//! Round `k` splits the vectors into halves `lo`, `hi`, sends
//! `L = <a_lo, G_hi> + <b_hi, H'_lo> + <a_lo, b_hi>·Q` and
//! `R = <a_hi, G_lo> + <b_lo, H'_hi> + <a_hi, b_lo>·Q` (labels `L`, `R`), draws `u` (label
//! `u`), and folds `a ← u·a_lo + u⁻¹·a_hi`, `b ← u⁻¹·b_lo + u·b_hi`,
//! `G ← u⁻¹·G_lo + u·G_hi`, `H' ← u·H'_lo + u⁻¹·H'_hi`. The verifier checks
//! `P + Σ (u_k²·L_k + u_k⁻²·R_k) = a·<s, G> + b·<s⁻¹, H'> + a·b·Q` with
//! `s_i = Π_k u_k^(±1)` (+1 where bit `log2 N − 1 − k` of `i` is set): one multi-scalar
//! multiplication, built by the range proof's verifier from [`verification_scalars`].

use crate::transcript::TranscriptProtocol;
use crate::{Point, ProofError, Scalar};
use ark_bn254::G1Projective;
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{Field, One};
use merlin::Transcript;

/// The argument's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerProductProof {
    /// `L_k`, one per round.
    pub l: Vec<Point>,
    /// `R_k`, one per round.
    pub r: Vec<Point>,
    /// The folded `a`.
    pub a: Scalar,
    /// The folded `b`.
    pub b: Scalar,
}

fn inner(a: &[Scalar], b: &[Scalar]) -> Scalar {
    a.iter().zip(b).map(|(x, y)| *x * y).sum()
}

fn msm(bases: &[Point], scalars: &[Scalar]) -> G1Projective {
    G1Projective::msm_unchecked(bases, scalars)
}

/// `base[j] + k·points[j]` for every `j`: one fold of the generators, where every point is
/// multiplied by the same scalar. So the scalar's GLV decomposition and its width-4 NAF digits
/// are computed once; each point gets a table of its odd multiples (and their images under the
/// endomorphism), normalised with all the others in one batch, and is then multiplied with
/// about 128 doublings and 51 mixed additions (arkworks' generic GLV multiplication takes 96
/// full additions). Outputs are normalised in one batch.
fn fold(points: &[Point], k: Scalar, base: &[Point]) -> Vec<Point> {
    use ark_bn254::g1::Config;
    use ark_ec::scalar_mul::glv::GLVConfig;
    use ark_ec::AffineRepr;
    use ark_ff::{AdditiveGroup, BigInteger, PrimeField, Zero};
    const W: usize = 4;
    const HALF: usize = 1 << (W - 2);
    let ((s1, k1), (s2, k2)) = Config::scalar_decomposition(k);
    let digits = |x: Scalar| x.into_bigint().find_wnaf(W).unwrap_or_default();
    let (d1, d2) = (digits(k1), digits(k2));
    let len = d1.len().max(d2.len());
    // Odd multiples P, 3P, 5P, 7P of each point with the sign of its first half.
    let mut table = Vec::with_capacity(points.len() * HALF);
    for p in points {
        let p = if s1 { *p } else { -*p };
        let two = p.into_group().double();
        let mut acc = p.into_group();
        table.push(acc);
        for _ in 1..HALF {
            acc += two;
            table.push(acc);
        }
    }
    let table = G1Projective::normalize_batch(&table);
    // φ(m·P) = m·φ(P): the second half's table, with its own sign.
    let flip = s1 != s2;
    let endo: Vec<Point> = table
        .iter()
        .map(|t| {
            let e = Config::endomorphism_affine(t);
            if flip {
                -e
            } else {
                e
            }
        })
        .collect();
    let out: Vec<G1Projective> = (0..points.len())
        .map(|j| {
            let (t1, t2) = (&table[j * HALF..][..HALF], &endo[j * HALF..][..HALF]);
            let mut acc = G1Projective::zero();
            for i in (0..len).rev() {
                acc.double_in_place();
                for (d, t) in [(d1.get(i), t1), (d2.get(i), t2)] {
                    match d.copied().unwrap_or(0) {
                        0 => {}
                        d if d > 0 => acc += t[(d as usize - 1) / 2],
                        d => acc += -t[((-d) as usize - 1) / 2],
                    }
                }
            }
            acc += base[j];
            acc
        })
        .collect();
    G1Projective::normalize_batch(&out)
}

/// Proves; `h_factors` are the `f_i` of `H'_i = f_i·H_i`. The lengths must be equal powers of
/// two (the range proof ensures it).
#[allow(clippy::too_many_arguments)]
pub fn prove(
    transcript: &mut Transcript,
    q: &Point,
    h_factors: &[Scalar],
    g: &[Point],
    h: &[Point],
    mut a: Vec<Scalar>,
    mut b: Vec<Scalar>,
) -> Result<InnerProductProof, ProofError> {
    let mut n = a.len();
    if !n.is_power_of_two() || b.len() != n || g.len() != n || h.len() != n || h_factors.len() != n
    {
        return Err(ProofError(
            "inner product: vectors of unequal or odd length".into(),
        ));
    }
    transcript.append_u64(b"ipp n", n as u64);
    // The generators are folded in place. The G side always carries one common factor, the
    // H side the per-element factors; each fold is then one scalar multiplication per element.
    let mut g: Vec<Point> = g.to_vec();
    let mut h: Vec<Point> = h.to_vec();
    let mut g_factor = Scalar::one();
    let mut hf: Vec<Scalar> = h_factors.to_vec();
    let (mut ls, mut rs) = (Vec::new(), Vec::new());
    while n > 1 {
        let n2 = n / 2;
        let (a_lo, a_hi) = a.split_at(n2);
        let (b_lo, b_hi) = b.split_at(n2);
        let c_l = inner(a_lo, b_hi);
        let c_r = inner(a_hi, b_lo);
        let mut bases = Vec::with_capacity(n + 1);
        let mut sc = Vec::with_capacity(n + 1);
        bases.extend_from_slice(&g[n2..n]);
        sc.extend(a_lo.iter().map(|x| *x * g_factor));
        bases.extend_from_slice(&h[..n2]);
        sc.extend(b_hi.iter().zip(&hf[..n2]).map(|(x, f)| *x * f));
        bases.push(*q);
        sc.push(c_l);
        let l = msm(&bases, &sc).into_affine();
        bases.clear();
        sc.clear();
        bases.extend_from_slice(&g[..n2]);
        sc.extend(a_hi.iter().map(|x| *x * g_factor));
        bases.extend_from_slice(&h[n2..n]);
        sc.extend(b_lo.iter().zip(&hf[n2..n]).map(|(x, f)| *x * f));
        bases.push(*q);
        sc.push(c_r);
        let r = msm(&bases, &sc).into_affine();
        transcript.validate_and_append_point(b"L", &l)?;
        transcript.validate_and_append_point(b"R", &r)?;
        let u = transcript.challenge_scalar(b"u");
        let u_inv = u
            .inverse()
            .ok_or_else(|| ProofError("inner product: a zero challenge".into()))?;
        a = a_lo
            .iter()
            .zip(a_hi)
            .map(|(x, y)| *x * u + *y * u_inv)
            .collect();
        b = b_lo
            .iter()
            .zip(b_hi)
            .map(|(x, y)| *x * u_inv + *y * u)
            .collect();
        // G'_j = u⁻¹·F·(G_lo + u²·G_hi): the common factor takes u⁻¹.
        let u2 = u * u;
        let u_inv2 = u_inv * u_inv;
        let g_next = fold(&g[n2..n], u2, &g[..n2]);
        // H'_j = u·f_j·(H_lo + u⁻²·(f_{n2+j}/f_j)·H_hi); the ratio is the same for every j.
        let ratio = hf[n2]
            * hf[0]
                .inverse()
                .ok_or_else(|| ProofError("inner product: a zero factor".into()))?;
        let k = u_inv2 * ratio;
        let h_next = fold(&h[n2..n], k, &h[..n2]);
        g = g_next;
        h = h_next;
        g_factor *= u_inv;
        hf = hf[..n2].iter().map(|f| *f * u).collect();
        ls.push(l);
        rs.push(r);
        n = n2;
    }
    Ok(InnerProductProof {
        l: ls,
        r: rs,
        a: a[0],
        b: b[0],
    })
}

/// What the verifier needs from the argument's transcript: `u_k²`, `u_k⁻²` and `s`.
pub struct VerificationScalars {
    /// `u_k²`.
    pub u_sq: Vec<Scalar>,
    /// `u_k⁻²`.
    pub u_inv_sq: Vec<Scalar>,
    /// `s_i`; `s_i⁻¹ = s_{N-1-i}`.
    pub s: Vec<Scalar>,
}

/// Replays the argument's challenges for a vector length `n`.
pub fn verification_scalars(
    proof: &InnerProductProof,
    n: usize,
    transcript: &mut Transcript,
) -> Result<VerificationScalars, ProofError> {
    let rounds = proof.l.len();
    if !n.is_power_of_two()
        || Some(n) != 1usize.checked_shl(rounds as u32)
        || proof.r.len() != rounds
    {
        return Err(ProofError(format!(
            "inner product: {rounds} rounds do not fit vectors of length {n}"
        )));
    }
    transcript.append_u64(b"ipp n", n as u64);
    let mut us = Vec::with_capacity(rounds);
    for (l, r) in proof.l.iter().zip(&proof.r) {
        transcript.validate_and_append_point(b"L", l)?;
        transcript.validate_and_append_point(b"R", r)?;
        us.push(transcript.challenge_scalar(b"u"));
    }
    let mut invs = us.clone();
    ark_ff::batch_inversion(&mut invs);
    if us.iter().any(|u| u.is_zero()) {
        return Err(ProofError("inner product: a zero challenge".into()));
    }
    let u_sq: Vec<Scalar> = us.iter().map(|u| *u * u).collect();
    let u_inv_sq: Vec<Scalar> = invs.iter().map(|u| *u * u).collect();
    let mut s = vec![Scalar::one(); n];
    s[0] = invs.iter().product();
    for i in 1..n {
        // The highest set bit of i says which round's challenge turns from u⁻¹ into u.
        let k = (usize::BITS - 1 - i.leading_zeros()) as usize;
        s[i] = s[i - (1 << k)] * u_sq[rounds - 1 - k];
    }
    Ok(VerificationScalars { u_sq, u_inv_sq, s })
}

use ark_ff::Zero;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::hash_to_point;

    /// The shared-scalar fold equals the plain `base + k·point`, for scalars whose GLV halves
    /// take either sign, the scalars 0, 1 and −1, and the identity as a point.
    #[test]
    fn fold_is_base_plus_scalar_times_point() {
        use ark_ec::AffineRepr;
        let mut points: Vec<Point> = (0..7).map(|i| hash_to_point(b"test p", i)).collect();
        let mut base: Vec<Point> = (0..7).map(|i| hash_to_point(b"test b", i)).collect();
        points.push(Point::zero());
        base.push(hash_to_point(b"test b", 99));
        let mut scalars = vec![Scalar::zero(), Scalar::one(), -Scalar::one()];
        let mut x = Scalar::from(0x1234_5678_9abc_def0u64);
        for _ in 0..20 {
            x = x * x + Scalar::from(7u64);
            scalars.push(x);
        }
        for k in scalars {
            let got = fold(&points, k, &base);
            for j in 0..points.len() {
                let want =
                    (G1Projective::from(base[j]) + G1Projective::from(points[j]) * k).into_affine();
                assert_eq!(got[j], want, "k = {k}, point {j}");
            }
        }
    }
}
