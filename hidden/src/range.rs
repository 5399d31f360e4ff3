//! The aggregated range proof (the paper's section 4.3): `m` commitments `V_j = v_j·G + γ_j·H`
//! each hold a value in `[0, 2^n)`.
//!
//! Notation: `N = n·m`; `y^N = (1, y, …, y^(N-1))`; `2^n = (1, 2, …, 2^(n-1))`; index
//! `i = j·n + k` is bit `k` of value `j`. `m` is padded to a power of two with commitments to
//! zero with zero blinding (the identity point), which both sides add on their own.
//!
//! Transcript, in order (labels in quotes): `"dom-sep" = "rangeproof v1"`, `"n"`, `"m"` (the
//! number of real values), `"generators"` = the generators' domain, each `"V"`; then `"A"`,
//! `"S"` → `"y"`, `"z"`; `"T1"`, `"T2"` → `"x"`; `"t_x"`, `"t_x_blinding"`, `"e_blinding"` →
//! `"w"`; then the inner-product argument with `Q = w·G`.
//!
//! Prover: `a_L` = the bits, `a_R = a_L − 1`; `A = α·H + <a_L, G> + <a_R, H>`;
//! `S = ρ·H + <s_L, G> + <s_R, H>`; `l(X) = a_L − z·1 + s_L·X`;
//! `r(X) = y^N ∘ (a_R + z·1 + s_R·X) + Σ_j z^(2+j)·(0 ‖ 2^n ‖ 0)` (the `2^n` at block `j`);
//! `t(X) = <l(X), r(X)> = t0 + t1·X + t2·X²`; `T_i = t_i·G + τ_i·H`;
//! `τx = τ2·x² + τ1·x + Σ_j z^(2+j)·γ_j`; `μ = α + ρ·x`; `t̂ = <l(x), r(x)>`; then the
//! inner-product argument for `l(x)`, `r(x)` on `G` and `H'_i = y^-i·H_i`.
//!
//! Verifier: `t̂·G + τx·H = Σ_j z^(2+j)·V_j + δ(y,z)·G + x·T1 + x²·T2` with
//! `δ(y,z) = (z − z²)·<1, y^N> − Σ_j z^(3+j)·(2^n − 1)`, and the inner-product equation for
//! `P = A + x·S − z·<1, G> + <z·y^N + Σ_j z^(2+j)·2^n_j, H'> − μ·H + t̂·Q`. Both equations,
//! the first weighted by a challenge drawn after the whole proof (label `t weight`), are one
//! multi-scalar multiplication; proofs are batched by weighting each proof's equations with a
//! challenge of a transcript over the whole batch. Verification draws no randomness.
//!
//! The prover's blindings `α, ρ, s_L, s_R, τ1, τ2` come from merlin's transcript RNG keyed
//! with the witness and finalised with fresh operating-system randomness: fresh per proof,
//! never derived from the values alone.

use crate::generators::{Generators, DOMAIN};
use crate::inner_product::{self, InnerProductProof};
use crate::transcript::TranscriptProtocol;
use crate::{Point, ProofError, Scalar};
use ark_bn254::G1Projective;
use ark_ec::VariableBaseMSM;
use ark_ff::{Field, One, Zero};
use merlin::Transcript;

/// The most inner-product rounds a range proof can have: `log2` of the generators there are
/// ([`crate::generators::CAPACITY`], 16,384), since `n·m'` values need as many.
pub const MAX_ROUNDS: usize = crate::generators::CAPACITY.trailing_zeros() as usize;

/// The bit sizes a range proof may use.
pub const BIT_SIZES: [usize; 5] = [8, 16, 32, 64, 128];

/// An aggregated range proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProof {
    /// `A`.
    pub a: Point,
    /// `S`.
    pub s: Point,
    /// `T1`.
    pub t1: Point,
    /// `T2`.
    pub t2: Point,
    /// `τx`.
    pub tau_x: Scalar,
    /// `μ`.
    pub mu: Scalar,
    /// `t̂`.
    pub t_hat: Scalar,
    /// The inner-product argument.
    pub ipp: InnerProductProof,
}

