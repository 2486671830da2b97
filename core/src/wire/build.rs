//! Test-only frame builders: hand-built headers for the unit and property tests.

use std::vec::Vec;

/// An IPv4 header (IHL `ihl`, options zero-filled) followed by `l4`.
#[allow(clippy::too_many_arguments)]
pub fn ipv4(
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    ihl: u8,
    id: u16,
    mf: bool,
    offset: u16,
    l4: &[u8],
) -> Vec<u8> {
    let hl = usize::from(ihl.max(5)) * 4;
    let mut v = std::vec![0u8; hl];
    v[0] = 0x40 | (ihl & 0x0f);
    let total = (hl + l4.len()) as u16;
    v[2..4].copy_from_slice(&total.to_be_bytes());
    v[4..6].copy_from_slice(&id.to_be_bytes());
    let ff = (offset & 0x1fff) | if mf { 0x2000 } else { 0 };
    v[6..8].copy_from_slice(&ff.to_be_bytes());
    v[8] = 64;
    v[9] = proto;
    v[12..16].copy_from_slice(&src);
    v[16..20].copy_from_slice(&dst);
    v.extend_from_slice(l4);
    v
}

/// A simple unfragmented IPv4 packet, 20-byte header.
pub fn ipv4_simple(proto: u8, l4: &[u8]) -> Vec<u8> {
    ipv4(
        proto,
        [192, 0, 2, 1],
        [198, 51, 100, 2],
        5,
        0x1234,
        false,
        0,
        l4,
    )
}

/// An IPv6 extension header of type `kind` with `body_units` length units (zero-filled).
/// Its next-header byte is filled in by [`ipv6`].
pub fn ext(kind: u8, units: u8) -> (u8, Vec<u8>) {
    let len = if kind == 51 {
        (usize::from(units) + 2) * 4
    } else if kind == 44 {
        8
    } else {
        (usize::from(units) + 1) * 8
    };
    let mut v = std::vec![0u8; len];
    if kind != 44 {
        v[1] = units;
    }
    (kind, v)
}

/// An IPv6 fragment header body (next header filled in by [`ipv6`]).
pub fn frag6(offset: u16, more: bool, id: u32) -> (u8, Vec<u8>) {
    let mut v = std::vec![0u8; 8];
    let w = (offset << 3) | u16::from(more);
    v[2..4].copy_from_slice(&w.to_be_bytes());
    v[4..8].copy_from_slice(&id.to_be_bytes());
    (44, v)
}

/// An IPv6 packet: fixed header, the extension headers chained in order, then `proto`
/// and `l4`.
pub fn ipv6(exts: &[(u8, Vec<u8>)], proto: u8, src: [u8; 16], dst: [u8; 16], l4: &[u8]) -> Vec<u8> {
    let mut v = std::vec![0u8; 40];
    v[0] = 0x60;
    let plen: usize = exts.iter().map(|e| e.1.len()).sum::<usize>() + l4.len();
    v[4..6].copy_from_slice(&(plen as u16).to_be_bytes());
    v[6] = exts.first().map_or(proto, |e| e.0);
    v[7] = 64;
    v[8..24].copy_from_slice(&src);
    v[24..40].copy_from_slice(&dst);
    for (i, (_, body)) in exts.iter().enumerate() {
        let mut b = body.clone();
        b[0] = exts.get(i + 1).map_or(proto, |e| e.0);
        v.extend_from_slice(&b);
    }
    v.extend_from_slice(l4);
    v
}

/// Test addresses.
pub const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// Test addresses.
pub const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// A simple IPv6 packet without extension headers.
pub fn ipv6_simple(proto: u8, l4: &[u8]) -> Vec<u8> {
    ipv6(&[], proto, V6_SRC, V6_DST, l4)
}

/// An Ethernet frame with the given (TPID, TCI) tags, EtherType and payload.
pub fn ether(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = std::vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    for (tpid, tci) in tags {
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&tci.to_be_bytes());
    }
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// The EtherType field position's content after tags, for the link builders that start
/// with a protocol (SLL, SLL2): the tags, then the EtherType, then the payload.
fn tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> (u16, Vec<u8>) {
    // The first protocol is the first TPID (or the EtherType); then each tag's TCI and
    // the next protocol.
    let mut protos: Vec<u16> = tags.iter().map(|t| t.0).collect();
    protos.push(ethertype);
    let mut v = Vec::new();
    for (i, (_, tci)) in tags.iter().enumerate() {
        v.extend_from_slice(&tci.to_be_bytes());
        v.extend_from_slice(&protos[i + 1].to_be_bytes());
    }
    v.extend_from_slice(payload);
    (protos[0], v)
}

/// A PPPoE session header + PPP protocol + payload.
pub fn pppoe(ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = std::vec![0x11, 0x00, 0x00, 0x2a];
    v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(&ppp_proto.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A Linux SLL (v1) frame.
pub fn sll(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let (proto, rest) = tagged(tags, ethertype, payload);
    let mut v = std::vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(&rest);
    v
}

/// A Linux SLL2 frame.
pub fn sll2(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let (proto, rest) = tagged(tags, ethertype, payload);
    let mut v = Vec::new();
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    v.extend_from_slice(&rest);
    v
}

/// A NULL / LOOP frame with the 4-byte family as given.
pub fn null(family: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = family.to_vec();
    v.extend_from_slice(payload);
    v
}
