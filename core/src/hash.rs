//! A fast, keyed, word-wise hash of a [`FlowKey`] (and of the fragment tracker's keys).
//!
//! Why our own: the flow table hashes every packet's key, so the hash is on the hot path.
//! FNV (heapless `IndexMap`'s default) consumes one byte per multiply: 48 dependent
//! multiplies for a flow key. Here the key is read as six 64-bit words, and pairs of words
//! go through one *folded multiply* each (the full 128-bit product of the two words, its
//! halves XORed — the mixer of wyhash and foldhash): three independent multiplies plus one
//! to combine, a few nanoseconds. heapless's `IndexMap` also stores 16-bit hashes, caps at
//! 65,536 slots and would run at 92 % load with 60,000 flows; see [`crate::table`].
//!
//! Why keyed: pktstat reads whatever the network sends it. With a fixed hash, an attacker
//! can craft flows that all land in one probe run and turn every lookup into a scan of the
//! table. Every word is XORed with a secret derived from a per-run random seed
//! ([`FlowHasher::with_seed`], from `getrandom` in the binary) before it is multiplied, so
//! which keys collide cannot be predicted from outside the process.
//!
//! 32-bit targets (mips, armv7 routers) have no 64×64→128 multiply; there the fold is
//! built from two 32×32→64 multiplies (one `umull`/`multu` each), as foldhash does.
//!
//! This is a hash for tables, not a MAC: it resists the collision flooding a remote
//! sender can attempt, not an attacker who can observe the hashes.

use crate::flow::{Addr, FlowKey};

/// Constants XORed into the key material (digits of π), so that the all-zero state
/// (`FlowHasher::new()`, what a zero-initialised `static` holds) still hashes well.
const PI: [u64; 8] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
    0xbe54_66cf_34e9_0c6c,
    0xc0ac_29b7_c97c_50dd,
    0x3f84_d5b5_b547_0917,
];

/// The 64-bit folded multiply: the 128-bit product of `a` and `b`, high half XOR low half.
#[cfg(not(target_pointer_width = "32"))]
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The folded multiply for 32-bit CPUs: two 32×32→64 products of crossed halves, one of
/// them rotated (foldhash's 32-bit variant). Not the same function as the 64-bit one, but
/// the same job: every output bit depends on every input bit of both operands.
#[cfg(target_pointer_width = "32")]
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let lo_a = a as u32;
    let hi_a = (a >> 32) as u32;
    let lo_b = b as u32;
    let hi_b = (b >> 32) as u32;
    let x = u64::from(lo_a) * u64::from(hi_b);
    let y = u64::from(hi_a) * u64::from(lo_b);
    x ^ y.rotate_right(32)
}

/// splitmix64: expands the 128-bit seed into the hasher's eight secret words.
const fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A keyed hasher for flow keys. `Copy`, 64 bytes, all-zero when unseeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHasher {
    /// Secret words; the effective key of word `i` is `k[i] ^ PI[i]`.
    k: [u64; 8],
}

impl Default for FlowHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowHasher {
    /// The unkeyed hasher (all-zero state). Fine for tests and files from trusted
    /// sources; call [`FlowHasher::with_seed`] with a random seed for anything live.
    pub const fn new() -> FlowHasher {
        FlowHasher { k: [0; 8] }
    }

    /// A hasher keyed by a 128-bit seed.
    pub const fn with_seed(seed: [u64; 2]) -> FlowHasher {
        let mut state = seed[0] ^ seed[1].rotate_left(32);
        let mut k = [0u64; 8];
        let mut i = 0;
        while i < 8 {
            // Mix the second seed word in again so that (a, b) and (b rotated, a) differ.
            k[i] = splitmix(&mut state) ^ seed[1];
            i += 1;
        }
        FlowHasher { k }
    }

    /// Hashes six 64-bit words. Low bits and high bits are both well mixed: the table
    /// takes its slot from the low bits and its tag from the high 32.
    #[inline(always)]
    pub fn hash_words(&self, w: &[u64; 6]) -> u64 {
        let k = &self.k;
        let a = fold_mul(w[0] ^ k[0] ^ PI[0], w[1] ^ k[1] ^ PI[1]);
        let b = fold_mul(w[2] ^ k[2] ^ PI[2], w[3] ^ k[3] ^ PI[3]);
        let c = fold_mul(w[4] ^ k[4] ^ PI[4], w[5] ^ k[5] ^ PI[5]);
        // Combine asymmetrically (rotation) so that swapping a and b changes the result.
        fold_mul(a ^ k[6] ^ PI[6], b.rotate_left(29) ^ c ^ k[7] ^ PI[7])
    }

