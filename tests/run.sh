#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds amiboot and runs every test: unit and integration (ctest), then the
# end-to-end VM boot. This is the README's test command, and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/support/install-deps.sh
# The same sources are compiled four times (this build, the clang one below,
# the .rpm and the .deb): a compiler cache kept between runs makes a rerun
# cost the links, not the compiles. The package builds get fixed scratch
# folders so that their paths, and so the cache's keys, repeat too.
# AMIBOOT_TEST_CCACHE=0 builds without it.
if [ "${AMIBOOT_TEST_CCACHE:-1}" = 1 ] && command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-/var/cache/amiboot-tests/ccache}
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export AMIBOOT_PACKAGE_WORK=${AMIBOOT_PACKAGE_WORK:-/var/tmp/amiboot-package-builds}
  mkdir -p "$CCACHE_DIR"
  chmod 0700 "$CCACHE_DIR"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
(cd build && ctest --output-on-failure -j2 --timeout 300)
# ctest above also replays each fuzz target's committed corpus
# (tests/fuzz/corpus/). Then one clang build under ASan and UBSan holds both
# the libFuzzer targets, each run for a few seconds, and the unit tests,
# run once under the sanitizers (the integration tests need the release
# binary's limits: an ASan process's memory is not the agent's).
export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-15 UBSAN_OPTIONS=print_stacktrace=1
tests/fuzz/run.sh 5
cmake --build build-fuzz --target amiboot_tests
build-fuzz/amiboot_tests --gtest_brief=1
# Units and packages (systemd-analyze verify, lintian, rpm -qlp), then the
# VM boots. A skip (exit 77: no QEMU here) is a failure in CI.
units/verify.sh build/amiboot
packaging/rpm/build.sh --install-deps
tests/e2e/run.sh --fake-imds build/amiboot-fake-imds
