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
use super::{LinkType, Target};

type R<T> = Result<T, FilterError>;
type Lbl = u16;

/// "The next instruction".
const NEXT: Lbl = u16::MAX;
const ACCEPT: Lbl = 0;
const REJECT: Lbl = 1;
const MAX_LABELS: usize = 2048;
const UNPLACED: u16 = u16::MAX;

#[derive(Clone, Copy)]
struct GI {
    code: u16,
    k: u32,
    jt: Lbl,
    jf: Lbl,
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
    code: heapless::Vec<GI, MAX_INSNS>,
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
    pub(crate) fn new(ast: &'a Ast, target: Target) -> Gen<'a> {
        Gen {
            ast,
            target,
            code: heapless::Vec::new(),
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
            .push(GI { code, k, jt, jf })
            .map_err(|_| too_complex(self.pos))
    }

    fn stmt(&mut self, code: u16, k: u32) -> R<()> {
        self.emit(code, k, NEXT, NEXT)
    }

    fn goto(&mut self, l: Lbl) -> R<()> {
        self.emit(JMP | JA, 0, l, l)
    }

    /// Compiles the whole expression and resolves it into `out`.
    pub(crate) fn program(
        mut self,
        root: NodeId,
        snaplen: u32,
        out: &mut heapless::Vec<Insn, MAX_INSNS>,
    ) -> R<()> {
        self.label()?; // ACCEPT
        self.label()?; // REJECT
        self.cond(root, ACCEPT, REJECT)?;
        self.place(ACCEPT);
        self.stmt(RET | K, snaplen)?;
        self.place(REJECT);
        self.stmt(RET | K, 0)?;
        self.resolve(out)
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
                // Merge ARP and RARP (same offsets) into one EtherType test.
                let merged = parts.len() == 3;
                if merged {
                    let l = self.label()?;
                    self.host4_part(IP, 12, 16, dir, addr, mask, t, l)?;
                    self.place(l);
                    let m = self.label()?;
                    let arp_ok = self.label()?;
                    self.linktype(ARP, arp_ok, m)?;
                    self.place(m);
                    self.linktype(RARP, arp_ok, f)?;
                    self.place(arp_ok);
                    return self.dir2(dir, Base::Net, 14, 24, W, mask, addr, t, f);
                }
                let (et, s, d) = parts[0];
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
            Node::Port { proto, dir, lo, hi } => {
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
                self.ports(Base::Net, 40, dir, lo, hi, t, f)?;
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
                self.ports(Base::NetX, 0, dir, lo, hi, t, f)
            }
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
    fn ports(&mut self, base: Base, off: u32, dir: Dir, lo: u16, hi: u16, t: Lbl, f: Lbl) -> R<()> {
        self.dir_combo(dir, t, f, |g, src, t, f| {
            g.load(base, off + if src { 0 } else { 2 }, H)?;
            if lo == hi {
                g.emit(JMP | JEQ | K, u32::from(lo), t, f)
            } else {
                g.emit(JMP | JGE | K, u32::from(lo), NEXT, f)?;
                g.emit(JMP | JGT | K, u32::from(hi), f, t)
            }
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

    // ---- resolution and peephole -------------------------------------------------------

    fn target_of(&self, i: usize, l: Lbl) -> R<usize> {
        if l == NEXT {
            return Ok(i + 1);
        }
        match self.labels.get(l as usize) {
            Some(&p) if p != UNPLACED && p as usize > i => Ok(p as usize),
            _ => Err(too_complex(self.pos)),
        }
    }

    fn resolve(&self, out: &mut heapless::Vec<Insn, MAX_INSNS>) -> R<()> {
        let n = self.code.len();
        // Absolute targets.
        let mut tt: heapless::Vec<(u16, u16), MAX_INSNS> = heapless::Vec::new();
        for (i, g) in self.code.iter().enumerate() {
            let (a, b) = if g.code & 0x07 == JMP {
                (self.target_of(i, g.jt)?, self.target_of(i, g.jf)?)
            } else {
                (i + 1, i + 1)
            };
            tt.push((a as u16, b as u16))
                .map_err(|_| too_complex(self.pos))?;
        }
        let code: heapless::Vec<GI, MAX_INSNS> = self.code.clone();
        let is_ja = |i: usize| code.get(i).is_some_and(|g| g.code == JMP | JA);
        // Thread jumps through unconditional jumps.
        let follow = |mut j: usize, tt: &heapless::Vec<(u16, u16), MAX_INSNS>| {
            let mut guard = 0;
            while is_ja(j) && guard < n {
                j = tt.get(j).map_or(j, |p| p.0 as usize);
                guard += 1;
            }
            j
        };
        for i in 0..n {
            let (a, b) = tt[i];
            let na = follow(a as usize, &tt) as u16;
            let nb = follow(b as usize, &tt) as u16;
            tt[i] = (na, nb);
        }
        // Redundant-load elimination: a load of what A already holds on every path.
        let mut keep = [true; MAX_INSNS];
        let mut state: heapless::Vec<Option<Option<St>>, MAX_INSNS> = heapless::Vec::new();
        for _ in 0..=n {
            let _ = state.push(None); // None = no predecessor seen yet
        }
        let mut reach = [false; MAX_INSNS + 1];
        reach[0] = true;
        state[0] = Some(None);
        for i in 0..n {
            let g = code[i];
            if !reach[i] || is_ja(i) {
                // A reached `ja` passes its state on; unreachable code is dropped.
                if reach[i] && is_ja(i) {
                    keep[i] = false;
                    let s = state[i].flatten();
                    let j = tt[i].0 as usize;
                    merge(&mut state, &mut reach, j, s);
                } else {
                    keep[i] = false;
                }
                continue;
            }
            let inn = state[i].flatten();
            let pure_load = g.code & 0x07 == LD && matches!(g.code & 0xe0, ABS | LEN | IMM);
            let out = if pure_load {
                if inn.is_some_and(|s| s.src == (g.code, g.k)) {
                    keep[i] = false;
                    inn
                } else {
                    Some(St {
                        src: (g.code, g.k),
                        eq: None,
                        ne: [0; 4],
                        nne: 0,
                    })
                }
            } else if g.code & 0x07 == LD || g.code & 0x07 == ALU {
                None
            } else {
                inn
            };
            if g.code & 0x07 == RET {
                continue;
            }
            let (mut a, mut b) = tt[i];
            if g.code == JMP | JEQ | K {
                if let Some(s) = out {
                    let known =
                        s.eq.map(|v| v == g.k)
                            .or_else(|| s.ne[..usize::from(s.nne)].contains(&g.k).then_some(false));
                    match known {
                        Some(true) => b = a,
                        Some(false) => a = b,
                        None => {}
                    }
                    tt[i] = (a, b);
                    let yes = Some(St { eq: Some(g.k), ..s });
                    let mut no = s;
                    if usize::from(no.nne) < no.ne.len() {
                        no.ne[usize::from(no.nne)] = g.k;
                        no.nne += 1;
                    }
                    if a != b {
                        merge(&mut state, &mut reach, a as usize, yes);
                        merge(&mut state, &mut reach, b as usize, Some(no));
                    } else {
                        merge(
                            &mut state,
                            &mut reach,
                            a as usize,
                            if known == Some(true) { yes } else { Some(no) },
                        );
                    }
                    continue;
                }
            }
            merge(&mut state, &mut reach, a as usize, out);
            if g.code & 0x07 == JMP {
                merge(&mut state, &mut reach, b as usize, out);
            }
        }
        if n >= 2 && !reach[n - 2] {
            return Err(FilterError::new(0, 0, K::RejectsAll));
        }
        // Compaction: new index of each kept instruction; a dropped one maps to the next kept.
        let mut newidx = [0u16; MAX_INSNS + 1];
        let mut c = 0u16;
        for i in 0..n {
            newidx[i] = c;
            if keep[i] {
                c += 1;
            }
        }
        newidx[n] = c;
        // A dropped instruction is never a jump target that matters except through its
        // fall-through successor, which `newidx` already points to.
        out.clear();
        for i in 0..n {
            if !keep[i] {
                continue;
            }
            let g = code[i];
            let me = newidx[i] as usize;
            let (mut code_, mut k, mut jt, mut jf) = (g.code, g.k, 0u8, 0u8);
            if g.code & 0x07 == JMP {
                let a = newidx[tt[i].0 as usize] as usize;
                let b = newidx[tt[i].1 as usize] as usize;
                let oa = a.checked_sub(me + 1).ok_or(too_complex(self.pos))?;
                let ob = b.checked_sub(me + 1).ok_or(too_complex(self.pos))?;
                if oa > 255 || ob > 255 {
                    return Err(too_complex(self.pos));
                }
                if a == b {
                    // Both ways lead to the same place: an unconditional jump (or none).
                    if oa == 0 {
                        // Cannot drop it here without renumbering; keep a harmless ja 0.
                    }
                    code_ = JMP | JA;
                    k = oa as u32;
                } else {
                    jt = oa as u8;
                    jf = ob as u8;
                }
            }
            out.push(Insn {
                code: code_,
                jt,
                jf,
                k,
            })
            .map_err(|_| too_complex(self.pos))?;
        }
        Ok(())
    }
}

/// What the accumulator holds: the load it came from, and facts from the jumps taken.
#[derive(Clone, Copy, PartialEq, Eq)]
struct St {
    src: (u16, u32),
    eq: Option<u32>,
    ne: [u32; 4],
    nne: u8,
}

fn meet(a: St, b: St) -> Option<St> {
    if a.src != b.src {
        return None;
    }
    if a == b {
        return Some(a);
    }
    // Keep only the common source (and a common exclusion list when identical).
    Some(St {
        src: a.src,
        eq: if a.eq == b.eq { a.eq } else { None },
        ne: [0; 4],
        nne: 0,
    })
}

fn merge(
    state: &mut heapless::Vec<Option<Option<St>>, MAX_INSNS>,
    reach: &mut [bool; MAX_INSNS + 1],
    j: usize,
    s: Option<St>,
) {
    if let Some(r) = reach.get_mut(j) {
        *r = true;
    }
    if let Some(slot) = state.get_mut(j) {
        *slot = match *slot {
            None => Some(s),
            Some(Some(p)) => Some(s.and_then(|s| meet(p, s))),
            Some(None) => Some(None),
        };
    }
}
