#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checks or adds the licence line of amiboot's sources.
#
#   tests/support/spdx.sh --check [TOP]   list each file without one; exit 1 if any
#   tests/support/spdx.sh --fix [TOP]     add it where it is missing
#
# The files: C++ (*.cc, *.h), shell scripts (*.sh, and any file whose first
# line is a #!/bin/sh or #!/bin/bash), CMakeLists.txt and systemd unit files
# (*.service, *.target, *.preset). Each needs "SPDX-License-Identifier:" in
# its first five lines. --fix puts "SPDX-License-Identifier: Apache-2.0" on
# the first line, in the file's comment syntax, after a #! line if there is
# one. TOP defaults to the source tree holding this script; when TOP is a
# git checkout only files git knows of (tracked or not ignored) count.
set -euo pipefail

readonly id_line="SPDX-License-Identifier: Apache-2.0"

mode=${1:-}
if [ "$mode" != --check ] && [ "$mode" != --fix ]; then
  sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
top=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$top"

list_files() {
  # git's list only where TOP is a checkout's top (not a copy inside one).
  if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    git ls-files -co --exclude-standard
  else
    find . -path ./build -prune -o -path './build-*' -prune -o -type f -print | sed 's,^\./,,'
  fi
}

# The comment leader of a file that needs the line, or nothing.
comment_of() {
  local f=$1
  case "$f" in
    *.cc | *.h) echo "//" ;;
    *.sh | */CMakeLists.txt | CMakeLists.txt | *.service | *.target | *.preset) echo "#" ;;
    *)
      if head -c 64 "$f" 2>/dev/null | head -n 1 | grep -Eq '^#! ?/(usr/)?bin/(env )?(ba)?sh'; then
        echo "#"
      fi
      ;;
  esac
}

missing=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  leader=$(comment_of "$f")
  [ -n "$leader" ] || continue
  if head -n 5 "$f" | grep -q 'SPDX-License-Identifier:'; then
    continue
  fi
  if [ "$mode" = --check ]; then
    echo "$f: no SPDX-License-Identifier in its first 5 lines"
    missing=1
    continue
  fi
  tmp=$(mktemp "$f.spdx.XXXXXX")
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$leader $id_line"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$leader $id_line"; cat "$f"; } >"$tmp"
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "added: $f"
done < <(list_files)

if [ "$mode" = --check ] && [ "$missing" = 1 ]; then
  echo "tests/support/spdx.sh --fix adds the line" >&2
  exit 1
fi
exit 0
