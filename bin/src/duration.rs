//! Durations in Go's syntax (`300ms`, `1.5s`, `2m`, `1h30m`), as the original pktstat's
//! `--timeout` took them, plus a bare number meaning seconds (`5`, `0.25`).
//!
//! Why our own parser: Go's grammar is small, and a user moving from the Go tool should be
//! able to paste the same values. The arithmetic is exact integer nanoseconds (Go goes
//! through floating point for fractions; we truncate the same way without its rounding).
//! Negative durations are refused: a negative timeout or interval has no meaning here.

use std::fmt;
use std::time::Duration;

/// Why a duration did not parse. `Display` is a short phrase; the caller names the flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing was given.
    Empty,
    /// A leading minus sign.
    Negative,
    /// A number was expected (e.g. `ms`, `1h.m`).
    MissingNumber,
    /// A number without a unit after another component (`1h30`).
    MissingUnit,
    /// A unit we do not know (`5d`, `5sec`).
    UnknownUnit,
    /// Larger than Go's limit (about 292 years).
    TooLarge,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DurationError::Empty => "empty duration",
            DurationError::Negative => "durations cannot be negative",
            DurationError::MissingNumber => "a number is missing",
            DurationError::MissingUnit => "a unit is missing after a number",
            DurationError::UnknownUnit => "unknown unit (use ns, us, ms, s, m or h)",
            DurationError::TooLarge => "duration too large",
        })
    }
}

/// Go's limit: `time.Duration` is an `i64` of nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Nanoseconds per unit, Go's unit names (both spellings of micro).
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SEC,
        "m" => 60 * NANOS_PER_SEC,
        "h" => 3_600 * NANOS_PER_SEC,
        _ => return None,
    })
}

/// One number: integer digits and fraction digits, either possibly empty but not both.
struct Number<'a> {
    int: &'a str,
    frac: &'a str,
}

impl Number<'_> {
    /// `self × unit` in nanoseconds, fraction truncated, `None` on overflow.
    fn times(&self, unit: u128) -> Option<u128> {
        let mut total: u128 = 0;
        for d in self.int.bytes() {
            total = total.checked_mul(10)?.checked_add(u128::from(d - b'0'))?;
            if total > MAX_NANOS {
                return None; // stop early: long digit strings would overflow u128 itself
            }
        }
        total = total.checked_mul(unit)?;
        // Fraction: digits beyond what a nanosecond can resolve change nothing; keep 30
        // at most so the scale stays within u128.
        let mut frac: u128 = 0;
        let mut scale: u128 = 1;
        for d in self.frac.bytes().take(30) {
            frac = frac * 10 + u128::from(d - b'0');
            scale *= 10;
        }
        total.checked_add(frac.checked_mul(unit)? / scale)
    }
}

/// Splits a leading `[0-9]*(\.[0-9]*)?` off `s`.
fn take_number(s: &str) -> (Number<'_>, &str) {
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let (int, rest) = s.split_at(int_len);
    if let Some(after_dot) = rest.strip_prefix('.') {
        let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        let (frac, rest) = after_dot.split_at(frac_len);
        (Number { int, frac }, rest)
    } else {
        (Number { int, frac: "" }, rest)
    }
}

/// Parses a duration: Go syntax, or a bare (decimal) number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    let s = match s.strip_prefix('+') {
        Some(rest) => rest,
        None if s.starts_with('-') => return Err(DurationError::Negative),
        None => s,
    };
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut rest = s;
    let mut total: u128 = 0;
    let mut first = true;
    while !rest.is_empty() {
        let (number, after) = take_number(rest);
        if number.int.is_empty() && number.frac.is_empty() {
            return Err(DurationError::MissingNumber);
        }
        let unit_len = after
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        let (unit, after_unit) = after.split_at(unit_len);
        let nanos = if unit.is_empty() {
            // A bare number is seconds, but only as the whole value: `1h30` is an error.
            if !first {
                return Err(DurationError::MissingUnit);
            }
            NANOS_PER_SEC
        } else {
            unit_nanos(unit).ok_or(DurationError::UnknownUnit)?
        };
        let part = number.times(nanos).ok_or(DurationError::TooLarge)?;
        total = total.checked_add(part).ok_or(DurationError::TooLarge)?;
        if total > MAX_NANOS {
            return Err(DurationError::TooLarge);
        }
        rest = after_unit;
        first = false;
    }
    let secs = (total / NANOS_PER_SEC) as u64;
    let nanos = (total % NANOS_PER_SEC) as u32;
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    #[test]
    fn valid() {
        let table: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("5", Duration::from_secs(5)),
            ("1.5", Duration::from_millis(1500)),
            (".5", Duration::from_millis(500)),
            ("300ms", Duration::from_millis(300)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m", Duration::from_secs(120)),
            ("1h30m", Duration::from_secs(5400)),
            ("1h2m3.5s", Duration::from_millis(3_723_500)),
            ("10ns", ns(10)),
            ("7us", ns(7_000)),
            ("7\u{b5}s", ns(7_000)),
            ("7\u{3bc}s", ns(7_000)),
            ("1.000000001s", ns(1_000_000_001)),
            ("1.0000000019s", ns(1_000_000_001)), // truncated below a nanosecond
            ("5.s", Duration::from_secs(5)),
            ("+3s", Duration::from_secs(3)),
            (" 2s ", Duration::from_secs(2)),
            ("1m1m", Duration::from_secs(120)),
            ("0.5h", Duration::from_secs(1800)),
            ("2562047h", Duration::from_secs(2_562_047 * 3600)),
        ];
        for (text, want) in table {
            assert_eq!(parse_duration(text), Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn invalid() {
        use DurationError::*;
        let table: &[(&str, DurationError)] = &[
            ("", Empty),
            ("  ", Empty),
            ("+", Empty),
            ("-1s", Negative),
            ("-0", Negative),
            ("ms", MissingNumber),
            (".", MissingNumber),
            ("1h.m", MissingNumber),
            ("1h30", MissingUnit),
            ("5d", UnknownUnit),
            ("5sec", UnknownUnit),
            ("5 s", UnknownUnit),
            ("1S", UnknownUnit),
            ("abc", MissingNumber),
            ("2562048h", TooLarge),
            ("99999999999999999999999999999999999999999s", TooLarge),
            ("9223372036.854775808s", TooLarge),
        ];
        for (text, want) in table {
            assert_eq!(parse_duration(text), Err(*want), "{text:?}");
        }
    }

    #[test]
    fn limit_is_exact() {
        assert_eq!(
            parse_duration("9223372036.854775807s"),
            Ok(ns(i64::MAX as u64))
        );
    }
}