impl RangeProof {
    /// Bytes: `A ‖ S ‖ T1 ‖ T2 ‖ τx ‖ μ ‖ t̂ ‖ a ‖ b ‖ (L_k ‖ R_k)…`, 32 bytes each.
    pub fn to_bytes(&self) -> Vec<u8> {
        use crate::encoding::{point_bytes, scalar_bytes};
        let mut out = Vec::with_capacity(32 * (9 + 2 * self.ipp.l.len()));
        for p in [&self.a, &self.s, &self.t1, &self.t2] {
            out.extend_from_slice(&point_bytes(p));
        }
        for x in [&self.tau_x, &self.mu, &self.t_hat, &self.ipp.a, &self.ipp.b] {
            out.extend_from_slice(&scalar_bytes(x));
        }
        for (l, r) in self.ipp.l.iter().zip(&self.ipp.r) {
            out.extend_from_slice(&point_bytes(l));
            out.extend_from_slice(&point_bytes(r));
        }
        out
    }

    /// Parses [`RangeProof::to_bytes`]; any point not canonical, not on the curve or the
    /// identity, any scalar not canonical, or a length that is not `32·(9 + 2k)` with
    /// `k ≤` [`MAX_ROUNDS`] is a [`FormatError`].
    pub fn from_bytes(b: &[u8]) -> Result<RangeProof, crate::FormatError> {
        use crate::encoding::{decode_point, decode_scalar};
        let words = b.len() / 32;
        if !b.len().is_multiple_of(32)
            || words < 9
            || !(words - 9).is_multiple_of(2)
            || (words - 9) / 2 > MAX_ROUNDS
        {
            return Err(crate::FormatError(format!(
                "a range proof is 32·(9 + 2k) bytes with k at most {MAX_ROUNDS}, found {}",
                b.len()
            )));
        }
        let w = |i: usize| &b[32 * i..32 * (i + 1)];
        let rounds = (words - 9) / 2;
        let mut l = Vec::with_capacity(rounds);
        let mut r = Vec::with_capacity(rounds);
        for k in 0..rounds {
            l.push(decode_point(w(9 + 2 * k), &format!("L[{k}]"), false)?);
            r.push(decode_point(w(10 + 2 * k), &format!("R[{k}]"), false)?);
        }
        Ok(RangeProof {
            a: decode_point(w(0), "A", false)?,
            s: decode_point(w(1), "S", false)?,
            t1: decode_point(w(2), "T1", false)?,
            t2: decode_point(w(3), "T2", false)?,
            tau_x: decode_scalar(w(4), "tau_x")?,
            mu: decode_scalar(w(5), "mu")?,
            t_hat: decode_scalar(w(6), "t_hat")?,
            ipp: InnerProductProof {
                a: decode_scalar(w(7), "a")?,
                b: decode_scalar(w(8), "b")?,
                l,
                r,
            },
        })
    }
}

fn powers(x: Scalar, n: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(n);
    let mut p = Scalar::one();
    for _ in 0..n {
        out.push(p);
        p *= x;
    }
    out
}

fn check_shape(gens: &Generators, n: usize, m: usize) -> Result<usize, ProofError> {
    if !BIT_SIZES.contains(&n) {
        return Err(ProofError(format!(
            "range proofs are for 8, 16, 32, 64 or 128 bits, not {n}"
        )));
    }
    if m == 0 {
        return Err(ProofError("a range proof needs at least one value".into()));
    }
    let padded = m.next_power_of_two();
    if n * padded > gens.gs.len() {
        return Err(ProofError(format!(
            "{m} values of {n} bits exceed the {} generators",
            gens.gs.len()
        )));
    }
    Ok(padded)
}

fn start(t: &mut Transcript, n: usize, commitments: &[Point]) -> Result<(), ProofError> {
    t.append_message(b"dom-sep", b"rangeproof v1");
    t.append_u64(b"n", n as u64);
    t.append_u64(b"m", commitments.len() as u64);
    t.append_message(b"generators", DOMAIN);
    for v in commitments {
        t.validate_and_append_point(b"V", v)?;
    }
    Ok(())
}

