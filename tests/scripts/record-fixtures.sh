#!/usr/bin/env bash
# Records the real-traffic fixtures of tests/fixtures/ and writes the crafted ones.
#
# Run by hand, as root, not in CI:  sudo bash tests/scripts/record-fixtures.sh [OUTDIR]
#
# It creates two network namespaces, pktstat-fx-a and pktstat-fx-b, joined by a veth pair
# (10.99.0.1/24 + fd99::1/64 in a, 10.99.0.2/24 + fd99::2/64 in b), captures in `a` with
# several tcpdump instances at once while a bounded amount of traffic runs between the two
# namespaces only (ping, fragmenting pings, ping6, a TCP download over IPv4 and IPv6, UDP
# datagrams to a listening and a closed port), then removes both namespaces. Every step is
# bounded in count and time. The oracle test (tests/tests/oracle.rs) compares pktstat's report
# on each file with tshark's dissection of the same file, so the fixtures need no expected
# values of their own and can be re-recorded at will.
#
# Files written (kept small: only eth.pcap holds whole payloads):
#   eth.pcap            Ethernet, pcap µs, snaplen 65535, whole payloads (a 120 KB download)
#   eth-snap96.pcap     same traffic, snaplen 96
#   eth-ns.pcap         same traffic, pcap ns (--time-stamp-precision nano), snaplen 128
#   any-sll2.pcap       `-i any -y LINUX_SLL2`, snaplen 128 (also loopback pings)
#   any-sll.pcap        `-i any -y LINUX_SLL`, snaplen 100
#   eth-ns.pcapng       eth-ns.pcap converted by editcap (ns resolution)
#   eth-sll.pcapng      snaplen-96 Ethernet and SLL2 merged by mergecap: two interfaces,
#                       two link types
#   eth-be.pcap, eth-be.pcapng, multi-section.pcapng, crafted-*.pcap: see craft_fixtures.py
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../fixtures}
A=pktstat-fx-a
B=pktstat-fx-b
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

[ "$(id -u)" = 0 ] || { echo "record-fixtures: run as root (it creates network namespaces)" >&2; exit 1; }
for t in ip tcpdump editcap mergecap curl ping timeout; do
  command -v "$t" >/dev/null || { echo "record-fixtures: $t is missing (make deps)" >&2; exit 1; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d /tmp/pktstat-fx.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }

# --- namespaces -------------------------------------------------------------------------
ip netns del "$A" 2>/dev/null || true
ip netns del "$B" 2>/dev/null || true
ip netns add "$A"
ip netns add "$B"
ip link add fx-a netns "$A" address 02:99:00:00:00:01 type veth \
  peer name fx-b netns "$B" address 02:99:00:00:00:02
for ns in "$A" "$B"; do
  # Quiet, reproducible links: no router solicitations, no DAD delay.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
done
ina() { ip netns exec "$A" "$@"; }
ina sysctl -qw net.ipv6.conf.fx-a.router_solicitations=0
ip netns exec "$B" sysctl -qw net.ipv6.conf.fx-b.router_solicitations=0
ip -n "$A" addr add 10.99.0.1/24 dev fx-a
ip -n "$A" addr add fd99::1/64 dev fx-a nodad
ip -n "$B" addr add 10.99.0.2/24 dev fx-b
ip -n "$B" addr add fd99::2/64 dev fx-b nodad
# MTU-sized TCP segments on the wire, as a real NIC would show them (veth would otherwise
# hand tcpdump 64 KB GSO packets).
ip -n "$A" link set fx-a gso_max_size 1500 2>/dev/null || true
ip -n "$B" link set fx-b gso_max_size 1500 2>/dev/null || true
ip -n "$A" link set fx-a up
ip -n "$B" link set fx-b up

