//! The pcapng format: a sequence of sections, each a section header block (SHB) followed by
//! interface descriptions (IDB) and packet blocks (EPB, SPB, the obsolete PB) among blocks of
//! other types, which are skipped.
//!
//! Each SHB sets the byte order and forgets the previous section's interfaces. Each IDB adds an
//! interface with its own link type, snap length and timestamp resolution (`if_tsresol`) and
//! offset (`if_tsoffset`). Every block length is checked (at least 12 and the type's minimum, a
//! multiple of 4, equal at both ends), so a lying length is an error rather than a loop or a
//! read out of bounds. Blocks larger than [`MIN_BUFFER`] that need no parsing (unknown types,
//! the options of a packet block or section header) are skipped in pieces, so a file of any
//! shape is read with a fixed buffer.

use super::endian::{be32, pad4, Endian};
use super::error::{Error, ErrorKind};
use super::{time, Item, Packet, Step, MAX_INTERFACES, MAX_RECORD, MIN_BUFFER};
use crate::link::{FrameMeta, LinkType, Timestamp};

/// Section header block type (a palindrome: the same in both byte orders).
pub(crate) const SHB: u32 = 0x0A0D_0D0A;
/// Interface description block.
const IDB: u32 = 1;
/// Obsolete packet block.
const PB: u32 = 2;
/// Simple packet block.
const SPB: u32 = 3;
/// Enhanced packet block.
const EPB: u32 = 6;

/// Byte-order magic as it appears in a big-endian section.
const BOM_BIG: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// Byte-order magic as it appears in a little-endian section.
const BOM_LITTLE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];

/// Block type and total length: the head every block starts with.
const BLOCK_HEAD_LEN: usize = 8;
/// The smallest block: head and trailing length.
const MIN_BLOCK_LEN: u32 = 12;

// SHB layout.
const SHB_BOM: usize = 8;
const SHB_MAJOR: usize = 12;
const SHB_MINOR: usize = 14;
const SHB_FIXED_LEN: usize = 24;
// IDB layout.
const IDB_LINKTYPE: usize = 8;
const IDB_SNAPLEN: usize = 12;
const IDB_FIXED_LEN: usize = 16;
// EPB / PB layout (PB: 16-bit interface id, 16-bit drop count).
const EPB_IFACE: usize = 8;
const EPB_TS_HIGH: usize = 12;
const EPB_TS_LOW: usize = 16;
const EPB_CAPLEN: usize = 20;
const EPB_ORIGLEN: usize = 24;
const EPB_FIXED_LEN: usize = 28;
// SPB layout.
const SPB_ORIGLEN: usize = 8;
const SPB_FIXED_LEN: usize = 12;

// Interface options.
const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// One interface a section described.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

impl Iface {
    const EMPTY: Iface = Iface {
        link: LinkType::Unknown(0),
        snaplen: 0,
        tsresol: time::DEFAULT_TSRESOL,
        tsoffset: 0,
    };
}

/// The current section: its byte order and interfaces.
#[derive(Clone, Debug)]
pub(crate) struct Section {
    endian: Endian,
    ifaces: [Iface; MAX_INTERFACES],
    count: usize,
}

impl Section {
    /// No section yet.
    pub const fn new() -> Section {
        Section {
            endian: Endian::LITTLE,
            ifaces: [Iface::EMPTY; MAX_INTERFACES],
            count: 0,
        }
    }

    fn iface(&self, id: u32, at: u64) -> Result<&Iface, Error> {
        self.ifaces[..self.count].get(id as usize).ok_or(Error {
            offset: at,
            kind: ErrorKind::UnknownInterface {
                id,
                defined: self.count as u32,
            },
        })
    }
}

/// A block being skipped in pieces: what is left of it, its trailing length included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Skip {
    start: u64,
    block_type: u32,
    total: u32,
    left: u32,
}

/// What reading a block produced: the step, and a skip to continue with, if any.
pub(crate) type BlockStep<'a> = (Step<'a>, Option<Skip>);

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error { offset, kind }
}

