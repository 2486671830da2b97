//! 802.1Q / 802.1ad VLAN tag, as it sits after the outer EtherType (TPID) field.
//!
//! The 4 bytes seen here are the TCI and the encapsulated EtherType: the TPID that announced
//! the tag (0x8100, 0x88a8, 0x9100) was the previous header's EtherType.

use super::{be16, check, ethertype, Truncated};

mod field {
    pub const TCI: usize = 0;
    pub const ETHERTYPE: usize = 2;
}

/// Length of one tag after its TPID.
pub const HEADER_LEN: usize = 4;

/// The VLAN id bits of a TCI.
pub const VID_MASK: u16 = 0x0fff;

/// True for the EtherTypes (TPIDs) that announce a VLAN tag.
#[inline(always)]
pub const fn is_tpid(ethertype: u16) -> bool {
    matches!(
        ethertype,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD
    )
}

/// A view of one VLAN tag (TCI + inner EtherType).
#[derive(Clone, Copy, Debug)]
pub struct Tag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Wraps `buffer` after checking it holds the whole tag.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Tag { buffer })
    }

    /// Tag control information: priority (3 bits), DEI (1), VLAN id (12).
    #[inline(always)]
    pub fn tci(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TCI)
    }

    /// VLAN id; 0 is a priority tag (no VLAN).
    #[inline(always)]
    pub fn vid(&self) -> u16 {
        self.tci() & VID_MASK
    }

    /// EtherType of what the tag encapsulates.
    #[inline(always)]
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ETHERTYPE)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Tag<&'a T> {
    /// Everything after the tag.
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
        let t = Tag::new_checked(&[0xe0, 0x64, 0x08, 0x00, 0x45][..]).unwrap();
        assert_eq!(t.tci(), 0xe064);
        assert_eq!(t.vid(), 100);
        assert_eq!(t.ethertype(), 0x0800);
        assert_eq!(t.payload(), &[0x45]);
    }

    #[test]
    fn tpids() {
        assert!(is_tpid(0x8100) && is_tpid(0x88a8) && is_tpid(0x9100));
        assert!(!is_tpid(0x0800) && !is_tpid(0x86dd) && !is_tpid(0x8864));
    }

    #[test]
    fn short() {
        assert_eq!(
            Tag::new_checked(&[0u8, 1, 2][..]).unwrap_err(),
            Truncated { need: 4, have: 3 }
        );
    }
}
