#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds a flat apt repository in DIR (tests/support/make-apt-repo.sh) and
# signs it with a key made for it: DIR/InRelease, clear-signed by a new
# ed25519 key whose public half is written to KEYFILE (ASCII-armored), for
# tests that configure the repository through `apt: sources:` with `key:`.
#
#   make-signed-apt-repo.sh DIR KEYFILE NAME=VERSION[+reboot|+broken] ...
#
# The secret key lives in a temporary GNUPGHOME that is removed at the end,
# so nothing but KEYFILE can vouch for the repository. Needs gpg, dpkg-deb
# and dpkg-scanpackages.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: make-signed-apt-repo.sh DIR KEYFILE NAME=VERSION[+reboot|+broken] ..." >&2
  exit 2
fi
out=$1
keyfile=$2
shift 2
"$(dirname "$0")/make-apt-repo.sh" "$out" "$@"
GNUPGHOME=$(mktemp -d)
export GNUPGHOME
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-gen-key 'amiboot test repository <tests@amiboot.invalid>' ed25519 sign never
gpg --batch --export --armor >"$keyfile"
cd "$out"
{
  echo "Origin: amiboot-test"
  echo "Label: amiboot-test"
  echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
  echo "SHA256:"
  printf ' %s %s Packages\n' "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)"
} >Release
gpg --batch --quiet --yes --clearsign --output InRelease Release
