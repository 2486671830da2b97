//! The text report: upstream's flow lines, then the totals and summary lines.
//!
//! Flow lines keep upstream's format so that existing scripts still parse them:
//!
//! ```text
//! bitrate: 3.02 Kbps, packets: 8, bytes: 1889, proto: UDP, src: 94.199.252.18:1194, dst: 192.168.1.44:60471
//! bitrate: 640.00 bps, packets: 1, bytes: 80, proto: TCP, src: [2001:db8::1]:443, dst: [2001:db8::2]:50000
//! bitrate: 1.60 Kbps, packets: 2, bytes: 200, proto: ICMPv4, src: 10.0.0.1, dst: 10.0.0.2, type: 8, code: 0
//! bitrate: 4.80 Kbps, packets: 3, bytes: 600, proto: IPv4, src: 10.0.0.1, dst: 10.0.0.2, ipproto: 47
//! ```
//!
//! TCP and UDP show ports; rows with an ICMP type and code end with `, type: T, code: C`;
//! any other protocol is named by its address family and ends with `, ipproto: N`. Then
//! `, vlan: N` (with `-v`, tagged flows only) and `, iface: NAME` (live on `any`; the index
//! when the name is unknown).
//!
//! After the flows: a blank line, upstream's totals line, and short summary lines, each
//! starting with a fixed label so that `grep '^label:'` finds it:
//!
//! ```text
//! Read total packets: 20, total bytes: 5000 in 5.00 seconds
//! families: IPv4 packets: 15, bytes: 4000; IPv6 packets: 3, bytes: 800; non-IP packets: 1, bytes: 60; malformed packets: 1, bytes: 140
//! protocols: TCP packets: 8, bytes: 2500; UDP packets: 6, bytes: 1500; ICMPv4 packets: 2, bytes: 200; ICMPv6 packets: 1, bytes: 300; other IP packets: 1, bytes: 300
//! other flows: 12, packets: 40, bytes: 5000
//! kernel drops: 5, total: 12
//! running total packets: 900, total bytes: 120000
//! flow table: 3 of 65536 flows
//! ```
//!
//! * `families` and `protocols` are the two partitions of the protocol summary (SPEC §3):
//!   every frame is one family; every IP frame is one protocol.
//! * `other flows` (flows evicted from the full table, and their packets and bytes) appears
//!   only when the table overflowed.
//! * `kernel drops` (this interval, and since start) appears only on live captures.
//! * `running total` (since start) appears only with `-l`.
//! * `flow table` is always last: flows in the table and its capacity.

use core::fmt::{self, Write as _};

use heapless::Vec;

use super::{
    bitrate, duration_nanos, format_bitrate, IfaceLabel, IfaceNames, ReportInfo, Seconds2, Sink,
    SinkError,
};
use crate::flow::{Addr, Counters, Flow};

/// Bytes buffered before the sink is called: every line of a report fits, so each line is
/// one `Sink::write`; a longer one is written in pieces.
const LINE: usize = 512;

/// A `fmt::Write` line buffer in front of a [`Sink`]; spills into the sink when full.
pub(crate) struct LineWriter<'s, S: Sink + ?Sized> {
    buf: Vec<u8, LINE>,
    sink: &'s mut S,
    error: Option<SinkError>,
}

impl<'s, S: Sink + ?Sized> LineWriter<'s, S> {
    pub(crate) fn new(sink: &'s mut S) -> Self {
        LineWriter {
            buf: Vec::new(),
            sink,
            error: None,
        }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.buf.is_empty() {
            let r = self.sink.write(&self.buf);
            self.buf.clear();
            if let Err(e) = r {
                self.error = Some(e);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Ends a line formatted with `write!`: maps a formatting failure to the sink's error,
    /// appends `\n` and hands the line to the sink.
    pub(crate) fn end_line(&mut self, formatted: fmt::Result) -> Result<(), SinkError> {
        if formatted.is_err() {
            return Err(self.error.unwrap_or(SinkError));
        }
        self.write_str("\n")
            .map_err(|_| self.error.unwrap_or(SinkError))?;
        self.flush()
    }
}

impl<S: Sink + ?Sized> fmt::Write for LineWriter<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            let room = LINE - self.buf.len();
            if room == 0 {
                self.flush().map_err(|_| fmt::Error)?;
                continue;
            }
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buf.extend_from_slice(now).map_err(|_| fmt::Error)?;
            rest = later;
        }
        Ok(())
    }
}

