//! Shared by the fuzz targets: a link type chosen by the input's first bytes.
use pktstat_core::link::LinkType;

/// Every link type the decoder knows, plus `Network` with any EtherType and `Unknown`.
/// Consumes one byte (three for `Network`).
pub fn link_type(data: &[u8]) -> (LinkType, &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return (LinkType::Ethernet, data);
    };
    let link = match sel % 11 {
        0 => LinkType::Ethernet,
        1 => LinkType::Sll,
        2 => LinkType::Sll2,
        3 => LinkType::Raw,
        4 => LinkType::Ipv4,
        5 => LinkType::Ipv6,
        6 => LinkType::Null,
        7 => LinkType::Loop,
        8 => {
            if rest.len() < 2 {
                return (LinkType::Network(0x0800), rest);
            }
            return (
                LinkType::Network(u16::from_be_bytes([rest[0], rest[1]])),
                &rest[2..],
            );
        }
        9 => LinkType::Unknown(u32::from(sel)),
        _ => LinkType::from_linktype(u32::from(sel)),
    };
    (link, rest)
}
