#!/usr/bin/env bash
# Live capture by the aarch64 and MIPS (big-endian) router binaries under qemu-user, in a fresh
# network namespace: qemu-user refuses the packet-socket ring options (PACKET_VERSION gives
# ENOPROTOOPT), so pktstat must fall back to its recvmsg() loop, say so on stderr, and still
# count known traffic on `lo` exactly — each looped-back datagram once, wire length in bytes.
#
# Usage (as root): tests/scripts/cross-live-user.sh [TARGET...]
#   (default: aarch64-unknown-linux-musl mips-unknown-linux-musl)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-unknown-linux-musl mips-unknown-linux-musl)
N=${CROSS_LIVE_DATAGRAMS:-40}
PAYLOAD=200
SPORT=40123 DPORT=5099

die() { echo "cross-live-user: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, AF_PACKET)"
command -v unshare >/dev/null 2>&1 || die "missing unshare (util-linux)"
command -v ip >/dev/null 2>&1 || die "missing ip (iproute2)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/send.py" <<EOF
import socket, time
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", $DPORT))            # a listener: no ICMP port-unreachable replies
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.1", $SPORT))
for i in range($N):
    tx.sendto(bytes([i & 0xFF]) * $PAYLOAD, ("127.0.0.1", $DPORT))
    time.sleep(0.01)
got = 0
rx.settimeout(2)
while got < $N:
    rx.recv(65536)
    got += 1
EOF

for t in "${targets[@]}"; do
  case "$t" in
    aarch64-*) q=qemu-aarch64-static ;; armv7-*) q=qemu-arm-static ;;
    mips-*) q=qemu-mips-static ;; mipsel-*) q=qemu-mipsel-static ;;
    x86_64-*) q=qemu-x86_64-static ;; i686-*) q=qemu-i386-static ;;
    *) die "unknown target $t" ;;
  esac
  command -v "$q" >/dev/null 2>&1 || die "missing $q (apt-get install qemu-user-static)"
  bin="dist/pktstat-$version-$t"
  [ -x "$bin" ] || bash cross/build.sh "$t"
  # In a new network namespace of its own: only lo, only our traffic.
  unshare --net bash -euc '
    ip link set lo up
    "$1" "$2" -i lo -t 4s -j >"$3/out" 2>"$3/err" & pid=$!
    sleep 1.5                          # qemu start-up and the capture set-up
    python3 "$3/send.py"
    rc=0; wait "$pid" || rc=$?; echo "$rc" >"$3/rc"
  ' _ "$q" "$bin" "$work"
  rc=$(cat "$work/rc")
  python3 - "$work" "$t" "$rc" "$N" "$PAYLOAD" "$SPORT" "$DPORT" <<'EOF'
import json, sys
work, target, rc, n, payload, sport, dport = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
out = open(f"{work}/out").read()
err = open(f"{work}/err").read()
def fail(msg):
    sys.exit(f"cross-live-user: FAIL {target}: {msg}\n--- stdout ---\n{out}--- stderr ---\n{err}")
if rc != "0":
    fail(f"exit status {rc}")
if "recvmsg()" not in err:
    fail("stderr does not say the recvmsg() fallback runs")
lines = [l for l in out.splitlines() if l.startswith("[")]
if len(lines) != 1:
    fail(f"expected one JSON report, got {len(lines)}")
flows = [f for f in json.loads(lines[0]) if (f["srcIp"], f.get("srcPort"), f["dstIp"], f.get("dstPort"))
         == ("127.0.0.1", sport, "127.0.0.1", dport)]
want = (n, n * (14 + 20 + 8 + payload), "UDP")
if len(flows) != 1 or (flows[0]["packets"], flows[0]["size"], flows[0]["proto"]) != want:
    fail(f"want one flow 127.0.0.1:{sport} -> 127.0.0.1:{dport} with packets/bytes/proto {want}")
print(f"cross-live-user: {target}: {n} datagrams counted exactly through the recvmsg() fallback")
EOF
done
