//! `--jsonl`: JSON Lines for log shippers (SPEC §6).
//!
//! One object per line, each written as soon as it is serialized: first a flow line per
//! flow (at most `-n`), with the `-j` keys plus the report's span,
//!
//! ```text
//! {"type":"flow","srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":1194,"dstPort":60471,"size":1889,"packets":8,"bitrate":3022.4,"proto":"UDP","ipProto":17,"start":"2026-11-26T17:23:52.000000Z","end":"2026-11-26T17:23:57.000000Z"}
//! ```
//!
//! then exactly one summary line per report (never limited by `-n`):
//!
//! ```text
//! {"type":"summary","start":"…","end":"…","duration":5.0,"packets":20,"bytes":5000,
//!  "protocols":{"ipv4":{"packets":15,"bytes":4000},"ipv6":{…},"nonIp":{…},"malformed":{…},
//!               "tcp":{…},"udp":{…},"icmpv4":{…},"icmpv6":{…},"otherIp":{…}},
//!  "drops":{"interval":5,"total":12},"table":{"flows":3,"capacity":65536},
//!  "other":{"flows":0,"packets":0,"bytes":0},"running":{"packets":900,"bytes":120000}}
//! ```
//!
//! (shown wrapped; it is one line). `start`/`end` are RFC 3339 UTC with microseconds;
//! `duration` is in seconds; `packets`/`bytes` are the report's totals (every frame, IP or
//! not); `protocols` holds both partitions of the protocol summary; `drops` is `null` when
//! the capture has no kernel counters (files); `other` is the `other flows` row (all zero
//! unless the table overflowed); `running` (totals since start) is present only with `-l`.

use serde::Serialize;

use super::json::{write_json, FlowJson, Shown, FLOW_BUF};
use super::{duration_secs, IfaceNames, ReportInfo, Rfc3339, Sink, SinkError};
use crate::flow::{Counters, Flow};
use crate::stats::ProtoSummary;

/// The largest summary line (every counter at `u64::MAX`) is about 1,100 bytes.
const SUMMARY_BUF: usize = 2048;

/// `{"packets":N,"bytes":N}`.
#[derive(Serialize)]
struct CountersJson {
    packets: u64,
    bytes: u64,
}

impl From<Counters> for CountersJson {
    fn from(c: Counters) -> Self {
        CountersJson {
            packets: c.packets,
            bytes: c.bytes,
        }
    }
}

/// Both partitions of the protocol summary.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProtocolsJson {
    ipv4: CountersJson,
    ipv6: CountersJson,
    non_ip: CountersJson,
    malformed: CountersJson,
    tcp: CountersJson,
    udp: CountersJson,
    icmpv4: CountersJson,
    icmpv6: CountersJson,
    other_ip: CountersJson,
}

impl From<&ProtoSummary> for ProtocolsJson {
    fn from(s: &ProtoSummary) -> Self {
        ProtocolsJson {
            ipv4: s.ipv4.into(),
            ipv6: s.ipv6.into(),
            non_ip: s.non_ip.into(),
            malformed: s.malformed.into(),
            tcp: s.tcp.into(),
            udp: s.udp.into(),
            icmpv4: s.icmpv4.into(),
            icmpv6: s.icmpv6.into(),
            other_ip: s.other_ip.into(),
        }
    }
}

#[derive(Serialize)]
struct DropsJson {
    interval: u64,
    total: u64,
}

#[derive(Serialize)]
struct TableJson {
    flows: u64,
    capacity: u64,
}

#[derive(Serialize)]
struct OtherJson {
    flows: u64,
    packets: u64,
    bytes: u64,
}

/// The summary line. Field order is the key order.
#[derive(Serialize)]
struct SummaryJson {
    #[serde(rename = "type")]
    kind: &'static str,
    start: Shown<Rfc3339>,
    end: Shown<Rfc3339>,
    duration: f64,
    packets: u64,
    bytes: u64,
    protocols: ProtocolsJson,
    /// `null` without kernel counters.
    drops: Option<DropsJson>,
    table: TableJson,
    other: OtherJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<CountersJson>,
}

