//! What a command tells its user: the checks made, in order, and the verdict.
//!
//! One structure serves both outputs, so the human text and `--json` can never disagree.

use crate::amount::Amount;
use crate::asset::Asset;
use crate::error::Error;
use crate::outcome::{Code, Finding, JSON_SCHEMA_VERSION};
use serde_json::{json, Value};
use std::io::Write;

/// Escapes every character of `s` that [`crate::text::is_invisible`] names (newlines, terminal
/// escape sequences, bidirectional overrides, separators, private-use and unassigned code
/// points) as `\u{..}` or `\n`: strings the exchange signed are printed to a person's terminal,
/// and must not be able to erase, reorder or forge the lines around them.
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    use crate::text::is_invisible;
    if !s.chars().any(is_invisible) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if is_invisible(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Writes one line to stdout, its control characters escaped. A closed pipe (`| head`) is not
/// an error worth a panic: the reader has what it wanted, and the exit code still carries the
/// verdict.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", clean(line));
}

/// Writes JSON (already escaped by the serialiser) to stdout as it is.
pub fn say_json(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Writes to stderr, control characters other than line breaks escaped, ignoring a closed
/// stream.
pub fn say_err(text: &str) {
    let cleaned: Vec<String> = text.split('\n').map(|l| clean(l).into_owned()).collect();
    let _ = writeln!(std::io::stderr().lock(), "{}", cleaned.join("\n"));
}

macro_rules! say {
    ($($t:tt)*) => { say(&format!($($t)*)) };
}

/// The record of one command's checks.
#[derive(Debug, Default)]
pub struct Report {
    /// The first line of the human output: what is being checked.
    pub title: String,
    /// The verdict's first words on a failed check (default "NOT VERIFIED").
    pub fail_word: Option<&'static str>,
    /// The JSON `result` of exit 0 when it is less than a pass (default "pass"): a run of
    /// signatures only (`--offline`) is "signatures_only", so no reader takes it for solvency.
    pub pass_word: Option<&'static str>,
    /// What was checked, in order.
    pub checks: Vec<Check>,
    /// What failed or could not be checked, in order found (each also a failed check).
    pub findings: Vec<Finding>,
    /// Extra facts shown after the checks (balances, totals, tables), as (heading, lines).
    pub sections: Vec<(String, Vec<String>)>,
    /// Machine-readable facts for `--json`.
    pub data: serde_json::Map<String, Value>,
}

/// One check in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether it held.
    pub passed: bool,
    /// Its stable code.
    pub code: Code,
    /// The words.
    pub words: String,
}

impl Report {
    /// Records a passed check under its code.
    pub fn ok(&mut self, code: Code, what: impl Into<String>) {
        self.checks.push(Check {
            passed: true,
            code,
            words: what.into(),
        });
    }

    /// Records a failed check, or a part not checked (a finding of exit 3).
    pub fn fail(&mut self, f: Finding) {
        // What was not checked did not fail: the "Not checked" section names it.
        if f.code.exit_code() == 3 {
            self.findings.push(f);
            return;
        }
        self.checks.push(Check {
            passed: false,
            code: f.code,
            words: f.message.clone(),
        });
        self.findings.push(f);
    }

    /// The error that ends a run with these findings: the first finding's code, the words
    /// `lead` and then every finding.
    pub fn error(&self, lead: &str) -> Error {
        let code = self.findings.first().map_or(Code::Failed, |f| f.code);
        let all = crate::outcome::joined(&self.findings);
        Error::coded(
            code,
            if lead.is_empty() {
                all
            } else {
                format!("{lead}{all}")
            },
        )
    }

    /// Adds a section of lines.
    pub fn section(&mut self, heading: impl Into<String>, lines: Vec<String>) {
        self.sections.push((heading.into(), lines));
    }

    /// Sets a JSON field.
    pub fn set(&mut self, key: &str, v: Value) {
        self.data.insert(key.to_string(), v);
    }

