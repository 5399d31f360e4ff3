//! Signed decimal numbers as exchanges write them: a 128-bit integer and a scale.
//!
//! The scale is kept because it is part of what some exchanges hash: Java's `BigDecimal`
//! prints `0.10` with its two places, and the sum of two numbers carries the larger scale.
//! Signs are accepted on reading, because published files do carry negative balances (Bitget's
//! sample has negative sums), and a verifier must be able to say so rather than refuse the file
//! unread. Every operation is checked: an overflow is an error, never a wrapped value.

use std::cmp::Ordering;
use std::fmt;

/// The largest scale read: 30 places is more than any asset has (Ethereum's 18).
pub const MAX_SCALE: u32 = 30;

/// A decimal number: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Why a text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    /// Not digits with at most one point (and an optional sign and exponent).
    NotANumber,
    /// More places or digits than 128 bits hold.
    TooLarge,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::NotANumber => f.write_str("expected a decimal number such as 12.345"),
            DecimalError::TooLarge => f.write_str("a number too large or too precise to check"),
        }
    }
}

impl Decimal {
    /// Zero, with no places.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// `mantissa × 10^-scale`.
    pub fn new(mantissa: i128, scale: u32) -> Result<Decimal, DecimalError> {
        if scale > MAX_SCALE {
            return Err(DecimalError::TooLarge);
        }
        Ok(Decimal { mantissa, scale })
    }

