//! From a kernel frame (ring slot or `recvmsg` buffer) to what the core accounts: where the
//! frame starts and its link type, its wire length, and its metadata — or nothing, for the
//! loopback duplicate and the direction `-Q` leaves out.
#![deny(unsafe_code)]

use pktstat_core::link::{Direction, FrameMeta, LinkType, Timestamp};

use super::ring::{RawFrame, TP_STATUS_VLAN_VALID};
use crate::settings::DirectionFilter;

/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`: `lo` carries a zeroed Ethernet header.
const ARPHRD_LOOPBACK: u16 = 772;
/// `PACKET_OUTGOING`.
const PACKET_OUTGOING: u8 = 4;
/// Bytes of one 802.1Q tag the kernel took out of the frame.
const VLAN_TAG_LEN: u32 = 4;

/// The frame as the core takes it, or `None` when it is not counted.
///
/// - Loopback: the kernel shows every packet twice, as sent (`PACKET_OUTGOING`) and as
///   received. One copy is kept: the received one, or the sent one under `-Q out`.
/// - Elsewhere `-Q in` keeps all but `PACKET_OUTGOING`, `-Q out` only that.
/// - Devices with an Ethernet header (Ethernet, loopback) start at `tp_mac`; the others (ppp,
///   tun, wireguard, sit, gre, ...) at `tp_net`, with `sll_protocol` saying what follows.
/// - `bytes` = `tp_len` plus the 4 bytes of a tag the kernel stripped (`TP_STATUS_VLAN_VALID`).
pub fn classify<'a>(
    fr: &RawFrame<'a>,
    dir: DirectionFilter,
    on_any: bool,
) -> Option<(LinkType, &'a [u8], FrameMeta)> {
    let outgoing = fr.addr.pkttype == PACKET_OUTGOING;
    let keep = if fr.addr.hatype == ARPHRD_LOOPBACK {
        match dir {
            DirectionFilter::Out => outgoing,
            DirectionFilter::In | DirectionFilter::InOut => !outgoing,
        }
    } else {
        match dir {
            DirectionFilter::In => !outgoing,
            DirectionFilter::Out => outgoing,
            DirectionFilter::InOut => true,
        }
    };
    if !keep {
        return None;
    }
    let (link, data) = match fr.addr.hatype {
        ARPHRD_ETHER | ARPHRD_LOOPBACK => (LinkType::Ethernet, fr.data),
        _ => (
            LinkType::Network(fr.addr.protocol),
            fr.data.get(fr.net_offset..).unwrap_or(&[]),
        ),
    };
    let tagged = fr.status & TP_STATUS_VLAN_VALID != 0;
    let meta = FrameMeta {
        wire_len: if tagged {
            fr.len.saturating_add(VLAN_TAG_LEN)
        } else {
            fr.len
        },
        ts: Timestamp::from_parts(i64::from(fr.sec), fr.nsec),
        ifindex: if on_any { fr.addr.ifindex } else { 0 },
        vlan_tci: tagged.then_some(fr.vlan_tci),
        direction: if outgoing {
            Direction::Out
        } else {
            Direction::In
        },
    };
    Some((link, data, meta))
}

#[cfg(test)]
mod tests {
    use super::super::ring::LinkAddr;
    use super::*;

    fn frame(hatype: u16, pkttype: u8, status: u32) -> RawFrame<'static> {
        static DATA: [u8; 34] = [0; 34];
        RawFrame {
            data: &DATA,
            net_offset: 14,
            len: 100,
            status,
            vlan_tci: 10,
            sec: 2,
            nsec: 3,
            addr: LinkAddr {
                protocol: 0x86dd,
                ifindex: 5,
                hatype,
                pkttype,
            },
        }
    }

    #[test]
    fn loopback_counted_once_per_direction_setting() {
        for dir in [
            DirectionFilter::In,
            DirectionFilter::Out,
            DirectionFilter::InOut,
        ] {
            let kept = [0u8, PACKET_OUTGOING]
                .iter()
                .filter(|&&p| classify(&frame(ARPHRD_LOOPBACK, p, 0), dir, true).is_some())
                .count();
            assert_eq!(kept, 1, "{dir:?}");
        }
    }

    #[test]
    fn direction_filter_elsewhere() {
        let i = frame(ARPHRD_ETHER, 0, 0);
        let o = frame(ARPHRD_ETHER, PACKET_OUTGOING, 0);
        assert!(classify(&i, DirectionFilter::InOut, false).is_some());
        assert!(classify(&o, DirectionFilter::InOut, false).is_some());
        assert!(classify(&i, DirectionFilter::In, false).is_some());
        assert!(classify(&o, DirectionFilter::In, false).is_none());
        assert!(classify(&i, DirectionFilter::Out, false).is_none());
        assert_eq!(
            classify(&o, DirectionFilter::Out, false)
                .unwrap()
                .2
                .direction,
            Direction::Out
        );
    }

    #[test]
    fn ethernet_and_headerless_links() {
        let (l, d, m) = classify(&frame(ARPHRD_ETHER, 0, 0), DirectionFilter::InOut, true).unwrap();
        assert_eq!(
            (l, d.len(), m.wire_len, m.ifindex, m.vlan_tci),
            (LinkType::Ethernet, 34, 100, 5, None)
        );
        assert_eq!(m.ts, Timestamp(2_000_000_003));
        // ARPHRD_NONE (tun, wireguard): from the network header, with sll_protocol.
        let (l, d, m) = classify(&frame(0xfffe, 0, 0), DirectionFilter::InOut, false).unwrap();
        assert_eq!((l, d.len(), m.ifindex), (LinkType::Network(0x86dd), 20, 0));
    }

    #[test]
    fn stripped_tag_counts_in_bytes() {
        let (_, _, m) = classify(
            &frame(ARPHRD_ETHER, 0, TP_STATUS_VLAN_VALID),
            DirectionFilter::InOut,
            false,
        )
        .unwrap();
        assert_eq!((m.wire_len, m.vlan_tci), (104, Some(10)));
    }
}
