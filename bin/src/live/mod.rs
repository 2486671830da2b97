//! Live capture on Linux through `AF_PACKET` (SPEC §7), with `libc` only.
//!
//! - [`ring`]: every system call, the only `unsafe` of the capture, behind a safe API;
//! - [`capture`]: set-up in the kernel-mandated order and the fallbacks (V3 → V2 → `recvmsg`);
//! - [`recv`]: the `recvmsg` fallback; [`frame`]: kernel frame → core frame (loopback
//!   dedupe, `-Q`, link type, wire length); [`iface`]: interface names and indexes.
//!
//! This file is the capture loop: poll with a short timeout, drain, report on wall-clock interval
//! edges, stop promptly on timeout / SIGINT / SIGTERM, and survive the interface going away.
#![deny(unsafe_code)]

mod capture;
mod frame;
mod iface;
#[allow(unsafe_code)] // setuid/capset/prctl, each block with its SAFETY argument (issue 7)
pub(crate) mod privilege;
mod recv;
#[allow(unsafe_code)] // the one place for system calls, each block with its SAFETY argument
mod ring;
mod run;
#[allow(unsafe_code)] // prctl(PR_SET_SECCOMP), with its SAFETY argument (issue 7)
mod seccomp;

use std::time::Duration;

use pktstat_core::link::{FrameMeta, LinkType, Timestamp};

use crate::error::AppError;
use crate::settings::DirectionFilter;
use capture::{Capture, DrainError};
pub use run::run;

/// Longest `poll` wait: bounds how late a stop request or an interval edge is seen.
const POLL_MS: i32 = 50;
/// How often a vanished interface is looked for again.
const REBIND_MS: i64 = 200;

/// Where captured frames go: the session in the program, a counter in tests.
pub trait Consumer {
    /// Accounts one frame; `Ok(false)` asks the capture to stop.
    fn packet(&mut self, link: LinkType, data: &[u8], meta: &FrameMeta) -> Result<bool, AppError>;
    /// Emits the interval reports due at wall time `now`.
    fn tick(&mut self, now: Timestamp) -> Result<(), AppError>;
    /// Cumulative kernel drops so far.
    fn set_drops(&mut self, total: u64);
}

/// When to stop and report.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The start (wall clock).
    pub t0: Timestamp,
    /// `-t`.
    pub timeout: Option<Duration>,
    /// `-l`.
    pub interval: Option<Duration>,
    /// `-Q`.
    pub direction: DirectionFilter,
}

/// The wall clock now.
pub fn now() -> Timestamp {
    let (s, n) = ring::now_realtime();
    Timestamp::from_parts(s, n)
}

fn dur_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX).max(1)
}

