//! The accounting engine: one frame in, counters updated (SPEC §3–4).
//!
//! [`Engine::account`] decodes a frame and charges it to the totals, the protocol summary
//! and — for well-formed IP — its flow in the fixed [`FlowTable`]. Non-first fragments are
//! charged to their datagram's flow through the [`FragTracker`]. Everything is sized at
//! build time by the const parameters; nothing allocates.
//!
//! Conservation, the property the tests pin: in packets and in bytes,
//! `sum(flows) + other + non_ip + malformed = totals`, and each of the two summary
//! partitions (IPv4 / IPv6 / non-IP / malformed, and TCP / UDP / ICMPv4 / ICMPv6 / other
//! IP over the IP frames) sums to its whole.
//!
//! Memory: [`Engine::new`] is a `const fn` whose result, with [`EngineConfig::DEFAULT`], is
//! all zero bytes. Put the engine in a `static` built that way (and call
//! [`Engine::configure`] and [`Engine::set_seed`] at run time) and it sits in `.bss`: the
//! binary does not grow by the table's size and resident memory grows only with use. A
//! `new(config)` with a flag set would move the whole static into `.data`.

use crate::capfile::Packet;
use crate::decode::{decode, Decoded, Fragment, PacketInfo, Transport};
use crate::flow::{ipproto, Counters, Flow, FlowKey};
use crate::frag::FragTracker;
use crate::link::{FrameMeta, LinkType};
use crate::stats::IntervalStats;
use crate::table::{Added, FlowTable};

/// How flows are keyed beyond the 5-tuple.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// Key flows by VLAN id (`-v`).
    pub per_vlan: bool,
    /// Key flows by interface index (live capture on `any`).
    pub per_iface: bool,
}

impl EngineConfig {
    /// Neither VLAN nor interface in the key.
    pub const DEFAULT: EngineConfig = EngineConfig {
        per_vlan: false,
        per_iface: false,
    };
}

/// Flows the default engine holds.
pub const DEFAULT_CAPACITY: usize = 65_536;
/// Index slots of the default engine (twice the flows).
pub const DEFAULT_SLOTS: usize = 2 * DEFAULT_CAPACITY;

/// The engine with the default capacity: 65,536 flows, 131,072 index slots.
pub type DefaultEngine = Engine<DEFAULT_CAPACITY, DEFAULT_SLOTS>;

// The default engine's whole footprint (table, index, fragment tracker, stats): the RSS
// budget of the README (< 8 MiB for the process) rests on it.
static_assertions::const_assert!(core::mem::size_of::<DefaultEngine>() < 5 * 1024 * 1024);

/// Frames per group in [`Engine::account_batch`]: enough independent lookups to hide a
/// memory access behind the others, few enough that the group's lines stay in L1.
pub const LANES: usize = 16;

/// `take_table_full` states.
const FULL_NEVER: u8 = 0;
const FULL_PENDING: u8 = 1;
const FULL_TAKEN: u8 = 2;

/// Flow accounting over `N` flows with an `S`-slot index (`S` a power of two, `S >= 2N`).
pub struct Engine<const N: usize, const S: usize> {
    table: FlowTable<N, S>,
    frags: FragTracker,
    stats: IntervalStats,
    /// Totals of the intervals before this one.
    running_base: Counters,
    config: EngineConfig,
    full: u8,
}

impl<const N: usize, const S: usize> core::fmt::Debug for Engine<N, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("table", &self.table)
            .field("frags", &self.frags)
            .field("stats", &self.stats)
            .field("config", &self.config)
            .finish()
    }
}

impl<const N: usize, const S: usize> Engine<N, S> {
    /// A fresh engine: zero-initialised storage (see the module docs on `.bss`).
    pub const fn new(config: EngineConfig) -> Self {
        Engine {
            table: FlowTable::new(),
            frags: FragTracker::new(),
            stats: IntervalStats::ZERO,
            running_base: Counters {
                packets: 0,
                bytes: 0,
            },
            config,
            full: FULL_NEVER,
        }
    }

    /// Changes the keying. Meant for start-up; flows already counted keep their keys.
    pub fn configure(&mut self, config: EngineConfig) {
        self.config = config;
    }

