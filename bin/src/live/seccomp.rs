//! The seccomp filter of live capture (SPEC §8): after set-up, the process may make only the
//! system calls the capture loop and the report make; any other kills the whole process
//! (`SECCOMP_RET_KILL_PROCESS`, or `SECCOMP_RET_KILL` — the thread, which here is the
//! process — on kernels before 4.14).
//!
//! A classic BPF program over `struct seccomp_data`: first the audit architecture must be
//! the build target's (a 32-bit call on a 64-bit kernel, or an x32 call on x86_64, is killed
//! before its number means anything), then the number is compared against the list.
//!
//! # The list, and who needs each call
//!
//! Measured with `strace -f` on the capture loop (TPACKET_V3, V2 and `recvmsg` modes, `-l`
//! interval reports, `-t`, SIGINT, `-p`, `-i NAME` going away and coming back), x86_64 glibc.
//! What a run really made after the filter went in: `poll`, `read`, `openat`, `statx`,
//! `newfstatat`, `getdents64`, `close` (interface names; the per-run hash seed from
//! `/dev/urandom`), `getsockopt`, `write`, `brk`, `munmap`, `recvmsg`, `bind`, `setsockopt`,
//! `rt_sigreturn`, `sigaltstack`, `exit_group`. The rest of the list is the same work under
//! other C libraries and architectures (musl's `open`, `_llseek`, `fstat64`, `mmap2`; the
//! time64 calls of 32-bit musl; `socketcall` on i386 and MIPS) or paths that are rare but
//! legitimate (`futex` on a contended lock, `mremap`/`mmap` when the allocator grows):
//!
//! | calls | why |
//! |---|---|
//! | `poll`, `ppoll`(`_time64`) | waiting for the ring / socket, with a timeout |
//! | `recvmsg`, `recvfrom` | the `recvmsg` capture fallback |
//! | `getsockopt` | `PACKET_STATISTICS` (kernel drops), `SO_ERROR` (interface gone) |
//! | `setsockopt`, `bind` | re-binding `-i NAME` when it comes back; promiscuous mode again |
//! | `socketcall` (i386, mips) | the same socket calls through the old multiplexer, only for `bind`, `setsockopt`, `getsockopt`, `recvfrom`, `recvmsg` |
//! | `read`, `readv`, `close`, `lseek`/`_llseek`, `fstat`/`statx`/`newfstatat`/`fstat64`/`fstatat64`, `getdents64`, `open`/`openat` **read-only** | interface names from `/sys/class/net` (a new index under `-i any`, the interface's new index after a re-create); `open` and `openat` are refused when their flags ask for writing, creating, truncating or appending |
//! | `write`, `writev` | reports on stdout, warnings on stderr |
//! | `clock_gettime`(`64`), `gettimeofday`, `clock_nanosleep`, `nanosleep` | the wall clock (where the vDSO is missing), pauses |
//! | `brk`, `mmap`/`mmap2` **without `PROT_EXEC`**, `munmap`, `mremap`, `madvise` | the allocator |
//! | `futex`(`_time64`), `sched_yield` | the engine's mutex, stdout's lock |
//! | `rt_sigreturn`, `sigreturn`, `rt_sigprocmask`, `sigaltstack` | returning from the SIGINT/SIGTERM handler; `abort` |
//! | `fcntl`(`64`) **`F_GETFD`/`F_SETFD`/`F_GETFL` only** | std's debug-build check that a descriptor is open before closing it; musl's `opendir` setting close-on-exec |
//! | `getrandom` | std's hash-map keys, if any map is made late |
//! | `exit`, `exit_group` | the end |
//!
//! Everything else — `socket`, `connect`, `execve`, `ptrace`, `mprotect`, `open` for
//! writing, `kill`, `setuid`… — ends the process with `SIGSYS`.
#![allow(clippy::unreadable_literal)]

use std::io;

use libc::{c_long, c_ulong, sock_filter, sock_fprog};

// Classic BPF opcodes.
const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// `offsetof(struct seccomp_data, nr)`.
const OFF_NR: u32 = 0;
/// `offsetof(struct seccomp_data, arch)`.
const OFF_ARCH: u32 = 4;
/// `offsetof(struct seccomp_data, args)`.
const OFF_ARGS: u32 = 16;

/// The low 32 bits of argument `i` (`args[i]` is a `u64` in native byte order).
const fn arg_lo(i: u32) -> u32 {
    OFF_ARGS + 8 * i + if cfg!(target_endian = "big") { 4 } else { 0 }
}

