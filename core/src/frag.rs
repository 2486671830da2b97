//! The fragment tracker (SPEC §3): which transport a fragmented datagram carries.
//!
//! Only the first fragment of an IP datagram holds the TCP/UDP ports or the ICMP type and
//! code. The tracker remembers them per datagram — (src, dst, protocol, id) for IPv4,
//! (src, dst, id) for IPv6 — so that the later fragments are counted on the same flow. A
//! later fragment whose first fragment was not seen (lost, reordered, or evicted) gets
//! [`Transport::None`]: ports 0 and no ICMP type.
//!
//! Storage is fixed: a ring of [`FRAG_DATAGRAMS`] datagrams, the oldest overwritten first,
//! plus an open-addressing index of twice as many slots (the same scheme as the flow
//! table, [`crate::table`]), so a lookup is one hash and a short probe, never a scan of the
//! ring. The hash is keyed by the same per-run seed as the flow table: crafted fragment ids
//! cannot pile into one probe run either. Entries are not removed when a datagram is
//! complete (the tracker cannot know it is), only when the ring comes round; the tracker
//! is not reset between report intervals, since a datagram may straddle an interval edge.
//!
//! The all-zero state is the empty tracker (family 0 marks an unused ring entry), so it
//! can live in `.bss` like the flow table.

use crate::decode::Transport;
use crate::flow::Addr;
use crate::hash::{addr_words, FlowHasher};
use crate::table::Slots;

/// Datagrams tracked at once (SPEC: at least 1,024). A power of two.
pub const FRAG_DATAGRAMS: usize = 1024;
/// Index slots: twice the datagrams, so the index is at most half full.
const FRAG_SLOTS: usize = 2 * FRAG_DATAGRAMS;
const IDX_MASK: u32 = (FRAG_DATAGRAMS - 1) as u32;

/// A datagram's identity. `proto` is 0 for IPv6 (not part of its key); `family` 0 marks an
/// unused ring entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DatagramKey {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    proto: u8,
    family: u8,
}

impl DatagramKey {
    fn new(src: &Addr, dst: &Addr, proto: u8, id: u32) -> DatagramKey {
        DatagramKey {
            src: src.bytes,
            dst: dst.bytes,
            id,
            proto: if src.is_v6() { 0 } else { proto },
            // An unused entry has family 0; a real key never does.
            family: if src.is_v6() { 6 } else { 4 },
        }
    }

    fn words(&self) -> [u64; 6] {
        let (s0, s1) = addr_words(&Addr {
            family: 0,
            bytes: self.src,
        });
        let (d0, d1) = addr_words(&Addr {
            family: 0,
            bytes: self.dst,
        });
        let rest = u64::from(self.id) | u64::from(self.proto) << 32 | u64::from(self.family) << 40;
        // The sixth word differs from any flow key's layout: a fragment key and a flow key
        // never need to hash alike.
        [s0, s1, d0, d1, rest, 0x0f0f_f4a6]
    }
}

/// A transport stored without an enum discriminant, so that all-zero means "none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct StoredTransport {
    /// 0 none, 1 ports, 2 ICMP.
    kind: u8,
    a: u16,
    b: u16,
}

impl StoredTransport {
    fn from(t: Transport) -> StoredTransport {
        match t {
            Transport::None => StoredTransport {
                kind: 0,
                a: 0,
                b: 0,
            },
            Transport::Ports { src, dst } => StoredTransport {
                kind: 1,
                a: src,
                b: dst,
            },
            Transport::Icmp { ty, code } => StoredTransport {
                kind: 2,
                a: u16::from(ty),
                b: u16::from(code),
            },
        }
    }

    fn get(self) -> Transport {
        match self.kind {
            1 => Transport::Ports {
                src: self.a,
                dst: self.b,
            },
            2 => Transport::Icmp {
                ty: self.a as u8,
                code: self.b as u8,
            },
            _ => Transport::None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Entry {
    key: DatagramKey,
    transport: StoredTransport,
}

// 48 bytes per tracked datagram; the tracker's footprint is pinned with it.
static_assertions::const_assert_eq!(core::mem::size_of::<Entry>(), 48);

const EMPTY: Entry = Entry {
    key: DatagramKey {
        src: [0; 16],
        dst: [0; 16],
        id: 0,
        proto: 0,
        family: 0,
    },
    transport: StoredTransport {
        kind: 0,
        a: 0,
        b: 0,
    },
};

/// Remembers the transport of the last [`FRAG_DATAGRAMS`] fragmented datagrams.
#[derive(Clone)]
pub struct FragTracker {
    ring: [Entry; FRAG_DATAGRAMS],
    slots: Slots<FRAG_SLOTS>,
    /// The ring position the next new datagram takes.
    next: usize,
    /// Datagrams held (saturates at the ring size).
    len: usize,
    hasher: FlowHasher,
}

impl Default for FragTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for FragTracker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FragTracker")
            .field("len", &self.len)
            .finish()
    }
}

impl FragTracker {
    /// An empty tracker (all-zero storage).
    pub const fn new() -> FragTracker {
        FragTracker {
            ring: [EMPTY; FRAG_DATAGRAMS],
            slots: Slots::new(),
            next: 0,
            len: 0,
            hasher: FlowHasher::new(),
        }
    }

