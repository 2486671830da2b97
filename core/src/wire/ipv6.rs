//! IPv6 fixed header (RFC 8200) and the extension-header walk that finds the upper-layer
//! protocol.
//!
//! The walk follows hop-by-hop (0), routing (43), fragment (44), destination options (60)
//! and AH (51). ESP (50) and "no next header" (59) end it, since nothing after them is
//! readable; any other value is the upper-layer protocol. A fragment header with a non-zero
//! offset ends it too: the rest of the chain is in the first fragment.
//!
//! Only what is needed to reach the protocol is required to be captured: the next-header
//! and length bytes of each extension header (all 8 bytes of a fragment header, whose
//! identification is a key). A header whose body runs past a short snap length is fine as
//! long as nothing after it has to be read. Every extension header is at least 8 bytes, so
//! the walk advances on every step and ends within `len / 8` steps.

use super::{be16, be32, check, ip_proto, Truncated};

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// A view of an IPv6 fixed header.
#[derive(Clone, Copy, Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking it holds the fixed header. The version is not checked.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), HEADER_LEN)?;
        Ok(Packet { buffer })
    }

    /// Version nibble (6 for a real IPv6 header).
    #[inline(always)]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW] >> 4
    }

    /// Payload length as claimed (not trusted; 0 for jumbograms).
    #[inline(always)]
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PAYLOAD_LEN)
    }

    /// The first next-header value.
    #[inline(always)]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hop limit.
    #[inline(always)]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    #[inline(always)]
    pub fn src(&self) -> [u8; 16] {
        let mut a = [0; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC]);
        a
    }

    /// Destination address.
    #[inline(always)]
    pub fn dst(&self) -> [u8; 16] {
        let mut a = [0; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST]);
        a
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Everything after the fixed header.
    #[inline(always)]
    pub fn payload(&self) -> &'a [u8] {
        let buffer: &'a T = self.buffer;
        &buffer.as_ref()[HEADER_LEN..]
    }
}

/// Length of the part of a generic extension header the walk reads (next header, length).
pub const EXT_MIN_LEN: usize = 2;

/// A view of a hop-by-hop, routing, destination-options or AH header.
#[derive(Clone, Copy, Debug)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// Wraps `buffer` after checking it holds the next-header and length bytes.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), EXT_MIN_LEN)?;
        Ok(ExtHeader { buffer })
    }

    /// Next header.
    #[inline(always)]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The raw length byte.
    #[inline(always)]
    pub fn len_field(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Whole header length in bytes when this header is of type `kind`: AH counts 4-byte
    /// units minus 2 (RFC 4302), the others 8-byte units minus 1. At least 8.
    #[inline(always)]
    pub fn header_len(&self, kind: u8) -> usize {
        let n = usize::from(self.len_field());
        if kind == ip_proto::AH {
            (n + 2) * 4
        } else {
            (n + 1) * 8
        }
    }
}

/// Length of the fragment header.
pub const FRAG_HEADER_LEN: usize = 8;

/// A view of the fragment extension header.
#[derive(Clone, Copy, Debug)]
pub struct FragHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragHeader<T> {
    /// Wraps `buffer` after checking it holds the whole fragment header.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        check(buffer.as_ref(), FRAG_HEADER_LEN)?;
        Ok(FragHeader { buffer })
    }

    /// Next header.
    #[inline(always)]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Fragment offset in 8-byte units.
    #[inline(always)]
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), 2) >> 3
    }

    /// The M (more fragments) flag.
    #[inline(always)]
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), 2) & 1 != 0
    }

    /// Identification.
    #[inline(always)]
    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

/// Fragmentation seen during the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frag {
    /// No fragment header, or an atomic one (offset 0, no more fragments).
    None,
    /// Offset 0 with more fragments: the upper-layer header follows.
    First(u32),
    /// Non-zero offset: nothing after the fragment header is an upper-layer header.
    Later(u32),
}

/// Where the extension walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upper {
    /// The upper-layer protocol (or 50 / 59, or a later fragment's next header).
    pub proto: u8,
    /// Offset of the upper-layer header from the start of the IPv6 header. May lie past
    /// the captured bytes: that only matters if something there has to be read.
    pub offset: usize,
    /// Fragmentation.
    pub frag: Frag,
}