// `AUDIT_ARCH_*` (linux/audit.h): EM_* | __AUDIT_ARCH_64BIT (0x8000_0000) | __AUDIT_ARCH_LE
// (0x4000_0000).
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "x86")]
const AUDIT_ARCH: u32 = 0x4000_0003;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
#[cfg(all(target_arch = "arm", target_endian = "little"))]
const AUDIT_ARCH: u32 = 0x4000_0028;
#[cfg(all(target_arch = "arm", target_endian = "big"))]
const AUDIT_ARCH: u32 = 0x0000_0028;
#[cfg(all(target_arch = "mips", target_endian = "big"))]
const AUDIT_ARCH: u32 = 0x0000_0008;
#[cfg(all(target_arch = "mips", target_endian = "little"))]
const AUDIT_ARCH: u32 = 0x4000_0008;
#[cfg(target_arch = "riscv64")]
const AUDIT_ARCH: u32 = 0xC000_00F3;

/// x86_64: numbers with this bit are x32 calls, which this filter never allows.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// 32-bit targets: the time64 calls (same numbers on every 32-bit architecture, plus the
/// o32 base on MIPS); `libc` does not name them for every target.
#[cfg(any(target_arch = "x86", target_arch = "arm", target_arch = "mips"))]
mod time64 {
    use libc::c_long;
    const BASE: c_long = if cfg!(target_arch = "mips") { 4000 } else { 0 };
    pub const CLOCK_GETTIME64: c_long = BASE + 403;
    pub const CLOCK_NANOSLEEP_TIME64: c_long = BASE + 407;
    pub const PPOLL_TIME64: c_long = BASE + 414;
    pub const FUTEX_TIME64: c_long = BASE + 422;
}

/// `fstatat64` on o32 MIPS (`libc` names it only for glibc).
#[cfg(target_arch = "mips")]
const SYS_FSTATAT64: c_long = 4000 + 293;

/// `socketcall` sub-calls the capture loop makes (linux/net.h `SYS_*`).
#[cfg(any(target_arch = "x86", target_arch = "mips"))]
const SOCKETCALLS: &[u32] = &[
    2,  // SYS_BIND
    12, // SYS_RECVFROM
    14, // SYS_SETSOCKOPT
    15, // SYS_GETSOCKOPT
    17, // SYS_RECVMSG
];

/// `fcntl` commands on descriptor flags only: std checks descriptors with `F_GETFD` in debug
/// builds; musl's `opendir` sets `FD_CLOEXEC` again with `F_SETFD` (useless without `execve`).
const FCNTL_CMDS: &[u32] = &[
    libc::F_GETFD as u32,
    libc::F_SETFD as u32,
    libc::F_GETFL as u32,
];

/// `open`/`openat` flags that would write, create or truncate anything (`O_TMPFILE` needs
/// write access, so the access-mode bits already refuse it).
const OPEN_FORBIDDEN: u32 =
    (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) as u32;

/// One allowed system call, possibly with a condition on one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Always allowed.
    Any(c_long),
    /// Allowed when the low 32 bits of argument `arg` have none of `bits`.
    NoBits {
        /// System call number.
        nr: c_long,
        /// Argument index.
        arg: u32,
        /// Forbidden bits.
        bits: u32,
    },
    /// Allowed when the low 32 bits of argument `arg` are one of `values`.
    OneOf {
        /// System call number.
        nr: c_long,
        /// Argument index.
        arg: u32,
        /// Allowed values.
        values: &'static [u32],
    },
}

