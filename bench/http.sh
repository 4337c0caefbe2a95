#!/bin/bash
# bench/http.sh - wrk on loopback against `promise serve` (issue 6): Beacon
# v2 variant lookups (/api/beacon/v2/g_variants, default protection: hits
# and misses over many positions, bench/http/g_variants.lua), anonymous
# (public tier) and with the registered token,
# and cohort counts (/api/v1/count, a registered token,
# bench/http/count.lua). Prints requests per second and latency percentiles
# as a Markdown table for bench/RESULTS.md.
#
# Environment:
#   PROMISE              the promise binary (default build/promise)
#   PM_HTTP_DATA         simulated data folder, as bench/run.sh makes them
#                        (e.g. bench/data/S; default bench/data/M when
#                        present, else 5,000 x 20,000 simulated into the work folder)
#   PM_BENCH_WORK        scratch folder (default bench/work/http); the store
#                        is reused while the data's STAMP is unchanged
#   PM_HTTP_FRESH=1      rebuild the store
#   PM_HTTP_THREADS      server threads (default 2)
#   PM_HTTP_CONNECTIONS  wrk connections (default 32)
#   PM_HTTP_DURATION     seconds per run (default 10)
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=${PROMISE:-$ROOT/build/promise}
[ -x "$P" ] || { echo "bench/http.sh: no promise binary at '$P'" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/http.sh: wrk is not installed" >&2; exit 1; }
WORK=${PM_BENCH_WORK:-$ROOT/bench/work/http}
TH=${PM_HTTP_THREADS:-2}
CONN=${PM_HTTP_CONNECTIONS:-32}
DUR=${PM_HTTP_DURATION:-10}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

DATA=${PM_HTTP_DATA:-}
if [ -z "$DATA" ]; then
    if [ -s "$ROOT/bench/data/M/genotypes.vcf.gz" ] && [ -s "$ROOT/bench/data/M/STAMP" ]; then
        DATA=$ROOT/bench/data/M
    else
        DATA=$WORK/data
        if [ ! -s "$DATA/STAMP" ]; then
            "$P" simulate "$DATA" --individuals 5000 --variants 20000 --seed 7 >/dev/null
            echo "simulated 5000 x 20000 seed 7" >"$DATA/STAMP"
        fi
    fi
fi
ST=$WORK/store
if [ "${PM_HTTP_FRESH:-0}" = 1 ] || ! cmp -s "$DATA/STAMP" "$WORK/store.stamp" 2>/dev/null; then
    echo "bench/http.sh: building the store from $DATA" >&2
    rm -rf "$ST" "$WORK/store.stamp" "$WORK/key"
    "$P" init "$ST" >/dev/null
    "$P" keygen "$WORK/key" >/dev/null 2>&1
    "$P" ingest population "$ST" "$DATA/population.tsv" --key "$WORK/key" >/dev/null 2>&1
    "$P" ingest samples "$ST" "$DATA/samples.tsv" --key "$WORK/key" >/dev/null 2>&1
    "$P" ingest registry "$ST" "$DATA/registry.tsv" --key "$WORK/key" >/dev/null 2>&1
    "$P" ingest vcf "$ST" "$DATA/genotypes.vcf.gz" >/dev/null 2>&1
    "$P" user add "$ST" bench --tier registered >/dev/null
    cp "$DATA/STAMP" "$WORK/store.stamp"
fi
TOKEN=$("$P" token new "$ST" bench 2>/dev/null)
export TOKEN

# the variants asked: every 5th site of the VCF, up to 20,000 (x2 with the misses)
VARS=$WORK/variants.txt
zcat "$DATA/genotypes.vcf.gz" | awk -F'\t' '!/^#/ && NR % 5 == 0 { split($5, a, ","); print $1, $2, $4, a[1] }' |
    head -n 20000 >"$VARS"
export VARIANTS=$VARS

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"$P" serve "$ST" --listen 127.0.0.1:0 --threads "$TH" --rate-limit 10000000 2>"$WORK/serve.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true' EXIT
PORT=
for _ in $(seq 1 100); do
    PORT=$(sed -n 's|^promise serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/serve.err")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/serve.err" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
curl -sf "$URL/api/beacon/v2/info" >/dev/null

# run NAME LUA [PATH]: one wrk run (after a 2 s warm-up); a table row. The
# Beacon info route does no store work: it measures the HTTP layer and the
# audit log (two entries, group commit) alone.
run() {
    local name=$1 lua=$2 out
    local script=()
    [ -n "$lua" ] && script=(-s "$lua")
    wrk -t1 -c"$CONN" -d2s --timeout 10s "${script[@]}" "$URL${3:-}" >/dev/null
    local cpu0 cpu1
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$SRV/stat")
    out=$(wrk -t1 -c"$CONN" -d"${DUR}s" --timeout 10s --latency "${script[@]}" "$URL${3:-}")
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$SRV/stat")
    echo "$out" >"$WORK/$name.wrk"
    local rps p50 p90 p99 bad n us
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
    p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
    p90=$(echo "$out" | awk '$1 == "90%" { print $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    bad=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
    n=$(echo "$out" | awk '/requests in/ { print $1 }')
    # the server's CPU time per request (user + system): steadier than
    # requests/s on a shared machine
    us=$(awk -v d=$((cpu1 - cpu0)) -v n="${n:-0}" -v t="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "%.0f", d * 1e6 / t / n; else print "?" }')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p90" "$p99" "${bad:-0}" "$us"
}

N=$(awk -F'\t' 'NR > 1' "$DATA/population.tsv" | wc -l)
M=$(wc -l <"$VARS")
echo "store: $N individuals, $(basename "$DATA") data; $((2 * M)) distinct g_variants questions"
echo "server: --threads $TH; wrk -t1 -c$CONN -d${DUR}s on the same 2 cores; load before: $LOAD0"
echo
echo '| route | requests/s | p50 | p90 | p99 | non-2xx | server CPU µs/request |'
echo '|---|---|---|---|---|---|---|'
TOKEN="" run "g_variants (public, no token)" "$ROOT/bench/http/g_variants.lua"
run "g_variants (registered token)" "$ROOT/bench/http/g_variants.lua"
run "count (registered)" "$ROOT/bench/http/count.lua"
run "info (HTTP, audit only)" "" /api/beacon/v2/info
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); audit entries: $("$P" audit verify "$ST" 2>&1)"
