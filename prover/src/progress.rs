//! Progress bars on stderr, drawn only when stderr is a terminal (indicatif hides them
//! otherwise), so batch jobs and pipes get clean output.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to show progress at all.
#[derive(Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

/// One bar.
pub struct Bar(Option<ProgressBar>);

impl Progress {
    /// Progress on stderr when it is a terminal.
    pub fn stderr() -> Self {
        Progress { enabled: true }
    }

    /// No progress (library use, tests).
    pub fn hidden() -> Self {
        Progress { enabled: false }
    }

    fn bar(&self, len: Option<u64>, template: &str) -> Bar {
        if !self.enabled {
            return Bar(None);
        }
        let pb = match len {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            pb.set_style(style);
        }
        Bar(Some(pb))
    }

    /// A counter of rows read.
    pub fn rows(&self) -> Bar {
        self.bar(
            None,
            "{spinner} reading liabilities: {pos} rows ({per_sec})",
        )
    }

    /// A bar over proofs written.
    pub fn proofs(&self, total: u64) -> Bar {
        self.bar(
            Some(total),
            "writing proofs [{bar:32}] {pos}/{len} ({per_sec}, {eta} left)",
        )
    }

    /// A bar over the slices of an out-of-core build.
    pub fn slices(&self, total: u64) -> Bar {
        self.bar(
            Some(total),
            "building tree [{bar:32}] slice {pos}/{len} ({eta} left)",
        )
    }

    /// A bar over tree levels.
    pub fn levels(&self, height: u8) -> Bar {
        self.bar(
            Some(u64::from(height)),
            "building tree [{bar:32}] level {pos}/{len} {elapsed}",
        )
    }
}

impl Bar {
    /// Sets the position.
    pub fn set(&self, n: impl Into<u64>) {
        if let Some(pb) = &self.0 {
            pb.set_position(n.into());
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
