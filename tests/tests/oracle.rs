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
