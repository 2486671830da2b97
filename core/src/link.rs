//! Link types and the metadata a capture source hands over with each frame.
//!
//! The core never asks where a frame came from: a pcap record, a pcapng block or an
//! AF_PACKET ring slot all become a byte slice, a [`LinkType`] saying where it starts,
//! and a [`FrameMeta`].

/// What the first byte of a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (DLT/LINKTYPE 1), possibly with 802.1Q / 802.1ad tags and PPPoE.
    Ethernet,
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113).
    Sll,
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276).
    Sll2,
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW 101, DLT_RAW 12 / 14).
    Raw,
    /// Raw IPv4 only (LINKTYPE_IPV4, 228).
    Ipv4,
    /// Raw IPv6 only (LINKTYPE_IPV6, 229).
    Ipv6,
    /// BSD loopback, 4-byte family in host byte order of the writer (LINKTYPE_NULL, 0).
    Null,
    /// OpenBSD loopback, 4-byte family in network byte order (LINKTYPE_LOOP, 108).
    Loop,
    /// Live capture on an interface without a link header (ppp, tun, wireguard, sit, gre…):
    /// the frame starts at the network header, whose EtherType is given (AF_PACKET's
    /// `sll_protocol`, host order).
    Network(u16),
    /// A link type the decoder does not know: counted as non-IP (SPEC §2).
    Unknown(u32),
}

impl LinkType {
    /// The link type of a pcap / pcapng `LINKTYPE_*` value (the on-disk number).
    pub const fn from_linktype(value: u32) -> LinkType {
        match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::Sll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::Sll2,
            other => LinkType::Unknown(other),
        }
    }

    /// The `LINKTYPE_*` number of this link type, as a pcap file would carry it.
    /// [`LinkType::Network`] has none and reports `u32::MAX`.
    pub const fn to_linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::Sll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Sll2 => 276,
            LinkType::Network(_) => u32::MAX,
            LinkType::Unknown(v) => v,
        }
    }
}

/// A point in time: nanoseconds since the Unix epoch (UTC).
///
/// Signed so that pre-1970 stamps in a damaged file stay representable; `i64` nanoseconds
/// reach the year 2262.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and nanoseconds since the epoch, saturating.
    pub const fn from_parts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(nanos as i64),
        )
    }
    /// Whole seconds since the epoch (floor).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub const fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }
}

/// Direction of a live frame relative to the capturing host (AF_PACKET `sll_pkttype`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Unknown (offline captures): counted by every `-Q` setting.
    #[default]
    Unknown,
    /// Received by this host (`PACKET_HOST`, `BROADCAST`, `MULTICAST`, `OTHERHOST`).
    In,
    /// Sent by this host (`PACKET_OUTGOING`).
    Out,
}

/// Everything about a frame that is not its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameMeta {
    /// Length on the wire in bytes: pcap `orig_len`, AF_PACKET `tp_len` plus 4 per tag the
    /// kernel stripped. This is what `bytes` counts; it never depends on the snap length.
    pub wire_len: u32,
    /// When the frame was captured.
    pub ts: Timestamp,
    /// Interface index when the capture is live on `any` (flows are then keyed by it);
    /// 0 otherwise.
    pub ifindex: u32,
    /// An out-of-band VLAN TCI the kernel stripped (`TP_STATUS_VLAN_VALID`): the outer tag.
    pub vlan_tci: Option<u16>,
    /// Direction, live only.
    pub direction: Direction,
}