impl SummaryJson {
    fn new(info: &ReportInfo<'_>) -> Self {
        let st = info.stats;
        SummaryJson {
            kind: "summary",
            start: Shown(Rfc3339(info.start)),
            end: Shown(Rfc3339(info.end)),
            duration: duration_secs(info.start, info.end),
            packets: st.totals.packets,
            bytes: st.totals.bytes,
            protocols: (&st.summary).into(),
            drops: info.drops.map(|d| DropsJson {
                interval: d.interval,
                total: d.total,
            }),
            table: TableJson {
                flows: info.table_len as u64,
                capacity: info.table_capacity as u64,
            },
            other: OtherJson {
                flows: st.evicted_flows,
                packets: st.other.packets,
                bytes: st.other.bytes,
            },
            running: info.running.map(CountersJson::from),
        }
    }
}

/// Writes the `--jsonl` lines of `flows` (already sorted and cut to `-n`) and the summary.
pub fn render<S: Sink + ?Sized>(
    flows: &[Flow],
    info: &ReportInfo<'_>,
    names: &dyn IfaceNames,
    sink: &mut S,
) -> Result<(), SinkError> {
    for flow in flows {
        let mut obj = FlowJson::new(flow, info, names);
        obj.kind = Some("flow");
        obj.start = Some(Shown(Rfc3339(info.start)));
        obj.end = Some(Shown(Rfc3339(info.end)));
        write_json::<_, _, FLOW_BUF>(sink, b"", &obj, b"\n")?;
    }
    write_json::<_, _, SUMMARY_BUF>(sink, b"", &SummaryJson::new(info), b"\n")
}

#[cfg(test)]
mod tests {
    use super::super::json::tests::Check;
    use super::super::testutil::*;
    use super::super::{render as render_report, Drops, Format, NoNames};
    use super::*;
    use crate::flow::ipproto;
    use crate::stats::IntervalStats;
    use std::vec::Vec;

