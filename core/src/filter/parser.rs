//! Recursive-descent parser for pcap-filter(7), following libpcap's grammar:
//! `and` and `or` have equal precedence and associate to the left; `not` binds tightest;
//! a bare value after `and`/`or` inherits the qualifiers of the previous primitive
//! (`host 10.0.0.1 and port 80 or 443`); `qualifiers ( v1 or v2 )` applies them to each value.
//! A parenthesis may open either a boolean group or an arithmetic operand: the parser tries
//! the relation first and backtracks (the lexer is `Copy`, the arena is truncated).

use super::ast::*;
use super::error::{FilterError, FilterErrorKind as K};
use super::lexer::{Lexer, Tok, Token};

/// The qualifiers in force for a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quals {
    proto: Proto,
    dir: Option<Dir>,
    kind: Kind,
    /// Position of the qualifiers, for error messages.
    pos: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Default,
    Host,
    Net,
    Port,
    PortRange,
}

const DEFAULT_QUALS: Quals = Quals {
    proto: Proto::Default,
    dir: None,
    kind: Kind::Default,
    pos: 0,
};

type R<T> = Result<T, FilterError>;

/// Parses `src` into `ast`; returns the root node.
pub fn parse(src: &str, ast: &mut Ast) -> R<NodeId> {
    ast.clear();
    let mut p = Parser {
        lx: Lexer::new(src),
        tok: Token {
            tok: Tok::End,
            pos: 0,
            len: 0,
        },
        ast,
        last_q: None,
        depth: 0,
    };
    p.advance()?;
    if p.tok.tok == Tok::End {
        return Err(FilterError::new(0, 0, K::Empty));
    }
    let root = p.expr()?;
    if p.tok.tok != Tok::End {
        return Err(p.unexpected("'and', 'or' or end of expression"));
    }
    Ok(root)
}

struct Parser<'s, 'a> {
    lx: Lexer<'s>,
    tok: Token<'s>,
    ast: &'a mut Ast,
    last_q: Option<Quals>,
    depth: u32,
}

#[derive(Clone, Copy)]
struct Snapshot<'s> {
    lx: Lexer<'s>,
    tok: Token<'s>,
    len: usize,
    last_q: Option<Quals>,
    depth: u32,
}

const MAX_DEPTH: u32 = 64;

fn proto_word(w: &str) -> Option<Proto> {
    Some(match w {
        "ether" | "link" => Proto::Link,
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "arp" => Proto::Arp,
        "rarp" => Proto::Rarp,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        "igmp" => Proto::Igmp,
        _ => return None,
    })
}

/// libpcap keywords pktstat does not implement: named in the error.
const UNSUPPORTED: &[&str] = &[
    "gateway",
    "protochain",
    "decnet",
    "atalk",
    "aarp",
    "iso",
    "esis",
    "isis",
    "clnp",
    "stp",
    "ipx",
    "netbeui",
    "lat",
    "sca",
    "moprc",
    "mopdl",
    "ah",
    "esp",
    "pim",
    "vrrp",
    "carp",
    "igrp",
    "mpls",
    "geneve",
    "vxlan",
    "pppoed",
    "llc",
    "inbound",
    "outbound",
    "ifname",
    "on",
    "rulenum",
    "reason",
    "rset",
    "srnr",
    "subrulenum",
    "action",
    "type",
    "subtype",
    "dir",
    "wlan",
    "radio",
    "fddi",
    "tr",
    "ppp",
    "slip",
    "addr1",
    "addr2",
    "addr3",
    "addr4",
    "ta",
    "ra",
    "fisu",
    "lssu",
    "msu",
    "sio",
    "opc",
    "dpc",
    "sls",
    "hfisu",
    "hlssu",
    "hmsu",
    "hsio",
    "hopc",
    "hdpc",
    "hsls",
    "atmfield",
    "vpi",
    "vci",
    "lane",
    "oamf4",
    "oamf4e",
    "oamf4s",
    "oam",
    "metac",
    "bcc",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "l1",
    "l2",
    "ipv6",
];

/// Keywords that can never be a value.
fn is_keyword(w: &str) -> bool {
    proto_word(w).is_some()
        || matches!(
            w,
            "host"
                | "net"
                | "port"
                | "portrange"
                | "src"
                | "dst"
                | "and"
                | "or"
                | "not"
                | "proto"
                | "vlan"
                | "pppoes"
                | "less"
                | "greater"
                | "len"
                | "broadcast"
                | "multicast"
                | "mask"
        )
        || UNSUPPORTED.contains(&w)
}

