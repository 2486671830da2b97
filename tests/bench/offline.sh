#!/usr/bin/env bash
# make bench: offline throughput of `pktstat -r FILE` beside peers run on the same file in the
# same invocation (this machine is noisy: read the ratios, not the absolute numbers).
#   dd      the read limit (page cache → /dev/null)
#   tcpdump a peer that only copies records (tcpdump -r FILE -w /dev/null)
#   tshark  the same job as ours (-q -z conv,udp), on a 200,000-frame slice only: it is slow
# Files are generated once into target/bench/ (deterministic, see tests/bench/gen_capture.rs).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cargo build -q --release -p pktstat -p pktstat-e2e --bin pktstat --bin gen-capture
BIN=$top/target/release/pktstat
GEN=$top/target/release/gen-capture
dir=$top/target/bench
mkdir -p "$dir"
FRAMES=${BENCH_FRAMES:-5000000}
gen() { # name flows mix frames
  local f="$dir/$1.pcap"
  [ -s "$f" ] || "$GEN" --frames "$4" --flows "$2" --mix "$3" --out "$f"
  echo "$f"
}
# wall seconds (ns clock) and peak RSS (KiB) of a command, its output discarded
measure() {
  local f t0 t1
  f=$(mktemp)
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$f" "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v r="$(tail -n1 "$f")" 'BEGIN { printf "%.4f %d\n", (b - a) / 1e9, r }'
  rm -f "$f"
}
row() { # label frames seconds rss
  awk -v l="$1" -v n="$2" -v s="$3" -v r="$4" \
    'BEGIN { pps = (s > 0) ? n / s / 1e6 : 0; printf "  %-34s %8.4f s  %8.2f M pkt/s  %7.1f MiB RSS\n", l, s, pps, r / 1024 }'
}
best() { # run a command 3 times, keep the fastest (seconds, rss)
  local bs=999999 br=0 s r
  for _ in 1 2 3; do
    read -r s r < <(measure "$@")
    if awk -v a="$s" -v b="$bs" 'BEGIN{exit !(a<b)}'; then bs=$s; br=$r; fi
  done
  echo "$bs $br"
}
for spec in "udp64-1024:1024:udp64" "udp64-60000:60000:udp64" "imix-1024:1024:imix"; do
  IFS=: read -r name flows mix <<<"$spec"
  f=$(gen "$name-$FRAMES" "$flows" "$mix" "$FRAMES")
  echo "== $name: $FRAMES frames, $flows flows, $(du -m "$f" | cut -f1) MiB ($f)"
  cat "$f" >/dev/null   # warm the page cache
  read -r s r < <(best dd if="$f" of=/dev/null bs=1M);                  row "dd bs=1M" "$FRAMES" "$s" "$r"; dd_s=$s
  read -r s r < <(best tcpdump -r "$f" -w /dev/null);                    row "tcpdump -r -w /dev/null" "$FRAMES" "$s" "$r"; td_s=$s
  read -r s r < <(best "$BIN" -r "$f" -j);                              row "pktstat -r -j" "$FRAMES" "$s" "$r"; ps_s=$s
  if "$BIN" -r "$f" -f "tcp port 443 or udp" -j >/dev/null 2>&1; then
    read -r s r < <(best "$BIN" -r "$f" -f "tcp port 443 or udp" -j); row "pktstat -r -f 'tcp port 443 or udp'" "$FRAMES" "$s" "$r"
  else
    echo "  pktstat -f: not available in this build"
  fi
  awk -v p="$ps_s" -v t="$td_s" -v d="$dd_s" 'BEGIN { printf "  ratio: pktstat/tcpdump time %.2f, pktstat/dd time %.1f\n", p/t, p/d }'
done
slice=$dir/tshark-slice.pcap
[ -s "$slice" ] || "$GEN" --frames 200000 --flows 1024 --mix udp64 --out "$slice"
read -r s r < <(measure tshark -q -z conv,udp -r "$slice")
echo "== tshark -q -z conv,udp on 200,000 frames (same job as ours)"
row "tshark" 200000 "$s" "$r"
read -r s r < <(measure "$BIN" -r "$slice" -j)
row "pktstat (same slice)" 200000 "$s" "$r"
