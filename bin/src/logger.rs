//! A tiny `log` backend: one line per message on stderr, `pktstat: warning: ...`.
//!
//! Why not a crate: the binary must stay small for routers, and all it needs is a level
//! (from `PKTSTAT_LOG`: off, error, warn, info, debug, trace; default warn) and a prefix.
//! A failed write to stderr is ignored: there is nowhere left to report it.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The environment variable that sets the level.
pub const ENV: &str = "PKTSTAT_LOG";

struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("pktstat: {}: {}\n", label(record.level()), record.args());
            // One write call per line, so lines from threads do not interleave.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// The word printed for a level.
fn label(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

/// The level named by `value` (case-insensitive); `None` if it names none.
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    value.trim().parse().ok()
}

/// Installs the logger; the level comes from `PKTSTAT_LOG` (default warn). An unknown
/// level is reported once and the default used.
pub fn init() {
    let env = std::env::var(ENV).ok();
    let level = env.as_deref().map_or(Some(LevelFilter::Warn), parse_level);
    // set_logger fails only if a logger is already installed (a second init): keep it.
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level.unwrap_or(LevelFilter::Warn));
    }
    if level.is_none() {
        log::warn!(
            "{ENV}={:?} is not a level (off, error, warn, info, debug, trace); using warn",
            env.unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(parse_level("warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("DEBUG"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("off"), Some(LevelFilter::Off));
        assert_eq!(parse_level(" info "), Some(LevelFilter::Info));
        assert_eq!(parse_level("loud"), None);
        assert_eq!(parse_level(""), None);
    }

    #[test]
    fn labels() {
        assert_eq!(label(Level::Warn), "warning");
        assert_eq!(label(Level::Error), "error");
    }
}
