//! Amounts: unsigned 128-bit integers in an asset's smallest unit.
//!
//! Decimal text is the only way amounts enter or leave the toolkit, so parsing is strict (no
//! signs, exponents, spaces or excess decimals) and formatting is exact. Arithmetic is always
//! checked: a sum that would not fit in 128 bits is an error, never a wrapped value.

use std::fmt;

/// An amount in an asset's smallest unit (satoshi, wei, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub u128);

/// Why a decimal string is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    /// The text is empty.
    Empty,
    /// The text starts with '-' and is otherwise a valid amount.
    Negative,
    /// The text is not a plain decimal number.
    NotANumber,
    /// More digits after the point than the asset allows.
    TooManyDecimals {
        /// The asset's decimals.
        allowed: u8,
        /// Digits found after the point.
        found: usize,
    },
    /// The value does not fit in 128 bits of base units.
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => f.write_str("expected a decimal amount, found an empty field"),
            AmountError::Negative => {
                f.write_str("expected a non-negative amount, found a negative one")
            }
            AmountError::NotANumber => {
                f.write_str("expected a plain decimal number (digits, at most one '.')")
            }
            AmountError::TooManyDecimals { allowed, found } => {
                write!(f, "expected at most {allowed} decimals, found {found}")
            }
            AmountError::TooLarge => f.write_str("amount does not fit in 128 bits of base units"),
        }
    }
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// Parses a decimal string in the asset's unit (e.g. "0.5" BTC) into base units.
    pub fn parse_decimal(text: &str, decimals: u8) -> Result<Amount, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if let Some(rest) = text.strip_prefix('-') {
            // Only call it negative when the rest is a number; "-x" is just not a number.
            Self::parse_decimal(rest, decimals)?;
            return Err(AmountError::Negative);
        }
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text, None),
        };
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits_ok(int) {
            return Err(AmountError::NotANumber);
        }
        let frac = match frac {
            Some(f) if f.is_empty() || !digits_ok(f) => return Err(AmountError::NotANumber),
            Some(f) => f,
            None => "",
        };
        if frac.len() > decimals as usize {
            return Err(AmountError::TooManyDecimals {
                allowed: decimals,
                found: frac.len(),
            });
        }
        let mut value: u128 = 0;
        let padding = decimals as usize - frac.len();
        for b in int
            .bytes()
            .chain(frac.bytes())
            .chain(std::iter::repeat_n(b'0', padding))
        {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .ok_or(AmountError::TooLarge)?;
        }
        Ok(Amount(value))
    }

    /// Parses an integer count of base units, as stored in attestations and proofs.
    pub fn parse_units(text: &str) -> Result<Amount, AmountError> {
        if text.len() > 1 && text.starts_with('0') {
            // One spelling per value keeps signed encodings unambiguous.
            return Err(AmountError::NotANumber);
        }
        Self::parse_decimal(text, 0)
    }

    /// Formats in the asset's unit with exactly `decimals` digits after the point.
    pub fn to_decimal(self, decimals: u8) -> String {
        let digits = self.0.to_string();
        let d = decimals as usize;
        if d == 0 {
            return digits;
        }
        let padded = format!("{:0>width$}", digits, width = d + 1);
        let (int, frac) = padded.split_at(padded.len() - d);
        format!("{int}.{frac}")
    }

    /// Adds, or returns `None` on overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// The 16-byte big-endian encoding used in every hash.
    pub fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Adds `b` into `a` element-wise; on overflow returns the index of the asset that overflowed
/// and leaves `a` partly updated (callers discard it).
pub fn add_sums(a: &mut [Amount], b: &[Amount]) -> Result<(), usize> {
    for (i, (x, y)) in a.iter_mut().zip(b).enumerate() {
        *x = x.checked_add(*y).ok_or(i)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(Amount::parse_decimal("1.5", 8), Ok(Amount(150_000_000)));
        assert_eq!(Amount::parse_decimal("0", 8), Ok(Amount(0)));
        assert_eq!(Amount::parse_decimal("007", 0), Ok(Amount(7)));
        assert_eq!(Amount::parse_decimal("0.00000001", 8), Ok(Amount(1)));
        assert_eq!(Amount(1).to_decimal(8), "0.00000001");
        assert_eq!(Amount(123_450_000_000).to_decimal(8), "1234.50000000");
        assert_eq!(Amount(5).to_decimal(0), "5");
    }

    #[test]
    fn rejects_malformed() {
        use AmountError::*;
        assert_eq!(Amount::parse_decimal("", 8), Err(Empty));
        assert_eq!(Amount::parse_decimal("-1", 8), Err(Negative));
        assert_eq!(Amount::parse_decimal("-x", 8), Err(NotANumber));
        for bad in [
            "1e5", " 1", "1 ", "+1", ".5", "5.", "1.2.3", "0x10", "1,5", "١",
        ] {
            assert_eq!(Amount::parse_decimal(bad, 8), Err(NotANumber), "{bad:?}");
        }
        assert_eq!(
            Amount::parse_decimal("1.123456789", 8),
            Err(TooManyDecimals {
                allowed: 8,
                found: 9
            })
        );
        assert_eq!(
            Amount::parse_decimal("340282366920938463463374607431768211456", 0),
            Err(TooLarge)
        );
        assert_eq!(
            Amount::parse_decimal("340282366920938463463374607431768211455", 0),
            Ok(Amount(u128::MAX))
        );
        assert_eq!(Amount::parse_units("01"), Err(NotANumber));
        assert_eq!(
            Amount::parse_units("1.0"),
            Err(TooManyDecimals {
                allowed: 0,
                found: 1
            })
        );
    }

    #[test]
    fn sums_are_checked() {
        let mut a = [Amount(1), Amount(u128::MAX)];
        assert_eq!(add_sums(&mut a, &[Amount(1), Amount(1)]), Err(1));
    }
}
