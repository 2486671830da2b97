//! Writes synthetic pcap files for `make bench`: fast enough to make millions of frames in a
//! second or two, deterministic (a fixed-seed xorshift), so every run measures the same bytes.
//!
//! ```text
//! gen-capture --frames 5000000 --flows 1024 --mix udp64 --out /tmp/x.pcap
//! ```
//! Mixes: `udp64` (64-byte Ethernet/IPv4/UDP frames), `imix` (7:4:1 of 64/594/1518-byte
//! frames, a quarter IPv6, half TCP), `collide` (64-byte UDP frames of `--flows` flows whose
//! keys all collide in the flow table under the *unkeyed* hash: see [`colliding_keys`]).
use std::io::{BufWriter, Write};

use pktstat_core::engine::DEFAULT_SLOTS;
use pktstat_core::flow::{Addr, FlowKey};
use pktstat_core::hash::FlowHasher;

/// `--mix collide`: the home slots every flow is pushed into (of the default table's 131,072).
const COLLIDE_SLOTS: u64 = 64;

/// The UDP flow key of the frames `frame()` writes, with this source address and port.
fn udp_key(src4: [u8; 4], sport: u16) -> FlowKey {
    FlowKey {
        src: Addr::v4(src4),
        dst: Addr::v4([192, 168, 1, 1]),
        src_port: sport,
        dst_port: 443,
        proto: 17,
        ..FlowKey::default()
    }
}

/// Candidate `c` as a (source address, source port): 24 bits of address, the rest the port.
fn candidate(c: u64) -> ([u8; 4], u16) {
    (
        [10, (c >> 16) as u8, (c >> 8) as u8, c as u8],
        1024 + ((c >> 24) % 60_000) as u16,
    )
}

