//! Reading fixed-size integers out of untrusted byte slices in a file's byte order.
//!
//! Callers check lengths once before reading fields; these accessors still never panic
//! (a read past the slice yields 0), so a mistake in a length check degrades to a wrong
//! value, never to a crash.

/// The byte order a pcap file or a pcapng section was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endian {
    /// True for big-endian.
    pub big: bool,
}

impl Endian {
    /// Little-endian.
    pub const LITTLE: Endian = Endian { big: false };

    /// The `u16` at `at`, or 0 when the slice is too short.
    #[inline]
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let mut a = [0u8; 2];
        if let Some(s) = b.get(at..at.saturating_add(2)) {
            a.copy_from_slice(s);
        }
        if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    /// The `u32` at `at`, or 0 when the slice is too short.
    #[inline]
    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let mut a = [0u8; 4];
        if let Some(s) = b.get(at..at.saturating_add(4)) {
            a.copy_from_slice(s);
        }
        if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// The `i64` at `at`, or 0 when the slice is too short.
    #[inline]
    pub fn i64(self, b: &[u8], at: usize) -> i64 {
        let mut a = [0u8; 8];
        if let Some(s) = b.get(at..at.saturating_add(8)) {
            a.copy_from_slice(s);
        }
        if self.big {
            i64::from_be_bytes(a)
        } else {
            i64::from_le_bytes(a)
        }
    }
}

/// The first four bytes of `b` read big-endian (0 when shorter): how magic numbers are shown.
#[inline]
pub(crate) fn be32(b: &[u8]) -> u32 {
    Endian { big: true }.u32(b, 0)
}

/// `n` rounded up to a multiple of 4, saturating.
#[inline]
pub(crate) const fn pad4(n: u32) -> u32 {
    match n.checked_add(3) {
        Some(v) => v & !3,
        None => !3,
    }
}