/// Proves that each `values[j]` (committed with `blindings[j]`) lies in `[0, 2^n)`. Returns
/// the proof and the commitments. A value out of range cannot be proven (an error).
#[cfg(feature = "prover")]
pub fn prove(
    gens: &Generators,
    transcript: &mut Transcript,
    values: &[u128],
    blindings: &[Scalar],
    n: usize,
) -> Result<(RangeProof, Vec<Point>), ProofError> {
    use ark_ec::CurveGroup;
    use ark_ff::UniformRand;
    let m_real = values.len();
    if blindings.len() != m_real {
        return Err(ProofError("one blinding per value".into()));
    }
    let m = check_shape(gens, n, m_real)?;
    if let Some(v) = values.iter().find(|v| n < 128 && **v >> n != 0) {
        return Err(ProofError(format!("the value {v} is not below 2^{n}")));
    }
    let commitments: Vec<Point> = values
        .iter()
        .zip(blindings)
        .map(|(v, r)| gens.commit(Scalar::from(*v), *r))
        .collect();
    start(transcript, n, &commitments)?;
    let mut vals = values.to_vec();
    vals.resize(m, 0);
    let mut gammas = blindings.to_vec();
    gammas.resize(m, Scalar::zero());
    let nm = n * m;
    let (g, h) = (&gens.gs[..nm], &gens.hs[..nm]);

    // Fresh randomness, hedged with the witness and the transcript so far.
    let mut witness = Vec::with_capacity(m * 48);
    for (v, r) in vals.iter().zip(&gammas) {
        witness.extend_from_slice(&v.to_le_bytes());
        witness.extend_from_slice(&crate::encoding::scalar_bytes(r));
    }
    let mut rng = transcript
        .build_rng()
        .rekey_with_witness_bytes(b"witness", &witness)
        .finalize(&mut rand_core::OsRng);

    let bit = |i: usize| (vals[i / n] >> (i % n)) & 1 == 1;
    let alpha = Scalar::rand(&mut rng);
    // A = α·H + Σ_{bit set} G_i − Σ_{bit clear} H_i.
    let mut a_pt = G1Projective::from(gens.h) * alpha;
    for i in 0..nm {
        if bit(i) {
            a_pt += g[i];
        } else {
            a_pt -= h[i];
        }
    }
    let s_l: Vec<Scalar> = (0..nm).map(|_| Scalar::rand(&mut rng)).collect();
    let s_r: Vec<Scalar> = (0..nm).map(|_| Scalar::rand(&mut rng)).collect();
    let rho = Scalar::rand(&mut rng);
    let s_pt = G1Projective::from(gens.h) * rho
        + G1Projective::msm_unchecked(g, &s_l)
        + G1Projective::msm_unchecked(h, &s_r);
    let (a_aff, s_aff) = (a_pt.into_affine(), s_pt.into_affine());
    transcript.validate_and_append_point(b"A", &a_aff)?;
    transcript.validate_and_append_point(b"S", &s_aff)?;
    let y = transcript.challenge_scalar(b"y");
    let z = transcript.challenge_scalar(b"z");

    let y_pow = powers(y, nm);
    let two_pow = powers(Scalar::from(2u64), n);
    let z_pow = powers(z, m + 2);
    let one = Scalar::one();
    let l0: Vec<Scalar> = (0..nm).map(|i| if bit(i) { one - z } else { -z }).collect();
    let r0: Vec<Scalar> = (0..nm)
        .map(|i| {
            let a_r = if bit(i) { Scalar::zero() } else { -one };
            y_pow[i] * (a_r + z) + z_pow[2 + i / n] * two_pow[i % n]
        })
        .collect();
    let r1: Vec<Scalar> = (0..nm).map(|i| y_pow[i] * s_r[i]).collect();
    let dot = |a: &[Scalar], b: &[Scalar]| -> Scalar { a.iter().zip(b).map(|(x, y)| *x * y).sum() };
    let t1 = dot(&l0, &r1) + dot(&s_l, &r0);
    let t2 = dot(&s_l, &r1);
    let tau1 = Scalar::rand(&mut rng);
    let tau2 = Scalar::rand(&mut rng);
    let t1_pt = gens.commit(t1, tau1);
    let t2_pt = gens.commit(t2, tau2);
    transcript.validate_and_append_point(b"T1", &t1_pt)?;
    transcript.validate_and_append_point(b"T2", &t2_pt)?;
    let x = transcript.challenge_scalar(b"x");

    let tau_x = tau2 * x * x
        + tau1 * x
        + gammas
            .iter()
            .enumerate()
            .map(|(j, g)| z_pow[2 + j] * g)
            .sum::<Scalar>();
    let mu = alpha + rho * x;
    let l: Vec<Scalar> = l0.iter().zip(&s_l).map(|(a, b)| *a + *b * x).collect();
    let r: Vec<Scalar> = r0.iter().zip(&r1).map(|(a, b)| *a + *b * x).collect();
    let t_hat = dot(&l, &r);
    transcript.append_scalar(b"t_x", &t_hat);
    transcript.append_scalar(b"t_x_blinding", &tau_x);
    transcript.append_scalar(b"e_blinding", &mu);
    let w = transcript.challenge_scalar(b"w");
    let q = (gens.g * w).into_affine();
    let y_inv = y
        .inverse()
        .ok_or_else(|| ProofError("a zero challenge".into()))?;
    let h_factors = powers(y_inv, nm);
    let ipp = inner_product::prove(transcript, &q, &h_factors, g, h, l, r)?;
    Ok((
        RangeProof {
            a: a_aff,
            s: s_aff,
            t1: t1_pt,
            t2: t2_pt,
            tau_x,
            mu,
            t_hat,
            ipp,
        },
        commitments,
    ))
}

