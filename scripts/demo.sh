#!/bin/bash
# demo.sh - installs what is missing, builds, creates a demo store from
# promise's own synthetic data and runs a few example queries.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
P=$PWD/build/promise
D=${DEMO_DIR:-$PWD/demo}
rm -rf "$D"
mkdir -p "$D"
echo "== simulate a synthetic national data set in $D/data"
"$P" simulate "$D/data" --individuals 2000 --variants 5000 --seed 1
echo "== create the store and load it"
"$P" init "$D/store"
"$P" ingest population "$D/store" "$D/data/population.tsv"
"$P" ingest samples "$D/store" "$D/data/samples.tsv"
for v in "$D"/data/genotypes*.vcf.gz; do
    [ -e "$v" ] && "$P" ingest vcf "$D/store" "$v"
done
echo "== queries"
set -x
"$P" freq "$D/store" --region 22:1-2000000 | head -5
"$P" freq "$D/store" --cohort 'sex=F and not source:SCAPIS' --region 22:1-2000000 | head -5
"$P" view "$D/store" --region 22:1-200000 | grep -v '^##' | head -3 | cut -c1-120
