#!/usr/bin/env bash
# Installs, idempotently, every system tool the tests and benchmarks use.
# Each tool is looked up first; apt-get runs only when something is missing.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have tshark     || need+=(tshark)
have editcap    || need+=(tshark)
have tcpdump    || need+=(tcpdump)
have tcpreplay  || need+=(tcpreplay)
have trafgen    || need+=(netsniff-ng)
have ip         || need+=(iproute2)
have ping       || need+=(iputils-ping)
have setpriv    || need+=(util-linux)
have capsh      || need+=(libcap2-bin)
have file       || need+=(file)
have python3    || need+=(python3)
/usr/bin/python3 -c "import scapy" 2>/dev/null || need+=(python3-scapy)
[ -d /usr/share/doc/python3-dpkt/examples ] || need+=(python3-dpkt)
[ -f /usr/include/pcap/pcap.h ] || need+=(libpcap-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
