//! Validated, high-level settings: what the rest of the program runs on.
//!
//! OWNER: cli helper (parsing and validation from `args.rs`). The struct is the contract the
//! offline and live paths read.

use std::path::PathBuf;
use std::time::Duration;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// upstream's text lines.
    Text,
    /// `-j`: one JSON array per report.
    Json,
    /// `--jsonl`: JSON Lines.
    JsonLines,
}

/// `-Q`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectionFilter {
    /// Received only.
    In,
    /// Sent only.
    Out,
    /// Both (default).
    InOut,
}

/// `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Raw AF_PACKET ring (Linux default).
    AfPacket,
    /// libpcap (feature `pcap`).
    Pcap,
}

/// Where packets come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `-r FILE`; `None` = stdin (`-r -`).
    File(Option<PathBuf>),
    /// Live capture on an interface (`any` = every interface).
    Live {
        /// Interface name.
        iface: String,
    },
}

/// Everything the program runs on, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Packet source.
    pub source: Source,
    /// `-f` expression, if any.
    pub filter: Option<String>,
    /// `-s`: bytes captured per packet (already mapped: <= 0 → 65535).
    pub snaplen: u32,
    /// `-b`: ring / buffer size in bytes.
    pub bufsize: usize,
    /// `-t`: stop after this long (live: wall time; offline: packet time).
    pub timeout: Option<Duration>,
    /// `-l`: report every interval.
    pub interval: Option<Duration>,
    /// Output format.
    pub format: OutputFormat,
    /// `-n`: only the N first flows.
    pub top: Option<usize>,
    /// `-v`: flows keyed per VLAN.
    pub per_vlan: bool,
    /// `-Q`.
    pub direction: DirectionFilter,
    /// `-p`.
    pub promisc: bool,
    /// `--backend`.
    pub backend: Backend,
    /// `--dump-filter`: print the compiled filter and exit.
    pub dump_filter: bool,
    /// `-Z USER`: user to switch to after set-up (None = default policy).
    pub user: Option<String>,
}

// ---- Validation: low-level `Args` to `Settings` (SPEC §1) ----

use crate::args::{usage_error, Args};
use crate::duration::parse_duration;
use crate::error::AppError;

/// What `-s 0` (and any value <= 0) means.
pub const DEFAULT_SNAPLEN: u32 = 65_535;
/// The largest snap length: tcpdump's `MAXIMUM_SNAPLEN`; larger values are clamped to it.
pub const MAX_SNAPLEN: u32 = 262_144;
/// `-b` default, MiB.
pub const DEFAULT_BUFSIZE_MIB: usize = 8;
/// `-b` upper bound, MiB: far beyond any sensible ring, well below address-space limits
/// of the 32-bit targets.
pub const MAX_BUFSIZE_MIB: usize = 1_024;

impl Settings {
    /// Checks every value and every combination of flags; errors are usage errors (exit 2),
    /// `--backend pcap` in a build without the `pcap` feature included (the lead's call: a
    /// flag this binary cannot honour, like an unknown one).
    pub fn from_args(args: &Args) -> Result<Settings, AppError> {
        if args.iface.is_some() && args.read.is_some() {
            return Err(usage_error(
                "-i and -r exclude each other: capture on an interface, or read a file",
            ));
        }
        if args.json && args.jsonl {
            return Err(usage_error(
                "-j and --jsonl exclude each other: choose one output format",
            ));
        }
        let source = match &args.read {
            Some(path) if path == "-" => Source::File(None),
            Some(path) if path.is_empty() => {
                return Err(usage_error("-r needs a file name (or - for stdin)"))
            }
            Some(path) => Source::File(Some(PathBuf::from(path))),
            None => {
                let iface = args.iface.clone().unwrap_or_else(|| String::from("any"));
                if iface.is_empty() {
                    return Err(usage_error("-i needs an interface name (or any)"));
                }
                Source::Live { iface }
            }
        };
        let format = if args.json {
            OutputFormat::Json
        } else if args.jsonl {
            OutputFormat::JsonLines
        } else {
            OutputFormat::Text
        };
        let user = match &args.user {
            Some(u) if u.is_empty() => return Err(usage_error("-Z needs a user name")),
            other => other.clone(),
        };
        Ok(Settings {
            source,
            filter: args.filter.clone(),
            snaplen: parse_snaplen(args.snaplen.as_deref())?,
            bufsize: parse_bufsize(args.bufsize.as_deref())?,
            timeout: parse_opt_duration("-t/--timeout", args.timeout.as_deref())?,
            interval: parse_opt_duration("-l/--interval", args.interval.as_deref())?,
            format,
            top: parse_top(args.top.as_deref())?,
            per_vlan: args.add_vlan,
            direction: parse_direction(args.direction.as_deref())?,
            promisc: args.promisc,
            backend: parse_backend(args.backend.as_deref())?,
            dump_filter: args.dump_filter,
            user,
        })
    }

