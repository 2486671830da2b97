//! A bare-metal binary that links pktstat-core, built for `thumbv7em-none-eabihf` by
//! `make bare-check`. If any dependency of the core needed `std` or a global allocator, this
//! would fail to compile or link: there is neither on this target.
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use pktstat_core::decode::{decode, Decoded};
use pktstat_core::link::{FrameMeta, LinkType};

/// The reset handler a real firmware would point its vector table at: decodes one frame so
/// the decoder and everything it pulls in is linked.
#[no_mangle]
pub extern "C" fn pktstat_bare_entry(frame: *const u8, _len: usize) -> u32 {
    // A fixed frame: the pointer is only used to defeat constant folding.
    let bytes = [frame as usize as u8; 64];
    match decode(LinkType::Ethernet, &bytes, &FrameMeta::default()) {
        Decoded::Ip(_) => 1,
        Decoded::NonIp => 2,
        Decoded::Malformed(_) => 3,
    }
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {}
}
