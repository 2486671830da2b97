//! `-r FILE|-`: a pcap or pcapng file (or stdin) streamed through one fixed buffer.
//!
//! The buffer is allocated once (256 KiB of reading room plus `capfile::MIN_BUFFER`, enough
//! for the largest record), so a 2 GB capture needs no more memory than a 2 KB one. The
//! `capfile::Reader` parses in place; when it needs more bytes, the unread tail moves to
//! the front and one `read` tops the buffer up, which also keeps `tcpdump -w - | pktstat -r -`
//! streaming (a report per `-l` interval as packets arrive, not when the buffer is full).
//!
//! Errors name the file and the offset. A truncated file, or one damaged after some
//! packets, still gets the report of what was read before the error (SPEC §1).

use std::fs::File;
use std::io::{self, Read};

use pktstat_core::capfile::{self, Item, Packet, Reader};
use pktstat_core::link::{LinkType, Timestamp};
use pktstat_core::report::NoNames;

use crate::error::AppError;
use crate::filter::LinkFilters;
use crate::output::{io_reason, is_quiet};
use crate::session::{Clock, Session};
use crate::settings::{Settings, Source};

/// Reading room: the buffer stays in the L2 cache, so the kernel's copy and the parse that
/// follows both hit cache (measured: 4 % less CPU than 1 MiB, and 1 MiB less RSS).
pub const CHUNK: usize = 1 << 18;
/// The whole buffer: reading room plus the largest thing the reader may need at once.
pub const BUFFER: usize = CHUNK + capfile::MIN_BUFFER;

/// How streaming ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The file's clean end.
    Eof,
    /// The packet callback asked to stop (offline timeout).
    Stopped,
}

/// Why streaming failed.
#[derive(Debug)]
pub enum StreamError {
    /// The file is not a capture, or is damaged or truncated.
    Capture {
        /// What the reader found.
        error: capfile::Error,
        /// Whether the file header was read (the file is a capture).
        recognized: bool,
    },
    /// Reading failed at `offset`.
    Io {
        /// Bytes read before the failure.
        offset: u64,
        /// The cause.
        error: io::Error,
    },
    /// The reader asked for more than the buffer can hold (a reader bug; never a panic).
    TooLarge {
        /// Where the record starts.
        offset: u64,
    },
    /// The packet callback failed (the output, usually).
    Callback(AppError),
}

impl StreamError {
    /// One line naming the file (`name`) and the offset.
    fn message(&self, name: &str) -> String {
        match self {
            StreamError::Capture { error, .. } => format!("{name}: {error}"),
            StreamError::Io { offset, error } => {
                format!(
                    "cannot read {name} at offset {offset}: {}",
                    io_reason(error)
                )
            }
            StreamError::TooLarge { offset } => {
                format!("{name}: a record at offset {offset} is larger than pktstat can buffer")
            }
            StreamError::Callback(e) => e.message.clone(),
        }
    }

    /// Whether what was read before the error deserves a report: packets were read, or a
    /// capture file was cut short (SPEC §1). An empty or foreign file gets no report.
    fn report_anyway(&self, packets_seen: bool) -> bool {
        match self {
            StreamError::Capture { error, recognized } => {
                packets_seen || (*recognized && error.is_truncation())
            }
            StreamError::Io { .. } | StreamError::TooLarge { .. } => packets_seen,
            StreamError::Callback(_) => false,
        }
    }
}

/// Packets handed to the callback at once, at most.
pub const BATCH: usize = 32;

