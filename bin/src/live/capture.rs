//! Setting up the capture socket in the order SPEC §7 gives — socket with protocol 0, ring
//! version, ring, mmap, filter, (promiscuous mode), and only then `bind` — choosing the ring
//! format the kernel supports, falling back to `recvmsg` where the ring is refused, and turning
//! each failure into the one-line error SPEC §1 asks for.
#![deny(unsafe_code)]

use std::io;

use super::iface;
use super::recv::RecvBuf;
use super::ring::{self, Geometry, RawFrame, Ring, SockFilter, Socket, Version};
use crate::error::AppError;

/// V3 block-retire timeout: a quiet link hands over its packets after this long.
pub const RETIRE_MS: u32 = 20;

/// `BPF_RET | BPF_K`.
const BPF_RET_K: u16 = 0x06;

/// What to capture.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// Interface name; `any` = every interface.
    pub iface: String,
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// Ring size in bytes.
    pub bufsize: usize,
    /// `-p`.
    pub promisc: bool,
    /// Classic BPF program to attach (at least `ret #snaplen`).
    pub filter: Vec<SockFilter>,
    /// Testing aid: force a mode (`PKTSTAT_CAPTURE_MODE=v2|recv`).
    pub force: Option<ForcedMode>,
}

/// A capture mode forced by the environment (to test the fallbacks on a kernel that has V3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForcedMode {
    /// TPACKET_V2 ring.
    V2,
    /// `recvmsg` loop.
    Recv,
}

impl ForcedMode {
    /// Reads `PKTSTAT_CAPTURE_MODE`.
    pub fn from_env() -> Option<ForcedMode> {
        match std::env::var("PKTSTAT_CAPTURE_MODE").ok()?.as_str() {
            "v2" => Some(ForcedMode::V2),
            "recv" => Some(ForcedMode::Recv),
            _ => None,
        }
    }
}

/// The one-instruction filter `ret #snaplen`: accept everything, keep `snaplen` bytes.
pub fn snaplen_filter(snaplen: u32) -> Vec<SockFilter> {
    vec![SockFilter {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: snaplen,
    }]
}

enum Mode {
    Ring(Ring),
    Recv(RecvBuf),
}

/// An open, bound capture.
pub struct Capture {
    sock: Socket,
    mode: Mode,
    /// `None` under `any`.
    name: Option<String>,
    ifindex: u32,
    promisc: bool,
    drops: u64,
}

fn refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOPROTOOPT | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

fn exe_path() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pktstat".to_owned())
}

/// The SPEC §1 message for a failed `socket()`.
fn open_error(e: io::Error) -> AppError {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => AppError::runtime(format!(
            "no permission to capture packets: live capture needs CAP_NET_RAW; run as root or grant it with `setcap cap_net_raw,cap_net_admin=eip {}`",
            exe_path()
        )),
        Some(libc::EAFNOSUPPORT) => AppError::runtime(
            "this kernel has no AF_PACKET sockets (CONFIG_PACKET): live capture is impossible here; use -r FILE",
        ),
        _ => AppError::runtime(format!("cannot open a capture socket: {e}")),
    }
}

impl Capture {
    /// Opens, configures and binds the capture; says once on stderr which mode runs when it is
    /// not the TPACKET_V3 ring.
    pub fn open(cfg: &CaptureConfig) -> Result<Capture, AppError> {
        let (name, ifindex) = if cfg.iface == "any" {
            (None, 0)
        } else {
            let i = iface::lookup(&cfg.iface).ok_or_else(|| {
                AppError::runtime(format!(
                    "no such interface '{}'; interfaces here: {}, or any",
                    cfg.iface,
                    iface::list_names()
                ))
            })?;
            if !i.up {
                return Err(AppError::runtime(format!(
                    "interface '{}' is down: bring it up (`ip link set {} up`) or pick another with -i",
                    i.name, i.name
                )));
            }
            (Some(i.name), i.index)
        };
        let sock = Socket::open().map_err(open_error)?;
        let mode = Self::setup_mode(&sock, cfg)?;
        sock.attach_filter(&cfg.filter)
            .map_err(|e| AppError::runtime(format!("cannot attach the packet filter: {e}")))?;
        if cfg.promisc {
            if ifindex == 0 {
                // PACKET_MR_PROMISC needs one interface: set it on each that exists.
                for i in iface::list() {
                    let _ = sock.set_promisc(i.index);
                }
            } else {
                sock.set_promisc(ifindex).map_err(|e| {
                    AppError::runtime(format!(
                        "cannot turn on promiscuous mode on '{}': {e}",
                        cfg.iface
                    ))
                })?;
            }
        }
        sock.bind(ifindex).map_err(|e| match e.raw_os_error() {
            Some(libc::ENETDOWN) => AppError::runtime(format!(
                "interface '{}' is down: bring it up (`ip link set {} up`) or pick another with -i",
                cfg.iface, cfg.iface
            )),
            Some(libc::ENODEV | libc::ENXIO) => AppError::runtime(format!(
                "no such interface '{}'; interfaces here: {}, or any",
                cfg.iface,
                iface::list_names()
            )),
            _ => AppError::runtime(format!(
                "cannot bind the capture socket to '{}': {e}",
                cfg.iface
            )),
        })?;
        Ok(Capture {
            sock,
            mode,
            name,
            ifindex,
            promisc: cfg.promisc,
            drops: 0,
        })
    }

