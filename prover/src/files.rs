//! Writing outputs so that an error never leaves a partial file behind.

use por_verifier::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates `path` with mode 0600; fails if it exists.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::input(format!(
                "{}: already exists; refusing to overwrite a key",
                path.display()
            ))
        } else {
            Error::input(format!("{}: cannot create: {e}", path.display()))
        }
    })?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        Error::input(format!("{}: cannot write: {e}", path.display()))
    })
}

/// Writes `path` atomically: a temporary file beside it, renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = sibling_temp(path);
    let res = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::input(format!("{}: cannot write: {e}", path.display()))
    })
}

/// A temporary name in the same directory as `path` (so a rename is atomic).
pub fn sibling_temp(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Removes what killed runs left beside `target`: the staging directories and temporary files
/// named by [`sibling_temp`] whose process is gone. Returns what was removed.
pub fn remove_leftovers(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(&parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if pid.is_empty() || process_alive(&pid) {
            continue;
        }
        let path = e.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Whether process `pid` still runs (so its staging area is in use). Where this cannot be told
/// (no `/proc`), only this process counts as alive.
fn process_alive(pid: &str) -> bool {
    if pid == std::process::id().to_string() {
        return true;
    }
    let proc = Path::new("/proc");
    proc.is_dir() && proc.join(pid).exists()
}

/// A directory being written; removed on drop unless `commit` moved it into place.
pub struct StagingDir {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
    // Removes the stage if the process is interrupted (a signal runs no drop).
    _on_signal: por_verifier::cleanup::Guard,
}

/// Removes what killed runs left beside `target` (staging directories that may hold private
/// state), saying so on stderr at once: it must be seen even if this run then fails. Called
/// before any check that may stop the run, so a refused run still clears them.
pub fn clear_leftovers(target: &Path) {
    for gone in remove_leftovers(target) {
        eprintln!(
            "por-prove: removed {}: left by an earlier run that was killed before it \
             finished (it may have held private state: salts, seeds)",
            gone.display()
        );
    }
}

impl StagingDir {
    /// Starts staging `target`, which must not exist (or, with `replace`, may).
    pub fn new(target: &Path, replace: bool) -> Result<StagingDir> {
        clear_leftovers(target);
        if target.exists() && !replace {
            return Err(Error::input(format!(
                "{}: already exists; choose a new output directory or pass --force",
                target.display()
            )));
        }
        let tmp = sibling_temp(target);
        let _ = std::fs::remove_dir_all(&tmp);
        let on_signal = por_verifier::cleanup::Guard::new(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", tmp.display())))?;
        Ok(StagingDir {
            tmp,
            target: target.to_path_buf(),
            done: false,
            _on_signal: on_signal,
        })
    }

    /// Where to write files now.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished directory into place.
    pub fn commit(mut self) -> Result<()> {
        if self.target.exists() {
            let old = sibling_temp(&self.target).with_extension("old");
            std::fs::rename(&self.target, &old).map_err(|e| {
                Error::input(format!("{}: cannot replace: {e}", self.target.display()))
            })?;
            let _ = std::fs::remove_dir_all(&old);
        }
        std::fs::rename(&self.tmp, &self.target)
            .map_err(|e| Error::input(format!("{}: cannot create: {e}", self.target.display())))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Writes a new file readable by its owner only (0600 on Unix), for private outputs such as a
/// customer's proof.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))
}

/// Restricts a directory holding secrets to its owner.
pub fn set_private(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::input(format!("{}: cannot set permissions: {e}", dir.display())))?;
    }
    let _ = dir;
    Ok(())
}
