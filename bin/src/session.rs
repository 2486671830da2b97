//! One run of accounting and reporting, shared by the offline reader and the live capture.
//!
//! A [`Session`] owns the flow engine, the output and the interval clock of SPEC §5:
//!
//! * intervals are `[t0 + k·DUR, t0 + (k+1)·DUR)`; a packet stamped earlier than the
//!   current interval counts in the current one; every interval is reported, empty ones
//!   too (a long gap emits each empty interval); the table is reset after each report;
//! * at the end the partial last interval is reported with its own duration;
//! * with `-l`, reports carry running totals since the start (kept here, so they do not
//!   depend on what survives an engine reset);
//! * offline (`Clock::Packet`), `-t` is measured on packet timestamps: a packet at or after
//!   `t0 + DUR` is not counted and ends the run.
//!
//! The engine (5+ MiB at the default capacity) lives in a `static`, const-initialised to
//! zeros, so it sits in `.bss`: the binary does not grow, nothing is allocated at start, and
//! RSS grows only with the pages the table actually touches. A session holds the engine's
//! lock for its whole life (no per-packet locking); there is one session per process, and
//! because it holds a `MutexGuard` it is not `Send`: create it on the thread that captures
//! (a second session waits until the first is dropped).

use std::io::{Stdout, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};

use pktstat_core::capfile::Packet;
use pktstat_core::engine::{DefaultEngine, EngineConfig};
use pktstat_core::flow::Counters;
use pktstat_core::link::{Direction, FrameMeta, LinkType, Timestamp};
use pktstat_core::report::{self, Drops, IfaceNames, ReportInfo, Sink, SinkError};

use crate::error::AppError;
use crate::output::Output;
use crate::settings::{DirectionFilter, OutputFormat, Settings};

/// The one flow engine of the process (see the module docs for why it is a `static`).
static ENGINE: Mutex<DefaultEngine> = Mutex::new(DefaultEngine::new(EngineConfig::DEFAULT));

/// Which clock intervals and the timeout follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Offline: packet timestamps.
    Packet,
    /// Live: the wall clock (the capture calls [`Session::tick`]).
    Wall,
}

impl<W: Write> Sink for Output<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        self.write_bytes(bytes).map_err(|_| SinkError)
    }
}

/// Accounting plus reporting for one run.
pub struct Session<W: Write = Stdout> {
    engine: MutexGuard<'static, DefaultEngine>,
    out: Output<W>,
    names: Box<dyn IfaceNames>,
    clock: Clock,
    format: report::Format,
    top: Option<usize>,
    show_vlan: bool,
    show_iface: bool,
    direction: DirectionFilter,
    /// `-l` in nanoseconds.
    interval: Option<i64>,
    /// `-t` in nanoseconds.
    timeout: Option<i64>,
    /// Set by [`Session::start`].
    started: Option<Started>,
    /// Totals of the intervals already reported.
    running_before: Counters,
    /// Cumulative kernel drops, once the capture has reported any.
    drops_total: Option<u64>,
    /// `drops_total` at the last report.
    drops_reported: u64,
    /// How many reports were written.
    reports: u64,
    /// Link types already warned about.
    warned_links: Vec<u32>,
}

#[derive(Clone, Copy, Debug)]
struct Started {
    /// Start of the current interval (t0 without `-l`).
    interval_start: Timestamp,
    /// End of the current interval (`i64::MAX` without `-l`).
    next_edge: i64,
    /// `t0 + timeout`, offline only (`i64::MAX` without).
    deadline: i64,
}

fn nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl Session<Stdout> {
    /// A session writing to stdout. `per_iface`: flows are keyed (and shown) per interface
    /// (live on `any`).
    pub fn new(
        settings: &Settings,
        clock: Clock,
        names: Box<dyn IfaceNames>,
        per_iface: bool,
    ) -> Session<Stdout> {
        Session::with_output(settings, clock, names, per_iface, Output::stdout())
    }
}

