//! Reading the files a user is given, as hostile input: bounded before they are read, and
//! named in plain words when they are not what was expected (a web page, a truncated download,
//! an attestation given as a proof).

use crate::error::{Error, Result};

/// The kinds of file the verifier reads, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An attestation (`por-attestation-v2`).
    Attestation,
    /// An inclusion proof (`por-proof-v1`).
    Proof,
    /// A reserves statement (`por-reserves-v2`).
    Reserves,
    /// Anything else (registries, token lists).
    Other(&'static str),
}

impl FileKind {
    /// The name used in messages.
    pub fn name(&self) -> &'static str {
        match self {
            FileKind::Attestation => "attestation",
            FileKind::Proof => "inclusion proof",
            FileKind::Reserves => "reserves statement",
            FileKind::Other(n) => n,
        }
    }

    /// The name with its article: "an attestation", "a reserves statement".
    pub fn a(&self) -> String {
        let n = self.name();
        let vowel = n.starts_with(['a', 'e', 'i', 'o', 'u']);
        format!("{} {n}", if vowel { "an" } else { "a" })
    }

    fn flag(&self) -> &'static str {
        match self {
            FileKind::Attestation => "--attestation",
            FileKind::Proof => "--proof",
            FileKind::Reserves => "--reserves",
            FileKind::Other(_) => "",
        }
    }

    fn of_format(format: &str) -> Option<FileKind> {
        Some(match format {
            f if f.starts_with("por-attestation-") => FileKind::Attestation,
            f if f.starts_with("por-proof-") => FileKind::Proof,
            f if f.starts_with("por-reserves-") => FileKind::Reserves,
            _ => return None,
        })
    }
}

#[cfg(feature = "fs")]
/// Whether `path` means standard input: the one argument `-`, as in most Unix tools.
pub fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(feature = "fs")]
/// Standard input can be read once: a second `-` in one command would read nothing and report
/// the second file as empty, so it is refused by name instead.
static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(feature = "fs")]
/// Reads at most `limit` bytes of `path`, or of standard input when `path` is `-`; a larger
/// file (or an endless one such as `/dev/zero`) is refused after reading `limit + 1` bytes,
/// never read whole.
pub fn read_bounded(path: &std::path::Path, limit: u64, kind: FileKind) -> Result<Vec<u8>> {
    use std::io::Read;
    let (reader, name): (Box<dyn Read>, String) = if is_stdin(path) {
        if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::input(format!(
                "- ({}): standard input was already read for another file; give this one as a path",
                kind.name()
            )));
        }
        (Box::new(std::io::stdin()), "standard input".into())
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
        (Box::new(f), path.display().to_string())
    };
    let mut buf = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::input(format!("{name}: cannot read: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(Error::input(format!(
            "{name}: larger than {limit} bytes: not {} this tool reads",
            kind.a()
        )));
    }
    Ok(buf)
}

/// Explains why `bytes` did not parse as a `kind`, in words a customer understands.
pub fn explain_bad_json(
    name: &str,
    bytes: &[u8],
    kind: FileKind,
    err: &serde_json::Error,
) -> Error {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        return Error::input(format!("{name}: the file is empty, not {}", kind.a()));
    }
    if t.starts_with('<') {
        return Error::input(format!(
            "{name}: this is an HTML or XML page, not {}: the download saved a web page (a login or error \
             page?) instead of the file",
            kind.a()
        ));
    }
    if err.is_eof() {
        return Error::input(format!(
            "{name}: the file ends before its JSON is complete: a truncated or interrupted download? \
             ({} bytes read)",
            bytes.len()
        ));
    }
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(found) = v
            .get("format")
            .and_then(|f| f.as_str())
            .and_then(FileKind::of_format)
        {
            if found != kind {
                // Without `fs` this crate runs in the browser page, which has fields, not flags.
                let hint = match kind {
                    FileKind::Other(_) => String::new(),
                    _ if cfg!(feature = "fs") => format!(": give it as {}", found.flag()),
                    _ => format!(": choose it in the {} field", found.name()),
                };
                return Error::input(format!(
                    "{name}: this is {}, not {}{hint}",
                    found.a(),
                    kind.a()
                ));
            }
        }
    }
    Error::input(format!(
        "{name}: not {} this tool can read: {err}",
        kind.a()
    ))
}

/// Parses JSON of `kind`, with [`explain_bad_json`]'s messages on failure.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    kind: FileKind,
) -> Result<T> {
    // A byte-order mark is harmless; editors on some systems add one.
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    serde_json::from_slice(body).map_err(|e| explain_bad_json(name, bytes, kind, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(bytes: &[u8], kind: FileKind) -> String {
        parse_json::<serde_json::Map<String, serde_json::Value>>("f.json", bytes, kind)
            .map(|_| String::new())
            .unwrap_or_else(|e| e.message().to_string())
    }

    #[test]
    fn messages_name_what_the_file_is() {
        assert!(why(b"<!DOCTYPE html><html>", FileKind::Proof).contains("HTML"));
        assert!(why(b"{\"format\": \"por-pr", FileKind::Proof).contains("truncated"));
        assert!(why(b"", FileKind::Proof).contains("empty"));
        assert!(
            why(b"[1,2]", FileKind::Proof).contains("not an inclusion proof this tool can read")
        );
        let att = br#"{"format": "por-attestation-v2", "x": 1"#;
        assert!(why(att, FileKind::Proof).contains("truncated"));
        // A whole attestation given as a proof: parse_json::<Map> accepts it, the typed parser names it.
        let e = explain_bad_json(
            "f.json",
            br#"{"format": "por-attestation-v2"}"#,
            FileKind::Proof,
            &serde_json::from_str::<u8>("x").unwrap_err(),
        );
        let hint = if cfg!(feature = "fs") {
            "give it as --attestation"
        } else {
            "choose it in the attestation field"
        };
        assert!(
            e.message().contains(&format!(
                "this is an attestation, not an inclusion proof: {hint}"
            )),
            "{}",
            e.message()
        );
    }

    #[cfg(feature = "fs")]
    #[test]
    fn endless_files_are_refused_without_reading_them_whole() {
        let zero = std::path::Path::new("/dev/zero");
        if zero.exists() {
            let e = read_bounded(zero, 1024, FileKind::Proof).unwrap_err();
            assert!(e.message().contains("larger than 1024 bytes"));
        }
    }
}
