//! Errors with the outcomes every command distinguishes (the exit codes of spec/README.md).
//!
//! A verifier must tell "your input is unreadable" apart from "your input is readable and
//! wrong": the first is a usage problem (exit 2), the second is evidence against the exchange
//! (exit 1). A third outcome is "not everything needed could be checked" (exit 3): never a
//! pass, never an accusation. Every error carries a message that names the file, the line or field, and what was
//! expected, because the person reading it is often a customer, not a developer.

use crate::outcome::{Code, Finding};
use std::fmt;

/// Which of the two outcomes an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed, missing or unusable: exit code 2.
    BadInput,
    /// The input is well-formed but a check failed: exit code 1.
    Failed,
    /// Something the verdict needs could not be checked (no node for a chain, a snapshot not
    /// yet settled, assets held off chain): exit code 3.
    Unverified,
}

/// An error with its kind and a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    code: Code,
    message: String,
}

impl Error {
    /// A malformed-input error (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::BadInput,
            code: Code::InputInvalid,
            message: message.into(),
        }
    }

    /// A failed-check error (exit code 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Failed,
            code: Code::Failed,
            message: message.into(),
        }
    }

    /// A could-not-check outcome (exit code 3).
    pub fn unverified(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Unverified,
            code: Code::NotChecked,
            message: message.into(),
        }
    }

    /// An error with a stable code, its kind (exit status) the code's.
    pub fn coded(code: Code, message: impl Into<String>) -> Self {
        let kind = match code.exit_code() {
            1 => ErrorKind::Failed,
            3 => ErrorKind::Unverified,
            // A code of exit 0 is not an error; should one be given, refusing is safer than
            // passing.
            _ => ErrorKind::BadInput,
        };
        Error {
            kind,
            code,
            message: message.into(),
        }
    }

    /// The same error under a more precise code (its kind follows the code).
    pub fn with_code(self, code: Code) -> Self {
        Error::coded(code, self.message)
    }

    /// The stable code (spec/outcomes.md).
    pub fn code(&self) -> Code {
        self.code
    }

    /// The error as a finding.
    pub fn finding(&self) -> Finding {
        Finding::new(self.code, self.message.clone())
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit code that this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Failed => 1,
            ErrorKind::BadInput => 2,
            ErrorKind::Unverified => 3,
        }
    }

    /// Prefixes the message with where the error happened, keeping the kind.
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Error {
            kind: self.kind,
            code: self.code,
            message: format!("{prefix}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(feature = "fs")]
/// Reads a whole file (standard input for `-`, up to 1 GiB), naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    if crate::input::is_stdin(path) {
        return crate::input::read_bounded(path, 1 << 30, crate::input::FileKind::Other("file"));
    }
    std::fs::read(path).map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))
}