    /// Keys the hash with the per-run seed; tracked datagrams stay findable.
    pub fn set_seed(&mut self, seed: [u64; 2]) {
        self.hasher = FlowHasher::with_seed(seed);
        self.slots.clear();
        for i in 0..FRAG_DATAGRAMS {
            let key = self.ring[i].key;
            if key.family != 0 {
                let h = self.hasher.hash_words(&key.words());
                let pos = self.slots.first_empty(h as usize);
                self.slots.set(pos, tag(h) | i as u32);
            }
        }
    }

    /// Datagrams currently tracked.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no datagram is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn find(&self, key: &DatagramKey, h: u64) -> Option<usize> {
        let t = tag(h);
        let mut pos = h as usize;
        loop {
            let s = self.slots.get(pos);
            if s == 0 {
                return None;
            }
            if s & !IDX_MASK == t {
                let i = (s & IDX_MASK) as usize;
                if self.ring.get(i).is_some_and(|e| e.key == *key) {
                    return Some(i);
                }
            }
            pos = Slots::<FRAG_SLOTS>::next(pos);
        }
    }

    /// Records the transport of a datagram's first fragment. A repeated first fragment
    /// (a retransmission) updates the datagram in place.
    pub fn record_first(
        &mut self,
        src: &Addr,
        dst: &Addr,
        proto: u8,
        id: u32,
        transport: Transport,
    ) {
        let key = DatagramKey::new(src, dst, proto, id);
        let h = self.hasher.hash_words(&key.words());
        let stored = StoredTransport::from(transport);
        if let Some(i) = self.find(&key, h) {
            if let Some(e) = self.ring.get_mut(i) {
                e.transport = stored;
            }
            return;
        }
        let i = self.next;
        let Some(&old) = self.ring.get(i) else { return };
        if old.key.family != 0 {
            // The oldest datagram leaves: drop its index slot.
            let oh = self.hasher.hash_words(&old.key.words());
            if let Some(pos) = self.slots.find_word(oh as usize, tag(oh) | i as u32) {
                let (ring, hasher) = (&self.ring, &self.hasher);
                self.slots
                    .remove_at(pos, |w| match ring.get((w & IDX_MASK) as usize) {
                        Some(e) => hasher.hash_words(&e.key.words()) as usize,
                        None => 0,
                    });
            }
        } else {
            self.len += 1;
        }
        if let Some(e) = self.ring.get_mut(i) {
            *e = Entry {
                key,
                transport: stored,
            };
        }
        let pos = self.slots.first_empty(h as usize);
        self.slots.set(pos, tag(h) | i as u32);
        self.next = (i + 1) % FRAG_DATAGRAMS;
    }

    /// The transport of the datagram a later fragment belongs to, if its first fragment
    /// was seen (and not yet evicted).
    pub fn lookup(&self, src: &Addr, dst: &Addr, proto: u8, id: u32) -> Option<Transport> {
        let key = DatagramKey::new(src, dst, proto, id);
        let h = self.hasher.hash_words(&key.words());
        self.find(&key, h)
            .and_then(|i| self.ring.get(i))
            .map(|e| e.transport.get())
    }
}

