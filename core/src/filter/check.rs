//! Kernel-style verifier (`bpf_check_classic`): every opcode known, every jump forward and
//! inside the program, scratch indices in range, no constant division by zero, and the last
//! instruction a return. A program that passes cannot make [`super::run`] loop or index out
//! of its own bounds.

use super::error::CheckError;
use super::insn::*;

/// Verifies `prog` the way Linux does before attaching it.
pub fn check(prog: &[Insn]) -> Result<(), CheckError> {
    if prog.is_empty() || prog.len() > MAX_INSNS {
        return Err(CheckError::BadLength);
    }
    for (i, ins) in prog.iter().enumerate() {
        let rest = prog.len() - i - 1; // instructions after this one
        let code = ins.code;
        match code & 0x07 {
            LD | LDX => {
                let ok = if code & 0x07 == LD {
                    matches!(
                        code,
                        0x00 | 0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50 | 0x60 | 0x80
                    )
                } else {
                    matches!(code, 0x01 | 0x61 | 0x81 | 0xb1)
                };
                if !ok {
                    return Err(CheckError::BadOpcode(i));
                }
                if code & 0xe0 == MEM && ins.k >= MEMWORDS {
                    return Err(CheckError::BadMemIndex(i));
                }
            }
            ST | STX => {
                if code != ST && code != STX {
                    return Err(CheckError::BadOpcode(i));
                }
                if ins.k >= MEMWORDS {
                    return Err(CheckError::BadMemIndex(i));
                }
            }
            ALU => {
                let op = code & 0xf0;
                let src = code & 0x08;
                if code & !0xf8 != ALU || op > XOR || (op == NEG && src != 0) {
                    return Err(CheckError::BadOpcode(i));
                }
                if (op == DIV || op == MOD) && src == K && ins.k == 0 {
                    return Err(CheckError::DivisionByZero(i));
                }
            }
            JMP => {
                let op = code & 0xf0;
                if code & !0xf8 != JMP || op > JSET {
                    return Err(CheckError::BadOpcode(i));
                }
                if op == JA {
                    if code != JMP || ins.k as usize >= rest {
                        return Err(CheckError::JumpOutOfRange(i));
                    }
                } else if ins.jt as usize >= rest || ins.jf as usize >= rest {
                    return Err(CheckError::JumpOutOfRange(i));
                }
            }
            RET => {
                if !matches!(code, 0x06 | 0x16) {
                    return Err(CheckError::BadOpcode(i));
                }
            }
            _ => {
                if code != MISC | TAX && code != MISC | TXA {
                    return Err(CheckError::BadOpcode(i));
                }
            }
        }
    }
    match prog.last() {
        Some(l) if l.code & 0x07 == RET => Ok(()),
        _ => Err(CheckError::NoReturn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_minimal_and_refuses_bad() {
        assert_eq!(check(&[Insn::stmt(RET | K, 1)]), Ok(()));
        assert_eq!(check(&[]), Err(CheckError::BadLength));
        assert_eq!(
            check(&[Insn::stmt(LD | W | ABS, 0)]),
            Err(CheckError::NoReturn)
        );
        assert_eq!(
            check(&[Insn::jump(JMP | JEQ | K, 0, 1, 0), Insn::stmt(RET | K, 0)]),
            Err(CheckError::JumpOutOfRange(0))
        );
        assert_eq!(
            check(&[Insn::stmt(JMP | JA, 1), Insn::stmt(RET | K, 0)]),
            Err(CheckError::JumpOutOfRange(0))
        );
        assert_eq!(
            check(&[Insn::stmt(ALU | DIV | K, 0), Insn::stmt(RET | K, 0)]),
            Err(CheckError::DivisionByZero(0))
        );
        assert_eq!(
            check(&[Insn::stmt(ST, 16), Insn::stmt(RET | K, 0)]),
            Err(CheckError::BadMemIndex(0))
        );
        assert_eq!(
            check(&[Insn::stmt(0xff, 0), Insn::stmt(RET | K, 0)]),
            Err(CheckError::BadOpcode(0))
        );
        assert_eq!(
            check(&[
                Insn::jump(JMP | JEQ | K, 0, 0, 1),
                Insn::stmt(RET | K, 1),
                Insn::stmt(RET | K, 0)
            ]),
            Ok(())
        );
    }
}