/// One proof to check: the proof, its commitments, its bit size and its transcript (in the
/// state the prover's was in when it started).
pub struct ToVerify<'a> {
    /// The proof.
    pub proof: &'a RangeProof,
    /// The commitments, in the prover's order.
    pub commitments: &'a [Point],
    /// The bit size.
    pub n: usize,
    /// The transcript.
    pub transcript: Transcript,
}

/// Verifies one proof.
pub fn verify(
    gens: &Generators,
    transcript: &mut Transcript,
    proof: &RangeProof,
    commitments: &[Point],
    n: usize,
) -> Result<(), ProofError> {
    let mut terms = Terms::new(gens);
    add_terms(
        gens,
        transcript,
        proof,
        commitments,
        n,
        Scalar::one(),
        &mut terms,
    )?;
    terms.check()
}

/// Verifies many proofs at once: each proof's equation is weighted by a random scalar and all
/// are summed into one multi-scalar multiplication. Accepts exactly when each would.
///
/// The weights are drawn from a transcript over every proof and commitment of the batch
/// (label `por-hidden batch v1`), after all of them: no proof can be fitted to the others'
/// weights, and verification needs no randomness of its own (so it runs in a browser).
pub fn verify_batch(gens: &Generators, items: Vec<ToVerify<'_>>) -> Result<(), ProofError> {
    let mut terms = Terms::new(gens);
    let mut batch = Transcript::new(b"por-hidden batch v1");
    batch.append_u64(b"proofs", items.len() as u64);
    for it in &items {
        batch.append_u64(b"n", it.n as u64);
        batch.append_u64(b"m", it.commitments.len() as u64);
        for v in it.commitments {
            batch.append_point(b"V", v);
        }
        batch.append_message(b"proof", &it.proof.to_bytes());
        // What the proof's own transcript was bound to before it started (for a path: the
        // exchange, period, root, position and group), as a challenge of a copy of it.
        let mut context = [0u8; 32];
        it.transcript
            .clone()
            .challenge_bytes(b"batch context", &mut context);
        batch.append_message(b"context", &context);
    }
    for mut it in items {
        let weight = batch.challenge_scalar(b"weight");
        add_terms(
            gens,
            &mut it.transcript,
            it.proof,
            it.commitments,
            it.n,
            weight,
            &mut terms,
        )?;
    }
    terms.check()
}

/// The scalars of one multi-scalar multiplication that must give the identity.
struct Terms<'g> {
    gens: &'g Generators,
    g: Scalar,
    h: Scalar,
    gs: Vec<Scalar>,
    hs: Vec<Scalar>,
    points: Vec<Point>,
    scalars: Vec<Scalar>,
}

