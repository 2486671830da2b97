//! Shared helpers of the end-to-end tests in `tests/tests/`.
//!
//! The tests run the real `pktstat` binary on capture files and compare what it reports
//! with independent oracles (tshark's dissection, capinfos). The helpers here find the
//! binary and the fixtures, run commands, and read pktstat's report formats. Anything
//! missing — the binary, tshark — makes the test fail loudly: a skipped oracle would be a
//! test that cannot fail.

pub mod compare;
pub mod json;
pub mod tshark;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The pktstat binary under test: `$PKTSTAT_BIN`, else `<workspace>/target/debug/pktstat`
/// (or under `$CARGO_TARGET_DIR`). Panics with what to do when it is absent.
pub fn pktstat_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PKTSTAT_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "PKTSTAT_BIN={} does not exist", p.display());
        return p;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let p = target.join("debug").join("pktstat");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build -p pktstat` first (or set PKTSTAT_BIN)",
        p.display()
    );
    // `cargo test --workspace` does not rebuild another package's binary: an old one would
    // be tested against new fixtures and tests. Refuse a binary older than its sources.
    let built = mtime(&p);
    let root = workspace_root();
    let newest = ["bin/src", "core/src", "bin/Cargo.toml", "core/Cargo.toml"]
        .iter()
        .filter_map(|d| newest_mtime(&root.join(d)))
        .max();
    if let (Some(built), Some(newest)) = (built, newest) {
        assert!(
            built >= newest,
            "{} is older than its sources: run `cargo build -p pktstat` first (or set PKTSTAT_BIN)",
            p.display()
        );
    }
    p
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of any file under a directory.
fn newest_mtime(p: &Path) -> Option<std::time::SystemTime> {
    if p.is_dir() {
        std::fs::read_dir(p)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| newest_mtime(&e.path()))
            .max()
    } else {
        mtime(p)
    }
}

/// `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    let p = workspace_root().join("tests").join("fixtures").join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// Every capture in `tests/fixtures/` (`*.pcap`, `*.pcapng`), sorted by name.
pub fn all_fixtures() -> Vec<PathBuf> {
    let dir = workspace_root().join("tests").join("fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

/// What a finished command left.
#[derive(Debug)]
pub struct Run {
    /// Exit status; -1 when killed by a signal.
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs `program args…` to completion with stdin closed and captures its output.
pub fn run_cmd(program: &Path, args: &[&str]) -> Run {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs pktstat with `args`.
pub fn pktstat(args: &[&str]) -> Run {
    run_cmd(&pktstat_bin(), args)
}

/// A system tool the oracle needs (tshark, capinfos…). Panics — never skips — when absent.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in
        std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
    {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is missing: the oracle tests need it; run `make deps` (tests/scripts/install-deps.sh)");
}

/// The totals line of a text report, `Read total packets: N, total bytes: N in S.SS seconds`:
/// `(packets, bytes)` of the LAST such line (the whole-run report).
pub fn text_totals(stdout: &str) -> Option<(u64, u64)> {
    stdout.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("Read total packets: ")?;
        let (p, rest) = rest.split_once(", total bytes: ")?;
        let b: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some((p.trim().parse().ok()?, b.parse().ok()?))
    })
}

/// The `packets` total of the last `{"type":"summary",…}` line of `--jsonl` output; panics
/// (with the output) when there is none, or a line is not valid JSON.
pub fn jsonl_summary_packets(jsonl: &str) -> u64 {
    let mut total = None;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v = json::parse(line).unwrap_or_else(|e| panic!("invalid JSON line {line:?}: {e}"));
        if v.get("type").and_then(json::Json::as_str) == Some("summary") {
            total = v.get("packets").and_then(json::Json::as_u64);
        }
    }
    total.unwrap_or_else(|| panic!("no summary line with packets in {jsonl:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_line_is_read() {
        let out =
            "bitrate: 1 bps, packets: 1, bytes: 60, proto: UDP, src: 1.2.3.4:1, dst: 1.2.3.5:2\n\n\
                   Read total packets: 406, total bytes: 291200 in 1.30 seconds\nIPv4: 1\n";
        assert_eq!(text_totals(out), Some((406, 291200)));
        assert_eq!(text_totals("nothing"), None);
    }
}
