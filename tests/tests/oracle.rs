//! End-to-end oracle: for every capture in `tests/fixtures/`, pktstat's `-j` report must
//! hold exactly the flows — key, packets, bytes — that tshark's dissection of the same file
//! gives under SPEC §2–3 (see `pktstat_e2e::tshark`), and its text totals line must equal
//! tshark's frame count and sum of `frame.len`. The VLAN fixtures are also checked with
//! `-v`. tshark missing is a failure, not a skip.

use pktstat_e2e::compare::{assert_agree, compare};
use pktstat_e2e::tshark::expected;
use pktstat_e2e::{all_fixtures, fixture};

#[test]
fn every_fixture_matches_tshark() {
    let mut diffs = Vec::new();
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 20, "fixtures went missing: {fixtures:?}");
    for path in &fixtures {
        diffs.extend(compare(path, false));
    }
    assert_agree(diffs);
}

#[test]
fn vlan_fixtures_match_tshark_with_v() {
    let mut diffs = Vec::new();
    for name in [
        "crafted-vlan.pcap",
        "crafted-vlan-be.pcap",
        "crafted-pppoe.pcap",
        "multi-section.pcapng",
        "eth.pcap",
    ] {
        diffs.extend(compare(&fixture(name), true));
    }
    assert_agree(diffs);
}

/// The oracle itself must see what the fixtures were built to hold; otherwise a broken
/// tshark run (no rows, no fields) would make every comparison vacuous.
#[test]
fn the_oracle_sees_real_flows() {
    let exp = expected(&fixture("eth.pcap"), false);
    assert!(exp.packets > 100, "eth.pcap: {} packets", exp.packets);
    let tcp_bytes: u64 = exp
        .flows
        .iter()
        .filter(|(k, _)| k.proto == 6)
        .map(|(_, c)| c.bytes)
        .sum();
    assert!(
        tcp_bytes > 100_000,
        "the TCP download is missing: {tcp_bytes} bytes"
    );
    for proto in [1u8, 6, 17, 58] {
        assert!(
            exp.flows.keys().any(|k| k.proto == proto),
            "no flow of protocol {proto}"
        );
    }
    let ping = |icmp| {
        exp.flows
            .iter()
            .any(|(k, c)| k.icmp == Some(icmp) && c.packets > 3)
    };
    assert!(
        ping((8, 0)) && ping((0, 0)),
        "echo flows with their fragments"
    );
    let vlan = expected(&fixture("crafted-vlan.pcap"), true);
    assert!(vlan.flows.keys().any(|k| k.vlan == 300), "QinQ outer tag");
}