    fn setup_mode(sock: &Socket, cfg: &CaptureConfig) -> Result<Mode, AppError> {
        let old_kernel = ring::kernel_version().is_some_and(|v| v < (3, 19));
        let mut versions: Vec<Version> = match cfg.force {
            Some(ForcedMode::Recv) => vec![],
            Some(ForcedMode::V2) => vec![Version::V2],
            None if old_kernel => vec![Version::V2],
            None => vec![Version::V3, Version::V2],
        };
        let mut why = String::from("forced by PKTSTAT_CAPTURE_MODE");
        for v in versions.drain(..) {
            let geo = Geometry::for_total(cfg.bufsize, v, cfg.snaplen);
            match sock
                .set_version(v)
                .and_then(|()| Ring::new(sock, v, geo, RETIRE_MS))
            {
                Ok(r) => {
                    let desc = format!(
                        "capturing on {} with a TPACKET_{v:?} ring of {} blocks of {} KiB",
                        cfg.iface,
                        geo.block_nr,
                        geo.block_size >> 10
                    );
                    if v == Version::V3 {
                        log::info!("{desc}");
                    } else {
                        eprintln!(
                            "pktstat: {desc}{}",
                            if old_kernel {
                                " (kernel older than 3.19)"
                            } else {
                                ""
                            }
                        );
                    }
                    return Ok(Mode::Ring(r));
                }
                Err(e) if refused(&e) => {
                    why = format!("the kernel refused the TPACKET_{v:?} ring ({e})")
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => {
                    return Err(AppError::runtime(format!(
                        "cannot allocate a capture ring of {} MiB: {e}; try a smaller -b",
                        cfg.bufsize >> 20
                    )))
                }
                Err(e) => {
                    return Err(AppError::runtime(format!(
                        "cannot set up the capture ring: {e}"
                    )))
                }
            }
        }
        sock.enable_auxdata().map_err(|e| {
            AppError::runtime(format!(
                "cannot enable PACKET_AUXDATA on the capture socket: {e}"
            ))
        })?;
        // A bigger receive queue is best effort: the capture runs without it. Without kernel
        // timestamps, frames are stamped when read (later than they arrived, by the queue).
        let _ = sock.set_rcvbuf(cfg.bufsize);
        let ts_type = sock.enable_timestamps().ok();
        eprintln!(
            "pktstat: {why}: capturing on {} with recvmsg() (slower than the ring)",
            cfg.iface
        );
        Ok(Mode::Recv(RecvBuf::new(cfg.snaplen, ts_type)))
    }

    /// The ring's block-retire delay: how long after a frame arrives it can still be held by
    /// the kernel in a block being filled. Zero where frames are handed over one by one.
    pub fn holdback_ms(&self) -> u32 {
        match &self.mode {
            Mode::Ring(r) if r.version() == Version::V3 => RETIRE_MS,
            _ => 0,
        }
    }

    /// Bound to one named interface (not `any`).
    pub fn iface_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Waits up to `timeout_ms` for frames. `Ok(true)`: something to read or an error pending.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<bool> {
        self.sock.poll(timeout_ms)
    }

    /// Hands every frame the kernel holds for user space to `f`; returns how many. An error of
    /// the socket (the interface went away) comes back as `Err(Left)`; one of `f` as `Err(Right)`.
    pub fn drain<E>(
        &mut self,
        f: impl FnMut(&RawFrame<'_>) -> Result<(), E>,
    ) -> Result<usize, DrainError<E>> {
        match &mut self.mode {
            Mode::Ring(r) => r.drain(f).map_err(DrainError::Consumer),
            Mode::Recv(b) => b.drain(&self.sock, f),
        }
    }

    /// The pending socket error, cleared.
    pub fn take_error(&self) -> Option<io::Error> {
        self.sock.take_error().unwrap_or(None)
    }

    /// Cumulative kernel drops since the capture started.
    pub fn drops(&mut self) -> u64 {
        let v = match &self.mode {
            Mode::Ring(r) => Some(r.version()),
            Mode::Recv(_) => None,
        };
        if let Ok(d) = self.sock.take_drops(v) {
            self.drops = self.drops.saturating_add(d);
        }
        self.drops
    }

    /// Binds again to the interface's current index (it may have been re-created with a new
    /// one). `Ok(Some(index))` when bound, `Ok(None)` while it is absent or down.
    pub fn rebind(&mut self) -> io::Result<Option<u32>> {
        let Some(name) = &self.name else {
            return Ok(Some(0));
        };
        let Some(i) = iface::lookup(name) else {
            return Ok(None);
        };
        if !i.up {
            return Ok(None);
        }
        match self.sock.bind(i.index) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENETDOWN | libc::ENODEV | libc::ENXIO)
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
        if self.promisc {
            let _ = self.sock.set_promisc(i.index);
        }
        // A bind can leave an error from the old device behind.
        let _ = self.sock.take_error();
        self.ifindex = i.index;
        Ok(Some(i.index))
    }
}

/// Why a drain stopped.
#[derive(Debug)]
pub enum DrainError<E> {
    /// The socket failed (e.g. ENETDOWN: the interface went away).
    Socket(io::Error),
    /// The consumer failed.
    Consumer(E),
}

/// Errors that mean "the interface went away" rather than "capture is broken".
pub fn is_iface_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENETDOWN | libc::ENXIO | libc::ENODEV)
    )
}