/// A number in libpcap's syntax: decimal, `0x` hex, or `0`-prefixed octal.
pub fn parse_num(w: &str) -> Option<u32> {
    let (digits, radix) = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        (h, 16)
    } else if w.len() > 1 && w.starts_with('0') {
        (&w[1..], 8)
    } else {
        (w, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// Dotted IPv4 with 1 to 4 parts: the value left-aligned and the number of parts.
fn parse_v4(w: &str) -> Option<(u32, u32)> {
    let mut v: u32 = 0;
    let mut n = 0u32;
    for part in w.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let o: u32 = part.parse().ok()?;
        if o > 255 || n == 4 {
            return None;
        }
        v = (v << 8) | o;
        n += 1;
    }
    if n < 2 {
        return None;
    }
    Some((v << (8 * (4 - n)), n))
}

/// IPv6 text form (RFC 4291, including `::` and a trailing dotted quad).
pub fn parse_v6(w: &str) -> Option<[u8; 16]> {
    if !w.contains(':') {
        return None;
    }
    let mut out = [0u8; 16];
    let (head, tail) = match w.find("::") {
        Some(i) => (&w[..i], Some(&w[i + 2..])),
        None => (w, None),
    };
    let mut words: heapless::Vec<u16, 8> = heapless::Vec::new();
    let mut tail_words: heapless::Vec<u16, 8> = heapless::Vec::new();
    fn groups(s: &str, v: &mut heapless::Vec<u16, 8>, allow_v4: bool) -> Option<()> {
        if s.is_empty() {
            return Some(());
        }
        let mut it = s.split(':').peekable();
        while let Some(g) = it.next() {
            let last = it.peek().is_none();
            if last && allow_v4 && g.contains('.') {
                let (a, n) = parse_v4(g)?;
                if n != 4 {
                    return None;
                }
                v.push((a >> 16) as u16).ok()?;
                v.push(a as u16).ok()?;
            } else {
                if g.is_empty() || g.len() > 4 {
                    return None;
                }
                v.push(u16::from_str_radix(g, 16).ok()?).ok()?;
            }
        }
        Some(())
    }
    match tail {
        Some(t) => {
            if t.contains("::") {
                return None;
            }
            groups(head, &mut words, false)?;
            groups(t, &mut tail_words, true)?;
            if words.len() + tail_words.len() > 7 {
                return None;
            }
        }
        None => {
            groups(head, &mut words, true)?;
            if words.len() != 8 {
                return None;
            }
        }
    }
    for (i, g) in words.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
    }
    let start = 8 - tail_words.len();
    for (i, g) in tail_words.iter().enumerate() {
        out[2 * (start + i)..2 * (start + i) + 2].copy_from_slice(&g.to_be_bytes());
    }
    Some(out)
}

/// MAC address: `a:b:c:d:e:f` or `a-b-c-d-e-f` (1–2 hex digits each), or `aabb.ccdd.eeff`.
pub fn parse_mac(w: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    for sep in [':', '-'] {
        if w.contains(sep) {
            let mut n = 0;
            for g in w.split(sep) {
                if g.is_empty() || g.len() > 2 || n == 6 {
                    return None;
                }
                out[n] = u8::from_str_radix(g, 16).ok()?;
                n += 1;
            }
            return (n == 6).then_some(out);
        }
    }
    let mut n = 0;
    for g in w.split('.') {
        if g.len() != 4 || n == 6 {
            return None;
        }
        let v = u16::from_str_radix(g, 16).ok()?;
        out[n..n + 2].copy_from_slice(&v.to_be_bytes());
        n += 2;
    }
    (n == 6).then_some(out)
}

/// Named constants usable in arithmetic.
fn named_constant(w: &str) -> Option<u32> {
    Some(match w {
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        "icmp6-routerrenum" => 138,
        "icmp6-nodeinformationquery" => 139,
        "icmp6-nodeinformationresponse" => 140,
        "icmp6-ineighbordiscoverysolicit" => 141,
        "icmp6-ineighbordiscoveryadvert" => 142,
        "icmp6-multicastlistenerreportv2" => 143,
        "icmp6-homeagentdiscoveryrequest" => 144,
        "icmp6-homeagentdiscoveryreply" => 145,
        "icmp6-mobileprefixsolicit" => 146,
        "icmp6-mobileprefixadvert" => 147,
        "icmp6-certpathsolicit" => 148,
        "icmp6-certpathadvert" => 149,
        "icmp6-multicastrouteradvert" => 151,
        "icmp6-multicastroutersolicit" => 152,
        "icmp6-multicastrouterterm" => 153,
        _ => return None,
    })
}

/// IP protocol names accepted after `proto` (escaped keywords or plain names).
fn ip_proto_name(w: &str) -> Option<u8> {
    Some(match w {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "ipv6" => 41,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmp6" => 58,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        _ => return None,
    })
}

fn ether_proto_name(w: &str) -> Option<u16> {
    Some(match w {
        "ip" => 0x0800,
        "ip6" => 0x86dd,
        "arp" => 0x0806,
        "rarp" => 0x8035,
        _ => return None,
    })
}

