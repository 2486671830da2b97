//! Least privilege of live capture (SPEC §8, issue 7), end to end, as root in network
//! namespaces: once started, pktstat has no capability, no-new-privs, a seccomp filter and
//! the expected user — and still captures, counts and reports on timeout, SIGINT and
//! intervals (a system call missing from the allow-list would kill it with SIGSYS).
//!
//! Hostile capture files are in `hardening/hostile_files.rs`.
//!
//! The live harness (namespaces, veth pairs, background processes) is shared with
//! `tests/live.rs`.

#[path = "live/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "hardening/hostile_files.rs"]
mod hostile_files;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use harness::{link, require_env, sh, Bg, Ns};

/// The `/proc/PID/status` fields that matter here.
#[derive(Debug, Default)]
struct Status {
    uid: Vec<String>,
    gid: Vec<String>,
    cap_eff: String,
    cap_prm: String,
    cap_bnd: String,
    cap_amb: String,
    no_new_privs: String,
    seccomp: String,
}

fn status(pid: u32) -> Option<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut s = Status::default();
    for line in text.lines() {
        let (k, v) = line.split_once(':')?;
        let v = v.trim();
        match k {
            "Uid" => s.uid = v.split_whitespace().map(str::to_owned).collect(),
            "Gid" => s.gid = v.split_whitespace().map(str::to_owned).collect(),
            "CapEff" => s.cap_eff = v.to_owned(),
            "CapPrm" => s.cap_prm = v.to_owned(),
            "CapBnd" => s.cap_bnd = v.to_owned(),
            "CapAmb" => s.cap_amb = v.to_owned(),
            "NoNewPrivs" => s.no_new_privs = v.to_owned(),
            "Seccomp" => s.seccomp = v.to_owned(),
            _ => {}
        }
    }
    Some(s)
}

