//! Code generation: AST → classic BPF, for one target.
//!
//! Booleans compile with explicit true/false labels (`cond(node, t, f)`): `a and b` sends a's
//! false exits straight to the caller's false label and its true exits to the start of `b`,
//! so `and`/`or` chains need no intermediate results (the backpatched true/false lists of
//! libpcap's code generator, without its block graph). Labels resolve to forward offsets at
//! the end; then a peephole pass threads jumps through `ja`, removes loads of a value the
//! accumulator already holds on every incoming path, and drops jumps to the next instruction.
//!
//! Offsets follow libpcap: `vlan` and `pppoes` shift every later link-type and network-layer
//! offset, in source order, whatever the boolean structure.

use super::ast::*;
use super::error::{FilterError, FilterErrorKind as K};
use super::insn::*;
use super::opt;
use super::{LinkType, Target};

type R<T> = Result<T, FilterError>;
type Lbl = u16;

/// "The next instruction" (labels are 12 bits while generating: see `opt::pack`).
const NEXT: Lbl = 0xfff;
const ACCEPT: Lbl = 0;
const REJECT: Lbl = 1;
const MAX_LABELS: usize = 0xfff;
const UNPLACED: u16 = u16::MAX;
/// Most ports merged into one `port a or b or …` test.
const MAX_PORTS: usize = 8;

/// An `or` chain of single ports with one protocol and direction.
struct PortSet {
    kind: Option<(Proto, Dir)>,
    ports: heapless::Vec<(u16, u16), MAX_PORTS>,
}

impl PortSet {
    fn new() -> PortSet {
        PortSet {
            kind: None,
            ports: heapless::Vec::new(),
        }
    }
}

impl core::ops::Deref for PortSet {
    type Target = [(u16, u16)];
    fn deref(&self) -> &[(u16, u16)] {
        &self.ports
    }
}

/// Where a load's offset is measured from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    /// The start of the frame.
    Link,
    /// The current network-layer header (after vlan/pppoe shifts).
    Net,
    /// X + the network-layer header (X = IPv4 header length).
    NetX,
}

pub(crate) struct Gen<'a> {
    ast: &'a Ast,
    target: Target,
    /// The program being generated, in the caller's storage: opcode in the low byte of
    /// `code`, the two labels packed into the rest (`opt::pack`).
    code: &'a mut heapless::Vec<Insn, MAX_INSNS>,
    labels: heapless::Vec<u16, MAX_LABELS>,
    /// Bytes the `vlan`/`pppoes` seen so far add to the network offset.
    shift: u32,
    vlans: u32,
    ppp: bool,
    scratch: u32,
    pos: usize,
}

fn too_complex(pos: usize) -> FilterError {
    FilterError::new(pos, 1, K::TooComplex)
}

const IP: u16 = 0x0800;
const IP6: u16 = 0x86dd;
const ARP: u16 = 0x0806;
const RARP: u16 = 0x8035;
const PPPOES: u16 = 0x8864;