/// Walks the extension headers of `packet` (the bytes from the IPv6 header on, at least
/// [`HEADER_LEN`] of them for a meaningful answer), starting from next header `first`.
/// A truncation is reported from the start of the IPv6 header.
#[inline(always)]
pub fn walk(packet: &[u8], first: u8) -> Result<Upper, Truncated> {
    let mut next = first;
    let mut offset = HEADER_LEN;
    let mut frag = Frag::None;
    loop {
        match next {
            ip_proto::HOPOPT | ip_proto::IPV6_ROUTE | ip_proto::IPV6_OPTS | ip_proto::AH => {
                let h =
                    ExtHeader::new_checked(packet.get(offset..).unwrap_or(&[])).map_err(|_| {
                        Truncated {
                            need: offset + EXT_MIN_LEN,
                            have: packet.len(),
                        }
                    })?;
                offset += h.header_len(next);
                next = h.next_header();
            }
            ip_proto::IPV6_FRAG => {
                let f =
                    FragHeader::new_checked(packet.get(offset..).unwrap_or(&[])).map_err(|_| {
                        Truncated {
                            need: offset + FRAG_HEADER_LEN,
                            have: packet.len(),
                        }
                    })?;
                offset += FRAG_HEADER_LEN;
                next = f.next_header();
                if f.frag_offset() != 0 {
                    return Ok(Upper {
                        proto: next,
                        offset,
                        frag: Frag::Later(f.ident()),
                    });
                }
                if f.more_frags() {
                    frag = Frag::First(f.ident());
                }
            }
            _ => {
                return Ok(Upper {
                    proto: next,
                    offset,
                    frag,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(next: u8) -> [u8; 40] {
        let mut h = [0u8; 40];
        h[0] = 0x60;
        h[4] = 0x00;
        h[5] = 0x20;
        h[6] = next;
        h[7] = 64;
        h[8] = 0x20;
        h[9] = 0x01;
        h[23] = 1;
        h[24] = 0x20;
        h[25] = 0x01;
        h[39] = 2;
        h
    }

    fn chain(first: u8, rest: &[u8]) -> ([u8; 128], usize) {
        let mut b = [0u8; 128];
        b[..40].copy_from_slice(&fixed(first));
        b[40..40 + rest.len()].copy_from_slice(rest);
        (b, 40 + rest.len())
    }

    #[test]
    fn fields() {
        let h = fixed(6);
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.payload_len(), 32);
        assert_eq!(p.next_header(), 6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src()[..2], [0x20, 0x01]);
        assert_eq!(p.src()[15], 1);
        assert_eq!(p.dst()[15], 2);
        assert!(p.payload().is_empty());
        assert_eq!(
            Packet::new_checked(&h[..39]).unwrap_err(),
            Truncated { need: 40, have: 39 }
        );
    }

    #[test]
    fn no_extensions() {
        let h = fixed(17);
        assert_eq!(
            walk(&h, 17),
            Ok(Upper {
                proto: 17,
                offset: 40,
                frag: Frag::None
            })
        );
    }

    #[test]
    fn every_extension_kind() {
        // hop-by-hop (8) -> routing (24) -> dst opts (8) -> AH (len 4 => 24) -> TCP
        let mut rest = [0u8; 64];
        rest[0] = 43;
        rest[1] = 0;
        rest[8] = 60;
        rest[9] = 2;
        rest[32] = 51;
        rest[33] = 0;
        rest[40] = 6;
        rest[41] = 4;
        let (b, n) = chain(0, &rest);
        assert_eq!(
            walk(&b[..n], 0),
            Ok(Upper {
                proto: 6,
                offset: 40 + 64,
                frag: Frag::None
            })
        );
    }

    #[test]
    fn esp_and_no_next_end_the_walk() {
        let (b, n) = chain(60, &[50, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(walk(&b[..n], 60).unwrap().proto, 50);
        let (b, n) = chain(0, &[59, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            walk(&b[..n], 0),
            Ok(Upper {
                proto: 59,
                offset: 48,
                frag: Frag::None
            })
        );
    }

    #[test]
    fn fragments() {
        // first: offset 0, M=1
        let (b, n) = chain(44, &[17, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            walk(&b[..n], 44),
            Ok(Upper {
                proto: 17,
                offset: 48,
                frag: Frag::First(0xdead_beef)
            })
        );
        // later: offset 185 (1480 bytes), M=1, then a hop-by-hop value that must not be walked
        let (b, n) = chain(44, &[0, 0, 0x05, 0xc9, 0, 0, 0, 7]);
        assert_eq!(
            walk(&b[..n], 44),
            Ok(Upper {
                proto: 0,
                offset: 48,
                frag: Frag::Later(7)
            })
        );
        // atomic: offset 0, M=0
        let (b, n) = chain(44, &[6, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(walk(&b[..n], 44).unwrap().frag, Frag::None);
    }

    #[test]
    fn chain_off_the_end() {
        // hop-by-hop claims 16 bytes, then the next header's bytes are missing
        let (b, n) = chain(0, &[60, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(walk(&b[..n], 0), Err(Truncated { need: 58, have: 48 }));
        // only one byte of the first extension header
        let (b, _) = chain(0, &[6]);
        assert_eq!(walk(&b[..41], 0), Err(Truncated { need: 42, have: 41 }));
        // nothing after the fixed header
        assert_eq!(walk(&b[..40], 43), Err(Truncated { need: 42, have: 40 }));
        // a fragment header cut short
        let (b, _) = chain(44, &[6, 0, 0, 1, 0, 0, 0]);
        assert_eq!(walk(&b[..47], 44), Err(Truncated { need: 48, have: 47 }));
    }

    #[test]
    fn last_header_body_may_be_cut() {
        // routing header claims 24 bytes, only its first 2 captured: the protocol is known.
        let (b, _) = chain(43, &[47, 2]);
        assert_eq!(
            walk(&b[..42], 43),
            Ok(Upper {
                proto: 47,
                offset: 64,
                frag: Frag::None
            })
        );
    }

    #[test]
    fn zero_length_headers_still_advance() {
        let mut rest = [0u8; 48];
        for i in 0..5 {
            rest[i * 8] = 60; // each dst-opts header points at another, length 0 = 8 bytes
        }
        rest[40] = 58;
        let (b, n) = chain(60, &rest);
        assert_eq!(
            walk(&b[..n], 60),
            Ok(Upper {
                proto: 58,
                offset: 88,
                frag: Frag::None
            })
        );
    }
}
