//! Small writers for hand-built pcap and pcapng files, in either byte order.

use std::vec::Vec;

/// Appends integers in one byte order.
#[derive(Clone, Copy)]
pub struct W {
    pub big: bool,
}

impl W {
    pub fn u16(self, out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    pub fn u32(self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    pub fn i64(self, out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
}

pub const MAGIC_US: u32 = 0xa1b2_c3d4;
pub const MAGIC_NS: u32 = 0xa1b2_3c4d;
pub const MAGIC_MOD: u32 = 0xa1b2_cd34;

/// A pcap file being written.
pub struct Pcap {
    pub w: W,
    pub modified: bool,
    pub out: Vec<u8>,
}

impl Pcap {
    pub fn new(big: bool, magic: u32, linktype: u32, snaplen: u32) -> Pcap {
        let w = W { big };
        let mut out = Vec::new();
        w.u32(&mut out, magic);
        w.u16(&mut out, 2);
        w.u16(&mut out, 4);
        w.u32(&mut out, 0);
        w.u32(&mut out, 0);
        w.u32(&mut out, snaplen);
        w.u32(&mut out, linktype);
        Pcap {
            w,
            modified: magic == MAGIC_MOD,
            out,
        }
    }

    /// A record whose header says `caplen`, `orig`, followed by `data` (which may disagree).
    pub fn raw_record(
        &mut self,
        secs: u32,
        frac: u32,
        caplen: u32,
        orig: u32,
        data: &[u8],
    ) -> &mut Self {
        let w = self.w;
        w.u32(&mut self.out, secs);
        w.u32(&mut self.out, frac);
        w.u32(&mut self.out, caplen);
        w.u32(&mut self.out, orig);
        if self.modified {
            w.u32(&mut self.out, 7); // ifindex
            w.u16(&mut self.out, 0x0800); // protocol
            self.out.push(0); // pkt_type
            self.out.push(0); // pad
        }
        self.out.extend_from_slice(data);
        self
    }

    pub fn record(&mut self, secs: u32, frac: u32, orig: u32, data: &[u8]) -> &mut Self {
        self.raw_record(secs, frac, data.len() as u32, orig, data)
    }
}

/// Options as (code, value); the writer adds padding and `opt_endofopt`.
pub type Opts<'a> = &'a [(u16, &'a [u8])];

/// A pcapng file being written.
pub struct Ng {
    pub w: W,
    pub out: Vec<u8>,
}

pub const SHB: u32 = 0x0A0D_0D0A;
pub const IDB: u32 = 1;
pub const PB: u32 = 2;
pub const SPB: u32 = 3;
pub const EPB: u32 = 6;

fn pad(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

impl Ng {
    /// A file starting with a section header in the given byte order.
    pub fn new(big: bool) -> Ng {
        let mut ng = Ng {
            w: W { big },
            out: Vec::new(),
        };
        ng.shb(big, &[]);
        ng
    }

    pub fn options(&self, opts: Opts<'_>) -> Vec<u8> {
        let mut o = Vec::new();
        if opts.is_empty() {
            return o;
        }
        for &(code, value) in opts {
            self.w.u16(&mut o, code);
            self.w.u16(&mut o, value.len() as u16);
            o.extend_from_slice(value);
            pad(&mut o);
        }
        self.w.u32(&mut o, 0);
        o
    }

    /// Any block: type, total length, body (padded), total length.
    pub fn block(&mut self, ty: u32, body: &[u8]) -> &mut Self {
        let len = (12 + body.len()).div_ceil(4) * 4;
        let w = self.w;
        w.u32(&mut self.out, ty);
        w.u32(&mut self.out, len as u32);
        self.out.extend_from_slice(body);
        pad(&mut self.out);
        w.u32(&mut self.out, len as u32);
        self
    }

    /// A new section, possibly switching the byte order.
    pub fn shb(&mut self, big: bool, opts: Opts<'_>) -> &mut Self {
        self.w = W { big };
        let mut body = Vec::new();
        self.w.u32(&mut body, 0x1A2B_3C4D);
        self.w.u16(&mut body, 1);
        self.w.u16(&mut body, 0);
        self.w.i64(&mut body, -1);
        body.extend(self.options(opts));
        self.block(SHB, &body)
    }

    pub fn idb(&mut self, linktype: u16, snaplen: u32, opts: Opts<'_>) -> &mut Self {
        let mut body = Vec::new();
        self.w.u16(&mut body, linktype);
        self.w.u16(&mut body, 0);
        self.w.u32(&mut body, snaplen);
        body.extend(self.options(opts));
        self.block(IDB, &body)
    }

    pub fn epb_opts(
        &mut self,
        iface: u32,
        ticks: u64,
        orig: u32,
        data: &[u8],
        opts: Opts<'_>,
    ) -> &mut Self {
        let mut body = Vec::new();
        self.w.u32(&mut body, iface);
        self.w.u32(&mut body, (ticks >> 32) as u32);
        self.w.u32(&mut body, ticks as u32);
        self.w.u32(&mut body, data.len() as u32);
        self.w.u32(&mut body, orig);
        body.extend_from_slice(data);
        pad(&mut body);
        body.extend(self.options(opts));
        self.block(EPB, &body)
    }

    pub fn epb(&mut self, iface: u32, ticks: u64, orig: u32, data: &[u8]) -> &mut Self {
        self.epb_opts(iface, ticks, orig, data, &[])
    }

    pub fn pb(&mut self, iface: u16, ticks: u64, orig: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        self.w.u16(&mut body, iface);
        self.w.u16(&mut body, 0);
        self.w.u32(&mut body, (ticks >> 32) as u32);
        self.w.u32(&mut body, ticks as u32);
        self.w.u32(&mut body, data.len() as u32);
        self.w.u32(&mut body, orig);
        body.extend_from_slice(data);
        self.block(PB, &body)
    }

    pub fn spb(&mut self, orig: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        self.w.u32(&mut body, orig);
        body.extend_from_slice(data);
        self.block(SPB, &body)
    }

    /// Appends raw bytes (for damage).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// The offset the next block will start at.
    pub fn here(&self) -> u64 {
        self.out.len() as u64
    }
}

/// A frame body of `n` bytes that says where it came from.
pub fn frame(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