/// The same comparison one level down, without the binary: the core's capture reader and
/// engine (decoder, fragment tracker, flow table) against tshark, including the malformed
/// counter of the protocol summary. It runs even before the CLI exists, and when the
/// binary disagrees but this agrees, the fault is in the binary's plumbing.
#[test]
fn core_reader_and_engine_match_tshark() {
    use pktstat_core::capfile::{Item, Reader};
    use pktstat_core::engine::{Engine, EngineConfig};
    use pktstat_e2e::tshark::{Counts, Key};
    use std::collections::BTreeMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn addr(a: &pktstat_core::flow::Addr) -> IpAddr {
        if a.is_v6() {
            IpAddr::V6(Ipv6Addr::from(a.bytes))
        } else {
            IpAddr::V4(Ipv4Addr::new(
                a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3],
            ))
        }
    }

    let mut diffs = Vec::new();
    for path in all_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for per_vlan in [false, true] {
            let exp = expected(&path, per_vlan);
            let data = std::fs::read(&path).unwrap();
            let mut engine: Box<Engine<1024, 2048>> = Box::new(Engine::new(EngineConfig {
                per_vlan,
                per_iface: false,
            }));
            let mut reader = Reader::new();
            let mut at = 0usize;
            loop {
                match reader.next(&data[at..], true) {
                    Err(e) => {
                        diffs.push(format!("{name}: reader error: {e}"));
                        break;
                    }
                    Ok(step) => {
                        at += step.consumed;
                        match step.item {
                            Item::Packet(p) => {
                                engine.account(p.link, p.data, &p.meta);
                            }
                            Item::Other => {}
                            Item::NeedMore => {
                                diffs.push(format!("{name}: NeedMore with eof at {at}"));
                                break;
                            }
                            Item::End => break,
                        }
                    }
                }
            }
            let mut got: BTreeMap<Key, Counts> = BTreeMap::new();
            for f in engine.flows() {
                let k = &f.key;
                let key = Key {
                    src: addr(&k.src),
                    dst: addr(&k.dst),
                    proto: k.proto,
                    src_port: k.src_port,
                    dst_port: k.dst_port,
                    icmp: k.has_icmp.then_some((k.icmp_type, k.icmp_code)),
                    vlan: k.vlan,
                };
                got.insert(
                    key,
                    Counts {
                        packets: f.counters.packets,
                        bytes: f.counters.bytes,
                    },
                );
            }
            let mode = if per_vlan { " (per vlan)" } else { "" };
            for (key, want) in &exp.flows {
                if got.get(key) != Some(want) {
                    diffs.push(format!(
                        "{name}{mode}: flow {key}: tshark {want:?}, core {:?} (frames {:?})",
                        got.get(key),
                        exp.frames_of(key)
                    ));
                }
            }
            for (key, have) in &got {
                if !exp.flows.contains_key(key) {
                    diffs.push(format!("{name}{mode}: extra flow {key}: core {have:?}"));
                }
            }
            let stats = engine.stats();
            if (stats.totals.packets, stats.totals.bytes) != (exp.packets, exp.bytes) {
                diffs.push(format!(
                    "{name}{mode}: totals: tshark {} pkts {} bytes, core {:?}",
                    exp.packets, exp.bytes, stats.totals
                ));
            }
            if stats.summary.malformed.packets != exp.malformed() {
                let frames: Vec<_> = exp
                    .frames
                    .iter()
                    .filter(|f| matches!(f.2, pktstat_e2e::tshark::Verdict::Malformed(_)))
                    .map(|f| f.0)
                    .collect();
                diffs.push(format!(
                    "{name}{mode}: malformed: tshark-derived {} (frames {frames:?}), core {}",
                    exp.malformed(),
                    stats.summary.malformed.packets
                ));
            }
        }
    }
    assert_agree(diffs);
}

