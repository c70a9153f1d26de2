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
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
trap bench_cleanup EXIT
bench_start_fake "$a" --user-data examples/user-data
one() {  # build tag
  local root=$work/root
  bench_new_root "$root"
  AMIBOOT_LOG=stderr "$1/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  bench_record "$root" final cpu_ms >>"$work/$2-first"
  AMIBOOT_LOG=stderr "$1/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  bench_record "$root" init cpu_ms >>"$work/$2-rerun"
  bench_drop_root "$root"
}
for _ in $(seq "$rounds"); do one "$a" a; one "$b" b; done
tmpfs=$([ "$run_tmpfs" = 1 ] && echo yes || echo no)
echo "medians of $rounds turns each, load $(cut -d' ' -f1-3 /proc/loadavg), /run a tmpfs: $tmpfs"
printf '%-12s first boot %6s ms   no-op rerun %6s ms   (%s)\n' A "$(median <"$work/a-first")" \
  "$(median <"$work/a-rerun")" "$a" B "$(median <"$work/b-first")" "$(median <"$work/b-rerun")" "$b"
