#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs each libFuzzer target of tests/fuzz/ for SECONDS (default 5), one at a
# time and at the lowest priority, from its committed corpus. Builds
# build-fuzz/ with clang first (-DAMIBOOT_FUZZ=ON: ASan and UBSan too). The
# same build holds the unit tests under ASan and UBSan (amiboot_tests,
# tests/unit only, with gtest's main), which tests/run.sh builds and runs
# next: one extra build for both, a unity build at -O1 with line tables only,
# as CI's time is short (issue 17).
# A crash leaves its input in build-fuzz/crashes/<target>/; copy it into
# tests/fuzz/corpus/<target>/ with the fix, and the normal ctest replays it
# (FuzzCorpus.<target>). Prints one line per target: seconds, executions,
# findings. Exit 1 when any target found something.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
shift || true
build=${AMIBOOT_FUZZ_BUILD:-build-fuzz}
cxx=${CXX_FUZZ:-clang++-15}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DAMIBOOT_FUZZ=ON -DAMIBOOT_TESTS=ON -DAMIBOOT_LTO=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" \
    -DCMAKE_CXX_COMPILER="$cxx" \
    ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cc; do
    n=$(basename "$f" .cc)
    targets+=("${n%_fuzz}")
  done
fi
cmake --build "$build" -j2 --target $(printf '%s_fuzz ' "${targets[@]}") >/dev/null
found=0
printf '%-20s %8s %12s %s\n' target seconds executions findings
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$work" "$crashes"
  log="$build/$t.log"
  # -rss_limit_mb: the limits bound memory; a target past 1 GB is a finding.
  # -max_len 65536: user data is 16 KiB on EC2, so that covers it with room.
  status=0
  nice -n 19 "$build/${t}_fuzz" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -rss_limit_mb=1024 -max_len=65536 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  n=$(find "$crashes" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$n" -gt 0 ]; then
    found=1
    printf '%-20s %8s %12s %s\n' "$t" "$seconds" "${execs:-?}" "$n input(s) in $crashes (log: $log)"
  else
    printf '%-20s %8s %12s %s\n' "$t" "$seconds" "${execs:-?}" none
  fi
done
exit $found
