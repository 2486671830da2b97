//! Opening a libpcap handle with pktstat's flags, and reading frames from it.
//!
//! Set-up order follows libpcap's rules: everything that must precede activation (`-s`, `-b`,
//! `-p`, immediate mode, read timeout) is set on the inactive handle; the direction (`-Q`) and
//! the filter (`-f`, compiled and optimised by libpcap, installed in the kernel where the
//! platform can) come right after activation, before the first read.
//!
//! Every failure becomes the one-line message of SPEC §1: a missing interface lists the ones
//! that exist, a missing permission says what to grant, a bad filter gives libpcap's reason.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pcap::{Active, BreakLoop, Capture, Device};
use pktstat_core::link::{FrameMeta, LinkType, Timestamp};

use crate::error::AppError;
use crate::settings::DirectionFilter;

/// The longest a read waits on an idle link, so the longest a stop request or an interval
/// edge can go unnoticed (SPEC §5 asks for 200 ms): libpcap's read timeout, and the period of
/// the waker thread that calls `pcap_breakloop` (see the module docs of `pcap_backend`).
pub const WAKE_MS: u64 = 50;

/// What the handle is opened with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `-i` (`any` where the platform's libpcap has it).
    pub iface: String,
    /// `-s`, already mapped (≤ 0 → 65535).
    pub snaplen: u32,
    /// `-b` in bytes: libpcap's buffer size.
    pub bufsize: usize,
    /// `-p`.
    pub promisc: bool,
    /// `-Q`, through `pcap_setdirection`.
    pub direction: DirectionFilter,
    /// `-f`, compiled by libpcap.
    pub filter: Option<String>,
}

/// What a source hands each frame to: link type, captured bytes, metadata.
pub type FrameFn<'a> = dyn FnMut(LinkType, &[u8], &FrameMeta) + 'a;

/// A source of frames for [`super::capture::capture_loop`]: libpcap in the program, a script
/// in the tests.
pub trait FrameSource {
    /// Hands at most one frame to `f`; `Ok(false)`: none came within [`WAKE_MS`].
    fn next_frame(&mut self, f: &mut FrameFn<'_>) -> Result<bool, AppError>;
    /// Cumulative drops so far (kernel buffer plus interface).
    fn drops(&mut self) -> u64;
}

/// An activated libpcap handle and what is known about it.
pub struct PcapSource {
    cap: Capture<Active>,
    /// Tells the waker thread to end.
    waker_done: Arc<AtomicBool>,
    /// How many times the waker has broken a read so far.
    breaks: Arc<AtomicU64>,
    link: LinkType,
    linktype: i32,
    iface: String,
    /// The last drop count libpcap gave (kept when `pcap_stats` fails).
    drops: u64,
}

impl PcapSource {
    /// Opens and activates `cfg.iface`, then sets the direction and the filter.
    pub fn open(cfg: &Config) -> Result<PcapSource, AppError> {
        let inactive = Capture::from_device(cfg.iface.as_str()).map_err(|e| {
            AppError::runtime(format!("cannot capture on '{}': {}", cfg.iface, reason(&e)))
        })?;
        let mut cap = inactive
            .promisc(cfg.promisc)
            .snaplen(i32::try_from(cfg.snaplen).unwrap_or(i32::MAX))
            .buffer_size(i32::try_from(cfg.bufsize).unwrap_or(i32::MAX))
            .immediate_mode(true)
            .timeout(WAKE_MS as i32)
            .open()
            .map_err(|e| activate_error(&cfg.iface, &e))?;
        let direction = match cfg.direction {
            DirectionFilter::In => Some(pcap::Direction::In),
            DirectionFilter::Out => Some(pcap::Direction::Out),
            DirectionFilter::InOut => None,
        };
        if let Some(d) = direction {
            cap.direction(d).map_err(|e| {
                AppError::runtime(format!(
                    "-Q: libpcap cannot select the direction on '{}': {}",
                    cfg.iface,
                    reason(&e)
                ))
            })?;
        }
        if let Some(expr) = &cfg.filter {
            cap.filter(expr, true).map_err(|e| filter_error(expr, &e))?;
        }
        let linktype = cap.get_datalink().0;
        let waker_done = Arc::new(AtomicBool::new(false));
        let breaks = Arc::new(AtomicU64::new(0));
        spawn_waker(
            cap.breakloop_handle(),
            Arc::clone(&waker_done),
            Arc::clone(&breaks),
        )?;
        Ok(PcapSource {
            waker_done,
            breaks,
            link: LinkType::from_linktype(u32::try_from(linktype).unwrap_or(u32::MAX)),
            linktype,
            cap,
            iface: cfg.iface.clone(),
            drops: 0,
        })
    }

    /// The handle's `DLT_` value with its libpcap name, for messages.
    pub fn linktype(&self) -> String {
        match pcap::Linktype(self.linktype).get_name() {
            Ok(name) => format!("{name}, {}", self.linktype),
            Err(_) => self.linktype.to_string(),
        }
    }
}

/// Starts the thread that breaks a blocked read every [`WAKE_MS`] until `done`.
///
/// The handle it holds is weak: a break after the capture is closed does nothing.
fn spawn_waker(
    waker: BreakLoop,
    done: Arc<AtomicBool>,
    breaks: Arc<AtomicU64>,
) -> Result<(), AppError> {
    std::thread::Builder::new()
        .name("pcap-waker".into())
        .spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(WAKE_MS));
                breaks.fetch_add(1, Ordering::SeqCst);
                waker.breakloop();
            }
        })
        .map(drop)
        .map_err(|e| AppError::runtime(format!("cannot start the capture's waker thread: {e}")))
}

