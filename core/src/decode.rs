//! One frame in, one [`Decoded`] out: the link layer, the outer IP header and the
//! transport key fields, following SPEC §2. Never panics, never allocates.
//!
//! OWNER: wire/decode helper. The types below are the contract the engine relies on;
//! the decoding itself is filled in by the wire work.

use crate::flow::Addr;
use crate::link::{FrameMeta, LinkType};

/// Transport-level key fields of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// No ports and no ICMP type: other protocols, and non-first fragments.
    None,
    /// TCP / UDP ports.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMPv4 / ICMPv6 type and code.
    Icmp {
        /// Type.
        ty: u8,
        /// Code.
        code: u8,
    },
}

/// Where a packet stands in IP fragmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// Not a fragment.
    None,
    /// The first fragment (offset 0, more fragments): carries the transport header.
    First {
        /// IPv4 identification (16 bits) or IPv6 fragment identification.
        id: u32,
    },
    /// A fragment with a non-zero offset: no transport header.
    Later {
        /// IPv4 identification or IPv6 fragment identification.
        id: u32,
    },
}

/// What the decoder learnt about an IP frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// Outer IP source.
    pub src: Addr,
    /// Outer IP destination.
    pub dst: Addr,
    /// IP protocol: IPv4 `protocol`, or for IPv6 the header that ended the extension walk.
    pub proto: u8,
    /// Outer VLAN id (0 when untagged or priority-tagged).
    pub vlan: u16,
    /// Ports or ICMP type/code.
    pub transport: Transport,
    /// Fragmentation.
    pub fragment: Fragment,
}

/// The layer at which a malformed frame failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Ethernet, VLAN, PPPoE, SLL, NULL…
    Link,
    /// IPv4 header.
    Ipv4,
    /// IPv6 header or extension headers.
    Ipv6,
    /// TCP / UDP / ICMP key fields.
    Transport,
}

/// Why a frame is malformed (SPEC §2): which layer, and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// A header or key field ran past the captured bytes: `need` bytes at this layer,
    /// `have` available.
    Truncated {
        /// Layer.
        layer: Layer,
        /// Bytes needed from the start of this layer's header.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// IPv4 IHL below 5.
    BadIhl(u8),
    /// The IP version nibble does not match what the link said.
    VersionMismatch {
        /// What the link layer announced.
        expected: u8,
        /// What the header said.
        found: u8,
    },
}

/// The decoder's verdict on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// IPv4 or IPv6, with its key fields.
    Ip(PacketInfo),
    /// Not IP (ARP, LLDP, STP, an unknown link type…).
    NonIp,
    /// Malformed: counted in the totals and the `malformed` counter, in no flow.
    Malformed(Malformed),
}

/// Decodes one frame. `meta.vlan_tci` is the stripped outer tag, if any.
pub fn decode(link: LinkType, frame: &[u8], meta: &FrameMeta) -> Decoded {
    let _ = (link, frame, meta);
    Decoded::NonIp
}
