#!/bin/bash
# run_case.sh CASE.sh EXPECTED.out - one golden CLI case.
#
# A case is a bash script run with these helpers:
#   run CMD...     runs CMD and appends to the transcript: "$ CMD", its
#                  stdout, its stderr (lines prefixed "stderr: ") and
#                  "[exit N]"
#   promise ...    the promise binary under test ($PROMISE)
#   check DESC COND...  appends "ok DESC" or "FAILED DESC" (and fails the case)
#   $T             a fresh temporary directory; "$T" in the transcript
#   $DATA          the real test data (../shared/test-data), read-only
#   $SRC           the source tree
# The transcript must equal EXPECTED.out. PM_UPDATE_GOLDEN=1 rewrites the
# expected file instead (review the diff before committing).
set -u
case_file=$1
expected=$2
: "${PROMISE:?PROMISE must name the promise binary}"
DATA=${PM_TEST_DATA:-}
SRC=${PM_SOURCE_DIR:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/pmcase.XXXXXX")
trap 'rm -rf "$T"' EXIT
failed=0
promise() { "$PROMISE" "$@"; }
run() {
    printf '$ %s\n' "$*"
    "$@" >"$T/.stdout" 2>"$T/.stderr" </dev/null
    local rc=$?
    cat "$T/.stdout"
    sed 's/^/stderr: /' "$T/.stderr"
    echo "[exit $rc]"
}
check() {
    local desc=$1
    shift
    if "$@"; then echo "ok $desc"; else echo "FAILED $desc"; failed=1; fi
}
export -f promise
export PROMISE T DATA SRC
transcript=$T/.transcript
# shellcheck source=/dev/null
( cd "$T" && source "$case_file" ) >"$transcript.raw" 2>&1
sed -e "s#$T#\$T#g" -e "s#${DATA:-/nonexistent}#\$DATA#g" "$transcript.raw" > "$transcript"
if grep -q '^FAILED ' "$transcript"; then failed=1; fi
if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$transcript"; then
    echo "sanitizer report in transcript" >&2
    failed=1
fi
if [ "${PM_UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$transcript" "$expected"
    echo "updated $expected"
    exit $failed
fi
if [ ! -f "$expected" ]; then
    echo "missing expected file $expected; transcript:" >&2
    cat "$transcript" >&2
    exit 1
fi
if ! diff -u "$expected" "$transcript"; then
    exit 1
fi
exit $failed