/// `-l`: the reports of consecutive intervals partition the packets, so the flows summed
/// over every interval's `-j` array are tshark's flows, and every interval is reported.
#[test]
fn interval_reports_sum_to_tshark_flows() {
    use pktstat_e2e::compare::json_flows;
    use pktstat_e2e::tshark::{Counts, Key};
    use std::collections::BTreeMap;

    let mut diffs = Vec::new();
    for name in ["eth.pcap", "eth-ns.pcapng", "crafted-tunnels.pcap"] {
        let path = fixture(name);
        let exp = expected(&path, false);
        let run = pktstat_e2e::pktstat(&["-r", path.to_str().unwrap(), "-j", "-l", "100ms"]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let mut sum: BTreeMap<Key, Counts> = BTreeMap::new();
        let mut reports = 0;
        for line in run.stdout.lines().filter(|l| !l.trim().is_empty()) {
            reports += 1;
            match json_flows(line, false) {
                Err(e) => diffs.push(format!("{name} -l: report {reports}: {e}")),
                Ok(flows) => {
                    for (k, c) in flows {
                        let s = sum.entry(k).or_default();
                        s.packets += c.packets;
                        s.bytes += c.bytes;
                    }
                }
            }
        }
        // Intervals [t0 + k·100ms, t0 + (k+1)·100ms) from the first packet, every one
        // reported, empty ones too, up to the one holding the last packet.
        let want_reports = exp.span_ns / 100_000_000 + 1;
        if reports != want_reports {
            diffs.push(format!(
                "{name} -l 100ms: {reports} reports, want {want_reports} (span {} ns)",
                exp.span_ns
            ));
        }
        if sum != exp.flows {
            let missing: Vec<_> = exp
                .flows
                .iter()
                .filter(|(k, c)| sum.get(k) != Some(c))
                .collect();
            let extra: Vec<_> = sum
                .iter()
                .filter(|(k, _)| !exp.flows.contains_key(k))
                .collect();
            diffs.push(format!(
                "{name} -l 100ms: summed interval flows differ from tshark: want {missing:?}, extra {extra:?}"
            ));
        }
    }
    assert_agree(diffs);
}

/// `--jsonl`: the flow lines hold tshark's flows (same keys as `-j`, plus the report's span),
/// and the summary line's totals and protocol partition agree with tshark's dissection,
/// malformed counter included.
#[test]
fn jsonl_flows_and_summary_match_tshark() {
    use pktstat_e2e::compare::flow_of;
    use pktstat_e2e::json::{self, Json};
    use pktstat_e2e::tshark::{Counts, Key};
    use std::collections::BTreeMap;

    let mut diffs = Vec::new();
    for path in all_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let exp = expected(&path, false);
        let run = pktstat_e2e::pktstat(&["-r", path.to_str().unwrap(), "--jsonl"]);
        if run.code != 0 {
            diffs.push(format!(
                "{name} --jsonl: exit {}: {}",
                run.code,
                run.stderr.trim()
            ));
            continue;
        }
        let mut flows: BTreeMap<Key, Counts> = BTreeMap::new();
        let mut summaries = Vec::new();
        for line in run.stdout.lines() {
            let v = match json::parse(line) {
                Ok(v) => v,
                Err(e) => {
                    diffs.push(format!("{name} --jsonl: not JSON ({e}): {line}"));
                    continue;
                }
            };
            match v.get("type").and_then(Json::as_str) {
                Some("flow") => {
                    for k in ["start", "end"] {
                        if v.get(k).and_then(Json::as_str).is_none() {
                            diffs.push(format!("{name} --jsonl: flow line without `{k}`: {line}"));
                        }
                    }
                    let Json::Obj(members) = &v else {
                        unreachable!()
                    };
                    let bare = Json::Obj(
                        members
                            .iter()
                            .filter(|(k, _)| !matches!(k.as_str(), "type" | "start" | "end"))
                            .cloned()
                            .collect(),
                    );
                    match flow_of(&bare, false) {
                        Ok((k, c)) => {
                            if flows.insert(k, c).is_some() {
                                diffs.push(format!("{name} --jsonl: flow {k} twice"));
                            }
                        }
                        Err(e) => diffs.push(format!("{name} --jsonl: {e}")),
                    }
                }
                Some("summary") => summaries.push(v),
                other => diffs.push(format!("{name} --jsonl: line of type {other:?}: {line}")),
            }
        }
        if flows != exp.flows {
            let want: Vec<_> = exp
                .flows
                .iter()
                .filter(|(k, c)| flows.get(k) != Some(c))
                .collect();
            let extra: Vec<_> = flows
                .iter()
                .filter(|(k, _)| !exp.flows.contains_key(k))
                .collect();
            diffs.push(format!(
                "{name} --jsonl: flows differ: tshark {want:?}, pktstat extra {extra:?}"
            ));
        }
        let [summary] = summaries.as_slice() else {
            diffs.push(format!("{name} --jsonl: {} summary lines", summaries.len()));
            continue;
        };
        let num = |path: &[&str]| {
            let mut v = summary;
            for k in path {
                v = v.get(k)?;
            }
            v.as_u64()
        };
        let totals = (num(&["packets"]), num(&["bytes"]));
        if totals != (Some(exp.packets), Some(exp.bytes)) {
            diffs.push(format!(
                "{name} --jsonl: summary totals {totals:?}, tshark ({}, {})",
                exp.packets, exp.bytes
            ));
        }
        let keys = [
            "ipv4",
            "ipv6",
            "nonIp",
            "malformed",
            "tcp",
            "udp",
            "icmpv4",
            "icmpv6",
            "otherIp",
        ];
        if let Some(k) = keys
            .iter()
            .find(|k| num(&["protocols", k, "packets"]).is_none())
        {
            diffs.push(format!(
                "{name} --jsonl: summary without protocols.{k}.packets: {summary:?}"
            ));
            continue;
        }
        let p = |k: &str| num(&["protocols", k, "packets"]).unwrap_or(0);
        let malformed = p("malformed");
        if malformed != exp.malformed() {
            diffs.push(format!(
                "{name} --jsonl: malformed {malformed}, tshark-derived {}",
                exp.malformed()
            ));
        }
        let families = p("ipv4") + p("ipv6") + p("nonIp") + malformed;
        let ip = p("tcp") + p("udp") + p("icmpv4") + p("icmpv6") + p("otherIp");
        if families != exp.packets || ip != p("ipv4") + p("ipv6") {
            diffs.push(format!(
                "{name} --jsonl: protocol summary does not partition the packets: {summary:?}"
            ));
        }
    }
    assert_agree(diffs);
}
