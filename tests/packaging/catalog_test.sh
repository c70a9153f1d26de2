#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The journal catalog: every MESSAGE_ID in agent/ has an entry, every entry
# is one the agent sends, and journalctl compiles the file and shows each
# entry's text (`journalctl --update-catalog` into a scratch root).
# usage: catalog_test.sh SOURCE_DIR   exit 0 pass, 1 fail, 77 skip
set -euo pipefail
src=$1
catalog=$src/packaging/amiboot.catalog
if ! command -v journalctl >/dev/null; then
  echo "SKIP: journalctl is not installed"
  exit 77
fi
fail=0

# The IDs the agent sends: 32 hex digits in a kMessageId constant.
code_ids=$(grep -rhoE 'kMessageId[A-Za-z]+ = "[0-9a-f]{32}"' "$src/agent" | grep -oE '[0-9a-f]{32}' | sort -u)
catalog_ids=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort -u)
if [ -z "$code_ids" ]; then
  echo "FAIL: no MESSAGE_ID found in agent/"
  exit 1
fi
for id in $code_ids; do
  grep -qx "$id" <<<"$catalog_ids" || { echo "FAIL: MESSAGE_ID $id has no catalog entry"; fail=1; }
done
for id in $catalog_ids; do
  grep -qx "$id" <<<"$code_ids" || { echo "FAIL: catalog entry $id is sent by nothing in agent/"; fail=1; }
done
echo "ok: $(wc -w <<<"$code_ids") MESSAGE_IDs in agent/, each with one entry"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/catalog" "$root/var/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/amiboot.catalog"
if ! journalctl --root="$root" --update-catalog 2>"$root/err"; then
  echo "FAIL: journalctl --update-catalog refused the catalog:"; cat "$root/err"; exit 1
fi
if [ -s "$root/err" ]; then
  echo "FAIL: journalctl --update-catalog complained:"; cat "$root/err"; fail=1
fi
listed=$(journalctl --root="$root" --list-catalog)
for id in $code_ids; do
  subject=$(awk -v id="$id" '$0 == "-- " id {f=1; next} f && /^Subject:/ {sub(/^Subject: /, ""); print; exit}' "$catalog")
  grep -qF "$id amiboot: $subject" <<<"$listed" || grep -qF "$id $subject" <<<"$listed" ||
    { echo "FAIL: $id is not listed with its subject '$subject'"; fail=1; }
  text=$(journalctl --root="$root" --dump-catalog "$id")
  grep -q "Defined-By: amiboot" <<<"$text" || { echo "FAIL: $id: no entry text"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok: journalctl compiles the catalog and lists each entry"
exit $fail