impl<W: Write> Session<W> {
    /// A session writing to `out`.
    pub fn with_output(
        settings: &Settings,
        clock: Clock,
        names: Box<dyn IfaceNames>,
        per_iface: bool,
        out: Output<W>,
    ) -> Session<W> {
        // A poisoned lock only means an earlier holder panicked; the engine is reset below.
        let mut engine = ENGINE.lock().unwrap_or_else(PoisonError::into_inner);
        engine.configure(EngineConfig {
            per_vlan: settings.per_vlan,
            per_iface,
        });
        engine.reset_interval();
        let _ = engine.take_table_full();
        engine.set_seed(crate::seed::random_seed());
        Session {
            engine,
            out,
            names,
            clock,
            format: match settings.format {
                OutputFormat::Text => report::Format::Text,
                OutputFormat::Json => report::Format::Json,
                OutputFormat::JsonLines => report::Format::JsonLines,
            },
            top: settings.top,
            show_vlan: settings.per_vlan,
            show_iface: per_iface,
            direction: settings.direction,
            interval: settings.interval.map(nanos).filter(|&n| n > 0),
            timeout: settings.timeout.map(nanos).filter(|&n| n > 0),
            started: None,
            running_before: Counters::default(),
            drops_total: None,
            drops_reported: 0,
            reports: 0,
            warned_links: Vec::new(),
        }
    }

    /// Starts the clock: live, now; offline, the first packet's timestamp. (A packet that
    /// arrives before any `start` starts the clock at its own timestamp.)
    pub fn start(&mut self, t0: Timestamp) {
        self.start_at(t0);
    }

    fn start_at(&mut self, t0: Timestamp) -> Started {
        let next_edge = self.interval.map_or(i64::MAX, |d| t0.0.saturating_add(d));
        let deadline = match (self.clock, self.timeout) {
            (Clock::Packet, Some(d)) => t0.0.saturating_add(d),
            _ => i64::MAX,
        };
        let started = Started {
            interval_start: t0,
            next_edge,
            deadline,
        };
        self.started = Some(started);
        started
    }

    /// Accounts one frame; with [`Clock::Packet`] it first reports every interval the
    /// packet's timestamp has passed. `Ok(false)`: the offline timeout is reached, the frame
    /// was not counted and the capture should stop.
    pub fn packet(
        &mut self,
        link: LinkType,
        data: &[u8],
        meta: &FrameMeta,
    ) -> Result<bool, AppError> {
        let ts = meta.ts.0;
        let started = match self.started {
            Some(s) => s,
            None => self.start_at(meta.ts),
        };
        if ts >= started.deadline {
            return Ok(false);
        }
        if self.clock == Clock::Packet && ts >= started.next_edge {
            self.advance_to(meta.ts)?;
        }
        // -Q: a frame of the other direction is not counted anywhere; offline frames have
        // no direction and always count.
        if matches!(
            (self.direction, meta.direction),
            (DirectionFilter::In, Direction::Out) | (DirectionFilter::Out, Direction::In)
        ) {
            return Ok(true);
        }
        if let LinkType::Unknown(value) = link {
            self.warn_link(value);
        }
        self.engine.account(link, data, meta);
        self.check_table_full();
        Ok(true)
    }

