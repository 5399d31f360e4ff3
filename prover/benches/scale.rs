//! Scale benchmark: the exchange's monthly job and its proof service, through the real
//! `por-prove` binary (run: `cargo bench -p por-prover --bench scale`).
//!
//! For each size in `POR_SCALE_USERS` (comma-separated, default `1000000`) with
//! `POR_SCALE_ASSETS` assets (default 8) at height 32, in `POR_SCALE_DIR` (default a directory
//! under the system's temporary directory; the input is kept there between runs):
//! - `build`: wall time, peak memory (with GNU time, where installed), disk use;
//! - one proof from the stored tree in-process (mean, p99 over 2,000 random customers), and as a
//!   whole `por-prove proof` process (mean over 20);
//! - `proofs --jsonl` for the first min(n, 1,000,000) customers: time and peak memory;
//! - `serve` under `wrk` (where installed): requests/s and latency percentiles.
//!
//! `POR_SCALE_BUDGET` passes `--memory-budget` to the build.

use por_prover::stored::{StoredTree, LARGE_CACHE};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_por-prove");

mod support;

/// Runs `por-prove ARGS` under GNU time when present: (wall seconds, peak MiB if known).
fn timed(args: &[&str]) -> (f64, Option<f64>) {
    let out = support::run_timed(BIN, args);
    assert!(
        out.ok || args[0] == "proofs",
        "por-prove {args:?} failed: {}",
        out.stderr
    );
    (out.secs, out.peak_mib)
}

fn du(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|d| d.flatten().map(|e| du(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.len()
    }
}

fn gib(b: u64) -> String {
    format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64)
}

fn mib(m: Option<f64>) -> String {
    m.map_or("n/a (no GNU time)".into(), |m| format!("{m:.0} MiB"))
}

