#!/usr/bin/env bash
# The core's unit and property tests, compiled for aarch64, armv7 (hard float) and 32-bit
# big-endian MIPS musl and run under qemu-user through cargo's target runner: the decoders,
# the capture-file reader and the flow table on a big-endian CPU and on 32-bit words.
#
# Usage: tests/scripts/cross-unit.sh [TARGET...]   (default: the three above)
# armv7 and MIPS have no prebuilt std: it is built from rust-src (-Zbuild-std, RUSTC_BOOTSTRAP on
# stable) and linked by zig (cargo-zigbuild), as in cross/build.sh. Their own target dir
# (target/cross-test) keeps the test std from evicting the release one of cross/build.sh.
# Property tests run PROPTEST_CASES cases each (default 32 here: emulation is ~10x slower).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bash cross/setup.sh
TOOLS="${PKTSTAT_CROSS_TOOLS:-$HOME/.cache/pktstat-cross}"
export PATH="$TOOLS/venv/bin:$PATH"
export CARGO_TARGET_DIR="$top/target/cross-test"
export PROPTEST_CASES="${PROPTEST_CASES:-32}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf mips-unknown-linux-musl)

die() { echo "cross-unit: $*" >&2; exit 1; }
for t in "${targets[@]}"; do
  case "$t" in
    aarch64-*) q=qemu-aarch64-static ;; armv7-*) q=qemu-arm-static ;;
    mips-*) q=qemu-mips-static ;; mipsel-*) q=qemu-mipsel-static ;;
    *) die "unknown target $t" ;;
  esac
  command -v "$q" >/dev/null 2>&1 || die "missing $q (apt-get install qemu-user-static)"
  var=$(echo "$t" | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${var}_RUNNER=$q"
  echo "cross-unit: $t (under $q, PROPTEST_CASES=$PROPTEST_CASES)" >&2
  start=$SECONDS
  case "$t" in
    aarch64-*)
      env "CARGO_TARGET_${var}_LINKER=rust-lld" RUSTFLAGS="-Ctarget-feature=+crt-static" \
        cargo test -q --locked -p pktstat-core --lib --target "$t" ;;
    *)
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Clink-self-contained=no -Ctarget-feature=+crt-static" \
        cargo-zigbuild test -q --locked -p pktstat-core --lib --target "$t" -Zbuild-std ;;
  esac
  echo "cross-unit: $t passed in $((SECONDS - start)) s" >&2
done
