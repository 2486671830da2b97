#!/usr/bin/env python3
"""Builds the committed seed corpus (seeds/<target>/) from the small captures in seeds/
(lo.pcap, lo-ns.pcap, lo.pcapng: ping, ping6, UDP on loopback; any.pcap: Linux cooked)
plus hand-made frames for what loopback does not carry (VLAN, PPPoE, fragments, IPv6
extension headers). Run it again after changing the target's input layout."""
import os, struct

here = os.path.dirname(os.path.abspath(__file__))
seeds = os.path.join(here, "seeds")

def pcap_frames(path):
    b = open(path, "rb").read()
    little = b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    e = "<" if little else ">"
    link = struct.unpack(e + "I", b[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack(e + "I", b[off + 8:off + 12])[0]
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return link, out

def ipv4(proto, payload, frag=0, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, src, dst) + payload

def udp(sp, dp, data=b"hello"):
    return struct.pack(">HHHH", sp, dp, 8 + len(data), 0) + data

eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
v4u = ipv4(17, udp(1234, 53))
v6 = (struct.pack(">IHBB", 0x60000000, 16, 0, 64) + b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01"
      + b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x02"
      + bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp(5000, 443, b""))  # hop-by-hop then UDP
synthetic = [  # (selector, frame)
    (0, eth + b"\x08\x00" + v4u),
    (0, eth + b"\x81\x00\x00\x0a\x08\x00" + v4u),                       # 802.1Q
    (0, eth + b"\x88\xa8\x00\x14\x81\x00\x00\x0a\x08\x00" + v4u),       # QinQ
    (0, eth + b"\x88\x64\x11\x00\x00\x01" + struct.pack(">H", 2 + len(v4u)) + b"\x00\x21" + v4u),  # PPPoE
    (0, eth + b"\x08\x00" + ipv4(17, udp(1, 2, b"a" * 16), frag=0x2000)),  # first fragment
    (0, eth + b"\x08\x00" + ipv4(17, b"b" * 16, frag=3)),                   # later fragment
    (0, eth + b"\x86\xdd" + v6),
    (3, v4u), (4, v4u), (5, v6),
    (6, struct.pack("<I", 2) + v4u), (7, struct.pack(">I", 24) + v6),
    (8, v4u),  # Network(0x0800): the EtherType goes right after the selector
]
link_sel = {1: 0, 113: 1, 276: 2, 101: 3, 0: 6}

def write(target, name, data):
    d = os.path.join(seeds, target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

frames = list(synthetic)
for f in ("lo.pcap", "any.pcap"):
    link, fr = pcap_frames(os.path.join(seeds, f))
    frames += [(link_sel[link], x) for x in fr]
for i, (sel, fr) in enumerate(frames):
    # decode: [selector][flags: bit 0 = out-of-band VLAN tag follows][frame]
    head = bytes([sel]) + (b"\x08\x00" if sel == 8 else b"")
    write("decode", f"frame{i:02}", head + b"\x00" + fr)
write("decode", "oob-vlan", bytes([0, 1, 0x00, 0x0a]) + eth + b"\x08\x00" + v4u)
for f in ("lo.pcap", "lo-ns.pcap", "lo.pcapng", "any.pcap"):
    # capfile: [4-byte chunking seed][file]
    write("capfile", f, b"\x01\x02\x03\x04" + open(os.path.join(seeds, f), "rb").read())
# engine: [config] then frames [control][length][selector][frame]
body = b""
for sel, fr in frames[:40]:
    fr = bytes([sel]) + (b"\x08\x00" if sel == 8 else b"") + fr[:200]
    body += bytes([0, len(fr)]) + fr
for cfg in (0, 3, 4):
    write("engine", f"mixed-cfg{cfg}", bytes([cfg]) + body)
# filter: [target: 0 = Ethernet, 0x80 = Linux socket][snaplen/257][expr length][expr][packet]
exprs = [
    "tcp port 443 or udp", "not port 22", "vlan 10 and ip", "vlan and vlan 20 and udp",
    "pppoes 0x11 and ip6", "host 10.0.0.1 and (tcp[13] & 2 != 0)", "ether broadcast",
    "icmp6", "len > 100", "net 10.0.0.0/8", "ip proto 47", "src portrange 1000-2000",
    "dst host fe80::1", "ether host 00:11:22:33:44:55", "tcp[tcpflags] & tcp-syn != 0",
    "icmp[icmptype] == icmp-echo", "ip[2:2] > 576", "udp and not (port 53 or port 123)",
    "arp or rarp", "greater 1000 and less 1500",
]
pkt = eth + b"\x08\x00" + v4u
for i, e in enumerate(exprs):
    for sel in (0, 0x80):
        e8 = e.encode()
        write("filter", f"expr{i:02}-{sel:02x}", bytes([sel, 0, len(e8)]) + e8 + pkt)
