#!/bin/bash
# run.sh SRCDIR [SECONDS] - builds the libFuzzer targets (tests/fuzz/fuzz_*.c)
# with clang, -fsanitize=fuzzer,address,undefined, in SRCDIR/build-fuzz, and
# runs each for SECONDS (default 20) from its seed corpus
# (tests/fuzz/corpus/NAME/ when present). Fails on any crash, leak or
# sanitizer report. Longer campaigns: run with a larger SECONDS.
set -euo pipefail
src=$(cd "${1:-.}" && pwd)
secs=${2:-20}
build=${PM_FUZZ_BUILD:-$src/build-fuzz}
if ! command -v clang >/dev/null; then
    echo "clang not installed (scripts/setup.sh installs it)" >&2
    exit 1
fi
CC=clang cmake -S "$src" -B "$build" -DPM_FUZZ=ON -DPM_SANITIZE_VARIANT=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target pm_fuzz_all >/dev/null
status=0
for exe in "$build"/fuzz_*; do
    [ -x "$exe" ] || continue
    name=$(basename "$exe")
    work=$(mktemp -d)
    corpus_src="$src/tests/fuzz/corpus/$name"
    [ -d "$corpus_src" ] && cp -r "$corpus_src/." "$work/" 2>/dev/null || true
    echo "== $name for ${secs}s"
    if ! "$exe" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=0 "$work" >"$work.log" 2>&1; then
        echo "$name FAILED:"
        tail -40 "$work.log"
        status=1
    else
        grep -E '^#[0-9]+.*(DONE|pulse)' "$work.log" | tail -1 || true
    fi
    rm -rf "$work" "$work.log"
done
exit $status
