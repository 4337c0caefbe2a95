#!/bin/bash
# beacon_reid.sh - the Shringarpure-Bustamante re-identification attack
# against `promise serve` (docs/http.md, "Re-identification"). One simulated
# population is split into a beacon of 1,000 individuals (ingested), targets
# outside it and a reference panel for the attacker's allele frequencies;
# lib/beacon_reid.py asks each target's alternate alleles, rarest first, and
# reports the likelihood-ratio test's power at a false-positive rate of 0.05.
# Three servings of the same store:
#   - no protection (beacon_min_ac 1, beacon_budget at its maximum): the
#     attack must work (power >= 0.9: the test can fail);
#   - the threshold and budget without the edge defence (beacon_edge_band
#     0): measured and printed only (it leaks at the threshold's edge);
#   - the defaults (beacon_min_ac 5, beacon_budget 20, beacon_edge_band 10):
#     the power must stay <= 0.1 at every checkpoint.
# PM_REID_TARGETS (default 100 a side, at most 200) and PM_REID_QUERIES
# (default 10) change the sizes.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest simulate serve config user token
command -v curl >/dev/null || { say "SKIP: curl not installed"; exit 0; }
DRIVER=$ORACLE_LIB/beacon_reid.py
N_TARGETS=${PM_REID_TARGETS:-100}
MAX_Q=${PM_REID_QUERIES:-10}

cd "$W"
# ~7% of simulated people are genotyped: 30,000 give ~2,100 genomes; 40,000
# sites give each of them a few private alleles, as real genomes have
"$PROMISE" simulate sim --individuals 30000 --variants 40000 --seed 17 >/dev/null 2>&1
python3 "$DRIVER" split sim/genotypes.vcf.gz sim/samples.tsv . 1000 200 "$N_TARGETS" 3
bcftools view -S beacon.samples -Ov -o beacon.vcf sim/genotypes.vcf.gz
# what the attacker knows: the panel's genotypes (for frequencies), the targets'
bcftools query -S panel.samples -f '%CHROM\t%POS\t%REF\t%ALT\t[%GT]\n' sim/genotypes.vcf.gz >panel.tsv
bcftools query -S targets.samples -f '%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n' sim/genotypes.vcf.gz >targets.tsv
"$PROMISE" keygen key >/dev/null 2>&1
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st sim/population.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest samples st sim/samples.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest vcf st beacon.vcf >/dev/null 2>&1
# one public user per target and protected serving: no target's budget is
# spent by another's attack, nor by the other serving
: >tokens-edge0
: >tokens-default
for i in $(seq 1 $((2 * N_TARGETS))); do
    for set in edge0 default; do
        "$PROMISE" user add st "$set$i" --tier public >/dev/null 2>&1
        "$PROMISE" token new st "$set$i" 2>/dev/null >>"tokens-$set"
    done
done

SRV=
stop_server() {
    if [ -n "$SRV" ]; then
        kill "$SRV" 2>/dev/null || true
        wait "$SRV" 2>/dev/null || true
    fi
    SRV=
}
trap 'stop_server; rm -rf "$W"' EXIT
start_server() {
    "$PROMISE" serve st --listen 127.0.0.1:0 --threads 4 --rate-limit 1000000 2>serve.err &
    SRV=$!
    local port= i
    for i in $(seq 1 100); do
        port=$(sed -n 's|^promise serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' serve.err)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat serve.err; fail "the server did not start"; oracle_done; }
    URL=http://127.0.0.1:$port
}

# power (FIELD: power = the S-B LLR, power_answers = its answer-dependent
# part, power_floor = the LLR on an all-no transcript) at the last
# checkpoint, and the largest at any checkpoint
max_power() { python3 -c 'import json,sys; print(max(r[sys.argv[2]] for r in json.load(open(sys.argv[1]))["rows"]))' "$1" "$2"; }
last_power() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"][-1][sys.argv[2]])' "$1" "$2"; }

say "== without protection: beacon_min_ac 1, beacon_budget 1000000"
"$PROMISE" config st beacon_min_ac 1 >/dev/null
"$PROMISE" config st beacon_budget 1000000 >/dev/null
"$PROMISE" config st beacon_edge_band 0 >/dev/null
start_server
python3 "$DRIVER" attack . "$URL" open "$N_TARGETS" "$MAX_Q"
stop_server
P_OPEN=$(last_power power-open.json power)
P_OPEN_A=$(last_power power-open.json power_answers)
if python3 -c "import sys; sys.exit(0 if min(float('$P_OPEN'), float('$P_OPEN_A')) >= 0.9 else 1)"; then
    ok "unprotected: the attack works (power $P_OPEN, from the answers $P_OPEN_A, after $MAX_Q queries)"
else
    fail "unprotected: power $P_OPEN (answers $P_OPEN_A) after $MAX_Q queries; the attack should work (>= 0.9)"
fi

say "== threshold and budget without the edge defence: beacon_min_ac 5, beacon_budget 20, beacon_edge_band 0"
"$PROMISE" config st beacon_min_ac 5 >/dev/null
"$PROMISE" config st beacon_budget 20 >/dev/null
start_server
python3 "$DRIVER" attack . "$URL" edge0 "$N_TARGETS" "$MAX_Q" tokens-edge0
stop_server
say "(measured only: the threshold's edge leaks, docs/http.md)"

say "== the defaults: beacon_min_ac 5, beacon_budget 20, beacon_edge_band 10"
"$PROMISE" config st beacon_edge_band 10 >/dev/null
start_server
python3 "$DRIVER" attack . "$URL" default "$N_TARGETS" "$MAX_Q" tokens-default
stop_server
# The assertion is on the power the answers give: with all-no answers the
# LLR still ranks targets by their own allele frequencies, a power that is
# the same for a beacon that says nothing (the floor column) and is noise of
# this sample of targets, not a leak.
P_PROT=$(max_power power-default.json power_answers)
if python3 -c "import sys; sys.exit(0 if float('$P_PROT') <= 0.1 else 1)"; then
    ok "protected: power from the answers at most $P_PROT at every checkpoint up to $MAX_Q queries (<= 0.1)"
else
    fail "protected: power from the answers $P_PROT at some checkpoint up to $MAX_Q queries, over 0.1"
fi
"$PROMISE" audit verify st >audit.out 2>&1 && ok "audit log verifies after the attacks" ||
    fail "audit verify: $(cat audit.out)"
oracle_done
