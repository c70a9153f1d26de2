#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds tiny .debs and a flat apt repository of them in DIR, for tests that
# run a real apt-get against `deb [trusted=yes] file:DIR ./`.
#
#   make-apt-repo.sh DIR NAME=VERSION[+reboot|+broken] ...
#
# Each package installs /usr/share/NAME/version holding VERSION. With
# "+reboot" its postinst also creates /var/run/reboot-required, as a kernel
# or libc update does on Debian; with "+broken" its postinst fails. Needs dpkg-deb and dpkg-scanpackages
# (dpkg-dev).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: make-apt-repo.sh DIR NAME=VERSION[+reboot|+broken] ..." >&2
  exit 2
fi
out=$1
shift
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in "$@"; do
  postinst=""
  case "$spec" in
    *+reboot) postinst="touch /var/run/reboot-required" spec=${spec%+reboot} ;;
    *+broken) postinst="echo 'amiboot test: this postinst fails' >&2; exit 1" spec=${spec%+broken} ;;
  esac
  name=${spec%%=*}
  version=${spec#*=}
  pkg=$work/$name-$version
  mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/$name"
  printf '%s\n' "$version" >"$pkg/usr/share/$name/version"
  cat >"$pkg/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: all
Maintainer: amiboot tests <tests@amiboot.invalid>
Section: misc
Priority: optional
Description: tiny package for amiboot's package tests
CONTROL
  if [ -n "$postinst" ]; then
    printf '#!/bin/sh\nset -e\n%s\n' "$postinst" >"$pkg/DEBIAN/postinst"
    chmod 0755 "$pkg/DEBIAN/postinst"
  fi
  dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$out/${name}_${version}_all.deb" >/dev/null
done
(cd "$out" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)
