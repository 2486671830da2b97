//! Stop requests: SIGINT and SIGTERM end the capture and print the report; a second one exits
//! at once with status 130 (SPEC §5).
//!
//! `signal-hook` installs the handlers: its flag handlers only store to an atomic, and its
//! conditional shutdown calls `_exit` from the handler when the flag is already set, which is
//! what "a second Ctrl-C exits at once" needs — with no `unsafe` here (the live module's own
//! handlers sit in its private system-call layer, built on Linux only).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit status of a second stop request (128 + SIGINT, as a shell reports it).
pub const EXIT_AT_ONCE: i32 = 130;

/// Set by the first SIGINT or SIGTERM.
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// True once SIGINT or SIGTERM has arrived.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Installs the handlers for SIGINT and SIGTERM.
pub fn install() -> io::Result<StopFlag> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Order matters: handlers run in registration order, so the first signal finds the
        // flag clear (no exit) and then sets it; the second finds it set and exits.
        signal_hook::flag::register_conditional_shutdown(sig, EXIT_AT_ONCE, Arc::clone(&flag))?;
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(StopFlag(flag))
}
