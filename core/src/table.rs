//! The fixed-capacity flow table (SPEC §4).
//!
//! Two arrays, both sized at build time by const parameters:
//!
//! * `entries`: the flows themselves, dense, on a `heapless::Vec<Flow, N>` — the report
//!   reads (and sorts) them as one slice, with no holes to skip;
//! * `slots`: an open-addressing index of `S` `u32` words (`S` a power of two, `S >= 2N`,
//!   so the load factor never exceeds 50 % and probe runs stay short). A slot is `0` when
//!   empty, else `tag | i` where `i` is the flow's position in `entries` (the low
//!   [`FlowTable::IDX_BITS`] bits) and `tag` is the high bits of the key's hash with the
//!   top bit forced on (so an occupied slot is never 0). Comparing the tag first skips
//!   nearly every full key compare against a foreign key.
//!
//! Lookup starts at `hash & (S - 1)` and probes linearly — no division anywhere. Deletion
//! shifts later members of the probe run backwards instead of leaving tombstones, so a
//! table that churns for days never degrades.
//!
//! Because the empty state is all zeros, [`FlowTable::new`] is a `const fn` producing
//! zeroed storage: in a `static` it lives in `.bss`, and the process's resident memory
//! grows only with the pages the flows actually touch.
//!
//! When all `N` entries are in use, a new flow takes the place of the flow with the fewest
//! bytes among [`EVICTION_SAMPLES`] entries drawn pseudo-randomly; the victim's counters are
//! handed back to the caller, which adds them to the `other flows` row — totals stay
//! exact, heavy hitters survive.
//!
//! # Invariants
//!
//! 1. `entries` holds no two equal keys.
//! 2. For every `i < entries.len()` exactly one slot holds `tag(hash(entries[i].key)) | i`,
//!    and no slot refers to an index `>= entries.len()` (unless `stale`, below).
//! 3. Linear probing: the slot of entry `i` is reachable from its home `hash & (S - 1)`
//!    without crossing an empty slot.
//! 4. At least `S - N >= N` slots are empty, so every probe loop ends.
//! 5. `stale` is set when the caller got `&mut` access to the entries (and may have
//!    reordered them): the index is then rebuilt before the next lookup.

use crate::flow::{Counters, Flow, FlowKey};
use crate::hash::FlowHasher;
use static_assertions::const_assert_eq;

/// How many entries are sampled to choose the victim when the table is full.
pub const EVICTION_SAMPLES: usize = 8;

/// Bytes of memory per flow in the default table: the entry, plus two index slots.
pub const BYTES_PER_FLOW: usize = core::mem::size_of::<Flow>() + 2 * core::mem::size_of::<u32>();

// Every byte here is multiplied by 65,536 (the default capacity): growth must be deliberate.
const_assert_eq!(core::mem::size_of::<Flow>(), 64);
const_assert_eq!(BYTES_PER_FLOW, 72);

/// An open-addressing index of `S` `u32` slots (`0` = empty), linear probing with
/// backward-shift deletion. Shared by the flow table and the fragment tracker; the owner
/// knows how to find an entry's home from its slot word.
#[derive(Clone, Debug)]
pub(crate) struct Slots<const S: usize> {
    s: [u32; S],
}

impl<const S: usize> Slots<S> {
    const MASK: usize = S - 1;

    pub(crate) const fn new() -> Self {
        Slots { s: [0; S] }
    }

    /// The slot word at `pos` (taken modulo `S`).
    #[inline(always)]
    pub(crate) fn get(&self, pos: usize) -> u32 {
        self.s[pos & Self::MASK]
    }

    /// Writes the slot word at `pos` (modulo `S`).
    #[inline(always)]
    pub(crate) fn set(&mut self, pos: usize, word: u32) {
        self.s[pos & Self::MASK] = word;
    }

    /// The next position after `pos`.
    #[inline(always)]
    pub(crate) fn next(pos: usize) -> usize {
        (pos + 1) & Self::MASK
    }

    /// The first empty slot at or after `home`. The caller guarantees one exists.
    #[inline]
    pub(crate) fn first_empty(&self, home: usize) -> usize {
        let mut pos = home & Self::MASK;
        while self.s[pos] != 0 {
            pos = Self::next(pos);
        }
        pos
    }

