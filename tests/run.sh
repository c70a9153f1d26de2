#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds amiboot and runs every test: unit and integration (ctest), then the
# end-to-end VM boot. This is the README's test command, and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/support/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
(cd build && ctest --output-on-failure -j2 --timeout 300)
# ctest above replays each fuzz target's committed corpus
# (tests/fuzz/corpus/). The fuzzers themselves (tests/fuzz/run.sh SECONDS, a
# clang build) and the ASan/UBSan build are not run here yet: each is a
# second full build, about 20 minutes on this 2-core machine.
# Units and packages (systemd-analyze verify, lintian, rpm -qlp), then the
# VM boots. A skip (exit 77: no QEMU here) is a failure in CI.
units/verify.sh build/amiboot
packaging/rpm/build.sh --install-deps
tests/e2e/run.sh --fake-imds build/amiboot-fake-imds
