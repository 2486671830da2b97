//! End-to-end tests of live capture (issue 3): pktstat captures in network namespaces the
//! tests create, on traffic they send, and is compared with tcpdump on the same run.
//! Run as root (CI does); see `live/harness.rs`.

#[path = "live/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use pktstat_e2e::compare;
use pktstat_e2e::tshark::{self, Counts, Key};

use harness::{flows, grep, link, link_named, require_env, Bg, Ns};

/// Sends `n` UDP datagrams of `len` bytes from inside `ns` to `dst:port`.
fn udp(ns: &Ns, dst: &str, port: u16, n: usize, len: usize) {
    ns.run(&format!(
        "python3 -c \"import socket,time\ns=socket.socket(socket.AF_INET6 if ':' in '{dst}' else socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range({n}):\n    s.sendto(b'x'*{len}, ('{dst}', {port})); time.sleep(0.005)\""
    ));
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn veth_flows_equal_tcpdump_recording() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (_va, vb) = link(&a, &b, 71);
    let pcap = std::env::temp_dir().join(format!("{}.pcap", harness::unique("live")));
    // Let the new link's own chatter (IPv6 MLD reports) pass first.
    std::thread::sleep(Duration::from_millis(2500));
    let td = b.tcpdump(&["-i", &vb, "-s", "0"], &pcap);
    let ps = Bg::spawn(b.pktstat(&["-i", &vb, "-t", "60s", "-j"]));
    std::thread::sleep(Duration::from_millis(1200));
    a.run("ping -c 5 -i 0.2 -q 10.71.0.2 >/dev/null");
    a.run("ping -6 -c 3 -i 0.2 -q fd00:71::2 >/dev/null");
    udp(&a, "10.71.0.2", 40001, 20, 300);
    udp(&a, "fd00:71::2", 40002, 7, 50);
    // A small TCP download: B serves 200 kB on 8080, A reads it all.
    let server = Bg::spawn({
        let mut c = b.command("python3");
        c.args(["-c", "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.71.0.2', 8080)); s.listen(1)\nc,_=s.accept(); c.sendall(b'y'*200000); c.close()"]);
        c
    });
    std::thread::sleep(Duration::from_millis(300));
    a.run("python3 -c \"import socket\ns=socket.create_connection(('10.71.0.2', 8080))\nn=0\nwhile True:\n    d=s.recv(65536)\n    if not d: break\n    n+=len(d)\nassert n==200000, n\"");
    server.wait(Duration::from_secs(5));
    // The traffic is over: stop now (-t is only a safety net on a slow machine).
    ps.signal("INT");
    let (out, _) = ps.wait(Duration::from_secs(10));
    assert!(out.status.success(), "pktstat failed: {}", stderr(&out));
    td.signal("INT");
    let _ = td.wait(Duration::from_secs(5));
    // The oracle: what tshark dissects from tcpdump's file, with the SPEC's accounting rules
    // (the offline oracle tests' library).
    let file = tshark::expected(&pcap, false);
    let _ = std::fs::remove_file(&pcap);
    let live = compare::json_flows(&stdout(&out), false)
        .unwrap_or_else(|e| panic!("{e}\n{}", stdout(&out)));
    // tcpdump ran before and after pktstat: every flow pktstat saw is in the file with at
    // least as many packets, and the test's own traffic (all inside both windows) exactly.
    for (k, c) in &live {
        let f = file.flows.get(k);
        assert!(
            f.is_some_and(|f| f.packets >= c.packets),
            "pktstat's flow {k} ({c:?}) is not in tcpdump's file ({f:?})"
        );
    }
    let ours = |m: &BTreeMap<Key, Counts>| -> BTreeMap<Key, Counts> {
        m.iter()
            .filter(|(k, _)| {
                matches!(
                    (k.proto, k.icmp),
                    (1, Some((8 | 0, 0))) | (58, Some((128 | 129, 0)))
                ) || (k.proto == 17 && (40000..41000).contains(&k.dst_port))
                    || (k.proto == 6 && (k.src_port == 8080 || k.dst_port == 8080))
            })
            .map(|(k, c)| (*k, *c))
            .collect()
    };
    let (live, file) = (ours(&live), ours(&file.flows));
    assert_eq!(
        live, file,
        "live capture and tshark on tcpdump's recording differ"
    );
    // And the traffic is all there: 5 + 3 echo requests, 20 + 7 datagrams, a TCP flow each way.
    let count = |proto: u8, icmp: Option<(u8, u8)>, dport: u16| -> Vec<Counts> {
        live.iter()
            .filter(|(k, _)| k.proto == proto && k.icmp == icmp && k.dst_port == dport)
            .map(|(_, c)| *c)
            .collect()
    };
    assert_eq!(
        count(1, Some((8, 0)), 0)
            .iter()
            .map(|c| c.packets)
            .sum::<u64>(),
        5
    );
    assert_eq!(
        count(58, Some((128, 0)), 0)
            .iter()
            .map(|c| c.packets)
            .sum::<u64>(),
        3
    );
    // 20 × (14 + 20 + 8 + 300) and 7 × (14 + 40 + 8 + 50).
    assert_eq!(
        count(17, None, 40001),
        vec![Counts {
            packets: 20,
            bytes: 6840
        }]
    );
    assert_eq!(
        count(17, None, 40002),
        vec![Counts {
            packets: 7,
            bytes: 7 * 112
        }]
    );
    assert_eq!(live.keys().filter(|k| k.proto == 6).count(), 2);
}