impl Drop for PcapSource {
    fn drop(&mut self) {
        self.waker_done.store(true, Ordering::Relaxed);
    }
}

impl FrameSource for PcapSource {
    /// Through `pcap_dispatch`, not `pcap_next_ex`: when the waker's break lands while
    /// libpcap is handing a frame over, libpcap returns `PCAP_ERROR_BREAK` *after* the
    /// callback ran, and `pcap_next_ex` would lose that frame; here the callback has already
    /// handed it on. A failure is a break (not an error) when the waker broke a read since
    /// the call began or a frame was handed over; a real error persists and shows on a later
    /// call that no break overlaps.
    fn next_frame(&mut self, f: &mut FrameFn<'_>) -> Result<bool, AppError> {
        let link = self.link;
        let breaks_before = self.breaks.load(Ordering::SeqCst);
        let mut handed = false;
        let r = self.cap.dispatch(Some(1), |p| {
            handed = true;
            let meta = FrameMeta {
                wire_len: p.header.len,
                ts: timestamp(p.header.ts),
                ..FrameMeta::default()
            };
            f(link, p.data, &meta);
        });
        match r {
            Ok(_) => Ok(handed),
            Err(_) if handed || self.breaks.load(Ordering::SeqCst) != breaks_before => Ok(handed),
            Err(e) => Err(AppError::runtime(format!(
                "capture on '{}' failed: {}",
                self.iface,
                reason(&e)
            ))),
        }
    }

    fn drops(&mut self) -> u64 {
        if let Ok(s) = self.cap.stats() {
            self.drops = u64::from(s.dropped) + u64::from(s.if_dropped);
        }
        self.drops
    }
}

/// A libpcap timestamp (microseconds: the default precision, the one every platform has).
#[allow(clippy::useless_conversion)] // time_t and suseconds_t are i32 or i64 by platform
fn timestamp(tv: libc::timeval) -> Timestamp {
    let secs = i64::from(tv.tv_sec);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0).min(999_999);
    Timestamp::from_parts(secs, micros * 1_000)
}

/// The names of the interfaces libpcap can capture on, for a message.
fn interface_names() -> String {
    match Device::list() {
        Ok(list) if !list.is_empty() => list
            .into_iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(", "),
        Ok(_) => "libpcap lists none".to_owned(),
        Err(e) => format!("libpcap cannot list them: {}", reason(&e)),
    }
}

/// The SPEC §1 message for a failed `pcap_activate`.
fn activate_error(iface: &str, e: &pcap::Error) -> AppError {
    let text = reason(e);
    let exists = Device::list()
        .map(|l| l.iter().any(|d| d.name == iface))
        .unwrap_or(true);
    if !exists {
        let note = if iface == "any" {
            " (this platform's libpcap has no 'any' device: name one)"
        } else {
            ""
        };
        return AppError::runtime(format!(
            "no such interface '{iface}'{note}; interfaces here: {}",
            interface_names()
        ));
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        return AppError::runtime(format!(
            "no permission to capture on '{iface}' ({text}): {}",
            permission_hint()
        ));
    }
    AppError::runtime(format!("cannot capture on '{iface}': {text}"))
}

/// What to grant for live capture on this platform.
fn permission_hint() -> String {
    if cfg!(target_os = "linux") {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "pktstat".to_owned());
        format!(
            "live capture needs CAP_NET_RAW; run as root or grant it with \
             `setcap cap_net_raw,cap_net_admin=eip {exe}`"
        )
    } else {
        "live capture needs read access to the BPF devices (/dev/bpf*); run as root or \
         give your group access to them"
            .to_owned()
    }
}

/// The SPEC §1 message for an expression libpcap refused: a usage error.
fn filter_error(expr: &str, e: &pcap::Error) -> AppError {
    AppError::usage(format!(
        "-f: libpcap cannot compile \"{expr}\": {}",
        reason(e)
    ))
}

/// libpcap's own words, without the crate's `libpcap error: ` prefix.
fn reason(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tv(sec: i64, usec: i64) -> libc::timeval {
        libc::timeval {
            tv_sec: sec as libc::time_t,
            tv_usec: usec as libc::suseconds_t,
        }
    }

    #[test]
    fn timestamps_are_microseconds() {
        assert_eq!(
            timestamp(tv(1_700_000_000, 123_456)),
            Timestamp(1_700_000_000_123_456_000)
        );
        assert_eq!(timestamp(tv(0, 0)), Timestamp(0));
        // A broken stamp never wraps past the second.
        assert_eq!(timestamp(tv(5, 7_000_000)), Timestamp(5_999_999_000));
        assert_eq!(timestamp(tv(5, -1)), Timestamp(5_000_000_000));
    }

    #[test]
    fn bad_filter_is_a_one_line_usage_error() {
        let e = filter_error("tcp port", &pcap::Error::PcapError("syntax error".into()));
        assert_eq!(e.code, crate::error::EXIT_USAGE);
        assert_eq!(
            e.message,
            "-f: libpcap cannot compile \"tcp port\": syntax error"
        );
    }

    #[test]
    fn unknown_interface_lists_real_ones() {
        let cfg = Config {
            iface: "nosuch0".into(),
            snaplen: 65535,
            bufsize: 1 << 20,
            promisc: false,
            direction: DirectionFilter::InOut,
            filter: None,
        };
        let e = PcapSource::open(&cfg).err().expect("no such interface");
        assert_eq!(e.code, crate::error::EXIT_RUNTIME);
        assert!(
            e.message
                .starts_with("no such interface 'nosuch0'; interfaces here: ")
                && e.message.contains("lo"),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'));
    }
}
