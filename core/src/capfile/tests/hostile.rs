//! Damaged captures (issue 7, "hostile files"): each gives its error kind at its offset,
//! after the packets before the damage, never a panic or a loop — read whole and in chunks.

use std::vec;
use std::vec::Vec;

use super::build::*;
use super::{read_all_ways, Error, ErrorKind, MAX_INTERFACES, MAX_RECORD, MIN_BUFFER};

pub struct Case {
    pub name: &'static str,
    pub file: Vec<u8>,
    /// Packets read before the error.
    pub packets: usize,
    pub offset: u64,
    pub kind: ErrorKind,
}

fn case(name: &'static str, file: Vec<u8>, packets: usize, offset: u64, kind: ErrorKind) -> Case {
    Case {
        name,
        file,
        packets,
        offset,
        kind,
    }
}

/// A pcap file with one good 60-byte record (ends at offset 24 + 16 + 60 = 100).
fn pcap1(big: bool) -> Pcap {
    let mut f = Pcap::new(big, MAGIC_US, 1, 65535);
    f.record(1, 0, 60, &frame(60, 1));
    f
}

/// A pcapng file with an SHB, an IDB and one good EPB.
fn ng1(big: bool) -> Ng {
    let mut n = Ng::new(big);
    n.idb(1, 0, &[]).epb(0, 0, 60, &frame(60, 1));
    n
}

/// A block head (type, length) in the given byte order.
fn head(big: bool, ty: u32, len: u32) -> Vec<u8> {
    let w = W { big };
    let mut v = Vec::new();
    w.u32(&mut v, ty);
    w.u32(&mut v, len);
    v
}

