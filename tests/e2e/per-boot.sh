#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# e2e: a text/x-shellscript-per-boot part: written to
# /var/lib/amiboot/scripts/per-boot/ and run every boot.
cat /proc/sys/kernel/random/boot_id >>/var/tmp/amiboot-e2e-per-boot
