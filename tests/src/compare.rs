//! Runs pktstat on a capture and compares its report with the tshark oracle
//! ([`crate::tshark`]): every flow's key, packets and bytes from `-j`, and the text totals
//! line, exactly.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use crate::json::{self, Json};
use crate::tshark::{expected, Counts, Expected, Key};
use crate::{pktstat, text_totals};

/// Reads pktstat's `-j` output: one JSON array of flow objects.
pub fn json_flows(stdout: &str, per_vlan: bool) -> Result<BTreeMap<Key, Counts>, String> {
    let doc = json::parse(stdout).map_err(|e| format!("-j output is not JSON: {e}"))?;
    let Json::Arr(items) = doc else {
        return Err("-j output is not one JSON array".into());
    };
    let mut flows = BTreeMap::new();
    for item in &items {
        let (key, counts) = flow_of(item, per_vlan)?;
        if flows.insert(key, counts).is_some() {
            return Err(format!("flow {key} listed twice"));
        }
    }
    Ok(flows)
}

/// One flow object of `-j` (or a `--jsonl` flow line without its `type`, `start` and `end`):
/// its key and counts, after checking upstream's key order and the SPEC's labels.
pub fn flow_of(item: &Json, per_vlan: bool) -> Result<(Key, Counts), String> {
    {
        let s = |k: &str| {
            item.get(k)
                .and_then(Json::as_str)
                .ok_or(format!("flow without string `{k}`: {item:?}"))
        };
        let n = |k: &str| {
            item.get(k)
                .and_then(Json::as_u64)
                .ok_or(format!("flow without number `{k}`: {item:?}"))
        };
        let keys = item.keys();
        let upstream = [
            "srcIp", "dstIp", "srcPort", "dstPort", "size", "packets", "bitrate", "proto",
        ];
        if keys.len() < upstream.len() || keys[..upstream.len()] != upstream {
            return Err(format!("keys not in upstream's order: {keys:?}"));
        }
        let src: IpAddr = s("srcIp")?.parse().map_err(|e| format!("srcIp: {e}"))?;
        let dst: IpAddr = s("dstIp")?.parse().map_err(|e| format!("dstIp: {e}"))?;
        let proto = n("ipProto")? as u8;
        let icmp = match (item.get("icmpType"), item.get("icmpCode")) {
            (None, None) => None,
            (Some(_), Some(_)) => Some((n("icmpType")? as u8, n("icmpCode")? as u8)),
            _ => return Err(format!("icmpType without icmpCode: {item:?}")),
        };
        let vlan = match item.get("vlan") {
            None => 0,
            Some(_) if !per_vlan => return Err(format!("`vlan` without -v: {item:?}")),
            Some(_) => {
                let v = n("vlan")?;
                if v == 0 {
                    return Err(format!("`vlan: 0` shown (untagged has no key): {item:?}"));
                }
                v as u16
            }
        };
        let key = Key {
            src,
            dst,
            proto,
            src_port: n("srcPort")? as u16,
            dst_port: n("dstPort")? as u16,
            icmp,
            vlan,
        };
        let label = match (proto, src.is_ipv6()) {
            (6, _) => "TCP",
            (17, _) => "UDP",
            (1, false) => "ICMPv4",
            (58, true) => "ICMPv6",
            (_, false) => "IPv4",
            (_, true) => "IPv6",
        };
        if s("proto")? != label {
            return Err(format!(
                "proto label {:?}, SPEC §6 says {label:?}: {item:?}",
                s("proto")?
            ));
        }
        if icmp.is_some() && !matches!((proto, src.is_ipv6()), (1, false) | (58, true)) {
            return Err(format!("icmpType on a non-ICMP flow: {item:?}"));
        }
        let counts = Counts {
            packets: n("packets")?,
            bytes: n("size")?,
        };
        Ok((key, counts))
    }
}

/// Compares pktstat on `path` (with `-v` when `per_vlan`) with the oracle. Returns the list
/// of differences, empty when they agree.
pub fn compare(path: &Path, per_vlan: bool) -> Vec<String> {
    let exp: Expected = expected(path, per_vlan);
    let file = path.to_str().expect("UTF-8 path");
    let name = path.file_name().unwrap().to_string_lossy();
    let mode = if per_vlan { " -v" } else { "" };
    let mut diffs = Vec::new();

    let mut args = vec!["-r", file, "-j"];
    if per_vlan {
        args.push("-v");
    }
    let run = pktstat(&args);
    if run.code != 0 {
        diffs.push(format!(
            "{name}{mode}: `pktstat -r {name} -j` exited {}: {}",
            run.code,
            run.stderr.trim()
        ));
        return diffs;
    }
    match json_flows(&run.stdout, per_vlan) {
        Err(e) => diffs.push(format!(
            "{name}{mode}: {e}\n  output: {}",
            run.stdout.trim()
        )),
        Ok(got) => {
            for (key, want) in &exp.flows {
                match got.get(key) {
                    None => diffs.push(format!(
                        "{name}{mode}: missing flow {key}: tshark {} pkts {} bytes (frames {:?})",
                        want.packets,
                        want.bytes,
                        exp.frames_of(key)
                    )),
                    Some(have) if have != want => diffs.push(format!(
                        "{name}{mode}: flow {key}: tshark {} pkts {} bytes, pktstat {} pkts {} bytes (frames {:?})",
                        want.packets,
                        want.bytes,
                        have.packets,
                        have.bytes,
                        exp.frames_of(key)
                    )),
                    Some(_) => {}
                }
            }
            for (key, have) in &got {
                if !exp.flows.contains_key(key) {
                    diffs.push(format!(
                        "{name}{mode}: extra flow {key}: pktstat {} pkts {} bytes, not in tshark's dissection",
                        have.packets, have.bytes
                    ));
                }
            }
        }
    }

    let mut args = vec!["-r", file];
    if per_vlan {
        args.push("-v");
    }
    let text = pktstat(&args);
    if text.code != 0 {
        diffs.push(format!(
            "{name}{mode}: `pktstat -r {name}` exited {}: {}",
            text.code,
            text.stderr.trim()
        ));
    }
    match text_totals(&text.stdout) {
        None => diffs.push(format!(
            "{name}{mode}: no `Read total packets: N, total bytes: N` line in:\n{}",
            text.stdout
        )),
        Some(t) if t != (exp.packets, exp.bytes) => diffs.push(format!(
            "{name}{mode}: totals: tshark {} pkts {} bytes, pktstat {} pkts {} bytes",
            exp.packets, exp.bytes, t.0, t.1
        )),
        Some(_) => {}
    }
    diffs
}

pub fn assert_agree(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "pktstat disagrees with tshark:\n{}",
        diffs.join("\n")
    );
}