    /// Flags that only mean something live, given with `-r`: named so the caller can warn
    /// that they are ignored.
    pub fn live_only_flags(args: &Args) -> Vec<&'static str> {
        if args.read.is_none() {
            return Vec::new();
        }
        let mut v = Vec::new();
        for (given, name) in [
            (args.bufsize.is_some(), "-b"),
            (args.direction.is_some(), "-Q"),
            (args.promisc, "-p"),
            (args.backend.is_some(), "--backend"),
            (args.user.is_some(), "-Z"),
        ] {
            if given {
                v.push(name);
            }
        }
        v
    }
}

/// `-s N`: <= 0 means 65535; above 262144 is clamped (as tcpdump does).
fn parse_snaplen(v: Option<&str>) -> Result<u32, AppError> {
    let Some(text) = v else {
        return Ok(DEFAULT_SNAPLEN);
    };
    let n: i64 = text.trim().parse().map_err(|_| {
        usage_error(format_args!(
            "-s/--snaplen: '{text}' is not a whole number of bytes"
        ))
    })?;
    Ok(if n <= 0 {
        DEFAULT_SNAPLEN
    } else {
        u32::try_from(n).unwrap_or(MAX_SNAPLEN).min(MAX_SNAPLEN)
    })
}

/// `-b MB`: 1..=1024 MiB, returned in bytes.
fn parse_bufsize(v: Option<&str>) -> Result<usize, AppError> {
    let mib = match v {
        None => DEFAULT_BUFSIZE_MIB,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_BUFSIZE_MIB).contains(n))
            .ok_or_else(|| {
                usage_error(format_args!(
                    "-b/--bufsize: '{text}' is not a size in MiB from 1 to {MAX_BUFSIZE_MIB}"
                ))
            })?,
    };
    Ok(mib << 20)
}

/// `-t` / `-l`: a duration; 0 means none.
fn parse_opt_duration(flag: &str, v: Option<&str>) -> Result<Option<Duration>, AppError> {
    let Some(text) = v else { return Ok(None) };
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Ok(None),
        Ok(d) => Ok(Some(d)),
        Err(e) => Err(usage_error(format_args!(
            "{flag}: '{text}' is not a duration ({e}); examples: 300ms, 1.5s, 2m, 1h30m, 10"
        ))),
    }
}

/// `-n N`: how many flows each report shows (0 = none: the summary only).
fn parse_top(v: Option<&str>) -> Result<Option<usize>, AppError> {
    let Some(text) = v else { return Ok(None) };
    text.trim()
        .parse::<usize>()
        .map(Some)
        .map_err(|_| usage_error(format_args!("-n/--top: '{text}' is not a number of flows")))
}

/// `-Q in|out|inout` (tcpdump also accepts upper case).
fn parse_direction(v: Option<&str>) -> Result<DirectionFilter, AppError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("inout") => Ok(DirectionFilter::InOut),
        Some("in") => Ok(DirectionFilter::In),
        Some("out") => Ok(DirectionFilter::Out),
        Some(_) => Err(usage_error(format_args!(
            "-Q/--direction: '{}' is not one of in, out, inout",
            v.unwrap_or("")
        ))),
    }
}