/// Streams every packet of `input` through `buf` into `on_packet`, which returns
/// `Ok(false)` to stop.
pub fn stream<R, F>(input: R, buf: &mut [u8], mut on_packet: F) -> Result<End, StreamError>
where
    R: Read,
    F: FnMut(&Packet<'_>) -> Result<bool, AppError>,
{
    stream_batches(input, buf, |batch| {
        for p in batch {
            if !on_packet(p)? {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Streams every packet of `input` through `buf` into `on_batch`, in order, up to
/// [`BATCH`] packets per call (classic pcap records come in batches: one call, and one
/// tight parsing loop, per batch). `on_batch` returns `Ok(false)` to stop.
pub fn stream_batches<R, F>(
    mut input: R,
    buf: &mut [u8],
    mut on_batch: F,
) -> Result<End, StreamError>
where
    R: Read,
    F: FnMut(&[Packet<'_>]) -> Result<bool, AppError>,
{
    let mut reader = Reader::new();
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut eof = false;
    let mut total_read: u64 = 0;
    loop {
        // Parse everything buffered, then refill.
        {
            let mut batch = [Packet::EMPTY; BATCH];
            loop {
                let avail = &buf[lo..hi];
                let (n, consumed) = reader.next_packets(avail, &mut batch);
                if n > 0 {
                    lo += consumed;
                    if !on_batch(&batch[..n]).map_err(StreamError::Callback)? {
                        return Ok(End::Stopped);
                    }
                    continue;
                }
                let step = reader
                    .next(avail, eof)
                    .map_err(|error| StreamError::Capture {
                        error,
                        recognized: reader.format().is_some(),
                    })?;
                let consumed = step.consumed.min(hi - lo);
                match step.item {
                    Item::Packet(p) => {
                        if !on_batch(core::slice::from_ref(&p)).map_err(StreamError::Callback)? {
                            return Ok(End::Stopped);
                        }
                    }
                    Item::Other => {}
                    Item::End => return Ok(End::Eof),
                    Item::NeedMore => {
                        lo += consumed;
                        break;
                    }
                }
                if consumed == 0 {
                    // A packet or skipped block always has a size; anything else would loop
                    // forever.
                    return Err(StreamError::TooLarge {
                        offset: reader.offset(),
                    });
                }
                lo += consumed;
            }
        }
        if eof {
            // The reader reports truncation itself; this is a guard against a loop.
            return Err(StreamError::TooLarge {
                offset: reader.offset(),
            });
        }
        if lo > 0 {
            buf.copy_within(lo..hi, 0);
            hi -= lo;
            lo = 0;
        }
        if hi == buf.len() {
            return Err(StreamError::TooLarge {
                offset: reader.offset(),
            });
        }
        let n = loop {
            match input.read(&mut buf[hi..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(StreamError::Io {
                        offset: total_read,
                        error,
                    })
                }
            }
        };
        if n == 0 {
            eof = true;
        }
        hi += n;
        total_read += n as u64;
    }
}

/// Runs the offline path: reads `settings.source` and prints the report(s).
pub fn run(settings: &Settings) -> Result<(), AppError> {
    // A filter's syntax is checked before the input is opened.
    let filters = LinkFilters::new(settings.filter.as_deref())?;
    match &settings.source {
        Source::File(None) => read_capture(settings, io::stdin().lock(), "stdin", filters),
        Source::File(Some(path)) => {
            let name = path.display().to_string();
            let file = File::open(path)
                .map_err(|e| AppError::runtime(format!("cannot open {name}: {}", io_reason(&e))))?;
            read_capture(settings, file, &name, filters)
        }
        Source::Live { .. } => Err(AppError::runtime(
            "internal error: the offline reader was started without -r; please report this",
        )),
    }
}

/// The link type of the `-r` input's first packet (for `--dump-filter`).
pub fn link_type(settings: &Settings) -> Result<LinkType, AppError> {
    let (input, name): (Box<dyn Read>, String) = match &settings.source {
        Source::File(Some(path)) => {
            let name = path.display().to_string();
            let file = File::open(path)
                .map_err(|e| AppError::runtime(format!("cannot open {name}: {}", io_reason(&e))))?;
            (Box::new(file), name)
        }
        _ => (Box::new(io::stdin().lock()), "stdin".to_string()),
    };
    let mut buf = vec![0u8; BUFFER];
    let mut link = None;
    let r = stream(input, &mut buf, |p| {
        link = Some(p.link);
        Ok(false)
    });
    match (link, r) {
        (Some(l), _) => Ok(l),
        (None, Err(e)) => Err(AppError::runtime(e.message(&name))),
        (None, Ok(_)) => Err(AppError::runtime(format!(
            "{name}: no packets, so no link type to compile the filter for"
        ))),
    }
}

/// Streams `input` into a session and writes the final report.
fn read_capture<R: Read>(
    settings: &Settings,
    input: R,
    name: &str,
    mut filters: Option<LinkFilters>,
) -> Result<(), AppError> {
    let mut buf = vec![0u8; BUFFER];
    let mut session = Session::new(settings, Clock::Packet, Box::new(NoNames), false);
    // The whole run spans the first to the last counted packet (SPEC §5).
    let mut last: Option<Timestamp> = None;
    let mut started = false;
    let result = stream_batches(input, &mut buf, |batch| {
        let mut kept;
        // A rejected packet is counted nowhere, not even as the start of the run (SPEC §7).
        let (run, failed) = match filters.as_mut() {
            None => (batch, None),
            Some(f) => {
                kept = [Packet::EMPTY; BATCH];
                let mut n = 0;
                let mut failed = None;
                for p in batch {
                    match f.accepts(p.link, p.data, p.meta.wire_len) {
                        Ok(true) => {
                            if let Some(k) = kept.get_mut(n) {
                                *k = *p;
                                n += 1;
                            }
                        }
                        Ok(false) => {}
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                (&kept[..n], failed)
            }
        };
        if let Some(first) = run.first() {
            if !started {
                session.start(first.meta.ts);
                started = true;
            }
            let counted = session.packets(run)?;
            for p in &run[..counted] {
                last = Some(last.map_or(p.meta.ts, |l| l.max(p.meta.ts)));
            }
            if counted < run.len() {
                return Ok(false);
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(true),
        }
    });
    let end = last.unwrap_or_default();
    match result {
        Ok(_) => session.finish(end),
        Err(e) => {
            let error = match e {
                StreamError::Callback(inner) => return Err(inner),
                other => other,
            };
            let failure = AppError::runtime(error.message(name));
            if error.report_anyway(last.is_some()) {
                if let Err(report_error) = session.finish(end) {
                    if !is_quiet(&report_error) {
                        return Err(report_error);
                    }
                }
            }
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian µs pcap of link type `link` with records of the given sizes;
    /// record `i` is stamped `i` seconds and filled with the byte `i`.
    fn pcap(link: u32, sizes: &[usize]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&262_144u32.to_le_bytes());
        f.extend_from_slice(&link.to_le_bytes());
        for (i, &n) in sizes.iter().enumerate() {
            f.extend_from_slice(&(i as u32).to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&(n as u32).to_le_bytes());
            f.extend_from_slice(&(n as u32 + 4).to_le_bytes());
            f.extend(std::iter::repeat_n(i as u8, n));
        }
        f
    }

    /// Hands out at most `step` bytes per read (a pipe), then optionally fails.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.data.len() && self.fail_at_end {
                return Err(io::Error::other("device went away"));
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn trickle(data: Vec<u8>, step: usize) -> Trickle {
        Trickle {
            data,
            pos: 0,
            step,
            fail_at_end: false,
        }
    }

    /// (link, length, first byte, wire length, seconds) of every packet.
    type Seen = Vec<(LinkType, usize, u8, u32, i64)>;

    fn collect<R: Read>(input: R) -> (Result<End, StreamError>, Seen) {
        let mut buf = vec![0u8; BUFFER];
        let mut seen = Vec::new();
        let r = stream(input, &mut buf, |p| {
            seen.push((
                p.link,
                p.data.len(),
                p.data.first().copied().unwrap_or(0),
                p.meta.wire_len,
                p.meta.ts.secs(),
            ));
            Ok(true)
        });
        (r, seen)
    }

    #[test]
    fn streams_every_packet_whatever_the_read_size() {
        let sizes = [60, 1514, 0, 9000, 64];
        let file = pcap(1, &sizes);
        for step in [1, 7, 24, 1000, usize::MAX] {
            let (r, seen) = collect(trickle(file.clone(), step));
            assert_eq!(r.unwrap(), End::Eof, "step {step}");
            let want: Seen = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    (
                        LinkType::Ethernet,
                        n,
                        if n == 0 { 0 } else { i as u8 },
                        n as u32 + 4,
                        i as i64,
                    )
                })
                .collect();
            assert_eq!(seen, want, "step {step}");
        }
    }

    #[test]
    fn file_larger_than_the_buffer() {
        // Several buffer refills, and records of the largest size accepted.
        let sizes: Vec<usize> = (0..36)
            .map(|i| {
                if i % 3 == 0 {
                    capfile::MAX_RECORD
                } else {
                    100 + i
                }
            })
            .collect();
        let file = pcap(101, &sizes);
        assert!(file.len() > BUFFER * 2);
        let (r, seen) = collect(&file[..]);
        assert_eq!(r.unwrap(), End::Eof);
        assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), sizes);
        assert!(seen.iter().all(|s| s.0 == LinkType::Raw));
    }

    #[test]
    fn callback_stops_and_fails() {
        let file = pcap(1, &[60, 60, 60]);
        let mut buf = vec![0u8; BUFFER];
        let mut n = 0;
        let r = stream(&file[..], &mut buf, |_| {
            n += 1;
            Ok(n < 2)
        });
        assert_eq!(r.unwrap(), End::Stopped);
        assert_eq!(n, 2);
        let r = stream(&file[..], &mut buf, |_| Err(AppError::runtime("boom")));
        assert!(matches!(r, Err(StreamError::Callback(e)) if e.message == "boom"));
    }

    #[test]
    fn truncated_file_names_the_offset() {
        let mut file = pcap(1, &[60, 60]);
        file.truncate(file.len() - 10);
        let (r, seen) = collect(trickle(file, 13));
        assert_eq!(seen.len(), 1);
        let e = r.unwrap_err();
        let StreamError::Capture { error, recognized } = &e else {
            panic!("{e:?}")
        };
        assert!(error.is_truncation() && *recognized);
        // Header 24 + record 16 + 60 = 100: the second record starts at offset 100.
        let msg = e.message("cut.pcap");
        assert!(
            msg.starts_with("cut.pcap: ") && msg.contains("100"),
            "{msg}"
        );
        assert!(e.report_anyway(true) && e.report_anyway(false));
    }

    #[test]
    fn foreign_or_empty_files() {
        let (r, seen) = collect(&b"root:x:0:0:root:/root:/bin/bash\n"[..]);
        assert!(seen.is_empty());
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                StreamError::Capture {
                    recognized: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.report_anyway(false));
        assert!(e.message("/etc/passwd").starts_with("/etc/passwd: "));

        let (r, _) = collect(&b""[..]);
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                StreamError::Capture {
                    recognized: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.report_anyway(false), "an empty file gets no report");
    }

    #[test]
    fn read_error_names_the_offset() {
        let file = pcap(1, &[60]);
        let len = file.len();
        let input = Trickle {
            data: file,
            pos: 0,
            step: 50,
            fail_at_end: true,
        };
        let (r, seen) = collect(input);
        assert_eq!(seen.len(), 1);
        let e = r.unwrap_err();
        assert!(
            matches!(e, StreamError::Io { offset, .. } if offset == len as u64),
            "{e:?}"
        );
        let msg = e.message("x.pcap");
        assert_eq!(
            msg,
            format!("cannot read x.pcap at offset {len}: device went away")
        );
        assert!(e.report_anyway(true));
    }
}