    /// Keys the flow and fragment hashes with a per-run random seed.
    pub fn set_seed(&mut self, seed: [u64; 2]) {
        self.table.set_seed(seed);
        self.frags.set_seed(seed);
    }

    /// Decodes one frame and accounts it; returns the decoder's verdict.
    #[inline]
    pub fn account(&mut self, link: LinkType, frame: &[u8], meta: &FrameMeta) -> Decoded {
        let decoded = decode(link, frame, meta);
        self.account_decoded(&decoded, meta);
        decoded
    }

    /// Decodes and accounts each frame of `packets` (each with its own link type), with the
    /// same result as [`Engine::account`] on each in order.
    ///
    /// Why a batch: with tens of thousands of flows the index slot and the entry of a flow
    /// are cache misses, and one packet's work is too long for the CPU to overlap its misses
    /// with the next packet's. So the frames go in groups of [`LANES`]: decode, count and hash
    /// every frame of the group; then read the group's home slots and the entries they point
    /// at, loads independent of each other, so their misses overlap; then update the table,
    /// in frame order, with the lines already in cache. The fragment tracker and the table are each fed in frame
    /// order, so the result is exactly that of one frame at a time.
    pub fn account_batch(&mut self, packets: &[Packet<'_>]) {
        for group in packets.chunks(LANES) {
            let mut keys = [FlowKey::default(); LANES];
            let mut hashes = [0u64; LANES];
            let mut lens = [0u32; LANES];
            let mut n = 0;
            for p in group {
                let decoded = decode(p.link, p.data, &p.meta);
                if let Some(key) = self.count(&decoded, &p.meta) {
                    let h = self.table.hash_key(&key);
                    if let (Some(k), Some(hh), Some(l)) =
                        (keys.get_mut(n), hashes.get_mut(n), lens.get_mut(n))
                    {
                        (*k, *hh, *l) = (key, h, p.meta.wire_len);
                        n += 1;
                    }
                }
            }
            let mut touched = 0u64;
            for &h in &hashes[..n] {
                touched ^= self.table.touch(h);
            }
            core::hint::black_box(touched);
            for ((key, &h), &len) in keys[..n].iter().zip(&hashes[..n]).zip(&lens[..n]) {
                if let Added::Evicted(victim) = self.table.add_hashed(key, h, len) {
                    self.evicted(victim);
                }
            }
        }
    }

    /// Accounts one already-decoded frame of `meta.wire_len` bytes.
    #[inline]
    pub fn account_decoded(&mut self, decoded: &Decoded, meta: &FrameMeta) {
        if let Some(key) = self.count(decoded, meta) {
            if let Added::Evicted(victim) = self.table.add(&key, meta.wire_len) {
                self.evicted(victim);
            }
        }
    }

    /// Charges a decoded frame to the totals and the protocol summary; for IP, returns the
    /// key of the flow it is still to be charged to.
    #[inline(always)]
    fn count(&mut self, decoded: &Decoded, meta: &FrameMeta) -> Option<FlowKey> {
        let len = meta.wire_len;
        self.stats.totals.add(len);
        let summary = &mut self.stats.summary;
        match decoded {
            Decoded::NonIp => {
                summary.non_ip.add(len);
                None
            }
            Decoded::Malformed(_) => {
                summary.malformed.add(len);
                None
            }
            Decoded::Ip(info) => {
                let v6 = info.src.is_v6();
                if v6 {
                    summary.ipv6.add(len);
                } else {
                    summary.ipv4.add(len);
                }
                match (info.proto, v6) {
                    (ipproto::TCP, _) => summary.tcp.add(len),
                    (ipproto::UDP, _) => summary.udp.add(len),
                    (ipproto::ICMP, false) => summary.icmpv4.add(len),
                    (ipproto::ICMPV6, true) => summary.icmpv6.add(len),
                    _ => summary.other_ip.add(len),
                }
                Some(self.flow_key(info, meta))
            }
        }
    }

    #[cold]
    fn evicted(&mut self, victim: Flow) {
        self.stats.other.merge(victim.counters);
        self.stats.evicted_flows += 1;
        if self.full == FULL_NEVER {
            self.full = FULL_PENDING;
        }
    }

    /// The flow key of an IP packet; consults (and feeds) the fragment tracker.
    #[inline]
    fn flow_key(&mut self, info: &PacketInfo, meta: &FrameMeta) -> FlowKey {
        let transport = match info.fragment {
            Fragment::None => info.transport,
            Fragment::First { id } => {
                self.frags
                    .record_first(&info.src, &info.dst, info.proto, id, info.transport);
                info.transport
            }
            Fragment::Later { id } => self
                .frags
                .lookup(&info.src, &info.dst, info.proto, id)
                .unwrap_or(Transport::None),
        };
        let (src_port, dst_port, icmp_type, icmp_code, has_icmp) = match transport {
            Transport::None => (0, 0, 0, 0, false),
            Transport::Ports { src, dst } => (src, dst, 0, 0, false),
            Transport::Icmp { ty, code } => (0, 0, ty, code, true),
        };
        FlowKey {
            src: info.src,
            dst: info.dst,
            src_port,
            dst_port,
            ifindex: if self.config.per_iface {
                meta.ifindex
            } else {
                0
            },
            vlan: if self.config.per_vlan { info.vlan } else { 0 },
            proto: info.proto,
            icmp_type,
            icmp_code,
            has_icmp,
        }
    }

    /// This interval's totals, protocol summary and `other flows` row.
    pub fn stats(&self) -> &IntervalStats {
        &self.stats
    }

    /// Totals since the start, across interval resets.
    pub fn running(&self) -> Counters {
        let mut c = self.running_base;
        c.merge(self.stats.totals);
        c
    }

    /// This interval's flows, in table order.
    pub fn flows(&self) -> &[Flow] {
        self.table.entries()
    }

    /// This interval's flows for in-place sorting by the report. If accounting resumes
    /// without [`Engine::reset_interval`], the index is rebuilt first.
    pub fn report_flows(&mut self) -> &mut [Flow] {
        self.table.entries_mut()
    }

    /// Starts a new interval: empty table and interval stats. The fragment tracker and
    /// the running totals carry over.
    pub fn reset_interval(&mut self) {
        self.running_base.merge(self.stats.totals);
        self.stats = IntervalStats::ZERO;
        self.table.clear();
    }

    /// True exactly once: after the first time a new flow found the table full (and a
    /// light flow moved to `other flows`). For the one-time warning on stderr.
    pub fn take_table_full(&mut self) -> bool {
        if self.full == FULL_PENDING {
            self.full = FULL_TAKEN;
            true
        } else {
            false
        }
    }

    /// Flows in the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when the table holds no flow.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Maximum flows (`N`).
    pub fn capacity(&self) -> usize {
        N
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Layer, Malformed};
    use crate::flow::Addr;
    use proptest::prelude::*;

    fn meta(wire_len: u32) -> FrameMeta {
        FrameMeta {
            wire_len,
            ..FrameMeta::default()
        }
    }

    fn ip(src: Addr, dst: Addr, proto: u8, transport: Transport, fragment: Fragment) -> Decoded {
        Decoded::Ip(PacketInfo {
            src,
            dst,
            proto,
            vlan: 0,
            transport,
            fragment,
        })
    }

    const A: Addr = Addr::v4([10, 0, 0, 1]);
    const B: Addr = Addr::v4([10, 0, 0, 2]);
    const MALFORMED: Decoded = Decoded::Malformed(Malformed::BadIhl(3));

    fn v6(last: u8) -> Addr {
        let mut b = [0u8; 16];
        b[0] = 0xfd;
        b[15] = last;
        Addr::v6(b)
    }

    fn udp(src: u16, dst: u16) -> Transport {
        Transport::Ports { src, dst }
    }

    /// Conservation (module docs); panics with the failing relation.
    fn check_conservation<const N: usize, const S: usize>(e: &Engine<N, S>) {
        let st = e.stats();
        let mut sum = st.other;
        for f in e.flows() {
            sum.merge(f.counters);
        }
        sum.merge(st.summary.non_ip);
        sum.merge(st.summary.malformed);
        assert_eq!(sum, st.totals, "flows + other + non-IP + malformed");
        let s = &st.summary;
        let mut frames = s.ipv4;
        for c in [s.ipv6, s.non_ip, s.malformed] {
            frames.merge(c);
        }
        assert_eq!(frames, st.totals, "IPv4 + IPv6 + non-IP + malformed");
        let mut ipf = s.ipv4;
        ipf.merge(s.ipv6);
        let mut protos = s.tcp;
        for c in [s.udp, s.icmpv4, s.icmpv6, s.other_ip] {
            protos.merge(c);
        }
        assert_eq!(protos, ipf, "TCP + UDP + ICMPv4 + ICMPv6 + other = IP");
    }

    #[test]
    fn totals_and_summary_partitions() {
        let mut e = Engine::<16, 32>::new(EngineConfig::DEFAULT);
        let none = Fragment::None;
        e.account_decoded(&ip(A, B, 6, udp(1, 80), none), &meta(100));
        e.account_decoded(&ip(A, B, 17, udp(1, 53), none), &meta(200));
        e.account_decoded(
            &ip(A, B, 1, Transport::Icmp { ty: 8, code: 0 }, none),
            &meta(300),
        );
        e.account_decoded(
            &ip(v6(1), v6(2), 58, Transport::Icmp { ty: 128, code: 0 }, none),
            &meta(400),
        );
        e.account_decoded(&ip(v6(1), v6(2), 1, Transport::None, none), &meta(500)); // ICMP over v6: other
        e.account_decoded(&ip(A, B, 47, Transport::None, none), &meta(600));
        e.account_decoded(&Decoded::NonIp, &meta(700));
        e.account_decoded(&MALFORMED, &meta(800));
        let s = e.stats().summary;
        assert_eq!(
            e.stats().totals,
            Counters {
                packets: 8,
                bytes: 3600
            }
        );
        assert_eq!(
            s.ipv4,
            Counters {
                packets: 4,
                bytes: 1200
            }
        );
        assert_eq!(
            s.ipv6,
            Counters {
                packets: 2,
                bytes: 900
            }
        );
        assert_eq!(
            s.non_ip,
            Counters {
                packets: 1,
                bytes: 700
            }
        );
        assert_eq!(
            s.malformed,
            Counters {
                packets: 1,
                bytes: 800
            }
        );
        assert_eq!(s.tcp.bytes, 100);
        assert_eq!(s.udp.bytes, 200);
        assert_eq!(s.icmpv4.bytes, 300);
        assert_eq!(s.icmpv6.bytes, 400);
        assert_eq!(
            s.other_ip,
            Counters {
                packets: 2,
                bytes: 1100
            }
        );
        assert_eq!(e.len(), 6);
        let icmp = e
            .flows()
            .iter()
            .find(|f| f.key.proto == 1 && !f.key.src.is_v6())
            .unwrap();
        assert!(icmp.key.has_icmp);
        assert_eq!((icmp.key.icmp_type, icmp.key.src_port), (8, 0));
        check_conservation(&e);
    }

    #[test]
    fn vlan_and_ifindex_only_when_configured() {
        let info = |vlan| {
            Decoded::Ip(PacketInfo {
                src: A,
                dst: B,
                proto: 17,
                vlan,
                transport: udp(5, 6),
                fragment: Fragment::None,
            })
        };
        let m = |ifindex| FrameMeta {
            wire_len: 60,
            ifindex,
            ..FrameMeta::default()
        };
        let mut e = Engine::<16, 32>::new(EngineConfig::DEFAULT);
        for (vlan, ifx) in [(10, 1), (20, 2), (10, 2)] {
            e.account_decoded(&info(vlan), &m(ifx));
        }
        assert_eq!(e.len(), 1);
        assert_eq!((e.flows()[0].key.vlan, e.flows()[0].key.ifindex), (0, 0));

        e.configure(EngineConfig {
            per_vlan: true,
            per_iface: false,
        });
        e.reset_interval();
        for (vlan, ifx) in [(10, 1), (20, 2), (10, 2)] {
            e.account_decoded(&info(vlan), &m(ifx));
        }
        assert_eq!(e.len(), 2);
        assert!(e.flows().iter().all(|f| f.key.ifindex == 0));

        e.configure(EngineConfig {
            per_vlan: true,
            per_iface: true,
        });
        e.reset_interval();
        for (vlan, ifx) in [(10, 1), (20, 2), (10, 2), (10, 1)] {
            e.account_decoded(&info(vlan), &m(ifx));
        }
        assert_eq!(e.len(), 3);
        let f = e
            .flows()
            .iter()
            .find(|f| f.key.vlan == 10 && f.key.ifindex == 1)
            .unwrap();
        assert_eq!(f.counters.packets, 2);
    }

    #[test]
    fn fragments_join_their_datagrams_flow() {
        let mut e = Engine::<16, 32>::new(EngineConfig::DEFAULT);
        e.set_seed([1, 2]);
        // Later fragment before its first: ports 0.
        e.account_decoded(
            &ip(A, B, 17, Transport::None, Fragment::Later { id: 9 }),
            &meta(100),
        );
        e.account_decoded(
            &ip(A, B, 17, udp(1000, 53), Fragment::First { id: 9 }),
            &meta(1500),
        );
        e.account_decoded(
            &ip(A, B, 17, Transport::None, Fragment::Later { id: 9 }),
            &meta(700),
        );
        let icmp = Transport::Icmp { ty: 8, code: 0 };
        e.account_decoded(&ip(A, B, 1, icmp, Fragment::First { id: 9 }), &meta(1500));
        e.account_decoded(
            &ip(A, B, 1, Transport::None, Fragment::Later { id: 9 }),
            &meta(300),
        );
        let find = |e: &Engine<16, 32>, proto: u8, port: u16| {
            e.flows()
                .iter()
                .find(|f| f.key.proto == proto && f.key.src_port == port)
                .map(|f| f.counters)
        };
        assert_eq!(
            find(&e, 17, 0),
            Some(Counters {
                packets: 1,
                bytes: 100
            })
        );
        assert_eq!(
            find(&e, 17, 1000),
            Some(Counters {
                packets: 2,
                bytes: 2200
            })
        );
        let f = e.flows().iter().find(|f| f.key.proto == 1).unwrap();
        assert!(f.key.has_icmp);
        assert_eq!(
            f.counters,
            Counters {
                packets: 2,
                bytes: 1800
            }
        );
        // The tracker survives an interval reset.
        e.reset_interval();
        e.account_decoded(
            &ip(A, B, 17, Transport::None, Fragment::Later { id: 9 }),
            &meta(50),
        );
        assert_eq!(
            find(&e, 17, 1000),
            Some(Counters {
                packets: 1,
                bytes: 50
            })
        );
        assert_eq!(
            e.stats().summary.udp,
            Counters {
                packets: 1,
                bytes: 50
            }
        );
        check_conservation(&e);
    }

    #[test]
    fn reset_keeps_running_totals_and_full_is_reported_once() {
        let mut e = Engine::<4, 8>::new(EngineConfig::DEFAULT);
        for i in 0..6 {
            e.account_decoded(&ip(A, B, 17, udp(i, 53), Fragment::None), &meta(100));
        }
        assert_eq!(e.len(), 4);
        assert_eq!(e.capacity(), 4);
        assert_eq!(e.stats().evicted_flows, 2);
        assert_eq!(
            e.stats().other,
            Counters {
                packets: 2,
                bytes: 200
            }
        );
        assert!(e.take_table_full());
        assert!(!e.take_table_full());
        check_conservation(&e);
        e.reset_interval();
        assert!(e.is_empty());
        assert_eq!(*e.stats(), IntervalStats::ZERO);
        assert_eq!(
            e.running(),
            Counters {
                packets: 6,
                bytes: 600
            }
        );
        for i in 0..6 {
            e.account_decoded(&ip(A, B, 17, udp(i, 53), Fragment::None), &meta(10));
        }
        assert!(
            !e.take_table_full(),
            "reported once per run, not per interval"
        );
        assert_eq!(
            e.running(),
            Counters {
                packets: 12,
                bytes: 660
            }
        );
        assert_eq!(
            e.stats().totals,
            Counters {
                packets: 6,
                bytes: 60
            }
        );
    }

    #[test]
    fn accounting_after_report_sort_finds_existing_flows() {
        let mut e = Engine::<16, 32>::new(EngineConfig::DEFAULT);
        for i in 0..10u16 {
            for _ in 0..=i {
                e.account_decoded(&ip(A, B, 6, udp(i, 80), Fragment::None), &meta(100));
            }
        }
        e.report_flows().sort_by(|a, b| a.report_cmp(b));
        assert_eq!(e.flows()[0].key.src_port, 9);
        e.account_decoded(&ip(A, B, 6, udp(0, 80), Fragment::None), &meta(100));
        assert_eq!(e.len(), 10);
        let f = e.flows().iter().find(|f| f.key.src_port == 0).unwrap();
        assert_eq!(f.counters.packets, 2);
        check_conservation(&e);
    }

    #[test]
    fn account_returns_the_decoders_verdict() {
        let mut e = Engine::<4, 8>::new(EngineConfig::DEFAULT);
        let frame = [0u8; 3];
        let d = e.account(LinkType::Unknown(999), &frame, &meta(3));
        assert_eq!(d, decode(LinkType::Unknown(999), &frame, &meta(3)));
        assert_eq!(
            e.stats().totals,
            Counters {
                packets: 1,
                bytes: 3
            }
        );
        check_conservation(&e);
    }

    #[test]
    fn default_engine_fits_the_memory_budget() {
        // The default engine lives in a static; this one too (a 4.6 MiB value would not fit
        // on a test thread's stack).
        static ENGINE: std::sync::Mutex<DefaultEngine> =
            std::sync::Mutex::new(DefaultEngine::new(EngineConfig::DEFAULT));
        let size = core::mem::size_of::<DefaultEngine>();
        assert!(size < 5 * 1024 * 1024, "{size} bytes");
        let mut e = ENGINE.lock().unwrap();
        assert_eq!(e.capacity(), DEFAULT_CAPACITY);
        e.set_seed([11, 12]);
        for i in 0..70_000u32 {
            let b = i.to_be_bytes();
            let src = Addr::v4([10, b[1], b[2], b[3]]);
            e.account_decoded(&ip(src, B, 17, udp(1, 2), Fragment::None), &meta(64));
        }
        assert_eq!(e.len(), DEFAULT_CAPACITY);
        assert_eq!(e.stats().evicted_flows, 70_000 - DEFAULT_CAPACITY as u64);
        check_conservation(&e);
    }

    /// A random decoded frame from a small pool of flows, so that flows repeat and a
    /// 4-flow table evicts.
    fn arb_decoded() -> impl Strategy<Value = Decoded> {
        let addr = prop_oneof![
            (0u8..4).prop_map(|i| Addr::v4([10, 0, 0, i])),
            (0u8..3).prop_map(v6),
        ];
        let transport = prop_oneof![
            Just(Transport::None),
            (0u16..3, 0u16..2).prop_map(|(s, d)| udp(s, d)),
            (0u8..2, 0u8..2).prop_map(|(ty, code)| Transport::Icmp { ty, code }),
        ];
        let fragment = prop_oneof![
            4 => Just(Fragment::None),
            1 => (0u32..3).prop_map(|id| Fragment::First { id }),
            1 => (0u32..3).prop_map(|id| Fragment::Later { id }),
        ];
        let proto = prop_oneof![Just(6u8), Just(17), Just(1), Just(58), Just(47)];
        let ipd = (addr.clone(), addr, proto, 0u16..3, transport, fragment).prop_map(
            |(src, dst, proto, vlan, transport, fragment)| {
                // Addresses of one packet share a family.
                let dst = if src.family == dst.family { dst } else { src };
                Decoded::Ip(PacketInfo {
                    src,
                    dst,
                    proto,
                    vlan,
                    transport,
                    fragment,
                })
            },
        );
        prop_oneof![
            8 => ipd,
            1 => Just(Decoded::NonIp),
            1 => Just(Decoded::Malformed(Malformed::Truncated { layer: Layer::Ipv4, need: 20, have: 3 })),
        ]
    }

    /// An Ethernet frame: IPv4/UDP from one of a few hosts and ports, possibly a fragment
    /// (first or later, of a few datagram ids), or else arbitrary bytes.
    fn arb_frame() -> impl Strategy<Value = std::vec::Vec<u8>> {
        prop_oneof![
            4 => (0u8..6, 0u16..3, 0u8..3, 0u16..3, 0u8..2).prop_map(|(host, port, frag, id, proto)| {
                let p = port.to_be_bytes();
                let l4 = [p[0], p[1], 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
                let (mf, offset) = match frag {
                    0 => (false, 0),
                    1 => (true, 0),
                    _ => (false, 185),
                };
                let ip = crate::wire::build::ipv4(
                    [17, 6][usize::from(proto)],
                    [10, 0, 0, host],
                    [192, 0, 2, 1],
                    5,
                    id,
                    mf,
                    offset,
                    &l4,
                );
                crate::wire::build::ether(&[], 0x0800, &ip)
            }),
            1 => proptest::collection::vec(any::<u8>(), 0..80),
        ]
    }

    proptest! {
        #[test]
        fn batches_account_exactly_like_single_frames(
            frames in proptest::collection::vec((arb_frame(), 0u32..3000), 0..200),
            cuts in proptest::collection::vec(1usize..40, 1..8),
        ) {
            let packets: std::vec::Vec<Packet<'_>> = frames
                .iter()
                .map(|(f, extra)| Packet {
                    link: LinkType::Ethernet,
                    data: f,
                    meta: meta(f.len() as u32 + extra),
                })
                .collect();
            // A 4-flow table: evictions; an 8-slot index: long probe runs.
            let mut one = Engine::<4, 8>::new(EngineConfig::DEFAULT);
            let mut batched = Engine::<4, 8>::new(EngineConfig::DEFAULT);
            one.set_seed([3, 4]);
            batched.set_seed([3, 4]);
            for p in &packets {
                one.account(p.link, p.data, &p.meta);
            }
            let mut rest = &packets[..];
            let mut i = 0;
            while !rest.is_empty() {
                let (now, later) = rest.split_at(cuts[i % cuts.len()].min(rest.len()));
                batched.account_batch(now);
                rest = later;
                i += 1;
            }
            prop_assert_eq!(one.stats(), batched.stats());
            prop_assert_eq!(one.flows(), batched.flows());
            check_conservation(&batched);
        }

        #[test]
        fn packets_and_bytes_are_conserved(
            frames in proptest::collection::vec((arb_decoded(), 0u32..70_000, 0u32..3), 0..300),
            per_vlan in any::<bool>(),
            per_iface in any::<bool>(),
            reset_every in 0usize..100,
            sort_every in 0usize..50,
        ) {
            let mut e = Engine::<4, 8>::new(EngineConfig { per_vlan, per_iface });
            let mut all = Counters::default();
            for (n, (d, len, ifindex)) in frames.iter().enumerate() {
                let m = FrameMeta { wire_len: *len, ifindex: *ifindex, ..FrameMeta::default() };
                e.account_decoded(d, &m);
                all.add(*len);
                prop_assert!(e.len() <= 4);
                check_conservation(&e);
                if sort_every != 0 && n % sort_every == 0 {
                    e.report_flows().sort_by(|a, b| a.report_cmp(b));
                }
                if reset_every != 0 && n % reset_every == reset_every - 1 {
                    e.reset_interval();
                }
            }
            prop_assert_eq!(e.running(), all);
            // Keys are unique in the table.
            let flows = e.flows();
            for i in 0..flows.len() {
                for j in i + 1..flows.len() {
                    prop_assert_ne!(flows[i].key, flows[j].key);
                }
            }
        }
    }
}

/// A quick throughput check of the accounting path alone (decode excluded):
/// `cargo test -p pktstat-core --release --lib -- --ignored --nocapture engine_throughput`.
/// Not a benchmark (that is `make bench`); it only catches gross regressions by eye.
#[cfg(test)]
mod measure {
    use super::*;
    use crate::flow::Addr;
    use std::time::Instant;

    /// This thread's time on a CPU (Linux schedstat; 0 elsewhere): the figure that does not
    /// suffer when the machine is shared.
    fn cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    }

    #[test]
    #[ignore]
    fn engine_throughput() {
        static ENGINE: std::sync::Mutex<DefaultEngine> =
            std::sync::Mutex::new(DefaultEngine::new(EngineConfig::DEFAULT));
        let mut e = ENGINE.lock().unwrap();
        e.set_seed([0x1234, 0x5678]);
        for flows in [1_024u32, 60_000] {
            e.reset_interval();
            let decoded: std::vec::Vec<Decoded> = (0..flows)
                .map(|i| {
                    let b = i.to_be_bytes();
                    Decoded::Ip(PacketInfo {
                        src: Addr::v4([10, b[1], b[2], b[3]]),
                        dst: Addr::v4([192, 168, 0, 1]),
                        proto: 17,
                        vlan: 0,
                        transport: Transport::Ports {
                            src: 1024 + (i % 7) as u16,
                            dst: 53,
                        },
                        fragment: Fragment::None,
                    })
                })
                .collect();
            let meta = FrameMeta {
                wire_len: 64,
                ..FrameMeta::default()
            };
            let n = 5_000_000u32;
            let start = Instant::now();
            let cpu0 = cpu_ns();
            let mut j = 0usize;
            for _ in 0..n {
                e.account_decoded(&decoded[j], &meta);
                // Stride through the flows in a scattered order, as mixed traffic does.
                j += 7919;
                while j >= decoded.len() {
                    j -= decoded.len();
                }
            }
            let dt = start.elapsed().as_secs_f64();
            let cpu = cpu_ns() - cpu0;
            std::println!(
                "{flows} flows: {:.1} M frames/s wall, {:.1} M/s on-CPU",
                f64::from(n) / dt / 1e6,
                f64::from(n) / (cpu as f64 / 1e9) / 1e6
            );
            assert_eq!(e.len(), flows as usize);
        }
        // Decode + engine on real 64-byte Ethernet/IPv4/UDP frames.
        for flows in [1_024u32, 60_000] {
            e.reset_interval();
            let frames: std::vec::Vec<std::vec::Vec<u8>> = (0..flows)
                .map(|i| {
                    let b = i.to_be_bytes();
                    let sport = (1024 + (i % 7) as u16).to_be_bytes();
                    let mut udp = std::vec![sport[0], sport[1], 0, 53, 0, 26, 0, 0];
                    udp.resize(26, 0);
                    let ip = crate::wire::build::ipv4(
                        17,
                        [10, b[1], b[2], b[3]],
                        [192, 168, 0, 1],
                        5,
                        0,
                        false,
                        0,
                        &udp,
                    );
                    crate::wire::build::ether(&[], 0x0800, &ip)
                })
                .collect();
            assert_eq!(frames[0].len(), 60);
            let meta = FrameMeta {
                wire_len: 64,
                ..FrameMeta::default()
            };
            let n = 5_000_000u32;
            let cpu0 = cpu_ns();
            let mut j = 0usize;
            for _ in 0..n {
                e.account(LinkType::Ethernet, &frames[j], &meta);
                j += 7919;
                while j >= frames.len() {
                    j -= frames.len();
                }
            }
            let cpu = cpu_ns() - cpu0;
            std::println!(
                "decode+engine, {flows} flows: {:.1} M frames/s on-CPU",
                f64::from(n) / (cpu as f64 / 1e9) / 1e6
            );
            assert_eq!(e.len(), flows as usize);
        }

        // Hostile churn: every frame a new flow on a full table (eviction on each one).
        let meta = FrameMeta {
            wire_len: 64,
            ..FrameMeta::default()
        };
        let n = 2_000_000u32;
        let cpu0 = cpu_ns();
        for i in 0..n {
            let b = (i + 1_000_000).to_be_bytes();
            let d = Decoded::Ip(PacketInfo {
                src: Addr::v4([172, b[1], b[2], b[3]]),
                dst: Addr::v4([192, 168, 0, 1]),
                proto: 17,
                vlan: 0,
                transport: Transport::Ports { src: 9, dst: 53 },
                fragment: Fragment::None,
            });
            e.account_decoded(&d, &meta);
        }
        let cpu = cpu_ns() - cpu0;
        std::println!(
            "new flow per frame, full table: {:.1} M frames/s on-CPU",
            f64::from(n) / (cpu as f64 / 1e9) / 1e6
        );
        assert!(e.stats().evicted_flows > 0);
    }
}