    /// The position of the slot holding exactly `word`, probing from `home`.
    pub(crate) fn find_word(&self, home: usize, word: u32) -> Option<usize> {
        let mut pos = home & Self::MASK;
        loop {
            let s = self.s[pos];
            if s == word {
                return Some(pos);
            }
            if s == 0 {
                return None;
            }
            pos = Self::next(pos);
        }
    }

    /// Empties the slot at `pos` and shifts later members of its probe run back so that
    /// every remaining one stays reachable from its home (no tombstones). `home_of` gives
    /// the home position of an occupied slot word.
    pub(crate) fn remove_at(&mut self, pos: usize, mut home_of: impl FnMut(u32) -> usize) {
        let mut hole = pos & Self::MASK;
        let mut j = Self::next(hole);
        loop {
            let s = self.s[j];
            if s == 0 {
                break;
            }
            let home = home_of(s) & Self::MASK;
            // The word at j may move to the hole when its home is not in (hole, j]
            // (cyclically): its distance to j is at least the hole's.
            if j.wrapping_sub(home) & Self::MASK >= j.wrapping_sub(hole) & Self::MASK {
                self.s[hole] = s;
                hole = j;
            }
            j = Self::next(j);
        }
        self.s[hole] = 0;
    }

    /// Empties every slot. Reads the whole array but writes only the occupied slots, so
    /// pages never used stay untouched (a zero page read is not resident memory).
    pub(crate) fn clear(&mut self) {
        for s in self.s.iter_mut() {
            if *s != 0 {
                *s = 0;
            }
        }
    }

    /// Number of occupied slots (tests).
    #[cfg(test)]
    pub(crate) fn occupied(&self) -> usize {
        self.s.iter().filter(|&&s| s != 0).count()
    }
}

/// What [`FlowTable::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// The flow was in the table; its counters were updated.
    Existing,
    /// A new entry was created.
    New,
    /// The table was full: the new flow replaced a light one, whose final counters (and
    /// key) are returned for the `other flows` row.
    Evicted(Flow),
}

/// A fixed-capacity flow table of `N` flows with an `S`-slot index (see the module docs).
pub struct FlowTable<const N: usize, const S: usize> {
    entries: heapless::Vec<Flow, N>,
    slots: Slots<S>,
    hasher: KeyHash,
    /// Weyl-sequence state for victim sampling (any value, zero included, works).
    rng: u64,
    /// The entries may have been reordered through `entries_mut`: rebuild the index first.
    stale: bool,
}

/// The table's hash function: the keyed hasher, or in tests a chosen function that forces
/// collisions.
#[derive(Clone, Copy)]
struct KeyHash {
    hasher: FlowHasher,
    #[cfg(test)]
    over: Option<fn(&FlowKey) -> u64>,
}

impl KeyHash {
    #[inline(always)]
    fn hash(&self, key: &FlowKey) -> u64 {
        #[cfg(test)]
        if let Some(f) = self.over {
            return f(key);
        }
        self.hasher.hash_key(key)
    }
}

impl<const N: usize, const S: usize> Default for FlowTable<N, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const S: usize> core::fmt::Debug for FlowTable<N, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlowTable")
            .field("len", &self.entries.len())
            .field("capacity", &N)
            .field("slots", &S)
            .finish()
    }
}

impl<const N: usize, const S: usize> FlowTable<N, S> {
    /// Bits of a slot word holding the entry index: enough for `0..N`.
    pub const IDX_BITS: u32 = if N <= 1 {
        0
    } else {
        usize::BITS - (N - 1).leading_zeros()
    };
    const IDX_MASK: u32 = if Self::IDX_BITS == 0 {
        0
    } else {
        u32::MAX >> (32 - Self::IDX_BITS)
    };

    /// Compile-time checks of the const parameters (evaluated in `new`).
    const CHECK: () = {
        assert!(N >= 1, "a flow table needs at least one entry");
        assert!(S.is_power_of_two(), "the slot count must be a power of two");
        assert!(
            S / 2 >= N,
            "the index needs at least two slots per flow (S >= 2N)"
        );
        assert!(
            N <= 1 << 24,
            "at most 2^24 flows: a slot keeps at least 7 tag bits"
        );
        assert!(S <= 1 << 31, "at most 2^31 slots");
    };

