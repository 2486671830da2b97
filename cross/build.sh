#!/usr/bin/env bash
# Builds the static musl router binaries into dist/: pktstat-VERSION-TARGET, stripped,
# size-tuned (profile release-small). Usage: cross/build.sh [TARGET...] (default: all six).
#
# x86_64 / i686 / aarch64 musl have prebuilt std from rustup; armv7 hard-float and 32-bit MIPS
# (both byte orders) do not, so their std is built from source (-Zbuild-std, RUSTC_BOOTSTRAP on
# stable) and linked by zig through cargo-zigbuild.
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
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
mkdir -p dist
for t in "${targets[@]}"; do
  case "$t" in
    x86_64-unknown-linux-musl|i686-unknown-linux-musl)
      RUSTFLAGS="-Ctarget-feature=+crt-static" \
        cargo build -q --locked -p pktstat --profile release-small --target "$t" ;;
    aarch64-unknown-linux-musl)
      CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld RUSTFLAGS="-Ctarget-feature=+crt-static" \
        cargo build -q --locked -p pktstat --profile release-small --target "$t" ;;
    armv7-unknown-linux-musleabihf)
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Clink-self-contained=no -Ctarget-feature=+crt-static" \
        cargo zigbuild -q --locked -p pktstat --profile release-small --target "$t" \
        -Zbuild-std=std,panic_abort ;;
    mips-unknown-linux-musl|mipsel-unknown-linux-musl)
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Clink-self-contained=no -Ctarget-feature=+crt-static" \
        cargo zigbuild -q --locked -p pktstat --profile release-small --target "$t" \
        -Zbuild-std=std,panic_abort ;;
    *) echo "cross/build.sh: unknown target $t (known: ${all[*]})" >&2; exit 2 ;;
  esac
  cp "target/cross/$t/release-small/pktstat" "dist/pktstat-$version-$t"
done
