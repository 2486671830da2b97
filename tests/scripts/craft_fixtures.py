#!/usr/bin/env python3
"""Writes the crafted fixtures of tests/fixtures/ (frames built with `struct`, no scapy).

Usage: craft_fixtures.py OUTDIR

Real traffic between two namespaces (record-fixtures.sh) cannot produce VLAN tags, PPPoE,
every IPv6 extension header, tunnels or malformed frames on demand, so those frames are
built here byte by byte and written as pcap / pcapng. The byte-order variants (big-endian
pcap and pcapng) are written here too, from the recorded eth-snap96.pcap when it exists,
because editcap always writes the host's byte order.

The oracle test does not trust this script: expected flows come from tshark's dissection
of each file, so a frame built wrong here shows up as a disagreement, not a false pass.
"""

import os
import struct
import sys

BASE_TS = 1_700_000_000  # seconds; every crafted frame is 1 ms after the previous one


# --- checksums and headers -------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def v4(a):
    return bytes(int(x) for x in a.split("."))


def v6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def ipv4(src, dst, proto, payload, ident=1, mf=0, off=0, ihl=5, options=b"",
         total_len=None, ttl=64, df=0, version=4):
    hl = 20 + len(options)
    tl = hl + len(payload) if total_len is None else total_len
    flags_off = (df << 14) | (mf << 13) | (off // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tl, ident, flags_off, ttl,
                      proto, 0, v4(src), v4(dst)) + options
    c = csum(hdr)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nxt, payload, hlim=64, plen=None):
    pl = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, pl, nxt, hlim, v6(src), v6(dst)) + payload