impl<'g> Terms<'g> {
    fn new(gens: &'g Generators) -> Terms<'g> {
        Terms {
            gens,
            g: Scalar::zero(),
            h: Scalar::zero(),
            gs: vec![Scalar::zero(); gens.gs.len()],
            hs: vec![Scalar::zero(); gens.hs.len()],
            points: Vec::new(),
            scalars: Vec::new(),
        }
    }

    fn check(mut self) -> Result<(), ProofError> {
        let gens = self.gens;
        let mut bases = std::mem::take(&mut self.points);
        let mut sc = std::mem::take(&mut self.scalars);
        let used = self
            .gs
            .iter()
            .rposition(|s| !s.is_zero())
            .map_or(0, |i| i + 1)
            .max(
                self.hs
                    .iter()
                    .rposition(|s| !s.is_zero())
                    .map_or(0, |i| i + 1),
            );
        bases.push(gens.g);
        sc.push(self.g);
        bases.push(gens.h);
        sc.push(self.h);
        bases.extend_from_slice(&gens.gs[..used]);
        sc.extend_from_slice(&self.gs[..used]);
        bases.extend_from_slice(&gens.hs[..used]);
        sc.extend_from_slice(&self.hs[..used]);
        if G1Projective::msm_unchecked(&bases, &sc).is_zero() {
            Ok(())
        } else {
            Err(ProofError("the range proof does not verify".into()))
        }
    }
}

fn add_terms(
    gens: &Generators,
    transcript: &mut Transcript,
    proof: &RangeProof,
    commitments: &[Point],
    n: usize,
    weight: Scalar,
    terms: &mut Terms,
) -> Result<(), ProofError> {
    let m_real = commitments.len();
    let m = check_shape(gens, n, m_real)?;
    let nm = n * m;
    start(transcript, n, commitments)?;
    transcript.validate_and_append_point(b"A", &proof.a)?;
    transcript.validate_and_append_point(b"S", &proof.s)?;
    let y = transcript.challenge_scalar(b"y");
    let z = transcript.challenge_scalar(b"z");
    transcript.validate_and_append_point(b"T1", &proof.t1)?;
    transcript.validate_and_append_point(b"T2", &proof.t2)?;
    let x = transcript.challenge_scalar(b"x");
    transcript.append_scalar(b"t_x", &proof.t_hat);
    transcript.append_scalar(b"t_x_blinding", &proof.tau_x);
    transcript.append_scalar(b"e_blinding", &proof.mu);
    let w = transcript.challenge_scalar(b"w");
    let vs = inner_product::verification_scalars(&proof.ipp, nm, transcript)?;
    // The t-equation gets its own weight inside this proof's, drawn after every message of
    // the proof (the argument's last scalars too): a proof cannot be fitted to it.
    transcript.append_scalar(b"ipp a", &proof.ipp.a);
    transcript.append_scalar(b"ipp b", &proof.ipp.b);
    let c = transcript.challenge_scalar(b"t weight");
    if [z, x, w, c, weight].iter().any(|v| v.is_zero()) {
        return Err(ProofError("a zero challenge".into()));
    }

    let y_inv = y
        .inverse()
        .ok_or_else(|| ProofError("a zero challenge".into()))?;
    let y_inv_pow = powers(y_inv, nm);
    let sum_y: Scalar = powers(y, nm).iter().sum();
    let z_pow = powers(z, m + 3);
    let two_n_minus_1 = powers(Scalar::from(2u64), n).iter().sum::<Scalar>();
    let delta = (z - z * z) * sum_y - (0..m).map(|j| z_pow[3 + j]).sum::<Scalar>() * two_n_minus_1;
    let two_pow = powers(Scalar::from(2u64), n);
    let (a, b) = (proof.ipp.a, proof.ipp.b);

    for i in 0..nm {
        let s = vs.s[i];
        let s_inv = vs.s[nm - 1 - i];
        terms.gs[i] += weight * (-z - a * s);
        terms.hs[i] +=
            weight * (z + (z_pow[2 + i / n] * two_pow[i % n] - b * s_inv) * y_inv_pow[i]);
    }
    terms.g += weight * ((proof.t_hat - a * b) * w + c * (proof.t_hat - delta));
    terms.h += weight * (-proof.mu + c * proof.tau_x);
    let mut push = |p: Point, s: Scalar| {
        terms.points.push(p);
        terms.scalars.push(weight * s);
    };
    push(proof.a, Scalar::one());
    push(proof.s, x);
    push(proof.t1, -c * x);
    push(proof.t2, -c * x * x);
    for (j, v) in commitments.iter().enumerate() {
        push(*v, -c * z_pow[2 + j]);
    }
    for k in 0..proof.ipp.l.len() {
        push(proof.ipp.l[k], vs.u_sq[k]);
        push(proof.ipp.r[k], vs.u_inv_sq[k]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::BigInteger;

    fn gens() -> &'static Generators {
        Generators::get()
    }

    fn blindings(m: usize, seed: u64) -> Vec<Scalar> {
        (0..m as u64)
            .map(|i| Scalar::from(seed * 1000 + i + 1) * Scalar::from(0x9e37_79b9u64))
            .collect()
    }

    fn make(values: &[u128], n: usize) -> (RangeProof, Vec<Point>) {
        let mut t = Transcript::new(b"test");
        prove(gens(), &mut t, values, &blindings(values.len(), 1), n).expect("provable")
    }

    fn check(p: &RangeProof, v: &[Point], n: usize) -> Result<(), ProofError> {
        verify(gens(), &mut Transcript::new(b"test"), p, v, n)
    }

    #[test]
    fn more_rounds_than_the_generators_allow_are_a_format_error() {
        assert_eq!(MAX_ROUNDS, 14);
        // A proof's words with its first (L, R) pair repeated: 14 rounds parse (the format
        // only), one more does not, whatever its points.
        let (p, _) = make(&[5], 8);
        let b = p.to_bytes();
        let with_rounds = |k: usize| {
            let mut out = b[..32 * 9].to_vec();
            for _ in 0..k {
                out.extend_from_slice(&b[32 * 9..32 * 11]);
            }
            out
        };
        let parsed = RangeProof::from_bytes(&with_rounds(MAX_ROUNDS)).expect("14 rounds");
        assert_eq!(parsed.ipp.l.len(), MAX_ROUNDS);
        let e = RangeProof::from_bytes(&with_rounds(MAX_ROUNDS + 1)).expect_err("15 rounds");
        assert!(e.0.contains("k at most 14"), "{}", e.0);
    }

    #[test]
    fn complete_for_every_shape() {
        for (values, n) in [
            (vec![0u128], 8usize),
            (vec![255], 8),
            (vec![1, 2, 3], 64),
            (vec![u64::MAX as u128; 5], 64),
            (vec![u128::MAX, 0, 1 << 100, 7], 128),
        ] {
            let (p, v) = make(&values, n);
            check(&p, &v, n).unwrap_or_else(|e| panic!("{values:?} {n}: {e}"));
            assert_eq!(
                p.ipp.l.len(),
                (n * values.len().next_power_of_two()).trailing_zeros() as usize
            );
        }
    }

    #[test]
    fn bytes_round_trip_and_malformed_bytes_are_format_errors() {
        let (p, v) = make(&[3, 4], 64);
        let b = p.to_bytes();
        assert_eq!(b.len(), 32 * (9 + 2 * 7));
        let q = RangeProof::from_bytes(&b).unwrap();
        assert_eq!(q, p);
        check(&q, &v, 64).unwrap();
        assert!(RangeProof::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(RangeProof::from_bytes(&b[..b.len() - 32]).is_err());
        // A scalar at the group order; a point not on the curve; the identity as T1.
        let mut bad = b.clone();
        bad[4 * 32..5 * 32].copy_from_slice(&<Scalar as ark_ff::PrimeField>::MODULUS.to_bytes_le());
        assert!(RangeProof::from_bytes(&bad).is_err());
        let mut bad = b.clone();
        bad[0] ^= 1;
        bad[1] ^= 1;
        let off_curve = (0..16u8).any(|i| {
            bad[2] = i;
            RangeProof::from_bytes(&bad).is_err()
        });
        assert!(off_curve);
        let mut bad = b.clone();
        bad[2 * 32..3 * 32].copy_from_slice(&crate::encoding::point_bytes(&Point::zero()));
        assert!(RangeProof::from_bytes(&bad).is_err());
    }

    #[test]
    fn a_value_out_of_range_cannot_be_proven() {
        let mut t = Transcript::new(b"test");
        assert!(prove(gens(), &mut t, &[256], &blindings(1, 1), 8).is_err());
        assert!(prove(gens(), &mut t, &[1u128 << 64], &blindings(1, 1), 64).is_err());
        assert!(prove(gens(), &mut t, &[1], &blindings(1, 1), 12).is_err());
    }

    #[test]
    fn every_tampered_element_is_rejected() {
        let (p, v) = make(&[5, 1 << 40, 77], 64);
        check(&p, &v, 64).unwrap();
        let g = gens().g;
        let bump = |x: &Point| (*x + g).into_affine();
        let one = Scalar::one();
        let mut cases: Vec<RangeProof> = Vec::new();
        let mut edit = |f: &dyn Fn(&mut RangeProof)| {
            let mut q = p.clone();
            f(&mut q);
            cases.push(q);
        };
        edit(&|q| q.a = bump(&q.a));
        edit(&|q| q.s = bump(&q.s));
        edit(&|q| q.t1 = bump(&q.t1));
        edit(&|q| q.t2 = bump(&q.t2));
        edit(&|q| q.tau_x += one);
        edit(&|q| q.mu += one);
        edit(&|q| q.t_hat += one);
        edit(&|q| q.ipp.a += one);
        edit(&|q| q.ipp.b += one);
        for k in 0..p.ipp.l.len() {
            edit(&|q| q.ipp.l[k] = bump(&q.ipp.l[k]));
            edit(&|q| q.ipp.r[k] = bump(&q.ipp.r[k]));
        }
        edit(&|q| q.ipp.l.swap(0, 1));
        edit(&|q| std::mem::swap(&mut q.a, &mut q.s));
        for (i, q) in cases.iter().enumerate() {
            assert!(check(q, &v, 64).is_err(), "tampered case {i} verified");
        }
        // Another commitment (the value one more), commitments reordered, dropped or added,
        // another bit size, another transcript: all rejected.
        let mut v2 = v.clone();
        v2[1] = bump(&v2[1]);
        assert!(check(&p, &v2, 64).is_err());
        let mut v3 = v.clone();
        v3.swap(0, 2);
        assert!(check(&p, &v3, 64).is_err());
        assert!(check(&p, &v[..2], 64).is_err());
        let mut v4 = v.clone();
        v4.push(v[0]);
        assert!(check(&p, &v4, 64).is_err());
        assert!(check(&p, &v, 32).is_err());
        assert!(verify(gens(), &mut Transcript::new(b"other"), &p, &v, 64).is_err());
        // The identity as a prover message is refused before any arithmetic.
        let mut z = p.clone();
        z.t1 = Point::zero();
        assert!(check(&z, &v, 64).is_err());
    }

    #[test]
    fn a_proof_replayed_for_other_commitments_fails() {
        // Two customers' sibling commitments: a proof made for one set does not verify for the other.
        let (p1, v1) = make(&[10, 20], 64);
        let mut t = Transcript::new(b"test");
        let (p2, v2) = prove(gens(), &mut t, &[10, 20], &blindings(2, 2), 64).unwrap();
        check(&p1, &v1, 64).unwrap();
        check(&p2, &v2, 64).unwrap();
        assert!(check(&p1, &v2, 64).is_err());
        assert!(check(&p2, &v1, 64).is_err());
    }

    #[test]
    fn a_negative_value_hidden_in_a_commitment_is_rejected() {
        // v = −1 mod r (the group order minus one): committed, it looks like any other point.
        // Its proof is made from the honest 2^64 − 1 and replayed against it.
        let r = blindings(1, 9)[0];
        let neg = gens().commit(-Scalar::one(), r);
        let mut t = Transcript::new(b"test");
        let (p, v) = prove(gens(), &mut t, &[u64::MAX as u128], &[r], 64).unwrap();
        check(&p, &v, 64).unwrap();
        assert!(check(&p, &[neg], 64).is_err());
    }

    #[test]
    fn batch_verification_agrees_with_single() {
        let a = make(&[1, 2, 3, 4], 32);
        let b = make(&[9], 128);
        let c = make(&[6, 7], 16);
        let all = |bad: Option<usize>| {
            let items: Vec<ToVerify> = [&a, &b, &c]
                .iter()
                .enumerate()
                .map(|(i, (p, v))| ToVerify {
                    proof: p,
                    commitments: v,
                    n: [32, 128, 16][i],
                    transcript: Transcript::new(if Some(i) == bad { b"nope" } else { b"test" }),
                })
                .collect();
            verify_batch(gens(), items)
        };
        assert!(all(None).is_ok());
        for i in 0..3 {
            assert!(all(Some(i)).is_err());
        }
    }
}
