#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run.sh boots a guest again only when its kernel panicked before running
# any program (panicked_before_userspace): the disks are then as they were.
# Console excerpts as TCG guests print them.
# usage: panic_retry_test.sh SOURCE_DIR   exit 0 pass, 1 fail
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
eval "$(sed -n '/^panicked_before_userspace() {$/,/^}$/p' "$src/tests/e2e/run.sh")"
declare -F panicked_before_userspace >/dev/null || {
  echo "FAIL: no panicked_before_userspace in run.sh"
  exit 1
}
fail=0
# case NAME RETRY CONSOLE_TEXT
case_() {
  printf '%s\n' "$3" >"$tmp/console.log"
  local got=no
  if panicked_before_userspace "$tmp/console.log"; then got=yes; fi
  if [ "$got" != "$2" ]; then
    echo "FAIL: $1: boot again: $got, expected $2"
    fail=1
  else
    echo "ok: $1"
  fi
}
case_ "a panic in early boot, before the initramfs" yes \
  "[    4.717148] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    4.723884] Kernel panic - not syncing: Fatal exception in interrupt"
case_ "a panic after the initramfs ran (root may be mounted)" no \
  "[    6.124459] Run /init as init process
[    7.100000] Kernel panic - not syncing: Attempted to kill init!"
case_ "a panic after systemd started" no \
  "[    6.124459] Run /sbin/init as init process
[   20.000000] Kernel panic - not syncing: Fatal exception"
case_ "a boot that powered off" no \
  "[    6.124459] Run /init as init process
[   55.248243] reboot: Power down"
case_ "an empty console (QEMU did not start)" no ""
exit "$fail"
