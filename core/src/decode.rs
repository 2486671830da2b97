//! One frame in, one [`Decoded`] out: the link layer, the outer IP header and the
//! transport key fields, following SPEC §2. Never panics, never allocates.
//!
//! The walk is link header(s) → at most two VLAN tags → optional PPPoE → the outer IP
//! header → the transport key fields. Each step is one [`crate::wire`] view: one length
//! check, then plain reads. Only the outer IP header is accounted (SPEC §2): IP-in-IP,
//! 6in4 and GRE are flows of protocol 4, 41 and 47 between the outer addresses.
//!
//! What makes a frame malformed is narrow on purpose: a link header too short for its
//! link, an IPv4 IHL below 5, an IP version the link did not announce, or a key field
//! (addresses, ports, ICMP type/code, an IPv6 extension header on the way to the
//! protocol) past the captured bytes. Every length that merely disagrees with the
//! capture (IPv4 total length, IPv6 payload length, PPPoE length, UDP length, TCP data
//! offset) is ignored, and IPv4 options that run past a short snap length only matter
//! when the transport header has to be read behind them.

use crate::flow::Addr;
use crate::link::{FrameMeta, LinkType};
use crate::wire::{
    ethernet, ethertype, icmp, ip_proto, ipv4, ipv6, null_loop, ports, pppoe, sll, sll2, vlan,
    Truncated,
};

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
    /// A raw-IP link (which announces no version) carried a version other than 4 or 6.
    UnknownVersion(u8),
}

impl core::fmt::Display for Layer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Layer::Link => "link header",
            Layer::Ipv4 => "IPv4 header",
            Layer::Ipv6 => "IPv6 header",
            Layer::Transport => "transport header",
        })
    }
}

impl core::fmt::Display for Malformed {
    /// One line, e.g. "IPv4 header truncated: needs 20 bytes, 14 captured".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Malformed::Truncated { layer, need, have } => {
                write!(f, "{layer} truncated: needs {need} bytes, {have} captured")
            }
            Malformed::BadIhl(ihl) => write!(f, "IPv4 header length {ihl} is below 5"),
            Malformed::VersionMismatch { expected, found } => {
                write!(
                    f,
                    "IP version {found} where the link announced IPv{expected}"
                )
            }
            Malformed::UnknownVersion(v) => write!(f, "IP version {v} on a raw IP link"),
        }
    }
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
#[inline]
pub fn decode(link: LinkType, frame: &[u8], meta: &FrameMeta) -> Decoded {
    let result = match link_layer(link, frame, meta.vlan_tci) {
        Ok((Net::V4(data), outer)) => decode_ipv4(data, vid(outer)),
        Ok((Net::V6(data), outer)) => decode_ipv6(data, vid(outer)),
        Ok((Net::NonIp, _)) => return Decoded::NonIp,
        Err(m) => Err(m),
    };
    match result {
        Ok(info) => Decoded::Ip(info),
        Err(m) => Decoded::Malformed(m),
    }
}

