#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The include rule (ARCHITECTURE.md), checked on every build:
#   agent/core/*  includes only agent/core/ project headers, and no system
#                 header that does I/O (files, processes, HTTP, journal, disks);
#   modules/*     includes only agent/core/ and modules/ project headers, and
#                 no I/O header either (<sys/types.h> aside): plans are values.
# Usage: tests/support/check-includes.sh [SOURCE_DIR]   (default: this tree)
# Prints file:line: what and why for each violation; exits 1 if there is one.
set -euo pipefail
src=${1:-$(dirname "$0")/../..}
cd "$src"

violations=0
report() {  # file line message
  echo "$1:$2: $3" >&2
  violations=$((violations + 1))
}

# check LAYER ALLOWED_PROJECT_RE DENIED_SYSTEM_RE EXCEPT_SYSTEM_RE WHY FILES...
check() {
  local layer=$1 allowed=$2 denied=$3 except=$4 why=$5
  shift 5
  local file line text header
  local quoted='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)"'
  local angled='^[[:space:]]*#[[:space:]]*include[[:space:]]*<([^>]+)>'
  for file in "$@"; do
    [[ -f $file ]] || continue
    while IFS=: read -r line text; do
      if [[ $text =~ $quoted ]]; then
        header=${BASH_REMATCH[1]}
        if ! [[ $header =~ $allowed ]]; then
          report "$file" "$line" "includes \"$header\": $layer may include only $why"
        fi
      elif [[ $text =~ $angled ]]; then
        header=${BASH_REMATCH[1]}
        if [[ $header =~ $denied ]] && ! [[ $header =~ $except ]]; then
          report "$file" "$line" "includes <$header>: $layer does no I/O (that belongs in agent/)"
        fi
      fi
    done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include' "$file" || true)
  done
}

shopt -s nullglob
# Headers for files, processes, devices, HTTP and the journal. Modules may
# have <sys/types.h> (mode_t) and <arpa/inet.h> (inet_pton, a parser).
io='^(fstream|filesystem|unistd\.h|fcntl\.h|sys/.*|linux/.*|curl/.*|systemd/.*|blkid/.*|libfdisk/.*)$'
check agent/core/ '^agent/core/' "$io" '^$' \
  'agent/core/ headers (pure code)' agent/core/*.h agent/core/*.cc
check modules/ '^(agent/core|modules)/' "$io" '^sys/types\.h$' \
  'agent/core/ and modules/ headers (plans are pure; the executor acts)' modules/*.h modules/*.cc

if ((violations > 0)); then
  echo "include rule: $violations violation(s); see ARCHITECTURE.md" >&2
  exit 1
fi
