//! The one table of command-line flags (ripgrep style).
//!
//! The parser in `args.rs` looks flags up here, and `--help` is generated from the same rows,
//! so a flag cannot exist without being documented, nor be documented under a name the parser
//! does not accept.

use std::fmt::Write as _;

/// Which flag a row is: what `args.rs` matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagId {
    /// `-?`, `-h`, `--help`.
    Help,
    /// `--version`.
    Version,
    /// `-i`, `--iface`.
    Iface,
    /// `-f`, `--filter`.
    Filter,
    /// `-s`, `--snaplen`.
    Snaplen,
    /// `-b`, `--bufsize`.
    Bufsize,
    /// `-t`, `--timeout`.
    Timeout,
    /// `-l`, `--interval`.
    Interval,
    /// `-j`, `--json`.
    Json,
    /// `--jsonl`.
    JsonLines,
    /// `-v`, `--add_vlan`.
    AddVlan,
    /// `-r`, `--read`.
    Read,
    /// `-n`, `--top`.
    Top,
    /// `-Q`, `--direction`.
    Direction,
    /// `-p`, `--promisc`.
    Promisc,
    /// `--backend`.
    Backend,
    /// `--dump-filter`.
    DumpFilter,
    /// `-Z`, `--user`.
    User,
}

/// One flag: its names, its value (if it takes one), its default and its help line.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    /// What the parser matches on.
    pub id: FlagId,
    /// Short names (`-h` and `-?` share a row).
    pub short: &'static [char],
    /// Long name without the dashes.
    pub long: &'static str,
    /// `Some(NAME)` when the flag takes a value, shown as `--long NAME`.
    pub value: Option<&'static str>,
    /// Default shown in the help, if any.
    pub default: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
}

/// Every flag, in the order `--help` lists them.
pub static FLAGS: &[Flag] = &[
    Flag {
        id: FlagId::Help,
        short: &['?', 'h'],
        long: "help",
        value: None,
        default: None,
        help: "display this help and exit",
    },
    Flag {
        id: FlagId::Version,
        short: &[],
        long: "version",
        value: None,
        default: None,
        help: "display the version and target, and exit",
    },
    Flag {
        id: FlagId::Iface,
        short: &['i'],
        long: "iface",
        value: Some("NAME"),
        default: Some("any"),
        help: "interface to capture on; any = all of them",
    },
    Flag {
        id: FlagId::Read,
        short: &['r'],
        long: "read",
        value: Some("FILE"),
        default: None,
        help: "read a pcap or pcapng file (- = stdin)",
    },
    Flag {
        id: FlagId::Filter,
        short: &['f'],
        long: "filter",
        value: Some("EXPR"),
        default: None,
        help: "pcap-filter (tcpdump) expression, e.g. \"not port 22\"",
    },
    Flag {
        id: FlagId::Snaplen,
        short: &['s'],
        long: "snaplen",
        value: Some("N"),
        default: Some("0"),
        help: "bytes captured per packet; <= 0 means 65535",
    },
    Flag {
        id: FlagId::Bufsize,
        short: &['b'],
        long: "bufsize",
        value: Some("MB"),
        default: Some("8"),
        help: "capture ring size in MiB",
    },
    Flag {
        id: FlagId::Timeout,
        short: &['t'],
        long: "timeout",
        value: Some("DUR"),
        default: Some("none"),
        help: "stop after DUR (offline: in packet time)",
    },
    Flag {
        id: FlagId::Interval,
        short: &['l'],
        long: "interval",
        value: Some("DUR"),
        default: Some("none"),
        help: "print a report every DUR",
    },
    Flag {
        id: FlagId::Json,
        short: &['j'],
        long: "json",
        value: None,
        default: None,
        help: "output each report as one JSON array",
    },
    Flag {
        id: FlagId::JsonLines,
        short: &[],
        long: "jsonl",
        value: None,
        default: None,
        help: "output JSON Lines: one flow per line, then a summary line",
    },
    Flag {
        id: FlagId::Top,
        short: &['n'],
        long: "top",
        value: Some("N"),
        default: None,
        help: "show only the N first flows of each report",
    },
    Flag {
        id: FlagId::AddVlan,
        short: &['v'],
        long: "add_vlan",
        value: None,
        default: None,
        help: "account flows per VLAN (the VLAN id is part of the flow)",
    },
    Flag {
        id: FlagId::Direction,
        short: &['Q'],
        long: "direction",
        value: Some("DIR"),
        default: Some("inout"),
        help: "count packets in, out or inout (both)",
    },
    Flag {
        id: FlagId::Promisc,
        short: &['p'],
        long: "promisc",
        value: None,
        default: None,
        help: "put the interface in promiscuous mode",
    },
    Flag {
        id: FlagId::Backend,
        short: &[],
        long: "backend",
        value: Some("NAME"),
        default: Some(DEFAULT_BACKEND),
        help: "capture backend: afpacket or pcap",
    },
    Flag {
        id: FlagId::DumpFilter,
        short: &[],
        long: "dump-filter",
        value: None,
        default: None,
        help: "print the compiled filter (like tcpdump -d) and exit",
    },
    Flag {
        id: FlagId::User,
        short: &['Z'],
        long: "user",
        value: Some("USER"),
        default: None,
        help: "user to run as after set-up (default nobody when root)",
    },
];

