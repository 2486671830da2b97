//! pcap and pcapng readers over byte slices.
//!
//! The readers own no buffer: the caller keeps a buffer of at least [`MIN_BUFFER`] bytes,
//! hands [`Reader::next`] the file's unread bytes, drops what the returned [`Step`] says was
//! consumed and calls again. That keeps the core free of I/O and allocation, lets the binary
//! stream a 2 GB capture (or stdin) through a fixed buffer, and makes every packet a borrowed
//! slice of that buffer: no copy between the file and the decoder.
//!
//! The state machine never needs more than [`MIN_BUFFER`] contiguous bytes: a record's
//! captured length is at most [`MAX_RECORD`] (tcpdump's default snap length, the largest
//! libpcap accepts for common link types), and any larger pcapng block that is not needed
//! whole is skipped in pieces. Every call either consumes bytes, asks for more (`NeedMore`,
//! only before the end of the file) or finishes (`End` or an error), so damaged input can
//! neither loop nor panic. After an error the reader keeps returning it.
//!
//! ```
//! use pktstat_core::capfile::{Item, Reader};
//! # let file: &[u8] = &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
//! #                     0xff, 0xff, 0, 0, 1, 0, 0, 0];
//! let mut reader = Reader::new();
//! let mut rest = file;
//! let mut packets = 0;
//! loop {
//!     let step = reader.next(rest, true).expect("a sound file");
//!     match step.item {
//!         Item::Packet(_) => packets += 1,
//!         Item::Other => {}
//!         Item::NeedMore => unreachable!("the whole file is in `rest`"),
//!         Item::End => break,
//!     }
//!     rest = &rest[step.consumed..];
//! }
//! assert_eq!(packets, 0);
//! ```

mod endian;
mod error;
mod pcap;
mod pcapng;
mod time;

#[cfg(test)]
mod tests;

pub use error::{Error, ErrorKind};

use crate::link::{FrameMeta, LinkType};

/// The largest captured length accepted per record: tcpdump's default snap length.
pub const MAX_RECORD: usize = 262_144;

/// The buffer size a caller must be able to offer: the largest record plus room for block
/// headers and options (320 KiB). Blocks up to this size are read whole.
pub const MIN_BUFFER: usize = 320 * 1024;

/// How many interfaces one pcapng section may describe.
pub const MAX_INTERFACES: usize = 256;

/// Which format the file turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap (including the modified Kuznetzov variant, which has µs timestamps).
    Pcap {
        /// Nanosecond timestamps (magic `0xa1b23c4d`).
        nanos: bool,
        /// Written big-endian.
        big_endian: bool,
    },
    /// pcapng (byte order may change per section).
    PcapNg,
}

/// One captured frame, borrowed from the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The link type of the file or of the pcapng interface.
    pub link: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
    /// `wire_len` (the original length, never below the captured length) and `ts`; the rest
    /// is default.
    pub meta: FrameMeta,
}

impl Packet<'_> {
    /// An empty packet (a placeholder to fill arrays for [`Reader::next_packets`]).
    pub const EMPTY: Packet<'static> = Packet {
        link: LinkType::Ethernet,
        data: &[],
        meta: FrameMeta {
            wire_len: 0,
            ts: crate::link::Timestamp(0),
            ifindex: 0,
            vlan_tci: None,
            direction: crate::link::Direction::Unknown,
        },
    };
}

/// What one step of reading produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A frame.
    Packet(Packet<'a>),
    /// Something that is not a frame (a header, a skipped block or a piece of one).
    Other,
    /// More bytes are needed before anything can be read: refill and call again.
    NeedMore,
    /// The end of a sound file.
    End,
}

/// The result of one [`Reader::next`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// How many bytes at the front of the buffer were used: drop them before the next call.
    pub consumed: usize,
    /// What they held.
    pub item: Item<'a>,
}

impl Step<'_> {
    /// Nothing consumed, more needed.
    pub(crate) const NEED_MORE: Self = Step {
        consumed: 0,
        item: Item::NeedMore,
    };
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before the magic number.
    Start,
    /// Between pcap records.
    Pcap(pcap::PcapFile),
    /// Between pcapng blocks.
    PcapNg,
    /// Inside a pcapng block being skipped in pieces.
    Skip(pcapng::Skip),
    /// The file ended cleanly.
    End,
    /// The file is damaged; the error is returned again on every call.
    Failed(Error),
}

