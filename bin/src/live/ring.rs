//! Every system call of live capture, behind a safe API: the `AF_PACKET` socket, its
//! `TPACKET_V3` / `TPACKET_V2` mmap ring, `recvmsg` with `PACKET_AUXDATA`, `poll`, and the
//! signal handlers.
//!
//! This is the only file of the live capture with `unsafe`. Each block says why it is sound. The
//! ring hands out a block (V3) or a frame (V2) only after the kernel has set its status to
//! `TP_STATUS_USER` (read with acquire ordering); the borrowed bytes live no longer than the
//! callback that reads them, and the block goes back to the kernel (status `TP_STATUS_KERNEL`,
//! release ordering) before the next one is looked at. Header fields are then parsed from the
//! borrowed byte slice by safe code ([`parse_v3`], [`parse_v2`]), which checks every offset.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use libc::{c_int, c_void, socklen_t};

/// `SOL_PACKET`.
const SOL_PACKET: c_int = 263;
/// `enum tpacket_versions`.
const TPACKET_V2: c_int = 1;
const TPACKET_V3: c_int = 2;
/// `SO_ATTACH_FILTER` (same value on every Linux architecture).
const SO_ATTACH_FILTER: c_int = 26;
const PACKET_ADD_MEMBERSHIP: c_int = 1;
const PACKET_RX_RING: c_int = 5;
const PACKET_STATISTICS: c_int = 6;
const PACKET_AUXDATA: c_int = 8;
const PACKET_VERSION: c_int = 10;
const PACKET_MR_PROMISC: u16 = 1;
/// `ETH_P_ALL`, in network order as `bind` wants it.
const ETH_P_ALL_BE: u16 = (libc::ETH_P_ALL as u16).to_be();

const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// The kernel stripped a VLAN tag into `tp_vlan_tci`.
pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump if true.
    pub jt: u8,
    /// Jump if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

/// Ring format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Block-based ring (kernel 3.19 and later).
    V3,
    /// Frame-based ring (older kernels).
    V2,
}

/// The `sockaddr_ll` fields a frame carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkAddr {
    /// `sll_protocol`, host order (an EtherType).
    pub protocol: u16,
    /// `sll_ifindex`.
    pub ifindex: u32,
    /// `sll_hatype` (`ARPHRD_*`).
    pub hatype: u16,
    /// `sll_pkttype` (`PACKET_HOST`, `PACKET_OUTGOING`, ...).
    pub pkttype: u8,
}

/// One captured frame, borrowed from the ring or the receive buffer.
#[derive(Clone, Copy, Debug)]
pub struct RawFrame<'a> {
    /// Captured bytes from the link-layer header on (`tp_mac`).
    pub data: &'a [u8],
    /// Where the network header starts within `data` (`tp_net - tp_mac`), clamped to `data`.
    pub net_offset: usize,
    /// `tp_len`: the length the kernel saw (without a stripped VLAN tag).
    pub len: u32,
    /// `tp_status`.
    pub status: u32,
    /// `tp_vlan_tci`.
    pub vlan_tci: u16,
    /// Seconds since the epoch.
    pub sec: u32,
    /// Nanoseconds.
    pub nsec: u32,
    /// Link address.
    pub addr: LinkAddr,
}

fn last_err() -> io::Error {
    io::Error::last_os_error()
}

fn cvt(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(last_err())
    } else {
        Ok(ret)
    }
}

