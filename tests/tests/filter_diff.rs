//! Differential test of `pktstat_core::filter` against libpcap (through `tcpdump`): for every
//! expression and capture, the set of packets our compiled program accepts must equal the set
//! `tcpdump -r FILE -w - EXPR` writes; expressions tcpdump refuses must be refused by us.
//! Also: every program compiled for the live target is accepted by the kernel
//! (`SO_ATTACH_FILTER` on a real `AF_PACKET` socket; needs root).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pktstat_core::filter::{check, compile, run, Program, Target};
use pktstat_core::link::LinkType;

struct Rec {
    ts: u32,
    data: Vec<u8>,
    orig: u32,
}

/// Minimal little/big-endian classic pcap reader (the fixtures and tcpdump's output).
fn read_pcap(bytes: &[u8]) -> (u32, Vec<Rec>) {
    assert!(bytes.len() >= 24, "short pcap");
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => true,
        0xd4c3b2a1 | 0x4d3cb2a1 => false,
        m => panic!("bad magic {m:x}"),
    };
    let u32at = |b: &[u8], o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let lt = u32at(bytes, 20);
    let mut off = 24;
    let mut recs = Vec::new();
    while off + 16 <= bytes.len() {
        let ts = u32at(bytes, off);
        let caplen = u32at(bytes, off + 8) as usize;
        let orig = u32at(bytes, off + 12);
        let data = bytes[off + 16..off + 16 + caplen].to_vec();
        recs.push(Rec { ts, data, orig });
        off += 16 + caplen;
    }
    (lt, recs)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/filter")
        .join(name)
}

/// libpcap's verdict: Some(accepted timestamps) or None when it refuses the expression.
fn libpcap(file: &Path, expr: &str) -> Option<BTreeSet<u32>> {
    let out = Command::new("tcpdump")
        .arg("-r")
        .arg(file)
        .arg("-w")
        .arg("-")
        .arg("--")
        .arg(expr)
        .output()
        .expect("tcpdump must be installed (the oracle)");
    if !out.status.success() {
        return None;
    }
    let (_, recs) = read_pcap(&out.stdout);
    Some(recs.iter().map(|r| r.ts).collect())
}

