#!/usr/bin/env bash
# make bench (collision part): offline throughput of `pktstat -r FILE -j` on 60,000 flows whose
# keys all fall into 64 home slots of the flow table under the unkeyed hash (gen-capture --mix
# collide) vs 60,000 flows with ordinary keys (--mix udp64). The per-run random key of the hash
# (core/src/hash.rs, bin/src/seed.rs) must make both cost the same: the ratio must stay < 2.
# Without the key every lookup would walk one probe run of 60,000 slots.
#   COLLIDE_FRAMES (default 3,000,000) frames per file; files are cached in target/bench/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cargo build -q --release -p pktstat -p pktstat-e2e --bin pktstat --bin gen-capture
BIN=$top/target/release/pktstat
GEN=$top/target/release/gen-capture
dir=$top/target/bench
mkdir -p "$dir"
FRAMES=${COLLIDE_FRAMES:-3000000}
FLOWS=60000
gen() { # mix
  local f="$dir/$1-$FLOWS-$FRAMES.pcap"
  [ -s "$f" ] || "$GEN" --frames "$FRAMES" --flows "$FLOWS" --mix "$1" --out "$f"
  echo "$f"
}
cpu() { # user + system CPU seconds of one run (less sensitive than wall time to a busy machine)
  local f
  f=$(mktemp)
  /usr/bin/time -f "%U %S" -o "$f" "$@" >/dev/null
  awk '{ printf "%.3f", $1 + $2 }' "$f"
  rm -f "$f"
}
collide=$(gen collide)
random=$(gen udp64)
# Same number of flows in both reports (the keys really are 60,000 distinct flows).
for f in "$collide" "$random"; do
  n=$("$BIN" -r "$f" -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [ "$n" = "$FLOWS" ] || { echo "collide.sh: $f gives $n flows, not $FLOWS" >&2; exit 1; }
done
cat "$collide" "$random" >/dev/null
# Interleaved runs, the best of RUNS for each file: noise on a shared machine hits both alike.
RUNS=${COLLIDE_RUNS:-5}
tc=999999 tr=999999
for _ in $(seq "$RUNS"); do
  s=$(cpu "$BIN" -r "$collide" -j); tc=$(awk -v a="$s" -v b="$tc" 'BEGIN { print (a < b) ? a : b }')
  s=$(cpu "$BIN" -r "$random" -j); tr=$(awk -v a="$s" -v b="$tr" 'BEGIN { print (a < b) ? a : b }')
done
echo "== hash flooding: $FRAMES frames, $FLOWS flows"
awk -v c="$tc" -v r="$tr" -v n="$FRAMES" 'BEGIN {
  printf "  colliding keys (64 home slots unkeyed) %7.3f CPU s  %6.2f M pkt/s\n", c, n / c / 1e6
  printf "  random keys                           %7.3f CPU s  %6.2f M pkt/s\n", r, n / r / 1e6
  printf "  ratio colliding/random: %.2f (must be < 2)\n", c / r
  exit !(c / r < 2)
}' || { echo "collide.sh: colliding keys are too slow: the flow hash is predictable" >&2; exit 1; }
