#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two builds' agent CPU (excluding children, from the run record) on a first
# boot with examples/user-data and on a no-op rerun, measured in turns (A,
# B, A, B, ...) against one fake IMDS, so that both see the same load: on a
# shared machine a first boot's CPU swings with other processes' disk
# traffic (its fsyncs and renames), and two separate startup.sh runs minutes
# apart can differ by more than a change does. Sandbox roots as startup.sh
# makes them (/run a tmpfs when run as root).
#   usage: tests/bench/first-boot-ab.sh BUILD_A BUILD_B [ROUNDS]   (default 21)
set -euo pipefail
cd "$(dirname "$0")/../.."
a=$1 b=$2 rounds=${3:-21}
work=$(mktemp -d /tmp/amiboot-ab.XXXXXX)
fake=""
cleanup() {
  if [ -n "$fake" ]; then kill "$fake" 2>/dev/null || true; fi
  if mountpoint -q "$work/root/run" 2>/dev/null; then umount "$work/root/run" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$a/amiboot-fake-imds" --port 0 --port-file "$work/port" --user-data examples/user-data \
  >/dev/null 2>&1 &
fake=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
record() {  # root stage: the stage's cpu_ms
  python3 - "$@" <<'PY'
import glob, json, os, sys
root, stage = sys.argv[1:]
files = sorted(glob.glob(os.path.join(root, "var/lib/amiboot/boots/*-" + stage + ".json")), key=os.path.getmtime)
print(json.load(open(files[-1]))["cpu_ms"])
PY
}
tmpfs=yes
one() {  # build tag
  local root=$work/root
  mkdir -p "$root/run"
  if [ "$tmpfs" = yes ] && ! mount -t tmpfs -o mode=0755,size=16m amiboot-ab "$root/run" 2>/dev/null; then
    tmpfs=no
  fi
  AMIBOOT_LOG=stderr "$1/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  record "$root" final >>"$work/$2-first"
  AMIBOOT_LOG=stderr "$1/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  record "$root" init >>"$work/$2-rerun"
  if mountpoint -q "$root/run"; then umount "$root/run"; fi
  rm -rf "$root"
}
for _ in $(seq "$rounds"); do one "$a" a; one "$b" b; done
median() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f", m}'; }
echo "medians of $rounds turns each, load $(cut -d' ' -f1-3 /proc/loadavg), /run a tmpfs: $tmpfs"
printf '%-12s first boot %6s ms   no-op rerun %6s ms   (%s)\n' A "$(median <"$work/a-first")" \
  "$(median <"$work/a-rerun")" "$a" B "$(median <"$work/b-first")" "$(median <"$work/b-rerun")" "$b"
