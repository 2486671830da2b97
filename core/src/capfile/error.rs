//! Why a capture file could not be read, and where.
//!
//! Every error carries the absolute file offset of the structure at fault (the record, the
//! block, the option or the field), so the one-line message the binary prints lets a user find
//! the damage with a hex editor. Errors are `Copy` and own no memory: the core never allocates.

use core::fmt;

/// A capture file error: what went wrong and the absolute offset where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// Absolute offset in the file of the structure at fault.
    pub offset: u64,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong, with the numbers that show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The first four bytes are neither a pcap magic nor a pcapng section header block.
    NotCapture {
        /// The first four bytes, read big-endian.
        magic: u32,
    },
    /// The file ends inside its header (or before its magic number).
    TruncatedFileHeader {
        /// Bytes the header needs.
        needed: u32,
        /// Bytes present before the end of the file.
        present: u32,
    },
    /// A pcap or pcapng version this reader (like libpcap) does not know.
    UnsupportedVersion {
        /// True for a pcapng section header, false for a pcap file header.
        pcapng: bool,
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// The file ends inside a pcap record header.
    TruncatedRecordHeader {
        /// Bytes the record header needs.
        needed: u32,
        /// Bytes present before the end of the file.
        present: u32,
    },
    /// The file ends inside a pcap record's captured data.
    TruncatedRecord {
        /// Captured length the record header announces.
        announced: u32,
        /// Captured bytes present before the end of the file.
        present: u32,
    },
    /// A packet's captured length is above [`super::MAX_RECORD`].
    RecordTooLarge {
        /// The captured length.
        caplen: u32,
    },
    /// The file ends inside the 8-byte (or, for a section header, 12-byte) head of a block.
    TruncatedBlockHeader {
        /// Bytes needed.
        needed: u32,
        /// Bytes present before the end of the file.
        present: u32,
    },
    /// The file ends inside a pcapng block.
    TruncatedBlock {
        /// Block type.
        block_type: u32,
        /// Total length the block announces.
        announced: u32,
        /// Bytes of it present before the end of the file.
        present: u64,
    },
    /// A block's total length is below the minimum for its type (12 for any block).
    BlockTooShort {
        /// Block type.
        block_type: u32,
        /// The announced total length.
        len: u32,
        /// The smallest valid total length for this block type.
        min: u32,
    },
    /// A block's total length is not a multiple of 4.
    BlockLengthUnaligned {
        /// Block type.
        block_type: u32,
        /// The announced total length.
        len: u32,
    },
    /// A block whose content must be read whole (an interface description) is larger than
    /// [`super::MIN_BUFFER`].
    BlockTooLarge {
        /// Block type.
        block_type: u32,
        /// The announced total length.
        len: u32,
    },
    /// The total length at the end of a block differs from the one at its start.
    LengthMismatch {
        /// Block type.
        block_type: u32,
        /// Length at the start of the block.
        header: u32,
        /// Length at the end of the block.
        trailer: u32,
    },
    /// A packet block's captured length runs past the end of the block.
    CaptureLengthPastBlock {
        /// Block type.
        block_type: u32,
        /// The captured length.
        caplen: u32,
        /// Room the block leaves for packet data.
        room: u32,
    },
    /// A packet block names an interface that its section has not described.
    UnknownInterface {
        /// The interface id in the block.
        id: u32,
        /// How many interfaces the section has described.
        defined: u32,
    },
    /// A section describes more than [`super::MAX_INTERFACES`] interfaces.
    TooManyInterfaces,
    /// An option's length runs past the end of its block.
    OptionPastBlock {
        /// Option code.
        code: u16,
        /// Announced option value length.
        len: u16,
        /// Bytes left in the block's option area for the value.
        room: u32,
    },
    /// An interface option with a length its type does not allow.
    BadOptionLength {
        /// Option code.
        code: u16,
        /// Announced option value length.
        len: u16,
    },
    /// An `if_tsresol` value finer than a 64-bit tick count can express.
    BadTimeResolution {
        /// The raw option byte.
        value: u8,
    },
    /// A section header block whose byte-order magic is neither 0x1a2b3c4d nor its reverse.
    UnknownByteOrder {
        /// The four bytes, read big-endian.
        magic: u32,
    },
}

