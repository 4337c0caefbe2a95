#!/bin/bash
# run.sh - the browser test of the UI (docs/ui.md): builds a demo store with
# `promise simulate`, stores a GWAS run under STORE/results, starts
# `promise serve` on a free loopback port and drives Debian's chromium with
# playwright-core (web/package.json; `npm ci` installs it, no browser is
# downloaded) through tests/ui/ui.test.mjs.
#
# Environment: PROMISE (the binary; default build/promise), CHROMIUM
# (default /usr/bin/chromium), PM_UI_SCREENSHOTS (where the page
# screenshots go; default $PM_BUILD_DIR/ui-screenshots; set it to
# docs/screenshots to refresh the ones in the docs).
# Exit: 0 pass, 1 fail, 77 skipped (no chromium or no npm/node).
set -euo pipefail
SRC=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PROMISE=${PROMISE:-$SRC/build/promise}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP: no chromium at $CHROMIUM (Debian package chromium)"
    exit 77
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "SKIP: npm/node not installed (Debian packages nodejs npm)"
    exit 77
fi
SHOTS=${PM_UI_SCREENSHOTS:-${PM_BUILD_DIR:-$SRC/build}/ui-screenshots}
case $SHOTS in /*) ;; *) SHOTS=$SRC/$SHOTS ;; esac
mkdir -p "$SHOTS"

# playwright-core from the lock file (npm ci), once per lock file
if [ ! -e "$SRC/web/node_modules/playwright-core/package.json" ] ||
    [ "$SRC/web/package-lock.json" -nt "$SRC/web/node_modules/.package-lock.json" ]; then
    (cd "$SRC/web" && npm ci --no-audit --no-fund --loglevel=error)
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/pmui.XXXXXX")
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

echo "== demo store in $W"
P=$PROMISE
S=$W/store
{
    "$P" simulate "$W/data" --individuals 2000 --variants 5000 --seed 1
    "$P" init "$S"
    "$P" keygen "$W/k.key"
    "$P" ingest population "$S" "$W/data/population.tsv" --key "$W/k.key"
    "$P" ingest samples "$S" "$W/data/samples.tsv" --key "$W/k.key"
    "$P" ingest registry "$S" "$W/data/registry.tsv" --key "$W/k.key"
    for v in "$W"/data/genotypes*.vcf.gz; do "$P" ingest vcf "$S" "$v"; done
    if [ -s "$W/data/olink.tsv" ]; then "$P" ingest omics "$S" "$W/data/olink.tsv" --assay olink; fi
    "$P" user add "$S" alice --tier steward
    "$P" user add "$S" rita --tier registered
    "$P" user add "$S" pia --tier project
    "$P" project add "$S" cardio --sources SCAPIS,GMS-Stockholm --data-types genotypes,registry,omics \
        --purpose DUO:0000006 --expires 2099-12-31
    "$P" grant "$S" pia cardio
    mkdir -p "$S/results"
    "$P" gwas "$S" --pheno icd10:E11 --covar age,sex -o "$S/results/t2d"
} >"$W/setup.log" 2>&1 || { cat "$W/setup.log"; echo "FAILED: demo store"; exit 1; }
# a PheWAS of a common variant, when promise phewas is built (not a stub)
"$P" freq "$S" --region 22 >"$W/freq22.tsv"
PHEWAS_VARIANT=$(awk -F'\t' 'NR > 1 && $6 >= 20 && $7 - $6 >= 20 { print $1 ":" $2 ":" $4 ":" $5; exit }' "$W/freq22.tsv")
if [ -n "$PHEWAS_VARIANT" ] && "$P" phewas "$S" --variant "$PHEWAS_VARIANT" --min-cases 5 \
    -o "$S/results/common.phewas" >>"$W/setup.log" 2>&1; then
    export UI_PHEWAS=common.phewas
else
    echo "(promise phewas not available: the PheWAS page is not tested)"
fi
TOK_STEWARD=$("$P" token new "$S" alice 2>/dev/null)
TOK_REG=$("$P" token new "$S" rita 2>/dev/null)
TOK_PROJ=$("$P" token new "$S" pia 2>/dev/null)

"$P" serve "$S" --listen 127.0.0.1:0 2>"$W/serve.err" &
SERVER=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$W/serve.err" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
if [ -z "$PORT" ]; then cat "$W/serve.err"; echo "FAILED: promise serve did not start"; exit 1; fi
echo "== promise serve on 127.0.0.1:$PORT"

export UI_URL="http://127.0.0.1:$PORT" PROMISE="$P" UI_STORE="$S" UI_SHOTS="$SHOTS" CHROMIUM
export TOK_STEWARD TOK_REG TOK_PROJ
export NODE_PATH=$SRC/web/node_modules
node "$SRC/tests/ui/ui.test.mjs"
