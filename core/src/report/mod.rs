//! Ordering, top-N and the three renderers: text, `-j` JSON and `--jsonl` (SPEC §6).
//!
//! A report is written one record at a time into the caller's [`Sink`] — a flow line, a JSON
//! object, a summary line — from small stack buffers, never assembled in memory: a report of
//! 65,536 flows costs the same few kilobytes of stack as one of a single flow, and a log
//! shipper reading `--jsonl` sees each line as soon as it is produced.
//!
//! [`render`] sorts the flows in place ([`sort_flows`]), then hands the first ones to the
//! renderer of the chosen [`Format`]:
//!
//! * [`text`]: upstream's `bitrate: …, packets: …` lines, a blank line, the totals line and
//!   the summary lines documented in that module;
//! * [`json`]: `-j`, one JSON array per report on one line, real flows only;
//! * [`jsonl`]: `--jsonl`, one `{"type":"flow",…}` line per flow and one
//!   `{"type":"summary",…}` line per report.
//!
//! The same flows and [`ReportInfo`] always give the same bytes: the order is total,
//! numbers are formatted by integer arithmetic or `ryu` (shortest round-trip, identical on
//! every target), and nothing depends on the table's internal layout.

use core::fmt;

use crate::flow::{Counters, Flow, FlowKey};
use crate::link::Timestamp;
use crate::stats::IntervalStats;

pub mod json;
pub mod jsonl;
mod order;
pub mod text;
mod time;
mod units;

pub use order::sort_flows;
pub use time::{civil_from_days, Rfc3339, Seconds2};
pub use units::{bitrate, duration_nanos, duration_secs, format_bitrate, Bitrate};

/// Which renderer [`render`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Upstream's text lines plus the summary lines.
    Text,
    /// `-j`: one JSON array per report, on one line.
    Json,
    /// `--jsonl`: JSON Lines, a line per flow and a summary line.
    JsonLines,
}

/// The sink refused bytes (for example stdout was closed). The report stops at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkError;

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("report output failed")
    }
}

/// Where a report goes. Each call carries one or more whole records (or, for records longer
/// than the renderer's buffer, consecutive pieces of one); the sink may buffer.
pub trait Sink {
    /// Writes all of `bytes`, or fails.
    fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError>;
}

/// Interface names for the `iface` column (live on `any`).
pub trait IfaceNames {
    /// The name of interface `ifindex`, if known. Without one the index is shown.
    fn name(&self, ifindex: u32) -> Option<&str>;
}

/// No names: every interface shows as its index.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl IfaceNames for NoNames {
    fn name(&self, _ifindex: u32) -> Option<&str> {
        None
    }
}

/// Kernel drops (live captures only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Dropped during this report's interval.
    pub interval: u64,
    /// Dropped since the capture started.
    pub total: u64,
}

/// Everything a report shows besides its flows.
#[derive(Clone, Copy, Debug)]
pub struct ReportInfo<'a> {
    /// Start of the span this report covers.
    pub start: Timestamp,
    /// End of the span; the duration is `end - start` (0 if negative).
    pub end: Timestamp,
    /// Totals, protocol summary and the `other flows` row of the span.
    pub stats: &'a IntervalStats,
    /// With `-l`: totals since the start of the run.
    pub running: Option<Counters>,
    /// Live only: kernel drops.
    pub drops: Option<Drops>,
    /// Flows in the table.
    pub table_len: usize,
    /// The table's capacity.
    pub table_capacity: usize,
    /// Show the VLAN of tagged flows (`-v`).
    pub show_vlan: bool,
    /// Show each flow's interface (live on `any`).
    pub show_iface: bool,
    /// `-n`: print only this many flows (the summary is never limited).
    pub top: Option<usize>,
}

/// Sorts `flows` into report order (only the first `info.top` when set) and writes the report
/// in `format` to `sink`, one record at a time. Stops at the first sink error.
pub fn render<S: Sink + ?Sized>(
    format: Format,
    flows: &mut [Flow],
    info: &ReportInfo<'_>,
    names: &dyn IfaceNames,
    sink: &mut S,
) -> Result<(), SinkError> {
    let n = sort_flows(flows, info.top);
    let shown = flows.get(..n).unwrap_or(&[]);
    match format {
        Format::Text => text::render(shown, info, names, sink),
        Format::Json => json::render(shown, info, names, sink),
        Format::JsonLines => jsonl::render(shown, info, names, sink),
    }
}

