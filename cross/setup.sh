#!/usr/bin/env bash
# Installs, idempotently, what the cross builds need: rustup targets, rust-src (for
# -Zbuild-std on armv7/mips musl, which have no prebuilt std), zig (PyPI `ziglang`, in a venv)
# and cargo-zigbuild. Prints nothing when everything is already there.
set -euo pipefail
TOOLS="${PKTSTAT_CROSS_TOOLS:-$HOME/.cache/pktstat-cross}"
installed=$(rustup target list --installed)
for t in x86_64-unknown-linux-musl i686-unknown-linux-musl aarch64-unknown-linux-musl thumbv7em-none-eabihf; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
if [ ! -x "$TOOLS/venv/bin/python-zig" ] && [ ! -x "$TOOLS/venv/bin/zig" ]; then
  mkdir -p "$TOOLS"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q ziglang
fi
command -v cargo-zigbuild >/dev/null 2>&1 || cargo install --locked -q cargo-zigbuild
# qemu-user runs the binaries of every architecture; qemu-system-arm boots Debian's arm kernels
# for the TPACKET ring tests (qemu-user lacks the packet-socket options).
need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v qemu-system-aarch64 >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v file >/dev/null 2>&1 || need+=(file)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
