#!/usr/bin/env bash
# `make cross-test`: every cross test, in order of cost. Builds dist/ first (cross/build.sh is
# incremental: seconds when nothing changed). Run as root (live tests use network namespaces).
#   1. cross-offline.sh    six binaries x every fixture, byte-identical to the host build
#   2. cross-unit.sh       core unit/property tests under qemu-user: aarch64, armv7, mips
#   3. cross-live-user.sh  live on lo through the recvmsg() fallback: aarch64, mips
#   4. cross-system.sh     live on eth0 through the TPACKET_V3 ring, Debian kernels: aarch64, armv7
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS
bash cross/build.sh
for s in offline unit live-user system; do
  start=$SECONDS
  bash "tests/scripts/cross-$s.sh"
  echo "cross-test: cross-$s passed in $((SECONDS - start)) s" >&2
done
echo "cross-test: all cross tests passed in $((SECONDS - t0)) s" >&2
