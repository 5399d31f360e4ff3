//! A small JSON reader that keeps what hashing needs: the order of an object's keys and the
//! exact text of every number.
//!
//! Exchanges hash the JSON text of balances (OKX, Bitget) or print numbers whose trailing zeros
//! matter (Java's `BigDecimal` keeps its scale: `2020155332.95708230` is not
//! `2020155332.9570823` to Bitget's hash). A general JSON library turns numbers into floats
//! and may reorder keys; this reader does neither. Its input is hostile: nesting is bounded,
//! every error names the line and column, and nothing is evaluated.

use std::fmt;

/// The deepest nesting accepted: the published files nest four levels; a hostile file must
/// not exhaust the stack.
const MAX_DEPTH: usize = 32;

/// One JSON value, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exactly as written (`1.50`, `-3`, `1E-8`).
    Num(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, its keys in the file's order (a repeated key is refused).
    Obj(Vec<(String, Json)>),
}

/// Where and why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was expected.
    pub what: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.what
        )
    }
}

impl Json {
    /// Parses a whole text (one value, surrounded by white space only).
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            i: 0,
        };
        // A byte-order mark is what some Windows tools write first; it is not part of the value.
        if text.starts_with('\u{feff}') {
            p.i = 3;
        }
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("expected the end of the file after the JSON value"));
        }
        Ok(v)
    }

    /// The value under `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    pub fn as_obj(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(kv) => Some(kv),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_arr(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// A small non-negative integer (a number without fraction or exponent, or such a string).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Num(n) | Json::Str(n) => {
                if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    n.parse().ok()
                }
            }
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> JsonError {
        let before = &self.text[..self.i.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        JsonError {
            line,
            column,
            what: what.to_string(),
        }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("expected a value, found the end of the file")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value (object, array, string, number)")),
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Result<Json, JsonError> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(self.err("expected a value (object, array, string, number)"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.i += 1;
        let mut kv: Vec<(String, Json)> = Vec::new();
        // A set, not a scan of the keys so far: a hostile object of a million keys must not
        // cost a million squared comparisons.
        let mut seen = std::collections::HashSet::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Json::Obj(kv));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a key in double quotes"));
            }
            let at = self.i;
            let k = self.string()?;
            if !seen.insert(k.clone()) {
                self.i = at;
                return Err(self.err(&format!("key \"{k}\" appears twice in one object")));
            }
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("expected ':' after the key"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            kv.push((k, v));
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Obj(kv));
                }
                _ => return Err(self.err("expected ',' or '}' in the object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.i += 1;
        let mut a = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Json::Arr(a));
        }
        loop {
            self.ws();
            a.push(self.value(depth + 1)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Arr(a));
                }
                _ => return Err(self.err("expected ',' or ']' in the array")),
            }
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                if self.s[self.i] < 0x20 {
                    return Err(self.err("a control character inside a string"));
                }
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i) {
                None => return Err(self.err("a string is not closed")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => {
                    self.i += 1;
                    let c = match self.s.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.i + 1..].starts_with(b"\\u") {
                                    return Err(self.err("an unpaired surrogate escape"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("an unpaired surrogate escape"));
                                }
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp).ok_or_else(|| self.err("an invalid escape"))?
                            } else {
                                char::from_u32(hi)
                                    .ok_or_else(|| self.err("an unpaired surrogate escape"))?
                            }
                        }
                        _ => return Err(self.err("an invalid escape in a string")),
                    };
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// Reads the four hex digits after `\u`; leaves `i` on the last digit.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .s
            .get(self.i + 1..self.i + 5)
            .ok_or_else(|| self.err("expected four hex digits after \\u"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("expected four hex digits"))?;
        let v = u32::from_str_radix(text, 16)
            .map_err(|_| self.err("expected four hex digits after \\u"))?;
        self.i += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        if digits(self) == 0 {
            return Err(self.err("expected digits in a number"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err("expected digits after the decimal point"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("expected digits in the exponent"));
            }
        }
        Ok(Json::Num(self.text[start..self.i].to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_number_text() {
        let j = Json::parse(r#"{"b": 1.50, "a": "x\u00e9", "c": [1E-8, -0]}"#).unwrap();
        let kv = j.as_obj().unwrap();
        assert_eq!(kv[0], ("b".into(), Json::Num("1.50".into())));
        assert_eq!(kv[1].1, Json::Str("xé".into()));
        assert_eq!(
            kv[2].1,
            Json::Arr(vec![Json::Num("1E-8".into()), Json::Num("-0".into())])
        );
    }

    #[test]
    fn refuses_what_is_not_json_with_a_place() {
        for (t, line) in [
            ("{\"a\":1,\"a\":2}", 1),
            ("{\n\"a\": 01x}", 2),
            ("[1,]", 1),
            ("{\"a\" 1}", 1),
            ("\"\\ud800\"", 1),
            ("", 1),
            ("[1] x", 1),
        ] {
            let e = Json::parse(t).unwrap_err();
            assert_eq!(e.line, line, "{t}: {e}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(Json::parse(&deep).unwrap_err().what.contains("deeply"));
    }
}