/// `n` flows whose home slot in the default flow table (`hash & (S - 1)`, S = 131,072) under
/// the unkeyed hash (`FlowHasher::new()`, what a table never given a seed uses) is one of
/// [`COLLIDE_SLOTS`] — the attack the per-run key defeats. Brute force: one candidate in
/// 2,048 qualifies, so 60,000 flows take ~123 M hashes (well under a second in release).
/// Prints on stderr how many distinct home slots they occupy unkeyed and with a random key.
fn colliding_keys(n: u32) -> Vec<([u8; 4], u16)> {
    let mask = DEFAULT_SLOTS as u64 - 1;
    let unkeyed = FlowHasher::new();
    let mut out = Vec::with_capacity(n as usize);
    let mut c = 0u64;
    while out.len() < n as usize {
        let (src, sport) = candidate(c);
        if unkeyed.hash_key(&udp_key(src, sport)) & mask < COLLIDE_SLOTS {
            out.push((src, sport));
        }
        c += 1;
    }
    let homes = |h: &FlowHasher| {
        let mut s: Vec<u64> = out
            .iter()
            .map(|&(a, p)| h.hash_key(&udp_key(a, p)) & mask)
            .collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    eprintln!(
        "gen-capture: collide: {n} flows ({c} candidates tried) in {} home slots of {} unkeyed, {} with a random key",
        homes(&unkeyed),
        DEFAULT_SLOTS,
        homes(&FlowHasher::with_seed([nanos, nanos.rotate_left(17) ^ 0x5bd1_e995]))
    );
    out
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn checksum_free_ipv4(buf: &mut Vec<u8>, total_len: u16, proto: u8, src: [u8; 4], dst: [u8; 4]) {
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&total_len.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&dst);
}

fn frame(buf: &mut Vec<u8>, len: usize, flow: u32, tcp: bool, v6: bool) {
    buf.clear();
    buf.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
    let proto = if tcp { 6 } else { 17 };
    let l4 = if tcp { 20 } else { 8 };
    let src4 = [10, (flow >> 16) as u8, (flow >> 8) as u8, flow as u8];
    let dst4 = [192, 168, 1, 1];
    let sport = 1024 + (flow % 60000) as u16;
    if v6 {
        buf.extend_from_slice(&[0x86, 0xdd]);
        let payload = (len.max(14 + 40 + l4) - 14 - 40) as u16;
        buf.extend_from_slice(&[0x60, 0, 0, 0]);
        buf.extend_from_slice(&payload.to_be_bytes());
        buf.extend_from_slice(&[proto, 64]);
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        src[12..].copy_from_slice(&flow.to_be_bytes());
        buf.extend_from_slice(&src);
        let mut dst = [0u8; 16];
        dst[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        dst[15] = 1;
        buf.extend_from_slice(&dst);
    } else {
        buf.extend_from_slice(&[0x08, 0x00]);
        let total = (len.max(14 + 20 + l4) - 14) as u16;
        checksum_free_ipv4(buf, total, proto, src4, dst4);
    }
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&443u16.to_be_bytes());
    if tcp {
        buf.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        let ulen = (len.max(14 + 20 + 8) - 14 - if v6 { 40 } else { 20 }) as u16;
        buf.extend_from_slice(&ulen.to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
    }
    buf.resize(len.max(buf.len()), 0);
}

fn main() {
    let mut frames = 1_000_000u64;
    let mut flows = 1024u32;
    let mut mix = String::from("udp64");
    let mut out = String::from("-");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--frames" => frames = val().parse().unwrap_or_else(|_| die("bad --frames")),
            "--flows" => flows = val().parse().unwrap_or_else(|_| die("bad --flows")),
            "--mix" => mix = val(),
            "--out" => out = val(),
            _ => die(&format!("unknown argument {a}")),
        }
    }
    if flows == 0 {
        die("--flows must be at least 1");
    }
    let sink: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&out).unwrap_or_else(|e| die(&format!("{out}: {e}"))))
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&[0; 8]);
    hdr.extend_from_slice(&65535u32.to_le_bytes());
    hdr.extend_from_slice(&1u32.to_le_bytes());
    w.write_all(&hdr).unwrap_or_else(|e| die(&e.to_string()));
    let collide = if mix == "collide" {
        colliding_keys(flows)
    } else {
        Vec::new()
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = Vec::with_capacity(2048);
    let (mut sec, mut usec) = (1_700_000_000u32, 0u32);
    for _ in 0..frames {
        let r = rng.next();
        let flow = (r % u64::from(flows)) as u32;
        let (len, tcp, v6) = match mix.as_str() {
            "udp64" => (64, false, false),
            "imix" => {
                let s = match (r >> 32) % 12 {
                    0..=6 => 64,
                    7..=10 => 594,
                    _ => 1518,
                };
                (s, (r >> 40) & 1 == 0, (r >> 41) & 3 == 0)
            }
            "collide" => (64, false, false),
            other => die(&format!("unknown mix {other}")),
        };
        frame(&mut buf, len, flow, tcp, v6);
        if let Some(&(src, sport)) = collide.get(flow as usize) {
            // Ethernet (14) + IPv4: source address at 12, then the UDP source port at 20.
            buf[26..30].copy_from_slice(&src);
            buf[34..36].copy_from_slice(&sport.to_be_bytes());
        }
        usec += 1;
        if usec == 1_000_000 {
            usec = 0;
            sec += 1;
        }
        let n = buf.len() as u32;
        let mut rec = [0u8; 16];
        rec[..4].copy_from_slice(&sec.to_le_bytes());
        rec[4..8].copy_from_slice(&usec.to_le_bytes());
        rec[8..12].copy_from_slice(&n.to_le_bytes());
        rec[12..].copy_from_slice(&n.to_le_bytes());
        w.write_all(&rec)
            .and_then(|_| w.write_all(&buf))
            .unwrap_or_else(|e| die(&e.to_string()));
    }
    w.flush().unwrap_or_else(|e| die(&e.to_string()));
}

fn die(msg: &str) -> ! {
    eprintln!("gen-capture: {msg}");
    std::process::exit(2)
}
