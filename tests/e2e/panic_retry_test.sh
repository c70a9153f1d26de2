#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run.sh boots a guest again only when its kernel panicked before running
# any program (panicked_before_userspace): the disks are then as they were.
# Console excerpts as TCG guests print them.
# usage: panic_retry_test.sh SOURCE_DIR   exit 0 pass, 1 fail
set -euo pipefail
src=$1
# shellcheck source=tests/e2e/rule_cases.sh
. "$src/tests/e2e/rule_cases.sh"
rule_load "$src/tests/e2e/run.sh" panicked_before_userspace
rule_case "a panic in early boot, before the initramfs" yes \
  "[    4.717148] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    4.723884] Kernel panic - not syncing: Fatal exception in interrupt"
rule_case "a panic after the initramfs ran (root may be mounted)" no \
  "[    6.124459] Run /init as init process
[    7.100000] Kernel panic - not syncing: Attempted to kill init!"
rule_case "a panic after systemd started" no \
  "[    6.124459] Run /sbin/init as init process
[   20.000000] Kernel panic - not syncing: Fatal exception"
rule_case "a boot that powered off" no \
  "[    6.124459] Run /init as init process
[   55.248243] reboot: Power down"
rule_case "an empty console (QEMU did not start)" no ""
exit "$fail"
