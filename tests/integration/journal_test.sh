#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs amiboot against a private journald (in its own mount namespace, so the
# host's journal is untouched) and checks its entries come back by field.
# usage: journal_test.sh AMIBOOT SEED_DIR   exit 0 pass, 1 fail, 77 skip
set -euo pipefail
amiboot=$1
seed=$2
journald=/lib/systemd/systemd-journald
if [ ! -x "$journald" ] || ! command -v journalctl >/dev/null || ! command -v unshare >/dev/null; then
  echo "SKIP: needs systemd-journald, journalctl and unshare"
  exit 77
fi
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for a private mount namespace"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exec unshare --mount --propagation private bash -s "$amiboot" "$seed" "$work" <<'INNER'
set -euo pipefail
amiboot=$1 seed=$2 work=$3
for d in /run/systemd /run/log /var/log/journal; do
  mkdir -p "$d"
  mount -t tmpfs tmpfs "$d"
done
mkdir -p /run/systemd/journal
/lib/systemd/systemd-journald &
jpid=$!
trap 'kill $jpid 2>/dev/null; wait $jpid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
[ -S /run/systemd/journal/socket ] || { echo "FAIL: private journald did not start"; exit 1; }

mkdir -p "$work/root"
AMIBOOT_LOG=journal "$amiboot" run --root "$work/root" --seed "$seed" >/dev/null
journalctl --sync 2>/dev/null || true

fail=0
check() {  # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
entries=$(journalctl -t amiboot AMIBOOT_MODULE=write_files -o json --no-pager)
check "write_files entries are found by -t amiboot AMIBOOT_MODULE=write_files" \
  test "$(printf '%s\n' "$entries" | grep -c .)" -ge 2
check "each carries the stage and the instance id" \
  bash -c '! printf "%s\n" "$1" | grep -v "\"AMIBOOT_STAGE\":\"init\"" | grep -q . &&
           ! printf "%s\n" "$1" | grep -v "\"AMIBOOT_INSTANCE_ID\":\"i-0seed0000000000001\"" | grep -q .' _ "$entries"
check "the module-done entry has result, duration and the fixed MESSAGE_ID" \
  bash -c 'printf "%s\n" "$1" | grep "\"MESSAGE_ID\":\"3c9e7d1a2b4f4c6e8d0a1b2c3d4e5f60\"" |
           grep "\"AMIBOOT_RESULT\":\"ok\"" | grep -q "\"AMIBOOT_DURATION_MS\":"' _ "$entries"
check "no other module's entries are returned" \
  bash -c '! printf "%s\n" "$1" | grep -v "\"AMIBOOT_MODULE\":\"write_files\"" | grep -q .' _ "$entries"
check "script output is under SYSLOG_IDENTIFIER=amiboot-script with its module" \
  bash -c 'journalctl -t amiboot-script AMIBOOT_MODULE=scripts_user -o cat --no-pager | grep -qx "hello from the example script"'
check "start and finish events carry their MESSAGE_IDs" \
  bash -c 'journalctl MESSAGE_ID=8b1f0a3e5c6d4e2f9a7b1c0d2e3f4a5b -o cat --no-pager | grep -q "init stage starting" &&
           journalctl MESSAGE_ID=e4d2c1b0a9f84e7d6c5b4a3928171605 -o cat --no-pager | grep -q "final stage finished: done"'
check "user data never reaches the journal" \
  bash -c '! journalctl -o cat --no-pager | grep -q "QVBQX01PREU9cHJvZHVjdGlvbgpBUFBfUE9SVD04MDgwCg=="'
exit $fail
INNER
