//! The libpcap capture loop: read, report on wall-clock interval edges, stop promptly.
//!
//! It drives the consumer exactly as the AF_PACKET loop does: `packet` for each frame,
//! `tick(edge)` once every frame stamped before an interval edge has been handed over, and
//! `set_drops` before every report. The differences come from the source: libpcap in
//! immediate mode hands frames over one at a time, and a read on an idle link comes back
//! within [`super::open::WAKE_MS`], so the loop looks at the clock and the
//! stop flag at least that often, and an edge needs only a short hold-back ([`HOLD_NS`]) for
//! frames still on their way through the kernel.
//!
//! At stop (timeout or signal) the frames libpcap already holds are read until it has none
//! left or one is stamped after the stop, within [`DRAIN_NS`] at most, then the run ends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pktstat_core::link::Timestamp;

use super::consumer::Consumer;
use super::open::FrameSource;
use crate::error::AppError;

/// How late an interval edge is reported after the wall clock passed it: frames stamped just
/// before the edge may still be in the kernel's buffer.
pub const HOLD_NS: i64 = 20_000_000;
/// The longest the frames held at stop are read for (a busy link never runs dry).
pub const DRAIN_NS: i64 = 100_000_000;
/// How often the drop count is read from libpcap (`pcap_stats` is a system call): a report
/// that a frame triggers uses the count from at most this long ago.
pub const DROPS_EVERY_NS: i64 = 100_000_000;

/// When to stop and report.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The start (wall clock).
    pub t0: Timestamp,
    /// `-t`.
    pub timeout: Option<Duration>,
    /// `-l`.
    pub interval: Option<Duration>,
}

/// The wall clock now.
pub fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

fn dur_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX).max(1)
}

/// The first edge after `now` on the grid `e + k·step`.
fn advance(e: i64, step: i64, now: i64) -> i64 {
    let k = (now.saturating_sub(e) / step).saturating_add(1);
    e.saturating_add(k.saturating_mul(step))
}

/// Runs the capture until the timeout, `stop()` or the consumer says stop; returns the end
/// time of the run (for the final report).
pub fn capture_loop<S: FrameSource, C: Consumer>(
    src: &mut S,
    c: &mut C,
    plan: &Plan,
    stop: &dyn Fn() -> bool,
) -> Result<Timestamp, AppError> {
    let step = plan.interval.map(dur_ns);
    let mut next_edge = step.map(|s| plan.t0.0.saturating_add(s));
    let deadline = plan.timeout.map(|t| plan.t0.0.saturating_add(dur_ns(t)));
    let mut stop_at: Option<i64> = None;
    let mut drops = src.drops();
    let mut drops_read = plan.t0.0;

    loop {
        let t = now().0;
        if t.saturating_sub(drops_read) >= DROPS_EVERY_NS {
            drops = src.drops();
            drops_read = t;
        }
        if stop_at.is_none() {
            if stop() {
                stop_at = Some(t);
            } else if let Some(d) = deadline.filter(|&d| t >= d) {
                stop_at = Some(d);
            }
        }
        // Wall-clock edges, late by the hold-back; an edge after the stop is the final
        // report's business.
        if let (Some(s), Some(e)) = (step, next_edge) {
            let lagged = t.saturating_sub(HOLD_NS);
            if lagged >= e && stop_at.is_none_or(|st| e <= st) {
                drops = src.drops();
                drops_read = t;
                c.set_drops(drops);
                c.tick(Timestamp(e))?;
                next_edge = Some(advance(e, s, lagged));
            }
        }
        if let Some(st) = stop_at {
            if t >= st.saturating_add(DRAIN_NS) {
                break;
            }
        }
        // At most one frame per read; the frame is handled inside the source's callback
        // (libpcap lends it only there).
        let mut outcome: Result<bool, AppError> = Ok(true);
        let got = src.next_frame(&mut |link, data, meta| {
            outcome = (|| {
                if let Some(st) = stop_at {
                    if meta.ts.0 > st {
                        return Ok(false); // frames arrive in order: everything older was counted
                    }
                }
                if let (Some(e), Some(s)) = (next_edge, step) {
                    if meta.ts.0 >= e {
                        // Everything stamped before the edge has been handed over: report.
                        c.set_drops(drops);
                        c.tick(Timestamp(e))?;
                        next_edge = Some(advance(e, s, meta.ts.0));
                    }
                }
                if !c.packet(link, data, meta)? && stop_at.is_none() {
                    stop_at = Some(t);
                }
                Ok(true)
            })();
        })?;
        if !outcome? || (!got && stop_at.is_some()) {
            break; // past the stop, or nothing left from before it
        }
    }
    c.set_drops(src.drops());
    Ok(Timestamp(stop_at.unwrap_or_else(|| now().0)))
}

#[cfg(test)]
mod tests {
    use super::super::open::FrameFn;
    use super::*;
    use pktstat_core::link::{FrameMeta, LinkType};
    use std::cell::Cell;
    use std::collections::VecDeque;

    /// Frames to hand out, stamped relative to the start; `None` = an idle read timeout.
    struct Script {
        t0: i64,
        items: VecDeque<Option<i64>>,
        /// How long an idle read takes.
        idle: Duration,
        drops: u64,
        data: [u8; 60],
    }

