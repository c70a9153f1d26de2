# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Host-side helpers for tests/e2e/checks.sh: read one boot's guest report
# (see guest-report.sh for its layout) and record passed and failed
# expectations. Every expect_* keeps going after a failure, so one run shows
# every broken thing; run.sh fails at the end when E2E_FAILURES > 0.
#
# REPORT is the folder of the boot being checked (run.sh sets it).

E2E_DIR=${E2E_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
E2E_FAILURES=${E2E_FAILURES:-0}
E2E_PASSES=${E2E_PASSES:-0}
REPORT=${REPORT:-}

e2e_pass() {
  E2E_PASSES=$((E2E_PASSES + 1))
  echo "  ok    $*"
}

e2e_fail() {
  E2E_FAILURES=$((E2E_FAILURES + 1))
  echo "  FAIL  $*"
}

# --- reading the report -----------------------------------------------------

# unit_prop UNIT PROPERTY: a property from `systemctl show UNIT`.
unit_prop() {
  sed -n "s/^$2=//p" "$REPORT/units/$1" 2>/dev/null | head -n 1
}

# journal [--field NAME] FILTER...: amiboot's journal entries of this boot
# (SYSLOG_IDENTIFIER=amiboot), one MESSAGE (or NAME) per line. Filters as in
# report.py: KEY=VALUE, KEY~REGEX, KEY, !KEY.
journal() {
  python3 "$E2E_DIR/report.py" journal "$REPORT/journal-amiboot.json" "$@"
}

# script_journal: the same for script output (SYSLOG_IDENTIFIER=amiboot-script).
script_journal() {
  python3 "$E2E_DIR/report.py" journal "$REPORT/journal-amiboot-script.json" "$@"
}

# status_json EXPR: EXPR over `amiboot status --json` (d is the document).
status_json() {
  python3 "$E2E_DIR/report.py" json "$REPORT/status.json" "$1"
}

# guest_file PATH: where the report keeps its copy of the guest's PATH.
guest_file() {
  echo "$REPORT/files$1"
}

# file_stat PATH FIELD: mode|user|group|size|mtime of the guest's PATH
# (empty when the file was missing or not collected).
file_stat() {
  local idx
  case "$2" in
    mode) idx=1 ;; user) idx=2 ;; group) idx=3 ;; size) idx=4 ;; mtime) idx=5 ;;
    *) return 1 ;;
  esac
  awk -v p="$1" -v i="$idx" '$1 != "missing" && $6 == p {print $i}' "$REPORT/files.stat"
}

# count_lines TEXT: number of non-empty lines.
count_lines() {
  if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | grep -c .; fi
}

# --- expectations -----------------------------------------------------------

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then
    e2e_pass "$1"
  else
    e2e_fail "$1: expected '$2', got '$3'"
  fi
}

# expect_ne DESCRIPTION UNEXPECTED ACTUAL
expect_ne() {
  if [ "$2" != "$3" ]; then
    e2e_pass "$1"
  else
    e2e_fail "$1: did not expect '$3'"
  fi
}

# The expect_* below give grep the text as a here-string, not through a
# pipe: grep -q exits at the first match, and under pipefail a printf still
# writing (text over 4 KiB, a loaded host) would die of SIGPIPE and turn the
# match into a miss (4 misses in 500 tries on a 6.7 KiB journal text, with
# the machine loaded; "a new instance" failed that way in an e2e run).

# expect_match DESCRIPTION REGEX ACTUAL (grep -E on any line)
expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    e2e_pass "$1"
  else
    e2e_fail "$1: no line matches /$2/ in: $(printf '%s' "$3" | head -c 400)"
  fi
}

# expect_contains DESCRIPTION STRING ACTUAL (a fixed string, on any line)
expect_contains() {
  if [ -n "$2" ] && grep -Fq -- "$2" <<<"$3"; then
    e2e_pass "$1"
  else
    e2e_fail "$1: '$2' not in: $(printf '%s' "$3" | head -c 400)"
  fi
}