/// The allow-list for this target (see the module docs).
pub fn rules() -> Vec<Rule> {
    use libc::*;
    use Rule::{Any, NoBits};
    let mut v = vec![
        Any(SYS_read),
        Any(SYS_readv),
        Any(SYS_write),
        Any(SYS_writev),
        Any(SYS_close),
        Any(SYS_ppoll),
        Any(SYS_recvmsg),
        Any(SYS_recvfrom),
        Any(SYS_getsockopt),
        Any(SYS_setsockopt),
        Any(SYS_bind),
        Any(SYS_clock_gettime),
        Any(SYS_gettimeofday),
        Any(SYS_clock_nanosleep),
        Any(SYS_nanosleep),
        Any(SYS_rt_sigreturn),
        Any(SYS_rt_sigprocmask),
        Any(SYS_sigaltstack),
        Any(SYS_exit),
        Any(SYS_exit_group),
        Any(SYS_brk),
        Any(SYS_munmap),
        Any(SYS_mremap),
        Any(SYS_madvise),
        Any(SYS_futex),
        Any(SYS_sched_yield),
        Any(SYS_getdents64),
        Any(SYS_lseek),
        Any(SYS_statx),
        Any(SYS_getrandom),
        NoBits {
            nr: SYS_openat,
            arg: 2,
            bits: OPEN_FORBIDDEN,
        },
        Rule::OneOf {
            nr: SYS_fcntl,
            arg: 1,
            values: FCNTL_CMDS,
        },
    ];
    // `mmap` and `mmap2`: never executable memory.
    let prot_exec = PROT_EXEC as u32;
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "mips"
    ))]
    v.push(NoBits {
        nr: SYS_mmap,
        arg: 2,
        bits: prot_exec,
    });
    #[cfg(any(target_arch = "x86", target_arch = "arm", target_arch = "mips"))]
    {
        v.push(NoBits {
            nr: SYS_mmap2,
            arg: 2,
            bits: prot_exec,
        });
        v.extend([
            Any(SYS_sigreturn),
            Rule::OneOf {
                nr: SYS_fcntl64,
                arg: 1,
                values: FCNTL_CMDS,
            },
            Any(SYS_fstat64),
            Any(SYS__llseek),
            Any(time64::CLOCK_GETTIME64),
            Any(time64::CLOCK_NANOSLEEP_TIME64),
            Any(time64::PPOLL_TIME64),
            Any(time64::FUTEX_TIME64),
        ]);
    }
    #[cfg(any(target_arch = "x86", target_arch = "arm"))]
    v.push(Any(SYS_fstatat64));
    #[cfg(target_arch = "mips")]
    v.push(Any(SYS_FSTATAT64));
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    v.extend([Any(SYS_fstat), Any(SYS_newfstatat)]);
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "arm",
        target_arch = "mips"
    ))]
    v.extend([
        Any(SYS_poll),
        NoBits {
            nr: SYS_open,
            arg: 1,
            bits: OPEN_FORBIDDEN,
        },
    ]);
    #[cfg(any(target_arch = "x86", target_arch = "mips"))]
    v.push(Rule::OneOf {
        nr: SYS_socketcall,
        arg: 0,
        values: SOCKETCALLS,
    });
    v
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The filter program for `arch` and `rules`; `kill` is the action for everything else.
/// Every jump is short (forward by at most a few instructions), so any list length works.
pub fn program(arch: u32, rules: &[Rule], kill: u32) -> Vec<sock_filter> {
    let allow = libc::SECCOMP_RET_ALLOW;
    let mut p = vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JEQ_K, arch, 1, 0),
        stmt(BPF_RET_K, kill),
        stmt(BPF_LD_W_ABS, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    p.extend([
        jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET_K, kill),
    ]);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = BPF_JGE_K;
    for r in rules {
        match *r {
            Rule::Any(nr) => p.extend([jump(BPF_JEQ_K, nr as u32, 0, 1), stmt(BPF_RET_K, allow)]),
            // A holds the number on the false path; a match always returns.
            Rule::NoBits { nr, arg, bits } => p.extend([
                jump(BPF_JEQ_K, nr as u32, 0, 4),
                stmt(BPF_LD_W_ABS, arg_lo(arg)),
                jump(BPF_JSET_K, bits, 1, 0),
                stmt(BPF_RET_K, allow),
                stmt(BPF_RET_K, kill),
            ]),
            Rule::OneOf { nr, arg, values } => {
                let m = values.len();
                let skip = u8::try_from(m + 3).expect("short value list");
                p.push(jump(BPF_JEQ_K, nr as u32, 0, skip));
                p.push(stmt(BPF_LD_W_ABS, arg_lo(arg)));
                for (i, &val) in values.iter().enumerate() {
                    let to_allow = u8::try_from(m - i).expect("short value list");
                    p.push(jump(BPF_JEQ_K, val, to_allow, 0));
                }
                p.push(stmt(BPF_RET_K, kill));
                p.push(stmt(BPF_RET_K, allow));
            }
        }
    }
    p.push(stmt(BPF_RET_K, kill));
    p
}

/// `SECCOMP_RET_KILL_PROCESS` where the kernel knows it (4.14+), else `SECCOMP_RET_KILL`.
fn kill_action() -> u32 {
    let action: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL reads one u32 through the pointer, which is live.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL as c_ulong,
            0 as c_ulong,
            &action as *const u32,
        )
    };
    if r == 0 {
        action
    } else {
        libc::SECCOMP_RET_KILL
    }
}

