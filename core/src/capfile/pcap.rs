//! The classic pcap format: a 24-byte file header, then records of a 16-byte header and the
//! captured bytes.
//!
//! Both byte orders, microsecond (`0xa1b2c3d4`) and nanosecond (`0xa1b23c4d`) timestamps, and
//! Alexey Kuznetzov's modified format (`0xa1b2cd34`, 8 more bytes per record header). Like
//! libpcap and tshark, the header's snap length is not trusted (0 and 2^32-1 occur in the
//! wild) and a record may exceed it; only a captured length above [`MAX_RECORD`] is refused,
//! because no reader could buffer it.

use super::endian::{be32, Endian};
use super::error::{Error, ErrorKind};
use super::{time, Format, Item, Packet, Step, MAX_RECORD};
use crate::link::{FrameMeta, LinkType};

/// Length of the pcap file header.
pub(crate) const FILE_HEADER_LEN: usize = 24;
/// Length of a standard record header.
const RECORD_HEADER_LEN: usize = 16;
/// Length of a modified-format (Kuznetzov) record header.
const MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// Microsecond magic, as read in the file's own byte order.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Nanosecond magic.
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Kuznetzov's modified format (microseconds).
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

// File header field offsets.
const FH_VERSION_MAJOR: usize = 4;
const FH_VERSION_MINOR: usize = 6;
const FH_LINKTYPE: usize = 20;

// Record header field offsets.
const RH_TS_SEC: usize = 0;
const RH_TS_FRAC: usize = 4;
const RH_CAPLEN: usize = 8;
const RH_ORIGLEN: usize = 12;

/// What the file header says, kept for every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PcapFile {
    endian: Endian,
    nanos: bool,
    record_header_len: usize,
    link: LinkType,
}

impl PcapFile {
    /// The [`Format`] this header describes.
    pub fn format(&self) -> Format {
        Format::Pcap {
            nanos: self.nanos,
            big_endian: self.endian.big,
        }
    }
}

/// Recognises a pcap magic number in the first four bytes: (byte order, nanos, modified).
pub(crate) fn sniff(b: &[u8]) -> Option<(Endian, bool, bool)> {
    let be = be32(b);
    for (endian, v) in [
        (Endian { big: true }, be),
        (Endian::LITTLE, be.swap_bytes()),
    ] {
        match v {
            MAGIC_MICROS => return Some((endian, false, false)),
            MAGIC_NANOS => return Some((endian, true, false)),
            MAGIC_MODIFIED => return Some((endian, false, true)),
            _ => {}
        }
    }
    None
}

/// Parses the file header at the start of `buf` (the caller has seen a pcap magic).
/// `Ok(None)`: more bytes are needed.
pub(crate) fn file_header(buf: &[u8], eof: bool) -> Result<Option<PcapFile>, ErrorKind> {
    let Some((endian, nanos, modified)) = sniff(buf) else {
        return Err(ErrorKind::NotCapture { magic: be32(buf) });
    };
    if buf.len() < FILE_HEADER_LEN {
        return if eof {
            Err(ErrorKind::TruncatedFileHeader {
                needed: FILE_HEADER_LEN as u32,
                present: buf.len() as u32,
            })
        } else {
            Ok(None)
        };
    }
    let major = endian.u16(buf, FH_VERSION_MAJOR);
    let minor = endian.u16(buf, FH_VERSION_MINOR);
    // libpcap reads 2.x and DG/UX tcpdump's 543.0; the minor version of 2.x says nothing
    // about the layout, so any is read.
    if !(major == 2 || (major == 543 && minor == 0)) {
        return Err(ErrorKind::UnsupportedVersion {
            pcapng: false,
            major,
            minor,
        });
    }
    // The upper bits of the link-type field carry FCS information (LT_FCS_LENGTH_PRESENT
    // etc.); libpcap's LT_LINKTYPE keeps the low 16 bits.
    let link = LinkType::from_linktype(endian.u32(buf, FH_LINKTYPE) & 0xffff);
    Ok(Some(PcapFile {
        endian,
        nanos,
        record_header_len: if modified {
            MODIFIED_RECORD_HEADER_LEN
        } else {
            RECORD_HEADER_LEN
        },
        link,
    }))
}

