//! pcap-filter expressions (tcpdump's language) compiled to classic BPF, a BPF interpreter,
//! a kernel-style verifier and a `tcpdump -d` style dump — all `no_std` and allocation-free.
//!
//! Why our own compiler: `-f "not port 22"` must work in the static router binaries, without
//! libpcap. The pieces: [`lexer`] → [`parser`] (AST in a fixed arena, [`ast`]) → [`codegen`]
//! (labels, backpatching, a peephole pass) → a [`Program`] of at most [`MAX_INSNS`]
//! instructions ending in `ret #snaplen` (accept) or `ret #0` (reject).
//!
//! # Semantics
//!
//! Offline ([`Target::Link`]) the program is libpcap's for that link type: the same offsets
//! (Ethernet 14, SLL 16, SLL2 20, Null/Loop 4, raw 0), `vlan` and `pppoes` shifting every
//! later offset in source order, `port`/`tcp` not walking IPv6 extension headers and `port`
//! not matching non-first IPv4 fragments. BSD `Null` loopback carries the address family in
//! the writer's byte order; both orders are accepted.
//!
//! # The live socket ([`Target::LinuxSocket`])
//!
//! On an `AF_PACKET` socket the kernel runs the filter on the frame *after* removing the outer
//! VLAN tag (it moves to skb metadata), and under `-i any` frames start with whatever link
//! header their interface has (Ethernet, none for tun/ppp/wireguard, a fake Ethernet header
//! on loopback). So the live program never reads the link header for network-layer facts:
//!
//! * the EtherType comes from `skb->protocol` (`ld [SKF_AD_OFF + SKF_AD_PROTOCOL]`): for a
//!   tagged frame that is already the inner EtherType, as tcpdump's live `ip` sees it;
//! * network-layer bytes are loaded relative to the network header
//!   (`SKF_NET_OFF + n`, `ldxb 4*([SKF_NET_OFF]&0xf)`, `ld [x + SKF_NET_OFF + n]`), which the
//!   kernel sets for every device type;
//! * the first `vlan` tests `SKF_AD_VLAN_TAG_PRESENT` and its id `SKF_AD_VLAN_TAG & 0x0fff`
//!   (the stripped outer tag) and shifts nothing. In QinQ the kernel's network header points
//!   at the inner tag and `skb->protocol` is 0x8100/0x88a8: the second `vlan` tests that,
//!   reads the id at `net+0`, and shifts later offsets by 4 (the EtherType is then read at
//!   `net + shift - 2`);
//! * `pppoes` tests `skb->protocol == 0x8864` (the network header is the PPPoE header), reads
//!   the session at `net+2`, and shifts by 8; later `ip`/`ip6` test the PPP protocol field
//!   (0x0021 / 0x0057) at `net+6`;
//! * Ethernet-address primitives (`ether host`, `broadcast`, `multicast`) first check
//!   `SKF_AD_HATYPE` is Ethernet (1) or loopback (772), then read the MAC header at 0.
//!
//! `len`/`less`/`greater` use the packet length the kernel gives the filter.

pub mod ast;
pub mod check;
pub mod codegen;
pub mod dump;
pub mod error;
pub mod insn;
pub mod interp;
pub mod lexer;
mod opt;
pub mod parser;

pub use check::check;
pub use dump::Dump;
pub use error::{Caret, CheckError, FilterError, FilterErrorKind};
pub use insn::{Insn, Program, MAX_INSNS};
pub use interp::run;

use crate::link::LinkType;

/// What the program will run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Frames of this link type, as read from a capture file (libpcap's offsets).
    Link(LinkType),
    /// A live Linux `AF_PACKET` socket (ancillary and network-relative loads).
    LinuxSocket,
}

/// Compiles `expr` for `target`; accepted packets return `snaplen`. On error `out` is left
/// empty and the error says what and where.
pub fn compile(
    expr: &str,
    target: Target,
    snaplen: u32,
    out: &mut Program,
) -> Result<(), FilterError> {
    out.insns.clear();
    if let Target::Link(LinkType::Unknown(_)) = target {
        return Err(FilterError::new(
            0,
            expr.len(),
            FilterErrorKind::LinkType("filtering"),
        ));
    }
    let mut ast = ast::Ast::new();
    let root = parser::parse(expr, &mut ast)?;
    let r = codegen::Gen::new(&ast, target, &mut out.insns).program(root, snaplen);
    if r.is_err() {
        out.insns.clear();
    }
    r.map_err(|mut e| {
        if e.kind == FilterErrorKind::RejectsAll {
            // The whole expression is at fault.
            e.pos = 0;
            e.len = expr.len();
        }
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiler's working storage fits the 64 KiB stack budget of router threads (the
    /// output `Program` itself lives in the caller's storage, here on the heap). Unoptimised
    /// builds keep every temporary in its own stack slot: they get three times the room.
    #[test]
    fn compiles_in_64k_of_stack() {
        let kib = if cfg!(debug_assertions) { 192 } else { 64 };
        let h = std::thread::Builder::new()
            .stack_size(kib * 1024)
            .spawn(|| {
                let mut p = std::boxed::Box::new(Program::new());
                let e = "(tcp port 80 or 443 and host 10.0.0.1) or (vlan 10 and udp portrange \
                         1-1024) or net 2001:db8::/32 or tcp[tcpflags] & (tcp-syn|tcp-fin) != 0";
                compile(e, Target::Link(LinkType::Ethernet), 65535, &mut p).is_ok()
                    && compile(e, Target::LinuxSocket, 65535, &mut p).is_ok()
            })
            .expect("spawn");
        assert!(h.join().expect("no stack overflow"));
    }

    #[test]
    fn optimiser_drops_decided_tests() {
        let mut p = Program::new();
        // `tcp and vlan`: the EtherType cannot be both.
        let e = compile(
            "tcp and vlan",
            Target::Link(LinkType::Ethernet),
            100,
            &mut p,
        );
        assert_eq!(e.map_err(|e| e.kind), Err(FilterErrorKind::RejectsAll));
        // `port 80 or 443`: each port field loaded once and tested against both values.
        compile(
            "port 80 or 443",
            Target::Link(LinkType::Ethernet),
            100,
            &mut p,
        )
        .unwrap();
        let loads = p.insns().iter().filter(|i| i.code == 0x48).count(); // ldh [x + k]
        assert_eq!(loads, 2);
    }
}