/// Runs the capture until the timeout, a stop signal or the consumer says stop; returns the
/// end time of the run (for the final report).
///
/// Interval edges are reported late by the ring's block-retire delay, so every frame stamped
/// before an edge has been handed over (and counted in its interval) before the report; a frame
/// stamped after an edge first triggers the report. At stop, frames the kernel still holds are
/// drained the same way.
pub fn capture_loop<C: Consumer>(
    cap: &mut Capture,
    c: &mut C,
    plan: &Plan,
) -> Result<Timestamp, AppError> {
    let hold_ns = i64::from(cap.holdback_ms()) * 1_000_000
        + if cap.holdback_ms() > 0 { 10_000_000 } else { 0 };
    let step = plan.interval.map(dur_ns);
    let mut next_edge = step.map(|s| plan.t0.0.saturating_add(s));
    let deadline = plan.timeout.map(|t| plan.t0.0.saturating_add(dur_ns(t)));
    let on_any = cap.iface_name().is_none();
    let mut stop_at: Option<i64> = None;
    let mut lost_since: Option<i64> = None;
    let mut last_rebind = i64::MIN;

    loop {
        let t = now().0;
        if stop_at.is_none() {
            if ring::stop_requested() {
                stop_at = Some(t);
            } else if let Some(d) = deadline.filter(|&d| t >= d) {
                stop_at = Some(d);
            }
        }
        // Wall-clock interval edges, late by the hold-back so the ring has given up everything
        // stamped before the edge.
        if let (Some(s), Some(e)) = (step, next_edge) {
            let lagged = t.saturating_sub(hold_ns);
            if lagged >= e && stop_at.is_none_or(|st| e <= st) {
                c.set_drops(cap.drops());
                c.tick(Timestamp(e))?;
                next_edge = Some(advance(e, s, lagged));
            }
        }
        if let Some(st) = stop_at {
            if t >= st.saturating_add(hold_ns) {
                app_only(drain(
                    cap,
                    c,
                    plan.direction,
                    on_any,
                    &mut next_edge,
                    step,
                    Some(st),
                ))?;
                c.set_drops(cap.drops());
                return Ok(Timestamp(st));
            }
        }

        // Sleep no longer than the next thing to do.
        let mut wait_ns = i64::from(POLL_MS) * 1_000_000;
        if let Some(e) = next_edge {
            wait_ns = wait_ns.min(e.saturating_add(hold_ns).saturating_sub(t));
        }
        // Once a stop is pending the deadline has passed: only the stop's hold-back counts
        // (else the wait would be 0 and the loop would spin until the stop completes).
        if let (Some(d), None) = (deadline, stop_at) {
            wait_ns = wait_ns.min(d.saturating_sub(t));
        }
        if let Some(st) = stop_at {
            wait_ns = wait_ns.min(st.saturating_add(hold_ns).saturating_sub(t));
        }
        let wait_ms = i32::try_from((wait_ns.max(0) + 999_999) / 1_000_000).unwrap_or(POLL_MS);

        if lost_since.is_some() {
            if t.saturating_sub(last_rebind) >= REBIND_MS * 1_000_000 {
                last_rebind = t;
                match cap.rebind() {
                    Ok(Some(index)) => {
                        eprintln!(
                            "pktstat: interface '{}' is back (index {index}); capturing again",
                            cap.iface_name().unwrap_or("any")
                        );
                        lost_since = None;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(AppError::runtime(format!(
                            "cannot bind to the interface again: {e}"
                        )))
                    }
                }
            }
            // Still drain what the ring holds from before the loss.
            let _ = cap.wait(wait_ms.min(REBIND_MS as i32));
            let _ = cap.take_error();
            app_only(drain(
                cap,
                c,
                plan.direction,
                on_any,
                &mut next_edge,
                step,
                stop_at,
            ))?;
            continue;
        }

        let ready = cap
            .wait(wait_ms)
            .map_err(|e| AppError::runtime(format!("capture failed: {e}")))?;
        if !ready {
            continue;
        }
        let mut failure = cap.take_error();
        if failure.is_none() {
            match drain(
                cap,
                c,
                plan.direction,
                on_any,
                &mut next_edge,
                step,
                stop_at,
            ) {
                Ok(true) => {}
                Ok(false) => stop_at = Some(stop_at.unwrap_or(t)),
                Err(Failure::App(e)) => return Err(e),
                Err(Failure::Socket(e)) => failure = Some(e),
            }
        }
        if let Some(e) = failure {
            if capture::is_iface_gone(&e) && cap.iface_name().is_some() {
                eprintln!(
                    "pktstat: interface '{}' went away ({e}); waiting for it to come back",
                    cap.iface_name().unwrap_or("")
                );
                lost_since = Some(t);
                last_rebind = t;
            } else if !capture::is_iface_gone(&e) {
                return Err(AppError::runtime(format!("capture failed: {e}")));
            }
        }
    }
}

/// The first edge after `now` on the grid `e + k·step`.
fn advance(e: i64, step: i64, now: i64) -> i64 {
    let k = (now.saturating_sub(e) / step).saturating_add(1);
    e.saturating_add(k.saturating_mul(step))
}

/// A drain's result where a socket error needs no handling (at stop, or while the interface
/// is already known to be gone).
fn app_only(r: Result<bool, Failure>) -> Result<bool, AppError> {
    match r {
        Err(Failure::App(e)) => Err(e),
        Err(Failure::Socket(_)) => Ok(true),
        Ok(b) => Ok(b),
    }
}

enum Failure {
    App(AppError),
    Socket(std::io::Error),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::App(e)
    }
}

