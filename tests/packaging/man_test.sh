#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The man pages: built by scdoc, rendered by man without complaint, and
# complete: amiboot(8) names every command and every option that
# `amiboot COMMAND --help` lists, amiboot.yaml(5) every `amiboot.` setting
# the code decodes.
# usage: man_test.sh AMIBOOT SOURCE_DIR MAN_BUILD_DIR   exit 0 pass, 1 fail, 77 skip
set -euo pipefail
amiboot=$1 src=$2 built=$3
if [ ! -f "$built/amiboot.8" ] || [ ! -f "$built/amiboot.yaml.5" ]; then
  echo "SKIP: the man pages were not built (scdoc is not installed: apt-get install scdoc)"
  exit 77
fi
fail=0
render() { MANWIDTH=100 man --warnings -l "$1" 2>"$1.warnings" | col -b; }
for page in amiboot.8 amiboot.yaml.5 cloud-init.1; do
  if ! command -v man >/dev/null; then
    echo "SKIP (part): man is not installed; pages not rendered"
    break
  fi
  text=$(render "$built/$page")
  if [ -s "$built/$page.warnings" ]; then
    echo "FAIL: man warns about $page:"; cat "$built/$page.warnings"; fail=1
  fi
  [ -n "$text" ] || { echo "FAIL: $page renders empty"; fail=1; }
done

page=$src/packaging/man/amiboot.8.scd
commands=$("$amiboot" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
for c in $commands; do
  grep -q "^\*$c\*" "$page" || { echo "FAIL: amiboot(8) has no section for '$c'"; fail=1; }
  for opt in $("$amiboot" "$c" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    grep -q -- "\*$opt\*" "$page" || { echo "FAIL: amiboot(8) does not describe $c $opt"; fail=1; }
  done
done
for section in "EXIT STATUS" FILES ENVIRONMENT EXAMPLES; do
  grep -q "^# $section" "$page" || { echo "FAIL: amiboot(8) has no $section"; fail=1; }
done

page=$src/packaging/man/amiboot.yaml.5.scd
settings=$(grep -rhoE '"amiboot\.[a-z0-9_]+\.[a-z0-9_]+"|"amiboot\.[a-z0-9_]+_seconds"' "$src/agent" "$src/modules" |
  tr -d '"' | sort -u)
for s in $settings; do
  grep -q "^\*$s\*" "$page" || { echo "FAIL: amiboot.yaml(5) does not describe $s"; fail=1; }
done
# Those whose path the code puts together: amiboot.packages.KEY, and
# firewall.apply_under_root.
for s in $(sed -n 's/.*number("\([a-z_]*\)".*/amiboot.packages.\1/p' "$src/modules/packages.cc") \
  amiboot.firewall.apply_under_root; do
  settings+=" $s"
  grep -q "^\*$s\*" "$page" || { echo "FAIL: amiboot.yaml(5) does not describe $s"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok: both pages render; $(wc -w <<<"$commands") commands, $(wc -w <<<"$settings") settings described"
exit $fail