    /// Accounts a batch of frames in order, exactly as [`Session::packet`] on each would
    /// (interval reports included); returns how many were taken before the offline timeout
    /// stopped the run (`batch.len()` when none did). Runs of frames that need no interval
    /// report, no timeout and no `-Q` decision go to the engine in one call, which overlaps
    /// their flow-table lookups.
    pub fn packets(&mut self, batch: &[Packet<'_>]) -> Result<usize, AppError> {
        let mut i = 0;
        while let Some(first) = batch.get(i) {
            let started = match self.started {
                Some(s) => s,
                None => self.start_at(first.meta.ts),
            };
            // Below `limit` a frame triggers neither a report nor the timeout.
            let limit = if self.clock == Clock::Packet {
                started.deadline.min(started.next_edge)
            } else {
                started.deadline
            };
            let every_direction = self.direction == DirectionFilter::InOut;
            let mut j = i;
            let mut prev_link = None;
            while let Some(p) = batch.get(j) {
                if p.meta.ts.0 >= limit
                    || !(every_direction || p.meta.direction == Direction::Unknown)
                {
                    break;
                }
                if prev_link != Some(p.link) {
                    if let LinkType::Unknown(value) = p.link {
                        self.warn_link(value);
                    }
                    prev_link = Some(p.link);
                }
                j += 1;
            }
            if j > i {
                self.engine.account_batch(&batch[i..j]);
                self.check_table_full();
                i = j;
                continue;
            }
            if !self.packet(first.link, first.data, &first.meta)? {
                return Ok(i);
            }
            i += 1;
        }
        Ok(batch.len())
    }

    fn check_table_full(&mut self) {
        if self.engine.take_table_full() {
            log::warn!(
                "the flow table is full ({} flows): new flows now replace the smallest ones, \
                 whose counts go to the 'other flows' row; totals stay exact",
                self.engine.capacity()
            );
        }
    }

    /// [`Clock::Wall`]: reports every interval that ended by `now`.
    // Used by the live backends; a build with neither (non-Linux without `pcap`) reads files only.
    #[cfg_attr(not(any(target_os = "linux", feature = "pcap")), allow(dead_code))]
    pub fn tick(&mut self, now: Timestamp) -> Result<(), AppError> {
        if self.clock == Clock::Wall {
            self.advance_to(now)?;
        }
        Ok(())
    }

    /// The capture's cumulative kernel drop count so far.
    // Used by the live backends; a build with neither (non-Linux without `pcap`) reads files only.
    #[cfg_attr(not(any(target_os = "linux", feature = "pcap")), allow(dead_code))]
    pub fn set_drops(&mut self, total: u64) {
        self.drops_total = Some(total);
    }

    /// Writes the final report: the whole run, or with `-l` the partial last interval, from
    /// its start to `end` (offline: the last counted packet's timestamp; live: now).
    pub fn finish(self, end: Timestamp) -> Result<(), AppError> {
        self.finish_output(end).map(drop)
    }

    /// [`Session::finish`], handing back the output.
    fn finish_output(mut self, end: Timestamp) -> Result<Output<W>, AppError> {
        let Some(started) = self.started else {
            // Nothing was captured: one empty report at `end`.
            self.emit(end, end)?;
            return Ok(self.out);
        };
        if self.clock == Clock::Wall {
            self.advance_to(end)?;
        }
        let start = self.started.unwrap_or(started).interval_start;
        let end = if end < start { start } else { end };
        // After at least one interval report, an empty zero-length tail says nothing.
        if !(self.reports > 0 && end == start && self.engine.stats().totals.packets == 0) {
            self.emit(start, end)?;
        }
        Ok(self.out)
    }

    /// Reports and resets every interval that ended at or before `now`.
    fn advance_to(&mut self, now: Timestamp) -> Result<(), AppError> {
        let (Some(step), Some(mut s)) = (self.interval, self.started) else {
            return Ok(());
        };
        while now.0 >= s.next_edge {
            self.emit(s.interval_start, Timestamp(s.next_edge))?;
            self.engine.reset_interval();
            s.interval_start = Timestamp(s.next_edge);
            s.next_edge = s.next_edge.saturating_add(step);
            self.started = Some(s);
            if s.next_edge == i64::MAX {
                break;
            }
        }
        Ok(())
    }

    /// Renders one report of the engine's current contents over `[start, end]`.
    fn emit(&mut self, start: Timestamp, end: Timestamp) -> Result<(), AppError> {
        let stats = *self.engine.stats();
        let mut running = self.running_before;
        running.merge(stats.totals);
        let drops = self.drops_total.map(|total| Drops {
            interval: total.saturating_sub(self.drops_reported),
            total,
        });
        let info = ReportInfo {
            start,
            end,
            stats: &stats,
            running: self.interval.map(|_| running),
            drops,
            table_len: self.engine.len(),
            table_capacity: self.engine.capacity(),
            show_vlan: self.show_vlan,
            show_iface: self.show_iface,
            top: self.top,
        };
        let flows = self.engine.report_flows();
        if report::render(self.format, flows, &info, &*self.names, &mut self.out).is_err() {
            // The output remembers why; flush turns it into the right error.
            return Err(self
                .out
                .flush()
                .err()
                .unwrap_or_else(|| AppError::runtime("cannot write the report to stdout")));
        }
        self.out.flush()?;
        self.running_before = running;
        self.drops_reported = self.drops_total.unwrap_or(0);
        self.reports += 1;
        Ok(())
    }

    fn warn_link(&mut self, value: u32) {
        if !self.warned_links.contains(&value) {
            self.warned_links.push(value);
            log::warn!(
                "frames of link type {value} are not decoded by pktstat; they count in the \
                 totals as non-IP"
            );
        }
    }

    /// The output (tests).
    #[cfg(test)]
    pub fn output(&self) -> &W {
        self.out.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Backend, Source};
    use pktstat_core::report::NoNames;
    use std::time::Duration;

    const SEC: i64 = 1_000_000_000;
    /// A link type no decoder knows: every frame is non-IP, whatever the decoder does.
    const ODD: LinkType = LinkType::Unknown(4242);

    fn settings() -> Settings {
        Settings {
            source: Source::File(None),
            filter: None,
            snaplen: 65_535,
            bufsize: 8 << 20,
            timeout: None,
            interval: None,
            format: OutputFormat::JsonLines,
            top: None,
            per_vlan: false,
            direction: DirectionFilter::InOut,
            promisc: false,
            backend: Backend::AfPacket,
            dump_filter: false,
            user: None,
        }
    }

    fn session(s: &Settings, clock: Clock) -> Session<Vec<u8>> {
        Session::with_output(s, clock, Box::new(NoNames), false, Output::new(Vec::new()))
    }

    fn meta(ts: i64, len: u32) -> FrameMeta {
        FrameMeta {
            wire_len: len,
            ts: Timestamp(ts),
            ..FrameMeta::default()
        }
    }

    /// (packets, bytes, duration in seconds) of every summary line, and the running packets.
    fn summaries(out: &[u8]) -> Vec<(u64, u64, f64, Option<u64>)> {
        let text = std::str::from_utf8(out).unwrap();
        let num = |line: &str, key: &str| -> Option<String> {
            let at = line.find(key)? + key.len();
            let rest = &line[at..];
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            Some(rest[..end].to_string())
        };
        text.lines()
            .filter(|l| l.starts_with(r#"{"type":"summary""#))
            .map(|l| {
                (
                    num(l, r#""packets":"#).unwrap().parse().unwrap(),
                    num(l, r#""bytes":"#).unwrap().parse().unwrap(),
                    num(l, r#""duration":"#).unwrap().parse().unwrap(),
                    num(l, r#""running":{"packets":"#).map(|v| v.parse().unwrap()),
                )
            })
            .collect()
    }

    /// Feeds packets of 100 bytes at `times` (ns); returns whether each was counted and
    /// everything printed once `finish(end)` ran.
    fn run(s: &Settings, times: &[i64], end: i64) -> (Vec<bool>, Vec<u8>) {
        let mut sess = session(s, Clock::Packet);
        sess.start(Timestamp(times[0]));
        let counted = times
            .iter()
            .map(|&t| sess.packet(ODD, &[0; 60], &meta(t, 100)).unwrap())
            .collect();
        (counted, finish_into(sess, Timestamp(end)))
    }

    fn finish_into(sess: Session<Vec<u8>>, end: Timestamp) -> Vec<u8> {
        sess.finish_output(end).unwrap().get_ref().clone()
    }

    /// [`Session::packets`] over batches of `size`: how many were counted, and the output.
    fn run_batched(s: &Settings, times: &[i64], end: i64, size: usize) -> (usize, Vec<u8>) {
        let mut sess = session(s, Clock::Packet);
        sess.start(Timestamp(times[0]));
        let frame = [0u8; 60];
        let packets: Vec<Packet<'_>> = times
            .iter()
            .map(|&t| Packet {
                link: ODD,
                data: &frame,
                meta: meta(t, 100),
            })
            .collect();
        let mut counted = 0;
        for chunk in packets.chunks(size) {
            let n = sess.packets(chunk).unwrap();
            counted += n;
            if n < chunk.len() {
                break;
            }
        }
        (counted, finish_into(sess, Timestamp(end)))
    }

    #[test]
    fn batches_account_exactly_like_single_packets() {
        // Out-of-order stamps, gaps over several intervals, a stamp on an edge, the timeout.
        let times: Vec<i64> = [
            0, 3, 1, 10, 10, 25, 9, 40, 41, 42, 70, 71, 5, 99, 100, 130, 131,
        ]
        .iter()
        .map(|&t| t * SEC / 10)
        .collect();
        for (interval, timeout) in [
            (None, None),
            (Some(1), None),
            (Some(2), Some(9)),
            (None, Some(7)),
        ] {
            let mut s = settings();
            s.interval = interval.map(Duration::from_secs);
            s.timeout = timeout.map(Duration::from_secs);
            // The reference: one packet at a time, stopping at the first not counted (as
            // the offline reader does).
            let mut sess = session(&s, Clock::Packet);
            sess.start(Timestamp(times[0]));
            let single = times
                .iter()
                .take_while(|&&t| sess.packet(ODD, &[0; 60], &meta(t, 100)).unwrap())
                .count();
            let want = finish_into(sess, Timestamp(13 * SEC));
            for size in [1, 2, 3, 5, 32] {
                let (counted, got) = run_batched(&s, &times, 13 * SEC, size);
                assert_eq!(counted, single, "{interval:?} {timeout:?} batch {size}");
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want.clone()).unwrap(),
                    "{interval:?} {timeout:?} batch {size}"
                );
            }
        }
    }

    #[test]
    fn whole_run_spans_first_to_last_packet() {
        let s = settings();
        let (counted, out) = run(&s, &[SEC, 2 * SEC, 5 * SEC], 5 * SEC);
        assert_eq!(counted, [true, true, true]);
        assert_eq!(summaries(&out), [(3, 300, 4.0, None)]);
    }

    #[test]
    fn intervals_report_every_interval_with_running_totals() {
        let mut s = settings();
        s.interval = Some(Duration::from_secs(1));
        // 0 and 0.5 in [0,1); a gap over [1,2) and [2,3); 3.2 in the partial last one.
        let (_, out) = run(&s, &[0, SEC / 2, 3 * SEC + SEC / 5], 3 * SEC + SEC / 5);
        let got = summaries(&out);
        assert_eq!(
            got,
            [
                (2, 200, 1.0, Some(2)),
                (0, 0, 1.0, Some(2)),
                (0, 0, 1.0, Some(2)),
                (1, 100, 0.2, Some(3)),
            ]
        );
    }

    #[test]
    fn late_packet_counts_in_current_interval() {
        let mut s = settings();
        s.interval = Some(Duration::from_secs(1));
        // 1.5 opens [1,2); the packet stamped 0.2 arrives after it and counts there.
        let (_, out) = run(&s, &[0, SEC + SEC / 2, SEC / 5], SEC + SEC / 2);
        let got = summaries(&out);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[1].0), (1, 2));
    }

    #[test]
    fn packet_on_an_edge_opens_the_next_interval() {
        let mut s = settings();
        s.interval = Some(Duration::from_secs(1));
        let (_, out) = run(&s, &[0, SEC, 2 * SEC], 2 * SEC);
        let got: Vec<u64> = summaries(&out).iter().map(|r| r.0).collect();
        assert_eq!(got, [1, 1, 1]);
    }

    #[test]
    fn offline_timeout_on_packet_time() {
        let mut s = settings();
        s.timeout = Some(Duration::from_secs(1));
        let mut sess = session(&s, Clock::Packet);
        sess.start(Timestamp(10 * SEC));
        let m = |t| meta(10 * SEC + t, 64);
        assert!(sess.packet(ODD, &[], &m(0)).unwrap());
        assert!(sess.packet(ODD, &[], &m(SEC - 1)).unwrap());
        assert!(
            !sess.packet(ODD, &[], &m(SEC)).unwrap(),
            "a packet at t0 + DUR is not counted"
        );
        assert_eq!(sess.engine.stats().totals.packets, 2);
    }

    #[test]
    fn wall_clock_ticks() {
        let mut s = settings();
        s.interval = Some(Duration::from_secs(2));
        s.timeout = Some(Duration::from_secs(1)); // live handles its own timeout
        let mut sess = session(&s, Clock::Wall);
        sess.start(Timestamp(0));
        assert!(sess.packet(ODD, &[], &meta(SEC, 10)).unwrap());
        assert!(
            sess.packet(ODD, &[], &meta(3 * SEC, 10)).unwrap(),
            "no packet-time timeout live"
        );
        sess.tick(Timestamp(SEC)).unwrap();
        assert!(summaries(sess.output()).is_empty());
        sess.set_drops(5);
        sess.tick(Timestamp(4 * SEC + 1)).unwrap();
        let out = sess.output().clone();
        assert_eq!(summaries(&out).len(), 2, "[0,2) and [2,4)");
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#""drops":{"interval":5,"total":5}"#),
            "{text}"
        );
        assert!(
            text.contains(r#""drops":{"interval":0,"total":5}"#),
            "{text}"
        );
    }

    #[test]
    fn direction_filter() {
        let mut s = settings();
        s.direction = DirectionFilter::In;
        let mut sess = session(&s, Clock::Wall);
        sess.start(Timestamp(0));
        for direction in [Direction::In, Direction::Out, Direction::Unknown] {
            let m = FrameMeta {
                direction,
                ..meta(1, 10)
            };
            assert!(sess.packet(ODD, &[], &m).unwrap());
        }
        assert_eq!(
            sess.engine.stats().totals.packets,
            2,
            "out is not counted with -Q in"
        );
    }

    #[test]
    fn empty_run_still_reports() {
        let s = settings();
        let sess = session(&s, Clock::Packet);
        let out = finish_into(sess, Timestamp(0));
        assert_eq!(summaries(&out), [(0, 0, 0.0, None)]);
    }

    #[test]
    fn finish_writes_and_succeeds() {
        let s = settings();
        let mut sess = session(&s, Clock::Packet);
        sess.packet(ODD, &[], &meta(SEC, 1)).unwrap();
        assert!(sess.finish(Timestamp(SEC)).is_ok());
    }

    #[test]
    fn closed_output_is_quiet() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut s = settings();
        s.interval = Some(Duration::from_secs(1));
        let mut sess = Session::with_output(
            &s,
            Clock::Packet,
            Box::new(NoNames),
            false,
            Output::new(Closed),
        );
        sess.packet(ODD, &[], &meta(0, 1)).unwrap();
        let e = sess.packet(ODD, &[], &meta(SEC, 1)).unwrap_err();
        assert!(crate::output::is_quiet(&e));
    }
}
