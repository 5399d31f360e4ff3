//! Progress of the long phases (reading the export, building the tree, writing proofs) on
//! stderr, in the form the reader can use: bars on a terminal; under cron or a CI job (stderr
//! not a terminal) one timestamped line when a phase starts, one every `every` seconds and one
//! when it ends; or the same events as JSON lines for a log pipeline. A 1M-row build that says
//! nothing for minutes is indistinguishable from a hung one.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bars when stderr is a terminal, else lines.
    Auto,
    /// Bars (drawn only on a terminal).
    Bar,
    /// Timestamped lines.
    Log,
    /// One JSON object per line.
    Json,
    /// Nothing.
    None,
}

impl Mode {
    /// Parses `auto`, `bar`, `log`, `json` or `none`.
    pub fn parse(s: &str) -> std::result::Result<Mode, String> {
        match s {
            "auto" => Ok(Mode::Auto),
            "bar" => Ok(Mode::Bar),
            "log" => Ok(Mode::Log),
            "json" => Ok(Mode::Json),
            "none" => Ok(Mode::None),
            _ => Err(format!(
                "expected auto, bar, log, json or none, found {s:?}"
            )),
        }
    }
}

/// Where and how progress goes.
#[derive(Clone, Copy)]
pub struct Progress {
    mode: Mode,
    every: Duration,
}

/// One phase's progress.
pub struct Bar(Kind);

enum Kind {
    Hidden,
    Drawn(ProgressBar),
    Lines(Mutex<Lines>),
}

struct Lines {
    json: bool,
    phase: &'static str,
    unit: &'static str,
    total: Option<u64>,
    pos: u64,
    started: Instant,
    last: Instant,
    every: Duration,
    done: bool,
}

impl Progress {
    /// Bars on a terminal, else a line every 10 seconds.
    pub fn stderr() -> Self {
        Progress::new(Mode::Auto, Duration::from_secs(10))
    }

    /// Progress in `mode`; lines at most every `every`.
    pub fn new(mode: Mode, every: Duration) -> Self {
        let mode = match mode {
            Mode::Auto if std::io::stderr().is_terminal() => Mode::Bar,
            Mode::Auto => Mode::Log,
            m => m,
        };
        Progress { mode, every }
    }

    /// No progress (library use, tests).
    pub fn hidden() -> Self {
        Progress::new(Mode::None, Duration::ZERO)
    }

    fn bar(
        &self,
        len: Option<u64>,
        phase: &'static str,
        unit: &'static str,
        template: &str,
    ) -> Bar {
        match self.mode {
            Mode::None => Bar(Kind::Hidden),
            Mode::Bar | Mode::Auto => {
                let pb = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
                // indicatif's own {per_sec} prints four decimals: a rate of rows needs none.
                if let Ok(style) = ProgressStyle::with_template(template) {
                    pb.set_style(style.with_key(
                        "rate",
                        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", s.per_sec());
                        },
                    ));
                }
                Bar(Kind::Drawn(pb))
            }
            Mode::Log | Mode::Json => {
                let now = Instant::now();
                let l = Lines {
                    json: self.mode == Mode::Json,
                    phase,
                    unit,
                    total: len,
                    pos: 0,
                    started: now,
                    last: now,
                    every: self.every,
                    done: false,
                };
                l.emit("start");
                Bar(Kind::Lines(Mutex::new(l)))
            }
        }
    }

    /// A counter of rows read.
    pub fn rows(&self) -> Bar {
        self.bar(
            None,
            "reading liabilities",
            "rows",
            "{spinner} reading liabilities: {pos} rows ({rate})",
        )
    }

    /// A bar over proofs written.
    pub fn proofs(&self, total: u64) -> Bar {
        self.bar(
            Some(total),
            "writing proofs",
            "proofs",
            "writing proofs [{bar:32}] {pos}/{len} ({rate}, {eta} left)",
        )
    }

    /// A bar over the slices of an out-of-core build.
    pub fn slices(&self, total: u64) -> Bar {
        self.bar(
            Some(total),
            "building tree",
            "slices",
            "building tree [{bar:32}] slice {pos}/{len} ({eta} left)",
        )
    }

    /// A bar over tree levels.
    pub fn levels(&self, height: u8) -> Bar {
        self.bar(
            Some(u64::from(height)),
            "building tree levels",
            "levels",
            "building tree [{bar:32}] level {pos}/{len} {elapsed}",
        )
    }
}

impl Lines {
    fn emit(&self, event: &str) {
        let time = crate::serve::stamp();
        let secs = self.started.elapsed().as_secs_f64();
        let line = if self.json {
            serde_json::json!({
                "time": time, "phase": self.phase, "event": event, "done": self.pos,
                "total": self.total, "unit": self.unit, "elapsed_secs": (secs * 1000.0).round() / 1000.0,
            })
            .to_string()
        } else {
            let of = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
            // A rate below one a second (slices of a tree) says less than the elapsed time.
            let rate = if secs > 0.0 && self.pos as f64 >= secs {
                format!(", {:.0} {}/s", self.pos as f64 / secs, self.unit)
            } else {
                String::new()
            };
            match event {
                "start" => format!("{time} por-prove: {}: started", self.phase),
                "done" => format!(
                    "{time} por-prove: {}: done, {}{of} {} in {secs:.1} s{rate}",
                    self.phase, self.pos, self.unit
                ),
                _ => format!(
                    "{time} por-prove: {}: {}{of} {} after {secs:.1} s{rate}",
                    self.phase, self.pos, self.unit
                ),
            }
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

impl Bar {
    /// Sets the position.
    pub fn set(&self, n: impl Into<u64>) {
        match &self.0 {
            Kind::Hidden => {}
            Kind::Drawn(pb) => pb.set_position(n.into()),
            Kind::Lines(l) => {
                let Ok(mut l) = l.lock() else { return };
                l.pos = n.into();
                if l.last.elapsed() >= l.every {
                    l.last = Instant::now();
                    l.emit("progress");
                }
            }
        }
    }

    /// Ends the phase: removes the bar, or writes the phase's last line.
    pub fn finish(&self) {
        match &self.0 {
            Kind::Hidden => {}
            Kind::Drawn(pb) => pb.finish_and_clear(),
            Kind::Lines(l) => {
                let Ok(mut l) = l.lock() else { return };
                if !l.done {
                    l.done = true;
                    l.emit("done");
                }
            }
        }
    }
}