#[test]
fn loopback_counts_each_packet_once() {
    require_env();
    let a = Ns::new();
    let ps = Bg::spawn(a.pktstat(&["-i", "lo", "-t", "60s", "-j"]));
    std::thread::sleep(Duration::from_millis(700));
    udp(&a, "127.0.0.1", 40005, 10, 100);
    // The traffic is over: stop now (-t is only a safety net on a slow machine).
    ps.signal("INT");
    let (out, _) = ps.wait(Duration::from_secs(5));
    assert!(out.status.success(), "{}", stderr(&out));
    let f = flows(&stdout(&out));
    let u = grep(&f, "127.0.0.1 127.0.0.1 ");
    let u: Vec<_> = u
        .into_iter()
        .filter(|l| l.contains(" 40005 UDP "))
        .collect();
    assert_eq!(u.len(), 1, "{f:?}");
    assert!(
        u[0].ends_with(&format!(" {} 10", 10 * (14 + 20 + 8 + 100))),
        "{}",
        u[0]
    );
}

#[test]
fn any_counts_per_interface_like_tcpdump() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (_va, vb) = link(&a, &b, 72);
    let pcap = std::env::temp_dir().join(format!("{}.pcap", harness::unique("any")));
    let pcap_s = pcap.to_str().unwrap().to_owned();
    let td = b.tcpdump(&["-i", "any", "icmp or udp"], &pcap);
    // `-i any` frames are SLL2 (longer): bytes are checked against per-interface captures.
    let per_iface: Vec<(String, PathBuf, Bg)> = ["lo".to_owned(), vb.clone()]
        .into_iter()
        .map(|i| {
            let f = std::env::temp_dir().join(format!("{}.pcap", harness::unique("one")));
            let c = b.tcpdump(&["-i", &i, "icmp or udp"], &f);
            (i, f, c)
        })
        .collect();
    let ps = Bg::spawn(b.pktstat(&["-t", "60s", "-j"]));
    std::thread::sleep(Duration::from_millis(1200));
    a.run("ping -c 4 -i 0.2 -q 10.72.0.2 >/dev/null");
    b.run("ping -c 3 -i 0.2 -q 127.0.0.1 >/dev/null");
    udp(&b, "127.0.0.1", 40006, 5, 10);
    // The traffic is over: stop now (-t is only a safety net on a slow machine).
    ps.signal("INT");
    let (out, _) = ps.wait(Duration::from_secs(6));
    assert!(out.status.success(), "{}", stderr(&out));
    td.signal("INT");
    let _ = td.wait(Duration::from_secs(5));
    // Bytes per (interface, src, dst, icmp type, dport) from each interface's own capture.
    let mut expect_bytes = std::collections::BTreeMap::<String, u64>::new();
    for (i, f, c) in per_iface {
        c.signal("INT");
        let _ = c.wait(Duration::from_secs(5));
        let fields = harness::sh(&format!(
            "tshark -r {} -T fields -e frame.len -e ip.src -e ip.dst -e icmp.type -e udp.dstport -E separator=' ' -E occurrence=f",
            f.display()
        ));
        let _ = std::fs::remove_file(&f);
        for l in fields.lines() {
            let v: Vec<&str> = l.split(' ').collect();
            if v.len() < 5 || v[1].is_empty() {
                continue;
            }
            let dport = if v[3].is_empty() { v[4] } else { "" };
            let key = format!("{i} {} {} {}{dport}", v[1], v[2], v[3]);
            *expect_bytes.entry(key).or_default() += v[0].parse::<u64>().unwrap();
        }
    }
    // tcpdump's view: packets per (interface, src, dst, proto, icmp type, dport).
    let names: std::collections::HashMap<String, String> = [
        ("lo".to_owned(), b.ifindex("lo")),
        (vb.clone(), b.ifindex(&vb)),
    ]
    .into_iter()
    .map(|(n, i)| (i.to_string(), n))
    .collect();
    let tshark = harness::sh(&format!(
        "tshark -r {pcap_s} -T fields -e sll.ifindex -e ip.src -e ip.dst -e icmp.type -e udp.dstport -E separator=' ' -E occurrence=f"
    ));
    let _ = std::fs::remove_file(&pcap);
    let mut expect = std::collections::BTreeMap::<String, u64>::new();
    for l in tshark.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        if f.len() < 5 || f[1].is_empty() {
            continue;
        }
        // An ICMP error quotes the offending IP/UDP header: its flow is the outer ICMP one
        // (first occurrences only, and no port when there is an ICMP type).
        let dport = if f[3].is_empty() { f[4] } else { "" };
        let key = format!(
            "{} {} {} {}{dport}",
            names.get(f[0]).map(String::as_str).unwrap_or("?"),
            f[1],
            f[2],
            f[3],
        );
        *expect.entry(key).or_default() += 1;
    }
    let mut got = std::collections::BTreeMap::<String, u64>::new();
    let mut got_bytes = std::collections::BTreeMap::<String, u64>::new();
    for l in flows(&stdout(&out)) {
        let f: Vec<&str> = l.split(' ').collect();
        let (ty, dport) = match f[4] {
            "ICMPv4" => (f[6].to_owned(), String::new()),
            "UDP" => (String::new(), f[3].to_owned()),
            _ => continue,
        };
        let key = format!("{} {} {} {ty}{dport}", f[9], f[0], f[1]);
        got.insert(key.clone(), f[11].parse().unwrap());
        got_bytes.insert(key, f[10].parse().unwrap());
    }
    assert!(
        expect.values().sum::<u64>() >= 4 + 4 + 6 + 5,
        "tcpdump saw too little: {expect:?}"
    );
    assert_eq!(got, expect);
    assert_eq!(
        got_bytes, expect_bytes,
        "bytes on any vs the per-interface captures"
    );
}

