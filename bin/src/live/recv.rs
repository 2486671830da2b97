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
}

impl RecvBuf {
    /// A buffer for `snaplen` bytes (the filter truncates to that).
    pub fn new(snaplen: u32) -> RecvBuf {
        RecvBuf {
            buf: vec![0; (snaplen as usize).clamp(64, 262_144)],
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
            match sock.recv(&mut self.buf) {
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
