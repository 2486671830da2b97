//! BSD loopback headers: a 4-byte address family before the IP header.
//!
//! LINKTYPE_NULL stores the family in the byte order of the machine that wrote the file,
//! which the file does not record, so both orders are tried (the values are small, so the
//! two readings never collide). LINKTYPE_LOOP (OpenBSD) is always network byte order.
//! AF_INET6 differs per system: 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD),
//! 30 (Darwin); AF_INET is 2 everywhere.

use super::{be32, check, Truncated};

mod field {
    pub const FAMILY: usize = 0;
}

/// Length of the loopback header.
pub const HEADER_LEN: usize = 4;

/// AF_INET on every system.
pub const AF_INET: u32 = 2;
/// AF_INET6 on Linux.
pub const AF_INET6_LINUX: u32 = 10;
/// AF_INET6 on NetBSD and OpenBSD.
pub const AF_INET6_BSD: u32 = 24;
/// AF_INET6 on FreeBSD.
pub const AF_INET6_FREEBSD: u32 = 28;
/// AF_INET6 on Darwin.
pub const AF_INET6_DARWIN: u32 = 30;

/// The IP version (4 or 6) an address family stands for, `None` for non-IP families.
#[inline(always)]
pub const fn ip_version(family: u32) -> Option<u8> {
    match family {
        AF_INET => Some(4),
        AF_INET6_LINUX | AF_INET6_BSD | AF_INET6_FREEBSD | AF_INET6_DARWIN => Some(6),
        _ => None,
    }
}

/// A view of a NULL / LOOP header.
#[derive(Clone, Copy, Debug)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps `buffer` after checking it holds the family field.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Header { buffer })
    }

    /// The family read in network byte order (LOOP).
    #[inline(always)]
    pub fn family_be(&self) -> u32 {
        be32(self.buffer.as_ref(), field::FAMILY)
    }

    /// The family read little-endian (NULL written on x86, ARM…).
    #[inline(always)]
    pub fn family_le(&self) -> u32 {
        self.family_be().swap_bytes()
    }

    /// The IP version of a NULL header, the family read in either byte order.
    #[inline(always)]
    pub fn null_ip_version(&self) -> Option<u8> {
        match ip_version(self.family_le()) {
            Some(v) => Some(v),
            None => ip_version(self.family_be()),
        }
    }

    /// The IP version of a LOOP header (network byte order only).
    #[inline(always)]
    pub fn loop_ip_version(&self) -> Option<u8> {
        ip_version(self.family_be())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Header<&'a T> {
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
    fn both_orders() {
        for (af, v) in [(2u32, 4u8), (10, 6), (24, 6), (28, 6), (30, 6)] {
            let le = Header::new_checked(af.to_le_bytes()).unwrap();
            let be = Header::new_checked(af.to_be_bytes()).unwrap();
            assert_eq!(le.null_ip_version(), Some(v));
            assert_eq!(be.null_ip_version(), Some(v));
            assert_eq!(be.loop_ip_version(), Some(v));
            assert_eq!(le.loop_ip_version(), None);
            assert_eq!(be.family_be(), af);
            assert_eq!(le.family_le(), af);
        }
        for af in [0u32, 1, 7, 23, 0x0200_0002] {
            let h = Header::new_checked(af.to_le_bytes()).unwrap();
            assert_eq!(h.null_ip_version(), None, "{af:#x}");
        }
    }

    #[test]
    fn short() {
        assert_eq!(
            Header::new_checked(&[2u8, 0, 0][..]).unwrap_err(),
            Truncated { need: 4, have: 3 }
        );
    }
}
