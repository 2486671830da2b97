//! Files pktstat did not write and files that are not captures (SPEC §1 errors):
//!
//! - the sample captures shipped by Debian's `python3-dpkt` read without error and their
//!   totals and flows equal tshark's; the one sample that really is cut short
//!   (`truncated_dns_2.pcap`) is an error like any damaged file;
//! - a capture cut in the middle of a record prints the report of what was read and exits
//!   1 with an error naming the file and an offset;
//! - a file that is not a capture, and a missing file, exit 1 with one line naming the file;
//! - `-r` together with `-i` is a usage error (exit 2).

use std::path::{Path, PathBuf};

use pktstat_e2e::compare::{assert_agree, compare};
use pktstat_e2e::tshark::expected;
use pktstat_e2e::{fixture, pktstat, text_totals, Run};

const DPKT_DATA: &str = "/usr/share/doc/python3-dpkt/examples/data";

/// The dpkt sample captures: fails loudly when the package is not installed.
fn dpkt_samples() -> Vec<PathBuf> {
    let dir = Path::new(DPKT_DATA);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{DPKT_DATA}: {e}: install python3-dpkt (`make deps`)"))
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 4,
        "python3-dpkt ships at least 4 sample captures, found {v:?}"
    );
    v
}

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pktstat-e2e-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// The byte offsets of the classic-pcap records of `data`: `(record start, record end)`,
/// walked independently of pktstat (24-byte file header, 16-byte record headers). A last
/// record that runs past the end is listed; a tail too short for a record header is not
/// (see [`is_cut`]).
fn pcap_records(data: &[u8]) -> Vec<(usize, usize)> {
    let magic = u32::from_le_bytes(data[..4].try_into().unwrap());
    let le = matches!(magic, 0xA1B2_C3D4 | 0xA1B2_3C4D);
    let rd = |o: usize| {
        let b: [u8; 4] = data[o..o + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut v = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let end = off + 16 + rd(off + 8) as usize;
        v.push((off, end));
        off = end;
    }
    v
}

/// True when the file ends inside a record or a record header.
fn is_cut(data: &[u8]) -> bool {
    pcap_records(data).last().map_or(24, |r| r.1) != data.len()
}

/// The wire length of the record at `start`.
fn orig_len(data: &[u8], start: usize) -> u64 {
    let le = matches!(
        u32::from_le_bytes(data[..4].try_into().unwrap()),
        0xA1B2_C3D4 | 0xA1B2_3C4D
    );
    let b: [u8; 4] = data[start + 12..start + 16].try_into().unwrap();
    u64::from(if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

/// The numbers in `line`.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// stderr holds exactly one line (the log may add none) that names `file`; returns it.
fn one_error_line<'a>(run: &'a Run, file: &str) -> &'a str {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "want one error line, stderr:\n{}",
        run.stderr
    );
    assert!(
        lines[0].contains(file),
        "the error does not name {file}: {}",
        lines[0]
    );
    lines[0]
}

#[test]
fn dpkt_samples_read_like_tshark_reads_them() {
    let mut diffs = Vec::new();
    let mut whole = 0;
    for path in dpkt_samples() {
        let data = std::fs::read(&path).expect("read sample");
        if is_cut(&data) {
            continue; // damaged on purpose: checked by `damaged_dpkt_sample_is_an_error`
        }
        whole += 1;
        let file = path.to_str().unwrap();
        let run = pktstat(&["-r", file]);
        assert_eq!(run.code, 0, "pktstat -r {file}: stderr {}", run.stderr);
        let exp = expected(&path, false);
        assert_eq!(
            text_totals(&run.stdout),
            Some((exp.packets, exp.bytes)),
            "{file}: totals vs tshark"
        );
        diffs.extend(compare(&path, false));
    }
    assert!(whole >= 4, "only {whole} intact dpkt samples");
    assert_agree(diffs);
}

#[test]
fn damaged_dpkt_sample_is_an_error() {
    let path = Path::new(DPKT_DATA).join("truncated_dns_2.pcap");
    let data = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: install python3-dpkt", path.display()));
    // One whole record (200 of 282 bytes captured), then 7 bytes of a record header.
    let recs = pcap_records(&data);
    assert!(
        recs.len() == 1 && is_cut(&data),
        "the sample ends inside a record header"
    );
    let cut_at = recs[0].1 as u64;
    let file = path.to_str().unwrap();
    let run = pktstat(&["-r", file]);
    assert_eq!(run.code, 1, "stdout {} stderr {}", run.stdout, run.stderr);
    let line = one_error_line(&run, "truncated_dns_2.pcap");
    assert!(line.contains("offset"), "no offset: {line}");
    assert!(
        numbers(line).contains(&cut_at),
        "the offset of the cut header, {cut_at}: {line}"
    );
    let whole = (1, orig_len(&data, recs[0].0));
    assert_eq!(
        text_totals(&run.stdout),
        Some(whole),
        "report of what was read:\n{}",
        run.stdout
    );
    // tshark reads the same whole record.
    let exp = expected(&path, false);
    assert_eq!((exp.packets, exp.bytes), whole);
}