#[test]
fn direction_in_counts_routed_packets_once() {
    require_env();
    let (a, r, b) = (Ns::new(), Ns::new(), Ns::new());
    let (_ra_a, ra) = link(&a, &r, 73);
    let (rb, _rb_b) = link(&r, &b, 74);
    r.run("sysctl -qw net.ipv4.ip_forward=1");
    a.run("ip route add 10.74.0.0/24 via 10.73.0.2");
    b.run("ip route add 10.73.0.0/24 via 10.74.0.1");
    a.run("ping -c 1 -W 2 -q 10.74.0.2 >/dev/null"); // resolve neighbours first
    let ps = Bg::spawn(r.pktstat(&["-Q", "in", "-t", "60s", "-j"]));
    std::thread::sleep(Duration::from_millis(800));
    udp(&a, "10.74.0.2", 40007, 12, 20);
    // The traffic is over: stop now (-t is only a safety net on a slow machine).
    ps.signal("INT");
    let (out, _) = ps.wait(Duration::from_secs(5));
    assert!(out.status.success(), "{}", stderr(&out));
    let f = flows(&stdout(&out));
    let u = grep(&f, " 40007 UDP ");
    assert_eq!(
        u.len(),
        1,
        "routed flow seen on more than one interface with -Q in: {f:?}"
    );
    assert!(
        u[0].contains(&format!(" {ra} ")) && u[0].ends_with(" 12"),
        "{}",
        u[0]
    );
    assert!(!u[0].contains(&rb));
}

