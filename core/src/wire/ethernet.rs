//! Ethernet II header: two MAC addresses and the EtherType.
//!
//! 802.3 length-field frames (EtherType < 0x0600, LLC/STP) fall through as non-IP because
//! no IP EtherType is that small; the decoder never needs to tell them apart.

use super::{be16, check, Truncated};

mod field {
    use core::ops::Range;
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

/// A view of an Ethernet II frame.
#[derive(Clone, Copy, Debug)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` after checking it holds the whole header.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Frame { buffer })
    }

    /// Destination MAC.
    #[inline(always)]
    pub fn dst(&self) -> [u8; 6] {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::DST]);
        mac
    }

    /// Source MAC.
    #[inline(always)]
    pub fn src(&self) -> [u8; 6] {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::SRC]);
        mac
    }

    /// EtherType (or 802.3 length).
    #[inline(always)]
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ETHERTYPE)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// Everything after the header.
    #[inline(always)]
    pub fn payload(&self) -> &'a [u8] {
        let buffer: &'a T = self.buffer;
        &buffer.as_ref()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut f = [0u8; 16];
        f[..6].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        f[6..12].copy_from_slice(&[7, 8, 9, 10, 11, 12]);
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14] = 0xaa;
        let e = Frame::new_checked(&f[..]).unwrap();
        assert_eq!(e.dst(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(e.src(), [7, 8, 9, 10, 11, 12]);
        assert_eq!(e.ethertype(), 0x86dd);
        assert_eq!(e.payload(), &[0xaa, 0]);
    }

    #[test]
    fn short() {
        for n in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&[0u8; 20][..n]).unwrap_err(),
                Truncated {
                    need: HEADER_LEN,
                    have: n
                }
            );
        }
        assert!(Frame::new_checked(&[0u8; HEADER_LEN][..])
            .unwrap()
            .payload()
            .is_empty());
    }
}
