//! Shared by the benchmarks: running a tool under GNU time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one timed run gave.
pub struct Timed {
    /// Wall seconds.
    pub secs: f64,
    /// Peak resident memory in MiB, when GNU time is installed.
    pub peak_mib: Option<f64>,
    /// Whether the tool exited 0.
    pub ok: bool,
    /// Its standard error, GNU time's line included.
    pub stderr: String,
}

/// Runs `bin ARGS` (standard output discarded) under GNU time when present.
pub fn run_timed(bin: &str, args: &[&str]) -> Timed {
    let gnu = Path::new("/usr/bin/time").exists();
    let start = Instant::now();
    let out = if gnu {
        Command::new("/usr/bin/time")
            .args(["-f", "PEAK_KB %M"])
            .arg(bin)
            .args(args)
            .stdout(Stdio::null())
            .output()
    } else {
        Command::new(bin).args(args).stdout(Stdio::null()).output()
    }
    .expect("run the tool");
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak_mib = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("PEAK_KB "))
        .next_back()
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    Timed {
        secs,
        peak_mib,
        ok: out.status.success(),
        stderr,
    }
}

/// Where the benchmarks keep their inputs between runs: `POR_SCALE_DIR`, or a directory under
/// the system's temporary directory.
pub fn scale_dir() -> PathBuf {
    let dir = std::env::var_os("POR_SCALE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("por-scale-bench"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}