    #[test]
    fn flow_and_summary_lines() {
        let st = stats();
        let mut info = info(&st);
        info.top = Some(1);
        info.show_vlan = true;
        let mut flows = [
            ported(
                ipproto::UDP,
                v4([10, 0, 0, 1]),
                1194,
                v4([10, 0, 0, 2]),
                60471,
                8,
                1889,
            ),
            ported(
                ipproto::TCP,
                v4([10, 0, 0, 1]),
                1,
                v4([10, 0, 0, 2]),
                2,
                1,
                60,
            ),
        ];
        flows[0].key.vlan = 42;
        let mut sink = VecSink::default();
        render_report(Format::JsonLines, &mut flows, &info, &NoNames, &mut sink).unwrap();
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[0],
            r#"{"type":"flow","srcIp":"10.0.0.1","dstIp":"10.0.0.2","srcPort":1194,"dstPort":60471,"size":1889,"packets":8,"bitrate":3022.4,"proto":"UDP","ipProto":17,"vlan":42,"start":"2026-11-26T17:23:52.000000Z","end":"2026-11-26T17:23:57.000000Z"}"#
        );
        assert_eq!(
            lines[1],
            concat!(
                r#"{"type":"summary","start":"2026-11-26T17:23:52.000000Z","end":"2026-11-26T17:23:57.000000Z","#,
                r#""duration":5.0,"packets":20,"bytes":5000,"protocols":{"ipv4":{"packets":15,"bytes":4000},"#,
                r#""ipv6":{"packets":3,"bytes":800},"nonIp":{"packets":1,"bytes":60},"malformed":{"packets":1,"bytes":140},"#,
                r#""tcp":{"packets":8,"bytes":2500},"udp":{"packets":6,"bytes":1500},"icmpv4":{"packets":2,"bytes":200},"#,
                r#""icmpv6":{"packets":1,"bytes":300},"otherIp":{"packets":1,"bytes":300}},"drops":null,"#,
                r#""table":{"flows":3,"capacity":65536},"other":{"flows":0,"packets":0,"bytes":0}}"#
            )
        );
        for l in &lines {
            Check::parse(l);
        }
    }

    #[test]
    fn summary_with_drops_running_and_overflow() {
        let mut st = stats();
        st.evicted_flows = 12;
        st.other = Counters {
            packets: 40,
            bytes: 5000,
        };
        let mut info = info(&st);
        info.drops = Some(Drops {
            interval: 5,
            total: 12,
        });
        info.running = Some(Counters {
            packets: 900,
            bytes: 120_000,
        });
        info.start = Timestamp::from_parts(-1, 250_000_000);
        info.end = Timestamp::from_parts(0, 500_000_000);
        let mut sink = VecSink::default();
        render_report(Format::JsonLines, &mut [], &info, &NoNames, &mut sink).unwrap();
        let text = sink.text();
        assert!(text.ends_with("}\n"));
        assert_eq!(text.matches('\n').count(), 1);
        let keys = Check::parse(text.trim_end());
        assert_eq!(
            keys,
            [
                "type",
                "start",
                "end",
                "duration",
                "packets",
                "bytes",
                "protocols",
                "drops",
                "table",
                "other",
                "running"
            ]
        );
        assert!(text.contains(r#""start":"1969-12-31T23:59:59.250000Z","end":"1970-01-01T00:00:00.500000Z","duration":1.25,"#));
        assert!(text.contains(r#""drops":{"interval":5,"total":12}"#));
        assert!(text.contains(r#""other":{"flows":12,"packets":40,"bytes":5000}"#));
        assert!(text.ends_with("\"running\":{\"packets\":900,\"bytes\":120000}}\n"));
    }

    use crate::link::Timestamp;

    #[test]
    fn worst_case_summary_fits() {
        let max = Counters {
            packets: u64::MAX,
            bytes: u64::MAX,
        };
        let mut st = IntervalStats {
            totals: max,
            other: max,
            evicted_flows: u64::MAX,
            ..IntervalStats::default()
        };
        let s = &mut st.summary;
        for c in [
            &mut s.ipv4,
            &mut s.ipv6,
            &mut s.non_ip,
            &mut s.malformed,
            &mut s.tcp,
            &mut s.udp,
            &mut s.icmpv4,
            &mut s.icmpv6,
            &mut s.other_ip,
        ] {
            *c = max;
        }
        let mut info = info(&st);
        info.start = Timestamp(i64::MIN);
        info.end = Timestamp(i64::MAX - 1);
        info.drops = Some(Drops {
            interval: u64::MAX,
            total: u64::MAX,
        });
        info.running = Some(max);
        info.table_len = usize::MAX;
        info.table_capacity = usize::MAX;
        let mut sink = VecSink::default();
        render_report(Format::JsonLines, &mut [], &info, &NoNames, &mut sink).unwrap();
        let text = sink.text();
        assert!(text.len() < SUMMARY_BUF - 500, "{}", text.len());
        Check::parse(text.trim_end());
    }

    #[test]
    fn same_input_same_bytes() {
        let st = stats();
        let info = info(&st);
        let base = [
            ported(6, v4([1; 4]), 1, v4([2; 4]), 2, 3, 30),
            ported(17, v4([1; 4]), 1, v4([2; 4]), 2, 3, 30),
            ported(6, v6("::1"), 1, v6("::2"), 2, 3, 30),
            icmp(1, v4([1; 4]), v4([2; 4]), 0, 0, 3, 30),
        ];
        let mut outputs = Vec::new();
        for rot in 0..2 * base.len() {
            let mut flows = base;
            flows.rotate_left(rot % base.len());
            if rot >= base.len() {
                flows.reverse();
            }
            let mut sink = VecSink::default();
            for f in [Format::Text, Format::Json, Format::JsonLines] {
                render_report(f, &mut flows, &info, &NoNames, &mut sink).unwrap();
            }
            outputs.push(sink.0);
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    }
}
