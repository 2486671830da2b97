//! Classic BPF interpreter with the kernel's semantics: a load outside the packet, a
//! division by zero, an unknown opcode or a jump off the end rejects the packet (returns 0).
//! Ancillary and `SKF_NET_OFF` loads have no meaning offline and also reject.

use super::insn::*;

fn load(pkt: &[u8], off: u32, size: u16) -> Option<u32> {
    let off = off as usize;
    let n = match size {
        W => 4,
        H => 2,
        _ => 1,
    };
    let b = pkt.get(off..off.checked_add(n)?)?;
    Some(b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)))
}

/// Runs `prog` over `packet` (the captured bytes) whose length on the wire is `wire_len`.
/// Returns how many bytes to keep: 0 means rejected.
pub fn run(prog: &[Insn], packet: &[u8], wire_len: u32) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; MEMWORDS as usize];
    let mut pc: usize = 0;
    // Every step moves pc forward, so the loop ends after at most prog.len() steps.
    while let Some(ins) = prog.get(pc) {
        pc += 1;
        let k = ins.k;
        match ins.code {
            c if c & 0x07 == LD => {
                a = match c & 0xe0 {
                    IMM => k,
                    ABS => match load(packet, k, c & 0x18) {
                        Some(v) => v,
                        None => return 0,
                    },
                    IND => match load(packet, x.wrapping_add(k), c & 0x18) {
                        Some(v) if x.checked_add(k).is_some() => v,
                        _ => return 0,
                    },
                    MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    LEN => wire_len,
                    _ => return 0,
                }
            }
            c if c & 0x07 == LDX => {
                x = match c & 0xe0 {
                    IMM => k,
                    MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    LEN => wire_len,
                    MSH => match load(packet, k, B) {
                        Some(v) => 4 * (v & 0xf),
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            ST => match mem.get_mut(k as usize) {
                Some(m) => *m = a,
                None => return 0,
            },
            STX => match mem.get_mut(k as usize) {
                Some(m) => *m = x,
                None => return 0,
            },
            c if c & 0x07 == ALU => {
                let v = if c & X != 0 { x } else { k };
                a = match c & 0xf0 {
                    ADD => a.wrapping_add(v),
                    SUB => a.wrapping_sub(v),
                    MUL => a.wrapping_mul(v),
                    DIV => match a.checked_div(v) {
                        Some(r) => r,
                        None => return 0,
                    },
                    MOD => match a.checked_rem(v) {
                        Some(r) => r,
                        None => return 0,
                    },
                    OR => a | v,
                    AND => a & v,
                    XOR => a ^ v,
                    // Shifts of 32 or more give 0 (as the kernel's eBPF translation does on
                    // every architecture we care about is not guaranteed; be deterministic).
                    LSH => a.checked_shl(v).unwrap_or(0),
                    RSH => a.checked_shr(v).unwrap_or(0),
                    NEG => a.wrapping_neg(),
                    _ => return 0,
                }
            }
            c if c & 0x07 == JMP => {
                let v = if c & X != 0 { x } else { k };
                let step = match c & 0xf0 {
                    JA => k as usize,
                    op => {
                        let cond = match op {
                            JEQ => a == v,
                            JGT => a > v,
                            JGE => a >= v,
                            JSET => a & v != 0,
                            _ => return 0,
                        };
                        usize::from(if cond { ins.jt } else { ins.jf })
                    }
                };
                pc = match pc.checked_add(step) {
                    Some(p) => p,
                    None => return 0,
                };
            }
            c if c & 0x07 == RET => return if c & 0x18 == A { a } else { k },
            c if c == MISC | TAX => x = a,
            c if c == MISC | TXA => a = x,
            _ => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const RET_ALL: Insn = Insn::stmt(RET | K, 0xffff);
    const RET_NONE: Insn = Insn::stmt(RET | K, 0);

    #[test]
    fn ethertype_match() {
        // ldh [12]; jeq #0x800 jt 0 jf 1; ret #65535; ret #0
        let p = [
            Insn::stmt(LD | H | ABS, 12),
            Insn::jump(JMP | JEQ | K, 0x800, 0, 1),
            RET_ALL,
            RET_NONE,
        ];
        let mut pkt = [0u8; 20];
        pkt[12] = 8;
        assert_eq!(run(&p, &pkt, 60), 0xffff);
        pkt[12] = 0x86;
        assert_eq!(run(&p, &pkt, 60), 0);
        // Too short: the load fails, reject.
        assert_eq!(run(&p, &pkt[..13], 60), 0);
    }

    #[test]
    fn msh_indexed_and_alu() {
        // IPv4 header length 20 at offset 0; byte at x+1 loaded.
        let p = [
            Insn::stmt(LDX | B | MSH, 0),
            Insn::stmt(LD | B | IND, 1),
            Insn::stmt(ALU | ADD | K, 1),
            Insn::stmt(ALU | MUL | K, 3),
            Insn::jump(JMP | JEQ | K, 30, 0, 1),
            RET_ALL,
            RET_NONE,
        ];
        let mut pkt = [0u8; 24];
        pkt[0] = 0x45;
        pkt[21] = 9;
        assert_eq!(run(&p, &pkt, 24), 0xffff);
        pkt[21] = 8;
        assert_eq!(run(&p, &pkt, 24), 0);
        pkt[0] = 0x4f; // header length 60: out of bounds
        assert_eq!(run(&p, &pkt, 24), 0);
    }

    #[test]
    fn division_by_zero_and_memory_and_len() {
        let p = [
            Insn::stmt(LD | W | LEN, 0),
            Insn::stmt(ST, 3),
            Insn::stmt(LDX | W | IMM, 0),
            Insn::stmt(LD | W | MEM, 3),
            Insn::stmt(ALU | DIV | X, 0),
            RET_ALL,
        ];
        assert_eq!(run(&p, &[], 10), 0);
        let q = [
            Insn::stmt(LD | W | LEN, 0),
            Insn::stmt(ST, 3),
            Insn::stmt(LDX | W | IMM, 2),
            Insn::stmt(LD | W | MEM, 3),
            Insn::stmt(ALU | DIV | X, 0),
            Insn::stmt(MISC | TAX, 0),
            Insn::stmt(MISC | TXA, 0),
            Insn::stmt(RET | A, 0),
        ];
        assert_eq!(run(&q, &[], 10), 5);
    }

    #[test]
    fn jset_ja_and_negative_offsets() {
        let p = [
            Insn::stmt(LD | B | ABS, 0),
            Insn::jump(JMP | JSET | K, 0x02, 0, 1),
            Insn::stmt(JMP | JA, 1),
            RET_NONE,
            RET_ALL,
        ];
        assert_eq!(run(&p, &[2], 1), 0xffff);
        assert_eq!(run(&p, &[1], 1), 0);
        let q = [
            Insn::stmt(LD | H | ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
            RET_ALL,
        ];
        assert_eq!(run(&q, &[0; 64], 64), 0);
        // Falling off the end rejects.
        assert_eq!(run(&[Insn::stmt(LD | W | IMM, 1)], &[], 0), 0);
    }
}