const HAND: &[&str] = &[
    "ip",
    "ip6",
    "arp",
    "rarp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "sctp",
    "igmp",
    "host 10.0.0.1",
    "src host 10.0.0.1",
    "dst host 10.0.0.2",
    "host 10.1.2.3",
    "ip host 10.0.0.2",
    "arp host 10.0.0.2",
    "rarp host 10.1.2.3",
    "src and dst host 10.0.0.1",
    "src or dst host 8.8.8.8",
    "host 2001:db8::1",
    "ip6 host 2001:db8::2",
    "dst host ff02::1:2",
    "net 10.0.0.0/8",
    "net 10.0.0.0/24",
    "src net 172.16.0.0/12",
    "net 10.1",
    "net 10",
    "net 10.0.0.0 mask 255.255.255.0",
    "dst net 224.0.0.0/4",
    "net 2001:db8::/32",
    "net 2001:db8:1::/48",
    "src net fe80::/10",
    "ip6 net 2001:db8::/64",
    "port 80",
    "tcp port 80",
    "udp port 53",
    "src port 9000",
    "dst port 53",
    "port 443",
    "sctp port 80",
    "tcp src port 22",
    "udp dst port 67",
    "portrange 1-1024",
    "tcp portrange 440-450",
    "udp portrange 9000-9001",
    "src portrange 50000-60000",
    "port 65535",
    "dst portrange 0-100",
    "host 10.0.0.1 and port 80 or 443",
    "port 80 or 443",
    "host 10.0.0.1 or 10.0.0.2",
    "tcp port 80 or 443 and host 10.0.0.1",
    "not port 22",
    "not ip",
    "not (tcp or udp)",
    "! tcp && ! udp",
    "tcp || udp",
    "ip and not tcp",
    "ether host 00:11:22:33:44:55",
    "ether src 00:11:22:33:44:55",
    "ether dst 66:77:88:99:aa:bb",
    "ether broadcast",
    "ether multicast",
    "broadcast",
    "multicast",
    "ip multicast",
    "ip6 multicast",
    "ether proto 0x88cc",
    "ether proto 0x0806",
    "ether proto \\ip",
    "ether proto \\ip6",
    "ip proto 6",
    "ip proto 17",
    "ip proto 50",
    "ip6 proto 58",
    "ip6 proto 6",
    "proto 17",
    "ip proto \\tcp",
    "ip6 proto \\udp",
    "vlan",
    "vlan 10",
    "vlan 20",
    "vlan 100",
    "vlan and ip",
    "vlan 10 and ip",
    "vlan and vlan",
    "vlan 100 and vlan 10",
    "vlan and vlan 20 and ip6",
    "vlan and tcp port 80",
    "vlan 30 and pppoes",
    "not vlan",
    "vlan or ip",
    "ip or vlan",
    "pppoes",
    "pppoes 0x1234",
    "pppoes and ip",
    "pppoes and ip6",
    "pppoes 1 and icmp",
    "pppoes and tcp port 80",
    "pppoes and udp",
    "less 60",
    "greater 100",
    "len > 80",
    "len <= 64",
    "len - 14 > 40",
    "len = 60",
    "ip[0] & 0xf > 5",
    "ip[2:2] > 40",
    "ip[9] = 6",
    "ip[8] = 64",
    "ip[6:2] & 0x1fff != 0",
    "ip[12:4] = 0x0a000001",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] & tcp-rst != 0",
    "tcp[13] = 18",
    "tcp[tcpflags] == tcp-syn",
    "tcp[0:2] = 80 or tcp[2:2] = 80",
    "udp[2:2] = 53",
    "udp[0:2] > 1000",
    "icmp[icmptype] == icmp-echo",
    "icmp[icmptype] = icmp-echoreply",
    "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
    "icmp[0] = 3",
    "icmp6[icmp6type] = icmp6-echo",
    "icmp6[0] = 129",
    "ether[0] & 1 = 1",
    "ether[12:2] = 0x8100",
    "link[12:2] = 0x800",
    "arp[7] = 1",
    "arp[6:2] = 2",
    "ip6[6] = 0",
    "ip6[40] = 6",
    "ip[ip[0] & 0xf] = 0x45",
    "tcp[(tcp[12] >> 4) * 4] = 0x64",
    "tcp[tcp[12] / 16 * 4 - 1] = 0",
    "ip[0] * 2 - 0x80 = 10",
    "ip[3] % 7 = 2",
    "ip[3] ^ 1 = 0",
    "ip[1] | 4 = 4",
    "ip[0] << 1 = 0x8a",
    "ip[0] >> 4 = 4",
    "ip[2:2] - ip[0] & 0xf * 4 > 20",
    "-ip[0] = -69",
    "ip[0] >= 0x45",
    "ip[0] < 0x46",
    "ip[8] <= 64",
    "len >= ip[2:2]",
    "2 > 1",
    "1 = 2",
    "(ip[0]) = 0x45",
    "((tcp))",
    "(tcp or udp) and host 10.0.0.1",
    "tcp and (port 80 or port 22)",
    "host (10.0.0.1 or 10.0.0.2)",
    "port (80 or 53)",
    "not host 10.0.0.1 and not host 10.0.0.2",
    "host 10.0.0.1 and not 10.0.0.2",
    "ip and udp",
    "ip6 and udp",
    "icmp or icmp6",
    "tcp and port 80 and host 10.0.0.1",
    "udp or arp or icmp",
    "not vlan and not pppoes and not ip and not ip6",
    // Refused by libpcap (must be refused by us too).
    "tcp port",
    "port 80 and",
    "ip proto tcp",
    "host",
    "net 10.1.2.3/8",
    "tcp[13] &",
    "((tcp)",
    "vlan 5000",
    "ip[0:3] = 1",
    "port 70000",
    "foo and bar",
    "host 10.0.0.1 port 80",
    "1 / 0 = 1",
    "ip[0] % 0 = 1",
    "tcp host 10.0.0.1",
];

/// Primitives the generator combines.
const PRIMS: &[&str] = &[
    "tcp",
    "udp",
    "icmp",
    "ip6",
    "arp",
    "vlan",
    "port 80",
    "port 53",
    "host 10.0.0.1",
    "net 10.0.0.0/8",
    "host 2001:db8::2",
    "tcp[tcpflags] & tcp-syn != 0",
    "greater 70",
    "pppoes",
    "ether broadcast",
    "ip proto 1",
    "udp portrange 1-1024",
    "src host 10.0.0.2",
    "ip multicast",
    "icmp6",
];

