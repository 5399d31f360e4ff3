//! Hidden-sums benchmark (run: `cargo bench -p por-prover --bench hidden`).
//!
//! 1. `por-prove build --hidden-sums` on `POR_HIDDEN_USERS` customers (default 1,000,000) x 4
//!    assets (BTC:8, ETH:18, USDT:6, USDC:6) at height 32, in `POR_SCALE_DIR` (default a
//!    directory under the system's temporary directory): wall time and peak memory (GNU time).
//!    `POR_HIDDEN_USERS=0` skips it.
//! 2. One customer's proof at height 32 in-process, on one core: the range proofs and the
//!    whole proof made from the sibling openings of a built tree, verified (generators warm,
//!    and the first check of a process with them cold), content size; for 1 to 16 assets.
//! 3. Making one proof from the build's directory, as `por-prove proof` does (the committed
//!    tree rebuilt with the customer's path, then the range proofs), when step 1 ran.

use por_hidden::generators::Generators;
use por_hidden::path::{self, Context};
use por_hidden::Scalar;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_por-prove");

mod support;

/// Runs `por-prove ARGS` under GNU time when present: (wall seconds, peak MiB if known).
fn timed(args: &[&str]) -> (f64, Option<f64>) {
    let out = support::run_timed(BIN, args);
    assert!(out.ok, "por-prove {args:?} failed: {}", out.stderr);
    (out.secs, out.peak_mib)
}

/// Bit sizes of the example assets' totals at exchange scale: 8-decimal and 6-decimal assets
/// in 64 bits, 18-decimal ones in 128.
fn bit_sizes(k: usize) -> Vec<u8> {
    (0..k).map(|a| if a % 4 == 1 { 128 } else { 64 }).collect()
}

fn one_proof(k: usize, h: usize) {
    let bits = bit_sizes(k);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let values: Vec<Vec<u128>> = (0..h)
        .map(|_| (0..k).map(|_| u128::from(next() >> 14)).collect())
        .collect();
    let blinds: Vec<Vec<Scalar>> = (0..h)
        .map(|_| (0..k).map(|_| Scalar::from(next())).collect())
        .collect();
    let gens = Generators::at_least(path::generators_needed(&bits, h));
    let commitments: Vec<Vec<_>> = values
        .iter()
        .zip(&blinds)
        .map(|(vs, bs)| {
            vs.iter()
                .zip(bs)
                .map(|(v, b)| gens.commit(Scalar::from(*v), *b))
                .collect()
        })
        .collect();
    let ctx = Context {
        exchange: "Bench",
        period: "2026-11",
        root: [7; 32],
        position: 12345,
    };
    let t = Instant::now();
    let proofs = path::prove(&gens, &ctx, &bits, &values, &blinds).expect("prove");
    let prove = t.elapsed().as_secs_f64();
    let t = Instant::now();
    path::verify(&gens, &ctx, &bits, &commitments, &proofs).expect("verify");
    let verify = t.elapsed().as_secs_f64();
    let range: usize = proofs.iter().map(|p| p.to_bytes().len()).sum();
    // Position, salt, the leaf's balances and blindings, each sibling's hash and commitments.
    let content = 8 + 32 + 48 * k + h * (32 + 32 * k) + range;
    println!(
        "  {k:>2} assets: {} range proofs; made in {:>6.0} ms, verified in {:>4.0} ms; content {:>6} bytes ({:.1} KiB, range proofs {range})",
        proofs.len(),
        prove * 1e3,
        verify * 1e3,
        content,
        content as f64 / 1024.0
    );
}

fn main() {
    let users: u64 = std::env::var("POR_HIDDEN_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = support::scale_dir();
    println!(
        "hidden-sums benchmark, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 2. One customer's proof, on one core.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    pool.install(|| {
        let t = Instant::now();
        let _ = Generators::at_least(path::generators_needed(&bit_sizes(4), 32));
        println!(
            "generators for a 4-asset height-32 check, cold: {:.2} s (once per process)",
            t.elapsed().as_secs_f64()
        );
        println!("one customer's proof at height 32, one core:");
        for k in [1usize, 2, 4, 8, 16] {
            one_proof(k, 32);
        }
    });

    // 1. The build.
    if users == 0 {
        return;
    }
    let key = dir.join("bench.key");
    if !key.exists() {
        timed(&["keygen", "--out", key.to_str().expect("UTF-8")]);
    }
    let input = dir.join(format!("liabilities-{users}x4.csv"));
    if !input.exists() {
        timed(&[
            "example-data",
            "--users",
            &users.to_string(),
            "--assets",
            "4",
            "--out",
            input.to_str().expect("UTF-8"),
        ]);
    }
    let out = dir.join(format!("hidden-{users}"));
    let _ = std::fs::remove_dir_all(&out);
    let (secs, peak) = timed(&[
        "build",
        "--liabilities",
        input.to_str().expect("UTF-8"),
        "--key",
        key.to_str().expect("UTF-8"),
        "--exchange",
        "Bench",
        "--period",
        "2026-11",
        "--snapshot-time",
        "2026-11-30T23:59:59Z",
        "--height",
        "32",
        "--hidden-sums",
        "--out",
        out.to_str().expect("UTF-8"),
    ]);
    println!(
        "build --hidden-sums, {users} x 4 assets, height 32: {secs:.1} s ({:.1} min), peak {}",
        secs / 60.0,
        peak.map_or("n/a (no GNU time)".into(), |m| format!("{m:.0} MiB"))
    );

    // 3. One proof from the directory, as `por-prove proof` makes it.
    let (secs, peak) = timed(&[
        "proof",
        "--from",
        out.to_str().expect("UTF-8"),
        "--user",
        "u00000042",
    ]);
    println!(
        "por-prove proof (tree rebuilt with the path, range proofs, checked): {secs:.1} s, peak {}",
        peak.map_or("n/a".into(), |m| format!("{m:.0} MiB"))
    );
}
