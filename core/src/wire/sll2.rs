//! Linux "cooked" capture header v2 (LINKTYPE_LINUX_SLL2, 20 bytes).
//!
//! What `tcpdump -i any` writes since libpcap 1.10. Unlike v1 the protocol comes first and
//! the interface index is recorded; like v1 the protocol is an EtherType for Ethernet-like
//! payloads, so VLAN tags and PPPoE may follow.

use super::{be16, be32, check, Truncated};

mod field {
    pub const PROTOCOL: usize = 0;
    pub const IFINDEX: usize = 4;
    pub const HATYPE: usize = 8;
    pub const PKTTYPE: usize = 10;
    pub const ADDR_LEN: usize = 11;
}

/// Length of the SLL2 header.
pub const HEADER_LEN: usize = 20;

/// A view of an SLL2 header.
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

    /// Protocol (an EtherType for Ethernet-like payloads).
    #[inline(always)]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PROTOCOL)
    }

    /// Interface index the packet was seen on.
    #[inline(always)]
    pub fn ifindex(&self) -> u32 {
        be32(self.buffer.as_ref(), field::IFINDEX)
    }

    /// ARPHRD_* hardware type.
    #[inline(always)]
    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HATYPE)
    }

    /// Packet type (0 host … 4 outgoing).
    #[inline(always)]
    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[field::PKTTYPE]
    }

    /// Link-layer address length.
    #[inline(always)]
    pub fn addr_len(&self) -> u8 {
        self.buffer.as_ref()[field::ADDR_LEN]
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
        let mut b = [0u8; 21];
        b[0] = 0x86;
        b[1] = 0xdd;
        b[4..8].copy_from_slice(&7u32.to_be_bytes());
        b[9] = 1;
        b[10] = 4;
        b[11] = 6;
        b[20] = 0x60;
        let h = Header::new_checked(&b[..]).unwrap();
        assert_eq!(h.protocol(), 0x86dd);
        assert_eq!(h.ifindex(), 7);
        assert_eq!(h.hatype(), 1);
        assert_eq!(h.packet_type(), 4);
        assert_eq!(h.addr_len(), 6);
        assert_eq!(h.payload(), &[0x60]);
    }

    #[test]
    fn short() {
        assert_eq!(
            Header::new_checked(&[0u8; 19][..]).unwrap_err(),
            Truncated { need: 20, have: 19 }
        );
    }
}