/// `--backend afpacket|pcap`, checked against what this binary was built with.
fn parse_backend(v: Option<&str>) -> Result<Backend, AppError> {
    let backend = match v.unwrap_or(crate::flags::DEFAULT_BACKEND) {
        "afpacket" => Backend::AfPacket,
        "pcap" => Backend::Pcap,
        other => {
            return Err(usage_error(format_args!(
                "--backend: '{other}' is not one of afpacket, pcap"
            )))
        }
    };
    if backend == Backend::Pcap && !cfg!(feature = "pcap") {
        return Err(AppError::usage(
            "--backend pcap: this pktstat was built without libpcap support; use --backend \
             afpacket, or rebuild with `cargo build --features pcap`",
        ));
    }
    if backend == Backend::AfPacket && !cfg!(target_os = "linux") {
        return Err(AppError::runtime(
            "--backend afpacket: AF_PACKET exists only on Linux; use --backend pcap",
        ));
    }
    Ok(backend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EXIT_USAGE;
    use std::ffi::OsString;

    fn settings(args: &[&str]) -> Result<Settings, AppError> {
        let a = crate::args::parse(args.iter().map(|s| OsString::from(*s)))?;
        Settings::from_args(&a)
    }

    fn ok(args: &[&str]) -> Settings {
        settings(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn err(args: &[&str], code: i32) -> String {
        let e = settings(args).expect_err("expected an error");
        assert_eq!(e.code, code, "{args:?}: {e}");
        e.message
    }

    #[test]
    fn defaults() {
        let s = ok(&[]);
        assert_eq!(
            s,
            Settings {
                source: Source::Live {
                    iface: String::from("any")
                },
                filter: None,
                snaplen: 65_535,
                bufsize: 8 << 20,
                timeout: None,
                interval: None,
                format: OutputFormat::Text,
                top: None,
                per_vlan: false,
                direction: DirectionFilter::InOut,
                promisc: false,
                backend: if cfg!(target_os = "linux") {
                    Backend::AfPacket
                } else {
                    Backend::Pcap
                },
                dump_filter: false,
                user: None,
            }
        );
    }

    #[test]
    fn sources() {
        assert_eq!(
            ok(&["-i", "eth0"]).source,
            Source::Live {
                iface: String::from("eth0")
            }
        );
        assert_eq!(ok(&["-r", "-"]).source, Source::File(None));
        assert_eq!(
            ok(&["-r", "a.pcap"]).source,
            Source::File(Some(PathBuf::from("a.pcap")))
        );
        assert!(err(&["-r", ""], EXIT_USAGE).contains("-r needs"));
        assert!(err(&["-i", ""], EXIT_USAGE).contains("-i needs"));
    }

    #[test]
    fn conflicts() {
        let m = err(&["-i", "lo", "-r", "x.pcap"], EXIT_USAGE);
        assert!(m.contains("-i and -r") && m.contains("--help"), "{m}");
        let m = err(&["-r", "x.pcap", "--iface=any"], EXIT_USAGE);
        assert!(m.contains("-i and -r"), "{m}");
        let m = err(&["-j", "--jsonl"], EXIT_USAGE);
        assert!(m.contains("-j and --jsonl") && m.contains("--help"), "{m}");
    }

    #[test]
    fn formats() {
        assert_eq!(ok(&["-j"]).format, OutputFormat::Json);
        assert_eq!(ok(&["--json"]).format, OutputFormat::Json);
        assert_eq!(ok(&["--jsonl"]).format, OutputFormat::JsonLines);
    }

    #[test]
    fn snaplen() {
        for (v, want) in [
            ("0", 65_535),
            ("-1", 65_535),
            ("-99999999999", 65_535),
            ("96", 96),
            ("65535", 65_535),
            ("262144", 262_144),
            ("262145", 262_144),
            ("99999999999", 262_144),
        ] {
            assert_eq!(ok(&["-s", v]).snaplen, want, "{v}");
        }
        for v in ["", "x", "1.5", "99999999999999999999"] {
            assert!(err(&["-s", v], EXIT_USAGE).contains("-s/--snaplen"), "{v}");
        }
    }

    #[test]
    fn bufsize() {
        assert_eq!(ok(&["-b", "1"]).bufsize, 1 << 20);
        assert_eq!(ok(&["-b", "64"]).bufsize, 64 << 20);
        assert_eq!(ok(&["-b", "1024"]).bufsize, 1024 << 20);
        for v in ["0", "-1", "1025", "x", "1.5", ""] {
            assert!(err(&["-b", v], EXIT_USAGE).contains("-b/--bufsize"), "{v}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(
            ok(&["-t", "1.5s"]).timeout,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(ok(&["-t", "0"]).timeout, None);
        assert_eq!(ok(&["-t", "0s"]).timeout, None);
        assert_eq!(
            ok(&["--interval=1h30m"]).interval,
            Some(Duration::from_secs(5400))
        );
        assert_eq!(ok(&["-l", "10"]).interval, Some(Duration::from_secs(10)));
        let m = err(&["-t", "-1s"], EXIT_USAGE);
        assert!(m.contains("-t/--timeout") && m.contains("negative"), "{m}");
        let m = err(&["-l", "5d"], EXIT_USAGE);
        assert!(m.contains("-l/--interval") && m.contains("unit"), "{m}");
        let m = err(&["-l", "1h30"], EXIT_USAGE);
        assert!(m.contains("'1h30'"), "{m}");
    }

    #[test]
    fn top() {
        assert_eq!(ok(&["-n", "10"]).top, Some(10));
        assert_eq!(ok(&["-n", "0"]).top, Some(0));
        for v in ["-1", "x", ""] {
            assert!(err(&["-n", v], EXIT_USAGE).contains("-n/--top"), "{v}");
        }
    }

    #[test]
    fn direction() {
        assert_eq!(ok(&["-Q", "in"]).direction, DirectionFilter::In);
        assert_eq!(ok(&["-Q", "OUT"]).direction, DirectionFilter::Out);
        assert_eq!(ok(&["--direction=inout"]).direction, DirectionFilter::InOut);
        assert!(err(&["-Q", "both"], EXIT_USAGE).contains("'both'"));
    }

    #[test]
    fn backend() {
        #[cfg(target_os = "linux")]
        assert_eq!(ok(&["--backend", "afpacket"]).backend, Backend::AfPacket);
        assert!(err(&["--backend", "bpf"], EXIT_USAGE).contains("'bpf'"));
        if cfg!(feature = "pcap") {
            assert_eq!(ok(&["--backend=pcap"]).backend, Backend::Pcap);
        } else {
            let m = err(&["--backend=pcap"], EXIT_USAGE);
            assert!(m.contains("without libpcap"), "{m}");
        }
    }

    #[test]
    fn switches_and_user() {
        let s = ok(&["-v", "-p", "--dump-filter", "-f", "tcp", "-Z", "root"]);
        assert!(s.per_vlan && s.promisc && s.dump_filter);
        assert_eq!(s.filter.as_deref(), Some("tcp"));
        assert_eq!(s.user.as_deref(), Some("root"));
        assert!(err(&["-Z", ""], EXIT_USAGE).contains("-Z"));
    }

    #[test]
    fn live_only_flags_with_read() {
        let a = crate::args::parse(["-r", "x", "-p", "-Q", "in", "-b", "2"].map(OsString::from))
            .unwrap();
        assert_eq!(Settings::live_only_flags(&a), ["-b", "-Q", "-p"]);
        let a = crate::args::parse(["-p"].map(OsString::from)).unwrap();
        assert!(Settings::live_only_flags(&a).is_empty());
    }
}
