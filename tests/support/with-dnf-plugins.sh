#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs COMMAND with dnf-plugins-core's Python files visible to the host's
# dnf without installing the package (on Debian 12 it Breaks zypper, which
# the other RPM tests need): in a private mount namespace, a read-only
# overlay lays the unpacked package's dist-packages over python3's.
#   tests/support/with-dnf-plugins.sh UNPACKED_DIR COMMAND [ARG...]
# UNPACKED_DIR is what install-deps.sh leaves in
# /var/cache/amiboot-tests/dnf-plugins-core (dpkg-deb -x of the package).
set -euo pipefail
dir=$1
shift
site=/usr/lib/python3/dist-packages
# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
exec unshare --mount --propagation private -- sh -c \
  'mount -t overlay amiboot-dnf-plugins -o "lowerdir=$1$2:$2" "$2" && shift 2 && exec "$@"' \
  sh "$dir" "$site" "$@"