impl<'s> Parser<'s, '_> {
    fn advance(&mut self) -> R<()> {
        self.tok = self.lx.next_token()?;
        Ok(())
    }

    fn snapshot(&self) -> Snapshot<'s> {
        Snapshot {
            lx: self.lx,
            tok: self.tok,
            len: self.ast.len(),
            last_q: self.last_q,
            depth: self.depth,
        }
    }

    fn restore(&mut self, s: Snapshot<'s>) {
        self.lx = s.lx;
        self.tok = s.tok;
        self.ast.truncate(s.len);
        self.last_q = s.last_q;
        self.depth = s.depth;
    }

    fn unexpected(&self, what: &'static str) -> FilterError {
        if self.tok.tok == Tok::End {
            FilterError::new(self.tok.pos, 0, K::UnexpectedEnd)
        } else {
            FilterError::new(self.tok.pos, self.tok.len, K::Syntax(what))
        }
    }

    fn err_here(&self, kind: K) -> FilterError {
        FilterError::new(self.tok.pos, self.tok.len, kind)
    }

    fn push(&mut self, n: Node) -> R<NodeId> {
        let id = self.ast.len();
        self.ast
            .push(n)
            .map_err(|_| FilterError::new(self.tok.pos, self.tok.len, K::TooComplex))?;
        Ok(id as NodeId)
    }

    fn word(&self) -> Option<&'s str> {
        match self.tok.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }

    fn is_and(&self) -> bool {
        self.tok.tok == Tok::AndAnd || self.is_word("and")
    }

    fn is_or(&self) -> bool {
        self.tok.tok == Tok::OrOr || self.is_word("or")
    }

    fn is_not(&self) -> bool {
        self.tok.tok == Tok::Bang || self.is_word("not")
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here(K::TooComplex));
        }
        Ok(())
    }

    /// Is the current token a value (something an inherited qualifier can apply to)?
    fn at_value(&self) -> bool {
        match self.tok.tok {
            Tok::Word(w) => !is_keyword(w) && named_constant(w).is_none(),
            Tok::Escaped(_) => true,
            _ => false,
        }
    }

    /// After `and`/`or`: does an inherited-qualifier id follow (`not`* value)?
    fn id_follows(&mut self) -> R<bool> {
        let s = self.snapshot();
        while self.is_not() {
            self.advance()?;
        }
        let v = self.at_value();
        self.restore(s);
        Ok(v)
    }

    // expr: term ((and|or) (term | id))*
    fn expr(&mut self) -> R<NodeId> {
        self.enter()?;
        let mut left = self.term()?;
        loop {
            let is_and = if self.is_and() {
                true
            } else if self.is_or() {
                false
            } else {
                break;
            };
            self.advance()?;
            let lq = self.last_q;
            let right = match lq {
                Some(q) if self.id_follows()? => self.id(q)?,
                _ => self.term()?,
            };
            left = self.push(if is_and {
                Node::And(left, right)
            } else {
                Node::Or(left, right)
            })?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> R<NodeId> {
        if self.is_not() {
            self.advance()?;
            self.enter()?;
            let t = self.term()?;
            self.depth -= 1;
            return self.push(Node::Not(t));
        }
        self.rterm()
    }

    fn try_relation(&mut self) -> R<Option<NodeId>> {
        let s = self.snapshot();
        match self.relation() {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                // Not arithmetic: read it as a boolean group instead.
                self.restore(s);
                Ok(None)
            }
        }
    }

    fn rterm(&mut self) -> R<NodeId> {
        match self.tok.tok {
            Tok::LParen => {
                if let Some(n) = self.try_relation()? {
                    self.last_q = None;
                    return Ok(n);
                }
                self.advance()?;
                let e = self.expr()?;
                if self.tok.tok != Tok::RParen {
                    return Err(self.unexpected("')'"));
                }
                self.advance()?;
                Ok(e)
            }
            Tok::Minus => {
                let n = self.relation()?;
                self.last_q = None;
                Ok(n)
            }
            Tok::Escaped(_) => self.id(DEFAULT_QUALS),
            Tok::Word(w) => self.rterm_word(w),
            _ => Err(self.unexpected("a primitive")),
        }
    }

    fn rterm_word(&mut self, w: &'s str) -> R<NodeId> {
        let pos = self.tok.pos;
        if parse_num(w).is_some() || w == "len" || named_constant(w).is_some() {
            let n = self.relation()?;
            self.last_q = None;
            return Ok(n);
        }
        if UNSUPPORTED.contains(&w) {
            return Err(self.err_here(K::Unsupported(w_static(w))));
        }
        match w {
            "vlan" | "pppoes" => {
                self.advance()?;
                let id = match self.word().and_then(parse_num) {
                    Some(v) => {
                        if v > 0xfff && w == "vlan" || v > 0xffff {
                            return Err(self.err_here(K::BadNumber));
                        }
                        self.advance()?;
                        Some(v as u16)
                    }
                    None => None,
                };
                self.last_q = None;
                return self.push(if w == "vlan" {
                    Node::Vlan(id)
                } else {
                    Node::Pppoes(id)
                });
            }
            "less" | "greater" => {
                self.advance()?;
                let Some(v) = self.word().and_then(parse_num) else {
                    return Err(self.unexpected("a number"));
                };
                self.advance()?;
                self.last_q = None;
                let l = self.push(Node::PktLen)?;
                let r = self.push(Node::Num(v))?;
                let op = if w == "less" { Rel::Le } else { Rel::Ge };
                return self.push(Node::Relation { op, l, r });
            }
            "broadcast" | "multicast" => {
                self.advance()?;
                self.last_q = None;
                return self.push(if w == "broadcast" {
                    Node::Broadcast(Proto::Link)
                } else {
                    Node::Multicast(Proto::Link)
                });
            }
            "proto" => {
                return self.proto_number(Proto::Default);
            }
            _ => {}
        }
        if let Some(p) = proto_word(w) {
            // `proto[` starts arithmetic.
            let s = self.snapshot();
            self.advance()?;
            if self.tok.tok == Tok::LBrack {
                self.restore(s);
                let n = self.relation()?;
                self.last_q = None;
                return Ok(n);
            }
            if self.is_word("proto") {
                return self.proto_number(p);
            }
            if self.is_word("broadcast") || self.is_word("multicast") {
                let b = self.is_word("broadcast");
                let ok = match (b, p) {
                    (_, Proto::Link) => true,
                    (true, Proto::Ip) => {
                        return Err(FilterError::new(
                            pos,
                            self.tok.pos + self.tok.len - pos,
                            K::Unsupported("ip broadcast (the netmask is unknown)"),
                        ));
                    }
                    (false, Proto::Ip | Proto::Ip6) => true,
                    _ => false,
                };
                if !ok {
                    return Err(FilterError::new(
                        pos,
                        self.tok.pos + self.tok.len - pos,
                        K::Qualifier("only ether/ip/ip6 broadcast or multicast"),
                    ));
                }
                self.advance()?;
                self.last_q = None;
                return self.push(if b {
                    Node::Broadcast(p)
                } else {
                    Node::Multicast(p)
                });
            }
            let mut q = Quals {
                proto: p,
                dir: None,
                kind: Kind::Default,
                pos,
            };
            if self.dir_kind(&mut q)? {
                return self.id_or_group(q);
            }
            self.last_q = None;
            return self.push(Node::Proto(p));
        }
        let mut q = Quals {
            pos,
            ..DEFAULT_QUALS
        };
        if self.dir_kind(&mut q)? {
            return self.id_or_group(q);
        }
        // A bare value with default qualifiers.
        self.id(q)
    }

    /// Parses optional `src`/`dst`/`src or dst`/`src and dst` then optional
    /// `host`/`net`/`port`/`portrange`. Returns whether any was present.
    fn dir_kind(&mut self, q: &mut Quals) -> R<bool> {
        let mut any = false;
        if self.is_word("src") || self.is_word("dst") {
            let first_src = self.is_word("src");
            any = true;
            self.advance()?;
            let mut dir = if first_src { Dir::Src } else { Dir::Dst };
            if self.is_word("or") || self.is_word("and") {
                let s = self.snapshot();
                let is_or = self.is_word("or");
                self.advance()?;
                if self.is_word(if first_src { "dst" } else { "src" }) {
                    self.advance()?;
                    dir = if is_or { Dir::SrcOrDst } else { Dir::SrcAndDst };
                } else {
                    self.restore(s);
                }
            }
            q.dir = Some(dir);
        }
        let kind = match self.word() {
            Some("host") => Some(Kind::Host),
            Some("net") => Some(Kind::Net),
            Some("port") => Some(Kind::Port),
            Some("portrange") => Some(Kind::PortRange),
            Some("gateway") => return Err(self.err_here(K::Unsupported("gateway"))),
            _ => None,
        };
        if let Some(k) = kind {
            q.kind = k;
            any = true;
            self.advance()?;
        }
        Ok(any)
    }

    /// After qualifiers: a value, or `( v or v and not v … )`.
    fn id_or_group(&mut self, q: Quals) -> R<NodeId> {
        self.last_q = Some(q);
        if self.tok.tok == Tok::LParen {
            self.advance()?;
            self.enter()?;
            let e = self.id_group(q)?;
            self.depth -= 1;
            if self.tok.tok != Tok::RParen {
                return Err(self.unexpected("')'"));
            }
            self.advance()?;
            self.last_q = Some(q);
            return Ok(e);
        }
        self.id(q)
    }

    fn id_group(&mut self, q: Quals) -> R<NodeId> {
        let mut left = self.id(q)?;
        loop {
            let is_and = if self.is_and() {
                true
            } else if self.is_or() {
                false
            } else {
                return Ok(left);
            };
            self.advance()?;
            let right = self.id(q)?;
            left = self.push(if is_and {
                Node::And(left, right)
            } else {
                Node::Or(left, right)
            })?;
        }
    }

    /// One value under qualifiers `q` (with leading `not`s, or a parenthesised group).
    fn id(&mut self, q: Quals) -> R<NodeId> {
        if self.is_not() {
            self.advance()?;
            self.enter()?;
            let n = self.id(q)?;
            self.depth -= 1;
            return self.push(Node::Not(n));
        }
        if self.tok.tok == Tok::LParen {
            self.advance()?;
            self.enter()?;
            let e = self.id_group(q)?;
            self.depth -= 1;
            if self.tok.tok != Tok::RParen {
                return Err(self.unexpected("')'"));
            }
            self.advance()?;
            return Ok(e);
        }
        let (w, pos, len) = match self.tok.tok {
            Tok::Word(w) => (w, self.tok.pos, self.tok.len),
            Tok::Escaped(_) => return Err(self.err_here(K::Name)),
            _ => return Err(self.unexpected("an address, a port or a number")),
        };
        if is_keyword(w) {
            return Err(self.unexpected("an address, a port or a number"));
        }
        self.advance()?;
        self.last_q = Some(q);
        let here = |kind| FilterError::new(pos, len, kind);
        let dir = q.dir.unwrap_or(Dir::SrcOrDst);
        // MAC addresses.
        if let Some(mac) = parse_mac(w).filter(|_| !w.contains('.') || parse_v4(w).is_none()) {
            if q.proto != Proto::Link || !matches!(q.kind, Kind::Default | Kind::Host) {
                return Err(here(K::Qualifier(
                    "ethernet address used in non-ether expression",
                )));
            }
            return self.push(Node::Ether { dir, mac });
        }
        if q.proto == Proto::Link {
            if parse_num(w).is_some() || parse_v4(w).is_some() || parse_v6(w).is_some() {
                return Err(here(K::Qualifier("ethernet host needs a MAC address")));
            }
            return Err(here(K::Name));
        }
        // IPv6, optionally with /len.
        let (text, prefix) = match w.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (w, None),
        };
        let _ = prefix;
        if let Some(a6) = parse_v6(text) {
            if !matches!(q.proto, Proto::Default | Proto::Ip6) {
                return Err(here(K::Qualifier("IPv6 address with a non-IPv6 protocol")));
            }
            let plen = match self.slash_len(128)? {
                Some(l) => {
                    if q.kind != Kind::Net && q.kind != Kind::Default {
                        return Err(here(K::Qualifier("mask syntax for networks only")));
                    }
                    l
                }
                None => {
                    if self.is_word("mask") {
                        return Err(self.err_here(K::Unsupported("mask with IPv6")));
                    }
                    128
                }
            };
            if matches!(q.kind, Kind::Port | Kind::PortRange) {
                return Err(here(K::Qualifier("port needs a number")));
            }
            for (i, b) in a6.iter().enumerate() {
                let bits = (plen as usize).saturating_sub(8 * i).min(8);
                let m = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
                if b & !m != 0 {
                    return Err(here(K::NonNetworkBits));
                }
            }
            return self.push(Node::Net6 {
                dir,
                addr: a6,
                prefix: plen,
            });
        }
        // Port ranges `lo-hi`.
        if q.kind == Kind::PortRange {
            let (lo, hi) = match w.split_once('-') {
                Some((a, b)) => (parse_num(a), parse_num(b)),
                None => (parse_num(w), parse_num(w)),
            };
            let (Some(lo), Some(hi)) = (lo, hi) else {
                return Err(here(K::Name));
            };
            if lo > 65535 || hi > 65535 {
                return Err(here(K::BadNumber));
            }
            let (lo, hi) = if lo > hi { (hi, lo) } else { (lo, hi) };
            return self.port_node(q, lo as u16, hi as u16, here);
        }
        if let Some(v) = parse_num(w) {
            match q.kind {
                Kind::Port => {
                    if v > 65535 {
                        return Err(here(K::BadNumber));
                    }
                    return self.port_node(q, v as u16, v as u16, here);
                }
                Kind::Net => {
                    let mut addr = v;
                    let mut mask = u32::MAX;
                    while addr != 0 && addr & 0xff00_0000 == 0 {
                        addr <<= 8;
                        mask <<= 8;
                    }
                    return self.net4(q, addr, mask, here);
                }
                Kind::Host | Kind::Default => return self.net4(q, v, u32::MAX, here),
                Kind::PortRange => return Err(here(K::BadNumber)),
            }
        }
        if let Some((addr, parts)) = parse_v4(text) {
            if matches!(q.kind, Kind::Port | Kind::PortRange) {
                return Err(here(K::Qualifier("port needs a number")));
            }
            let mut mask = if parts == 4 {
                u32::MAX
            } else {
                u32::MAX << (8 * (4 - parts))
            };
            if let Some(l) = self.slash_len(32)? {
                if !matches!(q.kind, Kind::Net | Kind::Default) {
                    return Err(here(K::Qualifier("mask syntax for networks only")));
                }
                mask = if l == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(l))
                };
            } else if self.is_word("mask") {
                if !matches!(q.kind, Kind::Net | Kind::Default) {
                    return Err(here(K::Qualifier("mask syntax for networks only")));
                }
                self.advance()?;
                let m = match self.word().and_then(parse_v4) {
                    Some((m, 4)) => m,
                    _ => return Err(self.err_here(K::BadAddress)),
                };
                self.advance()?;
                mask = m;
            }
            if addr & !mask != 0 {
                return Err(here(K::NonNetworkBits));
            }
            return self.net4(q, addr, mask, here);
        }
        if w.bytes().all(|b| b.is_ascii_digit() || b == b'.') || w.contains(':') {
            return Err(here(K::BadAddress));
        }
        Err(here(K::Name))
    }

    /// `/ len` after an address.
    fn slash_len(&mut self, max: u32) -> R<Option<u8>> {
        if self.tok.tok != Tok::Slash {
            return Ok(None);
        }
        self.advance()?;
        match self.word().and_then(parse_num) {
            Some(l) if l <= max => {
                self.advance()?;
                Ok(Some(l as u8))
            }
            Some(_) => Err(self.err_here(K::BadNumber)),
            None => Err(self.unexpected("a prefix length")),
        }
    }

    fn net4(
        &mut self,
        q: Quals,
        addr: u32,
        mask: u32,
        here: impl Fn(K) -> FilterError,
    ) -> R<NodeId> {
        if !matches!(
            q.proto,
            Proto::Default | Proto::Ip | Proto::Arp | Proto::Rarp
        ) {
            return Err(here(K::Qualifier(if q.proto == Proto::Ip6 {
                "an IPv4 address with 'ip6'"
            } else {
                "host/net with a transport protocol"
            })));
        }
        if matches!(q.kind, Kind::Port | Kind::PortRange) {
            return Err(here(K::Qualifier("port needs a number")));
        }
        self.push(Node::Net4 {
            proto: q.proto,
            dir: q.dir.unwrap_or(Dir::SrcOrDst),
            addr,
            mask,
        })
    }

    fn port_node(
        &mut self,
        q: Quals,
        lo: u16,
        hi: u16,
        here: impl Fn(K) -> FilterError,
    ) -> R<NodeId> {
        if !matches!(
            q.proto,
            Proto::Default | Proto::Tcp | Proto::Udp | Proto::Sctp
        ) {
            return Err(here(K::Qualifier(
                "port with a protocol other than tcp, udp or sctp",
            )));
        }
        self.push(Node::Port {
            proto: q.proto,
            dir: q.dir.unwrap_or(Dir::SrcOrDst),
            lo,
            hi,
        })
    }

    /// `[ip|ip6|ether] proto N` (the current token is `proto`).
    fn proto_number(&mut self, p: Proto) -> R<NodeId> {
        let pos = self.tok.pos;
        self.advance()?;
        let (w, escaped) = match self.tok.tok {
            Tok::Word(w) if !is_keyword(w) => (w, false),
            Tok::Escaped(w) => (w, true),
            _ => return Err(self.unexpected("a protocol number")),
        };
        let _ = escaped;
        let here = self.err_here(K::Name);
        let node = match p {
            Proto::Link => {
                let v = match parse_num(w).or_else(|| ether_proto_name(w).map(u32::from)) {
                    Some(v) => v,
                    None => return Err(here),
                };
                if v > 0xffff {
                    return Err(self.err_here(K::BadNumber));
                }
                if v <= 1500 {
                    return Err(
                        self.err_here(K::Unsupported("ether proto <= 1500 (802.3 length field)"))
                    );
                }
                Node::EtherProto(v as u16)
            }
            Proto::Default | Proto::Ip | Proto::Ip6 => {
                let v = match parse_num(w).or_else(|| ip_proto_name(w).map(u32::from)) {
                    Some(v) => v,
                    None => return Err(here),
                };
                if v > 255 {
                    return Err(self.err_here(K::BadNumber));
                }
                Node::IpProto {
                    proto: p,
                    n: v as u8,
                }
            }
            _ => {
                return Err(FilterError::new(
                    pos,
                    5,
                    K::Qualifier("'proto' applies to ether, ip or ip6 only"),
                ));
            }
        };
        self.advance()?;
        self.last_q = None;
        self.push(node)
    }

    // relation: arith relop arith
    fn relation(&mut self) -> R<NodeId> {
        let l = self.arith(0)?;
        let op = match self.tok.tok {
            Tok::Eq => Rel::Eq,
            Tok::Ne => Rel::Ne,
            Tok::Gt => Rel::Gt,
            Tok::Ge => Rel::Ge,
            Tok::Lt => Rel::Lt,
            Tok::Le => Rel::Le,
            _ => return Err(self.unexpected("a comparison operator")),
        };
        self.advance()?;
        let r = self.arith(0)?;
        self.push(Node::Relation { op, l, r })
    }

    fn binop(&self) -> Option<(BinOp, u8)> {
        Some(match self.tok.tok {
            Tok::Pipe => (BinOp::Or, 1),
            Tok::Caret => (BinOp::Xor, 2),
            Tok::Amp => (BinOp::And, 3),
            Tok::Shl => (BinOp::Shl, 4),
            Tok::Shr => (BinOp::Shr, 4),
            Tok::Plus => (BinOp::Add, 5),
            Tok::Minus => (BinOp::Sub, 5),
            Tok::Star => (BinOp::Mul, 6),
            Tok::Slash => (BinOp::Div, 6),
            Tok::Percent => (BinOp::Mod, 6),
            _ => return None,
        })
    }

    /// Precedence climbing over the binary operators (all left-associative).
    fn arith(&mut self, min: u8) -> R<NodeId> {
        self.enter()?;
        let mut left = self.unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec <= min {
                break;
            }
            let pos = self.tok.pos;
            self.advance()?;
            let right = self.arith(prec)?;
            left = self.fold(op, left, right, pos)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn fold(&mut self, op: BinOp, l: NodeId, r: NodeId, pos: usize) -> R<NodeId> {
        let num = |id: NodeId, ast: &Ast| match ast.get(id as usize) {
            Some(Node::Num(v)) => Some(*v),
            _ => None,
        };
        if matches!(op, BinOp::Div | BinOp::Mod) && num(r, self.ast) == Some(0) {
            return Err(FilterError::new(pos, 1, K::DivisionByZero));
        }
        if let (Some(a), Some(b)) = (num(l, self.ast), num(r, self.ast)) {
            if let Some(v) = op.eval(a, b) {
                // Reuse the left node's slot.
                self.ast.truncate(l as usize + 1);
                if let Some(n) = self.ast.get_mut(l as usize) {
                    *n = Node::Num(v);
                }
                return Ok(l);
            }
        }
        self.push(Node::Bin { op, l, r })
    }

    fn unary(&mut self) -> R<NodeId> {
        if self.tok.tok == Tok::Minus {
            self.advance()?;
            self.enter()?;
            let n = self.unary()?;
            self.depth -= 1;
            if let Some(Node::Num(v)) = self.ast.get(n as usize).copied() {
                if let Some(slot) = self.ast.get_mut(n as usize) {
                    *slot = Node::Num(v.wrapping_neg());
                }
                return Ok(n);
            }
            return self.push(Node::Neg(n));
        }
        self.primary()
    }

    fn primary(&mut self) -> R<NodeId> {
        match self.tok.tok {
            Tok::LParen => {
                self.advance()?;
                let n = self.arith(0)?;
                if self.tok.tok != Tok::RParen {
                    return Err(self.unexpected("')'"));
                }
                self.advance()?;
                Ok(n)
            }
            Tok::Word(w) => {
                if let Some(v) = parse_num(w).or_else(|| named_constant(w)) {
                    self.advance()?;
                    return self.push(Node::Num(v));
                }
                if w == "len" {
                    self.advance()?;
                    return self.push(Node::PktLen);
                }
                let Some(p) = proto_word(w) else {
                    if w.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                        return Err(self.err_here(K::BadNumber));
                    }
                    return Err(self.unexpected("a number or an expression"));
                };
                let ppos = self.tok.pos;
                self.advance()?;
                if self.tok.tok != Tok::LBrack {
                    return Err(self.unexpected("'['"));
                }
                self.advance()?;
                let idx = self.arith(0)?;
                let mut size = 1u8;
                if self.tok.tok == Tok::Colon {
                    self.advance()?;
                    size = match self.word().and_then(parse_num) {
                        Some(s @ (1 | 2 | 4)) => s as u8,
                        Some(_) => return Err(self.err_here(K::Syntax("data size 1, 2 or 4"))),
                        None => return Err(self.unexpected("data size 1, 2 or 4")),
                    };
                    self.advance()?;
                }
                if self.tok.tok != Tok::RBrack {
                    return Err(self.unexpected("']'"));
                }
                let _ = ppos;
                self.advance()?;
                self.push(Node::Load {
                    proto: p,
                    idx,
                    size,
                })
            }
            _ => Err(self.unexpected("a number or an expression")),
        }
    }
}