/// An `AF_PACKET` raw socket.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// `socket(AF_PACKET, SOCK_RAW, 0)`: protocol 0, so nothing is received before `bind`.
    pub fn open() -> io::Result<Socket> {
        // SAFETY: plain system call with constant arguments; no pointers.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        })?;
        // SAFETY: `fd` was just returned by `socket` and is owned by nobody else.
        Ok(Socket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn setsockopt<T>(&self, level: c_int, name: c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points to a live `T` of `size_of::<T>()` bytes for the whole call; the
        // kernel only reads it.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *const T).cast::<c_void>(),
                size_of::<T>() as socklen_t,
            )
        })
        .map(drop)
    }

    fn getsockopt<T: Copy>(&self, level: c_int, name: c_int, value: &mut T) -> io::Result<()> {
        let mut len = size_of::<T>() as socklen_t;
        // SAFETY: `value` is a live, writable `T` of `len` bytes; the kernel writes at most `len`
        // bytes and every bit pattern is valid for the plain-integer structs used here.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *mut T).cast::<c_void>(),
                &mut len,
            )
        })
        .map(drop)
    }

    /// `PACKET_VERSION`.
    pub fn set_version(&self, version: Version) -> io::Result<()> {
        let v = match version {
            Version::V3 => TPACKET_V3,
            Version::V2 => TPACKET_V2,
        };
        self.setsockopt(SOL_PACKET, PACKET_VERSION, &v)
    }

    /// `PACKET_AUXDATA` on: `recvmsg` then reports stripped VLAN tags and the status.
    pub fn enable_auxdata(&self) -> io::Result<()> {
        self.setsockopt(SOL_PACKET, PACKET_AUXDATA, &1 as &c_int)
    }

    /// Kernel receive timestamps as `SCM_TIMESTAMPNS` control messages on every `recvmsg`
    /// (the fallback's packet times). Returns the control message type to look for: the
    /// 64-bit-time option where the C library uses 64-bit `time_t`, else (or on kernels before
    /// 5.1, which lack it) the original one.
    pub fn enable_timestamps(&self) -> io::Result<c_int> {
        const SO_TIMESTAMPNS_OLD: c_int = 35;
        self.setsockopt(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &1 as &c_int)
            .map(|()| libc::SO_TIMESTAMPNS)
            .or_else(|e| {
                if libc::SO_TIMESTAMPNS == SO_TIMESTAMPNS_OLD {
                    return Err(e);
                }
                self.setsockopt(libc::SOL_SOCKET, SO_TIMESTAMPNS_OLD, &1 as &c_int)
                    .map(|()| SO_TIMESTAMPNS_OLD)
            })
    }

    /// `SO_RCVBUF` (the receive queue of the `recvmsg` fallback). Best effort by the caller.
    pub fn set_rcvbuf(&self, bytes: usize) -> io::Result<()> {
        let v = c_int::try_from(bytes).unwrap_or(c_int::MAX);
        // SO_RCVBUFFORCE ignores rmem_max when privileged; fall back to the capped one.
        self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &v)
            .or_else(|_| self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUF, &v))
    }

    /// `SO_ATTACH_FILTER`.
    pub fn attach_filter(&self, prog: &[SockFilter]) -> io::Result<()> {
        let len =
            u16::try_from(prog.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let fprog = libc::sock_fprog {
            len,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        // `SockFilter` has exactly the layout of `struct sock_filter`.
        const _: () = assert!(size_of::<SockFilter>() == size_of::<libc::sock_filter>());
        self.setsockopt(libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog)
    }

    /// `bind` to `ifindex` (0 = every interface) with `ETH_P_ALL`.
    pub fn bind(&self, ifindex: u32) -> io::Result<()> {
        // SAFETY: all-zero is a valid `sockaddr_ll`.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL_BE;
        sll.sll_ifindex = ifindex as c_int;
        // SAFETY: `sll` is a live `sockaddr_ll` and the length passed is its size.
        cvt(unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_ll>() as socklen_t,
            )
        })
        .map(drop)
    }

    /// Promiscuous mode on `ifindex` for as long as the socket lives.
    pub fn set_promisc(&self, ifindex: u32) -> io::Result<()> {
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct PacketMreq {
            ifindex: c_int,
            kind: u16,
            alen: u16,
            address: [u8; 8],
        }
        let mreq = PacketMreq {
            ifindex: ifindex as c_int,
            kind: PACKET_MR_PROMISC,
            alen: 0,
            address: [0; 8],
        };
        self.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq)
    }

    /// Kernel drops since the previous call (`PACKET_STATISTICS` resets on every read). The
    /// V3 struct is a superset of the older one and the kernel copies at most what we ask.
    pub fn take_drops(&self, version: Option<Version>) -> io::Result<u64> {
        let mut st = [0u32; 3];
        if version == Some(Version::V3) {
            self.getsockopt(SOL_PACKET, PACKET_STATISTICS, &mut st)?;
        } else {
            let mut two = [0u32; 2];
            self.getsockopt(SOL_PACKET, PACKET_STATISTICS, &mut two)?;
            st[1] = two[1];
        }
        Ok(u64::from(st[1]))
    }

    /// The pending socket error (`SO_ERROR`), which reading clears.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut e: c_int = 0;
        self.getsockopt(libc::SOL_SOCKET, libc::SO_ERROR, &mut e)?;
        Ok((e != 0).then(|| io::Error::from_raw_os_error(e)))
    }

    /// Waits up to `timeout_ms` for something to read. `Ok(true)`: readable or an error is
    /// pending (see [`Socket::take_error`]); `Ok(false)`: timeout or a signal arrived.
    pub fn poll(&self, timeout_ms: i32) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one live `pollfd` and the count passed is 1.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if r < 0 {
            let e = last_err();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        Ok(r > 0 && pfd.revents != 0)
    }

    /// One non-blocking `recvmsg` with `MSG_TRUNC` into `buf`. `Ok(None)` when nothing is
    /// queued. The frame's `len` is the wire length the kernel saw (`MSG_TRUNC` / auxdata); its
    /// time is the kernel's receive timestamp (a control message of type `ts_type`, see
    /// [`Socket::enable_timestamps`]), or the wall clock now when there is none.
    pub fn recv<'a>(
        &self,
        buf: &'a mut [u8],
        ts_type: Option<c_int>,
    ) -> io::Result<Option<RawFrame<'a>>> {
        // SAFETY: all-zero is a valid `sockaddr_ll`.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        // Control buffer for one tpacket_auxdata (cmsghdr + 20 bytes) and one timespec
        // (cmsghdr + 16 bytes), u64-aligned.
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast::<c_void>(),
            iov_len: buf.len(),
        };
        // SAFETY: all-zero is a valid `msghdr` (null pointers, zero lengths).
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast::<c_void>();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast::<c_void>();
        msg.msg_controllen = size_of::<[u64; 16]>() as _;
        // SAFETY: every pointer in `msg` refers to a live, writable buffer of the stated length
        // (`buf`, `sll`, `control`), all outliving the call.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &mut msg,
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = last_err();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let wire = u32::try_from(n).unwrap_or(u32::MAX);
        let mut aux: Option<libc::tpacket_auxdata> = None;
        let mut stamp: Option<(i64, u32)> = None;
        // SAFETY: `msg` was filled by a successful `recvmsg`; the CMSG_* macros walk `control`
        // within `msg_controllen`, and each payload is read unaligned from inside that buffer
        // after checking its length.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let h = &*c;
                let payload = (h.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                if h.cmsg_level == SOL_PACKET
                    && h.cmsg_type == PACKET_AUXDATA
                    && payload >= size_of::<libc::tpacket_auxdata>()
                {
                    aux = Some(std::ptr::read_unaligned(
                        libc::CMSG_DATA(c).cast::<libc::tpacket_auxdata>(),
                    ));
                } else if h.cmsg_level == libc::SOL_SOCKET && Some(h.cmsg_type) == ts_type {
                    // A timespec of two 64-bit or (old option, 32-bit time_t) two 32-bit fields.
                    let p = libc::CMSG_DATA(c);
                    if payload >= 16 {
                        let t = std::ptr::read_unaligned(p.cast::<[i64; 2]>());
                        stamp = Some((t[0], t[1] as u32));
                    } else if payload >= 8 {
                        let t = std::ptr::read_unaligned(p.cast::<[i32; 2]>());
                        stamp = Some((i64::from(t[0]), t[1] as u32));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let caplen = (n as usize).min(buf.len());
        let data = &buf[..caplen];
        let addr = LinkAddr {
            protocol: u16::from_be(sll.sll_protocol),
            ifindex: sll.sll_ifindex as u32,
            hatype: sll.sll_hatype,
            pkttype: sll.sll_pkttype,
        };
        let (sec, nsec) = stamp.unwrap_or_else(now_realtime);
        let sec = sec as u32;
        Ok(Some(match aux {
            Some(a) => RawFrame {
                data,
                net_offset: usize::from(a.tp_net)
                    .saturating_sub(usize::from(a.tp_mac))
                    .min(caplen),
                len: a.tp_len.max(wire),
                status: a.tp_status,
                vlan_tci: a.tp_vlan_tci,
                sec,
                nsec,
                addr,
            },
            None => RawFrame {
                data,
                net_offset: 0,
                len: wire,
                status: 0,
                vlan_tci: 0,
                sec,
                nsec,
                addr,
            },
        }))
    }
}

/// The wall clock as (seconds, nanoseconds) since the epoch.
pub fn now_realtime() -> (i64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// Geometry of a ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes per block (a multiple of the page size).
    pub block_size: usize,
    /// Number of blocks (at least 4).
    pub block_nr: usize,
    /// V2 only: bytes per frame slot.
    pub frame_size: usize,
}

impl Geometry {
    /// Splits `total` bytes into blocks: 16 blocks where that leaves each at least 128 KiB
    /// (room for a 64 KiB GRO packet), at most 4 MiB per block, never fewer than 4 blocks.
    ///
    /// Sixteen, not more: each retired block is one wake-up of the capture loop, and under load
    /// the wake-ups are most of its CPU time (`make bench-live`: 64 blocks of 128 KiB cost 45%
    /// more CPU per packet than 16 of 512 KiB, which match or beat tcpdump). Sixteen still
    /// leaves the kernel 15 free blocks while one is being read.
    pub fn for_total(total: usize, version: Version, snaplen: u32) -> Geometry {
        let page = page_size();
        let min_block = (128 << 10).max(page);
        let mut block_size = (total / 16).clamp(min_block, 4 << 20);
        block_size = block_size.next_power_of_two().max(page);
        let block_nr = (total / block_size).max(4);
        let frame_size = match version {
            Version::V3 => 0,
            Version::V2 => {
                // V2 slots are fixed size: cap the captured bytes so a slot stays small. Counts use
                // tp_len, and the decoder needs only the headers.
                let cap = snaplen.clamp(96, 4096) as usize;
                (48 + 16 + cap).next_multiple_of(16)
            }
        };
        Geometry {
            block_size,
            block_nr,
            frame_size,
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// The mmap'ed receive ring of a [`Socket`].
#[derive(Debug)]
pub struct Ring {
    map: NonNull<u8>,
    map_len: usize,
    geo: Geometry,
    version: Version,
    /// Next block (V3) or frame slot (V2) to look at.
    next: usize,
}

impl Ring {
    /// `PACKET_RX_RING` then `mmap`. The version must already be set on `sock`.
    /// `retire_ms`: V3 block-retire timeout, so a quiet link still hands over its packets.
    pub fn new(sock: &Socket, version: Version, geo: Geometry, retire_ms: u32) -> io::Result<Ring> {
        let map_len = geo
            .block_size
            .checked_mul(geo.block_nr)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        match version {
            Version::V3 => {
                let req = libc::tpacket_req3 {
                    tp_block_size: geo.block_size as u32,
                    tp_block_nr: geo.block_nr as u32,
                    // Only checked by the kernel (alignment, frames per block); V3 packs frames.
                    tp_frame_size: 2048,
                    tp_frame_nr: ((geo.block_size / 2048) * geo.block_nr) as u32,
                    tp_retire_blk_tov: retire_ms,
                    tp_sizeof_priv: 0,
                    tp_feature_req_word: 0,
                };
                sock.setsockopt(SOL_PACKET, PACKET_RX_RING, &req)?;
            }
            Version::V2 => {
                let per_block = geo.block_size / geo.frame_size;
                let req = libc::tpacket_req {
                    tp_block_size: geo.block_size as u32,
                    tp_block_nr: geo.block_nr as u32,
                    tp_frame_size: geo.frame_size as u32,
                    tp_frame_nr: (per_block * geo.block_nr) as u32,
                };
                sock.setsockopt(SOL_PACKET, PACKET_RX_RING, &req)?;
            }
        }
        // SAFETY: a fresh shared mapping of the socket's ring, length as configured; the kernel
        // checks the length against the ring. No existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED,
                sock.fd.as_raw_fd(),
                0,
            )
        };
        let p = if p == libc::MAP_FAILED {
            // MAP_LOCKED fails under a low RLIMIT_MEMLOCK: map unlocked instead.
            // SAFETY: as above, without MAP_LOCKED.
            let q = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    map_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    sock.fd.as_raw_fd(),
                    0,
                )
            };
            if q == libc::MAP_FAILED {
                return Err(last_err());
            }
            q
        } else {
            p
        };
        let map = NonNull::new(p.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        Ok(Ring {
            map,
            map_len,
            geo,
            version,
            next: 0,
        })
    }

    /// The ring's format.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status word at byte offset `off` of the mapping.
    fn status(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off % 4 == 0 && off + 4 <= self.map_len);
        // SAFETY: `off` is a 4-aligned offset inside the mapping (block starts are page
        // aligned, V2 frames are 16-byte aligned, the status word is at +8 / +0), which stays
        // mapped for the lifetime of `self`. The kernel writes the word concurrently, which is
        // why it is only accessed atomically.
        unsafe { &*self.map.as_ptr().add(off).cast::<AtomicU32>() }
    }

    /// Reads `len` bytes at `off`, which the kernel has handed to user space.
    ///
    /// # Safety
    /// The caller holds the block or frame containing `off..off + len` (its status is
    /// `TP_STATUS_USER`, read with acquire ordering) and gives it back only after the slice is
    /// dropped.
    unsafe fn owned_bytes(&self, off: usize, len: usize) -> &[u8] {
        debug_assert!(off + len <= self.map_len);
        // SAFETY: in bounds of the live mapping; the kernel does not write a block or frame
        // owned by user space (see the caller contract).
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(off), len) }
    }

    /// Hands every frame the kernel has finished with to `f`, in ring order, giving each block
    /// (V3) or frame (V2) back to the kernel after `f` has seen it. Returns the number of frames.
    /// Stops at the first error of `f` (the block is still returned).
    pub fn drain<E>(
        &mut self,
        mut f: impl FnMut(&RawFrame<'_>) -> Result<(), E>,
    ) -> Result<usize, E> {
        let mut n = 0;
        match self.version {
            Version::V3 => loop {
                let off = self.next * self.geo.block_size;
                let st = self.status(off + 8);
                if st.load(Ordering::Acquire) & TP_STATUS_USER == 0 {
                    return Ok(n);
                }
                // SAFETY: the status says user space owns this block until we store
                // TP_STATUS_KERNEL below, after the slice's last use.
                let block = unsafe { self.owned_bytes(off, self.geo.block_size) };
                let r = walk_v3_block(block, &mut |fr| {
                    n += 1;
                    f(fr)
                });
                st.store(TP_STATUS_KERNEL, Ordering::Release);
                self.next = (self.next + 1) % self.geo.block_nr;
                r?;
            },
            Version::V2 => {
                let per_block = self.geo.block_size / self.geo.frame_size;
                let total = per_block * self.geo.block_nr;
                loop {
                    let off = (self.next / per_block) * self.geo.block_size
                        + (self.next % per_block) * self.geo.frame_size;
                    let st = self.status(off);
                    if st.load(Ordering::Acquire) & TP_STATUS_USER == 0 {
                        return Ok(n);
                    }
                    // SAFETY: user space owns this frame slot until TP_STATUS_KERNEL is stored.
                    let slot = unsafe { self.owned_bytes(off, self.geo.frame_size) };
                    let r = match parse_v2(slot) {
                        Some(fr) => {
                            n += 1;
                            f(&fr)
                        }
                        None => Ok(()),
                    };
                    st.store(TP_STATUS_KERNEL, Ordering::Release);
                    self.next = (self.next + 1) % total;
                    r?;
                }
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `mmap` with this length and nothing borrows it
        // (every borrow ends with `drain`).
        unsafe {
            libc::munmap(self.map.as_ptr().cast::<c_void>(), self.map_len);
        }
    }
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// `sockaddr_ll` at `off`.
fn parse_sll(b: &[u8], off: usize) -> Option<LinkAddr> {
    Some(LinkAddr {
        protocol: u16::from_be(u16_at(b, off + 2)?),
        ifindex: u32_at(b, off + 4)?,
        hatype: u16_at(b, off + 8)?,
        pkttype: *b.get(off + 10)?,
    })
}

/// The frame data between `tp_mac` and `tp_mac + tp_snaplen` of a header at `hdr` in `b`.
fn frame_data(b: &[u8], hdr: usize, mac: u16, net: u16, snap: u32) -> Option<(&[u8], usize)> {
    let start = hdr.checked_add(usize::from(mac))?;
    let end = start.checked_add(snap as usize)?.min(b.len());
    let data = b.get(start..end)?;
    let net_offset = usize::from(net)
        .saturating_sub(usize::from(mac))
        .min(data.len());
    Some((data, net_offset))
}

/// Offsets in `struct tpacket_block_desc` / `tpacket_hdr_v1`.
const BLK_NUM_PKTS: usize = 12;
const BLK_FIRST: usize = 16;
/// `sizeof(struct tpacket3_hdr)` aligned: where its `sockaddr_ll` starts.
const V3_HDRLEN: usize = 48;
/// `TPACKET_ALIGN(sizeof(struct tpacket2_hdr))`.
const V2_HDRLEN: usize = 32;

/// Walks the frames of one retired V3 block.
pub fn walk_v3_block<E>(
    block: &[u8],
    f: &mut dyn FnMut(&RawFrame<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let (Some(count), Some(first)) = (u32_at(block, BLK_NUM_PKTS), u32_at(block, BLK_FIRST)) else {
        return Ok(());
    };
    let mut off = first as usize;
    for _ in 0..count {
        let Some((fr, next)) = parse_v3(block, off) else {
            return Ok(());
        };
        f(&fr)?;
        if next == 0 {
            break;
        }
        off = match off.checked_add(next as usize) {
            Some(o) => o,
            None => break,
        };
    }
    Ok(())
}

/// Parses the `tpacket3_hdr` at `off` of a block; returns the frame and `tp_next_offset`.
pub fn parse_v3(block: &[u8], off: usize) -> Option<(RawFrame<'_>, u32)> {
    let next = u32_at(block, off)?;
    let sec = u32_at(block, off + 4)?;
    let nsec = u32_at(block, off + 8)?;
    let snap = u32_at(block, off + 12)?;
    let len = u32_at(block, off + 16)?;
    let status = u32_at(block, off + 20)?;
    let mac = u16_at(block, off + 24)?;
    let net = u16_at(block, off + 26)?;
    let vlan_tci = u32_at(block, off + 32)? as u16;
    let addr = parse_sll(block, off + V3_HDRLEN)?;
    let (data, net_offset) = frame_data(block, off, mac, net, snap)?;
    Some((
        RawFrame {
            data,
            net_offset,
            len,
            status,
            vlan_tci,
            sec,
            nsec,
            addr,
        },
        next,
    ))
}

/// Parses the `tpacket2_hdr` at the start of a V2 frame slot.
pub fn parse_v2(slot: &[u8]) -> Option<RawFrame<'_>> {
    let len = u32_at(slot, 4)?;
    let snap = u32_at(slot, 8)?;
    let mac = u16_at(slot, 12)?;
    let net = u16_at(slot, 14)?;
    let sec = u32_at(slot, 16)?;
    let nsec = u32_at(slot, 20)?;
    let vlan_tci = u16_at(slot, 24)?;
    let status = u32_at(slot, 0)?;
    let addr = parse_sll(slot, V2_HDRLEN)?;
    let (data, net_offset) = frame_data(slot, 0, mac, net, snap)?;
    Some(RawFrame {
        data,
        net_offset,
        len,
        status,
        vlan_tci,
        sec,
        nsec,
        addr,
    })
}

/// The kernel release as (major, minor), from `uname`.
pub fn kernel_version() -> Option<(u32, u32)> {
    // SAFETY: all-zero is a valid `utsname`.
    let mut u: libc::utsname = unsafe { zeroed() };
    // SAFETY: `u` is a live, writable `utsname`.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = u
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    parse_release(std::str::from_utf8(&bytes).ok()?)
}

/// "6.1.0-18-amd64" → (6, 1).
pub fn parse_release(s: &str) -> Option<(u32, u32)> {
    let mut it = s.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// Stop requests (SIGINT / SIGTERM) received so far.
static STOP_SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_stop_signal(_sig: c_int) {
    // A second request exits at once: the user is not waiting for the report any more.
    if STOP_SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
        // SAFETY: `_exit` is async-signal-safe and ends the process without running anything.
        unsafe { libc::_exit(130) };
    }
}

/// Installs the SIGINT / SIGTERM handlers (no `SA_RESTART`, so `poll` returns early).
pub fn install_stop_handlers() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: all-zero is a valid `sigaction`; the handler is an `extern "C" fn(c_int)` that
        // only touches an atomic and calls `_exit`, both async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = zeroed();
            sa.sa_sigaction = on_stop_signal as extern "C" fn(c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                return Err(last_err());
            }
        }
    }
    Ok(())
}