/// Interface names longer than this many bytes are cut (at a character boundary) so that a
/// JSON record always fits its fixed buffer. Linux names have at most 15 bytes.
pub const MAX_IFACE_NAME: usize = 64;

/// How the `iface` column shows a flow's interface: its name, or its index when no name is
/// known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfaceLabel<'a> {
    /// A name, at most [`MAX_IFACE_NAME`] bytes.
    Name(&'a str),
    /// An index without a name.
    Index(u32),
}

impl<'a> IfaceLabel<'a> {
    /// The label of `key`'s interface.
    pub fn of(key: &FlowKey, names: &'a dyn IfaceNames) -> IfaceLabel<'a> {
        match names.name(key.ifindex) {
            Some(name) => {
                let mut end = name.len().min(MAX_IFACE_NAME);
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                IfaceLabel::Name(name.get(..end).unwrap_or(""))
            }
            None => IfaceLabel::Index(key.ifindex),
        }
    }
}

impl fmt::Display for IfaceLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IfaceLabel::Name(name) => f.write_str(name),
            IfaceLabel::Index(i) => write!(f, "{i}"),
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A `Vec` sink and flow builders shared by the renderers' tests.
    use super::*;
    use crate::flow::{Addr, Counters, FlowKey};
    use crate::stats::ProtoSummary;
    use std::string::String;
    use std::vec::Vec;

    /// Collects everything written.
    #[derive(Default)]
    pub struct VecSink(pub Vec<u8>);
    impl Sink for VecSink {
        fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
            self.0.extend_from_slice(bytes);
            Ok(())
        }
    }
    impl VecSink {
        pub fn text(&self) -> String {
            String::from_utf8(self.0.clone()).expect("utf-8")
        }
    }

    /// Accepts `budget` writes, then fails.
    pub struct FailAfter(pub usize);
    impl Sink for FailAfter {
        fn write(&mut self, _bytes: &[u8]) -> Result<(), SinkError> {
            if self.0 == 0 {
                return Err(SinkError);
            }
            self.0 -= 1;
            Ok(())
        }
    }

    pub struct Names;
    impl IfaceNames for Names {
        fn name(&self, ifindex: u32) -> Option<&str> {
            match ifindex {
                2 => Some("eth0"),
                3 => Some("we\"ird\\\n"),
                4 => Some("ééééééééééééééééééééééééééééééééééééééééééééééééé"),
                _ => None,
            }
        }
    }

    pub fn v4(a: [u8; 4]) -> Addr {
        Addr::v4(a)
    }
    pub fn v6(s: &str) -> Addr {
        let ip: std::net::Ipv6Addr = s.parse().expect("ipv6");
        Addr::v6(ip.octets())
    }

    pub fn ported(proto: u8, src: Addr, sp: u16, dst: Addr, dp: u16, p: u64, b: u64) -> Flow {
        Flow {
            key: FlowKey {
                src,
                dst,
                src_port: sp,
                dst_port: dp,
                proto,
                ..FlowKey::default()
            },
            counters: Counters {
                packets: p,
                bytes: b,
            },
        }
    }

    pub fn icmp(proto: u8, src: Addr, dst: Addr, t: u8, c: u8, p: u64, b: u64) -> Flow {
        Flow {
            key: FlowKey {
                src,
                dst,
                proto,
                icmp_type: t,
                icmp_code: c,
                has_icmp: true,
                ..FlowKey::default()
            },
            counters: Counters {
                packets: p,
                bytes: b,
            },
        }
    }

    pub fn stats() -> IntervalStats {
        let c = |packets, bytes| Counters { packets, bytes };
        IntervalStats {
            totals: c(20, 5000),
            summary: ProtoSummary {
                ipv4: c(15, 4000),
                ipv6: c(3, 800),
                non_ip: c(1, 60),
                malformed: c(1, 140),
                tcp: c(8, 2500),
                udp: c(6, 1500),
                icmpv4: c(2, 200),
                icmpv6: c(1, 300),
                other_ip: c(1, 300),
            },
            ..IntervalStats::default()
        }
    }

    pub fn info(stats: &IntervalStats) -> ReportInfo<'_> {
        ReportInfo {
            start: Timestamp::from_parts(1_795_713_832, 0),
            end: Timestamp::from_parts(1_795_713_837, 0),
            stats,
            running: None,
            drops: None,
            table_len: 3,
            table_capacity: 65_536,
            show_vlan: false,
            show_iface: false,
            top: None,
        }
    }
}
