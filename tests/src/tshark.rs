//! The oracle: the flows SPEC §2–3 expects for a capture file, computed from tshark's own
//! dissection of it (`tshark -T fields`), independently of pktstat's code.
//!
//! tshark gives, per frame, its wire length and the fields of every layer it dissected;
//! this module applies the SPEC's accounting rules to them:
//!
//! - the flow key is directional: outer source/destination address, IP protocol (for IPv6
//!   the header that ends the extension-header walk: hop-by-hop, routing, fragment,
//!   destination options and AH are walked), ports for TCP/UDP, type/code for ICMPv4 /
//!   ICMPv6, and with `-v` the outer VLAN id (0 = untagged or priority tag);
//! - only the outer IP header counts: tunnels (GRE, IP-in-IP, 6in4, DS-Lite) and the packet
//!   quoted inside an ICMP error add later values to tshark's comma-separated field lists, so
//!   the outer layer's values are always the first ones;
//! - a non-first fragment goes to the flow of its datagram's first fragment if that was seen
//!   earlier in the file, else to a flow with ports 0 and no ICMP type;
//! - malformed frames (IPv4 header length below 5, a version that does not match the link,
//!   addresses, ports or ICMP type/code beyond the captured bytes) are in no flow: tshark
//!   then lacks the address, port or type/code field;
//! - totals count every packet record; records without an encapsulation (pcapng custom
//!   blocks, which tshark lists as frames) are not packets and are left out.
//!
//! tshark's IPv4 and IPv6 reassembly is switched off so every fragment is its own frame.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

/// A flow key as pktstat's JSON report shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Source port (0 without ports).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// ICMP / ICMPv6 type and code, for ICMP flows that carry one.
    pub icmp: Option<(u8, u8)>,
    /// Outer VLAN id with `-v`; 0 = untagged (and always 0 without `-v`).
    pub vlan: u16,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.proto, self.src, self.src_port, self.dst, self.dst_port
        )?;
        if let Some((t, c)) = self.icmp {
            write!(f, " icmp {t}/{c}")?;
        }
        if self.vlan != 0 {
            write!(f, " vlan {}", self.vlan)?;
        }
        Ok(())
    }
}

/// Packets and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
}

/// What tshark's dissection says one frame is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// On this flow.
    Flow(Key),
    /// Not IP (ARP, LLDP, PPPoE discovery, an unknown link…).
    NonIp,
    /// IP, but a key field is missing or wrong (SPEC §2): why.
    Malformed(&'static str),
}

/// The expected report for one file.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// Packet records.
    pub packets: u64,
    /// Sum of their wire lengths.
    pub bytes: u64,
    /// Per-flow counts.
    pub flows: BTreeMap<Key, Counts>,
    /// `(frame number, wire length, verdict)` per packet, for diagnostics.
    pub frames: Vec<(u64, u64, Verdict)>,
    /// Nanoseconds from the first packet's timestamp to the last one's.
    pub span_ns: u64,
}

impl Expected {
    /// Frames judged malformed.
    pub fn malformed(&self) -> u64 {
        self.frames
            .iter()
            .filter(|f| matches!(f.2, Verdict::Malformed(_)))
            .count() as u64
    }
    /// The frame numbers that went to `key`.
    pub fn frames_of(&self, key: &Key) -> Vec<u64> {
        self.frames
            .iter()
            .filter(|f| f.2 == Verdict::Flow(*key))
            .map(|f| f.0)
            .collect()
    }
}

/// The tshark fields read, in column order.
const FIELDS: &[&str] = &[
    "frame.number",
    "frame.encap_type",
    "frame.len",
    "frame.time_relative",
    "frame.protocols",
    "eth.type",
    "vlan.etype",
    "vlan.id",
    "ieee8021ad.id",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.id",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "ipv6.hopopts.nxt",
    "ipv6.dstopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    "ah.next_header",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
];

fn col(name: &str) -> usize {
    FIELDS.iter().position(|f| *f == name).expect("known field")
}