fn generated() -> Vec<String> {
    let mut v = Vec::new();
    let n = PRIMS.len();
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let (a, b) = (PRIMS[i], PRIMS[j]);
            match (i * 7 + j) % 5 {
                0 => v.push(format!("{a} and {b}")),
                1 => v.push(format!("{a} or {b}")),
                2 => v.push(format!("not {a} and {b}")),
                3 => v.push(format!("{a} or not {b}")),
                _ => {
                    let c = PRIMS[(i + j) % n];
                    v.push(format!("({a} or {b}) and not {c}"));
                }
            }
        }
    }
    // Every other one keeps the run time reasonable.
    v.into_iter().step_by(2).collect()
}

fn link_of(lt: u32) -> LinkType {
    LinkType::from_linktype(lt)
}

#[test]
fn matches_libpcap_on_fixtures() {
    let files = [
        "ether.pcap",
        "sll.pcap",
        "sll2.pcap",
        "raw.pcap",
        "null.pcap",
        "loop.pcap",
    ];
    let mut exprs: Vec<String> = HAND.iter().map(|s| s.to_string()).collect();
    exprs.extend(generated());
    assert!(exprs.len() >= 300, "only {} expressions", exprs.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for (fi, f) in files.iter().enumerate() {
        let path = fixture(f);
        let bytes = std::fs::read(&path).expect("fixture");
        let (lt, recs) = read_pcap(&bytes);
        let link = link_of(lt);
        // All expressions on Ethernet; the hand-written ones on the other link types.
        let list: Vec<&String> = if fi == 0 {
            exprs.iter().collect()
        } else {
            exprs.iter().take(HAND.len()).collect()
        };
        for e in list {
            let theirs = libpcap(&path, e);
            let mut prog = Program::new();
            let ours = compile(e, Target::Link(link), 262144, &mut prog);
            match (theirs, ours) {
                (None, Err(_)) => {}
                (None, Ok(())) => failures.push(format!("{f}: libpcap refuses {e:?}, we accept")),
                (Some(_), Err(err)) => failures.push(format!("{f}: we refuse {e:?}: {err}")),
                (Some(set), Ok(())) => {
                    check(prog.insns()).unwrap_or_else(|c| panic!("{e:?}: {c}"));
                    let mine: BTreeSet<u32> = recs
                        .iter()
                        .filter(|r| run(prog.insns(), &r.data, r.orig) != 0)
                        .map(|r| r.ts)
                        .collect();
                    compared += 1;
                    if mine != set {
                        failures.push(format!("{f}: {e:?}: libpcap {set:?} ours {mine:?}"));
                    }
                }
            }
        }
    }
    eprintln!("compared {compared} (expression, file) pairs");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn kernel_accepts_live_programs() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test attaches filters to AF_PACKET sockets and must run as root"
    );
    // SAFETY: plain socket(2) call; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(
        fd >= 0,
        "socket(AF_PACKET): {}",
        std::io::Error::last_os_error()
    );
    let mut exprs: Vec<String> = HAND.iter().map(|s| s.to_string()).collect();
    exprs.extend(generated());
    let mut attached = 0;
    for e in &exprs {
        let mut prog = Program::new();
        if compile(e, Target::LinuxSocket, 262144, &mut prog).is_err() {
            continue;
        }
        check(prog.insns()).unwrap_or_else(|c| panic!("{e:?}: {c}"));
        let fprog = libc::sock_fprog {
            len: prog.insns().len() as u16,
            filter: prog.insns().as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `fprog` points at `prog`'s instructions (layout identical to sock_filter,
        // #[repr(C)]), which outlive the call; the kernel copies them.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                &fprog as *const libc::sock_fprog as *const libc::c_void,
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        assert_eq!(
            r,
            0,
            "kernel refused the program for {e:?}: {}",
            std::io::Error::last_os_error()
        );
        attached += 1;
    }
    // SAFETY: fd is ours and open.
    unsafe { libc::close(fd) };
    assert!(attached > 250, "only {attached} programs attached");
}