/// An endpoint: `a.b.c.d:port`, `[v6]:port`, or the bare address without a port.
struct Endpoint(Addr, Option<u16>);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.1, self.0.is_v6()) {
            (None, _) => write!(f, "{}", self.0),
            (Some(p), false) => write!(f, "{}:{}", self.0, p),
            (Some(p), true) => write!(f, "[{}]:{}", self.0, p),
        }
    }
}

/// Writes one flow line, without the newline.
fn flow_line(
    w: &mut impl fmt::Write,
    flow: &Flow,
    info: &ReportInfo<'_>,
    names: &dyn IfaceNames,
) -> fmt::Result {
    let k = &flow.key;
    let rate = bitrate(flow.counters.bytes, info.start, info.end);
    let (sp, dp) = if k.shows_ports() {
        (Some(k.src_port), Some(k.dst_port))
    } else {
        (None, None)
    };
    write!(
        w,
        "bitrate: {}, packets: {}, bytes: {}, proto: {}, src: {}, dst: {}",
        format_bitrate(rate),
        flow.counters.packets,
        flow.counters.bytes,
        k.proto_label(),
        Endpoint(k.src, sp),
        Endpoint(k.dst, dp),
    )?;
    if k.has_icmp {
        write!(w, ", type: {}, code: {}", k.icmp_type, k.icmp_code)?;
    }
    if matches!(k.proto_label(), "IPv4" | "IPv6") {
        write!(w, ", ipproto: {}", k.proto)?;
    }
    if info.show_vlan && k.vlan != 0 {
        write!(w, ", vlan: {}", k.vlan)?;
    }
    if info.show_iface {
        write!(w, ", iface: {}", IfaceLabel::of(k, names))?;
    }
    Ok(())
}

/// `NAME packets: N, bytes: N`.
struct Part<'a>(&'a str, Counters);

impl fmt::Display for Part<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} packets: {}, bytes: {}",
            self.0, self.1.packets, self.1.bytes
        )
    }
}

