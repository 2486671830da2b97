//! Reader tests: hand-built files of every format, byte order and resolution, read whole and
//! in tiny chunks; damaged files (`hostile`); arbitrary bytes (`prop`).

mod build;
mod hostile;
mod prop;

use std::vec::Vec;

use self::build::*;
use super::*;
use crate::link::Timestamp;

/// A packet copied out of the reader's borrowed view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub link: LinkType,
    pub data: Vec<u8>,
    pub meta: FrameMeta,
}

/// Everything one read of a file produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub packets: Vec<Got>,
    pub end: Result<(), Error>,
    pub format: Option<Format>,
}

/// Reads `file` as a caller would, offering `chunk()` more bytes at each `NeedMore`
/// (`usize::MAX`: the whole file at once). Checks the contract on every step and that the
/// number of steps is bounded.
pub fn read_with(file: &[u8], chunk: impl FnMut() -> usize) -> Outcome {
    read_fast_with(file, chunk, 0)
}

/// [`read_with`], first trying [`Reader::next_packets`] with room for `fast` packets before
/// every [`Reader::next`] (0: never).
pub fn read_fast_with(file: &[u8], mut chunk: impl FnMut() -> usize, fast: usize) -> Outcome {
    let mut reader = Reader::new();
    let mut out = std::vec![Packet::EMPTY; fast];
    let mut packets = Vec::new();
    let mut pos = 0usize;
    let mut avail = chunk().min(file.len());
    let limit = 4 * file.len() + 16;
    for _ in 0..limit {
        let buf = &file[pos..avail];
        let eof = avail == file.len();
        if fast > 0 {
            let (n, consumed) = reader.next_packets(buf, &mut out);
            assert!(n <= fast && consumed <= buf.len());
            assert_eq!(
                n == 0,
                consumed == 0,
                "bytes without packets or packets without bytes"
            );
            pos += consumed;
            assert_eq!(reader.offset(), pos as u64);
            for p in &out[..n] {
                assert!(p.meta.wire_len as usize >= p.data.len());
                packets.push(Got {
                    link: p.link,
                    data: p.data.to_vec(),
                    meta: p.meta,
                });
            }
            if n > 0 {
                continue;
            }
        }
        match reader.next(buf, eof) {
            Ok(step) => {
                assert!(step.consumed <= buf.len(), "consumed past the buffer");
                pos += step.consumed;
                assert_eq!(reader.offset(), pos as u64);
                match step.item {
                    Item::Packet(p) => {
                        assert!(p.data.len() <= MAX_RECORD);
                        assert!(p.meta.wire_len as usize >= p.data.len());
                        packets.push(Got {
                            link: p.link,
                            data: p.data.to_vec(),
                            meta: p.meta,
                        });
                    }
                    Item::Other => assert!(step.consumed > 0, "Other without progress"),
                    Item::NeedMore => {
                        assert!(!eof, "NeedMore at the end of the file");
                        assert_eq!(step.consumed, 0);
                        assert!(buf.len() < MIN_BUFFER, "needs more than MIN_BUFFER");
                        avail = avail.saturating_add(chunk()).min(file.len());
                    }
                    Item::End => {
                        assert!(eof && pos == file.len(), "End before the end");
                        // Sticky.
                        assert_eq!(reader.next(&[], true).map(|s| s.item), Ok(Item::End));
                        return Outcome {
                            packets,
                            end: Ok(()),
                            format: reader.format(),
                        };
                    }
                }
            }
            Err(e) => {
                // Sticky, and nothing consumed past the error.
                assert_eq!(reader.next(&file[pos..], true).err(), Some(e));
                assert!(e.offset <= file.len() as u64);
                return Outcome {
                    packets,
                    end: Err(e),
                    format: reader.format(),
                };
            }
        }
    }
    panic!("no end after {limit} steps");
}

/// Reads the whole file at once (and checks that the batch fast path reads the same).
pub fn read(file: &[u8]) -> Outcome {
    let whole = read_with(file, || usize::MAX);
    assert_eq!(read_fast_with(file, || usize::MAX, 32), whole, "fast path");
    whole
}

/// Reads whole, then in chunks of 1..=7 bytes (every starting phase), and checks that every
/// read gives the same packets and the same end.
pub fn read_all_ways(file: &[u8]) -> Outcome {
    let whole = read(file);
    for first in 1..=7usize {
        let mut n = first;
        let chunked = read_with(file, || {
            n = n % 7 + 1;
            n
        });
        assert_eq!(chunked, whole, "chunked read (phase {first}) differs");
    }
    // The batch fast path gives exactly what `next` gives, whole and in chunks.
    for fast in [1, 3, 32] {
        assert_eq!(
            read_fast_with(file, || usize::MAX, fast),
            whole,
            "fast path ({fast})"
        );
        let mut n = fast;
        let chunked = read_fast_with(
            file,
            || {
                n = n % 7 + 1;
                n
            },
            fast,
        );
        assert_eq!(chunked, whole, "chunked fast path ({fast})");
    }
    whole
}

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp::from_parts(secs, nanos)
}

