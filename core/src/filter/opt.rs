//! The optimiser: runs on the generated program once labels are resolved to absolute
//! instruction indices, then compacts it into relative-offset classic BPF.
//!
//! Why it matters beyond size: libpcap's optimiser decides *which loads a packet reaches*, and
//! on a truncated packet an out-of-bounds load rejects. To accept exactly what libpcap accepts
//! on cut-short records we have to drop the same loads it drops — a test whose outcome is
//! already implied by earlier tests, or whose two outcomes lead to the same place — and to
//! refuse the same expressions ("expression rejects all packets": no path reaches an accept).
//!
//! The analysis, repeated until nothing changes:
//! * **facts** come from dominating edges: the program is a forward DAG, so every instruction
//!   gets the nearest *position* (`q` + which way `q` went) that every path to it passes; the
//!   facts at an instruction are the outcomes of the conditional jumps on that dominator chain.
//!   A fact is about a *value*, named by the pure load that produced it (`ld [12]`, `len`, an
//!   immediate): the packet never changes, so `ldh [12]` means the same anywhere.
//! * **jump resolution**: a jump whose outcome the facts decide goes one way.
//! * **threading**: an edge into `load; jump` (or straight into a jump on the same value)
//!   whose outcome the edge's facts decide is retargeted past it, when the accumulator is
//!   dead at the new target.
//! * **redundant loads** (A already holds that value on every incoming path) and **dead
//!   stores** (A or X written and never read) become no-ops.
//!
//! While optimising, an instruction keeps its opcode in the low byte of `code` and its two
//! absolute targets (12 bits each) packed in the high byte of `code`, `jt` and `jf`.
//! All working storage is fixed arrays (about 25 KiB of stack).

use super::insn::*;

const N: usize = MAX_INSNS;
/// "No value" for the accumulator-source table.
const NONE: u16 = u16::MAX;
/// The position before the first instruction.
const ROOTQ: u16 = 0x3fff;
const ROOT: u16 = ROOTQ << 2;
/// Edge kinds in a position: 0 = either way (or a non-jump), 1 = taken, 2 = not taken.
const BOTH: u16 = 0;
const TAKEN: u16 = 1;
const NOT_TAKEN: u16 = 2;

/// An instruction with absolute targets, while optimising.
pub(crate) fn pack(code: u16, t: u16, f: u16, k: u32) -> Insn {
    let b = u32::from(t & 0xfff) | (u32::from(f & 0xfff) << 12);
    Insn {
        code: (code & 0xff) | (((b & 0xff) as u16) << 8),
        jt: (b >> 8) as u8,
        jf: (b >> 16) as u8,
        k,
    }
}

/// The two packed targets of an instruction.
pub(crate) fn targets(ins: &Insn) -> (u16, u16) {
    let b = u32::from(ins.code >> 8) | (u32::from(ins.jt) << 8) | (u32::from(ins.jf) << 16);
    ((b & 0xfff) as u16, ((b >> 12) & 0xfff) as u16)
}

fn op(ins: &Insn) -> u16 {
    ins.code & 0xff
}

/// Why optimisation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptError {
    /// No path reaches an accepting return.
    RejectsAll,
    /// A jump offset does not fit in 8 bits.
    TooFar,
}

struct Bits([u64; N / 64]);

