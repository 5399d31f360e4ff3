//! The liabilities export: `user_id,SYMBOL:DECIMALS,...`, one row per customer.
//!
//! Both the prover (to build the tree) and the auditor (to check the tree against the books)
//! read this format, so it lives here, once. Rows are streamed: an export of millions of
//! customers is never held in memory as text.
//!
//! The format is deliberately narrower than general CSV: no quoting, because user ids and
//! amounts never need it, and every byte of a row must mean exactly one thing.

use crate::amount::{Amount, AmountError};
use crate::asset::{validate_assets, Asset};
use crate::error::{Error, Result};
use std::io::BufRead;

/// Longest user id accepted, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;

/// Checks a user id: 1 to 256 bytes of UTF-8, no control characters, no comma or quote, no
/// surrounding spaces (so that the same customer cannot appear under two spellings).
pub fn validate_user_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("expected a user id, found an empty field".into());
    }
    if id.len() > MAX_USER_ID_LEN {
        return Err(format!(
            "expected a user id of at most {MAX_USER_ID_LEN} bytes, found {}",
            id.len()
        ));
    }
    if id.chars().any(|c| c.is_control() || c == ',' || c == '"') {
        return Err(format!(
            "user id {id:?} contains a control character, a comma or a quote"
        ));
    }
    if id.trim() != id {
        return Err(format!("user id {id:?} has leading or trailing spaces"));
    }
    Ok(())
}

/// One customer row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number in the file.
    pub line: u64,
    /// The customer's id.
    pub user_id: String,
    /// Balances in base units, in header order.
    pub balances: Vec<Amount>,
    /// Whether a negative balance was clamped to zero in this row.
    pub clamped: bool,
}

/// How to treat negative balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Negatives {
    /// A negative balance is an error (the default).
    #[default]
    Reject,
    /// A negative balance counts as zero; the row is marked as clamped.
    Clamp,
}

/// A streaming reader of a liabilities file.
pub struct LiabilitiesReader<R> {
    name: String,
    input: R,
    assets: Vec<Asset>,
    line: u64,
    buf: String,
    negatives: Negatives,
    /// How many extra leading columns (before the assets) each row has; the leaves file of the
    /// private state reuses this reader with `position,user_id,salt` in front.
    prefix: Vec<String>,
}

impl<R: BufRead> LiabilitiesReader<R> {
    /// Reads and checks the header. `name` is used in every error message.
    pub fn new(name: &str, input: R, negatives: Negatives) -> Result<Self> {
        Self::with_prefix(name, input, negatives, &[])
    }