/// Waits until the process has installed its seccomp filter (the last step of the
/// lock-down), then returns its status.
fn locked_status(pid: u32) -> Status {
    let start = Instant::now();
    loop {
        match status(pid) {
            Some(s) if s.seccomp == "2" => return s,
            Some(_) if start.elapsed() < Duration::from_secs(5) => {}
            other => panic!("pktstat {pid} never installed its seccomp filter: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nobody's uid and gid from /etc/passwd.
fn nobody() -> (String, String) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("a user nobody (the default -Z)");
    let f: Vec<&str> = line.split(':').collect();
    (f[2].to_owned(), f[3].to_owned())
}

const ZERO: &str = "0000000000000000";

fn assert_exited_cleanly(out: &std::process::Output) {
    assert_eq!(
        out.status.signal(),
        None,
        "killed by signal (31 = SIGSYS: a system call missing from the seccomp list); stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn default_run_drops_everything_and_still_counts() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (ia, _ib) = link(&a, &b, 73);
    let cap = Bg::spawn(a.pktstat(&["-i", &ia, "-t", "5s", "-j"]));
    let st = locked_status(cap.child.id());
    let (uid, gid) = nobody();
    assert_eq!(st.uid, vec![uid.clone(); 4], "{st:?}");
    assert_eq!(st.gid, vec![gid; 4], "{st:?}");
    for (name, v) in [
        ("CapEff", &st.cap_eff),
        ("CapPrm", &st.cap_prm),
        ("CapBnd", &st.cap_bnd),
        ("CapAmb", &st.cap_amb),
    ] {
        assert_eq!(v, ZERO, "{name}: {st:?}");
    }
    assert_eq!(st.no_new_privs, "1");

    // Traffic under the filter: 5 pings and 100 UDP datagrams from b to a.
    b.run("ping -c 5 -i 0.1 -q 10.73.0.1 >/dev/null");
    b.run(
        "python3 -c \"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(100): s.sendto(b'x'*50,('10.73.0.1',9999))\"",
    );
    let (out, _) = cap.wait(Duration::from_secs(8));
    assert_exited_cleanly(&out);
    let flows = harness::flows(&String::from_utf8_lossy(&out.stdout));
    let find = |needle: &str| -> Vec<&String> { harness::grep(&flows, needle) };
    let udp = find("10.73.0.2 10.73.0.1");
    let udp: Vec<_> = udp.iter().filter(|l| l.contains(" 9999 UDP ")).collect();
    assert_eq!(udp.len(), 1, "{flows:#?}");
    // 14 Ethernet + 20 IPv4 + 8 UDP + 50 = 92 bytes, 100 datagrams.
    assert!(udp[0].ends_with(" 9200 100"), "{}", udp[0]);
    let echo: Vec<_> = find("10.73.0.2 10.73.0.1 0 0 ICMPv4 1 8 0");
    assert_eq!(echo.len(), 1, "{flows:#?}");
    assert!(echo[0].ends_with(" 5"), "{}", echo[0]);
    let reply: Vec<_> = find("10.73.0.1 10.73.0.2 0 0 ICMPv4 1 0 0");
    assert_eq!(reply.len(), 1, "{flows:#?}");
    assert!(reply[0].ends_with(" 5"), "{}", reply[0]);
}

#[test]
fn z_root_keeps_uid_0_without_capabilities() {
    require_env();
    let ns = Ns::new();
    let cap = Bg::spawn(ns.pktstat(&["-i", "lo", "-t", "1500ms", "-Z", "root"]));
    let st = locked_status(cap.child.id());
    assert_eq!(st.uid, vec!["0"; 4]);
    assert_eq!(st.cap_eff, ZERO);
    assert_eq!(st.cap_prm, ZERO);
    assert_eq!(st.cap_bnd, ZERO);
    assert_eq!(st.no_new_privs, "1");
    let (out, _) = cap.wait(Duration::from_secs(4));
    assert_exited_cleanly(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Read total packets"));
}

#[test]
fn unknown_user_is_an_error() {
    require_env();
    let ns = Ns::new();
    let out = ns
        .pktstat(&["-i", "lo", "-t", "1s", "-Z", "no-such-user-x"])
        .output()
        .expect("run pktstat");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-user-x"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn sigint_and_interval_reports_survive_the_filter() {
    require_env();
    let ns = Ns::new();
    let cap = Bg::spawn(ns.pktstat(&["-i", "lo", "-l", "400ms", "--jsonl"]));
    locked_status(cap.child.id());
    ns.run("ping -c 8 -i 0.1 -q 127.0.0.1 >/dev/null");
    std::thread::sleep(Duration::from_millis(400));
    cap.signal("INT");
    let (out, took) = cap.wait(Duration::from_secs(3));
    assert!(took < Duration::from_millis(500), "stopped after {took:?}");
    assert_exited_cleanly(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let counts = sh(&format!(
        "printf '%s' '{}' | python3 -c \"import json,sys\nn=t=0\nr=None\nfor l in sys.stdin:\n    v=json.loads(l)\n    if v['type']=='summary':\n        n+=1; t+=v['packets']; r=v['running']['packets']\nprint(n, t, r)\"",
        text.replace('\'', "")
    ));
    let v: Vec<u64> = counts
        .split_whitespace()
        .map(|x| x.parse().expect("number"))
        .collect();
    // At least one 400 ms interval report and the final one; 8 echo requests and 8 replies
    // in all, the running total agreeing with the intervals.
    assert!(v[0] >= 2, "{} summary lines:\n{text}", v[0]);
    assert_eq!(v[1], 16, "{text}");
    assert_eq!(v[2], 16, "{text}");
}

#[test]
fn unprivileged_user_with_file_capabilities_is_locked_down_too() {
    require_env();
    // As nobody with only CAP_NET_RAW (ambient, as `setcap` file capabilities would give):
    // no user switch, the bounding set cannot be cleared (no CAP_SETPCAP), but every
    // capability is dropped, no-new-privs and seccomp are set.
    let ns = Ns::new();
    let (uid, gid) = nobody();
    let bin = harness::pktstat_bin();
    let mut c = ns.command("setpriv");
    c.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--inh-caps=+net_raw",
        "--ambient-caps=+net_raw",
        bin.to_str().expect("utf-8 path"),
        "-i",
        "lo",
        "-t",
        "1500ms",
    ]);
    let cap = Bg::spawn(c);
    let st = locked_status(cap.child.id());
    assert_eq!(st.uid, vec![uid; 4]);
    assert_eq!(st.cap_eff, ZERO);
    assert_eq!(st.cap_prm, ZERO);
    assert_eq!(st.cap_amb, ZERO);
    assert_eq!(st.no_new_privs, "1");
    let (out, _) = cap.wait(Duration::from_secs(4));
    assert_exited_cleanly(&out);
}