# expect_no_match DESCRIPTION REGEX ACTUAL
expect_no_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    e2e_fail "$1: unexpected /$2/ in: $(printf '%s\n' "$3" | grep -E -- "$2" | head -c 400)"
  else
    e2e_pass "$1"
  fi
}

# expect_lt DESCRIPTION A B (integers; both must be non-empty and non-zero)
expect_lt() {
  if [ -z "$2" ] || [ -z "$3" ] || [ "$2" = 0 ] || [ "$3" = 0 ]; then
    e2e_fail "$1: missing value (A='$2', B='$3')"
  elif [ "$2" -lt "$3" ]; then
    e2e_pass "$1"
  else
    e2e_fail "$1: $2 is not before $3"
  fi
}

# expect_file DESCRIPTION PATH: the guest has PATH (a regular file).
expect_file() {
  if [ -f "$(guest_file "$2")" ]; then
    e2e_pass "$1"
  else
    e2e_fail "$1: $2 missing in the guest"
  fi
}

# expect_file_match DESCRIPTION PATH REGEX
expect_file_match() {
  local f
  f=$(guest_file "$2")
  if [ ! -f "$f" ]; then
    e2e_fail "$1: $2 missing in the guest"
  elif grep -Eq -- "$3" "$f"; then
    e2e_pass "$1"
  else
    e2e_fail "$1: $2 does not match /$3/: $(head -c 300 "$f")"
  fi
}

# expect_file_has_text DESCRIPTION PATH HOST_FILE: the guest's PATH holds
# HOST_FILE's text (less trailing newlines) as it is.
expect_file_has_text() {
  local f
  f=$(guest_file "$2")
  if [ ! -f "$f" ]; then
    e2e_fail "$1: $2 missing in the guest"
  elif [ ! -s "$3" ]; then
    e2e_fail "$1: $3 is empty or missing"
  elif python3 -c 'import sys; sys.exit(open(sys.argv[2]).read().rstrip("\n") not in open(sys.argv[1]).read())' \
    "$f" "$3"; then
    e2e_pass "$1"
  else
    e2e_fail "$1: $2 does not hold the text of $3"
  fi
}

# expect_not_in_files DESCRIPTION STRING FILE...: STRING (fixed, non-empty)
# is in none of the FILEs that exist.
expect_not_in_files() {
  local desc=$1 text=$2 f found=""
  shift 2
  if [ -z "$text" ]; then
    e2e_fail "$desc: nothing to look for"
    return
  fi
  for f in "$@"; do
    [ -f "$f" ] && grep -qF -- "$text" "$f" && found+=" ${f##*/}"
  done
  if [ -z "$found" ]; then
    e2e_pass "$desc"
  else
    e2e_fail "$desc: found in$found"
  fi
}

# expect_file_lines DESCRIPTION PATH N
expect_file_lines() {
  local f n
  f=$(guest_file "$2")
  if [ ! -f "$f" ]; then
    e2e_fail "$1: $2 missing in the guest"
    return
  fi
  n=$(wc -l <"$f")
  expect_eq "$1" "$3" "$n"
}

# expect_unit_active UNIT: active, and its last run succeeded.
expect_unit_active() {
  local state result
  state=$(unit_prop "$1" ActiveState)
  result=$(unit_prop "$1" Result)
  if [ "$state" = active ] && [ "$result" = success ]; then
    e2e_pass "$1 is active (result success)"
  else
    e2e_fail "$1: ActiveState=$state Result=$result"
  fi
}

# --- timing -----------------------------------------------------------------

# ms_between A_US B_US: B - A in milliseconds with one decimal.
ms_between() {
  if [ -z "$1" ] || [ -z "$2" ] || [ "$1" = 0 ] || [ "$2" = 0 ]; then
    echo "n/a"
  else
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
  fi
}
