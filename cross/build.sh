#!/usr/bin/env bash
# Builds the static musl router binaries into dist/: pktstat-VERSION-TARGET, stripped,
# size-tuned (profile release-small), and checks each one: `file` must say statically linked
# (or static-pie linked) and the size must be at most 800 KiB.
#   cross/build.sh [TARGET...]      build (default: all six)
#   cross/build.sh --sums           build all six, then write dist/SHA256SUMS (`make dist`)
#
# x86_64 / i686 / aarch64 musl have prebuilt std from rustup; armv7 hard-float and 32-bit MIPS
# (both byte orders) do not, so their std is built from source (-Zbuild-std, RUSTC_BOOTSTRAP on
# stable) and linked by zig through cargo-zigbuild. That std is built with its
# `optimize_for_size` feature (smaller formatting and sorting code): the MIPS binaries shrink by
# about 40% (767 -> 456 KiB), which keeps them well inside the budget. Every target shares one
# target dir (target/cross): host-side build scripts and proc macros are built once; each
# build-std target keeps its own std there, rebuilt only when the toolchain or flags change.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash cross/setup.sh
TOOLS="${PKTSTAT_CROSS_TOOLS:-$HOME/.cache/pktstat-cross}"
export PATH="$TOOLS/venv/bin:$PATH"   # python3 -m ziglang for cargo-zigbuild
export CARGO_TARGET_DIR="$top/target/cross"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
all=(x86_64-unknown-linux-musl i686-unknown-linux-musl aarch64-unknown-linux-musl
     armv7-unknown-linux-musleabihf mips-unknown-linux-musl mipsel-unknown-linux-musl)
sums=0
targets=()
for a in "$@"; do
  case "$a" in --sums) sums=1 ;; *) targets+=("$a") ;; esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
MAX_BYTES=$((800 * 1024))
# Paths of this checkout, the cargo registry and the rust-src std out of the binaries, so the
# same commit builds the same bytes wherever it is checked out.
remap="--remap-path-prefix=$top=/pktstat --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
remap+=" --remap-path-prefix=${RUSTUP_HOME:-$HOME/.rustup}=/rustup"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
mkdir -p dist
for t in "${targets[@]}"; do
  case "$t" in
    x86_64-unknown-linux-musl|i686-unknown-linux-musl)
      RUSTFLAGS="-Ctarget-feature=+crt-static $remap" \
        cargo build -q --locked -p pktstat --profile release-small --target "$t" ;;
    aarch64-unknown-linux-musl)
      CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld RUSTFLAGS="-Ctarget-feature=+crt-static $remap" \
        cargo build -q --locked -p pktstat --profile release-small --target "$t" ;;
    armv7-unknown-linux-musleabihf)
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Clink-self-contained=no -Ctarget-feature=+crt-static $remap" \
        cargo zigbuild -q --locked -p pktstat --profile release-small --target "$t" \
        -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size ;;
    mips-unknown-linux-musl|mipsel-unknown-linux-musl)
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Clink-self-contained=no -Ctarget-feature=+crt-static $remap" \
        cargo zigbuild -q --locked -p pktstat --profile release-small --target "$t" \
        -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size ;;
    *) echo "cross/build.sh: unknown target $t (known: ${all[*]})" >&2; exit 2 ;;
  esac
  out="dist/pktstat-$version-$t"
  cp "target/cross/$t/release-small/pktstat" "$out"
  desc=$(file -b "$out")
  case "$desc" in
    *"statically linked"*|*"static-pie linked"*) ;;
    *) echo "cross/build.sh: $out is not static: $desc" >&2; exit 1 ;;
  esac
  size=$(stat -c %s "$out")
  if [ "$size" -gt "$MAX_BYTES" ]; then
    echo "cross/build.sh: $out is $size bytes, over the $MAX_BYTES-byte (800 KiB) budget" >&2
    exit 1
  fi
  printf '%-52s %8d bytes (%d KiB)\n' "$out" "$size" $(((size + 1023) / 1024))
done
if [ "$sums" = 1 ]; then
  (cd dist && sha256sum "${all[@]/#/pktstat-$version-}" >SHA256SUMS && cat SHA256SUMS)
fi