def ext(nxt, body=b""):
    """A hop-by-hop / destination-options style header: nxt, hdr-ext-len, options padded
    to a multiple of 8 bytes with PadN."""
    raw = bytes([nxt, 0]) + body
    pad = (-len(raw)) % 8
    if pad == 1:
        raw += b"\x00"  # Pad1
    elif pad:
        raw += bytes([1, pad - 2]) + b"\0" * (pad - 2)
    return bytes([nxt, len(raw) // 8 - 1]) + raw[2:]


def routing(nxt, rtype=2, segs_left=0, addrs=(("2001:db8::99"),)):
    body = b"".join(v6(a) for a in addrs)
    return struct.pack("!BBBBI", nxt, len(body) // 8, rtype, segs_left, 0) + body


def frag6(nxt, ident, off=0, m=1):
    return struct.pack("!BBHI", nxt, 0, (off // 8) << 3 | m, ident)


def ah(nxt, spi=0x1000, seq=1):
    icv = b"\xaa" * 12
    length = (12 + len(icv)) // 4 - 2
    return struct.pack("!BBHII", nxt, length, 0, spi, seq) + icv


def udp(sport, dport, payload=b"", length=None):
    ln = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, ln, 0) + payload


def tcp(sport, dport, flags=0x18, payload=b"", doff=5, seq=1000, ack=1):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) \
        + b"\0" * max(0, (doff - 5) * 4) + payload


def icmp(ty, code, payload=b""):
    hdr = struct.pack("!BBHI", ty, code, 0, 0x00010001) + payload
    return hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]


def icmp6(ty, code, payload=b""):
    return struct.pack("!BBHI", ty, code, 0, 0x00010001) + payload


MAC_A = b"\x02\x00\x00\x00\x00\x0a"
MAC_B = b"\x02\x00\x00\x00\x00\x0b"


def eth(ethertype, payload, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def tag(tpid, vid, pcp=0):
    """A VLAN tag: TPID then TCI; the EtherType that follows comes from the caller."""
    return struct.pack("!HH", tpid, (pcp << 13) | vid)


def eth_tagged(tags, ethertype, payload):
    """Ethernet with tags [(tpid, vid, pcp)], outermost first."""
    body = b""
    for tpid, vid, pcp in tags:
        body += tag(tpid, vid, pcp)
    # tag() starts with its TPID, so the first TPID is the frame's EtherType: splice.
    return MAC_B + MAC_A + body + struct.pack("!H", ethertype) + payload


def pppoe_session(ppp_proto, payload, sid=0x1234):
    ppp = struct.pack("!H", ppp_proto) + payload
    return struct.pack("!BBHH", 0x11, 0x00, sid, len(ppp)) + ppp


def pppoe_padi():
    tags = struct.pack("!HH", 0x0101, 0)  # Service-Name, empty
    return struct.pack("!BBHH", 0x11, 0x09, 0, len(tags)) + tags


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, v4(spa), tha, v4(tpa))


PAD_MIN = 60


def padded(frame):
    """Ethernet minimum frame size, as a NIC would pad it (the FCS is not captured)."""
    return frame + b"\0" * max(0, PAD_MIN - len(frame))


# --- file writers ------------------------------------------------------------------------

def norm(frames):
    """[(data, orig_len)]; a bare bytes value is a whole frame."""
    out = []
    for f in frames:
        if isinstance(f, tuple):
            out.append(f)
        else:
            out.append((f, len(f)))
    return out


def write_pcap(path, linktype, frames, snaplen=65535, big_endian=False, nanos=False,
               start=BASE_TS):
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    with open(path, "wb") as fh:
        fh.write(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for i, (data, orig) in enumerate(norm(frames)):
            sec, frac = start + i // 1000, (i % 1000) * (1_000_000 if nanos else 1000)
            fh.write(struct.pack(e + "IIII", sec, frac, len(data), orig) + data)


def read_pcap(path):
    """Returns (linktype, snaplen, nanos, [(sec, frac, data, orig_len)])."""
    with open(path, "rb") as fh:
        raw = fh.read()
    magic = struct.unpack("<I", raw[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    else:
        e = ">"
        magic = struct.unpack(">I", raw[:4])[0]
    nanos = magic == 0xA1B23C4D
    _, _, _, _, _, snaplen, linktype = struct.unpack(e + "IHHiIII", raw[:24])
    recs, off = [], 24
    while off + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        recs.append((sec, frac, raw[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return linktype, snaplen, nanos, recs


def pad4(b):
    return b + b"\0" * ((-len(b)) % 4)


def block(e, btype, body):
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", total)


def opt(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def shb(e, options=b""):
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options
    return block(e, 0x0A0D0D0A, body)


def idb(e, linktype, snaplen=65535, tsresol=None, name=None):
    opts = b""
    if name is not None:
        opts += opt(e, 2, name.encode())
    if tsresol is not None:
        opts += opt(e, 9, bytes([tsresol]))
    if opts:
        opts += struct.pack(e + "HH", 0, 0)
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)


def epb(e, ifid, ts_units, data, orig):
    body = struct.pack(e + "IIIII", ifid, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data), orig)
    return block(e, 6, body + pad4(data))


def spb(e, data, orig):
    return block(e, 3, struct.pack(e + "I", orig) + pad4(data))


def legacy_pb(e, ifid, ts_units, data, orig):
    body = struct.pack(e + "HHIIII", ifid, 0, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data),
                       orig)
    return block(e, 2, body + pad4(data))


def isb(e, ifid, ts_units):
    return block(e, 5, struct.pack(e + "III", ifid, ts_units >> 32, ts_units & 0xFFFFFFFF))


def unknown_block(e):
    """A block of a local-use type no reader knows: skipped."""
    return block(e, 0x80000123, b"not a packet, skip me!!!")


def custom_block(e):
    """A pcapng Custom Block (type 0xBAD, PEN 32473 = the documentation PEN): not a packet.
    tshark lists it as a record without an encapsulation; the oracle leaves those out."""
    return block(e, 0x00000BAD, struct.pack(e + "I", 32473) + b"custom data!")


# --- the crafted sets --------------------------------------------------------------------

def vlan_frames():
    u4 = ipv4("192.0.2.1", "192.0.2.2", 17, udp(1000, 2000, b"vlan-test"))
    t6 = ipv6("2001:db8::1", "2001:db8::2", 6, tcp(443, 50000, payload=b"x" * 40))
    ping = ipv4("192.0.2.1", "192.0.2.3", 1, icmp(8, 0, b"qinq"))
    q = 0x8100
    ad = 0x88A8
    f = []
    f += [padded(eth(0x0800, u4))] * 2                                   # untagged
    f += [padded(eth_tagged([(q, 100, 0)], 0x0800, u4))] * 3              # 802.1Q vid 100
    f += [eth_tagged([(q, 200, 3)], 0x86DD, t6)] * 2                      # vid 200, IPv6
    f += [padded(eth_tagged([(ad, 300, 0), (q, 10, 0)], 0x0800, ping))] * 2  # QinQ 88a8/8100
    f += [padded(eth_tagged([(q, 400, 0), (q, 20, 0)], 0x0800, u4))]      # double 802.1Q
    f += [padded(eth_tagged([(q, 0, 5)], 0x0800, u4))] * 2                # priority tag
    f += [padded(eth_tagged([(q, 100, 0)], 0x0806,
                            arp(1, MAC_A, "192.0.2.1", b"\0" * 6, "192.0.2.2")))]  # tagged ARP
    f += [padded(eth_tagged([(q, 4094, 0)], 0x0800,
                            ipv4("192.0.2.9", "192.0.2.2", 17, udp(53, 53, b"q"))))]
    return f


def pppoe_frames():
    t4 = ipv4("100.64.0.1", "198.51.100.7", 6, tcp(40000, 80, payload=b"GET / HTTP/1.1\r\n\r\n"))
    u6 = ipv6("2001:db8:100::1", "2001:db8:200::53", 17, udp(40001, 53, b"dns?"))
    p4 = ipv4("100.64.0.1", "198.51.100.8", 1, icmp(8, 0, b"ping"))
    lcp = b"\x09\x01\x00\x08\x00\x00\x00\x00"  # LCP echo-request
    f = []
    f += [padded(eth(0x8863, pppoe_padi(), dst=b"\xff" * 6))]
    f += [padded(eth(0x8864, pppoe_session(0x0021, t4)))] * 3
    f += [padded(eth(0x8864, pppoe_session(0x0057, u6)))] * 2
    f += [padded(eth(0x8864, pppoe_session(0xC021, lcp)))]
    f += [padded(eth_tagged([(0x8100, 7, 0)], 0x8864, pppoe_session(0x0021, p4)))] * 2
    return f


def ipv6ext_frames():
    s, d = "2001:db8::10", "2001:db8::20"
    f = []
    f.append(eth(0x86DD, ipv6(s, d, 0, ext(17) + udp(5000, 6000, b"hbh"))))
    f.append(eth(0x86DD, ipv6(s, d, 43, routing(6) + tcp(5001, 80, payload=b"rt"))))
    f.append(eth(0x86DD, ipv6(s, d, 60, ext(58) + icmp6(128, 0, b"dst"))))
    f.append(eth(0x86DD, ipv6(s, d, 51, ah(6) + tcp(5002, 443, payload=b"ah"))))
    chain = ext(60) + ext(43) + routing(51) + ah(17) + udp(5003, 7000, b"chain")
    f.append(eth(0x86DD, ipv6(s, d, 0, chain)))                          # HBH DST RT AH UDP
    # A fragmented UDP datagram: first fragment (with the UDP header), then a later one.
    body = udp(5004, 8000, b"F" * 64, length=8 + 64 + 48)
    f.append(eth(0x86DD, ipv6(s, d, 0, ext(44) + frag6(17, 0x1234, 0, 1) + body)))
    f.append(eth(0x86DD, ipv6(s, d, 44, frag6(17, 0x1234, 72, 0) + b"F" * 48)))
    # A later fragment whose first fragment never came: ports 0.
    f.append(eth(0x86DD, ipv6(s, d, 44, frag6(17, 0x9999, 1448, 0) + b"L" * 40)))
    # An ICMPv6 echo in a first fragment, then its tail: both on the type-128 flow.
    f.append(eth(0x86DD, ipv6(d, s, 44, frag6(58, 0x4242, 0, 1) + icmp6(128, 0, b"E" * 56))))
    f.append(eth(0x86DD, ipv6(d, s, 44, frag6(58, 0x4242, 64, 0) + b"E" * 32)))
    f.append(eth(0x86DD, ipv6(s, d, 50, struct.pack("!II", 0x2000, 1) + b"\x55" * 40)))  # ESP
    f.append(eth(0x86DD, ipv6(s, d, 0, ext(59))))                        # no next header
    f.append(eth(0x86DD, ipv6(s, d, 60, ext(59) + b"trailing")))
    # MLDv2 report as Linux sends it: hop-by-hop with router alert, then ICMPv6 143.
    ra = bytes([5, 2, 0, 0])
    f.append(eth(0x86DD, ipv6("fe80::1", "ff02::16", 0, ext(58, ra) + icmp6(143, 0, b"\0" * 4)),
                 dst=b"\x33\x33\x00\x00\x00\x16"))
    return f


def tunnel_frames():
    inner4 = ipv4("10.1.1.1", "10.1.1.2", 17, udp(1111, 2222, b"inner"))
    inner6 = ipv6("2001:db8:1::1", "2001:db8:1::2", 17, udp(3333, 4444, b"inner6"))
    gre = struct.pack("!HH", 0, 0x0800) + inner4
    f = []
    f += [padded(eth(0x0800, ipv4("203.0.113.1", "203.0.113.2", 47, gre)))] * 3   # GRE
    f += [padded(eth(0x0800, ipv4("203.0.113.1", "203.0.113.3", 4, inner4)))] * 2  # IPIP
    f += [eth(0x0800, ipv4("203.0.113.1", "203.0.113.4", 41, inner6))] * 2         # 6in4
    f += [eth(0x86DD, ipv6("2001:db8::a", "2001:db8::b", 4,                          # DS-Lite
                           ipv4("10.2.2.2", "10.3.3.3", 6, tcp(1234, 80))))] * 2
    f += [eth(0x86DD, ipv6("2001:db8::a", "2001:db8::c", 41, inner6))]               # 6in6
    # ICMP errors quote the offending packet: only the outer header counts.
    quoted = ipv4("10.0.0.1", "10.0.0.2", 17, udp(5555, 9998, b"closed"))
    f.append(padded(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, quoted)))))
    quoted6 = ipv6("2001:db8::1", "2001:db8::2", 17, udp(5555, 9998, b"closed"))
    f.append(eth(0x86DD, ipv6("2001:db8::2", "2001:db8::1", 58, icmp6(1, 4, quoted6))))
    f.append(padded(eth(0x0800, ipv4("10.0.0.9", "10.0.0.1", 1, icmp(11, 0, quoted)))))
    # IPv4 fragments: a later fragment before its first (ports 0), the first, then later
    # ones (on the first's flow), and a lone tail of a datagram never seen.
    dg = udp(6000, 7000, b"D" * 100, length=8 + 100 + 80)
    f.append(padded(eth(0x0800, ipv4("10.5.0.1", "10.5.0.2", 17, b"E" * 40, ident=77, off=144))))
    f.append(eth(0x0800, ipv4("10.5.0.1", "10.5.0.2", 17, dg[:104], ident=77, mf=1)))
    f.append(padded(eth(0x0800, ipv4("10.5.0.1", "10.5.0.2", 17, dg[104:], ident=77, off=104,
                                     mf=1))))
    f.append(padded(eth(0x0800, ipv4("10.5.0.1", "10.5.0.2", 17, b"Z" * 24, ident=999,
                                     off=1480))))
    # Same id, other protocol: a different datagram (the key includes the protocol).
    f.append(padded(eth(0x0800, ipv4("10.5.0.1", "10.5.0.2", 6, b"T" * 24, ident=77, off=104))))
    # Options: router alert, IHL 6.
    f.append(padded(eth(0x0800, ipv4("10.6.0.1", "224.0.0.22", 2, b"\x22" + b"\0" * 15, ihl=6,
                                     options=b"\x94\x04\x00\x00", ttl=1))))
    f.append(padded(eth(0x0800, ipv4("10.6.0.1", "10.6.0.2", 17, udp(1, 2, b"opt"), ihl=8,
                                     options=b"\x01" * 11 + b"\x00"))))
    # ICMP of the other family (ICMPv4 in IPv6, ICMPv6 in IPv4): tshark dissects the type,
    # SPEC §3/§6 give type/code to ICMPv4 over IPv4 and ICMPv6 over IPv6 only.
    f.append(eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 1, icmp(8, 0, b"x"))))
    f.append(padded(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 58, icmp6(128, 0, b"y")))))
    # ARP request and reply, and an LLDP frame: not IP.
    f.append(padded(eth(0x0806, arp(1, MAC_A, "10.0.0.1", b"\0" * 6, "10.0.0.2"),
                        dst=b"\xff" * 6)))
    f.append(padded(eth(0x0806, arp(2, MAC_B, "10.0.0.2", MAC_A, "10.0.0.1"), dst=MAC_A,
                        src=MAC_B)))
    lldp = struct.pack("!H", (1 << 9) | 7) + b"\x04" + MAC_A + struct.pack("!H", 0)
    f.append(padded(eth(0x88CC, lldp, dst=b"\x01\x80\xc2\x00\x00\x0e")))
    return f


