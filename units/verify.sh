#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs `systemd-analyze verify` on units/*.service and units/*.target, and on
# the unit aliases the amiboot-cloud-init-compat package ships
# (cloud-final.service -> amiboot-final.service, cloud-init.service ->
# amiboot.service, ...), which must load as the units they name.
#
#   units/verify.sh [AMIBOOT_BINARY] [ROOT]
#
# verify insists that ExecStart= points at an executable and resolves the
# units' dependencies (sysinit.target, ...), so it runs against a scratch root:
# the host's system units, the units from this folder in /etc/systemd/system
# and AMIBOOT_BINARY (default: build-e2e/amiboot, else build/amiboot) as
# /usr/bin/amiboot. With ROOT (an image root with amiboot installed, as the
# e2e test builds) the units are verified in place against that root's units.
# Exit status: 0 clean, 1 findings, 77 systemd-analyze missing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "units/verify.sh: systemd-analyze not found; skipping" >&2
  exit 77
fi

units=""
for f in "$here"/*.service "$here"/*.target; do
  units="$units $(basename "$f")"
done
# alias:unit, as packaging/deb/debian/amiboot-cloud-init-compat.links and
# packaging/rpm/amiboot.spec link them.
aliases="cloud-final.service:amiboot-final.service cloud-config.service:amiboot.service
cloud-init.service:amiboot.service cloud-init-network.service:amiboot.service"

# verify reports problems on stderr and, on systemd 252, does not always exit
# non-zero for them: any output counts as a finding.
check() {
  # shellcheck disable=SC2086 # $units is a list of plain unit names
  out=$(systemd-analyze verify --root="$1" $units 2>&1) || {
    printf '%s\n' "$out" >&2
    return 1
  }
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    return 1
  fi
  return 0
}

# Each alias must load as its unit: same Id, and verify finds nothing.
check_aliases() {
  for pair in $aliases; do
    alias=${pair%%:*}
    unit=${pair#*:}
    [ -e "$1/etc/systemd/system/$alias" ] || [ -e "$1/lib/systemd/system/$alias" ] ||
      [ -e "$1/usr/lib/systemd/system/$alias" ] || continue
    out=$(systemd-analyze verify --root="$1" "$alias" 2>&1) || {
      printf '%s\n' "$out" >&2
      return 1
    }
    if [ -n "$out" ]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    target=$(readlink "$1/etc/systemd/system/$alias" 2>/dev/null ||
      readlink "$1/lib/systemd/system/$alias" 2>/dev/null ||
      readlink "$1/usr/lib/systemd/system/$alias")
    if [ "$(basename "$target")" != "$unit" ]; then
      echo "units/verify.sh: $alias links to $target, not $unit" >&2
      return 1
    fi
  done
  return 0
}

if [ $# -ge 2 ]; then
  check "$2"
  check_aliases "$2"
  echo "units/verify.sh: $units clean in $2"
  exit 0
fi

binary=${1:-}
if [ -z "$binary" ]; then
  for candidate in "$top/build-e2e/amiboot" "$top/build/amiboot"; do
    if [ -x "$candidate" ]; then
      binary=$candidate
      break
    fi
  done
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  echo "units/verify.sh: no amiboot binary; build it or pass its path" >&2
  exit 1
fi

system_units=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [ -e "$d/sysinit.target" ]; then
    system_units=$d
    break
  fi
done
if [ -z "$system_units" ]; then
  echo "units/verify.sh: no system units on this host (no sysinit.target); skipping" >&2
  exit 77
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -a "$system_units" "$root/usr/lib/systemd/system"
cp "$here"/*.service "$here"/*.target "$root/etc/systemd/system/"
for pair in $aliases; do
  ln -s "${pair#*:}" "$root/etc/systemd/system/${pair%%:*}"
done
cp "$binary" "$root/usr/bin/amiboot"
ln -s amiboot "$root/usr/bin/cloud-init"
check "$root"
check_aliases "$root"
# The drop-in for sshd-keygen@.service (Amazon Linux, RHEL), on a stand-in of
# that template unit: it must load as an instance's drop-in.
mkdir -p "$root/etc/systemd/system/sshd-keygen@.service.d"
cat >"$root/etc/systemd/system/sshd-keygen@.service" <<'UNIT'
[Unit]
Description=Stand-in for OpenSSH's sshd-keygen@.service
ConditionFileNotEmpty=|!/etc/ssh/ssh_host_%i_key
[Service]
Type=oneshot
ExecStart=/usr/bin/amiboot version
UNIT
cp "$here/sshd-keygen-skipped.conf" "$root/etc/systemd/system/sshd-keygen@.service.d/50-amiboot.conf"
if ! out=$(systemd-analyze verify --root="$root" sshd-keygen@rsa.service 2>&1) || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  exit 1
fi
echo "units/verify.sh: $units, the cloud-init aliases and the sshd-keygen@ drop-in clean"
