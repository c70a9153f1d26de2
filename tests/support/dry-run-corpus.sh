#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Writes `amiboot run --dry-run --json` for every example and fixture user
# data into OUT, one file each, in a bare root and in a Debian-like root.
# Comparing two binaries' OUT folders shows whether a change altered any
# plan:  tests/support/dry-run-corpus.sh old/amiboot /tmp/a
#        tests/support/dry-run-corpus.sh new/amiboot /tmp/b && diff -r /tmp/a /tmp/b
# The clock is the only input that differs between runs; its two traces
# (final_message's $TIMESTAMP and $UPTIME) are masked.
set -euo pipefail
binary=$(realpath "$1")
out=$(realpath -m "$2")
cd "$(dirname "$0")/../.."
mkdir -p "$out"
# A fixed folder: the seed path shows in the plans ($DATASOURCE).
work=/tmp/amiboot-dry-run-corpus
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# A root that looks like a Debian image: os-release, accounts, sshd.
debian=$work/debian-template
mkdir -p "$debian/etc/ssh" "$debian/etc/default" "$debian/etc/skel"
cp /etc/os-release "$debian/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$debian/etc/passwd"
printf 'root:x:0:\nadm:x:4:\nsudo:x:27:\n' >"$debian/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$debian/etc/shadow"
printf 'debian-test\n' >"$debian/etc/hostname"

inputs=(examples/user-data examples/cloud-config.yaml examples/script.sh tests/e2e/*.yaml
        tests/fixtures/*.yaml)
for input in "${inputs[@]}"; do
  for kind in bare debian; do
    name=$(echo "$input" | tr '/' '_')-$kind.json
    seed=$work/seed
    root=$work/root
    rm -rf "$seed" "$root"
    mkdir -p "$seed" "$root"
    cp examples/seed/meta-data "$seed/meta-data"
    cp "$input" "$seed/user-data"
    [ "$kind" = debian ] && cp -a "$debian/." "$root/"
    AMIBOOT_LOG=stderr "$binary" run --dry-run --json --seed "$seed" --root "$root" \
      2>/dev/null | sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/TIMESTAMP/g' \
      -e 's/[0-9]+\.[0-9]{2} seconds/N seconds/g' >"$out/$name" || true
  done
done
ls "$out" | wc -l