def malformed_frames():
    good_udp = ipv4("10.9.0.1", "10.9.0.2", 17, udp(1, 2, b"ok"))
    f = []
    f.append(padded(eth(0x0800, good_udp)))                               # a good one
    f.append(padded(eth(0x0800, ipv4("10.9.0.1", "10.9.0.2", 17, udp(1, 2), ihl=4))))  # IHL 4
    f.append(padded(eth(0x0800, ipv4("10.9.0.1", "10.9.0.2", 17, udp(1, 2), ihl=0))))  # IHL 0
    f.append(eth(0x0800, good_udp[:10]))                                  # IP header cut
    f.append(eth(0x0800, ipv6("2001:db8::1", "2001:db8::2", 17, udp(1, 2))))  # v6 behind 0x0800
    f.append(eth(0x86DD, good_udp))                                       # v4 behind 0x86dd
    f.append(eth(0x0800, ipv4("10.9.0.1", "10.9.0.2", 6, b"\x00\x50")))   # TCP: 2 bytes
    f.append(eth(0x0800, ipv4("10.9.0.1", "10.9.0.2", 17, b"\x00\x35\x00")))  # UDP: 3 bytes
    f.append(eth(0x0800, ipv4("10.9.0.1", "10.9.0.2", 1, b"\x08")))       # ICMP: 1 byte
    f.append(eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 17, b"")[:30]))  # IPv6 cut
    # Extension header whose length runs past the frame.
    f.append(eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 0, bytes([17, 4]) + b"\x01\x02")))
    f.append(eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 58, b"\x80")))  # ICMPv6: 1 byte
    # Snap-length cut inside the TCP ports (captured 36 of 1514 bytes).
    full = eth(0x0800, ipv4("10.9.0.3", "10.9.0.4", 6, tcp(80, 5000, payload=b"P" * 1460)))
    f.append((full[:36], len(full)))
    f.append(b"\x02\x00\x00\x00\x00\x0b\x02\x00")                         # short Ethernet
    # Lengths that merely disagree: counted, with their ports.
    f.append(padded(eth(0x0800, ipv4("10.9.0.5", "10.9.0.6", 17, udp(7, 8, b"x"),
                                     total_len=1000))))                   # IP length > frame
    f.append(padded(eth(0x0800, ipv4("10.9.0.5", "10.9.0.6", 17, udp(7, 9, b"x", length=0)))))
    f.append(padded(eth(0x0800, ipv4("10.9.0.5", "10.9.0.6", 17, udp(7, 10, b"x", length=900)))))
    f.append(padded(eth(0x0800, ipv4("10.9.0.5", "10.9.0.6", 6, tcp(7, 11, doff=2)))))
    f.append(padded(eth(0x0800, ipv4("10.9.0.5", "10.9.0.6", 6, tcp(7, 12, doff=15)))))
    f.append(eth(0x86DD, ipv6("2001:db8::5", "2001:db8::6", 17, udp(7, 13, b"x"), plen=900)))
    return f


