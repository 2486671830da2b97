//! Low-level arguments: what the user typed, flag by flag, before any validation.
//!
//! `lexopt` does the lexing (`-abc` clusters, `-ivalue`, `--opt=value`, `--`); every name is
//! looked up in the one table of `flags.rs`. Values stay as text here: turning them into
//! numbers, durations and a consistent [`crate::settings::Settings`] is `settings.rs`'s job,
//! so that every rule about what a value means lives in one place.

use std::ffi::OsString;

use crate::error::AppError;
use crate::flags::{self, Flag, FlagId};

/// Every flag as given; a flag given twice keeps its last value (as getopt tools do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `-?`, `-h`, `--help`.
    pub help: bool,
    /// `--version`.
    pub version: bool,
    /// `-i`.
    pub iface: Option<String>,
    /// `-f`.
    pub filter: Option<String>,
    /// `-s`.
    pub snaplen: Option<String>,
    /// `-b`.
    pub bufsize: Option<String>,
    /// `-t`.
    pub timeout: Option<String>,
    /// `-l`.
    pub interval: Option<String>,
    /// `-j`.
    pub json: bool,
    /// `--jsonl`.
    pub jsonl: bool,
    /// `-v`.
    pub add_vlan: bool,
    /// `-r`: a path, kept as the OS gave it (it need not be UTF-8).
    pub read: Option<OsString>,
    /// `-n`.
    pub top: Option<String>,
    /// `-Q`.
    pub direction: Option<String>,
    /// `-p`.
    pub promisc: bool,
    /// `--backend`.
    pub backend: Option<String>,
    /// `--dump-filter`.
    pub dump_filter: bool,
    /// `-Z`.
    pub user: Option<String>,
}

/// A usage error (exit 2) that points to `--help`.
pub fn usage_error(what: impl std::fmt::Display) -> AppError {
    AppError::usage(format!("{what}; see 'pktstat --help'"))
}

/// Parses the arguments (without the program name).
///
/// Stops at the first `--help` or `--version`: what follows is not looked at, so
/// `pktstat --help --bogus` still prints the help.
pub fn parse<I>(args: I) -> Result<Args, AppError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::Arg;
    let mut parser = lexopt::Parser::from_args(args);
    let mut out = Args::default();
    loop {
        let arg = parser.next().map_err(lexopt_error)?;
        let (flag, spelled): (&Flag, String) = match arg {
            None => break,
            Some(Arg::Short(c)) => match flags::by_short(c) {
                Some(f) => (f, format!("-{c}")),
                None => return Err(usage_error(format_args!("unknown flag -{c}"))),
            },
            Some(Arg::Long(name)) => match flags::by_long(name) {
                Some(f) => (f, format!("--{name}")),
                None => return Err(usage_error(format_args!("unknown flag --{name}"))),
            },
            Some(Arg::Value(v)) => {
                return Err(usage_error(format_args!(
                    "unexpected argument '{}' (pktstat takes no positional arguments; a \
                     filter goes in -f \"EXPR\")",
                    v.to_string_lossy()
                )))
            }
        };
        if flag.value.is_none() {
            match flag.id {
                FlagId::Help => {
                    out.help = true;
                    return Ok(out);
                }
                FlagId::Version => {
                    out.version = true;
                    return Ok(out);
                }
                FlagId::Json => out.json = true,
                FlagId::JsonLines => out.jsonl = true,
                FlagId::AddVlan => out.add_vlan = true,
                FlagId::Promisc => out.promisc = true,
                FlagId::DumpFilter => out.dump_filter = true,
                _ => return Err(unhandled(flag)),
            }
            continue;
        }
        let value = parser.value().map_err(|_| {
            usage_error(format_args!(
                "{spelled} needs a value ({})",
                flag.value.unwrap_or("")
            ))
        })?;
        if flag.id == FlagId::Read {
            out.read = Some(value);
            continue;
        }
        let text = value.into_string().map_err(|v| {
            usage_error(format_args!(
                "{spelled}: '{}' is not valid UTF-8",
                v.to_string_lossy()
            ))
        })?;
        let slot = match flag.id {
            FlagId::Iface => &mut out.iface,
            FlagId::Filter => &mut out.filter,
            FlagId::Snaplen => &mut out.snaplen,
            FlagId::Bufsize => &mut out.bufsize,
            FlagId::Timeout => &mut out.timeout,
            FlagId::Interval => &mut out.interval,
            FlagId::Top => &mut out.top,
            FlagId::Direction => &mut out.direction,
            FlagId::Backend => &mut out.backend,
            FlagId::User => &mut out.user,
            _ => return Err(unhandled(flag)),
        };
        *slot = Some(text);
    }
    Ok(out)
}

