//! IPv4 header (RFC 791): the fixed 20 bytes, options skipped by IHL.
//!
//! The only IPv4 length that is trusted is IHL, because it says where the transport header
//! starts. `total_len` is exposed but never used to bound anything: a frame whose total
//! length disagrees with the capture is still counted (SPEC §2). The IHL < 5 check is the
//! decoder's (it is a malformed header, not a truncated one).

use super::{be16, check, Truncated};

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// Length of the header without options; also the smallest valid IHL × 4.
pub const HEADER_LEN: usize = 20;
/// The smallest valid IHL.
pub const MIN_IHL: u8 = 5;

const MORE_FRAGMENTS: u16 = 0x2000;
const DONT_FRAGMENT: u16 = 0x4000;
const OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 header.
#[derive(Clone, Copy, Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking it holds the fixed header (addresses included).
    /// Neither the version nor IHL is validated here.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Packet { buffer })
    }

    /// Version nibble (4 for a real IPv4 header).
    #[inline(always)]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Internet header length in 32-bit words.
    #[inline(always)]
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes, options included (IHL × 4, at most 60).
    #[inline(always)]
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// Total length as claimed (not trusted).
    #[inline(always)]
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TOTAL_LEN)
    }

    /// Identification.
    #[inline(always)]
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// The "don't fragment" flag.
    #[inline(always)]
    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG) & DONT_FRAGMENT != 0
    }

    /// The "more fragments" flag.
    #[inline(always)]
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG) & MORE_FRAGMENTS != 0
    }

    /// Fragment offset in 8-byte units.
    #[inline(always)]
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG) & OFFSET_MASK
    }

    /// Time to live.
    #[inline(always)]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    #[inline(always)]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Source address.
    #[inline(always)]
    pub fn src(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[12], b[13], b[14], b[15]]
    }

    /// Destination address.
    #[inline(always)]
    pub fn dst(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[16], b[17], b[18], b[19]]
    }

    /// Source and destination as one slice (8 bytes).
    #[inline(always)]
    pub fn addrs(&self) -> &[u8] {
        &self.buffer.as_ref()[field::SRC.start..field::DST.end]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload after `header_len()` bytes: `None` when the options run past the
    /// captured bytes (or IHL is below 5 and the "payload" would overlap the header).
    #[inline(always)]
    pub fn payload(&self) -> Option<&'a [u8]> {
        let buffer: &'a T = self.buffer;
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return None;
        }
        buffer.as_ref().get(hl..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: [u8; 24] = [
        0x46, 0x00, 0x00, 0x40, 0x12, 0x34, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
        0, 2, 1, 1, 0, 0,
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 6);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.total_len(), 64);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.more_frags() && !p.dont_frag());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src(), [10, 0, 0, 1]);
        assert_eq!(p.dst(), [10, 0, 0, 2]);
        assert_eq!(p.addrs(), &[10, 0, 0, 1, 10, 0, 0, 2]);
        assert_eq!(p.payload(), Some(&[][..]));
    }

    #[test]
    fn offset_and_flags() {
        let mut h = HDR;
        h[6] = 0x5f;
        h[7] = 0xff;
        let p = Packet::new_checked(&h[..]).unwrap();
        assert!(p.dont_frag() && !p.more_frags());
        assert_eq!(p.frag_offset(), 0x1fff);
    }

    #[test]
    fn options_past_capture() {
        let mut h = HDR;
        h[0] = 0x4f; // 60-byte header in a 24-byte buffer
        assert_eq!(Packet::new_checked(&h[..]).unwrap().payload(), None);
        h[0] = 0x44; // IHL 4: no payload either
        assert_eq!(Packet::new_checked(&h[..]).unwrap().payload(), None);
    }

    #[test]
    fn short() {
        assert_eq!(
            Packet::new_checked(&HDR[..19]).unwrap_err(),
            Truncated { need: 20, have: 19 }
        );
    }
}