/// True once SIGINT or SIGTERM has arrived.
pub fn stop_requested() -> bool {
    STOP_SIGNALS.load(Ordering::SeqCst) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_parsing() {
        assert_eq!(parse_release("6.1.0-18-amd64"), Some((6, 1)));
        assert_eq!(parse_release("3.18.140"), Some((3, 18)));
        assert_eq!(parse_release("4.14"), Some((4, 14)));
        assert_eq!(parse_release("garbage"), None);
    }

    #[test]
    fn geometry_has_several_blocks() {
        for total in [1 << 20, 8 << 20, 64 << 20, 1000] {
            let g = Geometry::for_total(total, Version::V3, 65535);
            assert!(g.block_nr >= 4, "{g:?}");
            assert!(
                g.block_size >= 128 << 10 && g.block_size % page_size() == 0,
                "{g:?}"
            );
        }
        let g = Geometry::for_total(8 << 20, Version::V3, 65535);
        assert_eq!(g.block_size * g.block_nr, 8 << 20);
        let g = Geometry::for_total(8 << 20, Version::V2, 65535);
        assert_eq!(g.frame_size % 16, 0);
        assert!(g.block_size / g.frame_size >= 16);
    }

    fn put32(b: &mut [u8], off: usize, v: u32) {
        b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    fn put16(b: &mut [u8], off: usize, v: u16) {
        b[off..off + 2].copy_from_slice(&v.to_ne_bytes());
    }

    #[test]
    fn v3_block_walk() {
        let mut b = vec![0u8; 4096];
        put32(&mut b, BLK_NUM_PKTS, 2);
        put32(&mut b, BLK_FIRST, 64);
        // frame 1 at 64, next at +200
        for (off, next, len, tci) in [(64usize, 200u32, 60u32, 0u32), (264, 0, 1514, 10)] {
            put32(&mut b, off, next);
            put32(&mut b, off + 4, 1_700_000_000);
            put32(&mut b, off + 8, 5);
            put32(&mut b, off + 12, 60);
            put32(&mut b, off + 16, len);
            put32(
                &mut b,
                off + 20,
                if tci != 0 {
                    TP_STATUS_VLAN_VALID | 1
                } else {
                    1
                },
            );
            put16(&mut b, off + 24, 80);
            put16(&mut b, off + 26, 94);
            put32(&mut b, off + 32, tci);
            put16(&mut b, off + 48 + 2, 0x0800u16.to_be());
            put32(&mut b, off + 48 + 4, 7);
            put16(&mut b, off + 48 + 8, 1);
            b[off + 48 + 10] = 4;
        }
        let mut seen = Vec::new();
        walk_v3_block::<()>(&b, &mut |f| {
            seen.push((
                f.len,
                f.data.len(),
                f.net_offset,
                f.vlan_tci,
                f.addr,
                f.status & TP_STATUS_VLAN_VALID != 0,
            ));
            Ok(())
        })
        .unwrap();
        let addr = LinkAddr {
            protocol: 0x0800,
            ifindex: 7,
            hatype: 1,
            pkttype: 4,
        };
        assert_eq!(
            seen,
            vec![(60, 60, 14, 0, addr, false), (1514, 60, 14, 10, addr, true)]
        );
    }

    #[test]
    fn v3_block_garbage_never_panics() {
        let mut b = vec![0xffu8; 512];
        put32(&mut b, BLK_FIRST, 500);
        let mut n = 0;
        walk_v3_block::<()>(&b, &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 0);
    }
}
