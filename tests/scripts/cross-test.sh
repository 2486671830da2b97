#!/usr/bin/env bash
# `make cross-test`: every cross test, in order of cost. Builds dist/ first (cross/build.sh is
# incremental: seconds when nothing changed). Run as root (live tests use network namespaces).
#   1. cross-offline.sh    six binaries x every fixture, byte-identical to the host build
#   2. cross-unit.sh       core unit/property tests under qemu-user: aarch64, armv7, mips
#   3. cross-live-user.sh  live on lo through the recvmsg() fallback: aarch64, mips
#   4. cross-system.sh     live on eth0 through the TPACKET_V3 ring, Debian kernels: aarch64, armv7
# Every part runs even when an earlier one fails; the status is 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS
bash cross/build.sh || { echo "cross-test: cross/build.sh failed" >&2; exit 1; }
failed=()
for s in offline unit live-user system; do
  start=$SECONDS
  if bash "tests/scripts/cross-$s.sh"; then
    echo "cross-test: cross-$s passed in $((SECONDS - start)) s" >&2
  else
    echo "cross-test: cross-$s FAILED after $((SECONDS - start)) s" >&2
    failed+=("cross-$s")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "cross-test: FAILED: ${failed[*]} ($((SECONDS - t0)) s)" >&2
  exit 1
fi
echo "cross-test: all cross tests passed in $((SECONDS - t0)) s" >&2
