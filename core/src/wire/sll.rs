//! Linux "cooked" capture header v1 (LINKTYPE_LINUX_SLL, 16 bytes).
//!
//! What `tcpdump -i any` wrote before libpcap 1.10. The protocol field at offset 14 is an
//! EtherType for frames that had one, so VLAN tags and PPPoE follow as on Ethernet; other
//! values (1 = Novell 802.3, 4 = 802.2 LLC, …) are non-IP.

use super::{be16, check, Truncated};

mod field {
    pub const PKTTYPE: usize = 0;
    pub const HATYPE: usize = 2;
    pub const ADDR_LEN: usize = 4;
    pub const PROTOCOL: usize = 14;
}

/// Length of the SLL header.
pub const HEADER_LEN: usize = 16;

/// A view of an SLL header.
#[derive(Clone, Copy, Debug)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps `buffer` after checking it holds the whole header.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Header { buffer })
    }

    /// Packet type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing).
    #[inline(always)]
    pub fn packet_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PKTTYPE)
    }

    /// ARPHRD_* hardware type.
    #[inline(always)]
    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HATYPE)
    }

    /// Link-layer address length.
    #[inline(always)]
    pub fn addr_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ADDR_LEN)
    }

    /// Protocol (an EtherType for Ethernet-like payloads).
    #[inline(always)]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PROTOCOL)
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
    fn fields() {
        let mut b = [0u8; 17];
        b[1] = 4; // outgoing
        b[3] = 1; // ARPHRD_ETHER
        b[5] = 6;
        b[14] = 0x08;
        b[16] = 0x45;
        let h = Header::new_checked(&b[..]).unwrap();
        assert_eq!(h.packet_type(), 4);
        assert_eq!(h.hatype(), 1);
        assert_eq!(h.addr_len(), 6);
        assert_eq!(h.protocol(), 0x0800);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn short() {
        assert_eq!(
            Header::new_checked(&[0u8; 15][..]).unwrap_err(),
            Truncated { need: 16, have: 15 }
        );
    }
}
