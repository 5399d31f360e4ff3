//! Range proof benchmark (run: `cargo bench -p por-hidden`): the sibling commitments of one
//! customer's path at height 32 (32 values per asset), for the four assets of issue 7's target
//! (BTC:8 and USDT:6, USDC:6 fit 64 bits; ETH:18 needs 128), proven one proof per asset or one
//! proof over all assets padded to the largest bit size; prove and verify on one core, sizes.

use merlin::Transcript;
use por_hidden::generators::Generators;
use por_hidden::range::{prove, verify, verify_batch, ToVerify};
use por_hidden::Scalar;
use std::time::Instant;

fn main() {
    let t = Instant::now();
    let _ = Generators::at_least(4096);
    println!(
        "generators one customer's check needs (4,096 of each vector): {:.2} s (once per process)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let gens = Generators::get();
    println!(
        "generators: {} + 2 points hashed to the curve in {:.2} s (once per process)",
        2 * gens.gs.len(),
        t.elapsed().as_secs_f64()
    );
    let siblings = 32usize;
    let bits = [64usize, 128, 64, 64];
    let value = |a: usize, i: usize| -> u128 {
        let top = if bits[a] == 128 {
            1u128 << 90
        } else {
            1u128 << 50
        };
        (top / 7).wrapping_mul(i as u128 + 3) % top
    };
    let blind =
        |a: usize, i: usize| Scalar::from((a * 1000 + i + 1) as u64) * Scalar::from(0xdead_beefu64);

    // One proof per asset.
    let t = Instant::now();
    let mut proofs = Vec::new();
    for (a, &n) in bits.iter().enumerate() {
        let vals: Vec<u128> = (0..siblings).map(|i| value(a, i)).collect();
        let bl: Vec<Scalar> = (0..siblings).map(|i| blind(a, i)).collect();
        let mut tr = Transcript::new(b"bench");
        proofs.push((prove(gens, &mut tr, &vals, &bl, n).unwrap(), n));
    }
    let prove_each = t.elapsed().as_secs_f64();
    let size_each: usize = proofs.iter().map(|(p, _)| p.0.to_bytes().len()).sum();
    let t = Instant::now();
    for (p, n) in &proofs {
        verify(gens, &mut Transcript::new(b"bench"), &p.0, &p.1, *n).unwrap();
    }
    let verify_each = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let items: Vec<ToVerify> = proofs
        .iter()
        .map(|(p, n)| ToVerify {
            proof: &p.0,
            commitments: &p.1,
            n: *n,
            transcript: Transcript::new(b"bench"),
        })
        .collect();
    verify_batch(gens, items).unwrap();
    let verify_batched = t.elapsed().as_secs_f64();
    println!(
        "one proof per asset (4 x {siblings} values, 64/128/64/64 bits): prove {:.0} ms, verify {:.0} ms one by one, {:.0} ms batched, {} bytes",
        prove_each * 1e3,
        verify_each * 1e3,
        verify_batched * 1e3,
        size_each
    );

    // One proof over all assets, padded to 128 bits.
    let vals: Vec<u128> = (0..4)
        .flat_map(|a| (0..siblings).map(move |i| value(a, i)))
        .collect();
    let bl: Vec<Scalar> = (0..4)
        .flat_map(|a| (0..siblings).map(move |i| blind(a, i)))
        .collect();
    let t = Instant::now();
    let mut tr = Transcript::new(b"bench");
    let (p, v) = prove(gens, &mut tr, &vals, &bl, 128).unwrap();
    let prove_one = t.elapsed().as_secs_f64();
    let t = Instant::now();
    verify(gens, &mut Transcript::new(b"bench"), &p, &v, 128).unwrap();
    let verify_one = t.elapsed().as_secs_f64();
    println!(
        "one proof for all (128 x 128 bits): prove {:.0} ms, verify {:.0} ms, {} bytes",
        prove_one * 1e3,
        verify_one * 1e3,
        p.to_bytes().len()
    );
    println!(
        "sibling commitments: {} bytes ({siblings} x 4 assets x 32)",
        siblings * 4 * 32
    );
}
