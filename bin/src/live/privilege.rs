//! Least privilege for live capture (SPEC §8): once the socket, ring and filter exist, keep
//! nothing the capture loop does not need.
//!
//! [`lock_down`] runs once, at the start of the capture loop, in this order — each step needs
//! what the next one takes away:
//!
//! 1. the target user is chosen and looked up in `/etc/passwd` (read directly: no NSS, no
//!    shared libraries loaded at run time, nothing to go wrong in a static binary);
//! 2. the ambient capability set is cleared and every capability is removed from the
//!    bounding set (needs `CAP_SETPCAP`: skipped without it, e.g. when the binary runs with
//!    `setcap` file capabilities as an ordinary user — no-new-privs then does that job);
//! 3. when started as root: `setgroups` (only the user's primary group), `setresgid`,
//!    `setresuid` — in that order, because changing the groups needs `CAP_SETGID` and the
//!    uid change takes it away; then a check that uid 0 cannot be regained;
//! 4. `capset` with empty effective, permitted and inheritable sets (`-Z root` keeps uid 0
//!    but without any capability, which is what makes root dangerous);
//! 5. `PR_SET_NO_NEW_PRIVS`: no `execve` can ever give anything back;
//! 6. the seccomp filter of [`super::seccomp`].
//!
//! The user: `-Z USER`; by default `nobody` when started as root and it exists (as tcpdump
//! does); `-Z root` stays root. Not started as root, there is nobody to switch from: `-Z` is
//! then ignored with a warning. A kernel without no-new-privs or seccomp (before 3.5, or
//! qemu-user, which refuses seccomp) is said once on stderr, and the capture goes on.
//!
//! What the capture loop still does after this, and why it needs no privilege: reading the
//! ring and `recvmsg` on the already-open socket, `PACKET_STATISTICS`, re-`bind`ing the
//! socket when `-i NAME` comes back (no capability check on `bind` of `AF_PACKET`), reading
//! interface names from `/sys/class/net` (world-readable), writing reports.

use std::io;

use libc::c_int;

use super::seccomp;
use crate::error::AppError;

/// The account a capture switches to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// What to do about the user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Switch {
    /// Keep the current user (not root, `-Z root`, or no `nobody`).
    Stay,
    /// Become this user.
    To(Account),
}

/// The `/etc/passwd` entry of `name`: `name:x:uid:gid:gecos:home:shell`.
pub fn lookup_user(passwd: &str, name: &str) -> Option<Account> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != name {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.trim().parse().ok()?;
        let gid = f.next()?.trim().parse().ok()?;
        Some(Account {
            name: name.to_owned(),
            uid,
            gid,
        })
    })
}

/// The user policy: `requested` is `-Z`, `root` whether the process runs as root, `passwd`
/// the text of `/etc/passwd` (if readable). Warnings come back for the caller to print.
pub fn choose(
    requested: Option<&str>,
    root: bool,
    passwd: Option<&str>,
) -> Result<(Switch, Option<String>), AppError> {
    if !root {
        let warn = requested.map(|u| {
            format!("-Z {u}: not started as root, so there is no user to switch from; ignored")
        });
        return Ok((Switch::Stay, warn));
    }
    match requested {
        Some("root") => Ok((Switch::Stay, None)),
        Some(user) => match passwd.and_then(|p| lookup_user(p, user)) {
            Some(a) => Ok((Switch::To(a), None)),
            None => Err(AppError::runtime(format!(
                "-Z {user}: no such user in /etc/passwd; name an existing user, or -Z root to stay root"
            ))),
        },
        None => match passwd.and_then(|p| lookup_user(p, "nobody")) {
            Some(a) => Ok((Switch::To(a), None)),
            None => Ok((
                Switch::Stay,
                Some(
                    "no user 'nobody' in /etc/passwd: capturing as root (without capabilities); \
                     name another user with -Z"
                        .to_owned(),
                ),
            )),
        },
    }
}

