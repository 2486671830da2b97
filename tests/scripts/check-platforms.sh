#!/usr/bin/env bash
# Compiles (never runs) pktstat for the platforms where libpcap is the only live backend:
# FreeBSD and macOS (Apple silicon), with the `pcap` feature (warnings as errors) and without.
# `cargo check` needs only Rust metadata, no libpcap for the target: LIBPCAP_VER tells the
# pcap crate's build script which libpcap API to assume instead of probing the host.
set -euo pipefail
cd "$(dirname "$0")/../.."
CARGO=${CARGO:-cargo}
export LIBPCAP_VER=${LIBPCAP_VER:-1.10.3}
for target in x86_64-unknown-freebsd aarch64-apple-darwin; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  echo "check-platforms: $target --features pcap" >&2
  RUSTFLAGS="${RUSTFLAGS:-} -D warnings" \
    $CARGO check -p pktstat --features pcap --target "$target" --target-dir target/check-platforms
  # Without libpcap these platforms only read files (-r): that build must compile cleanly too.
  echo "check-platforms: $target (no libpcap: offline only)" >&2
  RUSTFLAGS="${RUSTFLAGS:-} -D warnings" \
    $CARGO check -p pktstat --target "$target" --target-dir target/check-platforms
done
echo "check-platforms: FreeBSD and macOS compile (not run)"
