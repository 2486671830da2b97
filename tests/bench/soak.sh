#!/usr/bin/env bash
# make soak (not in CI): a long live run. Two network namespaces joined by a veth pair; a paced
# UDP sender in one, and in the other `pktstat -i IFACE -l 1s --jsonl` beside `tcpdump -w` on the
# same interface. Checks:
#   - pktstat's resident memory is flat after the first minute (VmRSS sampled every 10 s:
#     max - min <= SOAK_RSS_SLACK_KB);
#   - every output line is valid JSON, one summary per interval;
#   - the per-interval packet counts add up to what tcpdump saw (minus what either reports
#     dropped by the kernel: both must report 0 for the run to count as clean);
#   - pktstat exits 0 on SIGINT (no seccomp kill after hours of loop).
# Environment: SOAK_SECONDS (600), SOAK_RATE packets/s (10000), SOAK_FLOWS (256),
# SOAK_SIZE UDP payload bytes (100), SOAK_RSS_SLACK_KB (256), PKTSTAT_BIN (target/release/pktstat).
# Needs root, ip, tcpdump, python3.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
SECS=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-10000}
FLOWS=${SOAK_FLOWS:-256}
SIZE=${SOAK_SIZE:-100}
SLACK=${SOAK_RSS_SLACK_KB:-256}
if [ -z "${PKTSTAT_BIN:-}" ]; then
  cargo build -q --release -p pktstat
  PKTSTAT_BIN=$top/target/release/pktstat
fi
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root (network namespaces)" >&2; exit 2; }

tag=soak$$
A=${tag}a B=${tag}b
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add "v${tag}a" netns "$A" type veth peer name "v${tag}b" netns "$B"
ip -n "$A" addr add 10.98.0.1/24 dev "v${tag}a"; ip -n "$A" link set "v${tag}a" up; ip -n "$A" link set lo up
ip -n "$B" addr add 10.98.0.2/24 dev "v${tag}b"; ip -n "$B" link set "v${tag}b" up; ip -n "$B" link set lo up
# No IPv6 chatter (router solicitations, MLD) so that both captures see only the test traffic
# plus ARP; both count everything anyway.
for ns in "$A" "$B"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
# Static ARP entries both ways (no ARP mid-run), and port-unreachable answers limited to a
# handful: the captured traffic is the sender's, so the two counts are comparable at any moment.
macb=$(ip -n "$B" -o link show "v${tag}b" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
maca=$(ip -n "$A" -o link show "v${tag}a" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$A" neigh add 10.98.0.2 lladdr "$macb" dev "v${tag}a" nud permanent
ip -n "$B" neigh add 10.98.0.1 lladdr "$maca" dev "v${tag}b" nud permanent
ip netns exec "$B" sysctl -qw net.ipv4.icmp_ratelimit=2000000000

# tcpdump counts (its "packets captured" line) without keeping the file.
ip netns exec "$B" tcpdump -i "v${tag}b" -n -s 96 -B 65536 -w /dev/null 2>"$work/tcpdump.err" &
pids+=($!); td=$!
ip netns exec "$B" "$PKTSTAT_BIN" -i "v${tag}b" -l 1s --jsonl >"$work/out.jsonl" 2>"$work/pktstat.err" &
pids+=($!); ps_pid=$!
sleep 2
kill -0 "$ps_pid" || { cat "$work/pktstat.err"; echo "soak.sh: pktstat did not start" >&2; exit 1; }

# Paced sender: batches every 10 ms, FLOWS source ports.
ip netns exec "$A" python3 - "$RATE" "$SECS" "$FLOWS" "$SIZE" >"$work/sent" <<'EOF' &
import socket, sys, time
rate, secs, flows, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
socks = []
for i in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.98.0.1", 20000 + i))
    socks.append(s)
payload = b"s" * size
start = time.monotonic()
sent = 0
while True:
    now = time.monotonic() - start
    if now >= secs:
        break
    due = int(now * rate)
    while sent < due:
        socks[sent % flows].sendto(payload, ("10.98.0.2", 9000))
        sent += 1
    time.sleep(0.01)
print(sent)
EOF
pids+=($!); sender=$!

# VmRSS every 10 s while the sender runs.
: >"$work/rss"
t=0
while kill -0 "$sender" 2>/dev/null; do
  if [ $((t % 10)) = 0 ]; then
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ps_pid/status" 2>/dev/null || echo 0)
    echo "$t $rss" >>"$work/rss"
  fi
  sleep 1
  t=$((t + 1))
done
wait "$sender" || true
sleep 2
kill -INT "$ps_pid"
ps_rc=0; wait "$ps_pid" || ps_rc=$?
kill -INT "$td"; wait "$td" || true
sent=$(cat "$work/sent")

python3 - "$work" "$sent" "$SECS" "$RATE" "$SLACK" "$ps_rc" <<'EOF'
import json, sys
work, sent, secs, rate, slack, rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
bad, summaries, flows_lines = 0, [], 0
for n, line in enumerate(open(f"{work}/out.jsonl"), 1):
    try:
        v = json.loads(line)
    except ValueError as e:
        bad += 1
        print(f"  line {n} is not JSON: {e}: {line[:120]!r}")
        continue
    if v.get("type") == "summary":
        summaries.append(v)
    else:
        flows_lines += 1
pk = sum(s["packets"] for s in summaries)
drops = summaries[-1]["drops"]["total"] if summaries and summaries[-1].get("drops") else 0
running = summaries[-1].get("running", {}).get("packets") if summaries else None
td_err = open(f"{work}/tcpdump.err").read()
td, td_drop = None, 0
for l in td_err.splitlines():
    if "packets captured" in l:
        td = int(l.split()[0])
    if "dropped by kernel" in l:
        td_drop = int(l.split()[0])
rss = [tuple(map(int, l.split())) for l in open(f"{work}/rss") if l.strip()]
late = [r for t, r in rss if t >= 60] or [r for _, r in rss]
print(f"== soak: {secs} s at {rate} packets/s requested")
print(f"  sent {sent} datagrams; tcpdump saw {td} frames (kernel drops {td_drop}); pktstat counted {pk} in {len(summaries)} interval reports (kernel drops {drops}), running total {running}")
print(f"  {flows_lines} flow lines + {len(summaries)} summaries, {bad} invalid lines; pktstat exit status {rc}")
print(f"  VmRSS (KiB) every 10 s: {' '.join(str(r) for _, r in rss)}")
print(f"  after the first minute: min {min(late)} max {max(late)} (slack {slack})")
ok = True
def fail(msg):
    global ok
    ok = False
    print("  FAIL: " + msg)
if bad: fail(f"{bad} lines are not valid JSON")
if rc != 0: fail(f"pktstat exited with status {rc}")
if max(late) - min(late) > slack: fail("resident memory grows after the first minute")
if td_drop or drops: fail("kernel drops: the rate is too high for a lossless comparison (lower SOAK_RATE)")
elif pk != td: fail(f"pktstat counted {pk} packets, tcpdump {td}")
if running is not None and running != pk: fail(f"running total {running} != sum of intervals {pk}")
if len(summaries) < int(float(secs)) - 1: fail("fewer interval reports than seconds")
print("  OK" if ok else "  soak FAILED")
sys.exit(0 if ok else 1)
EOF
