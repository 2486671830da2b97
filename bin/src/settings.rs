//! Validated, high-level settings: what the rest of the program runs on.
//!
//! OWNER: cli helper (parsing and validation from `args.rs`). The struct is the contract the
//! offline and live paths read.

use std::path::PathBuf;
use std::time::Duration;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// upstream's text lines.
    Text,
    /// `-j`: one JSON array per report.
    Json,
    /// `--jsonl`: JSON Lines.
    JsonLines,
}

/// `-Q`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectionFilter {
    /// Received only.
    In,
    /// Sent only.
    Out,
    /// Both (default).
    InOut,
}

/// `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Raw AF_PACKET ring (Linux default).
    AfPacket,
    /// libpcap (feature `pcap`).
    Pcap,
}

/// Where packets come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `-r FILE`; `None` = stdin (`-r -`).
    File(Option<PathBuf>),
    /// Live capture on an interface (`any` = every interface).
    Live {
        /// Interface name.
        iface: String,
    },
}

/// Everything the program runs on, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Packet source.
    pub source: Source,
    /// `-f` expression, if any.
    pub filter: Option<String>,
    /// `-s`: bytes captured per packet (already mapped: <= 0 → 65535).
    pub snaplen: u32,
    /// `-b`: ring / buffer size in bytes.
    pub bufsize: usize,
    /// `-t`: stop after this long (live: wall time; offline: packet time).
    pub timeout: Option<Duration>,
    /// `-l`: report every interval.
    pub interval: Option<Duration>,
    /// Output format.
    pub format: OutputFormat,
    /// `-n`: only the N first flows.
    pub top: Option<usize>,
    /// `-v`: flows keyed per VLAN.
    pub per_vlan: bool,
    /// `-Q`.
    pub direction: DirectionFilter,
    /// `-p`.
    pub promisc: bool,
    /// `--backend`.
    pub backend: Backend,
    /// `--dump-filter`: print the compiled filter and exit.
    pub dump_filter: bool,
    /// `-Z USER`: user to switch to after set-up (None = default policy).
    pub user: Option<String>,
}