/// Runs tshark on `path` and returns one row per record: for each field, the list of its
/// values (tshark separates repeated occurrences with commas).
pub fn dissect(path: &Path) -> Vec<Vec<Vec<String>>> {
    let tshark = crate::tool("tshark");
    let mut cmd = Command::new(&tshark);
    cmd.arg("-r").arg(path);
    cmd.args([
        "-n",
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    cmd.args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tshark.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A file cut short is dissected up to the cut: tshark lists what it read, then fails.
    let cut_short = stderr.contains("cut short in the middle of a packet");
    assert!(
        out.status.success() || cut_short,
        "tshark failed on {} ({}): {stderr}",
        path.display(),
        out.status
    );
    let text = String::from_utf8(out.stdout).expect("tshark writes UTF-8");
    text.lines()
        .map(|line| {
            let cols: Vec<Vec<String>> = line
                .split('\t')
                .map(|c| {
                    if c.is_empty() {
                        Vec::new()
                    } else {
                        c.split(',').map(str::to_string).collect()
                    }
                })
                .collect();
            assert_eq!(
                cols.len(),
                FIELDS.len(),
                "tshark row has {} columns: {line:?}",
                cols.len()
            );
            cols
        })
        .collect()
}

fn num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if s.eq_ignore_ascii_case("true") {
        Some(1)
    } else if s.eq_ignore_ascii_case("false") {
        Some(0)
    } else {
        s.parse().ok()
    }
}

/// `"3.170124000"` → 3_170_124_000.
fn seconds_to_ns(s: &str) -> u64 {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    whole.parse::<u64>().unwrap_or(0) * 1_000_000_000 + frac.parse::<u64>().unwrap_or(0)
}

/// A row's field values, with per-field cursors for walking IPv6 extension headers.
struct Row<'a> {
    cols: &'a [Vec<String>],
    cursor: HashMap<usize, usize>,
}

impl Row<'_> {
    fn first(&self, field: &str) -> Option<&str> {
        self.cols[col(field)].first().map(String::as_str)
    }
    fn first_num(&self, field: &str) -> Option<u64> {
        self.first(field).and_then(num)
    }
    /// The next unread value of `field` (extension headers of one type may repeat).
    fn take(&mut self, field: &str) -> Option<&str> {
        let c = col(field);
        let i = self.cursor.entry(c).or_insert(0);
        let v = self.cols[c].get(*i)?;
        *i += 1;
        Some(v.as_str())
    }
    fn take_num(&mut self, field: &str) -> Option<u64> {
        self.take(field).and_then(num)
    }
}

/// Datagram identity for the fragment tracker: IPv4 (src, dst, proto, id), IPv6 (src, dst, id).
type DatagramId = (IpAddr, IpAddr, Option<u8>, u32);

/// The expected report of `path`. `per_vlan`: pktstat runs with `-v`.
pub fn expected(path: &Path, per_vlan: bool) -> Expected {
    let mut exp = Expected::default();
    let mut first_frags: HashMap<DatagramId, Key> = HashMap::new();
    for cols in dissect(path) {
        let mut row = Row {
            cols: &cols,
            cursor: HashMap::new(),
        };
        if row.first("frame.encap_type").is_none() {
            continue; // not a packet record (pcapng custom block)
        }
        let number = row.first_num("frame.number").expect("frame.number");
        let len = row.first_num("frame.len").expect("frame.len");
        exp.packets += 1;
        exp.bytes += len;
        if let Some(t) = row.first("frame.time_relative") {
            exp.span_ns = exp.span_ns.max(seconds_to_ns(t));
        }
        let verdict = judge(&mut row, per_vlan, &mut first_frags);
        if let Verdict::Flow(key) = verdict {
            let c = exp.flows.entry(key).or_default();
            c.packets += 1;
            c.bytes += len;
        }
        exp.frames.push((number, len, verdict));
    }
    exp
}

enum Frag {
    None,
    First(DatagramId),
    Later(DatagramId),
}