impl<'a> Gen<'a> {
    pub(crate) fn new(
        ast: &'a Ast,
        target: Target,
        code: &'a mut heapless::Vec<Insn, MAX_INSNS>,
    ) -> Gen<'a> {
        code.clear();
        Gen {
            ast,
            target,
            code,
            labels: heapless::Vec::new(),
            shift: 0,
            vlans: 0,
            ppp: false,
            scratch: 0,
            pos: 0,
        }
    }

    fn live(&self) -> bool {
        matches!(self.target, Target::LinuxSocket)
    }

    fn node(&self, id: NodeId) -> R<Node> {
        self.ast
            .get(id as usize)
            .copied()
            .ok_or(too_complex(self.pos))
    }

    fn label(&mut self) -> R<Lbl> {
        let id = self.labels.len();
        self.labels
            .push(UNPLACED)
            .map_err(|_| too_complex(self.pos))?;
        Ok(id as Lbl)
    }

    fn place(&mut self, l: Lbl) {
        let here = self.code.len() as u16;
        if let Some(slot) = self.labels.get_mut(l as usize) {
            *slot = here;
        }
    }

    fn emit(&mut self, code: u16, k: u32, jt: Lbl, jf: Lbl) -> R<()> {
        self.code
            .push(opt::pack(code, jt, jf, k))
            .map_err(|_| too_complex(self.pos))
    }

    fn stmt(&mut self, code: u16, k: u32) -> R<()> {
        self.emit(code, k, NEXT, NEXT)
    }

    fn goto(&mut self, l: Lbl) -> R<()> {
        self.emit(JMP | JA, 0, l, l)
    }

    /// Compiles the whole expression and resolves it into `out`.
    pub(crate) fn program(mut self, root: NodeId, snaplen: u32) -> R<()> {
        self.label()?; // ACCEPT
        self.label()?; // REJECT
        self.cond(root, ACCEPT, REJECT)?;
        self.place(ACCEPT);
        self.stmt(RET | K, snaplen)?;
        self.place(REJECT);
        self.stmt(RET | K, 0)?;
        self.resolve()
    }

    // ---- loads -----------------------------------------------------------------------

    /// The network-layer base for absolute loads.
    fn net_base(&self) -> Result<u32, FilterError> {
        if self.live() {
            return Ok(SKF_NET_OFF.wrapping_add(self.shift));
        }
        let nl = match self.target {
            Target::Link(LinkType::Ethernet) => 14,
            Target::Link(LinkType::Sll) => 16,
            Target::Link(LinkType::Sll2) => 20,
            Target::Link(LinkType::Null | LinkType::Loop) => 4,
            Target::Link(
                LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 | LinkType::Network(_),
            ) => 0,
            _ => return Err(FilterError::new(0, 0, K::LinkType("filtering"))),
        };
        Ok(nl + self.shift)
    }

    fn load(&mut self, base: Base, off: u32, size: u16) -> R<()> {
        match base {
            Base::Link => self.stmt(LD | size | ABS, off),
            Base::Net => {
                let b = self.net_base()?;
                self.stmt(LD | size | ABS, b.wrapping_add(off))
            }
            Base::NetX => {
                let b = self.net_base()?;
                self.stmt(LD | size | IND, b.wrapping_add(off))
            }
        }
    }

    fn load_x_iphdr(&mut self) -> R<()> {
        let b = self.net_base()?;
        self.stmt(LDX | B | MSH, b)
    }

    /// Load, optional mask, conditional jump.
    #[allow(clippy::too_many_arguments)]
    fn cmp(
        &mut self,
        base: Base,
        off: u32,
        size: u16,
        mask: u32,
        jop: u16,
        k: u32,
        t: Lbl,
        f: Lbl,
    ) -> R<()> {
        self.load(base, off, size)?;
        if mask != u32::MAX {
            self.stmt(ALU | AND | K, mask)?;
        }
        self.emit(JMP | jop | K, k, t, f)
    }

    /// A equals one of `vals` (already loaded).
    fn jeq_any(&mut self, vals: &[u32], t: Lbl, f: Lbl) -> R<()> {
        let yes = if t == NEXT && vals.len() > 1 {
            self.label()?
        } else {
            t
        };
        for (i, &v) in vals.iter().enumerate() {
            let no = if i + 1 == vals.len() { f } else { NEXT };
            self.emit(JMP | JEQ | K, v, yes, no)?;
        }
        if yes != t {
            self.place(yes);
        }
        Ok(())
    }

    // ---- link layer ------------------------------------------------------------------

    /// The frame's (current) EtherType equals `et`.
    fn linktype(&mut self, et: u16, t: Lbl, f: Lbl) -> R<()> {
        let et32 = u32::from(et);
        if self.ppp {
            let v = match et {
                IP => 0x21,
                IP6 => 0x57,
                other => u32::from(other),
            };
            let b = self.net_base()?;
            self.stmt(LD | H | ABS, b.wrapping_sub(2))?;
            return self.emit(JMP | JEQ | K, v, t, f);
        }
        if self.live() {
            if self.shift > 0 {
                let b = self.net_base()?;
                self.stmt(LD | H | ABS, b.wrapping_sub(2))?;
            } else {
                self.stmt(LD | W | ABS, SKF_AD_OFF + SKF_AD_PROTOCOL)?;
            }
            return self.emit(JMP | JEQ | K, et32, t, f);
        }
        let Target::Link(lt) = self.target else {
            return Ok(());
        };
        if self.shift > 0 {
            let b = self.net_base()?;
            self.stmt(LD | H | ABS, b.wrapping_sub(2))?;
            return self.emit(JMP | JEQ | K, et32, t, f);
        }
        match lt {
            LinkType::Ethernet => self.cmp(Base::Link, 12, H, u32::MAX, JEQ, et32, t, f),
            LinkType::Sll => self.cmp(Base::Link, 14, H, u32::MAX, JEQ, et32, t, f),
            LinkType::Sll2 => self.cmp(Base::Link, 0, H, u32::MAX, JEQ, et32, t, f),
            LinkType::Raw => match et {
                IP => self.cmp(Base::Link, 0, B, 0xf0, JEQ, 0x40, t, f),
                IP6 => self.cmp(Base::Link, 0, B, 0xf0, JEQ, 0x60, t, f),
                _ => self.goto(f),
            },
            LinkType::Ipv4 => self.goto(if et == IP { t } else { f }),
            LinkType::Ipv6 => self.goto(if et == IP6 { t } else { f }),
            LinkType::Network(n) => self.goto(if et == n { t } else { f }),
            LinkType::Null | LinkType::Loop => {
                let fams: &[u32] = match et {
                    IP => &[2],
                    IP6 => &[24, 28, 30],
                    _ => return self.goto(f),
                };
                self.stmt(LD | W | ABS, 0)?;
                let mut vals: heapless::Vec<u32, 6> = heapless::Vec::new();
                for &v in fams {
                    let _ = vals.push(v);
                    // BSD loopback is in the writer's byte order: accept both.
                    if lt == LinkType::Null {
                        let _ = vals.push(v.swap_bytes());
                    }
                }
                self.jeq_any(&vals, t, f)
            }
            LinkType::Unknown(_) => Err(FilterError::new(0, 0, K::LinkType("filtering"))),
        }
    }

    /// Guard for link-layer (Ethernet address) loads.
    fn ether_guard(&mut self, what: &'static str, f: Lbl) -> R<()> {
        if self.ppp {
            // libpcap: after `pppoes` the link type is PPP, which has no MAC addresses.
            return Err(FilterError::new(self.pos, 1, K::LinkType(what)));
        }
        match self.target {
            Target::LinuxSocket => {
                // Only devices with an Ethernet header (and loopback's fake one) qualify.
                self.stmt(LD | W | ABS, SKF_AD_OFF + SKF_AD_HATYPE)?;
                self.jeq_any(&[1, 772], NEXT, f)
            }
            Target::Link(LinkType::Ethernet) => Ok(()),
            _ => Err(FilterError::new(self.pos, 1, K::LinkType(what))),
        }
    }

    // ---- booleans --------------------------------------------------------------------

    fn cond(&mut self, id: NodeId, t: Lbl, f: Lbl) -> R<()> {
        let n = self.node(id)?;
        match n {
            Node::And(a, b) => {
                let l = self.label()?;
                self.cond(a, l, f)?;
                self.place(l);
                self.cond(b, t, f)
            }
            Node::Or(a, b) => {
                // `port 80 or 443`: one test per header field against every value, as
                // libpcap's optimiser leaves it (which decides what truncated packets reach).
                let mut set = PortSet::new();
                if self.port_set(id, &mut set) && set.len() > 1 {
                    let (proto, dir) = self.port_kind(id)?;
                    return self.port(proto, dir, &set, t, f);
                }
                let l = self.label()?;
                self.cond(a, t, l)?;
                self.place(l);
                self.cond(b, t, f)
            }
            Node::Not(a) => self.cond(a, f, t),
            Node::Net4 {
                proto,
                dir,
                addr,
                mask,
            } => {
                let parts: &[(u16, u32, u32)] = match proto {
                    Proto::Ip => &[(IP, 12, 16)],
                    Proto::Arp => &[(ARP, 14, 24)],
                    Proto::Rarp => &[(RARP, 14, 24)],
                    _ => &[(IP, 12, 16), (ARP, 14, 24), (RARP, 14, 24)],
                };
                // One part per protocol (not ARP and RARP merged): each path keeps its own
                // EtherType fact, which is how later contradictions are found.
                let Some((&last, rest)) = parts.split_last() else {
                    return self.goto(f);
                };
                for &(et, s, d) in rest {
                    let l = self.label()?;
                    self.host4_part(et, s, d, dir, addr, mask, t, l)?;
                    self.place(l);
                }
                let (et, s, d) = last;
                self.host4_part(et, s, d, dir, addr, mask, t, f)
            }
            Node::Net6 { dir, addr, prefix } => {
                let l = self.label()?;
                self.linktype(IP6, l, f)?;
                self.place(l);
                self.dir_combo(dir, t, f, |g, src, t, f| {
                    g.addr6(if src { 8 } else { 24 }, &addr, prefix, t, f)
                })
            }
            Node::Ether { dir, mac } => {
                self.ether_guard("ether host", f)?;
                self.dir_combo(dir, t, f, |g, src, t, f| {
                    let off = if src { 6 } else { 0 };
                    let w = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
                    let h = u32::from(u16::from_be_bytes([mac[0], mac[1]]));
                    g.cmp(Base::Link, off + 2, W, u32::MAX, JEQ, w, NEXT, f)?;
                    g.cmp(Base::Link, off, H, u32::MAX, JEQ, h, t, f)
                })
            }
            Node::Port { proto, dir, lo, hi } => self.port(proto, dir, &[(lo, hi)], t, f),
            Node::Proto(p) => self.proto(p, t, f),
            Node::IpProto { proto, n } => {
                let n = u32::from(n);
                match proto {
                    Proto::Ip => self.ip_proto(n, t, f),
                    Proto::Ip6 => self.ip6_proto(n, t, f),
                    _ => {
                        let l = self.label()?;
                        self.ip_proto(n, t, l)?;
                        self.place(l);
                        self.ip6_proto(n, t, f)
                    }
                }
            }
            Node::EtherProto(et) => self.linktype(et, t, f),
            Node::Vlan(id) => self.vlan(id, t, f),
            Node::Pppoes(id) => self.pppoes(id, t, f),
            Node::Broadcast(p) => match p {
                Proto::Link => {
                    self.ether_guard("broadcast", f)?;
                    self.cmp(Base::Link, 2, W, u32::MAX, JEQ, u32::MAX, NEXT, f)?;
                    self.cmp(Base::Link, 0, H, u32::MAX, JEQ, 0xffff, t, f)
                }
                _ => Err(FilterError::new(
                    self.pos,
                    1,
                    K::Unsupported("ip broadcast"),
                )),
            },
            Node::Multicast(p) => match p {
                Proto::Link => {
                    self.ether_guard("multicast", f)?;
                    self.cmp(Base::Link, 0, B, u32::MAX, JSET, 1, t, f)
                }
                Proto::Ip => {
                    let l = self.label()?;
                    self.linktype(IP, l, f)?;
                    self.place(l);
                    self.cmp(Base::Net, 16, B, u32::MAX, JGE, 224, t, f)
                }
                _ => {
                    let l = self.label()?;
                    self.linktype(IP6, l, f)?;
                    self.place(l);
                    self.cmp(Base::Net, 24, B, u32::MAX, JEQ, 255, t, f)
                }
            },
            Node::Relation { op, l, r } => self.relation(op, l, r, t, f),
            Node::Num(_) | Node::PktLen | Node::Load { .. } | Node::Bin { .. } | Node::Neg(_) => {
                Err(FilterError::new(self.pos, 1, K::Syntax("a comparison")))
            }
        }
    }

    /// The first port primitive under `id` (its protocol and direction).
    fn port_kind(&self, id: NodeId) -> R<(Proto, Dir)> {
        match self.node(id)? {
            Node::Port { proto, dir, .. } => Ok((proto, dir)),
            Node::Or(a, _) => self.port_kind(a),
            _ => Err(too_complex(self.pos)),
        }
    }

    /// Collects an `or` chain of ports with one protocol and direction into `set`.
    fn port_set(&self, id: NodeId, set: &mut PortSet) -> bool {
        match self.node(id) {
            Ok(Node::Or(a, b)) => self.port_set(a, set) && self.port_set(b, set),
            Ok(Node::Port { proto, dir, lo, hi }) if lo == hi => {
                if let Some(&(p, d)) = set.kind.as_ref() {
                    if (p, d) != (proto, dir) {
                        return false;
                    }
                }
                set.kind = Some((proto, dir));
                set.ports.push((lo, hi)).is_ok()
            }
            _ => false,
        }
    }

    /// `port`/`portrange` against any of `ranges`.
    fn port(&mut self, proto: Proto, dir: Dir, ranges: &[(u16, u16)], t: Lbl, f: Lbl) -> R<()> {
        let protos: &[u32] = match proto {
            Proto::Tcp => &[6],
            Proto::Udp => &[17],
            Proto::Sctp => &[132],
            _ => &[6, 17, 132],
        };
        // IPv6 first (libpcap's order), no extension-header walk.
        let l = self.label()?;
        let l6 = self.label()?;
        self.linktype(IP6, l6, l)?;
        self.place(l6);
        let ok6 = self.label()?;
        self.load(Base::Net, 6, B)?;
        self.jeq_any(protos, ok6, f)?;
        self.place(ok6);
        self.ports(Base::Net, 40, dir, ranges, t, f)?;
        self.place(l);
        let l4 = self.label()?;
        self.linktype(IP, l4, f)?;
        self.place(l4);
        let ok4 = self.label()?;
        self.load(Base::Net, 9, B)?;
        self.jeq_any(protos, ok4, f)?;
        self.place(ok4);
        self.not_fragment(f)?;
        self.load_x_iphdr()?;
        self.ports(Base::NetX, 0, dir, ranges, t, f)
    }

    #[allow(clippy::too_many_arguments)]
    fn host4_part(
        &mut self,
        et: u16,
        s: u32,
        d: u32,
        dir: Dir,
        addr: u32,
        mask: u32,
        t: Lbl,
        f: Lbl,
    ) -> R<()> {
        let l = self.label()?;
        self.linktype(et, l, f)?;
        self.place(l);
        self.dir2(dir, Base::Net, s, d, W, mask, addr, t, f)
    }

    #[allow(clippy::too_many_arguments)]
    fn dir2(
        &mut self,
        dir: Dir,
        base: Base,
        s: u32,
        d: u32,
        size: u16,
        mask: u32,
        v: u32,
        t: Lbl,
        f: Lbl,
    ) -> R<()> {
        self.dir_combo(dir, t, f, |g, src, t, f| {
            g.cmp(
                base,
                if src { s } else { d },
                size,
                mask,
                JEQ,
                v & mask,
                t,
                f,
            )
        })
    }

    fn dir_combo(
        &mut self,
        dir: Dir,
        t: Lbl,
        f: Lbl,
        mut one: impl FnMut(&mut Self, bool, Lbl, Lbl) -> R<()>,
    ) -> R<()> {
        match dir {
            Dir::Src => one(self, true, t, f),
            Dir::Dst => one(self, false, t, f),
            Dir::SrcOrDst => {
                let l = self.label()?;
                one(self, true, t, l)?;
                self.place(l);
                one(self, false, t, f)
            }
            Dir::SrcAndDst => {
                let l = self.label()?;
                one(self, true, l, f)?;
                self.place(l);
                one(self, false, t, f)
            }
        }
    }

    fn addr6(&mut self, off: u32, addr: &[u8; 16], prefix: u8, t: Lbl, f: Lbl) -> R<()> {
        let mut words: heapless::Vec<(u32, u32, u32), 4> = heapless::Vec::new();
        for i in 0..4u32 {
            let bits = u32::from(prefix).saturating_sub(32 * i).min(32);
            if bits == 0 {
                continue;
            }
            let mask = if bits == 32 {
                u32::MAX
            } else {
                u32::MAX << (32 - bits)
            };
            let j = 4 * i as usize;
            let v = u32::from_be_bytes([addr[j], addr[j + 1], addr[j + 2], addr[j + 3]]);
            let _ = words.push((off + 4 * i, mask, v & mask));
        }
        if words.is_empty() {
            return self.goto(t);
        }
        let n = words.len();
        for (i, &(o, m, v)) in words.iter().enumerate() {
            let yes = if i + 1 == n { t } else { NEXT };
            self.cmp(Base::Net, o, W, m, JEQ, v, yes, f)?;
        }
        Ok(())
    }

    fn not_fragment(&mut self, f: Lbl) -> R<()> {
        self.load(Base::Net, 6, H)?;
        self.emit(JMP | JSET | K, 0x1fff, f, NEXT)
    }

    #[allow(clippy::too_many_arguments)]
    fn ports(
        &mut self,
        base: Base,
        off: u32,
        dir: Dir,
        ranges: &[(u16, u16)],
        t: Lbl,
        f: Lbl,
    ) -> R<()> {
        self.dir_combo(dir, t, f, |g, src, t, f| {
            g.load(base, off + if src { 0 } else { 2 }, H)?;
            for (i, &(lo, hi)) in ranges.iter().enumerate() {
                let no = if i + 1 == ranges.len() { f } else { g.label()? };
                if lo == hi {
                    g.emit(JMP | JEQ | K, u32::from(lo), t, no)?;
                } else {
                    g.emit(JMP | JGE | K, u32::from(lo), NEXT, no)?;
                    g.emit(JMP | JGT | K, u32::from(hi), no, t)?;
                }
                if no != f {
                    g.place(no);
                }
            }
            Ok(())
        })
    }

    fn ip_proto(&mut self, n: u32, t: Lbl, f: Lbl) -> R<()> {
        let l = self.label()?;
        self.linktype(IP, l, f)?;
        self.place(l);
        self.cmp(Base::Net, 9, B, u32::MAX, JEQ, n, t, f)
    }

    /// libpcap's `ip6 proto N`: the next header, or a fragment header followed by N.
    fn ip6_proto(&mut self, n: u32, t: Lbl, f: Lbl) -> R<()> {
        let l = self.label()?;
        self.linktype(IP6, l, f)?;
        self.place(l);
        self.load(Base::Net, 6, B)?;
        self.emit(JMP | JEQ | K, n, t, NEXT)?;
        self.emit(JMP | JEQ | K, 44, NEXT, f)?;
        self.cmp(Base::Net, 40, B, u32::MAX, JEQ, n, t, f)
    }

    fn proto(&mut self, p: Proto, t: Lbl, f: Lbl) -> R<()> {
        match p {
            Proto::Ip => self.linktype(IP, t, f),
            Proto::Ip6 => self.linktype(IP6, t, f),
            Proto::Arp => self.linktype(ARP, t, f),
            Proto::Rarp => self.linktype(RARP, t, f),
            Proto::Icmp => self.ip_proto(1, t, f),
            Proto::Igmp => self.ip_proto(2, t, f),
            Proto::Icmp6 => self.ip6_proto(58, t, f),
            Proto::Tcp | Proto::Udp | Proto::Sctp => {
                let n = match p {
                    Proto::Tcp => 6,
                    Proto::Udp => 17,
                    _ => 132,
                };
                let l = self.label()?;
                self.ip_proto(n, t, l)?;
                self.place(l);
                self.ip6_proto(n, t, f)
            }
            Proto::Link | Proto::Default => Err(FilterError::new(
                self.pos,
                1,
                K::Syntax("a primitive after 'ether'"),
            )),
        }
    }

    fn vlan(&mut self, id: Option<u16>, t: Lbl, f: Lbl) -> R<()> {
        if self.ppp {
            // libpcap: "no VLAN support for PPP" once `pppoes` switched the link type.
            return Err(FilterError::new(self.pos, 1, K::LinkType("vlan")));
        }
        if self.live() && self.vlans == 0 && !self.ppp {
            // The kernel removed the outer tag: it is in the skb's metadata.
            self.vlans = 1;
            let Some(id) = id else {
                return self.cmp(
                    Base::Link,
                    SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT,
                    W,
                    u32::MAX,
                    JEQ,
                    1,
                    t,
                    f,
                );
            };
            self.cmp(
                Base::Link,
                SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT,
                W,
                u32::MAX,
                JEQ,
                1,
                NEXT,
                f,
            )?;
            return self.cmp(
                Base::Link,
                SKF_AD_OFF + SKF_AD_VLAN_TAG,
                W,
                0x0fff,
                JEQ,
                u32::from(id),
                t,
                f,
            );
        }
        if !self.live() && self.target != Target::Link(LinkType::Ethernet) {
            return Err(FilterError::new(self.pos, 1, K::LinkType("vlan")));
        }
        let ok = self.label()?;
        let l1 = self.label()?;
        let l2 = self.label()?;
        let (yes, no) = if id.is_some() { (ok, f) } else { (t, f) };
        self.linktype(0x8100, yes, l1)?;
        self.place(l1);
        // The load is still in A: plain jumps for the other tag types.
        self.emit(JMP | JEQ | K, 0x88a8, yes, l2)?;
        self.place(l2);
        self.emit(JMP | JEQ | K, 0x9100, yes, no)?;
        self.place(ok);
        let res = match id {
            Some(id) => self.cmp(Base::Net, 0, H, 0x0fff, JEQ, u32::from(id), t, f),
            None => Ok(()),
        };
        self.shift += 4;
        self.vlans += 1;
        res
    }

    fn pppoes(&mut self, id: Option<u16>, t: Lbl, f: Lbl) -> R<()> {
        let res = match id {
            None => self.linktype(PPPOES, t, f),
            Some(id) => {
                let l = self.label()?;
                self.linktype(PPPOES, l, f)?;
                self.place(l);
                self.cmp(Base::Net, 2, H, u32::MAX, JEQ, u32::from(id), t, f)
            }
        };
        self.shift += 8;
        self.ppp = true;
        res
    }

    // ---- arithmetic ------------------------------------------------------------------

    fn guards(&mut self, id: NodeId, f: Lbl) -> R<()> {
        match self.node(id)? {
            Node::Load { proto, idx, .. } => {
                self.guards(idx, f)?;
                self.load_guard(proto, f)
            }
            Node::Bin { l, r, .. } => {
                self.guards(l, f)?;
                self.guards(r, f)
            }
            Node::Neg(n) => self.guards(n, f),
            _ => Ok(()),
        }
    }

    fn load_guard(&mut self, p: Proto, f: Lbl) -> R<()> {
        let ip4_proto = match p {
            Proto::Link => return Ok(()),
            Proto::Ip => return self.linktype(IP, NEXT, f),
            Proto::Ip6 => return self.linktype(IP6, NEXT, f),
            Proto::Arp => return self.linktype(ARP, NEXT, f),
            Proto::Rarp => return self.linktype(RARP, NEXT, f),
            Proto::Icmp6 => {
                self.linktype(IP6, NEXT, f)?;
                return self.cmp(Base::Net, 6, B, u32::MAX, JEQ, 58, NEXT, f);
            }
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
            Proto::Icmp => 1,
            Proto::Igmp => 2,
            Proto::Default => return Err(FilterError::new(self.pos, 1, K::Syntax("a protocol"))),
        };
        self.linktype(IP, NEXT, f)?;
        self.cmp(Base::Net, 9, B, u32::MAX, JEQ, ip4_proto, NEXT, f)?;
        self.not_fragment(f)
    }

    fn num(&self, id: NodeId) -> Option<u32> {
        match self.ast.get(id as usize) {
            Some(Node::Num(v)) => Some(*v),
            _ => None,
        }
    }

    fn scratch_push(&mut self) -> R<u32> {
        let s = self.scratch;
        if s >= MEMWORDS {
            return Err(too_complex(self.pos));
        }
        self.scratch += 1;
        Ok(s)
    }

    /// Computes an arithmetic node into A (may clobber X and scratch slots above the
    /// current depth).
    fn arith(&mut self, id: NodeId) -> R<()> {
        match self.node(id)? {
            Node::Num(v) => self.stmt(LD | W | IMM, v),
            Node::PktLen => self.stmt(LD | W | LEN, 0),
            Node::Load { proto, idx, size } => {
                let sz = match size {
                    1 => B,
                    2 => H,
                    _ => W,
                };
                let transport = matches!(
                    proto,
                    Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp | Proto::Igmp
                );
                let extra = if proto == Proto::Icmp6 { 40 } else { 0 };
                let base = if proto == Proto::Link {
                    Base::Link
                } else {
                    Base::Net
                };
                if let Some(c) = self.num(idx) {
                    if transport {
                        self.load_x_iphdr()?;
                        return self.load(Base::NetX, c, sz);
                    }
                    return self.load(base, c.wrapping_add(extra), sz);
                }
                self.arith(idx)?;
                if transport {
                    let s = self.scratch_push()?;
                    self.stmt(ST, s)?;
                    self.load_x_iphdr()?;
                    self.stmt(LD | W | MEM, s)?;
                    self.stmt(ALU | ADD | X, 0)?;
                    self.scratch -= 1;
                }
                self.stmt(MISC | TAX, 0)?;
                match base {
                    Base::Link => self.stmt(LD | sz | IND, extra),
                    _ => self.load(Base::NetX, extra, sz),
                }
            }
            Node::Bin { op, l, r } => {
                let alu = match op {
                    BinOp::Add => ADD,
                    BinOp::Sub => SUB,
                    BinOp::Mul => MUL,
                    BinOp::Div => DIV,
                    BinOp::Mod => MOD,
                    BinOp::And => AND,
                    BinOp::Or => OR,
                    BinOp::Xor => XOR,
                    BinOp::Shl => LSH,
                    BinOp::Shr => RSH,
                };
                self.arith(l)?;
                if let Some(c) = self.num(r) {
                    return self.stmt(ALU | alu | K, c);
                }
                let s = self.scratch_push()?;
                self.stmt(ST, s)?;
                self.arith(r)?;
                self.stmt(MISC | TAX, 0)?;
                self.stmt(LD | W | MEM, s)?;
                self.scratch -= 1;
                self.stmt(ALU | alu | X, 0)
            }
            Node::Neg(n) => {
                self.arith(n)?;
                self.stmt(ALU | NEG, 0)
            }
            _ => Err(FilterError::new(
                self.pos,
                1,
                K::Syntax("an arithmetic expression"),
            )),
        }
    }

    fn relation(&mut self, op: Rel, l: NodeId, r: NodeId, t: Lbl, f: Lbl) -> R<()> {
        self.guards(l, f)?;
        self.guards(r, f)?;
        let (jop, t, f) = match op {
            Rel::Eq => (JEQ, t, f),
            Rel::Ne => (JEQ, f, t),
            Rel::Gt => (JGT, t, f),
            Rel::Ge => (JGE, t, f),
            Rel::Lt => (JGE, f, t),
            Rel::Le => (JGT, f, t),
        };
        // `x & m != 0` and `x & m == 0`: one jset.
        if jop == JEQ && self.num(r) == Some(0) {
            if let Node::Bin {
                op: BinOp::And,
                l: a,
                r: m,
            } = self.node(l)?
            {
                if let Some(m) = self.num(m) {
                    self.arith(a)?;
                    return self.emit(JMP | JSET | K, m, f, t);
                }
            }
        }
        if let (Some(a), Some(b)) = (self.num(l), self.num(r)) {
            let res = match jop {
                JEQ => a == b,
                JGT => a > b,
                _ => a >= b,
            };
            return self.goto(if res { t } else { f });
        }
        self.arith(l)?;
        if let Some(c) = self.num(r) {
            return self.emit(JMP | jop | K, c, t, f);
        }
        let s = self.scratch_push()?;
        self.stmt(ST, s)?;
        self.arith(r)?;
        self.stmt(MISC | TAX, 0)?;
        self.stmt(LD | W | MEM, s)?;
        self.scratch -= 1;
        self.emit(JMP | jop | X, 0, t, f)
    }

    // ---- resolution ----------------------------------------------------------------

    fn target_of(&self, i: usize, l: Lbl) -> R<u16> {
        if l == NEXT {
            return Ok((i + 1) as u16);
        }
        match self.labels.get(l as usize) {
            Some(&p) if p != UNPLACED && p as usize > i => Ok(p),
            _ => Err(too_complex(self.pos)),
        }
    }

    /// Labels → absolute targets, then the optimiser.
    fn resolve(&mut self) -> R<()> {
        for i in 0..self.code.len() {
            let g = self.code[i];
            let code = g.code & 0xff;
            if code & 0x07 == JMP {
                let (jt, jf) = opt::targets(&g);
                let (a, b) = (self.target_of(i, jt)?, self.target_of(i, jf)?);
                self.code[i] = opt::pack(code, a, b, g.k);
            }
        }
        opt::optimize(self.code).map_err(|e| match e {
            opt::OptError::RejectsAll => FilterError::new(0, 0, K::RejectsAll),
            opt::OptError::TooFar => too_complex(self.pos),
        })
    }
}
