//! The one error type of the binary: a one-line message and an exit status (SPEC §1).

use std::fmt;

/// Exit status of a runtime error.
pub const EXIT_RUNTIME: i32 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// An error that ends the program: printed as one line on stderr, then `exit(code)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// 1 (runtime) or 2 (usage).
    pub code: i32,
    /// One line, no trailing newline: what is wrong and what to do.
    pub message: String,
}

impl AppError {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> AppError {
        AppError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
    /// A runtime error (exit 1).
    pub fn runtime(message: impl Into<String>) -> AppError {
        AppError {
            code: EXIT_RUNTIME,
            message: message.into(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}
