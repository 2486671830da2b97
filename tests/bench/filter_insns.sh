#!/usr/bin/env bash
# Instructions per compiled filter: ours (`pktstat --dump-filter`) against libpcap's
# optimised output (`tcpdump -d`), both for the Ethernet fixture. Prints one line per
# expression and the median ratio (target <= 1.5).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/pktstat}
F=tests/fixtures/filter/ether.pcap
EXPRS=(
  "ip" "ip6" "arp" "tcp" "udp" "icmp" "icmp6"
  "host 10.0.0.1" "src host 10.0.0.1" "net 10.0.0.0/8" "host 2001:db8::1" "net 2001:db8::/32"
  "port 80" "tcp port 443" "udp port 53" "port 80 or 443" "portrange 1-1024" "not port 22"
  "tcp port 443 or udp" "host 10.0.0.1 and port 80" "tcp and (port 80 or port 22)"
  "ether host 00:11:22:33:44:55" "ether broadcast" "ip multicast"
  "vlan" "vlan 10" "vlan and tcp port 80" "pppoes and ip"
  "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0" "ip[2:2] > 576" "icmp[icmptype] == icmp-echo"
  "greater 100" "not (tcp or udp)"
)
ratios=()
printf '%-42s %6s %8s %6s\n' expression ours libpcap ratio
for e in "${EXPRS[@]}"; do
  ours=$("$BIN" -r "$F" -f "$e" --dump-filter | wc -l)
  theirs=$(tcpdump -r "$F" -d "$e" 2>/dev/null | wc -l)
  r=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  ratios+=("$r")
  printf '%-42s %6d %8d %6s\n' "$e" "$ours" "$theirs" "$r"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "median ratio (ours / libpcap): $median (target <= 1.5)"