fn got(link: LinkType, data: &[u8], wire_len: u32, ts: Timestamp) -> Got {
    Got {
        link,
        data: data.to_vec(),
        meta: FrameMeta {
            wire_len,
            ts,
            ..FrameMeta::default()
        },
    }
}

#[test]
fn pcap_every_magic_and_byte_order() {
    for big in [false, true] {
        for (magic, nanos) in [(MAGIC_US, false), (MAGIC_NS, true), (MAGIC_MOD, false)] {
            let a = frame(60, 1);
            let b = frame(1514, 2);
            let mut f = Pcap::new(big, magic, 1, 65535);
            f.record(1_700_000_000, 123_456, 60, &a)
                .record(1_700_000_001, 999_999, 1514, &b)
                .record(0, 0, 0, &[]);
            let out = read_all_ways(&f.out);
            assert_eq!(out.end, Ok(()));
            assert_eq!(
                out.format,
                Some(Format::Pcap {
                    nanos,
                    big_endian: big
                })
            );
            let unit = if nanos { 1 } else { 1000 };
            assert_eq!(
                out.packets,
                [
                    got(
                        LinkType::Ethernet,
                        &a,
                        60,
                        ts(1_700_000_000, 123_456 * unit)
                    ),
                    got(
                        LinkType::Ethernet,
                        &b,
                        1514,
                        ts(1_700_000_001, 999_999 * unit)
                    ),
                    got(LinkType::Ethernet, &[], 0, ts(0, 0)),
                ],
                "big={big} magic={magic:#x}"
            );
        }
    }
}

#[test]
fn pcap_link_types_mask_fcs_bits() {
    for (raw, link) in [
        (1u32, LinkType::Ethernet),
        (0x1000_0001 | 0x0400_0000, LinkType::Ethernet),
        (276, LinkType::Sll2),
        (101, LinkType::Raw),
        (147, LinkType::Unknown(147)),
    ] {
        let mut f = Pcap::new(false, MAGIC_US, raw, 65535);
        f.record(1, 0, 20, &frame(20, 0));
        let out = read_all_ways(&f.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.packets[0].link, link, "{raw:#x}");
    }
}

