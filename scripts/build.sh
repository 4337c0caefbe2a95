#!/bin/bash
# build.sh [BUILD_DIR] - configures and builds promise (release build with
# debug info, plus the sanitizer copy used by the tests). The CLI ends up
# at BUILD_DIR/promise (default build/promise).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
# The browser UI (web/, docs/ui.md): plain ES modules that CMake embeds into
# `promise serve`; with node here, check that they parse (npm run build
# does the same and also writes web/dist).
if command -v node >/dev/null; then node web/build.mjs --check; fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
