#!/usr/bin/env bash
# Live capture with the TPACKET ring on real (emulated) ARM kernels: boots Debian's own arm64 and
# armmp kernels under qemu-system (TCG) with an initramfs this script builds — our static
# pktstat, the kernel package's virtio-net modules and a tiny static init (cross/qemu/init.c) —
# injects N known frames into the guest's eth0 through `-netdev socket` and checks pktstat's
# JSON report counts them exactly (cross/qemu/boot_capture.py).
#
# Usage: tests/scripts/cross-system.sh [aarch64|armv7 ...]   (default: both)
# Needs: root is not required; network access to deb.debian.org the first time (the kernel
# packages are cached in ~/.cache/pktstat-cross/kernel).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bash cross/setup.sh
CACHE="${PKTSTAT_CROSS_TOOLS:-$HOME/.cache/pktstat-cross}"
ZIG=("$CACHE/venv/bin/python" -m ziglang)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
FRAMES=${CROSS_SYSTEM_FRAMES:-50}
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 armv7)

die() { echo "cross-system: $*" >&2; exit 1; }
for tool in qemu-system-aarch64 qemu-system-arm cpio gzip python3 apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "missing $tool (run cross/setup.sh as root)"
done

# Debian kernel package for DEBARCH/FLAVOUR, downloaded once and unpacked; prints the tree.
kernel_tree() {
  local debarch=$1 flavour=$2 dir="$CACHE/kernel" pkg deb
  mkdir -p "$dir"
  local foreign
  foreign=$(dpkg --print-foreign-architectures)
  if ! grep -qx "$debarch" <<<"$foreign" \
     || ! apt-cache show "linux-image-$flavour:$debarch" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "need root once to enable the $debarch package lists (dpkg --add-architecture $debarch)"
    dpkg --add-architecture "$debarch"
    apt-get update -qq || true   # a half-synced mirror index for another section is not fatal
  fi
  # The metapackage names the current versioned image, e.g. linux-image-6.1.0-50-arm64.
  pkg=$(apt-cache depends "linux-image-$flavour:$debarch" | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
  [ -n "$pkg" ] || die "apt-cache cannot resolve linux-image-$flavour:$debarch"
  deb=$(ls "$dir/${pkg}_"*"_$debarch.deb" 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    (cd "$dir" && apt-get download -q "$pkg:$debarch" >&2) || die "apt-get download $pkg:$debarch failed"
    deb=$(ls "$dir/${pkg}_"*"_$debarch.deb" | head -n1)
  fi
  if [ ! -d "$dir/x/$pkg/boot" ]; then
    rm -rf "$dir/x/$pkg.tmp"
    mkdir -p "$dir/x/$pkg.tmp"
    dpkg-deb -x "$deb" "$dir/x/$pkg.tmp"
    mv "$dir/x/$pkg.tmp" "$dir/x/$pkg"
  fi
  echo "$dir/x/$pkg"
}

run_arch() {
  local arch=$1 debarch flavour triple zigtarget qemu tree kver root init bin
  case "$arch" in
    aarch64) debarch=arm64 flavour=arm64 triple=aarch64-unknown-linux-musl
             zigtarget=(-target aarch64-linux-musl -mcpu=generic)
             qemu=(qemu-system-aarch64 -M virt -cpu cortex-a53 -m 256) ;;
    armv7)   debarch=armhf flavour=armmp triple=armv7-unknown-linux-musleabihf
             zigtarget=(-target arm-linux-musleabihf -mcpu=cortex_a7)
             qemu=(qemu-system-arm -M virt,highmem=off -cpu cortex-a15 -m 256) ;;
    *) die "unknown arch $arch (aarch64 or armv7)" ;;
  esac
  tree=$(kernel_tree "$debarch" "$flavour")
  kver=$(basename "$(ls -d "$tree"/lib/modules/*)")
  bin="dist/pktstat-$version-$triple"
  [ -x "$bin" ] || bash cross/build.sh "$triple"

  init="$CACHE/init-$arch"
  if [ ! -x "$init" ] || [ cross/qemu/init.c -nt "$init" ]; then
    "${ZIG[@]}" cc "${zigtarget[@]}" -static -Os -s -Wall -Wextra -Werror \
      -o "$init.tmp" cross/qemu/init.c
    mv "$init.tmp" "$init"
  fi

  root="target/cross/qemu/$arch/root"
  rm -rf "$root" && mkdir -p "$root/modules"
  cp "$init" "$root/init"
  cp "$bin" "$root/pktstat"
  # virtio-net over virtio-mmio (virtio and virtio_ring are built in); dependencies first.
  : >"$root/modules/order"
  local m f
  for m in failover net_failover virtio_net virtio_mmio; do
    f=$(find "$tree/lib/modules/$kver/kernel" -name "${m}.ko*" | head -n1)
    [ -n "$f" ] || die "$kver has no ${m}.ko"
    case "$f" in *.ko) ;; *) die "compressed module $f: not supported by the test init" ;; esac
    cp "$f" "$root/modules/"
    basename "$f" >>"$root/modules/order"
  done
  printf '%s\n' -i eth0 -t 6s -j >"$root/args"
  # info level: pktstat names the capture mode (the TPACKET_V3 ring is what this test is for).
  printf '%s\n' PKTSTAT_LOG=info PATH=/ >"$root/env"
  # pktstat drops root for `nobody` after setting up the capture: give it one to find.
  mkdir -p "$root/etc"
  printf 'root:x:0:0:root:/:/init\nnobody:x:65534:65534:nobody:/:/init\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"target/cross/qemu/$arch/initrd.gz"

  echo "cross-system: $arch: booting $kver with $bin, injecting $FRAMES frames" >&2
  local t0=$SECONDS
  python3 cross/qemu/boot_capture.py --frames "$FRAMES" --timeout 240 \
    --expect-stderr "TPACKET_V3 ring" \
    --log "target/cross/qemu/$arch/console.log" -- \
    "${qemu[@]}" -smp 1 -display none -monitor none -serial stdio -no-reboot \
    -kernel "$tree/boot/vmlinuz-$kver" -initrd "target/cross/qemu/$arch/initrd.gz" \
    -append "console=ttyAMA0 panic=-1 quiet loglevel=3" \
    -netdev @NETDEV@ -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56
  echo "cross-system: $arch: ok in $((SECONDS - t0)) s" >&2
}

for a in "${arches[@]}"; do run_arch "$a"; done