/// Writes the text report of `flows` (already sorted and cut to `-n`).
pub fn render<S: Sink + ?Sized>(
    flows: &[Flow],
    info: &ReportInfo<'_>,
    names: &dyn IfaceNames,
    sink: &mut S,
) -> Result<(), SinkError> {
    let mut w = LineWriter::new(sink);
    for flow in flows {
        let r = flow_line(&mut w, flow, info, names);
        w.end_line(r)?;
    }
    w.end_line(Ok(()))?;

    let st = info.stats;
    let r = write!(
        w,
        "Read total packets: {}, total bytes: {} in {} seconds",
        st.totals.packets,
        st.totals.bytes,
        Seconds2(duration_nanos(info.start, info.end))
    );
    w.end_line(r)?;

    let s = &st.summary;
    let r = write!(
        w,
        "families: {}; {}; {}; {}",
        Part("IPv4", s.ipv4),
        Part("IPv6", s.ipv6),
        Part("non-IP", s.non_ip),
        Part("malformed", s.malformed)
    );
    w.end_line(r)?;
    let r = write!(
        w,
        "protocols: {}; {}; {}; {}; {}",
        Part("TCP", s.tcp),
        Part("UDP", s.udp),
        Part("ICMPv4", s.icmpv4),
        Part("ICMPv6", s.icmpv6),
        Part("other IP", s.other_ip)
    );
    w.end_line(r)?;

    if st.evicted_flows != 0 || st.other.packets != 0 {
        let r = write!(
            w,
            "other flows: {}, packets: {}, bytes: {}",
            st.evicted_flows, st.other.packets, st.other.bytes
        );
        w.end_line(r)?;
    }
    if let Some(d) = info.drops {
        let r = write!(w, "kernel drops: {}, total: {}", d.interval, d.total);
        w.end_line(r)?;
    }
    if let Some(run) = info.running {
        let r = write!(
            w,
            "running total packets: {}, total bytes: {}",
            run.packets, run.bytes
        );
        w.end_line(r)?;
    }
    let r = write!(
        w,
        "flow table: {} of {} flows",
        info.table_len, info.table_capacity
    );
    w.end_line(r)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{render as render_report, Drops, Format, NoNames};
    use super::*;
    use crate::flow::{ipproto, Counters};
    use std::string::String;
    use std::vec::Vec;

    fn line(flow: Flow, info: &ReportInfo<'_>) -> String {
        let mut s = String::new();
        flow_line(&mut s, &flow, info, &Names).unwrap();
        s
    }

    #[test]
    fn upstream_udp_line() {
        let st = stats();
        let mut info = info(&st);
        info.end = Timestamp::from_parts(1_795_713_837, 0);
        let f = ported(
            ipproto::UDP,
            v4([94, 199, 252, 18]),
            1194,
            v4([192, 168, 1, 44]),
            60471,
            8,
            1889,
        );
        assert_eq!(
            line(f, &info),
            "bitrate: 3.02 Kbps, packets: 8, bytes: 1889, proto: UDP, \
             src: 94.199.252.18:1194, dst: 192.168.1.44:60471"
        );
    }

    use crate::link::Timestamp;

    #[test]
    fn tcp_v6_icmp_and_other_lines() {
        let st = stats();
        let info = info(&st); // 5 seconds
        let a6 = v6("2001:db8::1");
        let b6 = v6("2001:db8::2");
        let cases = [
            (
                ported(ipproto::TCP, a6, 443, b6, 50000, 1, 400),
                "bitrate: 640.00 bps, packets: 1, bytes: 400, proto: TCP, \
                 src: [2001:db8::1]:443, dst: [2001:db8::2]:50000",
            ),
            (
                ported(
                    ipproto::TCP,
                    v4([10, 0, 0, 1]),
                    22,
                    v4([10, 0, 0, 2]),
                    0,
                    3,
                    0,
                ),
                "bitrate: 0.00 bps, packets: 3, bytes: 0, proto: TCP, \
                 src: 10.0.0.1:22, dst: 10.0.0.2:0",
            ),
            (
                ported(ipproto::UDP, a6, 53, b6, 5353, 2, 625_000),
                "bitrate: 1.00 Mbps, packets: 2, bytes: 625000, proto: UDP, \
                 src: [2001:db8::1]:53, dst: [2001:db8::2]:5353",
            ),
            (
                icmp(
                    ipproto::ICMP,
                    v4([10, 0, 0, 1]),
                    v4([10, 0, 0, 2]),
                    8,
                    0,
                    2,
                    1000,
                ),
                "bitrate: 1.60 Kbps, packets: 2, bytes: 1000, proto: ICMPv4, \
                 src: 10.0.0.1, dst: 10.0.0.2, type: 8, code: 0",
            ),
            (
                icmp(ipproto::ICMPV6, a6, b6, 135, 0, 1, 86),
                "bitrate: 137.60 bps, packets: 1, bytes: 86, proto: ICMPv6, \
                 src: 2001:db8::1, dst: 2001:db8::2, type: 135, code: 0",
            ),
            (
                ported(47, v4([10, 0, 0, 1]), 0, v4([10, 0, 0, 2]), 0, 3, 3000),
                "bitrate: 4.80 Kbps, packets: 3, bytes: 3000, proto: IPv4, \
                 src: 10.0.0.1, dst: 10.0.0.2, ipproto: 47",
            ),
            (
                ported(132, a6, 0, b6, 0, 1, 5),
                "bitrate: 8.00 bps, packets: 1, bytes: 5, proto: IPv6, \
                 src: 2001:db8::1, dst: 2001:db8::2, ipproto: 132",
            ),
            (
                // A non-first ICMP fragment: no type/code, still named ICMPv4.
                ported(
                    ipproto::ICMP,
                    v4([10, 0, 0, 1]),
                    0,
                    v4([10, 0, 0, 2]),
                    0,
                    1,
                    1500,
                ),
                "bitrate: 2.40 Kbps, packets: 1, bytes: 1500, proto: ICMPv4, \
                 src: 10.0.0.1, dst: 10.0.0.2",
            ),
            (
                // ICMPv4's number over IPv6 is just another protocol.
                ported(ipproto::ICMP, a6, 0, b6, 0, 1, 5),
                "bitrate: 8.00 bps, packets: 1, bytes: 5, proto: IPv6, \
                 src: 2001:db8::1, dst: 2001:db8::2, ipproto: 1",
            ),
        ];
        for (flow, want) in cases {
            assert_eq!(line(flow, &info), want);
        }
    }

    #[test]
    fn vlan_and_iface_suffixes() {
        let st = stats();
        let mut info = info(&st);
        let mut f = ported(
            ipproto::UDP,
            v4([1, 2, 3, 4]),
            1,
            v4([5, 6, 7, 8]),
            2,
            1,
            625,
        );
        f.key.vlan = 100;
        f.key.ifindex = 2;
        let base = "bitrate: 1.00 Kbps, packets: 1, bytes: 625, proto: UDP, \
                    src: 1.2.3.4:1, dst: 5.6.7.8:2";
        assert_eq!(line(f, &info), base);
        info.show_vlan = true;
        assert_eq!(line(f, &info), std::format!("{base}, vlan: 100"));
        info.show_iface = true;
        assert_eq!(
            line(f, &info),
            std::format!("{base}, vlan: 100, iface: eth0")
        );
        f.key.vlan = 0; // untagged: no vlan column even with -v
        f.key.ifindex = 9; // no name: the index
        assert_eq!(line(f, &info), std::format!("{base}, iface: 9"));
        f.key.ifindex = 4; // long names are cut at a char boundary
        let l = line(f, &info);
        let name = l.rsplit("iface: ").next().unwrap();
        assert_eq!(name.len(), 64);
        assert!(name.chars().all(|c| c == 'é'));
    }

    #[test]
    fn whole_report_with_summary_lines() {
        let mut st = stats();
        st.other = Counters {
            packets: 40,
            bytes: 5000,
        };
        st.evicted_flows = 12;
        let mut info = info(&st);
        info.drops = Some(Drops {
            interval: 5,
            total: 12,
        });
        info.running = Some(Counters {
            packets: 900,
            bytes: 120_000,
        });
        info.top = Some(2);
        let mut flows = [
            ported(
                ipproto::TCP,
                v4([10, 0, 0, 1]),
                1,
                v4([10, 0, 0, 2]),
                2,
                1,
                100,
            ),
            ported(
                ipproto::TCP,
                v4([10, 0, 0, 3]),
                1,
                v4([10, 0, 0, 2]),
                2,
                1,
                300,
            ),
            ported(
                ipproto::TCP,
                v4([10, 0, 0, 2]),
                1,
                v4([10, 0, 0, 2]),
                2,
                1,
                200,
            ),
        ];
        let mut sink = VecSink::default();
        render_report(Format::Text, &mut flows, &info, &NoNames, &mut sink).unwrap();
        let want = "\
bitrate: 480.00 bps, packets: 1, bytes: 300, proto: TCP, src: 10.0.0.3:1, dst: 10.0.0.2:2
bitrate: 320.00 bps, packets: 1, bytes: 200, proto: TCP, src: 10.0.0.2:1, dst: 10.0.0.2:2

Read total packets: 20, total bytes: 5000 in 5.00 seconds
families: IPv4 packets: 15, bytes: 4000; IPv6 packets: 3, bytes: 800; non-IP packets: 1, bytes: 60; malformed packets: 1, bytes: 140
protocols: TCP packets: 8, bytes: 2500; UDP packets: 6, bytes: 1500; ICMPv4 packets: 2, bytes: 200; ICMPv6 packets: 1, bytes: 300; other IP packets: 1, bytes: 300
other flows: 12, packets: 40, bytes: 5000
kernel drops: 5, total: 12
running total packets: 900, total bytes: 120000
flow table: 3 of 65536 flows
";
        assert_eq!(sink.text(), want);
    }

    #[test]
    fn optional_lines_absent_and_empty_report() {
        let st = IntervalStats::default();
        let mut info = info(&st);
        info.end = info.start;
        info.table_len = 0;
        let mut sink = VecSink::default();
        render_report(Format::Text, &mut [], &info, &NoNames, &mut sink).unwrap();
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(
            lines[1],
            "Read total packets: 0, total bytes: 0 in 0.00 seconds"
        );
        assert!(lines[2].starts_with("families: "));
        assert!(lines[3].starts_with("protocols: "));
        assert_eq!(lines[4], "flow table: 0 of 65536 flows");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn sink_errors_stop_the_report() {
        let st = stats();
        let info = info(&st);
        let mut flows = [ported(6, v4([1; 4]), 1, v4([2; 4]), 2, 1, 1)];
        for budget in 0..6 {
            let mut sink = FailAfter(budget);
            assert_eq!(
                render_report(Format::Text, &mut flows, &info, &NoNames, &mut sink),
                Err(SinkError)
            );
        }
        let mut sink = FailAfter(7);
        assert_eq!(
            render_report(Format::Text, &mut flows, &info, &NoNames, &mut sink),
            Ok(())
        );
    }

    #[test]
    fn long_lines_spill_in_pieces() {
        let mut sink = VecSink::default();
        let mut w = LineWriter::new(&mut sink);
        let long = "x".repeat(LINE * 2 + 7);
        let r = w.write_str(&long);
        w.end_line(r).unwrap();
        assert_eq!(sink.0.len(), LINE * 2 + 8);
    }

    use crate::stats::IntervalStats;
}