# --- servers in b -----------------------------------------------------------------------
mkdir -p "$TMP/www"
head -c 120000 /dev/urandom >"$TMP/www/blob"
head -c 20000 /dev/urandom >"$TMP/www/small"
inb timeout 60 "$PY" -m http.server 8080 --bind 10.99.0.2 -d "$TMP/www" >/dev/null 2>&1 &
PIDS+=($!)
inb timeout 60 "$PY" -m http.server 8081 --bind fd99::2 -d "$TMP/www" >/dev/null 2>&1 &
PIDS+=($!)
# UDP echo on 9999 (v4 and v6); port 9998 stays closed so b answers with ICMP errors.
cat >"$TMP/echo.py" <<'EOF'
import socket, select, sys
socks = []
for fam, addr in ((socket.AF_INET, "10.99.0.2"), (socket.AF_INET6, "fd99::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, 9999))
    socks.append(s)
n = 0
while n < 40:
    r, _, _ = select.select(socks, [], [], 30)
    if not r:
        break
    for s in r:
        data, peer = s.recvfrom(65535)
        s.sendto(data[:64], peer)
        n += 1
EOF
inb timeout 60 "$PY" "$TMP/echo.py" &
PIDS+=($!)

for _ in $(seq 50); do
  if inb "$PY" -c 'import socket,sys
for fam, a, p in ((socket.AF_INET, "10.99.0.2", 8080), (socket.AF_INET6, "fd99::2", 8081)):
    s = socket.socket(fam); s.settimeout(0.2)
    if s.connect_ex((a, p)) != 0: sys.exit(1)
    s.close()' 2>/dev/null; then break; fi
  sleep 0.1
done

# --- captures in a ----------------------------------------------------------------------
# Started after the servers' readiness probe, so the probe's connections are not recorded.
CAPS=()
cap() { # cap FILE tcpdump-args...   (`ip netns exec` execs tcpdump: $! is tcpdump)
  local f=$1; shift
  ina tcpdump -U -n -q -c 20000 "$@" -w "$TMP/$f" >/dev/null 2>"$TMP/$f.log" &
  CAPS+=($!)
  PIDS+=($!)
}
cap eth.pcap -i fx-a -s 65535
cap eth-snap96.pcap -i fx-a -s 96
cap eth-ns.pcap -i fx-a -s 128 --time-stamp-precision nano
cap any-sll2.pcap -i any -y LINUX_SLL2 -s 128
cap any-sll.pcap -i any -y LINUX_SLL -s 100
for f in eth.pcap eth-snap96.pcap eth-ns.pcap any-sll2.pcap any-sll.pcap; do
  for _ in $(seq 50); do grep -q listening "$TMP/$f.log" 2>/dev/null && break; sleep 0.1; done
done
sleep 0.3

# --- traffic from a -------------------------------------------------------------------
ina timeout 10 ping -n -q -c 3 -i 0.2 10.99.0.2 >/dev/null
ina timeout 10 ping -n -q -c 2 -i 0.2 -s 4000 10.99.0.2 >/dev/null       # IPv4 fragments
ina timeout 10 ping -6 -n -q -c 3 -i 0.2 fd99::2 >/dev/null
ina timeout 10 ping -6 -n -q -c 2 -i 0.2 -s 4000 fd99::2 >/dev/null      # IPv6 fragments
# Loopback traffic in the `-i any` files (libpcap already drops lo's outgoing copy, so each
# packet is recorded once; a file is counted as recorded).
ina timeout 10 ping -n -q -c 2 -i 0.2 127.0.0.1 >/dev/null
ina timeout 10 ping -6 -n -q -c 2 -i 0.2 ::1 >/dev/null
ina timeout 20 curl -sS --max-time 15 -o /dev/null http://10.99.0.2:8080/blob
ina timeout 20 curl -sS --max-time 15 -g -o /dev/null 'http://[fd99::2]:8081/small'
ina timeout 20 "$PY" - <<'EOF'
import socket, time
v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v4.bind(("10.99.0.1", 40001))
v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
v6.bind(("fd99::1", 40002))
for s in (v4, v6):
    s.settimeout(1.0)
def ask(s, dst, payload):
    s.sendto(payload, dst)
    try:
        s.recvfrom(65535)
    except OSError:  # timeout, or ECONNREFUSED from the ICMP error
        pass
for i in range(5):
    ask(v4, ("10.99.0.2", 9999), b"v4-%d" % i)
for i in range(3):
    ask(v6, ("fd99::2", 9999), b"v6-%d" % i)
ask(v4, ("10.99.0.2", 9999), b"F" * 3000)     # fragmented UDP: later fragments join the flow
ask(v6, ("fd99::2", 9999), b"G" * 3000)
ask(v4, ("10.99.0.2", 9998), b"closed-v4")    # ICMP port unreachable, inner IP+UDP inside
ask(v6, ("fd99::2", 9998), b"closed-v6")      # ICMPv6 port unreachable
time.sleep(0.2)
EOF
sleep 0.5
for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
( sleep 10; for p in "${CAPS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done ) &
WATCHDOG=$!
for p in "${CAPS[@]}"; do wait "$p" 2>/dev/null || true; done
kill "$WATCHDOG" 2>/dev/null || true

# --- derived files ----------------------------------------------------------------------
for f in eth.pcap eth-snap96.pcap eth-ns.pcap any-sll2.pcap any-sll.pcap; do
  cp "$TMP/$f" "$OUT/$f"
done
editcap -F pcapng "$OUT/eth-ns.pcap" "$OUT/eth-ns.pcapng"
mergecap -F pcapng -w "$OUT/eth-sll.pcapng" "$OUT/eth-snap96.pcap" "$OUT/any-sll2.pcap"
"$PY" "$HERE/craft_fixtures.py" "$OUT"

echo "record-fixtures: wrote to $OUT:" >&2
ls -l "$OUT" >&2
du -sh "$OUT" >&2