/// The unsupported keyword as a `'static` string (it is one of the [`UNSUPPORTED`] entries).
fn w_static(w: &str) -> &'static str {
    UNSUPPORTED
        .iter()
        .copied()
        .find(|&k| k == w)
        .unwrap_or("keyword")
}

#[cfg(test)]
mod tests {
    use super::super::{compile, FilterErrorKind as K, Program, Target};
    use super::*;
    use crate::link::LinkType;
    use std::string::ToString;

    fn err(e: &str) -> FilterError {
        let mut p = Program::new();
        compile(e, Target::Link(LinkType::Ethernet), 100, &mut p).expect_err(e)
    }

    #[test]
    fn error_positions() {
        let cases: &[(&str, usize, usize, K)] = &[
            ("", 0, 0, K::Empty),
            ("tcp port", 8, 0, K::UnexpectedEnd),
            ("port 80 and", 11, 0, K::UnexpectedEnd),
            ("ip proto tcp", 9, 3, K::Syntax("a protocol number")),
            ("net 10.1.2.3/8", 4, 8, K::NonNetworkBits),
            ("((tcp)", 6, 0, K::UnexpectedEnd),
            ("vlan 5000", 5, 4, K::BadNumber),
            ("ip[0:3] = 1", 5, 1, K::Syntax("data size 1, 2 or 4")),
            ("port 70000", 5, 5, K::BadNumber),
            ("foo and bar", 0, 3, K::Name),
            ("host example.com", 5, 11, K::Name),
            ("1 / 0 = 1", 2, 1, K::DivisionByZero),
            ("tcp $", 4, 1, K::BadChar),
            (
                "port 80 )",
                8,
                1,
                K::Syntax("'and', 'or' or end of expression"),
            ),
            ("ip[0 = 1", 5, 1, K::Syntax("']'")),
            ("gateway 1.2.3.4", 0, 7, K::Unsupported("gateway")),
        ];
        for &(e, pos, len, kind) in cases {
            let got = err(e);
            assert_eq!((got.pos, got.len, got.kind), (pos, len, kind), "{e:?}");
        }
        assert_eq!(
            err("ip6 host 1.2.3.4").kind,
            K::Qualifier("an IPv4 address with 'ip6'")
        );
        assert_eq!(
            err("tcp host 10.0.0.1").kind,
            K::Qualifier("host/net with a transport protocol")
        );
    }