#[test]
fn capture_cut_mid_record_reports_what_was_read_and_exits_1() {
    let src = fixture("eth.pcap");
    let data = std::fs::read(&src).unwrap();
    let recs = pcap_records(&data);
    assert!(recs.len() > 100);
    // Cut inside the payload of record 100 (0-based 99).
    let (start, end) = recs[99];
    let cut_at = start + 16 + (end - start - 16) / 2;
    let damaged = scratch("cut-mid-record.pcap");
    std::fs::write(&damaged, &data[..cut_at]).unwrap();
    let want_bytes: u64 = recs[..99].iter().map(|r| orig_len(&data, r.0)).sum();

    for json in [false, true] {
        let mut args = vec!["-r", damaged.to_str().unwrap()];
        if json {
            args.push("-j");
        }
        let run = pktstat(&args);
        assert_eq!(
            run.code, 1,
            "{args:?}: stdout {} stderr {}",
            run.stdout, run.stderr
        );
        let line = one_error_line(&run, "cut-mid-record.pcap");
        assert!(line.contains("offset"), "no offset: {line}");
        assert!(
            numbers(line)
                .iter()
                .any(|n| (start as u64..=cut_at as u64).contains(n)),
            "the offset should point at the cut record ({start}..{cut_at}): {line}"
        );
        if json {
            assert!(
                run.stdout.trim_start().starts_with('['),
                "the JSON report of what was read:\n{}",
                run.stdout
            );
        } else {
            assert_eq!(
                text_totals(&run.stdout),
                Some((99, want_bytes)),
                "report of the 99 whole records:\n{}",
                run.stdout
            );
        }
    }

    // Cut inside a record header: the same, 99 records read.
    let damaged = scratch("cut-mid-header.pcap");
    std::fs::write(&damaged, &data[..start + 7]).unwrap();
    let run = pktstat(&["-r", damaged.to_str().unwrap()]);
    assert_eq!(run.code, 1, "stderr {}", run.stderr);
    one_error_line(&run, "cut-mid-header.pcap");
    assert_eq!(
        text_totals(&run.stdout),
        Some((99, want_bytes)),
        "{}",
        run.stdout
    );

    // And a pcapng cut inside a block.
    let ng = std::fs::read(fixture("eth-ns.pcapng")).unwrap();
    let damaged = scratch("cut.pcapng");
    std::fs::write(&damaged, &ng[..ng.len() / 2 + 3]).unwrap();
    let run = pktstat(&["-r", damaged.to_str().unwrap()]);
    assert_eq!(run.code, 1, "stderr {}", run.stderr);
    let line = one_error_line(&run, "cut.pcapng");
    assert!(line.contains("offset"), "no offset: {line}");
    assert!(
        text_totals(&run.stdout).is_some_and(|t| t.0 > 0),
        "{}",
        run.stdout
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_an_error() {
    let not_cap = scratch("not-a-capture.pcap");
    std::fs::copy("/bin/sh", &not_cap).expect("copy /bin/sh");
    let run = pktstat(&["-r", not_cap.to_str().unwrap()]);
    assert_eq!(run.code, 1, "stdout {} stderr {}", run.stdout, run.stderr);
    one_error_line(&run, "not-a-capture.pcap");

    let empty = scratch("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let run = pktstat(&["-r", empty.to_str().unwrap()]);
    assert_eq!(
        run.code, 1,
        "an empty file is not a capture: stdout {} stderr {}",
        run.stdout, run.stderr
    );
    one_error_line(&run, "empty.pcap");
}

#[test]
fn a_missing_file_is_an_error() {
    let missing = scratch("does-not-exist.pcap");
    let run = pktstat(&["-r", missing.to_str().unwrap()]);
    assert_eq!(run.code, 1, "stdout {} stderr {}", run.stdout, run.stderr);
    one_error_line(&run, "does-not-exist.pcap");
    assert!(
        run.stdout.is_empty(),
        "no report for a file never opened: {}",
        run.stdout
    );
}

#[test]
fn read_with_iface_is_a_usage_error() {
    let f = fixture("crafted-vlan.pcap");
    let run = pktstat(&["-r", f.to_str().unwrap(), "-i", "lo"]);
    assert_eq!(run.code, 2, "stdout {} stderr {}", run.stdout, run.stderr);
    assert!(
        !run.stderr.trim().is_empty(),
        "a usage error says what is wrong"
    );
    assert_eq!(
        run.stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "one line: {}",
        run.stderr
    );
}

#[test]
fn stdin_reads_like_a_file() {
    let f = fixture("eth-ns.pcapng");
    let exp = expected(&f, false);
    let out = std::process::Command::new(pktstat_e2e::pktstat_bin())
        .args(["-r", "-"])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text_totals(&String::from_utf8_lossy(&out.stdout)),
        Some((exp.packets, exp.bytes))
    );
}