/// Installs the filter (no-new-privs must already be set). EINVAL / ENOSYS: no seccomp here.
pub fn install() -> io::Result<()> {
    #[cfg(not(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "mips",
        target_arch = "riscv64"
    )))]
    return Err(io::Error::from_raw_os_error(libc::ENOSYS));
    #[allow(unreachable_code)]
    {
        let prog = program(AUDIT_ARCH, &rules(), kill_action());
        let fprog = sock_fprog {
            len: u16::try_from(prog.len())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
            filter: prog.as_ptr() as *mut sock_filter,
        };
        // SAFETY: `fprog` points at `prog`, live and of the stated length, for the whole call;
        // the kernel copies the program.
        let r = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as c_ulong,
                &fprog as *const sock_fprog,
                0 as c_ulong,
                0 as c_ulong,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KILL: u32 = 0x8000_0000;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    /// `struct seccomp_data` as bytes, native order.
    fn data(nr: c_long, arch: u32, args: [u64; 6]) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&(nr as i32).to_ne_bytes());
        d.extend_from_slice(&arch.to_ne_bytes());
        d.extend_from_slice(&0u64.to_ne_bytes());
        for a in args {
            d.extend_from_slice(&a.to_ne_bytes());
        }
        d
    }

    /// An interpreter for the few opcodes the builder emits (what the kernel would do).
    fn run(p: &[sock_filter], d: &[u8]) -> u32 {
        let mut a = 0u32;
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            pc += 1;
            match i.code {
                BPF_LD_W_ABS => {
                    let k = i.k as usize;
                    a = u32::from_ne_bytes(d[k..k + 4].try_into().unwrap());
                }
                BPF_JEQ_K | BPF_JGE_K | BPF_JSET_K => {
                    let t = match i.code {
                        BPF_JEQ_K => a == i.k,
                        BPF_JGE_K => a >= i.k,
                        _ => a & i.k != 0,
                    };
                    pc += usize::from(if t { i.jt } else { i.jf });
                }
                BPF_RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn verdict(nr: c_long, args: [u64; 6]) -> u32 {
        let p = program(AUDIT_ARCH, &rules(), KILL);
        run(&p, &data(nr, AUDIT_ARCH, args))
    }

    #[test]
    fn allows_the_loop_and_kills_the_rest() {
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_recvmsg,
            libc::SYS_getsockopt,
            libc::SYS_ppoll,
            libc::SYS_futex,
            libc::SYS_exit_group,
        ] {
            assert_eq!(verdict(nr, [0; 6]), ALLOW, "{nr}");
        }
        for nr in [
            libc::SYS_socket,
            libc::SYS_execve,
            libc::SYS_ptrace,
            libc::SYS_mprotect,
            libc::SYS_setuid,
            libc::SYS_kill,
            libc::SYS_connect,
            libc::SYS_unlinkat,
        ] {
            assert_eq!(verdict(nr, [0; 6]), KILL, "{nr}");
        }
    }

    #[test]
    fn argument_conditions() {
        let ro = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY;
        assert_eq!(verdict(libc::SYS_openat, [0, 0, ro as u64, 0, 0, 0]), ALLOW);
        for bad in [libc::O_WRONLY, libc::O_RDWR, libc::O_CREAT, libc::O_TRUNC] {
            let flags = (ro | bad) as u64;
            assert_eq!(verdict(libc::SYS_openat, [0, 0, flags, 0, 0, 0]), KILL);
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
            let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
            assert_eq!(verdict(libc::SYS_mmap, [0, 4096, rw, 0, 0, 0]), ALLOW);
            assert_eq!(verdict(libc::SYS_mmap, [0, 4096, rx, 0, 0, 0]), KILL);
        }
    }

    #[test]
    fn foreign_architecture_and_x32_are_killed() {
        let p = program(AUDIT_ARCH, &rules(), KILL);
        assert_eq!(run(&p, &data(libc::SYS_read, AUDIT_ARCH ^ 1, [0; 6])), KILL);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            run(
                &p,
                &data(
                    libc::SYS_read | X32_SYSCALL_BIT as c_long,
                    AUDIT_ARCH,
                    [0; 6]
                )
            ),
            KILL
        );
    }

    #[test]
    fn one_of_rule() {
        const VALS: &[u32] = &[2, 12, 17];
        let rules = [Rule::OneOf {
            nr: 99,
            arg: 0,
            values: VALS,
        }];
        let p = program(AUDIT_ARCH, &rules, KILL);
        for (v, want) in [(2, ALLOW), (12, ALLOW), (17, ALLOW), (1, KILL), (13, KILL)] {
            assert_eq!(
                run(&p, &data(99, AUDIT_ARCH, [v, 0, 0, 0, 0, 0])),
                want,
                "{v}"
            );
        }
        assert_eq!(run(&p, &data(98, AUDIT_ARCH, [2, 0, 0, 0, 0, 0])), KILL);
    }

    #[test]
    fn program_fits_and_jumps_stay_inside() {
        let p = program(AUDIT_ARCH, &rules(), KILL);
        assert!(p.len() < 4096);
        for (i, ins) in p.iter().enumerate() {
            if ins.code & 0x07 == 0x05 {
                assert!(i + 1 + usize::from(ins.jt.max(ins.jf)) < p.len());
            }
        }
        assert_eq!(p.last().map(|i| (i.code, i.k)), Some((BPF_RET_K, KILL)));
    }
}
