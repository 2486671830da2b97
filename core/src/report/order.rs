//! Report order and top-N (SPEC §6).
//!
//! [`Flow::report_cmp`] is a total order (bytes and packets descending, then every key field
//! ascending, and no two flows of one table share a key), so an unstable sort gives the same
//! result as a stable one and the same flows always print in the same order. With `-n N`
//! only the N first flows are needed: a selection puts them in front in linear time, and
//! only those N are sorted.

use crate::flow::Flow;

/// Puts the flows to print at the front of `flows`, in report order, and returns how many to
/// print: all of them without `top`, else at most `top`. Flows past that count are left in
/// an unspecified order.
pub fn sort_flows(flows: &mut [Flow], top: Option<usize>) -> usize {
    let n = match top {
        Some(n) if n < flows.len() => n,
        _ => flows.len(),
    };
    if n == 0 {
        return 0;
    }
    if n < flows.len() {
        // Everything before index n now orders before (or equal to) flows[n].
        flows.select_nth_unstable_by(n, Flow::report_cmp);
    }
    if let Some(head) = flows.get_mut(..n) {
        head.sort_unstable_by(Flow::report_cmp);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Addr, Counters, FlowKey};
    use proptest::prelude::*;
    use std::vec::Vec;

    fn flow(src: Addr, sport: u16, dst: Addr, dport: u16, packets: u64, bytes: u64) -> Flow {
        Flow {
            key: FlowKey {
                src,
                dst,
                src_port: sport,
                dst_port: dport,
                proto: 6,
                ..FlowKey::default()
            },
            counters: Counters { packets, bytes },
        }
    }

    #[test]
    fn bytes_then_packets_descending_then_key() {
        let a = Addr::v4([10, 0, 0, 1]);
        let b = Addr::v4([9, 0, 0, 1]);
        let c = Addr::v6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut flows = [
            flow(a, 1, b, 2, 1, 100),
            flow(c, 1, b, 2, 5, 500),
            flow(a, 1, b, 2, 9, 500),
            flow(c, 1, a, 2, 9, 500),
            flow(b, 1, a, 2, 9, 500),
            flow(a, 1, b, 1, 9, 500),
            flow(a, 0, c, 2, 9, 500),
        ];
        assert_eq!(sort_flows(&mut flows, None), 7);
        let order: Vec<(u64, u64, Addr, u16, Addr, u16)> = flows
            .iter()
            .map(|f| {
                (
                    f.counters.bytes,
                    f.counters.packets,
                    f.key.src,
                    f.key.src_port,
                    f.key.dst,
                    f.key.dst_port,
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                // 9.0.0.1 sorts numerically before 10.0.0.1 (not as text).
                (500, 9, b, 1, a, 2),
                (500, 9, a, 0, c, 2),
                (500, 9, a, 1, b, 1),
                (500, 9, a, 1, b, 2),
                // IPv6 sources after every IPv4 source.
                (500, 9, c, 1, a, 2),
                (500, 5, c, 1, b, 2),
                (100, 1, a, 1, b, 2),
            ]
        );
    }

    #[test]
    fn top_edge_cases() {
        let a = Addr::v4([1, 1, 1, 1]);
        let mut flows = [flow(a, 1, a, 1, 1, 1), flow(a, 2, a, 1, 1, 2)];
        assert_eq!(sort_flows(&mut flows, Some(0)), 0);
        assert_eq!(sort_flows(&mut flows, Some(5)), 2);
        assert_eq!(flows[0].counters.bytes, 2);
        assert_eq!(sort_flows(&mut flows, Some(1)), 1);
        assert_eq!(flows[0].counters.bytes, 2);
        assert_eq!(sort_flows(&mut [], Some(3)), 0);
        assert_eq!(sort_flows(&mut [], None), 0);
    }

    fn arb_flow() -> impl Strategy<Value = Flow> {
        (
            any::<bool>(),
            0u8..4,
            0u8..4,
            0u16..3,
            0u64..4,
            0u64..4,
            0u8..3,
        )
            .prop_map(|(v6, s, d, port, packets, bytes, icmp)| {
                let addr = |x: u8| {
                    if v6 {
                        Addr::v6([x; 16])
                    } else {
                        Addr::v4([x; 4])
                    }
                };
                let mut f = flow(addr(s), port, addr(d), port, packets, bytes);
                f.key.icmp_type = icmp;
                f
            })
    }

    proptest! {
        #[test]
        fn top_n_picks_what_a_full_sort_puts_first(
            flows in proptest::collection::vec(arb_flow(), 0..60),
            top in 0usize..70,
        ) {
            // Keys are unique in a real table.
            let mut flows = flows;
            flows.sort_by(|a, b| a.key.report_cmp(&b.key));
            flows.dedup_by(|a, b| a.key == b.key);

            let mut full = flows.clone();
            full.sort_by(Flow::report_cmp);
            let mut unstable = flows.clone();
            let all = sort_flows(&mut unstable, None);
            prop_assert_eq!(&unstable[..all], &full[..]);

            let mut part = flows.clone();
            let n = sort_flows(&mut part, Some(top));
            prop_assert_eq!(n, top.min(flows.len()));
            prop_assert_eq!(&part[..n], &full[..n]);
        }
    }
}
