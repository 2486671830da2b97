//! Hostile capture files, end to end (issue 7): damaged pcap and pcapng files give the SPEC's
//! one-line error naming the offset, exit status 1, the report of what was read before the
//! damage, no crash, and resident memory bounded by the fixed buffers whatever length a
//! header claims. What libpcap and tshark accept is read, not refused.
//!
//! The core's reader has its own, finer table (`core/src/capfile/tests/hostile.rs`); this one
//! checks what a user sees from the binary.

use std::path::PathBuf;
use std::process::Command;

use pktstat_e2e::{pktstat, pktstat_bin, text_totals};

/// An Ethernet/IPv4/UDP frame of 60 bytes.
fn frame() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    f.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 26, 0, 0]);
    f.resize(60, 0);
    f
}

fn pcap_header(snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&linktype.to_le_bytes());
    h
}

fn pcap_record(out: &mut Vec<u8>, caplen: u32, orig: u32, data: &[u8]) {
    out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&caplen.to_le_bytes());
    out.extend_from_slice(&orig.to_le_bytes());
    out.extend_from_slice(data);
}

/// A pcap with `n` good 60-byte frames.
fn pcap_good(n: usize, snaplen: u32) -> Vec<u8> {
    let mut v = pcap_header(snaplen, 1);
    for _ in 0..n {
        pcap_record(&mut v, 60, 60, &frame());
    }
    v
}

fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len() as u32;
    let mut b = ty.to_le_bytes().to_vec();
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

fn shb(bom: u32) -> Vec<u8> {
    let mut body = bom.to_le_bytes().to_vec();
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&u64::MAX.to_le_bytes());
    block(0x0A0D_0D0A, &body)
}

fn idb() -> Vec<u8> {
    let mut body = 1u16.to_le_bytes().to_vec();
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    block(1, &body)
}

/// An EPB body for `data` (padded to 4) followed by `options`.
fn epb_body(data: &[u8], options: &[u8]) -> Vec<u8> {
    let mut body = 0u32.to_le_bytes().to_vec();
    body.extend_from_slice(&[0; 8]);
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    body.resize(body.len().div_ceil(4) * 4, 0);
    body.extend_from_slice(options);
    body
}

/// A pcapng section with `n` good packets.
fn ng_good(n: usize) -> Vec<u8> {
    let mut v = shb(0x1A2B_3C4D);
    v.extend(idb());
    for _ in 0..n {
        v.extend(block(6, &epb_body(&frame(), &[])));
    }
    v
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pktstat-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// Peak resident memory (KiB) of `pktstat -r path`, through GNU time.
fn peak_rss_kib(path: &str) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o", "/dev/stdout"])
        .arg(pktstat_bin())
        .args(["-r", path])
        .output()
        .expect("/usr/bin/time (Debian package `time`)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("time's %M line")
}

/// A damaged file: pktstat reads `packets` frames, then fails at an offset in `offsets`.
struct Damaged {
    name: &'static str,
    file: Vec<u8>,
    packets: u64,
    offsets: std::ops::RangeInclusive<u64>,
}

fn damaged_cases() -> Vec<Damaged> {
    let mut v = Vec::new();
    let good2 = pcap_good(2, 65535);
    let after2 = good2.len() as u64; // 24 + 2 × 76 = 176

    v.push(Damaged {
        name: "pcap-file-header-cut.pcap",
        file: pcap_good(0, 65535)[..10].to_vec(),
        packets: 0,
        offsets: 0..=10,
    });
    let mut f = good2.clone();
    f.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7]);
    v.push(Damaged {
        name: "pcap-record-header-cut.pcap",
        file: f,
        packets: 2,
        offsets: after2..=after2 + 7,
    });
    let mut f = good2.clone();
    pcap_record(&mut f, 1000, 1000, &[0u8; 100]);
    v.push(Damaged {
        name: "pcap-caplen-past-eof.pcap",
        file: f,
        packets: 2,
        offsets: after2..=after2 + 116,
    });
    for (name, caplen) in [
        ("pcap-caplen-2g.pcap", 0x7fff_ffffu32),
        ("pcap-caplen-4g.pcap", u32::MAX),
        // One past libpcap's largest per-link-type maximum (262,144 for Ethernet).
        ("pcap-caplen-262145.pcap", 262_145),
    ] {
        let mut f = good2.clone();
        pcap_record(&mut f, caplen, caplen, &[0u8; 64]);
        pcap_record(&mut f, 60, 60, &frame());
        v.push(Damaged {
            name,
            file: f,
            packets: 2,
            offsets: after2..=after2 + 16,
        });
    }

    let good_ng = ng_good(2);
    let after_ng = good_ng.len() as u64;
    let mut push_ng = |name: &'static str, tail: Vec<u8>| {
        let mut f = good_ng.clone();
        f.extend(tail);
        v.push(Damaged {
            name,
            file: f,
            packets: 2,
            offsets: after_ng..=after_ng + 64,
        });
    };
    // Block total length not a multiple of 4.
    let mut b = block(6, &epb_body(&frame(), &[]));
    let bad = (b.len() as u32 - 2).to_le_bytes();
    b[4..8].copy_from_slice(&bad);
    push_ng("ng-length-not-multiple-of-4.pcapng", b);
    // Smaller than a block header (12 bytes), and zero: a reader that trusted it would loop.
    for (name, len) in [("ng-length-8.pcapng", 8u32), ("ng-length-0.pcapng", 0u32)] {
        let mut b = 6u32.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&[0; 24]);
        push_ng(name, b);
    }
    // Trailing length differs from the leading one.
    let mut b = block(6, &epb_body(&frame(), &[]));
    let n = b.len();
    b[n - 4..].copy_from_slice(&(n as u32 + 4).to_le_bytes());
    push_ng("ng-trailing-length-lies.pcapng", b);
    // Leading length past the end of the file.
    let mut b = block(6, &epb_body(&frame(), &[]));
    b[4..8].copy_from_slice(&4096u32.to_le_bytes());
    push_ng("ng-length-past-eof.pcapng", b);
    // EPB whose captured length runs past its block.
    let mut body = epb_body(&frame(), &[]);
    body[12..16].copy_from_slice(&200u32.to_le_bytes());
    push_ng("ng-caplen-past-block.pcapng", block(6, &body));
    // An option running past the end of its block (in an interface description: the
    // reader walks those options; a packet block's options it skips, as libpcap does).
    let mut body = idb()[8..16].to_vec();
    body.extend_from_slice(&[2, 0, 0xff, 0x00, b'x', b'y', b'z', 0]);
    push_ng("ng-option-past-block.pcapng", block(1, &body));
    // A section header with an unknown byte-order magic.
    push_ng("ng-unknown-byte-order.pcapng", shb(0x1122_3344));
    v
}

