#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The bash and zsh completions: loaded by an interactive bash, completing
# partial commands, options, stages, views and module names, and naming
# every command `amiboot --help` lists.
# usage: completion_test.sh AMIBOOT SOURCE_DIR   exit 0 pass, 1 fail, 77 skip
set -euo pipefail
amiboot=$1
src=$2
bash_file=$src/packaging/completion/amiboot.bash
zsh_file=$src/packaging/completion/_amiboot
# `modules` completion runs `amiboot`: the one under test.
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
ln -s "$(realpath "$amiboot")" "$bindir/amiboot"
export PATH="$bindir:$PATH"

fail=0
expect() {  # description, expected, actual
  if [ "$2" = "$3" ]; then
    echo "ok: $1"
  else
    echo "FAIL: $1: expected '$2', got '$3'"
    fail=1
  fi
}

registered=$(HOME=$bindir bash --norc --noprofile -i -c ". '$bash_file'; complete -p amiboot" 2>/dev/null)
expect "an interactive bash registers the completion" "complete -F _amiboot amiboot" "$registered"

# COMPREPLY for the words given, the last one being completed.
complete_words() {
  bash --norc --noprofile -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _amiboot
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
    _ "$bash_file" "$@"
}
expect "a partial command" "analyze" "$(complete_words amiboot ana)"
expect "commands sharing a prefix" "validate version" "$(complete_words amiboot v)"
expect "a partial option of run" "--stage" "$(complete_words amiboot run --st)"
expect "the value of --stage" "final" "$(complete_words amiboot run --stage f)"
expect "analyze's views" "blame" "$(complete_words amiboot analyze bl)"
expect "status options" "--json" "$(complete_words amiboot status --js)"
expect "a module name, from amiboot modules" "growpart" "$(complete_words amiboot modules growp)"
expect "module names sharing a prefix" "scripts_per_boot scripts_per_instance scripts_per_once" \
  "$(complete_words amiboot modules scripts_per)"

# Every command of `amiboot --help` is completed by both files.
listed=$("$amiboot" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}' | sort | tr '\n' ' ')
expect "bash completes the commands amiboot --help lists" "${listed% }" \
  "$(complete_words amiboot '' | tr ' ' '\n' | grep -v '^-' | sort | tr '\n' ' ' | sed 's/ $//')"
for c in $listed; do
  grep -q "'$c:" "$zsh_file" || { echo "FAIL: _amiboot does not name $c"; fail=1; }
done

if command -v zsh >/dev/null; then
  if zsh -n "$zsh_file"; then echo "ok: _amiboot parses"; else echo "FAIL: _amiboot"; fail=1; fi
else
  echo "SKIP (part): zsh is not installed; _amiboot not parsed"
fi
exit $fail
