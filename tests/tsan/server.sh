#!/bin/bash
# server.sh - `promise serve` under concurrent load, built with
# ThreadSanitizer (promise_tsan): Beacon g_variants lookups (anonymous and
# with a token), frequencies, counts and /info at once on 4 worker threads,
# while other processes withdraw people (`promise forget`), change a
# setting and add a user; then SIGTERM under load. Fails on any
# ThreadSanitizer report, on a server that dies, and when the audit log
# does not verify afterwards.
#
# Environment (ctest sets them): PROMISE (the ordinary build, for the set-up
# and the writers), PROMISE_TSAN (the server under test), PM_SOURCE_DIR.
set -uo pipefail
: "${PROMISE:?}" "${PROMISE_TSAN:?}"
ROOT=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export LC_ALL=C
command -v wrk >/dev/null || { echo "SKIP: wrk is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/pmtsan.XXXXXX")
SRV=
trap '[ -n "$SRV" ] && kill -9 $SRV 2>/dev/null; rm -rf "$W"' EXIT
cd "$W" || exit 1
FAILS=0
fail() { echo "FAILED  $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok      $*"; }

P() { "$PROMISE" "$@" >/dev/null 2>&1 || { echo "set-up failed: promise $*"; exit 1; }; }
P simulate sim --individuals 6000 --variants 3000 --seed 23
P keygen key
P init st
P ingest population st sim/population.tsv --key key
P ingest samples st sim/samples.tsv --key key
P ingest registry st sim/registry.tsv --key key
P ingest vcf st sim/genotypes.vcf.gz
P user add st reg --tier registered
TOKEN=$("$PROMISE" token new st reg 2>/dev/null)
# questions: every 3rd site as it is and with another ALT (a miss)
gzip -cd sim/genotypes.vcf.gz | awk -F'\t' '!/^#/ && NR % 3 == 0 { split($5, a, ","); print $1, $2, $4, a[1] }' |
    head -n 3000 >variants.txt
# people to withdraw while the server runs: genotyped ones
awk -F'\t' 'NR > 1 { print $2 }' sim/samples.tsv | sort -u | head -n 5 >forget.txt

export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1"
"$PROMISE_TSAN" serve st --listen 127.0.0.1:0 --threads 4 --rate-limit 10000000 2>serve.err &
SRV=$!
port=
for _ in $(seq 1 300); do
    port=$(sed -n 's|^promise serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' serve.err)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat serve.err; echo "FAILED  the server did not start"; exit 1; }
U=http://127.0.0.1:$port
V1=$(head -n 1 variants.txt | awk '{ print $1 "-" $2 "-" $3 "-" $4 }')

export VARIANTS=$W/variants.txt
wrk -t1 -c8 -d20s -s "$ROOT/bench/http/g_variants.lua" "$U" >wrk-anon.txt 2>&1 &
A=$!
TOKEN=$TOKEN wrk -t1 -c8 -d20s -s "$ROOT/bench/http/g_variants.lua" "$U" >wrk-token.txt 2>&1 &
B=$!
TOKEN=$TOKEN wrk -t1 -c4 -d20s -s "$ROOT/bench/http/count.lua" "$U" >wrk-count.txt 2>&1 &
C=$!
wrk -t1 -c4 -d20s "$U/api/v1/variants/$V1" >wrk-var.txt 2>&1 &
D=$!
wrk -t1 -c4 -d20s "$U/api/beacon/v2/info" >wrk-info.txt 2>&1 &
E=$!
# writers in other processes: each changes the catalog's generation
sleep 3
while read -r pn; do
    "$PROMISE" forget st --key key "$pn" >/dev/null 2>&1 || fail "promise forget failed"
    sleep 1
done <forget.txt
"$PROMISE" config st beacon_budget 15 >/dev/null 2>&1 || fail "promise config failed"
"$PROMISE" user add st late --tier public >/dev/null 2>&1 || fail "promise user add failed"
wait $A $B $C $D $E
total=0
for f in wrk-*.txt; do
    n=$(awk '/requests in/ { print $1 }' "$f")
    total=$((total + ${n:-0}))
    if grep -q "Non-2xx" "$f" && [ "$f" != wrk-var.txt ]; then
        fail "$f: $(grep Non-2xx "$f")"
    fi
done
kill -0 $SRV 2>/dev/null && ok "the server served $total requests under load and is alive" ||
    fail "the server died under load"
# SIGTERM under load
wrk -t1 -c8 -d5s -s "$ROOT/bench/http/g_variants.lua" "$U" >/dev/null 2>&1 &
A=$!
sleep 2
kill -TERM $SRV
wait $SRV
rc=$?
SRV=
wait $A 2>/dev/null
[ "$rc" = 0 ] && ok "SIGTERM under load: clean stop" || fail "SIGTERM under load: exit $rc"
if grep -q "WARNING: ThreadSanitizer" serve.err; then
    fail "ThreadSanitizer reports: $(grep -c 'WARNING: ThreadSanitizer' serve.err)"
    grep -A30 "WARNING: ThreadSanitizer" serve.err | head -80
else
    ok "no ThreadSanitizer report"
fi
out=$("$PROMISE" audit verify st 2>&1) && ok "audit log verifies: $out" || fail "audit verify: $out"
echo "---"
[ "$FAILS" = 0 ] && { echo "all checks passed"; exit 0; }
echo "$FAILS checks FAILED"
exit 1
