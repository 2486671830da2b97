//! Live capture through libpcap (the `pcap` crate): `--backend pcap` on Linux, the only live
//! backend on macOS and the BSDs (SPEC §7).
//!
//! The backend is a frame source like the AF_PACKET ring and the file reader: it hands the
//! session `(link type, bytes, FrameMeta)` and nothing else, so the core and the renderers
//! cannot tell which source fed them.
//!
//! - [`open`]: the handle, set up with the same flags and semantics as the native ring
//!   (`-i`, `-s`, `-b`, `-p`, `-Q`, and `-f` compiled by libpcap itself), and the one-line
//!   errors for a missing interface, a missing permission, a bad filter;
//! - [`capture`]: the loop — read, report on wall-clock interval edges, stop promptly;
//! - [`stop`]: SIGINT / SIGTERM (a second one exits at once);
//! - [`consumer`]: where frames go (the live module's `Consumer` on Linux).
//!
//! Prompt stop on an idle link: a read must come back at least every 50 ms so the loop can see
//! the clock and the stop flag. The read timeout alone does not do it: libpcap 1.10 on Linux
//! keeps polling the ring until a frame comes or `pcap_breakloop` is called (only BPF returns
//! on the timeout). Polling the selectable descriptor ourselves would need `unsafe`, which only
//! `bin/src/live/` may have. So a small waker thread calls `pcap_breakloop` every 50 ms (on
//! Linux it writes to libpcap's eventfd, which wakes the `poll`); the read timeout covers the
//! platforms where breakloop does not wake a blocked read. Immediate mode hands each frame
//! over at once (a `TPACKET_V2` ring on Linux, `BIOCIMMEDIATE` on BPF), so the frames of an
//! interval are all read before its report.
//!
//! On `any` (Linux) libpcap gives `LINUX_SLL` frames. Flows are not keyed per interface on
//! this backend (`ifindex` is 0): the cooked header's interface is not part of the key, so a
//! packet routed through two interfaces is one flow seen twice, as with `tcpdump -i any`.
#![deny(unsafe_code)]

pub mod capture;
pub mod consumer;
pub mod open;
pub mod stop;

use pktstat_core::report::NoNames;

use crate::error::AppError;
use crate::session::{Clock, Session};
use crate::settings::{Settings, Source};
use capture::{capture_loop, now, Plan};
use open::{Config, PcapSource};

/// Runs a live capture through libpcap with `settings` until the timeout or a stop signal,
/// printing the reports.
pub fn run(settings: &Settings) -> Result<(), AppError> {
    let Source::Live { iface } = &settings.source else {
        return Err(AppError::usage(
            "live capture needs an interface (-i NAME or any)",
        ));
    };
    let cfg = Config {
        iface: iface.clone(),
        snaplen: settings.snaplen,
        bufsize: settings.bufsize,
        promisc: settings.promisc,
        direction: settings.direction,
        filter: settings.filter.clone(),
    };
    let mut src = PcapSource::open(&cfg)?;
    // The capture exists: give up root and every capability (SPEC §8), as the AF_PACKET path
    // does, but without its seccomp filter (libpcap's own loop runs from here).
    #[cfg(target_os = "linux")]
    crate::live::privilege::lock_down_with(settings.user.as_deref(), false)?;
    let stop = stop::install().map_err(|e| {
        AppError::runtime(format!("cannot install the SIGINT/SIGTERM handlers: {e}"))
    })?;
    log::info!(
        "capturing on '{}' with libpcap (link type {})",
        cfg.iface,
        src.linktype()
    );
    let mut session = Session::new(settings, Clock::Wall, Box::new(NoNames), false);
    let plan = Plan {
        t0: now(),
        timeout: settings.timeout,
        interval: settings.interval,
    };
    session.start(plan.t0);
    let end = capture_loop(&mut src, &mut session, &plan, &|| stop.requested())?;
    session.finish(end)
}
