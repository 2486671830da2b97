//! The binary as a user runs it: exit statuses, the one-line errors, stdout closed early,
//! and the offline path on small hand-made captures (SPEC §1).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn pktstat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pktstat"))
        .args(args)
        .env_remove("PKTSTAT_LOG")
        .output()
        .expect("run pktstat")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One error line `pktstat: ...` on stderr (warnings aside) and the given status.
fn assert_error(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    let err = stderr(o);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("pktstat: warning: "))
        .collect();
    assert_eq!(lines.len(), 1, "one line expected: {err:?}");
    assert!(lines[0].starts_with("pktstat: "), "{err:?}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err:?}");
}

/// A little-endian µs pcap of LINKTYPE 4242 (undecodable: every frame is non-IP) with
/// records of the given sizes stamped 0, 1, 2… seconds.
fn pcap(sizes: &[usize]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&4242u32.to_le_bytes());
    for (i, &n) in sizes.iter().enumerate() {
        for v in [i as u32, 0, n as u32, n as u32] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend(std::iter::repeat_n(0u8, n));
    }
    f
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pktstat-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn help_and_version() {
    for flag in ["-?", "-h", "--help"] {
        let o = pktstat(&[flag]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("--add_vlan"), "{flag}");
        assert!(o.stderr.is_empty());
    }
    let o = pktstat(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout(&o);
    assert!(
        v.starts_with(concat!("pktstat ", env!("CARGO_PKG_VERSION"), " (")),
        "{v}"
    );
    assert!(v.trim_end().ends_with(')'));
}

#[test]
fn usage_errors_exit_2_and_point_to_help() {
    for args in [
        &["--bogus"][..],
        &["-x"],
        &["-t", "-5s"],
        &["-l", "1h30"],
        &["-i", "lo", "-r", "x.pcap"],
        &["-j", "--jsonl"],
        &["-Q", "sideways"],
        &["-n", "many"],
        &["stray"],
    ] {
        assert_error(&pktstat(args), 2, "pktstat --help");
    }
}

#[test]
fn runtime_errors_exit_1() {
    assert_error(
        &pktstat(&["-r", "/nonexistent/x.pcap"]),
        1,
        "/nonexistent/x.pcap",
    );
    let path = temp_file("notes.txt", b"these are not packets\n");
    let o = pktstat(&["-r", path.to_str().unwrap()]);
    assert_error(&o, 1, "offset 0");
    assert!(o.stdout.is_empty(), "no report for a foreign file");
}

#[test]
fn bad_filter_exits_2_with_the_position() {
    let path = temp_file("filter.pcap", &pcap(&[60]));
    let o = pktstat(&["-r", path.to_str().unwrap(), "-f", "tcp and"]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    let err = stderr(&o);
    let mut lines = err.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("pktstat: -f: filter: "), "{err:?}");
    assert!(first.contains("at byte 7"), "{err:?}");
    // The expression, then a caret under the fault.
    assert_eq!(lines.next(), Some("    tcp and"), "{err:?}");
    assert_eq!(lines.next(), Some("           ^"), "{err:?}");
    assert!(o.stdout.is_empty(), "no report for a bad filter");
}

#[test]
fn reads_a_capture() {
    let path = temp_file("three.pcap", &pcap(&[60, 100, 1500]));
    let o = pktstat(&["-r", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("packets: 3, total bytes: 1660 in 2.00 seconds"),
        "{out}"
    );
    // The unknown link type is named once on stderr, and is not an error.
    let err = stderr(&o);
    assert_eq!(err.matches("4242").count(), 1, "{err}");
}

#[test]
fn reads_stdin_with_intervals() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pktstat"))
        .args(["-r", "-", "-l", "1s", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&pcap(&[60, 60, 60, 60]))
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // [0,1) [1,2) [2,3) and the zero-length tail holding the packet stamped 3.
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(r#""type":"summary""#))
            .count(),
        4,
        "{out}"
    );
}

#[test]
fn truncated_capture_reports_then_fails() {
    let mut bytes = pcap(&[60, 60, 60]);
    bytes.truncate(bytes.len() - 7);
    let path = temp_file("cut.pcap", &bytes);
    let o = pktstat(&["-r", path.to_str().unwrap()]);
    assert_error(&o, 1, "cut.pcap");
    assert!(stderr(&o).contains("offset 176"), "{}", stderr(&o)); // 24 + 2 × (16 + 60)
    assert!(stdout(&o).contains("packets: 2,"), "{}", stdout(&o));
}

#[test]
fn closed_stdout_is_quiet() {
    // Many interval reports into a pipe whose reader goes away after the first line.
    let sizes = vec![60; 20];
    let path = temp_file("many.pcap", &pcap(&sizes));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pktstat"))
        .args(["-r", path.to_str().unwrap(), "-l", "1ms", "--jsonl"])
        .env("PKTSTAT_LOG", "error") // no link-type warning: stderr must stay empty
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}