/// What the link layer announced: the network header and its version, or not IP.
enum Net<'a> {
    V4(&'a [u8]),
    V6(&'a [u8]),
    NonIp,
}

/// At most this many VLAN tags are read from the frame itself; a third is non-IP.
const MAX_TAGS: usize = 2;

#[inline(always)]
fn truncated(layer: Layer) -> impl Fn(Truncated) -> Malformed {
    move |t| Malformed::Truncated {
        layer,
        need: t.need,
        have: t.have,
    }
}

/// The VLAN id of the outer tag's TCI; untagged and priority-tagged are both 0.
#[inline(always)]
fn vid(outer: Option<u16>) -> u16 {
    outer.map_or(0, |tci| tci & vlan::VID_MASK)
}

/// Strips the link header(s): returns the network header and the outer tag's TCI.
#[inline(always)]
fn link_layer(
    link: LinkType,
    frame: &[u8],
    stripped: Option<u16>,
) -> Result<(Net<'_>, Option<u16>), Malformed> {
    let net = match link {
        LinkType::Ethernet => {
            let e = ethernet::Frame::new_checked(frame).map_err(truncated(Layer::Link))?;
            return by_ethertype(e.ethertype(), e.payload(), stripped);
        }
        LinkType::Sll => {
            let h = sll::Header::new_checked(frame).map_err(truncated(Layer::Link))?;
            return by_ethertype(h.protocol(), h.payload(), stripped);
        }
        LinkType::Sll2 => {
            let h = sll2::Header::new_checked(frame).map_err(truncated(Layer::Link))?;
            return by_ethertype(h.protocol(), h.payload(), stripped);
        }
        LinkType::Raw => match frame.first() {
            None => {
                return Err(Malformed::Truncated {
                    layer: Layer::Link,
                    need: 1,
                    have: 0,
                })
            }
            Some(b) => match b >> 4 {
                4 => Net::V4(frame),
                6 => Net::V6(frame),
                v => return Err(Malformed::UnknownVersion(v)),
            },
        },
        LinkType::Ipv4 | LinkType::Network(ethertype::IPV4) => Net::V4(frame),
        LinkType::Ipv6 | LinkType::Network(ethertype::IPV6) => Net::V6(frame),
        LinkType::Null | LinkType::Loop => {
            let h = null_loop::Header::new_checked(frame).map_err(truncated(Layer::Link))?;
            let version = if link == LinkType::Null {
                h.null_ip_version()
            } else {
                h.loop_ip_version()
            };
            match version {
                Some(4) => Net::V4(h.payload()),
                Some(6) => Net::V6(h.payload()),
                _ => Net::NonIp,
            }
        }
        LinkType::Network(_) | LinkType::Unknown(_) => Net::NonIp,
    };
    Ok((net, stripped))
}

/// Everything after an EtherType-carrying link header: VLAN tags, PPPoE.
#[inline(always)]
fn by_ethertype(
    mut ty: u16,
    mut data: &[u8],
    stripped: Option<u16>,
) -> Result<(Net<'_>, Option<u16>), Malformed> {
    let mut outer = stripped;
    let mut tags = 0;
    while vlan::is_tpid(ty) {
        if tags == MAX_TAGS {
            return Ok((Net::NonIp, outer));
        }
        let tag = vlan::Tag::new_checked(data).map_err(truncated(Layer::Link))?;
        if outer.is_none() {
            outer = Some(tag.tci());
        }
        ty = tag.ethertype();
        data = tag.payload();
        tags += 1;
    }
    let net = match ty {
        ethertype::IPV4 => Net::V4(data),
        ethertype::IPV6 => Net::V6(data),
        ethertype::PPPOE_SESSION => {
            let s = pppoe::Session::new_checked(data).map_err(truncated(Layer::Link))?;
            match s.ppp_protocol() {
                pppoe::PPP_IPV4 => Net::V4(s.payload()),
                pppoe::PPP_IPV6 => Net::V6(s.payload()),
                _ => Net::NonIp,
            }
        }
        _ => Net::NonIp,
    };
    Ok((net, outer))
}

/// True when `proto` has transport key fields under the IP version whose ICMP is `icmp`.
#[inline(always)]
fn has_transport(proto: u8, icmp: u8) -> bool {
    proto == ip_proto::TCP || proto == ip_proto::UDP || proto == icmp
}

/// The transport key fields of `proto` at the start of `l4`.
#[inline(always)]
fn transport(proto: u8, icmp: u8, l4: &[u8]) -> Result<Transport, Malformed> {
    if proto == ip_proto::TCP || proto == ip_proto::UDP {
        let p = ports::Ports::new_checked(l4).map_err(truncated(Layer::Transport))?;
        Ok(Transport::Ports {
            src: p.src(),
            dst: p.dst(),
        })
    } else if proto == icmp {
        let i = icmp::Icmp::new_checked(l4).map_err(truncated(Layer::Transport))?;
        Ok(Transport::Icmp {
            ty: i.ty(),
            code: i.code(),
        })
    } else {
        Ok(Transport::None)
    }
}

/// A header too short for IP version `expected`: a wrong version nibble is the better
/// diagnosis when there is one (off the hot path).
#[cold]
fn short_ip(expected: u8, data: &[u8], layer: Layer, t: Truncated) -> Malformed {
    match data.first() {
        Some(b) if b >> 4 != expected => Malformed::VersionMismatch {
            expected,
            found: b >> 4,
        },
        _ => truncated(layer)(t),
    }
}

/// The outer IPv4 header and its transport key fields; options skipped by IHL, a
/// non-first fragment carries no transport.
#[inline(always)]
fn decode_ipv4(data: &[u8], vlan: u16) -> Result<PacketInfo, Malformed> {
    let p = match ipv4::Packet::new_checked(data) {
        Ok(p) => p,
        Err(t) => return Err(short_ip(4, data, Layer::Ipv4, t)),
    };
    let version = p.version();
    if version != 4 {
        return Err(Malformed::VersionMismatch {
            expected: 4,
            found: version,
        });
    }
    let ihl = p.ihl();
    if ihl < ipv4::MIN_IHL {
        return Err(Malformed::BadIhl(ihl));
    }
    let proto = p.protocol();
    let id = u32::from(p.ident());
    let (fragment, transport) = if p.frag_offset() != 0 {
        (Fragment::Later { id }, Transport::None)
    } else {
        let fragment = if p.more_frags() {
            Fragment::First { id }
        } else {
            Fragment::None
        };
        let transport = match p.payload() {
            Some(l4) => transport(proto, ip_proto::ICMP, l4)?,
            None if has_transport(proto, ip_proto::ICMP) => {
                return Err(Malformed::Truncated {
                    layer: Layer::Ipv4,
                    need: p.header_len(),
                    have: data.len(),
                })
            }
            None => Transport::None,
        };
        (fragment, transport)
    };
    Ok(PacketInfo {
        src: Addr::v4(p.src()),
        dst: Addr::v4(p.dst()),
        proto,
        vlan,
        transport,
        fragment,
    })
}

/// The outer IPv6 header, its extension chain and the transport key fields.
#[inline(always)]
fn decode_ipv6(data: &[u8], vlan: u16) -> Result<PacketInfo, Malformed> {
    let p = match ipv6::Packet::new_checked(data) {
        Ok(p) => p,
        Err(t) => return Err(short_ip(6, data, Layer::Ipv6, t)),
    };
    let version = p.version();
    if version != 6 {
        return Err(Malformed::VersionMismatch {
            expected: 6,
            found: version,
        });
    }
    let up = ipv6::walk(data, p.next_header()).map_err(truncated(Layer::Ipv6))?;
    let l4 = data.get(up.offset..).unwrap_or(&[]);
    let (fragment, transport) = match up.frag {
        ipv6::Frag::Later(id) => (Fragment::Later { id }, Transport::None),
        frag => {
            let fragment = match frag {
                ipv6::Frag::First(id) => Fragment::First { id },
                _ => Fragment::None,
            };
            (fragment, transport(up.proto, ip_proto::ICMPV6, l4)?)
        }
    };
    Ok(PacketInfo {
        src: Addr::v6(p.src()),
        dst: Addr::v6(p.dst()),
        proto: up.proto,
        vlan,
        transport,
        fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build::*;
    use std::vec::Vec;

    const TCP: u8 = 6;
    const UDP: u8 = 17;
    const PORTS: [u8; 8] = [0x30, 0x39, 0x00, 0x50, 0, 0, 0, 0]; // 12345 -> 80

    fn meta() -> FrameMeta {
        FrameMeta::default()
    }

    fn dec(link: LinkType, frame: &[u8]) -> Decoded {
        decode(link, frame, &meta())
    }

    fn info(d: Decoded) -> PacketInfo {
        match d {
            Decoded::Ip(i) => i,
            other => panic!("expected IP, got {other:?}"),
        }
    }

    fn v4_tcp() -> PacketInfo {
        PacketInfo {
            src: Addr::v4([192, 0, 2, 1]),
            dst: Addr::v4([198, 51, 100, 2]),
            proto: TCP,
            vlan: 0,
            transport: Transport::Ports {
                src: 12345,
                dst: 80,
            },
            fragment: Fragment::None,
        }
    }

    fn v6_udp() -> PacketInfo {
        PacketInfo {
            src: Addr::v6(V6_SRC),
            dst: Addr::v6(V6_DST),
            proto: UDP,
            vlan: 0,
            transport: Transport::Ports {
                src: 12345,
                dst: 80,
            },
            fragment: Fragment::None,
        }
    }

    fn trunc(layer: Layer, need: usize, have: usize) -> Decoded {
        Decoded::Malformed(Malformed::Truncated { layer, need, have })
    }

    #[test]
    fn ethernet_v4_and_v6() {
        let f = ether(&[], 0x0800, &ipv4_simple(TCP, &PORTS));
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::Ip(v4_tcp()));
        let f = ether(&[], 0x86dd, &ipv6_simple(UDP, &PORTS));
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::Ip(v6_udp()));
    }

    #[test]
    fn ethernet_non_ip() {
        assert_eq!(
            dec(LinkType::Ethernet, &ether(&[], 0x0806, &[0; 28])),
            Decoded::NonIp
        );
        assert_eq!(
            dec(LinkType::Ethernet, &ether(&[], 0x88cc, &[])),
            Decoded::NonIp
        );
        // 802.3 length field (STP over LLC)
        assert_eq!(
            dec(LinkType::Ethernet, &ether(&[], 0x0026, &[0x42; 38])),
            Decoded::NonIp
        );
        // PPPoE discovery
        assert_eq!(
            dec(
                LinkType::Ethernet,
                &ether(&[], 0x8863, &[0x11, 0x09, 0, 0, 0, 0])
            ),
            Decoded::NonIp
        );
    }

    #[test]
    fn one_and_two_tags() {
        for tpid in [0x8100, 0x88a8, 0x9100] {
            let f = ether(&[(tpid, 0x2064)], 0x0800, &ipv4_simple(TCP, &PORTS));
            assert_eq!(info(dec(LinkType::Ethernet, &f)).vlan, 100);
        }
        let f = ether(
            &[(0x88a8, 0x0010), (0x8100, 0x0020)],
            0x86dd,
            &ipv6_simple(UDP, &PORTS),
        );
        assert_eq!(
            dec(LinkType::Ethernet, &f),
            Decoded::Ip(PacketInfo {
                vlan: 16,
                ..v6_udp()
            })
        );
        // a third tag is not decoded
        let f = ether(
            &[(0x88a8, 1), (0x8100, 2), (0x8100, 3)],
            0x0800,
            &ipv4_simple(TCP, &PORTS),
        );
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::NonIp);
    }

    #[test]
    fn priority_tag_is_untagged() {
        let f = ether(&[(0x8100, 0xa000)], 0x0800, &ipv4_simple(TCP, &PORTS));
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::Ip(v4_tcp()));
    }

    #[test]
    fn stripped_tag_is_outer() {
        let m = FrameMeta {
            vlan_tci: Some(0x3007),
            ..meta()
        };
        let f = ether(&[], 0x0800, &ipv4_simple(TCP, &PORTS));
        assert_eq!(info(decode(LinkType::Ethernet, &f, &m)).vlan, 7);
        let f = ether(&[(0x8100, 200)], 0x0800, &ipv4_simple(TCP, &PORTS));
        assert_eq!(info(decode(LinkType::Ethernet, &f, &m)).vlan, 7);
        // a stripped priority tag leaves the frame untagged, even with an inner tag
        let m0 = FrameMeta {
            vlan_tci: Some(0xe000),
            ..meta()
        };
        assert_eq!(info(decode(LinkType::Ethernet, &f, &m0)).vlan, 0);
    }

    #[test]
    fn pppoe_v4_v6_and_other() {
        let f = ether(&[], 0x8864, &pppoe(0x0021, &ipv4_simple(TCP, &PORTS)));
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::Ip(v4_tcp()));
        let f = ether(
            &[(0x8100, 35)],
            0x8864,
            &pppoe(0x0057, &ipv6_simple(UDP, &PORTS)),
        );
        assert_eq!(
            dec(LinkType::Ethernet, &f),
            Decoded::Ip(PacketInfo {
                vlan: 35,
                ..v6_udp()
            })
        );
        // LCP
        let f = ether(&[], 0x8864, &pppoe(0xc021, &[1, 1, 0, 4]));
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::NonIp);
        // PPP says IPv4, header says 6
        let f = ether(&[], 0x8864, &pppoe(0x0021, &ipv6_simple(UDP, &PORTS)));
        assert_eq!(
            dec(LinkType::Ethernet, &f),
            Decoded::Malformed(Malformed::VersionMismatch {
                expected: 4,
                found: 6
            })
        );
        // PPPoE header cut short
        let f = ether(&[], 0x8864, &[0x11, 0, 0, 1, 0, 2, 0]);
        assert_eq!(dec(LinkType::Ethernet, &f), trunc(Layer::Link, 8, 7));
    }

    #[test]
    fn sll_and_sll2() {
        let f = sll(&[], 0x0800, &ipv4_simple(TCP, &PORTS));
        assert_eq!(dec(LinkType::Sll, &f), Decoded::Ip(v4_tcp()));
        let f = sll2(&[], 0x86dd, &ipv6_simple(UDP, &PORTS));
        assert_eq!(dec(LinkType::Sll2, &f), Decoded::Ip(v6_udp()));
        let f = sll(&[(0x8100, 9)], 0x86dd, &ipv6_simple(UDP, &PORTS));
        assert_eq!(info(dec(LinkType::Sll, &f)).vlan, 9);
        let f = sll2(
            &[(0x88a8, 10), (0x8100, 11)],
            0x8864,
            &pppoe(0x0021, &ipv4_simple(TCP, &PORTS)),
        );
        assert_eq!(
            dec(LinkType::Sll2, &f),
            Decoded::Ip(PacketInfo {
                vlan: 10,
                ..v4_tcp()
            })
        );
        // ETH_P_802_2
        assert_eq!(
            dec(LinkType::Sll, &sll(&[], 0x0004, &[0x42, 0x42, 3])),
            Decoded::NonIp
        );
        assert_eq!(dec(LinkType::Sll, &f[..15]), trunc(Layer::Link, 16, 15));
        assert_eq!(dec(LinkType::Sll2, &f[..19]), trunc(Layer::Link, 20, 19));
    }

    #[test]
    fn null_both_orders_and_loop() {
        let p4 = ipv4_simple(TCP, &PORTS);
        let p6 = ipv6_simple(UDP, &PORTS);
        assert_eq!(
            dec(LinkType::Null, &null(2u32.to_le_bytes(), &p4)),
            Decoded::Ip(v4_tcp())
        );
        assert_eq!(
            dec(LinkType::Null, &null(2u32.to_be_bytes(), &p4)),
            Decoded::Ip(v4_tcp())
        );
        for af in [10u32, 24, 28, 30] {
            assert_eq!(
                dec(LinkType::Null, &null(af.to_le_bytes(), &p6)),
                Decoded::Ip(v6_udp())
            );
            assert_eq!(
                dec(LinkType::Null, &null(af.to_be_bytes(), &p6)),
                Decoded::Ip(v6_udp())
            );
            assert_eq!(
                dec(LinkType::Loop, &null(af.to_be_bytes(), &p6)),
                Decoded::Ip(v6_udp())
            );
            assert_eq!(
                dec(LinkType::Loop, &null(af.to_le_bytes(), &p6)),
                Decoded::NonIp
            );
        }
        assert_eq!(
            dec(LinkType::Loop, &null(2u32.to_be_bytes(), &p4)),
            Decoded::Ip(v4_tcp())
        );
        // AF_INET announcing an IPv6 header
        assert_eq!(
            dec(LinkType::Null, &null(2u32.to_le_bytes(), &p6)),
            Decoded::Malformed(Malformed::VersionMismatch {
                expected: 4,
                found: 6
            })
        );
        // AF_IPX and friends
        assert_eq!(
            dec(LinkType::Null, &null(23u32.to_le_bytes(), &p4)),
            Decoded::NonIp
        );
        assert_eq!(dec(LinkType::Null, &[2, 0, 0]), trunc(Layer::Link, 4, 3));
        assert_eq!(dec(LinkType::Loop, &[]), trunc(Layer::Link, 4, 0));
    }

    #[test]
    fn raw_and_versioned_links() {
        let p4 = ipv4_simple(TCP, &PORTS);
        let p6 = ipv6_simple(UDP, &PORTS);
        assert_eq!(dec(LinkType::Raw, &p4), Decoded::Ip(v4_tcp()));
        assert_eq!(dec(LinkType::Raw, &p6), Decoded::Ip(v6_udp()));
        assert_eq!(dec(LinkType::Ipv4, &p4), Decoded::Ip(v4_tcp()));
        assert_eq!(dec(LinkType::Ipv6, &p6), Decoded::Ip(v6_udp()));
        assert_eq!(
            dec(LinkType::Ipv4, &p6),
            Decoded::Malformed(Malformed::VersionMismatch {
                expected: 4,
                found: 6
            })
        );
        assert_eq!(dec(LinkType::Ipv6, &p6[..39]), trunc(Layer::Ipv6, 40, 39));
        let mut bad = p4.clone();
        bad[0] = 0x55;
        assert_eq!(
            dec(LinkType::Raw, &bad),
            Decoded::Malformed(Malformed::UnknownVersion(5))
        );
        assert_eq!(
            dec(LinkType::Ipv6, &bad),
            Decoded::Malformed(Malformed::VersionMismatch {
                expected: 6,
                found: 5
            })
        );
        assert_eq!(dec(LinkType::Raw, &[]), trunc(Layer::Link, 1, 0));
        assert_eq!(dec(LinkType::Raw, &[0x45]), trunc(Layer::Ipv4, 20, 1));
    }

    #[test]
    fn network_and_unknown() {
        let p4 = ipv4_simple(TCP, &PORTS);
        let p6 = ipv6_simple(UDP, &PORTS);
        assert_eq!(dec(LinkType::Network(0x0800), &p4), Decoded::Ip(v4_tcp()));
        assert_eq!(dec(LinkType::Network(0x86dd), &p6), Decoded::Ip(v6_udp()));
        assert_eq!(
            dec(LinkType::Network(0x86dd), &p4),
            Decoded::Malformed(Malformed::VersionMismatch {
                expected: 6,
                found: 4
            })
        );
        assert_eq!(dec(LinkType::Network(0x0806), &p4), Decoded::NonIp);
        assert_eq!(dec(LinkType::Unknown(147), &p4), Decoded::NonIp);
        assert_eq!(dec(LinkType::Unknown(147), &[]), Decoded::NonIp);
    }

    #[test]
    fn short_at_each_layer() {
        let f = ether(
            &[(0x8100, 5), (0x8100, 6)],
            0x0800,
            &ipv4_simple(UDP, &PORTS),
        );
        let cases: [(usize, Decoded); 8] = [
            (0, trunc(Layer::Link, 14, 0)),
            (13, trunc(Layer::Link, 14, 13)),
            (17, trunc(Layer::Link, 4, 3)), // outer tag
            (21, trunc(Layer::Link, 4, 3)), // inner tag
            (22, trunc(Layer::Ipv4, 20, 0)),
            (41, trunc(Layer::Ipv4, 20, 19)),
            (42, trunc(Layer::Transport, 4, 0)),
            (45, trunc(Layer::Transport, 4, 3)),
        ];
        for (n, want) in cases {
            assert_eq!(dec(LinkType::Ethernet, &f[..n]), want, "cut at {n}");
        }
        assert_eq!(
            info(dec(LinkType::Ethernet, &f[..46])).transport,
            Transport::Ports {
                src: 12345,
                dst: 80
            }
        );
    }

    #[test]
    fn bad_ihl() {
        for ihl in 0..5u8 {
            let mut p = ipv4_simple(TCP, &PORTS);
            p[0] = 0x40 | ihl;
            assert_eq!(
                dec(LinkType::Ipv4, &p),
                Decoded::Malformed(Malformed::BadIhl(ihl))
            );
        }
    }

    #[test]
    fn ipv4_options_skipped() {
        let p = ipv4(
            UDP,
            [192, 0, 2, 1],
            [198, 51, 100, 2],
            15,
            1,
            false,
            0,
            &PORTS,
        );
        assert_eq!(
            info(dec(LinkType::Raw, &p)).transport,
            Transport::Ports {
                src: 12345,
                dst: 80
            }
        );
        // options past the capture: malformed for UDP, fine for GRE
        assert_eq!(dec(LinkType::Raw, &p[..40]), trunc(Layer::Ipv4, 60, 40));
        let g = ipv4(47, [192, 0, 2, 1], [198, 51, 100, 2], 15, 1, false, 0, &[]);
        assert_eq!(info(dec(LinkType::Raw, &g[..20])).proto, 47);
    }

    #[test]
    fn lying_lengths_still_count() {
        let mut p = ipv4_simple(TCP, &PORTS);
        p[2] = 0xff; // total length 65xxx
        assert_eq!(dec(LinkType::Ipv4, &p), Decoded::Ip(v4_tcp()));
        p[2] = 0;
        p[3] = 0; // total length 0
        assert_eq!(dec(LinkType::Ipv4, &p), Decoded::Ip(v4_tcp()));
        let mut q = ipv6_simple(UDP, &PORTS);
        q[4] = 0;
        q[5] = 0; // jumbogram-style zero payload length
        assert_eq!(dec(LinkType::Ipv6, &q), Decoded::Ip(v6_udp()));
        let mut u = PORTS;
        u[4] = 0; // UDP length 0, TCP data offset garbage: never read
        let f = ether(&[], 0x8864, &pppoe(0x0021, &ipv4_simple(TCP, &u)));
        let mut f: Vec<u8> = f;
        f[18] = 0;
        f[19] = 1; // PPPoE length 1
        assert_eq!(dec(LinkType::Ethernet, &f), Decoded::Ip(v4_tcp()));
    }

    #[test]
    fn icmp_type_code_by_version() {
        let p = ipv4_simple(1, &[8, 0, 0xf7, 0xff]);
        assert_eq!(
            info(dec(LinkType::Raw, &p)).transport,
            Transport::Icmp { ty: 8, code: 0 }
        );
        let p = ipv6_simple(58, &[128, 0]);
        assert_eq!(
            info(dec(LinkType::Raw, &p)).transport,
            Transport::Icmp { ty: 128, code: 0 }
        );
        // ICMPv6 number in IPv4, ICMPv4 number in IPv6: no type/code
        assert_eq!(
            info(dec(LinkType::Raw, &ipv4_simple(58, &[1, 2]))).transport,
            Transport::None
        );
        assert_eq!(
            info(dec(LinkType::Raw, &ipv6_simple(1, &[1, 2]))).transport,
            Transport::None
        );
        assert_eq!(
            dec(LinkType::Raw, &ipv6_simple(58, &[128])),
            trunc(Layer::Transport, 2, 1)
        );
        // SCTP, GRE, IP-in-IP: protocol only
        for proto in [132u8, 47, 4, 41] {
            let i = info(dec(LinkType::Raw, &ipv4_simple(proto, &[])));
            assert_eq!((i.proto, i.transport), (proto, Transport::None));
        }
    }

    #[test]
    fn ipv4_fragments() {
        let first = ipv4(
            UDP,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            5,
            0xbeef,
            true,
            0,
            &PORTS,
        );
        let i = info(dec(LinkType::Raw, &first));
        assert_eq!(i.fragment, Fragment::First { id: 0xbeef });
        assert_eq!(
            i.transport,
            Transport::Ports {
                src: 12345,
                dst: 80
            }
        );
        // later fragment: no transport read, even when there are no bytes after the header
        for mf in [true, false] {
            let later = ipv4(UDP, [10, 0, 0, 1], [10, 0, 0, 2], 5, 0xbeef, mf, 185, &[]);
            let i = info(dec(LinkType::Raw, &later));
            assert_eq!(i.fragment, Fragment::Later { id: 0xbeef });
            assert_eq!((i.proto, i.transport), (UDP, Transport::None));
        }
        // a first fragment still needs its ports
        assert_eq!(
            dec(LinkType::Raw, &first[..22]),
            trunc(Layer::Transport, 4, 2)
        );
    }

    #[test]
    fn ipv6_fragments() {
        let first = ipv6(&[frag6(0, true, 0xdead_beef)], UDP, V6_SRC, V6_DST, &PORTS);
        let i = info(dec(LinkType::Ipv6, &first));
        assert_eq!(i.fragment, Fragment::First { id: 0xdead_beef });
        assert_eq!(
            i.transport,
            Transport::Ports {
                src: 12345,
                dst: 80
            }
        );
        let later = ipv6(&[frag6(100, false, 77)], 58, V6_SRC, V6_DST, &[]);
        let i = info(dec(LinkType::Ipv6, &later));
        assert_eq!(i.fragment, Fragment::Later { id: 77 });
        assert_eq!((i.proto, i.transport), (58, Transport::None));
        assert_eq!(
            dec(LinkType::Ipv6, &later[..47]),
            trunc(Layer::Ipv6, 48, 47)
        );
        // atomic fragment: not a fragment
        let atomic = ipv6(&[frag6(0, false, 5)], UDP, V6_SRC, V6_DST, &PORTS);
        assert_eq!(dec(LinkType::Ipv6, &atomic), Decoded::Ip(v6_udp()));
    }

    #[test]
    fn ipv6_extension_chains() {
        let exts = [ext(0, 0), ext(43, 2), ext(60, 0), ext(51, 4)];
        let p = ipv6(&exts, UDP, V6_SRC, V6_DST, &PORTS);
        assert_eq!(dec(LinkType::Ipv6, &p), Decoded::Ip(v6_udp()));
        let end = 40 + 8 + 24 + 8 + 24;
        assert_eq!(
            dec(LinkType::Ipv6, &p[..end + 3]),
            trunc(Layer::Transport, 4, 3)
        );
        // cut inside the routing header body: the next header is missing
        assert_eq!(dec(LinkType::Ipv6, &p[..60]), trunc(Layer::Ipv6, 74, 60));
        // ESP and no-next-header end the walk with that protocol
        for stop in [50u8, 59] {
            let p = ipv6(&[ext(0, 0)], stop, V6_SRC, V6_DST, &[1, 2, 3, 4]);
            let i = info(dec(LinkType::Ipv6, &p));
            assert_eq!((i.proto, i.transport), (stop, Transport::None));
        }
        // zero-length headers, many of them
        let zeros: Vec<_> = (0..10).map(|_| ext(60, 0)).collect();
        let p = ipv6(&zeros, 58, V6_SRC, V6_DST, &[135, 0]);
        assert_eq!(
            info(dec(LinkType::Ipv6, &p)).transport,
            Transport::Icmp { ty: 135, code: 0 }
        );
        // a chain running off the end of the frame
        assert_eq!(
            dec(LinkType::Ipv6, &p[..40 + 8 * 7 + 1]),
            trunc(Layer::Ipv6, 98, 97)
        );
    }

    #[test]
    fn ip_in_ip_is_outer_only() {
        let inner = ipv6_simple(UDP, &PORTS);
        let p = ipv4_simple(41, &inner);
        let i = info(dec(LinkType::Raw, &p));
        assert_eq!(
            (i.proto, i.transport, i.src),
            (41, Transport::None, Addr::v4([192, 0, 2, 1]))
        );
    }

    #[test]
    fn display() {
        use std::string::ToString;
        let m = Malformed::Truncated {
            layer: Layer::Ipv4,
            need: 20,
            have: 14,
        };
        assert_eq!(
            m.to_string(),
            "IPv4 header truncated: needs 20 bytes, 14 captured"
        );
        assert_eq!(
            Malformed::BadIhl(3).to_string(),
            "IPv4 header length 3 is below 5"
        );
    }
}