def raw_ip_frames():
    return [
        ipv4("192.0.2.50", "192.0.2.51", 17, udp(4000, 4001, b"raw4")),
        ipv4("192.0.2.50", "192.0.2.51", 17, udp(4000, 4001, b"raw4-again")),
        ipv6("2001:db8::50", "2001:db8::51", 6, tcp(4002, 22, payload=b"raw6")),
        ipv4("192.0.2.51", "192.0.2.50", 1, icmp(0, 0, b"pong")),
    ]


def null_frames(big_endian):
    e = ">" if big_endian else "<"
    f = []
    for fam, pkt in ((2, raw_ip_frames()[0]), (2, raw_ip_frames()[3]),
                     (24, raw_ip_frames()[2]), (28, raw_ip_frames()[2]),
                     (30, raw_ip_frames()[2])):
        f.append(struct.pack(e + "I", fam) + pkt)
    f.append(struct.pack(e + "I", 7) + b"\x00" * 20)  # an unknown family: not IP
    return f


def be_variants(out):
    src = os.path.join(out, "eth-snap96.pcap")
    if not os.path.exists(src):
        print("craft_fixtures: %s missing, big-endian variants not written" % src,
              file=sys.stderr)
        return
    linktype, snaplen, nanos, recs = read_pcap(src)
    with open(os.path.join(out, "eth-be.pcap"), "wb") as fh:
        fh.write(struct.pack(">IHHiIII", 0xA1B2C3D4 if not nanos else 0xA1B23C4D, 2, 4, 0, 0,
                             snaplen, linktype))
        for sec, frac, data, orig in recs:
            fh.write(struct.pack(">IIII", sec, frac, len(data), orig) + data)
    unit = 1 if nanos else 1000  # to nanoseconds
    e = ">"
    with open(os.path.join(out, "eth-be.pcapng"), "wb") as fh:
        fh.write(shb(e))
        fh.write(idb(e, linktype, snaplen, tsresol=9, name="fx-a"))
        for sec, frac, data, orig in recs:
            fh.write(epb(e, 0, sec * 1_000_000_000 + frac * unit, data, orig))