    #[test]
    fn display_and_caret() {
        let e = "host 10.0.0.1 port 80";
        let got = err(e);
        assert_eq!(
            got.to_string(),
            "filter: syntax error: expected 'and', 'or' or end of expression at byte 14"
        );
        assert_eq!(
            got.caret(e).to_string(),
            "host 10.0.0.1 port 80\n              ^^^^"
        );
        // At the end: one caret after the last character.
        assert_eq!(
            err("tcp port").caret("tcp port").to_string(),
            "tcp port\n        ^"
        );
        // Characters, not bytes, before and under the caret.
        let e = "tcp \u{e9}t\u{e9}";
        assert_eq!(err(e).caret(e).to_string(), "tcp \u{e9}t\u{e9}\n    ^");
        let e = "\u{e9} or tcp";
        assert_eq!(err(e).caret(e).to_string(), "\u{e9} or tcp\n^");
        // Rejecting everything underlines the whole expression.
        let e = "tcp and vlan";
        assert_eq!(err(e).caret(e).to_string(), "tcp and vlan\n^^^^^^^^^^^^");
    }

    #[test]
    fn accepts_the_language() {
        for e in [
            "host 10.0.0.1 and port 80 or 443",
            "src or dst host 10.0.0.1",
            "src and dst net 10.0.0.0/8",
            "net 10.0.0.0 mask 255.255.255.0",
            "ether host 00:11:22:33:44:55",
            "ether proto \\arp",
            "ip proto \\udp",
            "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
            "icmp[icmptype] == icmp-echo",
            "ip[2:2] > 576 && !(udp || arp)",
            "vlan 10 and pppoes 3 and ip6",
            "less 100 or greater 1000",
            "portrange 1-1024",
            "host 2001:db8::1 or net fe80::/10",
        ] {
            let mut ast = Ast::new();
            assert!(parse(e, &mut ast).is_ok(), "{e:?}");
        }
        assert_eq!(parse_num("0x10"), Some(16));
        assert_eq!(parse_num("010"), Some(8));
        assert_eq!(parse_mac("0:1:2:3:4:5"), Some([0, 1, 2, 3, 4, 5]));
        assert_eq!(parse_v6("::1").map(|a| a[15]), Some(1));
        assert_eq!(parse_v6("1::2::3"), None);
    }

