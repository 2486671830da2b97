//! Classic BPF instructions: the `struct sock_filter` layout, opcode constants, and the
//! fixed-capacity [`Program`] the compiler writes into.

/// Largest program the compiler emits and the checker accepts (the kernel's `BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// One classic BPF instruction, laid out exactly like Linux's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Opcode: class | size | mode, or class | op | source.
    pub code: u16,
    /// Jump offset when the condition holds (relative to the next instruction).
    pub jt: u8,
    /// Jump offset when the condition fails.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

impl Insn {
    /// A non-jump instruction.
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
    /// A conditional jump.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }
}

/// A compiled program: at most [`MAX_INSNS`] instructions, no allocation.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub(crate) insns: heapless::Vec<Insn, MAX_INSNS>,
}

impl Program {
    /// An empty program.
    pub const fn new() -> Program {
        Program {
            insns: heapless::Vec::new(),
        }
    }
    /// The instructions.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }
    /// Replaces the program with one that accepts every packet up to `snaplen` bytes.
    pub fn accept_all(&mut self, snaplen: u32) {
        self.insns.clear();
        // Capacity is MAX_INSNS > 0: cannot fail.
        let _ = self.insns.push(Insn::stmt(RET | K, snaplen));
    }
}

// Instruction classes.
/// Load into A.
pub const LD: u16 = 0x00;
/// Load into X.
pub const LDX: u16 = 0x01;
/// Store A into scratch memory.
pub const ST: u16 = 0x02;
/// Store X into scratch memory.
pub const STX: u16 = 0x03;
/// Arithmetic on A.
pub const ALU: u16 = 0x04;
/// Jumps.
pub const JMP: u16 = 0x05;
/// Return.
pub const RET: u16 = 0x06;
/// Register transfers.
pub const MISC: u16 = 0x07;

// Load sizes.
/// 32-bit word.
pub const W: u16 = 0x00;
/// 16-bit half word.
pub const H: u16 = 0x08;
/// Byte.
pub const B: u16 = 0x10;

// Load modes.
/// Immediate.
pub const IMM: u16 = 0x00;
/// Absolute offset.
pub const ABS: u16 = 0x20;
/// Offset X + k.
pub const IND: u16 = 0x40;
/// Scratch memory.
pub const MEM: u16 = 0x60;
/// Packet length.
pub const LEN: u16 = 0x80;
/// `4 * (P[k] & 0xf)` (IP header length).
pub const MSH: u16 = 0xa0;

// ALU operations.
/// A + operand.
pub const ADD: u16 = 0x00;
/// A - operand.
pub const SUB: u16 = 0x10;
/// A * operand.
pub const MUL: u16 = 0x20;
/// A / operand.
pub const DIV: u16 = 0x30;
/// A | operand.
pub const OR: u16 = 0x40;
/// A & operand.
pub const AND: u16 = 0x50;
/// A << operand.
pub const LSH: u16 = 0x60;
/// A >> operand.
pub const RSH: u16 = 0x70;
/// -A.
pub const NEG: u16 = 0x80;
/// A % operand.
pub const MOD: u16 = 0x90;
/// A ^ operand.
pub const XOR: u16 = 0xa0;

// Jump operations.
/// Unconditional jump by k.
pub const JA: u16 = 0x00;
/// A == operand.
pub const JEQ: u16 = 0x10;
/// A > operand.
pub const JGT: u16 = 0x20;
/// A >= operand.
pub const JGE: u16 = 0x30;
/// A & operand != 0.
pub const JSET: u16 = 0x40;

// Operand sources.
/// The constant k.
pub const K: u16 = 0x00;
/// The X register.
pub const X: u16 = 0x08;
/// Return A (RET class).
pub const A: u16 = 0x10;

// MISC operations.
/// X = A.
pub const TAX: u16 = 0x00;
/// A = X.
pub const TXA: u16 = 0x80;

/// Scratch memory slots.
pub const MEMWORDS: u32 = 16;

/// Linux: base of ancillary-data loads (`SKF_AD_OFF`).
pub const SKF_AD_OFF: u32 = (-0x1000i32) as u32;
/// Linux: `skb->protocol` (host order EtherType).
pub const SKF_AD_PROTOCOL: u32 = 0;
/// Linux: the device's `ARPHRD_*` type.
pub const SKF_AD_HATYPE: u32 = 28;
/// Linux: the out-of-band VLAN TCI.
pub const SKF_AD_VLAN_TAG: u32 = 44;
/// Linux: 1 if an out-of-band VLAN tag is present.
pub const SKF_AD_VLAN_TAG_PRESENT: u32 = 48;
/// Linux: base of loads relative to the network header (`SKF_NET_OFF`).
pub const SKF_NET_OFF: u32 = (-0x100000i32) as u32;
/// Linux: base of loads relative to the link-layer header (`SKF_LL_OFF`).
pub const SKF_LL_OFF: u32 = (-0x200000i32) as u32;
