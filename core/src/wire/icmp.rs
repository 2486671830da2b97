//! ICMPv4 / ICMPv6 type and code: the two leading bytes both versions share.
//!
//! pktstat keys ICMP flows by type and code only; the checksum and body (an echo id, an
//! embedded datagram) are never read.

use super::{check, Truncated};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
}

/// Bytes holding type and code.
pub const HEADER_LEN: usize = 2;

/// A view of an ICMP header's type and code.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmp<T> {
    /// Wraps `buffer` after checking it holds type and code.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Icmp { buffer })
    }

    /// Message type.
    #[inline(always)]
    pub fn ty(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Message code.
    #[inline(always)]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let i = Icmp::new_checked(&[3u8, 4, 0xff][..]).unwrap();
        assert_eq!((i.ty(), i.code()), (3, 4));
        assert_eq!(
            Icmp::new_checked(&[8u8][..]).unwrap_err(),
            Truncated { need: 2, have: 1 }
        );
    }
}