#[test]
fn vlan_tagged_frames_keyed_by_vlan_with_tag_bytes() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (va, vb) = link(&a, &b, 75);
    let mac = b
        .run(&format!("cat /sys/class/net/{vb}/address"))
        .trim()
        .replace(':', "");
    let ps = Bg::spawn(b.pktstat(&["-i", &vb, "-v", "-t", "60s", "-j"]));
    std::thread::sleep(Duration::from_millis(800));
    // 9 frames: Ethernet + 802.1Q tag 10 + IPv4 + UDP 10.75.0.1:5000 -> 10.75.0.2:40008 + 4 bytes.
    a.run(&format!(
        "python3 -c \"import socket,struct\ns=socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\ns.bind(('{va}', 0))\nip=struct.pack('!BBHHHBBH4s4s',0x45,0,32,1,0,64,17,0,socket.inet_aton('10.75.0.1'),socket.inet_aton('10.75.0.2'))\nudp=struct.pack('!HHHH',5000,40008,12,0)+b'abcd'\nf=bytes.fromhex('{mac}')+b'\\x02\\x00\\x00\\x00\\x00\\x01'+struct.pack('!HH',0x8100,10)+b'\\x08\\x00'+ip+udp\nassert len(f)==50\nfor i in range(9): s.send(f)\""
    ));
    // The traffic is over: stop now (-t is only a safety net on a slow machine).
    ps.signal("INT");
    let (out, _) = ps.wait(Duration::from_secs(5));
    assert!(out.status.success(), "{}", stderr(&out));
    let f = flows(&stdout(&out));
    let u = grep(&f, "10.75.0.1 10.75.0.2 5000 40008 UDP");
    assert_eq!(u.len(), 1, "{f:?}");
    // vlan 10; 9 × 50 bytes (the 46 the kernel hands over + the stripped tag).
    assert!(u[0].ends_with(" 10 - 450 9"), "{}", u[0]);
}

