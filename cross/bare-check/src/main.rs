//! A bare-metal binary that links pktstat-core, built for `thumbv7em-none-eabihf` by
//! `make bare-check`. If any dependency of the core needed `std` or a global allocator, this
//! would fail to compile or link: there is neither on this target.
//!
//! It drives every part of the core once — the capture-file reader, the decoder and engine,
//! the filter compiler and interpreter, and all three renderers — so that each is linked.
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use pktstat_core::capfile::{Item, Reader};
use pktstat_core::engine::{Engine, EngineConfig};
use pktstat_core::filter::{self, Program, Target};
use pktstat_core::link::LinkType;
use pktstat_core::report::{self, Format, NoNames, ReportInfo, Sink, SinkError};

/// A small engine: 64 flows, 128 index slots.
type SmallEngine = Engine<64, 128>;

/// Counts the bytes the renderers write.
struct CountingSink(usize);
impl Sink for CountingSink {
    fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        self.0 += bytes.len();
        Ok(())
    }
}

/// A capture file in memory (a pcap header, then whatever a firmware would fill in).
static CAPTURE: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];

/// The entry point (`build.rs` makes the linker start here, so everything it reaches is
/// linked): reads the capture, filters it, accounts it and renders the report in every
/// format. Returns the bytes rendered.
#[no_mangle]
pub extern "C" fn pktstat_bare_entry() -> usize {
    let file: &[u8] = core::hint::black_box(&CAPTURE);
    let mut engine = SmallEngine::new(EngineConfig::DEFAULT);
    let mut program = Program::new();
    let filtered = filter::compile(
        "udp or icmp",
        Target::Link(LinkType::Ethernet),
        65535,
        &mut program,
    )
    .is_ok();
    let mut reader = Reader::new();
    let mut rest = file;
    loop {
        let Ok(step) = reader.next(rest, true) else {
            break;
        };
        if let Item::Packet(p) = step.item {
            if !filtered || filter::run(program.insns(), p.data, p.meta.wire_len) != 0 {
                engine.account(p.link, p.data, &p.meta);
            }
        }
        let done = matches!(step.item, Item::End | Item::NeedMore);
        rest = rest.get(step.consumed..).unwrap_or(&[]);
        if done {
            break;
        }
    }
    let stats = *engine.stats();
    let (len, cap) = (engine.len(), engine.capacity());
    let mut sink = CountingSink(0);
    for format in [Format::Text, Format::Json, Format::JsonLines] {
        let info = ReportInfo {
            start: Default::default(),
            end: Default::default(),
            stats: &stats,
            running: None,
            drops: None,
            table_len: len,
            table_capacity: cap,
            show_vlan: false,
            show_iface: false,
            top: None,
        };
        let _ = report::render(format, engine.report_flows(), &info, &NoNames, &mut sink);
    }
    sink.0
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {}
}
