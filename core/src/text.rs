//! Validation of the short text fields of the signed formats.

use crate::error::{Error, Result};

/// Checks an exchange name: 1 to 128 characters, no control characters.
pub fn validate_exchange(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(Error::input(format!(
            "exchange name {name:?}: expected 1 to 128 characters without control characters"
        )));
    }
    Ok(())
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
    }
}