/// What the lock-down achieved, for the tests and the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The bounding set was emptied.
    pub bounding_cleared: bool,
    /// No-new-privs is set.
    pub no_new_privs: bool,
    /// The seccomp filter is installed.
    pub seccomp: bool,
}

/// Drops every privilege and installs the seccomp filter (see the module docs).
/// `user` is `-Z`. Failing to drop something the kernel supports is an error: the capture
/// does not run with more privilege than it says.
pub fn lock_down(user: Option<&str>) -> Result<Outcome, AppError> {
    lock_down_with(user, true)
}

/// [`lock_down`], with the seccomp filter only when `seccomp` is true: the libpcap backend
/// drops capabilities, switches user and sets no-new-privs, but its loop runs inside
/// libpcap, whose system calls the filter's list was not measured against.
pub fn lock_down_with(user: Option<&str>, seccomp: bool) -> Result<Outcome, AppError> {
    let root = sys::geteuid() == 0 || sys::getuid() == 0;
    let passwd = if root {
        std::fs::read_to_string("/etc/passwd").ok()
    } else {
        None
    };
    let (switch, warning) = choose(user, root, passwd.as_deref())?;
    if let Some(w) = warning {
        log::warn!("{w}");
    }
    let mut out = Outcome::default();

    // 2. Ambient and bounding sets. EINVAL: the kernel predates ambient capabilities (4.3).
    let _ = sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as _);
    out.bounding_cleared = clear_bounding_set();

    // 3. User and groups.
    if let Switch::To(a) = &switch {
        switch_user(a).map_err(|e| {
            AppError::runtime(format!(
                "cannot switch to user '{}' (uid {}, gid {}): {e}",
                a.name, a.uid, a.gid
            ))
        })?;
        log::info!("running as user {} (uid {})", a.name, a.uid);
    }

    // 4. Capabilities.
    sys::capset_empty()
        .map_err(|e| AppError::runtime(format!("cannot drop capabilities (capset): {e}")))?;

    // 5. No new privileges.
    match sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1) {
        Ok(()) => out.no_new_privs = true,
        Err(e) if unsupported(&e) => {
            log::warn!(
                "this kernel has no PR_SET_NO_NEW_PRIVS ({e}): capturing without no-new-privs \
                 and without a seccomp filter"
            );
            return Ok(out);
        }
        Err(e) => {
            return Err(AppError::runtime(format!(
                "cannot set no-new-privs (prctl PR_SET_NO_NEW_PRIVS): {e}"
            )))
        }
    }

    // 6. Seccomp.
    if !seccomp {
        return Ok(out);
    }
    match seccomp::install() {
        Ok(()) => out.seccomp = true,
        Err(e) if unsupported(&e) => log::warn!(
            "this kernel (or emulator) refuses seccomp filters ({e}): capturing without a \
             system-call filter"
        ),
        Err(e) => {
            return Err(AppError::runtime(format!(
                "cannot install the seccomp filter: {e}"
            )))
        }
    }
    Ok(out)
}

/// EINVAL / ENOSYS / EOPNOTSUPP: the kernel (or qemu-user) lacks the feature.
fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// Removes every capability from the bounding set; false without `CAP_SETPCAP`.
fn clear_bounding_set() -> bool {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<c_int>().ok())
        .unwrap_or(63)
        .min(63);
    for cap in 0..=last {
        match sys::prctl(libc::PR_CAPBSET_DROP, cap as _) {
            Ok(()) => {}
            // Past the kernel's last capability (cap_last_cap unreadable): done.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return true,
            // No CAP_SETPCAP: no-new-privs covers what the bounding set would.
            Err(_) => return false,
        }
    }
    true
}

/// `setgroups`, `setresgid`, `setresuid`, then proof that root cannot come back.
fn switch_user(a: &Account) -> io::Result<()> {
    sys::setgroups(&[a.gid])?;
    sys::setresgid(a.gid)?;
    sys::setresuid(a.uid)?;
    if a.uid != 0 && sys::setresuid(0).is_ok() {
        return Err(io::Error::other("uid 0 could be regained after the switch"));
    }
    Ok(())
}

/// The system calls, each behind a safe function.
mod sys {
    use std::io;

