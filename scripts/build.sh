#!/bin/bash
# build.sh [BUILD_DIR] - configures and builds promise (release build with
# debug info, plus the sanitizer copy used by the tests). The CLI ends up
# at BUILD_DIR/promise (default build/promise).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