#[test]
fn idle_timeout_reports_promptly() {
    require_env();
    let a = Ns::new();
    let start = std::time::Instant::now();
    let out = a
        .pktstat(&["-i", "lo", "-t", "1s"])
        .output()
        .expect("spawn");
    let took = start.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(
        stdout(&out).contains("Read total packets: 0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn sigint_and_sigterm_print_the_report() {
    require_env();
    let a = Ns::new();
    for sig in ["INT", "TERM"] {
        let ps = Bg::spawn(a.pktstat(&["-i", "lo"]));
        std::thread::sleep(Duration::from_millis(600));
        ps.signal(sig);
        let (out, took) = ps.wait(Duration::from_secs(3));
        assert!(
            took < Duration::from_millis(200),
            "SIG{sig}: stopped after {took:?}"
        );
        assert!(out.status.success(), "SIG{sig}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("Read total packets"),
            "SIG{sig}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn second_sigint_exits_at_once() {
    require_env();
    let a = Ns::new();
    // The process being signalled must be pktstat itself, not `ip netns exec`.
    let ps = Bg::spawn(a.pktstat(&["-i", "lo"]));
    std::thread::sleep(Duration::from_millis(600));
    ps.signal("INT");
    ps.signal("INT");
    let (out, took) = ps.wait(Duration::from_secs(3));
    assert!(took < Duration::from_millis(200), "{took:?}");
    // Either the first stop finished first (report, 0) or the second cut it short (130).
    assert!(
        matches!(out.status.code(), Some(0) | Some(130)),
        "{:?}",
        out.status
    );
}

#[test]
fn without_cap_net_raw_the_error_names_it() {
    require_env();
    let bin = harness::pktstat_bin();
    let out = std::process::Command::new("capsh")
        .args([
            "--drop=cap_net_raw",
            "--",
            "-c",
            &format!("{} -i lo -t 1s", bin.display()),
        ])
        .output()
        .expect("capsh (libcap2-bin) is needed");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("CAP_NET_RAW") && e.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn unknown_interface_lists_real_ones() {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (va, _) = link(&a, &b, 76);
    let out = a
        .pktstat(&["-i", "nosuch0", "-t", "1s"])
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("nosuch0") && e.contains("lo") && e.contains(&va),
        "{e}"
    );
}

#[test]
fn interval_jsonl_gives_one_valid_summary_per_second() {
    require_env();
    let a = Ns::new();
    let ps = Bg::spawn(a.pktstat(&["-i", "lo", "-l", "1s", "--jsonl", "-t", "3s"]));
    std::thread::sleep(Duration::from_millis(500));
    udp(&a, "127.0.0.1", 40009, 5, 10);
    let (out, _) = ps.wait(Duration::from_secs(6));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let check = harness::sh(&format!(
        "printf '%s' '{}' | python3 -c \"import json,sys\nn=0\nfor l in sys.stdin:\n    v=json.loads(l)\n    n+=v['type']=='summary'\nprint(n)\"",
        text.replace('\'', "'\\''")
    ));
    let n: usize = check.trim().parse().unwrap();
    assert!((3..=4).contains(&n), "{n} summary lines:\n{text}");
}

/// `-i NAME` keeps counting across the interface going down and up, and across it being
/// deleted and re-created under the same name (a new index): it waits, binds again, says so
/// once per event. `mode`: `PKTSTAT_CAPTURE_MODE` (None = the V3 ring).
fn survives_interface_loss(mode: Option<&str>, net: u8) {
    require_env();
    let (a, b) = (Ns::new(), Ns::new());
    let (va, vb) = link(&a, &b, net);
    let old_index = b.ifindex(&vb);
    let dst = format!("10.{net}.0.2");
    let mut cmd = b.pktstat(&["-i", &vb, "-t", "4s", "-j"]);
    if let Some(m) = mode {
        cmd.env("PKTSTAT_CAPTURE_MODE", m);
    }
    let ps = Bg::spawn(cmd);
    std::thread::sleep(Duration::from_millis(600));
    udp(&a, &dst, 40010, 10, 20);
    // Down and up again: same index.
    b.run(&format!("ip link set {vb} down"));
    std::thread::sleep(Duration::from_millis(400));
    b.run(&format!("ip link set {vb} up"));
    a.run(&format!("ping -c 1 -W 2 -q {dst} >/dev/null"));
    std::thread::sleep(Duration::from_millis(300));
    udp(&a, &dst, 40010, 10, 20);
    // Deleted (both ends go) and re-created under the same names: a new index.
    a.run(&format!("ip link del {va}"));
    std::thread::sleep(Duration::from_millis(400));
    link_named(&a, &b, net, &va, &vb);
    assert_ne!(
        b.ifindex(&vb),
        old_index,
        "the re-created veth kept its index"
    );
    a.run(&format!("ping -c 1 -W 2 -q {dst} >/dev/null"));
    std::thread::sleep(Duration::from_millis(300));
    udp(&a, &dst, 40010, 10, 20);
    let (out, _) = ps.wait(Duration::from_secs(6));
    let err = stderr(&out);
    assert!(out.status.success(), "{mode:?}: {err}");
    let f = flows(&stdout(&out));
    // Each burst comes from its own source port: three flows of 10 × (14 + 20 + 8 + 20).
    let u = grep(&f, " 40010 UDP ");
    assert_eq!(u.len(), 3, "{mode:?}: {f:?}\n{err}");
    for l in u {
        assert!(l.ends_with(" 620 10"), "{mode:?}: {l}\n{err}");
    }
    let gone = err.lines().filter(|l| l.contains("went away")).count();
    let back = err.lines().filter(|l| l.contains("is back")).count();
    assert_eq!((gone, back), (2, 2), "{mode:?}: {err}");
}

#[test]
fn named_interface_survives_down_up_and_recreation() {
    survives_interface_loss(None, 77);
}

#[test]
fn named_interface_survives_loss_in_v2_and_recvmsg_modes() {
    survives_interface_loss(Some("v2"), 78);
    survives_interface_loss(Some("recv"), 79);
}