    mod prop {
        use super::super::super::{check, compile, Program, Target};
        use crate::link::LinkType;
        use proptest::prelude::*;
        use std::format;
        use std::string::String;
        use std::vec;
        use std::vec::Vec;

        fn prim() -> impl Strategy<Value = String> {
            let num = prop_oneof![0u32..70_000, Just(u32::MAX), Just(0x1fff)];
            let quals = prop::sample::select(vec![
                "",
                "src ",
                "dst ",
                "src or dst ",
                "src and dst ",
                "tcp ",
                "udp ",
                "ip ",
                "ip6 ",
                "ether ",
                "arp ",
            ]);
            let word = prop::sample::select(vec![
                "host 10.0.0.1",
                "net 10.0.0.0/8",
                "host 2001:db8::1",
                "net fe80::/10",
                "tcp",
                "udp",
                "icmp",
                "icmp6",
                "ip",
                "ip6",
                "arp",
                "rarp",
                "sctp",
                "vlan",
                "pppoes",
                "broadcast",
                "multicast",
                "ether host 0:1:2:3:4:5",
                "mpls",
                "gateway",
                "host foo",
                "len",
                "tcp[tcpflags]",
                "icmp-echo",
                "tcp-syn",
                "ip[0]",
                "ip6[40:2]",
                "ether[12:2]",
                "(",
                ")",
                "[",
                "]",
                ":",
                "-",
                "!",
                "and",
                "or",
                "not",
                "&&",
                "||",
                "\\tcp",
                "proto",
                "mask 255.0.0.0",
            ]);
            let op = prop::sample::select(vec!["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"]);
            let rel = prop::sample::select(vec!["=", "==", "!=", "<", "<=", ">", ">="]);
            prop_oneof![
                (
                    quals.clone(),
                    prop::sample::select(vec![
                        "port",
                        "portrange",
                        "host",
                        "net",
                        "proto",
                        "vlan",
                        "pppoes",
                        "less",
                        "greater"
                    ]),
                    num.clone()
                )
                    .prop_map(|(q, k, n)| format!("{q}{k} {n}")),
                (quals, word.clone()).prop_map(|(q, w)| format!("{q}{w}")),
                (
                    prop::sample::select(vec![
                        "ip", "tcp", "udp", "icmp", "ether", "ip6", "link", "arp"
                    ]),
                    num.clone(),
                    prop::sample::select(vec!["", ":1", ":2", ":4", ":3"]),
                    op,
                    num.clone(),
                    rel,
                    num
                )
                    .prop_map(|(p, i, sz, o, m, r, v)| format!("{p}[{i}{sz}] {o} {m} {r} {v}")),
                word.prop_map(String::from),
            ]
        }

