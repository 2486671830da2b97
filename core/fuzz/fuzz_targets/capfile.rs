//! The pcap / pcapng readers on arbitrary bytes, fed in arbitrary pieces the way the binary
//! feeds them (a window over the file that grows on `NeedMore` and shrinks by `consumed`).
//!
//! Checked: no panic; every call makes progress or ends (no loop); `NeedMore` never at the
//! end of the file; `consumed` within the window; no packet larger than `MAX_RECORD`; and the
//! packets and the final outcome (clean end or the error, with its offset) do not depend on
//! how the file was cut into pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pktstat_core::capfile::{Error, Item, Reader, MAX_RECORD, MIN_BUFFER};
use pktstat_core::link::{FrameMeta, LinkType};

#[derive(Debug, PartialEq)]
struct Run {
    packets: Vec<(LinkType, Vec<u8>, FrameMeta)>,
    outcome: Result<u64, Error>,
}

/// Reads `file` in pieces whose sizes come from `next_piece`.
fn read(file: &[u8], mut next_piece: impl FnMut() -> usize) -> Run {
    let mut reader = Reader::new();
    let mut window: Vec<u8> = Vec::new();
    let mut fed = 0usize;
    let mut packets = Vec::new();
    let mut steps = 0usize;
    let outcome = loop {
        steps += 1;
        assert!(steps < 8 * file.len() + 1000, "reader loops");
        let eof = fed == file.len();
        let before = reader.offset();
        let step = match reader.next(&window, eof) {
            Ok(s) => s,
            Err(e) => break Err(e),
        };
        assert!(step.consumed <= window.len(), "consumed past the window");
        assert_eq!(reader.offset(), before + step.consumed as u64);
        let consumed = step.consumed;
        let need_more = match step.item {
            Item::Packet(p) => {
                assert!(consumed > 0);
                assert!(p.data.len() <= MAX_RECORD);
                packets.push((p.link, p.data.to_vec(), p.meta));
                false
            }
            Item::Other => {
                assert!(consumed > 0, "no progress");
                false
            }
            Item::NeedMore => {
                assert!(!eof, "NeedMore at the end of the file");
                assert!(window.len() < MIN_BUFFER, "NeedMore with a full buffer");
                assert_eq!(consumed, 0);
                true
            }
            Item::End => break Ok(reader.offset()),
        };
        window.drain(..consumed);
        if need_more {
            let n = next_piece().clamp(1, file.len() - fed);
            window.extend_from_slice(&file[fed..fed + n]);
            fed += n;
        }
    };
    // After an error the reader keeps returning it.
    if let Err(e) = outcome {
        assert_eq!(reader.next(&window, true).err(), Some(e));
    }
    Run { packets, outcome }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (seed, file) = data.split_at(4);
    let mut x = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]) | 1;
    let whole = read(file, || usize::MAX);
    let pieces = read(file, || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Mostly small pieces (splitting headers and records), sometimes large ones.
        if x % 8 == 0 {
            (x >> 8) as usize % 4096
        } else {
            (x >> 8) as usize % 40
        }
    });
    assert_eq!(whole, pieces, "result depends on how the file is cut");
});