    impl FrameSource for Script {
        fn next_frame(&mut self, f: &mut FrameFn<'_>) -> Result<bool, AppError> {
            match self.items.pop_front() {
                Some(Some(offset)) => {
                    let meta = FrameMeta {
                        wire_len: 60,
                        ts: Timestamp(self.t0 + offset),
                        ..FrameMeta::default()
                    };
                    f(LinkType::Ethernet, &self.data, &meta);
                    Ok(true)
                }
                Some(None) | None => {
                    std::thread::sleep(self.idle);
                    Ok(false)
                }
            }
        }
        fn drops(&mut self) -> u64 {
            self.drops += 1;
            self.drops
        }
    }

    #[derive(Default)]
    struct Record {
        /// Packet stamps (relative), with `T` markers for ticks.
        events: Vec<String>,
        t0: i64,
        drops: u64,
        stop_after: Option<usize>,
    }

    impl Consumer for Record {
        fn packet(
            &mut self,
            _link: LinkType,
            _data: &[u8],
            meta: &FrameMeta,
        ) -> Result<bool, AppError> {
            self.events
                .push(format!("p{}", (meta.ts.0 - self.t0) / 1_000_000));
            let n = self.events.iter().filter(|e| e.starts_with('p')).count();
            Ok(self.stop_after.is_none_or(|k| n < k))
        }
        fn tick(&mut self, now: Timestamp) -> Result<(), AppError> {
            self.events
                .push(format!("T{}", (now.0 - self.t0) / 1_000_000));
            Ok(())
        }
        fn set_drops(&mut self, total: u64) {
            self.drops = total;
        }
    }

    const MS: i64 = 1_000_000;

    fn script(t0: i64, items: &[Option<i64>]) -> Script {
        Script {
            t0,
            items: items.iter().map(|o| o.map(|ms| ms * MS)).collect(),
            idle: Duration::from_millis(10),
            drops: 0,
            data: [0; 60],
        }
    }

    #[test]
    fn frame_past_an_edge_reports_first() {
        let t0 = now().0;
        let mut src = script(t0, &[Some(1), Some(50), Some(99), Some(100), Some(250)]);
        let mut rec = Record {
            t0,
            ..Record::default()
        };
        let plan = Plan {
            t0: Timestamp(t0),
            timeout: Some(Duration::from_millis(300)),
            interval: Some(Duration::from_millis(100)),
        };
        let end = capture_loop(&mut src, &mut rec, &plan, &|| false).unwrap();
        assert_eq!(end.0, t0 + 300 * MS);
        // The scripted frames arrive long before their stamps; the 300 ms stamps are
        // reported by the frames themselves, then by the wall clock.
        assert_eq!(
            rec.events,
            ["p1", "p50", "p99", "T100", "p100", "T200", "p250"]
        );
        assert!(rec.drops > 0, "drops reported before the end");
    }

    #[test]
    fn idle_link_stops_on_time_and_ticks_on_the_wall_clock() {
        let t0 = now().0;
        let mut src = script(t0, &[]);
        let mut rec = Record {
            t0,
            ..Record::default()
        };
        let plan = Plan {
            t0: Timestamp(t0),
            timeout: Some(Duration::from_millis(250)),
            interval: Some(Duration::from_millis(100)),
        };
        let started = std::time::Instant::now();
        let end = capture_loop(&mut src, &mut rec, &plan, &|| false).unwrap();
        let took = started.elapsed();
        assert_eq!(end.0, t0 + 250 * MS);
        assert_eq!(rec.events, ["T100", "T200"]);
        assert!(took < Duration::from_millis(400), "took {took:?}");
    }

    #[test]
    fn stop_request_ends_promptly_and_leaves_later_frames_out() {
        let t0 = now().0;
        // Frames stamped far in the future: after the stop, they are not counted.
        let mut src = script(t0, &[Some(1), None, None, Some(60_000), Some(60_001)]);
        let mut rec = Record {
            t0,
            ..Record::default()
        };
        let plan = Plan {
            t0: Timestamp(t0),
            timeout: None,
            interval: None,
        };
        let calls = Cell::new(0);
        let stop = || {
            calls.set(calls.get() + 1);
            calls.get() > 3
        };
        let started = std::time::Instant::now();
        let end = capture_loop(&mut src, &mut rec, &plan, &stop).unwrap();
        assert!(started.elapsed() < Duration::from_millis(200));
        assert!(end.0 >= t0 && end.0 < t0 + 200 * MS);
        assert_eq!(rec.events, ["p1"]);
    }

    #[test]
    fn consumer_asks_to_stop() {
        let t0 = now().0;
        let mut src = script(t0, &[Some(1), Some(2), Some(60_000), Some(60_001)]);
        let mut rec = Record {
            t0,
            stop_after: Some(2),
            ..Record::default()
        };
        let plan = Plan {
            t0: Timestamp(t0),
            timeout: None,
            interval: None,
        };
        capture_loop(&mut src, &mut rec, &plan, &|| false).unwrap();
        // The stop is when the second frame was read: later frames are left out.
        assert_eq!(rec.events, ["p1", "p2"]);
    }

    #[test]
    fn edges_advance_over_gaps() {
        assert_eq!(advance(100, 100, 150), 200);
        assert_eq!(advance(100, 100, 100), 200);
        assert_eq!(advance(100, 100, 1_050), 1_100);
        assert_eq!(advance(i64::MAX - 1, 100, i64::MAX), i64::MAX);
    }
}
