//! The `recvmsg` fallback for kernels that refuse the mmap ring (qemu-user, stripped-down
//! router kernels): one frame per call, the wire length from `MSG_TRUNC` and the auxdata, the
//! stripped VLAN tag and status from `PACKET_AUXDATA`. Frames look exactly like ring frames, so
//! the rest of the capture does not know which mode runs.
#![deny(unsafe_code)]

use super::capture::DrainError;
use super::ring::{RawFrame, Socket};

/// Most frames read per drain, so ticks and stop requests are seen between batches.
const BATCH: usize = 1024;

/// The receive buffer.
pub struct RecvBuf {
    buf: Vec<u8>,
    /// The control message type of kernel timestamps, when they are on.
    ts_type: Option<libc::c_int>,
}

impl RecvBuf {
    /// A buffer for `snaplen` bytes (the filter truncates to that); frames are stamped with
    /// the kernel's receive time when `ts_type` says timestamps are on (else the wall clock
    /// when read).
    pub fn new(snaplen: u32, ts_type: Option<libc::c_int>) -> RecvBuf {
        RecvBuf {
            buf: vec![0; (snaplen as usize).clamp(64, 262_144)],
            ts_type,
        }
    }

    /// Reads what is queued (up to a batch) and hands each frame to `f`.
    pub fn drain<E>(
        &mut self,
        sock: &Socket,
        mut f: impl FnMut(&RawFrame<'_>) -> Result<(), E>,
    ) -> Result<usize, DrainError<E>> {
        let mut n = 0;
        while n < BATCH {
            match sock.recv(&mut self.buf, self.ts_type) {
                Ok(Some(fr)) => {
                    n += 1;
                    f(&fr).map_err(DrainError::Consumer)?;
                }
                Ok(None) => break,
                Err(e) => return Err(DrainError::Socket(e)),
            }
        }
        Ok(n)
    }
}
