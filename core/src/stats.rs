//! Totals and the protocol summary (SPEC §3).
//!
//! Two partitions: every frame is exactly one of IPv4, IPv6, non-IP, malformed; every IP
//! frame is exactly one of TCP, UDP, ICMPv4, ICMPv6, other IP.

use crate::flow::Counters;

/// The protocol summary of one report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProtoSummary {
    /// Well-formed IPv4 frames.
    pub ipv4: Counters,
    /// Well-formed IPv6 frames.
    pub ipv6: Counters,
    /// Frames that are not IP.
    pub non_ip: Counters,
    /// Malformed frames (SPEC §2).
    pub malformed: Counters,
    /// TCP (IP frames only).
    pub tcp: Counters,
    /// UDP.
    pub udp: Counters,
    /// ICMPv4.
    pub icmpv4: Counters,
    /// ICMPv6.
    pub icmpv6: Counters,
    /// Any other IP protocol.
    pub other_ip: Counters,
}

/// Everything one report covers besides its flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntervalStats {
    /// Every frame of the interval, IP or not.
    pub totals: Counters,
    /// The protocol summary.
    pub summary: ProtoSummary,
    /// Counts of flows evicted from a full table (the `other flows` row).
    pub other: Counters,
    /// Number of flows evicted into `other`.
    pub evicted_flows: u64,
}

const ZERO: crate::flow::Counters = crate::flow::Counters {
    packets: 0,
    bytes: 0,
};

impl ProtoSummary {
    /// All counters zero (usable in `const` contexts, unlike `Default`).
    pub const ZERO: ProtoSummary = ProtoSummary {
        ipv4: ZERO,
        ipv6: ZERO,
        non_ip: ZERO,
        malformed: ZERO,
        tcp: ZERO,
        udp: ZERO,
        icmpv4: ZERO,
        icmpv6: ZERO,
        other_ip: ZERO,
    };
}

impl IntervalStats {
    /// All counters zero (usable in `const` contexts, unlike `Default`).
    pub const ZERO: IntervalStats = IntervalStats {
        totals: ZERO,
        summary: ProtoSummary::ZERO,
        other: ZERO,
        evicted_flows: 0,
    };
}
