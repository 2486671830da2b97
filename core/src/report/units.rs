//! Rates and their human-readable form (SPEC §5, §6).
//!
//! The rate is computed in `f64` (IEEE 754 arithmetic gives the same bits on every target),
//! and the two-decimal text is produced by integer rounding of that value, so the unit chosen
//! and the digits printed always agree: a rate that would print as `1000.00 bps` is printed as
//! `1.00 Kbps` instead.

use core::fmt;

use crate::link::Timestamp;

/// Nanoseconds per second.
const NANOS_PER_SEC: f64 = 1_000_000_000.0;

/// The span from `start` to `end` in nanoseconds; 0 when `end` is not after `start`.
pub fn duration_nanos(start: Timestamp, end: Timestamp) -> u64 {
    let d = end.0.saturating_sub(start.0);
    if d <= 0 {
        0
    } else {
        d.unsigned_abs()
    }
}

/// The report's duration in seconds (0.0 when `end` is not after `start`).
pub fn duration_secs(start: Timestamp, end: Timestamp) -> f64 {
    duration_nanos(start, end) as f64 / NANOS_PER_SEC
}

/// Bits per second: 8 × `bytes` ÷ the duration from `start` to `end` in seconds; 0 when
/// the duration is 0 (SPEC §5).
pub fn bitrate(bytes: u64, start: Timestamp, end: Timestamp) -> f64 {
    let secs = duration_secs(start, end);
    if secs <= 0.0 {
        return 0.0;
    }
    8.0 * bytes as f64 / secs
}

/// Unit names, each 1000 times the previous one.
const UNITS: [&str; 5] = ["bps", "Kbps", "Mbps", "Gbps", "Tbps"];

/// A rate formatted as upstream does: two decimals and a unit switching at ×1000
/// (`512.00 bps`, `3.02 Kbps`, … `Tbps`, which also holds every larger value).
///
/// Built by [`format_bitrate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bitrate(pub f64);

/// The text form of a rate in bits per second (see [`Bitrate`]). Negative and NaN rates,
/// which [`bitrate`] never produces, print as `0.00 bps`.
pub fn format_bitrate(bps: f64) -> Bitrate {
    Bitrate(bps)
}

/// Hundredths of `scaled`, rounded half up. Saturates (float-to-int casts do), maps NaN
/// and negatives to 0.
fn hundredths(scaled: f64) -> u128 {
    let c = scaled * 100.0 + 0.5;
    if c > 0.0 {
        c as u128
    } else {
        0
    }
}

impl fmt::Display for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut scale = 1.0f64;
        let mut last = 0u128;
        for (i, unit) in UNITS.iter().enumerate() {
            last = hundredths(self.0 / scale);
            if last < 100_000 || i == UNITS.len() - 1 {
                return write!(f, "{}.{:02} {}", last / 100, last % 100, unit);
            }
            scale *= 1000.0;
        }
        // Unreachable in practice: the loop returns on its last unit.
        write!(f, "{}.{:02} Tbps", last / 100, last % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    fn fb(v: f64) -> String {
        format!("{}", format_bitrate(v))
    }

    #[test]
    fn units_switch_at_thousand() {
        assert_eq!(fb(0.0), "0.00 bps");
        assert_eq!(fb(512.0), "512.00 bps");
        assert_eq!(fb(999.99), "999.99 bps");
        assert_eq!(fb(999.994), "999.99 bps");
        // Would print as 1000.00 bps: moves up a unit.
        assert_eq!(fb(999.995), "1.00 Kbps");
        assert_eq!(fb(1000.0), "1.00 Kbps");
        assert_eq!(fb(3022.4), "3.02 Kbps");
        assert_eq!(fb(999_990.0), "999.99 Kbps");
        assert_eq!(fb(1_000_000.0), "1.00 Mbps");
        assert_eq!(fb(1_234_567_890.0), "1.23 Gbps");
        assert_eq!(fb(1e12), "1.00 Tbps");
        assert_eq!(fb(999.99e12), "999.99 Tbps");
        assert_eq!(fb(1e15), "1000.00 Tbps");
        assert_eq!(fb(123_456e12), "123456.00 Tbps");
    }

    #[test]
    fn odd_values_never_panic() {
        assert_eq!(fb(f64::NAN), "0.00 bps");
        assert_eq!(fb(-5.0), "0.00 bps");
        assert!(fb(f64::MAX).ends_with(" Tbps"));
        assert!(fb(f64::INFINITY).ends_with(" Tbps"));
    }

    #[test]
    fn bitrate_is_eight_bytes_per_second() {
        let s = Timestamp::from_parts(100, 0);
        assert_eq!(
            bitrate(1889, s, Timestamp::from_parts(105, 0)),
            8.0 * 1889.0 / 5.0
        );
        assert_eq!(
            bitrate(1000, s, Timestamp::from_parts(100, 500_000_000)),
            16_000.0
        );
        assert_eq!(bitrate(1000, s, s), 0.0);
        assert_eq!(bitrate(1000, s, Timestamp::from_parts(99, 0)), 0.0);
        assert_eq!(bitrate(0, s, Timestamp::from_parts(101, 0)), 0.0);
        let huge = bitrate(u64::MAX, Timestamp(i64::MIN), Timestamp(i64::MAX));
        assert!(huge.is_finite());
        assert!(bitrate(u64::MAX, s, Timestamp(s.0 + 1)).is_finite());
    }
}
