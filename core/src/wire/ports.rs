//! The first four bytes of TCP and UDP: source and destination port.
//!
//! Both protocols start the same way and the decoder needs nothing else from them, so one
//! view serves both; TCP's data offset and UDP's length are never read (SPEC §2: lengths
//! that disagree are not malformed).

use super::{be16, check, Truncated};

mod field {
    pub const SRC: usize = 0;
    pub const DST: usize = 2;
}

/// Bytes holding the two ports.
pub const HEADER_LEN: usize = 4;

/// A view of a TCP or UDP header's ports.
#[derive(Clone, Copy, Debug)]
pub struct Ports<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ports<T> {
    /// Wraps `buffer` after checking it holds both ports.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Ports { buffer })
    }

    /// Source port.
    #[inline(always)]
    pub fn src(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC)
    }

    /// Destination port.
    #[inline(always)]
    pub fn dst(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let p = Ports::new_checked(&[0x01, 0xbb, 0xc3, 0x50][..]).unwrap();
        assert_eq!((p.src(), p.dst()), (443, 50000));
        assert_eq!(
            Ports::new_checked(&[1u8, 2, 3][..]).unwrap_err(),
            Truncated { need: 4, have: 3 }
        );
    }
}
