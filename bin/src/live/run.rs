//! The live path of the program: settings → capture → session, and the session as the
//! capture's [`Consumer`].
#![deny(unsafe_code)]

use pktstat_core::filter::Target;
use pktstat_core::link::{FrameMeta, LinkType, Timestamp};
use pktstat_core::report::IfaceNames;

use super::capture::{snaplen_filter, Capture, CaptureConfig, ForcedMode};
use super::iface::SysNames;
use super::ring::{self, SockFilter};
use super::{capture_loop, now, Consumer, Plan};
use crate::error::AppError;
use crate::session::{Clock, Session};
use crate::settings::{Backend, Settings, Source};

impl Consumer for Session {
    fn packet(&mut self, link: LinkType, data: &[u8], meta: &FrameMeta) -> Result<bool, AppError> {
        Session::packet(self, link, data, meta)
    }
    fn tick(&mut self, now: Timestamp) -> Result<(), AppError> {
        Session::tick(self, now)
    }
    fn set_drops(&mut self, total: u64) {
        Session::set_drops(self, total)
    }
}

impl IfaceNames for SysNames {
    fn name(&self, ifindex: u32) -> Option<&str> {
        self.get(ifindex)
    }
}

/// The program to attach: `-f` compiled for a Linux socket, or `ret #snaplen`.
fn socket_filter(settings: &Settings) -> Result<Vec<SockFilter>, AppError> {
    match &settings.filter {
        None => Ok(snaplen_filter(settings.snaplen)),
        Some(expr) => {
            let prog = crate::filter::compile(expr, Target::LinuxSocket, settings.snaplen)?;
            Ok(prog
                .insns()
                .iter()
                .map(|i| SockFilter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect())
        }
    }
}

/// Runs a live capture with `settings` until timeout or signal, printing reports.
pub fn run(settings: &Settings) -> Result<(), AppError> {
    let Source::Live { iface } = &settings.source else {
        return Err(AppError::usage(
            "live capture needs an interface (-i NAME or any)",
        ));
    };
    if settings.backend == Backend::Pcap {
        return Err(AppError::usage(
            "--backend pcap needs a build with the `pcap` feature; use --backend afpacket",
        ));
    }
    let cfg = CaptureConfig {
        iface: iface.clone(),
        snaplen: settings.snaplen,
        bufsize: settings.bufsize,
        promisc: settings.promisc,
        filter: socket_filter(settings)?,
        force: ForcedMode::from_env(),
    };
    let mut cap = Capture::open(&cfg)?;
    ring::install_stop_handlers().map_err(|e| {
        AppError::runtime(format!("cannot install the SIGINT/SIGTERM handlers: {e}"))
    })?;

    // HOOK (issue 7, SPEC §8): the socket, ring and filter exist and are bound; nothing later
    // needs a capability. Drop capabilities, set no-new-privs, switch to -Z USER and install the
    // seccomp filter here, before the first packet is read.
    super::privilege::lock_down(settings.user.as_deref())?;

    let on_any = cap.iface_name().is_none();
    let mut session = Session::new(settings, Clock::Wall, Box::new(SysNames::new()), on_any);
    let plan = Plan {
        t0: now(),
        timeout: settings.timeout,
        interval: settings.interval,
        direction: settings.direction,
    };
    session.start(plan.t0);
    let end = capture_loop(&mut cap, &mut session, &plan)?;
    session.finish(end)
}