impl Bits {
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    fn set(&mut self, i: usize, v: bool) {
        if let Some(w) = self.0.get_mut(i / 64) {
            if v {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }
    fn clear(&mut self) {
        self.0 = [0; N / 64];
    }
}

struct Opt<'a> {
    code: &'a mut [Insn],
    /// Nearest dominating position (`q << 2 | edge`).
    ent: &'a mut [u16; N],
    /// Depth of `ent` in the position tree; reused as "next kept" by compaction.
    depth: &'a mut [u16; N],
    /// The pure load whose value A holds on entry, or NONE; reused as new indices.
    asrc: &'a mut [u16; N],
    reach: Bits,
    live_a: Bits,
    live_x: Bits,
}

fn is_jmp(o: u16) -> bool {
    o & 0x07 == JMP
}
fn is_cond(o: u16) -> bool {
    is_jmp(o) && o & 0xf0 != JA
}
fn is_cond_k(o: u16) -> bool {
    is_cond(o) && o & X == 0
}
fn is_pure_load(o: u16) -> bool {
    o & 0x07 == LD && matches!(o & 0xe0, ABS | LEN | IMM)
}

/// What an earlier outcome (`fop fk` was `taken`) says about `jop k` on the same value.
fn implies(fop: u16, fk: u32, taken: bool, jop: u16, k: u32) -> Option<bool> {
    if fop == jop && fk == k {
        return Some(taken);
    }
    // Interval facts.
    let range = match (fop, taken) {
        (JEQ, true) => Some((fk, fk)),
        (JGT, true) => Some((fk.checked_add(1)?, u32::MAX)),
        (JGT, false) => Some((0, fk)),
        (JGE, true) => Some((fk, u32::MAX)),
        (JGE, false) => Some((0, fk.checked_sub(1)?)),
        _ => None,
    };
    if let Some((lo, hi)) = range {
        return match jop {
            JEQ if k < lo || k > hi => Some(false),
            JEQ if lo == hi => Some(true),
            JGT if lo > k => Some(true),
            JGT if hi <= k => Some(false),
            JGE if lo >= k => Some(true),
            JGE if hi < k => Some(false),
            JSET if lo == hi => Some(lo & k != 0),
            _ => None,
        };
    }
    match (fop, taken, jop) {
        (JEQ, false, _) => None,
        // x & fk != 0
        (JSET, true, JSET) if fk & !k == 0 => Some(true),
        (JSET, true, JEQ) if k & fk == 0 => Some(false),
        // x & fk == 0
        (JSET, false, JSET) if k & !fk == 0 => Some(false),
        (JSET, false, JEQ) if k & fk != 0 => Some(false),
        _ => None,
    }
}

fn eval(jop: u16, v: u32, k: u32) -> Option<bool> {
    match jop {
        JEQ => Some(v == k),
        JGT => Some(v > k),
        JGE => Some(v >= k),
        JSET => Some(v & k != 0),
        _ => None,
    }
}

impl Opt<'_> {
    fn n(&self) -> usize {
        self.code.len()
    }
    fn op(&self, i: usize) -> u16 {
        self.code.get(i).map_or(RET, op)
    }
    fn k(&self, i: usize) -> u32 {
        self.code.get(i).map_or(0, |c| c.k)
    }
    fn same_value(&self, a: u16, b: u16) -> bool {
        a != NONE
            && b != NONE
            && self.op(a.into()) == self.op(b.into())
            && self.k(a.into()) == self.k(b.into())
    }
    /// Successors (taken, not taken); None for a return.
    fn succ(&self, i: usize) -> Option<(usize, usize)> {
        let o = self.op(i);
        if o & 0x07 == RET {
            None
        } else if is_jmp(o) {
            let (t, f) = targets(&self.code[i]);
            Some((t.into(), f.into()))
        } else {
            Some((i + 1, i + 1))
        }
    }
    /// Follows unconditional jumps.
    fn follow(&self, mut j: usize) -> usize {
        let mut guard = 0;
        while j < self.n() && self.op(j) == JMP | JA && guard < N {
            j = targets(&self.code[j]).0.into();
            guard += 1;
        }
        j
    }
    fn set_targets(&mut self, i: usize, t: usize, f: usize) {
        let c = self.code[i];
        let o = if t == f { JMP | JA } else { op(&c) };
        let k = if t == f { 0 } else { c.k };
        self.code[i] = pack(o, t as u16, f as u16, k);
    }
    fn nop(&mut self, i: usize) {
        self.code[i] = pack(JMP | JA, (i + 1) as u16, (i + 1) as u16, 0);
    }
    fn pos_depth(&self, p: u16) -> u16 {
        let q = p >> 2;
        if q == ROOTQ {
            0
        } else {
            self.depth[usize::from(q)].saturating_add(1)
        }
    }
    fn parent(&self, p: u16) -> u16 {
        let q = p >> 2;
        if q == ROOTQ {
            ROOT
        } else {
            self.ent[usize::from(q)]
        }
    }
    fn intersect(&self, mut a: u16, mut b: u16) -> u16 {
        loop {
            if a == b {
                return a;
            }
            if a >> 2 == b >> 2 {
                return a & !3; // same jump, different ways: "after it, either way"
            }
            let (da, db) = (self.pos_depth(a), self.pos_depth(b));
            if da >= db {
                a = self.parent(a);
            }
            if db >= da {
                b = self.parent(b);
            }
        }
    }
    fn merge(&mut self, s: usize, p: u16, a: u16) {
        if s >= self.n() {
            return;
        }
        if !self.reach.get(s) {
            self.reach.set(s, true);
            self.ent[s] = p;
            self.asrc[s] = a;
        } else {
            self.ent[s] = self.intersect(self.ent[s], p);
            if !self.same_value(self.asrc[s], a) {
                self.asrc[s] = NONE;
            }
        }
        self.depth[s] = self.pos_depth(self.ent[s]);
    }
    fn a_out(&self, i: usize) -> u16 {
        let o = self.op(i);
        let a = self.asrc[i];
        match o & 0x07 {
            LD if is_pure_load(o) => {
                if self.same_value(a, i as u16) {
                    a
                } else {
                    i as u16
                }
            }
            LD | ALU => NONE,
            MISC if o & TXA != 0 => NONE,
            _ => a,
        }
    }
    /// Reachability, dominating positions and accumulator sources.
    fn flow(&mut self) {
        self.reach.clear();
        if self.n() == 0 {
            return;
        }
        self.reach.set(0, true);
        self.ent[0] = ROOT;
        self.depth[0] = 0;
        self.asrc[0] = NONE;
        for i in 0..self.n() {
            if !self.reach.get(i) {
                continue;
            }
            let a = self.a_out(i);
            let q = (i as u16) << 2;
            match self.succ(i) {
                None => {}
                Some((t, f)) if t == f => self.merge(t, q | BOTH, a),
                Some((t, f)) => {
                    self.merge(t, q | TAKEN, a);
                    self.merge(f, q | NOT_TAKEN, a);
                }
            }
        }
    }
    /// Backward liveness of A and X.
    fn liveness(&mut self) {
        self.live_a.clear();
        self.live_x.clear();
        for i in (0..self.n()).rev() {
            let o = self.op(i);
            let (mut ra, mut wa, mut rx, mut wx) = (false, false, false, false);
            match o & 0x07 {
                LD => {
                    wa = true;
                    rx = o & 0xe0 == IND;
                }
                LDX => wx = true,
                ST => ra = true,
                STX => rx = true,
                ALU => {
                    ra = true;
                    wa = true;
                    rx = o & X != 0 && o & 0xf0 != NEG;
                }
                JMP => {
                    ra = is_cond(o);
                    rx = is_cond(o) && o & X != 0;
                }
                RET => ra = o & 0x18 == A,
                _ => {
                    if o & TXA != 0 {
                        rx = true;
                        wa = true;
                    } else {
                        ra = true;
                        wx = true;
                    }
                }
            }
            let (la, lx) = match self.succ(i) {
                None => (false, false),
                Some((t, f)) => (
                    self.live_a.get(t) || self.live_a.get(f),
                    self.live_x.get(t) || self.live_x.get(f),
                ),
            };
            self.live_a.set(i, ra || (!wa && la));
            self.live_x.set(i, rx || (!wx && lx));
        }
    }
    /// What the facts at position `p` say about `jop k` on the value of load `src`.
    fn known(&self, mut p: u16, src: u16, jop: u16, k: u32) -> Option<bool> {
        let so = self.op(src.into());
        if so & 0x07 == LD && so & 0xe0 == IMM {
            return eval(jop, self.k(src.into()), k);
        }
        let mut guard = 0;
        while p >> 2 != ROOTQ && guard <= N {
            let q = usize::from(p >> 2);
            let e = p & 3;
            let qo = self.op(q);
            if e != BOTH && is_cond_k(qo) && self.same_value(self.asrc[q], src) {
                if let Some(r) = implies(qo & 0xf0, self.k(q), e == TAKEN, jop, k) {
                    return Some(r);
                }
            }
            p = self.ent[q];
            guard += 1;
        }
        None
    }
    fn resolve_jumps(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.n() {
            let o = self.op(i);
            if !self.reach.get(i) || !is_cond_k(o) || self.asrc[i] == NONE {
                continue;
            }
            let Some((t, f)) = self.succ(i) else { continue };
            if t == f {
                continue;
            }
            if let Some(r) = self.known(self.ent[i], self.asrc[i], o & 0xf0, self.k(i)) {
                let to = if r { t } else { f };
                self.set_targets(i, to, to);
                changed = true;
            }
        }
        changed
    }
    /// Where edge `p` (A holding `a`) into `s` really leads: follows jumps the edge's facts
    /// decide, through loads of a value whose tests are decided too, and stops at the last
    /// point where the accumulator is right (A holds `a` there again, or is dead).
    fn thread_edge(&self, p: u16, a: u16, start: usize) -> usize {
        let mut s = start;
        let mut best = start;
        // The value A would hold here on the original path.
        let mut va = a;
        for _ in 0..128 {
            s = self.follow(s);
            if va == a || self.same_value(va, a) || !self.live_a.get(s) {
                best = s;
            }
            let o = self.op(s);
            if is_cond_k(o) {
                if va == NONE {
                    break;
                }
                let Some((t, f)) = self.succ(s) else { break };
                match self.known(p, va, o & 0xf0, self.k(s)) {
                    Some(r) => s = if r { t } else { f },
                    None => break,
                }
            } else if is_pure_load(o) {
                if !self.same_value(va, s as u16) {
                    va = s as u16;
                }
                s += 1;
            } else {
                break;
            }
        }
        best
    }
    fn thread(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.n() {
            if !self.reach.get(i) || !is_jmp(self.op(i)) {
                continue;
            }
            let Some((t, f)) = self.succ(i) else { continue };
            let q = (i as u16) << 2;
            let a = self.asrc[i];
            let (nt, nf) = if t == f {
                let x = self.thread_edge(q | BOTH, a, t);
                (x, x)
            } else {
                (
                    self.thread_edge(q | TAKEN, a, t),
                    self.thread_edge(q | NOT_TAKEN, a, f),
                )
            };
            if (nt, nf) != (t, f) {
                self.set_targets(i, nt, nf);
                changed = true;
            }
        }
        changed
    }
    fn redundant_loads(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.n() {
            if self.reach.get(i)
                && is_pure_load(self.op(i))
                && self.same_value(self.asrc[i], i as u16)
            {
                self.nop(i);
                changed = true;
            }
        }
        changed
    }
    fn dead_stores(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.n() {
            if !self.reach.get(i) {
                continue;
            }
            let o = self.op(i);
            let Some((t, _)) = self.succ(i) else { continue };
            let writes_a_only = match o & 0x07 {
                LD => true,
                // Division by X may reject (X = 0): keep it.
                ALU => !(o & X != 0 && matches!(o & 0xf0, DIV | MOD)),
                MISC => o & TXA != 0,
                _ => false,
            };
            let writes_x_only = o & 0x07 == LDX || (o & 0x07 == MISC && o & TXA == 0);
            if (writes_a_only && !self.live_a.get(t)) || (writes_x_only && !self.live_x.get(t)) {
                self.nop(i);
                changed = true;
            }
        }
        changed
    }
    fn accepts(&self) -> bool {
        (0..self.n()).any(|i| {
            self.reach.get(i)
                && self.op(i) & 0x07 == RET
                && (self.op(i) & 0x18 == A || self.k(i) != 0)
        })
    }
    /// Drops unreachable code and no-ops, and writes relative offsets.
    fn compact(&mut self) -> Result<usize, OptError> {
        let n = self.n();
        // depth := next kept index at or after i; asrc := new index.
        let mut next = n;
        for i in (0..n).rev() {
            let o = self.op(i);
            let keep = self.reach.get(i)
                && (o != JMP | JA || {
                    let t = self.follow(i);
                    next != t
                });
            if keep {
                next = i;
            }
            self.depth[i] = next as u16;
        }
        let mut c = 0u16;
        for i in 0..n {
            self.asrc[i] = c;
            if usize::from(self.depth[i]) == i {
                c += 1;
            }
        }
        let newidx = |s: &Self, j: usize| -> usize {
            let kj = s.depth.get(j).map_or(n, |&d| usize::from(d));
            s.asrc.get(kj).map_or(usize::from(c), |&x| usize::from(x))
        };
        for i in 0..n {
            if usize::from(self.depth[i]) != i {
                continue;
            }
            let me = usize::from(self.asrc[i]);
            let ins = self.code[i];
            let o = op(&ins);
            let out = if is_jmp(o) {
                let (t, f) = targets(&ins);
                let a = newidx(self, self.follow(t.into()));
                let b = newidx(self, self.follow(f.into()));
                let oa = a.checked_sub(me + 1).ok_or(OptError::TooFar)?;
                let ob = b.checked_sub(me + 1).ok_or(OptError::TooFar)?;
                if o == JMP | JA {
                    Insn::stmt(o, oa as u32)
                } else {
                    let jt = u8::try_from(oa).map_err(|_| OptError::TooFar)?;
                    let jf = u8::try_from(ob).map_err(|_| OptError::TooFar)?;
                    Insn::jump(o, ins.k, jt, jf)
                }
            } else {
                Insn::stmt(o, ins.k)
            };
            self.code[me] = out;
        }
        Ok(usize::from(c))
    }
}

/// Optimises `code` (absolute packed targets, all forward) in place and rewrites it as
/// classic BPF. `RejectsAll` when no path reaches an accepting return.
pub(crate) fn optimize(code: &mut heapless::Vec<Insn, MAX_INSNS>) -> Result<(), OptError> {
    // Separate locals borrowed by `Opt`: no moves of the arrays (debug builds copy them).
    let (mut ent, mut depth, mut asrc) = ([0u16; N], [0u16; N], [NONE; N]);
    let mut o = Opt {
        code: code.as_mut_slice(),
        ent: &mut ent,
        depth: &mut depth,
        asrc: &mut asrc,
        reach: Bits([0; N / 64]),
        live_a: Bits([0; N / 64]),
        live_x: Bits([0; N / 64]),
    };
    for _ in 0..32 {
        o.flow();
        o.liveness();
        let mut changed = o.resolve_jumps();
        changed |= o.thread();
        o.flow();
        changed |= o.redundant_loads();
        o.flow();
        o.liveness();
        changed |= o.dead_stores();
        if !changed {
            break;
        }
    }
    o.flow();
    if !o.accepts() {
        return Err(OptError::RejectsAll);
    }
    let len = o.compact()?;
    code.truncate(len);
    Ok(())
}
