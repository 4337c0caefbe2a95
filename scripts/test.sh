#!/bin/bash
# test.sh - installs what is missing, builds, and runs every test: unit
# tests, golden CLI cases and oracle tests, and the unit and CLI tests
# again under -fsanitize=address,undefined. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 1800
