//! Where reports go: buffered stdout, with a closed pipe treated as a normal end.
//!
//! `pktstat ... | head` must end quietly with status 0 once `head` exits. Rust's runtime
//! already ignores SIGPIPE on Unix, so the write fails with `EPIPE` (`BrokenPipe`) instead of
//! killing the process; [`Output`] remembers the first failure, refuses further writes, and
//! [`write_error`] turns a broken pipe into [`quiet_exit`], which `main` ends on with status 0
//! and no message. Any other write error is a runtime error.

use std::io::{self, BufWriter, Stdout, Write};

use crate::error::AppError;

/// Buffer size: a report's lines are gathered and written in large pieces.
const BUFFER: usize = 64 * 1024;

/// An error meaning "stop now, quietly, with status 0" (stdout was closed by its reader).
pub fn quiet_exit() -> AppError {
    AppError {
        code: 0,
        message: String::new(),
    }
}

/// True for the error [`quiet_exit`] makes.
pub fn is_quiet(e: &AppError) -> bool {
    e.code == 0
}

/// The program-ending error for a failed write of the output.
pub fn write_error(e: &io::Error) -> AppError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        quiet_exit()
    } else {
        AppError::runtime(format!(
            "cannot write the report to stdout: {}",
            io_reason(e)
        ))
    }
}

/// An I/O error's message without Rust's ` (os error N)` suffix.
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// A write that failed; the cause is kept by the [`Output`] it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteFailed;

/// Buffered output that remembers its first error.
pub struct Output<W: Write = Stdout> {
    inner: BufWriter<W>,
    error: Option<io::Error>,
}

impl Output<Stdout> {
    /// The process's stdout.
    pub fn stdout() -> Output<Stdout> {
        Output::new(io::stdout())
    }
}

impl<W: Write> Output<W> {
    /// Buffered output to `w`.
    pub fn new(w: W) -> Output<W> {
        Output {
            inner: BufWriter::with_capacity(BUFFER, w),
            error: None,
        }
    }

    /// Appends `bytes`; after a failure every write fails at once.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), WriteFailed> {
        if self.error.is_some() {
            return Err(WriteFailed);
        }
        self.inner.write_all(bytes).map_err(|e| {
            self.error = Some(e);
            WriteFailed
        })
    }

    /// Writes out what is buffered; the first error (of this or an earlier write) becomes
    /// the program-ending error (quiet for a closed pipe).
    pub fn flush(&mut self) -> Result<(), AppError> {
        if self.error.is_none() {
            if let Err(e) = self.inner.flush() {
                self.error = Some(e);
            }
        }
        match &self.error {
            Some(e) => Err(write_error(e)),
            None => Ok(()),
        }
    }

    /// The writer (tests).
    #[cfg(test)]
    pub fn get_ref(&self) -> &W {
        self.inner.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that accepts `room` bytes, then fails with `kind`.
    struct Limited {
        data: Vec<u8>,
        room: usize,
        kind: io::ErrorKind,
        calls_after_failure: usize,
    }

    impl Write for Limited {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                self.calls_after_failure += 1;
                return Err(io::Error::from(self.kind));
            }
            let n = buf.len().min(self.room);
            self.data.extend_from_slice(&buf[..n]);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn limited(room: usize, kind: io::ErrorKind) -> Output<Limited> {
        Output::new(Limited {
            data: Vec::new(),
            room,
            kind,
            calls_after_failure: 0,
        })
    }

    #[test]
    fn writes_through_on_flush() {
        let mut o = limited(usize::MAX, io::ErrorKind::Other);
        o.write_bytes(b"hello ").unwrap();
        o.write_bytes(b"world\n").unwrap();
        assert!(o.get_ref().data.is_empty(), "buffered until flush");
        o.flush().unwrap();
        assert_eq!(o.get_ref().data, b"hello world\n");
    }

    #[test]
    fn broken_pipe_is_quiet() {
        let mut o = limited(3, io::ErrorKind::BrokenPipe);
        let big = vec![b'x'; BUFFER * 2];
        assert_eq!(o.write_bytes(&big), Err(WriteFailed));
        // Later writes fail without touching the writer again.
        assert_eq!(o.write_bytes(b"more"), Err(WriteFailed));
        assert_eq!(o.get_ref().calls_after_failure, 1);
        let e = o.flush().unwrap_err();
        assert!(is_quiet(&e));
    }

    #[test]
    fn broken_pipe_on_flush_is_quiet() {
        let mut o = limited(0, io::ErrorKind::BrokenPipe);
        o.write_bytes(b"small").unwrap();
        assert!(is_quiet(&o.flush().unwrap_err()));
    }

    #[test]
    fn other_errors_are_runtime() {
        let mut o = limited(0, io::ErrorKind::StorageFull);
        o.write_bytes(b"x").unwrap();
        let e = o.flush().unwrap_err();
        assert_eq!(e.code, crate::error::EXIT_RUNTIME);
        assert!(
            e.message.starts_with("cannot write the report to stdout: "),
            "{e}"
        );
    }

    #[test]
    fn os_error_suffix_dropped() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(io_reason(&e), "No such file or directory");
        let e = io::Error::other("plain");
        assert_eq!(io_reason(&e), "plain");
    }
}
