#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the amiboot .rpm and the amiboot-cloud-init-compat .rpm with
# rpmbuild (on Debian: apt-get install rpm).
#
#   packaging/rpm/build.sh [--install-deps] [OUTDIR]
#
# Makes amiboot-VERSION.tar.gz from the source tree (without .git and build
# folders), runs `rpmbuild -bb` on packaging/rpm/amiboot.spec in a scratch
# _topdir and copies the .rpms to OUTDIR (default: build/packages of the
# source tree); the amiboot .rpm's path is the last line printed, the compat
# package's the line before. Then checks with `rpm -qlp` that the packages
# hold the binary, the units, the licence, the man pages, the catalog, the
# completions, the cloud-init command and its unit aliases, and runs rpmlint
# (packaging/rpm/amiboot.rpmlintrc says why each remaining finding stays)
# when it is installed: an error fails the build.
#
# Where BuildRequires are not rpm packages (Debian), rpmbuild runs with
# --nodeps and the build uses the host's libraries; force either way with
# RPM_NODEPS=1 or RPM_NODEPS=0. --install-deps: apt-get install rpm when
# rpmbuild is missing (root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../build-common.sh
. "$here/../build-common.sh"
parse_build_options rpm/build.sh 3,16p -- "$@"

if ! command -v rpmbuild >/dev/null && [ "$install_deps" = 1 ] && command -v apt-get >/dev/null; then
  log "installing rpm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm >/dev/null ||
    log "apt-get install rpm failed"
fi
if ! command -v rpmbuild >/dev/null; then
  log "rpmbuild is missing (Debian: apt-get install rpm, or --install-deps)"
  exit 1
fi

version=$(project_version)
if [ -z "$version" ]; then
  log "cannot read the project version from CMakeLists.txt"
  exit 1
fi

work=$(package_work_dir rpm)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SOURCES,SPECS,BUILD,RPMS,SRPMS,stage}
source_tar --transform "s,^\.,amiboot-$version," | gzip >"$work/SOURCES/amiboot-$version.tar.gz"
cp "$here/amiboot.spec" "$work/SPECS/"

nodeps=${RPM_NODEPS:-}
if [ -z "$nodeps" ]; then
  # No rpm database with the build dependencies (a Debian host): --nodeps.
  if rpm -q cmake >/dev/null 2>&1; then nodeps=0; else nodeps=1; fi
fi
args=(-bb
  --define "_topdir $work"
  --define "ver $version")
# Debian's rpm has neither cmake-rpm-macros nor systemd-rpm-macros: load
# stand-ins for them there, and only there.
if [ -z "$(rpm --eval '%{?cmake:yes}')" ] || [ -z "$(rpm --eval '%{?systemd_post:yes}')" ]; then
  log "no cmake/systemd rpm macros here: loading packaging/rpm/debian-host.macros"
  args+=(--load "$here/debian-host.macros")
fi
if [ "$nodeps" = 1 ]; then
  args+=(--nodeps
    # Debian's rpm has no find-debuginfo setup worth having here.
    --define "debug_package %{nil}")
fi

log "rpmbuild ${args[*]} amiboot.spec"
if ! rpmbuild "${args[@]}" "$work/SPECS/amiboot.spec" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  log "rpmbuild failed (last 60 lines above)"
  exit 1
fi

rpms=("$work"/RPMS/*/amiboot-"$version"-*.rpm)
if [ ! -f "${rpms[0]}" ]; then
  log "no .rpm produced"
  exit 1
fi
compat=("$work"/RPMS/*/amiboot-cloud-init-compat-"$version"-*.rpm)  # noarch
if [ ! -f "${compat[0]}" ]; then
  log "no amiboot-cloud-init-compat .rpm produced"
  exit 1
fi
cp "${rpms[0]}" "${compat[0]}" "$outdir/"
rpmfile="$outdir/$(basename "${rpms[0]}")"
compatfile="$outdir/$(basename "${compat[0]}")"

listing=$(rpm -qlp "$rpmfile" 2>/dev/null)
missing=0
# Patterns: Debian's rpm puts the version in doc and licence folders and
# compresses no man pages; Fedora's does neither and does.
for f in /usr/bin/amiboot /usr/lib/systemd/system/amiboot.service \
  /usr/lib/systemd/system-generators/amiboot-login-generator \
  /usr/lib/systemd/system/amiboot-final.service /usr/lib/systemd/system/amiboot-firewall.service \
  /etc/amiboot/amiboot.yaml /var/lib/amiboot \
  '/usr/share/licenses/amiboot(-[0-9.]+)?/LICENSE' '/usr/share/man/man8/amiboot\.8(\.gz)?' \
  '/usr/share/man/man5/amiboot\.yaml\.5(\.gz)?' /usr/lib/systemd/catalog/amiboot.catalog \
  /usr/share/bash-completion/completions/amiboot /usr/share/zsh/site-functions/_amiboot \
  /usr/lib/systemd/system/cloud-init.service.d/50-amiboot.conf \
  /usr/lib/systemd/system/sshd-keygen@.service.d/50-amiboot.conf; do
  if ! grep -qxE "$f" <<<"$listing"; then
    log "the package lacks $f"
    missing=1
  fi
done
if [ "$missing" = 1 ]; then
  printf '%s\n' "$listing" >&2
  exit 1
fi
log "rpm -qlp lists the binary, the units, the config, the state folder, the licence, the man pages, the catalog and the completions"

listing=$(rpm -qlp "$compatfile" 2>/dev/null)
for f in /usr/bin/cloud-init '/usr/share/man/man1/cloud-init\.1(\.gz)?' /usr/lib/amiboot/cloud-init-compat \
  /usr/lib/systemd/system/cloud-init.target /usr/lib/systemd/system/cloud-final.service \
  /var/lib/cloud/scripts/per-boot; do
  if ! grep -qxE "$f" <<<"$listing"; then
    log "amiboot-cloud-init-compat lacks $f"
    missing=1
  fi
done
# Provides and conflicts with cloud-init, and needs this very amiboot.
deps=$(rpm -qp --provides --conflicts --requires "$compatfile" 2>/dev/null)
for want in "cloud-init" "amiboot = $version-"; do
  if ! grep -q "^$want" <<<"$deps"; then
    log "amiboot-cloud-init-compat: no '$want' among its provides, conflicts, requires"
    missing=1
  fi
done
if [ "$missing" = 1 ]; then
  printf '%s\n%s\n' "$listing" "$deps" >&2
  exit 1
fi
log "rpm -qlp lists the cloud-init command, the marker, the target and the aliases"

if command -v rpmlint >/dev/null; then
  # rpmlint exits non-zero on errors; print everything it says.
  if ! rpmlint -r "$here/amiboot.rpmlintrc" "$rpmfile" "$compatfile" >&2; then
    log "rpmlint reported errors"
    exit 1
  fi
  log "rpmlint: no errors"
else
  log "rpmlint is not installed; not checked (apt-get install rpmlint)"
fi

echo "$compatfile"
echo "$rpmfile"
