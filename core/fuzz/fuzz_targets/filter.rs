//! The filter compiler on arbitrary expressions, for every target: it must never panic;
//! whatever it compiles must pass the kernel-style verifier, fit `MAX_INSNS`, dump, and run
//! in the interpreter on arbitrary bytes returning either 0 or the snap length; whatever it
//! refuses must say where, inside the expression.
//!
//! Input: `[target][snaplen][expr length][expr bytes][packet bytes]`.
#![no_main]
use std::fmt::Write;

use libfuzzer_sys::fuzz_target;
use pktstat_core::filter::{check, compile, run, Dump, Program, Target, MAX_INSNS};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (sel, snap, n) = (data[0], data[1], usize::from(data[2]));
    let rest = &data[3..];
    let (expr, packet) = rest.split_at(n.min(rest.len()));
    let expr = String::from_utf8_lossy(expr);
    let target = if sel & 0x80 != 0 {
        Target::LinuxSocket
    } else {
        Target::Link(common::link_type(&[sel]).0)
    };
    let snaplen = if snap == 0 { 65_535 } else { u32::from(snap) * 257 };
    let mut prog = Box::new(Program::new());
    let mut text = String::new();
    match compile(&expr, target, snaplen, &mut prog) {
        Ok(()) => {
            let insns = prog.insns();
            assert!(!insns.is_empty() && insns.len() <= MAX_INSNS);
            if let Err(e) = check(insns) {
                panic!("compiled program fails the verifier: {e:?}\n{}", Dump(insns));
            }
            write!(text, "{}", Dump(insns)).unwrap();
            if let Target::Link(_) = target {
                let r = run(insns, packet, packet.len() as u32);
                assert!(r == 0 || r == snaplen, "run returned {r}");
            }
        }
        Err(e) => {
            assert!(prog.insns().is_empty());
            assert!(e.pos <= expr.len(), "error at {} past the end ({})", e.pos, expr.len());
            write!(text, "{e}\n{}", e.caret(&expr)).unwrap();
        }
    }
});
