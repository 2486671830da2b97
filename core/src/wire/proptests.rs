//! Property tests of [`crate::decode::decode`]: arbitrary bytes never panic on any link
//! type, and generated valid frames decode to exactly the fields they were built from,
//! with every prefix of them either decoding the same way (when it still holds every key
//! field) or being reported as truncated (when it does not).

use super::build::*;
use crate::decode::{decode, Decoded, Fragment, Malformed, PacketInfo, Transport};
use crate::flow::Addr;
use crate::link::{FrameMeta, LinkType};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use std::vec;
use std::vec::Vec;

fn any_link() -> impl Strategy<Value = LinkType> {
    prop_oneof![
        Just(LinkType::Ethernet),
        Just(LinkType::Sll),
        Just(LinkType::Sll2),
        Just(LinkType::Raw),
        Just(LinkType::Ipv4),
        Just(LinkType::Ipv6),
        Just(LinkType::Null),
        Just(LinkType::Loop),
        Just(LinkType::Network(0x0800)),
        Just(LinkType::Network(0x86dd)),
        any::<u16>().prop_map(LinkType::Network),
        any::<u32>().prop_map(LinkType::Unknown),
    ]
}

/// What must hold of every verdict, whatever the input.
fn invariants(d: &Decoded) {
    if let Decoded::Ip(i) = d {
        assert!(i.src.family == 4 || i.src.family == 6, "{i:?}");
        assert_eq!(i.src.family, i.dst.family);
        assert!(i.vlan <= 0x0fff);
        match i.transport {
            Transport::Ports { .. } => assert!(i.proto == 6 || i.proto == 17),
            Transport::Icmp { .. } => {
                assert_eq!(i.proto, if i.src.family == 4 { 1 } else { 58 })
            }
            Transport::None => {}
        }
        if let Fragment::Later { .. } = i.fragment {
            assert_eq!(i.transport, Transport::None);
        }
        if i.src.family == 4 {
            assert!(i.src.bytes[4..].iter().all(|&b| b == 0));
            if let Fragment::First { id } | Fragment::Later { id } = i.fragment {
                assert!(id <= 0xffff);
            }
        }
    }
}

/// The link a generated frame is wrapped in.
#[derive(Clone, Copy, Debug)]
enum Wrap {
    Ethernet,
    Sll,
    Sll2,
    Raw,
    Versioned,
    NullLe,
    NullBe,
    Loop,
    Network,
}

#[derive(Clone, Debug)]
enum Ext {
    Generic(u8, u8),
    Frag(u16, bool, u32),
}

#[derive(Clone, Debug)]
enum L3 {
    V4 {
        ihl: u8,
        proto: u8,
        id: u16,
        mf: bool,
        offset: u16,
    },
    V6 {
        exts: Vec<Ext>,
        proto: u8,
    },
}

#[derive(Clone, Debug)]
struct Case {
    wrap: Wrap,
    tags: Vec<(u16, u16)>,
    pppoe: bool,
    stripped: Option<u16>,
    af6: u32,
    l3: L3,
    src: [u8; 16],
    dst: [u8; 16],
    l4: Vec<u8>,
}

fn wrap() -> impl Strategy<Value = Wrap> {
    select(
        &[
            Wrap::Ethernet,
            Wrap::Sll,
            Wrap::Sll2,
            Wrap::Raw,
            Wrap::Versioned,
            Wrap::NullLe,
            Wrap::NullBe,
            Wrap::Loop,
            Wrap::Network,
        ][..],
    )
}

fn ext6() -> impl Strategy<Value = Ext> {
    prop_oneof![
        (select(&[0u8, 43, 60, 51][..]), 0u8..4).prop_map(|(k, u)| Ext::Generic(k, u)),
        (
            prop_oneof![Just(0u16), 1u16..0x2000],
            any::<bool>(),
            any::<u32>()
        )
            .prop_map(|(o, m, id)| Ext::Frag(o, m, id)),
    ]
}