/// `NeedMore`, or at the end of the file the truncation of the block at `at`.
fn wait<'a>(
    buf: &[u8],
    eof: bool,
    at: u64,
    block_type: u32,
    len: u32,
) -> Result<BlockStep<'a>, Error> {
    if eof {
        Err(err(
            at,
            ErrorKind::TruncatedBlock {
                block_type,
                announced: len,
                present: buf.len() as u64,
            },
        ))
    } else {
        Ok((Step::NEED_MORE, None))
    }
}

/// The smallest valid total length of a block of this type.
fn min_len(block_type: u32) -> u32 {
    match block_type {
        SHB => (SHB_FIXED_LEN + 4) as u32,
        IDB => (IDB_FIXED_LEN + 4) as u32,
        EPB | PB => (EPB_FIXED_LEN + 4) as u32,
        SPB => (SPB_FIXED_LEN + 4) as u32,
        _ => MIN_BLOCK_LEN,
    }
}

/// Checks a block's announced total length before anything relies on it.
fn check_len(block_type: u32, len: u32, at: u64) -> Result<(), Error> {
    if len < MIN_BLOCK_LEN {
        return Err(err(
            at,
            ErrorKind::BlockTooShort {
                block_type,
                len,
                min: MIN_BLOCK_LEN,
            },
        ));
    }
    if len % 4 != 0 {
        return Err(err(at, ErrorKind::BlockLengthUnaligned { block_type, len }));
    }
    let min = min_len(block_type);
    if len < min {
        return Err(err(
            at,
            ErrorKind::BlockTooShort {
                block_type,
                len,
                min,
            },
        ));
    }
    Ok(())
}

/// Checks the trailing copy of the total length of a block held whole in `buf`.
fn check_trailer(e: Endian, buf: &[u8], block_type: u32, len: u32, at: u64) -> Result<(), Error> {
    let trailer = e.u32(buf, len as usize - 4);
    if trailer != len {
        return Err(err(
            at,
            ErrorKind::LengthMismatch {
                block_type,
                header: len,
                trailer,
            },
        ));
    }
    Ok(())
}

/// Walks an option area (`base`: its absolute offset), calling `f(code, value, offset)` for
/// each option before `opt_endofopt`. An option whose value runs past the area is an error.
fn options(
    e: Endian,
    area: &[u8],
    base: u64,
    mut f: impl FnMut(u16, &[u8], u64) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut pos = 0usize;
    while area.len().saturating_sub(pos) >= 4 {
        let code = e.u16(area, pos);
        let len = e.u16(area, pos + 2);
        if code == OPT_ENDOFOPT {
            break;
        }
        let start = pos + 4;
        let room = area.len() - start;
        let at = base + pos as u64;
        let Some(value) = area.get(start..start + len as usize) else {
            return Err(err(
                at,
                ErrorKind::OptionPastBlock {
                    code,
                    len,
                    room: room as u32,
                },
            ));
        };
        f(code, value, at)?;
        pos = start + (pad4(u32::from(len)) as usize).min(room);
    }
    Ok(())
}

/// Reads the block at the start of `buf` (absolute offset `at`).
pub(crate) fn block<'a>(
    sec: &mut Section,
    buf: &'a [u8],
    eof: bool,
    at: u64,
) -> Result<BlockStep<'a>, Error> {
    if buf.len() < BLOCK_HEAD_LEN {
        return if eof && buf.is_empty() {
            Ok((
                Step {
                    consumed: 0,
                    item: Item::End,
                },
                None,
            ))
        } else if eof {
            Err(err(
                at,
                ErrorKind::TruncatedBlockHeader {
                    needed: BLOCK_HEAD_LEN as u32,
                    present: buf.len() as u32,
                },
            ))
        } else {
            Ok((Step::NEED_MORE, None))
        };
    }
    if be32(buf) == SHB {
        return section_header(sec, buf, eof, at);
    }
    let e = sec.endian;
    let block_type = e.u32(buf, 0);
    let len = e.u32(buf, 4);
    check_len(block_type, len, at)?;
    match block_type {
        IDB => interface(sec, buf, eof, at, len),
        EPB | PB => enhanced_packet(sec, buf, eof, at, block_type, len),
        SPB => simple_packet(sec, buf, eof, at, len),
        _ => other(e, buf, eof, at, block_type, len),
    }
}

