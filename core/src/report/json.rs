//! `-j`: one JSON array per report, on one line (SPEC §6).
//!
//! ```text
//! [{"srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":1194,"dstPort":60471,"size":1889,"packets":8,"bitrate":3022.4,"proto":"UDP","ipProto":17},…]
//! ```
//!
//! Upstream's keys first, in upstream's order — `srcIp`, `dstIp`, `srcPort`, `dstPort`,
//! `size` (bytes), `packets`, `bitrate` (bits per second), `proto` — then `ipProto`,
//! `icmpType` and `icmpCode` (ICMP flows only), `vlan` (with `-v`, tagged flows only) and
//! `iface` (live on `any`: the interface's name, or its index as a string when the name is
//! unknown, so the key always holds a string). Ports are 0 for protocols without ports.
//! The array holds real flows only; totals and the `other flows` row are in the text summary
//! and the `--jsonl` summary line.
//!
//! Each object is serialized by `serde-json-core` into a fixed stack buffer and written on
//! its own, so the array is streamed: `[`, the objects separated by `,`, then `]` and a
//! newline. `bitrate` is written by `ryu` (shortest representation that reads back to the
//! same `f64`; integer arithmetic, identical on every target), always a valid JSON number:
//! `0.0`, `3022.4`, `1.5e17`.

use core::fmt;

use serde::{Serialize, Serializer};

use super::{bitrate, IfaceLabel, IfaceNames, ReportInfo, Rfc3339, Sink, SinkError};
use crate::flow::Flow;

/// The largest serialized flow object: two IPv6 addresses, every number at its maximum, a
/// [`super::MAX_IFACE_NAME`]-byte name fully escaped (`\u00XX`), `start` and `end`: about
/// 800 bytes.
pub(crate) const FLOW_BUF: usize = 1024;

/// A value shown through its `Display` form as a JSON string.
pub(crate) struct Shown<T>(pub T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// One flow as `-j` and `--jsonl` show it. Field order is the key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlowJson<'a> {
    /// `"flow"` in `--jsonl`; absent in `-j`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub src_ip: Shown<crate::flow::Addr>,
    pub dst_ip: Shown<crate::flow::Addr>,
    pub src_port: u16,
    pub dst_port: u16,
    pub size: u64,
    pub packets: u64,
    pub bitrate: f64,
    pub proto: &'static str,
    pub ip_proto: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iface: Option<Shown<IfaceLabel<'a>>>,
    /// `--jsonl` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Shown<Rfc3339>>,
    /// `--jsonl` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Shown<Rfc3339>>,
}

impl<'a> FlowJson<'a> {
    /// The `-j` object of `flow`.
    pub(crate) fn new(flow: &Flow, info: &ReportInfo<'_>, names: &'a dyn IfaceNames) -> Self {
        let k = &flow.key;
        FlowJson {
            kind: None,
            src_ip: Shown(k.src),
            dst_ip: Shown(k.dst),
            src_port: k.src_port,
            dst_port: k.dst_port,
            size: flow.counters.bytes,
            packets: flow.counters.packets,
            bitrate: bitrate(flow.counters.bytes, info.start, info.end),
            proto: k.proto_label(),
            ip_proto: k.proto,
            icmp_type: k.has_icmp.then_some(k.icmp_type),
            icmp_code: k.has_icmp.then_some(k.icmp_code),
            vlan: (info.show_vlan && k.vlan != 0).then_some(k.vlan),
            iface: info.show_iface.then(|| Shown(IfaceLabel::of(k, names))),
            start: None,
            end: None,
        }
    }
}

