//! Where the libpcap loop hands its frames: the same [`Consumer`] the AF_PACKET loop feeds.
//!
//! On Linux the trait (and its implementation for [`crate::session::Session`]) comes from the
//! live module, so both backends drive the session through one interface. That module is
//! `AF_PACKET` through and through and is not built elsewhere, so on the other platforms the
//! same trait is declared here.

#[cfg(target_os = "linux")]
pub use crate::live::Consumer;

#[cfg(not(target_os = "linux"))]
mod portable {
    use pktstat_core::link::{FrameMeta, LinkType, Timestamp};

    use crate::error::AppError;
    use crate::session::Session;

    /// Where captured frames go: the session in the program, a counter in tests.
    pub trait Consumer {
        /// Accounts one frame; `Ok(false)` asks the capture to stop.
        fn packet(
            &mut self,
            link: LinkType,
            data: &[u8],
            meta: &FrameMeta,
        ) -> Result<bool, AppError>;
        /// Emits the interval reports due at wall time `now`.
        fn tick(&mut self, now: Timestamp) -> Result<(), AppError>;
        /// Cumulative kernel drops so far.
        fn set_drops(&mut self, total: u64);
    }

    impl Consumer for Session {
        fn packet(
            &mut self,
            link: LinkType,
            data: &[u8],
            meta: &FrameMeta,
        ) -> Result<bool, AppError> {
            Session::packet(self, link, data, meta)
        }
        fn tick(&mut self, now: Timestamp) -> Result<(), AppError> {
            Session::tick(self, now)
        }
        fn set_drops(&mut self, total: u64) {
            Session::set_drops(self, total)
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub use portable::Consumer;
