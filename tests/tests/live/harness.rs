//! Network namespaces, veth pairs and processes for the live tests. Every namespace gets a
//! name unique to this process and is deleted when its guard drops, so a failed test leaves
//! nothing behind. The tests need root, `ip`, `tcpdump` and `python3`: without them they fail
//! with a message saying what is missing, never pass vacuously.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A short name unique to this process (interface names stop at 15 bytes).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id() % 100_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Fails loudly when the environment cannot run live tests.
pub fn require_env() {
    // SAFETY-free check of root: /proc/self/status Uid line.
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2));
    assert_eq!(
        uid,
        Some("0"),
        "live tests must run as root (they create network namespaces)"
    );
    for tool in ["ip", "tcpdump", "python3", "tshark"] {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .stdout(Stdio::null())
            .status();
        assert!(
            ok.map(|s| s.success()).unwrap_or(false),
            "live tests need `{tool}` (tests/scripts/install-deps.sh)"
        );
    }
}

/// The pktstat binary: `$PKTSTAT_BIN`, else the workspace's target/{debug,release}.
pub fn pktstat_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PKTSTAT_BIN") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for profile in ["debug", "release"] {
        let p = target.join(profile).join("pktstat");
        if p.exists() {
            return p;
        }
    }
    panic!("pktstat binary not found: run `cargo build -p pktstat` first or set PKTSTAT_BIN");
}

/// Runs a command, panicking with its stderr when it fails.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("spawn sh");
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace, deleted on drop.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new() -> Ns {
        let name = unique("pst");
        sh(&format!("ip netns add {name}"));
        let ns = Ns { name };
        ns.run("ip link set lo up");
        ns.run("sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0 net.ipv6.conf.default.router_solicitations=0");
        ns
    }

    /// Runs a shell command inside the namespace.
    pub fn run(&self, cmd: &str) -> String {
        sh(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    /// A command that runs `program args` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// `tcpdump -U --immediate-mode -w out [args…]` in the background, returned only once it
    /// captures (its file has the pcap header): tcpdump starts more slowly than pktstat, and a
    /// test that compares them needs tcpdump's window to hold pktstat's.
    pub fn tcpdump(&self, args: &[&str], out: &Path) -> Bg {
        let mut c = self.command("tcpdump");
        c.args(["-U", "--immediate-mode", "-w"]).arg(out).args(args);
        let bg = Bg::spawn(c);
        let t0 = Instant::now();
        while std::fs::metadata(out).map_or(true, |m| m.len() < 24) {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "tcpdump {args:?} did not start capturing within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        bg
    }

    /// pktstat with `args`, inside the namespace.
    pub fn pktstat(&self, args: &[&str]) -> Command {
        let mut c = self.command(pktstat_bin().to_str().expect("utf-8 path"));
        c.args(args);
        c
    }

    /// The index of interface `name` here.
    pub fn ifindex(&self, name: &str) -> u32 {
        self.run(&format!("cat /sys/class/net/{name}/ifindex"))
            .trim()
            .parse()
            .expect("ifindex")
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Connects `a` and `b` with a veth pair addressed `10.{net}.0.{1,2}/24` and `fd00:{net}::{1,2}/64`;
/// returns the interface names (in `a`, in `b`).
pub fn link(a: &Ns, b: &Ns, net: u8) -> (String, String) {
    let (ia, ib) = (unique("va"), unique("vb"));
    link_named(a, b, net, &ia, &ib);
    (ia, ib)
}

/// [`link`] with the interface names given (to re-create a pair that was deleted).
pub fn link_named(a: &Ns, b: &Ns, net: u8, ia: &str, ib: &str) {
    sh(&format!(
        "ip link add {ia} netns {} type veth peer name {ib} netns {}",
        a.name, b.name
    ));
    for (ns, i, host) in [(a, ia, 1), (b, ib, 2)] {
        ns.run(&format!("ip addr add 10.{net}.0.{host}/24 dev {i} && ip -6 addr add fd00:{net}::{host}/64 dev {i} nodad && ip link set {i} up"));
    }
}

/// A process started in the background: output collected when it ends.
pub struct Bg {
    pub child: Child,
}

impl Bg {
    pub fn spawn(mut c: Command) -> Bg {
        let child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        Bg { child }
    }

    /// Sends `sig` (e.g. "INT").
    pub fn signal(&self, sig: &str) {
        sh(&format!("kill -{sig} {}", self.child.id()));
    }

    /// Waits (at most `limit`) and returns the output and how long the wait took.
    pub fn wait(self, limit: Duration) -> (Output, Duration) {
        let start = Instant::now();
        let mut child = self.child;
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                panic!("process still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = start.elapsed();
        (child.wait_with_output().expect("output"), took)
    }
}

/// pktstat `-j` / `--jsonl` output turned into sorted lines
/// `src dst sport dport proto ipproto type code vlan iface size packets` (python3 parses the JSON).
pub fn flows(json: &str) -> Vec<String> {
    let script = r#"
import json, sys
out = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    v = json.loads(line)
    rows = v if isinstance(v, list) else ([v] if v.get("type") == "flow" else [])
    for f in rows:
        out.append(" ".join(str(f.get(k, "-")) for k in
            ["srcIp", "dstIp", "srcPort", "dstPort", "proto", "ipProto", "icmpType", "icmpCode", "vlan", "iface", "size", "packets"]))
print("\n".join(sorted(out)))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "pktstat output is not valid JSON: {}\n{json}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The flows whose line contains `needle`.
pub fn grep<'a>(flows: &'a [String], needle: &str) -> Vec<&'a String> {
    flows.iter().filter(|l| l.contains(needle)).collect()
}