/// A fixed sequence of customer numbers below `n`.
fn sample(n: u64, count: usize) -> Vec<u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let sizes: Vec<u64> = std::env::var("POR_SCALE_USERS")
        .unwrap_or_else(|_| "1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("POR_SCALE_USERS: numbers"))
        .collect();
    let assets: u64 = std::env::var("POR_SCALE_ASSETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let dir = support::scale_dir();
    let key = dir.join("bench.key");
    if !key.exists() {
        timed(&["keygen", "--out", key.to_str().unwrap()]);
    }
    println!(
        "scale benchmark: {} x {assets} assets, height 32, {} cores, in {}",
        sizes
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.display()
    );
    for n in sizes {
        let input = dir.join(format!("liabilities-{n}x{assets}.csv"));
        if !input.exists() {
            let (t, _) = timed(&[
                "example-data",
                "--users",
                &n.to_string(),
                "--assets",
                &assets.to_string(),
                "--out",
                input.to_str().unwrap(),
            ]);
            println!("{n}: input generated in {t:.1} s");
        }
        let out = dir.join(format!("build-{n}"));
        let _ = std::fs::remove_dir_all(&out);
        let mut args = vec![
            "build".to_string(),
            "--liabilities".into(),
            input.display().to_string(),
            "--key".into(),
            key.display().to_string(),
            "--exchange".into(),
            "Bench".into(),
            "--period".into(),
            "2026-11".into(),
            "--snapshot-time".into(),
            "2026-11-30T00:00:00Z".into(),
            "--out".into(),
            out.display().to_string(),
        ];
        if let Ok(b) = std::env::var("POR_SCALE_BUDGET") {
            args.extend(["--memory-budget".into(), b]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (t, peak) = timed(&argv);
        let tree = du(&out.join("private/tree.bin"));
        println!(
            "{n}: build {t:.1} s ({:.0} customers/s), peak {}, input {}, output {} (tree.bin {}, leaves.csv {}, ledger copy {})",
            n as f64 / t,
            mib(peak),
            gib(du(&input)),
            gib(du(&out)),
            gib(tree),
            gib(du(&out.join("private/leaves.csv"))),
            gib(du(&out.join("private/liabilities.csv"))),
        );

        let st = StoredTree::open_with_cache(&out, LARGE_CACHE).expect("open the stored tree");
        let ids: Vec<String> = sample(n, 2000)
            .into_iter()
            .map(|i| format!("u{i:08}"))
            .collect();
        let mut times: Vec<Duration> = ids
            .iter()
            .map(|id| {
                let t = Instant::now();
                st.proof(id).expect("proof").expect("a customer");
                t.elapsed()
            })
            .collect();
        times.sort();
        let mean = times.iter().sum::<Duration>().as_secs_f64() * 1e3 / times.len() as f64;
        println!(
            "{n}: one proof in-process: mean {mean:.3} ms, p50 {:.3} ms, p99 {:.3} ms (2,000 random customers, one core)",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        drop(st);
        let from = out.display().to_string();
        let procs: Vec<f64> = ids[..20]
            .iter()
            .map(|id| timed(&["proof", "--from", &from, "--user", id]).0 * 1e3)
            .collect();
        println!(
            "{n}: one proof as a por-prove process: mean {:.1} ms, max {:.1} ms",
            procs.iter().sum::<f64>() / procs.len() as f64,
            procs.iter().cloned().fold(0.0, f64::max)
        );

        let batch = n.min(1_000_000);
        let users = dir.join(format!("users-{batch}.txt"));
        if !users.exists() {
            let text: String = (0..batch).map(|i| format!("u{i:08}\n")).collect();
            std::fs::write(&users, text).expect("users file");
        }
        let jsonl = dir.join("proofs.jsonl");
        let _ = std::fs::remove_file(&jsonl);
        let (t, peak) = timed(&[
            "proofs",
            "--from",
            &from,
            "--users",
            users.to_str().unwrap(),
            "--jsonl",
            jsonl.to_str().unwrap(),
        ]);
        println!(
            "{n}: proofs for {batch} customers (JSON lines, {}): {t:.1} s ({:.0}/s), peak {}",
            gib(du(&jsonl)),
            batch as f64 / t,
            mib(peak)
        );
        let _ = std::fs::remove_file(&jsonl);
        // The batch's gigabytes are still being written back; latency is measured after.
        let _ = Command::new("sync").status();
        serve_under_wrk(n, &from, &dir);
        // Outputs are large (tens of GB at 100M); the input is kept for the next run.
        let _ = std::fs::remove_dir_all(&out);
    }
}

fn serve_under_wrk(n: u64, from: &str, dir: &Path) {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("{n}: service: skipped (wrk is not installed: apt-get install wrk)");
        return;
    }
    let port = 18000 + (std::process::id() % 1000) as u16;
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(BIN)
        .args(["serve", "--from", from, "--listen", &listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let mut line = String::new();
    use std::io::BufRead;
    let _ = std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut line);
    let script = dir.join("random-proof.lua");
    std::fs::write(
        &script,
        format!(
            "request = function()\n  return wrk.format(\"GET\", string.format(\"/proof/u%08d\", math.random(0, {})))\nend\n",
            n - 1
        ),
    )
    .expect("lua script");
    // A first run warms the page cache (a batch of proofs may just have evicted the tree).
    let _ = Command::new("wrk")
        .args([
            "-t2",
            "-c8",
            "-d3s",
            "-s",
            script.to_str().unwrap(),
            &format!("http://{listen}"),
        ])
        .output();
    for conns in [8, 32] {
        let out = Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{conns}"),
                "-d10s",
                "--latency",
                "-s",
                script.to_str().unwrap(),
                &format!("http://{listen}"),
            ])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        let pick = |prefix: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(prefix))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        };
        println!(
            "{n}: service under wrk, 2 threads, {conns} connections, 10 s: {}; latency {}, {}, {}",
            pick("Requests/sec"),
            pick("50%"),
            pick("99%"),
            pick("Non-2xx").if_empty("all 200")
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

trait IfEmpty {
    fn if_empty(self, other: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: &str) -> String {
        if self.is_empty() {
            other.to_string()
        } else {
            self
        }
    }
}