/// Slot tag: high hash bits, top bit set, index bits clear (see [`crate::table`]).
#[inline(always)]
fn tag(h: u64) -> u32 {
    ((h >> 32) as u32 | 0x8000_0000) & !IDX_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Addr = Addr::v4([10, 0, 0, 1]);
    const B: Addr = Addr::v4([10, 0, 0, 2]);
    const PORTS: Transport = Transport::Ports { src: 1234, dst: 53 };

    fn v6(last: u8) -> Addr {
        let mut b = [0u8; 16];
        b[0] = 0x20;
        b[1] = 0x01;
        b[15] = last;
        Addr::v6(b)
    }

    #[test]
    fn later_fragment_gets_first_fragments_transport() {
        let mut t = FragTracker::new();
        assert_eq!(t.lookup(&A, &B, 17, 7), None);
        t.record_first(&A, &B, 17, 7, PORTS);
        assert_eq!(t.lookup(&A, &B, 17, 7), Some(PORTS));
        // Different id, protocol, direction: unknown.
        assert_eq!(t.lookup(&A, &B, 17, 8), None);
        assert_eq!(t.lookup(&A, &B, 6, 7), None);
        assert_eq!(t.lookup(&B, &A, 17, 7), None);
        let icmp = Transport::Icmp { ty: 8, code: 0 };
        t.record_first(&A, &B, 1, 7, icmp);
        assert_eq!(t.lookup(&A, &B, 1, 7), Some(icmp));
        assert_eq!(t.lookup(&A, &B, 17, 7), Some(PORTS));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn ipv6_key_ignores_protocol() {
        let mut t = FragTracker::new();
        let icmp = Transport::Icmp { ty: 128, code: 0 };
        t.record_first(&v6(1), &v6(2), 58, 0xdead_beef, icmp);
        assert_eq!(t.lookup(&v6(1), &v6(2), 58, 0xdead_beef), Some(icmp));
        assert_eq!(t.lookup(&v6(1), &v6(2), 44, 0xdead_beef), Some(icmp));
        assert_eq!(t.lookup(&v6(1), &v6(3), 58, 0xdead_beef), None);
        // Same bytes, other family: distinct datagrams.
        let v4_like = Addr::v4([0x20, 0x01, 0, 0]);
        assert_eq!(t.lookup(&v4_like, &v6(2), 58, 0xdead_beef), None);
    }

    #[test]
    fn repeated_first_fragment_updates_in_place() {
        let mut t = FragTracker::new();
        t.record_first(&A, &B, 17, 1, PORTS);
        let other = Transport::Ports { src: 1, dst: 2 };
        t.record_first(&A, &B, 17, 1, other);
        assert_eq!(t.len(), 1);
        assert_eq!(t.lookup(&A, &B, 17, 1), Some(other));
    }

    #[test]
    fn oldest_datagram_is_evicted_first() {
        let mut t = FragTracker::new();
        let ports = |i: u32| Transport::Ports {
            src: i as u16,
            dst: (i >> 16) as u16,
        };
        for id in 0..FRAG_DATAGRAMS as u32 {
            t.record_first(&A, &B, 17, id, ports(id));
        }
        assert_eq!(t.len(), FRAG_DATAGRAMS);
        for id in 0..FRAG_DATAGRAMS as u32 {
            assert_eq!(t.lookup(&A, &B, 17, id), Some(ports(id)), "id {id}");
        }
        // Three more: ids 0, 1, 2 leave, in that order.
        for (n, id) in (FRAG_DATAGRAMS as u32..FRAG_DATAGRAMS as u32 + 3).enumerate() {
            t.record_first(&A, &B, 17, id, ports(id));
            for gone in 0..=n as u32 {
                assert_eq!(t.lookup(&A, &B, 17, gone), None);
            }
            assert_eq!(
                t.lookup(&A, &B, 17, n as u32 + 1),
                Some(ports(n as u32 + 1))
            );
        }
        // Churn through many rings: the newest FRAG_DATAGRAMS stay findable, older ones not.
        let end = 10 * FRAG_DATAGRAMS as u32;
        for id in FRAG_DATAGRAMS as u32 + 3..end {
            t.record_first(&A, &B, 17, id, ports(id));
        }
        assert_eq!(t.len(), FRAG_DATAGRAMS);
        for id in end - FRAG_DATAGRAMS as u32..end {
            assert_eq!(t.lookup(&A, &B, 17, id), Some(ports(id)));
        }
        assert_eq!(t.lookup(&A, &B, 17, end - FRAG_DATAGRAMS as u32 - 1), None);
        assert_eq!(t.slots.occupied(), FRAG_DATAGRAMS);
        // Re-keying keeps them.
        t.set_seed([5, 6]);
        assert_eq!(t.lookup(&A, &B, 17, end - 1), Some(ports(end - 1)));
        assert_eq!(t.slots.occupied(), FRAG_DATAGRAMS);
    }

    #[test]
    fn stored_transport_round_trips() {
        for t in [
            Transport::None,
            Transport::Ports { src: 65535, dst: 0 },
            Transport::Icmp { ty: 255, code: 254 },
        ] {
            assert_eq!(StoredTransport::from(t).get(), t);
        }
        assert_eq!(StoredTransport::default().get(), Transport::None);
    }
}