/// Serializes `value` into a `N`-byte stack buffer and writes it, followed by `suffix`, in
/// one `Sink::write`. A value that does not fit (the buffers are sized for the largest
/// record, so this does not happen) is reported as a sink error rather than cut.
pub(crate) fn write_json<T: Serialize, S: Sink + ?Sized, const N: usize>(
    sink: &mut S,
    prefix: &[u8],
    value: &T,
    suffix: &[u8],
) -> Result<(), SinkError> {
    let mut buf = [0u8; N];
    let head = prefix.len().min(N);
    buf[..head].copy_from_slice(&prefix[..head]);
    let body = buf.get_mut(head..).ok_or(SinkError)?;
    let n = serde_json_core::to_slice(value, body).map_err(|_| SinkError)?;
    let end = head + n;
    let tail = buf.get_mut(end..end + suffix.len()).ok_or(SinkError)?;
    tail.copy_from_slice(suffix);
    sink.write(buf.get(..end + suffix.len()).ok_or(SinkError)?)
}

/// Writes the `-j` array of `flows` (already sorted and cut to `-n`).
pub fn render<S: Sink + ?Sized>(
    flows: &[Flow],
    info: &ReportInfo<'_>,
    names: &dyn IfaceNames,
    sink: &mut S,
) -> Result<(), SinkError> {
    let mut sep: &[u8] = b"[";
    for flow in flows {
        write_json::<_, _, FLOW_BUF>(sink, sep, &FlowJson::new(flow, info, names), b"")?;
        sep = b",";
    }
    if flows.is_empty() {
        sink.write(b"[]\n")
    } else {
        sink.write(b"]\n")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::testutil::*;
    use super::super::{render as render_report, Format, NoNames};
    use super::*;
    use crate::flow::{ipproto, Addr, Counters, FlowKey};
    use std::string::String;
    use std::vec::Vec;

    /// A minimal JSON validator for the tests: returns the top-level object keys in order
    /// (for an object) or panics on anything that is not JSON.
    pub(crate) struct Check<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl<'a> Check<'a> {
        pub(crate) fn parse(text: &'a str) -> Vec<String> {
            let mut c = Check {
                s: text.as_bytes(),
                i: 0,
            };
            let keys = c.value();
            c.ws();
            assert_eq!(c.i, c.s.len(), "trailing bytes in {text}");
            keys
        }
        fn ws(&mut self) {
            while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
                self.i += 1;
            }
        }
        fn eat(&mut self, b: u8) {
            self.ws();
            assert_eq!(self.s.get(self.i), Some(&b), "at {}", self.i);
            self.i += 1;
        }
        fn peek(&mut self) -> u8 {
            self.ws();
            *self.s.get(self.i).expect("unexpected end")
        }
        fn value(&mut self) -> Vec<String> {
            match self.peek() {
                b'{' => {
                    self.i += 1;
                    let mut keys = Vec::new();
                    if self.peek() == b'}' {
                        self.i += 1;
                        return keys;
                    }
                    loop {
                        self.ws();
                        keys.push(self.string());
                        self.eat(b':');
                        self.value();
                        match self.peek() {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            c => panic!("bad byte {c} at {}", self.i),
                        }
                    }
                    let mut sorted = keys.clone();
                    sorted.sort();
                    sorted.dedup();
                    assert_eq!(sorted.len(), keys.len(), "duplicate keys");
                    keys
                }
                b'[' => {
                    self.i += 1;
                    if self.peek() == b']' {
                        self.i += 1;
                        return Vec::new();
                    }
                    loop {
                        self.value();
                        match self.peek() {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            c => panic!("bad byte {c} at {}", self.i),
                        }
                    }
                    Vec::new()
                }
                b'"' => {
                    self.string();
                    Vec::new()
                }
                b'n' | b't' | b'f' => {
                    let rest = &self.s[self.i..];
                    let word: &[u8] = if rest.starts_with(b"null") {
                        b"null"
                    } else if rest.starts_with(b"true") {
                        b"true"
                    } else {
                        assert!(rest.starts_with(b"false"));
                        b"false"
                    };
                    self.i += word.len();
                    Vec::new()
                }
                _ => {
                    self.number();
                    Vec::new()
                }
            }
        }
        fn digits(&mut self) -> usize {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            self.i - start
        }
        fn number(&mut self) {
            if self.s[self.i] == b'-' {
                self.i += 1;
            }
            let first = self.s.get(self.i).copied();
            let n = self.digits();
            assert!(n == 1 || (n > 1 && first != Some(b'0')), "bad integer part");
            if self.s.get(self.i) == Some(&b'.') {
                self.i += 1;
                assert!(self.digits() > 0, "bad fraction");
            }
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                assert!(self.digits() > 0, "bad exponent");
            }
        }
        fn string(&mut self) -> String {
            assert_eq!(self.s[self.i], b'"');
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let b = self.s[self.i];
                self.i += 1;
                match b {
                    b'"' => break,
                    b'\\' => {
                        let e = self.s[self.i];
                        self.i += 1;
                        match e {
                            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => out.push(e),
                            b'u' => {
                                let hex =
                                    core::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                                u16::from_str_radix(hex, 16).expect("bad \\u escape");
                                self.i += 4;
                            }
                            _ => panic!("bad escape"),
                        }
                    }
                    0..=0x1f => panic!("control byte in string"),
                    _ => out.push(b),
                }
            }
            String::from_utf8(out).expect("utf-8")
        }
    }

    fn one(flow: Flow, info: &ReportInfo<'_>) -> String {
        let mut sink = VecSink::default();
        write_json::<_, _, FLOW_BUF>(&mut sink, b"", &FlowJson::new(&flow, info, &Names), b"")
            .unwrap();
        sink.text()
    }

    #[test]
    fn exact_objects() {
        let st = stats();
        let mut info = info(&st); // 5 s
        let udp = ported(
            ipproto::UDP,
            v4([94, 199, 252, 18]),
            1194,
            v4([192, 168, 1, 44]),
            60471,
            8,
            1889,
        );
        assert_eq!(
            one(udp, &info),
            r#"{"srcIp":"94.199.252.18","dstIp":"192.168.1.44","srcPort":1194,"dstPort":60471,"size":1889,"packets":8,"bitrate":3022.4,"proto":"UDP","ipProto":17}"#
        );
        let ping = icmp(
            ipproto::ICMPV6,
            v6("2001:db8::1"),
            v6("ff02::1"),
            128,
            0,
            1,
            0,
        );
        assert_eq!(
            one(ping, &info),
            r#"{"srcIp":"2001:db8::1","dstIp":"ff02::1","srcPort":0,"dstPort":0,"size":0,"packets":1,"bitrate":0.0,"proto":"ICMPv6","ipProto":58,"icmpType":128,"icmpCode":0}"#
        );
        let mut gre = ported(47, v4([10, 0, 0, 1]), 0, v4([10, 0, 0, 2]), 0, 2, 625);
        gre.key.vlan = 7;
        gre.key.ifindex = 3;
        assert_eq!(
            one(gre, &info),
            r#"{"srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":0,"dstPort":0,"size":625,"packets":2,"bitrate":1000.0,"proto":"IPv4","ipProto":47}"#
        );
        info.show_vlan = true;
        info.show_iface = true;
        assert_eq!(
            one(gre, &info),
            r#"{"srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":0,"dstPort":0,"size":625,"packets":2,"bitrate":1000.0,"proto":"IPv4","ipProto":47,"vlan":7,"iface":"we\"ird\\\n"}"#
        );
        gre.key.vlan = 0;
        gre.key.ifindex = 12;
        assert_eq!(
            one(gre, &info),
            r#"{"srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":0,"dstPort":0,"size":625,"packets":2,"bitrate":1000.0,"proto":"IPv4","ipProto":47,"iface":"12"}"#
        );
    }

    #[test]
    fn key_order_and_validity() {
        let st = stats();
        let mut info = info(&st);
        info.show_vlan = true;
        info.show_iface = true;
        let mut f = icmp(
            ipproto::ICMP,
            v4([1, 2, 3, 4]),
            v4([5, 6, 7, 8]),
            3,
            4,
            1,
            1,
        );
        f.key.vlan = 1;
        let text = one(f, &info);
        assert_eq!(
            Check::parse(&text),
            [
                "srcIp", "dstIp", "srcPort", "dstPort", "size", "packets", "bitrate", "proto",
                "ipProto", "icmpType", "icmpCode", "vlan", "iface"
            ]
        );
    }

    /// The largest possible object fits the buffer.
    pub(crate) fn worst_flow() -> Flow {
        Flow {
            key: FlowKey {
                src: Addr::v6([0xab; 16]),
                dst: Addr::v6([0xab; 16]),
                src_port: u16::MAX,
                dst_port: u16::MAX,
                ifindex: 3,
                vlan: 4095,
                proto: ipproto::ICMPV6,
                icmp_type: 255,
                icmp_code: 255,
                has_icmp: true,
            },
            counters: Counters {
                packets: u64::MAX,
                bytes: u64::MAX,
            },
        }
    }

    pub(crate) struct Controls;
    impl IfaceNames for Controls {
        fn name(&self, _: u32) -> Option<&str> {
            Some("\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}")
        }
    }

    #[test]
    fn worst_case_object_fits() {
        let st = stats();
        let mut info = info(&st);
        info.show_vlan = true;
        info.show_iface = true;
        info.end = Timestamp(info.start.0 + 1);
        let mut sink = VecSink::default();
        let mut obj = FlowJson::new(&worst_flow(), &info, &Controls);
        obj.kind = Some("flow");
        obj.start = Some(Shown(Rfc3339(info.start)));
        obj.end = Some(Shown(Rfc3339(info.end)));
        write_json::<_, _, FLOW_BUF>(&mut sink, b",", &obj, b"\n").unwrap();
        let text = sink.text();
        // The fixed-width parts are at their maximum; the buffer keeps a margin.
        assert!(
            text.len() > 750 && text.len() < FLOW_BUF - 100,
            "{}",
            text.len()
        );
        Check::parse(&text[1..]);
    }

    use crate::link::Timestamp;

    #[test]
    fn streamed_array() {
        let st = stats();
        let info = info(&st);
        let mut flows = [
            ported(6, v4([1; 4]), 1, v4([2; 4]), 2, 1, 10),
            ported(17, v4([1; 4]), 1, v4([2; 4]), 2, 1, 30),
            ported(6, v6("::1"), 1, v6("::2"), 2, 1, 20),
        ];
        let mut sink = VecSink::default();
        render_report(Format::Json, &mut flows, &info, &NoNames, &mut sink).unwrap();
        let text = sink.text();
        assert!(text.ends_with("]\n"));
        assert_eq!(text.matches('\n').count(), 1);
        Check::parse(&text);
        let sizes: Vec<&str> = text
            .match_indices("\"size\":")
            .map(|(i, _)| &text[i + 7..i + 9])
            .collect();
        assert_eq!(sizes, ["30", "20", "10"]);
        // Streamed: one write per object plus the closing bracket.
        let mut count = Counting(0);
        render_report(Format::Json, &mut flows, &info, &NoNames, &mut count).unwrap();
        assert_eq!(count.0, 4);

        let mut sink = VecSink::default();
        render_report(Format::Json, &mut [], &info, &NoNames, &mut sink).unwrap();
        assert_eq!(sink.text(), "[]\n");

        let mut top = info;
        top.top = Some(1);
        let mut sink = VecSink::default();
        render_report(Format::Json, &mut flows, &top, &NoNames, &mut sink).unwrap();
        assert!(sink.text().starts_with(
            r#"[{"srcIp":"1.1.1.1","dstIp":"2.2.2.2","srcPort":1,"dstPort":2,"size":30,"#
        ));
        assert_eq!(sink.text().matches("srcIp").count(), 1);
    }

    struct Counting(usize);
    impl Sink for Counting {
        fn write(&mut self, _: &[u8]) -> Result<(), SinkError> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn bitrate_numbers_are_valid_json() {
        for v in [
            0.0,
            1.0,
            0.1,
            3022.4,
            1e-9,
            1.5e17,
            1.7976931348623157e308,
            123456789.123,
        ] {
            let mut buf = [0u8; 64];
            let n = serde_json_core::to_slice(&v, &mut buf).unwrap();
            let s = core::str::from_utf8(&buf[..n]).unwrap();
            Check::parse(s);
            assert_eq!(s.parse::<f64>().unwrap(), v);
        }
    }
}
