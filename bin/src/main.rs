//! pktstat: per-flow packet statistics from a live interface or a capture file.
//!
//! `main` is only the frame: parse flags (`args.rs`, table in `flags.rs`), validate them into
//! `Settings` (`settings.rs`), then run the offline path (`offline.rs`) or the live capture
//! (`live/`). Every failure comes back here as one `AppError`, printed as a single line
//! `pktstat: ...` on stderr with exit status 1 (runtime) or 2 (usage). A closed stdout is not
//! a failure: it ends the program quietly with status 0.
mod args;
mod duration;
mod error;
mod filter;
mod flags;
#[cfg(target_os = "linux")]
mod live;
mod logger;
mod offline;
mod output;
#[cfg(feature = "pcap")]
mod pcap_backend;
mod seed;
mod session;
mod settings;

use std::io::Write;

use error::AppError;
use settings::{Settings, Source};

fn main() {
    logger::init();
    let code = match run() {
        Ok(()) => 0,
        Err(e) if output::is_quiet(&e) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "pktstat: {e}");
            e.code
        }
    };
    std::process::exit(code);
}

fn run() -> Result<(), AppError> {
    let args = args::parse(std::env::args_os().skip(1))?;
    if args.help {
        return print(&flags::help_text());
    }
    if args.version {
        return print(&flags::version_text());
    }
    let settings = Settings::from_args(&args)?;
    for flag in Settings::live_only_flags(&args) {
        log::warn!("{flag} applies to live capture only; ignored with -r");
    }
    if settings.dump_filter {
        return dump_filter(&settings);
    }
    match settings.source {
        Source::File(_) => offline::run(&settings),
        Source::Live { .. } => capture(&settings),
    }
}

/// The live capture through the backend `--backend` chose (settings.rs checked it is built).
#[cfg_attr(
    not(any(target_os = "linux", feature = "pcap")),
    allow(unused_variables)
)]
fn capture(settings: &Settings) -> Result<(), AppError> {
    #[cfg(feature = "pcap")]
    if settings.backend == settings::Backend::Pcap {
        return pcap_backend::run(settings);
    }
    #[cfg(target_os = "linux")]
    let result = live::run(settings);
    #[cfg(not(target_os = "linux"))]
    let result = Err(AppError::runtime(
        "live capture here needs libpcap: rebuild with `cargo build --features pcap`",
    ));
    result
}

/// `--dump-filter`: the program `-f` compiles to (for the `-r` file's link type, else for
/// the live socket), like `tcpdump -d`; without `-f`, the accept-all program.
fn dump_filter(settings: &Settings) -> Result<(), AppError> {
    let expr = settings.filter.as_deref();
    let prog = match &settings.source {
        Source::File(_) => {
            let link = offline::link_type(settings)?;
            match expr {
                Some(e) => filter::compile(
                    e,
                    pktstat_core::filter::Target::Link(link),
                    filter::OFFLINE_SNAPLEN,
                )?,
                None => accept_all(filter::OFFLINE_SNAPLEN),
            }
        }
        Source::Live { .. } => match expr {
            Some(e) => filter::compile(
                e,
                pktstat_core::filter::Target::LinuxSocket,
                settings.snaplen,
            )?,
            None => accept_all(settings.snaplen),
        },
    };
    print(&filter::dump(&prog))
}

fn accept_all(snaplen: u32) -> Box<pktstat_core::filter::Program> {
    let mut p = Box::new(pktstat_core::filter::Program::new());
    p.accept_all(snaplen);
    p
}

/// Writes `text` to stdout (help, version).
fn print(text: &str) -> Result<(), AppError> {
    let mut out = output::Output::stdout();
    // A failed write is remembered by `out` and reported by `flush`.
    let _ = out.write_bytes(text.as_bytes());
    out.flush()
}