    /// Like `new`, for files whose rows start with `prefix` columns before `user_id`.
    pub fn with_prefix(
        name: &str,
        mut input: R,
        negatives: Negatives,
        prefix: &[&str],
    ) -> Result<Self> {
        let mut buf = String::new();
        let n =
            read_line(&mut input, &mut buf).map_err(|e| Error::input(format!("{name}: {e}")))?;
        if n == 0 {
            return Err(Error::input(format!(
                "{name}: the file is empty; expected a header line"
            )));
        }
        let header = buf.strip_prefix('\u{feff}').unwrap_or(&buf).to_string();
        let cols: Vec<&str> = header.split(',').collect();
        let expect_head: Vec<&str> = prefix.iter().copied().chain(["user_id"]).collect();
        if cols.len() < expect_head.len() + 1 || cols[..expect_head.len()] != expect_head[..] {
            return Err(Error::input(format!(
                "{name} line 1: expected the header {},SYMBOL:DECIMALS,... (e.g. {},BTC:8,ETH:18)",
                expect_head.join(","),
                expect_head.join(",")
            )));
        }
        let mut assets = Vec::new();
        for (i, col) in cols[expect_head.len()..].iter().enumerate() {
            let asset = Asset::parse_column(col).map_err(|e| {
                e.context(format!(
                    "{name} line 1, column {}",
                    i + expect_head.len() + 1
                ))
            })?;
            if assets.iter().any(|a: &Asset| a.symbol == asset.symbol) {
                return Err(Error::input(format!(
                    "{name} line 1: asset {} appears twice in the header",
                    asset.symbol
                )));
            }
            assets.push(asset);
        }
        validate_assets(&assets).map_err(|e| e.context(format!("{name} line 1")))?;
        Ok(LiabilitiesReader {
            name: name.to_string(),
            input,
            assets,
            line: 1,
            buf,
            negatives,
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The assets of the header, in order.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// Reads the next row; `Ok(None)` at the end. Prefix columns are returned in `prefix_out`.
    pub fn next_row_with_prefix(&mut self, prefix_out: &mut Vec<String>) -> Result<Option<Row>> {
        loop {
            let n = read_line(&mut self.input, &mut self.buf)
                .map_err(|e| Error::input(format!("{} line {}: {e}", self.name, self.line + 1)))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.is_empty() {
                // Blank lines carry no customer; tolerating them keeps hand-edited files usable.
                continue;
            }
            return self.parse_current(prefix_out).map(Some);
        }
    }

    /// Reads the next row of a file without prefix columns.
    pub fn next_row(&mut self) -> Result<Option<Row>> {
        let mut unused = Vec::new();
        self.next_row_with_prefix(&mut unused)
    }

    fn parse_current(&self, prefix_out: &mut Vec<String>) -> Result<Row> {
        let at = |field: &str| format!("{} line {}, field {field}", self.name, self.line);
        let fields: Vec<&str> = self.buf.split(',').collect();
        let expected = self.prefix.len() + 1 + self.assets.len();
        if fields.len() != expected {
            return Err(Error::input(format!(
                "{} line {}: expected {expected} columns, found {}",
                self.name,
                self.line,
                fields.len()
            )));
        }
        prefix_out.clear();
        prefix_out.extend(fields[..self.prefix.len()].iter().map(|s| s.to_string()));
        let user_id = fields[self.prefix.len()];
        validate_user_id(user_id).map_err(|m| Error::input(format!("{}: {m}", at("user_id"))))?;
        let mut balances = Vec::with_capacity(self.assets.len());
        let mut clamped = false;
        for (asset, text) in self.assets.iter().zip(&fields[self.prefix.len() + 1..]) {
            let amount = match Amount::parse_decimal(text, asset.decimals) {
                Ok(a) => a,
                Err(AmountError::Negative) if self.negatives == Negatives::Clamp => {
                    clamped = true;
                    Amount::ZERO
                }
                Err(e) => {
                    return Err(Error::input(format!(
                        "{} ({}): {e}, found {text:?}",
                        at(&asset.symbol),
                        user_id
                    )))
                }
            };
            balances.push(amount);
        }
        Ok(Row {
            line: self.line,
            user_id: user_id.to_string(),
            balances,
            clamped,
        })
    }

    /// The number of the last line read (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.input
    }

    /// The file name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Reads one line without its `\n` or `\r\n`; returns the bytes consumed.
fn read_line<R: BufRead>(input: &mut R, buf: &mut String) -> std::result::Result<usize, String> {
    buf.clear();
    let n = input.read_line(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            "the line is not valid UTF-8".to_string()
        } else {
            format!("read error: {e}")
        }
    })?;
    if buf.ends_with('\n') {
        buf.pop();
        if buf.ends_with('\r') {
            buf.pop();
        }
    }
    Ok(n)
}

/// Running per-asset totals with overflow reported at the row that caused it.
pub struct Totals {
    sums: Vec<Amount>,
}

impl Totals {
    /// Zero totals for `n` assets.
    pub fn new(n: usize) -> Self {
        Totals {
            sums: vec![Amount::ZERO; n],
        }
    }

    /// Adds a row, naming the file, line and asset if a total would overflow.
    pub fn add(&mut self, name: &str, row: &Row, assets: &[Asset]) -> Result<()> {
        crate::amount::add_sums(&mut self.sums, &row.balances).map_err(|i| {
            Error::input(format!(
                "{name} line {}, field {}: the total of {} overflows 128 bits of base units",
                row.line, assets[i].symbol, assets[i].symbol
            ))
        })
    }

    /// The totals.
    pub fn sums(&self) -> &[Amount] {
        &self.sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str, neg: Negatives) -> Result<Vec<Row>> {
        let mut r = LiabilitiesReader::new("t.csv", text.as_bytes(), neg)?;
        let mut rows = vec![];
        while let Some(row) = r.next_row()? {
            rows.push(row);
        }
        Ok(rows)
    }

    #[test]
    fn reads_rows() {
        let rows = read_all(
            "\u{feff}user_id,BTC:8,ETH:18\r\nalice,1.5,0\r\n\nbob,0,2\n",
            Negatives::Reject,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].balances, vec![Amount(150_000_000), Amount(0)]);
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = read_all("user_id,BTC:8\nalice,1\nbob,abc\n", Negatives::Reject).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("t.csv line 3, field BTC"), "{e}");
        let e = read_all("user_id,BTC:8\nalice,1,2\n", Negatives::Reject).unwrap_err();
        assert!(
            e.message().contains("line 2: expected 2 columns, found 3"),
            "{e}"
        );
        let e = read_all("user_id,BTC:8,BTC:8\n", Negatives::Reject).unwrap_err();
        assert!(e.message().contains("appears twice"), "{e}");
        let e = read_all("", Negatives::Reject).unwrap_err();
        assert!(e.message().contains("empty"), "{e}");
        let e = read_all("user_id,BTC:8\n,1\n", Negatives::Reject).unwrap_err();
        assert!(e.message().contains("field user_id"), "{e}");
        let e = read_all("user_id,BTC:x\n", Negatives::Reject).unwrap_err();
        assert!(e.message().contains("decimals"), "{e}");
    }

    #[test]
    fn negatives_clamp_only_when_asked() {
        assert!(read_all("user_id,BTC:8\na,-1\n", Negatives::Reject).is_err());
        let rows = read_all("user_id,BTC:8\na,-1\n", Negatives::Clamp).unwrap();
        assert!(rows[0].clamped);
        assert_eq!(rows[0].balances, vec![Amount(0)]);
    }
}
