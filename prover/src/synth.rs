//! Deterministic synthetic liabilities for the example exchange and the benchmarks.
//!
//! Not random in any cryptographic sense: the same seed always gives the same file, so the
//! example and the benchmark are reproducible.

use std::io::Write;

/// A small deterministic generator (SplitMix64).
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The example's assets: symbol, decimals, and a typical holding in base units.
pub const EXAMPLE_ASSETS: [(&str, u8, u64); 8] = [
    ("BTC", 8, 5_000_000),
    ("ETH", 18, 0),
    ("USDT", 6, 800_000_000),
    ("USDC", 6, 600_000_000),
    ("DAI", 18, 0),
    ("SOL", 9, 3_000_000_000),
    ("XRP", 6, 400_000_000),
    ("DOGE", 8, 90_000_000_000),
];

/// Writes `users` rows over the first `assets` example assets (more are named `TOKn`).
pub fn write_liabilities(
    out: &mut impl Write,
    users: u64,
    assets: usize,
    seed: u64,
) -> std::io::Result<()> {
    let mut rng = SplitMix::new(seed);
    write!(out, "user_id")?;
    let cols: Vec<(String, u8, u64)> = (0..assets)
        .map(|i| match EXAMPLE_ASSETS.get(i) {
            Some(&(s, d, t)) => (s.to_string(), d, t),
            None => (format!("TOK{i}"), 6, 1_000_000),
        })
        .collect();
    for (s, d, _) in &cols {
        write!(out, ",{s}:{d}")?;
    }
    writeln!(out)?;
    for u in 0..users {
        write!(out, "u{u:08}")?;
        for (s, d, typical) in &cols {
            let r = rng.next_u64();
            // About a third of customers hold nothing of a given asset.
            let units: u128 = if r.is_multiple_of(3) {
                0
            } else if s == "ETH" {
                u128::from(r % 4_000_000) * 1_000_000_000_000
            } else if s == "DAI" {
                u128::from(r % 2_000_000) * 1_000_000_000_000_000
            } else {
                u128::from(r % (typical * 2 + 1))
            };
            write!(out, ",{}", por_verifier::Amount(units).to_decimal(*d))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
