//! Capture timestamps to [`Timestamp`] (nanoseconds since the epoch).
//!
//! pcapng counts ticks of `10^-e` or `2^-p` seconds per interface (`if_tsresol`) from an
//! offset in seconds (`if_tsoffset`). Decimal resolutions down to the nanosecond convert
//! exactly; finer decimal and all binary resolutions are truncated to the nanosecond, exactly
//! as libpcap and Wireshark convert them (so interval edges agree with tshark's view of the
//! file). Results saturate at the ends of the `i64` range rather than wrap.

use crate::link::Timestamp;

/// The default `if_tsresol`: microseconds.
pub(crate) const DEFAULT_TSRESOL: u8 = 6;

/// Powers of ten that fit a `u64`: `10^0 ..= 10^19`.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Whether an `if_tsresol` byte describes ticks a `u64` per second can count.
pub(crate) const fn tsresol_valid(resol: u8) -> bool {
    if resol & 0x80 != 0 {
        resol & 0x7f < 64
    } else {
        resol < 20
    }
}

/// Ticks per second for a valid `if_tsresol` byte (1 for an invalid one).
#[inline]
const fn ticks_per_sec(resol: u8) -> u64 {
    if resol & 0x80 != 0 {
        let p = resol & 0x7f;
        if p < 64 {
            1u64 << p
        } else {
            1
        }
    } else if (resol as usize) < POW10.len() {
        POW10[resol as usize]
    } else {
        1
    }
}

/// Converts a pcapng tick count to a timestamp.
pub(crate) fn from_ticks(ticks: u64, resol: u8, offset_secs: i64) -> Timestamp {
    let (secs, nanos) = match resol {
        6 => (ticks / 1_000_000, (ticks % 1_000_000) as u32 * 1_000),
        9 => (ticks / 1_000_000_000, (ticks % 1_000_000_000) as u32),
        _ => {
            let tps = ticks_per_sec(resol);
            let secs = ticks / tps;
            let rem = ticks % tps;
            if resol & 0x80 == 0 && resol <= 9 {
                // Exact: rem < 10^resol, so rem * 10^(9 - resol) < 10^9.
                (secs, (rem * POW10[9 - resol as usize]) as u32)
            } else {
                // Truncate toward the earlier nanosecond, as libpcap and Wireshark do: the
                // same frame then falls in the same interval for us and for them.
                let n = u128::from(rem) * 1_000_000_000 / u128::from(tps);
                (secs, n as u32)
            }
        }
    };
    let total = (i128::from(secs) + i128::from(offset_secs)) * 1_000_000_000 + i128::from(nanos);
    Timestamp(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// A pcap record timestamp: seconds and a fraction in µs (or ns with `nanos`).
#[inline]
pub(crate) fn from_pcap(secs: u32, frac: u32, nanos: bool) -> Timestamp {
    let frac_ns = if nanos {
        i64::from(frac)
    } else {
        i64::from(frac) * 1_000
    };
    // secs < 2^32, so secs * 10^9 < 4.3e18 < i64::MAX; the fraction adds < 4.3e12.
    Timestamp((i64::from(secs) * 1_000_000_000).saturating_add(frac_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_resolutions_are_exact() {
        assert_eq!(
            from_ticks(1_700_000_000_123_456, 6, 0).0,
            1_700_000_000_123_456_000
        );
        assert_eq!(
            from_ticks(1_700_000_000_123_456_789, 9, 0).0,
            1_700_000_000_123_456_789
        );
        assert_eq!(
            from_ticks(17_000_000_001, 1, 0).0,
            1_700_000_000_100_000_000
        );
        assert_eq!(
            from_ticks(1_700_000_000_123, 3, 0).0,
            1_700_000_000_123_000_000
        );
        assert_eq!(from_ticks(1_700_000_000, 0, 0).0, 1_700_000_000_000_000_000);
        // 10^-12: picoseconds, truncated to the ns.
        assert_eq!(
            from_ticks(1_000_000_000_001_999, 12, 0).0,
            1_000_000_000_001
        );
        assert_eq!(
            from_ticks(1_000_000_000_002_000, 12, 0).0,
            1_000_000_000_002
        );
    }

    #[test]
    fn binary_resolutions_truncate_like_libpcap() {
        // 2^-1: half seconds.
        assert_eq!(from_ticks(3, 0x81, 0).0, 1_500_000_000);
        // 2^-30: one tick is 0.931 ns.
        assert_eq!(from_ticks(1, 0x80 | 30, 0).0, 0);
        assert_eq!(from_ticks(2, 0x80 | 30, 0).0, 1);
        assert_eq!(
            from_ticks((5 << 30) + (1 << 29), 0x80 | 30, 0).0,
            5_500_000_000
        );
        // 2^-32: just under a second stays in it.
        assert_eq!(from_ticks((1 << 32) - 1, 0x80 | 32, 0).0, 999_999_999);
        // 2^-63 and 2^-0.
        assert_eq!(from_ticks(u64::MAX, 0x80 | 63, 0).0, 1_999_999_999);
        assert_eq!(from_ticks(7, 0x80, 0).0, 7_000_000_000);
    }

    #[test]
    fn offsets_and_saturation() {
        assert_eq!(from_ticks(1_000_000, 6, 100).0, 101_000_000_000);
        assert_eq!(from_ticks(0, 6, -1).0, -1_000_000_000);
        assert_eq!(from_ticks(u64::MAX, 0, 0).0, i64::MAX);
        assert_eq!(from_ticks(0, 6, i64::MIN).0, i64::MIN);
    }

    #[test]
    fn validity() {
        assert!(tsresol_valid(0) && tsresol_valid(19) && !tsresol_valid(20));
        assert!(tsresol_valid(0x80) && tsresol_valid(0x80 | 63) && !tsresol_valid(0x80 | 64));
    }

    #[test]
    fn pcap_timestamps() {
        assert_eq!(from_pcap(1, 2, false).0, 1_000_002_000);
        assert_eq!(from_pcap(1, 2, true).0, 1_000_000_002);
        assert_eq!(
            from_pcap(u32::MAX, u32::MAX, false).0,
            4_294_967_295_000_000_000 + 4_294_967_295_000
        );
    }
}
