#!/usr/bin/env bash
# make bench-live: trafgen sends N 64-byte UDP frames (60 + FCS) over 64 flows across a veth
# pair (pinned to CPU 0, one process) while, in turn, pktstat and `tcpdump -w /dev/null` (same
# buffer size) capture on the other end (pinned to CPU 1). Prints, for each: sent, counted,
# kernel drops, send rate, CPU seconds (and per million frames), peak RSS.
# Root only; creates and removes its own namespaces; traffic stays inside them.
#   BENCH_LIVE_FRAMES="1000000 5000000"   frame counts, one run of each tool per count
#   BENCH_LIVE_BUF_MB=8                   ring / buffer size (pktstat -b, tcpdump -B)
#   BENCH_LIVE_RATE=                      trafgen --rate (e.g. 200kpps); empty = as fast as it can
#   PKTSTAT_BIN=                          the binary to measure (default: a fresh release build)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (network namespaces)" >&2; exit 1; }
bash tests/scripts/install-deps.sh
for t in trafgen tcpdump taskset python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench-live: $t is missing" >&2; exit 1; }
done
if [ -z "${PKTSTAT_BIN:-}" ]; then
  cargo build -q --release -p pktstat
  PKTSTAT_BIN=$top/target/release/pktstat
fi
FRAMES=${BENCH_LIVE_FRAMES:-1000000}
BUF_MB=${BENCH_LIVE_BUF_MB:-8}
RATE=${BENCH_LIVE_RATE:-}
tx=pkb-tx-$$ rx=pkb-rx-$$
work=$(mktemp -d)
cleanup() {
  ip netns del "$tx" 2>/dev/null || true
  ip netns del "$rx" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$tx"
ip netns add "$rx"
ip link add veth-tx netns "$tx" type veth peer name veth-rx netns "$rx"
ip -n "$tx" link set lo up
ip -n "$rx" link set lo up
ip -n "$tx" addr add 10.98.0.1/24 dev veth-tx
ip -n "$rx" addr add 10.98.0.2/24 dev veth-rx
ip -n "$tx" link set veth-tx up
ip -n "$rx" link set veth-rx up
rxmac=$(ip -n "$rx" -o link show veth-rx | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
# 64 flows: source ports 1000..1063 in turn, all to 10.98.0.2:9000.
cat >"$work/udp.trafgen" <<CONF
{
  eth(da=$rxmac, sa=02:00:00:00:00:01, type=0x0800),
  ipv4(saddr=10.98.0.1, daddr=10.98.0.2, ttl=64, proto=17),
  udp(sport=dinc(1000, 1063, 1), dport=9000),
  fill(0x00, 18)
}
CONF

# send N: runs trafgen (one process, CPU 0); prints "frames-sent seconds".
send() {
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$(ip netns exec "$tx" taskset -c 0 trafgen -o veth-tx -i "$work/udp.trafgen" -n "$1" -P 1 \
    ${RATE:+--rate "$RATE"} 2>&1)
  t1=$(date +%s.%N)
  local sent
  sent=$(tr '\r' '\n' <<<"$out" | awk '/packets outgoing/ { print $1 }')
  awk -v n="${sent:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d %.3f\n", n, b - a }'
}

# measure NAME N CMD...: runs CMD in the receiving namespace on CPU 1 under /usr/bin/time,
# sends N frames, stops CMD with SIGINT; leaves $work/NAME.{out,err,time} and "sent secs" in
# $work/NAME.sent.
measure() {
  local name=$1 n=$2
  shift 2
  ip netns exec "$rx" taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$work/$name.time" \
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  sleep 1
  send "$n" >"$work/$name.sent"
  sleep 1
  # `ip netns exec` and taskset exec; /usr/bin/time forks the tool and ignores SIGINT itself.
  local child
  child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
  [ -n "$child" ] && kill -INT $child
  wait "$pid" || true
}

row() { # tool N sent secs counted drops user sys rss_kib
  awk -v tool="$1" -v n="$2" -v sent="$3" -v secs="$4" -v c="$5" -v d="$6" -v u="$7" -v s="$8" -v m="$9" \
    'BEGIN { cpu = u + s; printf "%-8s %9d %9d %9d %7d %9.0f %7.2f %9.3f %8.1f\n",
      tool, n, sent, c, d, (secs > 0 ? sent / secs / 1000 : 0), cpu, (sent > 0 ? cpu * 1e6 / sent : 0), m / 1024 }'
}

printf "ring/buffer %d MiB, pktstat %s\n" "$BUF_MB" "$("$PKTSTAT_BIN" --version)"
printf "%-8s %9s %9s %9s %7s %9s %7s %9s %8s\n" tool frames sent counted drops "kpps" "cpu-s" "cpu-s/M" "rss-MiB"
for n in $FRAMES; do
  # --- pktstat
  measure pktstat "$n" "$PKTSTAT_BIN" -i veth-rx -b "$BUF_MB" --jsonl -Z root
  read -r sent secs <"$work/pktstat.sent"
  read -r pc pd < <(python3 - "$work/pktstat.out" <<'PY'
import json, sys
n = d = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "flow" and o.get("dstPort") == 9000:
        n += o["packets"]
    if o["type"] == "summary" and o.get("drops"):
        d = o["drops"]["total"]
print(n, d)
PY
)
  read -r u s m <"$work/pktstat.time"
  row pktstat "$n" "$sent" "$secs" "$pc" "$pd" "$u" "$s" "$m"
  [ -s "$work/pktstat.err" ] && sed 's/^/  pktstat: /' "$work/pktstat.err" >&2
  # --- tcpdump
  measure tcpdump "$n" tcpdump -i veth-rx -B $((BUF_MB * 1024)) -w /dev/null -Z root "udp port 9000"
  read -r sent secs <"$work/tcpdump.sent"
  tc=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/tcpdump.err")
  td=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/tcpdump.err")
  read -r u s m <"$work/tcpdump.time"
  row tcpdump "$n" "$sent" "$secs" "${tc:-0}" "${td:-0}" "$u" "$s" "$m"
done
