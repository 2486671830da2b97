//! `pktstat-core`: the allocation-free heart of pktstat.
//!
//! Everything a packet touches between the capture and the report lives here, in `no_std`
//! code that never allocates: memory use is fixed at build time, known before the first
//! packet, and the same on a 64 MiB router as on a server.
//!
//! Data flows one way:
//!
//! ```text
//! capture (bin) or capfile ──frame──▶ decode ──PacketInfo──▶ engine ──▶ table / frag / stats
//!                                                                 └──▶ report (text, JSON, JSONL)
//! ```
//!
//! * [`link`]: link types and the per-frame metadata a capture hands over.
//! * [`wire`]: zero-copy views of each header (smoltcp style: `check_len` once, then
//!   accessors that never panic).
//! * [`decode`]: one frame to one [`decode::Decoded`], never a panic.
//! * [`flow`]: the flow key and its counters.
//! * [`hash`], [`table`], [`frag`], [`stats`], [`engine`]: accounting.
//! * [`report`]: ordering, top-N and the three renderers.
//! * [`capfile`]: pcap and pcapng readers over byte slices.
//! * [`filter`]: pcap-filter expressions compiled to classic BPF, and a BPF interpreter.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod capfile;
pub mod decode;
pub mod engine;
pub mod filter;
pub mod flow;
pub mod frag;
pub mod hash;
pub mod link;
pub mod report;
pub mod stats;
pub mod table;
pub mod wire;