        fn expr() -> impl Strategy<Value = String> {
            prim().prop_recursive(4, 24, 3, |inner| {
                prop_oneof![
                    (
                        inner.clone(),
                        prop::sample::select(vec!["and", "or", "&&", "||", ""]),
                        inner.clone()
                    )
                        .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
                    inner.clone().prop_map(|a| format!("not {a}")),
                    inner.clone().prop_map(|a| format!("({a})")),
                    inner.prop_map(|a| format!("! ({a}")),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            /// Random expressions never panic the compiler; whatever it accepts passes the
            /// kernel-style checker, for every target.
            #[test]
            fn compiles_or_errs_never_panics(e in expr(), bytes in prop::collection::vec(any::<u8>(), 0..40)) {
                let mut p = Program::new();
                for t in [Target::Link(LinkType::Ethernet), Target::Link(LinkType::Sll2),
                          Target::Link(LinkType::Raw), Target::LinuxSocket] {
                    if compile(&e, t, 65535, &mut p).is_ok() {
                        prop_assert!(check(p.insns()).is_ok(), "{:?}", e);
                    } else {
                        prop_assert!(p.insns().is_empty());
                    }
                }
                // Arbitrary text too.
                let junk: Vec<char> = bytes.iter().map(|&b| char::from(b % 96 + 32)).collect();
                let junk: String = junk.into_iter().collect();
                if compile(&junk, Target::LinuxSocket, 65535, &mut p).is_ok() {
                    prop_assert!(check(p.insns()).is_ok(), "{:?}", junk);
                }
            }
        }
    }
}