/// Hands every frame the kernel holds to `c`; frames stamped after `stop` are left out (they
/// belong after the end of the run). `Ok(false)`: the consumer asked to stop.
fn drain<C: Consumer>(
    cap: &mut Capture,
    c: &mut C,
    dir: DirectionFilter,
    on_any: bool,
    next_edge: &mut Option<i64>,
    step: Option<i64>,
    stop: Option<i64>,
) -> Result<bool, Failure> {
    let mut go_on = true;
    if step.is_some() {
        // A frame past an edge reports inside the drain, where the socket is busy: drops first.
        c.set_drops(cap.drops());
    }
    let r = cap.drain(|fr| {
        let Some((link, data, meta)) = frame::classify(fr, dir, on_any) else {
            return Ok(());
        };
        if stop.is_some_and(|s| meta.ts.0 > s) {
            return Ok(());
        }
        if let (Some(e), Some(s)) = (*next_edge, step) {
            if meta.ts.0 >= e {
                // Everything stamped before the edge has been handed over (ring order): report.
                c.tick(Timestamp(e))?;
                *next_edge = Some(advance(e, s, meta.ts.0));
            }
        }
        if !c.packet(link, data, &meta)? {
            go_on = false;
        }
        Ok(())
    });
    match r {
        Ok(_) => Ok(go_on),
        Err(DrainError::Consumer(e)) => Err(Failure::App(e)),
        Err(DrainError::Socket(e)) => Err(Failure::Socket(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::capture::{snaplen_filter, CaptureConfig, ForcedMode};
    use super::*;
    use std::net::UdpSocket;

    /// Counts UDP/IPv4 frames to one port, and the reports asked for.
    #[derive(Default)]
    struct Count {
        port: u16,
        frames: usize,
        bytes: u64,
        ticks: Vec<Timestamp>,
        drops: u64,
    }

    impl Consumer for Count {
        fn packet(
            &mut self,
            link: LinkType,
            data: &[u8],
            meta: &FrameMeta,
        ) -> Result<bool, AppError> {
            assert_eq!(link, LinkType::Ethernet);
            // Ethernet + IPv4 (IHL 5) + UDP: destination port at 14 + 20 + 2.
            if data.len() >= 38
                && data[12..14] == [8, 0]
                && data[23] == 17
                && data[36..38] == self.port.to_be_bytes()
            {
                self.frames += 1;
                self.bytes += u64::from(meta.wire_len);
            }
            Ok(true)
        }
        fn tick(&mut self, now: Timestamp) -> Result<(), AppError> {
            self.ticks.push(now);
            Ok(())
        }
        fn set_drops(&mut self, total: u64) {
            self.drops = total;
        }
    }

    /// Captures on `lo` while sending `n` datagrams of 100 bytes to a fresh port.
    fn loopback_run(
        force: Option<ForcedMode>,
        n: usize,
        interval: Option<Duration>,
    ) -> (Count, Duration) {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rx.local_addr().unwrap().port();
        let cfg = CaptureConfig {
            iface: "lo".into(),
            snaplen: 65535,
            bufsize: 2 << 20,
            promisc: false,
            filter: snaplen_filter(65535),
            force,
        };
        let mut cap = Capture::open(&cfg).expect("capture on lo (run the tests as root)");
        let sender = std::thread::spawn(move || {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            for _ in 0..n {
                tx.send_to(&[7u8; 100], ("127.0.0.1", port)).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let mut count = Count {
            port,
            ..Count::default()
        };
        let plan = Plan {
            t0: now(),
            timeout: Some(Duration::from_millis(700)),
            interval,
            direction: DirectionFilter::InOut,
        };
        let started = std::time::Instant::now();
        let end = capture_loop(&mut cap, &mut count, &plan).unwrap();
        let took = started.elapsed();
        sender.join().unwrap();
        assert_eq!(end.0 - plan.t0.0, 700_000_000);
        drop(rx);
        (count, took)
    }

    #[test]
    fn loopback_counts_each_datagram_once_in_every_mode() {
        for force in [None, Some(ForcedMode::V2), Some(ForcedMode::Recv)] {
            let (c, took) = loopback_run(force, 50, None);
            assert_eq!(c.frames, 50, "{force:?}");
            // 14 Ethernet + 20 IPv4 + 8 UDP + 100.
            assert_eq!(c.bytes, 50 * 142, "{force:?}");
            assert!(
                took < Duration::from_millis(900),
                "{force:?}: stopped after {took:?}"
            );
            assert_eq!(c.drops, 0);
        }
    }

    #[test]
    fn interval_edges_on_the_wall_clock() {
        let (c, _) = loopback_run(None, 20, Some(Duration::from_millis(200)));
        assert_eq!(c.frames, 20);
        // Edges at 200, 400, 600 ms; the 700 ms stop is the final report's business.
        assert_eq!(c.ticks.len(), 3, "{:?}", c.ticks);
        assert!(c.ticks.windows(2).all(|w| w[1].0 - w[0].0 == 200_000_000));
    }

    #[test]
    fn recvmsg_fallback_stamps_frames_with_the_kernel_time() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rx.local_addr().unwrap().port();
        let cfg = CaptureConfig {
            iface: "lo".into(),
            snaplen: 65535,
            bufsize: 1 << 20,
            promisc: false,
            filter: snaplen_filter(65535),
            force: Some(ForcedMode::Recv),
        };
        let mut cap = Capture::open(&cfg).expect("capture on lo (run the tests as root)");
        // The kernel turns receive timestamping on a moment after it is asked to (a deferred
        // static-key switch); until then frames are stamped when read.
        std::thread::sleep(Duration::from_millis(100));
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sent = now();
        tx.send_to(&[1u8; 10], ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        let mut stamps = Vec::new();
        let r: Result<usize, DrainError<AppError>> = cap.drain(|fr| {
            if let Some((_, data, meta)) = frame::classify(fr, DirectionFilter::InOut, false) {
                if data.len() >= 38 && data[36..38] == port.to_be_bytes() {
                    stamps.push(meta.ts);
                }
            }
            Ok(())
        });
        r.map_err(|_| "drain failed").unwrap();
        let read = now();
        assert_eq!(stamps.len(), 1);
        // Stamped when sent, not when read 150 ms later.
        assert!(
            stamps[0].0 >= sent.0 - 1_000_000 && read.0 - stamps[0].0 >= 100_000_000,
            "sent {sent:?}, stamped {:?}, read {read:?}",
            stamps[0]
        );
    }

    #[test]
    fn unknown_interface_lists_real_ones() {
        let cfg = CaptureConfig {
            iface: "nosuch0".into(),
            snaplen: 65535,
            bufsize: 1 << 20,
            promisc: false,
            filter: snaplen_filter(65535),
            force: None,
        };
        let e = Capture::open(&cfg).err().expect("no such interface");
        assert!(
            e.message.contains("nosuch0") && e.message.contains("lo"),
            "{}",
            e.message
        );
        assert_eq!(e.code, 1);
    }
}