    use libc::{c_int, c_ulong};

    fn cvt(r: c_int) -> io::Result<()> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    pub fn getuid() -> u32 {
        // SAFETY: no arguments, cannot fail.
        unsafe { libc::getuid() }
    }

    pub fn geteuid() -> u32 {
        // SAFETY: no arguments, cannot fail.
        unsafe { libc::geteuid() }
    }

    /// `prctl(option, arg2, 0, 0, 0)`.
    pub fn prctl(option: c_int, arg2: c_ulong) -> io::Result<()> {
        // SAFETY: every option used here takes integer arguments only; unused ones are 0.
        cvt(unsafe { libc::prctl(option, arg2, 0 as c_ulong, 0 as c_ulong, 0 as c_ulong) })
    }

    pub fn setgroups(groups: &[u32]) -> io::Result<()> {
        // SAFETY: `groups` is a live slice of `gid_t` of the length passed; the kernel reads it.
        cvt(unsafe { libc::setgroups(groups.len() as _, groups.as_ptr()) })
    }

    pub fn setresgid(gid: u32) -> io::Result<()> {
        // SAFETY: integer arguments only.
        cvt(unsafe { libc::setresgid(gid, gid, gid) })
    }

    pub fn setresuid(uid: u32) -> io::Result<()> {
        // SAFETY: integer arguments only.
        cvt(unsafe { libc::setresuid(uid, uid, uid) })
    }

    /// `struct __user_cap_header_struct`.
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: c_int,
    }

    /// `struct __user_cap_data_struct`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    /// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets as two data structs.
    const CAP_V3: u32 = 0x2008_0522;

    /// Empties the effective, permitted and inheritable sets of this thread (the only one).
    pub fn capset_empty() -> io::Result<()> {
        let hdr = CapHeader {
            version: CAP_V3,
            pid: 0,
        };
        let data = [CapData::default(); 2];
        // SAFETY: `hdr` and `data` are live, correctly laid out (`repr(C)`) for version 3,
        // which reads two data structs; the kernel only reads them.
        let r = unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        broken:x:notanumber:1::/:/bin/false\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

    #[test]
    fn passwd_lines_parse() {
        assert_eq!(
            lookup_user(PASSWD, "nobody"),
            Some(Account {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534
            })
        );
        assert_eq!(lookup_user(PASSWD, "daemon").map(|a| a.uid), Some(1));
        assert_eq!(lookup_user(PASSWD, "broken"), None);
        assert_eq!(lookup_user(PASSWD, "nobod"), None);
        assert_eq!(lookup_user(PASSWD, ""), None);
        assert_eq!(lookup_user("", "root"), None);
    }

    #[test]
    fn policy() {
        let nobody = Switch::To(lookup_user(PASSWD, "nobody").unwrap());
        // Root: nobody by default, -Z root stays, -Z daemon switches, unknown user fails.
        assert_eq!(choose(None, true, Some(PASSWD)).unwrap(), (nobody, None));
        assert_eq!(
            choose(Some("root"), true, Some(PASSWD)).unwrap(),
            (Switch::Stay, None)
        );
        assert!(matches!(
            choose(Some("daemon"), true, Some(PASSWD)).unwrap().0,
            Switch::To(Account { uid: 1, .. })
        ));
        let e = choose(Some("ghost"), true, Some(PASSWD)).unwrap_err();
        assert!(e.message.contains("ghost") && e.code == 1, "{}", e.message);
        // No nobody: stay root, with a warning.
        let (s, w) = choose(None, true, Some("root:x:0:0::/:/bin/sh\n")).unwrap();
        assert_eq!(s, Switch::Stay);
        assert!(w.unwrap().contains("nobody"));
        // Not root: nothing to switch from; -Z is ignored with a warning.
        assert_eq!(choose(None, false, None).unwrap(), (Switch::Stay, None));
        let (s, w) = choose(Some("nobody"), false, None).unwrap();
        assert_eq!(s, Switch::Stay);
        assert!(w.unwrap().contains("ignored"));
    }
}