/// A table row whose kind (switch or value) disagrees with the parser: a programming
/// error, reported rather than panicking. The tests make sure it cannot happen.
fn unhandled(flag: &Flag) -> AppError {
    AppError::runtime(format!(
        "internal error: flag --{} is not handled; please report this",
        flag.long
    ))
}

/// lexopt's own errors, in our words.
fn lexopt_error(e: lexopt::Error) -> AppError {
    match e {
        lexopt::Error::UnexpectedValue { option, value } => usage_error(format_args!(
            "{option} takes no value (got '{}')",
            value.to_string_lossy()
        )),
        other => usage_error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, AppError> {
        parse(args.iter().map(|s| OsString::from(*s)))
    }

    fn ok(args: &[&str]) -> Args {
        p(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn usage(args: &[&str]) -> String {
        let e = p(args).expect_err("expected a usage error");
        assert_eq!(e.code, crate::error::EXIT_USAGE, "{args:?}: {e}");
        assert!(e.message.contains("pktstat --help"), "{e}");
        assert!(!e.message.contains('\n'));
        e.message
    }

    #[test]
    fn empty() {
        assert_eq!(ok(&[]), Args::default());
    }

    #[test]
    fn help_forms() {
        for form in ["-?", "-h", "--help"] {
            assert!(ok(&[form]).help, "{form}");
        }
        // Help wins over whatever follows it.
        assert!(ok(&["-h", "--bogus"]).help);
        assert!(ok(&["--version"]).version);
        assert!(ok(&["-j", "--version", "-x"]).version);
    }

    #[test]
    fn value_forms() {
        let want = Some(String::from("eth0"));
        for form in [
            &["-i", "eth0"][..],
            &["-ieth0"],
            &["--iface", "eth0"],
            &["--iface=eth0"],
            &["-i", "x", "-i", "eth0"], // last one wins
        ] {
            assert_eq!(ok(form).iface, want, "{form:?}");
        }
        // A value may start with a dash when it is given separately.
        assert_eq!(ok(&["-f", "-x"]).filter.as_deref(), Some("-x"));
        assert_eq!(
            ok(&["--filter=not port 22"]).filter.as_deref(),
            Some("not port 22")
        );
        assert_eq!(ok(&["--filter="]).filter.as_deref(), Some(""));
    }

    #[test]
    fn every_flag() {
        let a = ok(&[
            "-f",
            "tcp",
            "-s",
            "96",
            "-b",
            "16",
            "-t",
            "5s",
            "-l",
            "1s",
            "-j",
            "-v",
            "-n",
            "10",
            "-Q",
            "in",
            "-p",
            "--backend",
            "afpacket",
            "--dump-filter",
            "-Z",
            "nobody",
            "-i",
            "lo",
        ]);
        assert_eq!(a.filter.as_deref(), Some("tcp"));
        assert_eq!(a.snaplen.as_deref(), Some("96"));
        assert_eq!(a.bufsize.as_deref(), Some("16"));
        assert_eq!(a.timeout.as_deref(), Some("5s"));
        assert_eq!(a.interval.as_deref(), Some("1s"));
        assert!(a.json && a.add_vlan && a.promisc && a.dump_filter);
        assert_eq!(a.top.as_deref(), Some("10"));
        assert_eq!(a.direction.as_deref(), Some("in"));
        assert_eq!(a.backend.as_deref(), Some("afpacket"));
        assert_eq!(a.user.as_deref(), Some("nobody"));
        assert_eq!(a.iface.as_deref(), Some("lo"));

        let a = ok(&[
            "--filter=udp",
            "--snaplen=0",
            "--bufsize=1",
            "--timeout=1m",
            "--interval=2s",
            "--jsonl",
            "--add_vlan",
            "--read=x.pcap",
            "--top=3",
            "--direction=inout",
            "--promisc",
            "--backend=pcap",
            "--user=root",
        ]);
        assert_eq!(a.filter.as_deref(), Some("udp"));
        assert_eq!(a.snaplen.as_deref(), Some("0"));
        assert_eq!(a.bufsize.as_deref(), Some("1"));
        assert_eq!(a.timeout.as_deref(), Some("1m"));
        assert_eq!(a.interval.as_deref(), Some("2s"));
        assert!(a.jsonl && a.add_vlan && a.promisc && !a.json);
        assert_eq!(a.read, Some(OsString::from("x.pcap")));
        assert_eq!(a.top.as_deref(), Some("3"));
        assert_eq!(a.direction.as_deref(), Some("inout"));
        assert_eq!(a.backend.as_deref(), Some("pcap"));
        assert_eq!(a.user.as_deref(), Some("root"));
    }

    #[test]
    fn clustered_switches() {
        let a = ok(&["-jvp"]);
        assert!(a.json && a.add_vlan && a.promisc);
        let a = ok(&["-jr", "-"]);
        assert!(a.json);
        assert_eq!(a.read, Some(OsString::from("-")));
        let a = ok(&["-jn5"]);
        assert_eq!(a.top.as_deref(), Some("5"));
    }

    #[test]
    fn read_stdin_and_paths() {
        assert_eq!(ok(&["-r", "-"]).read, Some(OsString::from("-")));
        assert_eq!(
            ok(&["--read", "/tmp/a b.pcap"]).read,
            Some(OsString::from("/tmp/a b.pcap"))
        );
    }

    #[test]
    fn bad_flags() {
        assert!(usage(&["-x"]).contains("-x"));
        assert!(usage(&["--bogus"]).contains("--bogus"));
        assert!(usage(&["--add-vlan"]).contains("--add-vlan"));
        assert!(usage(&["-i"]).contains("-i needs a value"));
        assert!(usage(&["--timeout"]).contains("--timeout needs a value"));
        assert!(usage(&["--json=yes"]).contains("--json takes no value"));
        assert!(usage(&["eth0"]).contains("'eth0'"));
        assert!(usage(&["-j", "--", "-j"]).contains("'-j'"));
        assert!(usage(&["-"]).contains("'-'"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'a', 0xff]);
        // A path need not be UTF-8...
        let a = parse([OsString::from("-r"), bad.clone()]).unwrap();
        assert_eq!(a.read, Some(bad.clone()));
        // ...other values must be.
        let e = parse([OsString::from("-i"), bad]).unwrap_err();
        assert_eq!(e.code, crate::error::EXIT_USAGE);
        assert!(e.message.contains("UTF-8"));
    }

    #[test]
    fn table_kinds_match_parser() {
        // Every row parses in its own form: switches alone, value flags with a value.
        for f in flags::FLAGS {
            let long = format!("--{}", f.long);
            let args: Vec<&str> = if f.value.is_some() {
                vec![&long, "1"]
            } else {
                vec![&long]
            };
            let r = p(&args);
            assert!(r.is_ok(), "{long}: {:?}", r.err());
        }
    }
}