def multi_section(out):
    """Two sections of opposite byte order; interfaces with their own link types and
    timestamp resolutions; EPB, SPB and the obsolete packet block; blocks to skip."""
    data = b""
    e = ">"
    data += shb(e)
    data += idb(e, 1, 65535, name="eth-be")               # µs (default resolution)
    data += unknown_block(e)
    t = BASE_TS * 1_000_000
    for i, fr in enumerate(vlan_frames()[:5]):
        data += epb(e, 0, t + i, fr, len(fr))
    data += isb(e, 0, t + 10)
    e = "<"
    data += shb(e)
    data += idb(e, 101, 65535, tsresol=9, name="raw-le")  # raw IP, ns
    data += idb(e, 1, 64, tsresol=6, name="eth-le-64")    # Ethernet, snaplen 64
    t = BASE_TS * 1_000_000_000
    raw = raw_ip_frames()
    data += epb(e, 0, t, raw[0], len(raw[0]))
    big = eth(0x0800, ipv4("198.51.100.1", "198.51.100.2", 6, tcp(1, 2, payload=b"B" * 1400)))
    data += epb(e, 1, t // 1000 + 5, big[:64], len(big))
    data += spb(e, raw[1], len(raw[1]))  # SPB: interface 0 of this section (raw IP)
    data += legacy_pb(e, 1, t // 1000 + 7, big[:64], len(big))
    data += custom_block(e)
    data += epb(e, 0, t + 9, raw[2], len(raw[2]))
    with open(os.path.join(out, "multi-section.pcapng"), "wb") as fh:
        fh.write(data)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)  # noqa: E731
    write_pcap(p("crafted-vlan.pcap"), 1, vlan_frames())
    write_pcap(p("crafted-pppoe.pcap"), 1, pppoe_frames())
    write_pcap(p("crafted-ipv6ext.pcap"), 1, ipv6ext_frames(), nanos=True)
    write_pcap(p("crafted-tunnels.pcap"), 1, tunnel_frames())
    write_pcap(p("crafted-malformed.pcap"), 1, malformed_frames())
    write_pcap(p("crafted-raw.pcap"), 101, raw_ip_frames())
    write_pcap(p("crafted-ipv4.pcap"), 228, [f for f in raw_ip_frames() if f[0] >> 4 == 4])
    write_pcap(p("crafted-null.pcap"), 0, null_frames(False))
    write_pcap(p("crafted-null-be.pcap"), 0, null_frames(True), big_endian=True)
    write_pcap(p("crafted-loop.pcap"), 108, null_frames(True))
    write_pcap(p("crafted-unknown-link.pcap"), 147, [b"\x01\x02\x03\x04" * 8] * 3)
    write_pcap(p("crafted-vlan-be.pcap"), 1, vlan_frames(), big_endian=True, nanos=True)
    be_variants(out)
    multi_section(out)


if __name__ == "__main__":
    main()
