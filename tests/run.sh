#!/bin/bash
# Builds amiboot and runs every test: unit and integration (ctest), then the
# end-to-end VM boot. This is the README's test command, and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/support/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
(cd build && ctest --output-on-failure -j2 --timeout 300)