    /// Prints the report and the verdict; returns the exit code.
    pub fn finish(mut self, outcome: std::result::Result<String, Error>, as_json: bool) -> i32 {
        let code = outcome.as_ref().map(|_| 0).unwrap_or_else(Error::exit_code);
        let signatures_only = self.pass_word == Some("signatures_only");
        let outcome_code = match &outcome {
            Ok(_) if signatures_only => Code::OkSignaturesOnly,
            Ok(_) => Code::Ok,
            Err(e) => e.code(),
        };
        // An error that stopped the run is a finding too, unless it is the findings' own sum.
        if let Err(e) = &outcome {
            if self.findings.is_empty() {
                self.findings.push(e.finding());
            }
        }
        if as_json {
            self.data
                .insert("schema_version".into(), json!(JSON_SCHEMA_VERSION));
            self.data.insert(
                "result".into(),
                json!(match code {
                    0 => self.pass_word.unwrap_or("pass"),
                    1 => "fail",
                    3 => "unverified",
                    _ => "error",
                }),
            );
            self.data.insert("exit_code".into(), json!(code));
            self.data
                .insert("code".into(), json!(outcome_code.as_str()));
            self.data
                .insert("evidence".into(), json!(outcome_code.evidence().as_str()));
            self.data
                .insert("next_step".into(), json!(outcome_code.next_step()));
            let checks: Vec<Value> = self
                .checks
                .iter()
                .map(|c| json!({"passed": c.passed, "code": c.code.as_str(), "check": c.words}))
                .collect();
            self.data.insert("checks".into(), Value::Array(checks));
            let findings: Vec<Value> = self.findings.iter().map(finding_json).collect();
            self.data.insert("findings".into(), Value::Array(findings));
            match &outcome {
                Ok(summary) => self.data.insert("summary".into(), json!(summary)),
                Err(e) => self.data.insert("error".into(), json!(e.message())),
            };
            say_json(&format!("{:#}", Value::Object(self.data)));
            return code;
        }
        if !self.title.is_empty() {
            say!("{}", self.title);
        }
        for c in &self.checks {
            say!("  [{}] {}", if c.passed { "ok" } else { "FAIL" }, c.words);
        }
        for (heading, lines) in &self.sections {
            say!("{heading}");
            for l in lines {
                say!("  {l}");
            }
        }
        match outcome {
            Ok(summary) => say!("{summary}"),
            Err(e) if e.exit_code() == 3 => {
                say!("UNVERIFIED: {}", e.message());
                for l in advice(&self.findings) {
                    say!("{l}");
                }
            }
            Err(e) if e.exit_code() == 1 => {
                say!(
                    "{}: {}",
                    self.fail_word.unwrap_or("NOT VERIFIED"),
                    e.message()
                );
                for l in advice(&self.findings) {
                    say!("{l}");
                }
            }
            Err(e) => {
                let mut text = format!("por-verify: error: {}", e.message());
                // A generic input error's message already says what to fix.
                if e.code() != Code::InputInvalid {
                    for l in advice(&self.findings) {
                        text.push('\n');
                        text.push_str(&l);
                    }
                }
                say_err(&text);
            }
        }
        code
    }
}

/// A finding for `--json`, with its code's table entries.
pub fn finding_json(f: &Finding) -> Value {
    let mut v = json!({
        "code": f.code.as_str(),
        "message": f.message,
        "evidence": f.code.evidence().as_str(),
        "meaning": f.code.meaning(),
        "next_step": f.code.next_step(),
    });
    if let Some(k) = &f.kind {
        v["kind"] = json!(k);
    }
    v
}

/// What the findings mean for the customer and what to do next: one block per distinct code,
/// in the order found, from the table of spec/outcomes.md.
pub fn advice(findings: &[Finding]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for f in findings {
        if seen.contains(&f.code) {
            continue;
        }
        seen.push(f.code);
        out.push(format!(
            "[{}] What this means: {}.",
            f.code,
            f.code.meaning()
        ));
        if f.code.exit_code() == 1 {
            out.push(format!(
                "  Evidence against the exchange: {}.",
                f.code.evidence().words()
            ));
        }
        out.push(format!("  What to do: {}.", f.code.next_step()));
    }
    out
}

/// A table of amounts per asset, aligned for people.
pub fn amount_lines(assets: &[Asset], amounts: &[Amount]) -> Vec<String> {
    assets
        .iter()
        .zip(amounts)
        .map(|(a, v)| format!("{:<8} {:>42}", a.symbol, v.to_decimal(a.decimals)))
        .collect()
}

/// The same amounts for JSON.
pub fn amount_json(assets: &[Asset], amounts: &[Amount]) -> Value {
    Value::Array(
        assets
            .iter()
            .zip(amounts)
            .map(|(a, v)| json!({"symbol": a.symbol, "amount": v.to_decimal(a.decimals), "units": v.to_string()}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("plain"), "plain");
        assert_eq!(clean("a\r\u{1b}[2Kb\nc"), "a\\r\\u{1b}[2Kb\\nc");
        assert!(!clean("x\u{1b}[8m").contains('\u{1b}'));
        // Bidirectional controls, separators, private use and unassigned code points.
        assert_eq!(
            clean("a\u{202e}b\u{2066}c\u{2028}d\u{2029}e\u{e000}f\u{10ffff}"),
            "a\\u{202e}b\\u{2066}c\\u{2028}d\\u{2029}e\\u{e000}f\\u{10ffff}"
        );
        // Letters of every script stay as they are.
        assert_eq!(clean("取引所 Börse"), "取引所 Börse");
    }
}
