//! End-to-end tests of the libpcap backend (issue 6). The test builds pktstat with
//! `--features pcap` itself, into `target/pcap-feature` (the default build stays
//! libpcap-free), then in network namespaces it creates runs `--backend pcap` and
//! `--backend afpacket` side by side on the same veth and the same known traffic: the two
//! must count the same flows, packets and bytes. `-f` goes through libpcap there. A default
//! build asked for `--backend pcap` must say so in one line and exit 2.
//!
//! Needs root, `ip`, `tcpdump`, `python3` and libpcap's development files
//! (tests/scripts/install-deps.sh installs them): without them the tests fail, saying what is
//! missing.

#[path = "live/harness.rs"]
#[allow(dead_code)] // shared with live.rs; not every helper is used here
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use harness::{flows, grep, link, require_env, Bg, Ns};

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// pktstat built with `--features pcap` (once per test process).
fn pcap_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build(&["--features", "pcap"], "pcap-feature"))
}

/// pktstat built with the default features, in a directory of its own (the workspace's
/// target/debug/pktstat may be a feature build on a developer's machine).
fn default_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build(&[], "pcap-feature/default"))
}

/// Builds pktstat with `features` into target/`dir`; returns the binary.
fn build(features: &[&str], dir: &str) -> PathBuf {
    let has_pcap = ["/usr/include/pcap/pcap.h", "/usr/include/pcap.h"]
        .iter()
        .any(|p| Path::new(p).exists());
    assert!(
        has_pcap,
        "the pcap backend tests need libpcap's headers and library (libpcap-dev): run \
             tests/scripts/install-deps.sh"
    );
    let target = root().join("target").join(dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["build", "-p", "pktstat"])
        .args(features)
        .arg("--target-dir")
        .arg(&target)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build {features:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = target.join("debug").join("pktstat");
    assert!(bin.exists(), "{} was not built", bin.display());
    bin
}

/// The feature build of pktstat with `args`, inside `ns`.
fn pktstat_pcap(ns: &Ns, args: &[&str]) -> Command {
    let mut c = ns.command(pcap_bin().to_str().expect("utf-8 path"));
    c.args(args);
    c
}

/// Sends `n` UDP datagrams of `len` bytes from inside `ns` to `dst:port`.
fn udp(ns: &Ns, dst: &str, port: u16, n: usize, len: usize) {
    ns.run(&format!(
        "python3 -c \"import socket,time\ns=socket.socket(socket.AF_INET6 if ':' in '{dst}' else socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range({n}):\n    s.sendto(b'x'*{len}, ('{dst}', {port})); time.sleep(0.005)\""
    ));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The flows this test's traffic made: ICMP echo and UDP to 4xxxx ports.
fn ours(all: &[String]) -> Vec<String> {
    all.iter()
        .filter(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[4].starts_with("ICMP") && matches!(f[6], "8" | "0" | "128" | "129"))
                || (f[4] == "UDP" && f[3].starts_with('4'))
        })
        .cloned()
        .collect()
}

/// The packets column of the one flow matching `needle`.
fn packets_of(flows: &[String], needle: &str) -> String {
    let hits = grep(flows, needle);
    assert_eq!(hits.len(), 1, "{needle:?} in {flows:#?}");
    hits[0].rsplit(' ').next().expect("packets").to_owned()
}

#[test]
fn pcap_and_afpacket_count_the_same_flows() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (_va, vb) = link(&a, &b, 81);
    let by_pcap = Bg::spawn(pktstat_pcap(
        &b,
        &["--backend", "pcap", "-i", &vb, "-t", "60s", "-j"],
    ));
    let by_ring = Bg::spawn(pktstat_pcap(
        &b,
        &["--backend", "afpacket", "-i", &vb, "-t", "60s", "-j"],
    ));
    std::thread::sleep(Duration::from_millis(1200));
    a.run("ping -c 5 -i 0.2 -q 10.81.0.2 >/dev/null");
    a.run("ping -6 -c 3 -i 0.2 -q fd00:81::2 >/dev/null");
    udp(&a, "10.81.0.2", 40001, 20, 300);
    udp(&a, "fd00:81::2", 40002, 7, 50);
    // The traffic is over: stop both now (-t is only a safety net on a slow machine).
    std::thread::sleep(Duration::from_millis(300));
    by_pcap.signal("INT");
    by_ring.signal("INT");
    let (pcap_out, _) = by_pcap.wait(Duration::from_secs(10));
    let (ring_out, _) = by_ring.wait(Duration::from_secs(10));
    assert!(
        pcap_out.status.success(),
        "--backend pcap failed: {}",
        stderr(&pcap_out)
    );
    assert!(
        ring_out.status.success(),
        "--backend afpacket failed: {}",
        stderr(&ring_out)
    );
    let pcap_flows = ours(&flows(&stdout(&pcap_out)));
    let ring_flows = ours(&flows(&stdout(&ring_out)));
    assert_eq!(
        pcap_flows, ring_flows,
        "libpcap and AF_PACKET counted different flows"
    );
    // And the traffic is all there: 5 + 3 echo requests and replies, 20 + 7 datagrams.
    assert_eq!(
        packets_of(&pcap_flows, "10.81.0.1 10.81.0.2 0 0 ICMPv4 1 8 0"),
        "5"
    );
    assert_eq!(
        packets_of(&pcap_flows, "10.81.0.2 10.81.0.1 0 0 ICMPv4 1 0 0"),
        "5"
    );
    assert_eq!(
        packets_of(&pcap_flows, "fd00:81::1 fd00:81::2 0 0 ICMPv6 58 128 0"),
        "3"
    );
    let u = grep(&pcap_flows, " 40001 UDP ");
    assert_eq!(u.len(), 1, "{pcap_flows:#?}");
    assert!(u[0].ends_with(" 6840 20"), "{}", u[0]); // 20 × (14 + 20 + 8 + 300)
    let u6 = grep(&pcap_flows, " 40002 UDP ");
    assert_eq!(u6.len(), 1, "{pcap_flows:#?}");
    assert!(
        u6[0].ends_with(&format!(" {} 7", 7 * (14 + 40 + 8 + 50))),
        "{}",
        u6[0]
    );
}

