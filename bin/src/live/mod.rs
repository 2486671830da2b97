//! Live capture (placeholder until the live-capture work lands).

use crate::error::AppError;
use crate::settings::Settings;

/// Runs a live capture with `settings` until timeout or signal, printing reports.
pub fn run(settings: &Settings) -> Result<(), AppError> {
    let _ = settings;
    Err(AppError::runtime(
        "live capture is not built yet: use -r FILE to read a capture file",
    ))
}
