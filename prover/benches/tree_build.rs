//! Tree build and proof verification benchmark (run: `cargo bench -p por-prover`).
//!
//! Builds the liabilities tree of 1,000,000 customers x 4 assets at height 32 and prints:
//! accounts/s, the hash rate inside the build against the raw SHA-256 rate of the same node
//! encoding on both cores, peak memory, proof size, and in-process verification time.
//! `POR_BENCH_USERS` and `POR_BENCH_ASSETS` change the size.

use por_prover::synth::SplitMix;
use por_verifier::hash::{node_hash, user_commitment, Hash};
use por_verifier::proof::verify_inclusion;
use por_verifier::state::{leaf_level, PositionAssigner};
use por_verifier::tree::{build, TreeParams};
use por_verifier::{Amount, Asset, Attestation, InclusionProof};
use rayon::prelude::*;
use std::time::Instant;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Raw SHA-256 rate of the inner-node encoding (k assets) on all threads: hashes per second.
fn raw_node_rate(k: usize, secs: f64) -> f64 {
    let sums = vec![Amount(123_456_789); k];
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let per_round = 200_000u64;
    let mut total = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let acc: u64 = (0..threads)
            .into_par_iter()
            .map(|t| {
                let mut h = Hash([t as u8; 32]);
                for _ in 0..per_round / threads as u64 {
                    h = node_hash(&h, &sums, &h, &sums);
                }
                std::hint::black_box(h);
                per_round / threads as u64
            })
            .sum();
        total += acc;
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// SHA-256 compression blocks for a message of `len` bytes.
fn blocks(len: usize) -> u64 {
    ((len + 9).div_ceil(64)) as u64
}

fn main() {
    let n = env_or("POR_BENCH_USERS", 1_000_000);
    let k = env_or("POR_BENCH_ASSETS", 4);
    let height = 32u8;
    println!(
        "tree build benchmark: {n} customers x {k} assets, height {height}, {} threads",
        rayon::current_num_threads()
    );

    // Input: positions from a seed, salts and balances from a fixed generator.
    let t = Instant::now();
    let mut rng = SplitMix::new(7);
    let mut assigner = PositionAssigner::new([9; 32], height);
    let ids: Vec<String> = (0..n).map(|i| format!("u{i:08}")).collect();
    let mut rows: Vec<(u64, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (assigner.assign(id).unwrap(), i as u32))
        .collect();
    rows.par_sort_unstable();
    let salts: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut s = [0u8; 32];
            for c in s.chunks_mut(8) {
                c.copy_from_slice(&rng.next_u64().to_le_bytes());
            }
            s
        })
        .collect();
    let balances: Vec<Amount> = (0..n * k)
        .map(|_| Amount(u128::from(rng.next_u64() % 10_000_000_000)))
        .collect();
    println!(
        "  input generated in {:.2} s (positions, salts, balances)",
        t.elapsed().as_secs_f64()
    );

    // The build: user commitments, leaves, then every level.
    let t = Instant::now();
    let commitments: Vec<Hash> = rows
        .par_iter()
        .map(|&(_, i)| user_commitment(&ids[i as usize], &salts[i as usize]))
        .collect();
    let mut sums = Vec::with_capacity(n * k);
    for &(_, i) in &rows {
        sums.extend_from_slice(&balances[i as usize * k..(i as usize + 1) * k]);
    }
    let index: Vec<u64> = rows.iter().map(|r| r.0).collect();
    let level = leaf_level(index.clone(), &commitments, sums, k);
    let t_leaves = t.elapsed().as_secs_f64();
    let params = TreeParams {
        height,
        assets: k,
        padding_key: [3; 32],
    };
    let target = index[n / 2];
    let t_tree = Instant::now();
    let built = build(&params, level, &[target], &|_| {}).unwrap();
    let tree_secs = t_tree.elapsed().as_secs_f64();
    let total_secs = t.elapsed().as_secs_f64();
    let peak = peak_rss_mib();

    let inner = built.node_hashes - built.padding_hashes;
    let node_len = 16 + 2 * (32 + 16 * k);
    let pad_len = 16 + 32 + 1 + 8;
    let tree_blocks = inner * blocks(node_len) + built.padding_hashes * blocks(pad_len);
    println!(
        "  build: {:.2} s total ({:.2} s leaves and commitments, {:.2} s tree levels)",
        total_secs, t_leaves, tree_secs
    );
    println!("  accounts/s: {:.0}", n as f64 / total_secs);
    println!(
        "  tree levels: {} node hashes ({} inner, {} padding)",
        built.node_hashes, inner, built.padding_hashes
    );
    let tree_rate = built.node_hashes as f64 / tree_secs;
    let tree_block_rate = tree_blocks as f64 / tree_secs;

    let raw = raw_node_rate(k, 3.0);
    let raw_block_rate = raw * blocks(node_len) as f64;
    println!("  raw SHA-256 of the node encoding ({node_len} bytes) on all threads: {:.0} hashes/s ({:.0} blocks/s)", raw, raw_block_rate);
    println!(
        "  tree levels: {:.0} hashes/s ({:.0} blocks/s)",
        tree_rate, tree_block_rate
    );
    println!(
        "  ratio tree/raw: {:.2} by hashes, {:.2} by SHA-256 blocks (target >= 0.5)",
        tree_rate / raw,
        tree_block_rate / raw_block_rate
    );
    println!("  peak memory (VmHWM): {:.0} MiB", peak);

    // One proof: size and verification time.
    let i = rows.binary_search_by_key(&target, |r| r.0).unwrap();
    let (pos, row) = rows[i];
    let assets: Vec<Asset> = (0..k)
        .map(|a| Asset {
            symbol: format!("A{a}"),
            decimals: 8,
        })
        .collect();
    let att = Attestation {
        exchange: "Bench".into(),
        period: "2026-11".into(),
        snapshot_time: "2026-11-30T00:00:00Z".into(),
        assets,
        tree_height: height,
        root_hash: built.root,
        liabilities: built.root_sums.clone(),
        bindings: Vec::new(),
        history: por_verifier::history::HistoryLink::first(None),
        rotation: None,
        hidden: None,
        public_key: [0; 32],
        signature: [0; 64],
    };
    let proof = InclusionProof {
        exchange: "Bench".into(),
        period: "2026-11".into(),
        user_id: ids[row as usize].clone(),
        salt: salts[row as usize],
        position: pos,
        balances: balances[row as usize * k..(row as usize + 1) * k].to_vec(),
        path: built.paths[0].clone(),
    };
    let json = proof.to_json();
    println!(
        "  proof size: {} bytes of JSON, {} bytes of content (target < 4096)",
        json.len(),
        proof.payload_size()
    );
    verify_inclusion(&att, &proof, &proof.user_id).expect("the proof verifies");
    let iters = 20_000;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(
            verify_inclusion(&att, std::hint::black_box(&proof), &proof.user_id).unwrap(),
        );
    }
    let fold_us = t.elapsed().as_secs_f64() * 1e6 / iters as f64;
    let t = Instant::now();
    for _ in 0..2_000 {
        let p = InclusionProof::from_json("bench", json.as_bytes()).unwrap();
        std::hint::black_box(verify_inclusion(&att, &p, &p.user_id).unwrap());
    }
    let parse_us = t.elapsed().as_secs_f64() * 1e6 / 2_000.0;
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let mut signed = att.clone();
    por_prover::build::sign(&mut signed, &key).unwrap();
    let vk = key.verifying_key();
    let t = Instant::now();
    for _ in 0..2_000 {
        signed.verify_signature(&vk).unwrap();
    }
    let sig_us = t.elapsed().as_secs_f64() * 1e6 / 2_000.0;
    println!("  verify in-process: {fold_us:.1} us per proof (path check), {parse_us:.1} us with JSON parsing (target < 50 us)");
    println!("  attestation signature check (once per attestation): {sig_us:.1} us");
}