#[test]
fn filter_is_compiled_by_libpcap() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (_va, vb) = link(&a, &b, 82);
    let ps = Bg::spawn(pktstat_pcap(
        &b,
        &[
            "--backend",
            "pcap",
            "-i",
            &vb,
            "-t",
            "4s",
            "-f",
            "udp",
            "--jsonl",
        ],
    ));
    std::thread::sleep(Duration::from_millis(1200));
    a.run("ping -c 4 -i 0.2 -q 10.82.0.2 >/dev/null");
    udp(&a, "10.82.0.2", 40003, 12, 100);
    udp(&a, "fd00:82::2", 40004, 5, 10);
    let (out, _) = ps.wait(Duration::from_secs(10));
    assert!(out.status.success(), "pktstat failed: {}", stderr(&out));
    let text = stdout(&out);
    let all = flows(&text);
    // Only the datagrams pass: no ICMP echo, no neighbour discovery, no ARP.
    assert_eq!(pktstat_e2e::jsonl_summary_packets(&text), 17, "{all:#?}");
    assert!(all.iter().all(|l| l.contains(" UDP ")), "{all:#?}");
    assert_eq!(packets_of(&all, " 40003 UDP "), "12");
    assert_eq!(packets_of(&all, " 40004 UDP "), "5");

    // An expression libpcap refuses: one line naming it, exit 2.
    let bad = pktstat_pcap(&b, &["--backend", "pcap", "-i", &vb, "-f", "udp port"])
        .output()
        .expect("run pktstat");
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("pktstat: -f: libpcap cannot compile \"udp port\""),
        "{err}"
    );
}

#[test]
fn stops_promptly_on_an_idle_link_and_twice_at_once() {
    require_env();
    let a = Ns::new();
    // Idle: nothing is sent on this namespace's lo.
    let ps = Bg::spawn(pktstat_pcap(&a, &["--backend", "pcap", "-i", "lo", "-j"]));
    std::thread::sleep(Duration::from_millis(800));
    ps.signal("INT");
    let (out, took) = ps.wait(Duration::from_secs(5));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(took < Duration::from_millis(400), "stopped after {took:?}");
    assert!(stdout(&out).starts_with('['), "{}", stdout(&out));

    let ps = Bg::spawn(pktstat_pcap(
        &a,
        &["--backend", "pcap", "-i", "lo", "-t", "1s"],
    ));
    let (out, took) = ps.wait(Duration::from_secs(5));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        took < Duration::from_millis(1400),
        "-t 1s stopped after {took:?}"
    );
    assert!(stdout(&out).contains("kernel drops: 0"), "{}", stdout(&out));

    // A second SIGINT does not wait for anything. To catch the first stop in the middle,
    // its report must block: 10000 flows of JSON fill the stdout pipe nobody reads yet.
    let mut ps = Bg::spawn(pktstat_pcap(&a, &["--backend", "pcap", "-i", "lo", "-j"]));
    std::thread::sleep(Duration::from_millis(800));
    a.run("python3 -c \"import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor p in range(20000, 30000):\n    s.sendto(b'z', ('127.0.0.1', p))\"");
    std::thread::sleep(Duration::from_millis(500));
    ps.signal("INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        ps.child.try_wait().expect("try_wait").is_none(),
        "the first stop should be blocked writing its report"
    );
    ps.signal("INT");
    let (out, took) = ps.wait(Duration::from_secs(3));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(took < Duration::from_millis(300), "{took:?}");
}

#[test]
fn default_build_says_it_has_no_libpcap() {
    let out = Command::new(default_bin())
        .args(["--backend", "pcap", "-i", "lo", "-t", "1s"])
        .output()
        .expect("run pktstat");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--backend pcap") && err.contains("without libpcap"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}