/// Every damaged file, built in order (one `push` per case keeps each readable).
#[allow(clippy::vec_init_then_push)]
pub fn cases() -> Vec<Case> {
    use ErrorKind::*;
    let mut v = Vec::new();

    // --- pcap ---
    v.push(case(
        "empty file",
        Vec::new(),
        0,
        0,
        TruncatedFileHeader {
            needed: 4,
            present: 0,
        },
    ));
    v.push(case(
        "3 bytes",
        vec![0xd4, 0xc3, 0xb2],
        0,
        0,
        TruncatedFileHeader {
            needed: 4,
            present: 3,
        },
    ));
    v.push(case(
        "ELF binary",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
        0,
        0,
        NotCapture { magic: 0x7f45_4c46 },
    ));
    v.push(case(
        "text file",
        b"hello\n".to_vec(),
        0,
        0,
        NotCapture { magic: 0x6865_6c6c },
    ));
    for big in [false, true] {
        let f = pcap1(big).out;
        v.push(case(
            "truncated pcap file header",
            f[..10].to_vec(),
            0,
            0,
            TruncatedFileHeader {
                needed: 24,
                present: 10,
            },
        ));
        let mut g = f.clone();
        g[4] = if big { 0 } else { 1 };
        g[5] = if big { 1 } else { 0 };
        v.push(case(
            "pcap version 1.4",
            g,
            0,
            0,
            UnsupportedVersion {
                pcapng: false,
                major: 1,
                minor: 4,
            },
        ));
        v.push(case(
            "truncated record header",
            f.iter().copied().chain([1, 2, 3, 4, 5]).collect(),
            1,
            100,
            TruncatedRecordHeader {
                needed: 16,
                present: 5,
            },
        ));
        let mut g = pcap1(big);
        g.raw_record(2, 0, 96, 96, &frame(40, 2));
        v.push(case(
            "record past end of file",
            g.out,
            1,
            100,
            TruncatedRecord {
                announced: 96,
                present: 40,
            },
        ));
        let mut g = pcap1(big);
        g.raw_record(2, 0, u32::MAX, 60, &frame(60, 2));
        v.push(case(
            "caplen 2^32-1",
            g.out,
            1,
            100,
            RecordTooLarge { caplen: u32::MAX },
        ));
        let mut g = pcap1(big);
        g.raw_record(2, 0, MAX_RECORD as u32 + 1, 60, &[]);
        v.push(case(
            "caplen above MAX_RECORD",
            g.out,
            1,
            100,
            RecordTooLarge {
                caplen: MAX_RECORD as u32 + 1,
            },
        ));
        let mut g = Pcap::new(big, MAGIC_MOD, 1, 0);
        g.record(1, 0, 60, &frame(60, 1));
        g.out.extend_from_slice(&[0; 20]);
        v.push(case(
            "truncated modified record header",
            g.out,
            1,
            24 + 24 + 60,
            TruncatedRecordHeader {
                needed: 24,
                present: 20,
            },
        ));
    }

    // --- pcapng ---
    v.push(case(
        "packet block before any section header",
        {
            let mut n = ng1(false);
            n.out.drain(..28 + 20);
            n.out
        },
        0,
        0,
        NotCapture { magic: 0x0600_0000 },
    ));
    for big in [false, true] {
        let ng = ng1(big).out; // SHB 0..28, IDB 28..48, EPB 48..140
        let epb_at = 48u64;
        let end = ng.len() as u64;
        v.push(case(
            "truncated section header",
            ng[..10].to_vec(),
            0,
            0,
            TruncatedBlockHeader {
                needed: 12,
                present: 10,
            },
        ));
        v.push(case(
            "section header cut short",
            ng[..20].to_vec(),
            0,
            0,
            TruncatedBlock {
                block_type: SHB,
                announced: 28,
                present: 20,
            },
        ));
        let mut g = ng.clone();
        g[8..12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        v.push(case(
            "unknown byte-order magic",
            g,
            0,
            8,
            UnknownByteOrder { magic: 0xdead_beef },
        ));
        let mut g = ng1(big);
        g.shb(big, &[]);
        let at = g.here() - 28;
        let n = g.out.len();
        g.out[n - 28 + 8..n - 28 + 12].copy_from_slice(&[1, 2, 3, 4]);
        v.push(case(
            "unknown byte-order magic in a later section",
            g.out,
            1,
            at + 8,
            UnknownByteOrder { magic: 0x0102_0304 },
        ));
        let mut g = ng.clone();
        if big {
            g[12..14].copy_from_slice(&[0, 2]);
        } else {
            g[12..14].copy_from_slice(&[2, 0]);
        }
        v.push(case(
            "pcapng version 2",
            g,
            0,
            0,
            UnsupportedVersion {
                pcapng: true,
                major: 2,
                minor: 0,
            },
        ));
        let mut g = ng.clone();
        g[4..8].fill(0);
        v.push(case(
            "section header length 0",
            g,
            0,
            0,
            BlockTooShort {
                block_type: SHB,
                len: 0,
                min: 12,
            },
        ));
        let mut g = ng.clone();
        g[4..8].copy_from_slice(&head(big, 0, 24)[4..]);
        v.push(case(
            "section header length 24",
            g,
            0,
            0,
            BlockTooShort {
                block_type: SHB,
                len: 24,
                min: 28,
            },
        ));

        let mut g = ng.clone();
        g.extend(head(big, 6, 0));
        v.push(case(
            "block length 0 (loop)",
            g,
            1,
            end,
            BlockTooShort {
                block_type: 6,
                len: 0,
                min: 12,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 0x0BAD, 8));
        g.extend(head(big, 0x0BAD, 8));
        v.push(case(
            "block length 8",
            g,
            1,
            end,
            BlockTooShort {
                block_type: 0x0BAD,
                len: 8,
                min: 12,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 0x0BAD, 13));
        g.extend([0; 16]);
        v.push(case(
            "block length 13",
            g,
            1,
            end,
            BlockLengthUnaligned {
                block_type: 0x0BAD,
                len: 13,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 6, 28));
        g.extend([0; 24]);
        v.push(case(
            "EPB shorter than its fixed part",
            g,
            1,
            end,
            BlockTooShort {
                block_type: 6,
                len: 28,
                min: 32,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 1, 16));
        g.extend([0; 8]);
        v.push(case(
            "IDB shorter than its fixed part",
            g,
            1,
            end,
            BlockTooShort {
                block_type: 1,
                len: 16,
                min: 20,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 3, 12));
        g.extend([0; 4]);
        v.push(case(
            "SPB shorter than its fixed part",
            g,
            1,
            end,
            BlockTooShort {
                block_type: 3,
                len: 12,
                min: 16,
            },
        ));
        let mut g = ng.clone();
        let n = g.len();
        let mut c = Vec::new();
        W { big }.u32(&mut c, 96);
        g[n - 4..].copy_from_slice(&c);
        v.push(case(
            "trailing length mismatch",
            g,
            0,
            epb_at,
            LengthMismatch {
                block_type: 6,
                header: 92,
                trailer: 96,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 6, 1000));
        g.extend([0; 100]);
        v.push(case(
            "block length past end of file",
            g,
            1,
            end,
            TruncatedBlock {
                block_type: 6,
                announced: 1000,
                present: 108,
            },
        ));
        let mut g = ng.clone();
        g.extend(head(big, 0x0BAD, 0x7fff_fff0));
        g.extend([0; 100]);
        v.push(case(
            "huge block past end of file",
            g,
            1,
            end,
            TruncatedBlock {
                block_type: 0x0BAD,
                announced: 0x7fff_fff0,
                present: 108,
            },
        ));
        let mut g = ng1(big);
        g.epb(0, 0, 60, &frame(60, 2));
        let n = g.out.len();
        let caplen_at = n - 92 + 20;
        let w = W { big };
        let mut c = Vec::new();
        w.u32(&mut c, 61);
        g.out[caplen_at..caplen_at + 4].copy_from_slice(&c);
        v.push(case(
            "EPB captured length past its block",
            g.out,
            1,
            end,
            CaptureLengthPastBlock {
                block_type: 6,
                caplen: 61,
                room: 60,
            },
        ));
        let mut g = ng1(big);
        g.epb(3, 0, 60, &frame(60, 2));
        v.push(case(
            "EPB names an undefined interface",
            g.out,
            1,
            end,
            UnknownInterface { id: 3, defined: 1 },
        ));
        let mut g = Ng::new(big);
        g.epb(0, 0, 60, &frame(60, 2));
        v.push(case(
            "EPB before any IDB",
            g.out,
            0,
            28,
            UnknownInterface { id: 0, defined: 0 },
        ));
        let mut g = Ng::new(big);
        g.spb(60, &frame(60, 2));
        v.push(case(
            "SPB before any IDB",
            g.out,
            0,
            28,
            UnknownInterface { id: 0, defined: 0 },
        ));
        let mut g = ng1(big);
        g.pb(1, 0, 60, &frame(60, 2));
        v.push(case(
            "PB names an undefined interface",
            g.out,
            1,
            end,
            UnknownInterface { id: 1, defined: 1 },
        ));
        let mut g = ng1(big);
        g.idb(1, 0, &[(2, b"eth0")]);
        let n = g.out.len();
        // Option area at n - 16 + ... : IDB = head 8, fixed 8, option (4 + 4), end 4, trailer 4.
        let opt_at = n - 16;
        let w = W { big };
        let mut c = Vec::new();
        w.u16(&mut c, 200);
        g.out[opt_at + 2..opt_at + 4].copy_from_slice(&c);
        v.push(case(
            "IDB option past its block",
            g.out,
            1,
            opt_at as u64,
            OptionPastBlock {
                code: 2,
                len: 200,
                room: 8,
            },
        ));
        let mut g = ng1(big);
        g.epb_opts(0, 1, 60, &frame(60, 2), &[(1, b"comment!")]);
        let n = g.out.len();
        let opt_at = n - 4 - 4 - 8 - 4; // trailer, endofopt, "comment!", option head
        let mut c = Vec::new();
        W { big }.u16(&mut c, 200);
        g.out[opt_at + 2..opt_at + 4].copy_from_slice(&c);
        v.push(case(
            "EPB option past its block",
            g.out,
            1,
            opt_at as u64,
            OptionPastBlock {
                code: 1,
                len: 200,
                room: 12,
            },
        ));
        let mut g = Ng::new(big);
        g.shb(big, &[(1, b"hello")]);
        let n = g.out.len();
        let opt_at = n - 4 - 4 - 8 - 4; // trailer, endofopt, "hello"+pad, option head
        let mut c = Vec::new();
        W { big }.u16(&mut c, 13);
        g.out[opt_at + 2..opt_at + 4].copy_from_slice(&c);
        v.push(case(
            "SHB option past its block",
            g.out,
            0,
            opt_at as u64,
            OptionPastBlock {
                code: 1,
                len: 13,
                room: 12,
            },
        ));
        let mut g = ng1(big);
        g.idb(1, 0, &[(9, &[6, 0])]);
        v.push(case(
            "if_tsresol of length 2",
            g.out,
            1,
            end + 16,
            BadOptionLength { code: 9, len: 2 },
        ));
        let mut g = ng1(big);
        g.idb(1, 0, &[(14, &[0; 4])]);
        v.push(case(
            "if_tsoffset of length 4",
            g.out,
            1,
            end + 16,
            BadOptionLength { code: 14, len: 4 },
        ));
        let mut g = ng1(big);
        g.idb(1, 0, &[(9, &[0x80 | 64])]);
        v.push(case(
            "if_tsresol 2^-64",
            g.out,
            1,
            end + 16,
            BadTimeResolution { value: 0xc0 },
        ));
        let mut g = ng1(big);
        g.idb(1, 0, &[(9, &[20])]);
        v.push(case(
            "if_tsresol 10^-20",
            g.out,
            1,
            end + 16,
            BadTimeResolution { value: 20 },
        ));
        let mut g = ng1(big);
        let long = frame(60_000, 1);
        let opts: Vec<(u16, &[u8])> = (0..6).map(|_| (2u16, &long[..])).collect();
        g.idb(1, 0, &opts);
        v.push(case(
            "IDB larger than the buffer",
            g.out,
            1,
            end,
            BlockTooLarge {
                block_type: 1,
                len: 12 + 8 + 6 * 60_004 + 4,
            },
        ));
        let mut g = ng1(big);
        g.epb(0, 0, MAX_RECORD as u32 + 4, &frame(MAX_RECORD + 4, 3));
        v.push(case(
            "EPB caplen above MAX_RECORD",
            g.out,
            1,
            end,
            RecordTooLarge {
                caplen: MAX_RECORD as u32 + 4,
            },
        ));
        let mut g = ng.clone();
        g.extend_from_slice(&head(big, 6, 40)[..5]);
        v.push(case(
            "truncated block header",
            g,
            1,
            end,
            TruncatedBlockHeader {
                needed: 8,
                present: 5,
            },
        ));
        let mut g = Ng::new(big);
        for _ in 0..=MAX_INTERFACES {
            g.idb(1, 0, &[]);
        }
        v.push(case(
            "too many interfaces",
            g.out,
            0,
            28 + 20 * MAX_INTERFACES as u64,
            TooManyInterfaces,
        ));
    }
    // A damaged block larger than the buffer, noticed at its end.
    let mut g = ng1(false);
    let at = g.here();
    g.block(0x0BAD, &frame(MIN_BUFFER + 100, 4));
    let n = g.out.len();
    g.out.truncate(n - 2);
    v.push(case(
        "huge block missing its trailer",
        g.out,
        1,
        at,
        TruncatedBlock {
            block_type: 0x0BAD,
            announced: (MIN_BUFFER + 112) as u32,
            present: (MIN_BUFFER + 110) as u64,
        },
    ));
    v
}

#[test]
fn hostile_files_give_the_right_error() {
    for c in cases() {
        let out = read_all_ways(&c.file);
        assert_eq!(
            out.end,
            Err(Error {
                offset: c.offset,
                kind: c.kind
            }),
            "case {:?}",
            c.name
        );
        assert_eq!(out.packets.len(), c.packets, "case {:?}", c.name);
        let truncation = matches!(
            c.kind,
            ErrorKind::TruncatedFileHeader { .. }
                | ErrorKind::TruncatedRecordHeader { .. }
                | ErrorKind::TruncatedRecord { .. }
                | ErrorKind::TruncatedBlockHeader { .. }
                | ErrorKind::TruncatedBlock { .. }
        );
        assert_eq!(
            out.end.unwrap_err().is_truncation(),
            truncation,
            "case {:?}",
            c.name
        );
    }
}