fn section_header<'a>(
    sec: &mut Section,
    buf: &'a [u8],
    eof: bool,
    at: u64,
) -> Result<BlockStep<'a>, Error> {
    let head = SHB_BOM + 4;
    let Some(bom) = buf.get(SHB_BOM..head) else {
        return if eof {
            Err(err(
                at,
                ErrorKind::TruncatedBlockHeader {
                    needed: head as u32,
                    present: buf.len() as u32,
                },
            ))
        } else {
            Ok((Step::NEED_MORE, None))
        };
    };
    let e = if bom == BOM_BIG {
        Endian { big: true }
    } else if bom == BOM_LITTLE {
        Endian::LITTLE
    } else {
        return Err(err(
            at + SHB_BOM as u64,
            ErrorKind::UnknownByteOrder { magic: be32(bom) },
        ));
    };
    let len = e.u32(buf, 4);
    check_len(SHB, len, at)?;
    let whole = len as usize <= MIN_BUFFER;
    let need = if whole { len as usize } else { SHB_FIXED_LEN };
    if buf.len() < need {
        return wait(buf, eof, at, SHB, len);
    }
    let major = e.u16(buf, SHB_MAJOR);
    let minor = e.u16(buf, SHB_MINOR);
    // libpcap and Wireshark read major version 1; 2.x would be a different format.
    if major != 1 {
        return Err(err(
            at,
            ErrorKind::UnsupportedVersion {
                pcapng: true,
                major,
                minor,
            },
        ));
    }
    let skip = if whole {
        check_trailer(e, buf, SHB, len, at)?;
        let area = buf.get(SHB_FIXED_LEN..len as usize - 4).unwrap_or(&[]);
        options(e, area, at + SHB_FIXED_LEN as u64, |_, _, _| Ok(()))?;
        None
    } else {
        Some(Skip {
            start: at,
            block_type: SHB,
            total: len,
            left: len - SHB_FIXED_LEN as u32,
        })
    };
    sec.endian = e;
    sec.count = 0;
    Ok((
        Step {
            consumed: need,
            item: Item::Other,
        },
        skip,
    ))
}

fn interface<'a>(
    sec: &mut Section,
    buf: &'a [u8],
    eof: bool,
    at: u64,
    len: u32,
) -> Result<BlockStep<'a>, Error> {
    if len as usize > MIN_BUFFER {
        return Err(err(
            at,
            ErrorKind::BlockTooLarge {
                block_type: IDB,
                len,
            },
        ));
    }
    if buf.len() < len as usize {
        return wait(buf, eof, at, IDB, len);
    }
    let e = sec.endian;
    check_trailer(e, buf, IDB, len, at)?;
    let mut iface = Iface {
        link: LinkType::from_linktype(u32::from(e.u16(buf, IDB_LINKTYPE))),
        snaplen: e.u32(buf, IDB_SNAPLEN),
        ..Iface::EMPTY
    };
    let area = buf.get(IDB_FIXED_LEN..len as usize - 4).unwrap_or(&[]);
    options(e, area, at + IDB_FIXED_LEN as u64, |code, value, oat| {
        match code {
            OPT_IF_TSRESOL => {
                let [resol] = value else {
                    return Err(err(
                        oat,
                        ErrorKind::BadOptionLength {
                            code,
                            len: value.len() as u16,
                        },
                    ));
                };
                if !time::tsresol_valid(*resol) {
                    return Err(err(oat, ErrorKind::BadTimeResolution { value: *resol }));
                }
                iface.tsresol = *resol;
            }
            OPT_IF_TSOFFSET => {
                if value.len() != 8 {
                    return Err(err(
                        oat,
                        ErrorKind::BadOptionLength {
                            code,
                            len: value.len() as u16,
                        },
                    ));
                }
                iface.tsoffset = e.i64(value, 0);
            }
            _ => {}
        }
        Ok(())
    })?;
    let Some(slot) = sec.ifaces.get_mut(sec.count) else {
        return Err(err(at, ErrorKind::TooManyInterfaces));
    };
    *slot = iface;
    sec.count += 1;
    Ok((
        Step {
            consumed: len as usize,
            item: Item::Other,
        },
        None,
    ))
}