    /// An empty table: all-zero storage, so a `static` keeps it in `.bss`.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        FlowTable {
            entries: heapless::Vec::new(),
            slots: Slots::new(),
            hasher: KeyHash {
                hasher: FlowHasher::new(),
                #[cfg(test)]
                over: None,
            },
            rng: 0,
            stale: false,
        }
    }

    /// Keys the hash with a per-run random seed. Existing entries stay findable (the index
    /// is rebuilt).
    pub fn set_seed(&mut self, seed: [u64; 2]) {
        self.hasher.hasher = FlowHasher::with_seed(seed);
        self.rng = seed[0] ^ seed[1].rotate_left(17);
        self.rebuild_index();
    }

    /// Number of flows.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no flow.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Maximum number of flows (`N`).
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The flows, in table order.
    #[inline]
    pub fn entries(&self) -> &[Flow] {
        &self.entries
    }

    /// The flows for in-place reordering (sorting by the report). The index is rebuilt
    /// before the next [`FlowTable::add`] / [`FlowTable::get`] unless the table is cleared
    /// first. Keys must not be changed.
    pub fn entries_mut(&mut self) -> &mut [Flow] {
        self.stale = true;
        &mut self.entries
    }

    /// Empties the table. Cost: a read of the index and a write of the slots in use.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.slots.clear();
        self.stale = false;
    }

    #[inline(always)]
    fn hash(&self, key: &FlowKey) -> u64 {
        self.hasher.hash(key)
    }

    /// Replaces the hash function (tests: force collisions).
    #[cfg(test)]
    pub(crate) fn set_hash_override(&mut self, f: fn(&FlowKey) -> u64) {
        self.hasher.over = Some(f);
        self.rebuild_index();
    }

    /// The slot word's tag part for hash `h`: the high 32 bits of the hash with the top
    /// bit set (never zero) and the index bits cleared.
    #[inline(always)]
    fn tag(h: u64) -> u32 {
        ((h >> 32) as u32 | 0x8000_0000) & !Self::IDX_MASK
    }

    /// The home position of the entry a slot word points at (rehashes its key).
    fn home_of_word(entries: &[Flow], hasher: &KeyHash, word: u32) -> usize {
        match entries.get((word & Self::IDX_MASK) as usize) {
            Some(flow) => hasher.hash(&flow.key) as usize,
            None => 0, // unreachable by invariant 2; any value keeps the probe loop finite
        }
    }

    /// Rebuilds the index from the entries (after reordering, or a new seed).
    fn rebuild_index(&mut self) {
        self.slots.clear();
        for i in 0..self.entries.len() {
            let h = self.hash(&self.entries[i].key);
            let pos = self.slots.first_empty(h as usize);
            self.slots.set(pos, Self::tag(h) | i as u32);
        }
        self.stale = false;
    }

    /// Looks a key up: its slot position and entry index.
    #[inline(always)]
    fn find(&self, key: &FlowKey, h: u64) -> Result<(usize, usize), usize> {
        let tag = Self::tag(h);
        let mut pos = h as usize;
        loop {
            let s = self.slots.get(pos);
            if s == 0 {
                return Err(pos & (S - 1));
            }
            if s & !Self::IDX_MASK == tag {
                let i = (s & Self::IDX_MASK) as usize;
                if let Some(flow) = self.entries.get(i) {
                    if flow.key == *key {
                        return Ok((pos & (S - 1), i));
                    }
                }
            }
            pos = Slots::<S>::next(pos);
        }
    }

    /// The counters of a flow, if present.
    pub fn get(&mut self, key: &FlowKey) -> Option<Counters> {
        if self.stale {
            self.rebuild_index();
        }
        let h = self.hash(key);
        self.find(key, h)
            .ok()
            .and_then(|(_, i)| self.entries.get(i))
            .map(|f| f.counters)
    }

    /// Counts one frame of `wire_len` bytes on the flow `key`, creating it when new and
    /// evicting a light flow when the table is full.
    #[inline]
    pub fn add(&mut self, key: &FlowKey, wire_len: u32) -> Added {
        let h = self.hash(key);
        self.add_hashed(key, h, wire_len)
    }

    /// The table's hash of `key` (for [`FlowTable::add_hashed`] and the prefetches).
    #[inline(always)]
    pub(crate) fn hash_key(&self, key: &FlowKey) -> u64 {
        self.hash(key)
    }

    /// Loads the home slot of hash `h` and, when it holds an entry with the hash's tag, a
    /// word of that entry; returns something computed from both. Changes nothing: it is
    /// how [`crate::engine::Engine::account_batch`] gets a group's lines loaded together
    /// (independent loads overlap their cache misses) before the lookups proper. Safe Rust
    /// has no portable prefetch instruction; the caller passes the result to
    /// `core::hint::black_box` so that the loads are not optimised away.
    #[inline(always)]
    pub(crate) fn touch(&self, h: u64) -> u64 {
        let s = self.slots.get(h as usize);
        if s != 0 && s & !Self::IDX_MASK == Self::tag(h) {
            if let Some(flow) = self.entries.get((s & Self::IDX_MASK) as usize) {
                return flow.counters.packets;
            }
        }
        u64::from(s)
    }

    /// [`FlowTable::add`] with the key's hash already computed by [`FlowTable::hash_key`].
    #[inline]
    pub(crate) fn add_hashed(&mut self, key: &FlowKey, h: u64, wire_len: u32) -> Added {
        if self.stale {
            self.rebuild_index();
        }
        let empty_pos = match self.find(key, h) {
            Ok((_, i)) => {
                if let Some(flow) = self.entries.get_mut(i) {
                    flow.counters.add(wire_len);
                }
                return Added::Existing;
            }
            Err(pos) => pos,
        };
        let mut counters = Counters::default();
        counters.add(wire_len);
        let flow = Flow {
            key: *key,
            counters,
        };
        let i = self.entries.len();
        if self.entries.push(flow).is_ok() {
            self.slots.set(empty_pos, Self::tag(h) | i as u32);
            return Added::New;
        }
        self.evict_for(flow, h)
    }

    /// Full table: `flow` (absent) replaces the lightest of a few sampled entries.
    #[cold]
    fn evict_for(&mut self, flow: Flow, h: u64) -> Added {
        let victim = self.pick_victim();
        let Some(&old) = self.entries.get(victim) else {
            return Added::Existing; // unreachable: N >= 1 and the table is full
        };
        self.unlink(victim, &old.key);
        let pos = self.slots.first_empty(h as usize);
        self.slots.set(pos, Self::tag(h) | victim as u32);
        if let Some(e) = self.entries.get_mut(victim) {
            *e = flow;
        }
        Added::Evicted(old)
    }

    /// The index of the entry with the fewest bytes (then packets) among
    /// [`EVICTION_SAMPLES`] pseudo-random draws.
    fn pick_victim(&mut self) -> usize {
        let len = self.entries.len() as u64;
        let mut best = 0usize;
        let mut best_c = (u64::MAX, u64::MAX);
        for _ in 0..EVICTION_SAMPLES {
            // Weyl sequence through a splitmix finaliser; multiply-shift maps it to 0..len
            // without a division.
            self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let i = (((z >> 32) * len) >> 32) as usize;
            if let Some(f) = self.entries.get(i) {
                let c = (f.counters.bytes, f.counters.packets);
                if c < best_c {
                    best_c = c;
                    best = i;
                }
            }
        }
        best
    }

    /// Removes the index slot of entry `i` (whose key is `key`), keeping the entry.
    fn unlink(&mut self, i: usize, key: &FlowKey) {
        let h = self.hash(key);
        let word = Self::tag(h) | i as u32;
        if let Some(pos) = self.slots.find_word(h as usize, word) {
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.slots
                .remove_at(pos, |w| Self::home_of_word(entries, hasher, w));
        }
    }

    /// Removes a flow, returning its counters. The last entry moves into its place.
    pub fn remove(&mut self, key: &FlowKey) -> Option<Counters> {
        if self.stale {
            self.rebuild_index();
        }
        let h = self.hash(key);
        let (_, i) = self.find(key, h).ok()?;
        let removed = *self.entries.get(i)?;
        self.unlink(i, key);
        let last = self.entries.len() - 1;
        if let (true, Some(&moved)) = (i != last, self.entries.get(last)) {
            let mh = self.hash(&moved.key);
            if let Some(pos) = self
                .slots
                .find_word(mh as usize, Self::tag(mh) | last as u32)
            {
                self.slots.set(pos, Self::tag(mh) | i as u32);
            }
        }
        self.entries.swap_remove(i);
        Some(removed.counters)
    }

    /// Checks invariants 1–3 (tests).
    #[cfg(test)]
    pub(crate) fn check_invariants(&mut self) {
        if self.stale {
            self.rebuild_index();
        }
        assert_eq!(self.slots.occupied(), self.entries.len());
        for i in 0..self.entries.len() {
            let key = self.entries[i].key;
            let h = self.hash(&key);
            assert_eq!(
                self.find(&key, h).map(|(_, j)| j),
                Ok(i),
                "entry {i} not findable"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Addr;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn key(i: u32) -> FlowKey {
        let b = i.to_be_bytes();
        FlowKey {
            src: Addr::v4([10, b[1], b[2], b[3]]),
            dst: Addr::v4([192, 0, 2, 1]),
            src_port: (i % 50_000) as u16,
            dst_port: 80,
            proto: 6,
            ..FlowKey::default()
        }
    }

    /// Every key lands on slot 5 with the same tag: the worst case, one long probe run.
    fn same_hash(_: &FlowKey) -> u64 {
        0xabcd_ef01_0000_0005
    }

    /// Few distinct homes and tags: many collisions of both kinds.
    fn few_hashes(k: &FlowKey) -> u64 {
        let x = u64::from(k.src.bytes[3] % 3);
        (x << 40) | (u64::from(k.src_port) % 4)
    }

    /// Homes at the end of a 64-slot index: probe runs wrap round to slot 0.
    fn wrapping_hashes(k: &FlowKey) -> u64 {
        (u64::from(k.src.bytes[3]) << 36) | (60 + u64::from(k.src_port) % 8)
    }

    #[test]
    fn const_parameters() {
        assert_eq!(FlowTable::<65_536, 131_072>::IDX_BITS, 16);
        assert_eq!(FlowTable::<4, 8>::IDX_BITS, 2);
        assert_eq!(FlowTable::<5, 16>::IDX_BITS, 3);
        assert_eq!(FlowTable::<1, 2>::IDX_BITS, 0);
        assert_eq!(FlowTable::<4, 8>::new().capacity(), 4);
    }

    #[test]
    fn insert_lookup_update() {
        let mut t = FlowTable::<16, 32>::new();
        assert!(t.is_empty());
        assert_eq!(t.add(&key(1), 100), Added::New);
        assert_eq!(t.add(&key(2), 60), Added::New);
        assert_eq!(t.add(&key(1), 40), Added::Existing);
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.get(&key(1)),
            Some(Counters {
                packets: 2,
                bytes: 140
            })
        );
        assert_eq!(
            t.get(&key(2)),
            Some(Counters {
                packets: 1,
                bytes: 60
            })
        );
        assert_eq!(t.get(&key(3)), None);
        t.check_invariants();
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.get(&key(1)), None);
        assert_eq!(t.slots.occupied(), 0);
    }

    #[test]
    fn same_tag_collisions_compare_keys() {
        for f in [
            same_hash as fn(&FlowKey) -> u64,
            few_hashes,
            wrapping_hashes,
        ] {
            let mut t = FlowTable::<64, 128>::new();
            t.set_hash_override(f);
            for i in 0..64 {
                assert_eq!(t.add(&key(i), i + 1), Added::New);
            }
            for i in 0..64 {
                assert_eq!(t.add(&key(i), 1), Added::Existing);
                assert_eq!(
                    t.get(&key(i)),
                    Some(Counters {
                        packets: 2,
                        bytes: u64::from(i) + 2
                    })
                );
            }
            assert_eq!(t.get(&key(1000)), None);
            t.check_invariants();
        }
    }

    #[test]
    fn full_table_evicts_light_flows_and_keeps_heavy_hitters() {
        let mut t = FlowTable::<64, 128>::new();
        // 8 heavy flows, 56 light ones.
        for i in 0..64 {
            let len = if i < 8 { 1_000_000 } else { 64 };
            t.add(&key(i), len);
        }
        let mut evicted = Counters::default();
        let mut n_evicted = 0;
        for i in 64..10_064 {
            match t.add(&key(i), 64) {
                Added::Evicted(f) => {
                    assert!(f.counters.bytes < 1_000_000, "a heavy hitter was evicted");
                    evicted.merge(f.counters);
                    n_evicted += 1;
                }
                other => panic!("expected an eviction, got {other:?}"),
            }
            assert_eq!(t.len(), 64);
        }
        assert_eq!(n_evicted, 10_000);
        for i in 0..8 {
            assert_eq!(t.get(&key(i)).map(|c| c.bytes), Some(1_000_000));
        }
        // Conservation: what remains plus what left equals what came in.
        let mut total = evicted;
        for f in t.entries() {
            total.merge(f.counters);
        }
        assert_eq!(total.packets, 64 + 10_000);
        assert_eq!(total.bytes, 8 * 1_000_000 + 56 * 64 + 10_000 * 64);
        t.check_invariants();
    }

    #[test]
    fn reordered_entries_rebuild_the_index() {
        let mut t = FlowTable::<32, 64>::new();
        for i in 0..20 {
            t.add(&key(i), 10 * (i + 1));
        }
        t.entries_mut().sort_by(|a, b| a.report_cmp(b));
        assert_eq!(t.entries()[0].key, key(19));
        assert_eq!(t.add(&key(3), 1), Added::Existing);
        assert_eq!(
            t.get(&key(3)),
            Some(Counters {
                packets: 2,
                bytes: 41
            })
        );
        assert_eq!(t.len(), 20);
        t.check_invariants();
        // A new seed keeps every flow findable.
        t.set_seed([9, 9]);
        t.check_invariants();
        assert_eq!(
            t.get(&key(19)),
            Some(Counters {
                packets: 1,
                bytes: 200
            })
        );
    }

    #[test]
    fn default_table_memory() {
        // Entries + index of the default table: the figure the README's RSS budget rests on.
        let size = core::mem::size_of::<FlowTable<65_536, 131_072>>();
        assert!(size <= 65_536 * BYTES_PER_FLOW + 256, "{size}");
    }

    proptest! {
        /// Random inserts and removals, with colliding hashes: every remaining key stays
        /// findable with its counters, and removed keys are gone.
        #[test]
        fn deletion_keeps_keys_findable(
            ops in proptest::collection::vec((0u32..48, any::<bool>()), 1..400),
            // 48 keys into 32 entries: inserts beyond 32 flows evict.
            collide in 0u8..4,
        ) {
            let mut t = FlowTable::<32, 64>::new();
            match collide {
                1 => t.set_hash_override(same_hash),
                2 => t.set_hash_override(few_hashes),
                3 => t.set_hash_override(wrapping_hashes),
                _ => {}
            }
            let mut model: Vec<(u32, u64)> = Vec::new();
            for (k, insert) in ops {
                if insert {
                    if let Some(e) = model.iter_mut().find(|e| e.0 == k) {
                        prop_assert_eq!(t.add(&key(k), 1), Added::Existing);
                        e.1 += 1;
                    } else {
                        match t.add(&key(k), 1) {
                            Added::New => prop_assert!(model.len() < 32),
                            Added::Evicted(victim) => {
                                prop_assert_eq!(model.len(), 32);
                                let p = model.iter().position(|e| key(e.0) == victim.key);
                                prop_assert!(p.is_some(), "victim was not in the table");
                                let gone = model.swap_remove(p.unwrap_or(0));
                                prop_assert_eq!(gone.1, victim.counters.packets);
                            }
                            Added::Existing => prop_assert!(false, "new key reported existing"),
                        }
                        model.push((k, 1));
                    }
                } else {
                    let want = model.iter().position(|e| e.0 == k).map(|p| model.swap_remove(p).1);
                    prop_assert_eq!(t.remove(&key(k)).map(|c| c.packets), want);
                }
                prop_assert_eq!(t.len(), model.len());
            }
            for &(k, n) in &model {
                prop_assert_eq!(t.get(&key(k)).map(|c| c.packets), Some(n));
            }
            for k in 0..48 {
                if !model.iter().any(|e| e.0 == k) {
                    prop_assert_eq!(t.get(&key(k)), None);
                }
            }
            t.check_invariants();
        }
    }
}
