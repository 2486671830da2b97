//! The flow key and its counters (SPEC §3).
//!
//! A flow is directional. The key is a plain, fixed-size value (48 bytes) so that the
//! table can hash it word by word and compare it with a few instructions; its layout is
//! pinned by `static_assertions` because every byte here is multiplied by the table's
//! capacity.

use core::cmp::Ordering;
use static_assertions::const_assert_eq;

/// An IP address as stored in a flow key: the family and 16 bytes (IPv4 uses the first 4,
/// the other 12 are zero, so equal addresses are equal bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Addr {
    /// 4 or 6; 0 only in an empty key.
    pub family: u8,
    /// Network-order bytes; IPv4 in `bytes[..4]`, rest zero.
    pub bytes: [u8; 16],
}

impl Addr {
    /// An IPv4 address.
    pub const fn v4(octets: [u8; 4]) -> Addr {
        let mut bytes = [0u8; 16];
        bytes[0] = octets[0];
        bytes[1] = octets[1];
        bytes[2] = octets[2];
        bytes[3] = octets[3];
        Addr { family: 4, bytes }
    }
    /// An IPv6 address.
    pub const fn v6(octets: [u8; 16]) -> Addr {
        Addr {
            family: 6,
            bytes: octets,
        }
    }
    /// True for IPv6.
    pub const fn is_v6(&self) -> bool {
        self.family == 6
    }
}

impl Ord for Addr {
    /// Numeric order, every IPv4 address before every IPv6 address (SPEC §6).
    fn cmp(&self, other: &Self) -> Ordering {
        self.family
            .cmp(&other.family)
            .then_with(|| self.bytes.cmp(&other.bytes))
    }
}
impl PartialOrd for Addr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl core::fmt::Display for Addr {
    /// IPv4 dotted quad; IPv6 in RFC 5952 form (as Go's `netip` and `inet_ntop` print it),
    /// without brackets.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.family != 6 {
            let b = &self.bytes;
            return write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
        }
        let mut w = [0u16; 8];
        for (i, word) in w.iter_mut().enumerate() {
            *word = u16::from_be_bytes([self.bytes[2 * i], self.bytes[2 * i + 1]]);
        }
        // IPv4-mapped (::ffff:a.b.c.d) prints with a dotted tail, as inet_ntop does.
        if w[..5] == [0; 5] && w[5] == 0xffff {
            let b = &self.bytes;
            return write!(f, "::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
        }
        // Longest run of zero words (length >= 2), first one on ties.
        let (mut best_start, mut best_len) = (8usize, 0usize);
        let mut i = 0;
        while i < 8 {
            if w[i] == 0 {
                let start = i;
                while i < 8 && w[i] == 0 {
                    i += 1;
                }
                if i - start > best_len {
                    best_start = start;
                    best_len = i - start;
                }
            } else {
                i += 1;
            }
        }
        if best_len < 2 {
            best_start = 8;
        }
        let mut i = 0;
        while i < 8 {
            if i == best_start {
                f.write_str("::")?;
                i += best_len;
                continue;
            }
            if i != 0 && i != best_start + best_len {
                f.write_str(":")?;
            }
            write!(f, "{:x}", w[i])?;
            i += 1;
        }
        Ok(())
    }
}

/// The key of a flow (SPEC §3). Fields that do not apply are zero, so that keys compare
/// and hash as plain bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Source address.
    pub src: Addr,
    /// Destination address.
    pub dst: Addr,
    /// Source port (TCP, UDP, and other protocols with ports); 0 otherwise.
    pub src_port: u16,
    /// Destination port; 0 when the protocol has none.
    pub dst_port: u16,
    /// Interface index when live on `any`; 0 otherwise.
    pub ifindex: u32,
    /// VLAN id (12 bits) when `-v` and the frame is tagged; 0 otherwise.
    pub vlan: u16,
    /// IP protocol number (after the IPv6 extension-header walk).
    pub proto: u8,
    /// ICMP / ICMPv6 type; 0 unless `has_icmp`.
    pub icmp_type: u8,
    /// ICMP / ICMPv6 code; 0 unless `has_icmp`.
    pub icmp_code: u8,
    /// True when the flow carries an ICMP type and code (ICMP and ICMPv6, first fragments).
    pub has_icmp: bool,
}

