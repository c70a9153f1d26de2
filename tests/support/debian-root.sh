#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Prints the path of a pristine Debian root (debootstrap minbase: dpkg and
# apt, nothing else) for tests that run a real package manager in a chroot.
# Tests copy it and never change it. Built on first use (about a minute) from
# the host's apt mirror and cached, keyed by a hash of this file and the suite.
#
#   debian-root.sh [CACHE_DIR]   (default: $AMIBOOT_TEST_CACHE or /var/cache/amiboot-test)
#
# Exit status 77, with the reason on stderr, when it cannot be built here (not
# root, no debootstrap, no mirror); AMIBOOT_E2E_MIRROR overrides the mirror.
set -euo pipefail
SUITE=bookworm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-${AMIBOOT_TEST_CACHE:-/var/cache/amiboot-test}}

[ "$(id -u)" = 0 ] || {
  echo "debian-root: needs root (debootstrap, chroot)" >&2
  exit 77
}
command -v debootstrap >/dev/null || {
  echo "debian-root: debootstrap is not installed (tests/support/install-deps.sh installs it)" >&2
  exit 77
}
key=$( (
  cat "${BASH_SOURCE[0]}"
  echo "suite=$SUITE"
) | sha256sum | cut -c1-16)
root=$cache/minbase-$key
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ ! -f "$root/ok" ]; then
  mirror=${AMIBOOT_E2E_MIRROR:-$("$here/apt-mirror.sh" "$SUITE")}
  [ -n "$mirror" ] || {
    echo "debian-root: no Debian mirror in /etc/apt/sources.list{,.d} (set AMIBOOT_E2E_MIRROR)" >&2
    exit 77
  }
  rm -rf "$root"
  tmp=$(mktemp -d "$cache/build.XXXXXX")
  if ! debootstrap --variant=minbase "$SUITE" "$tmp/rootfs" "$mirror" >"$tmp/log" 2>&1; then
    tail -n 20 "$tmp/log" >&2
    rm -rf "$tmp"
    echo "debian-root: debootstrap $SUITE from $mirror failed" >&2
    exit 1
  fi
  # The tests bring their own repository; the mirror is not reachable from
  # every test, and stale lists are what a first boot meets anyway.
  : >"$tmp/rootfs/etc/apt/sources.list"
  rm -rf "$tmp/rootfs"/var/cache/apt/archives/*.deb "$tmp/rootfs"/var/lib/apt/lists/* "$tmp/log"
  date -u +%FT%TZ >"$tmp/ok"
  for old in "$cache"/minbase-*; do
    [ -d "$old" ] && rm -rf "$old"
  done
  mv "$tmp" "$root"
fi
echo "$root/rootfs"