fn judge(row: &mut Row<'_>, per_vlan: bool, first_frags: &mut HashMap<DatagramId, Key>) -> Verdict {
    let protocols: Vec<String> = row
        .first("frame.protocols")
        .unwrap_or("")
        .split(':')
        .map(str::to_string)
        .collect();
    let Some(ip_at) = protocols.iter().position(|p| p == "ip" || p == "ipv6") else {
        // An Ethernet EtherType that announces IP, whose header tshark would not dissect
        // as IP (the wrong version behind 0x86dd): malformed, not non-IP.
        let ethertype = row.cols[col("vlan.etype")]
            .last()
            .or(row.cols[col("eth.type")].last());
        if matches!(ethertype.and_then(|t| num(t)), Some(0x0800 | 0x86dd)) {
            return Verdict::Malformed("EtherType says IP, the header is not");
        }
        // An Ethernet frame too short for its own header (tshark: `eth` alone, marked
        // malformed): a header cut short, as the decoder's `Layer::Link` truncation says.
        if protocols == ["eth"] {
            return Verdict::Malformed("Ethernet header cut short");
        }
        return Verdict::NonIp;
    };
    let vlan = if per_vlan {
        match protocols[..ip_at]
            .iter()
            .find(|p| *p == "vlan" || *p == "ieee8021ad")
        {
            Some(p) if p == "vlan" => row.first_num("vlan.id").unwrap_or(0),
            Some(_) => row.first_num("ieee8021ad.id").unwrap_or(0),
            None => 0,
        }
    } else {
        0
    } as u16;

    let is_v6 = protocols[ip_at] == "ipv6";
    let (src, dst, proto, frag) = if !is_v6 {
        // The ip dissector hands a version-6 header to ipv6 and gives no ip.src: that, an
        // IHL below 5 and a cut header all leave the outer layer without addresses.
        let (Some(src), Some(dst)) = (row.first("ip.src"), row.first("ip.dst")) else {
            return Verdict::Malformed("IPv4 header without addresses");
        };
        let src: IpAddr = src.parse().expect("ip.src");
        let dst: IpAddr = dst.parse().expect("ip.dst");
        let proto = row.first_num("ip.proto").expect("ip.proto") as u8;
        let id = row.first_num("ip.id").expect("ip.id") as u32;
        let mf = row.first_num("ip.flags.mf").unwrap_or(0);
        let off = row.first_num("ip.frag_offset").unwrap_or(0);
        let dg = (src, dst, Some(proto), id);
        let frag = match (off, mf) {
            (0, 0) => Frag::None,
            (0, _) => Frag::First(dg),
            _ => Frag::Later(dg),
        };
        (src, dst, proto, frag)
    } else {
        let (Some(src), Some(dst)) = (row.first("ipv6.src"), row.first("ipv6.dst")) else {
            return Verdict::Malformed("IPv6 header without addresses");
        };
        let src: IpAddr = src.parse().expect("ipv6.src");
        let dst: IpAddr = dst.parse().expect("ipv6.dst");
        let Some(mut next) = row.first_num("ipv6.nxt") else {
            return Verdict::Malformed("IPv6 header without next header");
        };
        let mut frag = Frag::None;
        loop {
            let field = match next {
                0 => "ipv6.hopopts.nxt",
                60 => "ipv6.dstopts.nxt",
                43 => "ipv6.routing.nxt",
                51 => "ah.next_header",
                44 => "ipv6.fraghdr.nxt",
                _ => break,
            };
            let Some(n) = row.take_num(field) else {
                return Verdict::Malformed("IPv6 extension header beyond the captured bytes");
            };
            if next == 44 {
                let off = row.take_num("ipv6.fraghdr.offset").unwrap_or(0);
                let more = row.take_num("ipv6.fraghdr.more").unwrap_or(0);
                let id = row
                    .take_num("ipv6.fraghdr.ident")
                    .expect("ipv6.fraghdr.ident") as u32;
                let dg = (src, dst, None, id);
                if off != 0 {
                    frag = Frag::Later(dg);
                    next = n;
                    break; // the rest is payload, not headers
                }
                if more != 0 {
                    frag = Frag::First(dg);
                }
            }
            next = n;
        }
        (src, dst, next as u8, frag)
    };

    let base = Key {
        src,
        dst,
        proto,
        src_port: 0,
        dst_port: 0,
        icmp: None,
        vlan,
    };
    if let Frag::Later(dg) = frag {
        return Verdict::Flow(match first_frags.get(&dg) {
            Some(k) => Key { vlan, ..*k },
            None => base,
        });
    }
    let ports = |row: &Row<'_>, s: &str, d: &str| -> Option<(u16, u16)> {
        Some((row.first_num(s)? as u16, row.first_num(d)? as u16))
    };
    let key = match (proto, is_v6) {
        (6, _) => match ports(row, "tcp.srcport", "tcp.dstport") {
            Some((s, d)) => Key {
                src_port: s,
                dst_port: d,
                ..base
            },
            None => return Verdict::Malformed("TCP ports beyond the captured bytes"),
        },
        (17, _) => match ports(row, "udp.srcport", "udp.dstport") {
            Some((s, d)) => Key {
                src_port: s,
                dst_port: d,
                ..base
            },
            None => return Verdict::Malformed("UDP ports beyond the captured bytes"),
        },
        (1, false) => match (row.first_num("icmp.type"), row.first_num("icmp.code")) {
            (Some(t), Some(c)) => Key {
                icmp: Some((t as u8, c as u8)),
                ..base
            },
            _ => return Verdict::Malformed("ICMP type/code beyond the captured bytes"),
        },
        (58, true) => match (row.first_num("icmpv6.type"), row.first_num("icmpv6.code")) {
            (Some(t), Some(c)) => Key {
                icmp: Some((t as u8, c as u8)),
                ..base
            },
            _ => return Verdict::Malformed("ICMPv6 type/code beyond the captured bytes"),
        },
        _ => base,
    };
    if let Frag::First(dg) = frag {
        first_frags.insert(dg, key);
    }
    Verdict::Flow(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fixture, tool};

    /// capinfos counts packets and bytes on its own: the oracle's totals must agree.
    fn capinfos(path: &Path) -> (u64, u64) {
        let out = Command::new(tool("capinfos"))
            .args(["-M", "-T", "-r", "-c", "-d"])
            .arg(path)
            .output()
            .expect("capinfos runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.trim().split('\t').collect();
        (f[1].parse().expect("packets"), f[2].parse().expect("bytes"))
    }

    #[test]
    fn totals_agree_with_capinfos() {
        for path in crate::all_fixtures() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let exp = expected(&path, false);
            // capinfos, like pktstat, does not count the pcapng custom block tshark lists.
            assert_eq!((exp.packets, exp.bytes), capinfos(&path), "{name}");
            let in_flows: u64 = exp.flows.values().map(|c| c.packets).sum();
            assert!(in_flows <= exp.packets, "{name}");
        }
    }

    /// A second, independent oracle for the oracle: tcpdump (libpcap's filter engine)
    /// counts each TCP flow of the real traffic by a filter on its key.
    #[test]
    fn tcp_flows_agree_with_tcpdump_filters() {
        let path = fixture("eth.pcap");
        let exp = expected(&path, false);
        let mut checked = 0;
        for (key, counts) in exp.flows.iter().filter(|(k, _)| k.proto == 6) {
            let family = if key.src.is_ipv6() { "ip6" } else { "ip" };
            let filter = format!(
                "{family} and tcp and src host {} and dst host {} and src port {} and dst port {}",
                key.src, key.dst, key.src_port, key.dst_port
            );
            let out = Command::new(tool("tcpdump"))
                .args(["-nn", "-q", "-r"])
                .arg(&path)
                .arg(&filter)
                .output()
                .expect("tcpdump runs");
            assert!(
                out.status.success(),
                "tcpdump {filter}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let n = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
            assert_eq!(n, counts.packets, "{filter}");
            checked += 1;
        }
        assert!(
            checked >= 4,
            "the download's TCP flows, both directions, v4 and v6"
        );
    }

    fn k(src: &str, sp: u16, dst: &str, dp: u16, proto: u8) -> Key {
        Key {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            src_port: sp,
            dst_port: dp,
            icmp: None,
            vlan: 0,
        }
    }

    #[test]
    fn malformed_fixture_is_judged_as_the_spec_says() {
        let exp = expected(&fixture("crafted-malformed.pcap"), false);
        let verdicts: Vec<&Verdict> = exp.frames.iter().map(|f| &f.2).collect();
        // Frames 2..=13 of craft_fixtures.py's malformed set are malformed (IHL 4, IHL 0,
        // cut header, v6 behind 0x0800, cut TCP/UDP/ICMP, cut IPv6, extension header
        // running off, cut ICMPv6, snap cut in the ports), frame 6 (v4 behind 0x86dd) too,
        // though tshark does not dissect it as IP at all, and frame 14, a cut Ethernet header.
        for (i, v) in verdicts.iter().enumerate() {
            let n = i + 1;
            match n {
                1 | 15..=20 => assert!(matches!(v, Verdict::Flow(_)), "frame {n}: {v:?}"),
                _ => assert!(matches!(v, Verdict::Malformed(_)), "frame {n}: {v:?}"),
            }
        }
        assert_eq!(exp.malformed(), 13);
        // Lengths that merely disagree keep their ports.
        assert!(exp.flows.contains_key(&k("10.9.0.5", 7, "10.9.0.6", 11, 6)));
        assert!(exp
            .flows
            .contains_key(&k("2001:db8::5", 7, "2001:db8::6", 13, 17)));
    }

    #[test]
    fn fragments_tunnels_and_icmp_errors() {
        let exp = expected(&fixture("crafted-tunnels.pcap"), false);
        let f = &exp.flows;
        let get = |key: Key| f.get(&key).copied().unwrap_or_default().packets;
        // Later fragment before its first: ports 0; first + one later: on the UDP flow;
        // lone tail: ports 0; same id with protocol 6: its own datagram, ports 0.
        assert_eq!(get(k("10.5.0.1", 6000, "10.5.0.2", 7000, 17)), 2);
        assert_eq!(get(k("10.5.0.1", 0, "10.5.0.2", 0, 17)), 2);
        assert_eq!(get(k("10.5.0.1", 0, "10.5.0.2", 0, 6)), 1);
        // Tunnels are flows between the outer addresses.
        assert_eq!(get(k("203.0.113.1", 0, "203.0.113.2", 0, 47)), 3);
        assert_eq!(get(k("203.0.113.1", 0, "203.0.113.3", 0, 4)), 2);
        assert_eq!(get(k("203.0.113.1", 0, "203.0.113.4", 0, 41)), 2);
        assert_eq!(get(k("2001:db8::a", 0, "2001:db8::b", 0, 4)), 2);
        assert_eq!(get(k("2001:db8::a", 0, "2001:db8::c", 0, 41)), 1);
        // ICMP errors: the outer type/code, not the quoted UDP.
        let unreach = Key {
            icmp: Some((3, 3)),
            ..k("10.0.0.2", 0, "10.0.0.1", 0, 1)
        };
        assert_eq!(get(unreach), 1);
        let unreach6 = Key {
            icmp: Some((1, 4)),
            ..k("2001:db8::2", 0, "2001:db8::1", 0, 58)
        };
        assert_eq!(get(unreach6), 1);
        assert_eq!(
            exp.frames.iter().filter(|f| f.2 == Verdict::NonIp).count(),
            3
        );
    }

    #[test]
    fn ipv6_extension_walk_and_fragments() {
        let exp = expected(&fixture("crafted-ipv6ext.pcap"), false);
        let get = |key: Key| exp.flows.get(&key).copied().unwrap_or_default().packets;
        let (s, d) = ("2001:db8::10", "2001:db8::20");
        assert_eq!(get(k(s, 5000, d, 6000, 17)), 1); // hop-by-hop
        assert_eq!(get(k(s, 5001, d, 80, 6)), 1); // routing
        assert_eq!(get(k(s, 5002, d, 443, 6)), 1); // AH
        assert_eq!(get(k(s, 5003, d, 7000, 17)), 1); // HBH DST RT AH
        assert_eq!(get(k(s, 5004, d, 8000, 17)), 2); // first fragment + tail
        assert_eq!(get(k(s, 0, d, 0, 17)), 1); // orphan tail
        assert_eq!(
            get(Key {
                icmp: Some((128, 0)),
                ..k(d, 0, s, 0, 58)
            }),
            2
        );
        assert_eq!(get(k(s, 0, d, 0, 50)), 1); // ESP ends the walk
        assert_eq!(get(k(s, 0, d, 0, 59)), 2); // no next header
    }

    #[test]
    fn vlan_keys_are_the_outer_tag() {
        let exp = expected(&fixture("crafted-vlan.pcap"), true);
        let udp = k("192.0.2.1", 1000, "192.0.2.2", 2000, 17);
        let get = |vlan: u16, key: Key| {
            exp.flows
                .get(&Key { vlan, ..key })
                .copied()
                .unwrap_or_default()
                .packets
        };
        assert_eq!(get(0, udp), 4); // untagged + priority-tagged
        assert_eq!(get(100, udp), 3);
        assert_eq!(get(400, udp), 1); // double 802.1Q: the outer
        let ping = Key {
            icmp: Some((8, 0)),
            ..k("192.0.2.1", 0, "192.0.2.3", 0, 1)
        };
        assert_eq!(get(300, ping), 2); // 802.1ad outer, 802.1Q inner
        let flat = expected(&fixture("crafted-vlan.pcap"), false);
        assert_eq!(flat.flows.get(&udp).unwrap().packets, 8);
    }
}
