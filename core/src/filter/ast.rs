//! The parsed expression: nodes in a fixed-capacity arena, children referenced by index.
//! Primitives keep the qualifiers they were written with; link-type meaning is the code
//! generator's business.

/// Index of a node in the [`Ast`] arena.
pub type NodeId = u16;

/// Capacity of the arena.
pub const MAX_NODES: usize = 256;

/// The node arena.
pub type Ast = heapless::Vec<Node, MAX_NODES>;

/// Protocol qualifier (`ip`, `tcp`, … or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// No protocol written.
    Default,
    /// `ether` / `link`.
    Link,
    /// `ip`.
    Ip,
    /// `ip6`.
    Ip6,
    /// `arp`.
    Arp,
    /// `rarp`.
    Rarp,
    /// `tcp`.
    Tcp,
    /// `udp`.
    Udp,
    /// `sctp`.
    Sctp,
    /// `icmp`.
    Icmp,
    /// `icmp6`.
    Icmp6,
    /// `igmp`.
    Igmp,
}

/// Direction qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// `src`.
    Src,
    /// `dst`.
    Dst,
    /// `src or dst` (the default).
    SrcOrDst,
    /// `src and dst`.
    SrcAndDst,
}

/// Relational operators (after normalisation: `<` and `<=` are negated `>=` / `>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    /// `=`/`==`.
    Eq,
    /// `!=`.
    Ne,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

impl BinOp {
    /// Folds two constants; `None` on division by zero.
    pub fn eval(self, a: u32, b: u32) -> Option<u32> {
        Some(match self {
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::Div => a.checked_div(b)?,
            BinOp::Mod => a.checked_rem(b)?,
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::Shl => a.checked_shl(b).unwrap_or(0),
            BinOp::Shr => a.checked_shr(b).unwrap_or(0),
        })
    }
}

/// One node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// Both.
    And(NodeId, NodeId),
    /// Either.
    Or(NodeId, NodeId),
    /// Negation.
    Not(NodeId),
    /// IPv4 `host`/`net` (host = mask all ones). `proto` is Default, Ip, Arp or Rarp.
    Net4 {
        /// Protocol qualifier.
        proto: Proto,
        /// Direction.
        dir: Dir,
        /// Address (host order).
        addr: u32,
        /// Mask (host order).
        mask: u32,
    },
    /// IPv6 `host`/`net` (host = prefix 128).
    Net6 {
        /// Direction.
        dir: Dir,
        /// Address bytes.
        addr: [u8; 16],
        /// Prefix length.
        prefix: u8,
    },
    /// `ether host/src/dst MAC`.
    Ether {
        /// Direction.
        dir: Dir,
        /// MAC address.
        mac: [u8; 6],
    },
    /// `port`/`portrange` (a port is a range of one). `proto` is Default, Tcp, Udp or Sctp.
    Port {
        /// Protocol qualifier.
        proto: Proto,
        /// Direction.
        dir: Dir,
        /// Lowest port.
        lo: u16,
        /// Highest port.
        hi: u16,
    },
    /// A protocol by itself: `ip`, `tcp`, `arp`, …
    Proto(Proto),
    /// `ip proto N` (proto Ip), `ip6 proto N` (Ip6), `proto N` (Default).
    IpProto {
        /// Which IP version(s).
        proto: Proto,
        /// Protocol number.
        n: u8,
    },
    /// `ether proto N`.
    EtherProto(u16),
    /// `vlan [id]`.
    Vlan(Option<u16>),
    /// `pppoes [id]`.
    Pppoes(Option<u16>),
    /// `broadcast` (proto Link or Ip).
    Broadcast(Proto),
    /// `multicast` (proto Link, Ip or Ip6).
    Multicast(Proto),
    /// `arith relop arith`.
    Relation {
        /// The operator.
        op: Rel,
        /// Left operand.
        l: NodeId,
        /// Right operand.
        r: NodeId,
    },
    /// A constant.
    Num(u32),
    /// `len`: the packet's length on the wire.
    PktLen,
    /// `proto[idx:size]`.
    Load {
        /// Which header the index is relative to.
        proto: Proto,
        /// Index expression.
        idx: NodeId,
        /// 1, 2 or 4 bytes.
        size: u8,
    },
    /// `l op r`.
    Bin {
        /// The operator.
        op: BinOp,
        /// Left operand.
        l: NodeId,
        /// Right operand.
        r: NodeId,
    },
    /// Unary minus.
    Neg(NodeId),
}
