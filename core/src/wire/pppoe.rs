//! PPPoE session header (RFC 2516) together with the PPP protocol field that follows it.
//!
//! DSL routers see their WAN traffic in this shape on the Ethernet side. The decoder only
//! needs the PPP protocol: 0x0021 is IPv4, 0x0057 IPv6, anything else (LCP, IPCP, CHAP…) is
//! not IP. The PPPoE `length` field is ignored like every other length that may disagree
//! with the capture (SPEC §2). Protocol-field compression is forbidden on PPPoE (RFC 2516
//! §7), so the PPP protocol is always two bytes.

use super::{be16, check, Truncated};

mod field {
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION: usize = 2;
    pub const LENGTH: usize = 4;
    pub const PPP_PROTOCOL: usize = 6;
}

/// Length of the PPPoE header proper.
pub const PPPOE_LEN: usize = 6;
/// Length of the PPPoE header plus the 2-byte PPP protocol field.
pub const HEADER_LEN: usize = PPPOE_LEN + 2;

/// PPP protocol number of IPv4.
pub const PPP_IPV4: u16 = 0x0021;
/// PPP protocol number of IPv6.
pub const PPP_IPV6: u16 = 0x0057;

/// A view of a PPPoE session frame's header and PPP protocol.
#[derive(Clone, Copy, Debug)]
pub struct Session<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Session<T> {
    /// Wraps `buffer` after checking it holds the PPPoE header and PPP protocol.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Session { buffer })
    }

    /// Version (high nibble) and type (low nibble); 0x11 in practice.
    #[inline(always)]
    pub fn ver_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE]
    }

    /// Code; 0 for session data.
    #[inline(always)]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Session id.
    #[inline(always)]
    pub fn session_id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SESSION)
    }

    /// PPPoE payload length as claimed (not trusted).
    #[inline(always)]
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// PPP protocol of the payload.
    #[inline(always)]
    pub fn ppp_protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PPP_PROTOCOL)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Session<&'a T> {
    /// The PPP payload (after the protocol field).
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
        let b = [0x11, 0x00, 0x12, 0x34, 0x00, 0x2a, 0x00, 0x57, 0x60];
        let s = Session::new_checked(&b[..]).unwrap();
        assert_eq!(s.ver_type(), 0x11);
        assert_eq!(s.code(), 0);
        assert_eq!(s.session_id(), 0x1234);
        assert_eq!(s.length(), 42);
        assert_eq!(s.ppp_protocol(), PPP_IPV6);
        assert_eq!(s.payload(), &[0x60]);
    }

    #[test]
    fn short() {
        for n in 0..HEADER_LEN {
            assert_eq!(
                Session::new_checked(&[0u8; 8][..n]).unwrap_err(),
                Truncated {
                    need: HEADER_LEN,
                    have: n
                }
            );
        }
    }
}
