//! Timestamps as RFC 3339 UTC text and durations as `S.SS` seconds.
//!
//! `core` has no calendar, so the date comes from Howard Hinnant's `civil_from_days`
//! (proleptic Gregorian, valid for every day an `i64` nanosecond [`Timestamp`] can reach,
//! 1677 to 2262, including dates before 1970). All integer arithmetic: the same stamp gives
//! the same text everywhere.

use core::fmt;

use crate::link::Timestamp;

/// Seconds per day.
const SECS_PER_DAY: i64 = 86_400;

/// The proleptic Gregorian (year, month 1–12, day 1–31) of a day count since 1970-01-01.
/// Exact for every `i64` day count up to `i64::MAX - 719_468` (far beyond what a
/// [`Timestamp`] reaches); never panics or overflows.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of each year.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = if m <= 2 { y + 1 } else { y };
    (year, m as u32, d as u32)
}

/// A timestamp as RFC 3339 UTC with microseconds, e.g. `2026-11-26T17:23:52.123456Z`
/// (nanoseconds are truncated, as `tcpdump` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub Timestamp);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.secs();
        let micros = self.0.subsec_nanos() / 1_000;
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            y,
            mo,
            d,
            sod / 3_600,
            sod % 3_600 / 60,
            sod % 60,
            micros
        )
    }
}

/// A duration in nanoseconds as seconds with two decimals, rounded half up (`0.50`, `60.00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds2(pub u64);

impl fmt::Display for Seconds2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let centis = self.0 / 10_000_000 + u64::from(self.0 % 10_000_000 >= 5_000_000);
        write!(f, "{}.{:02}", centis / 100, centis % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    fn rfc(secs: i64, nanos: u32) -> std::string::String {
        format!("{}", Rfc3339(Timestamp::from_parts(secs, nanos)))
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc(1_795_713_832, 123_456_789),
            "2026-11-26T17:23:52.123456Z"
        );
        // Leap days.
        assert_eq!(rfc(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
        assert_eq!(rfc(1_709_164_800, 999_999), "2024-02-29T00:00:00.000999Z");
        assert_eq!(rfc(1_709_251_199, 0), "2024-02-29T23:59:59.000000Z");
        assert_eq!(rfc(1_709_251_200, 0), "2024-03-01T00:00:00.000000Z");
        // 2100 is not a leap year.
        assert_eq!(rfc(4_107_456_000, 0), "2100-02-28T00:00:00.000000Z");
        assert_eq!(rfc(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
        assert_eq!(rfc(946_684_799, 0), "1999-12-31T23:59:59.000000Z");
    }

    #[test]
    fn formats_pre_1970() {
        assert_eq!(rfc(-1, 0), "1969-12-31T23:59:59.000000Z");
        // One microsecond before the epoch.
        assert_eq!(
            format!("{}", Rfc3339(Timestamp(-1_000))),
            "1969-12-31T23:59:59.999999Z"
        );
        assert_eq!(rfc(-86_400 * 365, 0), "1969-01-01T00:00:00.000000Z");
        // 1968 is a leap year.
        assert_eq!(rfc(-58_060_800, 0), "1968-02-29T00:00:00.000000Z");
        assert_eq!(
            format!("{}", Rfc3339(Timestamp(i64::MIN))),
            "1677-09-21T00:12:43.145224Z"
        );
        assert_eq!(
            format!("{}", Rfc3339(Timestamp(i64::MAX))),
            "2262-04-11T23:47:16.854775Z"
        );
    }

    #[test]
    fn civil_round_trip_over_many_days() {
        // Days must advance by exactly one calendar day each step.
        let (mut py, mut pm, mut pd) = civil_from_days(-200_000);
        for days in -199_999..200_000 {
            let (y, m, d) = civil_from_days(days);
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month =
                d == 1 && ((y == py && m == pm + 1) || (y == py + 1 && m == 1 && pm == 12));
            assert!(
                next_day || next_month,
                "{days}: {py}-{pm}-{pd} -> {y}-{m}-{d}"
            );
            if next_month {
                let leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
                let len = match pm {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(pd, len, "{py}-{pm}");
            }
            (py, pm, pd) = (y, m, d);
        }
    }

    #[test]
    fn extreme_day_counts_do_not_overflow() {
        for days in [i64::MIN, i64::MIN + 1, i64::MAX - 719_468, i64::MAX] {
            let (_, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        }
    }

    #[test]
    fn seconds_with_two_decimals() {
        assert_eq!(format!("{}", Seconds2(0)), "0.00");
        assert_eq!(format!("{}", Seconds2(4_999_999)), "0.00");
        assert_eq!(format!("{}", Seconds2(5_000_000)), "0.01");
        assert_eq!(format!("{}", Seconds2(500_000_000)), "0.50");
        assert_eq!(format!("{}", Seconds2(60_000_000_000)), "60.00");
        assert_eq!(format!("{}", Seconds2(1_234_567_890)), "1.23");
        assert_eq!(format!("{}", Seconds2(u64::MAX)), "18446744073.71");
    }
}
