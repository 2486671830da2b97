#!/usr/bin/env python3
"""Boots a qemu-system guest whose initramfs runs pktstat on eth0, injects known Ethernet
frames into eth0 through `-netdev socket` and checks pktstat's JSON report counts them exactly.

QEMU's socket netdev (connect mode) carries frames over TCP as a 4-byte big-endian length
followed by the frame. This script listens on 127.0.0.1, starts qemu connecting to it, waits
on the serial console for the init's "PKTSTAT-INIT: capturing" marker, sends the frames, and
reads the console until the guest powers off.

Usage: boot_capture.py --frames N --timeout SECS -- QEMU-COMMAND... (`@NETDEV@` in the
command is replaced by the socket netdev option). Exit 0 when the report is exact.
"""

import argparse
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("020000000001")
SRC_IP, DST_IP = "10.0.2.1", "10.0.2.15"
SRC_PORT, DST_PORT = 40000, 5001
PAYLOAD = 100  # plus 0..6 bytes, so the byte count checks each frame's own length


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(seq: int) -> bytes:
    payload = bytes((seq + i) & 0xFF for i in range(PAYLOAD + seq % 7))
    udp = struct.pack("!HHHH", SRC_PORT, DST_PORT, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0, 64, 17, 0,
                     socket.inet_aton(SRC_IP), socket.inet_aton(DST_IP))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return GUEST_MAC + HOST_MAC + b"\x08\x00" + ip + udp


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--log", help="write the whole console here")
    ap.add_argument("--expect-stderr", default="",
                    help="text pktstat must print on the console (e.g. its capture mode)")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.qemu[1:] if args.qemu and args.qemu[0] == "--" else args.qemu

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    cmd = [c.replace("@NETDEV@", f"socket,id=n0,connect=127.0.0.1:{port}") for c in cmd]

    frames = [udp_frame(i) for i in range(args.frames)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    listener.settimeout(30)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        proc.kill()
        print("boot_capture: qemu never connected to the socket netdev", file=sys.stderr)
        print(proc.stdout.read().decode(errors="replace"), file=sys.stderr)
        return 1

    console = bytearray()
    deadline = time.monotonic() + args.timeout
    sent = False
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            print(f"boot_capture: guest still running after {args.timeout:.0f}s", file=sys.stderr)
            break
        watched = [fd] + ([conn] if conn is not None else [])
        ready, _, _ = select.select(watched, [], [], min(left, 1.0))
        if conn is not None and conn in ready:
            if not conn.recv(65536):  # guest transmissions: discarded; EOF = qemu gone
                conn.close()
                conn = None
        if fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            console += chunk
        # Inject once the init says pktstat runs and pktstat itself says its capture is set up.
        if (not sent and conn is not None and b"PKTSTAT-INIT: capturing" in console
                and args.expect_stderr.encode() in console):
            for f in frames:
                conn.sendall(struct.pack("!I", len(f)) + f)
            sent = True
    proc.wait(timeout=10)
    text = console.decode(errors="replace").replace("\r", "")
    if args.log:
        with open(args.log, "w") as log:
            log.write(text)

    def fail(msg: str) -> int:
        print(f"boot_capture: {msg}\n---- console ----\n{text}\n---- end ----", file=sys.stderr)
        return 1

    if "PKTSTAT-INIT: error" in text:
        return fail("the guest init failed")
    if not sent:
        return fail("the guest never reached the capture (no 'PKTSTAT-INIT: capturing')")
    if "PKTSTAT-INIT: exit 0" not in text:
        return fail("pktstat did not exit 0 in the guest")
    if args.expect_stderr not in text:
        return fail(f"pktstat never said {args.expect_stderr!r}")
    reports = [line for line in text.splitlines() if line.startswith(("[{", "[]"))]
    if len(reports) != 1:
        return fail(f"expected one JSON report line, found {len(reports)}")
    flows = json.loads(reports[0])
    ours = [f for f in flows if f.get("srcIp") == SRC_IP and f.get("dstIp") == DST_IP
            and f.get("srcPort") == SRC_PORT and f.get("dstPort") == DST_PORT]
    if len(ours) != 1:
        return fail(f"expected exactly one flow {SRC_IP}:{SRC_PORT} -> {DST_IP}:{DST_PORT}")
    flow = ours[0]
    want_bytes = sum(len(f) for f in frames)
    if (flow["packets"], flow["size"], flow["proto"]) != (args.frames, want_bytes, "UDP"):
        return fail(f"flow counted {flow['packets']} packets / {flow['size']} bytes / "
                    f"{flow['proto']}, want {args.frames} / {want_bytes} / UDP")
    print(f"boot_capture: ok, {args.frames} frames / {want_bytes} bytes counted exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