fn enhanced_packet<'a>(
    sec: &Section,
    buf: &'a [u8],
    eof: bool,
    at: u64,
    block_type: u32,
    len: u32,
) -> Result<BlockStep<'a>, Error> {
    // A block that fits the caller's buffer is read whole, trailer checked; a larger one
    // (huge options) is read up to the end of its data and the rest skipped in pieces.
    let whole = len as usize <= MIN_BUFFER;
    let need = if whole { len as usize } else { EPB_FIXED_LEN };
    if buf.len() < need {
        return wait(buf, eof, at, block_type, len);
    }
    let e = sec.endian;
    let id = if block_type == EPB {
        e.u32(buf, EPB_IFACE)
    } else {
        u32::from(e.u16(buf, EPB_IFACE))
    };
    let caplen = e.u32(buf, EPB_CAPLEN);
    let room = len - (EPB_FIXED_LEN as u32 + 4);
    if caplen > room {
        return Err(err(
            at,
            ErrorKind::CaptureLengthPastBlock {
                block_type,
                caplen,
                room,
            },
        ));
    }
    if caplen as usize > MAX_RECORD {
        return Err(err(at, ErrorKind::RecordTooLarge { caplen }));
    }
    let iface = sec.iface(id, at)?;
    let Some((consumed, skip)) = packet_extent(e, buf, at, block_type, len, EPB_FIXED_LEN, caplen)?
    else {
        return wait(buf, eof, at, block_type, len);
    };
    if whole {
        // The options after the (padded) data must stay inside the block, as tshark insists.
        let opts = EPB_FIXED_LEN + pad4(caplen) as usize;
        let area = buf.get(opts..len as usize - 4).unwrap_or(&[]);
        options(e, area, at + opts as u64, |_, _, _| Ok(()))?;
    }
    let Some(data) = buf.get(EPB_FIXED_LEN..EPB_FIXED_LEN + caplen as usize) else {
        return wait(buf, eof, at, block_type, len);
    };
    let ticks = (u64::from(e.u32(buf, EPB_TS_HIGH)) << 32) | u64::from(e.u32(buf, EPB_TS_LOW));
    let meta = FrameMeta {
        wire_len: e.u32(buf, EPB_ORIGLEN).max(caplen),
        ts: time::from_ticks(ticks, iface.tsresol, iface.tsoffset),
        ..FrameMeta::default()
    };
    Ok((
        Step {
            consumed,
            item: Item::Packet(Packet {
                link: iface.link,
                data,
                meta,
            }),
        },
        skip,
    ))
}

/// How much of a packet block to consume now. A block that fits the caller's buffer (which
/// then holds it whole) is consumed whole, its trailer checked; a larger one up to the end of
/// its padded data (`fixed` header bytes, then `caplen`), the rest skipped in pieces.
/// `Ok(None)`: the padded data is not all in `buf` yet.
fn packet_extent(
    e: Endian,
    buf: &[u8],
    at: u64,
    block_type: u32,
    len: u32,
    fixed: usize,
    caplen: u32,
) -> Result<Option<(usize, Option<Skip>)>, Error> {
    if len as usize <= MIN_BUFFER {
        check_trailer(e, buf, block_type, len, at)?;
        return Ok(Some((len as usize, None)));
    }
    // The room after the fixed part is a multiple of 4 and caplen <= room: the padded data
    // fits inside the block.
    let end = fixed as u32 + pad4(caplen);
    if buf.len() < end as usize {
        return Ok(None);
    }
    let skip = Skip {
        start: at,
        block_type,
        total: len,
        left: len - end,
    };
    Ok(Some((end as usize, Some(skip))))
}

