#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A first boot in a sandbox root, traced: the instance records
# (metadata.json, user-data, parts.json, final-config.json) are each fsynced
# before their rename, their folder once after the last rename, and the
# `instance` link's folder after the link is made; all of it before the first
# module acts. What a power loss right after may not lose, at the fewest
# journal commits on the login path.
# usage: durable_records_test.sh AMIBOOT SEED_DIR   exit 0 pass, 1 fail, 77 skip
set -euo pipefail
amiboot=$1
seed=$2
if ! command -v strace >/dev/null; then
  echo "SKIP: needs strace"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"
AMIBOOT_LOG=stderr strace -f -y -qq -e trace=fsync,rename,renameat,execve -o "$work/trace" \
  "$amiboot" run --stage init --root "$work/root" --seed "$seed" >/dev/null 2>"$work/err" || {
  echo "FAIL: amiboot run exited non-zero"
  cat "$work/err"
  exit 1
}
state="$work/root/var/lib/amiboot"
instance=$(readlink "$state/instance")
dir="$state/$instance"
# The calls in order, the agent's and its commands', one a line without
# the pid.
sed -E 's/^[0-9]+ +//' "$work/trace" >"$work/calls"

fail=0
check() {  # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else
    echo "FAIL: $what"
    fail=1
  fi
}
line_of() {  # the first line number matching the extended regex, or 0
  grep -n -E -m1 -- "$1" "$work/calls" | cut -d: -f1 || echo 0
}
count() { grep -c -E -- "$1" "$work/calls" || true; }

last_record=0
for name in metadata.json user-data parts.json final-config.json; do
  q=${name//./\\.}
  synced=$(line_of "^fsync\\([0-9]+<$dir/\\.$q\\.amiboot-")
  renamed=$(line_of "^renameat\\(.*\"\\.$q\\.amiboot-[0-9a-f]+\", [0-9]+<$dir>, \"$q\"")
  check "$name: its temporary file fsynced, then renamed" \
    test "$synced" -gt 0 -a "$renamed" -gt "$synced"
  [ "$renamed" -gt "$last_record" ] && last_record=$renamed
done
folder_syncs=$(count "^fsync\\([0-9]+<$dir>\\)")
folder_sync=$(line_of "^fsync\\([0-9]+<$dir>\\)")
check "the instance folder is fsynced once, after the last record's rename ($folder_syncs)" \
  test "$folder_syncs" = 1 -a "$folder_sync" -gt "$last_record"
link=$(line_of "^rename\\(\"$state/instance\\.amiboot-new\", \"$state/instance\"")
link_sync=$(line_of "^fsync\\([0-9]+<$state>\\)")
check "the instance link is made, then its folder fsynced" \
  test "$link" -gt 0 -a "$link_sync" -gt "$link"
# The first execve is the agent's own; the next one is bootcmd's shell.
bootcmd=$(grep -n -E '^execve\(' "$work/calls" | sed -n 2p | cut -d: -f1)
check "all of it before bootcmd runs" test "${bootcmd:-0}" -gt "$link_sync"
exit $fail