fn l3() -> impl Strategy<Value = L3> {
    prop_oneof![
        (
            5u8..16,
            select(&[6u8, 17, 1, 58, 47, 4, 41, 132, 0, 44][..]),
            any::<u16>(),
            any::<bool>(),
            prop_oneof![Just(0u16), 1u16..0x2000],
        )
            .prop_map(|(ihl, proto, id, mf, offset)| L3::V4 {
                ihl,
                proto,
                id,
                mf,
                offset
            }),
        (
            vec(ext6(), 0..5),
            select(&[6u8, 17, 58, 1, 47, 50, 59, 4, 41, 132][..])
        )
            .prop_map(|(exts, proto)| L3::V6 { exts, proto }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        wrap(),
        vec(
            (select(&[0x8100u16, 0x88a8, 0x9100][..]), any::<u16>()),
            0..3,
        ),
        any::<bool>(),
        option::of(any::<u16>()),
        select(&[10u32, 24, 28, 30][..]),
        l3(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        vec(any::<u8>(), 4..12),
    )
        .prop_map(
            |(wrap, tags, pppoe, stripped, af6, l3, src, dst, l4)| Case {
                wrap,
                tags,
                pppoe,
                stripped,
                af6,
                l3,
                src,
                dst,
                l4,
            },
        )
}

/// Builds the frame, the expected verdict and the number of bytes holding every key field.
fn build(c: &Case) -> (LinkType, Vec<u8>, PacketInfo, usize) {
    let l4 = &c.l4;
    let (ip, v6, proto, fragment, key_in_ip, transport_at) = match &c.l3 {
        &L3::V4 {
            ihl,
            proto,
            id,
            mf,
            offset,
        } => {
            let src4 = [c.src[0], c.src[1], c.src[2], c.src[3]];
            let dst4 = [c.dst[0], c.dst[1], c.dst[2], c.dst[3]];
            let ip = ipv4(proto, src4, dst4, ihl, id, mf, offset, l4);
            let id = u32::from(id);
            let frag = if offset != 0 {
                Fragment::Later { id }
            } else if mf {
                Fragment::First { id }
            } else {
                Fragment::None
            };
            (ip, false, proto, frag, 20, usize::from(ihl) * 4)
        }
        L3::V6 { exts, proto } => {
            let built: Vec<(u8, Vec<u8>)> = exts
                .iter()
                .map(|e| match *e {
                    Ext::Generic(k, u) => ext(k, u),
                    Ext::Frag(o, m, id) => frag6(o, m, id),
                })
                .collect();
            let ip = ipv6(&built, *proto, c.src, c.dst, l4);
            // Walk as the decoder must: what it reads, where it stops.
            let (mut off, mut read_end, mut frag, mut end_proto) = (40, 40, Fragment::None, *proto);
            for (i, e) in exts.iter().enumerate() {
                let next = built.get(i + 1).map_or(*proto, |b| b.0);
                match *e {
                    Ext::Generic(..) => {
                        read_end = off + 2;
                        off += built[i].1.len();
                    }
                    Ext::Frag(o, m, id) => {
                        read_end = off + 8;
                        off += 8;
                        if o != 0 {
                            frag = Fragment::Later { id };
                            end_proto = next;
                            break;
                        }
                        if m {
                            frag = Fragment::First { id };
                        }
                    }
                }
            }
            (ip, true, end_proto, frag, read_end, off)
        }
    };
    let icmp = if v6 { 58 } else { 1 };
    let later = matches!(fragment, Fragment::Later { .. });
    let (transport, need) = if later {
        (Transport::None, 0)
    } else if proto == 6 || proto == 17 {
        (
            Transport::Ports {
                src: u16::from_be_bytes([l4[0], l4[1]]),
                dst: u16::from_be_bytes([l4[2], l4[3]]),
            },
            4,
        )
    } else if proto == icmp {
        (
            Transport::Icmp {
                ty: l4[0],
                code: l4[1],
            },
            2,
        )
    } else {
        (Transport::None, 0)
    };
    let key_in_ip = if need > 0 {
        transport_at + need
    } else {
        key_in_ip
    };

    let et = if v6 { 0x86dd } else { 0x0800 };
    let (link, frame, link_len) = match c.wrap {
        Wrap::Ethernet | Wrap::Sll | Wrap::Sll2 => {
            let (ty, payload) = if c.pppoe {
                (0x8864, pppoe(if v6 { 0x0057 } else { 0x0021 }, &ip))
            } else {
                (et, ip.clone())
            };
            let tags = &c.tags[..c.tags.len().min(2)];
            let (link, frame) = match c.wrap {
                Wrap::Ethernet => (LinkType::Ethernet, ether(tags, ty, &payload)),
                Wrap::Sll => (LinkType::Sll, sll(tags, ty, &payload)),
                _ => (LinkType::Sll2, sll2(tags, ty, &payload)),
            };
            let len = frame.len() - ip.len();
            (link, frame, len)
        }
        Wrap::Raw => (LinkType::Raw, ip, 0),
        Wrap::Versioned => (if v6 { LinkType::Ipv6 } else { LinkType::Ipv4 }, ip, 0),
        Wrap::Network => (LinkType::Network(et), ip, 0),
        Wrap::NullLe | Wrap::NullBe | Wrap::Loop => {
            let af = if v6 { c.af6 } else { 2 };
            let fam = match c.wrap {
                Wrap::NullLe => af.to_le_bytes(),
                _ => af.to_be_bytes(),
            };
            let link = if matches!(c.wrap, Wrap::Loop) {
                LinkType::Loop
            } else {
                LinkType::Null
            };
            (link, null(fam, &ip), 4)
        }
    };
    let tagged = matches!(c.wrap, Wrap::Ethernet | Wrap::Sll | Wrap::Sll2);
    let outer = c.stripped.or(if tagged {
        c.tags.first().map(|t| t.1)
    } else {
        None
    });
    let (src, dst) = if v6 {
        (Addr::v6(c.src), Addr::v6(c.dst))
    } else {
        (
            Addr::v4([c.src[0], c.src[1], c.src[2], c.src[3]]),
            Addr::v4([c.dst[0], c.dst[1], c.dst[2], c.dst[3]]),
        )
    };
    let info = PacketInfo {
        src,
        dst,
        proto,
        vlan: outer.map_or(0, |t| t & 0x0fff),
        transport,
        fragment,
    };
    (link, frame, info, link_len + key_in_ip)
}

/// First bytes that steer arbitrary bytes into the IP decoders.
const HEADS: &[&[u8]] = &[
    &[0x45],
    &[0x60],
    &[0x4f],
    &[0x40],
    &[2, 0, 0, 0, 0x60],
    &[0, 0, 0, 24, 0x60],
];

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        link in any_link(),
        bytes in vec(any::<u8>(), 0..160),
        tci in option::of(any::<u16>()),
    ) {
        let meta = FrameMeta { vlan_tci: tci, ..FrameMeta::default() };
        let d = decode(link, &bytes, &meta);
        invariants(&d);
        if let LinkType::Unknown(_) = link {
            prop_assert_eq!(d, Decoded::NonIp);
        }
    }

    #[test]
    fn arbitrary_payload_behind_plausible_headers_never_panics(
        link in any_link(),
        head in select(HEADS),
        bytes in vec(any::<u8>(), 0..120),
    ) {
        let mut f = head.to_vec();
        f.extend_from_slice(&bytes);
        invariants(&decode(link, &f, &FrameMeta::default()));
    }

    #[test]
    fn valid_frames_decode_to_what_was_built(c in case()) {
        let (link, frame, info, key_end) = build(&c);
        let meta = FrameMeta { vlan_tci: c.stripped, ..FrameMeta::default() };
        prop_assert!(key_end <= frame.len());
        prop_assert_eq!(decode(link, &frame, &meta), Decoded::Ip(info));
        // Every prefix: the same answer while the key fields are all there, else truncated.
        for n in 0..frame.len() {
            let d = decode(link, &frame[..n], &meta);
            if n >= key_end {
                prop_assert_eq!(d, Decoded::Ip(info), "cut at {} of {}", n, frame.len());
            } else {
                prop_assert!(
                    matches!(d, Decoded::Malformed(Malformed::Truncated { need, have, .. }) if need > have),
                    "cut at {} (keys end at {}): {:?}", n, key_end, d
                );
            }
        }
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        c in case(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let (link, mut frame, _, _) = build(&c);
        for (at, v) in flips {
            let i = at.index(frame.len());
            frame[i] = v;
        }
        let n = cut.index(frame.len() + 1);
        let meta = FrameMeta { vlan_tci: c.stripped, ..FrameMeta::default() };
        invariants(&decode(link, &frame[..n], &meta));
    }
}