    /// Reads `-12.3400`, `7`, `1E-8` or `1.5e3`; the scale is the number of places written
    /// (less the exponent), as Java's `BigDecimal` reads it.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        let (neg, body) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (num, exp) = match body.find(['e', 'E']) {
            Some(p) => {
                let e = &body[p + 1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty()
                    || digits.len() > 4
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(DecimalError::NotANumber);
                }
                let v: i64 = e.parse().map_err(|_| DecimalError::NotANumber)?;
                (&body[..p], v)
            }
            None => (body, 0),
        };
        let (int, frac) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (num.contains('.') && (int.is_empty() || frac.is_empty()))
        {
            return Err(DecimalError::NotANumber);
        }
        let mut m: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or(DecimalError::TooLarge)?;
        }
        let mut scale = frac.len() as i64 - exp;
        while scale < 0 {
            m = m.checked_mul(10).ok_or(DecimalError::TooLarge)?;
            scale += 1;
        }
        if scale > i64::from(MAX_SCALE) {
            return Err(DecimalError::TooLarge);
        }
        Ok(Decimal {
            mantissa: if neg { -m } else { m },
            scale: scale as u32,
        })
    }

    /// The places kept.
    pub fn scale(self) -> u32 {
        self.scale
    }

    /// Below zero.
    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    /// Zero (at any scale).
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// The same value at a larger scale.
    pub fn rescale(self, scale: u32) -> Result<Decimal, DecimalError> {
        if scale < self.scale || scale > MAX_SCALE {
            return Err(DecimalError::TooLarge);
        }
        let f = 10i128
            .checked_pow(scale - self.scale)
            .ok_or(DecimalError::TooLarge)?;
        Ok(Decimal {
            mantissa: self.mantissa.checked_mul(f).ok_or(DecimalError::TooLarge)?,
            scale,
        })
    }

    /// The value cut (towards zero) to `places`, or kept when it has no more: what "rounded
    /// down to 8 places" does to a non-negative balance.
    pub fn truncate(self, places: u32) -> Decimal {
        if self.scale <= places {
            return self;
        }
        // scale ≤ MAX_SCALE, so the power fits.
        let f = 10i128.pow(self.scale - places);
        Decimal {
            mantissa: self.mantissa / f,
            scale: places,
        }
    }

    /// The sum, at the larger of the two scales (as `BigDecimal.add`).
    pub fn checked_add(self, other: Decimal) -> Result<Decimal, DecimalError> {
        let s = self.scale.max(other.scale);
        let a = self.rescale(s)?;
        let b = other.rescale(s)?;
        Ok(Decimal {
            mantissa: a
                .mantissa
                .checked_add(b.mantissa)
                .ok_or(DecimalError::TooLarge)?,
            scale: s,
        })
    }

    /// The integer `mantissa` when the value is written at `scale` places exactly (base units:
    /// satoshi for 8 places), if it is a whole number of them.
    pub fn units(self, scale: u32) -> Result<i128, DecimalError> {
        if self.scale > scale {
            let d = self.truncate(scale);
            if d.rescale(self.scale)? != self {
                return Err(DecimalError::TooLarge);
            }
            return Ok(d.mantissa);
        }
        Ok(self.rescale(scale)?.mantissa)
    }

    /// The value with its scale, as Java's `BigDecimal.toPlainString` writes it: `0.10`, `-3`.
    pub fn plain(self) -> String {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if self.scale == 0 {
            return format!("{sign}{digits}");
        }
        let s = self.scale as usize;
        let padded = if digits.len() <= s {
            format!("{}{digits}", "0".repeat(s + 1 - digits.len()))
        } else {
            digits
        };
        let (i, f) = padded.split_at(padded.len() - s);
        format!("{sign}{i}.{f}")
    }

    /// As Java's `BigDecimal.toString()` writes it: plain with its scale, unless the scale is
    /// negative or the adjusted exponent is below -6, then `1E-8`, `1.5E-7`, `0E-8`.
    pub fn java_string(self) -> String {
        let digits = self.mantissa.unsigned_abs().to_string();
        let adjusted = digits.len() as i64 - 1 - i64::from(self.scale);
        if adjusted >= -6 {
            return self.plain();
        }
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{sign}{first}{frac}E{adjusted}")
    }

    /// The value with no trailing zeros after the point (`0.1`, `3`): how Go's decimal and
    /// OKX's files print it.
    pub fn trimmed(self) -> String {
        let p = self.plain();
        if !p.contains('.') {
            return p;
        }
        let t = p.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    }

    /// Compares values: `0.10` and `0.1` are equal in value though not as written, so this is
    /// not `Ord` (equality, as hashing sees it, compares the scale too).
    pub fn cmp_value(self, other: Decimal) -> Ordering {
        // Whole parts first, then the fractions at 30 places: both fit in 128 bits whatever
        // the two scales, so the comparison is exact (rescaling both to one scale may not fit).
        let split = |d: Decimal| {
            let f = 10i128.pow(d.scale);
            let frac = d.mantissa % f;
            (d.mantissa / f, frac * 10i128.pow(MAX_SCALE - d.scale))
        };
        split(self).cmp(&split(other))
    }

    /// The value at exactly `places` places, cut towards zero (`1.50000000`).
    pub fn fixed(self, places: u32) -> Result<String, DecimalError> {
        let t = self.truncate(places);
        Ok(t.rescale(places)?.plain())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.trimmed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_as_exchanges_do() {
        let d = Decimal::parse("2020155332.95708230").unwrap();
        assert_eq!(d.scale(), 8);
        assert_eq!(d.plain(), "2020155332.95708230");
        assert_eq!(d.trimmed(), "2020155332.9570823");
        assert_eq!(Decimal::parse("1E-8").unwrap().plain(), "0.00000001");
        assert_eq!(Decimal::parse("1.5e3").unwrap().plain(), "1500");
        assert_eq!(Decimal::parse("0.00000001").unwrap().java_string(), "1E-8");
        assert_eq!(Decimal::parse("0.00000000").unwrap().java_string(), "0E-8");
        assert_eq!(
            Decimal::parse("0.00000015").unwrap().java_string(),
            "1.5E-7"
        );
        assert_eq!(
            Decimal::parse("0.000001").unwrap().java_string(),
            "0.000001"
        );
        assert_eq!(
            Decimal::parse("92889184629.59267820")
                .unwrap()
                .java_string(),
            "92889184629.59267820"
        );
        assert_eq!(Decimal::parse("-0.5").unwrap().plain(), "-0.5");
        assert_eq!(Decimal::parse("0").unwrap().trimmed(), "0");
        assert_eq!(Decimal::parse("0.000").unwrap().trimmed(), "0");
        assert_eq!(
            Decimal::parse("1.123456789").unwrap().fixed(8).unwrap(),
            "1.12345678"
        );
        for bad in [
            "", ".", "1.", ".5", "1..2", "1,5", "0x10", "1e", "--1", " 1", "1e99999",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Decimal::parse("99999999999999999999999999999999999999999").unwrap_err(),
            DecimalError::TooLarge
        );
    }

    #[test]
    fn sums_keep_the_larger_scale_and_never_wrap() {
        let a = Decimal::parse("0.1").unwrap();
        let b = Decimal::parse("0.25").unwrap();
        assert_eq!(a.checked_add(b).unwrap().plain(), "0.35");
        let big = Decimal::new(i128::MAX, 0).unwrap();
        assert!(big.checked_add(Decimal::parse("1").unwrap()).is_err());
        assert_eq!(
            Decimal::parse("-1").unwrap().cmp_value(Decimal::ZERO),
            Ordering::Less
        );
        assert_eq!(
            Decimal::parse("0.10")
                .unwrap()
                .cmp_value(Decimal::parse("0.1").unwrap()),
            Ordering::Equal
        );
    }
}
