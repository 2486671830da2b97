//! The accounting engine on a sequence of arbitrary frames, in a tiny table (16 flows, 32
//! slots) so that eviction, the fragment tracker and index rebuilds all run: after every
//! frame the counters must be conserved (SPEC §3–4). A second engine gets the same frames
//! through `account_batch` (in batches cut where the input says): it must end up identical.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pktstat_core::capfile::Packet;
use pktstat_core::engine::{Engine, EngineConfig};
use pktstat_core::flow::Counters;
use pktstat_core::link::{FrameMeta, Timestamp};

#[path = "common.rs"]
mod common;

fn sum(cs: &[Counters]) -> Counters {
    let mut t = Counters::default();
    for c in cs {
        t.merge(*c);
    }
    t
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, mut rest)) = data.split_first() else {
        return;
    };
    let config = EngineConfig {
        per_vlan: cfg & 1 != 0,
        per_iface: cfg & 2 != 0,
    };
    let mut engine: Engine<16, 32> = Engine::new(config);
    let mut batched: Engine<16, 32> = Engine::new(config);
    if cfg & 4 != 0 {
        engine.set_seed([u64::from(cfg), 7]);
        batched.set_seed([u64::from(cfg), 7]);
    }
    let mut pending: Vec<Packet<'_>> = Vec::new();
    let mut running = Counters::default();
    let mut n = 0i64;
    // Frames: [control][len][link selector...][bytes...]
    while rest.len() >= 2 {
        let ctl = rest[0];
        let len = usize::from(rest[1]).min(rest.len() - 2);
        let (frame_in, tail) = rest[2..].split_at(len);
        rest = tail;
        let (link, frame) = common::link_type(frame_in);
        let meta = FrameMeta {
            // Wire length: the captured bytes, or more (a snap length cut the frame).
            wire_len: frame.len() as u32 + u32::from(ctl >> 4) * 100,
            ts: Timestamp(n),
            ifindex: u32::from(ctl & 3),
            vlan_tci: if ctl & 4 != 0 { Some(u16::from(ctl) << 4) } else { None },
            ..FrameMeta::default()
        };
        n += 1;
        engine.account(link, frame, &meta);
        pending.push(Packet {
            link,
            data: frame,
            meta,
        });
        running.add(meta.wire_len);
        // The batch ends here when the input says so (and before anything that touches the
        // table from outside): both engines must then be identical.
        if ctl & 0x18 != 0 || ctl == 0xff || rest.len() < 2 {
            batched.account_batch(&pending);
            pending.clear();
            assert_eq!(batched.stats(), engine.stats(), "batch vs one by one: stats");
            assert_eq!(batched.flows(), engine.flows(), "batch vs one by one: flows");
        }
        if ctl & 8 != 0 {
            // The report sorts the flows in place; accounting then resumes on a stale index.
            engine.report_flows().reverse();
            batched.report_flows().reverse();
        }

        let st = *engine.stats();
        let flows: Vec<Counters> = engine.flows().iter().map(|f| f.counters).collect();
        let s = &st.summary;
        let mut acc = sum(&flows);
        acc.merge(st.other);
        acc.merge(s.non_ip);
        acc.merge(s.malformed);
        assert_eq!(acc, st.totals, "flows + other + non-IP + malformed");
        assert_eq!(
            sum(&[s.ipv4, s.ipv6, s.non_ip, s.malformed]),
            st.totals,
            "family partition"
        );
        assert_eq!(
            sum(&[s.tcp, s.udp, s.icmpv4, s.icmpv6, s.other_ip]),
            sum(&[s.ipv4, s.ipv6]),
            "protocol partition"
        );
        assert_eq!(engine.running(), running, "running totals");
        assert!(engine.len() <= 16);
        let keys = engine.flows().iter().map(|f| f.key);
        for (i, k) in keys.clone().enumerate() {
            assert!(keys.clone().skip(i + 1).all(|o| o != k), "duplicate flow key");
        }
        if ctl == 0xff {
            engine.reset_interval();
            batched.reset_interval();
        }
    }
});