#[test]
fn pcap_snaplen_is_not_trusted() {
    for snaplen in [0, 96, u32::MAX] {
        let data = frame(200, 3);
        let mut f = Pcap::new(true, MAGIC_US, 1, snaplen);
        f.record(5, 6, 1000, &data);
        let out = read_all_ways(&f.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(
            out.packets,
            [got(LinkType::Ethernet, &data, 1000, ts(5, 6000))]
        );
    }
}

#[test]
fn wire_len_never_below_caplen() {
    let data = frame(100, 4);
    let mut f = Pcap::new(false, MAGIC_US, 1, 65535);
    f.record(1, 0, 40, &data);
    assert_eq!(read(&f.out).packets[0].meta.wire_len, 100);
    let mut n = Ng::new(false);
    n.idb(1, 0, &[]).epb(0, 0, 40, &data);
    assert_eq!(read(&n.out).packets[0].meta.wire_len, 100);
}

#[test]
fn records_of_exactly_max_record_bytes() {
    let data = frame(MAX_RECORD, 5);
    for big in [false, true] {
        let mut f = Pcap::new(big, MAGIC_NS, 1, 262_144);
        f.record(1, 2, MAX_RECORD as u32, &data)
            .record(3, 4, 60, &data[..60]);
        let out = read(&f.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.packets.len(), 2);
        assert_eq!(out.packets[0].data, data);

        let mut n = Ng::new(big);
        n.idb(1, 262_144, &[])
            .epb(0, 1, MAX_RECORD as u32, &data)
            .epb(0, 2, 60, &data[..60]);
        let out = read(&n.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.packets.len(), 2);
        assert_eq!(out.packets[0].data, data);
    }
    // Fed in large-ish chunks as the binary would (a full buffer is MIN_BUFFER).
    let mut n = Ng::new(false);
    n.idb(1, 0, &[])
        .epb(0, 1, MAX_RECORD as u32, &data)
        .spb(9999, &data[..9999]);
    let whole = read(&n.out);
    assert_eq!(whole.packets.len(), 2);
    assert_eq!(read_with(&n.out, || 4093), whole);
}

#[test]
fn pcapng_both_byte_orders_and_resolutions() {
    let a = frame(64, 6);
    for big in [false, true] {
        let mut n = Ng::new(big);
        n.idb(1, 65535, &[]) // 0: µs, the default
            .idb(113, 0, &[(9, &[9])]) // 1: ns
            .idb(101, 0, &[(9, &[3]), (14, &100i64.to_ne_bytes())]) // 2: ms, +100 s
            .idb(228, 0, &[(9, &[0x80 | 20])]) // 3: 2^-20
            .idb(229, 0, &[(2, b"eth0"), (9, &[12])]) // 4: ps (truncated to ns), after another option
            .epb(0, 1_700_000_000_123_456, 64, &a)
            .epb(1, 1_700_000_000_123_456_789, 64, &a)
            .epb(2, 1_700_000_000_123, 64, &a)
            .epb(3, (5 << 20) + (1 << 19), 64, &a)
            .epb(4, 1_000_000_000_001_500, 64, &a);
        // if_tsoffset is written in the section's byte order.
        if big {
            let at = n
                .out
                .windows(8)
                .position(|w| w == 100i64.to_ne_bytes())
                .unwrap();
            n.out[at..at + 8].copy_from_slice(&100i64.to_be_bytes());
        }
        let out = read_all_ways(&n.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.format, Some(Format::PcapNg));
        let want = [
            got(LinkType::Ethernet, &a, 64, ts(1_700_000_000, 123_456_000)),
            got(LinkType::Sll, &a, 64, ts(1_700_000_000, 123_456_789)),
            got(LinkType::Raw, &a, 64, ts(1_700_000_100, 123_000_000)),
            got(LinkType::Ipv4, &a, 64, ts(5, 500_000_000)),
            got(LinkType::Ipv6, &a, 64, ts(1000, 1)),
        ];
        assert_eq!(out.packets, want, "big={big}");
    }
}

#[test]
fn pcapng_sections_reset_interfaces_and_byte_order() {
    let a = frame(40, 7);
    let b = frame(41, 8);
    let mut n = Ng::new(false);
    n.idb(1, 0, &[]).idb(101, 0, &[]).epb(1, 1_000_000, 40, &a);
    n.shb(true, &[(1, b"comment")])
        .idb(113, 0, &[(9, &[9])])
        .epb(0, 2_000_000_000, 41, &b);
    n.shb(false, &[]).idb(276, 0, &[]).epb(0, 3_000_000, 40, &a);
    let out = read_all_ways(&n.out);
    assert_eq!(out.end, Ok(()));
    assert_eq!(
        out.packets,
        [
            got(LinkType::Raw, &a, 40, ts(1, 0)),
            got(LinkType::Sll, &b, 41, ts(2, 0)),
            got(LinkType::Sll2, &a, 40, ts(3, 0)),
        ]
    );
    // The second section forgot interface 1.
    let mut n = Ng::new(false);
    n.idb(1, 0, &[])
        .idb(101, 0, &[])
        .shb(true, &[])
        .idb(1, 0, &[]);
    let at = n.here();
    n.epb(1, 0, 40, &a);
    let out = read_all_ways(&n.out);
    assert_eq!(
        out.end,
        Err(Error {
            offset: at,
            kind: ErrorKind::UnknownInterface { id: 1, defined: 1 }
        })
    );
}

#[test]
fn simple_and_legacy_packet_blocks() {
    let data = frame(300, 9);
    for big in [false, true] {
        let mut n = Ng::new(big);
        n.idb(1, 128, &[(9, &[9])])
            .spb(300, &data[..128]) // cut by the snap length
            .spb(60, &data[..60])
            .spb(1000, &data[..200]) // cut by the snap length again
            .pb(0, 1_500_000_000, 300, &data)
            .raw(&[]);
        let out = read_all_ways(&n.out);
        assert_eq!(out.end, Ok(()));
        assert_eq!(
            out.packets,
            [
                got(LinkType::Ethernet, &data[..128], 300, ts(0, 0)),
                got(LinkType::Ethernet, &data[..60], 60, ts(0, 0)),
                got(LinkType::Ethernet, &data[..128], 1000, ts(0, 0)),
                got(LinkType::Ethernet, &data, 300, ts(1, 500_000_000)),
            ]
        );
    }
    // Without a snap length the block's room limits an SPB: its padding is read as data
    // when orig_len says the packet is longer (as libpcap does).
    let mut n = Ng::new(false);
    n.idb(1, 0, &[])
        .spb(1000, &data[..201])
        .spb(201, &data[..201]);
    let out = read_all_ways(&n.out);
    let mut padded = data[..201].to_vec();
    padded.extend_from_slice(&[0, 0, 0]);
    assert_eq!(out.packets[0].data, padded);
    assert_eq!(out.packets[1].data, &data[..201]);
}

#[test]
fn unknown_blocks_are_skipped() {
    let a = frame(50, 10);
    let mut n = Ng::new(true);
    n.block(4, &[0, 0, 0, 0]) // name resolution
        .idb(1, 0, &[])
        .block(5, &[0; 20]) // interface statistics
        .epb(0, 0, 50, &a)
        .block(0x4000_0BAD, &frame(77, 1)) // custom
        .block(10, &[]) // decryption secrets, empty
        .epb(0, 1, 50, &a);
    let out = read_all_ways(&n.out);
    assert_eq!(out.end, Ok(()));
    assert_eq!(out.packets.len(), 2);
}

#[test]
fn blocks_larger_than_the_buffer_are_skipped_in_pieces() {
    let big = frame(MIN_BUFFER + 5000, 11);
    let a = frame(70, 12);
    let opt = frame(60_000, 13);
    let many: Vec<(u16, &[u8])> = (0..7).map(|_| (1u16, &opt[..])).collect();
    let mut n = Ng::new(false);
    n.block(0x0BAD, &big)
        .idb(1, 0, &[])
        .epb(0, 5, 70, &a)
        .epb_opts(0, 6, 70, &a, &many) // 420 KB of comments
        .shb(true, &many) // a section header too large to buffer
        .idb(1, 0, &[])
        .epb(0, 7, 70, &a);
    let whole = read(&n.out);
    assert_eq!(whole.end, Ok(()));
    assert_eq!(whole.packets.len(), 3);
    assert_eq!(whole.packets[1].meta.ts, ts(0, 6000));
    // As the binary feeds it: a buffer of MIN_BUFFER refilled after each step.
    let mut r = Reader::new();
    let mut pos = 0;
    let mut packets = Vec::new();
    loop {
        let end = (pos + MIN_BUFFER).min(n.out.len());
        let step = r.next(&n.out[pos..end], end == n.out.len()).unwrap();
        assert_ne!(step.item, Item::NeedMore);
        pos += step.consumed;
        match step.item {
            Item::Packet(p) => packets.push(p.data.to_vec()),
            Item::End => break,
            _ => {}
        }
    }
    assert_eq!(packets.len(), 3);
    // And in odd chunks.
    let mut k = 0usize;
    let chunked = read_with(&n.out, || {
        k += 1;
        [1, 5000, 3, 100_000, 7][k % 5]
    });
    assert_eq!(chunked, whole);
}

#[test]
fn huge_block_with_a_lying_trailer() {
    let mut n = Ng::new(false);
    let at = n.here();
    n.block(0x0BAD, &frame(MIN_BUFFER, 1));
    let last = n.out.len() - 4;
    n.out[last] ^= 0x10;
    let out = read_all_ways(&n.out);
    let len = (MIN_BUFFER + 12) as u32;
    assert_eq!(
        out.end,
        Err(Error {
            offset: at,
            kind: ErrorKind::LengthMismatch {
                block_type: 0x0BAD,
                header: len,
                trailer: len ^ 0x10
            }
        })
    );
}

#[test]
fn error_messages_are_one_line_with_the_offset() {
    let cases = [
        (
            Error {
                offset: 1234,
                kind: ErrorKind::TruncatedRecord {
                    announced: 96,
                    present: 40,
                },
            },
            "truncated packet record at offset 1234: 96 bytes announced, 40 present",
        ),
        (
            Error {
                offset: 0,
                kind: ErrorKind::NotCapture { magic: 0x7f45_4c46 },
            },
            "not a pcap or pcapng file (magic 0x7f454c46 at offset 0)",
        ),
        (
            Error {
                offset: 28,
                kind: ErrorKind::BlockTooShort {
                    block_type: 6,
                    len: 0,
                    min: 12,
                },
            },
            "invalid enhanced packet block at offset 28: length 0 is below the minimum of 12",
        ),
        (
            Error {
                offset: 8,
                kind: ErrorKind::UnknownByteOrder { magic: 0xdead_beef },
            },
            "unknown pcapng byte-order magic 0xdeadbeef at offset 8",
        ),
        (
            Error {
                offset: 64,
                kind: ErrorKind::TruncatedBlock {
                    block_type: 0x4000_0000,
                    announced: 100,
                    present: 9,
                },
            },
            "truncated pcapng block (type 0x40000000) at offset 64: 100 bytes announced, 9 present",
        ),
    ];
    for (e, want) in cases {
        assert_eq!(std::format!("{e}"), want);
    }
    // Every kind: one line, names its offset.
    for case in hostile::cases() {
        let e = read(&case.file).end.unwrap_err();
        let s = std::format!("{e}");
        assert!(!s.contains('\n'), "{s}");
        assert!(s.contains(&std::format!("offset {}", e.offset)), "{s}");
    }
}

#[test]
fn reader_is_small_enough_for_a_stack() {
    assert!(core::mem::size_of::<Reader>() <= 8 * 1024);
}
