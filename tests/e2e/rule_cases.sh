# SPDX-License-Identifier: Apache-2.0
# For the tests of the e2e's rules (panic_retry_test.sh, ssh_reset_test.sh):
# one function of an e2e script, checked on texts as the runs printed them.
# Sourced; the caller exits "$fail".

rule_tmp=$(mktemp -d)
trap 'rm -rf "$rule_tmp"' EXIT
fail=0

# rule_load FILE FUNCTION: defines FUNCTION as FILE has it; the rule that
# rule_case checks.
rule_load() {
  eval "$(sed -n "/^$2() {\$/,/^}\$/p" "$1")"
  declare -F "$2" >/dev/null || {
    echo "FAIL: no $2 in $1"
    exit 1
  }
  rule=$2
}

# rule_case NAME EXPECTED TEXT: the rule, given a file holding TEXT, holds
# (EXPECTED yes) or not (no).
rule_case() {
  printf '%s\n' "$3" >"$rule_tmp/text"
  local got=no
  if "$rule" "$rule_tmp/text"; then got=yes; fi
  if [ "$got" != "$2" ]; then
    echo "FAIL: $1: $rule: $got, expected $2"
    fail=1
  else
    echo "ok: $1"
  fi
}
