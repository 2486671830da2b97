//! The frame decoder on arbitrary bytes, every link type, with and without an out-of-band
//! VLAN tag: it must never panic, and what it reports must lie inside the frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pktstat_core::decode::{decode, Decoded};
use pktstat_core::link::FrameMeta;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (link, rest) = common::link_type(data);
    let (tci, frame) = match rest.split_first() {
        Some((&b, f)) if b & 1 == 1 && f.len() >= 2 => {
            (Some(u16::from_be_bytes([f[0], f[1]])), &f[2..])
        }
        Some((_, f)) => (None, f),
        None => (None, rest),
    };
    let meta = FrameMeta {
        wire_len: frame.len() as u32,
        vlan_tci: tci,
        ..FrameMeta::default()
    };
    match decode(link, frame, &meta) {
        Decoded::Ip(info) => {
            assert!(info.src.family == 4 || info.src.family == 6);
            assert_eq!(info.src.family, info.dst.family);
            assert!(info.vlan <= 0x0fff);
        }
        Decoded::NonIp | Decoded::Malformed(_) => {}
    }
});
