#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The e2e test's base image: a Debian root file system with systemd, a cloud
# kernel, sshd and systemd-networkd, without amiboot. tests/e2e/run.sh caches
# the result keyed by a hash of this file and the suite, so any edit here
# (a package added to PACKAGES, a setting changed) rebuilds the cache.
#
#   base-image.sh ROOTFS SUITE MIRROR [DEB_CACHE_DIR]
#
# ROOTFS must not exist yet. Needs root and debootstrap.
set -euo pipefail

# Bump to force a rebuild without another change.
BASE_IMAGE_VERSION=1

# Packages on top of minbase. libcurl4 and libfdisk1 are here so the amiboot
# .deb installs offline (trixie's libcurl is libcurl4t64, the 64-bit time_t
# rename, which Provides libcurl4; debootstrap does not resolve virtual
# packages, hence the real name per suite below; trixie's minbase has no
# libfdisk1, bookworm's has it through util-linux); add what later tests
# need in the guest. sudo: the default user's sudo rule is checked by visudo
# and tried over ssh; nftables: the firewall module's `nft` (the e2e user
# data has a firewall: part); tzdata: the zones the timezone module links to
# (Priority required in bookworm, named so it stays); ca-certificates:
# update-ca-certificates and the bundle the ca_certs module adds the test CA
# to (it brings openssl, which the guest's trust check uses); man-db and
# bash-completion: `man amiboot` and `complete -p amiboot` are checked in
# the guest (minbase has neither); e2fsprogs: mkfs.ext4 and resize2fs for
# the volumes and growpart modules (the .deb recommends it; in bookworm's
# minbase, not in trixie's); zstd: the initramfs's compression (below).
PACKAGES=(
  systemd-sysv
  udev
  dbus
  linux-image-cloud-amd64
  initramfs-tools
  openssh-server
  iproute2
  procps
  libfdisk1
  e2fsprogs
  sudo
  nftables
  tzdata
  ca-certificates
  man-db
  bash-completion
  zstd
)

if [ $# -lt 3 ]; then
  echo "usage: base-image.sh ROOTFS SUITE MIRROR [DEB_CACHE_DIR]" >&2
  exit 2
fi
rootfs=$1
suite=$2
mirror=$3
debcache=${4:-}

log() { echo "base-image: $*" >&2; }

if [ -e "$rootfs" ]; then
  echo "base-image: $rootfs exists" >&2
  exit 2
fi

case "$suite" in
  bookworm) PACKAGES+=(libcurl4) ;;
  *) PACKAGES+=(libcurl4t64) ;;
esac

include=$(
  IFS=,
  echo "${PACKAGES[*]}"
)
args=(--variant=minbase --components=main "--include=$include")
if [ -n "$debcache" ]; then
  mkdir -p "$debcache"
  args+=("--cache-dir=$debcache")
fi
log "debootstrap $suite from $mirror (version $BASE_IMAGE_VERSION)"
debootstrap "${args[@]}" "$suite" "$rootfs" "$mirror" >"$rootfs.debootstrap.log" 2>&1 || {
  tail -n 40 "$rootfs.debootstrap.log" >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2
  log "debootstrap failed"
  exit 1
}
rm -f "$rootfs.debootstrap.log"

# The image has one file system, found by label (mkfs.ext4 -L root).
cat >"$rootfs/etc/fstab" <<'EOF'
LABEL=root / ext4 rw,errors=remount-ro 0 1
EOF
echo amiboot-e2e >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 amiboot-e2e
::1 localhost ip6-localhost ip6-loopback
EOF

# DHCP on every wired link, and a network-online.target that means it:
# systemd-networkd-wait-online holds the target until the lease is there.
mkdir -p "$rootfs/etc/systemd/network"
cat >"$rootfs/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
IPv6AcceptRA=no
EOF
systemctl --root="$rootfs" enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1

# Persistent journal, so a failed run can be read from the image afterwards.
mkdir -p "$rootfs/var/log/journal"

# Nothing in the background that could race the test or slow the boot.
# (modprobe@drm: the guest has no display; loading drm takes seconds under
# TCG.)
systemctl --root="$rootfs" mask apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer modprobe@drm.service >/dev/null 2>&1 || true

# A small initramfs: the root disk's virtio drivers only (the file system,
# ext4, is built into the kernel), compressed with zstd (initramfs-tools'
# default, when the zstd program is there). MODULES=most's storage and
# network drivers, gzipped, cost every boot seconds under TCG.
sed -i 's/^MODULES=.*/MODULES=list/' "$rootfs/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk >>"$rootfs/etc/initramfs-tools/modules"
chroot "$rootfs" update-initramfs -u -k all >"$rootfs.initramfs.log" 2>&1 || {
  cat "$rootfs.initramfs.log" >&2
  log "update-initramfs failed"
  exit 1
}
rm -f "$rootfs.initramfs.log"

# Root may log in on the serial console without a password (debugging a
# failed run: boot the image by hand).
chroot "$rootfs" passwd -d root >/dev/null

# Smaller image, faster mkfs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
rm -rf "$rootfs/debootstrap"

if ! ls "$rootfs"/boot/vmlinuz-* >/dev/null 2>&1 || ! ls "$rootfs"/boot/initrd.img-* >/dev/null 2>&1; then
  log "no kernel or initrd in $rootfs/boot"
  exit 1
fi
log "done"