    /// Hashes a flow key (see [`key_words`]).
    #[inline(always)]
    pub fn hash_key(&self, key: &FlowKey) -> u64 {
        self.hash_words(&key_words(key))
    }
}

/// An address's 16 bytes as two native-order words (a plain load each).
#[inline(always)]
pub fn addr_words(a: &Addr) -> (u64, u64) {
    let b = &a.bytes;
    (
        u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        u64::from_ne_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
    )
}

/// A flow key as six words: every field, each in its own bits, so that distinct keys give
/// distinct words (the hash is then only as weak as the mixer, never the packing).
#[inline(always)]
pub fn key_words(key: &FlowKey) -> [u64; 6] {
    let (s0, s1) = addr_words(&key.src);
    let (d0, d1) = addr_words(&key.dst);
    let ports =
        u64::from(key.src_port) | u64::from(key.dst_port) << 16 | u64::from(key.ifindex) << 32;
    let misc = u64::from(key.vlan)
        | u64::from(key.proto) << 16
        | u64::from(key.icmp_type) << 24
        | u64::from(key.icmp_code) << 32
        | u64::from(key.has_icmp) << 40
        | u64::from(key.src.family) << 48
        | u64::from(key.dst.family) << 56;
    [s0, s1, d0, d1, ports, misc]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(i: u32) -> FlowKey {
        let b = i.to_be_bytes();
        FlowKey {
            src: Addr::v4([10, b[1], b[2], b[3]]),
            dst: Addr::v4([192, 0, 2, 1]),
            src_port: 40000,
            dst_port: 443,
            proto: 6,
            ..FlowKey::default()
        }
    }

    #[test]
    fn distinct_fields_give_distinct_words() {
        let base = key(1);
        let mut variants = std::vec![base];
        let mut k = base;
        k.src_port ^= 1;
        variants.push(k);
        let mut k = base;
        k.dst_port ^= 1;
        variants.push(k);
        let mut k = base;
        k.ifindex = 1;
        variants.push(k);
        let mut k = base;
        k.vlan = 1;
        variants.push(k);
        let mut k = base;
        k.proto = 17;
        variants.push(k);
        let mut k = base;
        k.icmp_type = 1;
        variants.push(k);
        let mut k = base;
        k.icmp_code = 1;
        variants.push(k);
        let mut k = base;
        k.has_icmp = true;
        variants.push(k);
        let mut k = base;
        k.src.family = 6;
        variants.push(k);
        let mut k = base;
        k.dst.family = 6;
        variants.push(k);
        let mut k = base;
        k.dst.bytes[15] = 9;
        variants.push(k);
        let words: HashSet<[u64; 6]> = variants.iter().map(key_words).collect();
        assert_eq!(words.len(), variants.len());
    }

    #[test]
    fn seed_changes_the_hash() {
        let k = key(7);
        let h0 = FlowHasher::new().hash_key(&k);
        let h1 = FlowHasher::with_seed([1, 2]).hash_key(&k);
        let h2 = FlowHasher::with_seed([2, 1]).hash_key(&k);
        assert_ne!(h0, h1);
        assert_ne!(h1, h2);
        assert_eq!(h1, FlowHasher::with_seed([1, 2]).hash_key(&k));
    }

    #[test]
    fn sequential_keys_spread_over_low_and_high_bits() {
        // 4096 sequential IPv4 sources into 8192 buckets by low bits and by the top 13 bits:
        // a decent hash fills roughly 1 - e^-0.5 = 39 % of them; a broken one far fewer.
        for hasher in [FlowHasher::new(), FlowHasher::with_seed([0xdead, 0xbeef])] {
            let mut low = HashSet::new();
            let mut high = HashSet::new();
            for i in 0..4096 {
                let h = hasher.hash_key(&key(i));
                low.insert(h & 8191);
                high.insert(h >> 51);
            }
            assert!(low.len() > 2900, "low bits: {}", low.len());
            assert!(high.len() > 2900, "high bits: {}", high.len());
        }
    }

    #[test]
    fn single_bit_flips_change_about_half_the_output() {
        let hasher = FlowHasher::with_seed([3, 4]);
        let base = key(12345);
        let hb = hasher.hash_key(&base);
        let mut total = 0u32;
        let mut n = 0u32;
        for byte in 0..16 {
            for bit in 0..8 {
                let mut k = base;
                k.dst.bytes[byte] ^= 1 << bit;
                let d = (hasher.hash_key(&k) ^ hb).count_ones();
                assert!(d >= 8, "byte {byte} bit {bit}: only {d} bits changed");
                total += d;
                n += 1;
            }
        }
        let mean = total / n;
        assert!((24..=40).contains(&mean), "mean flipped bits {mean}");
    }
}