const_assert_eq!(core::mem::size_of::<FlowKey>(), 48);

/// IP protocol numbers the reports name.
pub mod ipproto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

impl FlowKey {
    /// The `proto` label of reports (SPEC §6): `TCP`, `UDP`, `ICMPv4`, `ICMPv6`, or for any
    /// other IP protocol `IPv4` / `IPv6` after the address family, as upstream prints it.
    pub fn proto_label(&self) -> &'static str {
        match (self.proto, self.src.is_v6()) {
            (ipproto::TCP, _) => "TCP",
            (ipproto::UDP, _) => "UDP",
            (ipproto::ICMP, false) => "ICMPv4",
            (ipproto::ICMPV6, true) => "ICMPv6",
            (_, false) => "IPv4",
            (_, true) => "IPv6",
        }
    }

    /// True when the report shows ports for this flow (TCP and UDP, as upstream does).
    pub fn shows_ports(&self) -> bool {
        matches!(self.proto, ipproto::TCP | ipproto::UDP)
    }

    /// The key order of SPEC §6: source IP, source port, destination IP, destination port,
    /// IP protocol, ICMP type, ICMP code, VLAN, interface.
    pub fn report_cmp(&self, other: &Self) -> Ordering {
        self.src
            .cmp(&other.src)
            .then(self.src_port.cmp(&other.src_port))
            .then_with(|| self.dst.cmp(&other.dst))
            .then(self.dst_port.cmp(&other.dst_port))
            .then(self.proto.cmp(&other.proto))
            .then(self.icmp_type.cmp(&other.icmp_type))
            .then(self.icmp_code.cmp(&other.icmp_code))
            .then(self.has_icmp.cmp(&other.has_icmp))
            .then(self.vlan.cmp(&other.vlan))
            .then(self.ifindex.cmp(&other.ifindex))
    }
}

/// Per-flow counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames.
    pub packets: u64,
    /// Wire bytes (SPEC §3).
    pub bytes: u64,
}

impl Counters {
    /// Adds one frame of `wire_len` bytes.
    #[inline]
    pub fn add(&mut self, wire_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(wire_len);
    }
    /// Adds another counter pair.
    #[inline]
    pub fn merge(&mut self, other: Counters) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// A flow and its counters, as the table stores and the report reads them. 64 bytes,
/// aligned to 64: in the table's array every flow is exactly one cache line, so a lookup
/// costs one line, not two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(align(64))]
pub struct Flow {
    /// The key.
    pub key: FlowKey,
    /// The counters.
    pub counters: Counters,
}

impl Flow {
    /// Report order (SPEC §6): bytes, then packets, descending; then the key ascending.
    pub fn report_cmp(&self, other: &Self) -> Ordering {
        other
            .counters
            .bytes
            .cmp(&self.counters.bytes)
            .then(other.counters.packets.cmp(&self.counters.packets))
            .then_with(|| self.key.report_cmp(&other.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn ipv6_display_follows_rfc5952() {
        let cases: &[([u8; 16], &str)] = &[
            ([0; 16], "::"),
            ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            (
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                "2001:db8::1",
            ),
            (
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0],
                "2001:db8:0:1::1:0",
            ),
            (
                [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1],
                "2001:db8:1:0:1:0:1:1",
            ),
            (
                [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd],
                "fe80::abcd",
            ),
            (
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1],
                "::ffff:192.0.2.1",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(format!("{}", Addr::v6(*bytes)), *want);
        }
        assert_eq!(format!("{}", Addr::v4([10, 0, 0, 255])), "10.0.0.255");
    }

    #[test]
    fn ipv4_sorts_before_ipv6() {
        assert!(Addr::v4([255; 4]) < Addr::v6([0; 16]));
        assert!(Addr::v4([9, 0, 0, 1]) < Addr::v4([10, 0, 0, 0]));
    }
}
