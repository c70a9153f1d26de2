#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Time per MIME part, from 1,000 to 20,000 parts: each part a cloud-config
# with Merge-Type list(append) (Terraform's cloudinit_config writes that),
# through `amiboot run --dry-run --stage init` on a seed folder in a sandbox
# root whose image config raises amiboot.limits.mime_parts. Prints the
# median wall time of RUNS runs and microseconds per part; flat means linear.
#   usage: tests/bench/mime_parts.sh [RUNS] [BINARY]   (default 5, build/amiboot)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bin=${2:-build/amiboot}
work=$(mktemp -d /tmp/amiboot-mime-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/etc/amiboot" "$work/seed"
printf 'amiboot:\n  limits:\n    mime_parts: 100000\n' >"$work/root/etc/amiboot/amiboot.yaml"
echo "instance-id: i-0bench" >"$work/seed/meta-data"
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
printf '%8s %10s %14s\n' parts seconds us/part
for n in ${SIZES:-1000 2000 5000 10000 20000}; do
  awk -v n="$n" 'BEGIN {
    print "Content-Type: multipart/mixed; boundary=\"BB\"\nMIME-Version: 1.0\n"
    for (i = 0; i < n; i++) {
      print "--BB\nContent-Type: text/cloud-config\nMerge-Type: list(append)+dict(recurse_array)+str()\n"
      print "#cloud-config\nruncmd: [echo " i "]"
    }
    print "--BB--"
  }' >"$work/seed/user-data"
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" run --dry-run --stage init --root "$work/root" --seed "$work/seed" >/dev/null 2>&1 || true
    times+=($(( $(date +%s%N) - start )))
  done
  s=$(printf '%s\n' "${times[@]}" | awk '{print $1 / 1e9}' | median)
  printf '%8d %10s %14.1f\n' "$n" "$s" "$(awk -v s="$s" -v n="$n" 'BEGIN {print s * 1e6 / n}')"
done
