#!/usr/bin/env bash
# make bench-live: trafgen sends N 64-byte UDP frames over 64 flows across a veth pair (pinned
# to CPU 0) while, in turn, pktstat and `tcpdump -w /dev/null` (same buffer size) capture on
# the other end (pinned to CPU 1). Prints, for each: sent, counted, kernel drops, CPU seconds,
# peak RSS. Root only; creates and removes its own namespaces; traffic stays inside them.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bash tests/scripts/install-deps.sh
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (network namespaces)" >&2; exit 1; }
cargo build -q --release -p pktstat
BIN=$top/target/release/pktstat
N=${BENCH_LIVE_FRAMES:-1000000}
BUF_MB=${BENCH_LIVE_BUF_MB:-8}
tx=pkb-tx-$$ rx=pkb-rx-$$
work=$(mktemp -d)
cleanup() { ip netns del "$tx" 2>/dev/null || true; ip netns del "$rx" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$tx"; ip netns add "$rx"
ip link add veth-tx netns "$tx" type veth peer name veth-rx netns "$rx"
ip -n "$tx" link set veth-tx up; ip -n "$rx" link set veth-rx up
ip -n "$tx" link set lo up; ip -n "$rx" link set lo up
ip -n "$tx" addr add 10.98.0.1/24 dev veth-tx; ip -n "$rx" addr add 10.98.0.2/24 dev veth-rx
rxmac=$(ip -n "$rx" -o link show veth-rx | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
cat >"$work/udp.trafgen" <<CONF
{
  eth(da=$rxmac, sa=02:00:00:00:00:01, type=0x0800),
  ipv4(saddr=10.98.0.1, daddr=10.98.0.2, ttl=64, proto=17),
  udp(sport=dinc(1000, 1063, 1), dport=9000),
  fill(0x00, 18)
}
CONF
send() { # prints the send duration in seconds
  local t0 t1
  t0=$(date +%s.%N)
  ip netns exec "$tx" taskset -c 0 trafgen -o veth-tx -i "$work/udp.trafgen" -n "$N" -q >/dev/null 2>&1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
printf "%-10s %10s %10s %8s %10s %9s %9s\n" tool sent counted drops "rate(kpps)" "cpu-s" "rss(MiB)"
# --- pktstat
ip netns exec "$rx" taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$work/p.time" \
  "$BIN" -i veth-rx -b "$BUF_MB" --jsonl -Z root >"$work/p.jsonl" 2>"$work/p.err" &
pid=$!
sleep 1
secs=$(send)
sleep 1
kill -INT "$pid"; wait "$pid" || true
counted=$(python3 - "$work/p.jsonl" <<'PY'
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
read -r pc pd <<<"$counted"
read -r u s m <"$work/p.time"
printf "%-10s %10d %10d %8d %10.0f %9.2f %9.1f\n" pktstat "$N" "$pc" "$pd" "$(awk -v n="$N" -v s="$secs" 'BEGIN{print n/s/1000}')" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" "$(awk -v m="$m" 'BEGIN{print m/1024}')"
# --- tcpdump
ip netns exec "$rx" taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$work/t.time" \
  tcpdump -i veth-rx -B $((BUF_MB * 1024)) -w /dev/null -Z root "udp port 9000" 2>"$work/t.err" &
pid=$!
sleep 1
secs=$(send)
sleep 1
kill -INT "$pid"; wait "$pid" || true
tc=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/t.err")
td=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/t.err")
read -r u s m <"$work/t.time"
printf "%-10s %10d %10d %8d %10.0f %9.2f %9.1f\n" tcpdump "$N" "${tc:-0}" "${td:-0}" "$(awk -v n="$N" -v s="$secs" 'BEGIN{print n/s/1000}')" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" "$(awk -v m="$m" 'BEGIN{print m/1024}')"