impl Error {
    /// True when the file merely ends early (mid-header, mid-record or mid-block): what was
    /// read before is sound and worth a report (SPEC §1: then exit 1).
    pub fn is_truncation(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::TruncatedFileHeader { .. }
                | ErrorKind::TruncatedRecordHeader { .. }
                | ErrorKind::TruncatedRecord { .. }
                | ErrorKind::TruncatedBlockHeader { .. }
                | ErrorKind::TruncatedBlock { .. }
        )
    }
}

/// A pcapng block type as words, for messages.
pub(crate) struct BlockName(pub u32);

impl fmt::Display for BlockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0x0A0D_0D0A => f.write_str("section header block"),
            1 => f.write_str("interface description block"),
            2 => f.write_str("packet block"),
            3 => f.write_str("simple packet block"),
            4 => f.write_str("name resolution block"),
            5 => f.write_str("interface statistics block"),
            6 => f.write_str("enhanced packet block"),
            other => write!(f, "pcapng block (type {other:#x})"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match self.kind {
            ErrorKind::NotCapture { magic } => write!(
                f,
                "not a pcap or pcapng file (magic {magic:#010x} at offset {at})"
            ),
            ErrorKind::TruncatedFileHeader { needed, present } => write!(
                f,
                "truncated file header at offset {at}: {needed} bytes needed, {present} present"
            ),
            ErrorKind::UnsupportedVersion {
                pcapng,
                major,
                minor,
            } => write!(
                f,
                "unsupported {} version {major}.{minor} at offset {at}",
                if pcapng { "pcapng" } else { "pcap" }
            ),
            ErrorKind::TruncatedRecordHeader { needed, present } => write!(
                f,
                "truncated packet record header at offset {at}: {needed} bytes needed, {present} present"
            ),
            ErrorKind::TruncatedRecord { announced, present } => write!(
                f,
                "truncated packet record at offset {at}: {announced} bytes announced, {present} present"
            ),
            ErrorKind::RecordTooLarge { caplen } => write!(
                f,
                "packet at offset {at} too large: captured length {caplen} exceeds the maximum of {}",
                super::MAX_RECORD
            ),
            ErrorKind::TruncatedBlockHeader { needed, present } => write!(
                f,
                "truncated pcapng block header at offset {at}: {needed} bytes needed, {present} present"
            ),
            ErrorKind::TruncatedBlock {
                block_type,
                announced,
                present,
            } => write!(
                f,
                "truncated {} at offset {at}: {announced} bytes announced, {present} present",
                BlockName(block_type)
            ),
            ErrorKind::BlockTooShort {
                block_type,
                len,
                min,
            } => write!(
                f,
                "invalid {} at offset {at}: length {len} is below the minimum of {min}",
                BlockName(block_type)
            ),
            ErrorKind::BlockLengthUnaligned { block_type, len } => write!(
                f,
                "invalid {} at offset {at}: length {len} is not a multiple of 4",
                BlockName(block_type)
            ),
            ErrorKind::BlockTooLarge { block_type, len } => write!(
                f,
                "{} at offset {at} too large: length {len} exceeds the maximum of {}",
                BlockName(block_type),
                super::MIN_BUFFER
            ),
            ErrorKind::LengthMismatch {
                block_type,
                header,
                trailer,
            } => write!(
                f,
                "invalid {} at offset {at}: length {header} at its start but {trailer} at its end",
                BlockName(block_type)
            ),
            ErrorKind::CaptureLengthPastBlock {
                block_type,
                caplen,
                room,
            } => write!(
                f,
                "invalid {} at offset {at}: captured length {caplen} runs past the block ({room} bytes of room)",
                BlockName(block_type)
            ),
            ErrorKind::UnknownInterface { id, defined } => write!(
                f,
                "packet block at offset {at} names interface {id}, but its section describes {defined}"
            ),
            ErrorKind::TooManyInterfaces => write!(
                f,
                "interface description block at offset {at}: more than {} interfaces in one section",
                super::MAX_INTERFACES
            ),
            ErrorKind::OptionPastBlock { code, len, room } => write!(
                f,
                "invalid option {code} at offset {at}: length {len} runs past its block ({room} bytes left)"
            ),
            ErrorKind::BadOptionLength { code, len } => write!(
                f,
                "invalid interface option {code} at offset {at}: length {len}"
            ),
            ErrorKind::BadTimeResolution { value } => write!(
                f,
                "invalid if_tsresol {value:#04x} at offset {at}: finer than a 64-bit counter can hold"
            ),
            ErrorKind::UnknownByteOrder { magic } => write!(
                f,
                "unknown pcapng byte-order magic {magic:#010x} at offset {at}"
            ),
        }
    }
}
