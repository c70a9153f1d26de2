#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The host's ssh probes (checks.sh, e2e_host_probe) try a connection again
# only when sshd reset or closed it before identifying itself, as it does
# while it reloads for the final stage's host keys
# (sshd_reset_before_identification). Every other failure is the answer the
# checks assert on. The texts are what ssh and ssh-keyscan printed in e2e runs.
# usage: ssh_reset_test.sh SOURCE_DIR   exit 0 pass, 1 fail
set -euo pipefail
src=$1
# shellcheck source=tests/e2e/rule_cases.sh
. "$src/tests/e2e/rule_cases.sh"
rule_load "$src/tests/e2e/checks.sh" sshd_reset_before_identification
rule_case "ssh reset during sshd's reload" yes \
  "kex_exchange_identification: read: Connection reset by peer
Connection reset by 127.0.0.1 port 42175"
rule_case "ssh closed during sshd's reload" yes \
  "kex_exchange_identification: Connection closed by remote host
Connection closed by 127.0.0.1 port 42175"
rule_case "ssh-keyscan closed during sshd's reload" yes \
  "127.0.0.1: Connection closed by remote host"
rule_case "a changed host key (strict)" no \
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
Host key for amiboot-e2e has changed and you have requested strict checking.
Host key verification failed."
rule_case "an unknown host key (strict)" no \
  "No ED25519 host key is known for amiboot-e2e and you have requested strict checking.
Host key verification failed."
rule_case "a refused key" no "admin@127.0.0.1: Permission denied (publickey)."
rule_case "a login that worked" no ""
exit $fail
