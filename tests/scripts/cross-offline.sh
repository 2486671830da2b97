#!/usr/bin/env bash
# Every router binary, under qemu-user, reads every offline fixture (tests/fixtures/**/*.pcap*)
# and must print exactly what the host build prints — stdout, stderr and exit status, in text,
# -j, --jsonl, -v, -n and -l modes. Catches byte-order and word-size bugs (MIPS is big-endian;
# i686, armv7 and MIPS are 32-bit; 32-bit MIPS has no 64-bit atomics).
#
# Usage: tests/scripts/cross-offline.sh [TARGET...]   (default: all six in dist/, built if missing)
# Env: PKTSTAT_HOST_BIN (default target/debug/pktstat, built with cargo if missing).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
all=(x86_64-unknown-linux-musl i686-unknown-linux-musl aarch64-unknown-linux-musl
     armv7-unknown-linux-musleabihf mips-unknown-linux-musl mipsel-unknown-linux-musl)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

die() { echo "cross-offline: $*" >&2; exit 1; }
qemu_for() {
  case "$1" in
    x86_64-*) echo qemu-x86_64-static ;; i686-*) echo qemu-i386-static ;;
    aarch64-*) echo qemu-aarch64-static ;; armv7-*) echo qemu-arm-static ;;
    mips-*) echo qemu-mips-static ;; mipsel-*) echo qemu-mipsel-static ;;
    *) die "unknown target $1" ;;
  esac
}

host=${PKTSTAT_HOST_BIN:-target/debug/pktstat}
if [ -z "${PKTSTAT_HOST_BIN:-}" ]; then cargo build -q --locked -p pktstat; fi
[ -x "$host" ] || die "no host binary at $host"
for t in "${targets[@]}"; do
  command -v "$(qemu_for "$t")" >/dev/null 2>&1 || die "missing $(qemu_for "$t") (apt-get install qemu-user-static, or run cross/setup.sh)"
  [ -x "dist/pktstat-$version-$t" ] || bash cross/build.sh "$t"
done

mapfile -t fixtures < <(find tests/fixtures -type f -name '*.pcap*' | LC_ALL=C sort)
[ ${#fixtures[@]} -gt 0 ] || die "no fixtures under tests/fixtures"
modes=("" "-j" "--jsonl" "-v -j" "-n 3" "-l 1s" "-l 1s --jsonl -v")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# run OUT CMD... : stdout, stderr and the exit status of CMD into OUT.{out,err,rc}
run() {
  local out=$1; shift
  local rc=0
  "$@" >"$out.out" 2>"$out.err" || rc=$?
  echo "$rc" >"$out.rc"
}

fail=0 checks=0
for f in "${fixtures[@]}"; do
  for m in "${modes[@]}"; do
    # shellcheck disable=SC2086  # a mode is several words
    run "$work/host" "$host" -r "$f" $m
    # Identical failures would prove nothing: the host must succeed on the well-formed sample.
    if [ "$f" = tests/fixtures/cross/le-usec.pcap ] && { [ "$(cat "$work/host.rc")" != 0 ] || [ ! -s "$work/host.out" ]; }; then
      die "the host build fails on $f with '$m': $(head -c 300 "$work/host.err")"
    fi
    for t in "${targets[@]}"; do
      q=$(qemu_for "$t")
      # shellcheck disable=SC2086
      run "$work/$t" "$q" "dist/pktstat-$version-$t" -r "$f" $m
      checks=$((checks + 1))
      for s in out err rc; do
        if ! cmp -s "$work/host.$s" "$work/$t.$s"; then
          echo "cross-offline: FAIL $t -r $f $m: $s differs from the host build's" >&2
          diff -u "$work/host.$s" "$work/$t.$s" | head -20 >&2 || true
          fail=1
        fi
      done
    done
  done
  # The same file through stdin (`-r -`), JSON.
  run "$work/host" "$host" -r - -j <"$f"
  for t in "${targets[@]}"; do
    run "$work/$t" "$(qemu_for "$t")" "dist/pktstat-$version-$t" -r - -j <"$f"
    checks=$((checks + 1))
    for s in out err rc; do
      cmp -s "$work/host.$s" "$work/$t.$s" || { echo "cross-offline: FAIL $t -r - -j <$f: $s differs" >&2; fail=1; }
    done
  done
done
[ "$fail" = 0 ] || die "some router binaries disagree with the host build"
echo "cross-offline: ${#targets[@]} targets x ${#fixtures[@]} fixtures: $checks runs identical to the host build"
