#!/bin/bash
# Builds amiboot and runs every test: unit and integration (ctest), then the
# end-to-end VM boot. This is the README's test command, and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/support/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
(cd build && ctest --output-on-failure -j2 --timeout 300)
# The fuzz targets briefly (tests/fuzz/run.sh, 5 s each; crashes are
# committed to tests/fuzz/corpus/ and replayed by ctest above), then the unit
# tests once under ASan and UBSan.
tests/fuzz/run.sh 5
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAMIBOOT_SANITIZE=ON -DAMIBOOT_LTO=OFF
cmake --build build-asan --target amiboot_tests
build-asan/amiboot_tests
# Units and packages (systemd-analyze verify, lintian, rpm -qlp), then the
# VM boots. A skip (exit 77: no QEMU here) is a failure in CI.
units/verify.sh build/amiboot
packaging/rpm/build.sh --install-deps
tests/e2e/run.sh --fake-imds build/amiboot-fake-imds
