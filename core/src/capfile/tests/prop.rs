//! Arbitrary bytes, fed in arbitrary chunk sizes, never panic and always terminate
//! (`read_with` bounds the steps and checks the contract on each).

use std::vec::Vec;

use proptest::prelude::*;

use super::build::*;
use super::{read_fast_with, read_with};

/// A plausible start (so the fuzz reaches past the magic number) or nothing.
fn prefix() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(Pcap::new(false, MAGIC_US, 1, 65535).out),
        Just(Pcap::new(true, MAGIC_NS, 113, 0).out),
        Just(Pcap::new(false, MAGIC_MOD, 1, 96).out),
        Just(Ng::new(false).out),
        Just(Ng::new(true).out),
        Just({
            let mut n = Ng::new(false);
            n.idb(1, 0, &[(9, &[9])]);
            n.out
        }),
    ]
}

/// A sound file to damage.
fn sound() -> Vec<u8> {
    let mut n = Ng::new(false);
    n.idb(1, 0, &[(9, &[0x80 | 10]), (14, &[1, 0, 0, 0, 0, 0, 0, 0])])
        .epb(0, 1 << 40, 60, &frame(60, 1))
        .block(5, &[0; 16])
        .spb(100, &frame(100, 2))
        .pb(0, 77, 30, &frame(30, 3));
    n.shb(true, &[])
        .idb(101, 40, &[])
        .epb(0, 5, 80, &frame(50, 4));
    n.out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_terminate(
        head in prefix(),
        tail in proptest::collection::vec(any::<u8>(), 0..600),
        chunks in proptest::collection::vec(1usize..64, 1..16),
    ) {
        let mut file = head;
        file.extend(tail);
        let whole = read_with(&file, || usize::MAX);
        let mut i = 0;
        let chunked = read_with(&file, || { i += 1; chunks[i % chunks.len()] });
        prop_assert_eq!(chunked, whole.clone());
        let room = 1 + chunks[0] % 5;
        let fast = read_fast_with(&file, || { i += 1; chunks[i % chunks.len()] }, room);
        prop_assert_eq!(fast, whole);
    }

    #[test]
    fn damaged_sound_files_terminate(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        chunks in proptest::collection::vec(1usize..32, 1..8),
    ) {
        let mut file = sound();
        for (at, byte) in edits {
            let at = at.index(file.len());
            file[at] = byte;
        }
        file.truncate(cut.index(file.len() + 1));
        let whole = read_with(&file, || usize::MAX);
        let mut i = 0;
        let chunked = read_with(&file, || { i += 1; chunks[i % chunks.len()] });
        prop_assert_eq!(chunked, whole.clone());
        let room = 1 + chunks[0] % 5;
        let fast = read_fast_with(&file, || { i += 1; chunks[i % chunks.len()] }, room);
        prop_assert_eq!(fast, whole);
    }
}

#[test]
fn the_sound_file_is_sound() {
    let out = super::read_all_ways(&sound());
    assert_eq!(out.end, Ok(()));
    assert_eq!(out.packets.len(), 4);
}