/// A pcap / pcapng reading state machine over the caller's bytes.
#[derive(Clone, Debug)]
pub struct Reader {
    offset: u64,
    state: State,
    format: Option<Format>,
    section: pcapng::Section,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    /// A reader positioned at the start of a file.
    pub const fn new() -> Reader {
        Reader {
            offset: 0,
            state: State::Start,
            format: None,
            section: pcapng::Section::new(),
        }
    }

    /// Reads the next item.
    ///
    /// `buf`: the file's unread bytes, starting at [`Reader::offset`]. `eof`: nothing follows
    /// `buf`. The caller drops `consumed` bytes, then calls again. `NeedMore`: refill (the
    /// caller's buffer holds at least [`MIN_BUFFER`] bytes). `End`: clean end of file. A block
    /// too large to buffer that is not a packet is skipped in pieces (`consumed = buf.len()`,
    /// [`Item::Other`]).
    pub fn next<'a>(&mut self, buf: &'a [u8], eof: bool) -> Result<Step<'a>, Error> {
        let at = self.offset;
        let result = match self.state {
            State::Pcap(ref file) => pcap::record(file, buf, eof, at),
            State::PcapNg => self.block(buf, eof, at),
            State::Skip(mut s) => match pcapng::skip(&self.section, &mut s, buf, eof) {
                Ok((step, done)) => {
                    self.state = if done { State::PcapNg } else { State::Skip(s) };
                    Ok(step)
                }
                Err(e) => Err(e),
            },
            State::Start => self.start(buf, eof),
            State::End => Ok(Step {
                consumed: 0,
                item: Item::End,
            }),
            State::Failed(e) => Err(e),
        };
        match result {
            Ok(step) => {
                self.offset += step.consumed as u64;
                if let Item::End = step.item {
                    self.state = State::End;
                }
                Ok(step)
            }
            Err(e) => {
                self.state = State::Failed(e);
                Err(e)
            }
        }
    }

    /// The fast path for classic pcap: reads as many whole records as fit in `out` from the
    /// front of `buf` (the file's unread bytes, as for [`Reader::next`]) and returns
    /// (packets, bytes consumed); the caller drops the consumed bytes. It stops early at a
    /// record that is incomplete or damaged, and reads nothing in pcapng files or before the
    /// file header: 0 packets means "call [`Reader::next`]", which reports what is there
    /// (the end, a need for more bytes, an error or a pcapng block). The packets are the ones
    /// `next` would have returned, in order.
    #[inline]
    pub fn next_packets<'a>(&mut self, buf: &'a [u8], out: &mut [Packet<'a>]) -> (usize, usize) {
        let State::Pcap(ref file) = self.state else {
            return (0, 0);
        };
        let (n, consumed) = pcap::records(file, buf, out);
        self.offset += consumed as u64;
        (n, consumed)
    }

    /// Recognises the format from the magic number and reads the file header.
    fn start<'a>(&mut self, buf: &'a [u8], eof: bool) -> Result<Step<'a>, Error> {
        let err = |kind| Error { offset: 0, kind };
        if buf.len() < 4 {
            return if eof {
                Err(err(ErrorKind::TruncatedFileHeader {
                    needed: 4,
                    present: buf.len() as u32,
                }))
            } else {
                Ok(Step::NEED_MORE)
            };
        }
        if endian::be32(buf) == pcapng::SHB {
            self.format = Some(Format::PcapNg);
            self.state = State::PcapNg;
            return self.block(buf, eof, 0);
        }
        match pcap::file_header(buf, eof) {
            Ok(Some(file)) => {
                self.format = Some(file.format());
                self.state = State::Pcap(file);
                Ok(Step {
                    consumed: pcap::FILE_HEADER_LEN,
                    item: Item::Other,
                })
            }
            Ok(None) => Ok(Step::NEED_MORE),
            Err(kind) => Err(err(kind)),
        }
    }

    /// Reads one pcapng block.
    fn block<'a>(&mut self, buf: &'a [u8], eof: bool, at: u64) -> Result<Step<'a>, Error> {
        let (step, skip) = pcapng::block(&mut self.section, buf, eof, at)?;
        if let Some(s) = skip {
            self.state = State::Skip(s);
        }
        Ok(step)
    }

    /// The absolute offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The file's format, once its magic number has been read.
    pub fn format(&self) -> Option<Format> {
        self.format
    }
}
