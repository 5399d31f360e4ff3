//! Validation of the short text fields of the signed formats.

use crate::error::{Error, Result};

/// At most the first 48 characters of `s`, with `…` when cut: how a message names an
/// input that may be megabytes long.
pub fn excerpt(s: &str) -> String {
    match s.char_indices().nth(48) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Checks an exchange name: 1 to 128 characters, in NFC, without control, format, line- or
/// paragraph-separator characters (Unicode Cc, Cf, Zl, Zp). A name is what a customer's store
/// is keyed by and what a customer reads: an invisible character (`"Ex\u{200b}"`) or another
/// normal form of the same letters would be a second exchange that looks like the first.
pub fn validate_exchange(name: &str) -> Result<()> {
    use unicode_normalization::UnicodeNormalization;
    let bad = |why: &str| {
        Err(Error::input(format!(
            "exchange name {name:?}: {why}; expected 1 to 128 characters in Unicode NFC without control, format or \
             separator characters"
        )))
    };
    if name.is_empty() || name.chars().count() > 128 {
        return bad("wrong length");
    }
    if let Some(c) = name.chars().find(|&c| is_control_or_format(c)) {
        return bad(&format!(
            "it holds the invisible character U+{:04X}",
            c as u32
        ));
    }
    if !name.chars().eq(name.nfc()) {
        return bad("it is not in Unicode normal form C");
    }
    Ok(())
}

/// Whether `c` must never reach a terminal as it is: Unicode categories Cc (controls), Cf
/// (format: bidirectional overrides such as U+202E and U+2066, zero-width characters), Zl and Zp
/// (line and paragraph separators), Co (private use) and Cn (unassigned). A string the exchange
/// signed could otherwise reorder, hide or break the lines a person reads around it.
pub fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    is_control_or_format(c)
        || matches!(
            c.general_category(),
            GeneralCategory::PrivateUse | GeneralCategory::Unassigned
        )
}

/// Cc, Cf, Zl and Zp: refused in a name outright ([`validate_exchange`]) and escaped on a
/// terminal ([`is_invisible`]).
fn is_control_or_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Checks a period `YYYY-MM`.
pub fn validate_period(p: &str) -> Result<()> {
    let b = p.as_bytes();
    let ok = b.len() == 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().all(u8::is_ascii_digit)
        && matches!(
            &p[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        );
    if !ok {
        return Err(Error::input(format!(
            "period {p:?}: expected YYYY-MM, e.g. 2026-11"
        )));
    }
    Ok(())
}

/// Checks a UTC timestamp `YYYY-MM-DDTHH:MM:SSZ`.
pub fn validate_timestamp(t: &str) -> Result<()> {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let num = |r: std::ops::Range<usize>| t[r].parse::<u32>().unwrap_or(99);
    let ok = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z'
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 61;
    if !ok {
        return Err(Error::input(format!(
            "timestamp {t:?}: expected UTC YYYY-MM-DDTHH:MM:SSZ"
        )));
    }
    Ok(())
}

/// Parses a size: bytes, or a number followed by K, M or G (powers of 1024).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let (num, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a size such as 512M or 2G, found {text:?}"))?;
    n.checked_mul(1 << shift)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("expected a size above 0 and below 2^64, found {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(validate_period("2026-11").is_ok());
        assert!(validate_period("2026-13").is_err());
        assert!(validate_period("26-11").is_err());
        assert!(validate_timestamp("2026-11-30T23:59:59Z").is_ok());
        assert!(validate_timestamp("2026-11-30 23:59:59").is_err());
        assert!(validate_exchange("Ex").is_ok());
        assert!(validate_exchange("a\nb").is_err());
        assert!(validate_exchange("Hist Exchange\u{200b}").is_err());
        assert!(validate_exchange("Ex\u{2028}").is_err());
        assert!(validate_exchange("Ex\u{2029}").is_err());
        assert!(validate_exchange("Ex\u{202e}").is_err());
        // "é" as e + combining acute is not NFC; the precomposed letter is.
        assert!(validate_exchange("Caf\u{65}\u{301}").is_err());
        assert!(validate_exchange("Caf\u{e9}").is_ok());
    }

    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("2K"), Ok(2048));
        assert_eq!(super::parse_size("1G"), Ok(1 << 30));
        assert_eq!(super::parse_size("512"), Ok(512));
        assert!(super::parse_size("0").is_err());
        assert!(super::parse_size("1T").is_err());
        assert!(super::parse_size("99999999999999G").is_err());
    }
}