#[test]
fn damaged_files_report_what_was_read_then_fail_at_an_offset() {
    for case in damaged_cases() {
        let path = scratch(case.name);
        std::fs::write(&path, &case.file).expect("write");
        let p = path.to_str().expect("utf-8 path");
        let run = pktstat(&["-r", p]);
        let ctx = format!(
            "{}: status {}\nstdout:\n{}\nstderr:\n{}",
            case.name, run.code, run.stdout, run.stderr
        );
        assert_eq!(run.code, 1, "{ctx}");
        let errs: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(errs.len(), 1, "one error line: {ctx}");
        let line = errs[0];
        assert!(
            line.starts_with("pktstat: ") && line.contains(case.name),
            "{ctx}"
        );
        let offset = line
            .split("offset ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no offset in the error: {ctx}"));
        assert!(
            case.offsets.contains(&offset),
            "offset {offset} outside {:?}: {ctx}",
            case.offsets
        );
        if case.packets > 0 {
            assert_eq!(
                text_totals(&run.stdout),
                Some((case.packets, 60 * case.packets)),
                "the report of what was read: {ctx}"
            );
        }
        // Fixed buffers: a header claiming gigabytes allocates nothing of that size.
        let rss = peak_rss_kib(p);
        assert!(rss < 32 * 1024, "{}: peak RSS {rss} KiB", case.name);
    }
}

#[test]
fn what_libpcap_accepts_is_read() {
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("snaplen-0.pcap", pcap_good(3, 0)),
        ("snaplen-max.pcap", pcap_good(3, u32::MAX)),
    ];
    // Captured length over the header's snap length (tshark reads it whole).
    let mut f = pcap_header(32, 1);
    for _ in 0..3 {
        pcap_record(&mut f, 60, 60, &frame());
    }
    cases.push(("caplen-over-snaplen.pcap", f));
    for (name, file) in cases {
        let path = scratch(name);
        std::fs::write(&path, &file).expect("write");
        let run = pktstat(&["-r", path.to_str().expect("utf-8")]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(
            text_totals(&run.stdout),
            Some((3, 180)),
            "{name}: {}",
            run.stdout
        );
    }
}

#[test]
fn unknown_link_type_counts_as_non_ip_with_one_warning() {
    let mut f = pcap_header(65535, 147); // LINKTYPE_USER0
    for _ in 0..4 {
        pcap_record(&mut f, 60, 60, &frame());
    }
    let path = scratch("user0.pcap");
    std::fs::write(&path, &f).expect("write");
    let run = pktstat(&["-r", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(text_totals(&run.stdout), Some((4, 240)), "{}", run.stdout);
    assert!(
        run.stdout.contains("non-IP packets: 4, bytes: 240"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr.lines().count(), 1, "one warning: {}", run.stderr);
}
