#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the amiboot .deb and the amiboot-cloud-init-compat .deb.
#
#   packaging/deb/build.sh [--no-lintian] [--install-deps] [OUTDIR]
#
# dpkg-buildpackage wants debian/ at the root of the source tree, so the tree
# is copied (without .git and build folders) to a scratch folder, this
# folder's debian/ is put at its root and `dpkg-buildpackage -us -uc -b` runs
# there. The .debs land in OUTDIR (default: build/packages of the source
# tree); the amiboot .deb's path is the last line printed, the compat
# package's the line before. lintian then checks both: errors fail the
# build, warnings are shown.
#
# --install-deps: install missing Build-Depends (and debhelper, lintian) with
# apt-get first; needs root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../build-common.sh
. "$here/../build-common.sh"
parse_build_options deb/build.sh 3,15p --no-lintian -- "$@"
lintian=$((1 - no_lintian))

build_depends() {
  # The Build-Depends field of debian/control, folded onto one line.
  awk '/^Build-Depends:/ {f=1; sub(/^Build-Depends:/, ""); print; next}
       f && /^[ \t]/ {print; next} {f=0}' "$here/debian/control" | tr -d '\n' |
    sed 's/[[:space:]]\+/ /g; s/^ //; s/,[[:space:]]*$//'
}

if [ "$install_deps" = 1 ]; then
  needed="$(build_depends), dpkg-dev, fakeroot"
  [ "$lintian" = 1 ] && needed="$needed, lintian"
  if ! dpkg-checkbuilddeps -d "$needed" /dev/null >/dev/null 2>&1; then
    log "installing build dependencies"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || log "apt-get update failed; trying with the current lists"
    apt-get satisfy -y -qq --no-install-recommends "$needed" >/dev/null
  fi
fi

for tool in dpkg-buildpackage dh; do
  if ! command -v "$tool" >/dev/null; then
    log "$tool is missing: apt-get install dpkg-dev debhelper (or run with --install-deps)"
    exit 1
  fi
done

# The package version comes from debian/changelog; say so when it drifts from
# the project version in CMakeLists.txt.
cmake_version=$(project_version)
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ -n "$cmake_version" ] && [ "${deb_version%%-*}" != "$cmake_version" ]; then
  log "warning: debian/changelog says $deb_version, CMakeLists.txt says $cmake_version"
fi

work=$(package_work_dir deb)
trap 'rm -rf "$work"' EXIT
src="$work/amiboot-$deb_version"
mkdir -p "$src"
# Everything but VCS data, build trees and the packaging output itself.
source_tar --exclude=./packaging/deb/debian | tar -C "$src" -xf -
cp -a "$here/debian" "$src/debian"

log "building in $src"
(
  cd "$src"
  # -j from the number of CPUs unless the caller set DEB_BUILD_OPTIONS.
  export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
  dpkg-buildpackage -us -uc -b
) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  log "dpkg-buildpackage failed (full log above, last 60 lines)"
  exit 1
}

debs=("$work"/amiboot_*.deb)
compat=("$work"/amiboot-cloud-init-compat_*.deb)
if [ ! -f "${debs[0]}" ] || [ ! -f "${compat[0]}" ]; then
  log "no .deb produced (amiboot and amiboot-cloud-init-compat)"
  exit 1
fi
cp "${debs[@]}" "${compat[@]}" "$outdir/"
deb="$outdir/$(basename "${debs[0]}")"
compat_deb="$outdir/$(basename "${compat[0]}")"

if [ "$lintian" = 1 ]; then
  if ! command -v lintian >/dev/null; then
    log "lintian is not installed; not checked (apt-get install lintian)"
  else
    changes=("$work"/amiboot_*.changes)
    # lintian exits non-zero on errors; print everything it says.
    if ! lintian --pedantic --display-info "${changes[0]}" >&2; then
      log "lintian reported errors"
      exit 1
    fi
    log "lintian: no errors"
  fi
fi

echo "$compat_deb"
echo "$deb"
