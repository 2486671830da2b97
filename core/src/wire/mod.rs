//! Zero-copy views of the headers pktstat reads, one small file per header.
//!
//! The style is smoltcp's `src/wire/`: a view wraps any `T: AsRef<[u8]>`, `new_checked`
//! performs the single length check that makes every accessor of that view infallible, and
//! field offsets are named constants. Nothing here allocates, copies a payload or panics;
//! the views only expose the fields the decoder needs (SPEC §2), not whole protocols.
//!
//! A view's only failure is [`Truncated`]: the caller ([`crate::decode`]) knows which layer it
//! was at and turns that into a precise [`crate::decode::Malformed`].
//!
//! Accessors are `#[inline(always)]`: `decode` runs tens of millions of times a second, and after
//! inlining the compiler sees the one length check and drops the per-field bounds checks.

pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod null_loop;
pub mod ports;
pub mod pppoe;
pub mod sll;
pub mod sll2;
pub mod vlan;

#[cfg(test)]
pub(crate) mod build;
#[cfg(test)]
mod proptests;

/// A header needed `need` bytes from its start but only `have` were captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// Bytes the header (or the field being read) needs, counted from the header's start.
    pub need: usize,
    /// Bytes available from the header's start.
    pub have: usize,
}

impl core::fmt::Display for Truncated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "needs {} bytes, {} captured", self.need, self.have)
    }
}

/// `Ok` when `data` holds at least `need` bytes: the one length check of a view.
#[inline(always)]
pub(crate) const fn check(data: &[u8], need: usize) -> Result<(), Truncated> {
    if data.len() < need {
        Err(Truncated {
            need,
            have: data.len(),
        })
    } else {
        Ok(())
    }
}

/// Big-endian `u16` at `at`. Callers have checked the length.
#[inline(always)]
pub(crate) fn be16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

/// Big-endian `u32` at `at`. Callers have checked the length.
#[inline(always)]
pub(crate) fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// EtherType values the decoder dispatches on (IEEE registry, network byte order).
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ outer tag).
    pub const QINQ: u16 = 0x88A8;
    /// Pre-standard QinQ outer tag some switches still send.
    pub const QINQ_OLD: u16 = 0x9100;
    /// PPPoE discovery stage (PADI, PADO…): never carries IP.
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage: PPP frames, possibly carrying IP.
    pub const PPPOE_SESSION: u16 = 0x8864;
}

/// IP protocol numbers (IANA) that change how the decoder reads what follows.
pub mod ip_proto {
    /// IPv6 hop-by-hop options.
    pub const HOPOPT: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 routing header.
    pub const IPV6_ROUTE: u8 = 43;
    /// IPv6 fragment header.
    pub const IPV6_FRAG: u8 = 44;
    /// Encapsulating security payload: ends the IPv6 extension walk.
    pub const ESP: u8 = 50;
    /// Authentication header (length in 4-byte units).
    pub const AH: u8 = 51;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 "no next header": ends the walk.
    pub const IPV6_NONXT: u8 = 59;
    /// IPv6 destination options.
    pub const IPV6_OPTS: u8 = 60;
}
