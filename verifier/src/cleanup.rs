//! Private temporary data removed when the process is interrupted (Ctrl-C, SIGTERM, SIGHUP).
//!
//! A build stages its output, salts and a spilled copy of the ledger in a directory beside the
//! target (hundreds of MB for a large exchange); an audit spills the ledger too. Dropping the
//! stage removes it on every error, but a signal ends the process without running drops, and the
//! private copy stayed until the next run found it. A [`Guard`] registers a path; the first one
//! installs a handler (the `ctrlc` crate, with its `termination` feature) that removes every
//! registered path, says so on stderr and exits with 130, as shells report an interrupt.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALLED: std::sync::Once = std::sync::Once::new();

/// The exit code after an interrupt: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: i32 = 130;

/// Removes its path if the process is interrupted while it lives; dropping it only forgets the
/// path (its owner removes or keeps the data as it decides).
#[derive(Debug)]
pub struct Guard {
    path: PathBuf,
}

impl Guard {
    /// Registers `path` (a file or a directory) for removal on an interrupt.
    pub fn new(path: &Path) -> Guard {
        INSTALLED.call_once(|| {
            // Another handler already set (a program embedding this library) is left alone:
            // the drops and the next run's leftover check still clean up.
            let _ = ctrlc::set_handler(on_signal);
        });
        lock().push(path.to_path_buf());
        Guard {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut paths = lock();
        if let Some(i) = paths.iter().position(|p| *p == self.path) {
            paths.remove(i);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PATHS.lock().unwrap_or_else(|e| e.into_inner())
}

fn on_signal() {
    // Kept locked: no new path is registered while the old ones go.
    let paths = lock();
    for p in paths.iter().filter(|p| p.exists()) {
        // The main thread may still be writing into it: a few passes.
        for _ in 0..3 {
            let gone = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
            if gone.is_ok() || !p.exists() {
                break;
            }
        }
        if p.exists() {
            eprintln!(
                "interrupted: could not remove {} (private data): remove it yourself",
                p.display()
            );
        } else {
            eprintln!(
                "interrupted: removed {} (private temporary data)",
                p.display()
            );
        }
    }
    std::process::exit(INTERRUPTED);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_registers_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let ga = Guard::new(&a);
        let gb = Guard::new(&b);
        assert!(lock().contains(&a) && lock().contains(&b));
        drop(ga);
        assert!(!lock().contains(&a) && lock().contains(&b));
        drop(gb);
        assert!(!lock().contains(&b));
    }
}