/// The fast path of [`super::Reader::next_packets`]: reads whole records from the front of
/// `buf` into `out` until `out` is full or the next record is incomplete or unacceptable
/// (that one is left to [`record`], which reports it). Returns (packets, bytes consumed).
#[inline]
pub(crate) fn records<'a>(
    file: &PcapFile,
    buf: &'a [u8],
    out: &mut [Packet<'a>],
) -> (usize, usize) {
    // One loop per byte order, so the field reads carry no branch.
    if file.endian.big {
        records_in::<true>(file, buf, out)
    } else {
        records_in::<false>(file, buf, out)
    }
}

/// The `u32` at `at` of a record header known to be long enough (0 otherwise).
#[inline(always)]
fn field<const BIG: bool>(h: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = h.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    if BIG {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

#[inline(always)]
fn records_in<'a, const BIG: bool>(
    file: &PcapFile,
    buf: &'a [u8],
    out: &mut [Packet<'a>],
) -> (usize, usize) {
    let hl = file.record_header_len;
    let (link, nanos) = (file.link, file.nanos);
    let mut rest = buf;
    let mut n = 0;
    for slot in out.iter_mut() {
        let Some((header, after)) = rest.split_at_checked(hl) else {
            break;
        };
        let caplen = field::<BIG>(header, RH_CAPLEN);
        if caplen as usize > MAX_RECORD {
            break;
        }
        let Some((data, next)) = after.split_at_checked(caplen as usize) else {
            break;
        };
        let orig = field::<BIG>(header, RH_ORIGLEN);
        *slot = Packet {
            link,
            data,
            meta: FrameMeta {
                wire_len: orig.max(caplen),
                ts: time::from_pcap(
                    field::<BIG>(header, RH_TS_SEC),
                    field::<BIG>(header, RH_TS_FRAC),
                    nanos,
                ),
                ..FrameMeta::default()
            },
        };
        n += 1;
        rest = next;
    }
    (n, buf.len() - rest.len())
}

/// Reads the record at the start of `buf`; `at` is its absolute offset.
#[inline]
pub(crate) fn record<'a>(
    file: &PcapFile,
    buf: &'a [u8],
    eof: bool,
    at: u64,
) -> Result<Step<'a>, Error> {
    let hl = file.record_header_len;
    if buf.len() < hl {
        return if buf.is_empty() && eof {
            Ok(Step {
                consumed: 0,
                item: Item::End,
            })
        } else if eof {
            Err(Error {
                offset: at,
                kind: ErrorKind::TruncatedRecordHeader {
                    needed: hl as u32,
                    present: buf.len() as u32,
                },
            })
        } else {
            Ok(Step::NEED_MORE)
        };
    }
    let e = file.endian;
    let caplen = e.u32(buf, RH_CAPLEN);
    if caplen as usize > MAX_RECORD {
        return Err(Error {
            offset: at,
            kind: ErrorKind::RecordTooLarge { caplen },
        });
    }
    let end = hl + caplen as usize;
    let Some(data) = buf.get(hl..end) else {
        return if eof {
            Err(Error {
                offset: at,
                kind: ErrorKind::TruncatedRecord {
                    announced: caplen,
                    present: (buf.len() - hl) as u32,
                },
            })
        } else {
            Ok(Step::NEED_MORE)
        };
    };
    let orig = e.u32(buf, RH_ORIGLEN);
    let meta = FrameMeta {
        wire_len: orig.max(caplen),
        ts: time::from_pcap(e.u32(buf, RH_TS_SEC), e.u32(buf, RH_TS_FRAC), file.nanos),
        ..FrameMeta::default()
    };
    Ok(Step {
        consumed: end,
        item: Item::Packet(Packet {
            link: file.link,
            data,
            meta,
        }),
    })
}
