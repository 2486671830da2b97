//! `tcpdump -d` style listing of a program.

use core::fmt;

use super::insn::*;

/// Displays a program one instruction a line, like `tcpdump -d`:
/// `(000) ldh      [12]`, `(001) jeq      #0x800           jt 2 jf 5` (a tab before `jf`).
pub struct Dump<'a>(pub &'a [Insn]);

struct Operand(u16, u32);

fn ancillary(k: u32) -> Option<&'static str> {
    Some(match k.wrapping_sub(SKF_AD_OFF) {
        SKF_AD_PROTOCOL => "proto",
        SKF_AD_HATYPE => "hatype",
        SKF_AD_VLAN_TAG => "vlan_tci",
        SKF_AD_VLAN_TAG_PRESENT => "vlan_avail",
        _ => return None,
    })
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, k) = (self.0, self.1);
        // Padding is applied by the caller through `{:<16}`, so build into a small buffer.
        let mut buf: heapless::String<40> = heapless::String::new();
        use core::fmt::Write;
        let r = match code & 0x07 {
            LD | LDX => match code & 0xe0 {
                IMM => write!(buf, "#0x{k:x}"),
                ABS => match ancillary(k) {
                    Some(name) => write!(buf, "{name}"),
                    None if (SKF_NET_OFF..SKF_AD_OFF).contains(&k) => {
                        write!(buf, "[net + {}]", k.wrapping_sub(SKF_NET_OFF))
                    }
                    None => write!(buf, "[{}]", k as i32),
                },
                IND if k >= SKF_NET_OFF => {
                    write!(buf, "[x + net + {}]", k.wrapping_sub(SKF_NET_OFF))
                }
                IND => write!(buf, "[x + {}]", k as i32),
                MEM => write!(buf, "M[{k}]"),
                LEN => write!(buf, "#pktlen"),
                MSH if k >= SKF_NET_OFF => {
                    write!(buf, "4*([net + {}]&0xf)", k.wrapping_sub(SKF_NET_OFF))
                }
                MSH => write!(buf, "4*([{}]&0xf)", k as i32),
                _ => write!(buf, "#0x{k:x}"),
            },
            ST | STX => write!(buf, "M[{k}]"),
            ALU | JMP if code & X != 0 => write!(buf, "x"),
            ALU if code & 0xf0 == NEG => Ok(()),
            RET if code & 0x18 == A => write!(buf, "a"),
            RET => write!(buf, "#{k}"),
            MISC => Ok(()),
            _ => write!(buf, "#0x{k:x}"),
        };
        r.map_err(|_| fmt::Error)?;
        f.pad(&buf)
    }
}

fn mnemonic(code: u16) -> &'static str {
    match code & 0x07 {
        LD => match (code & 0xe0, code & 0x18) {
            (ABS | IND, H) => "ldh",
            (ABS | IND, B) => "ldb",
            _ => "ld",
        },
        LDX => match code & 0xe0 {
            MSH => "ldxb",
            _ => "ldx",
        },
        ST => "st",
        STX => "stx",
        ALU => match code & 0xf0 {
            ADD => "add",
            SUB => "sub",
            MUL => "mul",
            DIV => "div",
            OR => "or",
            AND => "and",
            LSH => "lsh",
            RSH => "rsh",
            NEG => "neg",
            MOD => "mod",
            XOR => "xor",
            _ => "unimp",
        },
        JMP => match code & 0xf0 {
            JA => "ja",
            JEQ => "jeq",
            JGT => "jgt",
            JGE => "jge",
            JSET => "jset",
            _ => "unimp",
        },
        RET => "ret",
        _ => match code {
            0x07 => "tax",
            0x87 => "txa",
            _ => "unimp",
        },
    }
}

impl fmt::Display for Dump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ins) in self.0.iter().enumerate() {
            let m = mnemonic(ins.code);
            if ins.code & 0x07 == JMP && ins.code & 0xf0 != JA {
                let t = i + 1 + usize::from(ins.jt);
                let e = i + 1 + usize::from(ins.jf);
                let op = Operand(ins.code, ins.k);
                writeln!(f, "({i:03}) {m:<8} {op:<16} jt {t}\tjf {e}")?;
            } else if ins.code & 0x07 == JMP {
                writeln!(f, "({i:03}) {m:<8} {}", (i as u64) + 1 + u64::from(ins.k))?;
            } else if ins.code & 0x07 == MISC || ins.code == ALU | NEG {
                writeln!(f, "({i:03}) {m}")?;
            } else {
                writeln!(f, "({i:03}) {m:<8} {}", Operand(ins.code, ins.k))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn matches_tcpdump_format() {
        let p = [
            Insn::stmt(LD | H | ABS, 12),
            Insn::jump(JMP | JEQ | K, 0x800, 0, 1),
            Insn::stmt(LDX | B | MSH, 14),
            Insn::stmt(LD | H | IND, 14),
            Insn::stmt(RET | K, 262144),
            Insn::stmt(RET | K, 0),
        ];
        let s = format!("{}", Dump(&p));
        assert_eq!(
            s,
            "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n\
             (002) ldxb     4*([14]&0xf)\n(003) ldh      [x + 14]\n\
             (004) ret      #262144\n(005) ret      #0\n"
        );
    }
}