/// The backend a plain run uses on this platform.
#[cfg(target_os = "linux")]
pub const DEFAULT_BACKEND: &str = "afpacket";
/// The backend a plain run uses on this platform.
#[cfg(not(target_os = "linux"))]
pub const DEFAULT_BACKEND: &str = "pcap";

/// The row of a short flag.
pub fn by_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short.contains(&c))
}

/// The row of a long flag (name without dashes).
pub fn by_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

/// The flag's names as the help and error messages show them: `-i, --iface`.
pub fn display_name(flag: &Flag) -> String {
    let mut s = String::new();
    for c in flag.short {
        let _ = write!(s, "-{c}, ");
    }
    let _ = write!(s, "--{}", flag.long);
    s
}

/// `pktstat X.Y.Z (TARGET)`.
pub fn version_text() -> String {
    format!(
        "pktstat {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        env!("PKTSTAT_TARGET")
    )
}

/// The whole `--help` text, generated from [`FLAGS`].
pub fn help_text() -> String {
    let left: Vec<String> = FLAGS
        .iter()
        .map(|f| {
            // Flags without a short name line up their long name with the others'.
            let mut s = if f.short.is_empty() {
                String::from("    ")
            } else {
                String::new()
            };
            s.push_str(&display_name(f));
            if let Some(v) = f.value {
                s.push(' ');
                s.push_str(v);
            }
            s
        })
        .collect();
    let width = left.iter().map(|s| s.chars().count()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    let _ = write!(
        out,
        "pktstat {}: per-flow packet statistics\n\n\
         USAGE\n  \
         pktstat [FLAGS]            capture on an interface until -t or Ctrl-C\n  \
         pktstat -r FILE [FLAGS]    report on a pcap or pcapng file\n\n\
         FLAGS\n",
        env!("CARGO_PKG_VERSION")
    );
    for (f, l) in FLAGS.iter().zip(&left) {
        let _ = write!(out, "  {l:<width$}{}", f.help);
        if let Some(d) = f.default {
            let _ = write!(out, " (default: {d})");
        }
        out.push('\n');
    }
    out.push_str(
        "\nDUR: a Go duration (300ms, 1.5s, 2m, 1h30m; units ns, us, ms, s, m, h) or a\n\
         number of seconds.\n\
         Long flags also take their value as --flag=VALUE.\n\
         Exit status: 0 success, 1 runtime error, 2 usage error.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in FLAGS.iter().enumerate() {
            for b in &FLAGS[i + 1..] {
                assert_ne!(a.long, b.long);
                assert_ne!(a.id, b.id);
                for c in a.short {
                    assert!(!b.short.contains(c), "-{c} used twice");
                }
            }
        }
    }

    #[test]
    fn help_mentions_every_flag() {
        let help = help_text();
        for f in FLAGS {
            assert!(
                help.contains(&format!("--{}", f.long)),
                "--{} missing",
                f.long
            );
            for c in f.short {
                assert!(help.contains(&format!("-{c},")), "-{c} missing");
            }
            assert!(help.contains(f.help));
        }
        // The SPEC's flags, spelled out so that dropping a row from the table fails here.
        for name in [
            "-?",
            "-h",
            "--help",
            "--version",
            "-i",
            "--iface",
            "-f",
            "--filter",
            "-s",
            "--snaplen",
            "-b",
            "--bufsize",
            "-t",
            "--timeout",
            "-l",
            "--interval",
            "-j",
            "--json",
            "-v",
            "--add_vlan",
            "-r",
            "--read",
            "--jsonl",
            "-n",
            "--top",
            "-Q",
            "--direction",
            "-p",
            "--promisc",
            "--backend",
            "--dump-filter",
            "-Z",
            "--user",
        ] {
            assert!(help.contains(name), "{name} missing from --help");
        }
    }

    #[test]
    fn help_columns_align() {
        let help = help_text();
        let cols: Vec<usize> = FLAGS
            .iter()
            .map(|f| {
                let line = help.lines().find(|l| l.contains(f.help)).unwrap();
                line.find(f.help).unwrap()
            })
            .collect();
        assert!(cols.iter().all(|&c| c == cols[0]), "{cols:?}");
    }

    #[test]
    fn help_fits_80_columns() {
        for line in help_text().lines() {
            assert!(line.chars().count() <= 80, "too long: {line:?}");
        }
    }

    #[test]
    fn version_names_target() {
        let v = version_text();
        assert!(v.starts_with(&format!("pktstat {} (", env!("CARGO_PKG_VERSION"))));
        assert!(v.ends_with(")\n"));
        assert!(v.contains('-'), "target triple expected in {v:?}");
    }

    #[test]
    fn lookups() {
        assert_eq!(by_short('?').unwrap().id, FlagId::Help);
        assert_eq!(by_short('h').unwrap().id, FlagId::Help);
        assert_eq!(by_long("add_vlan").unwrap().id, FlagId::AddVlan);
        assert!(by_short('x').is_none());
        assert!(by_long("add-vlan").is_none());
    }
}
