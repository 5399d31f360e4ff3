//! UTC timestamps and periods as seconds, for the snapshot freshness rules (spec/reserves.md,
//! "Freshness"). Proleptic Gregorian calendar, no leap seconds, as block times count.

use crate::text::{validate_period, validate_timestamp};

/// Days since 1970-01-01 of a civil date (Gregorian; valid for every year this format holds).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the Unix epoch of a valid `YYYY-MM-DDTHH:MM:SSZ` timestamp. A day number past
/// the month's end (`02-31`) is refused rather than rolled over.
pub fn unix_seconds(ts: &str) -> Option<i64> {
    validate_timestamp(ts).ok()?;
    let n = |r: std::ops::Range<usize>| ts[r].parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None;
    }
    Some(days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?)
}

/// The first second of a period `YYYY-MM` and the first second of the next month.
pub fn period_bounds(period: &str) -> Option<(i64, i64)> {
    validate_period(period).ok()?;
    let y: i64 = period[..4].parse().ok()?;
    let m: i64 = period[5..].parse().ok()?;
    let start = days_from_civil(y, m, 1) * 86_400;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((start, days_from_civil(ny, nm, 1) * 86_400))
}

/// The month before a period `YYYY-MM`.
pub fn previous_period(period: &str) -> Option<String> {
    let (start, _) = period_bounds(period)?;
    Some(format_utc(start - 1)[..7].to_string())
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A duration in seconds for people: `3 h 12 min`, `2 days 4 h`, `412 days`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, s / 60 % 60)
    } else if s < 30 * 86_400 {
        format!("{} days {} h", s / 86_400, s / 3600 % 24)
    } else {
        format!("{} days", s / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2009-01-03T18:15:05Z"), Some(1_231_006_505));
        assert_eq!(unix_seconds("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(unix_seconds("2023-02-29T00:00:00Z"), None);
        assert_eq!(unix_seconds("2026-11-31T00:00:00Z"), None);
        assert_eq!(format_utc(1_231_006_505), "2009-01-03T18:15:05Z");
        assert_eq!(format_utc(1_709_164_800), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn periods() {
        let (a, b) = period_bounds("2026-12").unwrap();
        assert_eq!(format_utc(a), "2026-12-01T00:00:00Z");
        assert_eq!(format_utc(b), "2027-01-01T00:00:00Z");
        assert!(period_bounds("2026-13").is_none());
        assert_eq!(previous_period("2026-01").as_deref(), Some("2025-12"));
        assert_eq!(previous_period("2026-11").as_deref(), Some("2026-10"));
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(600), "10 min");
        assert_eq!(human_duration(-7_500), "2 h 5 min");
        assert_eq!(human_duration(90_000), "1 days 1 h");
        assert_eq!(human_duration(400 * 86_400), "400 days");
    }
}
