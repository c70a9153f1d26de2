#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing amiboot needs on Debian 12. Used by the
# README's two commands and by CI; safe to run again.
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
packages=(
  cmake ninja-build g++ pkg-config binutils
  libcurl4-openssl-dev nlohmann-json3-dev libsystemd-dev libyaml-cpp-dev zlib1g-dev libblkid-dev libfdisk-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev
  systemd util-linux procps
  nftables iptables iproute2
  e2fsprogs xfsprogs fdisk
  passwd sudo openssh-client strace
  dpkg-dev debootstrap gpg
  # The real RPM tools for the dnf and zypper tests. Not dnf-plugins-core
  # (needs-restarting): Debian 12's Breaks zypper.
  rpm createrepo-c dnf zypper
  scdoc man-db zsh chromium rpmlint lintian
  clang-15 libfuzzer-15-dev llvm-15 ccache
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# dnf-plugins-core (dnf needs-restarting) Breaks zypper on Debian 12, so it
# is unpacked here instead of installed; the dnf reboot tests lay it over
# python3's dist-packages in a private mount namespace
# (tests/support/with-dnf-plugins.sh).
plugins=/var/cache/amiboot-tests/dnf-plugins-core
if [ ! -f "$plugins/usr/lib/python3/dist-packages/dnf-plugins/needs_restarting.py" ]; then
  download=$(mktemp -d)
  $sudo chown _apt "$download"  # apt downloads as its _apt user
  (cd "$download" && apt-get download -qq dnf-plugins-core)
  $sudo mkdir -p "$plugins"
  $sudo dpkg-deb -x "$download"/dnf-plugins-core_*.deb "$plugins"
  # Only needs-restarting: the package's other plugins (local, ...) would
  # change what every dnf command of the tests does.
  $sudo find "$plugins/usr/lib/python3/dist-packages/dnf-plugins" -name '*.py' \
    ! -name needs_restarting.py -delete
  rm -rf "$download"
fi