fn simple_packet<'a>(
    sec: &Section,
    buf: &'a [u8],
    eof: bool,
    at: u64,
    len: u32,
) -> Result<BlockStep<'a>, Error> {
    let whole = len as usize <= MIN_BUFFER;
    let need = if whole { len as usize } else { SPB_FIXED_LEN };
    if buf.len() < need {
        return wait(buf, eof, at, SPB, len);
    }
    let e = sec.endian;
    let iface = sec.iface(0, at)?;
    let orig = e.u32(buf, SPB_ORIGLEN);
    // No captured length on disk: the original length cut to the snap length (0 = none)
    // and to the room in the block, as libpcap does.
    let mut caplen = orig.min(len - (SPB_FIXED_LEN as u32 + 4));
    if iface.snaplen != 0 {
        caplen = caplen.min(iface.snaplen);
    }
    if caplen as usize > MAX_RECORD {
        return Err(err(at, ErrorKind::RecordTooLarge { caplen }));
    }
    let Some((consumed, skip)) = packet_extent(e, buf, at, SPB, len, SPB_FIXED_LEN, caplen)? else {
        return wait(buf, eof, at, SPB, len);
    };
    let Some(data) = buf.get(SPB_FIXED_LEN..SPB_FIXED_LEN + caplen as usize) else {
        return wait(buf, eof, at, SPB, len);
    };
    let meta = FrameMeta {
        wire_len: orig.max(caplen),
        // A simple packet block has no timestamp; libpcap reports 0.
        ts: Timestamp(0),
        ..FrameMeta::default()
    };
    Ok((
        Step {
            consumed,
            item: Item::Packet(Packet {
                link: iface.link,
                data,
                meta,
            }),
        },
        skip,
    ))
}

fn other<'a>(
    e: Endian,
    buf: &'a [u8],
    eof: bool,
    at: u64,
    block_type: u32,
    len: u32,
) -> Result<BlockStep<'a>, Error> {
    if buf.len() >= len as usize {
        check_trailer(e, buf, block_type, len, at)?;
        return Ok((
            Step {
                consumed: len as usize,
                item: Item::Other,
            },
            None,
        ));
    }
    if eof || len as usize <= MIN_BUFFER {
        return wait(buf, eof, at, block_type, len);
    }
    // Too large to buffer: skip what is here, keep the trailing length for the check.
    let n = buf.len().min((len - 4) as usize);
    Ok((
        Step {
            consumed: n,
            item: Item::Other,
        },
        Some(Skip {
            start: at,
            block_type,
            total: len,
            left: len - n as u32,
        }),
    ))
}

/// Continues skipping a block. Returns the step and whether the block is done.
pub(crate) fn skip<'a>(
    sec: &Section,
    s: &mut Skip,
    buf: &'a [u8],
    eof: bool,
) -> Result<(Step<'a>, bool), Error> {
    if eof && buf.len() < s.left as usize {
        return Err(err(
            s.start,
            ErrorKind::TruncatedBlock {
                block_type: s.block_type,
                announced: s.total,
                present: u64::from(s.total - s.left) + buf.len() as u64,
            },
        ));
    }
    if s.left > 4 {
        let n = buf.len().min((s.left - 4) as usize);
        if n == 0 {
            return Ok((Step::NEED_MORE, false));
        }
        s.left -= n as u32;
        return Ok((
            Step {
                consumed: n,
                item: Item::Other,
            },
            false,
        ));
    }
    if buf.len() < 4 {
        return Ok((Step::NEED_MORE, false));
    }
    let trailer = sec.endian.u32(buf, 0);
    if trailer != s.total {
        return Err(err(
            s.start,
            ErrorKind::LengthMismatch {
                block_type: s.block_type,
                header: s.total,
                trailer,
            },
        ));
    }
    Ok((
        Step {
            consumed: 4,
            item: Item::Other,
        },
        true,
    ))
}
